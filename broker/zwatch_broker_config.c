//  zwatch_broker_config: zwatch-broker's settings from flags and a ZPL file.
//
//  Precedence: built-in defaults, then the --config file, then flags. Any
//  --ingest flag replaces every ingest endpoint from the file and the
//  default (same for --publish). The file is ZPL (zconfig_load), e.g.
//
//      broker
//          id = central
//          ingest = tcp://*:5570
//          publish = tcp://*:5571
//          heartbeat-timeout = 10
//          stats-interval = 5
//          max-agents = 10000
//          verbose = 0
//          curve-secret = /etc/zwatch/broker.cert_secret
//          agents-allow = /etc/zwatch/agents
//          subscribers-allow = /etc/zwatch/subscribers
//          allow-ip = 10.0.0.7
//
//  with any number of ingest / publish / allow-ip / deny-ip entries; see
//  broker/zwatch-broker.cfg.example. Every problem is one line on stderr,
//  "zwatch-broker: ...", and exit code 2.

#include <getopt.h>
#include <math.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include "zwatch_broker_config.h"
#include "zwatch_curve.h"

#define PROGRAM "zwatch-broker"

//  Long-only options get values beyond any char
enum {
    OPT_INGEST = 256, OPT_PUBLISH, OPT_ID, OPT_CONFIG, OPT_HEARTBEAT, OPT_STATS,
    OPT_MAX_AGENTS, OPT_VERSION, OPT_CURVE_SECRET, OPT_AGENTS_ALLOW, OPT_SUBSCRIBERS_ALLOW,
    OPT_ALLOW_IP, OPT_DENY_IP
};

static const struct option s_options [] = {
    { "ingest",            required_argument, NULL, OPT_INGEST },
    { "publish",           required_argument, NULL, OPT_PUBLISH },
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
    { "verbose",           no_argument,       NULL, 'v' },
    { "help",              no_argument,       NULL, 'h' },
    { "version",           no_argument,       NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 }
};

//  Longest value we accept for the two durations: about 11 days
#define SECONDS_MAX 1e6
#define MAX_AGENTS_MAX 100000000UL

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
"  --id NAME                 broker id in stats/<id> (default: host name)\n"
"  --config FILE             read settings from a ZPL file; flags override it\n"
"  --heartbeat-timeout SECS  silence before an agent is lost (default 10)\n"
"  --stats-interval SECS     seconds between stats messages (default 5)\n"
"  --max-agents N            agents tracked at most (default 10000)\n"
"  --curve-secret FILE       CURVE on ingest and publish with this certificate\n"
"                            secret file (zwatch-keygen); without it the broker is open\n"
"  --agents-allow DIR        only agents with a public certificate in DIR may send\n"
"  --subscribers-allow DIR   only subscribers with a public certificate in DIR may read\n"
"  --allow-ip ADDR           only this IP address may connect (repeatable)\n"
"  --deny-ip ADDR            this IP address may not connect (repeatable)\n"
"  -v, --verbose             log every agent up/gone/lost\n"
"  -h, --help                show this help\n"
"  --version                 show the version\n"
"\n"
"Exit codes: 0 on SIGINT/SIGTERM, 1 runtime error (e.g. bind), 2 usage error.\n");
}

