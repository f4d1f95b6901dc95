/*  zwatch_engine: the agent's thread and the loop that ties its parts.

    The public zwatch_agent hands it one command at a time over an inproc
    PAIR pipe (zwatch_engine_call); the loop waits on that pipe, on the
    links' monitors and sockets (zwatch_link) and on the watch set's epoll fd
    (zwatch_watchset), reads the readers first (libzmq may be blocking a
    service thread on them), batches reads in an event storm, and keeps
    the heartbeat, reconnection and tee timers. The pipe and (unless a
    broker is inproc) the links live in a private context, so the
    service's context termination never waits on a broker link.
*/

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include "zwatch_eintr.h"
#include "zwatch_clock.h"
#include "zwatch_engine.h"
#include "zwatch_guard.h"
#include "zwatch_upstream.h"
#include "zwatch_watchset.h"

#define TEE_RETRY_MSECS     10      //  retry interval while a tee holds events
#define COALESCE_USECS      250     //  in a storm, let events gather this long per wake-up
#define STORM_EVENTS        16      //  events within one msec that make a storm
#define POLL_ITEMS          (2 + 2 * ZWATCH_AGENT_BROKERS_MAX)

struct _zwatch_engine_t {
    void *service_ctx;
    void *private_ctx;              //  pipe, and upstream unless it is inproc
    void *pipe_front;               //  callers' end of the command pipe
    void *pipe_back;                //  engine's end
    zwatch_upstream_t *upstream;
    zwatch_watchset_t *watchset;
    _Atomic (void *) moving;        //  see zwatch_engine_moving
    pthread_t thread;
    int heartbeat_msecs;
    int64_t next_heartbeat;         //  monotonic msecs
    bool tees_holding;              //  some tee holds events to retry
};

static void
s_sleep_usecs (long usecs)
{
    struct timespec pause = { 0, usecs * 1000 };
    nanosleep (&pause, NULL);
}

static void
s_fail (zwatch_engine_command_t *command, int err)
{
    command->rc = -1;
    command->err = err;
}

//  Run one command; its result goes into it (rc, err, out fields)
static void
s_handle_command (zwatch_engine_t *self, zwatch_engine_command_t *command)
{
    zwatch_watchset_t *watchset = self->watchset;
    int rc = 0;
    command->rc = 0;
    switch (command->op) {
        case ENGINE_WATCH:
            rc = zwatch_watchset_add (watchset, command->socket, command->ctx, command->type,
                                      command->label, command->label_prefix,
                                      command->endpoint, sizeof (command->endpoint));
            break;
        case ENGINE_RELEASE:
            zwatch_watchset_release (watchset, command->socket);
            break;
        case ENGINE_CHECK:
            rc = zwatch_watchset_check (watchset, command->socket);
            break;
        case ENGINE_LIST:
            command->list_size = zwatch_watchset_list (watchset, command->list, command->list_max);
            break;
        case ENGINE_SET_QUEUE:
            rc = zwatch_upstream_set_queue (self->upstream, command->value);
            break;
        case ENGINE_SET_CONNECTIONS:
            zwatch_watchset_set_connections (watchset, (size_t) command->value);
            break;
        case ENGINE_SET_HEARTBEAT:
            self->heartbeat_msecs = command->value;
            self->next_heartbeat = zwatch_clock_mono_ms () + command->value;
            break;
        case ENGINE_SET_CURVE:
            rc = zwatch_upstream_set_curve (self->upstream, command->curve);
            break;
        case ENGINE_TEE:
            rc = zwatch_watchset_move_adopt (watchset, command->socket, command->reader,
                                             command->tee_endpoint, command->events,
                                             &command->value);
            break;
        case ENGINE_TEE_FAILED:
            zwatch_watchset_move_failed (watchset, command->socket);
            break;
        case ENGINE_BIND_FAILED:
            command->value = zwatch_watchset_bind_failed (watchset, command->socket);
            rc = command->value < 0? -1: 0;
            break;
        case ENGINE_CLOSING:
            rc = zwatch_watchset_closing (watchset, command->socket);
            break;
        case ENGINE_RELEASE_CTX:
            zwatch_watchset_release_ctx (watchset, command->ctx, command->value);
            break;
        case ENGINE_SET_FOLD:
            rc = zwatch_watchset_set_fold (watchset, command->value != 0);
            break;
    }
    if (rc != 0)
        s_fail (command, errno);
}

