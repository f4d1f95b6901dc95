/*  zwatch_upstream: what the agent says to its brokers, once for all.

    It holds the agent's identity, numbers the events (seq, the same at
    every broker; a folded summary takes one number per event it stands for, so subscribers of two brokers can de-duplicate by agent
    and seq) and counts what was read, and hands every message to each
    broker's zwatch_link, which has its own queue and counters: one broker
    down costs nothing on the others. An event takes a seq when at least
    one broker's queue took it; one no queue took is dropped (lost to
    all). It says hello, heartbeat and bye to each broker with that
    broker's own counters, and after a hello on one link replays the
    watched sockets' state on that link only; a hello or replay that did
    not fit in that link's queue goes again later, backing off, until one
    goes whole. Made in the caller's
    thread, then used only by the engine thread; its counters may be read
    from any thread.
*/
#ifndef ZWATCH_UPSTREAM_H_INCLUDED
#define ZWATCH_UPSTREAM_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch_curve.h"
#include "zwatch_endpoints.h"
#include "zwatch_link.h"
#include "zwatch_proto.h"

typedef struct _zwatch_upstream_t zwatch_upstream_t;

//  One link per broker of brokers, from a DEALER in private_ctx (or in
//  service_ctx for an inproc:// broker), with curve (may be NULL; not for
//  inproc). Returns NULL with libzmq's errno (EINVAL, EPROTONOSUPPORT, ...).
zwatch_upstream_t *zwatch_upstream_new (void *private_ctx, void *service_ctx,
                                        const zwatch_endpoints_t *brokers, const char *host,
                                        const char *service, const zwatch_curve_t *curve);

//  Close every link (bounded by their linger in zmq_ctx_term)
void zwatch_upstream_destroy (zwatch_upstream_t **self_p);

//  One monitor event (sock, stype, code, value, endpoint, ts and the
//  optional keys set by the caller): counted as read, then given the
//  identity, its name and a seq and queued at every broker, or dropped
//  and counted where a queue was full. True if some queue took it.
bool zwatch_upstream_event (zwatch_upstream_t *self, zwatch_msg_t *event);

//  One monitor event read and held for a summary (zwatch_fold): counted
//  as read and folded, not sent
void zwatch_upstream_held (zwatch_upstream_t *self);

//  A summary of event->count events held before (or one held event,
//  count 1): queued with count seqs, or dropped and counted as count
//  events. True if some queue took it.
bool zwatch_upstream_folded (zwatch_upstream_t *self, zwatch_msg_t *event);

//  Events held for summaries since start (any thread)
uint64_t zwatch_upstream_folded_count (zwatch_upstream_t *self);

//  One fact of a replay (the event keys set by the caller), with the last
//  event seq, to the broker being replayed to (every broker outside a
//  replay); never blocks: true if queued. Then the state_end with count,
//  the facts in the picture, of which unsent did not fit in the queue
//  (counted in state_dropped, with the state_end if it does not fit either)
bool zwatch_upstream_state (zwatch_upstream_t *self, zwatch_msg_t *fact);
bool zwatch_upstream_state_end (zwatch_upstream_t *self, uint64_t count, uint64_t unsent);

//  replay (arg) runs right after every hello is queued, so that a replay
//  follows it on the wire before any later event
typedef void (zwatch_upstream_replay_fn) (void *arg);
void zwatch_upstream_set_replay (zwatch_upstream_t *self, zwatch_upstream_replay_fn *replay,
                                 void *arg);

//  State and state_end messages the queues did not take, all brokers (any thread)
uint64_t zwatch_upstream_state_dropped (zwatch_upstream_t *self);

//  hello, heartbeat or bye to every broker, each with its own counters;
//  a hello is followed by the replay (zwatch_upstream_set_replay)
void zwatch_upstream_say (zwatch_upstream_t *self, zwatch_kind_t kind);

//  Send each broker's frame of events (PROTOCOL.md 5, "Batches"): the
//  engine calls it when it has nothing more to read right now
void zwatch_upstream_flush (zwatch_upstream_t *self);

//  How many sockets are watched now, for the heartbeats
void zwatch_upstream_set_watched (zwatch_upstream_t *self, size_t watched);

//  The links, one per broker in the order given (for the engine's poll
//  and for per-broker stats)
size_t zwatch_upstream_links (zwatch_upstream_t *self);
zwatch_link_t *zwatch_upstream_link (zwatch_upstream_t *self, size_t index);

//  Refusals all brokers sent us (any thread)
uint64_t zwatch_upstream_refused (zwatch_upstream_t *self);

//  Msecs (monotonic) when the first refused handshake, or hello and replay
//  that did not fit in a connected link's queue, is retried (0 if none is
//  due); zwatch_upstream_tick retries those whose time has come
int64_t zwatch_upstream_retry_at (zwatch_upstream_t *self);
void zwatch_upstream_tick (zwatch_upstream_t *self, int64_t now);

//  Queue limit, in messages, for each broker. Returns 0 or -1 with libzmq's errno.
int zwatch_upstream_set_queue (zwatch_upstream_t *self, int limit);

//  New CURVE keys: reconnect with them. Returns 0 or -1 with errno.
int zwatch_upstream_set_curve (zwatch_upstream_t *self, const zwatch_curve_t *curve);

//  True if some broker is inproc, in the service's context
bool zwatch_upstream_local (zwatch_upstream_t *self);

//  read, sent (the last seq: events some queue took), dropped (events no
//  queue took) and watched, from any thread
void zwatch_upstream_counters (zwatch_upstream_t *self, uint64_t *read, uint64_t *sent,
                               uint64_t *dropped, uint64_t *watched);

#endif
