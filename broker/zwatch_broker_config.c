//  zwatch_broker_config: zwatch-broker's settings from flags and a ZPL file.
//
//  Precedence: built-in defaults, then the --config file, then flags. Any
//  --ingest flag replaces every ingest endpoint from the file and the
//  default (same for --publish, --allow-ip, --deny-ip). The file is ZPL
//  (zconfig_load), e.g.
//
//      broker
//          id = central
//          ingest = tcp://*:5570
//          publish = tcp://*:5571
//          snapshot = tcp://*:5572
//          history = 100000
//          fleet = 1
//          heartbeat-timeout = 10
//          stats-interval = 5
//          max-agents = 10000
//          verbose = 0
//          curve-secret = /etc/zwatch/broker.cert_secret
//          agents-allow = /etc/zwatch/agents
//          subscribers-allow = /etc/zwatch/subscribers
//          allow-ip = 10.0.0.7
//          parent = tcp://region:5570
//
//  with any number of ingest / publish / parent / allow-ip / deny-ip entries; see
//  broker/zwatch-broker.cfg.example. Every problem is one line on stderr,
//  "zwatch-broker: ...", and exit code 2.
//
//  The flags become a ZPL tree of their own, with the same keys; the two
//  merge into one tree (a key the flags give replaces the file's entries
//  for it), and each entry of that tree is checked and applied once, with
//  a child "(from)" that names where it came from for messages ("--id",
//  "'id' in FILE"; ZPL names have no parentheses, so a file cannot forge
//  one). The CURVE secret is loaded once, here; the broker uses our keys.

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include "zwatch_broker_config.h"
#include "zwatch_log.h"

#define PROGRAM "zwatch-broker"

//  One line: plain before the broker starts (a usage error), a log line
//  when a running broker reloads its settings (SIGHUP)
static void __attribute__ ((format (printf, 1, 2)))
s_error (const char *format, ...)
{
    char line [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof (line), format, args);
    va_end (args);
    if (zwatch_log_started ())
        zwatch_log_error ("%s", line);
    else
        fprintf (stderr, PROGRAM ": %s\n", line);
}

//  Long-only options get values beyond any char
enum {
    OPT_INGEST = 256, OPT_PUBLISH, OPT_ID, OPT_CONFIG, OPT_HEARTBEAT, OPT_STATS,
    OPT_MAX_AGENTS, OPT_VERSION, OPT_CURVE_SECRET, OPT_AGENTS_ALLOW, OPT_SUBSCRIBERS_ALLOW,
    OPT_ALLOW_IP, OPT_DENY_IP, OPT_SNAPSHOT, OPT_HISTORY, OPT_MAX_SOCKETS,
    OPT_MAX_CONNECTIONS, OPT_MAX_LINKS, OPT_LOG_FORMAT, OPT_NO_FLEET, OPT_PARENT, OPT_PARENT_SERVER_KEY, OPT_PARENT_CERT,
    OPT_PUBLISH_BATCHES
};

static const struct option s_options [] = {
    { "ingest",            required_argument, NULL, OPT_INGEST },
    { "publish",           required_argument, NULL, OPT_PUBLISH },
    { "publish-batches",   required_argument, NULL, OPT_PUBLISH_BATCHES },
    { "snapshot",          required_argument, NULL, OPT_SNAPSHOT },
    { "history",           required_argument, NULL, OPT_HISTORY },
    { "max-sockets",       required_argument, NULL, OPT_MAX_SOCKETS },
    { "max-connections",   required_argument, NULL, OPT_MAX_CONNECTIONS },
    { "max-links",         required_argument, NULL, OPT_MAX_LINKS },
    { "no-fleet",          no_argument,       NULL, OPT_NO_FLEET },
    { "id",                required_argument, NULL, OPT_ID },
    { "config",            required_argument, NULL, OPT_CONFIG },
    { "heartbeat-timeout", required_argument, NULL, OPT_HEARTBEAT },
    { "stats-interval",    required_argument, NULL, OPT_STATS },
    { "max-agents",        required_argument, NULL, OPT_MAX_AGENTS },
    { "curve-secret",      required_argument, NULL, OPT_CURVE_SECRET },
    { "agents-allow",      required_argument, NULL, OPT_AGENTS_ALLOW },
    { "subscribers-allow", required_argument, NULL, OPT_SUBSCRIBERS_ALLOW },
    { "allow-ip",          required_argument, NULL, OPT_ALLOW_IP },
    { "deny-ip",           required_argument, NULL, OPT_DENY_IP },
    { "log-format",        required_argument, NULL, OPT_LOG_FORMAT },
    { "parent",            required_argument, NULL, OPT_PARENT },
    { "parent-server-key", required_argument, NULL, OPT_PARENT_SERVER_KEY },
    { "parent-cert",       required_argument, NULL, OPT_PARENT_CERT },
    { "verbose",           no_argument,       NULL, 'v' },
    { "help",              no_argument,       NULL, 'h' },
    { "version",           no_argument,       NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 }
};

