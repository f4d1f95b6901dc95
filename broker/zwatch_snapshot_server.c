/*  zwatch_snapshot_server: the broker's snapshot ROUTER (PROTOCOL.md 12).

    Each reply in progress is a session: the client's routing id, the
    model cursor, then a walk over the history ring's numbers, then
    snapshot_end. A frame that met a full pipe (EAGAIN) is kept and tried
    again on the next slice; the cursor does not move until it went.
*/

#include "zwatch_snapshot_server.h"

#define READ_BATCH          100         //  requests read per call
#define REQUEST_MAXMSGSIZE  65536       //  above: libzmq drops the connection
#define REPLY_SMALL_MAX     256         //  snapshot_end and error maps
#define REPLY_SNDBUF        (256 * 1024)    //  kernel bytes per client: with SNDHWM, the bound

typedef enum { STAGE_FLEET, STAGE_HISTORY, STAGE_END } stage_t;

typedef struct {
    bool used;
    uint8_t id [256];               //  routing id (libzmq's are at most 255 bytes)
    size_t id_size;
    stage_t stage;
    zwatch_fleet_snapshot_t *cursor;
    uint64_t history_want;          //  events asked for, capped at the ring
    uint64_t history_next;          //  the next ring number to send
    uint64_t history_end;           //  one past the last (fixed when history starts)
    uint64_t events;                //  history events sent
    const void *pending;            //  a model frame that met EAGAIN, or NULL
    size_t pending_size;
    int64_t blocked_since;          //  0: not blocked
} session_t;

struct _zwatch_snapshot_server_t {
    zwatch_fleet_t *fleet;
    zwatch_history_t *history;
    size_t history_max;
    zsock_t *router;
    void *handle;
    zmq_msg_t frame;
    session_t sessions [ZWATCH_SNAPSHOT_ACTIVE_MAX];
    size_t active;
    size_t next_session;            //  round robin: who sends first this slice
    zwatch_snapshot_counters_t counters;
};

zwatch_snapshot_server_t *
zwatch_snapshot_server_new (zwatch_fleet_t *fleet, zwatch_history_t *history,
                            size_t history_max)
{
    zwatch_snapshot_server_t *self =
        (zwatch_snapshot_server_t *) zmalloc (sizeof (zwatch_snapshot_server_t));
    if (!self)
        return NULL;
    self->fleet = fleet;
    self->history = history;
    self->history_max = history_max;
    zmq_msg_init (&self->frame);
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router) {
        zwatch_snapshot_server_destroy (&self);
        return NULL;
    }
    self->handle = zsock_resolve (self->router);
    int mandatory = 1;
    zmq_setsockopt (self->handle, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof (mandatory));
    zsock_set_sndhwm (self->router, ZWATCH_SNAPSHOT_SNDHWM);
    zsock_set_rcvhwm (self->router, ZWATCH_SNAPSHOT_SNDHWM);
    zsock_set_maxmsgsize (self->router, REQUEST_MAXMSGSIZE);
    zsock_set_sndbuf (self->router, REPLY_SNDBUF);
    zsock_set_linger (self->router, 0);
    return self;
}

static void
s_end_session (zwatch_snapshot_server_t *self, session_t *session)
{
    zwatch_fleet_snapshot_destroy (&session->cursor);
    session->used = false;
    session->pending = NULL;
    self->active--;
}

void
zwatch_snapshot_server_destroy (zwatch_snapshot_server_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_snapshot_server_t *self = *self_p;
        for (size_t index = 0; index < ZWATCH_SNAPSHOT_ACTIVE_MAX; index++)
            if (self->sessions [index].used)
                s_end_session (self, &self->sessions [index]);
        zmq_msg_close (&self->frame);
        zsock_destroy (&self->router);
        free (self);
        *self_p = NULL;
    }
}

zsock_t *
zwatch_snapshot_server_socket (zwatch_snapshot_server_t *self)
{
    return self->router;
}

const char *
zwatch_snapshot_reason_name (int reason)
{
    if (reason == ZWATCH_SNAPSHOT_BUSY)
        return "busy";
    if (reason == ZWATCH_SNAPSHOT_NO_MEMORY)
        return "no_memory";
    if (reason == ZWATCH_SNAPSHOT_NO_FLEET)
        return "no_fleet";
    return zwatch_fleet_request_reason_name ((zwatch_request_reason_t) reason);
}

