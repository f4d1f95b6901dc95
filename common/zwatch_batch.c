/*  zwatch_batch: one frame being filled (see zwatch_batch.h).  */

#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "zwatch_batch.h"
#include "zwatch_eintr.h"

struct _zwatch_batch_t {
    size_t capacity;
    size_t size;
    size_t messages;
    uint64_t events;            //  monitor events its messages stand for
    unsigned char data [];
};

zwatch_batch_t *
zwatch_batch_new (size_t capacity)
{
    if (capacity == 0 || capacity > ZWATCH_BATCH_MAX)
        capacity = ZWATCH_BATCH_MAX;
    zwatch_batch_t *self = (zwatch_batch_t *) calloc (1, sizeof (zwatch_batch_t) + capacity);
    if (self)
        self->capacity = capacity;
    return self;
}

void
zwatch_batch_destroy (zwatch_batch_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

bool
zwatch_batch_fits (zwatch_batch_t *self, size_t size)
{
    return size <= self->capacity - self->size;
}

void
zwatch_batch_add (zwatch_batch_t *self, const void *data, size_t size, uint64_t events)
{
    memcpy (self->data + self->size, data, size);
    self->size += size;
    self->messages++;
    self->events += events;
}

int
zwatch_batch_send (zwatch_batch_t *self, void *socket, uint64_t *lost)
{
    return zwatch_batch_send_topic (self, socket, NULL, 0, lost);
}

int
zwatch_batch_send_topic (zwatch_batch_t *self, void *socket, const void *topic,
                         size_t topic_len, uint64_t *lost)
{
    //  Even with ZMQ_DONTWAIT a send processes the socket's commands first,
    //  where a signal gives EINTR: retried, so a signal loses nothing and
    //  a topic frame is never left without its body
    int rc = 0;
    if (self->size > 0
    &&  ((topic && ZWATCH_EINTR_RETRY (zmq_send (socket, topic, topic_len,
                                                 ZMQ_SNDMORE | ZMQ_DONTWAIT)) == -1)
      || ZWATCH_EINTR_RETRY (zmq_send (socket, self->data, self->size, ZMQ_DONTWAIT))
         != (int) self->size)) {
        *lost = self->events;
        rc = -1;
    }
    self->size = 0;
    self->messages = 0;
    self->events = 0;
    return rc;
}

size_t
zwatch_batch_messages (zwatch_batch_t *self)
{
    return self->messages;
}