//  Returns false when the TERM command (a NULL command) arrived
static bool
s_handle_pipe (zwatch_engine_t *self)
{
    zwatch_engine_command_t *command;
    while (zmq_recv (self->pipe_back, &command, sizeof (command), ZMQ_DONTWAIT) == sizeof (command)) {
        if (!command)
            return false;
        s_handle_command (self, command);
        char done = 1;
        zmq_send (self->pipe_back, &done, 1, 0);
    }
    return true;
}

//  zmq_poll said ETERM: the service's context ended under a local link
//  (inproc broker). Read what the readers hold, let go of it all
static void
s_context_ended (zwatch_engine_t *self)
{
    zwatch_watchset_drain_all (self->watchset);
    for (size_t index = 0; index < zwatch_upstream_links (self->upstream); index++) {
        zwatch_link_t *link = zwatch_upstream_link (self->upstream, index);
        int events;
        size_t size = sizeof (events);
        if (zwatch_link_local (link)
        &&  zmq_getsockopt (zwatch_link_monitor (link), ZMQ_EVENTS, &events, &size) != 0
        &&  zmq_errno () == ETERM) {
            zwatch_watchset_ctx_gone (self->watchset, self->service_ctx);
            break;
        }
    }
}

//  The pipe, the watch set (its epoll fd: some reader has events), then
//  each link's monitor and what its broker says to us; once the service's
//  context is gone a local link is gone too. Returns the items used.
static int
s_poll_items (zwatch_engine_t *self, zmq_pollitem_t *items, zwatch_link_t **links)
{
    items [0] = (zmq_pollitem_t) { self->pipe_back, 0, ZMQ_POLLIN, 0 };
    items [1] = (zmq_pollitem_t) { NULL, zwatch_watchset_fd (self->watchset), ZMQ_POLLIN, 0 };
    int count = 2;
    bool ctx_gone = zwatch_watchset_service_ctx_gone (self->watchset);
    for (size_t index = 0; index < zwatch_upstream_links (self->upstream); index++) {
        zwatch_link_t *link = zwatch_upstream_link (self->upstream, index);
        if (ctx_gone && zwatch_link_local (link))
            continue;
        links [count] = links [count + 1] = link;
        items [count++] = (zmq_pollitem_t) { zwatch_link_monitor (link), 0, ZMQ_POLLIN, 0 };
        items [count++] = (zmq_pollitem_t) { zwatch_link_socket (link), 0, ZMQ_POLLIN, 0 };
    }
    return count;
}

//  Msecs until the next timer, 0 if readers still have events to read
static long
s_timeout (zwatch_engine_t *self)
{
    if (zwatch_watchset_ready (self->watchset))
        return 0;
    int64_t now = zwatch_clock_mono_ms ();
    int64_t timeout = self->next_heartbeat - now;
    if (self->tees_holding && timeout > TEE_RETRY_MSECS)
        timeout = TEE_RETRY_MSECS;
    int64_t retry_at = zwatch_upstream_retry_at (self->upstream);
    if (retry_at && retry_at - now < timeout)
        timeout = retry_at - now;
    int64_t fold_due = zwatch_watchset_due (self->watchset);
    if (fold_due && fold_due - now < timeout)
        timeout = fold_due - now;
    return timeout > 0? (long) timeout: 0;
}

