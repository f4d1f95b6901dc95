/*  hostile: messages no agent should send, each with its reason.

    Most are a valid event of agent evil/hostile/666 with one thing wrong,
    packed field by field with msgpack-c; the rest are raw bytes. Each
    message is checked against the normative decoder as it is made: a
    message that is not what its kind promises is a bug in this file (or
    in the decoder), not something to count.  */

#include <string.h>
#include <msgpack.h>
#include "testutil.h"
#include "hostile.h"

#define EVENT_FIELDS    13
#define LARGE_MAX       65536       //  the broker's ZMQ_MAXMSGSIZE: above, libzmq drops the link

typedef enum {
    F_STR, F_UINT, F_INT, F_NIL, F_TRUE, F_FLOAT, F_BIN, F_ARRAY, F_MAP,
    F_DEEP,                         //  containers nested num deep
    F_GONE                          //  not packed
} ftype_t;

typedef struct {
    const char *key;
    ftype_t type;
    const char *str;                //  F_STR, F_BIN: len bytes (may hold NUL)
    size_t len;
    int64_t num;                    //  F_UINT (as uint64), F_INT, F_DEEP
} field_t;

struct _hostile_t {
    uint32_t state;                 //  xorshift32
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    char *copy;                     //  a packed message, to send it twice
    char text [LARGE_MAX + 1];      //  long strings and padding
};

static const char *s_kind_names [HOSTILE_KINDS] = {
    "random", "truncated", "nested", "huge_length", "wrong_type", "bad_chars", "version",
    "shape", "too_large", "multipart"
};

uint32_t
hostile_random (hostile_t *self)
{
    self->state ^= self->state << 13;
    self->state ^= self->state >> 17;
    self->state ^= self->state << 5;
    return self->state;
}

static uint32_t
s_below (hostile_t *self, uint32_t limit)
{
    return hostile_random (self) % limit;
}

hostile_t *
hostile_new (uint32_t seed)
{
    hostile_t *self = (hostile_t *) calloc (1, sizeof (hostile_t));
    CHECK (self);
    self->state = seed? seed: 1;
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    memset (self->text, 'x', sizeof (self->text));
    return self;
}

void
hostile_destroy (hostile_t **self_p)
{
    if (self_p && *self_p) {
        hostile_t *self = *self_p;
        msgpack_sbuffer_destroy (&self->buffer);
        free (self->copy);
        free (self);
        *self_p = NULL;
    }
}

const char *
hostile_kind_name (hostile_kind_t kind)
{
    return kind < HOSTILE_KINDS? s_kind_names [kind]: "?";
}

//  The fields of a valid event
static void
s_event_fields (field_t fields [EVENT_FIELDS])
{
    const field_t valid [EVENT_FIELDS] = {
        { "v", F_UINT, NULL, 0, 1 },
        { "kind", F_STR, "event", 5, 0 },
        { "host", F_STR, "evil", 4, 0 },
        { "pid", F_UINT, NULL, 0, 666 },
        { "svc", F_STR, "hostile", 7, 0 },
        { "sock", F_STR, "front", 5, 0 },
        { "stype", F_STR, "ROUTER", 6, 0 },
        { "event", F_STR, "ACCEPTED", 8, 0 },
        { "code", F_UINT, NULL, 0, 32 },
        { "value", F_INT, NULL, 0, 17 },
        { "endpoint", F_STR, "tcp://0.0.0.0:5555", 18, 0 },
        { "ts", F_UINT, NULL, 0, 1700000000123456789LL },
        { "seq", F_UINT, NULL, 0, 1 }
    };
    memcpy (fields, valid, sizeof (valid));
}

static field_t *
s_field (field_t *fields, const char *key)
{
    for (int index = 0; index < EVENT_FIELDS; index++)
        if (strcmp (fields [index].key, key) == 0)
            return &fields [index];
    CHECK (false);
    return NULL;
}

static void
s_set (field_t *fields, const char *key, ftype_t type, const char *str, size_t len, int64_t num)
{
    field_t *field = s_field (fields, key);
    field->type = type;
    field->str = str;
    field->len = len;
    field->num = num;
}

