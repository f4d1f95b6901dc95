/*  test_proto: round trips, every rejection reason, published vectors, topics.  */

#include <errno.h>
#include <string.h>
#include <msgpack.h>
#include "zwatch.h"
#include "testutil.h"

//  One key/value of a hand-built map: s=str u=uint i=int n=nil b=bin f=float
typedef struct {
    const char *key;
    char type;
    const char *s;
    long long i;
} kv_t;

static kv_t s_event [] = {
    { "v", 'u', NULL, 1 },              { "kind", 's', "event", 0 },
    { "host", 's', "web-01.prod", 0 },  { "pid", 'u', NULL, 4242 },
    { "svc", 's', "orders", 0 },        { "sock", 's', "frontend", 0 },
    { "stype", 's', "ROUTER", 0 },      { "event", 's', "ACCEPTED", 0 },
    { "code", 'u', NULL, 32 },          { "value", 'i', NULL, 17 },
    { "endpoint", 's', "tcp://0.0.0.0:5555", 0 },
    { "ts", 'u', NULL, 1700000000123456789LL }, { "seq", 'u', NULL, 7 },
    { "peer", 's', "10.0.0.9:51234", 0 }
};
#define EVENT_KEYS (sizeof (s_event) / sizeof (s_event [0]))

static msgpack_sbuffer s_buffer;
static bool s_nested_extra = false;     //  s_build adds "ext": 8-deep value

//  Pack kvs as a map, with `replace` (if its key matches) replacing an
//  entry, and `omit` left out
static void
s_build (const kv_t *kvs, size_t count, const kv_t *replace, const char *omit)
{
    msgpack_sbuffer_clear (&s_buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &s_buffer, msgpack_sbuffer_write);
    size_t entries = 0;
    for (size_t index = 0; index < count; index++)
        if (!omit || strcmp (kvs [index].key, omit) != 0)
            entries++;
    msgpack_pack_map (&pk, entries + (s_nested_extra? 1: 0));
    if (s_nested_extra) {
        msgpack_pack_str_with_body (&pk, "ext", 3);
        for (int depth = 0; depth < 7; depth++)
            msgpack_pack_array (&pk, 1);
        msgpack_pack_map (&pk, 1);
        msgpack_pack_str_with_body (&pk, "a", 1);
        msgpack_pack_bin_with_body (&pk, "zz", 2);
    }
    for (size_t index = 0; index < count; index++) {
        const kv_t *kv = &kvs [index];
        if (omit && strcmp (kv->key, omit) == 0)
            continue;
        if (replace && strcmp (kv->key, replace->key) == 0)
            kv = replace;
        msgpack_pack_str_with_body (&pk, kv->key, strlen (kv->key));
        switch (kv->type) {
            case 's': msgpack_pack_str_with_body (&pk, kv->s, strlen (kv->s)); break;
            case 'u': msgpack_pack_uint64 (&pk, (uint64_t) kv->i); break;
            case 'i': msgpack_pack_int64 (&pk, kv->i); break;
            case 'n': msgpack_pack_nil (&pk); break;
            case 'b': msgpack_pack_bin_with_body (&pk, "xy", 2); break;
            case 'f': msgpack_pack_double (&pk, 1.5); break;
        }
    }
}

static zwatch_reason_t
s_decode_built (zwatch_msg_t *msg, const char **detail)
{
    return zwatch_msg_decode (msg, s_buffer.data, s_buffer.size, detail);
}

//  An event with key replaced by (type, s, i) must be rejected for reason
static void
s_expect_replaced (const char *key, char type, const char *s, long long i,
                   zwatch_reason_t reason, const char *detail_expected)
{
    kv_t replace = { key, type, s, i };
    s_build (s_event, EVENT_KEYS, &replace, NULL);
    zwatch_msg_t msg;
    const char *detail;
    zwatch_reason_t got = s_decode_built (&msg, &detail);
    if (got != reason || strcmp (detail, detail_expected) != 0) {
        fprintf (stderr, "replace %s: got %s (%s), want %s (%s)\n", key,
                 zwatch_reason_name (got), detail, zwatch_reason_name (reason), detail_expected);
        exit (1);
    }
}

static bool
s_str_is (zwatch_str_t str, const char *expected)
{
    return str.ptr && str.len == strlen (expected) && memcmp (str.ptr, expected, str.len) == 0;
}

static zwatch_str_t
s_str (const char *text)
{
    zwatch_str_t str = { text, strlen (text) };
    return str;
}

static void
s_test_event_names (void)
{
    const char *names [] = {
        "CONNECTED", "CONNECT_DELAYED", "CONNECT_RETRIED", "LISTENING", "BIND_FAILED",
        "ACCEPTED", "ACCEPT_FAILED", "CLOSED", "CLOSE_FAILED", "DISCONNECTED",
        "MONITOR_STOPPED", "HANDSHAKE_FAILED_NO_DETAIL", "HANDSHAKE_SUCCEEDED",
        "HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_AUTH"
    };
    //  The codes as libzmq 4.3's zmq.h defines them
    uint32_t codes [] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384 };
    for (size_t index = 0; index < 15; index++) {
        CHECK_STR_EQ (zwatch_event_name (codes [index]), names [index]);
        CHECK_INT_EQ (zwatch_event_code (names [index], strlen (names [index])), codes [index]);
    }
    CHECK_STR_EQ (zwatch_event_name (0), "UNKNOWN");
    CHECK_STR_EQ (zwatch_event_name (3), "UNKNOWN");
    CHECK_STR_EQ (zwatch_event_name (0x8000), "UNKNOWN");
    CHECK_STR_EQ (zwatch_event_name (0x10000), "UNKNOWN");
    CHECK_INT_EQ (zwatch_event_code ("UNKNOWN", 7), 0);
    CHECK_INT_EQ (zwatch_event_code ("CONNECTE", 8), 0);
}

