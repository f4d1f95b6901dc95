/*  test_dual: an agent reporting to two brokers (ZWATCH_BROKER=a,b), one
    of them SIGKILLed mid-stream and restarted on the same endpoints.

    The other broker's feed has every event, seq 1 to the last without a
    gap or a duplicate, and its snapshot holds the agent whole (not
    partial, its socket there) before, during and after the outage. The
    restarted broker gets the agent's replay on its own reconnection (its
    snapshot whole again) while the other is not replayed to. The agent's
    per-broker counters show the drops at the dead broker only: nothing
    was lost to all, so its own sent = read.  */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "broker_proc.h"
#include "feed.h"
#include "ledger.h"
#include "service_proc.h"
#include "snap_client.h"

#define HOST            "flt-dual"
#define SVC             "dual-svc"
#define EVENTS_BEFORE   200         //  events at both brokers before the kill
#define OUTAGE_EVENTS   2000        //  events at the live broker while the other is dead:
                                    //  more than the dead one's queue (500) holds
#define WAIT_MS         30000       //  bound on every wait
#define SNAPSHOT_EVERY_MS 20        //  B's snapshot during the outage, at most this often

typedef struct {
    char *ingest, *publish, *snapshot;
    const char *id;
    broker_proc_t *proc;
    feed_t *feed;
    ledger_t *ledger;
    bool gone;
    uint64_t gone_seq, gone_events, gone_lost;
    uint64_t replays;               //  complete replays its stats counted
} broker_t;

static void
s_broker_start (broker_t *broker)
{
    const char *args [] = { "--ingest", broker->ingest, "--publish", broker->publish,
                            "--snapshot", broker->snapshot, "--id", broker->id,
                            "--stats-interval", "0.1", NULL };
    broker->proc = broker_proc_new (args, false);
    const char *prefixes [] = { "ev/" HOST "/", "agent/" HOST "/", "stats/", NULL };
    broker->feed = feed_new (broker->publish, prefixes);
    CHECK (feed_wait_subscribers (broker->feed, 3, WAIT_MS));
    broker->ledger = ledger_new ();
    broker->gone = false;
}

static void
s_broker_init (broker_t *broker, const char *id)
{
    memset (broker, 0, sizeof (*broker));
    broker->ingest = tu_free_endpoint ();
    broker->publish = tu_free_endpoint ();
    broker->snapshot = tu_free_endpoint ();
    broker->id = id;
    s_broker_start (broker);
}

static void
s_broker_forget (broker_t *broker)
{
    feed_destroy (&broker->feed);
    ledger_destroy (&broker->ledger);
    broker_proc_destroy (&broker->proc);
}

//  One message from the broker's feed into its books
static void
s_note (broker_t *broker, service_proc_t *service)
{
    feed_t *feed = broker->feed;
    if (feed_is (feed, "ev/")) {
        zwatch_msg_t msg;
        feed_event (feed, &msg);
        CHECK_INT_EQ (msg.pid, service_proc_pid (service));
        ledger_add (broker->ledger, msg.seq);
    }
    else
    if (feed_is (feed, "agent/")) {
        CHECK_INT_EQ (feed_uint (feed, "pid"), service_proc_pid (service));
        if (streq (feed_str (feed, "state"), "gone")) {
            broker->gone = true;
            broker->gone_seq = feed_uint (feed, "seq");
            broker->gone_events = feed_uint (feed, "events");
            broker->gone_lost = feed_uint (feed, "lost");
        }
    }
}

//  Read whatever both feeds hold now, waiting up to wait_ms on the first
static void
s_pump (broker_t *brokers [], size_t count, service_proc_t *service, int wait_ms)
{
    for (size_t index = 0; index < count; index++)
        while (feed_recv (brokers [index]->feed, index? 0: wait_ms)) {
            s_note (brokers [index], service);
            wait_ms = 0;
        }
}

//  The broker's snapshot holds the agent whole: not partial, its socket
//  "flaky" there with its last bind error. False if not (yet).
static bool
s_snapshot_whole (broker_t *broker, service_proc_t *service)
{
    snap_client_t *client = snap_client_new (broker->snapshot);
    snap_reply_t *reply = snap_client_get (client, NULL, -1, WAIT_MS);
    bool whole = false;
    const msgpack_object *agent = snap_reply_nth (reply, "agent", 0);
    if (agent && mp_uint (agent, "pid") == (uint64_t) service_proc_pid (service)
    &&  mp_get (agent, "partial") && !mp_get (agent, "partial")->via.boolean) {
        for (size_t index = 0; index < snap_reply_count (reply, "socket"); index++) {
            const msgpack_object *socket = snap_reply_nth (reply, "socket", index);
            if (mp_str_is (socket, "sock", "flaky") && mp_get (socket, "bind_error"))
                whole = true;
        }
    }
    snap_reply_destroy (&reply);
    snap_client_destroy (&client);
    return whole;
}