static void
s_set_str (field_t *fields, const char *key, const char *str)
{
    s_set (fields, key, F_STR, str, strlen (str), 0);
}

static void
s_pack_value (hostile_t *self, const field_t *field)
{
    msgpack_packer *pk = &self->packer;
    switch (field->type) {
        case F_STR:   msgpack_pack_str_with_body (pk, field->str, field->len); break;
        case F_BIN:   msgpack_pack_bin_with_body (pk, field->str, field->len); break;
        case F_UINT:  msgpack_pack_uint64 (pk, (uint64_t) field->num); break;
        case F_INT:   msgpack_pack_int64 (pk, field->num); break;
        case F_NIL:   msgpack_pack_nil (pk); break;
        case F_TRUE:  msgpack_pack_true (pk); break;
        case F_FLOAT: msgpack_pack_double (pk, 1.5); break;
        case F_ARRAY: msgpack_pack_array (pk, 1); msgpack_pack_uint64 (pk, 1); break;
        case F_MAP:   msgpack_pack_map (pk, 0); break;
        case F_DEEP:
            //  Arrays and maps in turn, num containers around a nil
            for (int64_t level = 0; level < field->num; level++)
                if (level % 2) {
                    msgpack_pack_map (pk, 1);
                    msgpack_pack_str_with_body (pk, "k", 1);
                }
                else
                    msgpack_pack_array (pk, 1);
            msgpack_pack_nil (pk);
            break;
        case F_GONE:  break;
    }
}

//  Pack fields plus extra entries (may be NULL) as one map; extra_raw is
//  appended after them as bytes, counted as raw_entries more entries
static void
s_pack (hostile_t *self, const field_t *fields, size_t count, const field_t *extra,
        size_t extra_count, const void *extra_raw, size_t raw_size, uint32_t raw_entries)
{
    msgpack_sbuffer_clear (&self->buffer);
    uint32_t entries = raw_entries;
    for (size_t index = 0; index < count; index++)
        entries += fields [index].type != F_GONE;
    entries += (uint32_t) extra_count;
    msgpack_pack_map (&self->packer, entries);
    for (size_t index = 0; index < count + extra_count; index++) {
        const field_t *field = index < count? &fields [index]: &extra [index - count];
        if (field->type == F_GONE)
            continue;
        msgpack_pack_str_with_body (&self->packer, field->key, strlen (field->key));
        s_pack_value (self, field);
    }
    if (raw_size)
        msgpack_sbuffer_write (&self->buffer, (const char *) extra_raw, raw_size);
}

static void
s_pack_event (hostile_t *self, const field_t *fields)
{
    s_pack (self, fields, EVENT_FIELDS, NULL, 0, NULL, 0, 0);
}

static void
s_pack_valid (hostile_t *self)
{
    field_t fields [EVENT_FIELDS];
    s_event_fields (fields);
    s_pack_event (self, fields);
}

//  What the broker makes of a frame (PROTOCOL.md 5, "Batches"): the reason
//  of its first map; *whole: that took the whole frame (one message)
static zwatch_reason_t
s_frame_reason (const void *data, size_t size, bool *whole, const char **detail)
{
    zwatch_msg_t msg;
    size_t offset = 0;
    bool rest_lost;
    zwatch_reason_t reason = zwatch_msg_decode_next (&msg, data, size, &offset, &rest_lost,
                                                     detail);
    *whole = offset == size;
    return reason;
}

static zwatch_reason_t
s_random (hostile_t *self)
{
    zwatch_reason_t reason;
    bool whole;
    do {
        msgpack_sbuffer_clear (&self->buffer);
        size_t size = s_below (self, 257);
        for (size_t index = 0; index < size; index++) {
            char byte = (char) hostile_random (self);
            msgpack_sbuffer_write (&self->buffer, &byte, 1);
        }
        //  Random bytes get whatever reason the decoder finds, never ok;
        //  one message (not a batch of several) so each counts once
        reason = s_frame_reason (self->buffer.data, self->buffer.size, &whole, NULL);
    } while (reason == ZWATCH_OK || !whole);
    return reason;
}