static void
s_test_round_trip_event (void)
{
    zwatch_msg_t in;
    memset (&in, 0, sizeof (in));
    in.kind = ZWATCH_KIND_EVENT;
    in.host = s_str ("host-1");
    in.svc = s_str ("svc_a");
    in.pid = 123456;
    in.sock = s_str ("REQ-1");
    in.stype = s_str ("REQ");
    in.event = s_str ("BIND_FAILED");
    in.code = 16;
    in.value = EADDRINUSE;
    in.endpoint = s_str ("tcp://127.0.0.1:5555");
    in.ts = UINT64_MAX - 1;
    in.seq = 1;
    char buf [ZWATCH_MSG_MAX];
    int size = zwatch_msg_encode (&in, buf, sizeof (buf));
    CHECK (size > 0);

    zwatch_msg_t out;
    const char *detail;
    CHECK_INT_EQ (zwatch_msg_decode (&out, buf, (size_t) size, &detail), ZWATCH_OK);
    CHECK_INT_EQ (out.kind, ZWATCH_KIND_EVENT);
    CHECK (s_str_is (out.host, "host-1"));
    CHECK (s_str_is (out.svc, "svc_a"));
    CHECK_INT_EQ (out.pid, 123456);
    CHECK (s_str_is (out.sock, "REQ-1"));
    CHECK (s_str_is (out.stype, "REQ"));
    CHECK (s_str_is (out.event, "BIND_FAILED"));
    CHECK_INT_EQ (out.code, 16);
    CHECK_INT_EQ (out.value, EADDRINUSE);
    CHECK (s_str_is (out.endpoint, "tcp://127.0.0.1:5555"));
    CHECK (out.ts == UINT64_MAX - 1);
    CHECK_INT_EQ (out.seq, 1);
    CHECK (out.peer.ptr == NULL);

    //  Negative values, a peer, an unknown event code, an empty endpoint
    in.value = -1;
    in.peer = s_str ("127.0.0.1:40000");
    in.code = 0x10000;
    in.event = s_str ("UNKNOWN");
    in.endpoint = s_str ("");
    size = zwatch_msg_encode (&in, buf, sizeof (buf));
    CHECK (size > 0);
    CHECK_INT_EQ (zwatch_msg_decode (&out, buf, (size_t) size, &detail), ZWATCH_OK);
    CHECK_INT_EQ (out.value, -1);
    CHECK (s_str_is (out.peer, "127.0.0.1:40000"));
    CHECK_INT_EQ (out.code, 0x10000);
    CHECK (s_str_is (out.event, "UNKNOWN"));
    CHECK (out.endpoint.ptr && out.endpoint.len == 0);

    //  Encoding refuses to overflow, at every size short of the full one
    for (int capacity = 0; capacity < size; capacity++) {
        errno = 0;
        CHECK_INT_EQ (zwatch_msg_encode (&in, buf, (size_t) capacity), -1);
        CHECK_INT_EQ (errno, EMSGSIZE);
    }
    //  ... and refuses strings beyond the limits
    char long_label [ZWATCH_SOCK_MAX + 2];
    memset (long_label, 'x', sizeof (long_label) - 1);
    long_label [sizeof (long_label) - 1] = 0;
    in.sock = s_str (long_label);
    CHECK_INT_EQ (zwatch_msg_encode (&in, buf, sizeof (buf)), -1);
    CHECK_INT_EQ (errno, EMSGSIZE);
    in.kind = (zwatch_kind_t) 99;
    CHECK_INT_EQ (zwatch_msg_encode (&in, buf, sizeof (buf)), -1);
    CHECK_INT_EQ (errno, EINVAL);
}

static void
s_test_round_trip_lifecycle (void)
{
    zwatch_kind_t kinds [] = { ZWATCH_KIND_HELLO, ZWATCH_KIND_HEARTBEAT, ZWATCH_KIND_BYE };
    for (int index = 0; index < 3; index++) {
        zwatch_msg_t in;
        memset (&in, 0, sizeof (in));
        in.kind = kinds [index];
        in.host = s_str ("h");
        in.svc = s_str ("s");
        in.pid = 1;
        in.start = 1700000000000000000ULL;
        in.ts = 1700000001000000000ULL;
        in.seq = 99;
        in.read = 100;
        in.sent = 90;
        in.dropped = 10;
        in.watched = 3;
        char buf [256];
        int size = zwatch_msg_encode (&in, buf, sizeof (buf));
        CHECK (size > 0);
        zwatch_msg_t out;
        CHECK_INT_EQ (zwatch_msg_decode (&out, buf, (size_t) size, NULL), ZWATCH_OK);
        CHECK_INT_EQ (out.kind, kinds [index]);
        CHECK (s_str_is (out.host, "h"));
        CHECK (s_str_is (out.svc, "s"));
        CHECK (out.start == in.start && out.ts == in.ts);
        CHECK_INT_EQ (out.seq, 99);
        bool heartbeat = kinds [index] == ZWATCH_KIND_HEARTBEAT;
        CHECK_INT_EQ (out.read, heartbeat? 100: 0);
        CHECK_INT_EQ (out.sent, heartbeat? 90: 0);
        CHECK_INT_EQ (out.dropped, heartbeat? 10: 0);
        CHECK_INT_EQ (out.watched, heartbeat? 3: 0);
    }
}

//  Check a decode of raw bytes gives reason
static void
s_expect_raw (const char *what, const void *data, size_t size, zwatch_reason_t reason)
{
    zwatch_msg_t msg;
    zwatch_reason_t got = zwatch_msg_decode (&msg, data, size, NULL);
    if (got != reason) {
        fprintf (stderr, "%s: got %s, want %s\n", what, zwatch_reason_name (got),
                 zwatch_reason_name (reason));
        exit (1);
    }
}

