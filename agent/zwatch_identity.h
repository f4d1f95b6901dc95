/*  zwatch_identity: who the agent says it is, and what a socket is.  */
#ifndef ZWATCH_IDENTITY_H_INCLUDED
#define ZWATCH_IDENTITY_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

//  Host ID: $ZWATCH_HOST_ID, else the hostname, sanitized to [A-Za-z0-9._-]
void zwatch_identity_host (char *buf, size_t size);

//  Service: $ZWATCH_SERVICE, else the program's name, sanitized likewise;
//  for an interpreter (python3, perl, node, bash, ...) running a script
//  file, the script's file name ("python3 -u /srv/app.py": app.py)
void zwatch_identity_service (char *buf, size_t size);

//  Socket type name for a ZMQ_TYPE value ("DEALER"), "UNKNOWN" if none
const char *zwatch_identity_stype (int type);

//  Remote address of a connected fd as printable "addr:port" ("[v6]:port",
//  or an ipc path, "" if unnamed); returns its length, or -1 if it can't
//  be read
int zwatch_identity_peer (int fd, char *buf, size_t size);

//  Local address of fd (getsockname), in the same format as the peer's
int zwatch_identity_local (int fd, char *buf, size_t size);

//  The pid of the process at the other end of an ipc fd (SO_PEERCRED),
//  0 if unknown or not a unix socket
uint64_t zwatch_identity_peer_pid (int fd);

#endif
