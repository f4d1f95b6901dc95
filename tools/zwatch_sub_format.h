/*  zwatch_sub_format: how zwatch-sub reads message bodies and prints them.

    Bodies from the broker are untrusted msgpack. parse () checks every
    container count against the bytes left before msgpack-c sees them, then
    unpacks into a zone reused from message to message. The render methods
    return one NUL-terminated line (no newline) owned by self, valid until
    the next call, or NULL when out of memory.

    Nothing read from the wire reaches the terminal raw:
    - JSON: strings escaped per RFC 8259; control characters (C0, DEL, C1)
      as \u00XX; bytes that are not valid UTF-8 become U+FFFD (written as
      \ufffd), one per bad byte; bin and ext values become base64 strings
      (the ext type is dropped); non-string map keys are rendered as JSON
      and then quoted; NaN and infinities become null.
    - Lines: control characters and invalid UTF-8 bytes as \xNN (C1 code
      points as \u00XX), a backslash as \\.
*/
#ifndef ZWATCH_SUB_FORMAT_H_INCLUDED
#define ZWATCH_SUB_FORMAT_H_INCLUDED

#include <msgpack.h>
#include "zwatch.h"

//  Largest body zwatch-sub reads (agent and stats messages; events are
//  limited to ZWATCH_MSG_MAX by their decoder)
#define ZWATCH_SUB_BODY_MAX     65536
//  Nesting zwatch-sub accepts in generic bodies
#define ZWATCH_SUB_DEPTH_MAX    16

typedef struct _zwatch_sub_format_t zwatch_sub_format_t;

//  Create a formatter. Returns NULL when out of memory.
zwatch_sub_format_t *zwatch_sub_format_new (void);

//  Destroy a formatter; sets *self_p to NULL
void zwatch_sub_format_destroy (zwatch_sub_format_t **self_p);

//  Parse one msgpack value filling exactly size bytes. Returns it (valid
//  until the next parse), or NULL with *reason set to a short fixed text.
const msgpack_object *zwatch_sub_format_parse (zwatch_sub_format_t *self, const void *data,
                                               size_t size, const char **reason);

//  Any msgpack value as one line of JSON. A map (a message) also gets
//  zwatch-sub's readable keys: "time" right after a uint "ts" (ISO 8601
//  UTC, nanoseconds: "2023-11-14T22:13:20.123456789Z"), and "error" right
//  after "value" when "code" is an event whose value is an errno
//  (CONNECT_DELAYED, BIND_FAILED, ACCEPT_FAILED, CLOSE_FAILED,
//  HANDSHAKE_FAILED_NO_DETAIL) that zwatch_sub_errno_name names. Neither
//  is added when the map already has that key.
const char *zwatch_sub_format_json (zwatch_sub_format_t *self, const msgpack_object *object);

//  A decoded event as one readable line
const char *zwatch_sub_format_event (zwatch_sub_format_t *self, const zwatch_msg_t *msg);

//  An agent state map as one readable line
const char *zwatch_sub_format_agent (zwatch_sub_format_t *self, const msgpack_object *map);

//  A broker stats map as one readable line
const char *zwatch_sub_format_stats (zwatch_sub_format_t *self, const msgpack_object *map);

//  Value of key in a map (a msgpack object of any type), or NULL
const msgpack_object *zwatch_sub_format_find (const msgpack_object *map, const char *key);

//  Any bytes as one line-safe string (escaped as described above)
const char *zwatch_sub_format_text (zwatch_sub_format_t *self, const char *ptr, size_t len);

//  Symbolic name of an errno value as glibc names it ("EADDRINUSE"), or
//  of one of libzmq's own ("EFSM"); NULL if neither knows it
const char *zwatch_sub_errno_name (long long errnum);

#endif
