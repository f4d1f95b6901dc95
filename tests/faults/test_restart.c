/*  test_restart: the broker is killed (SIGKILL) and restarted on the same
    endpoints while real agents keep making events. The agents reconnect by
    themselves, events flow again, and every event each agent read is
    accounted for, exactly:

        read = delivered + dropped + lost

    read, dropped: the agent's own counters (printed by fault_service).
    delivered: distinct seqs the subscriber received, over both brokers.
    lost: seq gaps. The new broker counts the gaps it sees from its first
    message from the agent on (its "up" says where: seq - events is the
    last seq before its watch began; its "gone" gives the gaps after). The
    seqs at or below that point that never arrived died with the old
    broker (in its buffers, in the kernel's, in the agent's last batch):
    the subscriber, who outlives the broker, counts them as restart loss.

    Pub/sub cannot deliver what is published before a subscription
    arrives, so the agents are held (SIGSTOP) for the moment the new broker
    takes to start and the subscriber to reconnect; they keep their queued
    events and reconnect by themselves once resumed.  */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "broker_proc.h"
#include "feed.h"
#include "ledger.h"
#include "service_proc.h"

#define AGENTS          3
#define HOST            "flt-restart"
#define EVENTS_BEFORE   200         //  events each agent delivers before the kill
#define OUTAGE_MS       1500        //  agents run without a broker this long
#define WAIT_MS         20000       //  bound on every wait for the feed

typedef struct {
    service_proc_t *proc;
    char svc [16];
    ledger_t *ledger;
    bool up;                        //  the new broker's "up" arrived
    uint64_t up_seq, up_events;
    bool gone;                      //  the new broker's "gone" arrived
    uint64_t gone_seq, gone_events, gone_lost;
} agent_t;

typedef struct {
    agent_t agents [AGENTS];
    feed_t *feed;
    const char *new_broker;         //  id of the restarted broker
    bool new_stats;                 //  a stats message of it arrived
    uint64_t stats_lost, stats_reordered;
} run_t;

typedef bool (condition_fn) (run_t *run);

static agent_t *
s_agent_of (run_t *run, const char *svc)
{
    for (int index = 0; index < AGENTS; index++)
        if (streq (run->agents [index].svc, svc))
            return &run->agents [index];
    fprintf (stderr, "unexpected service '%s'\n", svc);
    exit (1);
}

//  One message from the feed into the run's books
static void
s_note (run_t *run)
{
    feed_t *feed = run->feed;
    if (feed_is (feed, "ev/")) {
        zwatch_msg_t msg;
        feed_event (feed, &msg);
        char svc [ZWATCH_SVC_MAX + 1];
        snprintf (svc, sizeof (svc), "%.*s", (int) msg.svc.len, msg.svc.ptr);
        agent_t *agent = s_agent_of (run, svc);
        CHECK_INT_EQ (msg.pid, service_proc_pid (agent->proc));
        ledger_add_events (agent->ledger, msg.seq, msg.count);
    }
    else
    if (feed_is (feed, "agent/")) {
        if (!run->new_broker || !streq (feed_str (feed, "broker"), run->new_broker))
            return;
        agent_t *agent = s_agent_of (run, feed_str (feed, "svc"));
        CHECK_INT_EQ (feed_uint (feed, "pid"), service_proc_pid (agent->proc));
        const char *state = feed_str (feed, "state");
        if (streq (state, "up")) {
            CHECK (!agent->up);
            agent->up = true;
            agent->up_seq = feed_uint (feed, "seq");
            agent->up_events = feed_uint (feed, "events");
        }
        else {
            CHECK_STR_EQ (state, "gone");
            agent->gone = true;
            agent->gone_seq = feed_uint (feed, "seq");
            agent->gone_events = feed_uint (feed, "events");
            agent->gone_lost = feed_uint (feed, "lost");
        }
    }
    else
    if (run->new_broker && streq (feed_str (feed, "broker"), run->new_broker)) {
        run->new_stats = true;
        run->stats_lost = feed_uint (feed, "lost");
        run->stats_reordered = feed_uint (feed, "reordered");
    }
}

//  Read the feed until condition holds; fails the test after WAIT_MS
static void
s_pump_until (run_t *run, condition_fn *condition, const char *what)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (!condition (run)) {
        if (tu_now_ms () > deadline) {
            fprintf (stderr, "timed out waiting for %s\n", what);
            exit (1);
        }
        if (feed_recv (run->feed, 100))
            s_note (run);
    }
}

static bool
s_all_delivering (run_t *run)
{
    for (int index = 0; index < AGENTS; index++)
        if (ledger_count (run->agents [index].ledger) < EVENTS_BEFORE)
            return false;
    return true;
}

static bool
s_new_broker_heard (run_t *run)
{
    return run->new_stats;
}

//  Every agent is back: up at the new broker, and new events arrive
static bool
s_all_back (run_t *run)
{
    for (int index = 0; index < AGENTS; index++) {
        agent_t *agent = &run->agents [index];
        if (!agent->up || ledger_max (agent->ledger) < agent->up_seq + EVENTS_BEFORE)
            return false;
    }
    return true;
}

