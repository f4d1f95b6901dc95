/*  zwatch_sub_format: parse untrusted bodies, render JSON and lines (see header).  */

#define _GNU_SOURCE             //  strerrorname_np (glibc 2.32)
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include "zwatch_mpread.h"
#include "zwatch_sub_format.h"

//  Shown instead of a time that cannot be read (split: "??-" is a trigraph)
#define NO_TIME "????" "-??" "-??" " ??:??:??.???"

//  A growing output line
typedef struct {
    char *data;
    size_t len;
    size_t capacity;
    bool failed;                //  out of memory: the line is lost
} line_t;

struct _zwatch_sub_format_t {
    msgpack_unpacked unpacked;  //  its zone is reused between messages
    line_t line;
};

zwatch_sub_format_t *
zwatch_sub_format_new (void)
{
    zwatch_sub_format_t *self = (zwatch_sub_format_t *) calloc (1, sizeof (zwatch_sub_format_t));
    if (self)
        msgpack_unpacked_init (&self->unpacked);
    return self;
}

void
zwatch_sub_format_destroy (zwatch_sub_format_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_sub_format_t *self = *self_p;
        msgpack_unpacked_destroy (&self->unpacked);
        free (self->line.data);
        free (self);
        *self_p = NULL;
    }
}


//  --------------------------------------------------------------------------
//  Parsing: a structural pre-check, then msgpack-c

const msgpack_object *
zwatch_sub_format_parse (zwatch_sub_format_t *self, const void *data, size_t size,
                         const char **reason)
{
    const char *scratch;
    if (!reason)
        reason = &scratch;
    if (size > ZWATCH_SUB_BODY_MAX) {
        *reason = "too large";
        return NULL;
    }
    //  The decoder's own bounds-checked walk first: every length within the
    //  input, every container count no larger than the bytes left (so
    //  msgpack-c never reserves memory for elements that are not there)
    zwatch_mpread_t reader;
    zwatch_mpread_init (&reader, data, size);
    if (zwatch_mpread_skip (&reader, ZWATCH_SUB_DEPTH_MAX) != MPREAD_OK) {
        *reason = "malformed msgpack";
        return NULL;
    }
    if (zwatch_mpread_left (&reader) != 0) {
        *reason = "trailing bytes";
        return NULL;
    }
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&self->unpacked, (const char *) data,
                                                    size, &offset);
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != size) {
        *reason = rc == MSGPACK_UNPACK_NOMEM_ERROR? "out of memory": "malformed msgpack";
        return NULL;
    }
    return &self->unpacked.data;
}


//  --------------------------------------------------------------------------
//  Output line

static void
s_line_reset (line_t *line)
{
    line->len = 0;
    line->failed = false;
}

static void
s_line_put (line_t *line, const char *ptr, size_t len)
{
    if (line->failed)
        return;
    if (line->capacity - line->len < len + 1) {
        size_t capacity = line->capacity? line->capacity: 256;
        while (capacity - line->len < len + 1)
            capacity *= 2;
        char *data = (char *) realloc (line->data, capacity);
        if (!data) {
            line->failed = true;
            return;
        }
        line->data = data;
        line->capacity = capacity;
    }
    memcpy (line->data + line->len, ptr, len);
    line->len += len;
    line->data [line->len] = 0;
}

static void
s_line_puts (line_t *line, const char *text)
{
    s_line_put (line, text, strlen (text));
}

static void
s_line_printf (line_t *line, const char *format, ...)
{
    char buffer [128];
    va_list args;
    va_start (args, format);
    int len = vsnprintf (buffer, sizeof (buffer), format, args);
    va_end (args);
    if (len < 0 || (size_t) len >= sizeof (buffer))
        line->failed = true;    //  our formats are short: a bug, not data
    else
        s_line_put (line, buffer, (size_t) len);
}

//  The line, NUL-terminated even when empty (reset keeps the old bytes)
static const char *
s_line_result (line_t *line)
{
    s_line_put (line, "", 0);
    return line->failed? NULL: line->data;
}

