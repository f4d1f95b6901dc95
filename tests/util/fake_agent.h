/*  fake_agent: a DEALER that speaks the agent protocol by hand.

    It sends what a real agent sends (encoded by proto's encoder) and also
    what no agent should: raw bytes, several frames, and maps built field
    by field with msgpack-c, so that one field can have the wrong type, be
    missing, or hold a value the decoder must refuse.
*/
#ifndef FAKE_AGENT_H_INCLUDED
#define FAKE_AGENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch.h"

//  One key and its value in a hand-built map
typedef enum {
    FAKE_STR,                   //  str
    FAKE_UINT,                  //  positive integer
    FAKE_INT,                   //  signed integer (negative: int format)
    FAKE_BIN,                   //  bin with the string's bytes
    FAKE_REMOVED                //  not packed at all
} fake_type_t;

typedef struct {
    const char *key;
    fake_type_t type;
    const char *str;
    int64_t num;
} fake_field_t;

//  Fields of a valid event: v kind host pid svc sock stype event code value
//  endpoint ts seq
#define FAKE_EVENT_FIELDS 13

typedef struct _fake_agent_t fake_agent_t;

//  Connect a DEALER to the broker's ingest endpoint as agent (host, svc, pid)
fake_agent_t *
    fake_agent_new (const char *endpoint, const char *host, const char *svc, uint64_t pid);

//  Destroy it (linger up to 1 s for what is queued); idempotent
void
    fake_agent_destroy (fake_agent_t **self_p);

//  Send a valid hello, heartbeat or bye carrying seq (the last event seq)
void
    fake_agent_send_state (fake_agent_t *self, zwatch_kind_t kind, uint64_t seq);

//  Encode a valid event named event (its libzmq code; "UNKNOWN": code 0)
//  with this seq, from socket "fake-sock" (DEALER) about endpoint
//  "tcp://10.0.0.1:<seq>". Returns the bytes (valid until the next call)
//  and their size in *size.
const void *
    fake_agent_event (fake_agent_t *self, uint64_t seq, const char *event, size_t *size);

//  The same, sent
const void *
    fake_agent_send_event (fake_agent_t *self, uint64_t seq, const char *event, size_t *size);

//  Fill fields with a valid event (as above, strings owned by self)
void
    fake_agent_event_fields (fake_agent_t *self, fake_field_t fields [FAKE_EVENT_FIELDS],
                             uint64_t seq, const char *event);

//  Change field key in fields (the test fails if there is none)
void
    fake_field_set (fake_field_t *fields, size_t count, const char *key, fake_type_t type,
                    const char *str, int64_t num);

//  Pack fields as one msgpack map (FAKE_REMOVED ones left out) and send it
void
    fake_agent_send_fields (fake_agent_t *self, const fake_field_t *fields, size_t count);

//  Send bytes as one frame, or as parts frames of about equal size
void
    fake_agent_send_raw (fake_agent_t *self, const void *data, size_t size);
void
    fake_agent_send_parts (fake_agent_t *self, const void *data, size_t size, int parts);

#endif
