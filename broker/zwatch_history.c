/*  zwatch_history: a bounded ring of the most recent published events.  */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "zwatch_history.h"

//  Slot buffers grow in steps of this, so bodies of similar sizes reuse them
#define SLOT_ROUND  64
//  A frame with fewer events kept is not worth its reference (and so the
//  ring of held frames needs at most capacity / this entries)
#define HISTORY_HELD_EVENTS_MIN  4
//  slot->frame of an event in the frame being read, not yet held or copied
#define FRAME_PENDING   UINT64_MAX

typedef struct {
    uint8_t *data;              //  own buffer, for copies
    size_t capacity;
    uint32_t size;              //  0: empty (the copy failed), sent as nothing
    uint32_t offset;            //  in its frame, when it is in one
    uint64_t frame;             //  number of its held frame + 1; 0: in data
} history_slot_t;

typedef struct {
    zmq_msg_t msg;              //  our reference to the frame
    uint64_t last;              //  number of the last event kept in it
} history_frame_t;

struct _zwatch_history_t {
    history_slot_t *slots;
    size_t capacity;
    uint64_t end;               //  events added so far; slot of n: n % capacity
    //  Held frames, numbered as they are held; oldest first
    history_frame_t *frames;
    size_t frames_capacity;
    uint64_t frames_begin, frames_end;
    //  The frame being read
    zmq_msg_t *pending;
    const uint8_t *pending_base;
    uint64_t pending_first;     //  number of its first event kept
    size_t pending_count;       //  events kept from it
    size_t pending_bytes;
};

zwatch_history_t *
zwatch_history_new (size_t capacity)
{
    zwatch_history_t *self = (zwatch_history_t *) calloc (1, sizeof (zwatch_history_t));
    if (!self)
        return NULL;
    self->capacity = capacity;
    if (capacity) {
        //  Every held frame but the oldest has all its events (at least
        //  the minimum) in the ring
        self->frames_capacity = capacity / HISTORY_HELD_EVENTS_MIN + 2;
        self->slots = (history_slot_t *) calloc (capacity, sizeof (history_slot_t));
        self->frames = (history_frame_t *) calloc (self->frames_capacity,
                                                   sizeof (history_frame_t));
        if (!self->slots || !self->frames) {
            free (self->slots);
            free (self->frames);
            free (self);
            return NULL;
        }
    }
    return self;
}

static history_frame_t *
s_frame (zwatch_history_t *self, uint64_t number)
{
    return &self->frames [number % self->frames_capacity];
}

void
zwatch_history_destroy (zwatch_history_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_history_t *self = *self_p;
        for (size_t index = 0; index < self->capacity; index++)
            free (self->slots [index].data);
        for (uint64_t number = self->frames_begin; number < self->frames_end; number++)
            zmq_msg_close (&s_frame (self, number)->msg);
        free (self->slots);
        free (self->frames);
        free (self);
        *self_p = NULL;
    }
}

//  The slot for the next event; the one it held is gone, and with its
//  last event a held frame (frames go oldest first, as their events do)
static history_slot_t *
s_next_slot (zwatch_history_t *self)
{
    history_slot_t *slot = &self->slots [self->end % self->capacity];
    if (slot->frame && slot->frame != FRAME_PENDING) {
        history_frame_t *frame = s_frame (self, slot->frame - 1);
        if (self->end >= self->capacity && frame->last == self->end - self->capacity) {
            zmq_msg_close (&frame->msg);
            self->frames_begin++;
        }
    }
    slot->frame = 0;
    self->end++;                //  dense numbering, also when a copy fails
    return slot;
}

