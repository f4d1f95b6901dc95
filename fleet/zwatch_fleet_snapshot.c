/*  zwatch_fleet_snapshot: the model as msgpack frames, one agent at a time.

    A cursor over the agents that were in the model when the snapshot was
    asked for: each agent's frames (its agent map, its sockets, its links)
    are packed together when the broker reaches it, so they show that
    agent at one instant, with the seq of that instant; the model changes
    freely between agents. That is all the merge rule needs (PROTOCOL.md
    section 13): events are applied per agent by seq, and links by lseq
    from the moment of the request (a link frame made later than that is
    corrected by the link messages after it, which the client applies).
    So no step costs more than one agent's frames, whatever the fleet's
    size, and nothing is copied that is not about to be sent.
*/

#include <errno.h>
#include <msgpack.h>
#include "zwatch_fleet_internal.h"

struct _zwatch_fleet_snapshot_t {
    zwatch_fleet_t *fleet;
    char prefix [ZWATCH_TOPIC_MAX + 1];
    size_t prefix_len;
    char **keys;                //  the agents selected at the request
    size_t key_count;
    size_t key_next;
    msgpack_sbuffer buffer;     //  the current agent's frames
    size_t *ends;               //  where each frame ends in buffer
    size_t frames;
    size_t capacity;
    size_t next;                //  the next frame to hand out
    size_t agents, sockets, links, bytes;
    uint64_t lseq;
    bool failed;                //  a write ran out of memory
};

//  One flag for a failed write, instead of checking every pack call
static int
s_write (void *data, const char *buf, size_t len)
{
    zwatch_fleet_snapshot_t *self = (zwatch_fleet_snapshot_t *) data;
    if (msgpack_sbuffer_write (&self->buffer, buf, len) != 0)
        self->failed = true;
    return 0;
}

static int
s_mark (zwatch_fleet_snapshot_t *self)
{
    if (self->frames == self->capacity) {
        size_t capacity = self->capacity? self->capacity * 2: 256;
        size_t *ends = (size_t *) realloc (self->ends, capacity * sizeof (size_t));
        if (!ends)
            return -1;
        self->ends = ends;
        self->capacity = capacity;
    }
    self->ends [self->frames++] = self->buffer.size;
    return 0;
}

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    size_t len = strlen (text);
    msgpack_pack_str_with_body (pk, text, len);
}

static void
s_pack_key (msgpack_packer *pk, const char *key)
{
    s_pack_str (pk, key);
}

static void
s_pack_head (msgpack_packer *pk, size_t entries, const char *kind, fleet_agent_t *agent)
{
    msgpack_pack_map (pk, entries);
    s_pack_key (pk, "v");
    msgpack_pack_uint64 (pk, 1);
    s_pack_key (pk, "kind");
    s_pack_str (pk, kind);
    s_pack_key (pk, "host");
    s_pack_str (pk, agent->host);
    s_pack_key (pk, "svc");
    s_pack_str (pk, agent->svc);
    s_pack_key (pk, "pid");
    msgpack_pack_uint64 (pk, agent->pid);
}

static void
s_pack_agent (msgpack_packer *pk, fleet_agent_t *agent)
{
    s_pack_head (pk, 12, "agent", agent);
    s_pack_key (pk, "start");
    msgpack_pack_uint64 (pk, agent->start);
    s_pack_key (pk, "seq");
    msgpack_pack_uint64 (pk, agent->seq);
    s_pack_key (pk, "partial");
    if (agent->partial)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    s_pack_key (pk, "read");
    msgpack_pack_uint64 (pk, agent->read);
    s_pack_key (pk, "sent");
    msgpack_pack_uint64 (pk, agent->sent);
    s_pack_key (pk, "dropped");
    msgpack_pack_uint64 (pk, agent->dropped);
    s_pack_key (pk, "watched");
    msgpack_pack_uint64 (pk, agent->watched);
}

static void
s_pack_conn (msgpack_packer *pk, fleet_conn_t *conn)
{
    msgpack_pack_map (pk, 4 + (conn->local? 1: 0) + (conn->peer? 1: 0) + (conn->peer_pid? 1: 0));
    s_pack_key (pk, "dir");
    s_pack_str (pk, conn->in? "in": "out");
    s_pack_key (pk, "endpoint");
    s_pack_str (pk, conn->endpoint);
    if (conn->local) {
        s_pack_key (pk, "local");
        s_pack_str (pk, conn->local);
    }
    if (conn->peer) {
        s_pack_key (pk, "peer");
        s_pack_str (pk, conn->peer);
    }
    if (conn->peer_pid) {
        s_pack_key (pk, "peer_pid");
        msgpack_pack_uint64 (pk, conn->peer_pid);
    }
    s_pack_key (pk, "fd");
    msgpack_pack_int64 (pk, conn->fd);
    s_pack_key (pk, "since");
    msgpack_pack_uint64 (pk, conn->since);
}

