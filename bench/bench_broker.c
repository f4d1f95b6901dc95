/*  bench_broker: zwatch-broker against raw zmq_proxy, same run, same machine.

    Both forwarders run as processes of their own on random loopback ports:
    build/bin/zwatch-broker, and bench_proxy (zmq_proxy from a ROUTER to an
    XPUB, the broker's socket options, one I/O thread like the broker).
    Each is fed by the same senders (DEALER threads sending valid ~150-byte
    events from proto's encoder, each with its own identity and seq) and
    read by the same subscriber (a SUB subscribed to "").

    1. Throughput: events/s through to the subscriber, median of rounds.
       Senders go as fast as a credit window lets them: at most
       FLOW_WINDOW events sent and not yet received, well under the XPUB's
       high-water mark. Without it, on 2 cores the forwarder outruns the
       subscriber, its XPUB drops (by design) and the faster forwarder
       drops more, which would compare different work. With it, both
       forward every event and the figure is the sustained rate.
    2. CPU per message: the forwarder's main thread (the forwarding thread
       in both) and its whole process, from /proc/<pid>/task/<tid>/schedstat,
       over a round, divided by the messages sent.
    3. Latency, ts in the event to subscriber receive: a sender paced at
       10k events/s (ts = when encoded), through each forwarder; then a
       real agent (libzwatch) in this process reading a storm of real
       monitor events (ts = when the agent read the event), through the
       broker, at whatever rate the storm gives.
    4. 1,000 agents connected at once (DEALERs in one context, each sending
       hello, events and a heartbeat): the broker's VmRSS.

    Figures only: exit 0 unless something broke (a forwarder that does not
    start, messages that never arrive).

    Usage: bench_broker [--rounds N] [--messages N] [--senders N] [--seconds S]
*/

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <zmq.h>
#include "zwatch.h"
#include "testutil.h"
#include "bench_feed.h"
#include "bench_util.h"

#define ROUNDS_DEFAULT          5
#define MESSAGES_DEFAULT        1000000     //  per throughput round, all senders together
#define SENDERS_DEFAULT         2
#define SENDERS_MAX             16
#define SECONDS_DEFAULT         3.0         //  of latency samples per measurement
#define READY_TIMEOUT_MS        5000        //  forwarder up and subscription through
#define IDLE_TIMEOUT_MS         1000        //  the subscriber stops after this silence
#define SENDER_LINGER_MS        1000        //  bounds the final zmq_ctx_term
#define START_ATTEMPTS          3           //  a free port can be taken before we bind it
#define FLOW_WINDOW             20000       //  events in flight at most (XPUB SNDHWM: 100000)
#define FLOW_NAP_NS             20000       //  a sender's pause when the window is full
#define LATENCY_RATE            10000       //  events/s, the paced sender
#define LATENCY_WARMUP_S        0.5         //  samples before this are not counted
#define STORM_SOCKETS           5           //  real agent: sockets retrying a dead port
#define STORM_RECONNECT_IVL     1           //  ms between their retries
#define AGENTS                  1000
#define AGENT_EVENTS            10          //  events each of the 1,000 agents sends

typedef struct {
    int rounds;
    size_t messages;
    int senders;
    double seconds;
} options_t;

//  A forwarder process and the subscriber reading it
typedef struct {
    const char *name;
    bool is_broker;
    pid_t pid;
    char *ingest;
    char *publish;
    char *log;                  //  its stdout; stderr goes to log.err
    void *sub;
    zmq_msg_t topic;
    zmq_msg_t body;
} path_t;

typedef struct {
    double rate;                //  events received / (last received - first sent)
    double delivered;           //  fraction of sent events received
    double thread_ns;           //  forwarding thread CPU per message
    double process_ns;          //  whole forwarder process CPU per message
} round_t;

//  The credit window of the throughput rounds
typedef struct {
    atomic_size_t sent;         //  by all senders
    atomic_size_t received;     //  by the subscriber
} flow_t;

