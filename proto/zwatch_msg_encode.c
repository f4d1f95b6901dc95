/*  zwatch_msg_encode: zwatch_msg_t to msgpack, into caller memory.

    msgpack-c's packer over a fixed buffer whose write callback refuses to
    overflow: no allocation per event, and the inline pack functions keep
    it fast.
*/

#include <errno.h>
#include <string.h>
#include <msgpack.h>
#include "zwatch_proto.h"

typedef struct {
    char *data;
    size_t size;
    size_t capacity;
} fixed_buffer_t;

static int
s_fixed_write (void *data, const char *buf, size_t len)
{
    fixed_buffer_t *fixed = (fixed_buffer_t *) data;
    if (len > fixed->capacity - fixed->size)
        return -1;
    memcpy (fixed->data + fixed->size, buf, len);
    fixed->size += len;
    return 0;
}

//  Pack a key given as a string literal
#define PACK_KEY(pk, literal) \
    msgpack_pack_str_with_body ((pk), (literal), sizeof (literal) - 1)

static int
s_pack_str (msgpack_packer *pk, const char *key, zwatch_str_t value)
{
    int rc = msgpack_pack_str_with_body (pk, key, strlen (key));
    return rc | msgpack_pack_str_with_body (pk, value.ptr? value.ptr: "", value.len);
}

static int
s_pack_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    int rc = msgpack_pack_str_with_body (pk, key, strlen (key));
    return rc | msgpack_pack_uint64 (pk, value);
}

//  Strings beyond their limit would be rejected by every decoder
static bool
s_lengths_ok (const zwatch_msg_t *msg)
{
    if (msg->host.len > ZWATCH_HOST_MAX || msg->svc.len > ZWATCH_SVC_MAX)
        return false;
    if (msg->kind != ZWATCH_KIND_EVENT)
        return true;
    return msg->sock.len <= ZWATCH_SOCK_MAX
        && msg->stype.len <= ZWATCH_STYPE_MAX
        && msg->event.len <= ZWATCH_EVENT_NAME_MAX
        && msg->endpoint.len <= ZWATCH_ENDPOINT_MAX
        && msg->peer.len <= ZWATCH_ENDPOINT_MAX;
}

int
zwatch_msg_encode (const zwatch_msg_t *msg, void *buf, size_t capacity)
{
    const char *kind = zwatch_kind_name (msg->kind);
    if (!kind) {
        errno = EINVAL;
        return -1;
    }
    if (!s_lengths_ok (msg)) {
        errno = EMSGSIZE;
        return -1;
    }
    fixed_buffer_t fixed = { (char *) buf, 0, capacity };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &fixed, s_fixed_write);

    int rc = 0;
    if (msg->kind == ZWATCH_KIND_EVENT) {
        rc |= msgpack_pack_map (&pk, msg->peer.ptr? 14: 13);
        rc |= s_pack_uint (&pk, "v", ZWATCH_PROTO_VERSION);
        rc |= PACK_KEY (&pk, "kind");
        rc |= PACK_KEY (&pk, "event");
        rc |= s_pack_str (&pk, "host", msg->host);
        rc |= s_pack_uint (&pk, "pid", msg->pid);
        rc |= s_pack_str (&pk, "svc", msg->svc);
        rc |= s_pack_str (&pk, "sock", msg->sock);
        rc |= s_pack_str (&pk, "stype", msg->stype);
        rc |= s_pack_str (&pk, "event", msg->event);
        rc |= s_pack_uint (&pk, "code", msg->code);
        rc |= PACK_KEY (&pk, "value");
        rc |= msgpack_pack_int64 (&pk, msg->value);
        rc |= s_pack_str (&pk, "endpoint", msg->endpoint);
        rc |= s_pack_uint (&pk, "ts", msg->ts);
        rc |= s_pack_uint (&pk, "seq", msg->seq);
        if (msg->peer.ptr)
            rc |= s_pack_str (&pk, "peer", msg->peer);
    }
    else {
        bool heartbeat = msg->kind == ZWATCH_KIND_HEARTBEAT;
        rc |= msgpack_pack_map (&pk, heartbeat? 12: 8);
        rc |= s_pack_uint (&pk, "v", ZWATCH_PROTO_VERSION);
        rc |= PACK_KEY (&pk, "kind");
        rc |= msgpack_pack_str_with_body (&pk, kind, strlen (kind));
        rc |= s_pack_str (&pk, "host", msg->host);
        rc |= s_pack_uint (&pk, "pid", msg->pid);
        rc |= s_pack_str (&pk, "svc", msg->svc);
        rc |= s_pack_uint (&pk, "start", msg->start);
        rc |= s_pack_uint (&pk, "ts", msg->ts);
        rc |= s_pack_uint (&pk, "seq", msg->seq);
        if (heartbeat) {
            rc |= s_pack_uint (&pk, "read", msg->read);
            rc |= s_pack_uint (&pk, "sent", msg->sent);
            rc |= s_pack_uint (&pk, "dropped", msg->dropped);
            rc |= s_pack_uint (&pk, "watched", msg->watched);
        }
    }
    if (rc) {
        errno = EMSGSIZE;
        return -1;
    }
    return (int) fixed.size;
}
