/*  zwatch_web_model: what zwatch-web knows beyond the client's state.  */

#include <czmq.h>
#include <inttypes.h>
#include "zwatch_mpread.h"
#include "zwatch_web_model.h"

struct _zwatch_web_model_t {
    zwatch_client_t *client;            //  not ours
    zhashx_t *series;                   //  "host/svc" -> zwatch_web_series_t
    uint64_t series_refused;
    char *history [ZWATCH_WEB_HISTORY_MAX];     //  a ring of JSON objects
    size_t history_next;
    size_t history_count;
    zwatch_web_figure_t figures [ZWATCH_WEB_FIGURES_MAX];
    size_t figure_count;
    char broker [65];
    bool reachable;
    bool resyncing;
    char resync_reason [32];
    uint64_t gaps, lost, changes;
    uint64_t stats_at;
    zwatch_web_buf_t scratch;           //  one change's JSON
};

static const char *s_kind_names [] = {
    NULL, "agent_up", "agent_gone", "agent_lost", "socket_added", "socket_removed",
    "connection_up", "connection_down", "link_up", "link_down", "event", "stats", "gap",
    "resync_start", "resync_done", "broker_unreachable", "broker_back", "event"
};

static void
s_series_destroy (void **item_p)
{
    zwatch_web_series_t *series = (zwatch_web_series_t *) *item_p;
    if (series) {
        zhashx_t *by_event = (zhashx_t *) series->by_event;
        zhashx_destroy (&by_event);
        free (series);
        *item_p = NULL;
    }
}

zwatch_web_model_t *
zwatch_web_model_new (zwatch_client_t *client)
{
    zwatch_web_model_t *self = (zwatch_web_model_t *) zmalloc (sizeof (zwatch_web_model_t));
    if (self) {
        self->client = client;
        self->reachable = true;
        self->resyncing = true;
        snprintf (self->resync_reason, sizeof (self->resync_reason), "start");
        zwatch_web_buf_init (&self->scratch, 64 * 1024);
        self->series = zhashx_new ();
        if (self->series)
            zhashx_set_destructor (self->series, s_series_destroy);
        else
            zwatch_web_model_destroy (&self);
    }
    return self;
}

void
zwatch_web_model_destroy (zwatch_web_model_t **self_p)
{
    if (*self_p) {
        zwatch_web_model_t *self = *self_p;
        zhashx_destroy (&self->series);
        for (size_t index = 0; index < ZWATCH_WEB_HISTORY_MAX; index++)
            free (self->history [index]);
        zwatch_web_buf_free (&self->scratch);
        free (self);
        *self_p = NULL;
    }
}

//  The series of host + svc, made if new and there is room
static zwatch_web_series_t *
s_series (zwatch_web_model_t *self, const char *host, const char *svc)
{
    zwatch_web_series_t *series = zwatch_web_model_series_lookup (self, host, svc);
    if (series)
        return series;
    if (zhashx_size (self->series) >= ZWATCH_WEB_SERIES_MAX) {
        self->series_refused++;
        return NULL;
    }
    series = (zwatch_web_series_t *) zmalloc (sizeof (zwatch_web_series_t));
    zhashx_t *by_event = zhashx_new ();
    if (!series || !by_event) {
        free (series);
        zhashx_destroy (&by_event);
        self->series_refused++;
        return NULL;
    }
    zhashx_set_destructor (by_event, (zhashx_destructor_fn *) zstr_free);
    series->by_event = by_event;
    snprintf (series->host, sizeof (series->host), "%s", host);
    snprintf (series->svc, sizeof (series->svc), "%s", svc);
    char key [140];
    snprintf (key, sizeof (key), "%s/%s", host, svc);
    zhashx_insert (self->series, key, series);
    return series;
}

