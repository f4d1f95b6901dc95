/*  zwatch_fleet: the fleet model (rules: docs/PROTOCOL.md section 11).

    Every change goes in two steps: first the structures change and the
    join slots (pairs) that a change touched are listed; then each listed
    pair is settled, which reports a link made or broken. Whatever was
    removed is freed only after that, so a link-down report can still
    name both ends, and a replay that describes the same connections
    again does not flap their links.
*/

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include "zwatch_fleet_internal.h"
#include "zwatch_bytes.h"

//  libzmq 4.3 event codes (docs/PROTOCOL.md section 4)
#define EV_CONNECTED        1
#define EV_CONNECT_RETRIED  4
#define EV_LISTENING        8
#define EV_BIND_FAILED      16
#define EV_ACCEPTED         32
#define EV_CLOSED           128
#define EV_DISCONNECTED     512
#define EV_MONITOR_STOPPED  1024

//  Longest join key: "t|" host "|" addr "|" addr, or "i|" host "|" endpoint "|" pid
#define JOIN_KEY_MAX (2 + ZWATCH_HOST_MAX + 1 + 2 * ZWATCH_ENDPOINT_MAX + 24)

static char *
s_strdup (zwatch_str_t str)
{
    if (!str.ptr)
        return NULL;
    char *copy = (char *) malloc (str.len + 1);
    if (copy) {
        memcpy (copy, str.ptr, str.len);
        copy [str.len] = 0;
    }
    return copy;
}

static void
s_copy (char *dst, size_t size, zwatch_str_t str)
{
    size_t len = str.len < size - 1? str.len: size - 1;
    if (len)
        memcpy (dst, str.ptr, len);
    dst [len] = 0;
}

//  One pass, inline: strlen and memcmp calls for each name of each event
//  were ~5 % of the broker's forwarding thread (perf). A shorter text stops
//  the loop at its NUL, which no decoded string holds.
static inline bool
s_is (const char *text, zwatch_str_t str)
{
    if (!text || !str.ptr)
        return false;
    for (size_t index = 0; index < str.len; index++)
        if (text [index] != str.ptr [index])
            return false;
    return text [str.len] == 0;
}

//  A string of ours (length known) against str, both maybe absent
static inline bool
s_same_sized (const char *text, size_t len, zwatch_str_t str)
{
    if (!text)
        return !str.ptr;
    return str.ptr && len == str.len && zwatch_bytes_same (text, str.ptr, len);
}

static bool
s_same_text (const char *a, const char *b)
{
    return a == b || (a && b && strcmp (a, b) == 0);
}


/*  Connections and their join slots  */

//  A connection and its three strings in one allocation (one malloc and
//  one free per connection: a replaced connection is the common event)
static fleet_conn_t *
s_conn_new (fleet_socket_t *socket, const zwatch_msg_t *msg)
{
    size_t size = sizeof (fleet_conn_t);
    const zwatch_str_t *text [3] = { &msg->endpoint, &msg->local, &msg->peer };
    for (int index = 0; index < 3; index++)
        if (text [index]->ptr)
            size += text [index]->len + 1;
    fleet_conn_t *conn = (fleet_conn_t *) zmalloc (size);
    char *next = (char *) (conn + 1);
    char **field [3] = { &conn->endpoint, &conn->local, &conn->peer };
    for (int index = 0; index < 3; index++)
        if (text [index]->ptr) {
            *field [index] = next;
            conn->lengths [index] = (uint16_t) text [index]->len;
            memcpy (next, text [index]->ptr, text [index]->len);
            next [text [index]->len] = 0;
            next += text [index]->len + 1;
        }
    conn->socket = socket;
    conn->in = msg->code == EV_ACCEPTED;
    conn->fd = msg->value;
    conn->since = msg->ts;
    conn->peer_pid = conn->in? msg->peer_pid: 0;
    return conn;
}

static void
s_conn_free (fleet_conn_t *conn)
{
    free (conn);
}

static bool
s_loopback (const char *addr)
{
    return strncmp (addr, "127.", 4) == 0 || strncmp (addr, "[::1]", 5) == 0
        || strncmp (addr, "[::ffff:127.", 12) == 0;
}

//  The key both ends of one connection share, or false if this end
//  cannot be joined (PROTOCOL.md 11.3)
//  Appends text at buf [at], cut at size - 1 as snprintf would; returns
//  the new end. By hand: snprintf was the most of building a key.
static size_t
s_put (char *buf, size_t size, size_t at, const char *text)
{
    size_t len = strlen (text);
    if (at + len > size - 1)
        len = size - 1 - at;
    memcpy (buf + at, text, len);
    buf [at + len] = 0;
    return at + len;
}

