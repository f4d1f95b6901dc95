/*  zwatch_link: one broker's DEALER, its monitor, its queue's counters,
    and reconnection after a refused handshake.  */

#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "zwatch_agent.h"
#include "zwatch_batch.h"
#include "zwatch_clock.h"
#include "zwatch_eintr.h"
#include "zwatch_link.h"
#include "zwatch_log.h"
#include "zwatch_monitor.h"

#define LINK_LINGER         500     //  msecs destroy waits to flush to the broker
#define LINK_RCVHWM         16      //  the broker sends only refusals, rarely; keep the queue small
#define REPLIES_MAX         16      //  broker messages read per call
#define RECONNECT_IVL_MAX   2000    //  msecs, libzmq's own reconnect back-off
#define REFUSED_RETRY_MIN   1000    //  msecs before reconnecting after a refused handshake,
#define REFUSED_RETRY_MAX   30000   //  doubling up to this

struct _zwatch_link_t {
    void *dealer;                   //  to the broker
    void *monitor;                  //  PAIR reading the dealer's own monitor
    char *endpoint;                 //  kept to reconnect with new CURVE keys
    bool local;                     //  inproc: the dealer lives in the service's context
    zwatch_link_hello_fn *hello;    //  after every reconnection
    void *hello_arg;

    bool connected_before;
    bool handshake_warned;          //  said once that the broker refuses us
    int failed_handshakes;          //  since the last one that succeeded
    int64_t retry_at;               //  when to reconnect after a refused handshake; 0: no
    int retry_msecs;                //  the last such delay; 0 after a handshake succeeded
    bool down;                      //  the last connection attempt failed, or the link dropped
    bool refusal_told;              //  logged the first refusal (until new keys)
    zwatch_batch_t *batch;          //  the frame of events being filled; NULL: one a frame

    atomic_uint_fast64_t sent;
    atomic_uint_fast64_t dropped;
    atomic_uint_fast64_t state_dropped;     //  replay messages the queue did not take
    atomic_uint_fast64_t refused;           //  refusals the broker sent us
    atomic_bool connected;
};

//  Send the frame being filled; the events of a frame libzmq did not take
//  are this broker's drops. Returns how many.
uint64_t
zwatch_link_flush (zwatch_link_t *self)
{
    uint64_t lost = 0;
    if (self->batch && zwatch_batch_send (self->batch, self->dealer, &lost) != 0) {
        atomic_fetch_sub (&self->sent, lost);
        atomic_fetch_add (&self->dropped, lost);
    }
    return lost;
}

//  The one place a message goes to the broker. Once a handshake
//  succeeded, events join the frame being filled; until then, while the
//  link is down, and for every other kind (hello, replay, heartbeat, bye,
//  whose fate the caller must know at once) a message is a frame of its
//  own, after what was batched before it. So a queue that fills while no
//  broker reads holds the limit in messages, not in frames of them.
bool
zwatch_link_send (zwatch_link_t *self, const void *data, int size, zwatch_kind_t kind,
                  uint64_t events)
{
    bool queued = false;
    if (size >= 0 && kind == ZWATCH_KIND_EVENT && self->batch && atomic_load (&self->connected)) {
        if (!zwatch_batch_fits (self->batch, (size_t) size))
            zwatch_link_flush (self);
        zwatch_batch_add (self->batch, data, (size_t) size, events);
        queued = true;
    }
    else
    if (size >= 0) {
        zwatch_link_flush (self);
        queued = zmq_send (self->dealer, data, (size_t) size, ZMQ_DONTWAIT) == size;
    }
    if (kind == ZWATCH_KIND_EVENT)
        atomic_fetch_add (queued? &self->sent: &self->dropped, events);
    else        //  a state not taken is in its state_end's unsent (zwatch_link_state_unsent)
    if (!queued && kind == ZWATCH_KIND_STATE_END)
        atomic_fetch_add (&self->state_dropped, 1);
    return queued;
}

void
zwatch_link_state_unsent (zwatch_link_t *self, uint64_t unsent)
{
    atomic_fetch_add (&self->state_dropped, unsent);
}

//  Drop the connection (with what it holds), make a new one with the
//  socket's current options, and say hello on it
static int
s_reconnect (zwatch_link_t *self)
{
    zwatch_link_flush (self);       //  goes with the connection
    zmq_disconnect (self->dealer, self->endpoint);
    self->retry_at = 0;             //  this is the retry
    if (zmq_connect (self->dealer, self->endpoint) != 0)
        return -1;
    self->connected_before = false;
    self->hello (self->hello_arg, self);
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
s_handshake_failed (zwatch_link_t *self, uint16_t code, uint32_t value)
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
                            self->endpoint, zwatch_event_name (code), value);
        self->handshake_warned = true;
    }
}

void *
zwatch_link_monitor (zwatch_link_t *self)
{
    return self->monitor;
}

//  After a reconnection, say hello again so a restarted broker learns who we are
void
zwatch_link_handle_monitor (zwatch_link_t *self)
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
            atomic_store (&self->connected, false);
        }
        if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            self->down = false;
            atomic_store (&self->connected, true);
            if (self->connected_before)
                self->hello (self->hello_arg, self);
            self->connected_before = true;
            self->handshake_warned = false;
            self->failed_handshakes = 0;
            self->retry_at = 0;             //  libzmq got through by itself
            self->retry_msecs = 0;
        }
        else
        if (code & ZWATCH_HANDSHAKE_FAILURES) {
            atomic_store (&self->connected, false);
            s_handshake_failed (self, code, value);
        }
    }
    zmq_msg_close (&frame);
}

void *
zwatch_link_socket (zwatch_link_t *self)
{
    return self->dealer;
}