typedef struct {
    const char *endpoint;
    int index;
    size_t count;               //  events to send
    int rate;                   //  events/s, 0 for as fast as allowed
    flow_t *flow;               //  NULL for no window
} sender_t;

static void *s_send_ctx;        //  senders' context, one I/O thread
static void *s_sub_ctx;         //  subscriber's context, one I/O thread

//  One whole message from the SUB into topic and body; false on timeout
static bool
s_receive (path_t *path)
{
    if (zmq_msg_recv (&path->topic, path->sub, 0) < 0)
        return false;
    if (!zmq_msg_more (&path->topic)) {
        zmq_msg_close (&path->body);        //  a single frame: empty body
        zmq_msg_init (&path->body);
        return true;
    }
    if (zmq_msg_recv (&path->body, path->sub, 0) < 0)
        return false;
    while (zmq_msg_more (&path->body))
        if (zmq_msg_recv (&path->body, path->sub, 0) < 0)
            return false;
    return true;
}

static bool
s_topic_starts (path_t *path, const char *prefix)
{
    size_t len = strlen (prefix);
    return zmq_msg_size (&path->topic) >= len && memcmp (zmq_msg_data (&path->topic), prefix, len) == 0;
}

//  Events, not the broker's own agent/ and stats/ messages. A proxy topic
//  is a routing id, which never starts like those.
static bool
s_is_event (path_t *path)
{
    return !s_topic_starts (path, "agent/") && !s_topic_starts (path, "stats/");
}

//  Send probe events until the subscriber sees one: the forwarder is up
//  and our subscription has reached it. Then drain what else came.
static int
s_path_ready (path_t *path)
{
    void *probe = zmq_socket (s_send_ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (probe, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_connect (probe, path->ingest);
    bench_feed_t *feed = bench_feed_new ("bench-probe", 1);
    long long deadline = tu_now_ms () + READY_TIMEOUT_MS;
    int rc = -1;
    while (rc != 0 && tu_now_ms () < deadline && tu_wait (path->pid, 0) == -1) {
        bench_feed_send_event (feed, probe, ZMQ_DONTWAIT);
        zmq_pollitem_t item = { path->sub, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 20) == 1)
            rc = 0;
    }
    bench_feed_destroy (&feed);
    zmq_close (probe);
    if (rc == 0) {
        int quiet = 50;
        zmq_setsockopt (path->sub, ZMQ_RCVTIMEO, &quiet, sizeof (quiet));
        while (s_receive (path))
            ;
        int idle = IDLE_TIMEOUT_MS;
        zmq_setsockopt (path->sub, ZMQ_RCVTIMEO, &idle, sizeof (idle));
    }
    return rc;
}

static void
s_path_free (path_t *path)
{
    if (path->sub)
        zmq_close (path->sub);
    zmq_msg_close (&path->topic);
    zmq_msg_close (&path->body);
    if (path->log) {
        char *err_path = NULL;
        if (asprintf (&err_path, "%s.err", path->log) > 0) {
            unlink (err_path);
            free (err_path);
        }
        unlink (path->log);
    }
    free (path->ingest);
    free (path->publish);
    free (path->log);
    memset (path, 0, sizeof (*path));
}

//  Start a forwarder on fresh ports and a subscriber on it, ready to measure
static int
s_path_open (path_t *path, bool is_broker)
{
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        memset (path, 0, sizeof (*path));
        path->name = is_broker? "zwatch-broker": "zmq_proxy";
        path->is_broker = is_broker;
        path->ingest = tu_free_endpoint ();
        path->publish = tu_free_endpoint ();
        path->log = tu_temp_path (".log");
        zmq_msg_init (&path->topic);
        zmq_msg_init (&path->body);
        char *bin = tu_bin (is_broker? "zwatch-broker": "bench_proxy");
        const char *broker_argv [] = { bin, "--ingest", path->ingest, "--publish", path->publish,
                                       "--id", "bench", NULL };
        const char *proxy_argv [] = { bin, path->ingest, path->publish, NULL };
        path->pid = tu_spawn (is_broker? broker_argv: proxy_argv, NULL, path->log);
        free (bin);

        //  No receive limit: the subscriber's I/O thread takes all the
        //  forwarder sends, so its XPUB never drops and every forwarder
        //  delivers every event (both are measured on the same work)
        path->sub = zmq_socket (s_sub_ctx, ZMQ_SUB);
        int linger = 0, unlimited = 0;
        zmq_setsockopt (path->sub, ZMQ_LINGER, &linger, sizeof (linger));
        zmq_setsockopt (path->sub, ZMQ_RCVHWM, &unlimited, sizeof (unlimited));
        zmq_setsockopt (path->sub, ZMQ_SUBSCRIBE, "", 0);
        zmq_connect (path->sub, path->publish);
        if (s_path_ready (path) == 0)
            return 0;
        tu_kill (path->pid);
        s_path_free (path);
    }
    fprintf (stderr, "bench_broker: %s did not start or forward within %d ms (%d attempts)\n",
             is_broker? "zwatch-broker": "bench_proxy", READY_TIMEOUT_MS, START_ATTEMPTS);
    return -1;
}

