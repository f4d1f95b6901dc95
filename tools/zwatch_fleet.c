/*  zwatch-fleet: the fleet's current state, printed (the fleet's `ss`).

    Built on libzwatch-client: it takes one snapshot merged with the feed
    and prints agents, sockets or links (default) as aligned lines or JSON
    lines; with --watch it then prints every change as it comes. Exit
    codes as zwatch-sub: 0 ok (printed; --watch: SIGINT / SIGTERM), 1
    runtime error (no snapshot within --timeout, a refused key), 2 usage.
*/

#include <czmq.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zwatch.h"
#include "zwatch_client.h"
#include "zwatch_fleet_view.h"

#define PROGRAM         "zwatch-fleet"
#define EXIT_RUNTIME    1
#define EXIT_USAGE      2

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
        "Usage: " PROGRAM " [agents|sockets|links|events] [OPTION]...\n"
        "Print the fleet's current state from a zwatch broker (default: links).\n"
        "\n"
        "  --connect EP     broker publish endpoint (default " ZWATCH_CLIENT_PUBLISH_DEFAULT ")\n"
        "  --snapshot EP    broker snapshot endpoint (default " ZWATCH_CLIENT_SNAPSHOT_DEFAULT ")\n"
        "  --host H         only agents of host H (repeatable)\n"
        "  --service S      only agents of service S (repeatable)\n"
        "  --json           one JSON object per line\n"
        "  --watch          after the state, print every change as it comes\n"
        "  --history N      events: the broker's last N events of the whole fleet, of\n"
        "                   which those of --host / --service are printed (default 100)\n"
        "  --timeout SEC    exit 1 if no snapshot came in SEC seconds (default 10)\n"
        "  --server-key KEY CURVE: the broker's public key (default $ZWATCH_CURVE_SERVER_KEY)\n"
        "  --cert FILE      CURVE: our secret certificate (default $ZWATCH_CURVE_CERT)\n"
        "  --help           this text\n"
        "  --version        show the version and exit\n"
        "\n"
        "Exit codes: 0 ok, 1 runtime error (no snapshot in time, key refused), 2 usage error.\n");
}

static int
s_usage_error (const char *text, const char *arg)
{
    fprintf (stderr, PROGRAM ": ");
    fprintf (stderr, text, arg);
    fprintf (stderr, " (try --help)\n");
    return EXIT_USAGE;
}