//  The broker's stats map, flattened one level: "msgs_in", "fleet.links"
static void
s_take_stats (zwatch_web_model_t *self, const zwatch_change_t *change)
{
    zwatch_mpread_t reader;
    zwatch_mpread_init (&reader, change->body, change->body_size);
    uint32_t count;
    if (!change->body || zwatch_mpread_map (&reader, &count))
        return;
    size_t figures = 0;
    for (uint32_t index = 0; index < count; index++) {
        const char *key;
        size_t key_len;
        if (zwatch_mpread_str (&reader, &key, &key_len))
            return;
        uint64_t value;
        uint32_t inner;
        if (zwatch_mpread_uint (&reader, &value) == MPREAD_OK) {
            if (figures < ZWATCH_WEB_FIGURES_MAX && key_len < 40) {
                snprintf (self->figures [figures].name, 80, "%.*s", (int) key_len, key);
                self->figures [figures++].value = value;
            }
        }
        else
        if (zwatch_mpread_map (&reader, &inner) == MPREAD_OK) {
            for (uint32_t at = 0; at < inner; at++) {
                const char *name;
                size_t name_len;
                if (zwatch_mpread_str (&reader, &name, &name_len))
                    return;
                if (zwatch_mpread_uint (&reader, &value) == MPREAD_OK) {
                    if (figures < ZWATCH_WEB_FIGURES_MAX && key_len < 40 && name_len < 39) {
                        snprintf (self->figures [figures].name, 80, "%.*s.%.*s", (int) key_len,
                                  key, (int) name_len, name);
                        self->figures [figures++].value = value;
                    }
                }
                else
                if (zwatch_mpread_skip (&reader, 4))
                    return;
            }
        }
        else
        if (zwatch_mpread_skip (&reader, 4))
            return;
    }
    self->figure_count = figures;
    snprintf (self->broker, sizeof (self->broker), "%s", change->broker? change->broker: "");
    self->stats_at = (uint64_t) zclock_mono ();
}

void
zwatch_web_model_apply (zwatch_web_model_t *self, const zwatch_change_t *change)
{
    self->changes++;
    zwatch_web_series_t *series = NULL;
    switch (change->kind) {
        case ZWATCH_CHANGE_EVENT:
            series = s_series (self, change->host, change->svc);
            if (series && change->event) {
                //  A folded storm's summary stands for change->events of them
                uint64_t events = change->events? change->events: 1;
                series->events += events;
                uint64_t *count = (uint64_t *) zhashx_lookup ((zhashx_t *) series->by_event,
                                                              change->event);
                if (!count) {
                    count = (uint64_t *) zmalloc (sizeof (uint64_t));
                    if (count)
                        zhashx_insert ((zhashx_t *) series->by_event, change->event, count);
                }
                if (count)
                    *count += events;
            }
            break;
        case ZWATCH_CHANGE_GAP:
            self->gaps++;
            self->lost += change->lost;
            series = s_series (self, change->host, change->svc);
            if (series)
                series->lost += change->lost;
            break;
        case ZWATCH_CHANGE_AGENT_UP:
            s_series (self, change->host, change->svc);
            break;
        case ZWATCH_CHANGE_AGENT_GONE:
        case ZWATCH_CHANGE_AGENT_LOST: {
            //  Its drops stay in the series' total when it leaves the state
            zwatch_client_agent_t *agent = zwatch_client_agent_lookup (self->client, change->host,
                                                                       change->svc, change->pid);
            series = s_series (self, change->host, change->svc);
            if (agent && series)
                series->dropped_gone += zwatch_client_agent_dropped (agent);
            break;
        }
        case ZWATCH_CHANGE_STATS:
            s_take_stats (self, change);
            return;                     //  not history: every few seconds
        case ZWATCH_CHANGE_HISTORY:
            break;                      //  the broker's, before the snapshot: not counted
        case ZWATCH_CHANGE_RESYNC_START:
            //  The snapshot brings the broker's history afresh
            for (size_t index = 0; index < ZWATCH_WEB_HISTORY_MAX; index++)
                zstr_free (&self->history [index]);
            self->history_next = self->history_count = 0;
            self->resyncing = true;
            snprintf (self->resync_reason, sizeof (self->resync_reason), "%s",
                      change->reason? change->reason: "unknown");
            break;
        case ZWATCH_CHANGE_RESYNC_DONE:
            self->resyncing = false;
            break;
        case ZWATCH_CHANGE_BROKER_UNREACHABLE:
            self->reachable = false;
            break;
        case ZWATCH_CHANGE_BROKER_BACK:
            self->reachable = true;
            break;
        default:
            break;
    }
    zwatch_web_buf_clear (&self->scratch);
    if (zwatch_web_model_change_json (change, &self->scratch) == 0) {
        free (self->history [self->history_next]);
        self->history [self->history_next] = strdup (self->scratch.data);
        self->history_next = (self->history_next + 1) % ZWATCH_WEB_HISTORY_MAX;
        if (self->history_count < ZWATCH_WEB_HISTORY_MAX)
            self->history_count++;
    }
}

