/*  zwatch_web_fleet: /api/fleet, the client's state as one JSON object.  */

#include <inttypes.h>
#include <czmq.h>
#include "zwatch_web_views.h"

static void
s_agent (zwatch_web_buf_t *buf, zwatch_web_model_t *model, zwatch_client_agent_t *agent)
{
    const char *host = zwatch_client_agent_host (agent), *svc = zwatch_client_agent_svc (agent);
    zwatch_web_series_t *series = zwatch_web_model_series_lookup (model, host, svc);
    zwatch_web_buf_puts (buf, "{");
    zwatch_web_buf_json_kv (buf, "host", host);
    zwatch_web_buf_puts (buf, ",");
    zwatch_web_buf_json_kv (buf, "svc", svc);
    zwatch_web_buf_printf (buf, ",\"pid\":%" PRIu64 ",\"start\":%" PRIu64 ",\"seq\":%" PRIu64
                           ",\"partial\":%s,\"read\":%" PRIu64 ",\"sent\":%" PRIu64
                           ",\"dropped\":%" PRIu64 ",\"watched\":%" PRIu64 ",\"sockets\":%zu"
                           ",\"events\":%" PRIu64 ",\"lost\":%" PRIu64 "}",
                           zwatch_client_agent_pid (agent), zwatch_client_agent_start (agent),
                           zwatch_client_agent_seq (agent),
                           zwatch_client_agent_partial (agent)? "true": "false",
                           zwatch_client_agent_read (agent), zwatch_client_agent_sent (agent),
                           zwatch_client_agent_dropped (agent),
                           zwatch_client_agent_watched (agent),
                           zwatch_client_agent_sockets (agent),
                           series? series->events: 0, series? series->lost: 0);
}

//  The agent's identity, the start of every socket and connection object
static void
s_owner (zwatch_web_buf_t *buf, zwatch_client_agent_t *agent, zwatch_client_socket_t *socket)
{
    zwatch_web_buf_puts (buf, "{");
    zwatch_web_buf_json_kv (buf, "host", zwatch_client_agent_host (agent));
    zwatch_web_buf_puts (buf, ",");
    zwatch_web_buf_json_kv (buf, "svc", zwatch_client_agent_svc (agent));
    zwatch_web_buf_printf (buf, ",\"pid\":%" PRIu64 ",", zwatch_client_agent_pid (agent));
    zwatch_web_buf_json_kv (buf, "sock", zwatch_client_socket_label (socket));
}

static void
s_socket (zwatch_web_buf_t *buf, zwatch_client_agent_t *agent, zwatch_client_socket_t *socket)
{
    s_owner (buf, agent, socket);
    zwatch_web_buf_puts (buf, ",");
    zwatch_web_buf_json_kv (buf, "stype", zwatch_client_socket_stype (socket));
    zwatch_web_buf_puts (buf, ",\"listening\":[");
    const char *sep = "";
    for (const char *ep = zwatch_client_listening_first (socket); ep;
         ep = zwatch_client_listening_next (socket), sep = ",") {
        zwatch_web_buf_puts (buf, sep);
        zwatch_web_buf_json_str (buf, ep);
    }
    zwatch_web_buf_puts (buf, "],\"retrying\":[");
    sep = "";
    for (zwatch_client_retry_t *retry = zwatch_client_retry_first (socket); retry;
         retry = zwatch_client_retry_next (socket), sep = ",") {
        zwatch_web_buf_printf (buf, "%s{", sep);
        zwatch_web_buf_json_kv (buf, "endpoint", zwatch_client_retry_endpoint (retry));
        zwatch_web_buf_printf (buf, ",\"ivl\":%" PRId64 ",\"since\":%" PRIu64 ",\"last\":%"
                               PRIu64 "}", zwatch_client_retry_ivl (retry),
                               zwatch_client_retry_since (retry), zwatch_client_retry_last (retry));
    }
    int64_t errnum;
    uint64_t ts;
    const char *endpoint = zwatch_client_socket_bind_error (socket, &errnum, &ts);
    zwatch_web_buf_puts (buf, "],\"bind_error\":");
    if (endpoint) {
        zwatch_web_buf_puts (buf, "{");
        zwatch_web_buf_json_kv (buf, "endpoint", endpoint);
        zwatch_web_buf_printf (buf, ",\"value\":%" PRId64 ",\"error\":", errnum);
        zwatch_web_buf_json_str (buf, strerror ((int) errnum));
        zwatch_web_buf_printf (buf, ",\"ts\":%" PRIu64 "}", ts);
    }
    else
        zwatch_web_buf_puts (buf, "null");
    zwatch_web_buf_printf (buf, ",\"connections\":%zu}", zwatch_client_socket_connections (socket));
}

