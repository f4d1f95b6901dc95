/*  zwatch-demo: a small service that does what real services do to their
    sockets (bind, connect, talk, fail, close) on a loop, with the zwatch
    agent watching every socket. With --story it lives one short life
    instead, saying what it does before each step, at --pace: it is the
    "service" of tools/demo.sh.

    Usage: zwatch-demo [--broker EP] [--interval MSECS] [--cycles N]
           zwatch-demo --story [--pace MSECS] [--broker EP]
*/

#include <getopt.h>
#include <stdarg.h>
#include <czmq.h>
#include "zwatch.h"

typedef struct {
    const char *broker;
    int interval;
    int cycles;         //  0: until interrupted
    bool story;         //  one life, told
    int pace;           //  msecs between the story's steps
} options_t;

static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "usage: zwatch-demo [--broker EP] [--interval MSECS] [--cycles N]\n"
        "       zwatch-demo --story [--pace MSECS] [--broker EP]\n"
        "A service that makes socket events for a zwatch broker to show.\n"
        "  --broker EP       broker ingest endpoint (default $ZWATCH_BROKER or %s)\n"
        "  --interval MSECS  pause between cycles (default 1000)\n"
        "  --cycles N        stop after N cycles (default: until Ctrl-C)\n"
        "  --story           live one short life (start, connect, a peer that comes\n"
        "                    and goes, a bind that fails, a retry loop, shutdown),\n"
        "                    saying each step on stdout first\n"
        "  --pace MSECS      pause after each step of the story (default 2500)\n"
        "  -h, --help        show this help\n"
        "  --version         show the version\n",
        ZWATCH_DEFAULT_INGEST);
}

