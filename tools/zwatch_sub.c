/*  zwatch-sub: watch the zwatch feed from a broker, one line per message.

    Subscribes by topic prefix on the broker's XPUB, then checks host,
    service and event name exactly on this side (a prefix "ev/web" would
    also match host "web2"). With --server-key (or the agents'
    $ZWATCH_CURVE_SERVER_KEY) it speaks CURVE. It keeps watching while a
    broker is unreachable (libzmq reconnects) and says so on stderr, and
    when it is back (zwatch_sub_link). With --batches it reads a broker's
    batch feed instead (PROTOCOL.md 6, "The batch feed": topic
    batch/<host>/<svc>/, the event maps back to back): each map goes the way
    of an ev/ body. With --snapshot it reads the broker
    through libzwatch-client instead (zwatch_sub_snapshot): the snapshot's
    agents, sockets and links first, then the feed by the merge rule, each
    message printed as without it. Exit codes: 0 ok (count reached,
    SIGINT, SIGTERM), 1 runtime error (idle timeout, the broker refused
    our key or speaks another protocol), 2 usage error.
*/

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <czmq.h>
#include "zwatch.h"
#include "zwatch_curve.h"
#include "zwatch_monitor.h"
#include "zwatch_ratelimit.h"
#include "zwatch_sub_format.h"
#include "zwatch_sub_link.h"
#include "zwatch_sub_snapshot.h"

#define PROGRAM         "zwatch-sub"
#define EXIT_RUNTIME    1
#define EXIT_USAGE      2
#define TOPIC_MAX       512     //  longer topics are not ours
#define TIMEOUT_MAX     1e6     //  seconds; keeps the ms arithmetic exact
#define WARNING_GAP     1000    //  msecs between two warnings on stderr
#define LINK_GAP        2000    //  msecs between two lines about one broker's link

typedef struct {
    const char **connects;      //  views into argv, each list argc long
    size_t connect_count;
    const char **hosts;
    size_t host_count;
    const char **services;
    size_t service_count;
    const char **events;
    size_t event_count;
    bool json;
    bool events_only;
    uint64_t count;             //  0: no limit
    double timeout;             //  seconds, 0: none
    const char *server_key;     //  CURVE: the broker's public key, or NULL
    const char *cert;           //  CURVE: our certificate's secret file, or NULL
    zwatch_curve_t curve;       //  the keys, once checked
    bool with_cert;             //  CURVE with our own certificate, not a fresh key
    bool batches;               //  --connect names batch feeds: events only
    bool snapshot;              //  the snapshot first, through libzwatch-client
    const char *snapshot_ep;    //  its endpoint, NULL: the library's default
} options_t;

typedef struct {
    options_t *options;
    zwatch_sub_format_t *format;
    zwatch_client_dedup_t *dedup;       //  several --connect: what came from two brokers
    zwatch_sub_link_t *link;    //  what we say about the broker links
    uint64_t printed;           //  events printed
    uint64_t skipped;           //  messages that could not be read
    zwatch_ratelimit_t skip_limit;      //  warnings about skipped messages
} sub_t;

//  The event names, wrapped within 80 columns
static void
s_event_names (FILE *stream)
{
    size_t column = 0;
    for (uint32_t bit = 0; bit < 32; bit++) {
        const char *name = zwatch_event_name (1u << bit);
        if (strcmp (name, "UNKNOWN") == 0)
            break;
        if (column && column + 1 + strlen (name) > 78) {
            fputc ('\n', stream);
            column = 0;
        }
        column += (size_t) fprintf (stream, column? " %s": "  %s", name);
    }
    fprintf (stream, column? " UNKNOWN\n": "  UNKNOWN\n");
}

static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "Usage: " PROGRAM " [OPTION]...\n"
        "Print ZeroMQ socket events from a zwatch broker, one line each.\n"
        "\n"
        "  --connect EP     broker publish endpoint (repeatable: brokers of a pair,\n"
        "                   each event and agent state printed once; default\n"
        "                   " ZWATCH_DEFAULT_PUBLISH ")\n"
        "  --host H         only events of host H (repeatable); H* for hosts that start\n"
        "                   with H\n"
        "  --service S      only events of service S (repeatable); S* as for --host\n"
        "  --event NAME     only events named NAME, any case (repeatable; names below)\n"
        "  --events-only    hide agent state and broker stats messages\n"
        "  --batches        each --connect is a broker's --publish-batches endpoint\n"
        "                   (no default): the events come several to a message. That\n"
        "                   feed has events only: no agent state or stats lines. Not\n"
        "                   with --snapshot\n"
        "  --json           print each message as one JSON object: the protocol's keys,\n"
        "                   plus \"time\" (ISO 8601 UTC) after ts and \"error\" (EADDRINUSE)\n"
        "                   after an errno value\n"
        "  --count N        exit after printing N events\n"
        "  --timeout SEC    exit 1 if no event arrives for SEC seconds (decimals ok)\n"
        "  --snapshot[=EP]  first print the fleet's state from the broker's snapshot\n"
        "                   endpoint EP (default " ZWATCH_CLIENT_SNAPSHOT_DEFAULT "): its agents,\n"
        "                   sockets and links as zwatch-fleet prints them (--json too),\n"
        "                   within --host / --service; then the feed, without the\n"
        "                   events the snapshot already holds. One --connect\n"
        "  --server-key KEY CURVE: the broker's public key, 40 characters of Z85\n"
        "                   (default $ZWATCH_CURVE_SERVER_KEY)\n"
        "  --cert FILE      CURVE: this subscriber's secret certificate file\n"
        "                   (zwatch-keygen; default $ZWATCH_CURVE_CERT)\n"
        "  -h, --help       show this help and exit\n"
        "      --version    show the version and exit\n"
        "\n"
        "Event names (libzmq 4.3 monitor events, and UNKNOWN for any other code):\n");
    s_event_names (stream);
    fprintf (stream,
        "\n"
        "While a broker is unreachable (not started, restarting, a port that resets\n"
        "connections) it keeps retrying and says so on stderr, and again when the\n"
        "broker is back; at most one such line per broker every 2 seconds.\n"
        "With --snapshot, --timeout also bounds the wait for the snapshot, and when\n"
        "the view is lost (the broker restarted, events lost) a line on stderr says so\n"
        "and the new snapshot is printed again before the feed goes on.\n"
        "\n"
        "Exit status: 0 count reached, SIGINT or SIGTERM; 1 --timeout reached, or the\n"
        "broker refused our key or speaks another protocol (a message says which);\n"
        "2 usage error.\n");
}

