/*  zwatch_upstream: the DEALER to the broker, its monitor, reconnection
    after a refused handshake, and the lifecycle messages.  */

#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include "zwatch_proto.h"
#include "zwatch_agent.h"
#include "zwatch_batch.h"
#include "zwatch_clock.h"
#include "zwatch_eintr.h"
#include "zwatch_identity.h"
#include "zwatch_log.h"
#include "zwatch_monitor.h"
#include "zwatch_upstream.h"

#define UPSTREAM_LINGER     500     //  msecs destroy waits to flush to the broker
#define UPSTREAM_RCVHWM     16      //  the broker sends only refusals, rarely; keep the queue small
#define REPLIES_MAX         16      //  broker messages read per call
#define RECONNECT_IVL_MAX   2000    //  msecs, libzmq's own reconnect back-off
#define REFUSED_RETRY_MIN   1000    //  msecs before reconnecting after a refused handshake,
#define REFUSED_RETRY_MAX   30000   //  doubling up to this

struct _zwatch_upstream_t {
    void *dealer;                   //  to the broker
    void *monitor;                  //  PAIR reading the dealer's own monitor
    char *broker_endpoint;          //  kept to reconnect with new CURVE keys
    bool local;                     //  inproc: the dealer lives in the service's context

    char host [ZWATCH_HOST_MAX + 1];
    char service [ZWATCH_SVC_MAX + 1];
    uint64_t pid;
    uint64_t start;
    uint64_t seq;                   //  last event seq assigned

    bool connected_before;
    bool handshake_warned;          //  said once that the broker refuses us
    int failed_handshakes;          //  since the last one that succeeded
    int64_t retry_at;               //  when to reconnect after a refused handshake; 0: no
    int retry_msecs;                //  the last such delay; 0 after a handshake succeeded
    bool down;                      //  the last connection attempt failed, or the link dropped
    bool linked;                    //  a handshake succeeded and the link has not dropped since

    atomic_uint_fast64_t read;
    atomic_uint_fast64_t sent;
    atomic_uint_fast64_t dropped;
    atomic_uint_fast64_t watched;
    atomic_uint_fast64_t state_dropped;     //  replay messages the queue did not take
    atomic_uint_fast64_t refused;           //  refusals the broker sent us
    bool refusal_told;              //  logged the first refusal (until new keys)

    zwatch_upstream_replay_fn *replay;      //  called after every hello
    void *replay_arg;
    zwatch_batch_t *batch;          //  the frame being filled; NULL: one message a frame
    char buffer [ZWATCH_MSG_MAX];   //  encode buffer, reused for every message
};

static zwatch_str_t
s_str (const char *text, size_t len)
{
    zwatch_str_t str = { text, len };
    return str;
}

void
zwatch_upstream_flush (zwatch_upstream_t *self)
{
    zwatch_batch_counts_t lost;
    if (!self->batch || zwatch_batch_send (self->batch, self->dealer, &lost) == 0)
        return;
    //  The frame held the latest seqs: give them back, so that seq still
    //  counts only events that entered the queue (a gap at the broker
    //  means loss after us), and count what it held as dropped
    self->seq -= lost.events;
    atomic_fetch_sub (&self->sent, lost.events);
    atomic_fetch_add (&self->dropped, lost.events);
    atomic_fetch_add (&self->state_dropped, lost.states);
}

//  Queue the message encoded in buffer without blocking; false if dropped.
//  It joins the frame being filled; unbatched, or until a handshake with
//  the broker succeeded (and again once the link drops), it goes alone,
//  so a queue that fills while no broker reads holds messages, as many as
//  its limit, not frames of them
static bool
s_send (zwatch_upstream_t *self, int size, bool event, bool state)
{
    if (size < 0)
        return false;
    if (!self->batch || !self->linked) {
        zwatch_upstream_flush (self);       //  what came before goes first
        return zmq_send (self->dealer, self->buffer, (size_t) size, ZMQ_DONTWAIT) == size;
    }
    if (!zwatch_batch_fits (self->batch, (size_t) size))
        zwatch_upstream_flush (self);
    zwatch_batch_add (self->batch, self->buffer, (size_t) size, event, state);
    return true;
}

