/*  zwatch_fleet_view: zwatch-fleet's lines and JSON (see header).  */

#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <czmq.h>
#include "zwatch_fleet_view.h"
#include "zwatch_sub_format.h"

//  "host/svc sock" at its longest
#define NAME_BUF    (ZWATCH_HOST_MAX + ZWATCH_SVC_MAX + ZWATCH_SOCK_MAX + 3)

const char *
zwatch_fleet_view_cut (char *buf, const char *text, size_t width)
{
    size_t len = strlen (text);
    if (len <= width)
        memcpy (buf, text, len + 1);
    else {
        memcpy (buf, text, width - 1);
        buf [width - 1] = '~';
        buf [width] = 0;
    }
    return buf;
}

//  Cut the longest of the parts, one byte at a time, until they fit budget
//  bytes together (each keeps at least 4): long names share the line
#define PART_MAX    (ZWATCH_ENDPOINT_MAX + 1)
static void
s_fit (char parts [][PART_MAX], size_t count, size_t budget)
{
    while (true) {
        size_t total = 0, longest = 0;
        for (size_t index = 0; index < count; index++) {
            total += strlen (parts [index]);
            if (strlen (parts [index]) > strlen (parts [longest]))
                longest = index;
        }
        size_t len = strlen (parts [longest]);
        if (total <= budget || len <= 4)
            return;
        parts [longest][len - 2] = '~';
        parts [longest][len - 1] = 0;
    }
}

static void
s_part (char *part, const char *text)
{
    snprintf (part, PART_MAX, "%s", text? text: "?");
}

//  Epoch ns as local HH:MM:SS, "-" for 0
static const char *
s_clock (char *buf, size_t size, uint64_t ns)
{
    if (!ns)
        return "-";
    time_t seconds = (time_t) (ns / 1000000000u);
    struct tm tm;
    localtime_r (&seconds, &tm);
    strftime (buf, size, "%H:%M:%S", &tm);
    return buf;
}

//  A JSON string (the client's strings are printable ASCII)
static void
s_json_str (FILE *out, const char *text)
{
    if (!text) {
        fputs ("null", out);
        return;
    }
    fputc ('"', out);
    for (; *text; text++) {
        if (*text == '"' || *text == '\\')
            fputc ('\\', out);
        fputc (*text, out);
    }
    fputc ('"', out);
}

static int
s_compare_agents (const void *a, const void *b)
{
    const zwatch_client_agent_t *x = *(const zwatch_client_agent_t * const *) a;
    const zwatch_client_agent_t *y = *(const zwatch_client_agent_t * const *) b;
    int rc = strcmp (zwatch_client_agent_host (x), zwatch_client_agent_host (y));
    if (!rc)
        rc = strcmp (zwatch_client_agent_svc (x), zwatch_client_agent_svc (y));
    if (!rc)
        rc = zwatch_client_agent_pid (x) < zwatch_client_agent_pid (y)? -1
           : zwatch_client_agent_pid (x) > zwatch_client_agent_pid (y);
    return rc;
}

//  The agents sorted; caller frees; *count set
static zwatch_client_agent_t **
s_agents (zwatch_client_t *client, size_t *count)
{
    *count = zwatch_client_agents (client);
    zwatch_client_agent_t **agents =
        (zwatch_client_agent_t **) calloc (*count + 1, sizeof (zwatch_client_agent_t *));
    size_t index = 0;
    for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client);
         agent && index < *count; agent = zwatch_client_agent_next (client))
        agents [index++] = agent;
    *count = index;
    qsort (agents, *count, sizeof (agents [0]), s_compare_agents);
    return agents;
}

static int
s_compare_sockets (const void *a, const void *b)
{
    return strcmp (zwatch_client_socket_label (*(zwatch_client_socket_t * const *) a),
                   zwatch_client_socket_label (*(zwatch_client_socket_t * const *) b));
}

static zwatch_client_socket_t **
s_sockets (zwatch_client_agent_t *agent, size_t *count)
{
    *count = zwatch_client_agent_sockets (agent);
    zwatch_client_socket_t **sockets =
        (zwatch_client_socket_t **) calloc (*count + 1, sizeof (zwatch_client_socket_t *));
    size_t index = 0;
    for (zwatch_client_socket_t *socket = zwatch_client_socket_first (agent);
         socket && index < *count; socket = zwatch_client_socket_next (agent))
        sockets [index++] = socket;
    *count = index;
    qsort (sockets, *count, sizeof (sockets [0]), s_compare_sockets);
    return sockets;
}

