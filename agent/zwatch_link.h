/*  zwatch_link: the agent's connection to one broker.

    One DEALER (in the agent's private context, or in the service's for an
    inproc:// broker) and a PAIR reading the DEALER's own monitor. It
    never blocks: the DEALER's send queue (ZMQ_SNDHWM) is this broker's
    bounded queue, and what it does not take is counted here, per broker.
    It backs off and reconnects by itself after a refused handshake, and
    asks its owner (zwatch_upstream) for a hello after every
    reconnection, so a restarted broker learns who we are. Made in the
    caller's thread, then used only by the engine thread; its counters
    may be read from any thread.
*/
#ifndef ZWATCH_LINK_H_INCLUDED
#define ZWATCH_LINK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch_curve.h"
#include "zwatch_proto.h"

typedef struct _zwatch_link_t zwatch_link_t;

//  hello (arg, link): the link reconnected (a handshake after the first,
//  or a retry after a refusal): say hello on it, then replay
typedef void (zwatch_link_hello_fn) (void *arg, zwatch_link_t *link);

//  Connect to endpoint from a DEALER in ctx, with curve (may be NULL).
//  Returns NULL with libzmq's errno (EINVAL, EPROTONOSUPPORT, ...).
zwatch_link_t *zwatch_link_new (void *ctx, const char *endpoint, const zwatch_curve_t *curve,
                                zwatch_link_hello_fn *hello, void *hello_arg);

//  Stop the monitor and close, waiting up to linger msecs (0 when the
//  last connection attempt failed: no broker, no delay) in zmq_ctx_term
void zwatch_link_destroy (zwatch_link_t **self_p);

//  Queue one encoded message of kind without blocking (size < 0: it did
//  not encode); false if not queued. Counts events (sent or dropped; an
//  event message as the events monitor events it stands for, a folded
//  summary's count) and a state_end (state_dropped) this broker's queue
//  did not take.
bool zwatch_link_send (zwatch_link_t *self, const void *data, int size, zwatch_kind_t kind,
                       uint64_t events);

//  Send the frame of events being filled (PROTOCOL.md 5, "Batches"): the
//  engine's turn has nothing more to read. A frame libzmq does not take
//  is dropped whole; returns how many events it stood for (counted here
//  in dropped, no longer in sent).
uint64_t zwatch_link_flush (zwatch_link_t *self);

//  Replay facts this broker's queue did not take (counted in state_dropped)
void zwatch_link_state_unsent (zwatch_link_t *self, uint64_t unsent);

//  The PAIR to poll for the DEALER's own events, and what to do with them
void *zwatch_link_monitor (zwatch_link_t *self);
void zwatch_link_handle_monitor (zwatch_link_t *self);

//  The DEALER to poll for what the broker sends us, and what to do with
//  it: a refusal is counted (refused) and the first one logged, one line
//  that says why (host_mismatch: the host our certificate allows). Never
//  blocks; reads a bounded number of messages per call.
void *zwatch_link_socket (zwatch_link_t *self);
void zwatch_link_handle_replies (zwatch_link_t *self);

//  Msecs (monotonic) when a refused handshake is retried, 0 if none is due;
//  zwatch_link_tick retries it once that time has come
int64_t zwatch_link_retry_at (zwatch_link_t *self);
void zwatch_link_tick (zwatch_link_t *self, int64_t now);

//  Queue limit, in messages. Returns 0 or -1 with libzmq's errno.
int zwatch_link_set_queue (zwatch_link_t *self, int limit);

//  New CURVE keys: reconnect with them. Returns 0 or -1 with errno.
int zwatch_link_set_curve (zwatch_link_t *self, const zwatch_curve_t *curve);

//  True if the broker is inproc, in the service's context
bool zwatch_link_local (zwatch_link_t *self);

//  The endpoint, as given (valid as the link)
const char *zwatch_link_endpoint (zwatch_link_t *self);

//  This broker's counters, from any thread: events its queue took (sent)
//  and did not (dropped), replay messages it did not (state_dropped),
//  refusals it sent us; connected: a handshake succeeded and the
//  connection has not dropped since (inproc: always)
typedef struct {
    uint64_t sent;
    uint64_t dropped;
    uint64_t state_dropped;
    uint64_t refused;
    bool connected;
} zwatch_link_counters_t;
void zwatch_link_counters (zwatch_link_t *self, zwatch_link_counters_t *counters);

#endif
