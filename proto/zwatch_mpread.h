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

//  Start reading size bytes at data
void zwatch_mpread_init (zwatch_mpread_t *self, const void *data, size_t size);

//  Bytes not yet read
size_t zwatch_mpread_left (zwatch_mpread_t *self);

//  Map header; *count is checked against the bytes left (2 per entry)
int zwatch_mpread_map (zwatch_mpread_t *self, uint32_t *count);

//  String (str8/16/32/fixstr) as a view into the input
int zwatch_mpread_str (zwatch_mpread_t *self, const char **ptr, size_t *len);

//  Unsigned integer (any int format with a non-negative value)
int zwatch_mpread_uint (zwatch_mpread_t *self, uint64_t *value);

//  Signed integer (any int format whose value fits int64)
int zwatch_mpread_int (zwatch_mpread_t *self, int64_t *value);

//  Skip one value of any type, containers up to max_depth deep
int zwatch_mpread_skip (zwatch_mpread_t *self, int max_depth);

#endif