void
zwatch_fleet_view_agents (FILE *out, zwatch_client_t *client, bool json)
{
    size_t count;
    zwatch_client_agent_t **agents = s_agents (client, &count);
    if (!json)
        fprintf (out, "%-16s %-16s %7s %8s %8s %8s %7s\n", "HOST", "SERVICE", "PID",
                 "UP SINCE", "EVENTS", "DROPPED", "PARTIAL");
    for (size_t index = 0; index < count; index++) {
        zwatch_client_agent_t *agent = agents [index];
        if (json) {
            fputs ("{\"kind\":\"agent\",\"host\":", out);
            s_json_str (out, zwatch_client_agent_host (agent));
            fputs (",\"svc\":", out);
            s_json_str (out, zwatch_client_agent_svc (agent));
            fprintf (out, ",\"pid\":%" PRIu64 ",\"start\":%" PRIu64 ",\"seq\":%" PRIu64
                     ",\"partial\":%s,\"read\":%" PRIu64 ",\"sent\":%" PRIu64
                     ",\"dropped\":%" PRIu64 ",\"watched\":%" PRIu64 "}\n",
                     zwatch_client_agent_pid (agent), zwatch_client_agent_start (agent),
                     zwatch_client_agent_seq (agent),
                     zwatch_client_agent_partial (agent)? "true": "false",
                     zwatch_client_agent_read (agent), zwatch_client_agent_sent (agent),
                     zwatch_client_agent_dropped (agent), zwatch_client_agent_watched (agent));
            continue;
        }
        char host [17], svc [17], since [16];
        fprintf (out, "%-16s %-16s %7" PRIu64 " %8s %8" PRIu64 " %8" PRIu64 " %7s\n",
                 zwatch_fleet_view_cut (host, zwatch_client_agent_host (agent), 16),
                 zwatch_fleet_view_cut (svc, zwatch_client_agent_svc (agent), 16),
                 zwatch_client_agent_pid (agent),
                 s_clock (since, sizeof (since), zwatch_client_agent_start (agent)),
                 zwatch_client_agent_seq (agent), zwatch_client_agent_dropped (agent),
                 zwatch_client_agent_partial (agent)? "yes": "no");
    }
    free (agents);
}

static void
s_socket_json (FILE *out, zwatch_client_agent_t *agent, zwatch_client_socket_t *socket)
{
    fputs ("{\"kind\":\"socket\",\"host\":", out);
    s_json_str (out, zwatch_client_agent_host (agent));
    fputs (",\"svc\":", out);
    s_json_str (out, zwatch_client_agent_svc (agent));
    fprintf (out, ",\"pid\":%" PRIu64 ",\"sock\":", zwatch_client_agent_pid (agent));
    s_json_str (out, zwatch_client_socket_label (socket));
    fputs (",\"stype\":", out);
    s_json_str (out, zwatch_client_socket_stype (socket));
    fputs (",\"listening\":[", out);
    const char *sep = "";
    for (const char *ep = zwatch_client_listening_first (socket); ep;
         ep = zwatch_client_listening_next (socket), sep = ",") {
        fputs (sep, out);
        s_json_str (out, ep);
    }
    fprintf (out, "],\"connections\":%zu,\"retrying\":[", zwatch_client_socket_connections (socket));
    sep = "";
    for (zwatch_client_retry_t *retry = zwatch_client_retry_first (socket); retry;
         retry = zwatch_client_retry_next (socket), sep = ",") {
        fprintf (out, "%s{\"endpoint\":", sep);
        s_json_str (out, zwatch_client_retry_endpoint (retry));
        fprintf (out, ",\"since\":%" PRIu64 "}", zwatch_client_retry_since (retry));
    }
    fputs ("],\"bind_error\":", out);
    int64_t errnum;
    uint64_t ts;
    const char *endpoint = zwatch_client_socket_bind_error (socket, &errnum, &ts);
    if (endpoint) {
        const char *name = zwatch_sub_errno_name (errnum);
        fputs ("{\"endpoint\":", out);
        s_json_str (out, endpoint);
        fprintf (out, ",\"value\":%" PRId64 ",\"name\":", errnum);
        s_json_str (out, name);
        fputs ("}", out);
    }
    else
        fputs ("null", out);
    fputs ("}\n", out);
}