//  Print a usage error and return the usage exit code
static int
s_usage_error (const char *format, const char *arg)
{
    fprintf (stderr, PROGRAM ": ");
    fprintf (stderr, format, arg);
    fprintf (stderr, " (see --help)\n");
    return EXIT_USAGE;
}

//  A positive decimal integer, digits only
static bool
s_parse_count (const char *text, uint64_t *count)
{
    if (*text < '0' || *text > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno || *end || value == 0)
        return false;
    *count = value;
    return true;
}

//  Seconds > 0, decimals allowed, up to TIMEOUT_MAX
static bool
s_parse_timeout (const char *text, double *seconds)
{
    if (!((*text >= '0' && *text <= '9') || *text == '.'))
        return false;
    errno = 0;
    char *end;
    double value = strtod (text, &end);
    if (errno || *end || !isfinite (value) || value <= 0 || value > TIMEOUT_MAX)
        return false;
    *seconds = value;
    return true;
}

//  True if name is an event name in any case; then it is upper-cased in
//  place (argv is ours), else left as typed for the error message
static bool
s_event_name_valid (char *name)
{
    char upper [32];
    size_t len = strlen (name);
    if (len >= sizeof (upper))
        return false;
    for (size_t index = 0; index <= len; index++)
        upper [index] = (char) toupper ((unsigned char) name [index]);
    if (zwatch_event_code (upper, len) == 0 && strcmp (upper, "UNKNOWN") != 0)
        return false;
    memcpy (name, upper, len);
    return true;
}

//  A --host or --service value: a name, or a prefix of one and a '*'
//  ("*" alone: any)
static bool
s_name_filter_valid (const char *text, size_t max)
{
    size_t len = strlen (text);
    if (len && text [len - 1] == '*')
        return len == 1 || zwatch_name_valid (text, len - 1, max);
    return zwatch_name_valid (text, len, max);
}

//  The exact part of a filter, and whether it is a prefix
static size_t
s_filter_len (const char *filter, bool *prefix)
{
    size_t len = strlen (filter);
    *prefix = len && filter [len - 1] == '*';
    return *prefix? len - 1: len;
}

