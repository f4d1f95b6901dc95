/*  zwatch_replay: the fleet as replays, to one parent (see zwatch_replay.h)  */

#include <string.h>
#include "zwatch_replay.h"
#include "zwatch_clock.h"

typedef struct {
    zwatch_parents_t *parents;
    size_t index;
    zwatch_msg_t msg;                   //  host, svc, pid, seq of the agent
    const char *edge;                   //  its edge below us, or NULL
    uint64_t facts;
    uint8_t buffer [ZWATCH_MSG_MAX];
    uint8_t routed [ZWATCH_MSG_MAX];    //  the same with via [edge]
} replay_t;

static zwatch_str_t
s_str (const char *text)
{
    zwatch_str_t str = { text, text? strlen (text): 0 };
    return str;
}

static int
s_send (replay_t *self, const zwatch_msg_t *msg)
{
    int size = zwatch_msg_encode (msg, self->buffer, sizeof (self->buffer));
    const uint8_t *data = self->buffer;
    zwatch_via_t none;
    if (size >= 0 && self->edge) {
        if (zwatch_via_read (&none, self->buffer, (size_t) size) == 0)
            size = zwatch_via_append (&none, self->buffer, (size_t) size, self->edge,
                                      self->routed, sizeof (self->routed));
        else
            size = -1;
        data = self->routed;
    }
    return size < 0? -1: zwatch_parents_send (self->parents, self->index, data, (size_t) size);
}

//  One state message of the socket in msg
static int
s_fact (replay_t *self, zwatch_msg_t fact, const char *event, const char *endpoint,
        int64_t value, uint64_t ts)
{
    fact.kind = ZWATCH_KIND_STATE;
    fact.event = s_str (event);
    fact.code = zwatch_event_code (event, fact.event.len);
    fact.endpoint = s_str (endpoint);
    fact.value = value;
    fact.ts = ts;
    self->facts++;
    return s_send (self, &fact);
}

//  Every fact of one socket, as the agent would give them
static int
s_socket (replay_t *self, zwatch_fleet_socket_t *socket)
{
    zwatch_msg_t fact = self->msg;
    fact.sock = s_str (zwatch_fleet_socket_label (socket));
    fact.stype = s_str (zwatch_fleet_socket_stype (socket));
    for (const char *endpoint = zwatch_fleet_listening_first (socket); endpoint;
         endpoint = zwatch_fleet_listening_next (socket))
        if (s_fact (self, fact, "LISTENING", endpoint, 0, 0))
            return -1;
    for (zwatch_fleet_conn_t *conn = zwatch_fleet_conn_first (socket); conn;
         conn = zwatch_fleet_conn_next (socket)) {
        zwatch_msg_t link = fact;
        link.local = s_str (zwatch_fleet_conn_local (conn));
        link.peer = s_str (zwatch_fleet_conn_peer (conn));
        bool in = zwatch_fleet_conn_in (conn);
        link.peer_pid = in? zwatch_fleet_conn_peer_pid (conn): 0;
        if (s_fact (self, link, in? "ACCEPTED": "CONNECTED", zwatch_fleet_conn_endpoint (conn),
                    zwatch_fleet_conn_fd (conn), zwatch_fleet_conn_since (conn)))
            return -1;
    }
    for (zwatch_fleet_retry_t *retry = zwatch_fleet_retry_first (socket); retry;
         retry = zwatch_fleet_retry_next (socket))
        if (s_fact (self, fact, "CONNECT_RETRIED", zwatch_fleet_retry_endpoint (retry),
                    zwatch_fleet_retry_ivl (retry), zwatch_fleet_retry_last (retry)))
            return -1;
    int64_t value;
    uint64_t ts;
    const char *failed = zwatch_fleet_socket_bind_error (socket, &value, &ts);
    if (failed && s_fact (self, fact, "BIND_FAILED", failed, value, ts))
        return -1;
    return 0;
}

size_t
zwatch_replay_send (zwatch_fleet_t *fleet, zwatch_agent_table_t *agents,
                    zwatch_parents_t *parents, size_t index)
{
    replay_t *self = (replay_t *) zmalloc (sizeof (replay_t));
    if (!self)
        return 0;
    self->parents = parents;
    self->index = index;
    size_t whole = 0;
    for (zwatch_fleet_agent_t *agent = zwatch_fleet_agent_first (fleet); agent;
         agent = zwatch_fleet_agent_next (fleet)) {
        zwatch_msg_t *msg = &self->msg;
        memset (msg, 0, sizeof (*msg));
        msg->host = s_str (zwatch_fleet_agent_host (agent));
        msg->svc = s_str (zwatch_fleet_agent_svc (agent));
        msg->pid = zwatch_fleet_agent_pid (agent);
        msg->start = zwatch_fleet_agent_start (agent);
        msg->ts = zwatch_clock_wall_ns ();
        zwatch_fleet_agent_seq (agent, &msg->seq);
        const zwatch_agent_t *tracked = zwatch_agent_table_lookup (agents, msg);
        self->edge = tracked && *tracked->edge? tracked->edge: NULL;
        self->facts = 0;
        zwatch_msg_t hello = *msg;
        hello.kind = ZWATCH_KIND_HELLO;
        if (s_send (self, &hello))
            break;
        int rc = 0;
        for (zwatch_fleet_socket_t *socket = zwatch_fleet_socket_first (agent);
             socket && rc == 0; socket = zwatch_fleet_socket_next (agent))
            rc = s_socket (self, socket);
        zwatch_msg_t end = *msg;
        end.kind = ZWATCH_KIND_STATE_END;
        end.count = self->facts;
        if (rc || s_send (self, &end))
            break;                      //  the queue is full: the rest waits for the next connect
        whole++;
    }
    free (self);
    zwatch_parents_replayed (parents, index);
    return whole;
}
