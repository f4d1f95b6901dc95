/*  zwatch_top_feed: zwatch-top's model from libzwatch-client (see header).  */

#include <czmq.h>
#include <inttypes.h>
#include "zwatch_top_feed.h"
#include "zwatch_sub_format.h"

struct _zwatch_top_feed_t {
    zwatch_top_model_t *model;
    zwatch_sub_format_t *format;        //  zwatch-sub's lines and msgpack checks
};

zwatch_top_feed_t *
zwatch_top_feed_new (zwatch_top_model_t *model)
{
    zwatch_top_feed_t *self = (zwatch_top_feed_t *) zmalloc (sizeof (zwatch_top_feed_t));
    if (self) {
        self->model = model;
        self->format = zwatch_sub_format_new ();
        if (!self->format)
            zwatch_top_feed_destroy (&self);
    }
    return self;
}

void
zwatch_top_feed_destroy (zwatch_top_feed_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_sub_format_destroy (&(*self_p)->format);
        free (*self_p);
        *self_p = NULL;
    }
}

//  Now as local HH:MM:SS.mmm, as event lines start
static void
s_clock (char *buf, size_t size)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    localtime_r (&now.tv_sec, &tm);
    size_t len = strftime (buf, size, "%H:%M:%S", &tm);
    snprintf (buf + len, size - len, ".%03ld", now.tv_nsec / 1000000);
}

//  A line of ours: the time, then the text
static void
s_line (zwatch_top_feed_t *self, const char *host, const char *svc, const char *format, ...)
{
    char clock [24], text [ZWATCH_TOP_LINE_MAX];
    s_clock (clock, sizeof (clock));
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof (text), format, args);
    va_end (args);
    char line [ZWATCH_TOP_LINE_MAX + 32];
    snprintf (line, sizeof (line), "%s %s", clock, text);
    zwatch_top_model_event_add (self->model, host, svc, line);
}

//  A failure's name with its errno when the value is one
static void
s_failure_name (char *buf, size_t size, const zwatch_msg_t *msg)
{
    const char *err = NULL;
    if (msg->code == ZMQ_EVENT_BIND_FAILED || msg->code == ZMQ_EVENT_ACCEPT_FAILED
    ||  msg->code == ZMQ_EVENT_CLOSE_FAILED || msg->code == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        err = zwatch_sub_errno_name (msg->value);
    snprintf (buf, size, "%.*s%s%s", (int) msg->event.len, msg->event.ptr, err? " ": "",
              err? err: "");
}

static bool
s_is_failure (uint32_t code)
{
    return code == ZMQ_EVENT_BIND_FAILED || code == ZMQ_EVENT_ACCEPT_FAILED
        || code == ZMQ_EVENT_CLOSE_FAILED || code == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        || code == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
}

static void
s_event (zwatch_top_feed_t *self, const zwatch_change_t *change, int64_t now)
{
    zwatch_top_model_count_event (self->model, now);
    zwatch_msg_t msg;
    //  The client decoded it strictly already; this is its readable form
    if (!change->body || zwatch_msg_decode (&msg, change->body, change->body_size, NULL) != ZWATCH_OK)
        return;
    if (s_is_failure (msg.code)) {
        char name [64];
        s_failure_name (name, sizeof (name), &msg);
        zwatch_top_model_failure (self->model, change->host, change->svc, change->pid,
                                  change->sock, name, now);
    }
    const char *line = zwatch_sub_format_event (self->format, &msg);
    if (!line)
        return;
    //  Without zwatch-sub's date: "YYYY-MM-DD "
    if (strlen (line) > 11 && line [4] == '-' && line [10] == ' ')
        line += 11;
    zwatch_top_model_event_add (self->model, change->host, change->svc, line);
}

//  The broker's `lost` from its stats map
static void
s_stats (zwatch_top_feed_t *self, const zwatch_change_t *change)
{
    zwatch_top_header_t *header = zwatch_top_model_header (self->model);
    if (change->broker)
        snprintf (header->broker, sizeof (header->broker), "%s", change->broker);
    const char *reason;
    const msgpack_object *map = change->body
        ? zwatch_sub_format_parse (self->format, change->body, change->body_size, &reason): NULL;
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return;
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object *key = &map->via.map.ptr [index].key;
        const msgpack_object *value = &map->via.map.ptr [index].val;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == 4
        &&  memcmp (key->via.str.ptr, "lost", 4) == 0
        &&  value->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            header->lost = value->via.u64;
            header->lost_known = true;
        }
    }
}

static void
s_feed_state (zwatch_top_feed_t *self, zwatch_top_feed_state_t state, const char *reason)
{
    zwatch_top_header_t *header = zwatch_top_model_header (self->model);
    header->feed = state;
    snprintf (header->reason, sizeof (header->reason), "%s", reason? reason: "");
}