void
zwatch_upstream_say (zwatch_upstream_t *self, zwatch_kind_t kind)
{
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
    msg.sent = atomic_load (&self->sent);
    msg.dropped = atomic_load (&self->dropped);
    msg.watched = atomic_load (&self->watched);
    s_send (self, zwatch_msg_encode (&msg, self->buffer, sizeof (self->buffer)), false, false);
    //  Right behind the hello, before any event read after it: a broker
    //  new to us (first connect, restart, network cut) learns our state
    if (kind == ZWATCH_KIND_HELLO && self->replay)
        self->replay (self->replay_arg);
    zwatch_upstream_flush (self);
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

bool
zwatch_upstream_event (zwatch_upstream_t *self, zwatch_msg_t *event)
{
    atomic_fetch_add (&self->read, 1);
    s_stamp (self, event, ZWATCH_KIND_EVENT);
    const char *name = zwatch_event_name (event->code);
    event->event = s_str (name, strlen (name));
    event->seq = self->seq + 1;
    //  seq only advances for events that enter the queue, so a gap the
    //  broker sees means loss after the agent, and drops are counted here
    if (s_send (self, zwatch_msg_encode (event, self->buffer, sizeof (self->buffer)), true, false)) {
        self->seq++;
        atomic_fetch_add (&self->sent, 1);
        return true;
    }
    atomic_fetch_add (&self->dropped, 1);
    return false;
}

bool
zwatch_upstream_state (zwatch_upstream_t *self, zwatch_msg_t *fact)
{
    s_stamp (self, fact, ZWATCH_KIND_STATE);
    fact->seq = self->seq;                  //  the picture's seq: states take none
    return s_send (self, zwatch_msg_encode (fact, self->buffer, sizeof (self->buffer)), false, true);
}

bool
zwatch_upstream_state_end (zwatch_upstream_t *self, uint64_t count, uint64_t unsent)
{
    atomic_fetch_add (&self->state_dropped, unsent);
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    s_stamp (self, &msg, ZWATCH_KIND_STATE_END);
    msg.ts = zwatch_clock_wall_ns ();
    msg.seq = self->seq;
    msg.count = count;
    if (s_send (self, zwatch_msg_encode (&msg, self->buffer, sizeof (self->buffer)), false, true))
        return true;
    atomic_fetch_add (&self->state_dropped, 1);
    return false;
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
    return atomic_load (&self->state_dropped);
}

//  Drop the connection (with what it holds), make a new one with the
//  socket's current options, and say hello on it
static int
s_reconnect (zwatch_upstream_t *self)
{
    zwatch_upstream_flush (self);   //  goes with the connection, counted as sent
    zmq_disconnect (self->dealer, self->broker_endpoint);
    self->linked = false;
    self->retry_at = 0;             //  this is the retry
    if (zmq_connect (self->dealer, self->broker_endpoint) != 0)
        return -1;
    self->connected_before = false;
    zwatch_upstream_say (self, ZWATCH_KIND_HELLO);
    return 0;
}

//  A handshake with the broker failed. After a refusal (AUTH, PROTOCOL)
//  libzmq gives up on the connection: retry it ourselves, backing off
//  (keys not deployed yet, say). After a connection error (NO_DETAIL)
//  libzmq retries by itself, and a reconnect of ours would drop what the
//  connection holds. Says once, until a handshake succeeds, that nothing
//  arrives; a lone NO_DETAIL (a broker going down mid-handshake) is no
//  reason to.
static void
s_handshake_failed (zwatch_upstream_t *self, uint16_t code, uint32_t value)
{
    bool refused = code != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    if (refused) {
        self->retry_msecs = self->retry_msecs? self->retry_msecs * 2: REFUSED_RETRY_MIN;
        if (self->retry_msecs > REFUSED_RETRY_MAX)
            self->retry_msecs = REFUSED_RETRY_MAX;
        self->retry_at = zwatch_clock_mono_ms () + self->retry_msecs;
    }
    self->failed_handshakes++;
    if (!self->handshake_warned && (refused || self->failed_handshakes >= 2)) {
        zwatch_log_warning ("broker %s refused the handshake (%s, %u): events are not "
                            "delivered; check ZWATCH_CURVE_SERVER_KEY and ZWATCH_CURVE_CERT",
                            self->broker_endpoint, zwatch_event_name (code), value);
        self->handshake_warned = true;
    }
}

void *
zwatch_upstream_monitor (zwatch_upstream_t *self)
{
    return self->monitor;
}

//  After a reconnection, say hello again so a restarted broker learns who we are
void
zwatch_upstream_handle_monitor (zwatch_upstream_t *self)
{
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (zmq_msg_recv (&frame, self->monitor, ZMQ_DONTWAIT) >= 0) {
        uint16_t code = 0;
        uint32_t value = 0;
        if (!zwatch_monitor_parse (zmq_msg_data (&frame), zmq_msg_size (&frame), &code, &value))
            code = 0;
        while (zmq_msg_more (&frame))
            if (zmq_msg_recv (&frame, self->monitor, ZMQ_DONTWAIT) < 0)
                break;
        if (code & (ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED)) {
            self->down = true;
            self->linked = false;
        }
        if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            self->down = false;
            self->linked = true;
            if (self->connected_before)
                zwatch_upstream_say (self, ZWATCH_KIND_HELLO);
            self->connected_before = true;
            self->handshake_warned = false;
            self->failed_handshakes = 0;
            self->retry_at = 0;             //  libzmq got through by itself
            self->retry_msecs = 0;
        }
        else
        if (code & ZWATCH_HANDSHAKE_FAILURES)
            s_handshake_failed (self, code, value);
    }
    zmq_msg_close (&frame);
}