static zwatch_reason_t
s_truncated (hostile_t *self)
{
    s_pack_valid (self);
    self->buffer.size = s_below (self, (uint32_t) self->buffer.size);
    return ZWATCH_REJECT_MALFORMED;
}

static zwatch_reason_t
s_nested (hostile_t *self)
{
    field_t fields [EVENT_FIELDS];
    s_event_fields (fields);
    int64_t depth = 9 + s_below (self, 300);
    if (s_below (self, 2)) {
        field_t deep = { "deep", F_DEEP, NULL, 0, depth };
        s_pack (self, fields, EVENT_FIELDS, &deep, 1, NULL, 0, 0);
    }
    else {
        //  A known key too: a wrong type is skipped, and that is too deep
        field_t *field = &fields [s_below (self, EVENT_FIELDS)];
        field->type = F_DEEP;
        field->num = depth;
        s_pack_event (self, fields);
    }
    return ZWATCH_REJECT_TOO_DEEP;
}

static zwatch_reason_t
s_huge_length (hostile_t *self)
{
    field_t fields [EVENT_FIELDS];
    s_event_fields (fields);
    static const struct {
        const char *bytes;          //  after the event's fields, as one more entry
        size_t size;
        zwatch_reason_t reason;
    } tails [] = {
        { "\xa1x\xdd\xff\xff\xff\xff", 7, ZWATCH_REJECT_MALFORMED },    //  array32 of 2^32-1
        { "\xa1x\xdf\xff\xff\xff\xff", 7, ZWATCH_REJECT_MALFORMED },    //  map32 of 2^32-1
        { "\xa1x\xc6\x7f\xff\xff\xff", 7, ZWATCH_REJECT_MALFORMED },    //  bin32 of 2 GiB
        { "\xa1x\xdb\xff\xff\xff\xf0", 7, ZWATCH_REJECT_MALFORMED },    //  str32 of 4 GiB
        { "\xa1x\xc9\xff\xff\xff\xff\x01", 8, ZWATCH_REJECT_MALFORMED },//  ext32 of 4 GiB
        { "\xa1x\xdc\xff\xff", 5, ZWATCH_REJECT_MALFORMED },            //  array16 of 65535
        { "\xdb\xff\xff\xff\xf0", 5, ZWATCH_REJECT_MALFORMED },         //  a key of 4 GiB
        { "\xd9\xff", 2, ZWATCH_REJECT_MALFORMED }                      //  a key of 255
    };
    uint32_t which = s_below (self, 10);
    if (which == 8) {
        //  The top-level map itself: 2^32-1 entries
        msgpack_sbuffer_clear (&self->buffer);
        msgpack_sbuffer_write (&self->buffer, "\xdf\xff\xff\xff\xff\xa1v\x01", 8);
        return ZWATCH_REJECT_MALFORMED;
    }
    if (which == 9) {
        //  The host as a str32 of 2 GiB
        s_set (fields, "host", F_GONE, NULL, 0, 0);
        s_pack (self, fields, EVENT_FIELDS, NULL, 0, "\xa4host\xdb\x80\x00\x00\x00", 10, 1);
        return ZWATCH_REJECT_MALFORMED;
    }
    s_pack (self, fields, EVENT_FIELDS, NULL, 0, tails [which].bytes, tails [which].size, 1);
    return tails [which].reason;
}

static zwatch_reason_t
s_wrong_type (hostile_t *self)
{
    field_t fields [EVENT_FIELDS];
    s_event_fields (fields);
    field_t *field = &fields [s_below (self, EVENT_FIELDS)];
    bool integer = field->type == F_UINT || field->type == F_INT;
    uint32_t which = s_below (self, 10);
    if (which == 9 && integer) {
        //  Out of range rather than of the wrong type
        bool is_value = field->type == F_INT;
        field->type = is_value? F_UINT: F_INT;
        field->num = is_value? INT64_MIN: -1 - (int64_t) s_below (self, 1000);
        s_pack_event (self, fields);
        //  v out of range is its own first problem (PROTOCOL.md 5, step 4)
        return ZWATCH_REJECT_BAD_VALUE;
    }
    static const ftype_t others [] = { F_NIL, F_TRUE, F_FLOAT, F_BIN, F_ARRAY, F_MAP, F_STR, F_UINT };
    ftype_t type = others [which % 8];
    if ((integer && type == F_UINT) || (!integer && type == F_STR))
        type = F_NIL;               //  that one would be the right type
    field->type = type;
    field->str = "12";
    field->len = 2;
    field->num = 12;
    s_pack_event (self, fields);
    return ZWATCH_REJECT_BAD_TYPE;
}