//  Stop the forwarder; the broker must exit 0 on SIGTERM. Returns 0 if all went well.
static int
s_path_close (path_t *path)
{
    int rc = 0;
    if (path->is_broker) {
        kill (path->pid, SIGTERM);
        int code = tu_wait (path->pid, 5000);
        if (code != 0) {
            fprintf (stderr, "bench_broker: zwatch-broker exit code %d after SIGTERM\n", code);
            tu_kill (path->pid);
            rc = -1;
        }
    }
    else
        tu_kill (path->pid);
    s_path_free (path);
    return rc;
}

//  A sender thread: its own DEALER and identity, count events, as fast as
//  the window allows (blocking sends), or paced at rate events/s
static void *
s_sender (void *args)
{
    sender_t *self = (sender_t *) args;
    void *dealer = zmq_socket (s_send_ctx, ZMQ_DEALER);
    int linger = SENDER_LINGER_MS;
    zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_connect (dealer, self->endpoint);
    char svc [32];
    snprintf (svc, sizeof (svc), "sender-%d", self->index);
    bench_feed_t *feed = bench_feed_new (svc, (uint64_t) (100 + self->index));
    int64_t interval = self->rate? 1000000000 / self->rate: 0;
    int64_t next = bench_mono_ns ();
    for (size_t count = 0; count < self->count; count++) {
        if (self->flow) {
            flow_t *flow = self->flow;
            while (atomic_load (&flow->sent) - atomic_load (&flow->received) >= FLOW_WINDOW)
                nanosleep (&(struct timespec) { 0, FLOW_NAP_NS }, NULL);
            atomic_fetch_add (&flow->sent, 1);
        }
        if (interval) {
            //  Absolute deadlines: a late wake-up is made up, not accumulated
            next += interval;
            struct timespec at = { (time_t) (next / 1000000000), (long) (next % 1000000000) };
            clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        }
        if (bench_feed_send_event (feed, dealer, 0) < 0)
            break;
    }
    bench_feed_destroy (&feed);
    zmq_close (dealer);         //  the context delivers what is queued, within the linger
    return NULL;
}

static void
s_senders_start (pthread_t *threads, sender_t *senders, int count, const char *endpoint,
                 size_t each, int rate, flow_t *flow)
{
    for (int index = 0; index < count; index++) {
        senders [index] = (sender_t) { endpoint, index, each, rate, flow };
        if (pthread_create (&threads [index], NULL, s_sender, &senders [index]) != 0) {
            fprintf (stderr, "bench_broker: cannot start a sender thread\n");
            exit (1);
        }
    }
}

static void
s_senders_join (pthread_t *threads, int count)
{
    for (int index = 0; index < count; index++)
        pthread_join (threads [index], NULL);
}