void
zwatch_top_feed_apply (zwatch_top_feed_t *self, const zwatch_change_t *change, int64_t now)
{
    switch (change->kind) {
        case ZWATCH_CHANGE_EVENT:
            s_event (self, change, now);
            break;
        case ZWATCH_CHANGE_STATS:
            s_stats (self, change);
            break;
        case ZWATCH_CHANGE_AGENT_UP:
        case ZWATCH_CHANGE_AGENT_GONE:
        case ZWATCH_CHANGE_AGENT_LOST:
            s_line (self, change->host, change->svc, "%s/%s[%" PRIu64 "] agent %s", change->host,
                    change->svc, change->pid,
                    change->kind == ZWATCH_CHANGE_AGENT_UP? "up"
                  : change->kind == ZWATCH_CHANGE_AGENT_GONE? "gone": "lost (silent)");
            break;
        case ZWATCH_CHANGE_GAP:
            s_line (self, change->host, change->svc, "%s/%s[%" PRIu64 "] GAP: %" PRIu64
                    " events lost before seq %" PRIu64, change->host, change->svc, change->pid,
                    change->lost, change->seq);
            break;
        case ZWATCH_CHANGE_RESYNC_START:
            s_feed_state (self, ZWATCH_TOP_FEED_RESYNCING, change->reason);
            s_line (self, NULL, NULL, "resyncing (%s)", change->reason? change->reason: "?");
            break;
        case ZWATCH_CHANGE_RESYNC_DONE:
            s_feed_state (self, ZWATCH_TOP_FEED_WHOLE, NULL);
            s_line (self, NULL, NULL, "state whole (snapshot merged with the feed)");
            break;
        case ZWATCH_CHANGE_BROKER_UNREACHABLE:
            s_feed_state (self, ZWATCH_TOP_FEED_UNREACHABLE, change->reason);
            s_line (self, NULL, NULL, "broker unreachable (%s)", change->reason? change->reason: "?");
            break;
        case ZWATCH_CHANGE_BROKER_BACK:
            s_feed_state (self, ZWATCH_TOP_FEED_RESYNCING, "back");
            s_line (self, NULL, NULL, "broker back");
            break;
        default:
            break;      //  sockets, connections, links: the table shows them
    }
}

//  One row per socket of agent; one for the agent itself if it has none
static void
s_fill_agent (zwatch_top_feed_t *self, zwatch_client_agent_t *agent, int64_t now)
{
    zwatch_top_row_t row;
    memset (&row, 0, sizeof (row));
    snprintf (row.host, sizeof (row.host), "%s", zwatch_client_agent_host (agent));
    snprintf (row.svc, sizeof (row.svc), "%s", zwatch_client_agent_svc (agent));
    row.pid = zwatch_client_agent_pid (agent);
    bool any = false;
    for (zwatch_client_socket_t *socket = zwatch_client_socket_first (agent); socket;
         socket = zwatch_client_socket_next (agent)) {
        any = true;
        zwatch_top_row_t *r = &row;
        snprintf (r->sock, sizeof (r->sock), "%s", zwatch_client_socket_label (socket));
        snprintf (r->stype, sizeof (r->stype), "%s", zwatch_client_socket_stype (socket));
        r->conns = zwatch_client_socket_connections (socket);
        r->listening = 0;
        r->listen [0] = 0;
        for (const char *ep = zwatch_client_listening_first (socket); ep;
             ep = zwatch_client_listening_next (socket))
            if (r->listening++ == 0)
                snprintf (r->listen, sizeof (r->listen), "%s", ep);
        r->retrying = 0;
        r->retry [0] = 0;
        for (zwatch_client_retry_t *retry = zwatch_client_retry_first (socket); retry;
             retry = zwatch_client_retry_next (socket))
            if (r->retrying++ == 0)
                snprintf (r->retry, sizeof (r->retry), "%s", zwatch_client_retry_endpoint (retry));
        const char *last;
        r->failures = zwatch_top_model_failures (self->model, r->host, r->svc, r->pid, r->sock,
                                                 now, &last);
        r->failure [0] = 0;
        if (last)
            snprintf (r->failure, sizeof (r->failure), "%s", last);
        else {
            //  None lately: the socket's last bind failure, if it has one
            int64_t errnum;
            uint64_t ts;
            if (zwatch_client_socket_bind_error (socket, &errnum, &ts)) {
                const char *name = zwatch_sub_errno_name (errnum);
                if (name)
                    snprintf (r->failure, sizeof (r->failure), "BIND_FAILED %s", name);
                else
                    snprintf (r->failure, sizeof (r->failure), "BIND_FAILED %" PRId64, errnum);
            }
        }
        zwatch_top_model_row_add (self->model, r);
    }
    if (!any) {
        row.sock [0] = 0;
        zwatch_top_model_row_add (self->model, &row);
    }
}

void
zwatch_top_feed_fill (zwatch_top_feed_t *self, zwatch_client_t *client, int64_t now)
{
    zwatch_top_header_t *header = zwatch_top_model_header (self->model);
    zwatch_top_model_failures_expire (self->model, now);
    zwatch_top_model_rows_clear (self->model);
    header->agents = zwatch_client_agents (client);
    header->dropped = zwatch_client_dropped (client);
    for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent;
         agent = zwatch_client_agent_next (client)) {
        header->dropped += zwatch_client_agent_dropped (agent);
        s_fill_agent (self, agent, now);
    }
}
