/*  bench_agent: what the agent (libzwatch) costs the service it lives in.

    This process is the service. The agent forwards to a sink, a ROUTER in
    an actor of its own (CZMQ's context, not the service's) that reads and
    discards, standing in for the broker.

    1. Memory: VmRSS with 100 bound sockets, then with an agent, then with
       the 100 sockets watched (and each one's events read).
    2. Agent-thread CPU per forwarded event: sockets retrying dead ports
       every millisecond (a CONNECT_RETRIED storm) for a few seconds; the
       agent thread's CPU (/proc/self/task/<tid>/schedstat) divided by the
       events it read (zwatch_agent_stats). The engine does not name its
       thread, so it is found as the one thread zwatch_agent_new starts
       that is not one of libzmq's (named ZMQbg/...).
    3. The service's own throughput: PUSH -> PULL over tcp, 100-byte
       messages, in pairs of rounds: one without an agent, one with an
       agent watching both sockets (which goes first alternates). The
       figure is the median of the pairs' ratios: the two rounds of a pair
       run seconds apart, so they see the same load from elsewhere.

    Figures only: exit 0 unless something broke.

    Usage: bench_agent [--rounds N] [--messages N] [--seconds S] [--sockets N]
*/

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include "zwatch.h"
#include "testutil.h"
#include "bench_util.h"

#define WATCHED             100         //  sockets in the memory figure
#define STORM_SOCKETS       20          //  sockets retrying dead ports, default
#define STORM_SOCKETS_MAX   1000
#define STORM_RECONNECT_IVL 1           //  ms between their retries
#define STORM_WARMUP_MS     300
#define MESSAGE_SIZE        100         //  service messages, bytes
#define ROUNDS_DEFAULT      11
#define MESSAGES_DEFAULT    500000      //  per throughput round
#define SECONDS_DEFAULT     3.0         //  of event storm
#define WAIT_MS             5000        //  bound on every wait for the agent
#define THREADS_MAX         256

typedef struct {
    int rounds;
    size_t messages;
    double seconds;
    int sockets;                //  in the storm
} options_t;

//  The sink: bind a ROUTER on args (an endpoint), read and drop everything
static void
s_sink_actor (zsock_t *pipe, void *args)
{
    zsock_t *router = zsock_new_router ((const char *) args);
    zsock_signal (pipe, router? 0: 1);
    if (!router)
        return;
    void *handle = zsock_resolve (router);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (zpoller_wait (poller, -1) == router)
        while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) >= 0)
            ;
    zmq_msg_close (&frame);
    zpoller_destroy (&poller);
    zsock_destroy (&router);
}

static zwatch_agent_stats_t
s_stats (zwatch_agent_t *agent)
{
    zwatch_agent_stats_t stats = { 0 };
    zwatch_agent_stats (agent, &stats);
    return stats;
}

//  Wait (bounded) until the agent has read at least events
static bool
s_wait_read (zwatch_agent_t *agent, uint64_t events)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (s_stats (agent).read < events)
        if (tu_now_ms () > deadline)
            return false;
        else
            usleep (10000);
    return true;
}

//  Replace each socket's listener: a CLOSED and a LISTENING event each
static void
s_rebind (void **sockets, int count)
{
    for (int index = 0; index < count; index++) {
        char endpoint [256];
        size_t size = sizeof (endpoint);
        zmq_getsockopt (sockets [index], ZMQ_LAST_ENDPOINT, endpoint, &size);
        zmq_unbind (sockets [index], endpoint);
        zmq_bind (sockets [index], "tcp://127.0.0.1:*");
    }
}

//  Resident memory now: all of it (VmRSS) and the private part (RssAnon)
typedef struct {
    long rss;
    long anon;
} memory_t;

static memory_t
s_memory_now (void)
{
    memory_t memory = { bench_rss_kb (getpid ()), bench_status_kb (getpid (), "RssAnon") };
    return memory;
}

static void
s_memory_report (const char *what, memory_t from, memory_t to, double divisor, const char *unit)
{
    char label [96];
    double scale = strcmp (unit, "MiB") == 0? 1024: 1;
    snprintf (label, sizeof (label), "%s, private (RssAnon)", what);
    bench_info (label, (double) (to.anon - from.anon) / divisor / scale, unit, NULL);
    snprintf (label, sizeof (label), "%s, VmRSS", what);
    bench_info (label, (double) (to.rss - from.rss) / divisor / scale, unit,
                "(+ shared library pages touched)");
}