static void
s_pack_socket (msgpack_packer *pk, fleet_socket_t *socket)
{
    s_pack_head (pk, 10 + (socket->error_endpoint? 1: 0), "socket", socket->agent);
    s_pack_key (pk, "sock");
    s_pack_str (pk, socket->label);
    s_pack_key (pk, "stype");
    s_pack_str (pk, socket->stype);

    s_pack_key (pk, "listening");
    msgpack_pack_array (pk, zlistx_size (socket->listening));
    fleet_listen_t *listen = (fleet_listen_t *) zlistx_first (socket->listening);
    for (; listen; listen = (fleet_listen_t *) zlistx_next (socket->listening))
        s_pack_str (pk, listen->endpoint);

    s_pack_key (pk, "connections");
    msgpack_pack_array (pk, zlistx_size (socket->conns));
    fleet_conn_t *conn = (fleet_conn_t *) zlistx_first (socket->conns);
    for (; conn; conn = (fleet_conn_t *) zlistx_next (socket->conns))
        s_pack_conn (pk, conn);

    s_pack_key (pk, "retrying");
    msgpack_pack_array (pk, zlistx_size (socket->retrying));
    fleet_retry_t *retry = (fleet_retry_t *) zlistx_first (socket->retrying);
    for (; retry; retry = (fleet_retry_t *) zlistx_next (socket->retrying)) {
        msgpack_pack_map (pk, 4);
        s_pack_key (pk, "endpoint");
        s_pack_str (pk, retry->endpoint);
        s_pack_key (pk, "ivl");
        msgpack_pack_int64 (pk, retry->ivl);
        s_pack_key (pk, "since");
        msgpack_pack_uint64 (pk, retry->since);
        s_pack_key (pk, "last");
        msgpack_pack_uint64 (pk, retry->last);
    }
    if (socket->error_endpoint) {
        s_pack_key (pk, "bind_error");
        msgpack_pack_map (pk, 3);
        s_pack_key (pk, "endpoint");
        s_pack_str (pk, socket->error_endpoint);
        s_pack_key (pk, "value");
        msgpack_pack_int64 (pk, socket->error_value);
        s_pack_key (pk, "ts");
        msgpack_pack_uint64 (pk, socket->error_ts);
    }
}

static void
s_pack_end (msgpack_packer *pk, fleet_conn_t *conn)
{
    fleet_agent_t *agent = conn->socket->agent;
    msgpack_pack_map (pk, 5);
    s_pack_key (pk, "host");
    s_pack_str (pk, agent->host);
    s_pack_key (pk, "svc");
    s_pack_str (pk, agent->svc);
    s_pack_key (pk, "pid");
    msgpack_pack_uint64 (pk, agent->pid);
    s_pack_key (pk, "sock");
    s_pack_str (pk, conn->socket->label);
    s_pack_key (pk, "addr");
    s_pack_str (pk, conn->local? conn->local: "");
}

static void
s_pack_link (msgpack_packer *pk, fleet_pair_t *pair)
{
    fleet_conn_t *out = pair->linked_out, *in = pair->linked_in;
    msgpack_pack_map (pk, 6);
    s_pack_key (pk, "v");
    msgpack_pack_uint64 (pk, 1);
    s_pack_key (pk, "kind");
    s_pack_str (pk, "link");
    s_pack_key (pk, "from");
    s_pack_end (pk, out);
    s_pack_key (pk, "to");
    s_pack_end (pk, in);
    s_pack_key (pk, "endpoint");
    s_pack_str (pk, out->endpoint);
    s_pack_key (pk, "since");
    msgpack_pack_uint64 (pk, out->since > in->since? out->since: in->since);
}

//  The agent's topic "ev/<host>/<svc>/" and the prefix agree as far as
//  the shorter goes
static bool
s_selected (fleet_agent_t *agent, const char *prefix, size_t prefix_len)
{
    if (prefix_len == 0)
        return true;
    char topic [3 + ZWATCH_HOST_MAX + 1 + ZWATCH_SVC_MAX + 2];
    int length = snprintf (topic, sizeof (topic), "ev/%s/%s/", agent->host, agent->svc);
    size_t common = (size_t) length < prefix_len? (size_t) length: prefix_len;
    return memcmp (topic, prefix, common) == 0;
}

