/*  fake_agent: a DEALER that speaks the agent protocol by hand.  */

#include <string.h>
#include <czmq.h>
#include <msgpack.h>
#include "testutil.h"
#include "fake_agent.h"

#define SEND_TIMEOUT_MS 10000       //  a send blocked this long fails the test

struct _fake_agent_t {
    zsock_t *dealer;
    char host [ZWATCH_HOST_MAX + 1];
    char svc [ZWATCH_SVC_MAX + 1];
    uint64_t pid;
    uint64_t start;
    char endpoint [64];
    uint8_t encoded [ZWATCH_MSG_MAX];
    msgpack_sbuffer packed;
};

//  Epoch ns, as agents stamp their messages (ms are precise enough here)
static uint64_t
s_now_ns (void)
{
    return (uint64_t) zclock_time () * 1000000;
}

static zwatch_str_t
s_str (const char *text)
{
    zwatch_str_t str = { text, strlen (text) };
    return str;
}

fake_agent_t *
fake_agent_new (const char *endpoint, const char *host, const char *svc, uint64_t pid)
{
    fake_agent_t *self = (fake_agent_t *) zmalloc (sizeof (fake_agent_t));
    CHECK (self);
    CHECK (strlen (host) <= ZWATCH_HOST_MAX && strlen (svc) <= ZWATCH_SVC_MAX);
    strcpy (self->host, host);
    strcpy (self->svc, svc);
    self->pid = pid;
    self->start = s_now_ns ();
    msgpack_sbuffer_init (&self->packed);
    self->dealer = zsock_new (ZMQ_DEALER);
    CHECK (self->dealer);
    zsock_set_sndtimeo (self->dealer, SEND_TIMEOUT_MS);
    zsock_set_linger (self->dealer, 1000);
    CHECK (zsock_connect (self->dealer, "%s", endpoint) == 0);
    return self;
}

void
fake_agent_destroy (fake_agent_t **self_p)
{
    if (self_p && *self_p) {
        fake_agent_t *self = *self_p;
        zsock_destroy (&self->dealer);
        msgpack_sbuffer_destroy (&self->packed);
        free (self);
        *self_p = NULL;
    }
}

//  One frame, or the test fails: the broker must keep reading
static void
s_send (fake_agent_t *self, const void *data, size_t size, int flags)
{
    if (zmq_send (zsock_resolve (self->dealer), data, size, flags) != (int) size) {
        fprintf (stderr, "fake_agent: send failed: %s\n", zmq_strerror (zmq_errno ()));
        exit (1);
    }
}

static void
s_send_msg (fake_agent_t *self, const zwatch_msg_t *msg)
{
    int size = zwatch_msg_encode (msg, self->encoded, sizeof (self->encoded));
    CHECK (size > 0);
    s_send (self, self->encoded, (size_t) size, 0);
}

void
fake_agent_send_state (fake_agent_t *self, zwatch_kind_t kind, uint64_t seq)
{
    CHECK (kind != ZWATCH_KIND_EVENT);
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = kind;
    msg.host = s_str (self->host);
    msg.svc = s_str (self->svc);
    msg.pid = self->pid;
    msg.start = self->start;
    msg.ts = s_now_ns ();
    msg.seq = seq;
    s_send_msg (self, &msg);
}

const void *
fake_agent_event (fake_agent_t *self, uint64_t seq, const char *event, size_t *size)
{
    snprintf (self->endpoint, sizeof (self->endpoint), "tcp://10.0.0.1:%llu",
              (unsigned long long) seq);
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = ZWATCH_KIND_EVENT;
    msg.host = s_str (self->host);
    msg.svc = s_str (self->svc);
    msg.pid = self->pid;
    msg.ts = s_now_ns ();
    msg.seq = seq;
    msg.sock = s_str ("fake-sock");
    msg.stype = s_str ("DEALER");
    msg.event = s_str (event);
    msg.code = zwatch_event_code (event, strlen (event));
    msg.value = (int64_t) seq;
    msg.endpoint = s_str (self->endpoint);
    int encoded = zwatch_msg_encode (&msg, self->encoded, sizeof (self->encoded));
    CHECK (encoded > 0);
    *size = (size_t) encoded;
    return self->encoded;
}