//  Parse the command line into options. Returns -1 to go on, else the
//  exit code (0 after --help or --version)
static int
s_parse_options (options_t *options, int argc, char *argv [])
{
    enum { OPT_CONNECT = 256, OPT_HOST, OPT_SERVICE, OPT_EVENT, OPT_EVENTS_ONLY,
           OPT_JSON, OPT_COUNT, OPT_TIMEOUT, OPT_VERSION, OPT_SERVER_KEY, OPT_CERT,
           OPT_SNAPSHOT, OPT_BATCHES };
    static const struct option long_options [] = {
        { "connect",     required_argument, NULL, OPT_CONNECT },
        { "host",        required_argument, NULL, OPT_HOST },
        { "service",     required_argument, NULL, OPT_SERVICE },
        { "event",       required_argument, NULL, OPT_EVENT },
        { "events-only", no_argument,       NULL, OPT_EVENTS_ONLY },
        { "batches",     no_argument,       NULL, OPT_BATCHES },
        { "json",        no_argument,       NULL, OPT_JSON },
        { "count",       required_argument, NULL, OPT_COUNT },
        { "timeout",     required_argument, NULL, OPT_TIMEOUT },
        { "server-key",  required_argument, NULL, OPT_SERVER_KEY },
        { "cert",        required_argument, NULL, OPT_CERT },
        { "snapshot",    optional_argument, NULL, OPT_SNAPSHOT },
        { "help",        no_argument,       NULL, 'h' },
        { "version",     no_argument,       NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 }
    };
    opterr = 0;                 //  our own messages, without argv [0]'s path
    while (true) {
        int previous = optind;
        int option = getopt_long (argc, argv, ":h", long_options, NULL);
        if (option == -1)
            break;
        switch (option) {
            case OPT_CONNECT:
                options->connects [options->connect_count++] = optarg;
                break;
            case OPT_HOST:
                if (!s_name_filter_valid (optarg, ZWATCH_HOST_MAX))
                    return s_usage_error ("invalid host name '%s' (1-64 characters of A-Za-z0-9._-, "
                                          "or a start of one and '*')", optarg);
                options->hosts [options->host_count++] = optarg;
                break;
            case OPT_SERVICE:
                if (!s_name_filter_valid (optarg, ZWATCH_SVC_MAX))
                    return s_usage_error ("invalid service name '%s' (1-64 characters of A-Za-z0-9._-, "
                                          "or a start of one and '*')", optarg);
                options->services [options->service_count++] = optarg;
                break;
            case OPT_EVENT:
                if (!s_event_name_valid (optarg))
                    return s_usage_error ("unknown event name '%s'", optarg);
                options->events [options->event_count++] = optarg;
                break;
            case OPT_EVENTS_ONLY:
                options->events_only = true;
                break;
            case OPT_BATCHES:
                options->batches = true;
                break;
            case OPT_JSON:
                options->json = true;
                break;
            case OPT_COUNT:
                if (!s_parse_count (optarg, &options->count))
                    return s_usage_error ("invalid --count '%s' (want a positive integer)", optarg);
                break;
            case OPT_TIMEOUT:
                if (!s_parse_timeout (optarg, &options->timeout))
                    return s_usage_error ("invalid --timeout '%s' (want seconds > 0)", optarg);
                break;
            case OPT_SERVER_KEY:
                options->server_key = optarg;
                break;
            case OPT_CERT:
                options->cert = optarg;
                break;
            case OPT_SNAPSHOT:
                options->snapshot = true;
                if (optarg)
                    options->snapshot_ep = optarg;
                break;
            case 'h':
                s_usage (stdout);
                return 0;
            case OPT_VERSION:
                printf (PROGRAM " " ZWATCH_VERSION_STRING "\n");
                return 0;
            case ':':
                return s_usage_error ("option '%s' needs a value", argv [optind - 1]);
            default:
                //  For a short option argv [previous] may hold several; name it whole
                return s_usage_error ("unknown option '%s'",
                                      optopt && optind == previous? argv [previous]
                                                                  : argv [optind - 1]);
        }
    }
    if (optind < argc) {
        //  zwatch-fleet's "--snapshot EP" is "--snapshot=EP" here (it may go alone)
        if (options->snapshot && !options->snapshot_ep && strstr (argv [optind], "://"))
            return s_usage_error ("unexpected argument '%s' (an endpoint for --snapshot "
                                  "goes as --snapshot=EP)", argv [optind]);
        return s_usage_error ("unexpected argument '%s'", argv [optind]);
    }
    if (options->snapshot && options->connect_count > 1)
        return s_usage_error ("%s", "--snapshot reads one broker: give one --connect");
    //  The snapshot's merge needs the broker's agent/ and link/ messages,
    //  which only its --publish endpoint carries
    if (options->batches && options->snapshot)
        return s_usage_error ("%s", "--batches and --snapshot do not go together (the "
                              "snapshot follows the --publish feed's agent and link messages)");
    //  A broker binds a batch feed only where told to: no default to guess
    if (options->batches && options->connect_count == 0)
        return s_usage_error ("%s", "--batches needs --connect (a broker's "
                              "--publish-batches endpoint)");
    options->events_only |= options->batches;   //  that feed carries nothing else
    if (options->connect_count == 0)
        options->connects [options->connect_count++] = ZWATCH_DEFAULT_PUBLISH;
    //  CURVE: each flag, else the variable the agents read
    const char *server_key = options->server_key? options->server_key
                                                : getenv ("ZWATCH_CURVE_SERVER_KEY");
    const char *cert = options->cert? options->cert: getenv ("ZWATCH_CURVE_CERT");
    server_key = server_key && *server_key? server_key: NULL;
    cert = cert && *cert? cert: NULL;
    char error [512];
    if (cert && !server_key)
        return s_usage_error ("%s", "--cert needs --server-key (the broker's public key)");
    if (server_key && zwatch_curve_client (&options->curve, server_key, cert, error,
                                           sizeof (error)) != 0)
        return s_usage_error ("%s", error);
    options->with_cert = cert != NULL;
    options->server_key = server_key;       //  as used, for the client library
    options->cert = cert;
    return -1;
}

//  Every event waiting on our socket's monitor (v1: code and value, then
//  the endpoint), told to the link; prints what it says. Returns true
//  when one was a failure that waiting cannot fix.
static bool
s_handle_monitor (sub_t *self, zsock_t *monitor)
{
    bool fatal = false;
    while (!fatal && (zsock_events (monitor) & ZMQ_POLLIN)) {
        zframe_t *event = zframe_recv (monitor);
        if (!event)
            break;              //  EINTR: the main loop checks
        zframe_t *endpoint = zframe_more (event)? zframe_recv (monitor): NULL;
        uint16_t code;
        uint32_t value;
        if (endpoint && zwatch_monitor_parse (zframe_data (event), zframe_size (event),
                                              &code, &value)) {
            const char *safe = zwatch_sub_format_text (self->format,
                                                       (const char *) zframe_data (endpoint),
                                                       zframe_size (endpoint));
            const char *line = zwatch_sub_link_event (self->link, code, value, safe? safe: "?",
                                                      zclock_mono (), &fatal);
            if (line)
                fprintf (stderr, "%s\n", line);
        }
        zframe_destroy (&event);
        zframe_destroy (&endpoint);
    }
    return fatal;
}

