/*  zwatch_upstream: identity, numbering and the lifecycle messages, once
    for every broker link.  */

#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "zwatch_agent.h"
#include "zwatch_clock.h"
#include "zwatch_identity.h"
#include "zwatch_upstream.h"

#define REPLAY_RETRY_MIN    100     //  msecs before a hello and replay that did not fit
#define REPLAY_RETRY_MAX    5000    //  go again, doubling up to this

//  A link whose last hello or replay did not fit in its queue
typedef struct {
    int64_t at;                     //  when to try again (monotonic msecs); 0: not due
    int msecs;                      //  the last delay; 0 after one went whole
} replay_retry_t;

struct _zwatch_upstream_t {
    zwatch_link_t *links [ZWATCH_AGENT_BROKERS_MAX];
    replay_retry_t retries [ZWATCH_AGENT_BROKERS_MAX];
    size_t link_count;
    zwatch_link_t *replaying;       //  the link a replay goes to now, or NULL
    bool replay_whole;              //  its state_end went, with every fact

    char host [ZWATCH_HOST_MAX + 1];
    char service [ZWATCH_SVC_MAX + 1];
    uint64_t pid;
    uint64_t start;
    uint64_t seq;                   //  last event seq assigned

    atomic_uint_fast64_t read;
    atomic_uint_fast64_t sent;      //  events some queue took (= seq)
    atomic_uint_fast64_t dropped;   //  events no queue took
    atomic_uint_fast64_t folded;    //  events held for a summary (zwatch_fold)
    atomic_uint_fast64_t watched;

    zwatch_upstream_replay_fn *replay;      //  called after every hello
    void *replay_arg;
    char buffer [ZWATCH_MSG_MAX];   //  encode buffer, reused for every message
};

static zwatch_str_t
s_str (const char *text, size_t len)
{
    zwatch_str_t str = { text, len };
    return str;
}

//  Encoded once into the buffer, then to one link (or every link); an
//  event counts as the monitor events it stands for (a folded summary: count)
static bool
s_send (zwatch_upstream_t *self, zwatch_link_t *link, const zwatch_msg_t *msg)
{
    int size = zwatch_msg_encode (msg, self->buffer, sizeof (self->buffer));
    uint64_t events = msg->kind == ZWATCH_KIND_EVENT && msg->count? msg->count: 1;
    if (link)
        return zwatch_link_send (link, self->buffer, size, msg->kind, events);
    bool queued = false;
    for (size_t index = 0; index < self->link_count; index++)
        queued |= zwatch_link_send (self->links [index], self->buffer, size, msg->kind, events);
    return queued;
}

//  A hello and replay on link went whole, or not: then they go again
//  later. A broker that reconnects finds its queue still full of what
//  waited for it (the agent hears of the handshake before libzmq has
//  drained it), and without its replay its picture would stay partial.
static void
s_replay_done (zwatch_upstream_t *self, zwatch_link_t *link, bool whole)
{
    for (size_t index = 0; index < self->link_count; index++) {
        if (self->links [index] != link)
            continue;
        replay_retry_t *retry = &self->retries [index];
        if (whole) {
            retry->at = 0;
            retry->msecs = 0;
            continue;
        }
        retry->msecs = retry->msecs? retry->msecs * 2: REPLAY_RETRY_MIN;
        if (retry->msecs > REPLAY_RETRY_MAX)
            retry->msecs = REPLAY_RETRY_MAX;
        retry->at = zwatch_clock_mono_ms () + retry->msecs;
    }
}

//  hello, heartbeat or bye on one link, with that broker's own counters
static void
s_say (zwatch_upstream_t *self, zwatch_link_t *link, zwatch_kind_t kind)
{
    zwatch_link_counters_t counters;
    zwatch_link_counters (link, &counters);
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = kind;
    msg.host = s_str (self->host, strlen (self->host));
    msg.svc = s_str (self->service, strlen (self->service));
    msg.pid = self->pid;
    msg.start = self->start;
    msg.ts = zwatch_clock_wall_ns ();
    msg.seq = self->seq;
    msg.read = atomic_load (&self->read);
    msg.sent = counters.sent;
    msg.dropped = counters.dropped;
    msg.watched = atomic_load (&self->watched);
    bool whole = s_send (self, link, &msg);
    if (kind != ZWATCH_KIND_HELLO)
        return;
    //  Right behind the hello, before any event read after it: a broker
    //  new to us (first connect, restart, network cut) learns our state,
    //  and only that broker: the others have it already
    if (whole && self->replay) {
        self->replaying = link;
        self->replay_whole = false;
        self->replay (self->replay_arg);
        whole = self->replay_whole;
        self->replaying = NULL;
    }
    s_replay_done (self, link, whole);
}

