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
#include "zwatch_tool_client.h"

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
        ZWATCH_TOOL_CLIENT_HELP
        "  --json           one JSON object per line\n"
        "  --watch          after the state, print every change as it comes\n"
        "  --history N      events: the broker's last N events of the whole fleet, of\n"
        "                   which those of --host / --service are printed (default 100)\n"
        "  --timeout SEC    exit 1 if no snapshot came in SEC seconds (default 10)\n"
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
    enum { OPT_JSON = 1, OPT_WATCH, OPT_TIMEOUT, OPT_HISTORY, OPT_HELP, OPT_VERSION };
    static const struct option options [] = {
        ZWATCH_TOOL_CLIENT_OPTIONS,
        { "json", no_argument, NULL, OPT_JSON },
        { "watch", no_argument, NULL, OPT_WATCH },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "history", required_argument, NULL, OPT_HISTORY },
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 }
    };
    zwatch_tool_client_t *flags = zwatch_tool_client_new (PROGRAM);
    if (!flags)
        return EXIT_RUNTIME;
    bool json = false, watch = false;
    double timeout = 10;
    long history = 100;
    int option, rc = -1;                //  -1: go on
    opterr = 0;
    while (rc == -1 && (option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        char *end;
        if (zwatch_tool_client_has (option)) {
            if (zwatch_tool_client_take (flags, option, optarg) != 0)
                rc = EXIT_USAGE;
            continue;
        }
        switch (option) {
            case OPT_JSON: json = true; break;
            case OPT_WATCH: watch = true; break;
            case OPT_TIMEOUT:
                timeout = strtod (optarg, &end);
                if (*end || !(timeout > 0) || timeout > 1e6)
                    rc = s_usage_error ("invalid --timeout '%s' (want seconds > 0)", optarg);
                break;
            case OPT_HISTORY:
                history = strtol (optarg, &end, 10);
                if (*end || history <= 0 || history > 10000000)
                    rc = s_usage_error ("invalid --history '%s' (want a positive integer)", optarg);
                break;
            case OPT_HELP:
                s_usage (stdout);
                rc = 0;
                break;
            case OPT_VERSION:
                printf (PROGRAM " " ZWATCH_VERSION_STRING "\n");
                rc = 0;
                break;
            default:
                rc = s_usage_error ("unknown or incomplete option '%s'", argv [optind - 1]);
        }
    }
    const char *view = "links";
    if (rc == -1 && optind < argc)
        view = argv [optind++];
    if (rc == -1 && optind < argc)
        rc = s_usage_error ("unexpected argument '%s'", argv [optind]);
    if (rc == -1 && strcmp (view, "agents") && strcmp (view, "sockets") && strcmp (view, "links")
    &&  strcmp (view, "events"))
        rc = s_usage_error ("unknown view '%s' (agents, sockets, links or events)", view);
    bool events = strcmp (view, "events") == 0;
    zwatch_client_t *client = rc == -1? zwatch_tool_client_make (flags): NULL;
    zwatch_tool_client_destroy (&flags);
    if (rc != -1)
        return rc;
    if (!client)
        return EXIT_USAGE;
    rc = 0;
    if (events)
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