static zwatch_reason_t
s_bad_chars (hostile_t *self)
{
    field_t fields [EVENT_FIELDS];
    s_event_fields (fields);
    //  Names: [A-Za-z0-9._-]{1,64}; a '/' would forge another topic
    static const char *names [] = { "a/b", "web-01/orders", "web 01", "", "h\xc3\xa9",
                                    "web\n01", "web*", "..:" };
    static const char *events [] = { "connected", "CONNECTED/", "", "CONN ECTED", "\xc3\x89V" };
    static const char *stypes [] = { "dealer", "DEALER/", "", "DE-ALER" };
    static const struct { const char *text; size_t len; } texts [] = {
        { "tab\there", 8 }, { "\x7f", 1 }, { "\xc3\xa9", 2 }, { "nul\0x", 5 }
    };
    uint32_t which = s_below (self, 9);
    const char *name = names [s_below (self, 8)];
    zwatch_reason_t reason;
    switch (which) {
        case 0: case 1:
            s_set_str (fields, "host", name);
            reason = ZWATCH_REJECT_BAD_HOST;
            break;
        case 2:
            s_set (fields, "host", F_STR, self->text, ZWATCH_HOST_MAX + 1 + s_below (self, 100), 0);
            reason = ZWATCH_REJECT_BAD_HOST;
            break;
        case 3: case 4:
            s_set_str (fields, "svc", name);
            reason = ZWATCH_REJECT_BAD_SERVICE;
            break;
        case 5:
            s_set_str (fields, "event", events [s_below (self, 5)]);
            reason = ZWATCH_REJECT_BAD_EVENT;
            break;
        case 6:
            s_set_str (fields, "stype", stypes [s_below (self, 4)]);
            reason = ZWATCH_REJECT_BAD_STRING;
            break;
        case 7: {
            const char *keys [] = { "sock", "endpoint" };
            uint32_t text = s_below (self, 4);
            s_set (fields, keys [s_below (self, 2)], F_STR, texts [text].text, texts [text].len, 0);
            reason = ZWATCH_REJECT_BAD_STRING;
            break;
        }
        default: {
            field_t peer = { "peer", F_STR, self->text, ZWATCH_ENDPOINT_MAX + 1, 0 };
            s_pack (self, fields, EVENT_FIELDS, &peer, 1, NULL, 0, 0);
            return ZWATCH_REJECT_BAD_STRING;
        }
    }
    s_pack_event (self, fields);
    return reason;
}

static zwatch_reason_t
s_version (hostile_t *self)
{
    field_t fields [EVENT_FIELDS];
    s_event_fields (fields);
    static const int64_t versions [] = { 0, 2, 3, 7, 127, 255, 256, 65536, 4294967296LL, INT64_MAX };
    s_set (fields, "v", F_UINT, NULL, 0, versions [s_below (self, 10)]);
    //  A future agent is reported as such even if its other keys look odd
    if (s_below (self, 2))
        s_set_str (fields, "host", "a/b");
    s_pack_event (self, fields);
    return ZWATCH_REJECT_BAD_VERSION;
}

