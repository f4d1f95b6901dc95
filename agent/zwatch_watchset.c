/*  zwatch_watchset: readers of the watched sockets' monitors, found by a
    hash and woken by epoll.

    Each watch has a slot (a small integer, reused) and the slot a
    generation, bumped at every release: the epoll data of a reader is its
    slot and generation, so an event for a reader released meanwhile (its
    context ended while another reader was read) is recognised and
    ignored, never followed to freed memory.
*/

#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <zmq.h>
#include "zwatch_proto.h"
#include "zwatch_agent.h"
#include "zwatch_clock.h"
#include "zwatch_fold.h"
#include "zwatch_identity.h"
#include "zwatch_log.h"
#include "zwatch_monitor.h"
#include "zwatch_ptrmap.h"
#include "zwatch_charset.h"
#include "zwatch_sockstate.h"
#include "zwatch_ratelimit.h"
#include "zwatch_tee.h"
#include "zwatch_watchset.h"

#define READER_RCVHWM       10000   //  events a reader holds before libzmq blocks the service
#define DRAIN_BUDGET        512     //  events read from one reader per turn (fairness)
#define EPOLL_BATCH         256     //  readers woken per epoll_wait
#define SETTLE_QUIET_MSECS  30      //  destroy: readers quiet this long are settled
#define SETTLE_MAX_MSECS    300     //  destroy: never wait longer than this
#define CLOSING_MAX_MSECS   1000    //  release_ctx: wait this long at most for closed sockets
#define SKIP_WARN_MSECS     10000   //  at most one line this often about skipped frames
#define UNTRACKED_WARN_MSECS 10000  //  and about facts over a socket's bound
#define SLOTS_MIN           8

typedef struct _watch_t watch_t;
struct _watch_t {
    void *socket;                   //  the service's socket: identity only, never used here
    void *reader;                   //  our PAIR on its monitor endpoint
    void *ctx;                      //  the context both live in
    int fd;                         //  the reader's ZMQ_FD, in the epoll set
    uint32_t slot;
    zwatch_tee_t *tee;              //  copy for the service's own monitor, or NULL
    struct {                        //  the service's zmq_socket_monitor moves the agent's
        void *reader;               //  monitor to reader: the old reader's MONITOR_STOPPED
        int fd;                     //  marks the moment of its call, and from there on
        zwatch_tee_t *tee;          //  the copy goes to tee (NULL: none). reader NULL: no move
    } next;
    bool parked;                    //  its old reader stopped for a move not yet handed over
    zwatch_sockstate_t *state;      //  what it listens on, is connected to, retries
    int bind_failed;                //  errno of its last BIND_FAILED, until asked for
    bool closing;                   //  the service closed it: MONITOR_STOPPED is coming
    bool ready;                     //  on the ready list: its budget ran out
    watch_t *ready_prev;
    watch_t *ready_next;
    const char *stype;
    char label [ZWATCH_SOCK_MAX + 1];
};

typedef struct {
    watch_t *watch;                 //  NULL: free
    uint32_t generation;
} slot_t;

typedef enum { DRAIN_EMPTY, DRAIN_MORE, DRAIN_RELEASED } drain_t;

struct _zwatch_watchset_t {
    void *service_ctx;
    zwatch_upstream_t *upstream;
    zwatch_fold_t *fold;            //  storm folding, NULL when off
    _Atomic (void *) *moving;       //  the socket whose monitor a caller is moving, or NULL
    int epoll;
    zwatch_ptrmap_t map;            //  socket -> watch
    slot_t *slots;
    uint32_t *free_slots;           //  a stack of free slot numbers
    size_t free_count;
    size_t slots_used;              //  slots ever handed out (high water)
    size_t slot_capacity;
    size_t count;                   //  watches now
    size_t closing_count;           //  of them, closing
    size_t tee_count;               //  of them, with a tee
    watch_t *ready_head;
    watch_t *ready_tail;
    size_t ready_count;
    bool service_ctx_gone;          //  the service terminated its context
    unsigned type_counters [32];    //  for "<STYPE>-<n>" labels
    atomic_uint_fast64_t skipped;
    zwatch_ratelimit_t skip_warnings;
    size_t connections_max;         //  per socket, for sockets watched from now on
    atomic_uint_fast64_t untracked; //  facts over a socket's bound, not kept
    zwatch_ratelimit_t untracked_warnings;
    atomic_uint_fast64_t unfolded;  //  events not folded: their key did not fit the table
};

