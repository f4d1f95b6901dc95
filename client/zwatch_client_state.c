/*  zwatch_client_state: the state, read (include/zwatch_client.h). The
    handles are fleet/'s own (and the link table's), behind the public
    opaque names: each call is one call of the model's read API.
*/

#include <string.h>
#include "zwatch_client_internal.h"

#define AGENT(a)    ((zwatch_fleet_agent_t *) (a))
#define SOCKET(s)   ((zwatch_fleet_socket_t *) (s))
#define CONN(c)     ((const zwatch_fleet_conn_t *) (c))
#define RETRY(r)    ((const zwatch_fleet_retry_t *) (r))
#define LINK(l)     ((const client_link_t *) (l))

size_t
zwatch_client_agents (zwatch_client_t *self)
{
    return zwatch_fleet_agents (client_fleet (self));
}

zwatch_client_agent_t *
zwatch_client_agent_first (zwatch_client_t *self)
{
    return (zwatch_client_agent_t *) zwatch_fleet_agent_first (client_fleet (self));
}

zwatch_client_agent_t *
zwatch_client_agent_next (zwatch_client_t *self)
{
    return (zwatch_client_agent_t *) zwatch_fleet_agent_next (client_fleet (self));
}

zwatch_client_agent_t *
zwatch_client_agent_lookup (zwatch_client_t *self, const char *host, const char *svc,
                            uint64_t pid)
{
    zwatch_str_t host_str = { host, strlen (host) }, svc_str = { svc, strlen (svc) };
    return (zwatch_client_agent_t *) zwatch_fleet_agent_lookup (client_fleet (self), host_str,
                                                                svc_str, pid);
}

uint64_t
zwatch_client_agent_seq (const zwatch_client_agent_t *agent)
{
    uint64_t seq;
    zwatch_fleet_agent_seq (AGENT (agent), &seq);
    return seq;
}

static uint64_t
s_counter (const zwatch_client_agent_t *agent, int index)
{
    uint64_t counters [4];
    zwatch_fleet_agent_counters (AGENT (agent), counters);
    return counters [index];
}

const char *
zwatch_client_agent_host (const zwatch_client_agent_t *agent)
{
    return zwatch_fleet_agent_host (AGENT (agent));
}

const char *
zwatch_client_agent_svc (const zwatch_client_agent_t *agent)
{
    return zwatch_fleet_agent_svc (AGENT (agent));
}

uint64_t
zwatch_client_agent_pid (const zwatch_client_agent_t *agent)
{
    return zwatch_fleet_agent_pid (AGENT (agent));
}

uint64_t
zwatch_client_agent_start (const zwatch_client_agent_t *agent)
{
    return zwatch_fleet_agent_start (AGENT (agent));
}

bool
zwatch_client_agent_partial (const zwatch_client_agent_t *agent)
{
    return zwatch_fleet_agent_partial (AGENT (agent));
}

uint64_t
zwatch_client_agent_read (const zwatch_client_agent_t *agent)
{
    return s_counter (agent, 0);
}

uint64_t
zwatch_client_agent_sent (const zwatch_client_agent_t *agent)
{
    return s_counter (agent, 1);
}

uint64_t
zwatch_client_agent_dropped (const zwatch_client_agent_t *agent)
{
    return s_counter (agent, 2);
}

uint64_t
zwatch_client_agent_watched (const zwatch_client_agent_t *agent)
{
    return s_counter (agent, 3);
}

size_t
zwatch_client_agent_sockets (const zwatch_client_agent_t *agent)
{
    return zwatch_fleet_agent_sockets (AGENT (agent));
}

zwatch_client_socket_t *
zwatch_client_socket_first (zwatch_client_agent_t *agent)
{
    return (zwatch_client_socket_t *) zwatch_fleet_socket_first (AGENT (agent));
}

zwatch_client_socket_t *
zwatch_client_socket_next (zwatch_client_agent_t *agent)
{
    return (zwatch_client_socket_t *) zwatch_fleet_socket_next (AGENT (agent));
}

const char *
zwatch_client_socket_label (const zwatch_client_socket_t *socket)
{
    return zwatch_fleet_socket_label (SOCKET (socket));
}

const char *
zwatch_client_socket_stype (const zwatch_client_socket_t *socket)
{
    return zwatch_fleet_socket_stype (SOCKET (socket));
}

size_t
zwatch_client_socket_connections (const zwatch_client_socket_t *socket)
{
    return zwatch_fleet_socket_connections (SOCKET (socket));
}

