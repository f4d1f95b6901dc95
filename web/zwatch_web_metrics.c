/*  zwatch_web_metrics: /metrics, the fleet in the Prometheus text format.

    Labels name what is stable across restarts (host, service, socket
    label, event name), never a pid or an fd. Gauges are counted from the
    client's state at each scrape; counters from the changes since
    zwatch-web started (Prometheus reads a restart as a counter reset).
*/

#include <inttypes.h>
#include <czmq.h>
#include "zwatch_web_views.h"

#define SEP     "\x01"          //  joins label values in table keys

static void
s_family (zwatch_web_buf_t *buf, const char *name, const char *type, const char *help)
{
    zwatch_web_buf_printf (buf, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

//  Add one to the count under key
static void
s_count (zhashx_t *table, const char *key)
{
    uint64_t *count = (uint64_t *) zhashx_lookup (table, key);
    if (!count) {
        count = (uint64_t *) zmalloc (sizeof (uint64_t));
        if (!count)
            return;
        zhashx_insert (table, key, count);
    }
    (*count)++;
}

static zhashx_t *
s_table (void)
{
    zhashx_t *table = zhashx_new ();
    if (table)
        zhashx_set_destructor (table, (zhashx_destructor_fn *) zstr_free);
    return table;
}

static int
s_compare_str (const void *a, const void *b)
{
    return strcmp (*(const char * const *) a, *(const char * const *) b);
}

//  One sample per key of table: the key's parts as the labels named
static void
s_samples (zwatch_web_buf_t *buf, const char *name, zhashx_t *table, const char *const labels [])
{
    size_t count = 0, size = zhashx_size (table);
    const char **keys = (const char **) calloc (size + 1, sizeof (char *));
    if (!keys) {
        buf->full = true;
        return;
    }
    for (void *item = zhashx_first (table); item; item = zhashx_next (table))
        keys [count++] = (const char *) zhashx_cursor (table);
    qsort (keys, count, sizeof (keys [0]), s_compare_str);
    for (size_t index = 0; index < count; index++) {
        zwatch_web_buf_printf (buf, "%s{", name);
        const char *part = keys [index];
        for (size_t label = 0; labels [label]; label++) {
            const char *end = strstr (part, SEP);
            size_t length = end? (size_t) (end - part): strlen (part);
            char value [300];
            snprintf (value, sizeof (value), "%.*s", (int) length, part);
            zwatch_web_buf_printf (buf, "%s%s=", label? ",": "", labels [label]);
            zwatch_web_buf_label (buf, value);
            part = end? end + 1: part + length;
        }
        zwatch_web_buf_printf (buf, "} %" PRIu64 "\n",
                               *(uint64_t *) zhashx_lookup (table, keys [index]));
    }
    free (keys);
}

//  Gauges from the client's state: agents, connections, links
static void
s_state (zwatch_web_buf_t *buf, zwatch_web_model_t *model, zwatch_web_series_t **series,
         size_t series_count)
{
    zwatch_client_t *client = zwatch_web_model_client (model);
    zhashx_t *agents = s_table (), *conns = s_table (), *links = s_table ();
    if (!agents || !conns || !links) {
        buf->full = true;
        goto done;
    }
    char key [800];
    //  A service seen once stays in the gauge, at 0 when it has no agent:
    //  an alert can tell "down" from "never heard of"
    for (size_t index = 0; index < series_count; index++) {
        snprintf (key, sizeof (key), "%s" SEP "%s", series [index]->host, series [index]->svc);
        uint64_t *zero = (uint64_t *) zmalloc (sizeof (uint64_t));
        if (zero && zhashx_insert (agents, key, zero) != 0)
            free (zero);
    }
    for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent;
         agent = zwatch_client_agent_next (client)) {
        const char *host = zwatch_client_agent_host (agent);
        const char *svc = zwatch_client_agent_svc (agent);
        snprintf (key, sizeof (key), "%s" SEP "%s", host, svc);
        s_count (agents, key);
        for (zwatch_client_socket_t *socket = zwatch_client_socket_first (agent); socket;
             socket = zwatch_client_socket_next (agent)) {
            for (zwatch_client_conn_t *conn = zwatch_client_conn_first (socket); conn;
                 conn = zwatch_client_conn_next (socket)) {
                snprintf (key, sizeof (key), "%s" SEP "%s" SEP "%s" SEP "%s", host, svc,
                          zwatch_client_socket_label (socket),
                          zwatch_client_conn_in (conn)? "in": "out");
                s_count (conns, key);
            }
        }
    }
    for (const zwatch_client_link_t *link = zwatch_client_link_first (client); link;
         link = zwatch_client_link_next (client)) {
        const zwatch_change_end_t *from = zwatch_client_link_from (link);
        const zwatch_change_end_t *to = zwatch_client_link_to (link);
        snprintf (key, sizeof (key), "%s" SEP "%s" SEP "%s" SEP "%s", from->host, from->svc,
                  to->host, to->svc);
        s_count (links, key);
    }
    s_family (buf, "zwatch_agents_up", "gauge",
              "Agents up (connected to the broker) for the host and service.");
    s_samples (buf, "zwatch_agents_up", agents, (const char *const []) { "host", "service", NULL });
    s_family (buf, "zwatch_connections", "gauge",
              "Live connections of a watched socket, accepted (in) or connected (out).");
    s_samples (buf, "zwatch_connections", conns,
               (const char *const []) { "host", "service", "socket", "direction", NULL });
    s_family (buf, "zwatch_links", "gauge",
              "Live fleet links (connections whose two ends are watched), connecting end first.");
    s_samples (buf, "zwatch_links", links,
               (const char *const []) { "from_host", "from_service", "to_host", "to_service",
                                        NULL });
done:
    zhashx_destroy (&agents);
    zhashx_destroy (&conns);
    zhashx_destroy (&links);
}

//  Counters from the changes: events by name, lost, dropped
static void
s_counters (zwatch_web_buf_t *buf, zwatch_web_model_t *model, zwatch_web_series_t **series,
            size_t series_count)
{
    zwatch_client_t *client = zwatch_web_model_client (model);
    s_family (buf, "zwatch_events_total", "counter",
              "Socket-monitor events seen in the feed, by event name.");
    for (size_t index = 0; index < series_count; index++) {
        size_t count;
        const char **names = zwatch_web_series_event_names (series [index], &count);
        for (size_t at = 0; names && at < count; at++) {
            zwatch_web_buf_puts (buf, "zwatch_events_total{host=");
            zwatch_web_buf_label (buf, series [index]->host);
            zwatch_web_buf_puts (buf, ",service=");
            zwatch_web_buf_label (buf, series [index]->svc);
            zwatch_web_buf_puts (buf, ",event=");
            zwatch_web_buf_label (buf, names [at]);
            zwatch_web_buf_printf (buf, "} %" PRIu64 "\n",
                                   zwatch_web_series_event (series [index], names [at]));
        }
        free (names);
    }
    s_family (buf, "zwatch_events_lost_total", "counter",
              "Events lost in gaps of the agents' sequence numbers, as the feed showed them.");
    for (size_t index = 0; index < series_count; index++) {
        zwatch_web_buf_puts (buf, "zwatch_events_lost_total{host=");
        zwatch_web_buf_label (buf, series [index]->host);
        zwatch_web_buf_puts (buf, ",service=");
        zwatch_web_buf_label (buf, series [index]->svc);
        zwatch_web_buf_printf (buf, "} %" PRIu64 "\n", series [index]->lost);
    }
    s_family (buf, "zwatch_events_dropped_total", "counter",
              "Events the agents dropped at their queue (heartbeat counters as of the last "
              "snapshot, plus those of agents gone).");
    for (size_t index = 0; index < series_count; index++) {
        uint64_t dropped = series [index]->dropped_gone;
        for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent;
             agent = zwatch_client_agent_next (client))
            if (strcmp (zwatch_client_agent_host (agent), series [index]->host) == 0
            &&  strcmp (zwatch_client_agent_svc (agent), series [index]->svc) == 0)
                dropped += zwatch_client_agent_dropped (agent);
        zwatch_web_buf_puts (buf, "zwatch_events_dropped_total{host=");
        zwatch_web_buf_label (buf, series [index]->host);
        zwatch_web_buf_puts (buf, ",service=");
        zwatch_web_buf_label (buf, series [index]->svc);
        zwatch_web_buf_printf (buf, "} %" PRIu64 "\n", dropped);
    }
}