static void
s_ready_push (zwatch_watchset_t *self, watch_t *watch)
{
    if (watch->ready)
        return;
    watch->ready = true;
    watch->ready_next = NULL;
    watch->ready_prev = self->ready_tail;
    if (self->ready_tail)
        self->ready_tail->ready_next = watch;
    else
        self->ready_head = watch;
    self->ready_tail = watch;
    self->ready_count++;
}

static void
s_ready_remove (zwatch_watchset_t *self, watch_t *watch)
{
    if (!watch->ready)
        return;
    if (watch->ready_prev)
        watch->ready_prev->ready_next = watch->ready_next;
    else
        self->ready_head = watch->ready_next;
    if (watch->ready_next)
        watch->ready_next->ready_prev = watch->ready_prev;
    else
        self->ready_tail = watch->ready_prev;
    watch->ready = false;
    self->ready_count--;
}

//  Forget a move the service asked for that will not happen
static void
s_move_cancel (watch_t *watch)
{
    if (watch->next.reader)
        zmq_close (watch->next.reader);
    zwatch_tee_destroy (&watch->next.tee);
    memset (&watch->next, 0, sizeof (watch->next));
}

//  The epoll data of a watch: its slot, and the slot's generation so that
//  an event for a released watch is known as such
static struct epoll_event
s_epoll_event (zwatch_watchset_t *self, uint32_t slot)
{
    struct epoll_event event = { EPOLLIN | EPOLLET,
                                 { .u64 = (uint64_t) slot
                                        | (uint64_t) self->slots [slot].generation << 32 } };
    return event;
}

//  A summary the fold table lets go: to the broker
static void
s_fold_emit (void *arg, zwatch_msg_t *msg)
{
    zwatch_watchset_t *self = (zwatch_watchset_t *) arg;
    zwatch_upstream_folded (self->upstream, msg);
}

//  Let go of one reader (and its tee); O(1), but for the counts its
//  storms still hold, which go out first
static void
s_release (zwatch_watchset_t *self, watch_t *watch)
{
    if (self->fold)
        zwatch_fold_release (self->fold, watch, s_fold_emit, self);
    epoll_ctl (self->epoll, EPOLL_CTL_DEL, watch->fd, NULL);
    zmq_close (watch->reader);
    if (watch->tee) {
        zwatch_tee_destroy (&watch->tee);
        self->tee_count--;
    }
    s_move_cancel (watch);
    zwatch_sockstate_destroy (&watch->state);
    if (watch->closing)
        self->closing_count--;
    s_ready_remove (self, watch);
    zwatch_ptrmap_remove (&self->map, watch->socket);
    self->slots [watch->slot].watch = NULL;
    self->slots [watch->slot].generation++;
    self->free_slots [self->free_count++] = watch->slot;
    free (watch);
    self->count--;
    zwatch_upstream_set_watched (self->upstream, self->count);
}

void
zwatch_watchset_ctx_gone (zwatch_watchset_t *self, void *ctx)
{
    for (size_t slot = 0; slot < self->slots_used; slot++)
        if (self->slots [slot].watch && self->slots [slot].watch->ctx == ctx)
            s_release (self, self->slots [slot].watch);
    if (ctx == self->service_ctx)
        self->service_ctx_gone = true;
}

//  A frame that is not part of a whole v1 event: count it, say so now and
//  then. libzmq sends monitor events from the thread that caused them,
//  with blocking sends whose errors it ignores, so a signal on a service
//  thread (its zmq_bind, say) can cut an event in half
static void
s_skipped (zwatch_watchset_t *self, watch_t *watch)
{
    uint64_t skipped = atomic_fetch_add (&self->skipped, 1) + 1, held;
    if (zwatch_ratelimit_ok (&self->skip_warnings, zwatch_clock_mono_ms (), SKIP_WARN_MSECS,
                             &held))
        zwatch_log_warning ("socket '%s': skipped a monitor frame that is not part of a whole "
                            "v1 event (a signal may have cut libzmq's send); %llu skipped in "
                            "all, %llu lines like this held back", watch->label,
                            (unsigned long long) skipped, (unsigned long long) held);
}

//  Endpoints go on terminals: keep them printable and within the limit
static size_t
s_clean_endpoint (const char *data, size_t size, char *clean)
{
    if (size > ZWATCH_ENDPOINT_MAX)
        size = ZWATCH_ENDPOINT_MAX;
    zwatch_charset_clean (clean, data, size, ZWATCH_CHAR_PRINT);
    return size;
}

static zwatch_str_t
s_str (const char *ptr, size_t len)
{
    zwatch_str_t str = { ptr, len };
    return str;
}

