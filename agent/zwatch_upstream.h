/*  zwatch_upstream: the agent's link to the broker.

    One DEALER (in the agent's private context, or in the service's for an
    inproc:// broker) and a PAIR reading the DEALER's own monitor. It
    encodes every message (proto/) with the agent's identity, numbers the
    events that enter its queue (seq), and never blocks: the DEALER's send
    queue (ZMQ_SNDHWM) is the bounded queue, a full queue drops the event
    and counts it. Messages go in frames of several (zwatch_batch) once
    a handshake with the broker succeeded, one a frame before that and
    while the link is down. It says hello, heartbeat and bye, says hello again after
    every reconnection (a restarted broker learns who we are), and backs off
    and reconnects by itself after a refused handshake. Made in the
    caller's thread, then used only by the engine thread. It keeps the
    counters its heartbeats carry (read, sent, dropped, watched), which
    any thread may read.
*/
#ifndef ZWATCH_UPSTREAM_H_INCLUDED
#define ZWATCH_UPSTREAM_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch_curve.h"
#include "zwatch_proto.h"

typedef struct _zwatch_upstream_t zwatch_upstream_t;

//  Connect to broker_endpoint from a DEALER in ctx, with curve (may be
//  NULL). Returns NULL with libzmq's errno (EINVAL, EPROTONOSUPPORT, ...).
zwatch_upstream_t *zwatch_upstream_new (void *ctx, const char *broker_endpoint, const char *host,
                                        const char *service, const zwatch_curve_t *curve);

//  Stop the monitor and close, waiting up to linger msecs (0 when the
//  last connection attempt failed: no broker, no delay) in zmq_ctx_term
void zwatch_upstream_destroy (zwatch_upstream_t **self_p);

//  One monitor event (sock, stype, code, value, endpoint, ts and the
//  optional keys set by the caller): counted as read, then given the
//  identity, its name and a seq and queued, or dropped and counted. True
//  if queued.
bool zwatch_upstream_event (zwatch_upstream_t *self, zwatch_msg_t *event);

//  One fact of a replay (the event keys set by the caller), with the last
//  event seq; never blocks: true if queued. Then the state_end with count,
//  the facts in the picture, of which unsent did not fit in the queue
//  (counted in state_dropped, with the state_end if it does not fit either)
bool zwatch_upstream_state (zwatch_upstream_t *self, zwatch_msg_t *fact);
bool zwatch_upstream_state_end (zwatch_upstream_t *self, uint64_t count, uint64_t unsent);

//  replay (arg) runs right after every hello is queued, so that a replay
//  follows it on the wire before any later event
typedef void (zwatch_upstream_replay_fn) (void *arg);
void zwatch_upstream_set_replay (zwatch_upstream_t *self, zwatch_upstream_replay_fn *replay,
                                 void *arg);

//  State and state_end messages the queue did not take (any thread)
uint64_t zwatch_upstream_state_dropped (zwatch_upstream_t *self);

//  hello, heartbeat or bye, with the counters; a hello is followed by the
//  replay (zwatch_upstream_set_replay)
void zwatch_upstream_say (zwatch_upstream_t *self, zwatch_kind_t kind);

//  Send the frame being filled (PROTOCOL.md 5, "Batches"): the engine
//  calls it when it has nothing more to read right now. A frame libzmq
//  does not take is dropped whole, each event in it counted in dropped
//  (and its seq given back), each state in state_dropped.
void zwatch_upstream_flush (zwatch_upstream_t *self);

//  How many sockets are watched now, for the heartbeats
void zwatch_upstream_set_watched (zwatch_upstream_t *self, size_t watched);

//  The PAIR to poll for the DEALER's own events, and what to do with them
void *zwatch_upstream_monitor (zwatch_upstream_t *self);
void zwatch_upstream_handle_monitor (zwatch_upstream_t *self);

//  The DEALER to poll for what the broker sends us, and what to do with
//  it: a refusal is counted (refused) and the first one logged, one line
//  that says why (host_mismatch: the host our certificate allows). Never
//  blocks; reads a bounded number of messages per call.
void *zwatch_upstream_socket (zwatch_upstream_t *self);
void zwatch_upstream_handle_replies (zwatch_upstream_t *self);

//  Refusals the broker sent us (any thread)
uint64_t zwatch_upstream_refused (zwatch_upstream_t *self);

//  Msecs (monotonic) when a refused handshake is retried, 0 if none is due;
//  zwatch_upstream_tick retries it once that time has come
int64_t zwatch_upstream_retry_at (zwatch_upstream_t *self);
void zwatch_upstream_tick (zwatch_upstream_t *self, int64_t now);

//  Queue limit, in messages. Returns 0 or -1 with libzmq's errno.
int zwatch_upstream_set_queue (zwatch_upstream_t *self, int limit);

//  New CURVE keys: reconnect with them. Returns 0 or -1 with errno.
int zwatch_upstream_set_curve (zwatch_upstream_t *self, const zwatch_curve_t *curve);

//  True if the broker is inproc, in the service's context
bool zwatch_upstream_local (zwatch_upstream_t *self);

//  read, sent (the last seq), dropped and watched, from any thread
void zwatch_upstream_counters (zwatch_upstream_t *self, uint64_t *read, uint64_t *sent,
                               uint64_t *dropped, uint64_t *watched);

#endif