//  Length of the valid UTF-8 sequence at p (at most left bytes) and its
//  code point, or 0 if the bytes there are not valid UTF-8 (overlong,
//  surrogate, beyond U+10FFFF, truncated)
static size_t
s_utf8_next (const uint8_t *p, size_t left, uint32_t *code)
{
    uint8_t c = p [0];
    size_t len;
    uint32_t min;
    if (c < 0x80) {
        *code = c;
        return 1;
    }
    else
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        min = 0x80;
        *code = c & 0x1f;
    }
    else
    if ((c & 0xf0) == 0xe0) {
        len = 3;
        min = 0x800;
        *code = c & 0x0f;
    }
    else
    if ((c & 0xf8) == 0xf0) {
        len = 4;
        min = 0x10000;
        *code = c & 0x07;
    }
    else
        return 0;
    if (left < len)
        return 0;
    for (size_t index = 1; index < len; index++) {
        if ((p [index] & 0xc0) != 0x80)
            return 0;
        *code = (*code << 6) | (p [index] & 0x3f);
    }
    if (*code < min || *code > 0x10ffff || (*code >= 0xd800 && *code <= 0xdfff))
        return 0;
    return len;
}

//  Bytes as a JSON string, quotes included (escaping: see header)
static void
s_json_string (line_t *line, const char *ptr, size_t len)
{
    const uint8_t *p = (const uint8_t *) ptr;
    s_line_put (line, "\"", 1);
    size_t index = 0;
    while (index < len) {
        uint32_t code;
        size_t step = s_utf8_next (p + index, len - index, &code);
        if (step == 0) {
            s_line_puts (line, "\\ufffd");
            index++;
            continue;
        }
        switch (code) {
            case '"':  s_line_puts (line, "\\\""); break;
            case '\\': s_line_puts (line, "\\\\"); break;
            case '\b': s_line_puts (line, "\\b"); break;
            case '\f': s_line_puts (line, "\\f"); break;
            case '\n': s_line_puts (line, "\\n"); break;
            case '\r': s_line_puts (line, "\\r"); break;
            case '\t': s_line_puts (line, "\\t"); break;
            default:
                if (code < 0x20 || (code >= 0x7f && code <= 0x9f))
                    s_line_printf (line, "\\u%04x", (unsigned) code);
                else
                    s_line_put (line, ptr + index, step);
        }
        index += step;
    }
    s_line_put (line, "\"", 1);
}

//  Bytes as a base64 JSON string (RFC 4648, with padding)
static void
s_json_base64 (line_t *line, const char *ptr, size_t len)
{
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *p = (const uint8_t *) ptr;
    s_line_put (line, "\"", 1);
    for (size_t index = 0; index < len; index += 3) {
        uint32_t bits = (uint32_t) p [index] << 16;
        if (index + 1 < len)
            bits |= (uint32_t) p [index + 1] << 8;
        if (index + 2 < len)
            bits |= p [index + 2];
        char quad [4] = {
            alphabet [(bits >> 18) & 63], alphabet [(bits >> 12) & 63],
            index + 1 < len? alphabet [(bits >> 6) & 63]: '=',
            index + 2 < len? alphabet [bits & 63]: '='
        };
        s_line_put (line, quad, 4);
    }
    s_line_put (line, "\"", 1);
}

static void s_json_value (line_t *line, const msgpack_object *object);

//  A map key: strings as they are, anything else rendered then quoted
static void
s_json_key (line_t *line, const msgpack_object *key)
{
    if (key->type == MSGPACK_OBJECT_STR) {
        s_json_string (line, key->via.str.ptr, key->via.str.size);
        return;
    }
    line_t inner = { NULL, 0, 0, false };
    s_json_value (&inner, key);
    if (inner.failed)
        line->failed = true;
    else
        s_json_string (line, inner.data, inner.len);
    free (inner.data);
}

