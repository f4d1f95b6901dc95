/*  zwatch_pin: batch maps published in place (see zwatch_pin.h).  */

#include <stdatomic.h>
#include <stdlib.h>
#include "zwatch_pin.h"

#define PIN_MIN_FRAME   64      //  libzmq keeps up to 33 bytes inside the zmq_msg_t

struct _zwatch_pin_t {
    zmq_msg_t frame;
    atomic_int refs;
};

static void
s_unref (void *data, void *hint)
{
    (void) data;
    zwatch_pin_t *self = (zwatch_pin_t *) hint;
    if (atomic_fetch_sub (&self->refs, 1) == 1) {
        zmq_msg_close (&self->frame);
        free (self);
    }
}

zwatch_pin_t *
zwatch_pin_new (zmq_msg_t *frame)
{
    if (zmq_msg_size (frame) < PIN_MIN_FRAME)
        return NULL;
    zwatch_pin_t *self = (zwatch_pin_t *) malloc (sizeof (zwatch_pin_t));
    if (!self)
        return NULL;
    zmq_msg_init (&self->frame);
    //  A copy shares the bytes (a reference count inside libzmq)
    if (zmq_msg_copy (&self->frame, frame) != 0
    ||  zmq_msg_data (&self->frame) != zmq_msg_data (frame)) {
        zmq_msg_close (&self->frame);
        free (self);
        return NULL;
    }
    atomic_init (&self->refs, 1);
    return self;
}

int
zwatch_pin_send (zwatch_pin_t *self, void *socket, const void *data, size_t size, int flags)
{
    zmq_msg_t msg;
    atomic_fetch_add (&self->refs, 1);
    if (zmq_msg_init_data (&msg, (void *) data, size, s_unref, self) != 0) {
        s_unref (NULL, self);
        return -1;
    }
    int rc = zmq_msg_send (&msg, socket, flags);
    if (rc == -1)
        zmq_msg_close (&msg);       //  runs s_unref
    return rc;
}

void
zwatch_pin_release (zwatch_pin_t **self_p)
{
    if (self_p && *self_p) {
        s_unref (NULL, *self_p);
        *self_p = NULL;
    }
}
