/*  zwatch.h: the one header users include.

    zwatch carries ZeroMQ socket-monitor events from services (the agent,
    linked in) to a central broker that republishes them for the fleet.
    See README.md and docs/PROTOCOL.md.
*/
#ifndef ZWATCH_H_INCLUDED
#define ZWATCH_H_INCLUDED

//  The one version of zwatch: CMakeLists.txt reads these three lines for
//  project (VERSION), so zwatch.pc, the library's soname version and every
//  command's --version say the same thing
#define ZWATCH_VERSION_MAJOR 0
#define ZWATCH_VERSION_MINOR 1
#define ZWATCH_VERSION_PATCH 0

#define ZWATCH_VERSION_STR_(x) #x
#define ZWATCH_VERSION_STR(x) ZWATCH_VERSION_STR_(x)
#define ZWATCH_VERSION_STRING ZWATCH_VERSION_STR (ZWATCH_VERSION_MAJOR) "." \
    ZWATCH_VERSION_STR (ZWATCH_VERSION_MINOR) "." ZWATCH_VERSION_STR (ZWATCH_VERSION_PATCH)

//  Documented default endpoints: agents and zwatch-sub default to these too
#define ZWATCH_DEFAULT_INGEST   "tcp://127.0.0.1:5570"
#define ZWATCH_DEFAULT_PUBLISH  "tcp://127.0.0.1:5571"
#define ZWATCH_DEFAULT_INGEST_BIND   "tcp://*:5570"
#define ZWATCH_DEFAULT_PUBLISH_BIND  "tcp://*:5571"
#define ZWATCH_DEFAULT_SNAPSHOT "tcp://127.0.0.1:5572"
#define ZWATCH_DEFAULT_SNAPSHOT_BIND "tcp://*:5572"

#include <zmq.h>                //  the agent API takes libzmq contexts and sockets
#include "zwatch_proto.h"
#include "zwatch_agent.h"

#endif