static bool
s_join_key (fleet_conn_t *conn, char *buf, size_t size)
{
    fleet_agent_t *agent = conn->socket->agent;
    if (strncmp (conn->endpoint, "tcp://", 6) == 0) {
        if (!conn->local || !conn->peer || !*conn->local || !*conn->peer)
            return false;
        const char *from = conn->in? conn->peer: conn->local;
        const char *to = conn->in? conn->local: conn->peer;
        //  "t|host|from|to": a loopback pair names a connection on one host only
        size_t at = s_put (buf, size, 0, "t|");
        at = s_put (buf, size, at, s_loopback (to)? agent->host: "");
        at = s_put (buf, size, at, "|");
        at = s_put (buf, size, at, from);
        at = s_put (buf, size, at, "|");
        s_put (buf, size, at, to);
        return true;
    }
    if (strncmp (conn->endpoint, "ipc://", 6) == 0) {
        uint64_t connecting = conn->in? conn->peer_pid: agent->pid;
        if (!connecting)
            return false;
        char pid [24];
        snprintf (pid, sizeof (pid), "%" PRIu64, connecting);
        size_t at = s_put (buf, size, 0, "i|");
        at = s_put (buf, size, at, agent->host);
        at = s_put (buf, size, at, "|");
        at = s_put (buf, size, at, conn->endpoint);
        at = s_put (buf, size, at, "|");
        s_put (buf, size, at, pid);
        return true;
    }
    return false;
}

static void
s_touch (zwatch_fleet_t *self, fleet_pair_t *pair)
{
    if (!pair->touched) {
        pair->touched = true;
        pair->next_touched = NULL;
        if (self->touched_tail)
            self->touched_tail->next_touched = pair;
        else
            self->touched = pair;
        self->touched_tail = pair;
    }
}

//  Put a live connection in its join slot; a newer end with the same
//  addresses takes the place of an older one. hint: the pair the
//  connection it replaces held (likely its own: no hash lookup), or NULL
static void
s_pair_attach (zwatch_fleet_t *self, fleet_conn_t *conn, fleet_pair_t *hint)
{
    char key [JOIN_KEY_MAX];
    if (!s_join_key (conn, key, sizeof (key)))
        return;
    fleet_pair_t *pair = hint && strcmp (hint->key, key) == 0? hint
                       : (fleet_pair_t *) zhashx_lookup (self->pairs, key);
    if (!pair) {
        pair = (fleet_pair_t *) zmalloc (sizeof (fleet_pair_t));
        pair->key = strdup (key);
        zhashx_insert (self->pairs, key, pair);
    }
    fleet_conn_t **slot = conn->in? &pair->in: &pair->out;
    if (*slot) {
        (*slot)->pair = NULL;
        self->counters.link_conflicts++;
    }
    *slot = conn;
    conn->pair = pair;
    conn->joined = true;
    s_touch (self, pair);
}

static void
s_pair_detach (zwatch_fleet_t *self, fleet_conn_t *conn)
{
    fleet_pair_t *pair = conn->pair;
    if (!pair)
        return;
    if (pair->out == conn)
        pair->out = NULL;
    if (pair->in == conn)
        pair->in = NULL;
    conn->pair = NULL;
    s_touch (self, pair);
}

//  The same end, described again (a replay)
static bool
s_same_end (fleet_conn_t *a, fleet_conn_t *b)
{
    return a->socket->agent == b->socket->agent && a->in == b->in
        && (a->socket == b->socket || strcmp (a->socket->label, b->socket->label) == 0)
        && s_same_text (a->endpoint, b->endpoint)
        && s_same_text (a->local, b->local) && s_same_text (a->peer, b->peer);
}

static void
s_fill_end (zwatch_fleet_end_t *end, fleet_conn_t *conn)
{
    fleet_agent_t *agent = conn->socket->agent;
    end->host = agent->host;
    end->svc = agent->svc;
    end->pid = agent->pid;
    end->sock = conn->socket->label;
    end->addr = conn->local? conn->local: "";
}

static void
s_report (zwatch_fleet_t *self, fleet_conn_t *out, fleet_conn_t *in, bool up)
{
    self->counters.lseq++;
    if (!self->link_fn)
        return;
    zwatch_fleet_link_t link;
    link.up = up;
    s_fill_end (&link.from, out);
    s_fill_end (&link.to, in);
    link.endpoint = out->endpoint;
    link.since = out->since > in->since? out->since: in->since;
    link.lseq = self->counters.lseq;
    self->link_fn (self->link_arg, &link);
}

//  Tell the change handler about a live socket or connection (conn NULL:
//  the socket itself)
static void
s_change (zwatch_fleet_t *self, zwatch_fleet_change_kind_t kind, fleet_socket_t *socket,
          fleet_conn_t *conn)
{
    if (!self->change_fn)
        return;
    zwatch_fleet_change_t change = { kind, socket->agent, socket, conn };
    self->change_fn (self->change_arg, &change);
}

