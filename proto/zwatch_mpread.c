/*  zwatch_mpread: bounds-checked msgpack pull reader (see header).  */

#include <string.h>
#include "zwatch_mpread.h"

//  Big-endian loads; the input has no alignment
static uint64_t
s_load_be (const uint8_t *p, int bytes)
{
    uint64_t value = 0;
    for (int index = 0; index < bytes; index++)
        value = (value << 8) | p [index];
    return value;
}

void
zwatch_mpread_init (zwatch_mpread_t *self, const void *data, size_t size)
{
    self->pos = (const uint8_t *) data;
    self->end = self->pos + size;
}

size_t
zwatch_mpread_left (zwatch_mpread_t *self)
{
    return (size_t) (self->end - self->pos);
}

//  Read a length of `bytes` bytes that follows a one-byte type tag
static int
s_read_length (zwatch_mpread_t *self, int bytes, uint64_t *length)
{
    if (zwatch_mpread_left (self) < (size_t) bytes + 1)
        return MPREAD_TRUNCATED;
    *length = s_load_be (self->pos + 1, bytes);
    self->pos += 1 + bytes;
    return MPREAD_OK;
}

int
zwatch_mpread_map (zwatch_mpread_t *self, uint32_t *count)
{
    if (self->pos >= self->end)
        return MPREAD_TRUNCATED;
    uint8_t tag = *self->pos;
    uint64_t length;
    if ((tag & 0xf0) == 0x80) {
        length = tag & 0x0f;
        self->pos++;
    }
    else
    if (tag == 0xde || tag == 0xdf) {
        int rc = s_read_length (self, tag == 0xde? 2: 4, &length);
        if (rc)
            return rc;
    }
    else
        return MPREAD_WRONG_TYPE;
    //  Each entry takes at least two bytes: refuse counts the input can't hold
    if (length > zwatch_mpread_left (self) / 2)
        return MPREAD_TRUNCATED;
    *count = (uint32_t) length;
    return MPREAD_OK;
}

int
zwatch_mpread_str (zwatch_mpread_t *self, const char **ptr, size_t *len)
{
    if (self->pos >= self->end)
        return MPREAD_TRUNCATED;
    uint8_t tag = *self->pos;
    uint64_t length;
    if ((tag & 0xe0) == 0xa0) {
        length = tag & 0x1f;
        self->pos++;
    }
    else
    if (tag >= 0xd9 && tag <= 0xdb) {
        int rc = s_read_length (self, 1 << (tag - 0xd9), &length);
        if (rc)
            return rc;
    }
    else
        return MPREAD_WRONG_TYPE;
    if (length > zwatch_mpread_left (self))
        return MPREAD_TRUNCATED;
    *ptr = (const char *) self->pos;
    *len = (size_t) length;
    self->pos += length;
    return MPREAD_OK;
}

//  Any msgpack integer, as sign + magnitude; *negative set for values < 0
static int
s_read_integer (zwatch_mpread_t *self, uint64_t *bits, int *negative)
{
    if (self->pos >= self->end)
        return MPREAD_TRUNCATED;
    uint8_t tag = *self->pos;
    *negative = 0;
    if (tag <= 0x7f) {
        *bits = tag;
        self->pos++;
        return MPREAD_OK;
    }
    if (tag >= 0xe0) {
        *bits = (uint64_t) (int64_t) (int8_t) tag;
        *negative = 1;
        self->pos++;
        return MPREAD_OK;
    }
    int bytes;
    int is_signed;
    if (tag >= 0xcc && tag <= 0xcf) {
        bytes = 1 << (tag - 0xcc);
        is_signed = 0;
    }
    else
    if (tag >= 0xd0 && tag <= 0xd3) {
        bytes = 1 << (tag - 0xd0);
        is_signed = 1;
    }
    else
        return MPREAD_WRONG_TYPE;
    if (zwatch_mpread_left (self) < (size_t) bytes + 1)
        return MPREAD_TRUNCATED;
    uint64_t raw = s_load_be (self->pos + 1, bytes);
    self->pos += 1 + bytes;
    if (is_signed && bytes < 8 && (raw >> (bytes * 8 - 1)) & 1)
        raw |= ~(uint64_t) 0 << (bytes * 8);    //  sign-extend
    *bits = raw;
    *negative = is_signed && (int64_t) raw < 0;
    return MPREAD_OK;
}

int
zwatch_mpread_uint (zwatch_mpread_t *self, uint64_t *value)
{
    const uint8_t *start = self->pos;
    uint64_t bits;
    int negative;
    int rc = s_read_integer (self, &bits, &negative);
    if (rc)
        return rc;
    if (negative) {
        self->pos = start;
        return MPREAD_RANGE;
    }
    *value = bits;
    return MPREAD_OK;
}