//  A duration in seconds: decimal, > 0, finite
static int
s_parse_seconds (const char *text, const char *what, double *value)
{
    char *end = NULL;
    double parsed = strtod (text, &end);
    if (end == text || *end || !isfinite (parsed) || parsed <= 0 || parsed > SECONDS_MAX) {
        fprintf (stderr, PROGRAM ": bad value for %s: '%s' (expected seconds > 0, e.g. 1.5)\n",
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
        fprintf (stderr, PROGRAM ": bad value for %s: '%s' (expected an integer 1..%lu)\n",
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
        fprintf (stderr, PROGRAM ": bad value for %s: '%s' (expected 0 or 1)\n", what, text);
        return -1;
    }
    return 0;
}

static int
s_parse_id (const char *text, const char *what, char *id)
{
    size_t len = strlen (text);
    if (!zwatch_name_valid (text, len, ZWATCH_HOST_MAX)) {
        fprintf (stderr, PROGRAM ": bad value for %s: '%s' (expected 1-%d of A-Z a-z 0-9 . _ -)\n",
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
    fprintf (stderr, PROGRAM ": bad endpoint for %s: '%s' (expected tcp://... or ipc://...)\n",
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
    fprintf (stderr, PROGRAM ": bad address for %s: '%s' (expected an IP address, e.g. 10.0.0.7)\n",
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
    fprintf (stderr, PROGRAM ": out of memory\n");
    return -1;
}

//  Security settings that cannot work are usage errors, caught before start
static int
s_check_security (zwatch_broker_config_t *self)
{
    if (self->curve_secret) {
        char public_key [ZWATCH_CURVE_KEY_LEN + 1], secret_key [ZWATCH_CURVE_KEY_LEN + 1];
        char reason [400];
        int rc = zwatch_curve_load (self->curve_secret, public_key, secret_key, reason,
                                    sizeof (reason));
        explicit_bzero (secret_key, sizeof (secret_key));
        if (rc != 0) {
            fprintf (stderr, PROGRAM ": bad --curve-secret: %s\n", reason);
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
            fprintf (stderr, PROGRAM ": %s needs --curve-secret (the broker's certificate)\n",
                     flags [index]);
            return -1;
        }
        if (stat (dirs [index], &info) != 0 || !S_ISDIR (info.st_mode)) {
            fprintf (stderr, PROGRAM ": bad %s '%s': not a directory\n", flags [index],
                     dirs [index]);
            return -1;
        }
    }
    if (zlistx_size (self->allow_ip) && zlistx_size (self->deny_ip)) {
        fprintf (stderr, PROGRAM ": --allow-ip and --deny-ip exclude each other "
                 "(with an allow list, every other address is denied)\n");
        return -1;
    }
    return 0;
}

static zlistx_t *
s_endpoint_list (void)
{
    zlistx_t *list = zlistx_new ();
    if (list) {
        zlistx_set_duplicator (list, (czmq_duplicator *) strdup);
        zlistx_set_destructor (list, (czmq_destructor *) zstr_free);
    }
    return list;
}

//  Apply the "broker" section of a ZPL file
static int
s_load_file (zwatch_broker_config_t *self, const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, PROGRAM ": cannot read config file '%s': %s\n", path, strerror (errno));
        return -1;
    }
    fclose (file);
    zconfig_t *root = zconfig_load (path);
    if (!root) {
        fprintf (stderr, PROGRAM ": cannot parse config file '%s' (expected ZPL)\n", path);
        return -1;
    }
    int rc = 0;
    bool ingest_seen = false, publish_seen = false;
    for (zconfig_t *section = zconfig_child (root); section && rc == 0;
         section = zconfig_next (section)) {
        if (!streq (zconfig_name (section), "broker")) {
            fprintf (stderr, PROGRAM ": unknown section '%s' in config file '%s'\n",
                     zconfig_name (section), path);
            rc = -1;
            break;
        }
        for (zconfig_t *item = zconfig_child (section); item && rc == 0;
             item = zconfig_next (item)) {
            const char *name = zconfig_name (item);
            const char *value = zconfig_value (item);
            char what [200];
            snprintf (what, sizeof (what), "'%s' in %s", name, path);
            if (streq (name, "id"))
                rc = s_parse_id (value, what, self->id);
            else
            if (streq (name, "ingest") || streq (name, "publish")) {
                bool ingest = streq (name, "ingest");
                zlistx_t *list = ingest? self->ingest: self->publish;
                bool *seen = ingest? &ingest_seen: &publish_seen;
                rc = s_check_endpoint (value, what);
                if (rc == 0 && !*seen) {
                    zlistx_purge (list);        //  file entries replace the default
                    *seen = true;
                }
                if (rc == 0)
                    zlistx_add_end (list, (void *) value);
            }
            else
            if (streq (name, "heartbeat-timeout"))
                rc = s_parse_seconds (value, what, &self->heartbeat_timeout);
            else
            if (streq (name, "stats-interval"))
                rc = s_parse_seconds (value, what, &self->stats_interval);
            else
            if (streq (name, "max-agents"))
                rc = s_parse_count (value, what, &self->max_agents);
            else
            if (streq (name, "verbose"))
                rc = s_parse_bool (value, what, &self->verbose);
            else
            if (streq (name, "curve-secret"))
                rc = s_set_string (&self->curve_secret, value);
            else
            if (streq (name, "agents-allow"))
                rc = s_set_string (&self->agents_allow, value);
            else
            if (streq (name, "subscribers-allow"))
                rc = s_set_string (&self->subscribers_allow, value);
            else
            if (streq (name, "allow-ip") || streq (name, "deny-ip")) {
                rc = s_check_address (value, what);
                if (rc == 0)
                    zlistx_add_end (streq (name, "allow-ip")? self->allow_ip: self->deny_ip,
                                    (void *) value);
            }
            else {
                fprintf (stderr, PROGRAM ": unknown key 'broker/%s' in config file '%s'\n",
                         name, path);
                rc = -1;
            }
        }
    }
    zconfig_destroy (&root);
    return rc;
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

zwatch_broker_config_t *
zwatch_broker_config_new (int argc, char *argv [], int *exit_code)
{
    *exit_code = ZWATCH_BROKER_EXIT_USAGE;
    zwatch_broker_config_t *self = (zwatch_broker_config_t *) zmalloc (sizeof (zwatch_broker_config_t));
    if (!self)
        return NULL;
    self->ingest = s_endpoint_list ();
    self->publish = s_endpoint_list ();
    self->allow_ip = s_endpoint_list ();
    self->deny_ip = s_endpoint_list ();
    zlistx_t *flag_ingest = s_endpoint_list ();
    zlistx_t *flag_publish = s_endpoint_list ();
    zlistx_t *flag_allow_ip = s_endpoint_list ();
    zlistx_t *flag_deny_ip = s_endpoint_list ();
    if (!self->ingest || !self->publish || !self->allow_ip || !self->deny_ip
    ||  !flag_ingest || !flag_publish || !flag_allow_ip || !flag_deny_ip) {
        zlistx_destroy (&flag_ingest);
        zlistx_destroy (&flag_publish);
        zlistx_destroy (&flag_allow_ip);
        zlistx_destroy (&flag_deny_ip);
        zwatch_broker_config_destroy (&self);
        return NULL;
    }
    zlistx_add_end (self->ingest, ZWATCH_DEFAULT_INGEST_BIND);
    zlistx_add_end (self->publish, ZWATCH_DEFAULT_PUBLISH_BIND);
    self->heartbeat_timeout = 10;
    self->stats_interval = 5;
    self->max_agents = 10000;
    char hostname [256] = "";
    if (gethostname (hostname, sizeof (hostname) - 1) != 0)
        hostname [0] = 0;
    zwatch_name_sanitize (self->id, sizeof (self->id), hostname);

    //  Flags are checked as we read them but applied after the file
    const char *config_path = NULL, *flag_id = NULL, *flag_heartbeat = NULL;
    const char *flag_stats = NULL, *flag_max_agents = NULL;
    const char *flag_curve_secret = NULL, *flag_agents_allow = NULL, *flag_subscribers_allow = NULL;
    bool flag_verbose = false, done = false;
    int rc = 0;
    opterr = 0;             //  we print our own one-line errors
    optind = 0;             //  full reset, in case someone parsed before us
    while (rc == 0 && !done) {
        int option = getopt_long (argc, argv, ":vh", s_options, NULL);
        if (option == -1)
            break;
        char what [64];
        snprintf (what, sizeof (what), "--%s", s_option_name (option));
        switch (option) {
            case OPT_INGEST:
            case OPT_PUBLISH:
                rc = s_check_endpoint (optarg, what);
                if (rc == 0)
                    zlistx_add_end (option == OPT_INGEST? flag_ingest: flag_publish, optarg);
                break;
            case OPT_ID:
                flag_id = optarg;
                rc = s_parse_id (optarg, what, self->id);
                break;
            case OPT_CONFIG:
                config_path = optarg;
                break;
            case OPT_HEARTBEAT:
                flag_heartbeat = optarg;
                rc = s_parse_seconds (optarg, what, &self->heartbeat_timeout);
                break;
            case OPT_STATS:
                flag_stats = optarg;
                rc = s_parse_seconds (optarg, what, &self->stats_interval);
                break;
            case OPT_MAX_AGENTS:
                flag_max_agents = optarg;
                rc = s_parse_count (optarg, what, &self->max_agents);
                break;
            case OPT_CURVE_SECRET:
                flag_curve_secret = optarg;
                break;
            case OPT_AGENTS_ALLOW:
                flag_agents_allow = optarg;
                break;
            case OPT_SUBSCRIBERS_ALLOW:
                flag_subscribers_allow = optarg;
                break;
            case OPT_ALLOW_IP:
            case OPT_DENY_IP:
                rc = s_check_address (optarg, what);
                if (rc == 0)
                    zlistx_add_end (option == OPT_ALLOW_IP? flag_allow_ip: flag_deny_ip, optarg);
                break;
            case 'v':
                flag_verbose = true;
                break;
            case 'h':
                s_usage ();
                *exit_code = 0;
                done = true;
                break;
            case OPT_VERSION:
                printf (PROGRAM " " ZWATCH_VERSION_STRING "\n");
                *exit_code = 0;
                done = true;
                break;
            case ':':
                fprintf (stderr, PROGRAM ": option '%s' needs a value (see --help)\n",
                         argv [optind - 1]);
                rc = -1;
                break;
            default: {
                //  Unknown: a long one is whole in argv, a short one in optopt
                const char *arg = argv [optind - 1];
                if (optopt && arg [0] == '-' && arg [1] != '-')
                    fprintf (stderr, PROGRAM ": unknown option '-%c' (see --help)\n", optopt);
                else {
                    int len = (int) strcspn (arg, "=");
                    fprintf (stderr, PROGRAM ": unknown option '%.*s' (see --help)\n", len, arg);
                }
                rc = -1;
                break;
            }
        }
    }
    if (rc == 0 && !done && optind < argc) {
        fprintf (stderr, PROGRAM ": unexpected argument '%s' (see --help)\n", argv [optind]);
        rc = -1;
    }
    //  File, then flags again on top of it
    if (rc == 0 && !done && config_path)
        rc = s_load_file (self, config_path);
    if (rc == 0 && !done && config_path) {
        if (flag_id)
            rc |= s_parse_id (flag_id, "--id", self->id);
        if (flag_heartbeat)
            rc |= s_parse_seconds (flag_heartbeat, "--heartbeat-timeout", &self->heartbeat_timeout);
        if (flag_stats)
            rc |= s_parse_seconds (flag_stats, "--stats-interval", &self->stats_interval);
        if (flag_max_agents)
            rc |= s_parse_count (flag_max_agents, "--max-agents", &self->max_agents);
    }
    if (flag_verbose)
        self->verbose = true;
    if (zlistx_size (flag_ingest)) {
        zlistx_destroy (&self->ingest);
        self->ingest = flag_ingest;
        flag_ingest = NULL;
    }
    if (zlistx_size (flag_publish)) {
        zlistx_destroy (&self->publish);
        self->publish = flag_publish;
        flag_publish = NULL;
    }
    zlistx_destroy (&flag_ingest);
    zlistx_destroy (&flag_publish);
    //  Security flags: the same precedence (lists replace the file's)
    if (flag_curve_secret)
        rc |= s_set_string (&self->curve_secret, flag_curve_secret);
    if (flag_agents_allow)
        rc |= s_set_string (&self->agents_allow, flag_agents_allow);
    if (flag_subscribers_allow)
        rc |= s_set_string (&self->subscribers_allow, flag_subscribers_allow);
    if (zlistx_size (flag_allow_ip)) {
        zlistx_destroy (&self->allow_ip);
        self->allow_ip = flag_allow_ip;
        flag_allow_ip = NULL;
    }
    if (zlistx_size (flag_deny_ip)) {
        zlistx_destroy (&self->deny_ip);
        self->deny_ip = flag_deny_ip;
        flag_deny_ip = NULL;
    }
    zlistx_destroy (&flag_allow_ip);
    zlistx_destroy (&flag_deny_ip);
    if (rc == 0 && !done && !zwatch_name_valid (self->id, strlen (self->id), ZWATCH_HOST_MAX)) {
        fprintf (stderr, PROGRAM ": bad broker id '%s' (use --id)\n", self->id);
        rc = -1;
    }
    if (rc == 0 && !done)
        rc = s_check_security (self);
    if (rc != 0 || done) {
        zwatch_broker_config_destroy (&self);
        return NULL;
    }
    *exit_code = 0;
    return self;
}

void
zwatch_broker_config_destroy (zwatch_broker_config_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_broker_config_t *self = *self_p;
        zlistx_destroy (&self->ingest);
        zlistx_destroy (&self->publish);
        zlistx_destroy (&self->allow_ip);
        zlistx_destroy (&self->deny_ip);
        zstr_free (&self->curve_secret);
        zstr_free (&self->agents_allow);
        zstr_free (&self->subscribers_allow);
        free (self);
        *self_p = NULL;
    }
}