static void
s_json_value (line_t *line, const msgpack_object *object)
{
    switch (object->type) {
        case MSGPACK_OBJECT_NIL:
            s_line_puts (line, "null");
            break;
        case MSGPACK_OBJECT_BOOLEAN:
            s_line_puts (line, object->via.boolean? "true": "false");
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            s_line_printf (line, "%" PRIu64, object->via.u64);
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            s_line_printf (line, "%" PRId64, object->via.i64);
            break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            if (isfinite (object->via.f64))
                s_line_printf (line, "%.*g",
                               object->type == MSGPACK_OBJECT_FLOAT32? 9: 17, object->via.f64);
            else
                s_line_puts (line, "null");
            break;
        case MSGPACK_OBJECT_STR:
            s_json_string (line, object->via.str.ptr, object->via.str.size);
            break;
        case MSGPACK_OBJECT_BIN:
            s_json_base64 (line, object->via.bin.ptr, object->via.bin.size);
            break;
        case MSGPACK_OBJECT_EXT:
            s_json_base64 (line, object->via.ext.ptr, object->via.ext.size);
            break;
        case MSGPACK_OBJECT_ARRAY:
            s_line_put (line, "[", 1);
            for (uint32_t index = 0; index < object->via.array.size; index++) {
                if (index)
                    s_line_put (line, ",", 1);
                s_json_value (line, &object->via.array.ptr [index]);
            }
            s_line_put (line, "]", 1);
            break;
        case MSGPACK_OBJECT_MAP:
            s_line_put (line, "{", 1);
            for (uint32_t index = 0; index < object->via.map.size; index++) {
                if (index)
                    s_line_put (line, ",", 1);
                s_json_key (line, &object->via.map.ptr [index].key);
                s_line_put (line, ":", 1);
                s_json_value (line, &object->via.map.ptr [index].val);
            }
            s_line_put (line, "}", 1);
            break;
        default:
            s_line_puts (line, "null");
    }
}

static const char *s_value_errno (uint64_t code, const msgpack_object *value);

//  ISO 8601 UTC of a Unix epoch ns timestamp, all nine digits, as a JSON string
static void
s_json_time (line_t *line, uint64_t ts)
{
    time_t seconds = (time_t) (ts / 1000000000u);
    struct tm utc;
    char text [64];
    if (gmtime_r (&seconds, &utc) && strftime (text, sizeof (text), "%Y-%m-%dT%H:%M:%S", &utc) > 0)
        s_line_printf (line, "\"%s.%09uZ\"", text, (unsigned) (ts % 1000000000u));
    else
        s_line_puts (line, "null");
}

//  The message's map, with zwatch-sub's readable keys beside the ones they
//  explain: "time" after ts, "error" after an errno value (unless the map
//  already has such a key: those stay as the sender made them)
static void
s_json_message (line_t *line, const msgpack_object *map)
{
    const msgpack_object *code = zwatch_sub_format_find (map, "code");
    bool has_time = zwatch_sub_format_find (map, "time") != NULL, has_error = zwatch_sub_format_find (map, "error") != NULL;
    s_line_put (line, "{", 1);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object *key = &map->via.map.ptr [index].key;
        const msgpack_object *value = &map->via.map.ptr [index].val;
        if (index)
            s_line_put (line, ",", 1);
        s_json_key (line, key);
        s_line_put (line, ":", 1);
        s_json_value (line, value);
        if (key->type != MSGPACK_OBJECT_STR)
            continue;
        if (!has_time && key->via.str.size == 2 && memcmp (key->via.str.ptr, "ts", 2) == 0
        &&  value->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            s_line_puts (line, ",\"time\":");
            s_json_time (line, value->via.u64);
        }
        if (!has_error && key->via.str.size == 5 && memcmp (key->via.str.ptr, "value", 5) == 0
        &&  code && code->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            const char *name = s_value_errno (code->via.u64, value);
            if (name)
                s_line_printf (line, ",\"error\":\"%s\"", name);
        }
    }
    s_line_put (line, "}", 1);
}

const char *
zwatch_sub_format_json (zwatch_sub_format_t *self, const msgpack_object *object)
{
    s_line_reset (&self->line);
    if (object->type == MSGPACK_OBJECT_MAP)
        s_json_message (&self->line, object);
    else
        s_json_value (&self->line, object);
    return s_line_result (&self->line);
}


//  --------------------------------------------------------------------------
//  Readable lines

//  Bytes made safe for a terminal line (escaping: see header)
static void
s_text (line_t *line, const char *ptr, size_t len)
{
    const uint8_t *p = (const uint8_t *) ptr;
    size_t index = 0;
    while (index < len) {
        uint32_t code;
        size_t step = s_utf8_next (p + index, len - index, &code);
        if (step == 0 || code < 0x20 || code == 0x7f)
            s_line_printf (line, "\\x%02x", p [index++]);
        else {
            if (code == '\\')
                s_line_puts (line, "\\\\");
            else
            if (code >= 0x80 && code <= 0x9f)
                s_line_printf (line, "\\u%04x", (unsigned) code);
            else
                s_line_put (line, ptr + index, step);
            index += step;
        }
    }
}

