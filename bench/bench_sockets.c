/*  bench_sockets: what making and closing a socket costs next to many live
    ones, with zwatch and without.

    Three runs, each a child process of its own:
    1. plain: zmq_socket + zmq_close of a DEALER, no zwatch.
    2. preload: the same under LD_PRELOAD of libzwatch-preload.so (with
       ZWATCH_BROKER set to a port nobody listens on: the agent queues), so
       every socket is watched from its creation.
    3. agent: zmq_socket + zwatch_agent_watch + zwatch_agent_unwatch +
       zmq_close, with the agent linked in.
    Each at 10, 1,000, 3,500 and 4,000 live sockets (made, and watched,
    before the timing starts; why 3,500: see s_live). A batch times --ops
    operations; the figure is the median of --batches batches per
    operation, with the fastest and the slowest batch beside it.

    Figures only: exit 0 unless something broke.

    Usage: bench_sockets [--batches N] [--ops N]
    $ZWATCH_PRELOAD_LIB: the folder of libzwatch-preload.so (default: this build's lib/)
*/

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>
#include "zwatch.h"
#include "testutil.h"
#include "bench_util.h"

#define LIVE_MAX        4000
#define BATCHES_DEFAULT 11
#define OPS_DEFAULT     50
#define BATCHES_MAX     101

//  Under the preload a closed socket stays watched until its MONITOR_STOPPED
//  comes from libzmq's reaper: at 4,000 live some of those push the agent
//  past its 4,096 and new sockets go unwatched (and cost nothing), which is
//  why 3,500 is measured too
static const int s_live [] = { 10, 1000, 3500, LIVE_MAX };

typedef struct {
    int batches;
    int ops;
} options_t;

//  One operation: a socket made and closed (and watched, unwatched if agent)
static int
s_operation (void *ctx, zwatch_agent_t *agent)
{
    void *socket = zmq_socket (ctx, ZMQ_DEALER);
    if (!socket)
        return -1;
    if (agent && (zwatch_agent_watch (agent, socket, NULL) != 0
              ||  zwatch_agent_unwatch (agent, socket) != 0)) {
        zmq_close (socket);
        return -1;
    }
    return zmq_close (socket);
}

//  The child: time operations at each live count, print one line each
static int
s_child (const char *mode, options_t *options)
{
    void *ctx = zmq_ctx_new ();
    //  Each watched socket brings two more (libzmq's monitor, the reader)
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 3 * LIVE_MAX + 1000);
    zwatch_agent_t *agent = NULL;
    if (strcmp (mode, "agent") == 0) {
        agent = zwatch_agent_new (ctx, getenv ("ZWATCH_BROKER"));
        if (!agent) {
            fprintf (stderr, "bench_sockets: zwatch_agent_new: %s\n", strerror (errno));
            return 1;
        }
    }
    void **live = calloc (LIVE_MAX, sizeof (void *));
    int live_count = 0, status = 0;
    for (size_t step = 0; step < sizeof (s_live) / sizeof (s_live [0]) && !status; step++) {
        while (live_count < s_live [step]) {
            live [live_count] = zmq_socket (ctx, ZMQ_DEALER);
            if (!live [live_count]
            ||  (agent && zwatch_agent_watch (agent, live [live_count], NULL) != 0)) {
                fprintf (stderr, "bench_sockets: socket %d: %s\n", live_count, strerror (errno));
                return 1;
            }
            live_count++;
        }
        double per_op [BATCHES_MAX];
        for (int batch = 0; batch < options->batches && !status; batch++) {
            int64_t start = bench_mono_ns ();
            for (int op = 0; op < options->ops && !status; op++)
                if (s_operation (ctx, agent) != 0) {
                    fprintf (stderr, "bench_sockets: operation: %s\n", strerror (errno));
                    status = 1;
                }
            per_op [batch] = (double) (bench_mono_ns () - start) / options->ops / 1000.0;
        }
        bench_sort (per_op, (size_t) options->batches);
        char name [96], note [96];
        snprintf (name, sizeof (name), "%s, %d live sockets", mode, live_count);
        snprintf (note, sizeof (note), "(batches: fastest %.1f, slowest %.1f)", per_op [0],
                  per_op [options->batches - 1]);
        bench_info (name, bench_median (per_op, (size_t) options->batches), "us/op", note);
        fflush (stdout);
    }
    for (int index = 0; index < live_count; index++) {
        if (agent)
            zwatch_agent_unwatch (agent, live [index]);
        zmq_close (live [index]);
    }
    free (live);
    zwatch_agent_destroy (&agent);
    zmq_ctx_term (ctx);
    return status;
}