//  One throughput round through one forwarder
static int
s_throughput_round (bool is_broker, const options_t *options, round_t *result)
{
    path_t path;
    if (s_path_open (&path, is_broker))
        return -1;
    size_t each = options->messages / (size_t) options->senders;
    size_t total = each * (size_t) options->senders;
    int64_t thread_before = bench_thread_cpu_ns (path.pid, path.pid);
    int64_t process_before = bench_process_cpu_ns (path.pid);

    pthread_t threads [SENDERS_MAX];
    sender_t senders [SENDERS_MAX];
    flow_t flow = { 0, 0 };
    int64_t start = bench_mono_ns ();
    s_senders_start (threads, senders, options->senders, path.ingest, each, 0, &flow);
    size_t received = 0;
    int64_t last = start;
    while (received < total && s_receive (&path))
        if (s_is_event (&path)) {
            atomic_store_explicit (&flow.received, ++received, memory_order_relaxed);
            last = bench_mono_ns ();
        }
    //  Everything received has been forwarded: the forwarder's work is done
    int64_t thread_after = bench_thread_cpu_ns (path.pid, path.pid);
    int64_t process_after = bench_process_cpu_ns (path.pid);
    s_senders_join (threads, options->senders);
    const char *name = path.name;
    int rc = s_path_close (&path);

    result->rate = last > start? (double) received * 1e9 / (double) (last - start): 0;
    result->delivered = (double) received / (double) total;
    result->thread_ns = (double) (thread_after - thread_before) / (double) total;
    result->process_ns = (double) (process_after - process_before) / (double) total;
    if (received == 0) {
        fprintf (stderr, "bench_broker: no event arrived through %s\n", name);
        return -1;
    }
    return rc;
}

//  1 and 2: rounds alternate which forwarder goes first
static int
s_throughput (const options_t *options)
{
    size_t count = (size_t) options->rounds;
    double rate [2][count], thread [2][count], process [2][count], delivered [2][count];
    bench_feed_t *feed = bench_feed_new ("sender-0", 100);
    printf ("\n1-2. Throughput and CPU per message: %zu events of %zu bytes per round, "
            "%d DEALER sender threads, 1 SUB, %d rounds each\n",
            options->messages, bench_feed_event_size (feed), options->senders, options->rounds);
    bench_feed_destroy (&feed);
    for (int round = 0; round < options->rounds; round++)
        for (int turn = 0; turn < 2; turn++) {
            int which = (round + turn) % 2;         //  0 proxy, 1 broker
            round_t result;
            if (s_throughput_round (which == 1, options, &result))
                return -1;
            rate [which][round] = result.rate;
            thread [which][round] = result.thread_ns;
            process [which][round] = result.process_ns;
            delivered [which][round] = result.delivered;
            printf ("  round %2d %-14s %9.0f events/s  delivered %5.1f%%  forwarding thread "
                    "%6.0f ns/msg  process %6.0f ns/msg\n", round + 1,
                    which? "zwatch-broker": "zmq_proxy", result.rate, result.delivered * 100,
                    result.thread_ns, result.process_ns);
        }
    double proxy_rate = bench_median (rate [0], count), broker_rate = bench_median (rate [1], count);
    double proxy_thread = bench_median (thread [0], count), broker_thread = bench_median (thread [1], count);
    double proxy_process = bench_median (process [0], count);
    double broker_process = bench_median (process [1], count);
    printf ("  medians:\n");
    bench_info ("zmq_proxy throughput", proxy_rate, "ev/s", NULL);
    bench_info ("zwatch-broker throughput", broker_rate, "ev/s", NULL);
    bench_figure ("throughput ratio broker / zmq_proxy", broker_rate / proxy_rate, "x", ">= 0.95",
                  broker_rate >= 0.95 * proxy_rate);
    bench_info ("zmq_proxy delivered (of events sent)", bench_median (delivered [0], count) * 100,
                "%", NULL);
    bench_info ("zwatch-broker delivered (of events sent)", bench_median (delivered [1], count) * 100,
                "%", NULL);
    bench_info ("zmq_proxy forwarding thread CPU", proxy_thread, "ns/msg", "(main thread)");
    bench_info ("zwatch-broker forwarding thread CPU", broker_thread, "ns/msg", "(main thread)");
    bench_figure ("forwarding thread CPU ratio broker / proxy", broker_thread / proxy_thread, "x",
                  "<= 1.3", broker_thread <= 1.3 * proxy_thread);
    //  Load from elsewhere only ever adds CPU time: the best rounds are the least
    //  disturbed ([0]: bench_median sorted the rounds)
    bench_info ("same, best round of each", thread [1][0] / thread [0][0], "x", "(min / min)");
    bench_info ("zmq_proxy process CPU", proxy_process, "ns/msg", "(all threads incl. I/O)");
    bench_info ("zwatch-broker process CPU", broker_process, "ns/msg", "(all threads incl. I/O)");
    bench_info ("process CPU ratio broker / proxy", broker_process / proxy_process, "x", NULL);
    bench_info ("same, best round of each", process [1][0] / process [0][0], "x", "(min / min)");
    return 0;
}

