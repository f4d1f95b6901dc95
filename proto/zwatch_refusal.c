/*  zwatch_refusal: the broker's answer to an agent it refused (see zwatch_proto.h).  */

#include <errno.h>
#include <string.h>
#include "zwatch_proto.h"
#include "zwatch_mpread.h"

#define REASON_MAX  32
#define KEYS_MAX    16          //  more keys than this is not a refusal of ours

//  A fixstr (every string here is under 32 bytes but the host IDs, <= 64)
static uint8_t *
s_put_str (uint8_t *p, const char *ptr, size_t len)
{
    if (len < 32)
        *p++ = (uint8_t) (0xa0 | len);
    else {
        *p++ = 0xd9;
        *p++ = (uint8_t) len;
    }
    memcpy (p, ptr, len);
    return p + len;
}

int
zwatch_refusal_encode (const zwatch_refusal_t *refusal, void *buf, size_t capacity)
{
    if (refusal->reason.len > REASON_MAX || refusal->host.len > ZWATCH_HOST_MAX
    ||  refusal->sent.len > ZWATCH_HOST_MAX || capacity < ZWATCH_REFUSAL_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    uint8_t *start = (uint8_t *) buf, *p = start;
    *p++ = 0x86;                                        //  map of 6
    p = s_put_str (p, "v", 1);
    *p++ = 1;
    p = s_put_str (p, "kind", 4);
    p = s_put_str (p, "refused", 7);
    p = s_put_str (p, "reason", 6);
    p = s_put_str (p, refusal->reason.ptr, refusal->reason.len);
    p = s_put_str (p, "host", 4);
    p = s_put_str (p, refusal->host.ptr, refusal->host.len);
    p = s_put_str (p, "sent", 4);
    p = s_put_str (p, refusal->sent.ptr, refusal->sent.len);
    p = s_put_str (p, "ts", 2);
    *p++ = 0xcf;                                        //  uint64
    for (int shift = 56; shift >= 0; shift -= 8)
        *p++ = (uint8_t) (refusal->ts >> shift);
    return (int) (p - start);
}

static bool
s_is (const char *ptr, size_t len, const char *text)
{
    return len == strlen (text) && memcmp (ptr, text, len) == 0;
}

static bool
s_reason_valid (const char *ptr, size_t len)
{
    if (len == 0 || len > REASON_MAX)
        return false;
    for (size_t index = 0; index < len; index++)
        if (!((ptr [index] >= 'a' && ptr [index] <= 'z') || ptr [index] == '_'))
            return false;
    return true;
}

int
zwatch_refusal_decode (zwatch_refusal_t *refusal, const void *data, size_t size)
{
    memset (refusal, 0, sizeof (*refusal));
    zwatch_mpread_t reader;
    zwatch_mpread_init (&reader, data, size);
    uint32_t count;
    bool version = false, kind = false, ts = false;
    if (zwatch_mpread_map (&reader, &count) != MPREAD_OK || count > KEYS_MAX)
        goto bad;
    for (uint32_t index = 0; index < count; index++) {
        const char *key, *str;
        size_t key_len, str_len;
        uint64_t number;
        if (zwatch_mpread_str (&reader, &key, &key_len) != MPREAD_OK)
            goto bad;
        if (s_is (key, key_len, "v")) {
            if (zwatch_mpread_uint (&reader, &number) != MPREAD_OK || number != 1)
                goto bad;
            version = true;
        }
        else
        if (s_is (key, key_len, "ts")) {
            if (zwatch_mpread_uint (&reader, &refusal->ts) != MPREAD_OK)
                goto bad;
            ts = true;
        }
        else
        if (s_is (key, key_len, "kind") || s_is (key, key_len, "reason")
        ||  s_is (key, key_len, "host") || s_is (key, key_len, "sent")) {
            if (zwatch_mpread_str (&reader, &str, &str_len) != MPREAD_OK)
                goto bad;
            zwatch_str_t value = { str, str_len };
            if (s_is (key, key_len, "kind")) {
                if (!s_is (str, str_len, "refused"))
                    goto bad;
                kind = true;
            }
            else
            if (s_is (key, key_len, "reason")) {
                if (!s_reason_valid (str, str_len))
                    goto bad;
                refusal->reason = value;
            }
            else {
                if (!zwatch_name_valid (str, str_len, ZWATCH_HOST_MAX))
                    goto bad;
                if (s_is (key, key_len, "host"))
                    refusal->host = value;
                else
                    refusal->sent = value;
            }
        }
        else
        if (zwatch_mpread_skip (&reader, 4) != MPREAD_OK)
            goto bad;
    }
    if (zwatch_mpread_left (&reader) == 0 && version && kind && ts && refusal->reason.ptr
    &&  refusal->host.ptr && refusal->sent.ptr)
        return 0;
bad:
    memset (refusal, 0, sizeof (*refusal));
    errno = EPROTO;
    return -1;
}
