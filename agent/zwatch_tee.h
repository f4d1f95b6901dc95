/*  zwatch_tee: a copy of one watched socket's monitor events, for the
    service's own zmq_socket_monitor (libzwatch-preload).

    libzmq lets a socket have one monitor, and the agent holds it. When the
    service asks for a monitor of its own, the engine hands every event it
    reads to a tee, which sends the same two frames (libzmq's v1 format)
    on a PAIR bound at the service's endpoint, in the socket's context:
    exactly where libzmq's own monitor would be. It never blocks the
    engine. Where libzmq's monitor send would block the socket (the
    service's PAIR not connected yet, or full) the tee holds the events, up
    to ZWATCH_TEE_HELD_MAX, and retries; beyond that it drops them, counts
    them, and logs the count when it ends. What it still holds when it ends
    goes unsaid, as libzmq's would (blocked until the context ends, or in
    the pipe of a PAIR that closed).
*/
#ifndef ZWATCH_TEE_H_INCLUDED
#define ZWATCH_TEE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

typedef struct _zwatch_tee_t zwatch_tee_t;

#define ZWATCH_TEE_HELD_MAX     1000    //  events held for a PAIR that can't take them

//  Check zmq_socket_monitor's arguments as libzmq does (endpoint NULL: a
//  stop). Returns 0, or -1 with libzmq's errno: EINVAL (events beyond the
//  16 v1 bits, endpoint not "protocol://address"), EPROTONOSUPPORT (not inproc)
int zwatch_tee_check (const char *endpoint, int events);

//  Bind a PAIR at endpoint in ctx, for the events in mask events.
//  Returns NULL with errno on failure (e.g. EADDRINUSE).
zwatch_tee_t *zwatch_tee_new (void *ctx, const char *endpoint, int events);

//  Send what it can, unbind and close; idempotent
void zwatch_tee_destroy (zwatch_tee_t **self_p);

//  Offer one event read from the agent's monitor; the caller keeps the frames
void zwatch_tee_send (zwatch_tee_t *self, uint16_t code, zmq_msg_t *event, zmq_msg_t *endpoint);

//  Retry held events; returns true while some are still held
bool zwatch_tee_flush (zwatch_tee_t *self);

//  Events dropped so far (beyond the held limit)
uint64_t zwatch_tee_dropped (zwatch_tee_t *self);

#endif