//  1. Memory without the agent, with it, with WATCHED sockets watched
static int
s_memory (const char *sink)
{
    printf ("\n1. Memory of this process (RssAnon: private memory; VmRSS adds file-backed\n"
            "   pages of shared libraries touched for the first time, e.g. libzmq's tcp\n"
            "   connect path and glibc's resolver, which the page cache shares)\n");
    void *ctx = zmq_ctx_new ();
    void *sockets [WATCHED];
    for (int index = 0; index < WATCHED; index++) {
        sockets [index] = zmq_socket (ctx, ZMQ_DEALER);
        int linger = 0;
        zmq_setsockopt (sockets [index], ZMQ_LINGER, &linger, sizeof (linger));
        zmq_bind (sockets [index], "tcp://127.0.0.1:*");
    }
    s_rebind (sockets, WATCHED);            //  what we do later, once before the baseline
    usleep (100000);
    memory_t base = s_memory_now ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, sink);
    if (!agent) {
        fprintf (stderr, "bench_agent: zwatch_agent_new: %s\n", strerror (errno));
        return -1;
    }
    usleep (100000);
    memory_t with_agent = s_memory_now ();
    for (int index = 0; index < WATCHED; index++)
        zwatch_agent_watch (agent, sockets [index], NULL);
    s_rebind (sockets, WATCHED);
    bool read = s_wait_read (agent, 2 * WATCHED);
    usleep (100000);
    memory_t watched = s_memory_now ();
    zwatch_agent_stats_t stats = s_stats (agent);
    zwatch_agent_destroy (&agent);
    for (int index = 0; index < WATCHED; index++)
        zmq_close (sockets [index]);
    zmq_ctx_term (ctx);

    printf ("  %d DEALER sockets bound on tcp; watched: %llu, events read %llu\n", WATCHED,
            (unsigned long long) stats.watched, (unsigned long long) stats.read);
    bench_info ("VmRSS, no agent", (double) base.rss / 1024, "MiB", NULL);
    s_memory_report ("added by zwatch_agent_new", base, with_agent, 1, "KiB");
    s_memory_report ("added per watched socket", with_agent, watched, WATCHED, "KiB");
    s_memory_report ("added in all: agent + 100 sockets", base, watched, 1, "MiB");
    bench_figure ("added in all, private memory", (double) (watched.anon - base.anon) / 1024,
                  "MiB", "< 2 MiB", watched.anon - base.anon < 2048);
    return read && stats.watched == WATCHED? 0: -1;
}

//  The thread zwatch_agent_new started that is not libzmq's: the agent's
//  own. before holds the threads from before the call. 0 if not (yet) sure.
static pid_t
s_agent_thread_now (const pid_t *before, size_t before_count)
{
    pid_t now [THREADS_MAX], found = 0;
    size_t count = bench_threads (getpid (), now, THREADS_MAX);
    for (size_t index = 0; index < count; index++) {
        bool old = false;
        for (size_t other = 0; other < before_count && !old; other++)
            old = now [index] == before [other];
        char name [32];
        bench_thread_name (getpid (), now [index], name, sizeof (name));
        if (!old && strncmp (name, "ZMQbg", 5) != 0) {
            if (found)
                return 0;       //  two candidates: not sure which
            found = now [index];
        }
    }
    return found;
}

//  libzmq's threads name themselves once running: wait for that (bounded)
static pid_t
s_agent_thread (const pid_t *before, size_t before_count)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    pid_t tid;
    while (!(tid = s_agent_thread_now (before, before_count)) && tu_now_ms () < deadline)
        usleep (10000);
    return tid;
}