int
zwatch_mpread_int (zwatch_mpread_t *self, int64_t *value)
{
    const uint8_t *start = self->pos;
    uint64_t bits;
    int negative;
    int rc = s_read_integer (self, &bits, &negative);
    if (rc)
        return rc;
    if (!negative && bits > (uint64_t) INT64_MAX) {
        self->pos = start;
        return MPREAD_RANGE;
    }
    *value = (int64_t) bits;
    return MPREAD_OK;
}

//  Skip `length` payload bytes after a header of `header` bytes
static int
s_skip_bytes (zwatch_mpread_t *self, size_t header, uint64_t length)
{
    if (zwatch_mpread_left (self) < header || length > zwatch_mpread_left (self) - header)
        return MPREAD_TRUNCATED;
    self->pos += header + length;
    return MPREAD_OK;
}

//  Skip `count` values (`count` checked against the bytes left first)
static int
s_skip_values (zwatch_mpread_t *self, uint64_t count, int max_depth)
{
    if (count > zwatch_mpread_left (self))
        return MPREAD_TRUNCATED;
    for (uint64_t index = 0; index < count; index++) {
        int rc = zwatch_mpread_skip (self, max_depth);
        if (rc)
            return rc;
    }
    return MPREAD_OK;
}

int
zwatch_mpread_skip (zwatch_mpread_t *self, int max_depth)
{
    if (self->pos >= self->end)
        return MPREAD_TRUNCATED;
    uint8_t tag = *self->pos;
    const uint8_t *p = self->pos;
    size_t left = zwatch_mpread_left (self);

    if (tag <= 0x7f || tag >= 0xe0 || (tag >= 0xc0 && tag <= 0xc3 && tag != 0xc1))
        return s_skip_bytes (self, 1, 0);
    if ((tag & 0xe0) == 0xa0)
        return s_skip_bytes (self, 1, tag & 0x1f);
    if (tag == 0xc1)
        return MPREAD_TRUNCATED;        //  never used in msgpack: invalid

    //  Containers
    int is_map = (tag & 0xf0) == 0x80 || tag == 0xde || tag == 0xdf;
    int is_array = (tag & 0xf0) == 0x90 || tag == 0xdc || tag == 0xdd;
    if (is_map || is_array) {
        if (max_depth <= 0)
            return MPREAD_TOO_DEEP;
        uint64_t count;
        if (tag < 0xa0) {
            count = tag & 0x0f;
            self->pos++;
        }
        else {
            int rc = s_read_length (self, (tag == 0xdc || tag == 0xde)? 2: 4, &count);
            if (rc)
                return rc;
        }
        return s_skip_values (self, is_map? count * 2: count, max_depth - 1);
    }
    switch (tag) {
        case 0xc4: case 0xd9:                       //  bin8, str8
            return left < 2? MPREAD_TRUNCATED: s_skip_bytes (self, 2, p [1]);
        case 0xc5: case 0xda:                       //  bin16, str16
            return left < 3? MPREAD_TRUNCATED: s_skip_bytes (self, 3, s_load_be (p + 1, 2));
        case 0xc6: case 0xdb:                       //  bin32, str32
            return left < 5? MPREAD_TRUNCATED: s_skip_bytes (self, 5, s_load_be (p + 1, 4));
        case 0xc7:                                  //  ext8: len, type, data
            return left < 3? MPREAD_TRUNCATED: s_skip_bytes (self, 3, p [1]);
        case 0xc8:
            return left < 4? MPREAD_TRUNCATED: s_skip_bytes (self, 4, s_load_be (p + 1, 2));
        case 0xc9:
            return left < 6? MPREAD_TRUNCATED: s_skip_bytes (self, 6, s_load_be (p + 1, 4));
        case 0xca: return s_skip_bytes (self, 5, 0);    //  float32
        case 0xcb: return s_skip_bytes (self, 9, 0);    //  float64
        case 0xcc: case 0xd0: return s_skip_bytes (self, 2, 0);
        case 0xcd: case 0xd1: return s_skip_bytes (self, 3, 0);
        case 0xce: case 0xd2: return s_skip_bytes (self, 5, 0);
        case 0xcf: case 0xd3: return s_skip_bytes (self, 9, 0);
        case 0xd4: return s_skip_bytes (self, 3, 0);    //  fixext 1..16: tag, type, data
        case 0xd5: return s_skip_bytes (self, 4, 0);
        case 0xd6: return s_skip_bytes (self, 6, 0);
        case 0xd7: return s_skip_bytes (self, 10, 0);
        case 0xd8: return s_skip_bytes (self, 18, 0);
        default:   return MPREAD_TRUNCATED;
    }
}