//  One frame to the client with this routing id. 0: sent; -1 with errno
//  EAGAIN (its pipe is full) or EHOSTUNREACH (it is gone)
static int
s_send_to (zwatch_snapshot_server_t *self, const void *id, size_t id_size,
           const void *data, size_t size)
{
    //  With ROUTER_MANDATORY the routing frame fails whole or not at all
    if (zmq_send (self->handle, id, id_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
        return -1;
    return zmq_send (self->handle, data, size, ZMQ_DONTWAIT) == -1? -1: 0;
}

//  An error reply, never waited for: a client that cannot take one frame
//  is one that does not read
static void
s_refuse (zwatch_snapshot_server_t *self, const void *id, size_t id_size, int reason)
{
    self->counters.refused++;
    self->counters.refused_by [reason]++;
    uint8_t reply [REPLY_SMALL_MAX];
    int size = zwatch_fleet_encode_error (reply, sizeof (reply), zwatch_snapshot_reason_name (reason));
    if (size < 0 || s_send_to (self, id, id_size, reply, (size_t) size) != 0)
        self->counters.dropped++;
}

static void
s_start (zwatch_snapshot_server_t *self, const zmq_msg_t *id, const zwatch_fleet_request_t *request)
{
    const void *id_data = zmq_msg_data ((zmq_msg_t *) id);
    size_t id_size = zmq_msg_size ((zmq_msg_t *) id);
    if (!self->fleet) {
        s_refuse (self, id_data, id_size, ZWATCH_SNAPSHOT_NO_FLEET);
        return;
    }
    //  One reply per client at a time: two would interleave their frames
    session_t *session = NULL;
    bool again = false;
    for (size_t index = 0; index < ZWATCH_SNAPSHOT_ACTIVE_MAX; index++) {
        session_t *slot = &self->sessions [index];
        if (!slot->used && !session)
            session = slot;
        if (slot->used && slot->id_size == id_size && memcmp (slot->id, id_data, id_size) == 0)
            again = true;
    }
    if (!session || again || id_size > sizeof (session->id)) {
        s_refuse (self, id_data, id_size, ZWATCH_SNAPSHOT_BUSY);
        return;
    }
    memset (session, 0, sizeof (*session));
    session->cursor = zwatch_fleet_snapshot_new (self->fleet, request->prefix.ptr,
                                                 request->prefix.len);
    if (!session->cursor) {
        s_refuse (self, id_data, id_size, ZWATCH_SNAPSHOT_NO_MEMORY);
        return;
    }
    session->used = true;
    memcpy (session->id, id_data, id_size);
    session->id_size = id_size;
    session->stage = STAGE_FLEET;
    if (request->has_history)
        session->history_want = request->history < self->history_max?
                                request->history: self->history_max;
    self->active++;
}

void
zwatch_snapshot_server_read (zwatch_snapshot_server_t *self, int64_t now)
{
    (void) now;
    zmq_msg_t id;
    zmq_msg_init (&id);
    for (int count = 0; count < READ_BATCH; count++) {
        if (zmq_msg_recv (&id, self->handle, ZMQ_DONTWAIT) == -1)
            break;
        if (!zmq_msg_more (&id))
            continue;               //  a ROUTER always gives an id and a body
        if (zmq_msg_recv (&self->frame, self->handle, ZMQ_DONTWAIT) == -1)
            break;
        self->counters.requests++;
        if (zmq_msg_more (&self->frame)) {
            while (zmq_msg_more (&self->frame)
               &&  zmq_msg_recv (&self->frame, self->handle, ZMQ_DONTWAIT) != -1)
                ;
            s_refuse (self, zmq_msg_data (&id), zmq_msg_size (&id), ZWATCH_REQUEST_MULTIPART);
            continue;
        }
        zwatch_fleet_request_t request;
        zwatch_request_reason_t reason = zwatch_fleet_request_decode (
            &request, zmq_msg_data (&self->frame), zmq_msg_size (&self->frame));
        if (reason != ZWATCH_REQUEST_OK)
            s_refuse (self, zmq_msg_data (&id), zmq_msg_size (&id), (int) reason);
        else
            s_start (self, &id, &request);      //  the cursor copies the prefix
    }
    zmq_msg_close (&id);
}

//  Try to send one frame of session; true if it went. A frame that could
//  not go is for the caller to keep; a client gone or stalled too long is
//  dropped (the session ends: *dropped true)
static bool
s_try (zwatch_snapshot_server_t *self, session_t *session, const void *data, size_t size,
       int64_t now, bool *dropped)
{
    if (s_send_to (self, session->id, session->id_size, data, size) == 0) {
        session->blocked_since = 0;
        self->counters.frames++;
        return true;
    }
    if (zmq_errno () == EAGAIN) {
        if (!session->blocked_since)
            session->blocked_since = now? now: 1;
        else
        if (now - session->blocked_since < ZWATCH_SNAPSHOT_STALL_MS)
            return false;
        else {
            self->counters.dropped++;
            s_end_session (self, session);
            *dropped = true;
        }
        return false;
    }
    //  EHOSTUNREACH: the client went away mid-reply
    self->counters.dropped++;
    s_end_session (self, session);
    *dropped = true;
    return false;
}

//  Up to budget frames of one session; returns the frames sent
static size_t
s_send_session (zwatch_snapshot_server_t *self, session_t *session, size_t budget, int64_t now)
{
    size_t sent = 0;
    bool dropped = false;
    while (sent < budget && !dropped) {
        if (session->stage == STAGE_FLEET) {
            if (!session->pending) {
                const void *data;
                size_t size;
                if (!zwatch_fleet_snapshot_next (session->cursor, &data, &size)) {
                    if (zwatch_fleet_snapshot_failed (session->cursor)) {
                        //  Cut short: the client is told, not given a wrong end
                        s_refuse (self, session->id, session->id_size, ZWATCH_SNAPSHOT_NO_MEMORY);
                        s_end_session (self, session);
                        return sent;
                    }
                    session->stage = STAGE_HISTORY;
                    uint64_t end = zwatch_history_end (self->history);
                    uint64_t held = zwatch_history_size (self->history);
                    uint64_t want = session->history_want < held? session->history_want: held;
                    session->history_end = end;
                    session->history_next = end - want;
                    continue;
                }
                session->pending = data;
                session->pending_size = size;
            }
            if (!s_try (self, session, session->pending, session->pending_size, now, &dropped))
                return sent;
            session->pending = NULL;
            sent++;
        }
        else
        if (session->stage == STAGE_HISTORY) {
            //  Events overwritten since the start of this stage are skipped
            uint64_t begin = zwatch_history_begin (self->history);
            if (session->history_next < begin)
                session->history_next = begin;
            if (session->history_next >= session->history_end) {
                session->stage = STAGE_END;
                continue;
            }
            size_t event_size = 0;
            const uint8_t *event = zwatch_history_get (self->history, session->history_next,
                                                       &event_size);
            if (!event || event_size == 0) {
                session->history_next++;
                continue;
            }
            if (!s_try (self, session, event, event_size, now, &dropped))
                return sent;
            session->history_next++;
            session->events++;
            sent++;
        }
        else {
            uint8_t reply [REPLY_SMALL_MAX];
            zwatch_fleet_snapshot_t *cursor = session->cursor;
            int size = zwatch_fleet_encode_snapshot_end (
                reply, sizeof (reply), zwatch_fleet_snapshot_agents (cursor),
                zwatch_fleet_snapshot_sockets (cursor), zwatch_fleet_snapshot_links (cursor),
                session->events, zwatch_fleet_snapshot_lseq (cursor));
            if (size < 0) {
                s_end_session (self, session);
                return sent;
            }
            if (!s_try (self, session, reply, (size_t) size, now, &dropped))
                return sent;
            self->counters.served++;
            s_end_session (self, session);
            return sent + 1;
        }
    }
    return sent;
}

void
zwatch_snapshot_server_send (zwatch_snapshot_server_t *self, int64_t now)
{
    if (!self->active)
        return;
    size_t budget = ZWATCH_SNAPSHOT_SLICE / self->active;
    if (budget < 16)
        budget = 16;
    for (size_t count = 0; count < ZWATCH_SNAPSHOT_ACTIVE_MAX; count++) {
        session_t *session = &self->sessions [(self->next_session + count) % ZWATCH_SNAPSHOT_ACTIVE_MAX];
        if (session->used)
            s_send_session (self, session, budget, now);
    }
    self->next_session = (self->next_session + 1) % ZWATCH_SNAPSHOT_ACTIVE_MAX;
}

size_t
zwatch_snapshot_server_active (zwatch_snapshot_server_t *self)
{
    return self->active;
}

size_t
zwatch_snapshot_server_ready (zwatch_snapshot_server_t *self)
{
    size_t ready = 0;
    for (size_t index = 0; index < ZWATCH_SNAPSHOT_ACTIVE_MAX; index++)
        if (self->sessions [index].used && !self->sessions [index].blocked_since)
            ready++;
    return ready;
}

const zwatch_snapshot_counters_t *
zwatch_snapshot_server_counters (zwatch_snapshot_server_t *self)
{
    return &self->counters;
}
