/*  bench_snapshot: the broker's snapshots of a fleet of 1,000 agents with
    10 sockets and 10 connections each (issue 13).

    A real zwatch-broker process (bench_path: random loopback ports, a SUB
    on its feed) takes the fleet from 1,000 stand-in agents over the real
    wire, one DEALER each (bench_feed's encoder): hello, a state replay
    (even agents: 10 ROUTER sockets, each listening and with 10 accepted
    connections; odd agents: 10 DEALER sockets, each with 10 connections
    to its even neighbour's socket, so every connection is one link), the
    state_end, a heartbeat. 100,000 connections, 50,000 links. The broker
    runs with --heartbeat-timeout 600 so that the agents stay for the run
    without more heartbeats.

    1. Memory: the broker's VmRSS before the fleet, with it, after the
       snapshots; and the same fleet fed to a broker with --no-fleet.
    2. Snapshot time and size: a DEALER (snap_client) asks for the whole
       fleet; time from the request to snapshot_end, median and spread over
       rounds; frames, bytes, the largest frame; the broker's forwarding
       thread CPU per snapshot.
    3. Forwarding during snapshots: sender threads (credit window, as in
       bench_broker) push events through the broker to the SUB, in rounds
       with a client asking for snapshots back to back and rounds without;
       events/s and the longest gap between two events at the subscriber.

    Figures only: exit 0 unless something broke.

    Usage: bench_snapshot [--rounds N] [--messages N]
*/

#define _GNU_SOURCE
#include <pthread.h>
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

#define ROUNDS_DEFAULT      11
#define MESSAGES_DEFAULT    500000      //  per forwarding round
#define AGENTS              1000
#define SOCKETS             10          //  per agent
#define CONNECTIONS         10          //  per socket
#define LINKS               (AGENTS * SOCKETS * CONNECTIONS / 2)
#define SENDERS             2
#define LOAD_TIMEOUT_MS     120000      //  the whole fleet in the model
#define REPLY_TIMEOUT_MS    60000       //  one snapshot, whole
#define SMALL_FRAME         256         //  snapshot_end and agent maps are below

typedef struct {
    int rounds;
    size_t messages;
} options_t;

//  One snapshot as the client saw it
typedef struct {
    double ms;                  //  request sent to snapshot_end received
    size_t frames;
    size_t bytes;
    size_t largest;
    uint64_t agents, sockets, links;    //  snapshot_end's counts
} snapshot_t;

static const char *const s_fleet_args [] = { "--heartbeat-timeout", "600",
                                             "--stats-interval", "0.2", NULL };
static const char *const s_no_fleet_args [] = { "--heartbeat-timeout", "600",
                                                "--stats-interval", "0.2", "--no-fleet", NULL };

//  "10.<hi>.<lo>.1" for agent index, port
static void
s_addr (char *buf, size_t size, int index, int port)
{
    snprintf (buf, size, "10.%d.%d.1:%d", index / 256, index % 256, port);
}

//  The replay of agent index: even ones accept, odd ones connect to their
//  even neighbour. Returns the messages sent.
static size_t
s_replay (bench_feed_t *feed, void *dealer, int index)
{
    bool server = index % 2 == 0;
    int partner = server? index + 1: index - 1;
    size_t sent = 0;
    bench_feed_send_lifecycle (feed, dealer, ZWATCH_KIND_HELLO, 0);
    for (int sock = 0; sock < SOCKETS; sock++) {
        char label [16], endpoint [64], listen [64], server_addr [32];
        snprintf (label, sizeof (label), "sock-%d", sock);
        s_addr (server_addr, sizeof (server_addr), server? index: partner, 6000 + sock);
        snprintf (endpoint, sizeof (endpoint), "tcp://%s", server_addr);
        snprintf (listen, sizeof (listen), "tcp://0.0.0.0:%d", 6000 + sock);
        if (server) {
            bench_fact_t fact = { label, "ROUTER", "LISTENING", listen, NULL, NULL, 7 };
            bench_feed_send_fact (feed, dealer, ZWATCH_KIND_STATE, &fact, 0);
            sent++;
        }
        for (int conn = 0; conn < CONNECTIONS; conn++) {
            char client_addr [32];
            s_addr (client_addr, sizeof (client_addr), server? partner: index,
                    20000 + sock * CONNECTIONS + conn);
            bench_fact_t fact = { label, server? "ROUTER": "DEALER",
                                  server? "ACCEPTED": "CONNECTED", server? listen: endpoint,
                                  server? server_addr: client_addr,
                                  server? client_addr: server_addr, 100 + conn };
            bench_feed_send_fact (feed, dealer, ZWATCH_KIND_STATE, &fact, 0);
            sent++;
        }
    }
    bench_feed_send_state_end (feed, dealer, sent, 0);
    bench_feed_send_lifecycle (feed, dealer, ZWATCH_KIND_HEARTBEAT, 0);
    return sent + 3;
}

