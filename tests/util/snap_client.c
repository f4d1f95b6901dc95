/*  snap_client: a DEALER that asks a broker for snapshots.  */

#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "zwatch_fleet_wire.h"
#include "snap_client.h"

struct _snap_client_t {
    zsock_t *dealer;
    void *handle;
};

struct _snap_reply_t {
    msgpack_unpacked *frames;
    char **bytes;               //  each frame's bytes: unpacked strings point into them
    size_t size;
    size_t capacity;
};

snap_client_t *
snap_client_new (const char *endpoint)
{
    return snap_client_new_curve (endpoint, NULL);
}

snap_client_t *
snap_client_new_curve (const char *endpoint, const char *server_key)
{
    snap_client_t *self = (snap_client_t *) calloc (1, sizeof (snap_client_t));
    CHECK (self);
    self->dealer = zsock_new (ZMQ_DEALER);
    CHECK (self->dealer);
    zsock_set_linger (self->dealer, 0);
    zsock_set_rcvhwm (self->dealer, 0);         //  a reply is read whole
    if (server_key) {
        zcert_t *cert = zcert_new ();
        CHECK (cert);
        zcert_apply (cert, self->dealer);
        zcert_destroy (&cert);
        zsock_set_curve_serverkey (self->dealer, server_key);
    }
    CHECK (zsock_connect (self->dealer, "%s", endpoint) == 0);
    self->handle = zsock_resolve (self->dealer);
    return self;
}

void
snap_client_destroy (snap_client_t **self_p)
{
    if (self_p && *self_p) {
        zsock_destroy (&(*self_p)->dealer);
        free (*self_p);
        *self_p = NULL;
    }
}

void
snap_client_request (snap_client_t *self, const char *prefix, int64_t history)
{
    uint8_t request [ZWATCH_FLEET_REQUEST_MAX];
    int size = zwatch_fleet_request_encode (request, sizeof (request), prefix, history);
    CHECK (size > 0);
    snap_client_send_raw (self, request, (size_t) size);
}

void
snap_client_send_raw (snap_client_t *self, const void *data, size_t size)
{
    CHECK (zmq_send (self->handle, data, size, 0) == (int) size);
}

void
snap_client_send_parts (snap_client_t *self, const void *data, size_t size, int parts)
{
    size_t step = (size + (size_t) parts - 1) / (size_t) parts;
    for (int part = 0; part < parts; part++) {
        size_t offset = (size_t) part * step;
        size_t length = offset >= size? 0: (size - offset < step? size - offset: step);
        CHECK (zmq_send (self->handle, (const uint8_t *) data + (offset < size? offset: 0),
                         length, part + 1 < parts? ZMQ_SNDMORE: 0) == (int) length);
    }
}

void *
snap_client_handle (snap_client_t *self)
{
    return self->handle;
}

snap_reply_t *
snap_client_reply (snap_client_t *self, int timeout_ms)
{
    snap_reply_t *reply = (snap_reply_t *) calloc (1, sizeof (snap_reply_t));
    CHECK (reply);
    int64_t deadline = zclock_mono () + timeout_ms;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (true) {
        int64_t left = deadline - zclock_mono ();
        zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
        if (left <= 0 || zmq_poll (&item, 1, (long) left) <= 0) {
            zmq_msg_close (&frame);
            snap_reply_destroy (&reply);
            return NULL;
        }
        CHECK (zmq_msg_recv (&frame, self->handle, 0) >= 0);
        CHECK (!zmq_msg_more (&frame));
        if (reply->size == reply->capacity) {
            reply->capacity = reply->capacity? reply->capacity * 2: 64;
            reply->frames = (msgpack_unpacked *) realloc (reply->frames,
                                                          reply->capacity * sizeof (msgpack_unpacked));
            reply->bytes = (char **) realloc (reply->bytes, reply->capacity * sizeof (char *));
            CHECK (reply->frames && reply->bytes);
        }
        char *bytes = (char *) malloc (zmq_msg_size (&frame) + 1);
        CHECK (bytes);
        memcpy (bytes, zmq_msg_data (&frame), zmq_msg_size (&frame));
        reply->bytes [reply->size] = bytes;
        msgpack_unpacked *unpacked = &reply->frames [reply->size++];
        msgpack_unpacked_init (unpacked);
        size_t offset = 0;
        CHECK (msgpack_unpack_next (unpacked, bytes,
                                    zmq_msg_size (&frame), &offset) == MSGPACK_UNPACK_SUCCESS);
        CHECK (offset == zmq_msg_size (&frame));
        const msgpack_object *map = &unpacked->data;
        CHECK (map->type == MSGPACK_OBJECT_MAP);
        CHECK (mp_uint (map, "v") == 1);
        if (mp_str_is (map, "kind", "snapshot_end") || mp_str_is (map, "kind", "error"))
            break;
    }
    zmq_msg_close (&frame);
    return reply;
}