//  A link reconnected (zwatch_link_hello_fn)
static void
s_link_hello (void *arg, zwatch_link_t *link)
{
    s_say ((zwatch_upstream_t *) arg, link, ZWATCH_KIND_HELLO);
}

//  Each link sends its frame of events. With one broker, the events of a
//  frame it did not take give their seqs back (they were the latest), so
//  seq still counts only events that entered the queue and a gap the
//  broker sees means loss after us. With several, the other brokers may
//  have those seqs: each link counts its own loss, and an event that no
//  link's frame took is not counted in dropped (lost to all) here.
void
zwatch_upstream_flush (zwatch_upstream_t *self)
{
    for (size_t index = 0; index < self->link_count; index++) {
        uint64_t lost = zwatch_link_flush (self->links [index]);
        if (lost && self->link_count == 1) {
            self->seq -= lost;
            atomic_fetch_sub (&self->sent, lost);
            atomic_fetch_add (&self->dropped, lost);
        }
    }
}

void
zwatch_upstream_say (zwatch_upstream_t *self, zwatch_kind_t kind)
{
    for (size_t index = 0; index < self->link_count; index++)
        s_say (self, self->links [index], kind);
}

void
zwatch_upstream_set_watched (zwatch_upstream_t *self, size_t watched)
{
    atomic_store (&self->watched, watched);
}

//  Identity and kind; the caller set the rest
static void
s_stamp (zwatch_upstream_t *self, zwatch_msg_t *msg, zwatch_kind_t kind)
{
    msg->kind = kind;
    msg->host = s_str (self->host, strlen (self->host));
    msg->svc = s_str (self->service, strlen (self->service));
    msg->pid = self->pid;
}

//  One event message standing for events monitor events (a folded storm:
//  more than one). seq numbers events: the message takes the next events
//  numbers and carries the last. seq only advances for events that enter
//  some queue, so with one broker a gap it sees means loss after the
//  agent, in events; each link counts its own drops, and an event no
//  queue took is dropped for all
static bool
s_event_send (zwatch_upstream_t *self, zwatch_msg_t *event, uint64_t events)
{
    s_stamp (self, event, ZWATCH_KIND_EVENT);
    const char *name = zwatch_event_name (event->code);
    event->event = s_str (name, strlen (name));
    event->seq = self->seq + events;
    if (s_send (self, NULL, event)) {
        self->seq += events;
        atomic_fetch_add (&self->sent, events);
        return true;
    }
    atomic_fetch_add (&self->dropped, events);
    return false;
}

bool
zwatch_upstream_event (zwatch_upstream_t *self, zwatch_msg_t *event)
{
    atomic_fetch_add (&self->read, 1);
    event->count = 0;
    return s_event_send (self, event, 1);
}

void
zwatch_upstream_held (zwatch_upstream_t *self)
{
    atomic_fetch_add (&self->read, 1);
    atomic_fetch_add (&self->folded, 1);
}

bool
zwatch_upstream_folded (zwatch_upstream_t *self, zwatch_msg_t *event)
{
    uint64_t events = event->count? event->count: 1;
    return s_event_send (self, event, events);
}

uint64_t
zwatch_upstream_folded_count (zwatch_upstream_t *self)
{
    return atomic_load (&self->folded);
}

bool
zwatch_upstream_state (zwatch_upstream_t *self, zwatch_msg_t *fact)
{
    s_stamp (self, fact, ZWATCH_KIND_STATE);
    fact->seq = self->seq;                  //  the picture's seq: states take none
    return s_send (self, self->replaying, fact);
}

bool
zwatch_upstream_state_end (zwatch_upstream_t *self, uint64_t count, uint64_t unsent)
{
    for (size_t index = 0; index < self->link_count; index++)
        if (!self->replaying || self->links [index] == self->replaying)
            zwatch_link_state_unsent (self->links [index], unsent);
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    s_stamp (self, &msg, ZWATCH_KIND_STATE_END);
    msg.ts = zwatch_clock_wall_ns ();
    msg.seq = self->seq;
    msg.count = count;
    bool sent = s_send (self, self->replaying, &msg);
    self->replay_whole = sent && unsent == 0;
    return sent;
}

void
zwatch_upstream_set_replay (zwatch_upstream_t *self, zwatch_upstream_replay_fn *replay, void *arg)
{
    self->replay = replay;
    self->replay_arg = arg;
}

