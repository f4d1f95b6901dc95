/*  bench_tiers: zwatch brokers in tiers (issue 16), the figures that
    docs/SCALING.md plans from.

    A root zwatch-broker (bench_path: random loopback ports, a SUB on its
    feed) and EDGES edge brokers started with --parent <root ingest>, all
    real processes. Stand-in agents (bench_feed, DEALERs in this process)
    talk to the edges only.

    1. Forwarding: two sender threads (credit window, as in bench_broker),
       each into its own edge; events/s at the root's subscriber; CPU per
       event of the root process and of the two edges; against the same
       senders straight into a root (one tier) and into raw zmq_proxy (one
       hop), in the same run.
    2. Latency: a sender paced at 10k events/s into an edge, event ts to
       the root's subscriber; the same straight into the root.
    3. A fleet: EDGES x AGENTS agents (hello, 10 events, a heartbeat each,
       as bench_broker's 1,000 agents): the root's VmRSS and the edges'
       with the fleet, the root's snapshot size; then the root is killed
       (SIGKILL) and started again on the same ports: the time until its
       snapshot holds every agent again (the edges replay what they hold).
    4. A fleet-wide outage: STORM_AGENTS real agents (tests' fault_service
       processes, libzwatch) behind the edges, each with STORM_SOCKETS
       DEALERs retrying a dead port every STORM_IVL ms: messages/s and
       events/s (a folded message counts what it stands for) reaching the
       root, with folding on and off (ZWATCH_FOLD=0).

    Figures only: exit 0 unless something broke.

    Usage: bench_tiers [--rounds N] [--messages N] [--edges N] [--agents N]
                       [--storm-agents N] [--storm-sockets N] [--seconds S]
*/

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <zmq.h>
#include "testutil.h"
#include "snap_client.h"
#include "bench_feed.h"
#include "bench_path.h"
#include "bench_util.h"

#define ROUNDS_DEFAULT          3
#define MESSAGES_DEFAULT        300000      //  per forwarding round, both senders
#define EDGES_DEFAULT           10
#define AGENTS_DEFAULT          100         //  per edge
#define STORM_AGENTS_DEFAULT    100
#define STORM_SOCKETS_DEFAULT   10          //  per storm agent
#define SECONDS_DEFAULT         3.0
#define EDGES_MAX               32
#define STORM_AGENTS_MAX        200         //  processes (tu_spawn keeps at most 256)
#define STORM_IVL               "100"       //  msecs between a storm socket's tries
#define EVENTS_PER_AGENT        10
#define LATENCY_RATE            10000
#define LATENCY_WARMUP_S        0.5
#define READY_TIMEOUT_MS        20000
#define WHOLE_TIMEOUT_MS        120000      //  a fleet in the root's snapshot
#define SNAPSHOT_TIMEOUT_MS     30000

typedef struct {
    int rounds;
    size_t messages;
    int edges;
    int agents;
    int storm_agents;
    int storm_sockets;
    double seconds;
} options_t;

//  An edge broker: its own ports, forwarding to the root
typedef struct {
    pid_t pid;
    char id [32];
    char *ingest;
    char *publish;
    char *snapshot;
    char *log;
} edge_t;

//  The root's command line, kept to start it again on the same ports
static const char *const s_root_args [] = { "--heartbeat-timeout", "600", NULL };

static int
s_edge_start (edge_t *edge, int index, const char *parent)
{
    memset (edge, 0, sizeof (*edge));
    snprintf (edge->id, sizeof (edge->id), "edge-%d", index);
    edge->ingest = tu_free_endpoint ();
    edge->publish = tu_free_endpoint ();
    edge->snapshot = tu_free_endpoint ();
    edge->log = tu_temp_path (".log");
    char *bin = tu_bin ("zwatch-broker");
    const char *argv [] = { bin, "--ingest", edge->ingest, "--publish", edge->publish,
                            "--snapshot", edge->snapshot, "--id", edge->id,
                            "--parent", parent, "--heartbeat-timeout", "600", NULL };
    edge->pid = tu_spawn (argv, NULL, edge->log);
    free (bin);
    return edge->pid > 0? 0: -1;
}