const void *
fake_agent_send_event (fake_agent_t *self, uint64_t seq, const char *event, size_t *size)
{
    const void *bytes = fake_agent_event (self, seq, event, size);
    s_send (self, bytes, *size, 0);
    return bytes;
}

void
fake_agent_event_fields (fake_agent_t *self, fake_field_t fields [FAKE_EVENT_FIELDS],
                         uint64_t seq, const char *event)
{
    snprintf (self->endpoint, sizeof (self->endpoint), "tcp://10.0.0.1:%llu",
              (unsigned long long) seq);
    const fake_field_t valid [FAKE_EVENT_FIELDS] = {
        { "v", FAKE_UINT, NULL, 1 },
        { "kind", FAKE_STR, "event", 0 },
        { "host", FAKE_STR, self->host, 0 },
        { "pid", FAKE_UINT, NULL, (int64_t) self->pid },
        { "svc", FAKE_STR, self->svc, 0 },
        { "sock", FAKE_STR, "fake-sock", 0 },
        { "stype", FAKE_STR, "DEALER", 0 },
        { "event", FAKE_STR, event, 0 },
        { "code", FAKE_UINT, NULL, zwatch_event_code (event, strlen (event)) },
        { "value", FAKE_INT, NULL, (int64_t) seq },
        { "endpoint", FAKE_STR, self->endpoint, 0 },
        { "ts", FAKE_UINT, NULL, (int64_t) s_now_ns () },
        { "seq", FAKE_UINT, NULL, (int64_t) seq }
    };
    memcpy (fields, valid, sizeof (valid));
}

void
fake_field_set (fake_field_t *fields, size_t count, const char *key, fake_type_t type,
                const char *str, int64_t num)
{
    for (size_t index = 0; index < count; index++)
        if (streq (fields [index].key, key)) {
            fields [index].type = type;
            fields [index].str = str;
            fields [index].num = num;
            return;
        }
    fprintf (stderr, "fake_field_set: no key '%s'\n", key);
    exit (1);
}

void
fake_agent_send_fields (fake_agent_t *self, const fake_field_t *fields, size_t count)
{
    msgpack_sbuffer_clear (&self->packed);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->packed, msgpack_sbuffer_write);
    uint32_t entries = 0;
    for (size_t index = 0; index < count; index++)
        entries += fields [index].type != FAKE_REMOVED;
    msgpack_pack_map (&pk, entries);
    for (size_t index = 0; index < count; index++) {
        const fake_field_t *field = &fields [index];
        if (field->type == FAKE_REMOVED)
            continue;
        msgpack_pack_str_with_body (&pk, field->key, strlen (field->key));
        if (field->type == FAKE_STR)
            msgpack_pack_str_with_body (&pk, field->str, strlen (field->str));
        else
        if (field->type == FAKE_BIN)
            msgpack_pack_bin_with_body (&pk, field->str, strlen (field->str));
        else
        if (field->type == FAKE_UINT)
            msgpack_pack_uint64 (&pk, (uint64_t) field->num);
        else
            msgpack_pack_int64 (&pk, field->num);
    }
    s_send (self, self->packed.data, self->packed.size, 0);
}

void
fake_agent_send_raw (fake_agent_t *self, const void *data, size_t size)
{
    s_send (self, data, size, 0);
}

void
fake_agent_send_parts (fake_agent_t *self, const void *data, size_t size, int parts)
{
    CHECK (parts >= 1);
    const uint8_t *bytes = (const uint8_t *) data;
    size_t part = size / (size_t) parts;
    for (int index = 0; index < parts; index++) {
        bool last = index == parts - 1;
        size_t len = last? size - part * (size_t) index: part;
        s_send (self, bytes + part * (size_t) index, len, last? 0: ZMQ_SNDMORE);
    }
}
