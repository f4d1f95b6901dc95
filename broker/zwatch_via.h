/*  zwatch_via: the `via` key of a forwarded message (PROTOCOL.md 14): the
    ids of the brokers it passed through, edge first. Read it from a
    message the decoder accepted, and append our id without re-encoding
    the rest: the map header's count goes up by one when there was no
    `via`, else the array's; every other byte is copied as it was.  */
#ifndef ZWATCH_VIA_H_INCLUDED
#define ZWATCH_VIA_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch_proto.h"

#define ZWATCH_VIA_MAX  8               //  brokers a message may pass through

typedef struct {
    size_t count;                       //  ids in via (0: no via key)
    zwatch_str_t ids [ZWATCH_VIA_MAX];  //  views into the message
    uint32_t map_count;                 //  entries of the top-level map
    size_t map_header;                  //  bytes of its header
    size_t value_start;                 //  via's array (header and ids) in the
    size_t ids_start;                   //  message, ids from ids_start; all 0
    size_t value_end;                   //  without via
} zwatch_via_t;

//  Read via from data (a message zwatch_msg_decode accepted). Returns 0,
//  or -1 with errno EPROTO if via is not an array of 1..ZWATCH_VIA_MAX
//  host-like ids.
int
    zwatch_via_read (zwatch_via_t *self, const void *data, size_t size);

//  The same for a map in the reference encoder's layout (zwatch_msg_scan.h),
//  which holds no via: the header only, without a look for the key (a
//  memmem per message was 10 % of the broker's forwarding thread)
int
    zwatch_via_read_plain (zwatch_via_t *self, const void *data, size_t size);

//  True if id is one of via's ids
bool
    zwatch_via_has (const zwatch_via_t *self, const char *id);

//  Write data with id appended to via into out. Returns the new size, or
//  -1 with errno EMSGSIZE (over capacity or ZWATCH_MSG_MAX) or E2BIG
//  (via already holds ZWATCH_VIA_MAX ids).
int
    zwatch_via_append (const zwatch_via_t *self, const void *data, size_t size,
                       const char *id, uint8_t *out, size_t capacity);

#endif