//  Longest value we accept for the two durations: about 11 days
#define SECONDS_MAX 1e6
#define MAX_AGENTS_MAX 100000000UL
#define HISTORY_MAX 10000000UL          //  events in the ring: about 3.5 GB

static void
s_usage (void)
{
    printf (
"Usage: " PROGRAM " [options]\n"
"Receive zwatch agent messages and republish them for subscribers.\n"
"\n"
"  --ingest EP               bind the agent ROUTER here (repeatable; tcp://, ipc://)\n"
"                            default " ZWATCH_DEFAULT_INGEST_BIND "\n"
"  --publish EP              bind the subscriber XPUB here (repeatable)\n"
"                            default " ZWATCH_DEFAULT_PUBLISH_BIND "\n"
"  --publish-batches EP      also publish the events several to a message on a PUB\n"
"                            here (repeatable; default none: PROTOCOL.md 6)\n"
"  --snapshot EP             bind the snapshot ROUTER here (repeatable)\n"
"                            default " ZWATCH_DEFAULT_SNAPSHOT_BIND "\n"
"  --history N               recent events kept for snapshots (default 100000, 0: none)\n"
"  --id NAME                 broker id in stats/<id> (default: host name)\n"
"  --config FILE             read settings from a ZPL file; flags override it\n"
"  --heartbeat-timeout SECS  silence before an agent is lost (default 10)\n"
"  --stats-interval SECS     seconds between stats messages (default 5)\n"
"  --max-agents N            agents tracked at most (default 10000)\n"
"  --max-sockets N           fleet model: sockets per agent (default 4096)\n"
"  --max-connections N       fleet model: connections per socket (default 10000)\n"
"  --max-links N             fleet model: links in the fleet (default 500000)\n"
"  --no-fleet                no fleet model and no history (ZPL: fleet = 0): events\n"
"                            are forwarded only; snapshots get the error no_fleet\n"
"  --curve-secret FILE       CURVE on ingest and publish with this certificate\n"
"                            secret file (zwatch-keygen); without it the broker is open\n"
"  --agents-allow DIR        only agents with a public certificate in DIR may send\n"
"  --subscribers-allow DIR   only subscribers with a public certificate in DIR may read\n"
"  --allow-ip ADDR           only this IP address may connect (repeatable)\n"
"  --deny-ip ADDR            this IP address may not connect (repeatable)\n"
"  -v, --verbose             log every agent up/gone/lost\n"
"  --parent EP               forward what the agents say to this broker's ingest\n"
"                            (repeatable: a parent pair)\n"
"  --parent-server-key KEY   CURVE to the parents, whose public key is KEY (Z85)\n"
"  --parent-cert FILE        our certificate secret file for the parents: a relay\n"
"                            certificate, in the parents' agents-allow directory\n"
"  --log-format FORMAT       text (default) or json: one object per line\n"
"  -h, --help                show this help\n"
"  --version                 show the version\n"
"\n"
"\n"
"Logs go to stderr, one line each: 2026-12-02T17:03:11.123+00:00 W zwatch-broker: ...\n"
"SIGHUP reloads the certificate directories and the reloadable settings\n"
"(--verbose, --heartbeat-timeout, --stats-interval, --agents-allow,\n"
"--subscribers-allow, --allow-ip, --deny-ip: flags and --config file); agents stay\n"
"connected.\n"
"Exit codes: 0 on SIGINT/SIGTERM, 1 runtime error (e.g. bind), 2 usage error.\n");
}

//  A duration in seconds: decimal, > 0, finite
static int
s_parse_seconds (const char *text, const char *what, double *value)
{
    char *end = NULL;
    double parsed = strtod (text, &end);
    if (end == text || *end || !isfinite (parsed) || parsed <= 0 || parsed > SECONDS_MAX) {
        s_error ("bad value for %s: '%s' (expected seconds > 0, e.g. 1.5)",
                 what, text);
        return -1;
    }
    *value = parsed;
    return 0;
}

