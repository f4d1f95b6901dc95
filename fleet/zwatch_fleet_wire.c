/*  zwatch_fleet_wire: snapshot request, snapshot_end, error, link message.  */

#include <errno.h>
#include <string.h>
#include <msgpack.h>
#include "zwatch_fleet_wire.h"
#include "zwatch_mpread.h"
#include "zwatch_charset.h"

static const char *s_reason_names [ZWATCH_REQUEST_COUNT] = {
    "ok", "too_large", "malformed", "not_map", "bad_key", "duplicate_key", "too_deep",
    "missing_key", "bad_type", "bad_version", "bad_kind", "bad_prefix", "multipart"
};

const char *
zwatch_fleet_request_reason_name (zwatch_request_reason_t reason)
{
    if ((int) reason < 0 || reason >= ZWATCH_REQUEST_COUNT)
        return "unknown";
    return s_reason_names [reason];
}

//  Skip a value; map its failure to a reason
static zwatch_request_reason_t
s_skip (zwatch_mpread_t *reader)
{
    int rc = zwatch_mpread_skip (reader, ZWATCH_DEPTH_MAX);
    if (rc == MPREAD_TOO_DEEP)
        return ZWATCH_REQUEST_TOO_DEEP;
    return rc? ZWATCH_REQUEST_MALFORMED: ZWATCH_REQUEST_OK;
}

#define KEY_IS(literal) (key_len == sizeof (literal) - 1 && memcmp (key, literal, key_len) == 0)

//  Like the agent decoder: the first structural problem ends the read;
//  a known key of the wrong type is noted and reported after the map,
//  unless v says the request is from another protocol version
zwatch_request_reason_t
zwatch_fleet_request_decode (zwatch_fleet_request_t *request, const void *data, size_t size)
{
    memset (request, 0, sizeof (*request));
    if (size > ZWATCH_FLEET_REQUEST_MAX)
        return ZWATCH_REQUEST_TOO_LARGE;
    zwatch_mpread_t reader;
    zwatch_mpread_init (&reader, data, size);
    uint32_t count;
    int rc = zwatch_mpread_map (&reader, &count);
    if (rc == MPREAD_WRONG_TYPE)
        return ZWATCH_REQUEST_NOT_MAP;
    if (rc)
        return ZWATCH_REQUEST_MALFORMED;
    if (count > ZWATCH_MAP_KEYS_MAX)
        return ZWATCH_REQUEST_BAD_KEY;

    enum { SEEN_V = 1, SEEN_KIND = 2, SEEN_PREFIX = 4, SEEN_HISTORY = 8 };
    unsigned seen = 0;
    uint64_t version = 0;
    zwatch_str_t kind = { NULL, 0 };
    zwatch_request_reason_t problem = ZWATCH_REQUEST_OK;
    for (uint32_t index = 0; index < count; index++) {
        const char *key;
        size_t key_len;
        rc = zwatch_mpread_str (&reader, &key, &key_len);
        if (rc == MPREAD_WRONG_TYPE || (rc == 0 && key_len > ZWATCH_KEY_MAX))
            return ZWATCH_REQUEST_BAD_KEY;
        if (rc)
            return ZWATCH_REQUEST_MALFORMED;
        unsigned bit = KEY_IS ("v")? SEEN_V: KEY_IS ("kind")? SEEN_KIND
                     : KEY_IS ("prefix")? SEEN_PREFIX: KEY_IS ("history")? SEEN_HISTORY: 0;
        if (bit == 0) {
            zwatch_request_reason_t skipped = s_skip (&reader);
            if (skipped)
                return skipped;
            continue;
        }
        if (seen & bit)
            return ZWATCH_REQUEST_DUPLICATE_KEY;
        seen |= bit;
        if (bit == SEEN_V)
            rc = zwatch_mpread_uint (&reader, &version);
        else
        if (bit == SEEN_KIND)
            rc = zwatch_mpread_str (&reader, &kind.ptr, &kind.len);
        else
        if (bit == SEEN_PREFIX)
            rc = zwatch_mpread_str (&reader, &request->prefix.ptr, &request->prefix.len);
        else {
            rc = zwatch_mpread_uint (&reader, &request->history);
            request->has_history = rc == 0;
        }
        if (rc == MPREAD_TRUNCATED)
            return ZWATCH_REQUEST_MALFORMED;
        if (rc) {
            if (problem == ZWATCH_REQUEST_OK)
                problem = bit == SEEN_V? ZWATCH_REQUEST_BAD_VERSION: ZWATCH_REQUEST_BAD_TYPE;
            zwatch_request_reason_t skipped = s_skip (&reader);
            if (skipped)
                return skipped;
        }
    }
    if (zwatch_mpread_left (&reader) != 0)
        return ZWATCH_REQUEST_MALFORMED;
    if (!(seen & SEEN_V))
        return ZWATCH_REQUEST_MISSING_KEY;
    //  v read as a uint and not 1: another protocol, whatever else is wrong
    bool version_read = !(problem == ZWATCH_REQUEST_BAD_VERSION);
    if (version_read && version != ZWATCH_PROTO_VERSION)
        return ZWATCH_REQUEST_BAD_VERSION;
    if (problem != ZWATCH_REQUEST_OK)
        return problem;
    if (!(seen & SEEN_KIND))
        return ZWATCH_REQUEST_MISSING_KEY;
    if (kind.len != 8 || memcmp (kind.ptr, "snapshot", 8) != 0)
        return ZWATCH_REQUEST_BAD_KIND;
    if (request->prefix.len > ZWATCH_FLEET_PREFIX_MAX
    ||  !zwatch_charset_all (request->prefix.ptr, request->prefix.len, ZWATCH_CHAR_PRINT))
        return ZWATCH_REQUEST_BAD_PREFIX;
    return ZWATCH_REQUEST_OK;
}