static void
s_untracked (zwatch_watchset_t *self, watch_t *watch, uint16_t code)
{
    uint64_t untracked = atomic_fetch_add (&self->untracked, 1) + 1, held;
    if (zwatch_ratelimit_ok (&self->untracked_warnings, zwatch_clock_mono_ms (),
                             UNTRACKED_WARN_MSECS, &held))
        zwatch_log_warning ("socket '%s': a %s over its bound (%zu connections, %d listening "
                            "or retrying endpoints) is not kept for replays; %llu in all, "
                            "%llu lines like this held back", watch->label,
                            zwatch_event_name (code), zwatch_sockstate_connections_max (watch->state),
                            ZWATCH_SOCKSTATE_LISTENING_MAX, (unsigned long long) untracked,
                            (unsigned long long) held);
}

//  One whole event: the addresses of the connection it makes (read from
//  its fd now, while it is open) or ends (from the socket's state), sent,
//  then applied to the socket's state
static void
s_event (zwatch_watchset_t *self, watch_t *watch, uint16_t code, uint32_t value,
         const char *endpoint, size_t endpoint_size)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.sock = s_str (watch->label, strlen (watch->label));
    msg.stype = s_str (watch->stype, strlen (watch->stype));
    msg.code = code;
    msg.value = (int32_t) value;            //  fds and errnos; -1 survives
    char clean [ZWATCH_ENDPOINT_MAX];
    msg.endpoint = s_str (clean, s_clean_endpoint (endpoint, endpoint_size, clean));
    msg.ts = zwatch_clock_wall_ns ();
    //  The v1 monitor gives the bind address for ACCEPTED: read the real ends
    char local [ZWATCH_ENDPOINT_MAX + 1], peer [ZWATCH_ENDPOINT_MAX + 1];
    if (code == ZMQ_EVENT_CONNECTED || code == ZMQ_EVENT_ACCEPTED) {
        int fd = (int) msg.value;
        int peer_len = zwatch_identity_peer (fd, peer, sizeof (peer));
        if (peer_len >= 0)
            msg.peer = s_str (peer, (size_t) peer_len);
        int local_len = zwatch_identity_local (fd, local, sizeof (local));
        if (local_len >= 0)
            msg.local = s_str (local, (size_t) local_len);
        if (code == ZMQ_EVENT_ACCEPTED && msg.endpoint.len >= 6
        &&  memcmp (msg.endpoint.ptr, "ipc://", 6) == 0)
            msg.peer_pid = zwatch_identity_peer_pid (fd);
    }
    else
        zwatch_sockstate_describe (watch->state, &msg);
    zwatch_fold_verdict_t verdict = self->fold
        ? zwatch_fold_event (self->fold, watch, &msg, zwatch_clock_mono_ms (), s_fold_emit, self)
        : ZWATCH_FOLD_SEND;
    if (verdict == ZWATCH_FOLD_HELD)
        zwatch_upstream_held (self->upstream);
    else
        zwatch_upstream_event (self->upstream, &msg);
    if (verdict == ZWATCH_FOLD_FULL)
        atomic_fetch_add (&self->unfolded, 1);
    if (!zwatch_sockstate_apply (watch->state, &msg))
        s_untracked (self, watch, code);
}

typedef struct {
    zwatch_upstream_t *upstream;
    watch_t *watch;
} replay_t;

static bool
s_replay_fact (void *arg, zwatch_msg_t *fact)
{
    replay_t *replay = (replay_t *) arg;
    fact->sock = s_str (replay->watch->label, strlen (replay->watch->label));
    fact->stype = s_str (replay->watch->stype, strlen (replay->watch->stype));
    return zwatch_upstream_state (replay->upstream, fact);
}

//  After a hello: every fact of every socket, then the count. The queue
//  is the bound: at the first fact it does not take the rest is counted,
//  not tried, so a replay costs at most one pass over the watches
void
zwatch_watchset_replay (void *arg)
{
    zwatch_watchset_t *self = (zwatch_watchset_t *) arg;
    replay_t replay = { self->upstream, NULL };
    uint64_t count = 0, sent = 0;
    bool full = false;
    for (size_t slot = 0; slot < self->slots_used; slot++) {
        watch_t *watch = self->slots [slot].watch;
        if (!watch)
            continue;
        size_t size = zwatch_sockstate_size (watch->state);
        count += size;
        if (full || size == 0)
            continue;
        replay.watch = watch;
        size_t done = zwatch_sockstate_each (watch->state, s_replay_fact, &replay);
        sent += done;
        full = done < size;
    }
    zwatch_upstream_state_end (self->upstream, count, count - sent);
}

