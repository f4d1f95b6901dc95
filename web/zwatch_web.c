/*  zwatch-web: the fleet dashboard and a Prometheus endpoint.

    A subscriber like any other: libzwatch-client holds the fleet's state
    (snapshot + merged feed), and an HTTP server (libmicrohttpd) serves it
    as a page, JSON, Server-Sent Events and Prometheus metrics. One thread
    runs both: it polls the client's fd and the server's, applies every
    change (model, event streams), then serves what is ready, so handlers
    read the state without locks and a slow browser costs only its own
    bounded queue. A crash or a slow browser never touches the broker.
    Exit codes: 0 (SIGINT / SIGTERM), 1 runtime error (port taken), 2 usage.
*/

#include <czmq.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include "zwatch.h"
#include "zwatch_client.h"
#include "zwatch_log.h"
#include "zwatch_web_http.h"
#include "zwatch_web_model.h"
#include "zwatch_web_sse.h"

#define PROGRAM         "zwatch-web"
#define EXIT_RUNTIME    1
#define EXIT_USAGE      2
#define LISTEN_DEFAULT  "127.0.0.1:5580"
#define TOKEN_MAX       256

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int signum)
{
    (void) signum;
    s_stop = 1;
}

static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "Usage: " PROGRAM " [OPTION]...\n"
        "Serve the fleet of a zwatch broker: a live page, JSON, events and Prometheus metrics.\n"
        "\n"
        "  --listen ADDR:PORT  HTTP address (default " LISTEN_DEFAULT "; [::1]:PORT for IPv6)\n"
        "  --connect EP        broker publish endpoint (default " ZWATCH_CLIENT_PUBLISH_DEFAULT ")\n"
        "  --snapshot EP       broker snapshot endpoint (default " ZWATCH_CLIENT_SNAPSHOT_DEFAULT ")\n"
        "  --server-key KEY    CURVE: the broker's public key (default $ZWATCH_CURVE_SERVER_KEY)\n"
        "  --cert FILE         CURVE: our secret certificate (default $ZWATCH_CURVE_CERT)\n"
        "  --token-file FILE   ask every request for this bearer token (Authorization:\n"
        "                      Bearer, or ?token= for the page); /healthz needs none\n"
        "  --config FILE       ZPL file with the same keys (listen, connect, ...),\n"
        "                      connection-timeout (seconds, default 10), and tls-cert,\n"
        "                      tls-key (PEM files: HTTPS); flags win\n"
        "  -v, --verbose       log every change and libmicrohttpd's messages\n"
        "  --help              this text\n"
        "  --version           show the version and exit\n"
        "\n"
        "Pages: / (dashboard), /api/fleet, /api/events (?host=&service=&event=),\n"
        "/api/history, /healthz, /metrics.\n"
        "Exit codes: 0 stopped by SIGINT/SIGTERM, 1 runtime error, 2 usage error.\n");
}

static int
s_usage_error (const char *text, const char *arg)
{
    fprintf (stderr, PROGRAM ": ");
    fprintf (stderr, text, arg);
    fprintf (stderr, " (try --help)\n");
    return EXIT_USAGE;
}

//  "ADDR:PORT" or "[ADDR6]:PORT" into config; *loopback set
static int
s_parse_listen (const char *text, zwatch_web_http_config_t *config, bool *loopback)
{
    char host [256];
    const char *port;
    if (text [0] == '[') {
        const char *close = strchr (text, ']');
        if (!close || close [1] != ':' || (size_t) (close - text) >= sizeof (host))
            return -1;
        snprintf (host, sizeof (host), "%.*s", (int) (close - text - 1), text + 1);
        port = close + 2;
    }
    else {
        const char *colon = strrchr (text, ':');
        if (!colon || (size_t) (colon - text) >= sizeof (host) || strchr (text, ':') != colon)
            return -1;
        snprintf (host, sizeof (host), "%.*s", (int) (colon - text), text);
        port = colon + 1;
    }
    char *end;
    long number = strtol (port, &end, 10);
    if (!*host || !*port || *end || number < 0 || number > 65535)
        return -1;
    struct addrinfo hints = { .ai_flags = AI_NUMERICSERV | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
    struct addrinfo *found = NULL;
    if (getaddrinfo (host, port, &hints, &found) != 0 || !found)
        return -1;
    memcpy (&config->address, found->ai_addr, found->ai_addrlen);
    config->address_size = found->ai_addrlen;
    if (found->ai_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) found->ai_addr;
        *loopback = (ntohl (in->sin_addr.s_addr) >> 24) == 127;
    }
    else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) found->ai_addr;
        *loopback = IN6_IS_ADDR_LOOPBACK (&in6->sin6_addr);
    }
    freeaddrinfo (found);
    return 0;
}

