/*  zwatch_batch_feed: the events again, several to a message, on a PUB of
    their own (--publish-batches, PROTOCOL.md 6, "The batch feed").

    Each message is [batch/<host>/<svc>/][maps back to back]: consecutive
    events of one service, each map the bytes the ev/ feed carries. One
    send for many events is what lets a subscriber and the broker keep up
    with more events than a message each allows (docs/BENCHMARKS.md). On a
    socket of its own because an empty subscription on the XPUB means
    "everything once", which a second copy of each event would break.
*/
#ifndef ZWATCH_BATCH_FEED_H_INCLUDED
#define ZWATCH_BATCH_FEED_H_INCLUDED

#include <czmq.h>
#include "zwatch_proto.h"

#define ZWATCH_BATCH_FEED_SNDHWM    10000   //  messages a subscriber may fall behind
#define ZWATCH_BATCH_FEED_MAX       8192    //  bytes of maps in one message at most

typedef struct _zwatch_batch_feed_t zwatch_batch_feed_t;

//  A PUB, not bound yet (the caller binds and secures its socket)
zwatch_batch_feed_t *
    zwatch_batch_feed_new (void);

void
    zwatch_batch_feed_destroy (zwatch_batch_feed_t **self_p);

zsock_t *
    zwatch_batch_feed_socket (zwatch_batch_feed_t *self);

//  Add one published event (msg decoded from data); a batch of another
//  service, or one it would not fit in, goes out first
void
    zwatch_batch_feed_add (zwatch_batch_feed_t *self, const zwatch_msg_t *msg,
                           const void *data, size_t size);

//  Publish the batch being filled, if any
void
    zwatch_batch_feed_flush (zwatch_batch_feed_t *self);

//  Batches published so far (stats batches_out)
uint64_t
    zwatch_batch_feed_sent (zwatch_batch_feed_t *self);

#endif