zwatch_fleet_snapshot_t *
zwatch_fleet_snapshot_new (zwatch_fleet_t *fleet, const char *prefix, size_t prefix_len)
{
    zwatch_fleet_snapshot_t *self =
        (zwatch_fleet_snapshot_t *) zmalloc (sizeof (zwatch_fleet_snapshot_t));
    self->fleet = fleet;
    //  Longer prefixes select the same agents as their first part
    self->prefix_len = prefix_len < ZWATCH_TOPIC_MAX? prefix_len: ZWATCH_TOPIC_MAX;
    if (self->prefix_len)
        memcpy (self->prefix, prefix, self->prefix_len);
    msgpack_sbuffer_init (&self->buffer);
    self->lseq = fleet->counters.lseq;
    self->keys = (char **) calloc (zhashx_size (fleet->agents) + 1, sizeof (char *));
    bool failed = self->keys == NULL;
    fleet_agent_t *agent = (fleet_agent_t *) zhashx_first (fleet->agents);
    for (; agent && !failed; agent = (fleet_agent_t *) zhashx_next (fleet->agents))
        if (s_selected (agent, self->prefix, self->prefix_len)) {
            self->keys [self->key_count] = strdup (agent->key);
            failed = self->keys [self->key_count++] == NULL;
        }
    if (failed) {
        zwatch_fleet_snapshot_destroy (&self);
        errno = ENOMEM;
    }
    return self;
}

//  Pack one agent's frames: its map, its sockets, then its links: those it
//  connected, and those it accepted from an agent the snapshot leaves out
static void
s_pack_agent_frames (zwatch_fleet_snapshot_t *self, fleet_agent_t *agent)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, self, s_write);
    s_pack_agent (&pk, agent);
    bool ok = s_mark (self) == 0;
    self->agents++;
    fleet_socket_t *socket = (fleet_socket_t *) zhashx_first (agent->sockets);
    for (; socket && ok; socket = (fleet_socket_t *) zhashx_next (agent->sockets)) {
        s_pack_socket (&pk, socket);
        ok = s_mark (self) == 0;
        self->sockets++;
    }
    socket = (fleet_socket_t *) zhashx_first (agent->sockets);
    for (; socket && ok; socket = (fleet_socket_t *) zhashx_next (agent->sockets)) {
        fleet_conn_t *conn = (fleet_conn_t *) zlistx_first (socket->conns);
        for (; conn && ok; conn = (fleet_conn_t *) zlistx_next (socket->conns)) {
            fleet_pair_t *pair = conn->pair;
            if (!pair || (pair->linked_out != conn && pair->linked_in != conn))
                continue;
            if (pair->linked_in == conn
            &&  s_selected (pair->linked_out->socket->agent, self->prefix, self->prefix_len))
                continue;       //  comes with the agent that connected
            s_pack_link (&pk, pair);
            ok = s_mark (self) == 0;
            self->links++;
        }
    }
    if (!ok)
        self->failed = true;
}

bool
zwatch_fleet_snapshot_next (zwatch_fleet_snapshot_t *self, const void **data, size_t *size)
{
    while (self->next >= self->frames) {
        if (self->failed || self->key_next >= self->key_count)
            return false;
        msgpack_sbuffer_clear (&self->buffer);
        self->frames = self->next = 0;
        //  Gone since the request: nothing to say (its links broke after lseq)
        fleet_agent_t *agent =
            (fleet_agent_t *) zhashx_lookup (self->fleet->agents, self->keys [self->key_next++]);
        if (agent)
            s_pack_agent_frames (self, agent);
        if (self->failed) {
            errno = ENOMEM;
            return false;
        }
    }
    size_t start = self->next? self->ends [self->next - 1]: 0;
    *data = self->buffer.data + start;
    *size = self->ends [self->next] - start;
    self->bytes += *size;
    self->next++;
    return true;
}

bool
zwatch_fleet_snapshot_failed (zwatch_fleet_snapshot_t *self)
{
    return self->failed;
}

size_t
zwatch_fleet_snapshot_agents (zwatch_fleet_snapshot_t *self)
{
    return self->agents;
}

size_t
zwatch_fleet_snapshot_sockets (zwatch_fleet_snapshot_t *self)
{
    return self->sockets;
}

size_t
zwatch_fleet_snapshot_links (zwatch_fleet_snapshot_t *self)
{
    return self->links;
}

size_t
zwatch_fleet_snapshot_bytes (zwatch_fleet_snapshot_t *self)
{
    return self->bytes;
}

uint64_t
zwatch_fleet_snapshot_lseq (zwatch_fleet_snapshot_t *self)
{
    return self->lseq;
}

void
zwatch_fleet_snapshot_destroy (zwatch_fleet_snapshot_t **self_p)
{
    zwatch_fleet_snapshot_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; self->keys && index < self->key_count; index++)
        free (self->keys [index]);
    free (self->keys);
    msgpack_sbuffer_destroy (&self->buffer);
    free (self->ends);
    free (self);
    *self_p = NULL;
}