void *
zwatch_upstream_socket (zwatch_upstream_t *self)
{
    return self->dealer;
}

//  What the broker says to us: refusals (PROTOCOL.md section 2, "Broker
//  to agent"). Never waits; reads at most REPLIES_MAX messages a call,
//  and skips whatever it does not understand.
void
zwatch_upstream_handle_replies (zwatch_upstream_t *self)
{
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    for (int count = 0; count < REPLIES_MAX; count++) {
        if (zmq_msg_recv (&frame, self->dealer, ZMQ_DONTWAIT) < 0)
            break;
        bool whole = !zmq_msg_more (&frame);
        while (zmq_msg_more (&frame))
            if (zmq_msg_recv (&frame, self->dealer, ZMQ_DONTWAIT) < 0)
                break;
        zwatch_refusal_t refusal;
        if (!whole || zwatch_refusal_decode (&refusal, zmq_msg_data (&frame),
                                             zmq_msg_size (&frame)) != 0)
            continue;
        atomic_fetch_add (&self->refused, 1);
        if (self->refusal_told)
            continue;
        self->refusal_told = true;
        if (refusal.reason.len == 13 && memcmp (refusal.reason.ptr, "host_mismatch", 13) == 0)
            zwatch_log_warning ("broker %s drops our messages: our certificate is for host "
                                "'%.*s', not '%.*s' (host_mismatch); set ZWATCH_HOST_ID=%.*s "
                                "or use that host's certificate", self->broker_endpoint,
                                (int) refusal.host.len, refusal.host.ptr, (int) refusal.sent.len,
                                refusal.sent.ptr, (int) refusal.host.len, refusal.host.ptr);
        else
            zwatch_log_warning ("broker %s refused our messages (%.*s)", self->broker_endpoint,
                                (int) refusal.reason.len, refusal.reason.ptr);
    }
    zmq_msg_close (&frame);
}

uint64_t
zwatch_upstream_refused (zwatch_upstream_t *self)
{
    return atomic_load (&self->refused);
}

int64_t
zwatch_upstream_retry_at (zwatch_upstream_t *self)
{
    return self->retry_at;
}

void
zwatch_upstream_tick (zwatch_upstream_t *self, int64_t now)
{
    if (self->retry_at && now >= self->retry_at)
        s_reconnect (self);
}

int
zwatch_upstream_set_queue (zwatch_upstream_t *self, int limit)
{
    return zmq_setsockopt (self->dealer, ZMQ_SNDHWM, &limit, sizeof (limit));
}

//  New keys apply from the next connection
int
zwatch_upstream_set_curve (zwatch_upstream_t *self, const zwatch_curve_t *curve)
{
    if (self->local)
        return 0;                   //  inproc has no security handshake
    if (zwatch_curve_apply (curve, self->dealer) != 0)
        return -1;
    self->handshake_warned = false;
    self->refusal_told = false;     //  new keys: a refusal is news again
    return s_reconnect (self);
}