static void *
s_engine_thread (void *args)
{
    zwatch_engine_t *self = (zwatch_engine_t *) args;
    //  Every libzmq call on this thread is the agent's own, never the
    //  service's: libzwatch-preload passes them straight through
    zwatch_guard_enter ();
    pthread_setname_np (pthread_self (), "zwatch-agent");     //  for top -H, perf, gdb
    zwatch_upstream_say (self->upstream, ZWATCH_KIND_HELLO);
    self->next_heartbeat = zwatch_clock_mono_ms () + self->heartbeat_msecs;
    zmq_pollitem_t items [POLL_ITEMS];
    zwatch_link_t *links [POLL_ITEMS];
    bool running = true;
    bool in_storm = false;          //  the last msec with events had a storm of them
    int64_t storm_msec = 0;
    uint64_t storm_events = 0;
    while (running) {
        int count = s_poll_items (self, items, links);
        int rc = zmq_poll (items, count, s_timeout (self));
        if (rc < 0) {
            if (zmq_errno () == ETERM)
                s_context_ended (self);
            continue;
        }
        //  Each wake-up costs several syscalls: in a storm (many events in
        //  the last msec) let more gather, so one wake-up reads many.
        //  Otherwise events are read at once: CONNECTED and ACCEPTED need
        //  their fd still open to tell the peer.
        int64_t now = zwatch_clock_mono_ms ();
        if (now != storm_msec) {
            in_storm = storm_events >= STORM_EVENTS;
            storm_msec = now;
            storm_events = 0;
        }
        uint64_t read_before, read_after, sent, dropped, watched;
        zwatch_upstream_counters (self->upstream, &read_before, &sent, &dropped, &watched);
        bool readers = (items [1].revents & ZMQ_POLLIN) || zwatch_watchset_ready (self->watchset);
        if (in_storm && readers)
            s_sleep_usecs (COALESCE_USECS);
        //  Readers first: libzmq may be blocking a service thread on them
        if (readers)
            zwatch_watchset_read (self->watchset);
        zwatch_upstream_counters (self->upstream, &read_after, &sent, &dropped, &watched);
        storm_events += read_after - read_before;
        for (int item = 2; item < count; item += 2) {
            if (items [item].revents & ZMQ_POLLIN)
                zwatch_link_handle_monitor (links [item]);
            if (items [item + 1].revents & ZMQ_POLLIN)
                zwatch_link_handle_replies (links [item + 1]);
        }
        if (items [0].revents & ZMQ_POLLIN)
            running = s_handle_pipe (self);
        now = zwatch_clock_mono_ms ();
        if (now >= self->next_heartbeat) {
            zwatch_upstream_say (self->upstream, ZWATCH_KIND_HEARTBEAT);
            self->next_heartbeat = now + self->heartbeat_msecs;
        }
        zwatch_upstream_tick (self->upstream, now);
        zwatch_watchset_tick (self->watchset, now);
        if (zwatch_watchset_has_tees (self->watchset))
            self->tees_holding = zwatch_watchset_flush_tees (self->watchset);
        //  Nothing more to read right now: what this turn encoded goes out
        zwatch_upstream_flush (self->upstream);
    }
    zwatch_watchset_drain_all (self->watchset);
    zwatch_watchset_set_fold (self->watchset, false);      //  what storms hold goes before bye
    zwatch_upstream_say (self->upstream, ZWATCH_KIND_BYE);
    zwatch_upstream_set_replay (self->upstream, NULL, NULL);
    zwatch_watchset_destroy (&self->watchset);
    zwatch_upstream_destroy (&self->upstream);
    zmq_close (self->pipe_back);
    return NULL;
}

//  The command pipe, in the private context. In the caller's thread:
//  every call that processes commands is retried on EINTR
static int
s_setup_pipe (zwatch_engine_t *self)
{
    char endpoint [64];
    self->pipe_back = zmq_socket (self->private_ctx, ZMQ_PAIR);
    self->pipe_front = zmq_socket (self->private_ctx, ZMQ_PAIR);
    if (!self->pipe_back || !self->pipe_front)
        return -1;
    int zero = 0;
    zmq_setsockopt (self->pipe_back, ZMQ_LINGER, &zero, sizeof (zero));
    zmq_setsockopt (self->pipe_front, ZMQ_LINGER, &zero, sizeof (zero));
    snprintf (endpoint, sizeof (endpoint), "inproc://zwatch-pipe-%p", (void *) self);
    if (ZWATCH_EINTR_RETRY (zmq_bind (self->pipe_back, endpoint)) != 0
    ||  ZWATCH_EINTR_RETRY (zmq_connect (self->pipe_front, endpoint)) != 0)
        return -1;
    return 0;
}

//  Undo a half-made engine (in the caller's thread); NULL with errno err
static zwatch_engine_t *
s_new_failed (zwatch_engine_t *self, int err)
{
    zwatch_watchset_destroy (&self->watchset);
    zwatch_upstream_destroy (&self->upstream);
    if (self->pipe_back)
        zmq_close (self->pipe_back);
    if (self->pipe_front)
        zmq_close (self->pipe_front);
    if (self->private_ctx)
        ZWATCH_EINTR_RETRY (zmq_ctx_term (self->private_ctx));
    free (self);
    errno = err;
    return NULL;
}

