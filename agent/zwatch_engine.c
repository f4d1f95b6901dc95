/*  zwatch_engine: the agent thread. Reads monitor events from inproc PAIR
    readers, re-encodes them (proto/), and forwards them upstream without
    ever blocking: the upstream DEALER's send queue (ZMQ_SNDHWM) is the
    bounded queue, and a full queue drops the event and counts it.
*/

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include "zwatch_proto.h"
#include "zwatch_clock.h"
#include "zwatch_engine.h"
#include "zwatch_guard.h"
#include "zwatch_identity.h"
#include "zwatch_log.h"
#include "zwatch_tee.h"

#define READER_RCVHWM       10000   //  events a reader holds before libzmq blocks the service
#define DRAIN_BUDGET        512     //  events read from one reader per turn (fairness)
#define UPSTREAM_LINGER     500     //  msecs destroy waits to flush to the broker
#define SETTLE_QUIET_MSECS  30      //  destroy: readers quiet this long are settled
#define SETTLE_MAX_MSECS    300     //  destroy: never wait longer than this
#define CLOSING_MAX_MSECS   1000    //  release_ctx: wait this long at most for closed sockets
#define TEE_RETRY_MSECS     10      //  retry interval while a tee holds events
#define COALESCE_USECS      250     //  in a storm, let events gather this long per wake-up
#define STORM_EVENTS        16      //  events within one msec that make a storm
#define REFUSED_RETRY_MIN   1000    //  msecs before reconnecting after a refused handshake,
#define REFUSED_RETRY_MAX   30000   //  doubling up to this
#define HANDSHAKE_FAILURES  (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL \
                           | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

typedef struct {
    void *socket;                   //  the service's socket: identity only, never used here
    void *reader;                   //  our PAIR on its monitor endpoint
    void *ctx;                      //  the context both live in
    zwatch_tee_t *tee;              //  copy for the service's own monitor, or NULL
    struct {                        //  a switch the service's zmq_socket_monitor asked for:
        bool set;                   //  the monitor moves to reader (its MONITOR_STOPPED on
        void *reader;               //  the current reader marks the exact moment of the
        zwatch_tee_t *tee;          //  call), and from there on the copy goes to tee (NULL: none)
    } next;
    bool closing;                   //  the service closed it: MONITOR_STOPPED is coming
    int bind_failed;                //  errno of its last BIND_FAILED not asked for, or 0
    const char *stype;
    char label [ZWATCH_SOCK_MAX + 1];
} watch_t;

struct _zwatch_engine_t {
    void *service_ctx;
    void *private_ctx;              //  pipe, upstream and its monitor live here
    void *pipe_front;               //  callers' end of the command pipe
    void *pipe_back;                //  engine's end
    zwatch_engine_command_t *stashed;   //  read off the pipe early (s_claim_switch), not run yet
    zwatch_engine_command_t *arming;    //  the ENGINE_TEE being run, until its move is armed
    bool stashed_any;
    void *upstream;                 //  DEALER to the broker
    void *upstream_events;          //  PAIR reading the upstream's own monitor
    char *broker_endpoint;          //  kept to reconnect with new CURVE keys
    bool upstream_local;            //  inproc: the upstream lives in service_ctx
    pthread_t thread;
    bool thread_started;

    watch_t *watches;
    size_t watch_count;
    size_t watch_capacity;
    zmq_pollitem_t *items;          //  pipe, upstream events, then one per watch
    bool items_dirty;
    bool service_ctx_gone;          //  the service terminated its context
    size_t tee_count;               //  watches with a tee
    bool tees_holding;              //  some tee holds events to retry
    unsigned type_counters [32];    //  for "<STYPE>-<n>" labels
    unsigned long endpoint_counter;

    char host [ZWATCH_HOST_MAX + 1];
    char service [ZWATCH_SVC_MAX + 1];
    uint64_t pid;
    uint64_t start;
    uint64_t seq;                   //  last event seq assigned
    int heartbeat_msecs;
    int64_t next_heartbeat;         //  monotonic msecs
    bool connected_before;
    bool handshake_warned;          //  said once that the broker refuses us
    int failed_handshakes;          //  since the last one that succeeded
    int64_t retry_at;               //  when to reconnect after a refused handshake; 0: no
    int retry_msecs;                //  the last such delay; 0 after a handshake succeeded
    bool upstream_down;             //  the last connection attempt failed, or the link dropped

    atomic_uint_fast64_t read;
    atomic_uint_fast64_t sent;
    atomic_uint_fast64_t dropped;
    atomic_uint_fast64_t watched;

    char buffer [ZWATCH_MSG_MAX];   //  encode buffer, reused for every message
};

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void
s_sleep_usecs (long usecs)
{
    struct timespec pause = { 0, usecs * 1000 };
    nanosleep (&pause, NULL);
}

static zwatch_str_t
s_str (const char *text, size_t len)
{
    zwatch_str_t str = { text, len };
    return str;
}

//  Send one encoded message upstream without blocking; false if dropped
static bool
s_send_upstream (zwatch_engine_t *self, int size)
{
    if (size < 0)
        return false;
    return zmq_send (self->upstream, self->buffer, (size_t) size, ZMQ_DONTWAIT) == size;
}

