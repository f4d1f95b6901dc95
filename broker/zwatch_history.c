/*  zwatch_history: a bounded ring of the most recent published events.  */

#include <stdlib.h>
#include "zwatch_history.h"

struct _zwatch_history_t {
    zmq_msg_t *slots;
    size_t capacity;
    uint64_t end;               //  events added so far; slot of n: n % capacity
};

zwatch_history_t *
zwatch_history_new (size_t capacity)
{
    zwatch_history_t *self = (zwatch_history_t *) calloc (1, sizeof (zwatch_history_t));
    if (!self)
        return NULL;
    self->capacity = capacity;
    if (capacity) {
        self->slots = (zmq_msg_t *) calloc (capacity, sizeof (zmq_msg_t));
        if (!self->slots) {
            free (self);
            return NULL;
        }
    }
    return self;
}

void
zwatch_history_destroy (zwatch_history_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_history_t *self = *self_p;
        size_t held = zwatch_history_size (self);
        for (uint64_t number = self->end - held; number < self->end; number++)
            zmq_msg_close (&self->slots [number % self->capacity]);
        free (self->slots);
        free (self);
        *self_p = NULL;
    }
}

int
zwatch_history_add (zwatch_history_t *self, zmq_msg_t *body)
{
    if (!self->capacity)
        return 0;
    zmq_msg_t *slot = &self->slots [self->end % self->capacity];
    if (self->end >= self->capacity)
        zmq_msg_close (slot);   //  the oldest goes
    zmq_msg_init (slot);
    if (zmq_msg_copy (slot, body) == -1) {
        //  Keep the numbering dense: an empty slot is sent as nothing
        self->end++;
        return -1;
    }
    self->end++;
    return 0;
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

zmq_msg_t *
zwatch_history_get (zwatch_history_t *self, uint64_t number)
{
    if (number >= self->end || number < zwatch_history_begin (self))
        return NULL;
    return &self->slots [number % self->capacity];
}

size_t
zwatch_history_size (zwatch_history_t *self)
{
    return self->end < self->capacity? (size_t) self->end: self->capacity;
}