zwatch_engine_t *
zwatch_engine_new (void *service_ctx, const zwatch_endpoints_t *brokers, const char *host,
                   const char *service, const zwatch_curve_t *curve)
{
    zwatch_engine_t *self = (zwatch_engine_t *) calloc (1, sizeof (zwatch_engine_t));
    if (!self)
        return NULL;
    self->service_ctx = service_ctx;
    self->heartbeat_msecs = ZWATCH_AGENT_HEARTBEAT_DEFAULT;
    self->private_ctx = zmq_ctx_new ();
    if (!self->private_ctx)
        return s_new_failed (self, zmq_errno ());
    zmq_ctx_set (self->private_ctx, ZMQ_IO_THREADS, 1);
    if (s_setup_pipe (self) != 0)
        return s_new_failed (self, zmq_errno ());
    self->upstream = zwatch_upstream_new (self->private_ctx, service_ctx, brokers, host,
                                          service, curve);
    if (!self->upstream)
        return s_new_failed (self, errno);
    self->watchset = zwatch_watchset_new (service_ctx, self->upstream, &self->moving);
    if (!self->watchset)
        return s_new_failed (self, errno);
    zwatch_upstream_set_replay (self->upstream, zwatch_watchset_replay, self->watchset);
    //  Signals stay with the service's threads, as libzmq does for its own
    //  (a SIGINT must interrupt the service's blocking calls, not ours)
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_SETMASK, &all, &old);
    int rc = pthread_create (&self->thread, NULL, s_engine_thread, self);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return s_new_failed (self, rc);
    return self;
}

//  A signal on the caller's thread interrupts libzmq's blocking calls
//  (EINTR) but not the engine: retry until the command is sent and its
//  reply has come, so no reply outlives the frame that asked for it and
//  no caller reads another call's reply
void
zwatch_engine_call (zwatch_engine_t *self, zwatch_engine_command_t *command)
{
    char done;
    int rc = ZWATCH_EINTR_RETRY (zmq_send (self->pipe_front, &command, sizeof (command), 0));
    if (rc == sizeof (command))
        rc = ZWATCH_EINTR_RETRY (zmq_recv (self->pipe_front, &done, 1, 0));
    if (rc < 0) {
        command->rc = -1;
        command->err = zmq_errno ();
    }
}

_Atomic (void *) *
zwatch_engine_moving (zwatch_engine_t *self)
{
    return &self->moving;
}

void
zwatch_engine_stats (zwatch_engine_t *self, zwatch_agent_stats_t *stats)
{
    zwatch_upstream_counters (self->upstream, &stats->read, &stats->sent, &stats->dropped,
                              &stats->watched);
    stats->skipped = zwatch_watchset_skipped (self->watchset);
    stats->untracked = zwatch_watchset_untracked (self->watchset);
    stats->state_dropped = zwatch_upstream_state_dropped (self->upstream);
    stats->refused = zwatch_upstream_refused (self->upstream);
}

void
zwatch_engine_fold_stats (zwatch_engine_t *self, uint64_t *folded, uint64_t *unfolded)
{
    *folded = zwatch_upstream_folded_count (self->upstream);
    *unfolded = zwatch_watchset_unfolded (self->watchset);
}

size_t
zwatch_engine_brokers (zwatch_engine_t *self)
{
    return zwatch_upstream_links (self->upstream);
}

int
zwatch_engine_broker_stats (zwatch_engine_t *self, size_t index,
                            zwatch_agent_broker_stats_t *stats)
{
    zwatch_link_t *link = zwatch_upstream_link (self->upstream, index);
    if (!link) {
        errno = ERANGE;
        return -1;
    }
    zwatch_link_counters_t counters;
    zwatch_link_counters (link, &counters);
    memset (stats, 0, sizeof (*stats));
    stats->endpoint = zwatch_link_endpoint (link);
    stats->connected = counters.connected;
    stats->sent = counters.sent;
    stats->dropped = counters.dropped;
    stats->state_dropped = counters.state_dropped;
    stats->refused = counters.refused;
    return 0;
}

void
zwatch_engine_destroy (zwatch_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_engine_t *self = *self_p;
    zwatch_engine_command_t *term = NULL;
    ZWATCH_EINTR_RETRY (zmq_send (self->pipe_front, &term, sizeof (term), 0));
    pthread_join (self->thread, NULL);
    //  The thread closed its own sockets; close ours, then the context
    //  (bounded by the upstream's linger)
    zmq_close (self->pipe_front);
    ZWATCH_EINTR_RETRY (zmq_ctx_term (self->private_ctx));
    free (self);
    *self_p = NULL;
}
