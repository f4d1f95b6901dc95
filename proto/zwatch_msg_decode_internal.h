/*  zwatch_msg_decode_internal: the decoder's general path on its own.

    zwatch_msg_decode takes a fast path for events in the reference
    encoder's layout and this general path for everything else; both must
    give the same answer for every input, which the fuzz target checks by
    calling this one directly. Not part of the public API.
*/
#ifndef ZWATCH_MSG_DECODE_INTERNAL_H_INCLUDED
#define ZWATCH_MSG_DECODE_INTERNAL_H_INCLUDED

#include "zwatch_proto.h"

zwatch_reason_t zwatch_msg_decode_general (zwatch_msg_t *msg, const void *data, size_t size,
                                           const char **detail);

#endif