//  The old reader said its last event (MONITOR_STOPPED, after every event
//  from before the service's zmq_socket_monitor call): the old copy ends
//  there, the new reader and copy take over from the call on
static void
s_move (zwatch_watchset_t *self, watch_t *watch)
{
    epoll_ctl (self->epoll, EPOLL_CTL_DEL, watch->fd, NULL);
    zmq_close (watch->reader);
    if (watch->tee) {
        zwatch_tee_destroy (&watch->tee);
        self->tee_count--;
    }
    watch->reader = watch->next.reader;
    watch->fd = watch->next.fd;
    watch->tee = watch->next.tee;
    if (watch->tee)
        self->tee_count++;
    memset (&watch->next, 0, sizeof (watch->next));
    struct epoll_event event = s_epoll_event (self, watch->slot);
    epoll_ctl (self->epoll, EPOLL_CTL_ADD, watch->fd, &event);
}

//  Nothing left to read? ZMQ_FD is edge-triggered: only ZMQ_EVENTS says
//  for sure (it also takes in the commands that came meanwhile)
static drain_t
s_settled (zwatch_watchset_t *self, watch_t *watch)
{
    int events = 0;
    size_t size = sizeof (events);
    if (zmq_getsockopt (watch->reader, ZMQ_EVENTS, &events, &size) != 0) {
        if (zmq_errno () != ETERM)
            return DRAIN_EMPTY;
        zwatch_watchset_ctx_gone (self, watch->ctx);
        return DRAIN_RELEASED;
    }
    return events & ZMQ_POLLIN? DRAIN_MORE: DRAIN_EMPTY;
}

//  Read up to budget events from one reader. A v1 event is a 6-byte frame
//  (uint16 event, uint32 value) then the endpoint; when a frame is missing
//  it resynchronises on the next 6-byte frame followed by one that is not
static drain_t
s_drain (zwatch_watchset_t *self, watch_t *watch, int budget)
{
    zmq_msg_t first, second;
    zmq_msg_init (&first);
    zmq_msg_init (&second);
    drain_t result = watch->parked? DRAIN_EMPTY: DRAIN_MORE;
    bool have_first = false;
    while (result == DRAIN_MORE) {
        if (!have_first) {
            if (budget-- <= 0)
                break;                      //  the rest next turn
            if (zmq_msg_recv (&first, watch->reader, ZMQ_DONTWAIT) < 0) {
                if (zmq_errno () == ETERM) {
                    zwatch_watchset_ctx_gone (self, watch->ctx);
                    result = DRAIN_RELEASED;
                }
                else
                    result = s_settled (self, watch);
                continue;
            }
        }
        have_first = false;
        uint16_t code;
        uint32_t value;
        if (!zwatch_monitor_parse (zmq_msg_data (&first), zmq_msg_size (&first), &code, &value)
        ||  !zmq_msg_more (&first)) {
            //  A lone endpoint (its event frame was lost), or a lone event frame
            s_skipped (self, watch);
            have_first = zmq_msg_more (&first)
                      && zmq_msg_recv (&first, watch->reader, ZMQ_DONTWAIT) >= 0;
            continue;
        }
        if (zmq_msg_recv (&second, watch->reader, ZMQ_DONTWAIT) < 0)
            continue;               //  cannot be: libzmq delivers whole messages
        if (zmq_msg_size (&second) == ZWATCH_MONITOR_FRAME_SIZE) {
            //  The first lost its endpoint: the second starts the next event
            s_skipped (self, watch);
            zmq_msg_move (&first, &second);
            have_first = true;
            continue;
        }
        //  A stop no move was handed over for yet, while a caller is moving
        //  this socket's monitor: the move's, not the socket's end. Wait there
        if (code == ZMQ_EVENT_MONITOR_STOPPED && !watch->next.reader && !watch->closing
        &&  atomic_load (self->moving) == watch->socket) {
            if (watch->tee)
                zwatch_tee_send (watch->tee, code, &first, &second);
            watch->parked = true;
            result = DRAIN_EMPTY;
            break;
        }
        bool moving = code == ZMQ_EVENT_MONITOR_STOPPED && watch->next.reader;
        if (code == ZMQ_EVENT_BIND_FAILED)
            watch->bind_failed = (int) value;
        if (!moving)            //  the agent's own monitor goes on: no news for the broker
            s_event (self, watch, code, value, (const char *) zmq_msg_data (&second),
                     zmq_msg_size (&second));
        if (watch->tee)
            zwatch_tee_send (watch->tee, code, &first, &second);
        if (moving) {
            s_move (self, watch);
            continue;           //  on to what the new reader holds
        }
        if (code == ZMQ_EVENT_MONITOR_STOPPED) {
            s_release (self, watch);
            result = DRAIN_RELEASED;
        }
        else    //  frames glued after a whole event start the next one
            have_first = zmq_msg_more (&second)
                      && zmq_msg_recv (&first, watch->reader, ZMQ_DONTWAIT) >= 0;
    }
    zmq_msg_close (&first);
    zmq_msg_close (&second);
    return result;
}

