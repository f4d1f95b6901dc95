/*  test_storm: storm folding with a real agent in a real service, a real
    broker and a subscriber.

    wire: 100 sockets retry a dead port every msec (ZMQ_RECONNECT_IVL 1)
    for 3 s, once with folding on and once off (ZWATCH_FOLD=0). Prints the event messages
    a second the broker published in the storm's steady part (from 1 s on)
    both ways and asserts folding sends at least 10 times fewer; the first
    event of each socket's storm (each of its keys: CONNECT_DELAYED,
    CLOSED, CONNECT_RETRIED) comes as itself, count 1, not in a summary;
    and the counts are exact: the sum of count over the events received is
    the agent's read minus dropped (and its sent, the last seq), every seq
    once, and the broker's gone message counts as many events and no loss.

    stops: a storm of failed binds (1000 a second, each a CLOSED and a
    BIND_FAILED) stops: the summaries for the rest of it arrive within
    about a second and nothing comes after them; after a second of quiet
    the binds fail again and the first event comes as itself, at once; the
    counts are exact.
*/

#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "broker_proc.h"
#include "feed.h"
#include "ledger.h"
#include "service_proc.h"

#define HOST            "storm-host"
#define SOCKETS         100
#define STORM_MS        3000        //  how long the storm runs
#define STEADY_FROM_MS  1000        //  messages a second counted from here on
#define FOLD_FACTOR     10          //  folding sends at least this many times fewer
#define REST_MS         2000        //  stops: the rest of a storm is out this soon (1 s + margin)
#define QUIET_MS        3000        //  stops: quiet this long before the storm comes again
#define WAIT_MS         60000       //  bound on waits; never a speed limit

typedef struct {
    const char *svc;
    char prefix [64];               //  ev/<host>/<svc>/
    ledger_t *ledger;
    uint64_t messages;              //  event messages received
    uint64_t events;                //  the sum of their count
    uint64_t summaries;             //  of them with count >= 2
    uint64_t steady;                //  messages received in the steady part
    bool first_seen [SOCKETS][4];   //  a socket's key had its first message
    long long max_first_ms;         //  the slowest first event, read to received
    long long last_ms;              //  when the last message came
    bool gone;                      //  the broker said the agent is gone
    uint64_t broker_events;         //  and counted these events
    uint64_t broker_lost;
} run_t;

static int
s_key (uint32_t code)
{
    return code == ZMQ_EVENT_CONNECT_DELAYED? 0: code == ZMQ_EVENT_CLOSED? 1
         : code == ZMQ_EVENT_CONNECT_RETRIED? 2: code == ZMQ_EVENT_BIND_FAILED? 3: -1;
}

static long long
s_wall_ms (void)
{
    return (long long) (zclock_time ());
}

//  Take the feed's current message into run if it is run's; in_steady:
//  count it as a message of the storm's steady part
static void
s_note (run_t *run, feed_t *feed, bool in_steady)
{
    if (feed_is (feed, "agent/") && streq (feed_str (feed, "svc"), run->svc)
    &&  streq (feed_str (feed, "state"), "gone")) {
        run->gone = true;
        run->broker_events = feed_uint (feed, "events");
        run->broker_lost = feed_uint (feed, "lost");
        return;
    }
    if (!feed_is (feed, run->prefix))
        return;
    zwatch_msg_t msg;
    feed_event (feed, &msg);
    CHECK (msg.count >= 1);
    CHECK (ledger_add_events (run->ledger, msg.seq, msg.count));
    run->messages++;
    run->events += msg.count;
    run->last_ms = tu_now_ms ();
    if (msg.count >= 2) {
        run->summaries++;
        CHECK (msg.since > 0 && msg.since <= msg.ts);
    }
    if (in_steady)
        run->steady++;
    int sock = 0, key = s_key (msg.code);
    bool storm = msg.sock.len >= 7 && memcmp (msg.sock.ptr, "storm-", 6) == 0;
    if (key < 0 || (!storm && !(msg.sock.len == 5 && memcmp (msg.sock.ptr, "flaky", 5) == 0)))
        return;
    if (storm)
        sock = atoi (msg.sock.ptr + 6);
    CHECK (sock >= 0 && sock < SOCKETS);
    if (!run->first_seen [sock][key]) {
        //  The first of a storm goes out as itself, not in a summary
        run->first_seen [sock][key] = true;
        CHECK_INT_EQ (msg.count, 1);
        long long took = s_wall_ms () - (long long) (msg.ts / 1000000);
        if (took > run->max_first_ms)
            run->max_first_ms = took;
    }
}