//  Report what changed in each touched pair; drop empty pairs
static void
s_settle (zwatch_fleet_t *self)
{
    fleet_pair_t *pair;
    while ((pair = self->touched)) {
        self->touched = pair->next_touched;
        if (!self->touched)
            self->touched_tail = NULL;
        pair->touched = false;
        bool linked = pair->linked_out != NULL;
        bool joined = pair->out && pair->in;
        if (linked && joined
        &&  s_same_end (pair->linked_out, pair->out) && s_same_end (pair->linked_in, pair->in)) {
            pair->linked_out = pair->out;       //  described again: no change
            pair->linked_in = pair->in;
        }
        else {
            if (linked && (pair->linked_out != pair->out || pair->linked_in != pair->in)) {
                s_report (self, pair->linked_out, pair->linked_in, false);
                pair->linked_out = pair->linked_in = NULL;
                self->links--;
            }
            if (joined && !pair->linked_out) {
                if (self->links >= self->limits.links)
                    self->counters.links_refused++;
                else {
                    pair->linked_out = pair->out;
                    pair->linked_in = pair->in;
                    self->links++;
                    s_report (self, pair->out, pair->in, true);
                }
            }
        }
        if (!pair->out && !pair->in) {
            zhashx_delete (self->pairs, pair->key);
            free (pair->key);
            free (pair);
        }
    }
}


/*  Sockets  */

static void
s_listen_free (fleet_listen_t *listen)
{
    free (listen->endpoint);
    free (listen);
}

static void
s_retry_free (fleet_retry_t *retry)
{
    free (retry->endpoint);
    free (retry);
}

//  Connections by fd: the key is a pointer to the fd, which lives in the
//  connection itself (nothing to copy or free)
static size_t
s_fd_hash (const void *key)
{
    return (size_t) (*(const int64_t *) key * 2654435761u);
}

static int
s_fd_compare (const void *a, const void *b)
{
    int64_t fd_a = *(const int64_t *) a, fd_b = *(const int64_t *) b;
    return fd_a < fd_b? -1: fd_a > fd_b;
}

static fleet_socket_t *
s_socket_new (fleet_agent_t *agent, const char *label)
{
    fleet_socket_t *socket = (fleet_socket_t *) zmalloc (sizeof (fleet_socket_t));
    socket->agent = agent;
    socket->label = strdup (label);
    socket->label_len = strlen (label);
    socket->listening = zlistx_new ();
    socket->conns = zlistx_new ();
    socket->conns_by_fd = zhashx_new ();
    zhashx_set_key_duplicator (socket->conns_by_fd, NULL);
    zhashx_set_key_destructor (socket->conns_by_fd, NULL);
    zhashx_set_key_hasher (socket->conns_by_fd, s_fd_hash);
    zhashx_set_key_comparator (socket->conns_by_fd, s_fd_compare);
    socket->retrying = zlistx_new ();
    return socket;
}

//  Free a socket and what it holds; its connections must be out of any pair
static void
s_socket_free (fleet_socket_t *socket)
{
    fleet_listen_t *listen;
    while ((listen = (fleet_listen_t *) zlistx_detach (socket->listening, NULL)))
        s_listen_free (listen);
    fleet_retry_t *retry;
    while ((retry = (fleet_retry_t *) zlistx_detach (socket->retrying, NULL)))
        s_retry_free (retry);
    fleet_conn_t *conn;
    while ((conn = (fleet_conn_t *) zlistx_detach (socket->conns, NULL)))
        s_conn_free (conn);
    zlistx_destroy (&socket->listening);
    zlistx_destroy (&socket->conns);
    zhashx_destroy (&socket->conns_by_fd);
    zlistx_destroy (&socket->retrying);
    free (socket->error_endpoint);
    free (socket->label);
    free (socket);
}

//  live: the agent's own sockets (connections in pairs, freed after the
//  settle); else a pending replay copy
static void
s_conn_remove (zwatch_fleet_t *self, fleet_conn_t *conn, bool live)
{
    zlistx_detach (conn->socket->conns, conn->handle);
    if (zhashx_lookup (conn->socket->conns_by_fd, &conn->fd) == conn)
        zhashx_delete (conn->socket->conns_by_fd, &conn->fd);
    self->conns--;
    if (live) {
        self->conns_live--;
        s_change (self, ZWATCH_FLEET_CONNECTION_DOWN, conn->socket, conn);
    }
    //  One that was never joined is in no pair: it can go now
    if (live && conn->joined) {
        s_pair_detach (self, conn);
        conn->next_dead = self->dead_conns;
        self->dead_conns = conn;
    }
    else
        s_conn_free (conn);
}

static void
s_socket_remove (zwatch_fleet_t *self, zhashx_t *sockets, fleet_socket_t *socket, bool live)
{
    fleet_conn_t *conn;
    while ((conn = (fleet_conn_t *) zlistx_first (socket->conns)))
        s_conn_remove (self, conn, live);
    zhashx_delete (sockets, socket->label);
    if (socket->agent->last_socket == socket)
        socket->agent->last_socket = NULL;
    if (live) {
        s_change (self, ZWATCH_FLEET_SOCKET_REMOVED, socket, NULL);
        self->sockets--;
        zlistx_add_end (self->dead_sockets, socket);
        self->removed = true;
    }
    else
        s_socket_free (socket);
}