/*  Encoders: msgpack-c's packer over caller memory  */

typedef struct {
    char *buf;
    size_t capacity;
    size_t size;
    bool overflow;
} fixed_t;

static int
s_fixed_write (void *data, const char *bytes, size_t len)
{
    fixed_t *fixed = (fixed_t *) data;
    if (fixed->overflow || len > fixed->capacity - fixed->size) {
        fixed->overflow = true;
        return -1;
    }
    memcpy (fixed->buf + fixed->size, bytes, len);
    fixed->size += len;
    return 0;
}

static int
s_fixed_finish (fixed_t *fixed)
{
    if (fixed->overflow) {
        errno = EMSGSIZE;
        return -1;
    }
    return (int) fixed->size;
}

static void
s_str (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str_with_body (pk, text, strlen (text));
}

static void
s_head (msgpack_packer *pk, size_t entries, const char *kind)
{
    msgpack_pack_map (pk, entries);
    s_str (pk, "v");
    msgpack_pack_uint64 (pk, 1);
    s_str (pk, "kind");
    s_str (pk, kind);
}

int
zwatch_fleet_request_encode (void *buf, size_t capacity, const char *prefix, int64_t history)
{
    fixed_t fixed = { (char *) buf, capacity, 0, false };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &fixed, s_fixed_write);
    s_head (&pk, 2 + (prefix? 1: 0) + (history >= 0? 1: 0), "snapshot");
    if (prefix) {
        s_str (&pk, "prefix");
        s_str (&pk, prefix);
    }
    if (history >= 0) {
        s_str (&pk, "history");
        msgpack_pack_uint64 (&pk, (uint64_t) history);
    }
    return s_fixed_finish (&fixed);
}

int
zwatch_fleet_encode_snapshot_end (void *buf, size_t capacity, uint64_t agents, uint64_t sockets,
                                  uint64_t links, uint64_t events, uint64_t lseq)
{
    fixed_t fixed = { (char *) buf, capacity, 0, false };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &fixed, s_fixed_write);
    s_head (&pk, 7, "snapshot_end");
    s_str (&pk, "agents");
    msgpack_pack_uint64 (&pk, agents);
    s_str (&pk, "sockets");
    msgpack_pack_uint64 (&pk, sockets);
    s_str (&pk, "links");
    msgpack_pack_uint64 (&pk, links);
    s_str (&pk, "events");
    msgpack_pack_uint64 (&pk, events);
    s_str (&pk, "lseq");
    msgpack_pack_uint64 (&pk, lseq);
    return s_fixed_finish (&fixed);
}

int
zwatch_fleet_encode_error (void *buf, size_t capacity, const char *reason)
{
    fixed_t fixed = { (char *) buf, capacity, 0, false };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &fixed, s_fixed_write);
    s_head (&pk, 3, "error");
    s_str (&pk, "reason");
    s_str (&pk, reason);
    return s_fixed_finish (&fixed);
}

static void
s_end (msgpack_packer *pk, const zwatch_fleet_end_t *end)
{
    msgpack_pack_map (pk, 5);
    s_str (pk, "host");
    s_str (pk, end->host);
    s_str (pk, "svc");
    s_str (pk, end->svc);
    s_str (pk, "pid");
    msgpack_pack_uint64 (pk, end->pid);
    s_str (pk, "sock");
    s_str (pk, end->sock);
    s_str (pk, "addr");
    s_str (pk, end->addr);
}

int
zwatch_fleet_encode_link (void *buf, size_t capacity, const zwatch_fleet_link_t *link,
                          uint64_t ts)
{
    fixed_t fixed = { (char *) buf, capacity, 0, false };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &fixed, s_fixed_write);
    s_head (&pk, 9, "link");
    s_str (&pk, "up");
    if (link->up)
        msgpack_pack_true (&pk);
    else
        msgpack_pack_false (&pk);
    s_str (&pk, "from");
    s_end (&pk, &link->from);
    s_str (&pk, "to");
    s_end (&pk, &link->to);
    s_str (&pk, "endpoint");
    s_str (&pk, link->endpoint);
    s_str (&pk, "since");
    msgpack_pack_uint64 (&pk, link->since);
    s_str (&pk, "lseq");
    msgpack_pack_uint64 (&pk, link->lseq);
    s_str (&pk, "ts");
    msgpack_pack_uint64 (&pk, ts);
    return s_fixed_finish (&fixed);
}

int
zwatch_fleet_topic_link (char *buf, size_t size, const zwatch_fleet_link_t *link)
{
    int length = snprintf (buf, size, "link/%s/%s", link->from.host, link->from.svc);
    if (length < 0 || (size_t) length >= size) {
        errno = EMSGSIZE;
        return -1;
    }
    return length;
}
