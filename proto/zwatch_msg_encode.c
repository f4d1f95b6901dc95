/*  zwatch_msg_encode: zwatch_msg_t to msgpack, into caller memory.

    Our maps have a fixed shape, so keys are written as pre-encoded bytes
    and values with the smallest msgpack format, straight into the buffer:
    no allocation, no write callback per piece. The output is byte-for-byte
    what msgpack-c's packer produces for the same map (tests check the
    published vectors; bench_proto checks both agree).
*/

#include <errno.h>
#include <string.h>
#include "zwatch_proto.h"

//  More than the longest encoded message (an event with every string at
//  its limit and every int 9 bytes: about 1250)
#define ENCODED_MAX 2048

//  A key, msgpack-encoded (fixstr), as a literal
#define KEY(literal) s_put_raw (p, "" literal, sizeof (literal) - 1)

static inline uint8_t *
s_put_raw (uint8_t *p, const char *bytes, size_t len)
{
    memcpy (p, bytes, len);
    return p + len;
}

static inline uint8_t *
s_put_be (uint8_t *p, uint64_t value, int bytes)
{
    for (int index = bytes - 1; index >= 0; index--) {
        p [index] = (uint8_t) value;
        value >>= 8;
    }
    return p + bytes;
}

static inline uint8_t *
s_put_uint (uint8_t *p, uint64_t value)
{
    if (value < 128)
        *p++ = (uint8_t) value;
    else
    if (value <= UINT8_MAX) {
        *p++ = 0xcc;
        *p++ = (uint8_t) value;
    }
    else
    if (value <= UINT16_MAX) {
        *p++ = 0xcd;
        p = s_put_be (p, value, 2);
    }
    else
    if (value <= UINT32_MAX) {
        *p++ = 0xce;
        p = s_put_be (p, value, 4);
    }
    else {
        *p++ = 0xcf;
        p = s_put_be (p, value, 8);
    }
    return p;
}

//  Signed: non-negative values as uint (as msgpack-c does), else the
//  smallest int format
static inline uint8_t *
s_put_int (uint8_t *p, int64_t value)
{
    if (value >= 0)
        return s_put_uint (p, (uint64_t) value);
    if (value >= -32)
        *p++ = (uint8_t) (int8_t) value;
    else
    if (value >= INT8_MIN) {
        *p++ = 0xd0;
        *p++ = (uint8_t) (int8_t) value;
    }
    else
    if (value >= INT16_MIN) {
        *p++ = 0xd1;
        p = s_put_be (p, (uint64_t) value, 2);
    }
    else
    if (value >= INT32_MIN) {
        *p++ = 0xd2;
        p = s_put_be (p, (uint64_t) value, 4);
    }
    else {
        *p++ = 0xd3;
        p = s_put_be (p, (uint64_t) value, 8);
    }
    return p;
}

//  Strings are bounded by our limits (< 64 KiB): fixstr, str8 or str16
static inline uint8_t *
s_put_str (uint8_t *p, zwatch_str_t str)
{
    if (str.len < 32)
        *p++ = (uint8_t) (0xa0 | str.len);
    else
    if (str.len <= UINT8_MAX) {
        *p++ = 0xd9;
        *p++ = (uint8_t) str.len;
    }
    else {
        *p++ = 0xda;
        p = s_put_be (p, str.len, 2);
    }
    if (str.len)
        memcpy (p, str.ptr, str.len);
    return p + str.len;
}

//  Strings beyond their limit would be rejected by every decoder
static bool
s_lengths_ok (const zwatch_msg_t *msg)
{
    if (msg->host.len > ZWATCH_HOST_MAX || msg->svc.len > ZWATCH_SVC_MAX)
        return false;
    if (msg->kind != ZWATCH_KIND_EVENT && msg->kind != ZWATCH_KIND_STATE)
        return true;
    return msg->sock.len <= ZWATCH_SOCK_MAX
        && msg->stype.len <= ZWATCH_STYPE_MAX
        && msg->event.len <= ZWATCH_EVENT_NAME_MAX
        && msg->endpoint.len <= ZWATCH_ENDPOINT_MAX
        && msg->peer.len <= ZWATCH_ENDPOINT_MAX
        && msg->local.len <= ZWATCH_ENDPOINT_MAX;
}

