/*  bench_feed: a stand-in agent for the broker benchmarks. It encodes
    valid protocol messages (proto/) for one identity (host, svc, pid) with
    its own seq, the way a real agent would, and sends them on a socket.  */
#ifndef ZWATCH_BENCH_FEED_H_INCLUDED
#define ZWATCH_BENCH_FEED_H_INCLUDED

#include <stdint.h>
#include "zwatch_proto.h"

typedef struct _bench_feed_t bench_feed_t;

//  A feed for service svc (copied) with process id pid
bench_feed_t *bench_feed_new (const char *svc, uint64_t pid);

void bench_feed_destroy (bench_feed_t **self_p);

//  Send the next event (seq + 1, ts now) on socket with zmq_send flags.
//  Returns the zmq_send result.
int bench_feed_send_event (bench_feed_t *self, void *socket, int flags);

//  Send the next count events (seq + 1 ..., ts now) back to back in one
//  frame, a batch (PROTOCOL.md 5), at most BENCH_FEED_BATCH_BYTES. Returns
//  as zmq_send; count is cut to what fits.
#define BENCH_FEED_BATCH_BYTES 16384
int bench_feed_send_events (bench_feed_t *self, void *socket, int count, int flags);

//  Send a hello, heartbeat or bye carrying the last seq. Returns as zmq_send.
int bench_feed_send_lifecycle (bench_feed_t *self, void *socket, zwatch_kind_t kind, int flags);

//  One fact of a socket, as a replay's state message or an event: the
//  feed fills in its identity, seq and ts; local / peer NULL: absent
typedef struct {
    const char *sock;
    const char *stype;
    const char *event;          //  its name (the code follows from it)
    const char *endpoint;
    const char *local;
    const char *peer;
    int64_t value;
} bench_fact_t;

//  Send fact as kind ZWATCH_KIND_STATE (the feed's current seq) or
//  ZWATCH_KIND_EVENT (seq + 1). Returns as zmq_send.
int bench_feed_send_fact (bench_feed_t *self, void *socket, zwatch_kind_t kind,
                          const bench_fact_t *fact, int flags);

//  Send a state_end of count state messages. Returns as zmq_send.
int bench_feed_send_state_end (bench_feed_t *self, void *socket, uint64_t count, int flags);

//  Size of the events this feed sends, in bytes
size_t bench_feed_event_size (bench_feed_t *self);

#endif
