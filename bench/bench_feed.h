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

//  Send a hello, heartbeat or bye carrying the last seq. Returns as zmq_send.
int bench_feed_send_lifecycle (bench_feed_t *self, void *socket, zwatch_kind_t kind, int flags);

//  Size of the events this feed sends, in bytes
size_t bench_feed_event_size (bench_feed_t *self);

#endif