static zwatch_reason_t
s_shape (hostile_t *self)
{
    field_t fields [EVENT_FIELDS];
    s_event_fields (fields);
    uint32_t which = s_below (self, 11);
    switch (which) {
        case 0:
            fields [s_below (self, EVENT_FIELDS)].type = F_GONE;
            s_pack_event (self, fields);
            return ZWATCH_REJECT_MISSING_KEY;
        case 1: {
            field_t again = fields [s_below (self, EVENT_FIELDS)];
            s_pack (self, fields, EVENT_FIELDS, &again, 1, NULL, 0, 0);
            return ZWATCH_REJECT_DUPLICATE_KEY;
        }
        case 2: {
            //  Unknown keys too count towards the 64 entries
            static char keys [64][24];
            field_t extra [64];
            size_t count = ZWATCH_MAP_KEYS_MAX - EVENT_FIELDS + 1 + s_below (self, 8);
            for (size_t index = 0; index < count; index++) {
                snprintf (keys [index], sizeof (keys [index]), "u%zu", index);
                extra [index] = (field_t) { keys [index], F_NIL, NULL, 0, 0 };
            }
            s_pack (self, fields, EVENT_FIELDS, extra, count, NULL, 0, 0);
            return ZWATCH_REJECT_TOO_MANY_KEYS;
        }
        case 3: {
            static const char *bad_keys [] = { "\x07\xc0", "\xc4\x01k\xc0", "\xd9\x21" "012345678901234567890123456789012\xc0" };
            static const size_t sizes [] = { 2, 4, 36 };
            uint32_t key = s_below (self, 3);
            s_pack (self, fields, EVENT_FIELDS, NULL, 0, bad_keys [key], sizes [key], 1);
            return ZWATCH_REJECT_BAD_KEY;
        }
        case 4: {
            static const char *others [] = { "\x92\x01\x02", "\x05", "\xa5" "event", "\xc0", "\xcb\x3f\xf8\0\0\0\0\0\0" };
            static const size_t sizes [] = { 3, 1, 6, 1, 9 };
            uint32_t other = s_below (self, 5);
            msgpack_sbuffer_clear (&self->buffer);
            msgpack_sbuffer_write (&self->buffer, others [other], sizes [other]);
            return ZWATCH_REJECT_NOT_MAP;
        }
        case 5: {
            //  nils, then a valid map: not a map, and the rest of the frame
            //  goes with it (after a map, nils would end a batch, PROTOCOL.md 5)
            s_pack_valid (self);
            size_t extra = 1 + s_below (self, 10);
            static char valid [ZWATCH_MSG_MAX];
            size_t size = self->buffer.size;
            memcpy (valid, self->buffer.data, size);
            msgpack_sbuffer_clear (&self->buffer);
            for (size_t index = 0; index < extra; index++)
                msgpack_sbuffer_write (&self->buffer, "\xc0", 1);
            msgpack_sbuffer_write (&self->buffer, valid, size);
            return ZWATCH_REJECT_NOT_MAP;
        }
        case 6: {
            static const char *kinds [] = { "Event", "evnt", "", "events", "hello " };
            s_set_str (fields, "kind", kinds [s_below (self, 5)]);
            s_pack_event (self, fields);
            return ZWATCH_REJECT_BAD_KIND;
        }
        case 7:
            //  A hello without its start
            s_set_str (fields, "kind", "hello");
            s_pack_event (self, fields);
            return ZWATCH_REJECT_MISSING_KEY;
        case 8: {
            static const char *zero_keys [] = { "pid", "seq" };
            s_set (fields, zero_keys [s_below (self, 2)], F_UINT, NULL, 0, 0);
            s_pack_event (self, fields);
            return ZWATCH_REJECT_BAD_VALUE;
        }
        case 9:
            //  The name of another code
            s_set (fields, "code", F_UINT, NULL, 0, 1 + s_below (self, 16));
            if (s_field (fields, "code")->num == 32)
                s_field (fields, "code")->num = 0x10000;
            s_pack_event (self, fields);
            return ZWATCH_REJECT_BAD_EVENT;
        default:
            msgpack_sbuffer_clear (&self->buffer);
            if (s_below (self, 2))
                msgpack_sbuffer_write (&self->buffer, "\x81\xa1x\xc1", 4);  //  0xc1: never used
            return ZWATCH_REJECT_MALFORMED;                                 //  or empty
    }
}