//  The bytes into the slot's own buffer, reused from one round of the ring
//  to the next: no allocation once the ring has been round
static int
s_copy_in (history_slot_t *slot, const void *data, size_t size)
{
    slot->frame = 0;
    if (size > slot->capacity) {
        size_t capacity = (size + SLOT_ROUND - 1) / SLOT_ROUND * SLOT_ROUND;
        uint8_t *grown = (uint8_t *) realloc (slot->data, capacity);
        if (!grown) {
            slot->size = 0;
            return -1;
        }
        slot->data = grown;
        slot->capacity = capacity;
    }
    if (size)
        memcpy (slot->data, data, size);
    slot->size = (uint32_t) size;
    return 0;
}

int
zwatch_history_add (zwatch_history_t *self, const void *data, size_t size)
{
    if (!self->capacity)
        return 0;
    return s_copy_in (s_next_slot (self), data, size);
}

void
zwatch_history_frame_begin (zwatch_history_t *self, zmq_msg_t *frame)
{
    self->pending = frame;
    self->pending_base = (const uint8_t *) zmq_msg_data (frame);
    self->pending_first = self->end;
    self->pending_count = 0;
    self->pending_bytes = 0;
}

void
zwatch_history_add_in (zwatch_history_t *self, const void *data, size_t size)
{
    if (!self->capacity)
        return;
    history_slot_t *slot = s_next_slot (self);
    slot->frame = FRAME_PENDING;
    slot->offset = (uint32_t) ((const uint8_t *) data - self->pending_base);
    slot->size = (uint32_t) size;
    self->pending_count++;
    self->pending_bytes += size;
}

int
zwatch_history_frame_end (zwatch_history_t *self)
{
    zmq_msg_t *pending = self->pending;
    self->pending = NULL;
    if (!self->capacity || !pending || !self->pending_count)
        return 0;
    //  Its events still in the ring (a ring smaller than the frame has
    //  overwritten the first ones already)
    uint64_t first = self->pending_first > zwatch_history_begin (self)
                   ? self->pending_first: zwatch_history_begin (self);
    uint64_t frame_number = 0;
    bool hold = self->pending_count >= HISTORY_HELD_EVENTS_MIN
             && self->pending_bytes * 2 >= zmq_msg_size (pending)
             && self->frames_end - self->frames_begin < self->frames_capacity;
    if (hold) {
        history_frame_t *frame = s_frame (self, self->frames_end);
        zmq_msg_init (&frame->msg);
        //  A copy shares the bytes (libzmq's count); a frame small enough
        //  to live inside its zmq_msg_t is copied whole, at the same offsets
        if (zmq_msg_copy (&frame->msg, pending) == 0) {
            frame->last = self->end - 1;
            frame_number = ++self->frames_end;
        }
        else {
            zmq_msg_close (&frame->msg);
            hold = false;
        }
    }
    int rc = 0;
    for (uint64_t number = first; number < self->end; number++) {
        history_slot_t *slot = &self->slots [number % self->capacity];
        if (hold)
            slot->frame = frame_number;
        else
        if (s_copy_in (slot, self->pending_base + slot->offset, slot->size))
            rc = -1;
    }
    return rc;
}

uint64_t
zwatch_history_end (zwatch_history_t *self)
{
    return self->end;
}

uint64_t
zwatch_history_begin (zwatch_history_t *self)
{
    return self->end - zwatch_history_size (self);
}

const uint8_t *
zwatch_history_get (zwatch_history_t *self, uint64_t number, size_t *size)
{
    if (number >= self->end || number < zwatch_history_begin (self))
        return NULL;
    history_slot_t *slot = &self->slots [number % self->capacity];
    *size = slot->size;
    if (slot->frame == FRAME_PENDING)
        return self->pending_base + slot->offset;
    if (slot->frame)
        return (const uint8_t *) zmq_msg_data (&s_frame (self, slot->frame - 1)->msg)
             + slot->offset;
    return slot->data;
}

size_t
zwatch_history_size (zwatch_history_t *self)
{
    return self->end < self->capacity? (size_t) self->end: self->capacity;
}

size_t
zwatch_history_frames (zwatch_history_t *self)
{
    return (size_t) (self->frames_end - self->frames_begin);
}