static void
s_text_str (line_t *line, zwatch_str_t str)
{
    if (str.ptr)
        s_text (line, str.ptr, str.len);
}

//  Local time of a Unix epoch ns timestamp, ms precision
static void
s_time (line_t *line, uint64_t ts)
{
    time_t seconds = (time_t) (ts / 1000000000u);
    unsigned millis = (unsigned) ((ts / 1000000u) % 1000u);
    struct tm local;
    char text [64];
    if (localtime_r (&seconds, &local)
    &&  strftime (text, sizeof (text), "%Y-%m-%d %H:%M:%S", &local) > 0)
        s_line_printf (line, "%s.%03u", text, millis);
    else
        s_line_puts (line, NO_TIME);
}

const char *
zwatch_sub_errno_name (long long errnum)
{
    //  libzmq's own values, above glibc's range
    if (errnum == EFSM)
        return "EFSM";
    if (errnum == ENOCOMPATPROTO)
        return "ENOCOMPATPROTO";
    if (errnum == ETERM)
        return "ETERM";
    if (errnum == EMTHREAD)
        return "EMTHREAD";
    if (errnum <= 0 || errnum > INT32_MAX)
        return NULL;
    //  glibc's own table: every errno it knows, by its canonical name
    return strerrorname_np ((int) errnum);
}

//  True if the value of events with this code is an errno
static bool
s_is_errno_event (uint64_t code)
{
    return code == ZMQ_EVENT_CONNECT_DELAYED || code == ZMQ_EVENT_BIND_FAILED
        || code == ZMQ_EVENT_ACCEPT_FAILED || code == ZMQ_EVENT_CLOSE_FAILED
        || code == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
}

//  The errno name of an event's value, or NULL: not an errno, or one we
//  cannot name
static const char *
s_value_errno (uint64_t code, const msgpack_object *value)
{
    if (!s_is_errno_event (code))
        return NULL;
    if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 <= INT32_MAX)
        return zwatch_sub_errno_name ((long long) value->via.u64);
    return NULL;
}

//  The event's value, named by what it means for that event
static void
s_event_value (line_t *line, const zwatch_msg_t *msg)
{
    long long value = (long long) msg->value;
    if (s_is_errno_event (msg->code)) {
        const char *name = zwatch_sub_errno_name (value);
        if (name)
            s_line_printf (line, "err=%s", name);
        else
            s_line_printf (line, "err=%lld", value);
        return;
    }
    switch (msg->code) {
        case ZMQ_EVENT_CONNECTED:
        case ZMQ_EVENT_LISTENING:
        case ZMQ_EVENT_ACCEPTED:
        case ZMQ_EVENT_CLOSED:
        case ZMQ_EVENT_DISCONNECTED:
            s_line_printf (line, "fd=%lld", value);
            break;
        case ZMQ_EVENT_CONNECT_RETRIED:
            s_line_printf (line, "retry=%lldms", value);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            if (value >= 0)
                s_line_printf (line, "protocol=0x%llx", value);
            else
                s_line_printf (line, "protocol=%lld", value);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            s_line_printf (line, "zap=%lld", value);
            break;
        default:
            s_line_printf (line, "value=%lld", value);
    }
}

const char *
zwatch_sub_format_event (zwatch_sub_format_t *self, const zwatch_msg_t *msg)
{
    line_t *line = &self->line;
    s_line_reset (line);
    s_time (line, msg->ts);
    s_line_put (line, " ", 1);
    s_text_str (line, msg->host);
    s_line_put (line, " ", 1);
    s_text_str (line, msg->svc);
    s_line_printf (line, "[%" PRIu64 "] ", msg->pid);
    s_text_str (line, msg->sock);
    s_line_put (line, "(", 1);
    s_text_str (line, msg->stype);
    s_line_put (line, ") ", 2);
    s_text_str (line, msg->event);
    s_line_put (line, " ", 1);
    if (msg->endpoint.len)
        s_text_str (line, msg->endpoint);
    else
        s_line_put (line, "-", 1);
    s_line_put (line, " ", 1);
    s_event_value (line, msg);
    if (msg->peer.ptr && msg->peer.len) {
        s_line_puts (line, " peer=");
        s_text_str (line, msg->peer);
    }
    if (msg->count >= 2)                //  a folded storm: how many this line stands for
        s_line_printf (line, " x%" PRIu64, msg->count);
    return s_line_result (line);
}

