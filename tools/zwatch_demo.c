/*  zwatch-demo: a small service that does what real services do to their
    sockets (bind, connect, talk, fail, close) on a loop, with the zwatch
    agent watching every socket. It is the "service" of the README demo.

    Usage: zwatch-demo [--broker EP] [--interval MSECS] [--cycles N]
*/

#include <getopt.h>
#include <czmq.h>
#include "zwatch.h"

typedef struct {
    const char *broker;
    int interval;
    int cycles;         //  0: until interrupted
} options_t;

static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "usage: zwatch-demo [--broker EP] [--interval MSECS] [--cycles N]\n"
        "A service that makes socket events for a zwatch broker to show.\n"
        "  --broker EP       broker ingest endpoint (default $ZWATCH_BROKER or %s)\n"
        "  --interval MSECS  pause between cycles (default 1000)\n"
        "  --cycles N        stop after N cycles (default: until Ctrl-C)\n"
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
    if (zsock_bind (squatter, "tcp://127.0.0.1:%d", port) == -1)
        zsys_debug ("second-server: bind failed as intended");
    zclock_sleep (300);

    zsock_set_linger (client, 0);
    zsock_set_linger (retrier, 0);
    zsock_destroy (&client);
    zsock_destroy (&retrier);
    zsock_destroy (&squatter);
    zclock_sleep (50);
    zsock_destroy (&server);
}

int
main (int argc, char *argv [])
{
    options_t options = { NULL, 1000, 0 };
    int rc = s_parse (&options, argc, argv);
    if (rc)
        return rc;
    void *ctx = zsys_init ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, options.broker);
    if (!agent) {
        fprintf (stderr, "zwatch-demo: cannot start the agent: %s\n", zmq_strerror (errno));
        return 1;
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