//  2. Agent-thread CPU per event read, in a CONNECT_RETRIED storm
static int
s_cost_per_event (const char *sink, double seconds, int storm_sockets)
{
    printf ("\n2. Agent-thread CPU per forwarded event: %d sockets retrying dead ports every %d ms,"
            " %.0f s\n", storm_sockets, STORM_RECONNECT_IVL, seconds);
    void *ctx = zmq_ctx_new ();
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, STORM_SOCKETS_MAX + 64);
    void *sockets [STORM_SOCKETS_MAX];
    for (int index = 0; index < storm_sockets; index++) {
        sockets [index] = zmq_socket (ctx, ZMQ_DEALER);
        int ivl = STORM_RECONNECT_IVL, linger = 0;
        zmq_setsockopt (sockets [index], ZMQ_RECONNECT_IVL, &ivl, sizeof (ivl));
        zmq_setsockopt (sockets [index], ZMQ_LINGER, &linger, sizeof (linger));
    }
    pid_t before [THREADS_MAX];
    size_t before_count = bench_threads (getpid (), before, THREADS_MAX);
    zwatch_agent_t *agent = zwatch_agent_new (ctx, sink);
    if (!agent) {
        fprintf (stderr, "bench_agent: zwatch_agent_new: %s\n", strerror (errno));
        return -1;
    }
    pid_t tid = s_agent_thread (before, before_count);
    if (!tid) {
        fprintf (stderr, "bench_agent: cannot tell which thread is the agent's\n");
        return -1;
    }
    for (int index = 0; index < storm_sockets; index++) {
        zwatch_agent_watch (agent, sockets [index], NULL);
        char *dead = tu_free_endpoint ();
        zmq_connect (sockets [index], dead);
        free (dead);
    }
    usleep (STORM_WARMUP_MS * 1000);
    zwatch_agent_stats_t first = s_stats (agent);
    int64_t cpu_first = bench_thread_cpu_ns (getpid (), tid);
    int64_t process_first = bench_process_cpu_ns (getpid ());
    int64_t started = bench_mono_ns ();
    usleep ((useconds_t) (seconds * 1e6));
    zwatch_agent_stats_t last = s_stats (agent);
    int64_t cpu_last = bench_thread_cpu_ns (getpid (), tid);
    int64_t process_last = bench_process_cpu_ns (getpid ());
    double elapsed = (double) (bench_mono_ns () - started) / 1e9;
    for (int index = 0; index < storm_sockets; index++)
        zmq_close (sockets [index]);
    zwatch_agent_destroy (&agent);
    zmq_ctx_term (ctx);

    uint64_t events = last.read - first.read;
    double per_event = events? (double) (cpu_last - cpu_first) / (double) events: 0;
    printf ("  %llu events read in %.2f s (%.0f events/s), %llu sent, %llu dropped\n",
            (unsigned long long) events, elapsed, (double) events / elapsed,
            (unsigned long long) (last.sent - first.sent),
            (unsigned long long) (last.dropped - first.dropped));
    bench_info ("agent thread busy", (double) (cpu_last - cpu_first) / 1e7 / elapsed, "% CPU", NULL);
    bench_figure ("agent-thread CPU per event", per_event / 1000, "us", "< 2 us", per_event < 2000);
    bench_info ("whole process CPU per event", events?
                (double) (process_last - process_first) / (double) events / 1000: 0, "us",
                "(incl. the storm itself in libzmq)");
    return events? 0: -1;
}

typedef struct {
    void *push;
    size_t count;
} pusher_t;

static void *
s_pusher (void *args)
{
    pusher_t *self = (pusher_t *) args;
    char message [MESSAGE_SIZE];
    memset (message, 'm', sizeof (message));
    for (size_t count = 0; count < self->count; count++)
        if (zmq_send (self->push, message, sizeof (message), 0) != MESSAGE_SIZE)
            break;
    return NULL;
}

//  One round of PUSH -> PULL over tcp in a fresh context; messages/s, or
//  0 if it broke. With an agent watching both sockets if sink is set.
static double
s_service_round (const char *sink, size_t messages)
{
    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = sink? zwatch_agent_new (ctx, sink): NULL;
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    if (agent) {
        zwatch_agent_watch (agent, pull, "pull");
        zwatch_agent_watch (agent, push, "push");
    }
    char endpoint [256];
    size_t size = sizeof (endpoint);
    zmq_bind (pull, "tcp://127.0.0.1:*");
    zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, endpoint, &size);
    zmq_connect (push, endpoint);
    char message [MESSAGE_SIZE];
    //  One message through first: connected before the clock starts
    pusher_t pusher = { push, 1 };
    s_pusher (&pusher);
    zmq_recv (pull, message, sizeof (message), 0);

    pusher.count = messages;
    int64_t started = bench_mono_ns ();
    pthread_t thread;
    pthread_create (&thread, NULL, s_pusher, &pusher);
    size_t received = 0;
    while (received < messages && zmq_recv (pull, message, sizeof (message), 0) == MESSAGE_SIZE)
        received++;
    double elapsed = (double) (bench_mono_ns () - started) / 1e9;
    pthread_join (thread, NULL);
    zmq_close (push);
    zmq_close (pull);
    zwatch_agent_destroy (&agent);
    zmq_ctx_term (ctx);
    return received == messages? (double) messages / elapsed: 0;
}

