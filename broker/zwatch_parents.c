/*  zwatch_parents: links to the parent brokers (see zwatch_parents.h)  */

#include "zwatch_parents.h"
#include "zwatch_monitor.h"

typedef struct {
    zsock_t *dealer;
    zsock_t *monitor;                   //  PAIR, the DEALER's monitor events
    zwatch_parent_stats_t stats;
} parent_t;

struct _zwatch_parents_t {
    parent_t parents [ZWATCH_PARENTS_MAX];
    size_t count;
    char id [ZWATCH_HOST_MAX + 1];
    uint8_t buffer [ZWATCH_MSG_MAX];    //  a forwarded message, via appended
};

zwatch_parents_t *
zwatch_parents_new (zlistx_t *endpoints, const char *id, const zwatch_curve_t *curve)
{
    if (zlistx_size (endpoints) > ZWATCH_PARENTS_MAX) {
        errno = E2BIG;
        return NULL;
    }
    zwatch_parents_t *self = (zwatch_parents_t *) zmalloc (sizeof (zwatch_parents_t));
    if (!self)
        return NULL;
    snprintf (self->id, sizeof (self->id), "%s", id);
    for (const char *endpoint = (const char *) zlistx_first (endpoints); endpoint;
         endpoint = (const char *) zlistx_next (endpoints)) {
        parent_t *parent = &self->parents [self->count++];
        parent->stats.endpoint = endpoint;
        parent->dealer = zsock_new (ZMQ_DEALER);
        parent->monitor = zsock_new (ZMQ_PAIR);
        char inproc [64];
        snprintf (inproc, sizeof (inproc), "inproc://zwatch-parent-%p-%zu",
                  (void *) self, self->count);
        if (!parent->dealer || !parent->monitor
        ||  zmq_socket_monitor (zsock_resolve (parent->dealer), inproc,
                                ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0
        ||  zsock_connect (parent->monitor, "%s", inproc) != 0) {
            zwatch_parents_destroy (&self);
            return NULL;
        }
        zsock_set_sndhwm (parent->dealer, ZWATCH_PARENT_SNDHWM);
        zsock_set_linger (parent->dealer, 0);
        zsock_set_maxmsgsize (parent->dealer, 65536);
        if (zwatch_curve_apply (curve, zsock_resolve (parent->dealer)) != 0
        ||  zsock_connect (parent->dealer, "%s", endpoint) != 0) {
            zwatch_parents_destroy (&self);
            return NULL;
        }
        zsys_info ("zwatch-broker: forwarding to parent %s", endpoint);
    }
    return self;
}

void
zwatch_parents_destroy (zwatch_parents_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_parents_t *self = *self_p;
        for (size_t index = 0; index < self->count; index++) {
            parent_t *parent = &self->parents [index];
            if (parent->dealer)
                zmq_socket_monitor (zsock_resolve (parent->dealer), NULL, 0);
            zsock_destroy (&parent->monitor);
            zsock_destroy (&parent->dealer);
        }
        free (self);
        *self_p = NULL;
    }
}

size_t
zwatch_parents_size (zwatch_parents_t *self)
{
    return self? self->count: 0;
}

int
zwatch_parents_pollitems (zwatch_parents_t *self, zmq_pollitem_t *items)
{
    for (size_t index = 0; self && index < self->count; index++) {
        zmq_pollitem_t dealer = { zsock_resolve (self->parents [index].dealer), 0, ZMQ_POLLIN, 0 };
        zmq_pollitem_t monitor = { zsock_resolve (self->parents [index].monitor), 0, ZMQ_POLLIN, 0 };
        items [2 * index] = dealer;
        items [2 * index + 1] = monitor;
    }
    return self? (int) (2 * self->count): 0;
}

//  A parent's answer: `refused` with reason loop stops the link
static void
s_read_refusals (parent_t *parent)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    void *handle = zsock_resolve (parent->dealer);
    while (zmq_msg_recv (&msg, handle, ZMQ_DONTWAIT) != -1) {
        zwatch_refusal_t refusal;
        if (zwatch_refusal_decode (&refusal, zmq_msg_data (&msg), zmq_msg_size (&msg)) == 0
        &&  !parent->stats.stopped
        &&  refusal.reason.len == 4 && memcmp (refusal.reason.ptr, "loop", 4) == 0) {
            parent->stats.stopped = true;
            zsys_error ("zwatch-broker: parent %s refused us: loop (it already hears from us "
                        "through another path); not forwarding to it", parent->stats.endpoint);
        }
        while (zmq_msg_more (&msg) && zmq_msg_recv (&msg, handle, ZMQ_DONTWAIT) != -1)
            ;
    }
    zmq_msg_close (&msg);
}

unsigned
zwatch_parents_read (zwatch_parents_t *self)
{
    unsigned connected = 0;
    for (size_t index = 0; self && index < self->count; index++) {
        parent_t *parent = &self->parents [index];
        s_read_refusals (parent);
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        void *handle = zsock_resolve (parent->monitor);
        while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) != -1) {
            uint16_t code;
            uint32_t value;
            if (zwatch_monitor_parse (zmq_msg_data (&frame), zmq_msg_size (&frame), &code, &value)
            &&  code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && !parent->stats.stopped) {
                parent->stats.connects++;
                connected |= 1u << index;
            }
            while (zmq_msg_more (&frame) && zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) != -1)
                ;
        }
        zmq_msg_close (&frame);
    }
    return connected;
}

static int
s_send (parent_t *parent, const void *data, size_t size)
{
    if (parent->stats.stopped)
        return -1;
    if (zmq_send (zsock_resolve (parent->dealer), data, size, ZMQ_DONTWAIT) == (int) size) {
        parent->stats.sent++;
        return 0;
    }
    parent->stats.dropped++;
    return -1;
}

void
zwatch_parents_forward (zwatch_parents_t *self, const void *data, size_t size,
                        const zwatch_via_t *via)
{
    if (!self || !self->count)
        return;
    int length = zwatch_via_append (via, data, size, self->id, self->buffer,
                                    sizeof (self->buffer));
    for (size_t index = 0; index < self->count; index++)
        if (length < 0)
            self->parents [index].stats.dropped++;
        else
            s_send (&self->parents [index], self->buffer, (size_t) length);
}

int
zwatch_parents_send (zwatch_parents_t *self, size_t index, const void *data, size_t size)
{
    zwatch_via_t via;
    if (!self || index >= self->count || zwatch_via_read (&via, data, size) != 0)
        return -1;
    int length = zwatch_via_append (&via, data, size, self->id, self->buffer,
                                    sizeof (self->buffer));
    if (length < 0) {
        self->parents [index].stats.dropped++;
        return -1;
    }
    return s_send (&self->parents [index], self->buffer, (size_t) length);
}

void
zwatch_parents_replayed (zwatch_parents_t *self, size_t index)
{
    if (self && index < self->count)
        self->parents [index].stats.replays++;
}

const zwatch_parent_stats_t *
zwatch_parents_stats (zwatch_parents_t *self, size_t index)
{
    return self && index < self->count? &self->parents [index].stats: NULL;
}