//  hello, heartbeat or bye, with the agent's identity and counters
static void
s_send_lifecycle (zwatch_engine_t *self, zwatch_kind_t kind)
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
    s_send_upstream (self, zwatch_msg_encode (&msg, self->buffer, sizeof (self->buffer)));
}

//  Endpoints go on terminals: keep them printable and within the limit
static size_t
s_clean_endpoint (const char *data, size_t size, char *clean)
{
    if (size > ZWATCH_ENDPOINT_MAX)
        size = ZWATCH_ENDPOINT_MAX;
    for (size_t index = 0; index < size; index++) {
        unsigned char c = (unsigned char) data [index];
        clean [index] = c < 0x20 || c > 0x7e? '?': (char) c;
    }
    return size;
}

//  One monitor event: encode with identity, seq and peer, send upstream
static void
s_forward_event (zwatch_engine_t *self, watch_t *watch, uint16_t code, uint32_t raw_value,
                 const char *endpoint, size_t endpoint_size)
{
    atomic_fetch_add (&self->read, 1);
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = ZWATCH_KIND_EVENT;
    msg.host = s_str (self->host, strlen (self->host));
    msg.svc = s_str (self->service, strlen (self->service));
    msg.pid = self->pid;
    msg.sock = s_str (watch->label, strlen (watch->label));
    msg.stype = s_str (watch->stype, strlen (watch->stype));
    const char *name = zwatch_event_name (code);
    msg.event = s_str (name, strlen (name));
    msg.code = code;
    msg.value = (int32_t) raw_value;        //  fds and errnos; -1 survives
    char clean [ZWATCH_ENDPOINT_MAX];
    msg.endpoint = s_str (clean, s_clean_endpoint (endpoint, endpoint_size, clean));
    msg.ts = zwatch_clock_wall_ns ();
    msg.seq = self->seq + 1;

    //  The v1 monitor gives the bind address for ACCEPTED: read the real peer
    char peer [ZWATCH_ENDPOINT_MAX + 1];
    if (code == ZMQ_EVENT_CONNECTED || code == ZMQ_EVENT_ACCEPTED) {
        int peer_len = zwatch_identity_peer ((int) msg.value, peer, sizeof (peer));
        if (peer_len >= 0)
            msg.peer = s_str (peer, (size_t) peer_len);
    }
    //  seq only advances for events that enter the queue, so a gap the
    //  broker sees means loss after the agent, and drops are counted here
    if (s_send_upstream (self, zwatch_msg_encode (&msg, self->buffer, sizeof (self->buffer)))) {
        self->seq++;
        atomic_fetch_add (&self->sent, 1);
    }
    else
        atomic_fetch_add (&self->dropped, 1);
}

static void
s_release (zwatch_engine_t *self, size_t index)
{
    zmq_close (self->watches [index].reader);
    if (self->watches [index].tee) {
        zwatch_tee_destroy (&self->watches [index].tee);
        self->tee_count--;
    }
    if (self->watches [index].next.reader)
        zmq_close (self->watches [index].next.reader);
    zwatch_tee_destroy (&self->watches [index].next.tee);
    self->watches [index] = self->watches [--self->watch_count];
    self->items_dirty = true;
    atomic_store (&self->watched, self->watch_count);
}

//  The service called zmq_ctx_term/shutdown on ctx: let go of every reader
//  (and tee) in it now, so its termination never waits on us
static void
s_ctx_gone (zwatch_engine_t *self, void *ctx)
{
    for (size_t index = self->watch_count; index-- > 0; )
        if (self->watches [index].ctx == ctx)
            s_release (self, index);
    if (ctx == self->service_ctx)
        self->service_ctx_gone = true;
}

//  The old reader said its last (MONITOR_STOPPED, after every event before
//  the service's zmq_socket_monitor call): the old copy ends there, the
//  new reader and copy take over from the call on
static void
s_switch (zwatch_engine_t *self, watch_t *watch)
{
    zmq_close (watch->reader);
    if (watch->tee) {
        zwatch_tee_destroy (&watch->tee);
        self->tee_count--;
    }
    watch->reader = watch->next.reader;
    watch->tee = watch->next.tee;
    if (watch->tee)
        self->tee_count++;
    memset (&watch->next, 0, sizeof (watch->next));
    self->items_dirty = true;
}

static void s_handle_command (zwatch_engine_t *self, zwatch_engine_command_t *command);
static void s_arm (zwatch_engine_t *self, watch_t *watch, zwatch_engine_command_t *command);