int
zwatch_web_model_end_json (zwatch_web_buf_t *buf, const char *key, const zwatch_change_end_t *end)
{
    zwatch_web_buf_printf (buf, "\"%s\":{", key);
    zwatch_web_buf_json_kv (buf, "host", end->host);
    zwatch_web_buf_puts (buf, ",");
    zwatch_web_buf_json_kv (buf, "svc", end->svc);
    zwatch_web_buf_printf (buf, ",\"pid\":%" PRIu64 ",", end->pid);
    zwatch_web_buf_json_kv (buf, "sock", end->sock);
    zwatch_web_buf_puts (buf, ",");
    zwatch_web_buf_json_kv (buf, "addr", end->addr);
    return zwatch_web_buf_puts (buf, "}");
}

int
zwatch_web_model_change_json (const zwatch_change_t *change, zwatch_web_buf_t *buf)
{
    size_t kind = (size_t) change->kind;
    if (kind < 1 || kind >= sizeof (s_kind_names) / sizeof (s_kind_names [0]))
        return -1;
    zwatch_web_buf_printf (buf, "{\"kind\":\"%s\",\"at\":%" PRId64, s_kind_names [kind],
                           zclock_time ());
    if (change->host) {
        zwatch_web_buf_puts (buf, ",");
        zwatch_web_buf_json_kv (buf, "host", change->host);
        zwatch_web_buf_puts (buf, ",");
        zwatch_web_buf_json_kv (buf, "svc", change->svc);
        zwatch_web_buf_printf (buf, ",\"pid\":%" PRIu64, change->pid);
    }
    switch (change->kind) {
        case ZWATCH_CHANGE_AGENT_UP:
        case ZWATCH_CHANGE_AGENT_GONE:
        case ZWATCH_CHANGE_AGENT_LOST:
            zwatch_web_buf_printf (buf, ",\"start\":%" PRIu64 ",\"seq\":%" PRIu64
                                   ",\"events\":%" PRIu64 ",\"lost\":%" PRIu64,
                                   change->start, change->seq, change->events, change->lost);
            break;
        case ZWATCH_CHANGE_SOCKET_ADDED:
        case ZWATCH_CHANGE_SOCKET_REMOVED:
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "sock", change->sock);
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "stype", change->stype);
            break;
        case ZWATCH_CHANGE_CONNECTION_UP:
        case ZWATCH_CHANGE_CONNECTION_DOWN:
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "sock", change->sock);
            zwatch_web_buf_printf (buf, ",\"dir\":\"%s\",", change->in? "in": "out");
            zwatch_web_buf_json_kv (buf, "endpoint", change->endpoint);
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "local", change->local);
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "peer", change->peer);
            zwatch_web_buf_printf (buf, ",\"since\":%" PRIu64, change->since);
            break;
        case ZWATCH_CHANGE_LINK_UP:
        case ZWATCH_CHANGE_LINK_DOWN:
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_model_end_json (buf, "from", &change->from);
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_model_end_json (buf, "to", &change->to);
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "endpoint", change->endpoint);
            zwatch_web_buf_printf (buf, ",\"since\":%" PRIu64 ",\"lseq\":%" PRIu64,
                                   change->since, change->lseq);
            break;
        case ZWATCH_CHANGE_EVENT:
        case ZWATCH_CHANGE_HISTORY:
            if (change->kind == ZWATCH_CHANGE_HISTORY)
                zwatch_web_buf_puts (buf, ",\"history\":true");
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "sock", change->sock);
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "event", change->event);
            zwatch_web_buf_printf (buf, ",\"code\":%" PRIu32 ",\"value\":%" PRId64
                                   ",\"ts\":%" PRIu64 ",\"seq\":%" PRIu64 ",",
                                   change->code, change->value, change->ts, change->seq);
            zwatch_web_buf_json_kv (buf, "endpoint", change->endpoint);
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "local", change->local);
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "peer", change->peer);
            break;
        case ZWATCH_CHANGE_GAP:
            zwatch_web_buf_printf (buf, ",\"lost\":%" PRIu64 ",\"seq\":%" PRIu64,
                                   change->lost, change->seq);
            break;
        case ZWATCH_CHANGE_STATS:
            zwatch_web_buf_puts (buf, ",");
            zwatch_web_buf_json_kv (buf, "broker", change->broker);
            zwatch_web_buf_printf (buf, ",\"uptime\":%" PRIu64, change->uptime);
            break;
        default:
            if (change->reason) {
                zwatch_web_buf_puts (buf, ",");
                zwatch_web_buf_json_kv (buf, "reason", change->reason);
            }
            break;
    }
    zwatch_web_buf_puts (buf, "}");
    return buf->full? -1: 0;
}

