/*  hostile: messages no agent should send, made at random from a seed,
    each with the reason the broker must count it under. The bad input
    test mixes them with valid traffic and checks the broker's counts.  */
#ifndef HOSTILE_H_INCLUDED
#define HOSTILE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "zwatch.h"

typedef enum {
    HOSTILE_RANDOM,             //  random bytes
    HOSTILE_TRUNCATED,          //  a valid event cut short
    HOSTILE_NESTED,             //  a value nested deeper than 8 containers
    HOSTILE_HUGE_LENGTH,        //  a header declaring far more than follows
    HOSTILE_WRONG_TYPE,         //  a known key holding another type or range
    HOSTILE_BAD_CHARS,          //  host, svc, event, ... outside their sets
    HOSTILE_VERSION,            //  v other than 1
    HOSTILE_SHAPE,              //  missing, duplicate, bad or too many keys;
                                //  not a map; trailing bytes; bad kind
    HOSTILE_TOO_LARGE,          //  4097 to 65536 bytes
    HOSTILE_MULTIPART,          //  more than one frame
    HOSTILE_KINDS
} hostile_kind_t;

typedef struct {
    hostile_kind_t kind;
    const uint8_t *data;        //  valid until the next hostile_next
    size_t size;
    int parts;                  //  frames to send it as, of about equal size
    zwatch_reason_t reason;     //  what the broker must count it as
} hostile_msg_t;

typedef struct _hostile_t hostile_t;

//  A generator; the same seed makes the same messages
hostile_t *
    hostile_new (uint32_t seed);

void
    hostile_destroy (hostile_t **self_p);

//  Make the next message. The reason is the one the kind was built to
//  have; the test fails if the normative decoder (proto/) disagrees.
void
    hostile_next (hostile_t *self, hostile_msg_t *msg);

//  A valid event of agent evil/hostile/666 with this seq, padded with an
//  unknown key to exactly size bytes (at least 512): reason ok up to 4096
//  bytes, too_large above
void
    hostile_event (hostile_t *self, uint64_t seq, size_t size, hostile_msg_t *msg);

//  A random number from the generator's sequence
uint32_t
    hostile_random (hostile_t *self);

//  "random", "truncated", ...
const char *
    hostile_kind_name (hostile_kind_t kind);

#endif