static void
s_remove_all_sockets (zwatch_fleet_t *self, zhashx_t *sockets, bool live)
{
    fleet_socket_t *socket;
    while ((socket = (fleet_socket_t *) zhashx_first (sockets)))
        s_socket_remove (self, sockets, socket, live);
}

static int
s_refuse (uint64_t *counter, bool count)
{
    if (count)
        (*counter)++;
    errno = ENOSPC;
    return -1;
}

static int
s_listen_add (zwatch_fleet_t *self, fleet_socket_t *socket, const zwatch_msg_t *msg, bool count)
{
    fleet_listen_t *listen = (fleet_listen_t *) zlistx_first (socket->listening);
    for (; listen; listen = (fleet_listen_t *) zlistx_next (socket->listening))
        if (s_is (listen->endpoint, msg->endpoint))
            break;
    if (!listen) {
        if (zlistx_size (socket->listening) >= self->limits.listening)
            return s_refuse (&self->counters.listening_refused, count);
        listen = (fleet_listen_t *) zmalloc (sizeof (fleet_listen_t));
        listen->endpoint = s_strdup (msg->endpoint);
        zlistx_add_end (socket->listening, listen);
    }
    listen->fd = msg->value;
    listen->since = msg->ts;
    return 0;
}

static bool
s_listen_remove (fleet_socket_t *socket, zwatch_str_t endpoint)
{
    fleet_listen_t *listen = (fleet_listen_t *) zlistx_first (socket->listening);
    for (; listen; listen = (fleet_listen_t *) zlistx_next (socket->listening))
        if (s_is (listen->endpoint, endpoint)) {
            zlistx_detach_cur (socket->listening);
            s_listen_free (listen);
            return true;
        }
    return false;
}

static int
s_retry_add (zwatch_fleet_t *self, fleet_socket_t *socket, const zwatch_msg_t *msg, bool count)
{
    fleet_retry_t *retry = (fleet_retry_t *) zlistx_first (socket->retrying);
    for (; retry; retry = (fleet_retry_t *) zlistx_next (socket->retrying))
        if (s_is (retry->endpoint, msg->endpoint))
            break;
    if (!retry) {
        if (zlistx_size (socket->retrying) >= self->limits.retrying)
            return s_refuse (&self->counters.retrying_refused, count);
        retry = (fleet_retry_t *) zmalloc (sizeof (fleet_retry_t));
        retry->endpoint = s_strdup (msg->endpoint);
        retry->since = msg->ts;
        zlistx_add_end (socket->retrying, retry);
    }
    retry->ivl = msg->value;
    retry->last = msg->ts;
    return 0;
}

static void
s_retry_remove (fleet_socket_t *socket, zwatch_str_t endpoint)
{
    fleet_retry_t *retry = (fleet_retry_t *) zlistx_first (socket->retrying);
    for (; retry; retry = (fleet_retry_t *) zlistx_next (socket->retrying))
        if (s_is (retry->endpoint, endpoint)) {
            zlistx_detach_cur (socket->retrying);
            s_retry_free (retry);
            return;
        }
}

//  msg describes a connection with conn's direction and addresses. The
//  lengths kept spare a pass over each string: this was half the model's
//  time for an event that repeats a connection (callgrind, bench_broker)
static bool
s_conn_same (fleet_conn_t *conn, const zwatch_msg_t *msg)
{
    return conn->in == (msg->code == EV_ACCEPTED)
        && s_same_sized (conn->endpoint, conn->lengths [0], msg->endpoint)
        && s_same_sized (conn->local, conn->lengths [1], msg->local)
        && s_same_sized (conn->peer, conn->lengths [2], msg->peer);
}

static int
s_conn_add (zwatch_fleet_t *self, fleet_socket_t *socket, bool live, bool count,
            const zwatch_msg_t *msg)
{
    //  One fd is one connection at a time: an old one with this fd ended unseen
    fleet_conn_t *conn = (fleet_conn_t *) zhashx_lookup (socket->conns_by_fd, &msg->value);
    fleet_pair_t *hint = NULL;
    if (conn && s_conn_same (conn, msg) && (!conn->joined || conn->pair)) {
        //  The same addresses again: the new connection takes the old one's
        //  memory and places (no free, no hash delete and insert); to the
        //  handlers and the links it is the same as a replacement
        if (live)
            s_change (self, ZWATCH_FLEET_CONNECTION_DOWN, socket, conn);
        conn->since = msg->ts;
        conn->peer_pid = conn->in? msg->peer_pid: 0;
        zlistx_move_end (socket->conns, conn->handle);
        if (live) {
            s_change (self, ZWATCH_FLEET_CONNECTION_UP, socket, conn);
            if (conn->pair)
                s_touch (self, conn->pair);
        }
        return 0;
    }
    if (conn) {
        hint = conn->pair;      //  stays until the settle: the new end likely joins it
        s_conn_remove (self, conn, live);
    }
    if (zlistx_size (socket->conns) >= self->limits.connections
    ||  self->conns >= self->limits.connections_all)
        return s_refuse (&self->counters.connections_refused, count);
    conn = s_conn_new (socket, msg);
    conn->handle = zlistx_add_end (socket->conns, conn);
    zhashx_insert (socket->conns_by_fd, &conn->fd, conn);
    self->conns++;
    if (live) {
        self->conns_live++;
        s_change (self, ZWATCH_FLEET_CONNECTION_UP, socket, conn);
        s_pair_attach (self, conn, hint);
    }
    return 0;
}

