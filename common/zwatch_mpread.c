/*  zwatch_mpread: bounds-checked msgpack pull reader (see header).  */

#include <string.h>
#include "zwatch_mpread.h"

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
            int rc = zwatch_mpread_length (self, (tag == 0xdc || tag == 0xde)? 2: 4, &count);
            if (rc)
                return rc;
        }
        return s_skip_values (self, is_map? count * 2: count, max_depth - 1);
    }
    switch (tag) {
        case 0xc4: case 0xd9:                       //  bin8, str8
            return left < 2? MPREAD_TRUNCATED: s_skip_bytes (self, 2, p [1]);
        case 0xc5: case 0xda:                       //  bin16, str16
            return left < 3? MPREAD_TRUNCATED: s_skip_bytes (self, 3, zwatch_mpread_load_be (p + 1, 2));
        case 0xc6: case 0xdb:                       //  bin32, str32
            return left < 5? MPREAD_TRUNCATED: s_skip_bytes (self, 5, zwatch_mpread_load_be (p + 1, 4));
        case 0xc7:                                  //  ext8: len, type, data
            return left < 3? MPREAD_TRUNCATED: s_skip_bytes (self, 3, p [1]);
        case 0xc8:
            return left < 4? MPREAD_TRUNCATED: s_skip_bytes (self, 4, zwatch_mpread_load_be (p + 1, 2));
        case 0xc9:
            return left < 6? MPREAD_TRUNCATED: s_skip_bytes (self, 6, zwatch_mpread_load_be (p + 1, 4));
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