//  A MONITOR_STOPPED on a socket still open: the service may have just
//  moved the monitor (zwatch_agent_tee posts its command before it does,
//  so the command is on the pipe by now). If the waiting command is that
//  switch, run it here, before the stop is taken for the socket's end.
//  Any other command waits for its turn.
static void
s_claim_switch (zwatch_engine_t *self, watch_t *watch)
{
    if (!self->stashed_any) {
        int events = 0;
        size_t size = sizeof (events);
        //  ZMQ_EVENTS looks at the pipe's commands at once (a recv may not)
        if (zmq_getsockopt (self->pipe_back, ZMQ_EVENTS, &events, &size) != 0
        ||  !(events & ZMQ_POLLIN)
        ||  zmq_recv (self->pipe_back, &self->stashed, sizeof (self->stashed), ZMQ_DONTWAIT)
            != sizeof (self->stashed))
            return;
        self->stashed_any = true;
    }
    zwatch_engine_command_t *command = self->stashed;
    if (command && command->op == ENGINE_TEE && command->socket == watch->socket) {
        self->stashed = NULL;
        self->stashed_any = false;
        s_handle_command (self, command);
        char done = 1;
        zmq_send (self->pipe_back, &done, 1, 0);
    }
}

//  Read up to budget events from one reader. Returns true if the reader
//  was released (MONITOR_STOPPED, or its context is gone).
static bool
s_drain_reader (zwatch_engine_t *self, size_t index, int budget)
{
    watch_t *watch = &self->watches [index];
    while (budget-- > 0) {
        zmq_msg_t first, second;
        zmq_msg_init (&first);
        if (zmq_msg_recv (&first, watch->reader, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&first);
            if (zmq_errno () == ETERM) {
                s_ctx_gone (self, watch->ctx);
                return true;
            }
            return false;
        }
        bool more = zmq_msg_more (&first);
        zmq_msg_init (&second);
        bool have_second = more && zmq_msg_recv (&second, watch->reader, ZMQ_DONTWAIT) >= 0;
        //  A well-formed v1 event: 6 bytes (uint16 event, uint32 value), then the endpoint
        if (zmq_msg_size (&first) == 6 && have_second && !zmq_msg_more (&second)) {
            uint16_t code;
            uint32_t value;
            memcpy (&code, zmq_msg_data (&first), sizeof (code));
            memcpy (&value, (uint8_t *) zmq_msg_data (&first) + 2, sizeof (value));
            if (code == ZMQ_EVENT_MONITOR_STOPPED && !watch->next.set
            &&  self->arming && self->arming->socket == watch->socket) {
                zwatch_engine_command_t *command = self->arming;
                self->arming = NULL;    //  the move came before its command ran
                s_arm (self, watch, command);
            }
            else
            if (code == ZMQ_EVENT_MONITOR_STOPPED && !watch->next.set && !watch->closing)
                s_claim_switch (self, watch);
            bool switching = code == ZMQ_EVENT_MONITOR_STOPPED && watch->next.set;
            if (code == ZMQ_EVENT_BIND_FAILED)
                watch->bind_failed = (int) value;
            if (!switching)         //  the agent's own monitor goes on: not news
                s_forward_event (self, watch, code, value,
                                 (const char *) zmq_msg_data (&second), zmq_msg_size (&second));
            if (watch->tee)
                zwatch_tee_send (watch->tee, code, &first, &second);
            zmq_msg_close (&first);
            zmq_msg_close (&second);
            if (switching) {
                s_switch (self, watch);
                continue;
            }
            if (code == ZMQ_EVENT_MONITOR_STOPPED) {
                s_release (self, index);
                return true;
            }
            continue;
        }
        //  Anything else is not from libzmq's v1 monitor: skip the whole message
        while (have_second && zmq_msg_more (&second))
            if (zmq_msg_recv (&second, watch->reader, ZMQ_DONTWAIT) < 0)
                break;
        zmq_msg_close (&first);
        zmq_msg_close (&second);
        zwatch_log_warning ("socket '%s': skipped a monitor message that is not a v1 event",
                            watch->label);
    }
    return false;
}

static void
s_drain_all (zwatch_engine_t *self)
{
    for (size_t index = 0; index < self->watch_count; )
        if (!s_drain_reader (self, index, INT32_MAX))
            index++;
}

static void s_rebuild_items (zwatch_engine_t *self);

//  Sockets the service just closed send MONITOR_STOPPED from libzmq's
//  reaper thread, a moment later: wait until the readers go quiet
//  (bounded), so destroy only touches sockets that are still open
static void
s_settle (zwatch_engine_t *self)
{
    s_drain_all (self);
    int64_t deadline = s_now_ms () + SETTLE_MAX_MSECS;
    while (self->watch_count > 0 && s_now_ms () < deadline) {
        s_rebuild_items (self);
        int rc = zmq_poll (self->items + 2, (int) self->watch_count, SETTLE_QUIET_MSECS);
        if (rc <= 0)
            break;              //  quiet (or the service context is gone)
        s_drain_all (self);
    }
}

static watch_t *
s_find (zwatch_engine_t *self, void *socket, size_t *index_p)
{
    for (size_t index = 0; index < self->watch_count; index++)
        if (self->watches [index].socket == socket) {
            if (index_p)
                *index_p = index;
            return &self->watches [index];
        }
    return NULL;
}

static int
s_fail (zwatch_engine_command_t *command, int err)
{
    command->rc = -1;
    command->err = err;
    return -1;
}

