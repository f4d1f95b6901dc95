/*  zwatch_history: a bounded ring of the most recent published events.

    Each slot holds a copy of an event body as it was published, in a
    buffer of its own that the slot keeps and reuses when the ring comes
    round (sizes rounded up to 64 bytes): keeping an event costs its slot
    (24 bytes) plus its body's bytes (about 200-400), and adding one
    allocates nothing once the ring has been round. Events are
    numbered 0, 1, 2, ... as they are added; a reader walks the numbers
    from an older one up to a newer one, and what was overwritten meanwhile
    is skipped, not waited for.
*/
#ifndef ZWATCH_HISTORY_H_INCLUDED
#define ZWATCH_HISTORY_H_INCLUDED

#include <stdint.h>
#include <stddef.h>

typedef struct _zwatch_history_t zwatch_history_t;

//  A ring of capacity events (0: one that keeps none). NULL on ENOMEM.
zwatch_history_t *
    zwatch_history_new (size_t capacity);

//  Destroy the ring and release every event it holds; idempotent
void
    zwatch_history_destroy (zwatch_history_t **self_p);

//  Keep a copy of an event body's bytes; the oldest event goes when
//  full. Returns 0, or -1 on ENOMEM (numbered but empty: sent as nothing).
int
    zwatch_history_add (zwatch_history_t *self, const void *data, size_t size);

//  The number the next event will get (events added so far)
uint64_t
    zwatch_history_end (zwatch_history_t *self);

//  The oldest number still held
uint64_t
    zwatch_history_begin (zwatch_history_t *self);

//  The bytes of the event numbered number (*size of them, 0: empty), or
//  NULL if it is not held (gone or not yet); valid until the next add
const uint8_t *
    zwatch_history_get (zwatch_history_t *self, uint64_t number, size_t *size);

//  Events held now
size_t
    zwatch_history_size (zwatch_history_t *self);

#endif
