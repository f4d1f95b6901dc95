/*  zwatch_subscribers: connected subscribers, from the XPUB's monitor (see header).  */

#include "zwatch_subscribers.h"
#include "zwatch_monitor.h"

#define BATCH_MAX   1000        //  monitor events read per call

struct _zwatch_subscribers_t {
    void *publish;              //  the XPUB, not ours
    void *monitor;              //  PAIR on its monitor, or NULL
    uint64_t connected;
};

zwatch_subscribers_t *
zwatch_subscribers_new (zsock_t *publish, bool own_monitor)
{
    zwatch_subscribers_t *self = (zwatch_subscribers_t *) zmalloc (sizeof (zwatch_subscribers_t));
    if (!self)
        return NULL;
    self->publish = zsock_resolve (publish);
    if (!own_monitor)
        return self;
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "inproc://zwatch-broker-subscribers-%p", (void *) self);
    if (zmq_socket_monitor (self->publish, endpoint,
                            ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0
    ||  !(self->monitor = zmq_socket (zsys_init (), ZMQ_PAIR))
    ||  zmq_connect (self->monitor, endpoint) != 0) {
        int error = zmq_errno ();
        zwatch_subscribers_destroy (&self);
        errno = error;
        return NULL;
    }
    int zero = 0;
    zmq_setsockopt (self->monitor, ZMQ_LINGER, &zero, sizeof (zero));
    return self;
}

void
zwatch_subscribers_destroy (zwatch_subscribers_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_subscribers_t *self = *self_p;
        if (self->monitor) {
            zmq_socket_monitor (self->publish, NULL, 0);
            zmq_close (self->monitor);
        }
        free (self);
        *self_p = NULL;
    }
}

void *
zwatch_subscribers_socket (zwatch_subscribers_t *self)
{
    return self->monitor;
}

void
zwatch_subscribers_read (zwatch_subscribers_t *self)
{
    if (!self->monitor)
        return;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    for (int count = 0; count < BATCH_MAX; count++) {
        if (zmq_msg_recv (&frame, self->monitor, ZMQ_DONTWAIT) < 0)
            break;
        uint16_t code;
        uint32_t value;
        bool parsed = zwatch_monitor_parse (zmq_msg_data (&frame), zmq_msg_size (&frame),
                                            &code, &value);
        //  The endpoint frame follows the event frame
        while (zmq_msg_more (&frame) && zmq_msg_recv (&frame, self->monitor, ZMQ_DONTWAIT) >= 0)
            ;
        if (parsed)
            zwatch_subscribers_event (self, code);
    }
    zmq_msg_close (&frame);
}

void
zwatch_subscribers_event (zwatch_subscribers_t *self, uint16_t code)
{
    if (code == ZMQ_EVENT_ACCEPTED)
        self->connected++;
    else
    if (code == ZMQ_EVENT_DISCONNECTED && self->connected > 0)
        self->connected--;
}

uint64_t
zwatch_subscribers_count (zwatch_subscribers_t *self)
{
    return self? self->connected: 0;
}