//  Run this program again as a child in mode, with env; its lines go to our stdout
static int
s_run_child (const char *self, const char *mode, const char *const env [], options_t *options)
{
    char batches [16], ops [16];
    snprintf (batches, sizeof (batches), "%d", options->batches);
    snprintf (ops, sizeof (ops), "%d", options->ops);
    const char *argv [] = { self, "--child", mode, "--batches", batches, "--ops", ops, NULL };
    pid_t pid = tu_spawn (argv, env, NULL);
    int rc = tu_wait (pid, 600000);
    if (rc != 0)
        fprintf (stderr, "bench_sockets: child %s: exit %d\n", mode, rc);
    return rc == 0? 0: -1;
}

int
main (int argc, char *argv [])
{
    options_t options = { BATCHES_DEFAULT, OPS_DEFAULT };
    const char *child = NULL;
    for (int index = 1; index < argc; index++) {
        if (strcmp (argv [index], "--batches") == 0 && index + 1 < argc)
            options.batches = atoi (argv [++index]);
        else
        if (strcmp (argv [index], "--ops") == 0 && index + 1 < argc)
            options.ops = atoi (argv [++index]);
        else
        if (strcmp (argv [index], "--child") == 0 && index + 1 < argc)
            child = argv [++index];
        else {
            fprintf (stderr, "usage: bench_sockets [--batches N] [--ops N]\n");
            return 2;
        }
    }
    if (options.batches < 1 || options.batches > BATCHES_MAX || options.ops < 1) {
        fprintf (stderr, "bench_sockets: --batches 1-%d, --ops 1 or more\n", BATCHES_MAX);
        return 2;
    }
    //  4,000 watched sockets take 12,000 of libzmq's, each with an eventfd
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit (RLIMIT_NOFILE, &limit);
    }
    if (child)
        return s_child (child, &options);

    printf ("bench_sockets: cost of one zmq_socket + zmq_close (agent: + watch + unwatch),\n"
            "median of %d batches of %d, at each number of live sockets\n",
            options.batches, options.ops);
    fflush (stdout);
    char *self = realpath ("/proc/self/exe", NULL);     //  this very binary, wherever it is
    char *preload = NULL, *broker = NULL, *endpoint = tu_free_endpoint ();
    const char *lib_dir = getenv ("ZWATCH_PRELOAD_LIB");     //  default: this build's
    if (!self || asprintf (&preload, "LD_PRELOAD=%s/libzwatch-preload.so",
                  lib_dir? lib_dir: ZWATCH_LIB_DIR) < 0
    ||  asprintf (&broker, "ZWATCH_BROKER=%s", endpoint) < 0)
        return 1;
    const char *plain_env [] = { "ZWATCH_QUIET=1", NULL };
    const char *preload_env [] = { preload, broker, "ZWATCH_QUIET=1", NULL };
    const char *agent_env [] = { broker, "ZWATCH_QUIET=1", NULL };
    int status = 0;
    status |= s_run_child (self, "plain", plain_env, &options);
    status |= s_run_child (self, "preload", preload_env, &options);
    status |= s_run_child (self, "agent", agent_env, &options);
    free (self);
    free (preload);
    free (broker);
    free (endpoint);
    return status? 1: 0;
}