//  The broker's own figures from its last stats message
static const struct {
    const char *figure, *metric, *type, *help;
} s_broker [] = {
    { "msgs_in", "zwatch_broker_messages_in_total", "counter", "Messages the broker read from agents." },
    { "events_out", "zwatch_broker_events_out_total", "counter", "Events the broker published." },
    { "agents_refused", "zwatch_broker_agents_refused_total", "counter",
      "Messages from untracked agents refused while the broker's agent table was full." },
    { "lost", "zwatch_broker_events_lost_total", "counter", "Events lost in agents' seq gaps, all agents." },
    { "auth_failures", "zwatch_broker_auth_failures_total", "counter", "Handshakes the broker refused." },
    { "subscribers", "zwatch_broker_subscribers", "gauge", "Subscribers connected to the broker's feed." },
    { "agents", "zwatch_broker_agents", "gauge", "Agents the broker tracks now." },
    { "fleet.links", "zwatch_broker_links", "gauge", "Links the broker's fleet model holds." },
};

static void
s_broker_figures (zwatch_web_buf_t *buf, zwatch_web_model_t *model)
{
    size_t count;
    const char *broker;
    const zwatch_web_figure_t *figures = zwatch_web_model_figures (model, &count, &broker);
    if (!broker)
        return;                     //  no stats yet
    for (size_t entry = 0; entry < sizeof (s_broker) / sizeof (s_broker [0]); entry++)
        for (size_t index = 0; index < count; index++)
            if (strcmp (figures [index].name, s_broker [entry].figure) == 0) {
                s_family (buf, s_broker [entry].metric, s_broker [entry].type, s_broker [entry].help);
                zwatch_web_buf_printf (buf, "%s{broker=", s_broker [entry].metric);
                zwatch_web_buf_label (buf, broker);
                zwatch_web_buf_printf (buf, "} %" PRIu64 "\n", figures [index].value);
            }
    s_family (buf, "zwatch_broker_invalid_total", "counter",
              "Messages the broker rejected, by reason (reasons seen only).");
    for (size_t index = 0; index < count; index++)
        if (strncmp (figures [index].name, "invalid_by.", 11) == 0) {
            zwatch_web_buf_puts (buf, "zwatch_broker_invalid_total{broker=");
            zwatch_web_buf_label (buf, broker);
            zwatch_web_buf_puts (buf, ",reason=");
            zwatch_web_buf_label (buf, figures [index].name + 11);
            zwatch_web_buf_printf (buf, "} %" PRIu64 "\n", figures [index].value);
        }
    for (size_t index = 0; index < count; index++)
        if (strcmp (figures [index].name, "uptime") == 0) {
            s_family (buf, "zwatch_broker_uptime_seconds", "gauge", "Seconds since the broker started.");
            zwatch_web_buf_puts (buf, "zwatch_broker_uptime_seconds{broker=");
            zwatch_web_buf_label (buf, broker);
            zwatch_web_buf_printf (buf, "} %.3f\n", (double) figures [index].value / 1000.0);
        }
}

