/*  bench_feed: valid agent messages for one made-up identity.  */

#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "bench_feed.h"
#include "bench_util.h"

struct _bench_feed_t {
    zwatch_msg_t event;                 //  the template every event starts from
    char svc [ZWATCH_SVC_MAX + 1];
    uint64_t start;
    char buffer [ZWATCH_MSG_MAX];
    char batch [BENCH_FEED_BATCH_BYTES];
};

static zwatch_str_t
s_str (const char *text)
{
    zwatch_str_t str = { text, strlen (text) };
    return str;
}

bench_feed_t *
bench_feed_new (const char *svc, uint64_t pid)
{
    bench_feed_t *self = (bench_feed_t *) calloc (1, sizeof (bench_feed_t));
    if (!self)
        return NULL;
    strncpy (self->svc, svc, ZWATCH_SVC_MAX);
    self->start = bench_wall_ns ();
    //  An ACCEPTED event with a peer, like the protocol's vector 1
    zwatch_msg_t *event = &self->event;
    event->kind = ZWATCH_KIND_EVENT;
    event->host = s_str ("bench-host");
    event->svc = s_str (self->svc);
    event->pid = pid;
    event->sock = s_str ("frontend");
    event->stype = s_str ("ROUTER");
    event->event = s_str ("ACCEPTED");
    event->code = ZMQ_EVENT_ACCEPTED;
    event->value = 17;
    event->endpoint = s_str ("tcp://0.0.0.0:5555");
    event->peer = s_str ("10.0.0.9:51234");
    return self;
}

void
bench_feed_destroy (bench_feed_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static int
s_send (bench_feed_t *self, void *socket, int size, int flags)
{
    if (size < 0)
        return -1;
    return zmq_send (socket, self->buffer, (size_t) size, flags);
}

int
bench_feed_send_event (bench_feed_t *self, void *socket, int flags)
{
    self->event.seq++;
    self->event.ts = bench_wall_ns ();
    int rc = s_send (self, socket, zwatch_msg_encode (&self->event, self->buffer,
                                                      sizeof (self->buffer)), flags);
    if (rc < 0)
        self->event.seq--;      //  not queued: no seq, as a real agent does
    return rc;
}

int
bench_feed_send_events (bench_feed_t *self, void *socket, int count, int flags)
{
    size_t used = 0;
    uint64_t first = self->event.seq;
    for (int index = 0; index < count; index++) {
        self->event.seq++;
        self->event.ts = bench_wall_ns ();
        int size = zwatch_msg_encode (&self->event, self->batch + used, sizeof (self->batch) - used);
        if (size < 0) {
            self->event.seq--;
            break;
        }
        used += (size_t) size;
    }
    int rc = used? zmq_send (socket, self->batch, used, flags): -1;
    if (rc < 0)
        self->event.seq = first;
    return rc;
}

int
bench_feed_send_lifecycle (bench_feed_t *self, void *socket, zwatch_kind_t kind, int flags)
{
    zwatch_msg_t msg = self->event;
    msg.kind = kind;
    msg.start = self->start;
    msg.ts = bench_wall_ns ();
    msg.read = msg.sent = self->event.seq;
    msg.peer = (zwatch_str_t) { NULL, 0 };
    return s_send (self, socket, zwatch_msg_encode (&msg, self->buffer, sizeof (self->buffer)),
                   flags);
}

int
bench_feed_send_fact (bench_feed_t *self, void *socket, zwatch_kind_t kind,
                      const bench_fact_t *fact, int flags)
{
    zwatch_msg_t msg = self->event;
    msg.kind = kind;
    msg.seq = kind == ZWATCH_KIND_EVENT? self->event.seq + 1: self->event.seq;
    msg.ts = bench_wall_ns ();
    msg.sock = s_str (fact->sock);
    msg.stype = s_str (fact->stype);
    msg.event = s_str (fact->event);
    msg.code = zwatch_event_code (fact->event, strlen (fact->event));
    msg.endpoint = s_str (fact->endpoint);
    msg.local = fact->local? s_str (fact->local): (zwatch_str_t) { NULL, 0 };
    msg.peer = fact->peer? s_str (fact->peer): (zwatch_str_t) { NULL, 0 };
    msg.value = fact->value;
    int rc = s_send (self, socket, zwatch_msg_encode (&msg, self->buffer, sizeof (self->buffer)),
                     flags);
    if (rc >= 0 && kind == ZWATCH_KIND_EVENT)
        self->event.seq++;
    return rc;
}

int
bench_feed_send_state_end (bench_feed_t *self, void *socket, uint64_t count, int flags)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = ZWATCH_KIND_STATE_END;
    msg.host = self->event.host;
    msg.svc = self->event.svc;
    msg.pid = self->event.pid;
    msg.seq = self->event.seq;
    msg.ts = bench_wall_ns ();
    msg.count = count;
    return s_send (self, socket, zwatch_msg_encode (&msg, self->buffer, sizeof (self->buffer)),
                   flags);
}

size_t
bench_feed_event_size (bench_feed_t *self)
{
    int size = zwatch_msg_encode (&self->event, self->buffer, sizeof (self->buffer));
    return size > 0? (size_t) size: 0;
}