//  Subscribe to the topic prefixes the filters need (see README). A host
//  or service filter that ends in '*' subscribes to its start only, and
//  ends the topic prefix there: what follows is checked here. Events are
//  ev/<host>/<svc>/<EVENT>, or batch/<host>/<svc>/ with --batches.
static void
s_subscribe (zsock_t *sub, const options_t *options)
{
    const char *kinds [] = { options->batches? "batch": "ev", "agent" };
    if (options->host_count == 0) {
        zsock_set_subscribe (sub, options->batches? "batch/": "ev/");
        if (!options->events_only) {
            zsock_set_subscribe (sub, "agent/");
            if (options->service_count == 0)
                zsock_set_subscribe (sub, "stats/");
        }
        return;
    }
    char prefix [6 + ZWATCH_HOST_MAX + 1 + ZWATCH_SVC_MAX + 2];
    for (size_t host = 0; host < options->host_count; host++) {
        bool host_prefix;
        int host_len = (int) s_filter_len (options->hosts [host], &host_prefix);
        for (size_t kind = 0; kind < (options->events_only? 1u: 2u); kind++) {
            if (options->service_count == 0 || host_prefix) {
                snprintf (prefix, sizeof (prefix), "%s/%.*s%s", kinds [kind], host_len,
                          options->hosts [host], host_prefix? "": "/");
                zsock_set_subscribe (sub, prefix);
                continue;
            }
            for (size_t service = 0; service < options->service_count; service++) {
                bool service_prefix;
                int service_len = (int) s_filter_len (options->services [service],
                                                      &service_prefix);
                //  agent/<host>/<svc> has nothing after the service
                snprintf (prefix, sizeof (prefix), "%s/%.*s/%.*s%s", kinds [kind], host_len,
                          options->hosts [host], service_len, options->services [service],
                          service_prefix || kind == 1? "": "/");
                zsock_set_subscribe (sub, prefix);
            }
        }
    }
}

//  True if the name (not NUL-terminated) is in the list (as itself, or
//  after a prefix and '*'), or the list is empty
static bool
s_listed (const char **list, size_t count, const char *name, size_t len)
{
    if (count == 0)
        return true;
    for (size_t index = 0; index < count; index++) {
        bool prefix;
        size_t want = s_filter_len (list [index], &prefix);
        if ((prefix? want <= len: want == len) && memcmp (list [index], name, want) == 0)
            return true;
    }
    return false;
}

static bool
s_str_equal (zwatch_str_t str, const char *ptr, size_t len)
{
    return str.ptr && str.len == len && memcmp (str.ptr, ptr, len) == 0;
}

//  Count a message we could not read (what: "a message", or "maps of a
//  batch" when we read the others); tell stderr at most once a second
static void
s_skip_what (sub_t *self, const char *what, const char *topic, size_t topic_len,
             const char *reason)
{
    self->skipped++;
    uint64_t held;
    if (!zwatch_ratelimit_ok (&self->skip_limit, zclock_mono (), WARNING_GAP, &held))
        return;
    const char *safe = zwatch_sub_format_text (self->format, topic, topic_len);
    fprintf (stderr, PROGRAM ": skipped %s on '%s': %s", what, safe? safe: "?", reason);
    if (held)
        fprintf (stderr, " (%" PRIu64 " skipped since the last warning, %" PRIu64 " in all)",
                 held + 1, self->skipped);
    fprintf (stderr, "\n");
}

static void
s_skip (sub_t *self, const char *topic, size_t topic_len, const char *reason)
{
    s_skip_what (self, "a message", topic, topic_len, reason);
}

static void
s_print (const char *line)
{
    fputs (line, stdout);
    fputc ('\n', stdout);
    fflush (stdout);
}

//  A string key of map as a NUL-terminated copy in buf ("" if absent)
static const char *
s_map_str (const msgpack_object *map, const char *key, char *buf, size_t size)
{
    const msgpack_object *value = zwatch_sub_format_find (map, key);
    if (value && value->type == MSGPACK_OBJECT_STR)
        snprintf (buf, size, "%.*s", (int) value->via.str.size, value->via.str.ptr);
    else
        snprintf (buf, size, "%s", "");
    return buf;
}

static uint64_t
s_map_uint (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = zwatch_sub_format_find (map, key);
    return value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER? value->via.u64: 0;
}

//  Several brokers: an agent/ message is news if the agent's state merged
//  over the brokers changed (zwatch_client_dedup_agent)
static bool
s_agent_new (sub_t *self, const msgpack_object *map)
{
    char broker [64], host [ZWATCH_HOST_MAX + 1], svc [ZWATCH_SVC_MAX + 1], state [16];
    return zwatch_client_dedup_agent (self->dedup, s_map_str (map, "broker", broker, sizeof (broker)),
                                      s_map_str (map, "host", host, sizeof (host)),
                                      s_map_str (map, "svc", svc, sizeof (svc)),
                                      s_map_uint (map, "pid"), s_map_uint (map, "start"),
                                      s_map_str (map, "state", state, sizeof (state)));
}

