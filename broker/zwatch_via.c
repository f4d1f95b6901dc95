/*  zwatch_via: read and append the `via` key (see zwatch_via.h)  */

#define _GNU_SOURCE                     //  memmem
#include <errno.h>
#include <string.h>
#include "zwatch_via.h"
#include "zwatch_mpread.h"

//  An array header: fixarray, array16, array32
static int
s_read_array (zwatch_mpread_t *reader, uint32_t *count)
{
    if (zwatch_mpread_left (reader) < 1)
        return -1;
    uint8_t tag = *reader->pos;
    int bytes = tag == 0xdc? 2: tag == 0xdd? 4: 0;
    if (!bytes && (tag & 0xf0) != 0x90)
        return -1;
    if (zwatch_mpread_left (reader) < (size_t) (1 + bytes))
        return -1;
    *count = bytes? (uint32_t) zwatch_mpread_load_be (reader->pos + 1, bytes): tag & 0x0f;
    reader->pos += 1 + bytes;
    return 0;
}

//  A map or array header of count entries into p; returns its size
static size_t
s_put_header (uint8_t *p, uint32_t count, uint8_t fix, uint8_t tag16)
{
    if (count < 16) {
        p [0] = (uint8_t) (fix | count);
        return 1;
    }
    p [0] = tag16;
    p [1] = (uint8_t) (count >> 8);
    p [2] = (uint8_t) count;
    return 3;
}

//  The map's header, then via if look_for_it
static int
s_read (zwatch_via_t *self, const void *data, size_t size, bool look_for_it)
{
    memset (self, 0, sizeof (*self));
    zwatch_mpread_t reader;
    zwatch_mpread_init (&reader, data, size);
    if (zwatch_mpread_map (&reader, &self->map_count) != MPREAD_OK)
        goto bad;
    self->map_header = size - zwatch_mpread_left (&reader);
    //  Nearly every message has no via: then its key's bytes are nowhere,
    //  however the key is encoded (a "via" elsewhere only costs the walk)
    if (!look_for_it || !memmem (data, size, "via", 3))
        return 0;
    for (uint32_t index = 0; index < self->map_count; index++) {
        const char *key;
        size_t key_len;
        if (zwatch_mpread_str (&reader, &key, &key_len) != MPREAD_OK)
            goto bad;
        if (key_len != 3 || memcmp (key, "via", 3) != 0) {
            if (zwatch_mpread_skip (&reader, ZWATCH_DEPTH_MAX) != MPREAD_OK)
                goto bad;
            continue;
        }
        if (self->value_start)
            goto bad;               //  twice
        self->value_start = size - zwatch_mpread_left (&reader);
        uint32_t count;
        if (s_read_array (&reader, &count) != 0 || count == 0 || count > ZWATCH_VIA_MAX)
            goto bad;
        self->ids_start = size - zwatch_mpread_left (&reader);
        for (uint32_t id = 0; id < count; id++) {
            zwatch_str_t *str = &self->ids [id];
            if (zwatch_mpread_str (&reader, &str->ptr, &str->len) != MPREAD_OK
            ||  !zwatch_name_valid (str->ptr, str->len, ZWATCH_HOST_MAX))
                goto bad;
        }
        self->count = count;
        self->value_end = size - zwatch_mpread_left (&reader);
    }
    return 0;
bad:
    memset (self, 0, sizeof (*self));
    errno = EPROTO;
    return -1;
}

int
zwatch_via_read (zwatch_via_t *self, const void *data, size_t size)
{
    return s_read (self, data, size, true);
}

int
zwatch_via_read_plain (zwatch_via_t *self, const void *data, size_t size)
{
    return s_read (self, data, size, false);
}

bool
zwatch_via_has (const zwatch_via_t *self, const char *id)
{
    size_t len = strlen (id);
    for (size_t index = 0; index < self->count; index++)
        if (self->ids [index].len == len && memcmp (self->ids [index].ptr, id, len) == 0)
            return true;
    return false;
}

int
zwatch_via_append (const zwatch_via_t *self, const void *data, size_t size,
                   const char *id, uint8_t *out, size_t capacity)
{
    const uint8_t *in = (const uint8_t *) data;
    size_t id_len = strlen (id);
    if (self->count >= ZWATCH_VIA_MAX) {
        errno = E2BIG;
        return -1;
    }
    if (capacity > ZWATCH_MSG_MAX)
        capacity = ZWATCH_MSG_MAX;
    //  Worst case: map16 and array16 headers, "via", a str8 id
    if (size + 3 + 4 + 3 + 2 + id_len > capacity || id_len > ZWATCH_HOST_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    uint8_t *p = out;
    bool fresh = self->count == 0;
    p += s_put_header (p, self->map_count + (fresh? 1: 0), 0x80, 0xde);
    if (fresh) {
        //  Everything after the header, then via: [id]
        memcpy (p, in + self->map_header, size - self->map_header);
        p += size - self->map_header;
        memcpy (p, "\xa3" "via", 4);
        p += 4;
        p += s_put_header (p, 1, 0x90, 0xdc);
    }
    else {
        //  Up to via's array, a new array header, its ids, ours, the rest
        memcpy (p, in + self->map_header, self->value_start - self->map_header);
        p += self->value_start - self->map_header;
        p += s_put_header (p, (uint32_t) self->count + 1, 0x90, 0xdc);
        memcpy (p, in + self->ids_start, self->value_end - self->ids_start);
        p += self->value_end - self->ids_start;
    }
    if (id_len < 32)
        *p++ = (uint8_t) (0xa0 | id_len);
    else {
        *p++ = 0xd9;
        *p++ = (uint8_t) id_len;
    }
    memcpy (p, id, id_len);
    p += id_len;
    if (!fresh) {
        memcpy (p, in + self->value_end, size - self->value_end);
        p += size - self->value_end;
    }
    return (int) (p - out);
}