void
zwatch_fleet_view_sockets (FILE *out, zwatch_client_t *client, bool json)
{
    size_t count;
    zwatch_client_agent_t **agents = s_agents (client, &count);
    if (!json)
        fprintf (out, "%-24s %-6s %5s  %-30s %s\n", "AGENT/SOCKET", "TYPE", "CONNS",
                 "LISTENING / RETRYING", "ERROR");
    for (size_t index = 0; index < count; index++) {
        zwatch_client_agent_t *agent = agents [index];
        size_t socket_count;
        zwatch_client_socket_t **sockets = s_sockets (agent, &socket_count);
        for (size_t at = 0; at < socket_count; at++) {
            zwatch_client_socket_t *socket = sockets [at];
            if (json) {
                s_socket_json (out, agent, socket);
                continue;
            }
            char parts [2][PART_MAX], name [64], cut [32], stype [8], ep [32], since [16];
            snprintf (parts [0], PART_MAX, "%s/%s", zwatch_client_agent_host (agent),
                      zwatch_client_agent_svc (agent));
            s_part (parts [1], zwatch_client_socket_label (socket));
            s_fit (parts, 2, 23);
            snprintf (name, sizeof (name), "%.24s %.24s", parts [0], parts [1]);
            int64_t errnum;
            uint64_t ts;
            const char *error = zwatch_client_socket_bind_error (socket, &errnum, &ts)
                              ? zwatch_sub_errno_name (errnum): NULL;
            char number [24];
            if (zwatch_client_socket_bind_error (socket, &errnum, &ts) && !error) {
                snprintf (number, sizeof (number), "%" PRId64, errnum);
                error = number;
            }
            const char *first = zwatch_client_listening_first (socket);
            fprintf (out, "%-24s %-6s %5zu  %-30s %s\n", zwatch_fleet_view_cut (cut, name, 24),
                     zwatch_fleet_view_cut (stype, zwatch_client_socket_stype (socket), 6),
                     zwatch_client_socket_connections (socket),
                     first? zwatch_fleet_view_cut (ep, first, 30): "-", error? error: "-");
            //  More listening endpoints and the retrying ones below, indented
            if (first)
                for (const char *more = zwatch_client_listening_next (socket); more;
                     more = zwatch_client_listening_next (socket))
                    fprintf (out, "%39s  %s\n", "", zwatch_fleet_view_cut (ep, more, 30));
            for (zwatch_client_retry_t *retry = zwatch_client_retry_first (socket); retry;
                 retry = zwatch_client_retry_next (socket)) {
                char retry_ep [26];
                fprintf (out, "%39s  retry %s since %s\n", "",
                         zwatch_fleet_view_cut (retry_ep, zwatch_client_retry_endpoint (retry), 25),
                         s_clock (since, sizeof (since), zwatch_client_retry_since (retry)));
            }
        }
        free (sockets);
    }
    free (agents);
}

static void
s_end_json (FILE *out, const char *key, const zwatch_change_end_t *end)
{
    fprintf (out, "\"%s\":{\"host\":", key);
    s_json_str (out, end->host);
    fputs (",\"svc\":", out);
    s_json_str (out, end->svc);
    fprintf (out, ",\"pid\":%" PRIu64 ",\"sock\":", end->pid);
    s_json_str (out, end->sock);
    fputs (",\"addr\":", out);
    s_json_str (out, end->addr);
    fputs ("}", out);
}

static bool
s_same_end (const zwatch_change_end_t *end, zwatch_client_agent_t *agent,
            zwatch_client_socket_t *socket, const char *addr)
{
    return strcmp (end->host, zwatch_client_agent_host (agent)) == 0
        && strcmp (end->svc, zwatch_client_agent_svc (agent)) == 0
        && end->pid == zwatch_client_agent_pid (agent)
        && strcmp (end->sock, zwatch_client_socket_label (socket)) == 0
        && addr && strcmp (end->addr, addr) == 0;
}