static run_t *
s_run_new (const char *svc)
{
    run_t *run = (run_t *) calloc (1, sizeof (run_t));
    CHECK (run);
    run->svc = svc;
    snprintf (run->prefix, sizeof (run->prefix), "ev/%s/%s/", HOST, svc);
    run->ledger = ledger_new ();
    return run;
}

static void
s_run_destroy (run_t **run_p)
{
    ledger_destroy (&(*run_p)->ledger);
    free (*run_p);
    *run_p = NULL;
}

//  Read the feed into run until the agent is gone
static void
s_read_to_gone (run_t *run, feed_t *feed)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (!run->gone && tu_now_ms () < deadline)
        if (feed_recv (feed, 100))
            s_note (run, feed, false);
    CHECK (run->gone);
}

//  The counts add up exactly: what the subscriber got is what the agent
//  read less what it dropped, every seq once, and the broker agrees
static void
s_check_exact (run_t *run, const service_report_t *report)
{
    CHECK_INT_EQ (report->read, report->sent + report->dropped);
    CHECK_INT_EQ (run->events, report->read - report->dropped);
    CHECK_INT_EQ (ledger_count (run->ledger), run->events);
    CHECK_INT_EQ (ledger_max (run->ledger), report->sent);
    CHECK_INT_EQ (ledger_duplicates (run->ledger), 0);
    CHECK_INT_EQ (run->broker_events, run->events);
    CHECK_INT_EQ (run->broker_lost, 0);
}

//  One storm of SOCKETS sockets for STORM_MS, folding on or off
static void
s_storm (broker_proc_t *broker, feed_t *feed, const char *dead, run_t *run, bool fold,
         service_report_t *report)
{
    //  Off through the environment, as an operator turns it off (the other
    //  tests that want no folding use the API: fault_service --no-fold)
    const char *args [] = { "--storm", "100", "--dead", dead, NULL };
    service_proc_t *service = service_proc_new_env (broker_proc_ingest (broker), HOST, run->svc,
                                                    args, fold? NULL: "ZWATCH_FOLD=0");
    CHECK (service_proc_wait_line (service, "storm sockets=", WAIT_MS));
    long long start = tu_now_ms ();
    while (tu_now_ms () < start + STORM_MS)
        if (feed_recv (feed, 100))
            s_note (run, feed, tu_now_ms () >= start + STEADY_FROM_MS);
    service_proc_stop (service, report);
    s_read_to_gone (run, feed);
    service_proc_destroy (&service);
    int firsts = 0;
    for (int sock = 0; sock < SOCKETS; sock++)
        for (int key = 0; key < 3; key++)
            firsts += run->first_seen [sock][key];
    printf ("folding %s: %.0f event messages a second (from %d ms to %d ms), %llu messages "
            "for %llu events (%llu summaries), read %llu = sent %llu + dropped %llu, folded "
            "%llu, unfolded %llu; %d first events, the slowest %lld ms after it was read\n",
            fold? "on": "off", run->steady * 1000.0 / (STORM_MS - STEADY_FROM_MS),
            STEADY_FROM_MS, STORM_MS, (unsigned long long) run->messages,
            (unsigned long long) run->events, (unsigned long long) run->summaries,
            (unsigned long long) report->read, (unsigned long long) report->sent,
            (unsigned long long) report->dropped, (unsigned long long) report->folded,
            (unsigned long long) report->unfolded, firsts, run->max_first_ms);
    //  Every socket's storm began with each of its three events, as themselves
    CHECK_INT_EQ (firsts, SOCKETS * 3);
}

