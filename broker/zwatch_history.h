/*  zwatch_history: a bounded ring of the most recent published events.

    Each slot holds a zmq_msg_t copy of an event body as it was published:
    libzmq shares the body's bytes between the copy and the message given
    to the XPUB (a reference count), so keeping an event costs its slot
    (64 bytes) plus its body's bytes once (about 250-400 bytes). Events are
    numbered 0, 1, 2, ... as they are added; a reader walks the numbers
    from an older one up to a newer one, and what was overwritten meanwhile
    is skipped, not waited for.
*/
#ifndef ZWATCH_HISTORY_H_INCLUDED
#define ZWATCH_HISTORY_H_INCLUDED

#include <stdint.h>
#include <stddef.h>
#include <zmq.h>

typedef struct _zwatch_history_t zwatch_history_t;

//  A ring of capacity events (0: one that keeps none). NULL on ENOMEM.
zwatch_history_t *
    zwatch_history_new (size_t capacity);

//  Destroy the ring and release every event it holds; idempotent
void
    zwatch_history_destroy (zwatch_history_t **self_p);

//  Keep a copy of body (before it is sent); the oldest event goes when
//  full. Returns 0, or -1 if libzmq could not copy it (not kept).
int
    zwatch_history_add (zwatch_history_t *self, zmq_msg_t *body);

//  The number the next event will get (events added so far)
uint64_t
    zwatch_history_end (zwatch_history_t *self);

//  The oldest number still held
uint64_t
    zwatch_history_begin (zwatch_history_t *self);

//  The event numbered number, or NULL if it is not held (gone or not yet)
zmq_msg_t *
    zwatch_history_get (zwatch_history_t *self, uint64_t number);

//  Events held now
size_t
    zwatch_history_size (zwatch_history_t *self);

#endif