snap_reply_t *
snap_client_get (snap_client_t *self, const char *prefix, int64_t history, int timeout_ms)
{
    snap_client_request (self, prefix, history);
    snap_reply_t *reply = snap_client_reply (self, timeout_ms);
    if (!reply)
        fprintf (stderr, "snap_client_get: no reply within %d ms\n", timeout_ms);
    CHECK (reply);
    return reply;
}

void
snap_reply_destroy (snap_reply_t **self_p)
{
    if (self_p && *self_p) {
        snap_reply_t *self = *self_p;
        for (size_t index = 0; index < self->size; index++) {
            msgpack_unpacked_destroy (&self->frames [index]);
            free (self->bytes [index]);
        }
        free (self->frames);
        free (self->bytes);
        free (self);
        *self_p = NULL;
    }
}

size_t
snap_reply_size (snap_reply_t *self)
{
    return self->size;
}

const msgpack_object *
snap_reply_frame (snap_reply_t *self, size_t index)
{
    return index < self->size? &self->frames [index].data: NULL;
}

size_t
snap_reply_count (snap_reply_t *self, const char *kind)
{
    size_t count = 0;
    for (size_t index = 0; index < self->size; index++)
        if (mp_str_is (&self->frames [index].data, "kind", kind))
            count++;
    return count;
}

const msgpack_object *
snap_reply_last (snap_reply_t *self)
{
    return self->size? &self->frames [self->size - 1].data: NULL;
}

const msgpack_object *
snap_reply_nth (snap_reply_t *self, const char *kind, size_t nth)
{
    for (size_t index = 0; index < self->size; index++)
        if (mp_str_is (&self->frames [index].data, "kind", kind) && nth-- == 0)
            return &self->frames [index].data;
    return NULL;
}

const char *
snap_reply_error (snap_reply_t *self)
{
    static char reason [64];
    const msgpack_object *last = snap_reply_last (self);
    if (!last || !mp_str_is (last, "kind", "error"))
        return NULL;
    return mp_str (last, "reason", reason, sizeof (reason));
}

const msgpack_object *
mp_get (const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t len = strlen (key);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object *name = &map->via.map.ptr [index].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == len
        &&  memcmp (name->via.str.ptr, key, len) == 0)
            return &map->via.map.ptr [index].val;
    }
    return NULL;
}

bool
mp_str_is (const msgpack_object *map, const char *key, const char *text)
{
    const msgpack_object *value = mp_get (map, key);
    return value && value->type == MSGPACK_OBJECT_STR && value->via.str.size == strlen (text)
        && memcmp (value->via.str.ptr, text, value->via.str.size) == 0;
}

uint64_t
mp_uint (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = mp_get (map, key);
    if (!value || value->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        fprintf (stderr, "mp_uint: key '%s' absent or not a uint\n", key);
        CHECK (false);
    }
    return value->via.u64;
}

const char *
mp_str (const msgpack_object *map, const char *key, char *buf, size_t size)
{
    const msgpack_object *value = mp_get (map, key);
    if (!value || value->type != MSGPACK_OBJECT_STR || value->via.str.size >= size)
        return NULL;
    memcpy (buf, value->via.str.ptr, value->via.str.size);
    buf [value->via.str.size] = 0;
    return buf;
}