static void
s_test_rejections (void)
{
    zwatch_msg_t msg;
    const char *detail;

    //  The base vector is valid, and key order does not matter
    s_build (s_event, EVENT_KEYS, NULL, NULL);
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
    kv_t reversed [EVENT_KEYS];
    for (size_t index = 0; index < EVENT_KEYS; index++)
        reversed [index] = s_event [EVENT_KEYS - 1 - index];
    s_build (reversed, EVENT_KEYS, NULL, NULL);
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
    CHECK (s_str_is (msg.peer, "10.0.0.9:51234"));

    //  too_large
    char big [ZWATCH_MSG_MAX + 1];
    memset (big, 0, sizeof (big));
    s_expect_raw ("too large", big, sizeof (big), ZWATCH_REJECT_TOO_LARGE);
    //  malformed: empty, every truncation of a valid message, 0xc1
    s_expect_raw ("empty", "", 0, ZWATCH_REJECT_MALFORMED);
    s_build (s_event, EVENT_KEYS, NULL, NULL);
    for (size_t size = 1; size < s_buffer.size; size++)
        s_expect_raw ("truncated", s_buffer.data, size, ZWATCH_REJECT_MALFORMED);
    s_expect_raw ("0xc1", "\x81\xa1x\xc1", 4, ZWATCH_REJECT_MALFORMED);
    //  A map header claiming 2^32-1 entries in 5 bytes: refused, not allocated
    s_expect_raw ("huge map", "\xdf\xff\xff\xff\xff", 5, ZWATCH_REJECT_MALFORMED);
    //  A str32 claiming 4 GiB
    s_expect_raw ("huge str", "\x81\xa4host\xdb\xff\xff\xff\xff", 11, ZWATCH_REJECT_MALFORMED);
    //  An unknown key whose array claims 2^32-1 entries
    s_expect_raw ("huge array", "\x81\xa1x\xdd\xff\xff\xff\xff", 8, ZWATCH_REJECT_MALFORMED);
    //  not_map
    s_expect_raw ("array", "\x91\x01", 2, ZWATCH_REJECT_NOT_MAP);
    s_expect_raw ("int", "\x01", 1, ZWATCH_REJECT_NOT_MAP);
    //  trailing bytes
    s_build (s_event, EVENT_KEYS, NULL, NULL);
    char trailing [ZWATCH_MSG_MAX];
    memcpy (trailing, s_buffer.data, s_buffer.size);
    trailing [s_buffer.size] = 0x00;
    s_expect_raw ("trailing", trailing, s_buffer.size + 1, ZWATCH_REJECT_TRAILING);
    //  too many keys: 65 nil entries under unknown keys
    {
        msgpack_sbuffer_clear (&s_buffer);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &s_buffer, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, ZWATCH_MAP_KEYS_MAX + 1);
        for (int index = 0; index <= ZWATCH_MAP_KEYS_MAX; index++) {
            char key [8];
            snprintf (key, sizeof (key), "k%d", index);
            msgpack_pack_str_with_body (&pk, key, strlen (key));
            msgpack_pack_nil (&pk);
        }
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_TOO_MANY_KEYS);
    }
    //  bad_key: integer key; key longer than the limit
    s_expect_raw ("int key", "\x81\x01\x01", 3, ZWATCH_REJECT_BAD_KEY);
    {
        char key [ZWATCH_KEY_MAX + 2];
        memset (key, 'k', sizeof (key) - 1);
        key [sizeof (key) - 1] = 0;
        kv_t kvs [] = { { key, 'n', NULL, 0 } };
        s_build (kvs, 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_KEY);
    }
    //  duplicate_key
    {
        kv_t kvs [EVENT_KEYS + 1];
        memcpy (kvs, s_event, sizeof (s_event));
        kvs [EVENT_KEYS] = s_event [2];     //  host again
        s_build (kvs, EVENT_KEYS + 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_DUPLICATE_KEY);
        CHECK_STR_EQ (detail, "host");
    }
    //  too_deep: unknown key holding 9 nested arrays; 8 is fine
    s_expect_raw ("deep", "\x81\xa1x\x91\x91\x91\x91\x91\x91\x91\x91\x91\x01", 14,
                  ZWATCH_REJECT_TOO_DEEP);
    {
        kv_t kvs [EVENT_KEYS + 1];
        memcpy (kvs, s_event, sizeof (s_event));
        kvs [EVENT_KEYS] = (kv_t) { "future", 'f', NULL, 0 };
        s_build (kvs, EVENT_KEYS + 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
    }
    //  Unknown keys with nested values (8 containers deep) are ignored
    s_nested_extra = true;
    s_build (s_event, EVENT_KEYS, NULL, NULL);
    s_nested_extra = false;
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
    CHECK (s_str_is (msg.host, "web-01.prod"));
    //  missing_key: each required key in turn
    const char *required [] = { "v", "kind", "host", "pid", "svc", "sock", "stype", "event",
                                "code", "value", "endpoint", "ts", "seq" };
    for (size_t index = 0; index < 13; index++) {
        s_build (s_event, EVENT_KEYS, NULL, required [index]);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_MISSING_KEY);
        CHECK_STR_EQ (detail, required [index]);
    }
    //  bad_type
    s_expect_replaced ("host", 'u', NULL, 5, ZWATCH_REJECT_BAD_TYPE, "host");
    s_expect_replaced ("pid", 's', "42", 0, ZWATCH_REJECT_BAD_TYPE, "pid");
    s_expect_replaced ("value", 'n', NULL, 0, ZWATCH_REJECT_BAD_TYPE, "value");
    s_expect_replaced ("endpoint", 'b', NULL, 0, ZWATCH_REJECT_BAD_TYPE, "endpoint");
    s_expect_replaced ("ts", 'f', NULL, 0, ZWATCH_REJECT_BAD_TYPE, "ts");
    s_expect_replaced ("v", 's', "1", 0, ZWATCH_REJECT_BAD_TYPE, "v");
    //  bad_version wins over type errors elsewhere
    s_expect_replaced ("v", 'u', NULL, 2, ZWATCH_REJECT_BAD_VERSION, "v");
    s_expect_replaced ("v", 'u', NULL, 0, ZWATCH_REJECT_BAD_VERSION, "v");
    {
        kv_t kvs [EVENT_KEYS];
        memcpy (kvs, s_event, sizeof (s_event));
        kvs [0].i = 2;
        kv_t replace = { "pid", 's', "x", 0 };
        s_build (kvs, EVENT_KEYS, &replace, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_VERSION);
    }
    //  bad_kind
    s_expect_replaced ("kind", 's', "evil", 0, ZWATCH_REJECT_BAD_KIND, "kind");
    s_expect_replaced ("kind", 's', "", 0, ZWATCH_REJECT_BAD_KIND, "kind");
    //  bad_host: empty, out of set (a '/' would forge another topic), too long
    s_expect_replaced ("host", 's', "", 0, ZWATCH_REJECT_BAD_HOST, "host");
    s_expect_replaced ("host", 's', "web/01", 0, ZWATCH_REJECT_BAD_HOST, "host");
    s_expect_replaced ("host", 's', "web 01", 0, ZWATCH_REJECT_BAD_HOST, "host");
    s_expect_replaced ("host", 's', "h\xc3\xa9", 0, ZWATCH_REJECT_BAD_HOST, "host");
    char name [ZWATCH_HOST_MAX + 2];
    memset (name, 'a', sizeof (name) - 1);
    name [sizeof (name) - 1] = 0;
    s_expect_replaced ("host", 's', name, 0, ZWATCH_REJECT_BAD_HOST, "host");
    name [ZWATCH_HOST_MAX] = 0;     //  exactly 64: fine
    s_expect_replaced ("host", 's', name, 0, ZWATCH_OK, "");
    //  bad_service
    s_expect_replaced ("svc", 's', "a/b", 0, ZWATCH_REJECT_BAD_SERVICE, "svc");
    s_expect_replaced ("svc", 's', "", 0, ZWATCH_REJECT_BAD_SERVICE, "svc");
    //  bad_string
    s_expect_replaced ("sock", 's', "", 0, ZWATCH_REJECT_BAD_STRING, "sock");
    s_expect_replaced ("sock", 's', "a\nb", 0, ZWATCH_REJECT_BAD_STRING, "sock");
    s_expect_replaced ("stype", 's', "router", 0, ZWATCH_REJECT_BAD_STRING, "stype");
    s_expect_replaced ("endpoint", 's', "tcp://\x1b[31m", 0, ZWATCH_REJECT_BAD_STRING, "endpoint");
    s_expect_replaced ("peer", 's', "\x7f", 0, ZWATCH_REJECT_BAD_STRING, "peer");
    //  bad_event: name not the code's; known name on another code; bad chars
    s_expect_replaced ("event", 's', "CONNECTED", 0, ZWATCH_REJECT_BAD_EVENT, "event");
    s_expect_replaced ("event", 's', "UNKNOWN", 0, ZWATCH_REJECT_BAD_EVENT, "event");
    s_expect_replaced ("event", 's', "ACC/EPTED", 0, ZWATCH_REJECT_BAD_EVENT, "event");
    s_expect_replaced ("code", 'u', NULL, 0x20000, ZWATCH_REJECT_BAD_EVENT, "event");
    //  bad_value: seq 0, negative pid, code beyond 32 bits, pid 0
    s_expect_replaced ("seq", 'u', NULL, 0, ZWATCH_REJECT_BAD_VALUE, "seq");
    s_expect_replaced ("pid", 'i', NULL, -5, ZWATCH_REJECT_BAD_VALUE, "pid");
    s_expect_replaced ("pid", 'u', NULL, 0, ZWATCH_REJECT_BAD_VALUE, "pid");
    s_expect_replaced ("code", 'u', NULL, 0x100000000LL, ZWATCH_REJECT_BAD_VALUE, "code");
    //  An int64 value fits; a uint64 beyond INT64_MAX does not
    s_expect_replaced ("value", 'u', NULL, (long long) 0x8000000000000000ULL,
                       ZWATCH_REJECT_BAD_VALUE, "value");
    //  Every reason has a distinct stable name
    for (int reason = 0; reason < ZWATCH_REJECT_COUNT; reason++)
        for (int other = reason + 1; other < ZWATCH_REJECT_COUNT; other++)
            CHECK (strcmp (zwatch_reason_name (reason), zwatch_reason_name (other)) != 0);
    CHECK_STR_EQ (zwatch_reason_name (ZWATCH_REJECT_MULTIPART), "multipart");
    CHECK_STR_EQ (zwatch_reason_name (ZWATCH_REJECT_COUNT), "unknown");
}

