/*  fault_service: a service with the agent linked in that makes monitor
    events on demand, for the fault tests.

    Usage: fault_service [--rate N] [--burst N] [--queue N] [--heartbeat MS] [--no-fold]
                         [--storm N --dead ENDPOINT [--storm-ivl MS]]

    Its events come from a watched socket trying to bind a port its other
    socket holds: each try makes the same events (libzmq 4.3: CLOSED for
    the listener it opened, then BIND_FAILED) and nothing else changes. It
    first makes --burst tries as fast as it can, timing its own loop, then
    --rate tries a second until SIGTERM or SIGINT; then it closes the
    socket, waits until the agent has read every event, prints the agent's
    counters and exits cleanly (the agent says bye). With --storm, N watched
    DEALERs instead retry the dead ENDPOINT every msec (ZMQ_RECONNECT_IVL
    1, or --storm-ivl MS): a reconnect storm, until SIGTERM. SIGUSR1 pauses the --rate tries,
    SIGUSR2 resumes them. --no-fold turns the agent's storm folding off
    (zwatch_agent_set_fold). ZWATCH_BROKER,
    ZWATCH_HOST_ID and ZWATCH_SERVICE set the agent up as usual. Lines on
    stdout:

      ready pid=<pid>
      burst tries=<n> max_iter_us=<us> rss_warm_kb=<kb> rss_end_kb=<kb> sent=<n> dropped=<n>
      storm sockets=<n>                     (storm mode)
      paused tries=<n> | resumed tries=<n>  (steady mode, after SIGUSR1 / SIGUSR2)
      done tries=<n> read=<n> sent=<n> dropped=<n> folded=<n> unfolded=<n>
      broker index=<i> connected=<0|1> sent=<n> dropped=<n> refused=<n> endpoint=<ep>

    (one broker line for each broker of ZWATCH_BROKER, in its order)
*/

#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include "zwatch.h"

#define PACE_MS         2           //  steady mode: one batch of tries per pace
#define SETTLE_MAX_MS   5000        //  bound on waiting for the agent to read all

#define STORM_MAX       1000        //  storm mode: sockets at most

static volatile sig_atomic_t s_stop = 0;
static volatile sig_atomic_t s_pause = 0;   //  steady mode: SIGUSR1 sets, SIGUSR2 clears

static void
s_on_signal (int signum)
{
    if (signum == SIGUSR1)
        s_pause = 1;
    else
    if (signum == SIGUSR2)
        s_pause = 0;
    else
        s_stop = 1;
}

static long long
s_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (long long) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

//  Our own resident memory (VmRSS), KiB
static long
s_rss_kb (void)
{
    FILE *file = fopen ("/proc/self/status", "r");
    if (!file)
        return -1;
    char line [256];
    long rss = -1;
    while (fgets (line, sizeof (line), file))
        if (sscanf (line, "VmRSS: %ld", &rss) == 1)
            break;
    fclose (file);
    return rss;
}

static long
s_option (const char *text)
{
    char *end;
    long value = strtol (text, &end, 10);
    if (*end || value < 0) {
        fprintf (stderr, "fault_service: bad number '%s'\n", text);
        exit (2);
    }
    return value;
}

//  One event: the bind fails (EADDRINUSE) and libzmq says BIND_FAILED
static void
s_try (void *socket, const char *taken)
{
    if (zmq_bind (socket, taken) == 0) {
        fprintf (stderr, "fault_service: bind to %s should have failed\n", taken);
        exit (3);
    }
}