//  Receive until count events came or the subscriber is idle; each event's
//  latency (now - its ts) in usecs goes to samples unless it came within
//  the warm-up (by ts). Returns how many samples were taken.
static size_t
s_collect_latency (path_t *path, double *samples, size_t max, uint64_t counted_from,
                   int64_t until_mono)
{
    size_t count = 0;
    while (count < max && bench_mono_ns () < until_mono && s_receive (path)) {
        uint64_t now = bench_wall_ns ();
        zwatch_msg_t msg;
        if (!s_is_event (path)
        ||  zwatch_msg_decode (&msg, zmq_msg_data (&path->body), zmq_msg_size (&path->body),
                               NULL) != ZWATCH_OK
        ||  msg.kind != ZWATCH_KIND_EVENT || msg.ts < counted_from)
            continue;
        samples [count++] = (double) (now - msg.ts) / 1000.0;
    }
    return count;
}

static void
s_print_latency (const char *what, double *samples, size_t count, double seconds, bool goal)
{
    bench_sort (samples, count);
    double p99 = bench_percentile (samples, count, 0.99);
    printf ("  %s: %zu samples, %.0f events/s\n", what, count, (double) count / seconds);
    bench_info ("p50", bench_percentile (samples, count, 0.50), "us", NULL);
    if (goal)
        bench_figure ("p99", p99, "us", "< 1000 us", p99 < 1000);
    else
        bench_info ("p99", p99, "us", NULL);
    bench_info ("p99.9", bench_percentile (samples, count, 0.999), "us", NULL);
    bench_info ("max", count? samples [count - 1]: 0, "us", NULL);
}

//  A sender paced at LATENCY_RATE through one forwarder
static int
s_latency_paced (bool is_broker, double seconds)
{
    path_t path;
    if (s_path_open (&path, is_broker))
        return -1;
    size_t total = (size_t) ((seconds + LATENCY_WARMUP_S) * LATENCY_RATE);
    double *samples = calloc (total, sizeof (double));
    pthread_t thread;
    sender_t sender;
    uint64_t counted_from = bench_wall_ns () + (uint64_t) (LATENCY_WARMUP_S * 1e9);
    s_senders_start (&thread, &sender, 1, path.ingest, total, LATENCY_RATE, NULL);
    int64_t until = bench_mono_ns () + (int64_t) ((seconds + LATENCY_WARMUP_S + 2) * 1e9);
    size_t count = s_collect_latency (&path, samples, total, counted_from, until);
    s_senders_join (&thread, 1);
    char what [96];
    snprintf (what, sizeof (what), "paced sender %d ev/s -> %s -> SUB", LATENCY_RATE, path.name);
    int rc = s_path_close (&path);
    s_print_latency (what, samples, count, seconds, is_broker);
    free (samples);
    return count? rc: -1;
}

