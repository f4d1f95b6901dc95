/*  feed: a raw SUB on a broker's publish endpoint, reading [topic][body].  */

#include <inttypes.h>
#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "feed.h"

#define COPIES      8           //  feed_str results alive at once
#define COPY_MAX    300         //  longest string in a broker body is 256

struct _feed_t {
    zsock_t *sub;
    zlistx_t *kept;             //  zmsg_t * read by feed_wait_stats, in order
    zmsg_t *current;
    char *topic;
    msgpack_unpacked unpacked;
    char copies [COPIES][COPY_MAX + 1];
    int next_copy;
};

feed_t *
feed_new (const char *endpoint, const char *const prefixes [])
{
    return feed_new_curve (endpoint, prefixes, NULL);
}

feed_t *
feed_new_curve (const char *endpoint, const char *const prefixes [], const char *server_key)
{
    feed_t *self = (feed_t *) zmalloc (sizeof (feed_t));
    CHECK (self);
    self->sub = zsock_new (ZMQ_SUB);
    self->kept = zlistx_new ();
    CHECK (self->sub && self->kept);
    zlistx_set_destructor (self->kept, (czmq_destructor *) zmsg_destroy);
    msgpack_unpacked_init (&self->unpacked);
    zsock_set_rcvhwm (self->sub, 0);        //  tests count every message
    for (size_t index = 0; prefixes [index]; index++)
        zsock_set_subscribe (self->sub, prefixes [index]);
    if (server_key) {
        zcert_t *cert = zcert_new ();
        CHECK (cert);
        zcert_apply (cert, self->sub);
        zcert_destroy (&cert);
        zsock_set_curve_serverkey (self->sub, server_key);
    }
    CHECK (zsock_connect (self->sub, "%s", endpoint) == 0);
    return self;
}

void
feed_destroy (feed_t **self_p)
{
    if (self_p && *self_p) {
        feed_t *self = *self_p;
        zsock_destroy (&self->sub);
        zlistx_destroy (&self->kept);
        zmsg_destroy (&self->current);
        zstr_free (&self->topic);
        msgpack_unpacked_destroy (&self->unpacked);
        free (self);
        *self_p = NULL;
    }
}

//  Make msg the current message and unpack its body
static void
s_set_current (feed_t *self, zmsg_t *msg)
{
    zmsg_destroy (&self->current);
    zstr_free (&self->topic);
    self->current = msg;
    if (zmsg_size (msg) != 2) {
        fprintf (stderr, "feed: message of %zu frames, expected [topic][body]\n", zmsg_size (msg));
        exit (1);
    }
    self->topic = zframe_strdup (zmsg_first (msg));
    zframe_t *body = zmsg_next (msg);
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&self->unpacked,
        (const char *) zframe_data (body), zframe_size (body), &offset);
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != zframe_size (body)
    ||  self->unpacked.data.type != MSGPACK_OBJECT_MAP) {
        fprintf (stderr, "feed: body on '%s' is not one msgpack map\n", self->topic);
        exit (1);
    }
}

//  The next message off the socket, or NULL after timeout_ms
static zmsg_t *
s_read (feed_t *self, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (self->sub, NULL);
    CHECK (poller);
    void *which = zpoller_wait (poller, timeout_ms);
    zpoller_destroy (&poller);
    return which? zmsg_recv (self->sub): NULL;
}

bool
feed_recv (feed_t *self, int timeout_ms)
{
    zmsg_t *msg = (zmsg_t *) zlistx_detach (self->kept, NULL);
    if (!msg)
        msg = s_read (self, timeout_ms);
    if (!msg)
        return false;
    s_set_current (self, msg);
    return true;
}

