/*  zwatch_mpread: a bounds-checked msgpack cursor over untrusted bytes.

    msgpack-c's unpacker builds a zone-allocated object tree and reserves
    memory from declared counts before reading them; for our fixed schema a
    pull reader that checks every length against the bytes left is both
    safer and about twice as fast. Nothing here allocates.
*/
#ifndef ZWATCH_MPREAD_H_INCLUDED
#define ZWATCH_MPREAD_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *pos;
    const uint8_t *end;
} zwatch_mpread_t;

typedef enum {
    MPREAD_OK = 0,
    MPREAD_TRUNCATED = -1,      //  ran out of bytes / invalid byte
    MPREAD_WRONG_TYPE = -2,     //  valid msgpack, other type
    MPREAD_RANGE = -3,          //  integer does not fit the asked type
    MPREAD_TOO_DEEP = -4        //  skip: nesting beyond the limit
} zwatch_mpread_rc_t;

/*  The hot readers are inline: the decoder calls them for every field.  */

//  Big-endian loads; the input has no alignment
static inline uint64_t
zwatch_mpread_load_be (const uint8_t *p, int bytes)
{
    uint64_t value = 0;
    for (int index = 0; index < bytes; index++)
        value = (value << 8) | p [index];
    return value;
}

//  Start reading size bytes at data
static inline void
zwatch_mpread_init (zwatch_mpread_t *self, const void *data, size_t size)
{
    self->pos = (const uint8_t *) data;
    self->end = self->pos + size;
}

//  Bytes not yet read
static inline size_t
zwatch_mpread_left (zwatch_mpread_t *self)
{
    return (size_t) (self->end - self->pos);
}

//  Read a length of `bytes` bytes that follows a one-byte type tag
static inline int
zwatch_mpread_length (zwatch_mpread_t *self, int bytes, uint64_t *length)
{
    if (zwatch_mpread_left (self) < (size_t) bytes + 1)
        return MPREAD_TRUNCATED;
    *length = zwatch_mpread_load_be (self->pos + 1, bytes);
    self->pos += 1 + bytes;
    return MPREAD_OK;
}

//  Map header; *count is checked against the bytes left (2 per entry)
static inline int
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
        int rc = zwatch_mpread_length (self, tag == 0xde? 2: 4, &length);
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

//  String (str8/16/32/fixstr) as a view into the input
static inline int
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
        int rc = zwatch_mpread_length (self, 1 << (tag - 0xd9), &length);
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
static inline int
zwatch_mpread_integer (zwatch_mpread_t *self, uint64_t *bits, int *negative)
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
    uint64_t raw = zwatch_mpread_load_be (self->pos + 1, bytes);
    self->pos += 1 + bytes;
    if (is_signed && bytes < 8 && (raw >> (bytes * 8 - 1)) & 1)
        raw |= ~(uint64_t) 0 << (bytes * 8);    //  sign-extend
    *bits = raw;
    *negative = is_signed && (int64_t) raw < 0;
    return MPREAD_OK;
}

//  Unsigned integer (any int format with a non-negative value)
static inline int
zwatch_mpread_uint (zwatch_mpread_t *self, uint64_t *value)
{
    const uint8_t *start = self->pos;
    uint64_t bits;
    int negative;
    int rc = zwatch_mpread_integer (self, &bits, &negative);
    if (rc)
        return rc;
    if (negative) {
        self->pos = start;
        return MPREAD_RANGE;
    }
    *value = bits;
    return MPREAD_OK;
}

//  Signed integer (any int format whose value fits int64)
static inline int
zwatch_mpread_int (zwatch_mpread_t *self, int64_t *value)
{
    const uint8_t *start = self->pos;
    uint64_t bits;
    int negative;
    int rc = zwatch_mpread_integer (self, &bits, &negative);
    if (rc)
        return rc;
    if (!negative && bits > (uint64_t) INT64_MAX) {
        self->pos = start;
        return MPREAD_RANGE;
    }
    *value = (int64_t) bits;
    return MPREAD_OK;
}

//  Skip one value of any type, containers up to max_depth deep
int zwatch_mpread_skip (zwatch_mpread_t *self, int max_depth);

#endif