//  What the broker says to us: refusals (PROTOCOL.md section 2, "Broker
//  to agent"). Never waits; reads at most REPLIES_MAX messages a call,
//  and skips whatever it does not understand.
void
zwatch_link_handle_replies (zwatch_link_t *self)
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
                                "or use that host's certificate", self->endpoint,
                                (int) refusal.host.len, refusal.host.ptr, (int) refusal.sent.len,
                                refusal.sent.ptr, (int) refusal.host.len, refusal.host.ptr);
        else
            zwatch_log_warning ("broker %s refused our messages (%.*s)", self->endpoint,
                                (int) refusal.reason.len, refusal.reason.ptr);
    }
    zmq_msg_close (&frame);
}

int64_t
zwatch_link_retry_at (zwatch_link_t *self)
{
    return self->retry_at;
}

void
zwatch_link_tick (zwatch_link_t *self, int64_t now)
{
    if (self->retry_at && now >= self->retry_at)
        s_reconnect (self);
}

int
zwatch_link_set_queue (zwatch_link_t *self, int limit)
{
    return zmq_setsockopt (self->dealer, ZMQ_SNDHWM, &limit, sizeof (limit));
}

//  New keys apply from the next connection
int
zwatch_link_set_curve (zwatch_link_t *self, const zwatch_curve_t *curve)
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
zwatch_link_local (zwatch_link_t *self)
{
    return self->local;
}

const char *
zwatch_link_endpoint (zwatch_link_t *self)
{
    return self->endpoint;
}

void
zwatch_link_counters (zwatch_link_t *self, zwatch_link_counters_t *counters)
{
    counters->sent = atomic_load (&self->sent);
    counters->dropped = atomic_load (&self->dropped);
    counters->state_dropped = atomic_load (&self->state_dropped);
    counters->refused = atomic_load (&self->refused);
    counters->connected = atomic_load (&self->connected);
}

//  Made in the caller's thread: every libzmq call that processes commands
//  is retried on EINTR (zwatch_eintr.h)
zwatch_link_t *
zwatch_link_new (void *ctx, const char *endpoint, const zwatch_curve_t *curve,
                 zwatch_link_hello_fn *hello, void *hello_arg)
{
    zwatch_link_t *self = (zwatch_link_t *) calloc (1, sizeof (zwatch_link_t));
    if (!self)
        return NULL;
    self->hello = hello;
    self->hello_arg = hello_arg;
    self->local = strncmp (endpoint, "inproc://", 9) == 0;
    atomic_store (&self->connected, self->local);     //  inproc has no handshake to wait for
    self->endpoint = strdup (endpoint);
    //  ZWATCH_BATCH=0: one message a frame, for a broker that predates
    //  batches; inproc: the broker reads in the service's own process
    const char *batch = getenv ("ZWATCH_BATCH");
    bool batching = !self->local && !(batch && strcmp (batch, "0") == 0);
    if (batching)
        self->batch = zwatch_batch_new (ZWATCH_BATCH_MAX);
    self->dealer = zmq_socket (ctx, ZMQ_DEALER);
    self->monitor = zmq_socket (ctx, ZMQ_PAIR);
    int err = ENOMEM;
    if (self->endpoint && self->dealer && self->monitor && (self->batch || !batching)) {
        int zero = 0, hwm = ZWATCH_AGENT_QUEUE_DEFAULT, rcvhwm = LINK_RCVHWM;
        int reconnect_max = RECONNECT_IVL_MAX;
        zmq_setsockopt (self->dealer, ZMQ_LINGER, &zero, sizeof (zero));
        zmq_setsockopt (self->monitor, ZMQ_LINGER, &zero, sizeof (zero));
        zmq_setsockopt (self->dealer, ZMQ_SNDHWM, &hwm, sizeof (hwm));
        zmq_setsockopt (self->dealer, ZMQ_RCVHWM, &rcvhwm, sizeof (rcvhwm));
        zmq_setsockopt (self->dealer, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof (reconnect_max));
        char monitor_endpoint [64];
        snprintf (monitor_endpoint, sizeof (monitor_endpoint), "inproc://zwatch-link-%p",
                  (void *) self);
        //  The monitor before the connect: a refusal it missed would never be
        //  retried (libzmq gives up after one) nor reported
        if (zwatch_curve_apply (curve, self->dealer) == 0
        &&  ZWATCH_EINTR_RETRY (zmq_connect (self->monitor, monitor_endpoint)) == 0
        &&  ZWATCH_EINTR_RETRY (zmq_socket_monitor (self->dealer, monitor_endpoint,
                                ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED
                              | ZMQ_EVENT_CONNECT_RETRIED | ZWATCH_HANDSHAKE_FAILURES)) == 0
        &&  ZWATCH_EINTR_RETRY (zmq_connect (self->dealer, endpoint)) == 0)
            return self;
        err = zmq_errno ();
    }
    else
    if (self->endpoint)
        err = zmq_errno ();
    zwatch_link_destroy (&self);
    errno = err;
    return NULL;
}

void
zwatch_link_destroy (zwatch_link_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_link_t *self = *self_p;
    //  Is the broker there at all? (No hello after the bye, whatever it says)
    self->connected_before = false;
    if (self->monitor)
        zwatch_link_handle_monitor (self);
    //  Stop the dealer's monitor before closing the PAIR it writes to
    if (self->dealer)
        zmq_socket_monitor (self->dealer, NULL, 0);
    if (self->monitor)
        zmq_close (self->monitor);
    if (self->dealer) {
        zwatch_link_flush (self);
        int linger = self->down? 0: LINK_LINGER;
        zmq_setsockopt (self->dealer, ZMQ_LINGER, &linger, sizeof (linger));
        zmq_close (self->dealer);
    }
    zwatch_batch_destroy (&self->batch);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}