//  Split a topic at '/' into at most 4 parts; *whole is false when there
//  is more after the fourth. Returns the number of parts.
static size_t
s_topic_split (const char *topic, size_t topic_len, const char *part [4], size_t part_len [4],
               bool *whole)
{
    size_t parts = 0;
    const char *start = topic;
    for (size_t index = 0; index <= topic_len && parts < 4; index++)
        if (index == topic_len || topic [index] == '/') {
            part [parts] = start;
            part_len [parts++] = (size_t) (topic + index - start);
            start = topic + index + 1;
        }
    *whole = start == topic + topic_len + 1;
    return parts;
}

//  The body as a msgpack map, or NULL with why set
static const msgpack_object *
s_parse_map (sub_t *self, const char *body, size_t body_len, const char **why)
{
    const msgpack_object *object = zwatch_sub_format_parse (self->format, body, body_len, why);
    if (object && object->type != MSGPACK_OBJECT_MAP) {
        *why = "body is not a map";
        return NULL;
    }
    return object;
}

typedef enum { EVENT_PRINTED, EVENT_HIDDEN, EVENT_INVALID } event_result_t;

//  One event's body (decoded with reason and detail into msg) whose topic
//  passed the host and service filters: checked against the topic's host,
//  service and event name (part [1..3]; part [3] NULL in a batch, whose
//  topic names no event), filtered by --event and the dedup, printed.
//  On EVENT_INVALID, why (why_size bytes) says what was wrong.
static event_result_t
s_event (sub_t *self, zwatch_reason_t reason, const char *detail, const zwatch_msg_t *msg,
         const char *const part [4], const size_t part_len [4], const char *body,
         size_t body_len, char *why, size_t why_size)
{
    const options_t *options = self->options;
    if (reason == ZWATCH_OK && msg->kind != ZWATCH_KIND_EVENT) {
        reason = ZWATCH_REJECT_BAD_KIND;
        detail = "kind";
    }
    if (reason != ZWATCH_OK) {
        snprintf (why, why_size, "invalid event (%s%s%s)", zwatch_reason_name (reason),
                  *detail? ": ": "", detail);
        return EVENT_INVALID;
    }
    if (!s_str_equal (msg->host, part [1], part_len [1])
    ||  !s_str_equal (msg->svc, part [2], part_len [2])
    ||  (part [3] && !s_str_equal (msg->event, part [3], part_len [3]))) {
        snprintf (why, why_size, "%s", "topic does not match the event");
        return EVENT_INVALID;
    }
    const char *name = zwatch_event_name (msg->code);
    if (!s_listed (options->events, options->event_count, name, strlen (name)))
        return EVENT_HIDDEN;
    char host [ZWATCH_HOST_MAX + 1], svc [ZWATCH_SVC_MAX + 1];
    snprintf (host, sizeof (host), "%.*s", (int) msg->host.len, msg->host.ptr);
    snprintf (svc, sizeof (svc), "%.*s", (int) msg->svc.len, msg->svc.ptr);
    if (self->dedup && !zwatch_client_dedup_event (self->dedup, host, svc, msg->pid, msg->seq))
        return EVENT_HIDDEN;
    const char *line;
    if (options->json) {
        const char *failure;
        const msgpack_object *object = s_parse_map (self, body, body_len, &failure);
        if (!object) {
            snprintf (why, why_size, "%s", failure);
            return EVENT_INVALID;
        }
        line = zwatch_sub_format_json (self->format, object);
    }
    else
        line = zwatch_sub_format_event (self->format, msg);
    if (!line) {
        snprintf (why, why_size, "%s", "out of memory");
        return EVENT_INVALID;
    }
    s_print (line);
    return EVENT_PRINTED;
}

//  One [topic][body] message of the --publish feed: filter, decode, print.
//  Returns true when it was an event that was printed.
static bool
s_handle (sub_t *self, const char *topic, size_t topic_len, const char *body, size_t body_len)
{
    const options_t *options = self->options;
    //  Topic parts: kind / host / svc / event
    const char *part [4] = { NULL, NULL, NULL, NULL };
    size_t part_len [4] = { 0, 0, 0, 0 };
    bool whole;
    size_t parts = s_topic_split (topic, topic_len, part, part_len, &whole);
    bool is_event = part_len [0] == 2 && memcmp (topic, "ev", 2) == 0;
    bool is_agent = part_len [0] == 5 && memcmp (topic, "agent", 5) == 0;
    bool is_stats = part_len [0] == 5 && memcmp (topic, "stats", 5) == 0;
    if ((is_agent || is_stats) && options->events_only)
        return false;
    if (is_stats && (options->host_count || options->service_count))
        return false;
    if (is_event || is_agent) {
        size_t expected = is_event? 4: 3;
        if (parts != expected || !whole) {
            s_skip (self, topic, topic_len, "malformed topic");
            return false;
        }
        if (!s_listed (options->hosts, options->host_count, part [1], part_len [1])
        ||  !s_listed (options->services, options->service_count, part [2], part_len [2]))
            return false;
    }
    else
    if (!is_stats)
        return false;           //  not a topic we asked for

    if (is_event) {
        zwatch_msg_t msg;
        const char *detail;
        zwatch_reason_t reason = zwatch_msg_decode (&msg, body, body_len, &detail);
        char why [80];
        event_result_t result = s_event (self, reason, detail, &msg, part, part_len, body,
                                         body_len, why, sizeof (why));
        if (result == EVENT_INVALID)
            s_skip (self, topic, topic_len, why);
        return result == EVENT_PRINTED;
    }
    const char *why;
    const msgpack_object *object = s_parse_map (self, body, body_len, &why);
    if (!object) {
        s_skip (self, topic, topic_len, why);
        return false;
    }
    if (is_agent && self->dedup && !s_agent_new (self, object))
        return false;
    const char *line = options->json? zwatch_sub_format_json (self->format, object)
                     : is_agent? zwatch_sub_format_agent (self->format, object)
                     : zwatch_sub_format_stats (self->format, object);
    if (!line) {
        s_skip (self, topic, topic_len, "out of memory");
        return false;
    }
    s_print (line);
    return false;
}