static int
s_parse_count (const char *text, const char *what, size_t *value)
{
    char *end = NULL;
    errno = 0;
    unsigned long parsed = strtoul (text, &end, 10);
    if (end == text || *end || errno || *text == '-' || *text == '+'
    ||  parsed == 0 || parsed > MAX_AGENTS_MAX) {
        s_error ("bad value for %s: '%s' (expected an integer 1..%lu)",
                 what, text, MAX_AGENTS_MAX);
        return -1;
    }
    *value = (size_t) parsed;
    return 0;
}

static int
s_parse_bool (const char *text, const char *what, bool *value)
{
    if (streq (text, "1") || streq (text, "true") || streq (text, "yes"))
        *value = true;
    else
    if (streq (text, "0") || streq (text, "false") || streq (text, "no"))
        *value = false;
    else {
        s_error ("bad value for %s: '%s' (expected 0 or 1)", what, text);
        return -1;
    }
    return 0;
}

static int
s_parse_id (const char *text, const char *what, char *id)
{
    size_t len = strlen (text);
    if (!zwatch_name_valid (text, len, ZWATCH_HOST_MAX)) {
        s_error ("bad value for %s: '%s' (expected 1-%d of A-Z a-z 0-9 . _ -)",
                 what, text, ZWATCH_HOST_MAX);
        return -1;
    }
    memcpy (id, text, len + 1);
    return 0;
}

//  Only what we can bind: a transport we support, and something after it
static int
s_check_endpoint (const char *text, const char *what)
{
    if ((strncmp (text, "tcp://", 6) == 0 || strncmp (text, "ipc://", 6) == 0) && text [6])
        return 0;
    s_error ("bad endpoint for %s: '%s' (expected tcp://... or ipc://...)",
             what, text);
    return -1;
}

//  An IPv4 or IPv6 address as libzmq reports peers to ZAP: no names, no masks
static int
s_check_address (const char *text, const char *what)
{
    unsigned char address [sizeof (struct in6_addr)];
    if (inet_pton (AF_INET, text, address) == 1 || inet_pton (AF_INET6, text, address) == 1)
        return 0;
    s_error ("bad address for %s: '%s' (expected an IP address, e.g. 10.0.0.7)",
             what, text);
    return -1;
}

//  Replace a string setting; failing to is an error (never open by accident)
static int
s_set_string (char **field, const char *value)
{
    zstr_free (field);
    *field = strdup (value);
    if (*field)
        return 0;
    s_error ("out of memory");
    return -1;
}

//  Security settings that cannot work are usage errors, caught before
//  start. The CURVE keys are read here, once, for the broker to use.
static int
s_check_security (zwatch_broker_config_t *self)
{
    if (self->curve_secret) {
        char reason [400];
        if (zwatch_curve_load (self->curve_secret, self->curve_public_key,
                               self->curve_secret_key, reason, sizeof (reason)) != 0) {
            explicit_bzero (self->curve_secret_key, sizeof (self->curve_secret_key));
            s_error ("bad --curve-secret: %s", reason);
            return -1;
        }
    }
    //  The parent links: CURVE clients as agents are (zwatch_curve)
    if (self->parent_cert && !self->parent_server_key) {
        s_error ("--parent-cert needs --parent-server-key (the parents' public key)");
        return -1;
    }
    if (self->parent_server_key) {
        char reason [400];
        if (zwatch_curve_client (&self->parent_curve, self->parent_server_key, self->parent_cert,
                                 reason, sizeof (reason)) != 0) {
            s_error ("bad --parent-server-key / --parent-cert: %s", reason);
            return -1;
        }
    }
    const char *dirs [] = { self->agents_allow, self->subscribers_allow };
    const char *flags [] = { "--agents-allow", "--subscribers-allow" };
    for (size_t index = 0; index < 2; index++) {
        if (!dirs [index])
            continue;
        struct stat info;
        if (!self->curve_secret) {
            s_error ("%s needs --curve-secret (the broker's certificate)",
                     flags [index]);
            return -1;
        }
        if (stat (dirs [index], &info) != 0 || !S_ISDIR (info.st_mode)) {
            s_error ("bad %s '%s': not a directory", flags [index],
                     dirs [index]);
            return -1;
        }
    }
    if (zlistx_size (self->allow_ip) && zlistx_size (self->deny_ip)) {
        s_error ("--allow-ip and --deny-ip exclude each other "
                 "(with an allow list, every other address is denied)");
        return -1;
    }
    return 0;
}