static bool
s_all_gone (run_t *run)
{
    for (int index = 0; index < AGENTS; index++)
        if (!run->agents [index].gone)
            return false;
    return true;
}

int
main (void)
{
    run_t run;
    memset (&run, 0, sizeof (run));
    char *ingest = tu_free_endpoint ();
    char *publish = tu_free_endpoint ();
    const char *old_args [] = { "--ingest", ingest, "--publish", publish, "--id", "old",
                                "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (old_args, false);
    const char *prefixes [] = { "ev/" HOST "/", "agent/" HOST "/", "stats/", NULL };
    run.feed = feed_new (publish, prefixes);
    CHECK (feed_wait_subscribers (run.feed, 3, WAIT_MS));

    //  Without folding, so that the queue fills and drops while the broker
    //  is away (folded, 2000 tries a second are a few messages)
    const char *service_args [] = { "--rate", "2000", "--queue", "500", "--heartbeat", "100",
                                     "--no-fold", NULL };
    for (int index = 0; index < AGENTS; index++) {
        agent_t *agent = &run.agents [index];
        snprintf (agent->svc, sizeof (agent->svc), "svc-%d", index);
        agent->ledger = ledger_new ();
        agent->proc = service_proc_new (ingest, HOST, agent->svc, service_args);
    }
    s_pump_until (&run, s_all_delivering, "events through the first broker");

    //  The crash: agents keep running, queueing and dropping
    CHECK_INT_EQ (broker_proc_stop (broker, SIGKILL, 5000), 128 + SIGKILL);
    broker_proc_destroy (&broker);
    long long outage_end = tu_now_ms () + OUTAGE_MS;
    while (tu_now_ms () < outage_end)
        if (feed_recv (run.feed, 50))
            s_note (&run);

    for (int index = 0; index < AGENTS; index++)
        service_proc_signal (run.agents [index].proc, SIGSTOP);
    const char *new_args [] = { "--ingest", ingest, "--publish", publish, "--id", "new",
                                "--stats-interval", "0.1", NULL };
    run.new_broker = "new";
    broker = broker_proc_new (new_args, false);
    s_pump_until (&run, s_new_broker_heard, "the subscriber to reconnect");
    for (int index = 0; index < AGENTS; index++)
        service_proc_signal (run.agents [index].proc, SIGCONT);
    s_pump_until (&run, s_all_back, "the agents to reconnect by themselves");

    service_report_t reports [AGENTS];
    for (int index = 0; index < AGENTS; index++)
        service_proc_stop (run.agents [index].proc, &reports [index]);
    s_pump_until (&run, s_all_gone, "every agent's bye");
    run.new_stats = false;          //  the next stats count every bye
    s_pump_until (&run, s_new_broker_heard, "the new broker's stats");

    uint64_t broker_lost = 0;
    for (int index = 0; index < AGENTS; index++) {
        agent_t *agent = &run.agents [index];
        service_report_t *report = &reports [index];
        ledger_t *ledger = agent->ledger;
        //  The agent: a seq for every event it queued, none for a drop
        CHECK_INT_EQ (report->read, report->sent + report->dropped);
        CHECK_INT_EQ (agent->gone_seq, report->sent);          //  the bye's last seq
        CHECK_INT_EQ (ledger_duplicates (ledger), 0);
        CHECK (ledger_max (ledger) <= report->sent);
        //  The new broker watched (base, sent]: each seq arrived or is a gap
        uint64_t base = agent->up_seq - agent->up_events;
        uint64_t after_base = ledger_count (ledger) - ledger_count_upto (ledger, base);
        CHECK_INT_EQ (agent->gone_events, after_base);
        CHECK_INT_EQ (agent->gone_lost, report->sent - base - after_base);
        uint64_t restart_lost = base - ledger_count_upto (ledger, base);
        uint64_t delivered = ledger_count (ledger);
        uint64_t lost = agent->gone_lost + restart_lost;
        printf ("%s: read %llu = delivered %llu + dropped %llu + lost %llu "
                "(%llu in the restart, %llu in gaps the new broker saw)\n", agent->svc,
                (unsigned long long) report->read, (unsigned long long) delivered,
                (unsigned long long) report->dropped, (unsigned long long) lost,
                (unsigned long long) restart_lost, (unsigned long long) agent->gone_lost);
        CHECK_INT_EQ (report->read, delivered + report->dropped + lost);
        CHECK (report->dropped > 0);        //  the outage outlasted the queue
        broker_lost += agent->gone_lost;
        service_proc_destroy (&agent->proc);
        ledger_destroy (&agent->ledger);
    }
    CHECK_INT_EQ (run.stats_lost, broker_lost);
    CHECK_INT_EQ (run.stats_reordered, 0);
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, 5000), 0);
    broker_proc_destroy (&broker);
    feed_destroy (&run.feed);
    free (ingest);
    free (publish);
    return 0;
}
