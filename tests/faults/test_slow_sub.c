/*  test_slow_sub: one subscriber stops reading. The broker keeps
    publishing: another subscriber still gets every event, and the broker's
    memory stops growing once the stuck subscriber's queue is full (the
    XPUB's high-water mark, 100000 messages, then drops for it alone).

    Phase A runs without the stuck subscriber. Then slow agents send one
    event at a time: each held event must cost the broker about its size
    (with libzmq's zero-copy receive it kept the whole 8 KiB read buffer it
    came in alive). Phase B then sends far more than the stuck queue holds.
    Phase C does the same on the batch feed (--publish-batches, PROTOCOL.md
    6): a reader of it gets every event, a stuck one of it costs at most
    its 10000 batches, and the broker's memory is flat after that.
    The rates of A and B are printed, not asserted: a loaded machine is
    slow, not wrong.  */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "broker_proc.h"
#include "fake_agent.h"
#include "faults.h"
#include "feed.h"

#define AGENTS          4
#define EVENTS_A        50000       //  phase A, all agents together
#define EVENTS_PACED    32000       //  slow agents, to the stuck subscriber
#define PACE_US         100         //  pause between their rounds
#define PACED_BYTES     1024        //  broker memory per held event, at most
#define BATCH_EVENTS    16          //  events a frame in the batched paced phase
#define BATCH_MAX       16
#define EVENTS_B        360000      //  phase B: over three times the stuck queue
#define SAMPLES         6           //  broker RSS samples in phase B, every 60000
#define FLAT_FROM       3           //  samples from here on: the stuck queue is full
#define FLAT_KB         8192        //  growth allowed once it is full
#define HELD_KB         131072      //  the full stuck queue: 100000 events, ~150 B each
#define WAIT_MS         60000       //  bound on waits; never a speed limit
#define WINDOW          20000       //  events sent but not yet read, at most
#define EVENTS_C        640000      //  phase C: four times the stuck batch queue
#define BATCHES_KB      (10000 * 8) //  the batch feed's bound: 10000 batches of 8 KiB
#define PROBE_PID       999         //  the agent that finds the batch reader ready

_Static_assert (EVENTS_B % (AGENTS * SAMPLES) == 0, "phase B splits into equal samples");

typedef struct {
    fake_agent_t *agents [AGENTS];
    uint64_t seq;                   //  per agent: all send the same count
    void *reader;                   //  the subscriber that keeps reading
    bool batches;                   //  it reads the batch feed: maps, not messages
    uint64_t received;
    uint64_t probes;                //  of them, the probe's (batch feed)
} run_t;

//  Take what the reader has, without waiting
static void
s_drain (run_t *run)
{
    zmq_msg_t part;
    zmq_msg_init (&part);
    while (zmq_msg_recv (&part, run->reader, ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_more (&part))
            continue;
        if (!run->batches) {
            run->received++;
            continue;
        }
        const uint8_t *data = (const uint8_t *) zmq_msg_data (&part);
        size_t size = zmq_msg_size (&part), offset = 0;
        while (offset < size) {
            zwatch_msg_t msg;
            bool rest_lost;
            CHECK_INT_EQ (zwatch_msg_decode_next (&msg, data, size, &offset, &rest_lost, NULL),
                          ZWATCH_OK);
            if (msg.pid == PROBE_PID)
                run->probes++;
            else
                run->received++;
        }
    }
    zmq_msg_close (&part);
}