static zlistx_t *
s_string_list (void)
{
    zlistx_t *list = zlistx_new ();
    if (list) {
        zlistx_set_duplicator (list, (czmq_duplicator *) strdup);
        zlistx_set_destructor (list, (czmq_destructor *) zstr_free);
    }
    return list;
}

//  One entry of the merged tree, checked and stored
static int
s_apply_id (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_parse_id (value, what, self->id);
}

//  Append value to a list setting (a copy)
static int
s_add (zlistx_t *list, const char *value)
{
    if (zlistx_add_end (list, (void *) value))
        return 0;
    s_error ("out of memory");
    return -1;
}

static int
s_apply_endpoint (const char *value, const char *what, zlistx_t *list)
{
    return s_check_endpoint (value, what) == 0? s_add (list, value): -1;
}

static int
s_apply_ingest (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_apply_endpoint (value, what, self->ingest);
}

static int
s_apply_parent (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_apply_endpoint (value, what, self->parent);
}

static int
s_apply_publish (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_apply_endpoint (value, what, self->publish);
}

static int
s_apply_publish_batches (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_apply_endpoint (value, what, self->publish_batches);
}

static int
s_apply_snapshot (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_apply_endpoint (value, what, self->snapshot);
}

//  0 is a valid history: no ring at all
static int
s_apply_history (zwatch_broker_config_t *self, const char *value, const char *what)
{
    char *end = NULL;
    errno = 0;
    unsigned long parsed = strtoul (value, &end, 10);
    if (end == value || *end || errno || *value == '-' || *value == '+'
    ||  parsed > HISTORY_MAX) {
        s_error ("bad value for %s: '%s' (expected an integer 0..%lu)",
                 what, value, HISTORY_MAX);
        return -1;
    }
    self->history = (size_t) parsed;
    return 0;
}

static int
s_apply_max_sockets (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_parse_count (value, what, &self->fleet_limits.sockets);
}

static int
s_apply_max_connections (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_parse_count (value, what, &self->fleet_limits.connections);
}

static int
s_apply_max_links (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_parse_count (value, what, &self->fleet_limits.links);
}

static int
s_apply_fleet (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_parse_bool (value, what, &self->fleet);
}

static int
s_apply_heartbeat (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_parse_seconds (value, what, &self->heartbeat_timeout);
}

static int
s_apply_stats (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_parse_seconds (value, what, &self->stats_interval);
}

static int
s_apply_max_agents (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_parse_count (value, what, &self->max_agents);
}

static int
s_apply_verbose (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_parse_bool (value, what, &self->verbose);
}

static int
s_apply_log_format (zwatch_broker_config_t *self, const char *value, const char *what)
{
    if (zwatch_log_format_parse (value, &self->log_format) == 0)
        return 0;
    s_error ("bad value for %s: '%s' (expected text or json)", what, value);
    return -1;
}

static int
s_apply_curve_secret (zwatch_broker_config_t *self, const char *value, const char *what)
{
    (void) what;
    return s_set_string (&self->curve_secret, value);
}

static int
s_apply_parent_server_key (zwatch_broker_config_t *self, const char *value, const char *what)
{
    (void) what;
    return s_set_string (&self->parent_server_key, value);
}

static int
s_apply_parent_cert (zwatch_broker_config_t *self, const char *value, const char *what)
{
    (void) what;
    return s_set_string (&self->parent_cert, value);
}

static int
s_apply_agents_allow (zwatch_broker_config_t *self, const char *value, const char *what)
{
    (void) what;
    return s_set_string (&self->agents_allow, value);
}

static int
s_apply_subscribers_allow (zwatch_broker_config_t *self, const char *value, const char *what)
{
    (void) what;
    return s_set_string (&self->subscribers_allow, value);
}

static int
s_apply_address (const char *value, const char *what, zlistx_t *list)
{
    return s_check_address (value, what) == 0? s_add (list, value): -1;
}

static int
s_apply_allow_ip (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_apply_address (value, what, self->allow_ip);
}

static int
s_apply_deny_ip (zwatch_broker_config_t *self, const char *value, const char *what)
{
    return s_apply_address (value, what, self->deny_ip);
}

//  Every key, in the file and as a flag (the same name); the option value
//  for getopt
typedef struct {
    const char *name;
    int option;
    int (*apply) (zwatch_broker_config_t *self, const char *value, const char *what);
} s_key_t;