//  3. Rounds alternate without / with the agent, and which goes first
static int
s_service_throughput (const char *sink, const options_t *options)
{
    printf ("\n3. Service throughput: PUSH -> PULL over tcp, %zu messages of %d bytes per round, "
            "%d rounds each\n", options->messages, MESSAGE_SIZE, options->rounds);
    double without [options->rounds], with [options->rounds], ratio [options->rounds];
    for (int round = 0; round < options->rounds; round++)
        for (int turn = 0; turn < 2; turn++) {
            bool watched = (round + turn) % 2;
            double rate = s_service_round (watched? sink: NULL, options->messages);
            if (rate == 0) {
                fprintf (stderr, "bench_agent: a service round did not complete\n");
                return -1;
            }
            (watched? with: without) [round] = rate;
            printf ("  round %2d %-22s %10.0f msgs/s\n", round + 1,
                    watched? "with agent watching": "without agent", rate);
        }
    for (int round = 0; round < options->rounds; round++)
        ratio [round] = with [round] / without [round];
    double rate_without = bench_median (without, (size_t) options->rounds);
    double rate_with = bench_median (with, (size_t) options->rounds);
    printf ("  medians:\n");
    bench_info ("without agent", rate_without, "msgs/s", NULL);
    bench_info ("with agent watching both sockets", rate_with, "msgs/s", NULL);
    bench_info ("ratio of the medians", rate_with / rate_without, "x", NULL);
    double paired = bench_median (ratio, (size_t) options->rounds);
    bench_figure ("ratio with / without (median of pairs)", paired, "x", ">= 0.97", paired >= 0.97);
    return 0;
}

static int
s_parse (int argc, char *argv [], options_t *options)
{
    *options = (options_t) { ROUNDS_DEFAULT, MESSAGES_DEFAULT, SECONDS_DEFAULT, STORM_SOCKETS };
    for (int arg = 1; arg < argc; arg++) {
        char *end;
        double value = arg + 1 < argc? strtod (argv [arg + 1], &end): 0;
        if (value <= 0 || *end)
            return -1;
        if (strcmp (argv [arg], "--rounds") == 0)
            options->rounds = (int) value;
        else
        if (strcmp (argv [arg], "--messages") == 0)
            options->messages = (size_t) value;
        else
        if (strcmp (argv [arg], "--seconds") == 0)
            options->seconds = value;
        else
        if (strcmp (argv [arg], "--sockets") == 0 && value <= STORM_SOCKETS_MAX)
            options->sockets = (int) value;
        else
            return -1;
        arg++;
    }
    return options->rounds >= 1 && options->messages >= 1? 0: -1;
}

int
main (int argc, char *argv [])
{
    options_t options;
    if (s_parse (argc, argv, &options)) {
        fprintf (stderr, "usage: bench_agent [--rounds N] [--messages N] [--seconds S] "
                 "[--sockets N<=%d]\n  defaults: %d rounds, %d messages, %.0f s, %d sockets\n",
                 STORM_SOCKETS_MAX, ROUNDS_DEFAULT, MESSAGES_DEFAULT, SECONDS_DEFAULT, STORM_SOCKETS);
        return 2;
    }
    zsys_init ();
    char *sink = tu_free_endpoint ();
    zactor_t *actor = zactor_new (s_sink_actor, sink);
    if (!actor) {
        fprintf (stderr, "bench_agent: cannot bind the sink on %s\n", sink);
        return 1;
    }
    printf ("zwatch agent benchmark (%ld CPUs); the agent forwards to a sink ROUTER in this "
            "process\n", sysconf (_SC_NPROCESSORS_ONLN));
    int rc = s_memory (sink);
    if (rc == 0)
        rc = s_cost_per_event (sink, options.seconds, options.sockets);
    if (rc == 0)
        rc = s_service_throughput (sink, &options);
    zactor_destroy (&actor);
    free (sink);
    return rc == 0? 0: 1;
}
