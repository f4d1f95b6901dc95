/*  sec_feed: a SUB on a broker's publish endpoint that may speak CURVE.  */

#include <string.h>
#include <czmq.h>
#include <msgpack.h>
#include "testutil.h"
#include "sec_feed.h"

struct _sec_feed_t {
    zsock_t *sub;
    zlistx_t *history;          //  every message read (zmsg_t *), in order
    zmsg_t *current;            //  one of them
    char *topic;                //  the current one's
    msgpack_unpacked unpacked;  //  the current one's body
};

sec_feed_t *
sec_feed_new (const char *endpoint, const char *server_key, const char *cert)
{
    sec_feed_t *self = (sec_feed_t *) zmalloc (sizeof (sec_feed_t));
    CHECK (self);
    self->sub = zsock_new (ZMQ_SUB);
    self->history = zlistx_new ();
    CHECK (self->sub && self->history);
    zlistx_set_destructor (self->history, (czmq_destructor *) zmsg_destroy);
    msgpack_unpacked_init (&self->unpacked);
    zsock_set_rcvhwm (self->sub, 0);        //  tests count every message
    if (server_key) {
        zcert_t *keys = cert? zcert_load (cert): zcert_new ();
        CHECK (keys);
        zcert_apply (keys, self->sub);
        zcert_destroy (&keys);
        zsock_set_curve_serverkey (self->sub, server_key);
    }
    zsock_set_subscribe (self->sub, "");
    CHECK (zsock_connect (self->sub, "%s", endpoint) == 0);
    return self;
}

void
sec_feed_destroy (sec_feed_t **self_p)
{
    if (self_p && *self_p) {
        sec_feed_t *self = *self_p;
        zsock_destroy (&self->sub);
        zlistx_destroy (&self->history);
        zstr_free (&self->topic);
        msgpack_unpacked_destroy (&self->unpacked);
        free (self);
        *self_p = NULL;
    }
}

//  True if msg's topic starts with prefix
static bool
s_matches (zmsg_t *msg, const char *prefix)
{
    zframe_t *topic = zmsg_first (msg);
    size_t len = strlen (prefix);
    return zframe_size (topic) >= len && memcmp (zframe_data (topic), prefix, len) == 0;
}

//  Make msg (from the history) current: its topic and unpacked body
static void
s_set_current (sec_feed_t *self, zmsg_t *msg)
{
    self->current = msg;
    zstr_free (&self->topic);
    self->topic = zframe_strdup (zmsg_first (msg));
    zframe_t *body = zmsg_last (msg);
    size_t offset = 0;
    CHECK (msgpack_unpack_next (&self->unpacked, (const char *) zframe_data (body),
                                zframe_size (body), &offset) == MSGPACK_UNPACK_SUCCESS);
    CHECK (offset == zframe_size (body) && self->unpacked.data.type == MSGPACK_OBJECT_MAP);
}

bool
sec_feed_recv (sec_feed_t *self, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (self->sub, NULL);
    CHECK (poller);
    void *which = zpoller_wait (poller, timeout_ms);
    zpoller_destroy (&poller);
    if (!which)
        return false;
    zmsg_t *msg = zmsg_recv (self->sub);
    CHECK (msg && zmsg_size (msg) == 2);
    zlistx_add_end (self->history, msg);
    s_set_current (self, msg);
    return true;
}

bool
sec_feed_wait (sec_feed_t *self, const char *prefix, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    long long left;
    while ((left = deadline - tu_now_ms ()) > 0)
        if (sec_feed_recv (self, (int) left) && s_matches (self->current, prefix))
            return true;
    return false;
}

//  True if msg is on a topic starting with prefix and, when sock is not
//  NULL, is an event about the socket labelled sock
static bool
s_is_wanted (zmsg_t *msg, const char *prefix, const char *sock)
{
    if (!s_matches (msg, prefix))
        return false;
    if (!sock)
        return true;
    zwatch_msg_t event;
    zframe_t *body = zmsg_last (msg);
    return zwatch_msg_decode (&event, zframe_data (body), zframe_size (body), NULL) == ZWATCH_OK
        && event.sock.len == strlen (sock) && memcmp (event.sock.ptr, sock, event.sock.len) == 0;
}

bool
sec_feed_find (sec_feed_t *self, const char *prefix, const char *sock, int timeout_ms)
{
    for (zmsg_t *msg = (zmsg_t *) zlistx_first (self->history); msg;
         msg = (zmsg_t *) zlistx_next (self->history))
        if (s_is_wanted (msg, prefix, sock)) {
            s_set_current (self, msg);
            return true;
        }
    long long deadline = tu_now_ms () + timeout_ms;
    long long left;
    while ((left = deadline - tu_now_ms ()) > 0)
        if (sec_feed_recv (self, (int) left) && s_is_wanted (self->current, prefix, sock))
            return true;
    return false;
}

const char *
sec_feed_topic (sec_feed_t *self)
{
    CHECK (self->topic);
    return self->topic;
}

//  Value of key in a msgpack map, or NULL
static const msgpack_object *
s_lookup (const msgpack_object *map, const char *key)
{
    size_t len = strlen (key);
    for (uint32_t index = 0; map->type == MSGPACK_OBJECT_MAP && index < map->via.map.size; index++) {
        const msgpack_object *name = &map->via.map.ptr [index].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == len
        &&  memcmp (name->via.str.ptr, key, len) == 0)
            return &map->via.map.ptr [index].val;
    }
    return NULL;
}

uint64_t
sec_feed_uint (sec_feed_t *self, const char *sub, const char *key)
{
    CHECK (self->current);
    const msgpack_object *map = &self->unpacked.data;
    if (sub) {
        map = s_lookup (map, sub);
        CHECK (map && map->type == MSGPACK_OBJECT_MAP);
    }
    const msgpack_object *value = s_lookup (map, key);
    if (!value)
        return 0;
    CHECK (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
    return value->via.u64;
}

void
sec_feed_event (sec_feed_t *self, zwatch_msg_t *msg)
{
    CHECK (self->current);
    zframe_t *body = zmsg_last (self->current);
    CHECK (zwatch_msg_decode (msg, zframe_data (body), zframe_size (body), NULL) == ZWATCH_OK);
    CHECK (msg->kind == ZWATCH_KIND_EVENT);
}

size_t
sec_feed_count (sec_feed_t *self, const char *prefix)
{
    size_t count = 0;
    for (zmsg_t *msg = (zmsg_t *) zlistx_first (self->history); msg;
         msg = (zmsg_t *) zlistx_next (self->history))
        if (s_matches (msg, prefix))
            count++;
    return count;
}