int
main (void)
{
    broker_t a, b;
    s_broker_init (&a, "dual-a");
    s_broker_init (&b, "dual-b");
    char *ingest = NULL;
    CHECK (asprintf (&ingest, "%s,%s", a.ingest, b.ingest) > 0);
    //  Without folding: the outage's events must overflow the dead broker's queue
    const char *service_args [] = { "--rate", "400", "--queue", "500", "--heartbeat", "100",
                                    "--no-fold", NULL };
    service_proc_t *service = service_proc_new (ingest, HOST, SVC, service_args);
    broker_t *both [] = { &b, &a };
    long long deadline = tu_now_ms () + WAIT_MS;
    while (ledger_count (a.ledger) < EVENTS_BEFORE || ledger_count (b.ledger) < EVENTS_BEFORE) {
        CHECK (tu_now_ms () < deadline);
        s_pump (both, 2, service, 100);
    }
    CHECK (s_snapshot_whole (&a, service));
    CHECK (s_snapshot_whole (&b, service));

    //  A dies; B goes on as if nothing happened, its snapshot whole throughout
    CHECK_INT_EQ (broker_proc_stop (a.proc, SIGKILL, 5000), 128 + SIGKILL);
    s_broker_forget (&a);
    uint64_t at_kill = ledger_max (b.ledger);
    size_t snapshots = 0;
    broker_t *live [] = { &b };
    deadline = tu_now_ms () + WAIT_MS;
    long long snapshot_at = 0;
    while (ledger_max (b.ledger) < at_kill + OUTAGE_EVENTS) {
        CHECK (tu_now_ms () < deadline);
        s_pump (live, 1, service, 100);
        if (tu_now_ms () < snapshot_at)
            continue;
        snapshot_at = tu_now_ms () + SNAPSHOT_EVERY_MS;
        if (!s_snapshot_whole (&b, service)) {
            fprintf (stderr, "broker B's snapshot lacks the agent during A's outage\n");
            return 1;
        }
        snapshots++;
    }
    //  Every seq so far, without a gap, at B
    CHECK_INT_EQ (ledger_count (b.ledger), ledger_max (b.ledger));
    printf ("A down: B received seq %llu to %llu, %zu snapshots of B whole\n",
            (unsigned long long) at_kill, (unsigned long long) ledger_max (b.ledger), snapshots);

    //  A again, on the same endpoints: the agent reconnects, says hello and
    //  replays to A alone, and A's snapshot is whole again
    s_broker_start (&a);
    deadline = tu_now_ms () + WAIT_MS;
    while (!s_snapshot_whole (&a, service)) {
        if (tu_now_ms () > deadline) {
            fprintf (stderr, "broker A's snapshot never held the agent whole again (no "
                             "replay after its restart)\n");
            return 1;
        }
        s_pump (both, 2, service, 50);      //  polling a condition with a bound
    }
    uint64_t at_back = ledger_max (b.ledger);
    deadline = tu_now_ms () + WAIT_MS;
    while (ledger_count (a.ledger) < EVENTS_BEFORE || ledger_max (b.ledger) < at_back + EVENTS_BEFORE) {
        CHECK (tu_now_ms () < deadline);
        s_pump (both, 2, service, 100);
    }
    CHECK (s_snapshot_whole (&b, service));

    service_report_t report;
    service_proc_stop (service, &report);
    deadline = tu_now_ms () + WAIT_MS;
    while (!a.gone || !b.gone) {
        CHECK (tu_now_ms () < deadline);
        s_pump (both, 2, service, 100);
    }
    service_broker_report_t report_a, report_b;
    service_proc_broker (service, 0, &report_a);
    service_proc_broker (service, 1, &report_b);
    printf ("agent: read %llu sent %llu dropped %llu; A: sent %llu dropped %llu; "
            "B: sent %llu dropped %llu; B's feed %llu events, seq 1..%llu\n",
            (unsigned long long) report.read, (unsigned long long) report.sent,
            (unsigned long long) report.dropped, (unsigned long long) report_a.sent,
            (unsigned long long) report_a.dropped, (unsigned long long) report_b.sent,
            (unsigned long long) report_b.dropped,
            (unsigned long long) ledger_count (b.ledger), (unsigned long long) ledger_max (b.ledger));
    //  Nothing lost to all: one seq for every event read, the same at both
    CHECK_INT_EQ (report.dropped, 0);
    CHECK_INT_EQ (report.sent, report.read);
    //  The drops were A's alone
    CHECK (report_a.dropped > 0);
    CHECK_INT_EQ (report_a.sent + report_a.dropped, report.read);
    CHECK_INT_EQ (report_b.dropped, 0);
    CHECK_INT_EQ (report_b.sent, report.read);
    CHECK (report_a.connected && report_b.connected);
    //  B: every event, seq 1..sent, once each; its books agree
    CHECK_INT_EQ (ledger_count (b.ledger), report.sent);
    CHECK_INT_EQ (ledger_max (b.ledger), report.sent);
    CHECK_INT_EQ (ledger_duplicates (b.ledger), 0);
    CHECK_INT_EQ (b.gone_seq, report.sent);
    CHECK_INT_EQ (b.gone_events, report.sent);
    CHECK_INT_EQ (b.gone_lost, 0);
    //  The restarted A: the same numbering (what it got are B's seqs), and
    //  the bye's last seq
    CHECK_INT_EQ (ledger_duplicates (a.ledger), 0);
    CHECK (ledger_max (a.ledger) <= report.sent);
    CHECK_INT_EQ (a.gone_seq, report.sent);

    service_proc_destroy (&service);
    s_broker_forget (&a);
    s_broker_forget (&b);
    broker_t *all [] = { &a, &b };
    for (size_t index = 0; index < 2; index++) {
        free (all [index]->ingest);
        free (all [index]->publish);
        free (all [index]->snapshot);
    }
    free (ingest);
    return 0;
}