//  True if the connection is one end of a link the client holds
static bool
s_linked (zwatch_client_t *client, zwatch_client_agent_t *agent, zwatch_client_socket_t *socket,
          zwatch_client_conn_t *conn)
{
    const char *local = zwatch_client_conn_local (conn), *peer = zwatch_client_conn_peer (conn);
    for (const zwatch_client_link_t *link = zwatch_client_link_first (client); link;
         link = zwatch_client_link_next (client)) {
        if (zwatch_client_conn_in (conn)) {
            if (s_same_end (zwatch_client_link_to (link), agent, socket, local)
            &&  peer && strcmp (zwatch_client_link_from (link)->addr, peer) == 0)
                return true;
        }
        else
        if (s_same_end (zwatch_client_link_from (link), agent, socket, local))
            return true;
    }
    return false;
}

static int
s_compare_lines (const void *a, const void *b)
{
    return strcmp (*(char * const *) a, *(char * const *) b);
}

void
zwatch_fleet_view_links (FILE *out, zwatch_client_t *client, bool json)
{
    //  Lines are made first, then sorted
    zlistx_t *lines = zlistx_new ();
    zlistx_set_destructor (lines, (zlistx_destructor_fn *) zstr_free);
    char since [16];
    for (const zwatch_client_link_t *link = zwatch_client_link_first (client); link;
         link = zwatch_client_link_next (client)) {
        const zwatch_change_end_t *from = zwatch_client_link_from (link);
        const zwatch_change_end_t *to = zwatch_client_link_to (link);
        char *line;
        if (json) {
            char *buffer = NULL;
            size_t size = 0;
            FILE *mem = open_memstream (&buffer, &size);
            fputs ("{\"kind\":\"link\",", mem);
            s_end_json (mem, "from", from);
            fputs (",", mem);
            s_end_json (mem, "to", to);
            fputs (",\"endpoint\":", mem);
            s_json_str (mem, zwatch_client_link_endpoint (link));
            fprintf (mem, ",\"since\":%" PRIu64 "}", zwatch_client_link_since (link));
            fclose (mem);
            line = buffer;
        }
        else {
            char parts [5][PART_MAX], since_text [16];
            snprintf (parts [0], PART_MAX, "%s/%s", from->host, from->svc);
            s_part (parts [1], from->sock);
            snprintf (parts [2], PART_MAX, "%s/%s", to->host, to->svc);
            s_part (parts [3], to->sock);
            s_part (parts [4], zwatch_client_link_endpoint (link));
            //  "A a -> B b (E, since HH:MM:SS)": 25 bytes besides the parts;
            //  names are cut before the endpoint
            size_t names = 80 - 25 - strlen (parts [4]);
            s_fit (parts, 4, names > 24? names: 24);
            s_fit (parts, 5, 80 - 25);
            line = zsys_sprintf ("%s %s -> %s %s (%s, since %s)", parts [0], parts [1],
                                 parts [2], parts [3], parts [4],
                                 s_clock (since_text, sizeof (since_text),
                                          zwatch_client_link_since (link)));
        }
        zlistx_add_end (lines, line);
    }
    //  Connections whose other end is not watched
    size_t count;
    zwatch_client_agent_t **agents = s_agents (client, &count);
    for (size_t index = 0; index < count; index++) {
        zwatch_client_agent_t *agent = agents [index];
        size_t socket_count;
        zwatch_client_socket_t **sockets = s_sockets (agent, &socket_count);
        for (size_t at = 0; at < socket_count; at++) {
            zwatch_client_socket_t *socket = sockets [at];
            for (zwatch_client_conn_t *conn = zwatch_client_conn_first (socket); conn;
                 conn = zwatch_client_conn_next (socket)) {
                if (s_linked (client, agent, socket, conn))
                    continue;
                const char *peer = zwatch_client_conn_peer (conn);
                bool in = zwatch_client_conn_in (conn);
                char *line;
                if (json) {
                    char *buffer = NULL;
                    size_t size = 0;
                    FILE *mem = open_memstream (&buffer, &size);
                    fputs ("{\"kind\":\"unwatched\",\"host\":", mem);
                    s_json_str (mem, zwatch_client_agent_host (agent));
                    fputs (",\"svc\":", mem);
                    s_json_str (mem, zwatch_client_agent_svc (agent));
                    fprintf (mem, ",\"pid\":%" PRIu64 ",\"sock\":", zwatch_client_agent_pid (agent));
                    s_json_str (mem, zwatch_client_socket_label (socket));
                    fprintf (mem, ",\"dir\":\"%s\",\"endpoint\":", in? "in": "out");
                    s_json_str (mem, zwatch_client_conn_endpoint (conn));
                    fputs (",\"local\":", mem);
                    s_json_str (mem, zwatch_client_conn_local (conn));
                    fputs (",\"peer\":", mem);
                    s_json_str (mem, peer);
                    fprintf (mem, ",\"since\":%" PRIu64 "}", zwatch_client_conn_since (conn));
                    fclose (mem);
                    line = buffer;
                }
                else {
                    //  The watched end first, as for links: 34 bytes besides
                    char parts [3][PART_MAX];
                    snprintf (parts [0], PART_MAX, "%s/%s", zwatch_client_agent_host (agent),
                              zwatch_client_agent_svc (agent));
                    s_part (parts [1], zwatch_client_socket_label (socket));
                    s_part (parts [2], peer);
                    size_t names = 80 - 34 - strlen (parts [2]);
                    s_fit (parts, 2, names > 16? names: 16);
                    s_fit (parts, 3, 80 - 34);
                    line = zsys_sprintf ("%s %s %s %s (not watched, since %s)", parts [0],
                                         parts [1], in? "<-": "->", parts [2],
                                         s_clock (since, sizeof (since),
                                                  zwatch_client_conn_since (conn)));
                }
                zlistx_add_end (lines, line);
            }
        }
        free (sockets);
    }
    free (agents);
    size_t line_count = zlistx_size (lines);
    char **sorted = (char **) calloc (line_count + 1, sizeof (char *));
    size_t index = 0;
    for (char *line = (char *) zlistx_first (lines); line; line = (char *) zlistx_next (lines))
        sorted [index++] = line;
    qsort (sorted, line_count, sizeof (char *), s_compare_lines);
    for (index = 0; index < line_count; index++)
        fprintf (out, "%s\n", sorted [index]);
    free (sorted);
    zlistx_destroy (&lines);
}