static const s_key_t s_keys [] = {
    { "id",                 OPT_ID,                 s_apply_id },
    { "ingest",             OPT_INGEST,             s_apply_ingest },
    { "publish",            OPT_PUBLISH,            s_apply_publish },
    { "publish-batches",    OPT_PUBLISH_BATCHES,    s_apply_publish_batches },
    { "snapshot",           OPT_SNAPSHOT,           s_apply_snapshot },
    { "history",            OPT_HISTORY,            s_apply_history },
    { "max-sockets",        OPT_MAX_SOCKETS,        s_apply_max_sockets },
    { "max-connections",    OPT_MAX_CONNECTIONS,    s_apply_max_connections },
    { "max-links",          OPT_MAX_LINKS,          s_apply_max_links },
    { "fleet",              OPT_NO_FLEET,           s_apply_fleet },
    { "heartbeat-timeout",  OPT_HEARTBEAT,          s_apply_heartbeat },
    { "stats-interval",     OPT_STATS,              s_apply_stats },
    { "max-agents",         OPT_MAX_AGENTS,         s_apply_max_agents },
    { "verbose",            'v',                    s_apply_verbose },
    { "log-format",         OPT_LOG_FORMAT,         s_apply_log_format },
    { "curve-secret",       OPT_CURVE_SECRET,       s_apply_curve_secret },
    { "agents-allow",       OPT_AGENTS_ALLOW,       s_apply_agents_allow },
    { "subscribers-allow",  OPT_SUBSCRIBERS_ALLOW,  s_apply_subscribers_allow },
    { "allow-ip",           OPT_ALLOW_IP,           s_apply_allow_ip },
    { "deny-ip",            OPT_DENY_IP,            s_apply_deny_ip },
    { "parent",             OPT_PARENT,             s_apply_parent },
    { "parent-server-key",  OPT_PARENT_SERVER_KEY,  s_apply_parent_server_key },
    { "parent-cert",        OPT_PARENT_CERT,        s_apply_parent_cert },
    { NULL, 0, NULL }
};

#define FROM    "(from)"            //  child naming an entry's origin
#define UNUSED  "(unused)"          //  child of a file entry a flag overrides

static const s_key_t *
s_key_named (const char *name)
{
    for (const s_key_t *key = s_keys; key->name; key++)
        if (streq (key->name, name))
            return key;
    return NULL;
}

static const s_key_t *
s_key_of_option (int option)
{
    for (const s_key_t *key = s_keys; key->name; key++)
        if (key->option == option)
            return key;
    return NULL;
}

//  Add name = value under section, with where it came from (and whether a
//  flag overrides it)
static int
s_put (zconfig_t *section, const char *name, const char *value, const char *from,
       bool unused)
{
    zconfig_t *item = zconfig_new (name, section);
    zconfig_t *origin = item? zconfig_new (FROM, item): NULL;
    if (!origin || (unused && !zconfig_new (UNUSED, item))) {
        s_error ("out of memory");
        return -1;
    }
    zconfig_set_value (item, "%s", value);
    zconfig_set_value (origin, "%s", from);
    return 0;
}

//  Line number of a file's text, NULL-terminated in line; false if none
static bool
s_file_line (const char *path, long number, char *line, size_t size)
{
    FILE *file = fopen (path, "r");
    bool found = false;
    for (long index = 1; file && !found && fgets (line, (int) size, file); index++)
        found = index == number;
    if (file)
        fclose (file);
    return found;
}

//  zconfig_load, whose parse errors (zclock_log, on stdout, a line of its
//  own) become detail: "line 2: invalid syntax 'id = x'", with a word on
//  tabs, which ZPL does not take as indentation
static zconfig_t *
s_zpl_load (const char *path, char *detail, size_t size)
{
    fflush (stdout);
    FILE *capture = tmpfile ();
    int saved = capture? dup (STDOUT_FILENO): -1;
    if (saved != -1 && dup2 (fileno (capture), STDOUT_FILENO) == -1) {
        close (saved);
        saved = -1;
    }
    //  zconfig_load leaks its zfile when the text does not parse (CZMQ
    //  4.2.1): read the file ourselves and parse the chunk
    zchunk_t *chunk = zchunk_slurp (path, 0);
    zconfig_t *root = chunk? zconfig_chunk_load (chunk): NULL;
    zchunk_destroy (&chunk);
    if (saved != -1) {
        fflush (stdout);
        dup2 (saved, STDOUT_FILENO);
        close (saved);
        char said [400] = "", *text = NULL;
        rewind (capture);
        while (fgets (said, sizeof (said), capture))
            ;
        said [strcspn (said, "\n")] = 0;
        long number = 0;
        int skip = 0;
        if ((text = strstr (said, "(zconfig): ")))
            text += strlen ("(zconfig): ");
        if (text && sscanf (text, "(%ld) %n", &number, &skip) == 1 && skip > 0) {
            char line [256];
            bool tab = s_file_line (path, number, line, sizeof (line))
                    && line [strspn (line, " ")] == '\t';
            snprintf (detail, size, "line %ld: %s%s", number, text + skip,
                      tab? " (indented with a tab: ZPL indents with 4 spaces)": "");
        }
        else
        if (text)
            snprintf (detail, size, "%s", text);
    }
    if (capture)
        fclose (capture);
    return root;
}