//  A value of the current stats message: key, or sub of map key
static uint64_t
s_stat (bench_path_t *path, const char *key, const char *sub)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    uint64_t value = 0;
    if (msgpack_unpack_next (&unpacked, zmq_msg_data (&path->body), zmq_msg_size (&path->body),
                             NULL) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *found = mp_get (&unpacked.data, key);
        if (found && sub)
            found = mp_get (found, sub);
        if (found && found->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            value = found->via.u64;
    }
    msgpack_unpacked_destroy (&unpacked);
    return value;
}

//  Read the feed until the broker's stats say it read msgs_in messages
//  (and, with the model, holds every link); false after timeout_ms
static bool
s_wait_loaded (bench_path_t *path, uint64_t msgs_in, bool fleet, int timeout_ms)
{
    int64_t deadline = bench_mono_ns () + (int64_t) timeout_ms * 1000000;
    uint64_t last_in = 0, last_links = 0;
    while (bench_mono_ns () < deadline) {
        if (!bench_path_receive (path) || !bench_path_topic_starts (path, "stats/"))
            continue;
        last_in = s_stat (path, "msgs_in", NULL);
        last_links = s_stat (path, "fleet", "links");
        if (last_in >= msgs_in && (!fleet || last_links == LINKS))
            return true;
    }
    fprintf (stderr, "bench_snapshot: the broker read %llu of %llu messages, holds %llu links\n",
             (unsigned long long) last_in, (unsigned long long) msgs_in,
             (unsigned long long) last_links);
    return false;
}

//  The fleet's agents, their DEALERs in one context of their own
typedef struct {
    void *ctx;
    void *dealers [AGENTS];
    bench_feed_t *feeds [AGENTS];
} fleet_t;

//  Connect the 1,000 agents and send their replays; returns the messages
//  sent, 0 on failure
static size_t
s_fleet_start (fleet_t *fleet, const char *ingest)
{
    memset (fleet, 0, sizeof (*fleet));
    fleet->ctx = zmq_ctx_new ();
    zmq_ctx_set (fleet->ctx, ZMQ_MAX_SOCKETS, AGENTS + 64);
    size_t sent = 0;
    for (int index = 0; index < AGENTS; index++) {
        fleet->dealers [index] = zmq_socket (fleet->ctx, ZMQ_DEALER);
        if (!fleet->dealers [index]) {
            fprintf (stderr, "bench_snapshot: socket %d: %s\n", index, zmq_strerror (zmq_errno ()));
            return 0;
        }
        int linger = 0;
        zmq_setsockopt (fleet->dealers [index], ZMQ_LINGER, &linger, sizeof (linger));
        zmq_connect (fleet->dealers [index], ingest);
        fleet->feeds [index] = bench_feed_new ("fleet", (uint64_t) (1000 + index));
        sent += s_replay (fleet->feeds [index], fleet->dealers [index], index);
    }
    return sent;
}

static void
s_fleet_stop (fleet_t *fleet)
{
    for (int index = 0; index < AGENTS; index++) {
        if (fleet->dealers [index])
            zmq_close (fleet->dealers [index]);
        bench_feed_destroy (&fleet->feeds [index]);
    }
    zmq_ctx_term (fleet->ctx);
}