//  The connection a DISCONNECTED / CLOSED ends: the one with its fd whose
//  addresses do not contradict it, else the one with both its addresses
static fleet_conn_t *
s_conn_match (fleet_socket_t *socket, const zwatch_msg_t *msg)
{
    fleet_conn_t *conn = (fleet_conn_t *) zhashx_lookup (socket->conns_by_fd, &msg->value);
    if (conn
    &&  !(msg->local.ptr && conn->local
          && !s_same_sized (conn->local, conn->lengths [1], msg->local))
    &&  !(msg->peer.ptr && conn->peer
          && !s_same_sized (conn->peer, conn->lengths [2], msg->peer)))
        return conn;
    //  Not by its fd: by both its addresses, if the event has them (rare: a
    //  walk over the socket's connections)
    if (!msg->local.ptr || !msg->peer.ptr)
        return NULL;
    for (conn = (fleet_conn_t *) zlistx_first (socket->conns); conn;
         conn = (fleet_conn_t *) zlistx_next (socket->conns))
        if (s_same_sized (conn->local, conn->lengths [1], msg->local)
        &&  s_same_sized (conn->peer, conn->lengths [2], msg->peer))
            return conn;
    return NULL;
}

//  Apply an event (or a state fact) to one set of sockets: the agent's
//  live ones or a pending replay copy. count: count what is refused.
static int
s_apply_event (zwatch_fleet_t *self, fleet_agent_t *agent, zhashx_t *sockets, bool live,
               bool count, const zwatch_msg_t *msg)
{
    char label [ZWATCH_SOCK_MAX + 1];
    fleet_socket_t *socket = NULL;
    bool own = sockets == agent->sockets;
    if (own && agent->last_socket
    &&  s_same_sized (agent->last_socket->label, agent->last_socket->label_len, msg->sock))
        socket = agent->last_socket;
    else {
        s_copy (label, sizeof (label), msg->sock);
        socket = (fleet_socket_t *) zhashx_lookup (sockets, label);
    }
    if (msg->code == EV_MONITOR_STOPPED) {
        if (socket)
            s_socket_remove (self, sockets, socket, live);
        return 0;
    }
    if (!socket) {
        if (zhashx_size (sockets) >= self->limits.sockets)
            return s_refuse (&self->counters.sockets_refused, count);
        socket = s_socket_new (agent, label);
        zhashx_insert (sockets, label, socket);
        s_copy (socket->stype, sizeof (socket->stype), msg->stype);
        if (live) {
            self->sockets++;
            s_change (self, ZWATCH_FLEET_SOCKET_ADDED, socket, NULL);
        }
    }
    if (own)
        agent->last_socket = socket;
    s_copy (socket->stype, sizeof (socket->stype), msg->stype);

    switch (msg->code) {
        case EV_LISTENING:
            return s_listen_add (self, socket, msg, count);
        case EV_BIND_FAILED:
            free (socket->error_endpoint);
            socket->error_endpoint = s_strdup (msg->endpoint);
            socket->error_value = msg->value;
            socket->error_ts = msg->ts;
            return 0;
        case EV_CONNECT_RETRIED:
            return s_retry_add (self, socket, msg, count);
        case EV_CONNECTED:
            s_retry_remove (socket, msg->endpoint);
            return s_conn_add (self, socket, live, count, msg);
        case EV_ACCEPTED:
            return s_conn_add (self, socket, live, count, msg);
        case EV_DISCONNECTED:
        case EV_CLOSED: {
            fleet_conn_t *conn = s_conn_match (socket, msg);
            if (conn)
                s_conn_remove (self, conn, live);
            else
            if (msg->code == EV_DISCONNECTED || !s_listen_remove (socket, msg->endpoint)) {
                if (count)
                    self->counters.unmatched++;
            }
            return 0;
        }
        default:
            return 0;           //  no state of its own; the socket is known now
    }
}


/*  Agents and replays  */

