/*  zwatch_bytes: equality of short byte runs, a word at a time.

    The names, labels, addresses and map keys compared for every event are
    3 to 40 bytes: a memcmp call costs more than such a compare, and a byte
    loop ~6 instructions a byte (callgrind, bench_broker). Reads stay within
    the len bytes of each side (overlapping words at the tail), so either
    may end at a page or a frame's end.
*/
#ifndef ZWATCH_BYTES_H_INCLUDED
#define ZWATCH_BYTES_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

//  Unaligned loads through memcpy: one instruction each once inlined
static inline uint64_t
zwatch_bytes_load64 (const uint8_t *at)
{
    uint64_t word;
    memcpy (&word, at, sizeof (word));
    return word;
}

static inline uint32_t
zwatch_bytes_load32 (const uint8_t *at)
{
    uint32_t word;
    memcpy (&word, at, sizeof (word));
    return word;
}

//  True if the len bytes at a and at b are the same
static inline bool
zwatch_bytes_same (const void *a, const void *b, size_t len)
{
    const uint8_t *x = (const uint8_t *) a;
    const uint8_t *y = (const uint8_t *) b;
    if (len >= 8) {
        for (size_t at = 0; at + 8 < len; at += 8)
            if (zwatch_bytes_load64 (x + at) != zwatch_bytes_load64 (y + at))
                return false;
        return zwatch_bytes_load64 (x + len - 8) == zwatch_bytes_load64 (y + len - 8);
    }
    if (len >= 4)
        return zwatch_bytes_load32 (x) == zwatch_bytes_load32 (y)
            && zwatch_bytes_load32 (x + len - 4) == zwatch_bytes_load32 (y + len - 4);
    for (size_t at = 0; at < len; at++)
        if (x [at] != y [at])
            return false;
    return true;
}

#endif