//  One whole snapshot through client; false if it did not end well
static bool
s_snapshot (snap_client_t *client, snapshot_t *result)
{
    memset (result, 0, sizeof (*result));
    void *handle = snap_client_handle (client);
    int timeout = REPLY_TIMEOUT_MS;
    zmq_setsockopt (handle, ZMQ_RCVTIMEO, &timeout, sizeof (timeout));
    int64_t start = bench_mono_ns ();
    snap_client_request (client, NULL, -1);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    bool ended = false;
    while (!ended && zmq_msg_recv (&frame, handle, 0) >= 0) {
        size_t size = zmq_msg_size (&frame);
        result->frames++;
        result->bytes += size;
        result->largest = size > result->largest? size: result->largest;
        //  Only small frames can be the last: the big ones are not unpacked
        if (size >= SMALL_FRAME)
            continue;
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        if (msgpack_unpack_next (&unpacked, zmq_msg_data (&frame), size, NULL)
            == MSGPACK_UNPACK_SUCCESS) {
            if (mp_str_is (&unpacked.data, "kind", "snapshot_end")) {
                result->agents = mp_uint (&unpacked.data, "agents");
                result->sockets = mp_uint (&unpacked.data, "sockets");
                result->links = mp_uint (&unpacked.data, "links");
                ended = true;
            }
            else
            if (mp_str_is (&unpacked.data, "kind", "error")) {
                char reason [64];
                fprintf (stderr, "bench_snapshot: error %s\n",
                         mp_str (&unpacked.data, "reason", reason, sizeof (reason)));
                msgpack_unpacked_destroy (&unpacked);
                break;
            }
        }
        msgpack_unpacked_destroy (&unpacked);
    }
    zmq_msg_close (&frame);
    result->ms = (double) (bench_mono_ns () - start) / 1e6;
    return ended;
}

static void
s_spread (const char *name, double *values, size_t count, const char *unit)
{
    double median = bench_median (values, count);     //  sorts
    char note [96];
    snprintf (note, sizeof (note), "(min %.1f, max %.1f, %zu rounds)", values [0],
              values [count - 1], count);
    bench_info (name, median, unit, note);
}

//  A client asking for snapshots back to back until told to stop
typedef struct {
    const char *endpoint;
    atomic_bool stop;
    size_t served;
    double ms_total;
    bool failed;
} asker_t;

static void *
s_asker (void *args)
{
    asker_t *self = (asker_t *) args;
    snap_client_t *client = snap_client_new (self->endpoint);
    while (!atomic_load (&self->stop)) {
        snapshot_t snapshot;
        if (!s_snapshot (client, &snapshot)) {
            self->failed = true;
            break;
        }
        self->served++;
        self->ms_total += snapshot.ms;
    }
    snap_client_destroy (&client);
    return NULL;
}

//  One forwarding round: events/s to the subscriber and its longest gap
//  between two events, with a client taking snapshots all along or not
static int
s_forward_round (bench_path_t *path, size_t messages, bool snapshots, double *rate,
                 double *gap_ms, asker_t *asker)
{
    pthread_t asker_thread;
    if (snapshots) {
        atomic_store (&asker->stop, false);
        pthread_create (&asker_thread, NULL, s_asker, asker);
    }
    pthread_t threads [SENDERS];
    bench_sender_t senders [SENDERS];
    bench_flow_t flow = { 0, 0, false, 0, 1 };
    size_t each = messages / SENDERS, total = each * SENDERS;
    int64_t start = bench_mono_ns ();
    bench_senders_start (threads, senders, SENDERS, path->ingest, each, 0, &flow);
    size_t received = 0;
    int64_t last = start, longest = 0;
    while (received < total && bench_path_receive (path))
        if (bench_path_is_event (path)) {
            atomic_store_explicit (&flow.received, ++received, memory_order_relaxed);
            int64_t now = bench_mono_ns ();
            if (received > 1 && now - last > longest)
                longest = now - last;
            last = now;
        }
    if (received < total)
        atomic_store (&flow.abort, true);       //  1 s of silence: report, do not hang
    bench_senders_join (threads, SENDERS);
    if (snapshots) {
        atomic_store (&asker->stop, true);
        pthread_join (asker_thread, NULL);
    }
    *rate = last > start? (double) received * 1e9 / (double) (last - start): 0;
    *gap_ms = (double) longest / 1e6;
    if (received < total || (snapshots && asker->failed)) {
        fprintf (stderr, "bench_snapshot: %zu of %zu events came through%s\n", received, total,
                 snapshots && asker->failed? ", a snapshot failed": "");
        return -1;
    }
    return 0;
}