static void
s_conn (zwatch_web_buf_t *buf, zwatch_client_agent_t *agent, zwatch_client_socket_t *socket,
        zwatch_client_conn_t *conn)
{
    s_owner (buf, agent, socket);
    zwatch_web_buf_printf (buf, ",\"dir\":\"%s\",", zwatch_client_conn_in (conn)? "in": "out");
    zwatch_web_buf_json_kv (buf, "endpoint", zwatch_client_conn_endpoint (conn));
    zwatch_web_buf_puts (buf, ",");
    zwatch_web_buf_json_kv (buf, "local", zwatch_client_conn_local (conn));
    zwatch_web_buf_puts (buf, ",");
    zwatch_web_buf_json_kv (buf, "peer", zwatch_client_conn_peer (conn));
    zwatch_web_buf_printf (buf, ",\"peer_pid\":%" PRIu64 ",\"since\":%" PRIu64 "}",
                           zwatch_client_conn_peer_pid (conn), zwatch_client_conn_since (conn));
}

static void
s_feed (zwatch_web_buf_t *buf, zwatch_web_model_t *model, const zwatch_web_own_t *own)
{
    zwatch_web_feed_t feed;
    zwatch_web_model_feed (model, &feed);
    zwatch_client_t *client = zwatch_web_model_client (model);
    zwatch_web_buf_printf (buf, "\"feed\":{\"reachable\":%s,\"synced\":%s,\"resyncing\":",
                           feed.reachable? "true": "false", feed.synced? "true": "false");
    zwatch_web_buf_json_str (buf, feed.resync_reason);
    zwatch_web_buf_printf (buf, ",\"gaps\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"resyncs\":%" PRIu64
                           ",\"bad\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"changes\":%" PRIu64
                           ",\"sse_clients\":%" PRIu64 ",\"sse_dropped\":%" PRIu64 "}",
                           feed.gaps, feed.lost, feed.resyncs, zwatch_client_bad (client, NULL),
                           zwatch_client_dropped (client), feed.changes, own->sse_clients,
                           own->sse_dropped);
    size_t count;
    const char *broker;
    const zwatch_web_figure_t *figures = zwatch_web_model_figures (model, &count, &broker);
    zwatch_web_buf_puts (buf, ",\"broker\":{");
    zwatch_web_buf_json_kv (buf, "id", broker);
    for (size_t index = 0; index < count; index++)
        zwatch_web_buf_printf (buf, ",\"%s\":%" PRIu64, figures [index].name, figures [index].value);
    zwatch_web_buf_puts (buf, "}");
}

int
zwatch_web_views_fleet (zwatch_web_model_t *model, const zwatch_web_own_t *own,
                        zwatch_web_buf_t *buf)
{
    zwatch_client_t *client = zwatch_web_model_client (model);
    zwatch_web_buf_puts (buf, "{");
    s_feed (buf, model, own);
    //  Agents, then their sockets, then their connections: three walks,
    //  as the client has one cursor per container
    const char *sep = "";
    zwatch_web_buf_puts (buf, ",\n\"agents\":[");
    for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent;
         agent = zwatch_client_agent_next (client), sep = ",\n") {
        zwatch_web_buf_puts (buf, sep);
        s_agent (buf, model, agent);
    }
    sep = "";
    zwatch_web_buf_puts (buf, "],\n\"sockets\":[");
    for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent;
         agent = zwatch_client_agent_next (client))
        for (zwatch_client_socket_t *socket = zwatch_client_socket_first (agent); socket;
             socket = zwatch_client_socket_next (agent), sep = ",\n") {
            zwatch_web_buf_puts (buf, sep);
            s_socket (buf, agent, socket);
        }
    sep = "";
    zwatch_web_buf_puts (buf, "],\n\"connections\":[");
    for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent;
         agent = zwatch_client_agent_next (client))
        for (zwatch_client_socket_t *socket = zwatch_client_socket_first (agent); socket;
             socket = zwatch_client_socket_next (agent))
            for (zwatch_client_conn_t *conn = zwatch_client_conn_first (socket); conn;
                 conn = zwatch_client_conn_next (socket), sep = ",\n") {
                zwatch_web_buf_puts (buf, sep);
                s_conn (buf, agent, socket, conn);
            }
    sep = "";
    zwatch_web_buf_puts (buf, "],\n\"links\":[");
    for (const zwatch_client_link_t *link = zwatch_client_link_first (client); link;
         link = zwatch_client_link_next (client), sep = ",\n") {
        zwatch_web_buf_printf (buf, "%s{", sep);
        zwatch_web_model_end_json (buf, "from", zwatch_client_link_from (link));
        zwatch_web_buf_puts (buf, ",");
        zwatch_web_model_end_json (buf, "to", zwatch_client_link_to (link));
        zwatch_web_buf_puts (buf, ",");
        zwatch_web_buf_json_kv (buf, "endpoint", zwatch_client_link_endpoint (link));
        zwatch_web_buf_printf (buf, ",\"since\":%" PRIu64 "}", zwatch_client_link_since (link));
    }
    zwatch_web_buf_puts (buf, "]}\n");
    return buf->full? -1: 0;
}