//  Hex string (spaces ignored) to bytes; returns size
static size_t
s_unhex (const char *hex, uint8_t *out)
{
    size_t size = 0;
    for (; *hex; hex++) {
        if (*hex == ' ' || *hex == '\n')
            continue;
        unsigned byte;
        CHECK (sscanf (hex, "%2x", &byte) == 1);
        out [size++] = (uint8_t) byte;
        hex++;
    }
    return size;
}

//  The vectors published in docs/PROTOCOL.md: if this test changes, so must the doc
#include "vectors.inc"

static void
s_test_vectors (void)
{
    uint8_t bytes [ZWATCH_MSG_MAX];
    zwatch_msg_t msg;
    const char *detail;

    //  Vector 1: an ACCEPTED event, and our encoder produces exactly these bytes
    size_t size = s_unhex (VECTOR_EVENT, bytes);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_OK);
    CHECK_INT_EQ (msg.kind, ZWATCH_KIND_EVENT);
    CHECK (s_str_is (msg.host, "web-01"));
    CHECK_INT_EQ (msg.pid, 4242);
    CHECK (s_str_is (msg.svc, "orders"));
    CHECK (s_str_is (msg.sock, "frontend"));
    CHECK (s_str_is (msg.stype, "ROUTER"));
    CHECK (s_str_is (msg.event, "ACCEPTED"));
    CHECK_INT_EQ (msg.code, 32);
    CHECK_INT_EQ (msg.value, 17);
    CHECK (s_str_is (msg.endpoint, "tcp://0.0.0.0:5555"));
    CHECK (msg.ts == 1700000000123456789ULL);
    CHECK_INT_EQ (msg.seq, 1);
    CHECK (s_str_is (msg.peer, "10.0.0.9:51234"));
    char encoded [ZWATCH_MSG_MAX];
    int encoded_size = zwatch_msg_encode (&msg, encoded, sizeof (encoded));
    CHECK_INT_EQ (encoded_size, size);
    CHECK (memcmp (encoded, bytes, size) == 0);
    char topic [ZWATCH_TOPIC_MAX];
    CHECK_INT_EQ (zwatch_topic_event (topic, sizeof (topic), &msg), 25);
    CHECK_STR_EQ (topic, "ev/web-01/orders/ACCEPTED");

    //  Vector 2: a BIND_FAILED event, value EADDRINUSE (98 on Linux), no peer
    size = s_unhex (VECTOR_BIND_FAILED, bytes);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_OK);
    CHECK (s_str_is (msg.event, "BIND_FAILED"));
    CHECK_INT_EQ (msg.code, 16);
    CHECK_INT_EQ (msg.value, 98);
    CHECK (msg.peer.ptr == NULL);
    encoded_size = zwatch_msg_encode (&msg, encoded, sizeof (encoded));
    CHECK_INT_EQ (encoded_size, size);
    CHECK (memcmp (encoded, bytes, size) == 0);

    //  Vector 3: a heartbeat
    size = s_unhex (VECTOR_HEARTBEAT, bytes);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_OK);
    CHECK_INT_EQ (msg.kind, ZWATCH_KIND_HEARTBEAT);
    CHECK_INT_EQ (msg.seq, 118);
    CHECK_INT_EQ (msg.read, 120);
    CHECK_INT_EQ (msg.sent, 118);
    CHECK_INT_EQ (msg.dropped, 2);
    CHECK_INT_EQ (msg.watched, 3);
    encoded_size = zwatch_msg_encode (&msg, encoded, sizeof (encoded));
    CHECK_INT_EQ (encoded_size, size);
    CHECK (memcmp (encoded, bytes, size) == 0);

    //  Vector 4: a hand-written event from another encoder (int64 formats,
    //  keys in another order, an unknown key): valid
    size = s_unhex (VECTOR_FOREIGN, bytes);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_OK);
    CHECK (s_str_is (msg.event, "CONNECTED"));
    CHECK_INT_EQ (msg.value, 12);
    CHECK_INT_EQ (msg.pid, 7);

    //  Vector 5: the same message with v = 2: bad_version
    size = s_unhex (VECTOR_V2, bytes);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_REJECT_BAD_VERSION);
    //  Vector 6: host "a/b": bad_host
    size = s_unhex (VECTOR_BAD_HOST, bytes);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_REJECT_BAD_HOST);
}