//  Grow watches and poll items together; both bounded by SOCKETS_MAX
static int
s_reserve (zwatch_engine_t *self)
{
    if (self->watch_count < self->watch_capacity)
        return 0;
    if (self->watch_capacity >= ZWATCH_ENGINE_SOCKETS_MAX)
        return -1;
    size_t capacity = self->watch_capacity? self->watch_capacity * 2: 8;
    if (capacity > ZWATCH_ENGINE_SOCKETS_MAX)
        capacity = ZWATCH_ENGINE_SOCKETS_MAX;
    watch_t *watches = realloc (self->watches, capacity * sizeof (watch_t));
    if (!watches)
        return -1;
    self->watches = watches;
    zmq_pollitem_t *items = realloc (self->items, (capacity + 2) * sizeof (zmq_pollitem_t));
    if (!items)
        return -1;
    self->items = items;
    self->watch_capacity = capacity;
    return 0;
}

//  A reader connected to a fresh endpoint, for the socket's monitor to bind
static void *
s_new_reader (zwatch_engine_t *self, void *ctx, char *endpoint, size_t size)
{
    void *reader = zmq_socket (ctx, ZMQ_PAIR);
    if (!reader)
        return NULL;
    int linger = 0, hwm = READER_RCVHWM;
    zmq_setsockopt (reader, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_setsockopt (reader, ZMQ_RCVHWM, &hwm, sizeof (hwm));
    snprintf (endpoint, size, "inproc://zwatch-%p-%lu", (void *) self, ++self->endpoint_counter);
    if (zmq_connect (reader, endpoint) != 0) {
        int err = zmq_errno ();
        zmq_close (reader);
        errno = err;
        return NULL;
    }
    return reader;
}

//  A reader that connects before the monitor binds (inproc allows it), so
//  not even the first event can be missed
static int
s_watch (zwatch_engine_t *self, zwatch_engine_command_t *command)
{
    void *ctx = command->ctx;
    if (!ctx) {
        if (self->service_ctx_gone)
            return s_fail (command, ETERM);
        ctx = self->service_ctx;
    }
    size_t index;
    if (s_find (self, command->socket, &index)) {
        //  A closed socket's MONITOR_STOPPED may be on its way: read it first
        s_drain_reader (self, index, INT32_MAX);
        if (s_find (self, command->socket, NULL))
            return s_fail (command, EEXIST);
    }
    if (s_reserve (self) != 0)
        return s_fail (command, ENOSPC);

    void *reader = s_new_reader (self, ctx, command->endpoint, sizeof (command->endpoint));
    if (!reader)
        return s_fail (command, errno);
    watch_t *watch = &self->watches [self->watch_count++];
    watch->socket = command->socket;
    watch->reader = reader;
    watch->ctx = ctx;
    watch->tee = NULL;
    memset (&watch->next, 0, sizeof (watch->next));
    watch->closing = false;
    watch->bind_failed = 0;
    watch->stype = zwatch_identity_stype (command->type);
    if (command->label)
        snprintf (watch->label, sizeof (watch->label), "%s", command->label);
    else {
        unsigned type_index = (unsigned) command->type < 32? (unsigned) command->type: 31;
        snprintf (watch->label, sizeof (watch->label), "%s%s-%u",
                  command->label_prefix? command->label_prefix: "", watch->stype,
                  ++self->type_counters [type_index]);
    }
    self->items_dirty = true;
    atomic_store (&self->watched, self->watch_count);
    command->rc = 0;
    return 0;
}

//  Drop the connection (with what it holds), make a new one with the
//  socket's current options, and say hello on it
static int
s_reconnect (zwatch_engine_t *self)
{
    zmq_disconnect (self->upstream, self->broker_endpoint);
    self->retry_at = 0;             //  this is the retry
    if (zmq_connect (self->upstream, self->broker_endpoint) != 0)
        return -1;
    self->connected_before = false;
    s_send_lifecycle (self, ZWATCH_KIND_HELLO);
    return 0;
}

//  New keys apply from the next connection
static int
s_set_curve (zwatch_engine_t *self, const zwatch_curve_t *curve)
{
    if (self->upstream_local)
        return 0;                   //  inproc has no security handshake
    if (zwatch_curve_apply (curve, self->upstream) != 0)
        return -1;
    self->handshake_warned = false;
    return s_reconnect (self);
}

//  The service's own zmq_socket_monitor on a watched socket. libzmq stops
//  its old monitor and starts the new one at the very moment of the call,
//  under the socket's monitor lock; so does the agent's own monitor, which
//  the caller moves to command->endpoint right after posting this command.
//  A new reader waits there; the old reader's MONITOR_STOPPED marks the
//  moment, and the copies switch there (s_switch). rc -1 with EADDRINUSE
//  (the service's endpoint is taken): the old copy still stops there, as
//  libzmq's does.
static int
s_tee (zwatch_engine_t *self, zwatch_engine_command_t *command)
{
    size_t index;
    if (!s_find (self, command->socket, &index))
        return s_fail (command, ENOENT);
    //  What the old reader holds goes first (a switch asked for before is
    //  marked there, and so may this one be: s_drain_reader arms it then)
    self->arming = command;
    bool released = s_drain_reader (self, index, INT32_MAX);
    if (self->arming) {
        self->arming = NULL;
        if (released || !s_find (self, command->socket, &index))
            return s_fail (command, ENOENT);
        s_arm (self, &self->watches [index], command);
    }
    return command->rc;
}

//  The reader the monitor moves to, and the copy from there on
static void
s_arm (zwatch_engine_t *self, watch_t *watch, zwatch_engine_command_t *command)
{
    (void) self;
    command->rc = 0;
    void *reader = zmq_socket (watch->ctx, ZMQ_PAIR);
    if (!reader) {
        s_fail (command, zmq_errno ());
        return;
    }
    int linger = 0, hwm = READER_RCVHWM;
    zmq_setsockopt (reader, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_setsockopt (reader, ZMQ_RCVHWM, &hwm, sizeof (hwm));
    if (zmq_connect (reader, command->endpoint) != 0) {
        int err = zmq_errno ();
        zmq_close (reader);
        s_fail (command, err);
        return;
    }
    zwatch_tee_t *tee = NULL;
    if (command->tee_endpoint) {
        tee = zwatch_tee_new (watch->ctx, command->tee_endpoint, command->events);
        if (!tee)
            s_fail (command, errno);
    }
    watch->next.set = true;
    watch->next.reader = reader;
    watch->next.tee = tee;
}

//  Retry every tee's held events; true while some are still held
static bool
s_flush_tees (zwatch_engine_t *self)
{
    bool holding = false;
    for (size_t index = 0; index < self->watch_count; index++)
        if (self->watches [index].tee && zwatch_tee_flush (self->watches [index].tee))
            holding = true;
    return holding;
}

//  True if a socket the service closed in ctx (NULL: any) has not stopped yet
static bool
s_closing (zwatch_engine_t *self, void *ctx)
{
    for (size_t index = 0; index < self->watch_count; index++)
        if (self->watches [index].closing && (!ctx || self->watches [index].ctx == ctx))
            return true;
    return false;
}

//  The service is about to terminate ctx (NULL: every context). Sockets
//  it closed there say MONITOR_STOPPED a moment later, from libzmq's
//  reaper: wait for that (bounded), read everything, then let go of every
//  reader and tee in ctx without touching the service's sockets
static void
s_release_ctx (zwatch_engine_t *self, void *ctx)
{
    int64_t deadline = s_now_ms () + CLOSING_MAX_MSECS;
    s_drain_all (self);
    while (s_closing (self, ctx)) {
        long timeout = (long) (deadline - s_now_ms ());
        if (timeout <= 0)
            break;
        s_rebuild_items (self);
        if (zmq_poll (self->items + 2, (int) self->watch_count, timeout) < 0
        &&  zmq_errno () != ETERM)
            break;
        s_drain_all (self);     //  a reader in an ended context lets go of it here
    }
    for (size_t index = self->watch_count; index-- > 0; )
        if (!ctx || self->watches [index].ctx == ctx)
            s_release (self, index);
}

static void
s_handle_command (zwatch_engine_t *self, zwatch_engine_command_t *command)
{
    size_t index;
    command->rc = 0;
    switch (command->op) {
        case ENGINE_WATCH:
            s_watch (self, command);
            break;
        case ENGINE_RELEASE:
            //  The caller stopped the monitor: read what it said, then let go
            if (s_find (self, command->socket, &index)
            && !s_drain_reader (self, index, INT32_MAX)
            &&  s_find (self, command->socket, &index))
                s_release (self, index);
            break;
        case ENGINE_CHECK:
            //  A MONITOR_STOPPED already there means the socket is gone
            if (!s_find (self, command->socket, &index)
            ||  s_drain_reader (self, index, INT32_MAX))
                s_fail (command, ENOENT);
            break;
        case ENGINE_LIST:
            s_settle (self);
            command->list_size = 0;
            for (index = 0; index < self->watch_count && index < command->list_max; index++)
                command->list [command->list_size++] = self->watches [index].socket;
            break;
        case ENGINE_SET_QUEUE:
            if (zmq_setsockopt (self->upstream, ZMQ_SNDHWM, &command->value, sizeof (int)) != 0)
                s_fail (command, zmq_errno ());
            break;
        case ENGINE_SET_HEARTBEAT:
            self->heartbeat_msecs = command->value;
            self->next_heartbeat = s_now_ms () + command->value;
            break;
        case ENGINE_SET_CURVE:
            if (s_set_curve (self, command->curve) != 0)
                s_fail (command, zmq_errno ());
            break;
        case ENGINE_TEE:
            s_tee (self, command);
            break;
        case ENGINE_BIND_FAILED:
            //  The failed bind sent its BIND_FAILED before returning: it is here
            if (!s_find (self, command->socket, &index)
            ||  s_drain_reader (self, index, INT32_MAX)
            ||  !s_find (self, command->socket, &index))
                s_fail (command, ENOENT);
            else {
                command->value = self->watches [index].bind_failed;
                self->watches [index].bind_failed = 0;
            }
            break;
        case ENGINE_CLOSING:
            if (s_find (self, command->socket, &index))
                self->watches [index].closing = true;
            else
                s_fail (command, ENOENT);
            break;
        case ENGINE_RELEASE_CTX:
            s_release_ctx (self, command->ctx);
            break;
    }
}

//  A handshake with the broker failed. After a refusal (AUTH, PROTOCOL)
//  libzmq gives up on the connection: retry it ourselves, backing off
//  (keys not deployed yet, say). After a connection error (NO_DETAIL)
//  libzmq retries by itself, and a reconnect of ours would drop what the
//  connection holds. Says once, until a handshake succeeds, that nothing
//  arrives; a lone NO_DETAIL (a broker going down mid-handshake) is no
//  reason to.
static void
s_handshake_failed (zwatch_engine_t *self, uint16_t code, uint32_t value)
{
    bool refused = code != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    if (refused) {
        self->retry_msecs = self->retry_msecs? self->retry_msecs * 2: REFUSED_RETRY_MIN;
        if (self->retry_msecs > REFUSED_RETRY_MAX)
            self->retry_msecs = REFUSED_RETRY_MAX;
        self->retry_at = s_now_ms () + self->retry_msecs;
    }
    self->failed_handshakes++;
    if (!self->handshake_warned && (refused || self->failed_handshakes >= 2)) {
        zwatch_log_warning ("broker %s refused the handshake (%s, %u): events are not "
                            "delivered; check ZWATCH_CURVE_SERVER_KEY and ZWATCH_CURVE_CERT",
                            self->broker_endpoint, zwatch_event_name (code), value);
        self->handshake_warned = true;
    }
}

//  The upstream's own monitor: after a reconnection, say hello again so a
//  restarted broker learns who we are
static void
s_handle_upstream_events (zwatch_engine_t *self)
{
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (zmq_msg_recv (&frame, self->upstream_events, ZMQ_DONTWAIT) >= 0) {
        uint16_t code = 0;
        uint32_t value = 0;
        if (zmq_msg_size (&frame) == 6) {
            memcpy (&code, zmq_msg_data (&frame), sizeof (code));
            memcpy (&value, (uint8_t *) zmq_msg_data (&frame) + 2, sizeof (value));
        }
        while (zmq_msg_more (&frame))
            if (zmq_msg_recv (&frame, self->upstream_events, ZMQ_DONTWAIT) < 0)
                break;
        if (code & (ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED))
            self->upstream_down = true;
        if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            self->upstream_down = false;
            if (self->connected_before)
                s_send_lifecycle (self, ZWATCH_KIND_HELLO);
            self->connected_before = true;
            self->handshake_warned = false;
            self->failed_handshakes = 0;
            self->retry_at = 0;             //  libzmq got through by itself
            self->retry_msecs = 0;
        }
        else
        if (code & HANDSHAKE_FAILURES)
            s_handshake_failed (self, code, value);
    }
    zmq_msg_close (&frame);
}

static void
s_rebuild_items (zwatch_engine_t *self)
{
    self->items [0] = (zmq_pollitem_t) { self->pipe_back, 0, ZMQ_POLLIN, 0 };
    self->items [1] = (zmq_pollitem_t) { self->upstream_events, 0, ZMQ_POLLIN, 0 };
    for (size_t index = 0; index < self->watch_count; index++)
        self->items [index + 2] = (zmq_pollitem_t) { self->watches [index].reader, 0, ZMQ_POLLIN, 0 };
    self->items_dirty = false;
}

//  Returns false when the TERM command (a NULL command) arrived
static bool
s_handle_pipe (zwatch_engine_t *self)
{
    zwatch_engine_command_t *command;
    while (self->stashed_any
       ||  zmq_recv (self->pipe_back, &command, sizeof (command), ZMQ_DONTWAIT) == sizeof (command)) {
        if (self->stashed_any) {
            command = self->stashed;
            self->stashed_any = false;
        }
        if (!command)
            return false;
        s_handle_command (self, command);
        char done = 1;
        zmq_send (self->pipe_back, &done, 1, 0);
    }
    return true;
}

//  zmq_poll said ETERM: a context that readers live in has ended. Let go
//  of everything in each one that did (a local upstream is in service_ctx)
static void
s_context_ended (zwatch_engine_t *self)
{
    s_drain_all (self);
    int events;
    size_t size = sizeof (events);
    if (self->upstream_local
    &&  zmq_getsockopt (self->upstream_events, ZMQ_EVENTS, &events, &size) != 0
    &&  zmq_errno () == ETERM)
        s_ctx_gone (self, self->service_ctx);
}

static void *
s_engine_thread (void *args)
{
    zwatch_engine_t *self = (zwatch_engine_t *) args;
    //  Every libzmq call on this thread is the agent's own, never the
    //  service's: libzwatch-preload passes them straight through
    zwatch_guard_enter ();
    pthread_setname_np (pthread_self (), "zwatch-agent");     //  for top -H, perf, gdb
    s_send_lifecycle (self, ZWATCH_KIND_HELLO);
    self->next_heartbeat = s_now_ms () + self->heartbeat_msecs;
    bool running = true;
    bool in_storm = false;          //  the last msec with events had a storm of them
    int64_t storm_msec = 0;
    uint64_t storm_events = 0;
    while (running) {
        if (self->items_dirty)
            s_rebuild_items (self);
        size_t watch_count = self->watch_count;
        int64_t timeout = self->next_heartbeat - s_now_ms ();
        if (self->tees_holding && timeout > TEE_RETRY_MSECS)
            timeout = TEE_RETRY_MSECS;
        if (self->retry_at && self->retry_at - s_now_ms () < timeout)
            timeout = self->retry_at - s_now_ms ();
        //  Once the service's context is gone a local upstream is gone too
        int count = self->service_ctx_gone && self->upstream_local? 1: (int) watch_count + 2;
        int rc = zmq_poll (self->items, count, timeout > 0? (long) timeout: 0);
        if (rc < 0) {
            if (zmq_errno () == ETERM)
                s_context_ended (self);
            continue;
        }
        //  Each wake-up costs several syscalls: in a storm (many events in
        //  the last msec) let more gather, so one wake-up reads many.
        //  Otherwise events are read at once: CONNECTED and ACCEPTED need
        //  their fd still open to tell the peer.
        int64_t now = s_now_ms ();
        if (now != storm_msec) {
            in_storm = storm_events >= STORM_EVENTS;
            storm_msec = now;
            storm_events = 0;
        }
        uint64_t read_before = atomic_load (&self->read);
        if (in_storm && rc > 0)
            s_sleep_usecs (COALESCE_USECS);
        //  Readers first: libzmq may be blocking a service thread on them
        for (size_t index = watch_count; index-- > 0; )
            if (index < self->watch_count && (self->items [index + 2].revents & ZMQ_POLLIN))
                s_drain_reader (self, index, DRAIN_BUDGET);
        storm_events += atomic_load (&self->read) - read_before;
        if (self->items [1].revents & ZMQ_POLLIN)
            s_handle_upstream_events (self);
        if ((self->items [0].revents & ZMQ_POLLIN) || self->stashed_any)
            running = s_handle_pipe (self);
        if (s_now_ms () >= self->next_heartbeat) {
            s_send_lifecycle (self, ZWATCH_KIND_HEARTBEAT);
            self->next_heartbeat = s_now_ms () + self->heartbeat_msecs;
        }
        if (self->retry_at && s_now_ms () >= self->retry_at) {
            self->retry_at = 0;
            s_reconnect (self);
        }
        if (self->tee_count)
            self->tees_holding = s_flush_tees (self);
    }
    s_drain_all (self);
    s_send_lifecycle (self, ZWATCH_KIND_BYE);
    while (self->watch_count)
        s_release (self, self->watch_count - 1);
    s_handle_upstream_events (self);        //  is the broker there at all?
    //  Stop the upstream's monitor before closing anything it writes to
    zmq_socket_monitor (self->upstream, NULL, 0);
    zmq_close (self->upstream_events);
    //  With no broker there is nothing to wait for: no broker, no delay
    int linger = self->upstream_down? 0: UPSTREAM_LINGER;
    zmq_setsockopt (self->upstream, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_close (self->upstream);
    zmq_close (self->pipe_back);
    return NULL;
}

//  Sockets in the private context: command pipe, upstream, its monitor
static int
s_setup_private (zwatch_engine_t *self, const char *broker_endpoint, const zwatch_curve_t *curve)
{
    char endpoint [64];
    self->private_ctx = zmq_ctx_new ();
    if (!self->private_ctx)
        return -1;
    int threads = 1;
    zmq_ctx_set (self->private_ctx, ZMQ_IO_THREADS, threads);
    self->pipe_back = zmq_socket (self->private_ctx, ZMQ_PAIR);
    self->pipe_front = zmq_socket (self->private_ctx, ZMQ_PAIR);
    //  A broker in the service's own context is only reachable from there
    void *upstream_ctx = self->upstream_local? self->service_ctx: self->private_ctx;
    self->upstream = zmq_socket (upstream_ctx, ZMQ_DEALER);
    self->upstream_events = zmq_socket (upstream_ctx, ZMQ_PAIR);
    if (!self->pipe_back || !self->pipe_front || !self->upstream || !self->upstream_events)
        return -1;
    int zero = 0;
    void *sockets [] = { self->pipe_back, self->pipe_front, self->upstream, self->upstream_events };
    for (size_t index = 0; index < 4; index++)
        zmq_setsockopt (sockets [index], ZMQ_LINGER, &zero, sizeof (zero));

    snprintf (endpoint, sizeof (endpoint), "inproc://zwatch-pipe-%p", (void *) self);
    if (zmq_bind (self->pipe_back, endpoint) != 0 || zmq_connect (self->pipe_front, endpoint) != 0)
        return -1;

    int hwm = ZWATCH_AGENT_QUEUE_DEFAULT, rcvhwm = 16, reconnect_max = 2000;
    zmq_setsockopt (self->upstream, ZMQ_SNDHWM, &hwm, sizeof (hwm));
    zmq_setsockopt (self->upstream, ZMQ_RCVHWM, &rcvhwm, sizeof (rcvhwm));
    zmq_setsockopt (self->upstream, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof (reconnect_max));
    if (zwatch_curve_apply (curve, self->upstream) != 0
    ||  zmq_connect (self->upstream, broker_endpoint) != 0)
        return -1;
    snprintf (endpoint, sizeof (endpoint), "inproc://zwatch-upstream-%p", (void *) self);
    if (zmq_connect (self->upstream_events, endpoint) != 0
    ||  zmq_socket_monitor (self->upstream, endpoint,
                            ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED
                          | ZMQ_EVENT_CONNECT_RETRIED | HANDSHAKE_FAILURES) != 0)
        return -1;
    return 0;
}

static void
s_close_private (zwatch_engine_t *self)
{
    if (self->upstream) {
        zmq_socket_monitor (self->upstream, NULL, 0);
        zmq_close (self->upstream);
    }
    void *sockets [] = { self->pipe_back, self->pipe_front, self->upstream_events };
    for (size_t index = 0; index < 3; index++)
        if (sockets [index])
            zmq_close (sockets [index]);
    if (self->private_ctx)
        zmq_ctx_term (self->private_ctx);
}

//  Undo a half-made engine; NULL with errno err
static zwatch_engine_t *
s_new_failed (zwatch_engine_t *self, int err)
{
    s_close_private (self);
    free (self->broker_endpoint);
    free (self->watches);
    free (self->items);
    free (self);
    errno = err;
    return NULL;
}

zwatch_engine_t *
zwatch_engine_new (void *service_ctx, const char *broker_endpoint, const char *host,
                   const char *service, const zwatch_curve_t *curve)
{
    zwatch_engine_t *self = (zwatch_engine_t *) calloc (1, sizeof (zwatch_engine_t));
    if (!self)
        return NULL;
    self->service_ctx = service_ctx;
    snprintf (self->host, sizeof (self->host), "%s", host);
    snprintf (self->service, sizeof (self->service), "%s", service);
    self->pid = (uint64_t) getpid ();
    self->start = zwatch_clock_wall_ns ();
    self->heartbeat_msecs = ZWATCH_AGENT_HEARTBEAT_DEFAULT;
    self->items_dirty = true;
    self->broker_endpoint = strdup (broker_endpoint);
    self->upstream_local = strncmp (broker_endpoint, "inproc://", 9) == 0;
    if (!self->broker_endpoint || s_reserve (self) != 0
    ||  s_setup_private (self, broker_endpoint, curve) != 0)
        return s_new_failed (self, self->broker_endpoint? zmq_errno (): ENOMEM);
    //  Signals stay with the service's threads, as libzmq does for its own
    //  (a SIGINT must interrupt the service's blocking calls, not ours)
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_SETMASK, &all, &old);
    int rc = pthread_create (&self->thread, NULL, s_engine_thread, self);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return s_new_failed (self, rc);
    self->thread_started = true;
    return self;
}

//  A signal on the caller's thread interrupts libzmq's blocking calls
//  (EINTR) but not the engine: retry until the command is sent and its
//  reply has come, so no reply outlives the frame that asked for it and
//  no caller reads another call's reply
int
zwatch_engine_post (zwatch_engine_t *self, zwatch_engine_command_t *command)
{
    int rc;
    while ((rc = zmq_send (self->pipe_front, &command, sizeof (command), 0)) < 0
    &&     zmq_errno () == EINTR)
        ;
    if (rc < 0) {
        command->rc = -1;
        command->err = zmq_errno ();
        return -1;
    }
    return 0;
}

void
zwatch_engine_wait (zwatch_engine_t *self, zwatch_engine_command_t *command)
{
    char done;
    int rc;
    while ((rc = zmq_recv (self->pipe_front, &done, 1, 0)) < 0 && zmq_errno () == EINTR)
        ;
    if (rc < 0) {
        command->rc = -1;
        command->err = zmq_errno ();
    }
}

void
zwatch_engine_call (zwatch_engine_t *self, zwatch_engine_command_t *command)
{
    if (zwatch_engine_post (self, command) == 0)
        zwatch_engine_wait (self, command);
}

void
zwatch_engine_stats (zwatch_engine_t *self, zwatch_agent_stats_t *stats)
{
    stats->read = atomic_load (&self->read);
    stats->sent = atomic_load (&self->sent);
    stats->dropped = atomic_load (&self->dropped);
    stats->watched = atomic_load (&self->watched);
}

void
zwatch_engine_destroy (zwatch_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_engine_t *self = *self_p;
    zwatch_engine_command_t *term = NULL;
    zmq_send (self->pipe_front, &term, sizeof (term), 0);
    pthread_join (self->thread, NULL);
    //  The thread closed its own sockets; close ours, then the context
    //  (bounded by the upstream's linger)
    zmq_close (self->pipe_front);
    zmq_ctx_term (self->private_ctx);
    free (self->broker_endpoint);
    free (self->watches);
    free (self->items);
    free (self);
    *self_p = NULL;
}