static void
s_edge_stop (edge_t *edge)
{
    if (edge->pid > 0) {
        kill (edge->pid, SIGTERM);
        if (tu_wait (edge->pid, 5000) != 0)
            fprintf (stderr, "bench_tiers: %s did not exit cleanly on SIGTERM (log %s)\n",
                     edge->id, edge->log);
        tu_kill (edge->pid);
    }
    tu_remove_output (edge->log);
    free (edge->ingest);
    free (edge->publish);
    free (edge->snapshot);
    free (edge->log);
    memset (edge, 0, sizeof (*edge));
}

//  True if the root's current message is an event of service svc
static bool
s_topic_has (bench_path_t *root, const char *svc)
{
    char needle [64];
    snprintf (needle, sizeof (needle), "/%s/", svc);
    return bench_path_is_event (root)
        && memmem (zmq_msg_data (&root->topic), zmq_msg_size (&root->topic),
                   needle, strlen (needle)) != NULL;
}

//  Events sent into an edge come out of the root: the edge is up and its
//  parent link too
static int
s_edge_ready (bench_path_t *root, edge_t *edge)
{
    void *probe = zmq_socket (bench_path_send_ctx (), ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (probe, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_connect (probe, edge->ingest);
    char svc [48];
    snprintf (svc, sizeof (svc), "probe-%s", edge->id);
    bench_feed_t *feed = bench_feed_new (svc, (uint64_t) edge->pid);
    long long deadline = tu_now_ms () + READY_TIMEOUT_MS;
    int rc = -1;
    int quiet = 20;
    zmq_setsockopt (root->sub, ZMQ_RCVTIMEO, &quiet, sizeof (quiet));
    while (rc != 0 && tu_now_ms () < deadline && tu_wait (edge->pid, 0) == -1) {
        bench_feed_send_event (feed, probe, ZMQ_DONTWAIT);
        while (rc != 0 && bench_path_receive (root))
            if (s_topic_has (root, svc))
                rc = 0;
    }
    while (bench_path_receive (root))
        ;
    int idle = 1000;
    zmq_setsockopt (root->sub, ZMQ_RCVTIMEO, &idle, sizeof (idle));
    bench_feed_destroy (&feed);
    zmq_close (probe);
    if (rc)
        fprintf (stderr, "bench_tiers: nothing sent into %s came out of the root within %d ms "
                 "(log %s)\n", edge->id, READY_TIMEOUT_MS, edge->log);
    return rc;
}

static int
s_tiers_open (bench_path_t *root, edge_t *edges, int count)
{
    if (bench_path_open (root, "root", true, s_root_args))
        return -1;
    for (int index = 0; index < count; index++)
        if (s_edge_start (&edges [index], index, root->ingest) || s_edge_ready (root, &edges [index])) {
            for (int started = 0; started <= index; started++)
                s_edge_stop (&edges [started]);
            bench_path_close (root);
            return -1;
        }
    return 0;
}

static void
s_tiers_close (bench_path_t *root, edge_t *edges, int count)
{
    for (int index = 0; index < count; index++)
        s_edge_stop (&edges [index]);
    bench_path_close (root);
}

//  One forwarding round: senders into entries [0] and [1], events counted
//  at out's subscriber; CPU of the processes in cpu_pids per event
typedef struct {
    double rate;
    double delivered;           //  of the events sent
    double cpu_ns [3];          //  per process of cpu_pids
} round_t;

static int
s_forward_round (bench_path_t *out, const char *entries [2], const pid_t cpu_pids [3],
                 size_t messages, round_t *result)
{
    size_t each = messages / 2, total = each * 2;
    int64_t cpu_before [3];
    for (int index = 0; index < 3; index++)
        cpu_before [index] = cpu_pids [index]? bench_process_cpu_ns (cpu_pids [index]): 0;
    pthread_t threads [2];
    bench_sender_t senders [2];
    //  In flight at most what one edge's parent link holds (ZWATCH_PARENT_SNDHWM, 10000):
    //  past it an edge drops, by design, and counts it
    bench_flow_t flow = { 0, 0, false, 8000, 1 };
    int64_t start = bench_mono_ns ();
    for (int index = 0; index < 2; index++)
        bench_sender_start (&threads [index], &senders [index], index, entries [index], each, 0,
                            &flow);
    size_t received = 0;
    int64_t last = start;
    while (received < total && bench_path_receive (out))
        if (bench_path_is_event (out)) {
            atomic_store_explicit (&flow.received, ++received, memory_order_relaxed);
            last = bench_mono_ns ();
        }
    if (received < total)
        atomic_store (&flow.abort, true);
    for (int index = 0; index < 3; index++)
        result->cpu_ns [index] = cpu_pids [index]
            ? (double) (bench_process_cpu_ns (cpu_pids [index]) - cpu_before [index]) / (double) total
            : 0;
    bench_senders_join (threads, 2);
    result->rate = last > start? (double) received * 1e9 / (double) (last - start): 0;
    result->delivered = (double) received / (double) total;
    if (received < total)
        printf ("  (%s: %zu of %zu events arrived)\n", out->name, received, total);
    return received? 0: -1;
}

static void
s_spread (const char *name, double *values, size_t count, const char *unit)
{
    bench_sort (values, count);
    char note [96];
    snprintf (note, sizeof (note), "(median of %zu, %.0f - %.0f)", count, values [0],
              values [count - 1]);
    bench_info (name, bench_median (values, count), unit, note);
}

static int
s_forwarding (const options_t *options)
{
    size_t rounds = (size_t) options->rounds;
    double tiers [rounds], tiers_root [rounds], tiers_edges [rounds];
    double single [rounds], single_cpu [rounds], proxy [rounds], proxy_cpu [rounds];
    double delivered [rounds];
    printf ("forwarding: 2 senders, %zu events a round, %zu rounds (two tiers: each sender into "
            "its own edge)\n", options->messages, rounds);
    for (size_t round = 0; round < rounds; round++) {
        bench_path_t root;
        edge_t edges [2];
        round_t result;
        if (s_tiers_open (&root, edges, 2))
            return -1;
        const char *entries [2] = { edges [0].ingest, edges [1].ingest };
        pid_t pids [3] = { root.pid, edges [0].pid, edges [1].pid };
        int rc = s_forward_round (&root, entries, pids, options->messages, &result);
        s_tiers_close (&root, edges, 2);
        if (rc)
            return -1;
        tiers [round] = result.rate;
        delivered [round] = result.delivered;
        tiers_root [round] = result.cpu_ns [0];
        tiers_edges [round] = (result.cpu_ns [1] + result.cpu_ns [2]);

        bench_path_t one;
        if (bench_path_open (&one, "broker (one tier)", true, s_root_args))
            return -1;
        const char *direct [2] = { one.ingest, one.ingest };
        pid_t one_pids [3] = { one.pid, 0, 0 };
        rc = s_forward_round (&one, direct, one_pids, options->messages, &result);
        bench_path_close (&one);
        if (rc)
            return -1;
        single [round] = result.rate;
        single_cpu [round] = result.cpu_ns [0];

        if (bench_path_open (&one, "zmq_proxy", false, NULL))
            return -1;
        const char *raw [2] = { one.ingest, one.ingest };
        one_pids [0] = one.pid;
        rc = s_forward_round (&one, raw, one_pids, options->messages, &result);
        bench_path_close (&one);
        if (rc)
            return -1;
        proxy [round] = result.rate;
        proxy_cpu [round] = result.cpu_ns [0];
        printf ("  round %zu: edges -> root %.0f ev/s (delivered %.4f%%), one broker %.0f ev/s, "
                "zmq_proxy %.0f ev/s\n", round + 1, tiers [round], delivered [round] * 100,
                single [round], proxy [round]);
    }
    double tiers_m = bench_median (tiers, rounds), single_m = bench_median (single, rounds);
    double proxy_m = bench_median (proxy, rounds);
    s_spread ("edges -> root throughput", tiers, rounds, "ev/s");
    s_spread ("one broker throughput", single, rounds, "ev/s");
    s_spread ("zmq_proxy (one hop) throughput", proxy, rounds, "msg/s");
    bench_info ("two tiers / one broker", tiers_m / single_m, "x", NULL);
    bench_info ("two tiers / zmq_proxy", tiers_m / proxy_m, "x", NULL);
    s_spread ("root process CPU per event (two tiers)", tiers_root, rounds, "ns");
    s_spread ("edge process CPU per event (an edge's share, both summed)", tiers_edges, rounds, "ns");
    s_spread ("one broker process CPU per event", single_cpu, rounds, "ns");
    s_spread ("zmq_proxy process CPU per message", proxy_cpu, rounds, "ns");
    return 0;
}

//  Latency of a paced sender through out, entering at entry
static int
s_latency_run (bench_path_t *out, const char *entry, const char *what, double seconds)
{
    size_t total = (size_t) ((seconds + LATENCY_WARMUP_S) * LATENCY_RATE);
    double *samples = calloc (total, sizeof (double));
    pthread_t thread;
    bench_sender_t sender;
    uint64_t counted_from = bench_wall_ns () + (uint64_t) (LATENCY_WARMUP_S * 1e9);
    bench_sender_start (&thread, &sender, 0, entry, total, LATENCY_RATE, NULL);
    int64_t until = bench_mono_ns () + (int64_t) ((seconds + LATENCY_WARMUP_S + 2) * 1e9);
    size_t count = bench_path_collect_latency (out, samples, total, counted_from, until);
    bench_senders_join (&thread, 1);
    bench_path_print_latency (what, samples, count, seconds, NULL);
    free (samples);
    return count? 0: -1;
}

static int
s_latency (const options_t *options)
{
    printf ("latency: one sender paced at %d ev/s, ts to the root's subscriber\n", LATENCY_RATE);
    bench_path_t root;
    edge_t edge;
    if (s_tiers_open (&root, &edge, 1))
        return -1;
    int rc = s_latency_run (&root, edge.ingest, "sender -> edge -> root -> SUB", options->seconds);
    rc |= s_latency_run (&root, root.ingest, "sender -> root -> SUB (one tier)", options->seconds);
    s_tiers_close (&root, &edge, 1);
    return rc;
}

//  The agents of the fleet: one DEALER each into its edge
typedef struct {
    void *ctx;                  //  its own: ZMQ_MAX_SOCKETS is set before any socket
    void **dealers;
    size_t count;
} fleet_t;

static int
s_fleet_start (fleet_t *fleet, edge_t *edges, int edge_count, int agents)
{
    fleet->count = (size_t) edge_count * (size_t) agents;
    fleet->ctx = zmq_ctx_new ();
    zmq_ctx_set (fleet->ctx, ZMQ_MAX_SOCKETS, (int) fleet->count + 64);
    fleet->dealers = calloc (fleet->count, sizeof (void *));
    for (size_t index = 0; index < fleet->count; index++) {
        void *dealer = zmq_socket (fleet->ctx, ZMQ_DEALER);
        if (!dealer) {
            fprintf (stderr, "bench_tiers: agent %zu: %s\n", index, zmq_strerror (errno));
            return -1;
        }
        int linger = 2000;
        zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof (linger));
        zmq_connect (dealer, edges [index % (size_t) edge_count].ingest);
        char svc [32];
        snprintf (svc, sizeof (svc), "fleet-%zu", index);
        bench_feed_t *feed = bench_feed_new (svc, (uint64_t) (10000 + index));
        bench_feed_send_lifecycle (feed, dealer, ZWATCH_KIND_HELLO, 0);
        for (int event = 0; event < EVENTS_PER_AGENT; event++)
            bench_feed_send_event (feed, dealer, 0);
        bench_feed_send_lifecycle (feed, dealer, ZWATCH_KIND_HEARTBEAT, 0);
        bench_feed_destroy (&feed);
        fleet->dealers [index] = dealer;
    }
    return 0;
}

static void
s_fleet_stop (fleet_t *fleet)
{
    for (size_t index = 0; index < fleet->count; index++)
        if (fleet->dealers [index])
            zmq_close (fleet->dealers [index]);
    free (fleet->dealers);
    fleet->dealers = NULL;
    if (fleet->ctx)
        zmq_ctx_term (fleet->ctx);
    fleet->ctx = NULL;
}

//  Agents of the fleet in one snapshot of endpoint; -1 if none came.
//  bytes (may be NULL): the reply's frames' size
static long
s_fleet_agents (const char *endpoint, size_t *frames)
{
    snap_client_t *client = snap_client_new (endpoint);
    snap_client_request (client, NULL, 0);
    snap_reply_t *reply = snap_client_reply (client, SNAPSHOT_TIMEOUT_MS);
    long agents = -1;
    if (reply && !snap_reply_error (reply)) {
        agents = 0;
        for (size_t index = 0; index < snap_reply_count (reply, "agent"); index++) {
            char svc [72];
            const msgpack_object *agent = snap_reply_nth (reply, "agent", index);
            if (strncmp (mp_str (agent, "svc", svc, sizeof (svc)), "fleet-", 6) == 0)
                agents++;
        }
        if (frames)
            *frames = snap_reply_size (reply);
    }
    snap_reply_destroy (&reply);
    snap_client_destroy (&client);
    return agents;
}

//  Msecs until endpoint's snapshot holds want fleet agents, -1 on timeout
static long long
s_wait_whole (const char *endpoint, long want, long long since)
{
    while (tu_now_ms () - since < WHOLE_TIMEOUT_MS) {
        if (s_fleet_agents (endpoint, NULL) >= want)
            return tu_now_ms () - since;
        usleep (50 * 1000);     //  between snapshots, not a readiness guess
    }
    return -1;
}

static int
s_fleet (const options_t *options)
{
    int edge_count = options->edges;
    long want = (long) edge_count * options->agents;
    printf ("a fleet: %d edges x %d agents (hello, %d events, a heartbeat each)\n", edge_count,
            options->agents, EVENTS_PER_AGENT);
    bench_path_t root;
    edge_t edges [EDGES_MAX];
    if (s_tiers_open (&root, edges, edge_count))
        return -1;
    long root_before = bench_rss_kb (root.pid);
    long edge_before = bench_rss_kb (edges [0].pid);
    fleet_t fleet = { NULL, NULL, 0 };
    long long start = tu_now_ms ();
    int rc = s_fleet_start (&fleet, edges, edge_count, options->agents);
    long long whole = rc? -1: s_wait_whole (root.snapshot, want, start);
    if (whole < 0) {
        fprintf (stderr, "bench_tiers: the root's snapshot never held the %ld agents\n", want);
        rc = -1;
    }
    if (rc == 0) {
        size_t frames = 0;
        s_fleet_agents (root.snapshot, &frames);
        bench_info ("fleet whole at the root after", (double) whole, "ms", "(from the first hello)");
        bench_info ("root VmRSS before the fleet", (double) root_before / 1024.0, "MiB", NULL);
        bench_info ("root VmRSS with the fleet", (double) bench_rss_kb (root.pid) / 1024.0, "MiB",
                    NULL);
        bench_info ("one edge's VmRSS before its agents", (double) edge_before / 1024.0, "MiB",
                    NULL);
        bench_info ("one edge's VmRSS with its agents", (double) bench_rss_kb (edges [0].pid) /
                    1024.0, "MiB", NULL);
        bench_info ("root snapshot frames", (double) frames, "", NULL);

        //  The root dies and comes back on the same ports: the edges see their
        //  parent reconnect and replay what they hold
        char *bin = tu_bin ("zwatch-broker");
        const char *argv [] = { bin, "--ingest", root.ingest, "--publish", root.publish,
                                "--snapshot", root.snapshot, "--id", "bench",
                                "--heartbeat-timeout", "600", NULL };
        tu_kill (root.pid);
        long long killed = tu_now_ms ();
        root.pid = tu_spawn (argv, NULL, root.log);
        free (bin);
        long long healed = s_wait_whole (root.snapshot, want, killed);
        if (healed < 0) {
            fprintf (stderr, "bench_tiers: the restarted root never held the %ld agents again\n",
                     want);
            rc = -1;
        }
        else
            bench_info ("root whole again after its restart", (double) healed, "ms",
                        "(SIGKILL to a snapshot with every agent)");
    }
    s_fleet_stop (&fleet);
    s_tiers_close (&root, edges, edge_count);
    return rc;
}

//  What one storm run saw: the agents' own counters (fault_service's
//  "done" line at SIGTERM) against what reached the root
typedef struct {
    double seconds;             //  from the first agent started to the last one stopped
    uint64_t read, sent, dropped;
    uint64_t messages, events;  //  at the root: event messages, events they stand for
} storm_t;

static void
s_storm_count (bench_path_t *root, storm_t *storm)
{
    zwatch_msg_t msg;
    if (bench_path_is_event (root)
    &&  zwatch_msg_decode (&msg, zmq_msg_data (&root->body), zmq_msg_size (&root->body), NULL)
        == ZWATCH_OK) {
        storm->messages++;
        storm->events += msg.count? msg.count: 1;
    }
}

static uint64_t
s_field (const char *text, const char *name)
{
    const char *at = strstr (text, name);
    return at? strtoull (at + strlen (name), NULL, 10): 0;
}

//  A fleet-wide outage through the tiers: storm agents retrying a dead
//  port behind two edges, for settle + seconds; then every agent stops
//  (SIGTERM: it sends what it holds, says bye and prints its counters) and
//  the root's feed is read until it is quiet
static int
s_storm_run (const options_t *options, bool fold, storm_t *storm)
{
    memset (storm, 0, sizeof (*storm));
    int edge_count = options->edges < 2? options->edges: 2;
    bench_path_t root;
    edge_t edges [2];
    if (s_tiers_open (&root, edges, edge_count))
        return -1;
    char *bin = tu_bin ("fault_service");
    char *dead = tu_free_endpoint ();
    char sockets [16];
    snprintf (sockets, sizeof (sockets), "%d", options->storm_sockets);
    pid_t pids [STORM_AGENTS_MAX];
    char *logs [STORM_AGENTS_MAX];
    int64_t start = bench_mono_ns ();
    for (int index = 0; index < options->storm_agents; index++) {
        char broker [300], service [64];
        snprintf (broker, sizeof (broker), "ZWATCH_BROKER=%s", edges [index % edge_count].ingest);
        snprintf (service, sizeof (service), "ZWATCH_SERVICE=storm-%d", index);
        const char *env [] = { broker, service, fold? "ZWATCH_FOLD=1": "ZWATCH_FOLD=0", NULL };
        const char *argv [] = { bin, "--storm", sockets, "--dead", dead, "--storm-ivl", STORM_IVL,
                                NULL };
        logs [index] = tu_temp_path (".log");
        pids [index] = tu_spawn (argv, env, logs [index]);
    }
    int64_t until = start + (int64_t) ((options->seconds + 1) * 1e9);
    while (bench_mono_ns () < until && bench_path_receive (&root))
        s_storm_count (&root, storm);
    for (int index = 0; index < options->storm_agents; index++)
        kill (pids [index], SIGTERM);
    int rc = 0;
    for (int index = 0; index < options->storm_agents; index++) {
        if (tu_wait (pids [index], 20000) != 0) {
            fprintf (stderr, "bench_tiers: storm agent %d did not stop cleanly\n", index);
            tu_kill (pids [index]);
            rc = -1;
        }
        char *out = tu_read_file (logs [index]);
        const char *done = out? strstr (out, "done "): NULL;
        if (done) {
            storm->read += s_field (done, " read=");
            storm->sent += s_field (done, " sent=");
            storm->dropped += s_field (done, " dropped=");
        }
        else
            rc = -1;
        free (out);
        tu_remove_output (logs [index]);
        free (logs [index]);
    }
    storm->seconds = (double) (bench_mono_ns () - start) / 1e9;
    while (bench_path_receive (&root))        //  until a second of silence
        s_storm_count (&root, storm);
    free (dead);
    free (bin);
    s_tiers_close (&root, edges, edge_count);
    return storm->messages? rc: -1;
}

static void
s_storm_print (const char *what, const storm_t *storm)
{
    printf ("  %s: agents read %llu events, sent %llu, dropped %llu in %.1f s; the root got %llu "
            "messages for %llu events\n", what, (unsigned long long) storm->read,
            (unsigned long long) storm->sent, (unsigned long long) storm->dropped, storm->seconds,
            (unsigned long long) storm->messages, (unsigned long long) storm->events);
    bench_info ("  events/s the agents read", (double) storm->read / storm->seconds, "ev/s", NULL);
    bench_info ("  messages/s reaching the root", (double) storm->messages / storm->seconds,
                "msg/s", NULL);
    bench_info ("  events/s they stand for", (double) storm->events / storm->seconds, "ev/s", NULL);
    bench_info ("  of the events the agents sent, at the root", storm->sent?
                100.0 * (double) storm->events / (double) storm->sent: 0, "%", NULL);
}

static int
s_storm (const options_t *options)
{
    printf ("a fleet-wide outage: %d agents x %d sockets retrying a dead port every %s ms, behind "
            "2 edges, %.0f s\n", options->storm_agents, options->storm_sockets, STORM_IVL,
            options->seconds + 1);
    storm_t on, off;
    if (s_storm_run (options, true, &on) || s_storm_run (options, false, &off))
        return -1;
    s_storm_print ("folding off", &off);
    s_storm_print ("folding on", &on);
    bench_info ("messages a second at the root, on / off", (on.messages / on.seconds) /
                (off.messages / off.seconds), "x", NULL);
    return 0;
}

static int
s_positive (const char *text, long *value)
{
    char *end;
    errno = 0;
    *value = strtol (text, &end, 10);
    return errno || *end || *value < 0? -1: 0;
}

static int
s_parse (int argc, char *argv [], options_t *options)
{
    *options = (options_t) { ROUNDS_DEFAULT, MESSAGES_DEFAULT, EDGES_DEFAULT, AGENTS_DEFAULT,
                             STORM_AGENTS_DEFAULT, STORM_SOCKETS_DEFAULT, SECONDS_DEFAULT };
    for (int arg = 1; arg < argc; arg += 2) {
        long value;
        if (arg + 1 >= argc || s_positive (argv [arg + 1], &value))
            return -1;
        if (strcmp (argv [arg], "--rounds") == 0 && value > 0)
            options->rounds = (int) value;
        else
        if (strcmp (argv [arg], "--messages") == 0 && value > 1)
            options->messages = (size_t) value;
        else
        if (strcmp (argv [arg], "--edges") == 0 && value > 0 && value <= EDGES_MAX)
            options->edges = (int) value;
        else
        if (strcmp (argv [arg], "--agents") == 0 && value > 0)
            options->agents = (int) value;
        else
        if (strcmp (argv [arg], "--storm-agents") == 0 && value <= STORM_AGENTS_MAX)
            options->storm_agents = (int) value;
        else
        if (strcmp (argv [arg], "--storm-sockets") == 0 && value > 0)
            options->storm_sockets = (int) value;
        else
        if (strcmp (argv [arg], "--seconds") == 0 && value > 0)
            options->seconds = (double) value;
        else
            return -1;
    }
    return 0;
}

int
main (int argc, char *argv [])
{
    options_t options;
    if (s_parse (argc, argv, &options)) {
        fprintf (stderr, "usage: bench_tiers [--rounds N] [--messages N] [--edges N<=%d] "
                 "[--agents N] [--storm-agents N<=%d (0: none)] [--storm-sockets N] "
                 "[--seconds S]\n", EDGES_MAX, STORM_AGENTS_MAX);
        return 2;
    }
    //  Thousands of DEALERs and the brokers' descriptors
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit (RLIMIT_NOFILE, &limit);
    }
    bench_path_init ();
    printf ("bench_tiers: %d edges, %d agents each, rounds %d\n", options.edges, options.agents,
            options.rounds);
    int rc = s_forwarding (&options);
    rc |= s_latency (&options);
    rc |= s_fleet (&options);
    if (options.storm_agents)
        rc |= s_storm (&options);
    bench_path_term ();
    return rc? 1: 0;
}