//  The token: the file's first line, 1-256 printable characters
static char *
s_read_token (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return NULL;
    char line [TOKEN_MAX + 2] = "";
    bool read = fgets (line, sizeof (line), file) != NULL;
    fclose (file);
    line [strcspn (line, "\r\n")] = 0;
    if (!read || !*line || strlen (line) > TOKEN_MAX)
        return NULL;
    for (const char *at = line; *at; at++)
        if (*at <= 0x20 || *at >= 0x7f)
            return NULL;
    return strdup (line);
}

typedef struct {
    const char *listen, *publish, *snapshot, *server_key, *cert, *token_file;
    const char *tls_cert, *tls_key;             //  config file only
    unsigned timeout;
    bool verbose;
} s_settings_t;

//  A PEM file's text (at most 1 MiB), or NULL
static char *
s_read_pem (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return NULL;
    char *text = (char *) calloc (1, 1024 * 1024 + 1);
    size_t size = text? fread (text, 1, 1024 * 1024 + 1, file): 0;
    fclose (file);
    if (size == 0 || size > 1024 * 1024) {
        free (text);
        return NULL;
    }
    return text;
}

//  The config file's keys, where no flag gave them
static int
s_read_config (zconfig_t *root, s_settings_t *settings, const s_settings_t *flags)
{
    struct { const char *key; const char **value; const char *flag; } keys [] = {
        { "listen", &settings->listen, flags->listen },
        { "connect", &settings->publish, flags->publish },
        { "snapshot", &settings->snapshot, flags->snapshot },
        { "server-key", &settings->server_key, flags->server_key },
        { "cert", &settings->cert, flags->cert },
        { "token-file", &settings->token_file, flags->token_file },
    };
    for (size_t index = 0; index < sizeof (keys) / sizeof (keys [0]); index++) {
        const char *value = zconfig_get (root, keys [index].key, NULL);
        if (value && !keys [index].flag)
            *keys [index].value = value;
    }
    const char *timeout = zconfig_get (root, "connection-timeout", NULL);
    if (timeout) {
        char *end;
        long seconds = strtol (timeout, &end, 10);
        if (*end || seconds < 1 || seconds > 3600)
            return s_usage_error ("invalid connection-timeout '%s' in the config file (1-3600 s)",
                                  timeout);
        settings->timeout = (unsigned) seconds;
    }
    settings->tls_cert = zconfig_get (root, "tls-cert", NULL);
    settings->tls_key = zconfig_get (root, "tls-key", NULL);
    if (!settings->tls_cert != !settings->tls_key)
        return s_usage_error ("%s", "tls-cert and tls-key go together in the config file");
    const char *verbose = zconfig_get (root, "verbose", NULL);
    if (verbose && atoi (verbose))
        settings->verbose = true;
    for (zconfig_t *child = zconfig_child (root); child; child = zconfig_next (child)) {
        const char *name = zconfig_name (child);
        if (strcmp (name, "listen") && strcmp (name, "connect") && strcmp (name, "snapshot")
        &&  strcmp (name, "server-key") && strcmp (name, "cert") && strcmp (name, "token-file")
        &&  strcmp (name, "connection-timeout") && strcmp (name, "verbose")
        &&  strcmp (name, "tls-cert") && strcmp (name, "tls-key"))
            return s_usage_error ("unknown key '%s' in the config file", name);
    }
    return 0;
}

//  One change: the model, the event streams, the log
static void
s_take (zwatch_web_model_t *model, zwatch_web_sse_t *sse, zwatch_web_buf_t *json,
        const zwatch_change_t *change, bool verbose)
{
    zwatch_web_model_apply (model, change);
    if (change->kind == ZWATCH_CHANGE_HISTORY)
        return;                         //  /api/history has it; streams carry what is new
    zwatch_web_buf_clear (json);
    if (zwatch_web_model_change_json (change, json) == 0) {
        zwatch_web_sse_send (sse, change, json->data);
        if (verbose && change->kind != ZWATCH_CHANGE_STATS)
            zwatch_log_info ("%s", json->data);
    }
    if (change->kind == ZWATCH_CHANGE_RESYNC_START)
        zwatch_log_notice ("feed: starting over (%s)", change->reason? change->reason: "?");
    else
    if (change->kind == ZWATCH_CHANGE_RESYNC_DONE)
        zwatch_log_notice ("feed: whole (%zu agents, %zu links)",
                           zwatch_client_agents (zwatch_web_model_client (model)),
                           zwatch_client_links (zwatch_web_model_client (model)));
    else
    if (change->kind == ZWATCH_CHANGE_BROKER_UNREACHABLE)
        zwatch_log_warning ("feed: broker unreachable (%s)",
                            change->reason? change->reason: "connection lost");
}