//  Send count events round the agents, batch a frame (PROTOCOL.md 5),
//  reading as we go, pausing pace_us after each round (0: none); samples
//  gets SAMPLES RSS samples if not NULL. Returns the ms until the reader
//  had every event sent so far.
static long long
s_phase (run_t *run, uint64_t count, int batch, int pace_us, pid_t broker, long *samples)
{
    static uint8_t frame [BATCH_MAX * ZWATCH_MSG_MAX];
    long long start = tu_now_ms ();
    uint64_t rounds = count / AGENTS / (uint64_t) batch;
    uint64_t every = rounds / SAMPLES;      //  rounds between RSS samples
    for (uint64_t round = 0; round < rounds; round++) {
        for (int index = 0; index < AGENTS; index++) {
            size_t size, used = 0;
            if (batch == 1) {
                fake_agent_send_event (run->agents [index], run->seq + 1, "ACCEPTED", &size);
                continue;
            }
            for (int event = 1; event <= batch; event++) {
                const void *bytes = fake_agent_event (run->agents [index], run->seq + (uint64_t) event,
                                                      "ACCEPTED", &size);
                memcpy (frame + used, bytes, size);
                used += size;
            }
            fake_agent_send_raw (run->agents [index], frame, used);
        }
        run->seq += (uint64_t) batch;
        //  At most WINDOW in flight: the reader's own queue at the broker
        //  never nears its high-water mark, however the CPUs are shared
        while (run->seq * AGENTS - run->received > WINDOW && tu_now_ms () - start < WAIT_MS) {
            zmq_pollitem_t item = { run->reader, 0, ZMQ_POLLIN, 0 };
            zmq_poll (&item, 1, 100);
            s_drain (run);
        }
        if (samples && every && (round + 1) % every == 0)
            samples [(round + 1) / every - 1] = tu_proc_rss_kb (broker);
        if (pace_us)
            usleep (pace_us);
    }
    while (run->received < run->seq * AGENTS && tu_now_ms () - start < WAIT_MS) {
        zmq_pollitem_t item = { run->reader, 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 100);
        s_drain (run);
    }
    CHECK_INT_EQ (run->received, run->seq * AGENTS);
    return tu_now_ms () - start;
}