static void
test_wire (void)
{
    broker_proc_t *broker = broker_proc_new (NULL, true);
    const char *prefixes [] = { "ev/" HOST "/", "agent/" HOST "/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_broker_subscribers (broker_proc_publish (broker), 2, WAIT_MS));
    char *dead = tu_free_endpoint ();

    run_t *on = s_run_new ("storm-on");
    service_report_t on_report;
    s_storm (broker, feed, dead, on, true, &on_report);
    CHECK (on->summaries > 0);
    CHECK (on_report.folded > 0);
    CHECK_INT_EQ (on_report.unfolded, 0);
    s_check_exact (on, &on_report);

    run_t *off = s_run_new ("storm-off");
    service_report_t off_report;
    s_storm (broker, feed, dead, off, false, &off_report);
    CHECK_INT_EQ (off->summaries, 0);
    CHECK_INT_EQ (off_report.folded, 0);
    CHECK_INT_EQ (off->messages, off->events);
    s_check_exact (off, &off_report);

    printf ("event messages a second: %llu folded, %llu not folded (%.0f times fewer)\n",
            (unsigned long long) (on->steady * 1000 / (STORM_MS - STEADY_FROM_MS)),
            (unsigned long long) (off->steady * 1000 / (STORM_MS - STEADY_FROM_MS)),
            on->steady? (double) off->steady / (double) on->steady: 0.0);
    CHECK (on->steady * FOLD_FACTOR <= off->steady);

    s_run_destroy (&on);
    s_run_destroy (&off);
    free (dead);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

static void
test_stops (void)
{
    broker_proc_t *broker = broker_proc_new (NULL, true);
    const char *prefixes [] = { "ev/" HOST "/", "agent/" HOST "/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_broker_subscribers (broker_proc_publish (broker), 2, WAIT_MS));
    run_t *run = s_run_new ("storm-stops");
    const char *args [] = { "--rate", "1000", NULL };
    service_proc_t *service = service_proc_new (broker_proc_ingest (broker), HOST, run->svc,
                                                args);
    //  Two seconds of storm: its first events, then summaries
    long long start = tu_now_ms ();
    while (tu_now_ms () < start + 2000)
        if (feed_recv (feed, 100))
            s_note (run, feed, false);
    CHECK (run->summaries > 0);

    //  It stops: the rest comes within about a second, then nothing
    service_proc_signal (service, SIGUSR1);
    CHECK (service_proc_wait_line (service, "paused ", WAIT_MS));
    long long stopped = tu_now_ms ();
    uint64_t summaries = run->summaries;
    while (tu_now_ms () < stopped + QUIET_MS)
        if (feed_recv (feed, 100))
            s_note (run, feed, false);
    printf ("stops: the last message %lld ms after the storm stopped, %llu summaries after "
            "it\n", run->last_ms - stopped, (unsigned long long) (run->summaries - summaries));
    CHECK (run->summaries > summaries);         //  the rest of it: at 1 ms, hundreds
    CHECK (run->last_ms - stopped <= REST_MS);
    uint64_t events = run->events;

    //  A second of quiet ended the storm: the next event goes out at once,
    //  as itself, and the two after it too
    memset (run->first_seen, 0, sizeof (run->first_seen));
    service_proc_signal (service, SIGUSR2);
    CHECK (service_proc_wait_line (service, "resumed ", WAIT_MS));
    long long again = tu_now_ms ();
    long long deadline = again + WAIT_MS;
    while (run->messages == 0 || run->events == events) {
        CHECK (tu_now_ms () < deadline);
        if (feed_recv (feed, 100))
            s_note (run, feed, false);      //  checks the first of each key has count 1
    }
    printf ("stops: the first event of the next storm %lld ms after it began\n",
            run->last_ms - again);
    CHECK_INT_EQ (run->events, events + 1);
    CHECK (run->last_ms - again < 1000);     //  held, it would wait a second

    service_report_t report;
    service_proc_stop (service, &report);
    s_read_to_gone (run, feed);
    printf ("stops: read %llu = sent %llu + dropped %llu, %llu messages\n",
            (unsigned long long) report.read, (unsigned long long) report.sent,
            (unsigned long long) report.dropped, (unsigned long long) run->messages);
    s_check_exact (run, &report);
    service_proc_destroy (&service);
    s_run_destroy (&run);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "wire", test_wire },
        { "stops", test_stops },
    };
    return tu_run_cases (argc, argv, "test_storm", cases, sizeof (cases) / sizeof (cases [0]));
}