//  The burst: as fast as we can, timing each turn of our own loop.
//  Returns the tries made.
static long
s_burst (zwatch_agent_t *agent, void *socket, const char *taken, long count)
{
    long long max_us = 0;
    long rss_warm = -1;
    long index;
    for (index = 0; index < count && !s_stop; index++) {
        long long start = s_now_us ();
        s_try (socket, taken);
        long long took = s_now_us () - start;
        if (took > max_us)
            max_us = took;
        if (index == count / 4)
            rss_warm = s_rss_kb ();         //  queues are full by now
    }
    zwatch_agent_stats_t stats;
    zwatch_agent_stats (agent, &stats);
    printf ("burst tries=%ld max_iter_us=%lld rss_warm_kb=%ld rss_end_kb=%ld sent=%llu "
            "dropped=%llu\n", index, max_us, rss_warm, s_rss_kb (),
            (unsigned long long) stats.sent, (unsigned long long) stats.dropped);
    fflush (stdout);
    return index;
}

//  Steady: rate tries a second, in small batches, until told to stop;
//  paused by SIGUSR1, resumed by SIGUSR2 (each says so on a line)
static long
s_steady (void *socket, const char *taken, long rate)
{
    long long start = s_now_us ();
    long tries = 0, base = 0;
    bool paused = false;
    while (!s_stop) {
        if (s_pause != paused) {
            paused = s_pause;
            printf (paused? "paused tries=%ld\n": "resumed tries=%ld\n", tries);
            fflush (stdout);
            start = s_now_us ();
            base = tries;
        }
        long due = base + (long) ((s_now_us () - start) * rate / 1000000);
        while (!paused && tries < due && !s_stop) {
            s_try (socket, taken);
            tries++;
        }
        usleep (PACE_MS * 1000);
    }
    return tries;
}

//  Storm mode: count DEALERs retrying dead every msec until SIGTERM; then
//  closes them. (libzmq 4.3.4's zmq_disconnect does not stop a connecter
//  that retries, so this storm only ends with its sockets.)
static int
s_storm (zwatch_agent_t *agent, void *ctx, long count, const char *dead, int ivl)
{
    static void *sockets [STORM_MAX];
    int linger = 0;
    for (long index = 0; index < count; index++) {
        sockets [index] = zmq_socket (ctx, ZMQ_DEALER);
        char label [32];
        snprintf (label, sizeof (label), "storm-%ld", index);
        if (!sockets [index]
        ||  zmq_setsockopt (sockets [index], ZMQ_RECONNECT_IVL, &ivl, sizeof (ivl)) != 0
        ||  zmq_setsockopt (sockets [index], ZMQ_LINGER, &linger, sizeof (linger)) != 0
        ||  zwatch_agent_watch (agent, sockets [index], label) != 0
        ||  zmq_connect (sockets [index], dead) != 0) {
            fprintf (stderr, "fault_service: storm socket %ld: %s\n", index,
                     zmq_strerror (errno));
            return -1;
        }
    }
    printf ("storm sockets=%ld\n", count);
    fflush (stdout);
    while (!s_stop)
        usleep (PACE_MS * 1000);
    for (long index = 0; index < count; index++)
        zmq_close (sockets [index]);
    return 0;
}