static int
s_serve (zwatch_client_t *client, const zwatch_web_http_config_t *http_config, const char *listen)
{
    zwatch_web_model_t *model = zwatch_web_model_new (client);
    zwatch_web_sse_t *sse = zwatch_web_sse_new ();
    if (!model || !sse) {
        zwatch_web_model_destroy (&model);
        zwatch_web_sse_destroy (&sse);
        return EXIT_RUNTIME;
    }
    //  Keepalives well inside the idle timeout, so that streams stay open
    int keepalive = (int) http_config->timeout * 1000 / 2;
    zwatch_web_sse_set_keepalive (sse, keepalive < ZWATCH_WEB_SSE_KEEPALIVE_MS?
                                  keepalive: ZWATCH_WEB_SSE_KEEPALIVE_MS);
    zwatch_web_http_t *http = zwatch_web_http_new (http_config, model, sse);
    if (!http) {
        //  libmicrohttpd said why just before; errno only for what it names well
        bool named = errno == EADDRINUSE || errno == EACCES || errno == EADDRNOTAVAIL;
        zwatch_log_error ("cannot listen on %s%s%s", listen, named? ": ": "",
                          named? strerror (errno): "");
        zwatch_web_model_destroy (&model);
        zwatch_web_sse_destroy (&sse);
        return EXIT_RUNTIME;
    }
    char address [300];
    snprintf (address, sizeof (address), "%s", listen);
    char *colon = strrchr (address, ':');
    if (colon)
        snprintf (colon + 1, sizeof (address) - (size_t) (colon + 1 - address), "%d",
                  zwatch_web_http_port (http));
    zwatch_log_notice ("serving %s://%s/", http_config->tls_cert? "https": "http", address);
    zwatch_web_buf_t json;
    zwatch_web_buf_init (&json, 64 * 1024);
    while (!s_stop) {
        struct pollfd fds [2] = {
            { .fd = zwatch_client_fd (client), .events = POLLIN },
            { .fd = zwatch_web_http_fd (http), .events = POLLIN },
        };
        int timeout = zwatch_web_http_timeout (http);
        if (timeout < 0 || timeout > 200)
            timeout = 200;              //  the client's timers want us every 500 ms
        poll (fds, 2, timeout);
        const zwatch_change_t *change;
        while ((change = zwatch_client_next (client, 0)))
            s_take (model, sse, &json, change, http_config->verbose);
        zwatch_web_sse_tick (sse);
        zwatch_web_http_run (http);
    }
    zwatch_log_notice ("stopping");
    zwatch_web_http_destroy (&http);
    zwatch_web_sse_destroy (&sse);
    zwatch_web_model_destroy (&model);
    zwatch_web_buf_free (&json);
    return 0;
}