//  One [batch/<host>/<svc>/][maps] message of a batch feed: each map as
//  s_handle takes an ev/ body, up to the --count. A map that is not a
//  valid event is skipped as such a body is; one whose end cannot be found
//  takes the rest of the batch with it. Whatever was skipped, one warning.
//  Returns the number of events printed.
static uint64_t
s_handle_batch (sub_t *self, const char *topic, size_t topic_len, const char *body,
                size_t body_len)
{
    const options_t *options = self->options;
    //  Topic parts: kind / host / svc / "" (the topic ends in '/')
    const char *part [4] = { NULL, NULL, NULL, NULL };
    size_t part_len [4] = { 0, 0, 0, 0 };
    bool whole;
    size_t parts = s_topic_split (topic, topic_len, part, part_len, &whole);
    if (part_len [0] != 5 || memcmp (topic, "batch", 5) != 0)
        return 0;               //  not a topic we asked for
    if (parts != 4 || !whole || part_len [3] != 0) {
        s_skip (self, topic, topic_len, "malformed topic");
        return 0;
    }
    if (!s_listed (options->hosts, options->host_count, part [1], part_len [1])
    ||  !s_listed (options->services, options->service_count, part [2], part_len [2]))
        return 0;
    if (body_len == 0) {
        s_skip (self, topic, topic_len, "empty batch");
        return 0;
    }
    part [3] = NULL;            //  each map names its event

    uint64_t room = options->count? options->count - self->printed: UINT64_MAX;
    uint64_t printed = 0;
    size_t offset = 0, maps = 0, bad = 0, first_bad = 0, unread = 0;
    char why [80] = "";         //  the first bad map's
    while (offset < body_len && printed < room) {
        size_t start = offset;
        zwatch_msg_t msg;
        const char *detail;
        bool rest_lost;
        zwatch_reason_t reason = zwatch_msg_decode_next (&msg, body, body_len, &offset,
                                                         &rest_lost, &detail);
        maps++;
        char map_why [80];
        event_result_t result = s_event (self, reason, detail, &msg, part, part_len,
                                         body + start, offset - start, map_why,
                                         sizeof (map_why));
        if (result == EVENT_PRINTED)
            printed++;
        else
        if (result == EVENT_INVALID && bad++ == 0) {
            first_bad = maps;
            memcpy (why, map_why, sizeof (why));
        }
        if (rest_lost)
            unread = body_len - start;
    }
    if (bad) {
        char text [200];
        int used = snprintf (text, sizeof (text), "map %zu: %s", first_bad, why);
        if (bad > 1 && used > 0 && (size_t) used < sizeof (text))
            used += snprintf (text + used, sizeof (text) - (size_t) used, "; %zu maps skipped",
                              bad);
        if (unread && used > 0 && (size_t) used < sizeof (text))
            snprintf (text + used, sizeof (text) - (size_t) used,
                      "; the last %zu bytes unread", unread);
        s_skip_what (self, "maps of a batch", topic, topic_len, text);
    }
    return printed;
}

//  Read every message waiting on the socket. Returns the number of events
//  printed, or -1 once the count is reached.
static int
s_drain (sub_t *self, void *handle)
{
    int printed = 0;
    zmq_msg_t frames [2];
    zmq_msg_init (&frames [0]);
    zmq_msg_init (&frames [1]);
    while (true) {
        //  Read all frames of one message; keep the first two
        size_t count = 0;
        bool more = true;
        while (more) {
            zmq_msg_t *frame = &frames [count < 2? count: 1];
            if (zmq_msg_recv (frame, handle, count? 0: ZMQ_DONTWAIT) < 0)
                goto done;      //  EAGAIN: nothing more; EINTR: the loop checks
            more = zmq_msg_more (frame);
            count++;
        }
        const char *topic = (const char *) zmq_msg_data (&frames [0]);
        size_t topic_len = zmq_msg_size (&frames [0]);
        const char *body = (const char *) zmq_msg_data (&frames [1]);
        size_t body_len = zmq_msg_size (&frames [1]);
        uint64_t events = 0;
        if (topic_len > TOPIC_MAX)
            s_skip (self, topic, 64, "topic too long");
        else
        if (count != 2)
            s_skip (self, topic, topic_len, "not two frames");
        else
        if (self->options->batches)
            events = s_handle_batch (self, topic, topic_len, body, body_len);
        else
            events = s_handle (self, topic, topic_len, body, body_len);
        if (events) {
            printed += (int) events;
            self->printed += events;
            if (self->options->count && self->printed >= self->options->count) {
                printed = -1;
                goto done;
            }
        }
    }
done:
    zmq_msg_close (&frames [0]);
    zmq_msg_close (&frames [1]);
    return printed;
}

