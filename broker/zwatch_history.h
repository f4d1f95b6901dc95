/*  zwatch_history: a bounded ring of the most recent published events.

    An event that came alone is copied into its slot's own buffer, which
    the slot keeps and reuses when the ring comes round (sizes rounded up
    to 64 bytes). The events of a batch frame are kept where they are:
    the ring holds a reference to the frame (libzmq's count, no copy)
    until the last of them is overwritten. A frame is held only when at
    least HISTORY_HELD_EVENTS_MIN of its events and half its bytes are
    kept, else they are copied as lone ones; so the ring keeps alive at
    most twice the bytes of the events it holds, plus 24 bytes a slot.
    Copying each event out of its frame was most of the fleet model's
    cost on the batch feed (bench_broker, docs/BENCHMARKS.md).

    Events are numbered 0, 1, 2, ... as they are added; a reader walks the
    numbers from an older one up to a newer one, and what was overwritten
    meanwhile is skipped, not waited for.
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

//  Destroy the ring and release every event and frame it holds; idempotent
void
    zwatch_history_destroy (zwatch_history_t **self_p);

//  Keep a copy of an event body's bytes; the oldest event goes when
//  full. Returns 0, or -1 on ENOMEM (numbered but empty: sent as nothing).
int
    zwatch_history_add (zwatch_history_t *self, const void *data, size_t size);

//  The events added with zwatch_history_add_in until zwatch_history_frame_end
//  lie inside frame, which must stay open and unchanged until then (none
//  is added with zwatch_history_add meanwhile)
void
    zwatch_history_frame_begin (zwatch_history_t *self, zmq_msg_t *frame);

//  Keep an event inside the frame begun: numbered now, its bytes held or
//  copied at zwatch_history_frame_end (no add, get or destroy between)
void
    zwatch_history_add_in (zwatch_history_t *self, const void *data, size_t size);

//  The frame begun is done: hold it, or copy the events kept from it.
//  Returns 0, or -1 if a copy failed on ENOMEM (that event is empty).
int
    zwatch_history_frame_end (zwatch_history_t *self);

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

//  Frames held now (for the tests)
size_t
    zwatch_history_frames (zwatch_history_t *self);

#endif