int
main (int argc, char *argv [])
{
    long rate = 0, burst = 0, queue = -1, heartbeat = -1;
    int fold = 1;
    long storm = 0, storm_ivl = 1;
    const char *dead = NULL;
    static struct option options [] = {
        { "rate", required_argument, NULL, 'r' },
        { "burst", required_argument, NULL, 'b' },
        { "queue", required_argument, NULL, 'q' },
        { "heartbeat", required_argument, NULL, 'h' },
        { "no-fold", no_argument, NULL, 'n' },
        { "storm", required_argument, NULL, 's' },
        { "dead", required_argument, NULL, 'd' },
        { "storm-ivl", required_argument, NULL, 'i' },
        { NULL, 0, NULL, 0 }
    };
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
            case 'r': rate = s_option (optarg); break;
            case 'b': burst = s_option (optarg); break;
            case 'q': queue = s_option (optarg); break;
            case 'h': heartbeat = s_option (optarg); break;
            case 'n': fold = 0; break;
            case 's': storm = s_option (optarg); break;
            case 'd': dead = optarg; break;
            case 'i': storm_ivl = s_option (optarg); break;
            default:
                fprintf (stderr, "usage: fault_service [--rate N] [--burst N] [--queue N] "
                                 "[--heartbeat MS] [--no-fold] [--storm N --dead ENDPOINT "
                                 "[--storm-ivl MS]]\n");
                return 2;
        }
    }
    if (storm > STORM_MAX || (storm && !dead) || storm_ivl < 1 || storm_ivl > 60000) {
        fprintf (stderr, "fault_service: --storm takes 1..%d sockets and --dead\n", STORM_MAX);
        return 2;
    }
    struct sigaction action;
    memset (&action, 0, sizeof (action));
    action.sa_handler = s_on_signal;
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGUSR1, &action, NULL);
    sigaction (SIGUSR2, &action, NULL);

    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, NULL);
    if (!agent) {
        fprintf (stderr, "fault_service: no agent: %s\n", zmq_strerror (errno));
        return 1;
    }
    if (queue >= 0)
        zwatch_agent_set_queue_limit (agent, (size_t) queue);
    if (heartbeat > 0)
        zwatch_agent_set_heartbeat (agent, (int) heartbeat);
    if (!fold)
        zwatch_agent_set_fold (agent, false);

    //  The holder owns a port; the watched socket keeps failing to bind it
    void *holder = zmq_socket (ctx, ZMQ_PULL);
    void *socket = zmq_socket (ctx, ZMQ_PULL);
    char taken [256];
    size_t taken_size = sizeof (taken);
    if (zmq_bind (holder, "tcp://127.0.0.1:*") != 0
    ||  zmq_getsockopt (holder, ZMQ_LAST_ENDPOINT, taken, &taken_size) != 0
    ||  zwatch_agent_watch (agent, socket, "flaky") != 0) {
        fprintf (stderr, "fault_service: setup failed: %s\n", zmq_strerror (errno));
        return 1;
    }
    printf ("ready pid=%d\n", (int) getpid ());
    fflush (stdout);

    long tries = burst > 0? s_burst (agent, socket, taken, burst): 0;
    if (storm && s_storm (agent, ctx, storm, dead, (int) storm_ivl) != 0)
        return 1;
    tries += s_steady (socket, taken, rate);

    //  MONITOR_STOPPED is the socket's last event: once the agent forgot
    //  the socket, it has read everything it will ever read
    zmq_close (socket);
    zwatch_agent_stats_t stats;
    long long deadline = s_now_us () + SETTLE_MAX_MS * 1000LL;
    do {
        usleep (2000);
        zwatch_agent_stats (agent, &stats);
    } while (stats.watched > 0 && s_now_us () < deadline);
    uint64_t folded = 0, unfolded = 0;
    zwatch_agent_fold_stats (agent, &folded, &unfolded);
    printf ("done tries=%ld read=%llu sent=%llu dropped=%llu folded=%llu unfolded=%llu\n",
            tries, (unsigned long long) stats.read, (unsigned long long) stats.sent,
            (unsigned long long) stats.dropped, (unsigned long long) folded,
            (unsigned long long) unfolded);
    for (size_t index = 0; index < zwatch_agent_brokers (agent); index++) {
        zwatch_agent_broker_stats_t broker;
        if (zwatch_agent_broker_stats (agent, index, &broker) == 0)
            printf ("broker index=%zu connected=%d sent=%llu dropped=%llu refused=%llu "
                    "endpoint=%s\n", index, broker.connected, (unsigned long long) broker.sent,
                    (unsigned long long) broker.dropped, (unsigned long long) broker.refused,
                    broker.endpoint);
    }
    fflush (stdout);
    zwatch_agent_destroy (&agent);
    zmq_close (holder);
    zmq_ctx_term (ctx);
    return stats.watched == 0? 0: 4;
}