//  Receive until the count is reached, a signal, or the idle timeout
static int
s_run (sub_t *self, zsock_t *sub, zsock_t *monitor)
{
    void *handle = zsock_resolve (sub);
    int64_t timeout_ms = (int64_t) ceil (self->options->timeout * 1000);
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!zsys_interrupted) {
        int64_t now = zclock_mono ();
        const char *line;
        while ((line = zwatch_sub_link_due (self->link, now)))
            fprintf (stderr, "%s\n", line);
        long wait = (long) zwatch_sub_link_wait (self->link, now);
        if (timeout_ms) {
            int64_t left = deadline - now;
            if (left <= 0) {
                fprintf (stderr, PROGRAM ": timeout: no event for %g s\n", self->options->timeout);
                return EXIT_RUNTIME;
            }
            if (wait < 0 || left < wait)
                wait = (long) left;
        }
        zmq_pollitem_t items [] = { { handle, 0, ZMQ_POLLIN, 0 },
                                    { zsock_resolve (monitor), 0, ZMQ_POLLIN, 0 } };
        int rc = zmq_poll (items, 2, wait);
        if (rc < 0) {
            if (zmq_errno () == EINTR)
                continue;
            fprintf (stderr, PROGRAM ": poll: %s\n", zmq_strerror (zmq_errno ()));
            return EXIT_RUNTIME;
        }
        if (rc == 0)
            continue;
        if ((items [1].revents & ZMQ_POLLIN) && s_handle_monitor (self, monitor))
            return EXIT_RUNTIME;
        int printed = s_drain (self, handle);
        if (printed < 0)
            return 0;
        if (printed > 0)
            deadline = zclock_mono () + timeout_ms;
    }
    return 0;                   //  SIGINT or SIGTERM
}

//  A change of the client that carries a feed message: filtered and
//  printed as s_handle prints the feed. Returns s_drain's result: 1 when
//  an event was printed, -1 once the count is reached, else 0.
static int
s_snapshot_message (sub_t *self, const zwatch_change_t *change)
{
    char topic [TOPIC_MAX + 1];
    size_t topic_len = zwatch_sub_snapshot_topic (change, topic, sizeof (topic));
    if (!topic_len
    ||  !s_handle (self, topic, topic_len, (const char *) change->body, change->body_size))
        return 0;
    self->printed++;
    return self->options->count && self->printed >= self->options->count? -1: 1;
}

//  --snapshot: the client's state once whole, then what the feed brings
//  after it (the client applies the merge rule: an event at or below its
//  agent's seq in the snapshot is not handed out). The feed's changes
//  before the state is whole are in the state printed, so not printed.
static int
s_run_snapshot (sub_t *self)
{
    const options_t *options = self->options;
    char error [512];
    bool usage;
    zwatch_client_t *client =
        zwatch_sub_snapshot_client (options->connects [0], options->snapshot_ep,
                                    options->hosts, options->host_count, options->services,
                                    options->service_count, options->server_key, options->cert,
                                    error, sizeof (error), &usage);
    if (!client) {
        fprintf (stderr, PROGRAM ": %s\n", error);
        return usage? EXIT_USAGE: EXIT_RUNTIME;
    }
    int64_t timeout_ms = (int64_t) ceil (options->timeout * 1000);
    int64_t deadline = zclock_mono () + timeout_ms;
    bool whole = false;         //  a snapshot printed, no resync since
    bool printed_one = false;
    int rc = 0;
    while (!zsys_interrupted) {
        int64_t now = zclock_mono ();
        const char *line;
        while ((line = zwatch_sub_link_due (self->link, now)))
            fprintf (stderr, "%s\n", line);
        int64_t wait = zwatch_sub_link_wait (self->link, now);
        if (timeout_ms) {
            int64_t left = deadline - now;
            if (left <= 0) {
                fprintf (stderr, PROGRAM ": timeout: no %s for %g s\n",
                         printed_one? "event": "snapshot", options->timeout);
                rc = EXIT_RUNTIME;
                break;
            }
            if (wait < 0 || left < wait)
                wait = left;
        }
        if (wait < 0 || wait > 1000)
            wait = 1000;        //  the loop checks zsys_interrupted
        const zwatch_change_t *change = zwatch_client_next (client, (int) wait);
        if (!change)
            continue;           //  EAGAIN, or EINTR: the loop checks
        bool fatal = false;
        switch (change->kind) {
            case ZWATCH_CHANGE_RESYNC_DONE:
                zwatch_sub_snapshot_print (stdout, client, options->json);
                fflush (stdout);
                whole = printed_one = true;
                deadline = zclock_mono () + timeout_ms;
                break;
            case ZWATCH_CHANGE_RESYNC_START:
                if (printed_one)
                    fprintf (stderr, PROGRAM ": starting over (%s): a new snapshot follows\n",
                             change->reason? change->reason: "?");
                whole = false;
                break;
            case ZWATCH_CHANGE_BROKER_UNREACHABLE:
            case ZWATCH_CHANGE_BROKER_BACK: {
                const char *endpoint = change->endpoint? change->endpoint: options->connects [0];
                const char *safe = zwatch_sub_format_text (self->format, endpoint,
                                                           strlen (endpoint));
                line = zwatch_sub_link_event (self->link, (uint16_t) change->code,
                                              (uint32_t) change->value, safe? safe: "?",
                                              zclock_mono (), &fatal);
                if (line)
                    fprintf (stderr, "%s\n", line);
                break;
            }
            case ZWATCH_CHANGE_GAP:
                if (whole)
                    fprintf (stderr, PROGRAM ": %s/%s pid %" PRIu64 ": %" PRIu64 " events lost "
                             "before seq %" PRIu64 "\n", change->host, change->svc, change->pid,
                             change->lost, change->seq);
                break;
            default:
                if (whole) {
                    int printed = s_snapshot_message (self, change);
                    if (printed < 0)
                        goto done;
                    if (printed > 0)
                        deadline = zclock_mono () + timeout_ms;
                }
        }
        if (fatal) {
            rc = EXIT_RUNTIME;
            break;
        }
    }
done:
    zwatch_client_destroy (&client);
    return rc;
}