static const char *
s_kind_name (zwatch_change_kind_t kind)
{
    static const char *names [] = {
        "?", "agent_up", "agent_gone", "agent_lost", "socket_added", "socket_removed",
        "connection_up", "connection_down", "link_up", "link_down", "event", "stats", "gap",
        "resync_start", "resync_done", "broker_unreachable", "broker_back", "history"
    };
    return kind <= ZWATCH_CHANGE_HISTORY? names [kind]: "?";
}

void
zwatch_fleet_view_change (FILE *out, const zwatch_change_t *change, bool json)
{
    const char *kind = s_kind_name (change->kind);
    if (json) {
        fprintf (out, "{\"change\":\"%s\"", kind);
        if (change->host) {
            fputs (",\"host\":", out);
            s_json_str (out, change->host);
            fputs (",\"svc\":", out);
            s_json_str (out, change->svc);
            fprintf (out, ",\"pid\":%" PRIu64, change->pid);
        }
        const char *keys [] = { "sock", "stype", "endpoint", "local", "peer", "event", "reason",
                                "broker" };
        const char *values [] = { change->sock, change->stype, change->endpoint, change->local,
                                  change->peer, change->event, change->reason, change->broker };
        for (size_t index = 0; index < sizeof (keys) / sizeof (keys [0]); index++)
            if (values [index]) {
                fprintf (out, ",\"%s\":", keys [index]);
                s_json_str (out, values [index]);
            }
        if (change->kind == ZWATCH_CHANGE_LINK_UP || change->kind == ZWATCH_CHANGE_LINK_DOWN) {
            fputs (",", out);
            s_end_json (out, "from", &change->from);
            fputs (",", out);
            s_end_json (out, "to", &change->to);
            fprintf (out, ",\"lseq\":%" PRIu64, change->lseq);
        }
        if (change->kind == ZWATCH_CHANGE_EVENT || change->kind == ZWATCH_CHANGE_HISTORY
        ||  change->kind == ZWATCH_CHANGE_GAP)
            fprintf (out, ",\"seq\":%" PRIu64, change->seq);
        if (change->kind == ZWATCH_CHANGE_GAP)
            fprintf (out, ",\"lost\":%" PRIu64, change->lost);
        fputs ("}\n", out);
        return;
    }
    //  Text: the kind, then what it names, fitted to 80 columns
    char parts [5][PART_MAX];
    memset (parts, 0, sizeof (parts));
    snprintf (parts [0], PART_MAX, "%s/%s", change->host? change->host: "",
              change->svc? change->svc: "");
    switch (change->kind) {
        case ZWATCH_CHANGE_SOCKET_ADDED:
        case ZWATCH_CHANGE_SOCKET_REMOVED:
            s_part (parts [1], change->sock);
            s_fit (parts, 2, 80 - strlen (kind) - 2 - strlen (change->stype) - 1);
            fprintf (out, "%s %s %s %s\n", kind, parts [0], parts [1], change->stype);
            break;
        case ZWATCH_CHANGE_CONNECTION_UP:
        case ZWATCH_CHANGE_CONNECTION_DOWN:
            s_part (parts [1], change->sock);
            s_part (parts [2], change->peer);
            s_part (parts [3], change->endpoint);
            s_fit (parts, 4, 80 - strlen (kind) - 9);
            fprintf (out, "%s %s %s %s %s (%s)\n", kind, parts [0], parts [1],
                     change->in? "<-": "->", parts [2], parts [3]);
            break;
        case ZWATCH_CHANGE_LINK_UP:
        case ZWATCH_CHANGE_LINK_DOWN:
            snprintf (parts [0], PART_MAX, "%s/%s", change->from.host, change->from.svc);
            s_part (parts [1], change->from.sock);
            snprintf (parts [2], PART_MAX, "%s/%s", change->to.host, change->to.svc);
            s_part (parts [3], change->to.sock);
            s_part (parts [4], change->endpoint);
            s_fit (parts, 5, 80 - strlen (kind) - 10);
            fprintf (out, "%s %s %s -> %s %s (%s)\n", kind, parts [0], parts [1], parts [2],
                     parts [3], parts [4]);
            break;
        case ZWATCH_CHANGE_EVENT:
        case ZWATCH_CHANGE_HISTORY:
            s_part (parts [1], change->sock);
            s_part (parts [2], change->endpoint);
            s_fit (parts, 3, 80 - strlen (kind) - strlen (change->event) - 4);
            fprintf (out, "%s %s %s %s %s\n", kind, parts [0], parts [1], change->event,
                     parts [2]);
            break;
        case ZWATCH_CHANGE_GAP:
            s_fit (parts, 1, 40);
            fprintf (out, "%s %s pid %" PRIu64 ": %" PRIu64 " lost before seq %" PRIu64 "\n",
                     kind, parts [0], change->pid, change->lost, change->seq);
            break;
        case ZWATCH_CHANGE_AGENT_UP:
        case ZWATCH_CHANGE_AGENT_GONE:
        case ZWATCH_CHANGE_AGENT_LOST:
            s_fit (parts, 1, 50);
            fprintf (out, "%s %s pid %" PRIu64 "\n", kind, parts [0], change->pid);
            break;
        default:
            fprintf (out, "%s%s%s\n", kind, change->reason? " ": "",
                     change->reason? change->reason: "");
    }
}

void
zwatch_fleet_view_event (FILE *out, const zwatch_change_t *change, bool json,
                         zwatch_sub_format_t *format)
{
    if (json) {
        //  The agent's message itself, as zwatch-sub --json prints it
        const char *reason;
        const msgpack_object *object = zwatch_sub_format_parse (format, change->body,
                                                                change->body_size, &reason);
        const char *line = object? zwatch_sub_format_json (format, object): NULL;
        if (line)
            fprintf (out, "%s\n", line);
        return;
    }
    char parts [3][PART_MAX], clock [16];
    snprintf (parts [0], PART_MAX, "%s/%s", change->host, change->svc);
    s_part (parts [1], change->sock);
    s_part (parts [2], change->endpoint);
    //  "HH:MM:SS A s EVENT E": 11 bytes besides the parts and the name
    s_fit (parts, 3, 80 - 11 - strlen (change->event));
    fprintf (out, "%s %s %s %s %s\n", s_clock (clock, sizeof (clock), change->ts), parts [0],
             parts [1], change->event, parts [2]);
}
