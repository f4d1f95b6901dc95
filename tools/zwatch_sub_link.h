/*  zwatch_sub_link: what zwatch-sub tells the user about its connections.

    Fed the events of the SUB socket's own monitor, it keeps one state per
    broker endpoint and says, on stderr, when a broker becomes unreachable
    and when it is back (and after how long). libzmq retries on its own
    whatever waiting can fix (refused or reset connections, a broker that
    restarts, HANDSHAKE_FAILED_NO_DETAIL): those are one line each change,
    at most one line per endpoint per gap, and what a flapping link did in
    between is counted in the next line. An authentication or protocol
    failure (HANDSHAKE_FAILED_AUTH, _PROTOCOL) will not change by waiting
    (libzmq drops that connection for good): it is fatal, with a line that
    says which and what to check.

    Lines have no newline and are owned by self, valid until the next call.
*/
#ifndef ZWATCH_SUB_LINK_H_INCLUDED
#define ZWATCH_SUB_LINK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>
#include "zwatch_monitor.h"

//  The monitor events the link reads
#define ZWATCH_SUB_LINK_EVENTS (ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED \
    | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZWATCH_HANDSHAKE_FAILURES)

//  Longest endpoint kept (longer ones are cut; they still get a state)
#define ZWATCH_SUB_LINK_ENDPOINT_MAX    256

typedef struct _zwatch_sub_link_t zwatch_sub_link_t;

//  Create a link for up to endpoints endpoints, with at most one line per
//  endpoint every gap_ms. curve: the socket speaks CURVE; cert: with our
//  own certificate (else a fresh key). Returns NULL when out of memory.
zwatch_sub_link_t *zwatch_sub_link_new (size_t endpoints, int64_t gap_ms, bool curve, bool cert);

//  Destroy a link; sets *self_p to NULL
void zwatch_sub_link_destroy (zwatch_sub_link_t **self_p);

//  One monitor event at now (monotonic msecs) about endpoint (line-safe
//  text). Returns a line to print now, or NULL. Sets *fatal when the
//  failure is one waiting cannot fix (the line then says why).
const char *zwatch_sub_link_event (zwatch_sub_link_t *self, uint16_t code, uint32_t value,
                                   const char *endpoint, int64_t now, bool *fatal);

//  A line held back by the gap that is due at now, or NULL; call until NULL
const char *zwatch_sub_link_due (zwatch_sub_link_t *self, int64_t now);

//  Msecs from now until the next held line is due (0: due now), or -1
int64_t zwatch_sub_link_wait (zwatch_sub_link_t *self, int64_t now);

#endif