int
main (int argc, char *argv [])
{
    enum { OPT_CONNECT = 1, OPT_SNAPSHOT, OPT_HOST, OPT_SERVICE, OPT_JSON, OPT_WATCH,
           OPT_TIMEOUT, OPT_KEY, OPT_CERT, OPT_HISTORY, OPT_HELP, OPT_VERSION };
    static const struct option options [] = {
        { "connect", required_argument, NULL, OPT_CONNECT },
        { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
        { "host", required_argument, NULL, OPT_HOST },
        { "service", required_argument, NULL, OPT_SERVICE },
        { "json", no_argument, NULL, OPT_JSON },
        { "watch", no_argument, NULL, OPT_WATCH },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "server-key", required_argument, NULL, OPT_KEY },
        { "cert", required_argument, NULL, OPT_CERT },
        { "history", required_argument, NULL, OPT_HISTORY },
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 }
    };
    const char *publish = NULL, *snapshot = NULL;
    const char *server_key = getenv ("ZWATCH_CURVE_SERVER_KEY"), *cert = getenv ("ZWATCH_CURVE_CERT");
    //  At most argc of each: on the stack, so that no exit path leaks them
    const char *hosts [argc], *services [argc];
    size_t host_count = 0, service_count = 0;
    bool json = false, watch = false;
    double timeout = 10;
    long history = 100;
    int option;
    opterr = 0;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        char *end;
        switch (option) {
            case OPT_CONNECT: publish = optarg; break;
            case OPT_SNAPSHOT: snapshot = optarg; break;
            case OPT_HOST:
                if (!zwatch_name_valid (optarg, strlen (optarg), ZWATCH_HOST_MAX))
                    return s_usage_error ("invalid host name '%s' (1-64 characters of A-Za-z0-9._-)",
                                          optarg);
                hosts [host_count++] = optarg;
                break;
            case OPT_SERVICE:
                if (!zwatch_name_valid (optarg, strlen (optarg), ZWATCH_SVC_MAX))
                    return s_usage_error ("invalid service name '%s' (1-64 characters of A-Za-z0-9._-)",
                                          optarg);
                services [service_count++] = optarg;
                break;
            case OPT_JSON: json = true; break;
            case OPT_WATCH: watch = true; break;
            case OPT_TIMEOUT:
                timeout = strtod (optarg, &end);
                if (*end || !(timeout > 0) || timeout > 1e6)
                    return s_usage_error ("invalid --timeout '%s' (want seconds > 0)", optarg);
                break;
            case OPT_HISTORY:
                history = strtol (optarg, &end, 10);
                if (*end || history <= 0 || history > 10000000)
                    return s_usage_error ("invalid --history '%s' (want a positive integer)",
                                          optarg);
                break;
            case OPT_KEY: server_key = optarg; break;
            case OPT_CERT: cert = optarg; break;
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
    const char *view = "links";
    if (optind < argc)
        view = argv [optind++];
    if (optind < argc)
        return s_usage_error ("unexpected argument '%s'", argv [optind]);
    if (strcmp (view, "agents") && strcmp (view, "sockets") && strcmp (view, "links")
    &&  strcmp (view, "events"))
        return s_usage_error ("unknown view '%s' (agents, sockets, links or events)", view);
    bool events = strcmp (view, "events") == 0;

    zwatch_client_t *client = zwatch_client_new (publish, snapshot);
    if (!client)
        return s_usage_error ("invalid endpoint '%s' (want transport://address)",
                              publish && !strstr (publish, "://")? publish: snapshot);
    int rc = 0;
    if ((server_key && *server_key) || (cert && *cert)) {
        if (!server_key || !*server_key)
            rc = s_usage_error ("%s", "--cert needs --server-key");
        else
        if (zwatch_client_set_curve (client, server_key, cert && *cert? cert: NULL) != 0)
            rc = s_usage_error ("%s", zwatch_client_error (client));
    }
    for (size_t index = 0; index < host_count && !rc; index++)
        zwatch_client_add_host_filter (client, hosts [index]);
    for (size_t index = 0; index < service_count && !rc; index++)
        zwatch_client_add_service_filter (client, services [index]);
    if (!rc && events)
        zwatch_client_set_history (client, (size_t) history);
    zwatch_sub_format_t *format = zwatch_sub_format_new ();
    if (!rc && zwatch_client_start (client) != 0) {
        fprintf (stderr, PROGRAM ": %s\n", zwatch_client_error (client));
        rc = EXIT_RUNTIME;
    }
    if (rc || !format) {
        zwatch_client_destroy (&client);
        zwatch_sub_format_destroy (&format);
        return rc? rc: EXIT_RUNTIME;
    }
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);

    //  The state, once whole
    int64_t deadline = zclock_mono () + (int64_t) (timeout * 1000);
    bool synced = false;
    const char *refused = NULL;
    while (!synced && !s_stop && zclock_mono () < deadline) {
        const zwatch_change_t *change = zwatch_client_next (client, 100);
        if (change && change->kind == ZWATCH_CHANGE_RESYNC_DONE)
            synced = true;
        if (change && change->kind == ZWATCH_CHANGE_HISTORY)
            zwatch_fleet_view_event (stdout, change, json, format);
        if (change && change->kind == ZWATCH_CHANGE_BROKER_UNREACHABLE && change->reason
        &&  (strcmp (change->reason, "auth") == 0 || strcmp (change->reason, "protocol") == 0))
            refused = change->reason;
    }
    if (!synced) {
        if (!s_stop)
            fprintf (stderr, PROGRAM ": %s\n", refused?
                     "the broker refused the handshake (check --server-key and --cert)":
                     "no snapshot from the broker in time (is it running? --connect, --snapshot)");
        zwatch_client_destroy (&client);
        zwatch_sub_format_destroy (&format);
        return s_stop? 0: EXIT_RUNTIME;
    }
    if (events)
        ;                           //  printed as they came
    else
    if (strcmp (view, "agents") == 0)
        zwatch_fleet_view_agents (stdout, client, json);
    else
    if (strcmp (view, "sockets") == 0)
        zwatch_fleet_view_sockets (stdout, client, json);
    else
        zwatch_fleet_view_links (stdout, client, json);
    fflush (stdout);
    while (watch && !s_stop) {
        const zwatch_change_t *change = zwatch_client_next (client, 200);
        if (change && events && change->kind == ZWATCH_CHANGE_EVENT) {
            zwatch_fleet_view_event (stdout, change, json, format);
            fflush (stdout);
        }
        else
        if (change && !events && change->kind != ZWATCH_CHANGE_STATS) {
            zwatch_fleet_view_change (stdout, change, json);
            fflush (stdout);
        }
    }
    zwatch_client_destroy (&client);
    zwatch_sub_format_destroy (&format);
    return 0;
}