uint64_t
zwatch_upstream_state_dropped (zwatch_upstream_t *self)
{
    uint64_t total = 0;
    for (size_t index = 0; index < self->link_count; index++) {
        zwatch_link_counters_t counters;
        zwatch_link_counters (self->links [index], &counters);
        total += counters.state_dropped;
    }
    return total;
}

size_t
zwatch_upstream_links (zwatch_upstream_t *self)
{
    return self->link_count;
}

zwatch_link_t *
zwatch_upstream_link (zwatch_upstream_t *self, size_t index)
{
    return index < self->link_count? self->links [index]: NULL;
}

uint64_t
zwatch_upstream_refused (zwatch_upstream_t *self)
{
    uint64_t total = 0;
    for (size_t index = 0; index < self->link_count; index++) {
        zwatch_link_counters_t counters;
        zwatch_link_counters (self->links [index], &counters);
        total += counters.refused;
    }
    return total;
}

int64_t
zwatch_upstream_retry_at (zwatch_upstream_t *self)
{
    int64_t first = 0;
    for (size_t index = 0; index < self->link_count; index++) {
        int64_t times [2] = { zwatch_link_retry_at (self->links [index]),
                              self->retries [index].at };
        for (int which = 0; which < 2; which++)
            if (times [which] && (!first || times [which] < first))
                first = times [which];
    }
    return first;
}

//  A link that is down gets its hello when it reconnects, not before
void
zwatch_upstream_tick (zwatch_upstream_t *self, int64_t now)
{
    for (size_t index = 0; index < self->link_count; index++) {
        zwatch_link_t *link = self->links [index];
        zwatch_link_tick (link, now);
        replay_retry_t *retry = &self->retries [index];
        if (!retry->at || now < retry->at)
            continue;
        zwatch_link_counters_t counters;
        zwatch_link_counters (link, &counters);
        if (counters.connected)
            s_say (self, link, ZWATCH_KIND_HELLO);
        else
            retry->at = now + retry->msecs;
    }
}

int
zwatch_upstream_set_queue (zwatch_upstream_t *self, int limit)
{
    for (size_t index = 0; index < self->link_count; index++)
        if (zwatch_link_set_queue (self->links [index], limit) != 0)
            return -1;
    return 0;
}

int
zwatch_upstream_set_curve (zwatch_upstream_t *self, const zwatch_curve_t *curve)
{
    int rc = 0;
    for (size_t index = 0; index < self->link_count; index++)
        if (zwatch_link_set_curve (self->links [index], curve) != 0)
            rc = -1;
    return rc;
}

bool
zwatch_upstream_local (zwatch_upstream_t *self)
{
    for (size_t index = 0; index < self->link_count; index++)
        if (zwatch_link_local (self->links [index]))
            return true;
    return false;
}

void
zwatch_upstream_counters (zwatch_upstream_t *self, uint64_t *read, uint64_t *sent,
                          uint64_t *dropped, uint64_t *watched)
{
    *read = atomic_load (&self->read);
    *sent = atomic_load (&self->sent);
    *dropped = atomic_load (&self->dropped);
    *watched = atomic_load (&self->watched);
}

zwatch_upstream_t *
zwatch_upstream_new (void *private_ctx, void *service_ctx, const zwatch_endpoints_t *brokers,
                     const char *host, const char *service, const zwatch_curve_t *curve)
{
    size_t count = zwatch_endpoints_size (brokers);
    if (count < 1 || count > ZWATCH_AGENT_BROKERS_MAX) {
        errno = EINVAL;
        return NULL;
    }
    zwatch_upstream_t *self = (zwatch_upstream_t *) calloc (1, sizeof (zwatch_upstream_t));
    if (!self)
        return NULL;
    snprintf (self->host, sizeof (self->host), "%s", host);
    snprintf (self->service, sizeof (self->service), "%s", service);
    self->pid = (uint64_t) getpid ();
    self->start = zwatch_clock_wall_ns ();
    for (size_t index = 0; index < count; index++) {
        const char *endpoint = zwatch_endpoints_get (brokers, index);
        //  A broker in the service's own context is only reachable from there
        bool local = strncmp (endpoint, "inproc://", 9) == 0;
        zwatch_link_t *link = zwatch_link_new (local? service_ctx: private_ctx, endpoint,
                                               local? NULL: curve, s_link_hello, self);
        if (!link) {
            int err = errno;
            zwatch_upstream_destroy (&self);
            errno = err;
            return NULL;
        }
        self->links [self->link_count++] = link;
    }
    return self;
}

void
zwatch_upstream_destroy (zwatch_upstream_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_upstream_t *self = *self_p;
    for (size_t index = 0; index < self->link_count; index++)
        zwatch_link_destroy (&self->links [index]);
    free (self);
    *self_p = NULL;
}