static int
s_parse (options_t *options, int argc, char *argv [])
{
    static struct option longopts [] = {
        { "broker", required_argument, NULL, 'b' },
        { "interval", required_argument, NULL, 'i' },
        { "cycles", required_argument, NULL, 'c' },
        { "story", no_argument, NULL, 's' },
        { "pace", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    int option;
    char *end;
    opterr = 0;
    while ((option = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
        switch (option) {
            case 'b': options->broker = optarg; break;
            case 'i':
                options->interval = (int) strtol (optarg, &end, 10);
                if (*end || options->interval < 0) {
                    fprintf (stderr, "zwatch-demo: --interval needs msecs >= 0, not '%s'\n", optarg);
                    return 2;
                }
                break;
            case 'c':
                options->cycles = (int) strtol (optarg, &end, 10);
                if (*end || options->cycles < 0) {
                    fprintf (stderr, "zwatch-demo: --cycles needs a count >= 0, not '%s'\n", optarg);
                    return 2;
                }
                break;
            case 's': options->story = true; break;
            case 'p':
                options->pace = (int) strtol (optarg, &end, 10);
                if (*end || options->pace < 0) {
                    fprintf (stderr, "zwatch-demo: --pace needs msecs >= 0, not '%s'\n", optarg);
                    return 2;
                }
                break;
            case 'h': s_usage (stdout); exit (0);
            case 'V': printf ("zwatch-demo " ZWATCH_VERSION_STRING "\n"); exit (0);
            default:
                fprintf (stderr, "zwatch-demo: unknown option '%s' (see --help)\n", argv [optind - 1]);
                return 2;
        }
    }
    return 0;
}

//  One cycle: a server and a client talk, a client retries a dead port,
//  a second server fails to bind the first one's port, then all close
static void
s_cycle (zwatch_agent_t *agent, int cycle)
{
    zsock_t *server = zsock_new (ZMQ_ROUTER);
    zsock_t *client = zsock_new (ZMQ_DEALER);
    zsock_t *retrier = zsock_new (ZMQ_DEALER);
    zsock_t *squatter = zsock_new (ZMQ_REP);
    zwatch_agent_watch (agent, zsock_resolve (server), "api-server");
    zwatch_agent_watch (agent, zsock_resolve (client), "api-client");
    zwatch_agent_watch (agent, zsock_resolve (retrier), "backup-link");
    zwatch_agent_watch (agent, zsock_resolve (squatter), "second-server");

    int port = zsock_bind (server, "tcp://127.0.0.1:*");
    zsock_connect (client, "tcp://127.0.0.1:%d", port);
    zstr_sendf (client, "hello %d", cycle);
    zmsg_t *request = zmsg_recv (server);
    zmsg_destroy (&request);

    //  Port 1 on loopback: nobody listens there, so libzmq keeps retrying
    zsock_set_reconnect_ivl (retrier, 200);
    zsock_connect (retrier, "tcp://127.0.0.1:1");
    //  Same port as the server: BIND_FAILED with EADDRINUSE
    zsock_bind (squatter, "tcp://127.0.0.1:%d", port);     //  fails, as intended
    zclock_sleep (300);

    zsock_set_linger (client, 0);
    zsock_set_linger (retrier, 0);
    zsock_destroy (&client);
    zsock_destroy (&retrier);
    zsock_destroy (&squatter);
    zclock_sleep (50);
    zsock_destroy (&server);
}

//  One step of the story: say it, flush (the feed is printed by another
//  process into the same terminal), let it happen, then wait for the feed
static void
s_step (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    printf ("\n>> ");
    vprintf (format, args);
    printf ("\n");
    va_end (args);
    fflush (stdout);
}

//  The pace between steps; Ctrl-C cuts it short
static void
s_pause (const options_t *options)
{
    for (int slept = 0; slept < options->pace && !zsys_interrupted; slept += 50)
        zclock_sleep (options->pace - slept < 50? options->pace - slept: 50);
}

//  A service's life in six steps, each told before it happens
static void
s_story (zwatch_agent_t *agent, const options_t *options)
{
    s_step ("1/6 The service starts: its server socket 'api' binds a port.");
    zsock_t *server = zsock_new (ZMQ_ROUTER);
    zwatch_agent_watch (agent, zsock_resolve (server), "api");
    //  libzmq's own ephemeral port (CZMQ's '*' tries 49152 on, failing binds)
    zmq_bind (zsock_resolve (server), "tcp://127.0.0.1:*");
    char *endpoint = zsock_last_endpoint (server);
    char *colon = endpoint? strrchr (endpoint, ':'): NULL;
    int port = colon? atoi (colon + 1): 1;
    zstr_free (&endpoint);
    s_pause (options);

    s_step ("2/6 A client socket 'client' connects to it and says hello.");
    zsock_t *client = zsock_new (ZMQ_DEALER);
    zwatch_agent_watch (agent, zsock_resolve (client), "client");
    zsock_connect (client, "tcp://127.0.0.1:%d", port);
    zstr_send (client, "hello");
    zmsg_t *request = zmsg_recv (server);
    zmsg_destroy (&request);
    s_pause (options);

    s_step ("3/6 A peer 'peer' comes, then goes: the server sees it leave.");
    zsock_t *peer = zsock_new (ZMQ_DEALER);
    zwatch_agent_watch (agent, zsock_resolve (peer), "peer");
    zsock_connect (peer, "tcp://127.0.0.1:%d", port);
    zstr_send (peer, "hi");
    request = zmsg_recv (server);
    zmsg_destroy (&request);
    zsock_set_linger (peer, 0);
    zsock_destroy (&peer);
    s_pause (options);

    s_step ("4/6 A second server 'squatter' tries the same port: the bind fails.");
    zsock_t *squatter = zsock_new (ZMQ_REP);
    zwatch_agent_watch (agent, zsock_resolve (squatter), "squatter");
    zsock_bind (squatter, "tcp://127.0.0.1:%d", port);     //  EADDRINUSE, as intended
    s_pause (options);

    s_step ("5/6 A link 'backup' dials a port nobody listens on: it retries.");
    zsock_t *backup = zsock_new (ZMQ_DEALER);
    zwatch_agent_watch (agent, zsock_resolve (backup), "backup");
    zsock_set_reconnect_ivl (backup, options->pace / 3 > 100? options->pace / 3: 100);
    zsock_set_reconnect_ivl_max (backup, 0);
    zsock_connect (backup, "tcp://127.0.0.1:1");
    s_pause (options);

    s_step ("6/6 The service shuts down: every socket closes, the agent says bye.");
    zsock_set_linger (client, 0);
    zsock_set_linger (backup, 0);
    zsock_destroy (&backup);
    zsock_destroy (&squatter);
    zsock_destroy (&client);
    zsock_destroy (&server);
}

int
main (int argc, char *argv [])
{
    options_t options = { NULL, 1000, 0, false, 2500 };
    int rc = s_parse (&options, argc, argv);
    if (rc)
        return rc;
    void *ctx = zsys_init ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, options.broker);
    if (!agent) {
        fprintf (stderr, "zwatch-demo: cannot start the agent: %s\n", zmq_strerror (errno));
        return 1;
    }
    if (options.story) {
        s_story (agent, &options);
        zwatch_agent_destroy (&agent);
        return 0;
    }
    zsys_info ("zwatch-demo: host %s, service %s, cycling every %d ms (Ctrl-C stops)",
               zwatch_agent_host (agent), zwatch_agent_service (agent), options.interval);
    for (int cycle = 1; !zsys_interrupted && (options.cycles == 0 || cycle <= options.cycles); cycle++) {
        s_cycle (agent, cycle);
        zclock_sleep (options.interval);
    }
    zwatch_agent_stats_t stats;
    zwatch_agent_stats (agent, &stats);
    zsys_info ("zwatch-demo: events read %llu, sent %llu, dropped %llu",
               (unsigned long long) stats.read, (unsigned long long) stats.sent,
               (unsigned long long) stats.dropped);
    zwatch_agent_destroy (&agent);
    return 0;
}
