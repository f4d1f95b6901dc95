/*  zwatch_batch_feed: events several to a message (see header).  */

#include "zwatch_batch_feed.h"
#include "zwatch_batch.h"

#define TOPIC_PREFIX    "batch/"

struct _zwatch_batch_feed_t {
    zsock_t *socket;                //  PUB
    void *handle;
    zwatch_batch_t *batch;          //  the events of one service
    char topic [sizeof (TOPIC_PREFIX) + ZWATCH_HOST_MAX + ZWATCH_SVC_MAX + 2];
    size_t topic_len;               //  the open batch's topic, 0: none open
    uint64_t sent;
};

zwatch_batch_feed_t *
zwatch_batch_feed_new (void)
{
    zwatch_batch_feed_t *self = (zwatch_batch_feed_t *) zmalloc (sizeof (zwatch_batch_feed_t));
    if (!self)
        return NULL;
    self->socket = zsock_new (ZMQ_PUB);
    self->batch = zwatch_batch_new (ZWATCH_BATCH_FEED_MAX);
    if (!self->socket || !self->batch) {
        zwatch_batch_feed_destroy (&self);
        return NULL;
    }
    self->handle = zsock_resolve (self->socket);
    //  A stuck subscriber holds at most 10000 x 8 KiB (80 MiB), 10000 batches:
    //  a credit window of 50000 events fits 16 to a batch, and more
    zsock_set_sndhwm (self->socket, ZWATCH_BATCH_FEED_SNDHWM);
    zsock_set_linger (self->socket, 1000);
    return self;
}

void
zwatch_batch_feed_destroy (zwatch_batch_feed_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_batch_feed_t *self = *self_p;
        zsock_destroy (&self->socket);
        zwatch_batch_destroy (&self->batch);
        free (self);
        *self_p = NULL;
    }
}

zsock_t *
zwatch_batch_feed_socket (zwatch_batch_feed_t *self)
{
    return self->socket;
}

//  True if the open batch is of msg's service
static bool
s_same_service (zwatch_batch_feed_t *self, const zwatch_msg_t *msg)
{
    const char *host = self->topic + sizeof (TOPIC_PREFIX) - 1;
    const char *svc = host + msg->host.len + 1;
    return self->topic_len == sizeof (TOPIC_PREFIX) - 1 + msg->host.len + msg->svc.len + 2
        && memcmp (host, msg->host.ptr, msg->host.len) == 0 && host [msg->host.len] == '/'
        && memcmp (svc, msg->svc.ptr, msg->svc.len) == 0;
}

void
zwatch_batch_feed_add (zwatch_batch_feed_t *self, const zwatch_msg_t *msg,
                       const void *data, size_t size)
{
    if (self->topic_len && (!s_same_service (self, msg) || !zwatch_batch_fits (self->batch, size)))
        zwatch_batch_feed_flush (self);
    if (!self->topic_len) {
        //  The decoder bounds host and svc: the topic always fits. By hand:
        //  snprintf was 3 % of the forwarding thread (perf)
        char *topic = self->topic;
        memcpy (topic, TOPIC_PREFIX, sizeof (TOPIC_PREFIX) - 1);
        topic += sizeof (TOPIC_PREFIX) - 1;
        memcpy (topic, msg->host.ptr, msg->host.len);
        topic += msg->host.len;
        *topic++ = '/';
        memcpy (topic, msg->svc.ptr, msg->svc.len);
        topic += msg->svc.len;
        *topic++ = '/';
        self->topic_len = (size_t) (topic - self->topic);
    }
    zwatch_batch_add (self->batch, data, size, msg->count? msg->count: 1);
}

void
zwatch_batch_feed_flush (zwatch_batch_feed_t *self)
{
    if (!self->topic_len)
        return;
    uint64_t lost;
    //  PUB drops for a subscriber that is full; it never refuses a send
    if (zwatch_batch_send_topic (self->batch, self->handle, self->topic, self->topic_len,
                                 &lost) == 0)
        self->sent++;
    self->topic_len = 0;
}

uint64_t
zwatch_batch_feed_sent (zwatch_batch_feed_t *self)
{
    return self? self->sent: 0;
}