//  The "broker" section of a ZPL file; NULL after one line on stderr
static zconfig_t *
s_load_file (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        s_error ("cannot read config file '%s': %s", path, strerror (errno));
        return NULL;
    }
    fclose (file);
    char detail [300] = "";
    zconfig_t *root = s_zpl_load (path, detail, sizeof (detail));
    if (!root) {
        s_error ("cannot parse config file '%s': %s", path, *detail? detail: "expected ZPL");
        return NULL;
    }
    for (zconfig_t *section = zconfig_child (root); section; section = zconfig_next (section)) {
        if (!streq (zconfig_name (section), "broker")) {
            s_error ("unknown section '%s' in config file '%s'",
                     zconfig_name (section), path);
            zconfig_destroy (&root);
            return NULL;
        }
        for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item))
            if (!s_key_named (zconfig_name (item))) {
                s_error ("unknown key 'broker/%s' in config file '%s'",
                         zconfig_name (item), path);
                zconfig_destroy (&root);
                return NULL;
            }
    }
    return root;
}

//  True if one of the first count entries of merged is called name
static bool
s_has (zconfig_t *merged, size_t count, const char *name)
{
    zconfig_t *item = zconfig_child (merged);
    for (size_t index = 0; item && index < count; index++, item = zconfig_next (item))
        if (streq (zconfig_name (item), name))
            return true;
    return false;
}

//  The file's entries after the flags' (flags first: they are checked in
//  the order given); those of a key a flag gives are marked unused
static int
s_merge_file (zconfig_t *merged, zconfig_t *file, const char *path)
{
    size_t flags = 0;
    for (zconfig_t *item = zconfig_child (merged); item; item = zconfig_next (item))
        flags++;
    int rc = 0;
    for (zconfig_t *section = zconfig_child (file); section && rc == 0;
         section = zconfig_next (section))
        for (zconfig_t *item = zconfig_child (section); item && rc == 0;
             item = zconfig_next (item)) {
            const char *name = zconfig_name (item);
            const char *value = zconfig_value (item);
            char from [PATH_MAX + 100];
            snprintf (from, sizeof (from), "'%s' in %s", name, path);
            rc = s_put (merged, name, value? value: "", from, s_has (merged, flags, name));
        }
    return rc;
}

static zwatch_broker_config_t *
    s_new_empty (void);

//  Check every entry of the merged tree and store those in use (a bad
//  value in the file is an error even where a flag overrides it)
static int
s_apply_all (zwatch_broker_config_t *self, zconfig_t *merged)
{
    zwatch_broker_config_t *unused = s_new_empty ();
    if (!unused)
        return -1;
    int rc = 0;
    for (zconfig_t *item = zconfig_child (merged); item && rc == 0; item = zconfig_next (item)) {
        const s_key_t *key = s_key_named (zconfig_name (item));
        assert (key);                   //  flags and file keys were both checked
        rc = key->apply (zconfig_locate (item, UNUSED)? unused: self, zconfig_value (item),
                         zconfig_get (item, FROM, "?"));
    }
    zwatch_broker_config_destroy (&unused);
    if (rc != 0)
        return -1;
    //  Only an empty list takes the default
    if (!zlistx_size (self->ingest) && s_add (self->ingest, ZWATCH_DEFAULT_INGEST_BIND) != 0)
        return -1;
    if (!zlistx_size (self->publish) && s_add (self->publish, ZWATCH_DEFAULT_PUBLISH_BIND) != 0)
        return -1;
    if (!zlistx_size (self->snapshot) && s_add (self->snapshot, ZWATCH_DEFAULT_SNAPSHOT_BIND) != 0)
        return -1;
    return 0;
}

//  The long name of an option value, for messages
static const char *
s_option_name (int value)
{
    for (const struct option *option = s_options; option->name; option++)
        if (option->val == value)
            return option->name;
    return "?";
}