//  Read one reader with budget; one whose budget ran out goes on the ready list
static void
s_read (zwatch_watchset_t *self, watch_t *watch, int budget)
{
    drain_t result = s_drain (self, watch, budget);
    if (result == DRAIN_MORE)
        s_ready_push (self, watch);
    else
    if (result == DRAIN_EMPTY)
        s_ready_remove (self, watch);
}

//  The watch an epoll event names, or NULL if it was released since
static watch_t *
s_event_watch (zwatch_watchset_t *self, const struct epoll_event *event)
{
    uint32_t slot = (uint32_t) event->data.u64;
    uint32_t generation = (uint32_t) (event->data.u64 >> 32);
    if (slot >= self->slots_used || self->slots [slot].generation != generation)
        return NULL;
    return self->slots [slot].watch;
}

//  Wait up to timeout msecs for readers with events and read them all;
//  returns how many woke
static int
s_wait_and_drain (zwatch_watchset_t *self, int timeout)
{
    struct epoll_event events [EPOLL_BATCH];
    int count = epoll_wait (self->epoll, events, EPOLL_BATCH, self->ready_count? 0: timeout);
    for (int index = 0; index < count; index++) {
        watch_t *watch = s_event_watch (self, &events [index]);
        if (watch)
            s_read (self, watch, INT32_MAX);
    }
    while (self->ready_head)
        s_read (self, self->ready_head, INT32_MAX);
    return count;
}

void
zwatch_watchset_read (zwatch_watchset_t *self)
{
    //  Readers left over from the last turn first, once each, then the new
    for (size_t pending = self->ready_count; pending > 0 && self->ready_head; pending--) {
        watch_t *watch = self->ready_head;
        s_ready_remove (self, watch);
        s_read (self, watch, DRAIN_BUDGET);
    }
    struct epoll_event events [EPOLL_BATCH];
    int count = epoll_wait (self->epoll, events, EPOLL_BATCH, 0);
    for (int index = 0; index < count; index++) {
        watch_t *watch = s_event_watch (self, &events [index]);
        if (watch && !watch->ready)
            s_read (self, watch, DRAIN_BUDGET);
    }
}

void
zwatch_watchset_drain_all (zwatch_watchset_t *self)
{
    for (size_t slot = 0; slot < self->slots_used; slot++)
        if (self->slots [slot].watch)
            s_read (self, self->slots [slot].watch, INT32_MAX);
}

int
zwatch_watchset_fd (zwatch_watchset_t *self)
{
    return self->epoll;
}

bool
zwatch_watchset_ready (zwatch_watchset_t *self)
{
    return self->ready_count > 0;
}

bool
zwatch_watchset_service_ctx_gone (zwatch_watchset_t *self)
{
    return self->service_ctx_gone;
}

uint64_t
zwatch_watchset_skipped (zwatch_watchset_t *self)
{
    return atomic_load (&self->skipped);
}

uint64_t
zwatch_watchset_untracked (zwatch_watchset_t *self)
{
    return atomic_load (&self->untracked);
}

void
zwatch_watchset_set_connections (zwatch_watchset_t *self, size_t max)
{
    self->connections_max = max;
}

//  A slot for a new watch, growing the tables (and the hash) as needed;
//  -1 when ZWATCH_AGENT_SOCKETS_LIMIT are watched or memory is short
static long
s_slot_new (zwatch_watchset_t *self)
{
    if (self->count >= ZWATCH_AGENT_SOCKETS_LIMIT)
        return -1;
    //  The hash stays at most half full: grow it first
    if (self->map.count + 1 > self->map.capacity / 2) {
        size_t capacity = self->map.capacity * 2;
        zwatch_ptrmap_slot_t *slots = calloc (capacity, sizeof (zwatch_ptrmap_slot_t));
        if (!slots)
            return -1;
        zwatch_ptrmap_t bigger;
        zwatch_ptrmap_init (&bigger, slots, capacity);
        zwatch_ptrmap_move (&self->map, &bigger);
        free (self->map.slots);
        self->map = bigger;
    }
    if (self->free_count)
        return self->free_slots [--self->free_count];
    if (self->slots_used == self->slot_capacity) {
        size_t capacity = self->slot_capacity * 2;
        slot_t *slots = realloc (self->slots, capacity * sizeof (slot_t));
        if (!slots)
            return -1;
        self->slots = slots;
        uint32_t *free_slots = realloc (self->free_slots, capacity * sizeof (uint32_t));
        if (!free_slots)
            return -1;
        self->free_slots = free_slots;
        self->slot_capacity = capacity;
    }
    self->slots [self->slots_used].watch = NULL;
    self->slots [self->slots_used].generation = 0;
    return (long) self->slots_used++;
}

