/*  test_agent_death: a service killed with SIGKILL is reported lost once
    the heartbeat timeout has passed since its last message, and not
    before; the same service started again (a new pid) is a new agent; one
    that exits normally says bye and is gone at once, with every event
    counted, and is never reported lost afterwards.  */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "broker_proc.h"
#include "feed.h"
#include "ledger.h"
#include "service_proc.h"

#define HOST            "flt-death"
#define TOPIC           "agent/" HOST "/victim"
#define TIMEOUT_MS      1000        //  the broker's --heartbeat-timeout
#define WRAPPED_MS      4000        //  the same under $ZWATCH_TEST_WRAPPER (valgrind)
#define HEARTBEAT_MS    "200"       //  the agent's heartbeat
#define SLACK_MS        100         //  an event's way from the broker to us, at most
#define WAIT_MS         20000       //  bound on waits; never a speed limit

typedef struct {
    service_proc_t *proc;
    ledger_t *ledger;
    long long last_event;           //  when its last event reached us
} victim_t;

static const char *s_service_args [] = { "--rate", "25", "--heartbeat", HEARTBEAT_MS, NULL };

//  Read the feed until the victim's agent message in state arrives (or,
//  state NULL, until events of it arrived); events on the way go into the
//  victim's ledger. Returns the ms it took.
static long long
s_wait (feed_t *feed, victim_t *victim, const char *state, uint64_t events)
{
    long long start = tu_now_ms ();
    pid_t pid = service_proc_pid (victim->proc);
    while (tu_now_ms () - start < WAIT_MS) {
        if (!state && ledger_count (victim->ledger) >= events)
            return tu_now_ms () - start;
        if (!feed_recv (feed, 100))
            continue;
        if (feed_is (feed, "ev/")) {
            zwatch_msg_t msg;
            feed_event (feed, &msg);
            if (msg.pid == (uint64_t) pid) {
                CHECK (ledger_add_events (victim->ledger, msg.seq, msg.count));
                victim->last_event = tu_now_ms ();
            }
            continue;
        }
        CHECK_STR_EQ (feed_topic (feed), TOPIC);
        if (feed_uint (feed, "pid") == (uint64_t) pid && state
        &&  streq (feed_str (feed, "state"), state))
            return tu_now_ms () - start;
        //  Nothing else may happen to this agent meanwhile
        if (feed_uint (feed, "pid") == (uint64_t) pid)
            fprintf (stderr, "waiting for '%s': '%s' for pid %d after %lld ms, %lld ms after "
                     "its last event\n", state? state: "events", feed_str (feed, "state"),
                     (int) pid, tu_now_ms () - start,
                     victim->last_event? tu_now_ms () - victim->last_event: -1);
        CHECK (feed_uint (feed, "pid") != (uint64_t) pid);
    }
    fprintf (stderr, "no '%s' for pid %d within %d ms\n", state? state: "events", (int) pid,
             WAIT_MS);
    exit (1);
}

static void
s_start (victim_t *victim, const char *ingest)
{
    victim->proc = service_proc_new (ingest, HOST, "victim", s_service_args);
    victim->ledger = ledger_new ();
}

static void
s_finish (victim_t *victim)
{
    service_proc_destroy (&victim->proc);
    ledger_destroy (&victim->ledger);
}

int
main (void)
{
    //  Under valgrind at load 14 the test once saw another agent message
    //  for a live victim, most likely a 'lost': a service that slow can be
    //  silent for more than 1 s despite its 200 ms heartbeats
    const char *wrapper = getenv ("ZWATCH_TEST_WRAPPER");
    int timeout_ms = wrapper && *wrapper? WRAPPED_MS: TIMEOUT_MS;
    char timeout [16];
    snprintf (timeout, sizeof (timeout), "%g", timeout_ms / 1000.0);
    const char *broker_args [] = { "--heartbeat-timeout", timeout, "--stats-interval", "0.2",
                                   NULL };
    broker_proc_t *broker = broker_proc_new (broker_args, true);
    const char *prefixes [] = { "agent/" HOST "/", "ev/" HOST "/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_broker_subscribers (broker_proc_publish (broker), 2, WAIT_MS));

    //  Killed: lost after the heartbeat timeout, and not before
    victim_t first;
    s_start (&first, broker_proc_ingest (broker));
    s_wait (feed, &first, "up", 0);
    uint64_t first_start = feed_uint (feed, "start");
    s_wait (feed, &first, NULL, 5);
    service_proc_signal (first.proc, SIGKILL);
    long long took = s_wait (feed, &first, "lost", 0);
    long long silent = tu_now_ms () - first.last_event;
    printf ("SIGKILL: lost after %lld ms, %lld ms after its last event (heartbeat timeout "
            "%d ms)\n", took, silent, timeout_ms);
    //  Its last message came no earlier than its last event
    CHECK (silent >= timeout_ms - SLACK_MS);
    CHECK_INT_EQ (feed_uint (feed, "seq"), ledger_max (first.ledger));
    CHECK_INT_EQ (feed_uint (feed, "events"), ledger_count (first.ledger));
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);

    //  Started again: a new pid is a new agent, counted from its own start
    victim_t second;
    s_start (&second, broker_proc_ingest (broker));
    CHECK (service_proc_pid (second.proc) != service_proc_pid (first.proc));
    s_wait (feed, &second, "up", 0);
    CHECK (feed_uint (feed, "start") != first_start);
    CHECK_INT_EQ (feed_uint (feed, "events"), 0);         //  its hello came first
    s_wait (feed, &second, NULL, 5);

    //  Normal exit: bye, gone at once with every event, never lost later
    service_report_t report;
    long long stopped = tu_now_ms ();
    service_proc_stop (second.proc, &report);
    s_wait (feed, &second, "gone", 0);
    printf ("exit: gone %lld ms after SIGTERM, %llu events\n", tu_now_ms () - stopped,
            (unsigned long long) report.sent);
    CHECK_INT_EQ (report.read, report.sent + report.dropped);
    CHECK_INT_EQ (report.dropped, 0);
    CHECK_INT_EQ (feed_uint (feed, "seq"), report.sent);
    CHECK_INT_EQ (feed_uint (feed, "events"), report.sent);
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);
    CHECK_INT_EQ (ledger_count (second.ledger), report.sent);
    long long quiet_until = tu_now_ms () + 2 * timeout_ms;
    while (tu_now_ms () < quiet_until)
        if (feed_recv (feed, 100)) {
            fprintf (stderr, "after bye: '%s' %s\n", feed_topic (feed),
                     feed_is (feed, "agent/")? feed_str (feed, "state"): "");
            exit (1);
        }

    s_finish (&first);
    s_finish (&second);
    feed_destroy (&feed);
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, 5000), 0);
    broker_proc_destroy (&broker);
    return 0;
}