//  The additions for fleet state: local, peer_pid, state, state_end
static void
s_test_state_kinds (void)
{
    uint8_t bytes [ZWATCH_MSG_MAX];
    char encoded [ZWATCH_MSG_MAX];
    zwatch_msg_t msg;
    const char *detail;

    //  Vector 7: a state message (an accepted tcp connection with both addresses)
    size_t size = s_unhex (VECTOR_STATE, bytes);
    CHECK_INT_EQ (size, 185);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_OK);
    CHECK_INT_EQ (msg.kind, ZWATCH_KIND_STATE);
    CHECK (s_str_is (msg.host, "web-01") && s_str_is (msg.svc, "orders"));
    CHECK_INT_EQ (msg.pid, 4242);
    CHECK (s_str_is (msg.sock, "frontend") && s_str_is (msg.stype, "ROUTER"));
    CHECK (s_str_is (msg.event, "ACCEPTED"));
    CHECK_INT_EQ (msg.code, 32);
    CHECK_INT_EQ (msg.value, 17);
    CHECK (s_str_is (msg.endpoint, "tcp://0.0.0.0:5555"));
    CHECK (msg.ts == 1700000000123456789ULL);
    CHECK_INT_EQ (msg.seq, 118);
    CHECK (s_str_is (msg.peer, "10.0.0.9:51234"));
    CHECK (s_str_is (msg.local, "10.0.0.1:5555"));
    CHECK_INT_EQ (msg.peer_pid, 0);
    int encoded_size = zwatch_msg_encode (&msg, encoded, sizeof (encoded));
    CHECK_INT_EQ (encoded_size, size);
    CHECK (memcmp (encoded, bytes, size) == 0);
    //  ... and msgpack-c's packer writes the same bytes for that map
    kv_t state [] = {
        { "v", 'u', NULL, 1 },              { "kind", 's', "state", 0 },
        { "host", 's', "web-01", 0 },       { "pid", 'u', NULL, 4242 },
        { "svc", 's', "orders", 0 },        { "sock", 's', "frontend", 0 },
        { "stype", 's', "ROUTER", 0 },      { "event", 's', "ACCEPTED", 0 },
        { "code", 'u', NULL, 32 },          { "value", 'i', NULL, 17 },
        { "endpoint", 's', "tcp://0.0.0.0:5555", 0 },
        { "ts", 'u', NULL, 1700000000123456789LL }, { "seq", 'u', NULL, 118 },
        { "peer", 's', "10.0.0.9:51234", 0 }, { "local", 's', "10.0.0.1:5555", 0 }
    };
    s_build (state, 15, NULL, NULL);
    CHECK_INT_EQ (s_buffer.size, size);
    CHECK (memcmp (s_buffer.data, bytes, size) == 0);

    //  Vector 8: the state_end of that replay
    size = s_unhex (VECTOR_STATE_END, bytes);
    CHECK_INT_EQ (size, 73);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_OK);
    CHECK_INT_EQ (msg.kind, ZWATCH_KIND_STATE_END);
    CHECK_INT_EQ (msg.seq, 118);
    CHECK_INT_EQ (msg.count, 3);
    CHECK (msg.ts == 1700000060000000000ULL);
    encoded_size = zwatch_msg_encode (&msg, encoded, sizeof (encoded));
    CHECK_INT_EQ (encoded_size, size);
    CHECK (memcmp (encoded, bytes, size) == 0);
    kv_t state_end [] = {
        { "v", 'u', NULL, 1 },              { "kind", 's', "state_end", 0 },
        { "host", 's', "web-01", 0 },       { "pid", 'u', NULL, 4242 },
        { "svc", 's', "orders", 0 },        { "ts", 'u', NULL, 1700000060000000000LL },
        { "seq", 'u', NULL, 118 },          { "count", 'u', NULL, 3 }
    };
    s_build (state_end, 8, NULL, NULL);
    CHECK_INT_EQ (s_buffer.size, size);
    CHECK (memcmp (s_buffer.data, bytes, size) == 0);

    //  Vector 9: an ACCEPTED event on ipc: empty peer, local path, peer_pid.
    //  It takes the decoder's fast path, which must agree with the general one
    size = s_unhex (VECTOR_IPC_ACCEPTED, bytes);
    CHECK_INT_EQ (size, 191);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_OK);
    CHECK_INT_EQ (msg.kind, ZWATCH_KIND_EVENT);
    CHECK (msg.peer.ptr && msg.peer.len == 0);
    CHECK (s_str_is (msg.local, "/run/orders.sock"));
    CHECK_INT_EQ (msg.peer_pid, 4300);
    CHECK_INT_EQ (msg.value, 21);
    CHECK_INT_EQ (msg.seq, 119);
    encoded_size = zwatch_msg_encode (&msg, encoded, sizeof (encoded));
    CHECK_INT_EQ (encoded_size, size);
    CHECK (memcmp (encoded, bytes, size) == 0);
    kv_t ipc [] = {
        { "v", 'u', NULL, 1 },              { "kind", 's', "event", 0 },
        { "host", 's', "web-01", 0 },       { "pid", 'u', NULL, 4242 },
        { "svc", 's', "orders", 0 },        { "sock", 's', "backend", 0 },
        { "stype", 's', "ROUTER", 0 },      { "event", 's', "ACCEPTED", 0 },
        { "code", 'u', NULL, 32 },          { "value", 'i', NULL, 21 },
        { "endpoint", 's', "ipc:///run/orders.sock", 0 },
        { "ts", 'u', NULL, 1700000000523456789LL }, { "seq", 'u', NULL, 119 },
        { "peer", 's', "", 0 },             { "local", 's', "/run/orders.sock", 0 },
        { "peer_pid", 'u', NULL, 4300 }
    };
    s_build (ipc, 16, NULL, NULL);
    CHECK_INT_EQ (s_buffer.size, size);
    CHECK (memcmp (s_buffer.data, bytes, size) == 0);

    //  Vector 12: a folded storm's summary, 37 CONNECT_RETRIED in one message
    //  (seqs 119..155); the general path takes it
    size = s_unhex (VECTOR_FOLDED, bytes);
    CHECK_INT_EQ (size, 175);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_OK);
    CHECK_INT_EQ (msg.kind, ZWATCH_KIND_EVENT);
    CHECK (s_str_is (msg.event, "CONNECT_RETRIED"));
    CHECK_INT_EQ (msg.code, 4);
    CHECK_INT_EQ (msg.value, 100);
    CHECK_INT_EQ (msg.seq, 155);
    CHECK_INT_EQ (msg.count, 37);
    CHECK (msg.since == 1700000001000000000ULL);
    CHECK (msg.ts == 1700000001990000000ULL);
    CHECK (msg.peer.ptr == NULL && msg.local.ptr == NULL);
    encoded_size = zwatch_msg_encode (&msg, encoded, sizeof (encoded));
    CHECK_INT_EQ (encoded_size, size);
    CHECK (memcmp (encoded, bytes, size) == 0);
    kv_t folded [] = {
        { "v", 'u', NULL, 1 },              { "kind", 's', "event", 0 },
        { "host", 's', "web-01", 0 },       { "pid", 'u', NULL, 4242 },
        { "svc", 's', "orders", 0 },        { "sock", 's', "backend", 0 },
        { "stype", 's', "DEALER", 0 },      { "event", 's', "CONNECT_RETRIED", 0 },
        { "code", 'u', NULL, 4 },           { "value", 'i', NULL, 100 },
        { "endpoint", 's', "tcp://10.0.0.7:5555", 0 },
        { "ts", 'u', NULL, 1700000001990000000LL }, { "seq", 'u', NULL, 155 },
        { "count", 'u', NULL, 37 },         { "since", 'u', NULL, 1700000001000000000LL }
    };
    s_build (folded, 15, NULL, NULL);
    CHECK_INT_EQ (s_buffer.size, size);
    CHECK (memcmp (s_buffer.data, bytes, size) == 0);
    //  count is a uint >= 1 and <= 2^32-1; absent, it is 1 (vector 1 above
    //  and every event before folding)
    kv_t bad_counts [] = {
        { "count", 'u', NULL, 0 }, { "count", 'u', NULL, 0x100000000LL },
        { "count", 'i', NULL, -1 }, { "count", 's', "37", 0 }, { "since", 's', "x", 0 }
    };
    for (int index = 0; index < 5; index++) {
        s_build (folded, 15, &bad_counts [index], NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail),
                      index < 3? ZWATCH_REJECT_BAD_VALUE: ZWATCH_REJECT_BAD_TYPE);
        CHECK_STR_EQ (detail, index < 4? "count": "since");
    }
    kv_t one = { "count", 'u', NULL, 1 };
    s_build (folded, 15, &one, NULL);
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
    CHECK_INT_EQ (msg.count, 1);
    s_build (folded, 15, NULL, "count");
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
    CHECK_INT_EQ (msg.count, 1);
    size = s_unhex (VECTOR_EVENT, bytes);
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_OK);
    CHECK_INT_EQ (msg.count, 1);
    //  A summary with every optional key: 18 entries, a map16
    msg.local = s_str ("10.0.0.1:5555");
    msg.peer_pid = 9;
    msg.count = 2;
    msg.since = 5;
    encoded_size = zwatch_msg_encode (&msg, encoded, sizeof (encoded));
    CHECK ((uint8_t) encoded [0] == 0xde && encoded [1] == 0 && encoded [2] == 18);
    zwatch_msg_t again;
    CHECK_INT_EQ (zwatch_msg_decode (&again, encoded, (size_t) encoded_size, &detail), ZWATCH_OK);
    CHECK_INT_EQ (again.count, 2);
    CHECK_INT_EQ (again.since, 5);
    CHECK_INT_EQ (again.peer_pid, 9);

    //  Every combination of the optional keys round-trips
    for (int mask = 0; mask < 8; mask++) {
        zwatch_msg_t in;
        memset (&in, 0, sizeof (in));
        in.kind = (mask & 1)? ZWATCH_KIND_STATE: ZWATCH_KIND_EVENT;
        in.host = s_str ("h");
        in.svc = s_str ("s");
        in.pid = 9;
        in.sock = s_str ("x");
        in.stype = s_str ("DEALER");
        in.event = s_str ("CONNECTED");
        in.code = 1;
        in.value = 5;
        in.endpoint = s_str ("tcp://1.2.3.4:5");
        in.ts = 10;
        in.seq = 3;
        if (mask & 2)
            in.local = s_str ("1.1.1.1:40000");
        if (mask & 4)
            in.peer = s_str ("1.2.3.4:5");
        in.peer_pid = (mask & 6) == 6? 77: 0;
        char buf [ZWATCH_MSG_MAX];
        int length = zwatch_msg_encode (&in, buf, sizeof (buf));
        CHECK (length > 0);
        zwatch_msg_t out;
        CHECK_INT_EQ (zwatch_msg_decode (&out, buf, (size_t) length, NULL), ZWATCH_OK);
        CHECK_INT_EQ (out.kind, in.kind);
        CHECK ((out.local.ptr != NULL) == ((mask & 2) != 0));
        CHECK ((out.peer.ptr != NULL) == ((mask & 4) != 0));
        CHECK_INT_EQ (out.peer_pid, in.peer_pid);
        if (mask & 2)
            CHECK (s_str_is (out.local, "1.1.1.1:40000"));
    }

    //  The longest state message, every string at its limit, fits well
    //  within ZWATCH_MSG_MAX (and the encoder's scratch space)
    {
        char host [ZWATCH_HOST_MAX + 1], sock [ZWATCH_SOCK_MAX + 1], text [ZWATCH_ENDPOINT_MAX + 1];
        memset (host, 'h', ZWATCH_HOST_MAX); host [ZWATCH_HOST_MAX] = 0;
        memset (sock, 's', ZWATCH_SOCK_MAX); sock [ZWATCH_SOCK_MAX] = 0;
        memset (text, 'e', ZWATCH_ENDPOINT_MAX); text [ZWATCH_ENDPOINT_MAX] = 0;
        zwatch_msg_t in;
        memset (&in, 0, sizeof (in));
        in.kind = ZWATCH_KIND_STATE;
        in.host = s_str (host);
        in.svc = s_str (host);
        in.pid = UINT64_MAX;
        in.sock = s_str (sock);
        in.stype = s_str ("ROUTER_ROUTER_RO");
        in.event = s_str ("CONNECT_RETRIED");
        in.code = 4;
        in.value = INT64_MIN;
        in.endpoint = in.peer = in.local = s_str (text);
        in.peer_pid = in.ts = in.seq = UINT64_MAX;
        char buf [ZWATCH_MSG_MAX];
        int length = zwatch_msg_encode (&in, buf, sizeof (buf));
        CHECK (length > 1200 && length < 1400);
        CHECK_INT_EQ (zwatch_msg_decode (&msg, buf, (size_t) length, NULL), ZWATCH_OK);
        //  One byte too much in local: the encoder refuses it
        char longer [ZWATCH_ENDPOINT_MAX + 2];
        memset (longer, 'l', sizeof (longer) - 1); longer [sizeof (longer) - 1] = 0;
        in.local = s_str (longer);
        errno = 0;
        CHECK_INT_EQ (zwatch_msg_encode (&in, buf, sizeof (buf)), -1);
        CHECK_INT_EQ (errno, EMSGSIZE);
    }

    //  Rejections of the new keys and kinds
    {
        char long_local [ZWATCH_ENDPOINT_MAX + 2];
        memset (long_local, 'x', sizeof (long_local) - 1);
        long_local [sizeof (long_local) - 1] = 0;
        kv_t kvs [EVENT_KEYS + 1];
        memcpy (kvs, s_event, sizeof (s_event));
        kvs [EVENT_KEYS] = (kv_t) { "local", 's', long_local, 0 };
        s_build (kvs, EVENT_KEYS + 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_STRING);
        CHECK_STR_EQ (detail, "local");
        long_local [ZWATCH_ENDPOINT_MAX] = 0;      //  exactly 256: fine
        s_build (kvs, EVENT_KEYS + 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
        CHECK_INT_EQ (msg.local.len, ZWATCH_ENDPOINT_MAX);
        kvs [EVENT_KEYS] = (kv_t) { "local", 's', "a\tb", 0 };
        s_build (kvs, EVENT_KEYS + 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_STRING);
        CHECK_STR_EQ (detail, "local");
        kvs [EVENT_KEYS] = (kv_t) { "local", 'n', NULL, 0 };
        s_build (kvs, EVENT_KEYS + 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_TYPE);
        CHECK_STR_EQ (detail, "local");
        //  peer_pid: 0 is out of range, a string is the wrong type, 1 is fine
        kvs [EVENT_KEYS] = (kv_t) { "peer_pid", 'u', NULL, 0 };
        s_build (kvs, EVENT_KEYS + 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_VALUE);
        CHECK_STR_EQ (detail, "peer_pid");
        kvs [EVENT_KEYS] = (kv_t) { "peer_pid", 'i', NULL, -3 };
        s_build (kvs, EVENT_KEYS + 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_VALUE);
        CHECK_STR_EQ (detail, "peer_pid");
        kvs [EVENT_KEYS] = (kv_t) { "peer_pid", 's', "12", 0 };
        s_build (kvs, EVENT_KEYS + 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_TYPE);
        CHECK_STR_EQ (detail, "peer_pid");
        kvs [EVENT_KEYS] = (kv_t) { "peer_pid", 'u', NULL, 1 };
        s_build (kvs, EVENT_KEYS + 1, NULL, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
        CHECK_INT_EQ (msg.peer_pid, 1);
    }
    //  state: seq 0 is fine (no event yet), an event that is not a fact is not
    s_build (state, 15, &(kv_t) { "seq", 'u', NULL, 0 }, NULL);
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
    CHECK_INT_EQ (msg.seq, 0);
    const char *facts [] = { "LISTENING", "CONNECTED", "ACCEPTED", "CONNECT_RETRIED", "BIND_FAILED" };
    for (int index = 0; index < 5; index++) {
        kv_t code = { "code", 'u', NULL, zwatch_event_code (facts [index], strlen (facts [index])) };
        kv_t with_code [15];
        memcpy (with_code, state, sizeof (state));
        with_code [7].s = facts [index];
        s_build (with_code, 15, &code, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
    }
    const char *not_facts [] = { "DISCONNECTED", "CLOSED", "MONITOR_STOPPED", "HANDSHAKE_SUCCEEDED" };
    for (int index = 0; index < 4; index++) {
        kv_t code = { "code", 'u', NULL, zwatch_event_code (not_facts [index], strlen (not_facts [index])) };
        kv_t with_code [15];
        memcpy (with_code, state, sizeof (state));
        with_code [7].s = not_facts [index];
        s_build (with_code, 15, &code, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_EVENT);
        CHECK_STR_EQ (detail, "event");
    }
    //  An unknown code is no fact either
    {
        kv_t with_code [15];
        memcpy (with_code, state, sizeof (state));
        with_code [7].s = "UNKNOWN";
        s_build (with_code, 15, &(kv_t) { "code", 'u', NULL, 0x10000 }, NULL);
        CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_EVENT);
    }
    //  state needs every event key; state_end needs count, of type uint
    s_build (state, 15, NULL, "endpoint");
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_MISSING_KEY);
    CHECK_STR_EQ (detail, "endpoint");
    s_build (state_end, 8, NULL, "count");
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_MISSING_KEY);
    CHECK_STR_EQ (detail, "count");
    s_build (state_end, 8, &(kv_t) { "count", 's', "3", 0 }, NULL);
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_TYPE);
    CHECK_STR_EQ (detail, "count");
    s_build (state_end, 8, &(kv_t) { "count", 'i', NULL, -1 }, NULL);
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_VALUE);
    CHECK_STR_EQ (detail, "count");
    s_build (state_end, 8, &(kv_t) { "seq", 'u', NULL, 0 }, NULL);
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_OK);
    //  state_end with bad host, like every kind
    s_build (state_end, 8, &(kv_t) { "host", 's', "a/b", 0 }, NULL);
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_HOST);
    //  Kind names are exact
    s_build (state_end, 8, &(kv_t) { "kind", 's', "state_End", 0 }, NULL);
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_KIND);
    s_build (state_end, 8, &(kv_t) { "kind", 's', "states", 0 }, NULL);
    CHECK_INT_EQ (s_decode_built (&msg, &detail), ZWATCH_REJECT_BAD_KIND);
    CHECK_STR_EQ (zwatch_kind_name (ZWATCH_KIND_STATE), "state");
    CHECK_STR_EQ (zwatch_kind_name (ZWATCH_KIND_STATE_END), "state_end");
    CHECK (zwatch_kind_name ((zwatch_kind_t) (ZWATCH_KIND_STATE_END + 1)) == NULL);
}