bool
zwatch_upstream_local (zwatch_upstream_t *self)
{
    return self->local;
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

//  Made in the caller's thread: every libzmq call that processes commands
//  is retried on EINTR (zwatch_eintr.h)
zwatch_upstream_t *
zwatch_upstream_new (void *ctx, const char *broker_endpoint, const char *host,
                     const char *service, const zwatch_curve_t *curve)
{
    zwatch_upstream_t *self = (zwatch_upstream_t *) calloc (1, sizeof (zwatch_upstream_t));
    if (!self)
        return NULL;
    snprintf (self->host, sizeof (self->host), "%s", host);
    snprintf (self->service, sizeof (self->service), "%s", service);
    self->pid = (uint64_t) getpid ();
    self->start = zwatch_clock_wall_ns ();
    self->local = strncmp (broker_endpoint, "inproc://", 9) == 0;
    self->broker_endpoint = strdup (broker_endpoint);
    self->dealer = zmq_socket (ctx, ZMQ_DEALER);
    self->monitor = zmq_socket (ctx, ZMQ_PAIR);
    //  ZWATCH_BATCH=0: one message a frame, for a broker that predates batches
    const char *batch = getenv ("ZWATCH_BATCH");
    bool batching = !(batch && strcmp (batch, "0") == 0);
    if (batching)
        self->batch = zwatch_batch_new (ZWATCH_BATCH_MAX);
    int err = ENOMEM;
    if (self->broker_endpoint && self->dealer && self->monitor && (self->batch || !batching)) {
        int zero = 0, hwm = ZWATCH_AGENT_QUEUE_DEFAULT, rcvhwm = UPSTREAM_RCVHWM;
        int reconnect_max = RECONNECT_IVL_MAX;
        zmq_setsockopt (self->dealer, ZMQ_LINGER, &zero, sizeof (zero));
        zmq_setsockopt (self->monitor, ZMQ_LINGER, &zero, sizeof (zero));
        zmq_setsockopt (self->dealer, ZMQ_SNDHWM, &hwm, sizeof (hwm));
        zmq_setsockopt (self->dealer, ZMQ_RCVHWM, &rcvhwm, sizeof (rcvhwm));
        zmq_setsockopt (self->dealer, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof (reconnect_max));
        char endpoint [64];
        snprintf (endpoint, sizeof (endpoint), "inproc://zwatch-upstream-%p", (void *) self);
        //  The monitor before the connect: a refusal it missed would never be
        //  retried (libzmq gives up after one) nor reported
        if (zwatch_curve_apply (curve, self->dealer) == 0
        &&  ZWATCH_EINTR_RETRY (zmq_connect (self->monitor, endpoint)) == 0
        &&  ZWATCH_EINTR_RETRY (zmq_socket_monitor (self->dealer, endpoint,
                                ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED
                              | ZMQ_EVENT_CONNECT_RETRIED | ZWATCH_HANDSHAKE_FAILURES)) == 0
        &&  ZWATCH_EINTR_RETRY (zmq_connect (self->dealer, broker_endpoint)) == 0)
            return self;
        err = zmq_errno ();
    }
    else
    if (self->broker_endpoint)
        err = zmq_errno ();
    zwatch_upstream_destroy (&self);
    errno = err;
    return NULL;
}

void
zwatch_upstream_destroy (zwatch_upstream_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_upstream_t *self = *self_p;
    //  Is the broker there at all? (No hello after the bye, whatever it says)
    self->connected_before = false;
    if (self->monitor)
        zwatch_upstream_handle_monitor (self);
    //  Stop the dealer's monitor before closing the PAIR it writes to
    if (self->dealer)
        zmq_socket_monitor (self->dealer, NULL, 0);
    if (self->monitor)
        zmq_close (self->monitor);
    if (self->dealer) {
        zwatch_upstream_flush (self);
        int linger = self->down? 0: UPSTREAM_LINGER;
        zmq_setsockopt (self->dealer, ZMQ_LINGER, &linger, sizeof (linger));
        zmq_close (self->dealer);
    }
    zwatch_batch_destroy (&self->batch);
    free (self->broker_endpoint);
    free (self);
    *self_p = NULL;
}