int
main (int argc, char *argv [])
{
    options_t options;
    memset (&options, 0, sizeof (options));
    size_t slots = (size_t) argc + 1;
    options.connects = (const char **) calloc (slots, sizeof (char *));
    options.hosts = (const char **) calloc (slots, sizeof (char *));
    options.services = (const char **) calloc (slots, sizeof (char *));
    options.events = (const char **) calloc (slots, sizeof (char *));
    sub_t self = { &options, zwatch_sub_format_new (), NULL, NULL, 0, 0, ZWATCH_RATELIMIT_INIT };
    zsock_t *sub = NULL;
    zsock_t *monitor = NULL;           //  PAIR on sub's monitor: the links' states
    int rc = EXIT_RUNTIME;
    if (!options.connects || !options.hosts || !options.services || !options.events
    ||  !self.format) {
        fprintf (stderr, PROGRAM ": out of memory\n");
        goto cleanup;
    }
    rc = s_parse_options (&options, argc, argv);
    if (rc >= 0)
        goto cleanup;
    self.link = zwatch_sub_link_new (options.connect_count, LINK_GAP, options.curve.enabled,
                                     options.with_cert);
    if (!self.link) {
        fprintf (stderr, PROGRAM ": out of memory\n");
        rc = EXIT_RUNTIME;
        goto cleanup;
    }
    if (options.snapshot) {
        rc = s_run_snapshot (&self);
        goto cleanup;
    }
    //  Brokers of a pair publish the same events: print each once
    if (options.connect_count > 1 && !(self.dedup = zwatch_client_dedup_new (0))) {
        fprintf (stderr, PROGRAM ": out of memory\n");
        rc = EXIT_RUNTIME;
        goto cleanup;
    }

    //  CZMQ turns SIGINT and SIGTERM into zsys_interrupted (poll: EINTR)
    sub = zsock_new (ZMQ_SUB);
    if (!sub) {
        fprintf (stderr, PROGRAM ": cannot create a socket: %s\n", zmq_strerror (zmq_errno ()));
        rc = EXIT_RUNTIME;
        goto cleanup;
    }
    zsock_set_linger (sub, 0);
    //  Keys and monitor before connecting: they apply from the first handshake
    char monitor_endpoint [64];
    snprintf (monitor_endpoint, sizeof (monitor_endpoint), "inproc://zwatch-sub-monitor-%p",
              (void *) sub);
    if (zwatch_curve_apply (&options.curve, zsock_resolve (sub)) != 0
    ||  zmq_socket_monitor (zsock_resolve (sub), monitor_endpoint, ZWATCH_SUB_LINK_EVENTS) != 0
    ||  !(monitor = zsock_new (ZMQ_PAIR))
    ||  zsock_connect (monitor, "%s", monitor_endpoint) != 0) {
        fprintf (stderr, PROGRAM ": cannot set up the socket: %s\n", zmq_strerror (zmq_errno ()));
        rc = EXIT_RUNTIME;
        goto cleanup;
    }
    for (size_t index = 0; index < options.connect_count; index++)
        if (zmq_connect (zsock_resolve (sub), options.connects [index]) != 0) {
            int error = zmq_errno ();
            const char *endpoint = options.connects [index];
            const char *safe = zwatch_sub_format_text (self.format, endpoint, strlen (endpoint));
            fprintf (stderr, PROGRAM ": cannot connect to '%s': %s\n",
                     safe? safe: endpoint, zmq_strerror (error));
            rc = EXIT_USAGE;
            goto cleanup;
        }
    s_subscribe (sub, &options);
    rc = s_run (&self, sub, monitor);

cleanup:
    if (sub)
        zmq_socket_monitor (zsock_resolve (sub), NULL, 0);
    zsock_destroy (&monitor);
    zsock_destroy (&sub);
    explicit_bzero (&options.curve, sizeof (options.curve));
    zwatch_sub_format_destroy (&self.format);
    zwatch_sub_link_destroy (&self.link);
    zwatch_client_dedup_destroy (&self.dedup);
    free (options.connects);
    free (options.hosts);
    free (options.services);
    free (options.events);
    return rc;
}