void *
zwatch_watchset_reader_new (void *ctx, char *endpoint, size_t endpoint_size)
{
    static atomic_ulong s_endpoints;        //  names unique in the process
    void *reader = zmq_socket (ctx, ZMQ_PAIR);
    if (!reader)
        return NULL;
    int linger = 0, hwm = READER_RCVHWM;
    zmq_setsockopt (reader, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_setsockopt (reader, ZMQ_RCVHWM, &hwm, sizeof (hwm));
    snprintf (endpoint, endpoint_size, "inproc://zwatch-%d-%lu", (int) getpid (),
              atomic_fetch_add (&s_endpoints, 1) + 1);
    if (zmq_connect (reader, endpoint) != 0) {
        int err = zmq_errno ();
        zmq_close (reader);
        errno = err;
        return NULL;
    }
    return reader;
}

//  A reader's ZMQ_FD, -1 with errno on failure
static int
s_reader_fd (void *reader)
{
    int fd = -1;
    size_t fd_size = sizeof (fd);
    if (zmq_getsockopt (reader, ZMQ_FD, &fd, &fd_size) != 0) {
        errno = zmq_errno ();
        return -1;
    }
    return fd;
}

int
zwatch_watchset_add (zwatch_watchset_t *self, void *socket, void *ctx, int type,
                     const char *label, const char *label_prefix, char *endpoint,
                     size_t endpoint_size)
{
    if (!ctx) {
        if (self->service_ctx_gone) {
            errno = ETERM;
            return -1;
        }
        ctx = self->service_ctx;
    }
    watch_t *existing = (watch_t *) zwatch_ptrmap_get (&self->map, socket);
    if (existing) {
        //  A closed socket's MONITOR_STOPPED may be on its way: read it first
        s_read (self, existing, INT32_MAX);
        if (zwatch_ptrmap_get (&self->map, socket)) {
            errno = EEXIST;
            return -1;
        }
    }
    long slot = s_slot_new (self);
    if (slot < 0) {
        errno = ENOSPC;
        return -1;
    }
    watch_t *watch = (watch_t *) calloc (1, sizeof (watch_t));
    if (watch) {
        watch->state = zwatch_sockstate_new (self->connections_max);
        if (!watch->state) {
            free (watch);
            watch = NULL;
        }
    }
    void *reader = watch? zwatch_watchset_reader_new (ctx, endpoint, endpoint_size): NULL;
    int err = watch? errno: ENOMEM;
    struct epoll_event event = s_epoll_event (self, (uint32_t) slot);
    if (reader
    &&  ((watch->fd = s_reader_fd (reader)) < 0
    ||   epoll_ctl (self->epoll, EPOLL_CTL_ADD, watch->fd, &event) != 0)) {
        err = errno;
        zmq_close (reader);
        reader = NULL;
    }
    if (!reader) {
        if (watch)
            zwatch_sockstate_destroy (&watch->state);
        free (watch);
        self->free_slots [self->free_count++] = (uint32_t) slot;
        errno = err;
        return -1;
    }
    watch->socket = socket;
    watch->reader = reader;
    watch->ctx = ctx;
    watch->slot = (uint32_t) slot;
    watch->stype = zwatch_identity_stype (type);
    if (label)
        snprintf (watch->label, sizeof (watch->label), "%s", label);
    else {
        unsigned type_index = (unsigned) type < 32? (unsigned) type: 31;
        snprintf (watch->label, sizeof (watch->label), "%s%s-%u",
                  label_prefix? label_prefix: "", watch->stype,
                  ++self->type_counters [type_index]);
    }
    zwatch_ptrmap_put (&self->map, socket, watch);     //  room made by s_slot_new
    self->slots [slot].watch = watch;
    self->count++;
    zwatch_upstream_set_watched (self->upstream, self->count);
    return 0;
}

void
zwatch_watchset_release (zwatch_watchset_t *self, void *socket)
{
    watch_t *watch = (watch_t *) zwatch_ptrmap_get (&self->map, socket);
    if (watch && s_drain (self, watch, INT32_MAX) != DRAIN_RELEASED)
        s_release (self, watch);
}

int
zwatch_watchset_check (zwatch_watchset_t *self, void *socket)
{
    watch_t *watch = (watch_t *) zwatch_ptrmap_get (&self->map, socket);
    if (watch)
        s_read (self, watch, INT32_MAX);
    if (!watch || !zwatch_ptrmap_get (&self->map, socket)) {
        errno = ENOENT;
        return -1;
    }
    return 0;
}

//  Sockets the service just closed send MONITOR_STOPPED from libzmq's
//  reaper thread, a moment later: wait until the readers go quiet
//  (bounded), so destroy only touches sockets that are still open
size_t
zwatch_watchset_list (zwatch_watchset_t *self, void **list, size_t max)
{
    zwatch_watchset_drain_all (self);
    int64_t deadline = zwatch_clock_mono_ms () + SETTLE_MAX_MSECS;
    while (self->count > 0 && zwatch_clock_mono_ms () < deadline)
        if (s_wait_and_drain (self, SETTLE_QUIET_MSECS) <= 0)
            break;              //  quiet
    size_t size = 0;
    for (size_t slot = 0; slot < self->slots_used && size < max; slot++)
        if (self->slots [slot].watch)
            list [size++] = self->slots [slot].watch->socket;
    return size;
}

//  Read a reader until it is empty for sure (a recv may leave libzmq's
//  commands for later: ZMQ_EVENTS takes them in). Returns the watch, or
//  NULL if it was released meanwhile
static watch_t *
s_read_all (zwatch_watchset_t *self, void *socket)
{
    watch_t *watch = (watch_t *) zwatch_ptrmap_get (&self->map, socket);
    drain_t result = DRAIN_MORE;
    while (watch && result == DRAIN_MORE)
        result = s_drain (self, watch, INT32_MAX);
    if (result == DRAIN_RELEASED)
        return NULL;
    if (watch)
        s_ready_remove (self, watch);
    return watch;
}

int
zwatch_watchset_move_adopt (zwatch_watchset_t *self, void *socket, void *reader,
                            const char *tee_endpoint, int events, int *tee_err)
{
    //  A move before this one ends in what the reader holds: take it (and
    //  park on this move's stop) before looking for a move still pending
    watch_t *watch = s_read_all (self, socket);
    int fd = watch? s_reader_fd (reader): -1;
    if (!watch || fd < 0 || watch->next.reader) {
        errno = !watch? ENOENT: fd < 0? errno: EBUSY;
        return -1;                  //  the reader stays the caller's
    }
    watch->next.reader = reader;
    watch->next.fd = fd;
    *tee_err = 0;
    if (tee_endpoint) {
        watch->next.tee = zwatch_tee_new (watch->ctx, tee_endpoint, events);
        if (!watch->next.tee)
            *tee_err = errno;
    }
    //  Its old reader may have said its last already
    if (watch->parked) {
        watch->parked = false;
        s_move (self, watch);
        s_read (self, watch, INT32_MAX);
    }
    return 0;
}

void
zwatch_watchset_move_failed (zwatch_watchset_t *self, void *socket)
{
    //  Read first: while *moving is still set, a stop of the old monitor is
    //  taken as this move's and parks the watch. No new monitor started, so
    //  that stop is the socket's end to us: the broker hears it, then we let go
    watch_t *watch = s_read_all (self, socket);
    if (watch && watch->parked) {
        s_event (self, watch, ZMQ_EVENT_MONITOR_STOPPED, 0, "", 0);
        s_release (self, watch);
    }
}

int
zwatch_watchset_bind_failed (zwatch_watchset_t *self, void *socket)
{
    //  A failed bind sent its BIND_FAILED before it returned: it is here
    watch_t *watch = s_read_all (self, socket);
    if (!watch) {
        errno = ENOENT;
        return -1;
    }
    int err = watch->bind_failed;
    watch->bind_failed = 0;
    return err;
}

bool
zwatch_watchset_has_tees (zwatch_watchset_t *self)
{
    return self->tee_count > 0;
}

bool
zwatch_watchset_flush_tees (zwatch_watchset_t *self)
{
    bool holding = false;
    for (size_t slot = 0; slot < self->slots_used && self->tee_count; slot++) {
        watch_t *watch = self->slots [slot].watch;
        if (watch && watch->tee && zwatch_tee_flush (watch->tee))
            holding = true;
    }
    return holding;
}

int
zwatch_watchset_closing (zwatch_watchset_t *self, void *socket)
{
    watch_t *watch = (watch_t *) zwatch_ptrmap_get (&self->map, socket);
    if (!watch) {
        errno = ENOENT;
        return -1;
    }
    if (!watch->closing)
        self->closing_count++;
    watch->closing = true;
    return 0;
}

//  True if a socket the service closed in ctx (NULL: any) has not stopped yet
static bool
s_closing (zwatch_watchset_t *self, void *ctx)
{
    if (!self->closing_count)
        return false;
    for (size_t slot = 0; slot < self->slots_used; slot++) {
        watch_t *watch = self->slots [slot].watch;
        if (watch && watch->closing && (!ctx || watch->ctx == ctx))
            return true;
    }
    return false;
}

//  Sockets the service closed in ctx say MONITOR_STOPPED a moment later,
//  from libzmq's reaper: wait for that (bounded), read everything, then
//  let go of every reader and tee in ctx without touching the service's
//  sockets. A reader in an ended context lets go of it when it reads ETERM.
void
zwatch_watchset_release_ctx (zwatch_watchset_t *self, void *ctx, int max_msecs)
{
    int64_t deadline = zwatch_clock_mono_ms () + (max_msecs > 0? max_msecs: CLOSING_MAX_MSECS);
    zwatch_watchset_drain_all (self);
    while (s_closing (self, ctx)) {
        int64_t timeout = deadline - zwatch_clock_mono_ms ();
        if (timeout <= 0)
            break;
        if (s_wait_and_drain (self, (int) timeout) < 0 && errno != EINTR)
            break;
    }
    for (size_t slot = 0; slot < self->slots_used; slot++) {
        watch_t *watch = self->slots [slot].watch;
        if (watch && (!ctx || watch->ctx == ctx))
            s_release (self, watch);
    }
}

zwatch_watchset_t *
zwatch_watchset_new (void *service_ctx, zwatch_upstream_t *upstream, _Atomic (void *) *moving)
{
    zwatch_watchset_t *self = (zwatch_watchset_t *) calloc (1, sizeof (zwatch_watchset_t));
    if (!self)
        return NULL;
    self->moving = moving;
    self->service_ctx = service_ctx;
    self->upstream = upstream;
    self->skip_warnings = (zwatch_ratelimit_t) ZWATCH_RATELIMIT_INIT;
    self->untracked_warnings = (zwatch_ratelimit_t) ZWATCH_RATELIMIT_INIT;
    self->connections_max = ZWATCH_AGENT_CONNECTIONS_DEFAULT;
    self->fold = zwatch_fold_new (0);          //  on by default
    self->epoll = epoll_create1 (EPOLL_CLOEXEC);
    self->slot_capacity = SLOTS_MIN;
    self->slots = calloc (SLOTS_MIN, sizeof (slot_t));
    self->free_slots = calloc (SLOTS_MIN, sizeof (uint32_t));
    zwatch_ptrmap_slot_t *map_slots = calloc (2 * SLOTS_MIN, sizeof (zwatch_ptrmap_slot_t));
    zwatch_ptrmap_init (&self->map, map_slots, map_slots? 2 * SLOTS_MIN: 0);
    if (self->epoll < 0 || !self->slots || !self->free_slots || !map_slots || !self->fold) {
        int err = self->epoll < 0? errno: ENOMEM;
        zwatch_watchset_destroy (&self);
        errno = err;
        return NULL;
    }
    return self;
}

int
zwatch_watchset_set_fold (zwatch_watchset_t *self, bool fold)
{
    if (fold && !self->fold) {
        self->fold = zwatch_fold_new (0);
        if (!self->fold) {
            errno = ENOMEM;
            return -1;
        }
    }
    if (!fold && self->fold) {
        zwatch_fold_release (self->fold, NULL, s_fold_emit, self);
        zwatch_fold_destroy (&self->fold);
    }
    return 0;
}

void
zwatch_watchset_tick (zwatch_watchset_t *self, int64_t now)
{
    if (self->fold)
        zwatch_fold_tick (self->fold, now, s_fold_emit, self);
}

int64_t
zwatch_watchset_due (zwatch_watchset_t *self)
{
    return self->fold? zwatch_fold_due (self->fold): 0;
}

uint64_t
zwatch_watchset_unfolded (zwatch_watchset_t *self)
{
    return atomic_load (&self->unfolded);
}

void
zwatch_watchset_destroy (zwatch_watchset_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_watchset_t *self = *self_p;
    for (size_t slot = 0; slot < self->slots_used; slot++)
        if (self->slots [slot].watch)
            s_release (self, self->slots [slot].watch);
    zwatch_fold_destroy (&self->fold);
    if (self->epoll >= 0)
        close (self->epoll);
    free (self->map.slots);
    free (self->slots);
    free (self->free_slots);
    free (self);
    *self_p = NULL;
}