int
main (int argc, char *argv [])
{
    enum { OPT_LISTEN = 1, OPT_CONNECT, OPT_SNAPSHOT, OPT_KEY, OPT_CERT, OPT_TOKEN, OPT_CONFIG,
           OPT_HELP, OPT_VERSION };
    static const struct option options [] = {
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "connect", required_argument, NULL, OPT_CONNECT },
        { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
        { "server-key", required_argument, NULL, OPT_KEY },
        { "cert", required_argument, NULL, OPT_CERT },
        { "token-file", required_argument, NULL, OPT_TOKEN },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 }
    };
    s_settings_t flags = { 0 }, settings = { .timeout = 10 };
    const char *config_path = NULL;
    int option;
    opterr = 0;
    while ((option = getopt_long (argc, argv, "v", options, NULL)) != -1) {
        switch (option) {
            case OPT_LISTEN: flags.listen = optarg; break;
            case OPT_CONNECT: flags.publish = optarg; break;
            case OPT_SNAPSHOT: flags.snapshot = optarg; break;
            case OPT_KEY: flags.server_key = optarg; break;
            case OPT_CERT: flags.cert = optarg; break;
            case OPT_TOKEN: flags.token_file = optarg; break;
            case OPT_CONFIG: config_path = optarg; break;
            case 'v': flags.verbose = true; break;
            case OPT_HELP:
                s_usage (stdout);
                return 0;
            case OPT_VERSION:
                printf (PROGRAM " " ZWATCH_VERSION_STRING "\n");
                return 0;
            default:
                return s_usage_error ("unknown or incomplete option '%s'", argv [optind - 1]);
        }
    }
    if (optind < argc)
        return s_usage_error ("unexpected argument '%s'", argv [optind]);
    settings.listen = flags.listen;
    settings.publish = flags.publish;
    settings.snapshot = flags.snapshot;
    settings.server_key = flags.server_key;
    settings.cert = flags.cert;
    settings.token_file = flags.token_file;
    settings.verbose = flags.verbose;
    zconfig_t *config = NULL;
    if (config_path) {
        if (!zsys_file_exists (config_path))
            return s_usage_error ("cannot read config file '%s'", config_path);
        config = zconfig_load (config_path);
        if (!config)
            return s_usage_error ("cannot parse config file '%s'", config_path);
        int rc = s_read_config (config, &settings, &flags);
        if (rc) {
            zconfig_destroy (&config);
            return rc;
        }
    }
    if (!settings.server_key)
        settings.server_key = getenv ("ZWATCH_CURVE_SERVER_KEY");
    if (!settings.cert)
        settings.cert = getenv ("ZWATCH_CURVE_CERT");
    if (!settings.listen)
        settings.listen = LISTEN_DEFAULT;

    int rc = 0;
    zwatch_web_http_config_t http_config = { .timeout = settings.timeout,
                                             .verbose = settings.verbose };
    bool loopback = true;
    char *token = NULL, *tls_cert = NULL, *tls_key = NULL;
    zwatch_client_t *client = NULL;
    if (s_parse_listen (settings.listen, &http_config, &loopback) != 0)
        rc = s_usage_error ("invalid --listen '%s' (want ADDR:PORT, e.g. 127.0.0.1:5580)",
                            settings.listen);
    if (!rc && settings.token_file && !(token = s_read_token (settings.token_file)))
        rc = s_usage_error ("cannot read a token from '%s' (one line, 1-256 printable "
                            "characters)", settings.token_file);
    if (!rc && settings.tls_cert && !(tls_cert = s_read_pem (settings.tls_cert)))
        rc = s_usage_error ("cannot read the TLS certificate '%s'", settings.tls_cert);
    if (!rc && settings.tls_key && !(tls_key = s_read_pem (settings.tls_key)))
        rc = s_usage_error ("cannot read the TLS key '%s'", settings.tls_key);
    http_config.tls_cert = tls_cert;
    http_config.tls_key = tls_key;
    if (!rc) {
        client = zwatch_client_new (settings.publish, settings.snapshot);
        if (!client)
            rc = s_usage_error ("invalid endpoint '%s' (want transport://address)",
                                settings.publish && !strstr (settings.publish, "://")?
                                settings.publish: settings.snapshot);
    }
    if (!rc && ((settings.server_key && *settings.server_key) || (settings.cert && *settings.cert))) {
        if (!settings.server_key || !*settings.server_key)
            rc = s_usage_error ("%s", "--cert needs --server-key");
        else
        if (zwatch_client_set_curve (client, settings.server_key,
                                     settings.cert && *settings.cert? settings.cert: NULL) != 0)
            rc = s_usage_error ("%s", zwatch_client_error (client));
    }
    if (!rc) {
        zwatch_log_start (PROGRAM, ZWATCH_LOG_TEXT);
        FILE *stream = zwatch_log_zsys_stream ();
        if (stream)
            zsys_set_logstream (stream);
        if (!loopback && !token)
            zwatch_log_warning ("listening on %s, not loopback, without --token-file: anyone who "
                                "can reach it can read the fleet", settings.listen);
        http_config.token = token;
        //  /api/history starts with the broker's recent events
        zwatch_client_set_history (client, ZWATCH_WEB_HISTORY_MAX);
        if (zwatch_client_start (client) != 0) {
            zwatch_log_error ("%s", zwatch_client_error (client));
            rc = EXIT_RUNTIME;
        }
    }
    if (!rc) {
        signal (SIGINT, s_on_signal);
        signal (SIGTERM, s_on_signal);
        signal (SIGPIPE, SIG_IGN);
        rc = s_serve (client, &http_config, settings.listen);
    }
    zwatch_client_destroy (&client);
    zconfig_destroy (&config);
    free (token);
    free (tls_cert);
    free (tls_key);
    return rc;
}