static void
s_own (zwatch_web_buf_t *buf, zwatch_web_model_t *model, const zwatch_web_own_t *own)
{
    zwatch_web_feed_t feed;
    zwatch_web_model_feed (model, &feed);
    zwatch_client_t *client = zwatch_web_model_client (model);
    const struct { const char *name, *type, *help; uint64_t value; } figures [] = {
        { "zwatch_web_feed_synced", "gauge", "1 when zwatch-web holds the whole fleet state.", feed.synced },
        { "zwatch_web_feed_reachable", "gauge", "1 when the broker's feed is connected.", feed.reachable },
        { "zwatch_web_resyncs_total", "counter", "Times the client started over (new snapshot).", feed.resyncs },
        { "zwatch_web_feed_gaps_total", "counter", "Gaps in agents' seq seen in the feed.", feed.gaps },
        { "zwatch_web_feed_bad_total", "counter", "Feed messages refused by the client's decoders.",
          zwatch_client_bad (client, NULL) },
        { "zwatch_web_feed_dropped_total", "counter", "Feed messages dropped over the client's queue limit.",
          zwatch_client_dropped (client) },
        { "zwatch_web_series_refused_total", "counter", "Changes of a host and service over the series bound.",
          feed.series_refused },
        { "zwatch_web_sse_clients", "gauge", "Clients of /api/events now.", own->sse_clients },
        { "zwatch_web_sse_dropped_total", "counter", "/api/events clients dropped: their queue was full.",
          own->sse_dropped },
        { "zwatch_web_sse_refused_total", "counter", "/api/events clients refused: too many.", own->sse_refused },
        { "zwatch_web_http_requests_total", "counter", "HTTP requests answered.", own->requests },
        { "zwatch_web_http_bad_requests_total", "counter", "HTTP requests answered with a 4xx status.",
          own->bad_requests },
    };
    for (size_t index = 0; index < sizeof (figures) / sizeof (figures [0]); index++) {
        s_family (buf, figures [index].name, figures [index].type, figures [index].help);
        zwatch_web_buf_printf (buf, "%s %" PRIu64 "\n", figures [index].name, figures [index].value);
    }
}

int
zwatch_web_views_metrics (zwatch_web_model_t *model, const zwatch_web_own_t *own,
                          zwatch_web_buf_t *buf)
{
    size_t series_count;
    zwatch_web_series_t **series = zwatch_web_model_series (model, &series_count);
    if (!series)
        return -1;
    s_state (buf, model, series, series_count);
    s_counters (buf, model, series, series_count);
    s_broker_figures (buf, model);
    s_own (buf, model, own);
    free (series);
    return buf->full? -1: 0;
}