//  "host/svc/pid", by hand: snprintf was a third of the model's time for
//  an event (bench_broker)
static void
s_agent_key (char *key, size_t size, zwatch_str_t host, zwatch_str_t svc, uint64_t pid)
{
    char digits [20];
    size_t count = 0;
    do
        digits [count++] = (char) ('0' + pid % 10);
    while ((pid /= 10));
    if (host.len + svc.len + count + 3 > size) {
        //  Longer than any name the decoder lets through
        key [0] = 0;
        return;
    }
    memcpy (key, host.ptr, host.len);
    key += host.len;
    *key++ = '/';
    memcpy (key, svc.ptr, svc.len);
    key += svc.len;
    *key++ = '/';
    while (count)
        *key++ = digits [--count];
    *key = 0;
}

static fleet_replay_t *
s_replay_new (void)
{
    fleet_replay_t *replay = (fleet_replay_t *) zmalloc (sizeof (fleet_replay_t));
    replay->sockets = zhashx_new ();
    return replay;
}

static void
s_replay_destroy (zwatch_fleet_t *self, fleet_replay_t **replay_p)
{
    fleet_replay_t *replay = *replay_p;
    if (!replay)
        return;
    s_remove_all_sockets (self, replay->sockets, false);
    zhashx_destroy (&replay->sockets);
    free (replay);
    *replay_p = NULL;
}

//  A replay that cannot complete: the agent's state stays as events made it
static void
s_replay_cut (zwatch_fleet_t *self, fleet_agent_t *agent)
{
    agent->partial = true;
    self->counters.replays_partial++;
    s_replay_destroy (self, &agent->replay);
}

//  Forget what the model holds for the agent (a new instance, or gone)
static void
s_agent_clear (zwatch_fleet_t *self, fleet_agent_t *agent)
{
    s_replay_destroy (self, &agent->replay);
    s_remove_all_sockets (self, agent->sockets, true);
    agent->seq_known = false;
    agent->seq = 0;
    agent->partial = true;
    agent->read = agent->sent = agent->dropped = agent->watched = 0;
}

static void
s_agent_remove (zwatch_fleet_t *self, fleet_agent_t *agent)
{
    s_agent_clear (self, agent);
    zhashx_delete (self->agents, agent->key);
    fleet_agent_t **recent = &self->recent [agent->pid & (FLEET_RECENT_AGENTS - 1)];
    if (*recent == agent)
        *recent = NULL;
    zlistx_add_end (self->dead_agents, agent);
    self->removed = true;
}

static void
s_agent_free (fleet_agent_t *agent)
{
    zhashx_destroy (&agent->sockets);
    free (agent);
}

//  An event: to the live state, and to a pending replay copy when it
//  happened after the replay's picture was taken
static int
s_agent_event (zwatch_fleet_t *self, fleet_agent_t *agent, const zwatch_msg_t *msg)
{
    if (agent->seq_known && msg->seq <= agent->seq) {
        self->counters.stale++;
        return 0;
    }
    agent->seq = msg->seq;
    agent->seq_known = true;
    int rc = s_apply_event (self, agent, agent->sockets, true, true, msg);
    fleet_replay_t *replay = agent->replay;
    if (replay) {
        if (!replay->seq_known) {
            if (msg->seq > replay->early_seq)
                replay->early_seq = msg->seq;
        }
        else
        if (msg->seq > replay->seq)
            s_apply_event (self, agent, replay->sockets, false, false, msg);
    }
    return rc;
}

static int
s_agent_fact (zwatch_fleet_t *self, fleet_agent_t *agent, const zwatch_msg_t *msg)
{
    if (!agent->replay)
        agent->replay = s_replay_new ();    //  its hello never reached us
    fleet_replay_t *replay = agent->replay;
    if (!replay->seq_known) {
        replay->seq_known = true;
        replay->seq = msg->seq;
        //  An event after the picture came before it: the copy lacks it
        if (replay->early_seq > msg->seq)
            replay->broken = true;
    }
    else
    if (msg->seq != replay->seq)
        replay->broken = true;
    replay->received++;
    return s_apply_event (self, agent, replay->sockets, false, true, msg);
}

static void
s_agent_state_end (zwatch_fleet_t *self, fleet_agent_t *agent, const zwatch_msg_t *msg)
{
    if (!agent->replay)
        agent->replay = s_replay_new ();    //  an empty replay
    fleet_replay_t *replay = agent->replay;
    bool complete = !replay->broken && msg->count == replay->received
                 && (replay->seq_known? msg->seq == replay->seq: replay->early_seq <= msg->seq);
    if (!complete) {
        s_replay_cut (self, agent);
        return;
    }
    //  Replace: out with the old sockets, in with the copy; the settle then
    //  reports only the links that really changed
    s_remove_all_sockets (self, agent->sockets, true);
    fleet_socket_t *socket;
    while ((socket = (fleet_socket_t *) zhashx_first (replay->sockets))) {
        zhashx_delete (replay->sockets, socket->label);
        zhashx_insert (agent->sockets, socket->label, socket);
        self->sockets++;
        s_change (self, ZWATCH_FLEET_SOCKET_ADDED, socket, NULL);
        fleet_conn_t *conn = (fleet_conn_t *) zlistx_first (socket->conns);
        for (; conn; conn = (fleet_conn_t *) zlistx_next (socket->conns)) {
            self->conns_live++;
            s_change (self, ZWATCH_FLEET_CONNECTION_UP, socket, conn);
            s_pair_attach (self, conn, NULL);
        }
    }
    if (!agent->seq_known || msg->seq > agent->seq)
        agent->seq = msg->seq;
    agent->seq_known = true;
    agent->partial = false;
    self->counters.replays_complete++;
    s_replay_destroy (self, &agent->replay);
}