static int
s_run (const options_t *options)
{
    //  1. The fleet, fed to a broker with its model
    bench_path_t path;
    if (bench_path_open (&path, "broker (fleet)", true, s_fleet_args))
        return -1;
    long rss_empty = bench_rss_kb (path.pid);
    fleet_t fleet;
    int64_t started = bench_mono_ns ();
    size_t sent = s_fleet_start (&fleet, path.ingest);
    //  + the probe event bench_path sent (one or a few: msgs_in is at least)
    if (!sent || !s_wait_loaded (&path, sent, true, LOAD_TIMEOUT_MS)) {
        s_fleet_stop (&fleet);
        bench_path_close (&path);
        return -1;
    }
    double load_s = (double) (bench_mono_ns () - started) / 1e9;
    long rss_fleet = bench_rss_kb (path.pid);
    printf ("\n1. The fleet: %d agents x %d sockets x %d connections (%d links), %zu messages "
            "(hello, state replay, state_end, heartbeat), in the model after %.2f s\n",
            AGENTS, SOCKETS, CONNECTIONS, LINKS, sent, load_s);

    //  2. Snapshots of it, the broker doing nothing else
    size_t count = (size_t) options->rounds;
    double ms [count], cpu_ms [count];
    snapshot_t snapshot = { 0 };
    snap_client_t *client = snap_client_new (path.snapshot);
    for (size_t round = 0; round < count; round++) {
        int64_t cpu_before = bench_thread_cpu_ns (path.pid, path.pid);
        if (!s_snapshot (client, &snapshot)) {
            fprintf (stderr, "bench_snapshot: snapshot %zu did not end\n", round + 1);
            snap_client_destroy (&client);
            s_fleet_stop (&fleet);
            bench_path_close (&path);
            return -1;
        }
        cpu_ms [round] = (double) (bench_thread_cpu_ns (path.pid, path.pid) - cpu_before) / 1e6;
        ms [round] = snapshot.ms;
    }
    snap_client_destroy (&client);
    long rss_after = bench_rss_kb (path.pid);

    //  3. Forwarding with and without snapshots running, alternating
    double rate [2][count], gap [2][count];
    asker_t asker = { path.snapshot, false, 0, 0, false };
    int rc = 0;
    for (size_t round = 0; round < count && rc == 0; round++)
        for (int turn = 0; turn < 2 && rc == 0; turn++) {
            int with = (int) ((round + (size_t) turn) % 2);
            rc = s_forward_round (&path, options->messages, with, &rate [with][round],
                                  &gap [with][round], &asker);
        }
    s_fleet_stop (&fleet);
    if (bench_path_close (&path))
        rc = -1;
    if (rc)
        return -1;

    //  1 again: the same fleet through a broker without the model
    if (bench_path_open (&path, "broker --no-fleet", true, s_no_fleet_args))
        return -1;
    long rss_empty_off = bench_rss_kb (path.pid);
    sent = s_fleet_start (&fleet, path.ingest);
    bool loaded = sent && s_wait_loaded (&path, sent, false, LOAD_TIMEOUT_MS);
    long rss_fleet_off = bench_rss_kb (path.pid);
    s_fleet_stop (&fleet);
    if (bench_path_close (&path) || !loaded)
        return -1;

    bench_info ("broker VmRSS before the fleet", (double) rss_empty / 1024, "MiB", NULL);
    bench_info ("broker VmRSS with the fleet", (double) rss_fleet / 1024, "MiB", NULL);
    bench_info ("broker VmRSS after the snapshots", (double) rss_after / 1024, "MiB",
                "(after section 2)");
    bench_info ("same fleet, broker --no-fleet: before", (double) rss_empty_off / 1024, "MiB", NULL);
    bench_info ("same fleet, broker --no-fleet: with it", (double) rss_fleet_off / 1024, "MiB",
                "(1000 agents connected, no model)");
    bench_info ("the model's memory (with - with --no-fleet)",
                (double) (rss_fleet - rss_fleet_off) / 1024, "MiB", NULL);
    bench_info ("  per connection", (double) (rss_fleet - rss_fleet_off) * 1024 /
                (AGENTS * SOCKETS * CONNECTIONS), "bytes", "(ends, addresses, links, sockets)");

    printf ("\n2. Snapshot of the whole fleet, request to snapshot_end (%d rounds, broker idle)\n",
            options->rounds);
    bench_info ("frames", (double) snapshot.frames, "", NULL);
    printf ("  (snapshot_end: %llu agents, %llu sockets, %llu links; the rest is the probe agent)\n",
            (unsigned long long) snapshot.agents, (unsigned long long) snapshot.sockets,
            (unsigned long long) snapshot.links);
    bench_info ("bytes", (double) snapshot.bytes / 1048576, "MiB", NULL);
    bench_info ("largest frame", (double) snapshot.largest, "bytes", NULL);
    s_spread ("snapshot time", ms, count, "ms");
    s_spread ("broker forwarding-thread CPU per snapshot", cpu_ms, count, "ms");
    bench_info ("  per agent", bench_median (cpu_ms, count) * 1000 / AGENTS, "us", NULL);

    printf ("\n3. Forwarding during snapshots: %zu events per round, %d sender threads, "
            "%d rounds each (alternating)\n", options->messages, SENDERS, options->rounds);
    double pairs [count];
    for (size_t round = 0; round < count; round++)
        pairs [round] = rate [1][round] / rate [0][round];
    s_spread ("events/s, no snapshot running", rate [0], count, "ev/s");
    s_spread ("events/s, snapshots back to back", rate [1], count, "ev/s");
    s_spread ("  ratio with / without, per round pair", pairs, count, "x");
    s_spread ("longest gap between two events, without", gap [0], count, "ms");
    s_spread ("longest gap between two events, with", gap [1], count, "ms");
    bench_info ("snapshots served during the rounds", (double) asker.served, "",
                asker.served? NULL: "(none: rounds too short)");
    if (asker.served)
        bench_info ("  their mean time, under load", asker.ms_total / (double) asker.served,
                    "ms", NULL);
    return 0;
}

