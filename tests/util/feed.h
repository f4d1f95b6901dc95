/*  feed: a raw SUB on a broker's publish endpoint, reading [topic][body].

    Bodies are unpacked with msgpack-c so tests can read any key of the
    broker's own messages; events can be decoded with the proto decoder.
    While feed_wait_stats looks for a stats message, everything else that
    arrives is kept, in order, and feed_recv returns it first: a feed
    subscribed to "ev/" and "stats/" can wait until the broker has counted
    every message, then read exactly the events published before that.
*/
#ifndef FEED_H_INCLUDED
#define FEED_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <msgpack.h>
#include "zwatch.h"

typedef struct _feed_t feed_t;

//  Connect a SUB to endpoint with the given prefixes (NULL-terminated)
feed_t *
    feed_new (const char *endpoint, const char *const prefixes []);

//  The same as a CURVE client of a broker whose public key is server_key
//  (Z85), with a fresh keypair; server_key NULL: plain
feed_t *
    feed_new_curve (const char *endpoint, const char *const prefixes [], const char *server_key);

//  Destroy the feed; idempotent
void
    feed_destroy (feed_t **self_p);

//  Make the next message the current one, waiting up to timeout_ms (0: only
//  what is there). Returns false if none came; a message that is not
//  [topic][msgpack map] fails the test.
bool
    feed_recv (feed_t *self, int timeout_ms);

//  Read messages until a stats message has key == value, up to timeout_ms;
//  it is then the current message. Other messages are kept for feed_recv.
bool
    feed_wait_stats (feed_t *self, const char *key, uint64_t value, int timeout_ms);

//  Read messages until the broker's stats say it holds exactly count
//  subscriptions (the feed's own among them: it must subscribe to
//  "stats/"), up to timeout_ms. A subscription the broker counted is in
//  its XPUB's filter: what it publishes from then on reaches that
//  subscriber. On timeout, says on stderr how many it last reported.
bool
    feed_wait_subscribers (feed_t *self, uint64_t count, int timeout_ms);

//  The same for a feed that does not read stats: a SUB of its own on
//  endpoint waits until the broker counts count subscriptions besides it,
//  then goes (its own unsubscribes; the others stay counted)
bool
    feed_wait_broker_subscribers (const char *endpoint, uint64_t count, int timeout_ms);

//  Read messages until one on exactly topic has key "state" == state, up
//  to timeout_ms; it is then the current message. Others are skipped.
bool
    feed_wait_agent (feed_t *self, const char *topic, const char *state, int timeout_ms);

//  The current message: topic (NUL-terminated), body bytes
const char *
    feed_topic (feed_t *self);
const void *
    feed_body (feed_t *self);
size_t
    feed_body_size (feed_t *self);

//  True if the current topic starts with prefix
bool
    feed_is (feed_t *self, const char *prefix);

//  Value of a top-level key of the current body, or NULL
const msgpack_object *
    feed_get (feed_t *self, const char *key);

//  An unsigned integer key (the test fails if it is absent or another type)
uint64_t
    feed_uint (feed_t *self, const char *key);

//  A string key as a NUL-terminated copy, valid until the next message
const char *
    feed_str (feed_t *self, const char *key);

//  The current body decoded as an agent message (the test fails if invalid)
void
    feed_event (feed_t *self, zwatch_msg_t *msg);

#endif