//  Settle the touched pairs, then free what was removed
static void
s_finish (zwatch_fleet_t *self)
{
    s_settle (self);
    fleet_conn_t *conn;
    while ((conn = self->dead_conns)) {
        self->dead_conns = conn->next_dead;
        s_conn_free (conn);
    }
    //  Nearly every step removes no socket and no agent: no call then
    if (!self->removed)
        return;
    self->removed = false;
    fleet_socket_t *socket;
    while (zlistx_size (self->dead_sockets)
       &&  (socket = (fleet_socket_t *) zlistx_detach (self->dead_sockets, NULL)))
        s_socket_free (socket);
    fleet_agent_t *agent;
    while (zlistx_size (self->dead_agents)
       &&  (agent = (fleet_agent_t *) zlistx_detach (self->dead_agents, NULL)))
        s_agent_free (agent);
}


/*  API  */

zwatch_fleet_t *
zwatch_fleet_new (const zwatch_fleet_limits_t *limits)
{
    zwatch_fleet_t *self = (zwatch_fleet_t *) zmalloc (sizeof (zwatch_fleet_t));
    if (limits)
        self->limits = *limits;
    #define DEFAULT(field, value) if (!self->limits.field) self->limits.field = value
    DEFAULT (agents, ZWATCH_FLEET_AGENTS_DEFAULT);
    DEFAULT (sockets, ZWATCH_FLEET_SOCKETS_DEFAULT);
    DEFAULT (listening, ZWATCH_FLEET_LISTENING_DEFAULT);
    DEFAULT (connections, ZWATCH_FLEET_CONNECTIONS_DEFAULT);
    DEFAULT (retrying, ZWATCH_FLEET_RETRYING_DEFAULT);
    DEFAULT (connections_all, ZWATCH_FLEET_CONNECTIONS_ALL_DEFAULT);
    DEFAULT (links, ZWATCH_FLEET_LINKS_DEFAULT);
    #undef DEFAULT
    self->agents = zhashx_new ();
    self->pairs = zhashx_new ();
    self->dead_sockets = zlistx_new ();
    self->dead_agents = zlistx_new ();
    if (!self->agents || !self->pairs || !self->dead_sockets || !self->dead_agents)
        zwatch_fleet_destroy (&self);
    return self;
}

void
zwatch_fleet_destroy (zwatch_fleet_t **self_p)
{
    zwatch_fleet_t *self = *self_p;
    if (!self)
        return;
    self->link_fn = NULL;       //  no reports while tearing down
    self->change_fn = NULL;
    fleet_agent_t *agent;
    while (self->agents && (agent = (fleet_agent_t *) zhashx_first (self->agents)))
        s_agent_remove (self, agent);
    if (self->dead_sockets && self->dead_agents)
        s_finish (self);
    zhashx_destroy (&self->agents);
    zhashx_destroy (&self->pairs);
    zlistx_destroy (&self->dead_sockets);
    zlistx_destroy (&self->dead_agents);
    free (self);
    *self_p = NULL;
}

void
zwatch_fleet_set_link_handler (zwatch_fleet_t *self, zwatch_fleet_link_fn *fn, void *arg)
{
    self->link_fn = fn;
    self->link_arg = arg;
}

void
zwatch_fleet_set_change_handler (zwatch_fleet_t *self, zwatch_fleet_change_fn *fn, void *arg)
{
    self->change_fn = fn;
    self->change_arg = arg;
}