static int
s_parse (int argc, char *argv [], options_t *options)
{
    *options = (options_t) { ROUNDS_DEFAULT, MESSAGES_DEFAULT };
    for (int arg = 1; arg + 1 < argc; arg += 2) {
        char *end;
        long value = strtol (argv [arg + 1], &end, 10);
        if (*end || value < 1)
            return -1;
        if (strcmp (argv [arg], "--rounds") == 0)
            options->rounds = (int) value;
        else
        if (strcmp (argv [arg], "--messages") == 0 && value >= SENDERS)
            options->messages = (size_t) value;
        else
            return -1;
    }
    return argc % 2 == 1? 0: -1;
}

int
main (int argc, char *argv [])
{
    options_t options;
    if (s_parse (argc, argv, &options)) {
        fprintf (stderr, "usage: bench_snapshot [--rounds N] [--messages N]\n"
                 "  defaults: %d rounds, %d messages\n", ROUNDS_DEFAULT, MESSAGES_DEFAULT);
        return 2;
    }
    //  1,000 connections on each side need more descriptors than the usual 1024
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit (RLIMIT_NOFILE, &limit);
    }
    bench_path_init ();
    printf ("zwatch snapshot benchmark (%ld CPUs)\n", sysconf (_SC_NPROCESSORS_ONLN));
    int rc = s_run (&options);
    bench_path_term ();
    return rc == 0? 0: 1;
}