//  A real agent in this process reads a CONNECT_RETRIED storm (sockets
//  retrying dead ports every STORM_RECONNECT_IVL ms) and forwards it
static int
s_latency_agent (double seconds)
{
    path_t path;
    if (s_path_open (&path, true))
        return -1;
    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, path.ingest);
    if (!agent) {
        fprintf (stderr, "bench_broker: zwatch_agent_new: %s\n", strerror (errno));
        zmq_ctx_term (ctx);
        s_path_close (&path);
        return -1;
    }
    void *sockets [STORM_SOCKETS];
    uint64_t counted_from = bench_wall_ns () + (uint64_t) (LATENCY_WARMUP_S * 1e9);
    for (int index = 0; index < STORM_SOCKETS; index++) {
        sockets [index] = zmq_socket (ctx, ZMQ_DEALER);
        int ivl = STORM_RECONNECT_IVL, linger = 0;
        zmq_setsockopt (sockets [index], ZMQ_RECONNECT_IVL, &ivl, sizeof (ivl));
        zmq_setsockopt (sockets [index], ZMQ_LINGER, &linger, sizeof (linger));
        zwatch_agent_watch (agent, sockets [index], NULL);
        char *dead = tu_free_endpoint ();
        zmq_connect (sockets [index], dead);
        free (dead);
    }
    size_t max = (size_t) (seconds * 500000);       //  far more than the storm makes
    double *samples = calloc (max, sizeof (double));
    int64_t until = bench_mono_ns () + (int64_t) ((seconds + LATENCY_WARMUP_S) * 1e9);
    size_t count = s_collect_latency (&path, samples, max, counted_from, until);
    zwatch_agent_stats_t stats;
    zwatch_agent_stats (agent, &stats);
    for (int index = 0; index < STORM_SOCKETS; index++)
        zmq_close (sockets [index]);
    zwatch_agent_destroy (&agent);
    zmq_ctx_term (ctx);
    int rc = s_path_close (&path);
    char what [160];
    snprintf (what, sizeof (what), "real agent, %d sockets retrying dead ports every %d ms -> "
              "zwatch-broker -> SUB", STORM_SOCKETS, STORM_RECONNECT_IVL);
    s_print_latency (what, samples, count, seconds, true);
    printf ("  (agent: %llu events read, %llu sent, %llu dropped)\n",
            (unsigned long long) stats.read, (unsigned long long) stats.sent,
            (unsigned long long) stats.dropped);
    free (samples);
    return count? rc: -1;
}

//  4. AGENTS DEALERs in one context, each a distinct agent (pid)
static int
s_many_agents (void)
{
    printf ("\n4. %d agents connected at once (hello, %d events, heartbeat each)\n",
            AGENTS, AGENT_EVENTS);
    path_t path;
    if (s_path_open (&path, true))
        return -1;
    long rss_before = bench_rss_kb (path.pid);
    void *ctx = zmq_ctx_new ();
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, AGENTS + 64);
    void **dealers = calloc (AGENTS, sizeof (void *));
    bench_feed_t **feeds = calloc (AGENTS, sizeof (bench_feed_t *));
    int64_t started = bench_mono_ns ();
    int connected = 0;
    for (int index = 0; index < AGENTS; index++, connected++) {
        dealers [index] = zmq_socket (ctx, ZMQ_DEALER);
        if (!dealers [index]) {
            fprintf (stderr, "bench_broker: socket %d: %s\n", index, zmq_strerror (zmq_errno ()));
            break;
        }
        int linger = 0;
        zmq_setsockopt (dealers [index], ZMQ_LINGER, &linger, sizeof (linger));
        zmq_connect (dealers [index], path.ingest);
        feeds [index] = bench_feed_new ("many", (uint64_t) (1000 + index));
        bench_feed_send_lifecycle (feeds [index], dealers [index], ZWATCH_KIND_HELLO, 0);
        for (int event = 0; event < AGENT_EVENTS; event++)
            bench_feed_send_event (feeds [index], dealers [index], 0);
        bench_feed_send_lifecycle (feeds [index], dealers [index], ZWATCH_KIND_HEARTBEAT, 0);
    }
    size_t ups = 0, events = 0;
    while ((ups < AGENTS || events < (size_t) AGENTS * AGENT_EVENTS) && s_receive (&path))
        if (s_is_event (&path))
            events++;
        else
        if (s_topic_starts (&path, "agent/"))
            ups++;
    double seconds = (double) (bench_mono_ns () - started) / 1e9;
    long rss_after = bench_rss_kb (path.pid);
    for (int index = 0; index < connected; index++) {
        zmq_close (dealers [index]);
        bench_feed_destroy (&feeds [index]);
    }
    free (dealers);
    free (feeds);
    zmq_ctx_term (ctx);
    int rc = s_path_close (&path);
    printf ("  %zu agents up and %zu events through the broker in %.2f s\n", ups, events, seconds);
    bench_info ("broker VmRSS before the agents", (double) rss_before / 1024, "MiB", NULL);
    bench_figure ("broker VmRSS with 1000 agents connected", (double) rss_after / 1024, "MiB",
                  "< 64 MiB", rss_after < 64 * 1024);
    bench_info ("broker memory per agent", (double) (rss_after - rss_before) / AGENTS, "KiB", NULL);
    return ups == AGENTS? rc: -1;
}

