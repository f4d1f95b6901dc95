/*  sec_feed: a SUB on a broker's publish endpoint that may speak CURVE.

    Subscribes to everything, reads [topic][body] with the body unpacked
    by msgpack-c, and keeps every message so tests can count them by topic
    prefix, or find one in a stream they did not wait for in order (the
    broker's own events interleave with an agent's). (tests/util/feed.c
    connects at once, before CURVE options could be set, hence this one.)
*/
#ifndef SEC_FEED_H_INCLUDED
#define SEC_FEED_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "zwatch.h"

typedef struct _sec_feed_t sec_feed_t;

//  Connect to endpoint. server_key NULL: plain; else CURVE with the
//  certificate secret file cert (NULL: a fresh keypair).
sec_feed_t *
    sec_feed_new (const char *endpoint, const char *server_key, const char *cert);

//  Destroy the feed; idempotent
void
    sec_feed_destroy (sec_feed_t **self_p);

//  Make the next message current, waiting up to timeout_ms. False if none
bool
    sec_feed_recv (sec_feed_t *self, int timeout_ms);

//  Read until a message on a topic starting with prefix is current, up
//  to timeout_ms (every message read is still counted)
bool
    sec_feed_wait (sec_feed_t *self, const char *prefix, int timeout_ms);

//  Make the first message ever read on a topic starting with prefix (and,
//  if sock is not NULL, about the socket labelled sock) current, reading
//  more up to timeout_ms if none came yet
bool
    sec_feed_find (sec_feed_t *self, const char *prefix, const char *sock, int timeout_ms);

//  The current message's topic
const char *
    sec_feed_topic (sec_feed_t *self);

//  An unsigned key of the current body, or of its map sub when sub is not
//  NULL; 0 when absent (the test fails on another type)
uint64_t
    sec_feed_uint (sec_feed_t *self, const char *sub, const char *key);

//  The current body decoded as an agent event (the test fails if not one)
void
    sec_feed_event (sec_feed_t *self, zwatch_msg_t *msg);

//  Messages seen so far on topics starting with prefix
size_t
    sec_feed_count (sec_feed_t *self, const char *prefix);

#endif