static void
s_test_topics_and_names (void)
{
    char topic [ZWATCH_TOPIC_MAX];
    zwatch_str_t host = s_str ("h1"), svc = s_str ("s1");
    CHECK_INT_EQ (zwatch_topic_agent (topic, sizeof (topic), host, svc), 11);
    CHECK_STR_EQ (topic, "agent/h1/s1");
    CHECK_INT_EQ (zwatch_topic_stats (topic, sizeof (topic), "central"), 13);
    CHECK_STR_EQ (topic, "stats/central");
    CHECK_INT_EQ (zwatch_topic_stats (topic, 5, "central"), -1);
    CHECK_INT_EQ (errno, EMSGSIZE);

    //  The longest valid event topic fits ZWATCH_TOPIC_MAX
    char longest [ZWATCH_HOST_MAX + 1];
    memset (longest, 'h', ZWATCH_HOST_MAX);
    longest [ZWATCH_HOST_MAX] = 0;
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.host = s_str (longest);
    msg.svc = s_str (longest);
    char event [ZWATCH_EVENT_NAME_MAX + 1];
    memset (event, 'E', ZWATCH_EVENT_NAME_MAX);
    event [ZWATCH_EVENT_NAME_MAX] = 0;
    msg.event = s_str (event);
    CHECK_INT_EQ (zwatch_topic_event (topic, sizeof (topic), &msg), ZWATCH_TOPIC_MAX - 1);

    char clean [ZWATCH_HOST_MAX + 1];
    CHECK_INT_EQ (zwatch_name_sanitize (clean, sizeof (clean), "my host/01.example"), 18);
    CHECK_STR_EQ (clean, "my-host-01.example");
    CHECK_INT_EQ (zwatch_name_sanitize (clean, sizeof (clean), ""), 7);
    CHECK_STR_EQ (clean, "unknown");
    char huge [200];
    memset (huge, 'x', sizeof (huge) - 1);
    huge [sizeof (huge) - 1] = 0;
    CHECK_INT_EQ (zwatch_name_sanitize (clean, sizeof (clean), huge), ZWATCH_HOST_MAX);
    CHECK (zwatch_name_valid (clean, strlen (clean), ZWATCH_HOST_MAX));
    CHECK (!zwatch_name_valid ("a/b", 3, ZWATCH_HOST_MAX));
    CHECK (!zwatch_name_valid (NULL, 0, ZWATCH_HOST_MAX));
}