static int
s_positive (const char *text, double *value)
{
    char *end;
    *value = strtod (text, &end);
    return *end || *value <= 0? -1: 0;
}

static int
s_parse (int argc, char *argv [], options_t *options)
{
    *options = (options_t) { ROUNDS_DEFAULT, MESSAGES_DEFAULT, SENDERS_DEFAULT, SECONDS_DEFAULT };
    for (int arg = 1; arg < argc; arg++) {
        double value;
        if (arg + 1 >= argc || s_positive (argv [arg + 1], &value))
            return -1;
        if (strcmp (argv [arg], "--rounds") == 0)
            options->rounds = (int) value;
        else
        if (strcmp (argv [arg], "--messages") == 0)
            options->messages = (size_t) value;
        else
        if (strcmp (argv [arg], "--senders") == 0 && value <= SENDERS_MAX)
            options->senders = (int) value;
        else
        if (strcmp (argv [arg], "--seconds") == 0)
            options->seconds = value;
        else
            return -1;
        arg++;
    }
    return options->rounds >= 1 && options->senders >= 1
        && options->messages >= (size_t) options->senders? 0: -1;
}

int
main (int argc, char *argv [])
{
    options_t options;
    if (s_parse (argc, argv, &options)) {
        fprintf (stderr, "usage: bench_broker [--rounds N] [--messages N] [--senders N<=%d] "
                 "[--seconds S]\n  defaults: %d rounds, %d messages, %d senders, %.0f s\n",
                 SENDERS_MAX, ROUNDS_DEFAULT, MESSAGES_DEFAULT, SENDERS_DEFAULT, SECONDS_DEFAULT);
        return 2;
    }
    //  1,000 connections on each side need more descriptors than the usual 1024
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit (RLIMIT_NOFILE, &limit);
    }
    s_send_ctx = zmq_ctx_new ();
    s_sub_ctx = zmq_ctx_new ();
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    printf ("zwatch broker benchmark: zwatch-broker vs raw zmq_proxy (libzmq %d.%d.%d, %ld CPUs)\n",
            major, minor, patch, sysconf (_SC_NPROCESSORS_ONLN));
    int rc = s_throughput (&options);
    if (rc == 0) {
        printf ("\n3. Latency, event ts to subscriber receive (%.1f s of samples after %.1f s "
                "warm-up)\n", options.seconds, LATENCY_WARMUP_S);
        rc = s_latency_paced (false, options.seconds);
    }
    if (rc == 0)
        rc = s_latency_paced (true, options.seconds);
    if (rc == 0)
        rc = s_latency_agent (options.seconds);
    if (rc == 0)
        rc = s_many_agents ();
    zmq_ctx_term (s_send_ctx);
    zmq_ctx_term (s_sub_ctx);
    return rc == 0? 0: 1;
}