bool
feed_wait_stats (feed_t *self, const char *key, uint64_t value, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    long long left;
    while ((left = deadline - tu_now_ms ()) > 0) {
        zmsg_t *msg = s_read (self, (int) left);
        if (!msg)
            break;
        char *topic = zframe_strdup (zmsg_first (msg));
        bool stats = strncmp (topic, "stats/", 6) == 0;
        free (topic);
        if (!stats) {
            zlistx_add_end (self->kept, msg);
            continue;
        }
        s_set_current (self, msg);
        const msgpack_object *found = feed_get (self, key);
        if (found && found->type == MSGPACK_OBJECT_POSITIVE_INTEGER
        &&  found->via.u64 == value)
            return true;
    }
    return false;
}

bool
feed_wait_subscribers (feed_t *self, uint64_t count, int timeout_ms)
{
    if (feed_wait_stats (self, "subscriptions", count, timeout_ms))
        return true;
    if (self->topic && strncmp (self->topic, "stats/", 6) == 0)
        fprintf (stderr, "feed: the broker counted %" PRIu64 " subscriptions, not %" PRIu64
                 ", within %d ms\n", feed_uint (self, "subscriptions"), count, timeout_ms);
    else
        fprintf (stderr, "feed: no stats within %d ms (is the feed subscribed to 'stats/'?)\n",
                 timeout_ms);
    return false;
}

bool
feed_wait_broker_subscribers (const char *endpoint, uint64_t count, int timeout_ms)
{
    const char *stats [] = { "stats/", NULL };
    feed_t *feed = feed_new (endpoint, stats);
    bool counted = feed_wait_subscribers (feed, count + 1, timeout_ms);
    feed_destroy (&feed);
    return counted;
}

bool
feed_wait_agent (feed_t *self, const char *topic, const char *state, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    long long left;
    while ((left = deadline - tu_now_ms ()) > 0) {
        if (!feed_recv (self, (int) left))
            break;
        if (streq (self->topic, topic) && streq (feed_str (self, "state"), state))
            return true;
    }
    return false;
}

const char *
feed_topic (feed_t *self)
{
    CHECK (self->current);
    return self->topic;
}

const void *
feed_body (feed_t *self)
{
    CHECK (self->current);
    return zframe_data (zmsg_last (self->current));
}

size_t
feed_body_size (feed_t *self)
{
    CHECK (self->current);
    return zframe_size (zmsg_last (self->current));
}

bool
feed_is (feed_t *self, const char *prefix)
{
    return strncmp (feed_topic (self), prefix, strlen (prefix)) == 0;
}

const msgpack_object *
feed_get (feed_t *self, const char *key)
{
    CHECK (self->current);
    const msgpack_object_map *map = &self->unpacked.data.via.map;
    size_t len = strlen (key);
    for (uint32_t index = 0; index < map->size; index++) {
        const msgpack_object *name = &map->ptr [index].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == len
        &&  memcmp (name->via.str.ptr, key, len) == 0)
            return &map->ptr [index].val;
    }
    return NULL;
}

uint64_t
feed_uint (feed_t *self, const char *key)
{
    const msgpack_object *value = feed_get (self, key);
    if (!value || value->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        fprintf (stderr, "feed: no unsigned '%s' in the body on '%s'\n", key, self->topic);
        exit (1);
    }
    return value->via.u64;
}

const char *
feed_str (feed_t *self, const char *key)
{
    const msgpack_object *value = feed_get (self, key);
    if (!value || value->type != MSGPACK_OBJECT_STR || value->via.str.size > COPY_MAX) {
        fprintf (stderr, "feed: no string '%s' in the body on '%s'\n", key, self->topic);
        exit (1);
    }
    char *copy = self->copies [self->next_copy];
    self->next_copy = (self->next_copy + 1) % COPIES;
    memcpy (copy, value->via.str.ptr, value->via.str.size);
    copy [value->via.str.size] = 0;
    return copy;
}

void
feed_event (feed_t *self, zwatch_msg_t *msg)
{
    const char *detail;
    zwatch_reason_t reason = zwatch_msg_decode (msg, feed_body (self), feed_body_size (self),
                                                &detail);
    if (reason != ZWATCH_OK) {
        fprintf (stderr, "feed: invalid event on '%s': %s (%s)\n", self->topic,
                 zwatch_reason_name (reason), detail);
        exit (1);
    }
}