//  Read the flags into merged ("broker" entries) and *config_path. Returns
//  0, 1 after --help or --version, or -1 after one line on stderr.
static int
s_read_flags (int argc, char *argv [], zconfig_t *merged, const char **config_path)
{
    opterr = 0;             //  we print our own one-line errors
    optind = 0;             //  full reset, in case someone parsed before us
    while (true) {
        int option = getopt_long (argc, argv, ":vh", s_options, NULL);
        if (option == -1)
            break;
        const s_key_t *key = s_key_of_option (option);
        if (key) {
            char from [64];
            snprintf (from, sizeof (from), "--%s", s_option_name (option));
            //  The two flags without a value: --verbose sets its key, --no-fleet clears its
            const char *value = option == 'v'? "1": option == OPT_NO_FLEET? "0": optarg;
            if (s_put (merged, key->name, value, from, false) != 0)
                return -1;
            continue;
        }
        switch (option) {
            case OPT_CONFIG:
                *config_path = optarg;
                break;
            case 'h':
                s_usage ();
                return 1;
            case OPT_VERSION:
                printf (PROGRAM " " ZWATCH_VERSION_STRING "\n");
                return 1;
            case ':':
                s_error ("option '%s' needs a value (see --help)",
                         argv [optind - 1]);
                return -1;
            default: {
                //  Unknown: a long one is whole in argv, a short one in optopt
                const char *arg = argv [optind - 1];
                if (optopt && arg [0] == '-' && arg [1] != '-')
                    s_error ("unknown option '-%c' (see --help)", optopt);
                else {
                    int len = (int) strcspn (arg, "=");
                    s_error ("unknown option '%.*s' (see --help)", len, arg);
                }
                return -1;
            }
        }
    }
    if (optind < argc) {
        s_error ("unexpected argument '%s' (see --help)", argv [optind]);
        return -1;
    }
    return 0;
}

//  Settings with empty lists and nothing else
static zwatch_broker_config_t *
s_new_empty (void)
{
    zwatch_broker_config_t *self = (zwatch_broker_config_t *) zmalloc (sizeof (zwatch_broker_config_t));
    if (self) {
        self->ingest = s_string_list ();
        self->publish = s_string_list ();
        self->snapshot = s_string_list ();
        self->allow_ip = s_string_list ();
        self->deny_ip = s_string_list ();
        self->parent = s_string_list ();
        self->publish_batches = s_string_list ();
        if (!self->ingest || !self->publish || !self->snapshot || !self->allow_ip || !self->deny_ip
        ||  !self->parent || !self->publish_batches)
            zwatch_broker_config_destroy (&self);
    }
    if (!self)
        s_error ("out of memory");
    return self;
}

zwatch_broker_config_t *
zwatch_broker_config_new (int argc, char *argv [], int *exit_code)
{
    *exit_code = ZWATCH_BROKER_EXIT_USAGE;
    zwatch_broker_config_t *self = s_new_empty ();
    zconfig_t *merged = zconfig_new ("broker", NULL);
    if (!self || !merged) {
        zconfig_destroy (&merged);
        zwatch_broker_config_destroy (&self);
        return NULL;
    }
    self->heartbeat_timeout = 10;
    self->stats_interval = 5;
    self->max_agents = 10000;
    self->history = 100000;
    self->fleet = true;
    zwatch_name_hostname (self->id, sizeof (self->id));

    const char *config_path = NULL;
    int rc = s_read_flags (argc, argv, merged, &config_path);
    if (rc == 1)
        *exit_code = 0;             //  --help, --version
    if (rc == 0 && config_path) {
        zconfig_t *file = s_load_file (config_path);
        rc = file? s_merge_file (merged, file, config_path): -1;
        zconfig_destroy (&file);
    }
    if (rc == 0)
        rc = s_apply_all (self, merged);
    zconfig_destroy (&merged);
    if (rc == 0 && !zwatch_name_valid (self->id, strlen (self->id), ZWATCH_HOST_MAX)) {
        s_error ("bad broker id '%s' (use --id)", self->id);
        rc = -1;
    }
    if (rc == 0)
        rc = s_check_security (self);
    if (rc != 0) {
        zwatch_broker_config_destroy (&self);
        return NULL;
    }
    self->argc = argc;
    self->argv = argv;
    *exit_code = 0;
    return self;
}

static bool
s_lists_equal (zlistx_t *one, zlistx_t *other)
{
    if (zlistx_size (one) != zlistx_size (other))
        return false;
    const char *first = (const char *) zlistx_first (one);
    const char *second = (const char *) zlistx_first (other);
    for (; first && second; first = (const char *) zlistx_next (one),
                            second = (const char *) zlistx_next (other))
        if (!streq (first, second))
            return false;
    return true;
}

