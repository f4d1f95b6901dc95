/*  zwatch_msg_scan: zwatch_msg_decode_next for the broker's hot path.

    It also tells whether the map was in the reference encoder's layout
    (the decoder's fast path). Such a map holds no key the decoder does
    not know, so it has no `via` (PROTOCOL.md 14). The broker then skips
    looking for one. Implemented in proto/zwatch_msg_decode.c, declared
    here with the internals the parts share; not public API.
*/
#ifndef ZWATCH_MSG_SCAN_H_INCLUDED
#define ZWATCH_MSG_SCAN_H_INCLUDED

#include <stdbool.h>
#include "zwatch_proto.h"

//  As zwatch_msg_decode_next; *reference_layout is true when the map was
//  read on the fast path, whatever the answer
zwatch_reason_t
    zwatch_msg_decode_scan (zwatch_msg_t *msg, const void *data, size_t size, size_t *offset,
                            bool *rest_lost, const char **detail, bool *reference_layout);

#endif
