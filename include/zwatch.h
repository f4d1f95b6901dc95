/*  zwatch.h: the one header users include.

    zwatch carries ZeroMQ socket-monitor events from services (the agent,
    linked in) to a central broker that republishes them for the fleet.
    See README.md and docs/PROTOCOL.md.
*/
#ifndef ZWATCH_H_INCLUDED
#define ZWATCH_H_INCLUDED

#define ZWATCH_VERSION_MAJOR 0
#define ZWATCH_VERSION_MINOR 1
#define ZWATCH_VERSION_PATCH 0
#define ZWATCH_VERSION_STRING "0.1.0"

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