static bool
s_strings_equal (const char *one, const char *other)
{
    return one == other || (one && other && streq (one, other));
}

//  Swap a field of two settings objects
#define SWAP(type, a, b) do { type swapped_ = (a); (a) = (b); (b) = swapped_; } while (0)

int
zwatch_broker_config_reload (zwatch_broker_config_t *self)
{
    int exit_code;
    zwatch_broker_config_t *fresh = zwatch_broker_config_new (self->argc, self->argv, &exit_code);
    if (!fresh) {
        zwatch_log_error ("reload: settings unchanged (the line above says why)");
        return -1;
    }
    char kept [300] = "";
    size_t used = 0;
    struct { const char *key; bool same; } fixed [] = {
        { "id",              streq (self->id, fresh->id) },
        { "ingest",          s_lists_equal (self->ingest, fresh->ingest) },
        { "publish",         s_lists_equal (self->publish, fresh->publish) },
        { "publish-batches", s_lists_equal (self->publish_batches, fresh->publish_batches) },
        { "snapshot",        s_lists_equal (self->snapshot, fresh->snapshot) },
        { "parent",          s_lists_equal (self->parent, fresh->parent) },
        { "fleet",           self->fleet == fresh->fleet },
        { "history",         self->history == fresh->history },
        { "max-sockets",     self->fleet_limits.sockets == fresh->fleet_limits.sockets },
        { "max-connections", self->fleet_limits.connections == fresh->fleet_limits.connections },
        { "max-links",       self->fleet_limits.links == fresh->fleet_limits.links },
        { "max-agents",      self->max_agents == fresh->max_agents },
        { "curve-secret",    s_strings_equal (self->curve_secret, fresh->curve_secret)
                          && streq (self->curve_public_key, fresh->curve_public_key) },
        { "log-format",      self->log_format == fresh->log_format },
        { "parent-server-key", s_strings_equal (self->parent_server_key, fresh->parent_server_key) },
        { "parent-cert",     s_strings_equal (self->parent_cert, fresh->parent_cert) }
    };
    for (size_t index = 0; index < sizeof (fixed) / sizeof (fixed [0]); index++)
        if (!fixed [index].same && used < sizeof (kept))
            used += (size_t) snprintf (kept + used, sizeof (kept) - used, "%s%s",
                                       used? ", ": "", fixed [index].key);
    //  IP lists need the ZAP handler, which only starts with the broker
    bool zap = self->curve_secret || zlistx_size (self->allow_ip) || zlistx_size (self->deny_ip);
    bool lists = zlistx_size (fresh->allow_ip) || zlistx_size (fresh->deny_ip);
    if (!zap && lists && used < sizeof (kept))
        used += (size_t) snprintf (kept + used, sizeof (kept) - used, "%s%s", used? ", ": "",
                                   "allow-ip/deny-ip (the broker started without them)");
    if (used)
        zwatch_log_warning ("reload: changed, kept until a restart: %s", kept);
    self->verbose = fresh->verbose;
    self->heartbeat_timeout = fresh->heartbeat_timeout;
    self->stats_interval = fresh->stats_interval;
    SWAP (char *, self->agents_allow, fresh->agents_allow);
    SWAP (char *, self->subscribers_allow, fresh->subscribers_allow);
    if (zap || !lists) {
        SWAP (zlistx_t *, self->allow_ip, fresh->allow_ip);
        SWAP (zlistx_t *, self->deny_ip, fresh->deny_ip);
    }
    zwatch_broker_config_destroy (&fresh);
    return 0;
}

void
zwatch_broker_config_destroy (zwatch_broker_config_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_broker_config_t *self = *self_p;
        zlistx_destroy (&self->ingest);
        zlistx_destroy (&self->publish);
        zlistx_destroy (&self->snapshot);
        zlistx_destroy (&self->allow_ip);
        zlistx_destroy (&self->deny_ip);
        zlistx_destroy (&self->parent);
        zlistx_destroy (&self->publish_batches);
        zstr_free (&self->curve_secret);
        zstr_free (&self->parent_server_key);
        zstr_free (&self->parent_cert);
        explicit_bzero (&self->parent_curve, sizeof (self->parent_curve));
        zstr_free (&self->agents_allow);
        zstr_free (&self->subscribers_allow);
        explicit_bzero (self->curve_secret_key, sizeof (self->curve_secret_key));
        free (self);
        *self_p = NULL;
    }
}