const char *
zwatch_client_listening_first (zwatch_client_socket_t *socket)
{
    return zwatch_fleet_listening_first (SOCKET (socket));
}

const char *
zwatch_client_listening_next (zwatch_client_socket_t *socket)
{
    return zwatch_fleet_listening_next (SOCKET (socket));
}

zwatch_client_conn_t *
zwatch_client_conn_first (zwatch_client_socket_t *socket)
{
    return (zwatch_client_conn_t *) zwatch_fleet_conn_first (SOCKET (socket));
}

zwatch_client_conn_t *
zwatch_client_conn_next (zwatch_client_socket_t *socket)
{
    return (zwatch_client_conn_t *) zwatch_fleet_conn_next (SOCKET (socket));
}

zwatch_client_retry_t *
zwatch_client_retry_first (zwatch_client_socket_t *socket)
{
    return (zwatch_client_retry_t *) zwatch_fleet_retry_first (SOCKET (socket));
}

zwatch_client_retry_t *
zwatch_client_retry_next (zwatch_client_socket_t *socket)
{
    return (zwatch_client_retry_t *) zwatch_fleet_retry_next (SOCKET (socket));
}

bool
zwatch_client_conn_in (const zwatch_client_conn_t *conn)
{
    return zwatch_fleet_conn_in (CONN (conn));
}

const char *
zwatch_client_conn_endpoint (const zwatch_client_conn_t *conn)
{
    return zwatch_fleet_conn_endpoint (CONN (conn));
}

const char *
zwatch_client_conn_local (const zwatch_client_conn_t *conn)
{
    return zwatch_fleet_conn_local (CONN (conn));
}

const char *
zwatch_client_conn_peer (const zwatch_client_conn_t *conn)
{
    return zwatch_fleet_conn_peer (CONN (conn));
}

uint64_t
zwatch_client_conn_peer_pid (const zwatch_client_conn_t *conn)
{
    return zwatch_fleet_conn_peer_pid (CONN (conn));
}

int64_t
zwatch_client_conn_fd (const zwatch_client_conn_t *conn)
{
    return zwatch_fleet_conn_fd (CONN (conn));
}

uint64_t
zwatch_client_conn_since (const zwatch_client_conn_t *conn)
{
    return zwatch_fleet_conn_since (CONN (conn));
}

const char *
zwatch_client_retry_endpoint (const zwatch_client_retry_t *retry)
{
    return zwatch_fleet_retry_endpoint (RETRY (retry));
}

int64_t
zwatch_client_retry_ivl (const zwatch_client_retry_t *retry)
{
    return zwatch_fleet_retry_ivl (RETRY (retry));
}

uint64_t
zwatch_client_retry_since (const zwatch_client_retry_t *retry)
{
    return zwatch_fleet_retry_since (RETRY (retry));
}

uint64_t
zwatch_client_retry_last (const zwatch_client_retry_t *retry)
{
    return zwatch_fleet_retry_last (RETRY (retry));
}

size_t
zwatch_client_links (zwatch_client_t *self)
{
    return client_links_size (client_links (self));
}

const zwatch_client_link_t *
zwatch_client_link_first (zwatch_client_t *self)
{
    return (const zwatch_client_link_t *) client_links_first (client_links (self));
}

const zwatch_client_link_t *
zwatch_client_link_next (zwatch_client_t *self)
{
    return (const zwatch_client_link_t *) client_links_next (client_links (self));
}

const zwatch_change_end_t *
zwatch_client_link_from (const zwatch_client_link_t *link)
{
    return &LINK (link)->from;
}

const zwatch_change_end_t *
zwatch_client_link_to (const zwatch_client_link_t *link)
{
    return &LINK (link)->to;
}

const char *
zwatch_client_link_endpoint (const zwatch_client_link_t *link)
{
    return LINK (link)->endpoint;
}

uint64_t
zwatch_client_link_since (const zwatch_client_link_t *link)
{
    return LINK (link)->since;
}

const char *
zwatch_client_socket_bind_error (const zwatch_client_socket_t *socket, int64_t *errnum,
                                 uint64_t *ts)
{
    int64_t value;
    uint64_t when;
    const char *endpoint = zwatch_fleet_socket_bind_error (SOCKET (socket), &value, &when);
    if (errnum)
        *errnum = value;
    if (ts)
        *ts = when;
    return endpoint;
}
