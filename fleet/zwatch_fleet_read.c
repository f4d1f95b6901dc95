/*  zwatch_fleet_read: read access to the model, for clients that hold a
    copy of it (the client library) and show it. Handles are the model's
    own structures, opaque to callers; nothing is copied.
*/

#include <inttypes.h>
#include "zwatch_fleet_internal.h"

zwatch_fleet_agent_t *
zwatch_fleet_agent_first (zwatch_fleet_t *self)
{
    return (zwatch_fleet_agent_t *) zhashx_first (self->agents);
}

zwatch_fleet_agent_t *
zwatch_fleet_agent_next (zwatch_fleet_t *self)
{
    return (zwatch_fleet_agent_t *) zhashx_next (self->agents);
}

zwatch_fleet_agent_t *
zwatch_fleet_agent_lookup (zwatch_fleet_t *self, zwatch_str_t host, zwatch_str_t svc,
                           uint64_t pid)
{
    char key [sizeof (((fleet_agent_t *) 0)->key)];
    snprintf (key, sizeof (key), "%.*s/%.*s/%" PRIu64, (int) host.len, host.ptr, (int) svc.len,
              svc.ptr, pid);
    return (zwatch_fleet_agent_t *) zhashx_lookup (self->agents, key);
}

const char *
zwatch_fleet_agent_host (const zwatch_fleet_agent_t *agent)
{
    return agent->host;
}

const char *
zwatch_fleet_agent_svc (const zwatch_fleet_agent_t *agent)
{
    return agent->svc;
}

uint64_t
zwatch_fleet_agent_pid (const zwatch_fleet_agent_t *agent)
{
    return agent->pid;
}

uint64_t
zwatch_fleet_agent_start (const zwatch_fleet_agent_t *agent)
{
    return agent->start;
}

bool
zwatch_fleet_agent_seq (const zwatch_fleet_agent_t *agent, uint64_t *seq)
{
    *seq = agent->seq;
    return agent->seq_known;
}

bool
zwatch_fleet_agent_partial (const zwatch_fleet_agent_t *agent)
{
    return agent->partial;
}

void
zwatch_fleet_agent_set_partial (zwatch_fleet_agent_t *agent, bool partial)
{
    agent->partial = partial;
}

void
zwatch_fleet_agent_counters (const zwatch_fleet_agent_t *agent, uint64_t counters [4])
{
    counters [0] = agent->read;
    counters [1] = agent->sent;
    counters [2] = agent->dropped;
    counters [3] = agent->watched;
}

size_t
zwatch_fleet_agent_sockets (const zwatch_fleet_agent_t *agent)
{
    return zhashx_size (agent->sockets);
}

zwatch_fleet_socket_t *
zwatch_fleet_socket_first (zwatch_fleet_agent_t *agent)
{
    return (zwatch_fleet_socket_t *) zhashx_first (agent->sockets);
}

zwatch_fleet_socket_t *
zwatch_fleet_socket_next (zwatch_fleet_agent_t *agent)
{
    return (zwatch_fleet_socket_t *) zhashx_next (agent->sockets);
}

const zwatch_fleet_agent_t *
zwatch_fleet_socket_agent (const zwatch_fleet_socket_t *socket)
{
    return socket->agent;
}

const char *
zwatch_fleet_socket_label (const zwatch_fleet_socket_t *socket)
{
    return socket->label;
}

const char *
zwatch_fleet_socket_stype (const zwatch_fleet_socket_t *socket)
{
    return socket->stype;
}

const char *
zwatch_fleet_socket_bind_error (const zwatch_fleet_socket_t *socket, int64_t *value,
                                uint64_t *ts)
{
    *value = socket->error_value;
    *ts = socket->error_ts;
    return socket->error_endpoint;
}

size_t
zwatch_fleet_socket_connections (const zwatch_fleet_socket_t *socket)
{
    return zlistx_size (socket->conns);
}

const char *
zwatch_fleet_listening_first (zwatch_fleet_socket_t *socket)
{
    fleet_listen_t *listen = (fleet_listen_t *) zlistx_first (socket->listening);
    return listen? listen->endpoint: NULL;
}

const char *
zwatch_fleet_listening_next (zwatch_fleet_socket_t *socket)
{
    fleet_listen_t *listen = (fleet_listen_t *) zlistx_next (socket->listening);
    return listen? listen->endpoint: NULL;
}

zwatch_fleet_conn_t *
zwatch_fleet_conn_first (zwatch_fleet_socket_t *socket)
{
    return (zwatch_fleet_conn_t *) zlistx_first (socket->conns);
}

zwatch_fleet_conn_t *
zwatch_fleet_conn_next (zwatch_fleet_socket_t *socket)
{
    return (zwatch_fleet_conn_t *) zlistx_next (socket->conns);
}

zwatch_fleet_retry_t *
zwatch_fleet_retry_first (zwatch_fleet_socket_t *socket)
{
    return (zwatch_fleet_retry_t *) zlistx_first (socket->retrying);
}

zwatch_fleet_retry_t *
zwatch_fleet_retry_next (zwatch_fleet_socket_t *socket)
{
    return (zwatch_fleet_retry_t *) zlistx_next (socket->retrying);
}

bool
zwatch_fleet_conn_in (const zwatch_fleet_conn_t *conn)
{
    return conn->in;
}

const char *
zwatch_fleet_conn_endpoint (const zwatch_fleet_conn_t *conn)
{
    return conn->endpoint;
}

const char *
zwatch_fleet_conn_local (const zwatch_fleet_conn_t *conn)
{
    return conn->local;
}

const char *
zwatch_fleet_conn_peer (const zwatch_fleet_conn_t *conn)
{
    return conn->peer;
}

uint64_t
zwatch_fleet_conn_peer_pid (const zwatch_fleet_conn_t *conn)
{
    return conn->peer_pid;
}

int64_t
zwatch_fleet_conn_fd (const zwatch_fleet_conn_t *conn)
{
    return conn->fd;
}

uint64_t
zwatch_fleet_conn_since (const zwatch_fleet_conn_t *conn)
{
    return conn->since;
}

const char *
zwatch_fleet_retry_endpoint (const zwatch_fleet_retry_t *retry)
{
    return retry->endpoint;
}

int64_t
zwatch_fleet_retry_ivl (const zwatch_fleet_retry_t *retry)
{
    return retry->ivl;
}

uint64_t
zwatch_fleet_retry_since (const zwatch_fleet_retry_t *retry)
{
    return retry->since;
}

uint64_t
zwatch_fleet_retry_last (const zwatch_fleet_retry_t *retry)
{
    return retry->last;
}
