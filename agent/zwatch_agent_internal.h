/*  zwatch_agent_internal: agent calls for libzwatch-preload (not installed).

    The preload watches every socket of an unmodified program, in every
    context it makes, with one agent per process; it also stands in for
    libzmq's single monitor slot when the program monitors a socket itself.
*/
#ifndef ZWATCH_AGENT_INTERNAL_H_INCLUDED
#define ZWATCH_AGENT_INTERNAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "zwatch_agent.h"

//  Watch socket (of ZMQ_TYPE type), which lives in ctx: any context, not
//  only the agent's. Its label is "<label_prefix><STYPE>-<n>" (prefix may
//  be NULL). Logs nothing. Returns 0, or -1 with errno as zwatch_agent_watch.
int zwatch_agent_watch_in (zwatch_agent_t *self, void *ctx, void *socket, int type,
                           const char *label_prefix);

//  The service is about to close socket: zwatch_agent_release_ctx waits
//  for its MONITOR_STOPPED. Returns 0, or -1 with errno ENOENT (not watched).
int zwatch_agent_closing (zwatch_agent_t *self, void *socket);

//  zmq_socket_monitor (socket, endpoint, events) for the service: a copy
//  of the watched socket's events, from now on, on a PAIR bound at
//  endpoint (see zwatch_tee.h); endpoint NULL stops the copy. Returns 0, or
//  -1 with zmq_socket_monitor's errno, or ENOENT if socket is not watched.
int zwatch_agent_tee (zwatch_agent_t *self, void *socket, const char *endpoint, int events);

//  The service's zmq_bind on socket just failed: the errno libzmq gave its
//  BIND_FAILED event (the monitor's send may overwrite errno with EAGAIN),
//  0 if it said none. Clears it. -1 with errno ENOENT if not watched.
int zwatch_agent_bind_failed (zwatch_agent_t *self, void *socket);

//  ctx (NULL: every context) is about to end: wait up to 1 s for the
//  sockets closed in it to stop, forward what they said, then let go of
//  every reader and tee in it without touching the service's sockets.
void zwatch_agent_release_ctx (zwatch_agent_t *self, void *ctx);

//  True if label is 1..max printable ASCII characters
bool zwatch_agent_label_valid (const char *label, size_t max);

#endif