//  Batches: several maps back to back in one frame (PROTOCOL.md 5, vector 13)
static void
s_test_batch (void)
{
    uint8_t bytes [2 * ZWATCH_MSG_MAX + 16];
    zwatch_msg_t msg;
    const char *detail;
    bool lost;
    size_t size = s_unhex (VECTOR_BATCH, bytes);
    CHECK_INT_EQ (size, 255);
    //  Alone, a batch is one map with bytes after it
    CHECK_INT_EQ (zwatch_msg_decode (&msg, bytes, size, &detail), ZWATCH_REJECT_TRAILING);

    //  As a stream: vector 2, then vector 3, each as it decodes alone
    size_t offset = 0;
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, size, &offset, &lost, &detail), ZWATCH_OK);
    CHECK_INT_EQ (offset, 144);
    CHECK (!lost);
    CHECK_INT_EQ (msg.kind, ZWATCH_KIND_EVENT);
    CHECK (s_str_is (msg.event, "BIND_FAILED"));
    CHECK_INT_EQ (msg.seq, 2);
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, size, &offset, &lost, &detail), ZWATCH_OK);
    CHECK_INT_EQ (offset, 255);
    CHECK (!lost);
    CHECK_INT_EQ (msg.kind, ZWATCH_KIND_HEARTBEAT);
    CHECK_INT_EQ (msg.seq, 118);
    CHECK_INT_EQ (msg.watched, 3);

    //  A map that is well formed but invalid is rejected alone; the next goes on
    size_t bad = s_unhex (VECTOR_BAD_HOST, bytes);
    size_t event = s_unhex (VECTOR_EVENT, bytes + bad);
    offset = 0;
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, bad + event, &offset, &lost, &detail),
                  ZWATCH_REJECT_BAD_HOST);
    CHECK_STR_EQ (detail, "host");
    CHECK (!lost && offset == bad);
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, bad + event, &offset, &lost, &detail),
                  ZWATCH_OK);
    CHECK (!lost && offset == bad + event);
    CHECK (s_str_is (msg.peer, "10.0.0.9:51234"));
    //  General path inside a batch: vector 4 (another encoder's layout) then vector 1
    size_t foreign = s_unhex (VECTOR_FOREIGN, bytes);
    event = s_unhex (VECTOR_EVENT, bytes + foreign);
    offset = 0;
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, foreign + event, &offset, &lost, &detail),
                  ZWATCH_OK);
    CHECK (s_str_is (msg.event, "CONNECTED") && offset == foreign);
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, foreign + event, &offset, &lost, &detail),
                  ZWATCH_OK);
    CHECK (s_str_is (msg.event, "ACCEPTED") && offset == foreign + event);

    //  A map cut short ends the frame: the first is kept, the rest is lost
    size = s_unhex (VECTOR_BATCH, bytes);
    offset = 0;
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, 150, &offset, &lost, &detail), ZWATCH_OK);
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, 150, &offset, &lost, &detail),
                  ZWATCH_REJECT_MALFORMED);
    CHECK (lost && offset == 150);
    //  So does a value that is not a map, and bytes that are not msgpack
    bytes [144] = 0x93;         //  an array where the heartbeat's map was
    offset = 144;
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, size, &offset, &lost, &detail),
                  ZWATCH_REJECT_NOT_MAP);
    CHECK (lost && offset == size);
    bytes [144] = 0xc1;
    offset = 144;
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, size, &offset, &lost, &detail),
                  ZWATCH_REJECT_NOT_MAP);
    CHECK (lost && offset == size);
    bytes [144] = 0x8c;
    bytes [147] = 0xc1;         //  the value of v: malformed
    offset = 144;
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, size, &offset, &lost, &detail),
                  ZWATCH_REJECT_MALFORMED);
    CHECK (lost && offset == size);
    //  An empty frame is malformed, as it is alone
    offset = 0;
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, 0, &offset, &lost, &detail),
                  ZWATCH_REJECT_MALFORMED);
    CHECK (lost);

    //  A map over ZWATCH_MSG_MAX inside a batch is too_large, and the next goes on
    msgpack_packer pk;
    msgpack_sbuffer_clear (&s_buffer);
    msgpack_packer_init (&pk, &s_buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "x", 1);
    static char filler [ZWATCH_MSG_MAX];
    memset (filler, 'f', sizeof (filler));
    msgpack_pack_str_with_body (&pk, filler, sizeof (filler));
    CHECK (s_buffer.size > ZWATCH_MSG_MAX);
    memcpy (bytes, s_buffer.data, s_buffer.size);
    event = s_unhex (VECTOR_EVENT, bytes + s_buffer.size);
    offset = 0;
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, s_buffer.size + event, &offset, &lost,
                                          &detail), ZWATCH_REJECT_TOO_LARGE);
    CHECK (!lost && offset == s_buffer.size);
    CHECK_INT_EQ (zwatch_msg_decode_next (&msg, bytes, s_buffer.size + event, &offset, &lost,
                                          &detail), ZWATCH_OK);
    CHECK (offset == s_buffer.size + event);
}

int
main (void)
{
    msgpack_sbuffer_init (&s_buffer);
    s_test_event_names ();
    s_test_round_trip_event ();
    s_test_round_trip_lifecycle ();
    s_test_rejections ();
    s_test_vectors ();
    s_test_state_kinds ();
    s_test_batch ();
    s_test_topics_and_names ();
    msgpack_sbuffer_destroy (&s_buffer);
    printf ("test_proto: OK\n");
    return 0;
}