int
zwatch_fleet_apply (zwatch_fleet_t *self, const zwatch_msg_t *msg)
{
    char key [sizeof (((fleet_agent_t *) 0)->key)];
    fleet_agent_t **recent = &self->recent [msg->pid & (FLEET_RECENT_AGENTS - 1)];
    fleet_agent_t *agent = *recent;
    if (!agent || agent->pid != msg->pid
    ||  !s_same_sized (agent->host, agent->host_len, msg->host)
    ||  !s_same_sized (agent->svc, agent->svc_len, msg->svc)) {
        s_agent_key (key, sizeof (key), msg->host, msg->svc, msg->pid);
        agent = (fleet_agent_t *) zhashx_lookup (self->agents, key);
    }
    if (!agent) {
        if (msg->kind == ZWATCH_KIND_BYE)
            return 0;
        if (zhashx_size (self->agents) >= self->limits.agents)
            return s_refuse (&self->counters.agents_refused, true);
        agent = (fleet_agent_t *) zmalloc (sizeof (fleet_agent_t));
        memcpy (agent->key, key, sizeof (key));
        s_copy (agent->host, sizeof (agent->host), msg->host);
        s_copy (agent->svc, sizeof (agent->svc), msg->svc);
        agent->host_len = (uint8_t) strlen (agent->host);
        agent->svc_len = (uint8_t) strlen (agent->svc);
        agent->pid = msg->pid;
        agent->partial = true;
        agent->sockets = zhashx_new ();
        zhashx_insert (self->agents, key, agent);
    }
    *recent = agent;
    bool lifecycle = msg->kind == ZWATCH_KIND_HELLO || msg->kind == ZWATCH_KIND_HEARTBEAT
                  || msg->kind == ZWATCH_KIND_BYE;
    if (lifecycle && msg->start) {
        //  The same pid with a new start is a new instance: the old one is gone
        if (agent->start && msg->start != agent->start)
            s_agent_clear (self, agent);
        agent->start = msg->start;
    }
    int rc = 0;
    switch (msg->kind) {
        case ZWATCH_KIND_HELLO:
            //  Every hello starts a replay; one still open was cut short
            if (agent->replay)
                s_replay_cut (self, agent);
            agent->replay = s_replay_new ();
            break;
        case ZWATCH_KIND_HEARTBEAT:
            agent->read = msg->read;
            agent->sent = msg->sent;
            agent->dropped = msg->dropped;
            agent->watched = msg->watched;
            break;
        case ZWATCH_KIND_BYE:
            s_agent_remove (self, agent);
            break;
        case ZWATCH_KIND_EVENT:
            rc = s_agent_event (self, agent, msg);
            break;
        case ZWATCH_KIND_STATE:
            rc = s_agent_fact (self, agent, msg);
            break;
        case ZWATCH_KIND_STATE_END:
            s_agent_state_end (self, agent, msg);
            break;
    }
    s_finish (self);
    return rc;
}

int
zwatch_fleet_forget (zwatch_fleet_t *self, zwatch_str_t host, zwatch_str_t svc, uint64_t pid)
{
    char key [sizeof (((fleet_agent_t *) 0)->key)];
    s_agent_key (key, sizeof (key), host, svc, pid);
    fleet_agent_t *agent = (fleet_agent_t *) zhashx_lookup (self->agents, key);
    if (!agent) {
        errno = ENOENT;
        return -1;
    }
    s_agent_remove (self, agent);
    s_finish (self);
    return 0;
}

const zwatch_fleet_counters_t *
zwatch_fleet_counters (zwatch_fleet_t *self)
{
    return &self->counters;
}

size_t
zwatch_fleet_agents (zwatch_fleet_t *self)
{
    return zhashx_size (self->agents);
}

size_t
zwatch_fleet_sockets (zwatch_fleet_t *self)
{
    return self->sockets;
}

size_t
zwatch_fleet_connections (zwatch_fleet_t *self)
{
    return self->conns_live;
}

size_t
zwatch_fleet_links (zwatch_fleet_t *self)
{
    return self->links;
}


/*  Loading a snapshot (clients): an agent's frames become a replay  */

int
zwatch_fleet_load_agent (zwatch_fleet_t *self, const zwatch_msg_t *msg)
{
    char key [sizeof (((fleet_agent_t *) 0)->key)];
    s_agent_key (key, sizeof (key), msg->host, msg->svc, msg->pid);
    if (zhashx_lookup (self->agents, key))
        zwatch_fleet_forget (self, msg->host, msg->svc, msg->pid);
    zwatch_msg_t heartbeat = *msg;
    heartbeat.kind = ZWATCH_KIND_HEARTBEAT;
    if (zwatch_fleet_apply (self, &heartbeat) != 0)
        return -1;
    fleet_agent_t *agent = (fleet_agent_t *) zhashx_lookup (self->agents, key);
    assert (agent);
    agent->start = msg->start;  //  also 0: not known yet
    //  The replay's picture is of seq S: facts carry it, events above it follow
    agent->replay = s_replay_new ();
    agent->replay->seq_known = true;
    agent->replay->seq = msg->seq;
    return 0;
}

int
zwatch_fleet_load_socket (zwatch_fleet_t *self, const zwatch_msg_t *msg)
{
    char key [sizeof (((fleet_agent_t *) 0)->key)];
    s_agent_key (key, sizeof (key), msg->host, msg->svc, msg->pid);
    fleet_agent_t *agent = (fleet_agent_t *) zhashx_lookup (self->agents, key);
    if (!agent || !agent->replay) {
        errno = ENOENT;
        return -1;
    }
    //  An event with no state of its own: the socket is known
    zwatch_msg_t known = *msg;
    known.code = 0;
    return s_apply_event (self, agent, agent->replay->sockets, false, true, &known);
}