//  event and state: the same keys, optional ones last (peer, local,
//  peer_pid; then an event's count and since when it stands for several)
static uint8_t *
s_encode_event (uint8_t *p, const zwatch_msg_t *msg)
{
    bool folded = msg->kind == ZWATCH_KIND_EVENT && msg->count >= 2;
    unsigned entries = 13 + (msg->peer.ptr? 1: 0) + (msg->local.ptr? 1: 0)
                          + (msg->peer_pid? 1: 0) + (folded? 2: 0);
    if (entries < 16)
        *p++ = (uint8_t) (0x80 | entries);          //  fixmap
    else {
        *p++ = 0xde;                                //  map16, as msgpack-c does
        p = s_put_be (p, entries, 2);
    }
    if (msg->kind == ZWATCH_KIND_STATE)
        p = KEY ("\xa1" "v" "\x01" "\xa4" "kind" "\xa5" "state" "\xa4" "host");
    else
        p = KEY ("\xa1" "v" "\x01" "\xa4" "kind" "\xa5" "event" "\xa4" "host");
    p = s_put_str (p, msg->host);
    p = KEY ("\xa3" "pid");
    p = s_put_uint (p, msg->pid);
    p = KEY ("\xa3" "svc");
    p = s_put_str (p, msg->svc);
    p = KEY ("\xa4" "sock");
    p = s_put_str (p, msg->sock);
    p = KEY ("\xa5" "stype");
    p = s_put_str (p, msg->stype);
    p = KEY ("\xa5" "event");
    p = s_put_str (p, msg->event);
    p = KEY ("\xa4" "code");
    p = s_put_uint (p, msg->code);
    p = KEY ("\xa5" "value");
    p = s_put_int (p, msg->value);
    p = KEY ("\xa8" "endpoint");
    p = s_put_str (p, msg->endpoint);
    p = KEY ("\xa2" "ts");
    p = s_put_uint (p, msg->ts);
    p = KEY ("\xa3" "seq");
    p = s_put_uint (p, msg->seq);
    if (msg->peer.ptr) {
        p = KEY ("\xa4" "peer");
        p = s_put_str (p, msg->peer);
    }
    if (msg->local.ptr) {
        p = KEY ("\xa5" "local");
        p = s_put_str (p, msg->local);
    }
    if (msg->peer_pid) {
        p = KEY ("\xa8" "peer_pid");
        p = s_put_uint (p, msg->peer_pid);
    }
    if (folded) {
        p = KEY ("\xa5" "count");
        p = s_put_uint (p, msg->count);
        p = KEY ("\xa5" "since");
        p = s_put_uint (p, msg->since);
    }
    return p;
}

static uint8_t *
s_encode_state_end (uint8_t *p, const zwatch_msg_t *msg)
{
    *p++ = 0x88;                                    //  fixmap, 8 entries
    p = KEY ("\xa1" "v" "\x01" "\xa4" "kind" "\xa9" "state_end" "\xa4" "host");
    p = s_put_str (p, msg->host);
    p = KEY ("\xa3" "pid");
    p = s_put_uint (p, msg->pid);
    p = KEY ("\xa3" "svc");
    p = s_put_str (p, msg->svc);
    p = KEY ("\xa2" "ts");
    p = s_put_uint (p, msg->ts);
    p = KEY ("\xa3" "seq");
    p = s_put_uint (p, msg->seq);
    p = KEY ("\xa5" "count");
    p = s_put_uint (p, msg->count);
    return p;
}

static uint8_t *
s_encode_lifecycle (uint8_t *p, const zwatch_msg_t *msg)
{
    bool heartbeat = msg->kind == ZWATCH_KIND_HEARTBEAT;
    const char *kind = zwatch_kind_name (msg->kind);
    zwatch_str_t kind_str = { kind, strlen (kind) };
    *p++ = heartbeat? 0x8c: 0x88;                   //  fixmap, 12 or 8 entries
    p = KEY ("\xa1" "v" "\x01" "\xa4" "kind");
    p = s_put_str (p, kind_str);
    p = KEY ("\xa4" "host");
    p = s_put_str (p, msg->host);
    p = KEY ("\xa3" "pid");
    p = s_put_uint (p, msg->pid);
    p = KEY ("\xa3" "svc");
    p = s_put_str (p, msg->svc);
    p = KEY ("\xa5" "start");
    p = s_put_uint (p, msg->start);
    p = KEY ("\xa2" "ts");
    p = s_put_uint (p, msg->ts);
    p = KEY ("\xa3" "seq");
    p = s_put_uint (p, msg->seq);
    if (heartbeat) {
        p = KEY ("\xa4" "read");
        p = s_put_uint (p, msg->read);
        p = KEY ("\xa4" "sent");
        p = s_put_uint (p, msg->sent);
        p = KEY ("\xa7" "dropped");
        p = s_put_uint (p, msg->dropped);
        p = KEY ("\xa7" "watched");
        p = s_put_uint (p, msg->watched);
    }
    return p;
}

int
zwatch_msg_encode (const zwatch_msg_t *msg, void *buf, size_t capacity)
{
    if (!zwatch_kind_name (msg->kind)) {
        errno = EINVAL;
        return -1;
    }
    if (!s_lengths_ok (msg)) {
        errno = EMSGSIZE;
        return -1;
    }
    //  With room for the longest message, write in place; else go through
    //  a scratch buffer so we never write past capacity
    uint8_t scratch [ENCODED_MAX];
    uint8_t *start = capacity >= ENCODED_MAX? (uint8_t *) buf: scratch;
    uint8_t *end;
    if (msg->kind == ZWATCH_KIND_EVENT || msg->kind == ZWATCH_KIND_STATE)
        end = s_encode_event (start, msg);
    else
    if (msg->kind == ZWATCH_KIND_STATE_END)
        end = s_encode_state_end (start, msg);
    else
        end = s_encode_lifecycle (start, msg);
    size_t size = (size_t) (end - start);
    if (start == scratch) {
        if (size > capacity) {
            errno = EMSGSIZE;
            return -1;
        }
        memcpy (buf, scratch, size);
    }
    return (int) size;
}