int
main (void)
{
    char *batches = tu_free_endpoint ();
    const char *broker_args [] = { "--stats-interval", "0.2", "--publish-batches", batches, NULL };
    broker_proc_t *broker = broker_proc_new (broker_args, true);
    pid_t pid = broker_proc_pid (broker);
    const char *prefixes [] = { "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);

    run_t run;
    memset (&run, 0, sizeof (run));
    zsock_t *reader = zsock_new_sub (broker_proc_publish (broker), "ev/");
    CHECK (reader);
    zsock_set_rcvhwm (reader, 0);       //  never drops: it must see every event
    run.reader = zsock_resolve (reader);
    CHECK (feed_wait_subscribers (feed, 2, WAIT_MS));
    for (int index = 0; index < AGENTS; index++) {
        char svc [16];
        snprintf (svc, sizeof (svc), "svc-%d", index);
        run.agents [index] = fake_agent_new (broker_proc_ingest (broker), "flt-slow", svc,
                                             (uint64_t) (1000 + index));
    }
    long rss_idle = tu_proc_rss_kb (pid);
    long long took_a = s_phase (&run, EVENTS_A, 1, 0, pid, NULL);
    long rss_a = tu_proc_rss_kb (pid);

    //  The stuck one: subscribed, small queue, never reads
    zsock_t *stuck = zsock_new (ZMQ_SUB);
    CHECK (stuck);
    zsock_set_rcvhwm (stuck, 10);
    zsock_set_subscribe (stuck, "ev/");
    CHECK (zsock_connect (stuck, "%s", broker_proc_publish (broker)) == 0);
    CHECK (feed_wait_subscribers (feed, 3, WAIT_MS));

    //  Slow agents: each event comes in a read of its own. What the stuck
    //  subscriber holds costs its size, not the read buffer it came in.
    long rss_before = tu_proc_rss_kb (pid);
    s_phase (&run, EVENTS_PACED, 1, PACE_US, pid, NULL);
    long paced_kb = tu_proc_rss_kb (pid) - rss_before;
    printf ("%d events one at a time to a stuck subscriber: broker RSS %+ld KiB, %ld B each\n",
            EVENTS_PACED, paced_kb, paced_kb * 1024 / EVENTS_PACED);
    //  The same in batches: held events point into their frames (zwatch_pin),
    //  and still cost about their size, not more
    rss_before = tu_proc_rss_kb (pid);
    s_phase (&run, EVENTS_PACED, BATCH_EVENTS, PACE_US * BATCH_EVENTS, pid, NULL);
    long batched_kb = tu_proc_rss_kb (pid) - rss_before;
    printf ("%d events in batches of %d to a stuck subscriber: broker RSS %+ld KiB, %ld B each\n",
            EVENTS_PACED, BATCH_EVENTS, batched_kb, batched_kb * 1024 / EVENTS_PACED);

    //  Then far more than it holds: the broker drops for it, memory stays flat
    long samples [SAMPLES];
    long long took_b = s_phase (&run, EVENTS_B, 1, 0, pid, samples);
    printf ("reader got %d events in %lld ms alone, %d in %lld ms next to a stuck subscriber\n",
            EVENTS_A, took_a, EVENTS_B, took_b);
    printf ("broker RSS KiB: idle %ld, after A %ld, during B", rss_idle, rss_a);
    for (int index = 0; index < SAMPLES; index++)
        printf (" %ld", samples [index]);
    printf ("\n");
    if (faults_rss_checked ())
        CHECK (paced_kb * 1024 / EVENTS_PACED < PACED_BYTES);
    if (faults_rss_checked ())
        CHECK (batched_kb * 1024 / EVENTS_PACED < PACED_BYTES);
    for (int index = FLAT_FROM; index < SAMPLES && faults_rss_checked (); index++) {
        CHECK (samples [index] - samples [FLAT_FROM - 1] < FLAT_KB);
        CHECK (samples [index] - rss_idle < HELD_KB);
    }

    //  The broker counted and published every event
    uint64_t total = run.seq * AGENTS;
    CHECK (feed_wait_stats (feed, "events_out", total, WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "msgs_in"), total);
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);

    //  Phase C, the batch feed: a reader that keeps up, found ready by
    //  probe events (a PUB says nothing of subscriptions), and one that is stuck
    zsock_t *batch_reader = zsock_new_sub (batches, "batch/");
    zsock_t *batch_stuck = zsock_new (ZMQ_SUB);
    CHECK (batch_reader && batch_stuck);
    zsock_set_rcvhwm (batch_reader, 0);
    zsock_set_rcvhwm (batch_stuck, 10);
    zsock_set_subscribe (batch_stuck, "batch/");
    CHECK (zsock_connect (batch_stuck, "%s", batches) == 0);
    zsock_destroy (&reader);
    run.reader = zsock_resolve (batch_reader);
    run.batches = true;
    fake_agent_t *probe = fake_agent_new (broker_proc_ingest (broker), "flt-slow", "probe",
                                          PROBE_PID);
    uint64_t probes = 0;
    long long probe_until = tu_now_ms () + WAIT_MS;
    while (run.probes == 0 && tu_now_ms () < probe_until) {
        size_t size;
        fake_agent_send_event (probe, ++probes, "ACCEPTED", &size);
        zmq_pollitem_t item = { run.reader, 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 50);
        s_drain (&run);
    }
    CHECK (run.probes > 0);
    fake_agent_destroy (&probe);
    uint64_t before_c = run.seq * AGENTS;
    run.received = before_c;            //  what the XPUB reader had: all of it
    long rss_before_c = tu_proc_rss_kb (pid);
    long samples_c [SAMPLES];
    long long took_c = s_phase (&run, EVENTS_C, BATCH_EVENTS, 0, pid, samples_c);
    printf ("batch reader got %d events in batches of %d in %lld ms next to a stuck one; "
            "broker RSS KiB before %ld, during", EVENTS_C, BATCH_EVENTS, took_c, rss_before_c);
    for (int index = 0; index < SAMPLES; index++)
        printf (" %ld", samples_c [index]);
    printf ("\n");
    for (int index = FLAT_FROM; index < SAMPLES && faults_rss_checked (); index++) {
        CHECK (samples_c [index] - samples_c [FLAT_FROM - 1] < FLAT_KB);
        CHECK (samples_c [index] - rss_before_c < BATCHES_KB);
    }
    total = run.seq * AGENTS + probes;
    CHECK (feed_wait_stats (feed, "events_out", total, WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);
    CHECK (feed_uint (feed, "batches_out") >= EVENTS_C / BATCH_EVENTS + probes);
    zsock_destroy (&batch_reader);
    zsock_destroy (&batch_stuck);

    for (int index = 0; index < AGENTS; index++)
        fake_agent_destroy (&run.agents [index]);
    zsock_destroy (&stuck);
    feed_destroy (&feed);
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, 10000), 0);
    broker_proc_destroy (&broker);
    free (batches);
    return 0;
}