bool
zwatch_web_model_healthy (zwatch_web_model_t *self, const char **reason)
{
    static char text [80];
    if (!self->reachable)
        *reason = "broker unreachable";
    else
    if (self->resyncing || !zwatch_client_synced (self->client)) {
        snprintf (text, sizeof (text), "resyncing (%s)", self->resync_reason);
        *reason = text;
    }
    else
        return true;
    return false;
}

static int
s_compare_series (const void *a, const void *b)
{
    const zwatch_web_series_t *x = *(zwatch_web_series_t * const *) a;
    const zwatch_web_series_t *y = *(zwatch_web_series_t * const *) b;
    int rc = strcmp (x->host, y->host);
    return rc? rc: strcmp (x->svc, y->svc);
}

zwatch_web_series_t **
zwatch_web_model_series (zwatch_web_model_t *self, size_t *count)
{
    *count = 0;
    zwatch_web_series_t **list = (zwatch_web_series_t **)
        calloc (zhashx_size (self->series) + 1, sizeof (zwatch_web_series_t *));
    if (!list)
        return NULL;
    for (zwatch_web_series_t *series = (zwatch_web_series_t *) zhashx_first (self->series);
         series; series = (zwatch_web_series_t *) zhashx_next (self->series))
        list [(*count)++] = series;
    qsort (list, *count, sizeof (list [0]), s_compare_series);
    return list;
}

zwatch_web_series_t *
zwatch_web_model_series_lookup (zwatch_web_model_t *self, const char *host, const char *svc)
{
    char key [140];
    snprintf (key, sizeof (key), "%s/%s", host? host: "", svc? svc: "");
    return (zwatch_web_series_t *) zhashx_lookup (self->series, key);
}

uint64_t
zwatch_web_series_event (const zwatch_web_series_t *series, const char *event)
{
    uint64_t *count = (uint64_t *) zhashx_lookup ((zhashx_t *) series->by_event, event);
    return count? *count: 0;
}

static int
s_compare_str (const void *a, const void *b)
{
    return strcmp (*(const char * const *) a, *(const char * const *) b);
}

const char **
zwatch_web_series_event_names (const zwatch_web_series_t *series, size_t *count)
{
    zhashx_t *by_event = (zhashx_t *) series->by_event;
    *count = 0;
    const char **names = (const char **) calloc (zhashx_size (by_event) + 1, sizeof (char *));
    if (!names)
        return NULL;
    for (void *item = zhashx_first (by_event); item; item = zhashx_next (by_event))
        names [(*count)++] = (const char *) zhashx_cursor (by_event);
    qsort (names, *count, sizeof (names [0]), s_compare_str);
    return names;
}

const zwatch_web_figure_t *
zwatch_web_model_figures (zwatch_web_model_t *self, size_t *count, const char **broker)
{
    *count = self->figure_count;
    *broker = self->stats_at? self->broker: NULL;
    return self->figures;
}

void
zwatch_web_model_feed (zwatch_web_model_t *self, zwatch_web_feed_t *feed)
{
    feed->reachable = self->reachable;
    feed->synced = zwatch_client_synced (self->client) && !self->resyncing;
    feed->resync_reason = self->resyncing? self->resync_reason: NULL;
    feed->gaps = self->gaps;
    feed->lost = self->lost;
    feed->resyncs = zwatch_client_resyncs (self->client);
    feed->series_refused = self->series_refused;
    feed->changes = self->changes;
    feed->stats_at = self->stats_at;
}

zwatch_client_t *
zwatch_web_model_client (zwatch_web_model_t *self)
{
    return self->client;
}

int
zwatch_web_model_history_json (zwatch_web_model_t *self, zwatch_web_buf_t *buf)
{
    zwatch_web_buf_puts (buf, "[");
    size_t first = (self->history_next + ZWATCH_WEB_HISTORY_MAX - self->history_count)
                 % ZWATCH_WEB_HISTORY_MAX;
    for (size_t index = 0; index < self->history_count; index++) {
        const char *item = self->history [(first + index) % ZWATCH_WEB_HISTORY_MAX];
        if (index)
            zwatch_web_buf_puts (buf, ",\n");
        zwatch_web_buf_puts (buf, item? item: "null");
    }
    zwatch_web_buf_puts (buf, "]\n");
    return buf->full? -1: 0;
}