const msgpack_object *
zwatch_sub_format_find (const msgpack_object *map, const char *key)
{
    if (map->type != MSGPACK_OBJECT_MAP)
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

//  String field, escaped; "?" when missing or not a string
static void
s_field_str (line_t *line, const msgpack_object *map, const char *key)
{
    const msgpack_object *value = zwatch_sub_format_find (map, key);
    if (value && value->type == MSGPACK_OBJECT_STR)
        s_text (line, value->via.str.ptr, value->via.str.size);
    else
        s_line_put (line, "?", 1);
}

//  Integer field; "?" when missing or not an integer
static void
s_field_int (line_t *line, const msgpack_object *value)
{
    if (value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        s_line_printf (line, "%" PRIu64, value->via.u64);
    else
    if (value && value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        s_line_printf (line, "%" PRId64, value->via.i64);
    else
        s_line_put (line, "?", 1);
}

//  Time from the ts field, or a placeholder of the same width
static void
s_field_time (line_t *line, const msgpack_object *map)
{
    const msgpack_object *ts = zwatch_sub_format_find (map, "ts");
    if (ts && ts->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        s_time (line, ts->via.u64);
    else
        s_line_puts (line, NO_TIME);
}

static bool
s_nonzero (const msgpack_object *value)
{
    return value
        && (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER
            || value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        && value->via.u64 != 0;
}

const char *
zwatch_sub_format_agent (zwatch_sub_format_t *self, const msgpack_object *map)
{
    line_t *line = &self->line;
    s_line_reset (line);
    s_field_time (line, map);
    s_line_put (line, " ", 1);
    s_field_str (line, map, "host");
    s_line_put (line, " ", 1);
    s_field_str (line, map, "svc");
    s_line_put (line, "[", 1);
    s_field_int (line, zwatch_sub_format_find (map, "pid"));
    s_line_puts (line, "] agent ");
    s_field_str (line, map, "state");
    const msgpack_object *lost = zwatch_sub_format_find (map, "lost");
    if (s_nonzero (lost)) {
        s_line_puts (line, " lost=");
        s_field_int (line, lost);
    }
    return s_line_result (line);
}

const char *
zwatch_sub_format_stats (zwatch_sub_format_t *self, const msgpack_object *map)
{
    line_t *line = &self->line;
    s_line_reset (line);
    s_field_time (line, map);
    s_line_puts (line, " broker ");
    s_field_str (line, map, "broker");
    s_line_puts (line, ": in=");
    s_field_int (line, zwatch_sub_format_find (map, "msgs_in"));
    s_line_puts (line, " out=");
    s_field_int (line, zwatch_sub_format_find (map, "events_out"));
    s_line_puts (line, " invalid=");
    s_field_int (line, zwatch_sub_format_find (map, "invalid"));
    s_line_puts (line, " agents=");
    s_field_int (line, zwatch_sub_format_find (map, "agents"));
    s_line_puts (line, " lost=");
    s_field_int (line, zwatch_sub_format_find (map, "lost"));
    const msgpack_object *reasons = zwatch_sub_format_find (map, "invalid_by");
    if (reasons && reasons->type == MSGPACK_OBJECT_MAP)
        for (uint32_t index = 0; index < reasons->via.map.size; index++) {
            const msgpack_object_kv *kv = &reasons->via.map.ptr [index];
            if (kv->key.type != MSGPACK_OBJECT_STR || !s_nonzero (&kv->val))
                continue;
            s_line_put (line, " ", 1);
            s_text (line, kv->key.via.str.ptr, kv->key.via.str.size);
            s_line_put (line, "=", 1);
            s_field_int (line, &kv->val);
        }
    return s_line_result (line);
}

const char *
zwatch_sub_format_text (zwatch_sub_format_t *self, const char *ptr, size_t len)
{
    s_line_reset (&self->line);
    s_text (&self->line, ptr, len);
    return s_line_result (&self->line);
}