static zwatch_reason_t
s_too_large (hostile_t *self)
{
    field_t fields [EVENT_FIELDS];
    s_event_fields (fields);
    s_pack_valid (self);
    size_t base = self->buffer.size + 4 + 3;    //  "pad" and a str16 header
    //  Mostly just over the limit; now and then up to libzmq's frame limit
    size_t total = s_below (self, 100)? ZWATCH_MSG_MAX + 1 + s_below (self, 1000)
                                      : ZWATCH_MSG_MAX + 1 + s_below (self, LARGE_MAX - ZWATCH_MSG_MAX);
    if (total < base)
        total = base;
    field_t pad = { "pad", F_STR, self->text, total - base, 0 };
    s_pack (self, fields, EVENT_FIELDS, &pad, 1, NULL, 0, 0);
    CHECK (self->buffer.size > ZWATCH_MSG_MAX && self->buffer.size <= LARGE_MAX);
    return ZWATCH_REJECT_TOO_LARGE;
}

void
hostile_event (hostile_t *self, uint64_t seq, size_t size, hostile_msg_t *msg)
{
    field_t fields [EVENT_FIELDS];
    s_event_fields (fields);
    s_field (fields, "seq")->num = (int64_t) seq;
    s_pack_event (self, fields);
    //  One more entry: "pad" (4 bytes) and a str16 (3 bytes of header)
    size_t base = self->buffer.size + 4 + 3;
    CHECK (size >= base + 256 && size - base <= UINT16_MAX && size <= sizeof (self->text));
    field_t pad = { "pad", F_STR, self->text, size - base, 0 };
    s_pack (self, fields, EVENT_FIELDS, &pad, 1, NULL, 0, 0);
    CHECK_INT_EQ (self->buffer.size, size);
    memset (msg, 0, sizeof (*msg));
    msg->data = (const uint8_t *) self->buffer.data;
    msg->size = self->buffer.size;
    msg->parts = 1;
    msg->reason = size > ZWATCH_MSG_MAX? ZWATCH_REJECT_TOO_LARGE: ZWATCH_OK;
}

void
hostile_next (hostile_t *self, hostile_msg_t *msg)
{
    memset (msg, 0, sizeof (*msg));
    msg->kind = (hostile_kind_t) s_below (self, HOSTILE_KINDS);
    msg->parts = 1;
    switch (msg->kind) {
        case HOSTILE_RANDOM:      msg->reason = s_random (self); break;
        case HOSTILE_TRUNCATED:   msg->reason = s_truncated (self); break;
        case HOSTILE_NESTED:      msg->reason = s_nested (self); break;
        case HOSTILE_HUGE_LENGTH: msg->reason = s_huge_length (self); break;
        case HOSTILE_WRONG_TYPE:  msg->reason = s_wrong_type (self); break;
        case HOSTILE_BAD_CHARS:   msg->reason = s_bad_chars (self); break;
        case HOSTILE_VERSION:     msg->reason = s_version (self); break;
        case HOSTILE_SHAPE:       msg->reason = s_shape (self); break;
        case HOSTILE_TOO_LARGE:   msg->reason = s_too_large (self); break;
        case HOSTILE_MULTIPART:
            //  A valid event in pieces, or two valid events, or anything
            if (s_below (self, 3))
                s_pack_valid (self);
            else
                s_random (self);
            if (s_below (self, 4) == 0) {
                size_t size = self->buffer.size;
                self->copy = (char *) realloc (self->copy, size? size: 1);
                CHECK (self->copy);
                memcpy (self->copy, self->buffer.data, size);
                msgpack_sbuffer_write (&self->buffer, self->copy, size);
                msg->parts = 2;
            }
            else
                msg->parts = 2 + (int) s_below (self, 4);
            msg->reason = ZWATCH_REJECT_MULTIPART;
            break;
        case HOSTILE_KINDS:
            break;
    }
    msg->data = (const uint8_t *) self->buffer.data;
    msg->size = self->buffer.size;
    if (msg->parts == 1) {
        const char *detail = "";
        bool whole;
        zwatch_reason_t found = s_frame_reason (msg->data, msg->size, &whole, &detail);
        if (found != msg->reason || !whole) {
            fprintf (stderr, "hostile %s: built for %s, the decoder says %s (%s)\n",
                     hostile_kind_name (msg->kind), zwatch_reason_name (msg->reason),
                     zwatch_reason_name (found), detail);
            exit (1);
        }
    }
}
