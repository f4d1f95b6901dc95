/*  test_overload: a burst of events far beyond the agent's queue while
    the broker is stalled (SIGSTOP: connected, reading nothing). The
    service is never blocked: the slowest turn of its own loop stays far
    below a second; its memory stays flat; the agent drops what does not
    fit and counts it. Once the broker runs again, everything the agent
    queued arrives, exactly: read = delivered + dropped, no loss.  */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "broker_proc.h"
#include "faults.h"
#include "feed.h"
#include "ledger.h"
#include "service_proc.h"

#define HOST            "flt-overload"
#define TRIES           "25000"     //  each try is two events
#define QUEUE           1000        //  the agent's queue limit
#define BLOCKED_US      1000000     //  a loop turn this slow means the agent blocked it
#define RSS_GROWTH_KB   8192        //  memory growth allowed after the first quarter
#define WAIT_MS         60000       //  bound on waits; never a speed limit

int
main (void)
{
    const char *broker_args [] = { "--stats-interval", "0.2", NULL };
    broker_proc_t *broker = broker_proc_new (broker_args, true);
    const char *prefixes [] = { "ev/" HOST "/", "agent/" HOST "/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_broker_subscribers (broker_proc_publish (broker), 2, WAIT_MS));

    //  Stalled broker: TCP connects, the handshake waits, the queue fills
    CHECK (kill (broker_proc_pid (broker), SIGSTOP) == 0);
    char queue [16];
    snprintf (queue, sizeof (queue), "%d", QUEUE);
    //  The queue's bound is in messages: one event each, without folding
    const char *service_args [] = { "--burst", TRIES, "--queue", queue, "--no-fold", NULL };
    service_proc_t *service = service_proc_new (broker_proc_ingest (broker), HOST, "burst",
                                                service_args);
    service_report_t burst;
    CHECK (service_proc_burst (service, &burst, WAIT_MS));
    printf ("burst: %llu tries, slowest loop turn %lld us, RSS %ld -> %ld KiB, %llu dropped\n",
            (unsigned long long) burst.tries, burst.max_iter_us, burst.rss_warm_kb,
            burst.rss_end_kb, (unsigned long long) burst.dropped);
    CHECK (burst.max_iter_us < BLOCKED_US);
    CHECK (burst.rss_warm_kb > 0 && burst.rss_end_kb > 0);
    if (faults_rss_checked ())
        CHECK (burst.rss_end_kb - burst.rss_warm_kb < RSS_GROWTH_KB);
    CHECK (burst.sent <= QUEUE);
    CHECK (burst.dropped > burst.tries);          //  most of 2 events a try

    //  The broker resumes: what the agent queued arrives, nothing else lost
    CHECK (kill (broker_proc_pid (broker), SIGCONT) == 0);
    ledger_t *ledger = ledger_new ();
    service_report_t report;
    bool stopped = false, gone = false;
    long long deadline = tu_now_ms () + WAIT_MS;
    while (!gone && tu_now_ms () < deadline) {
        //  The service is idle: stop it once its queue has been delivered
        if (!stopped && ledger_count (ledger) == burst.sent) {
            service_proc_stop (service, &report);
            stopped = true;
        }
        if (!feed_recv (feed, 100))
            continue;
        if (feed_is (feed, "ev/")) {
            zwatch_msg_t msg;
            feed_event (feed, &msg);
            CHECK (ledger_add_events (ledger, msg.seq, msg.count));
        }
        else
            gone = streq (feed_str (feed, "state"), "gone");
    }
    CHECK (gone);
    printf ("read %llu = delivered %llu + dropped %llu\n", (unsigned long long) report.read,
            (unsigned long long) ledger_count (ledger), (unsigned long long) report.dropped);
    CHECK (report.read >= report.tries);
    CHECK_INT_EQ (report.read, report.sent + report.dropped);
    CHECK_INT_EQ (ledger_count (ledger), report.sent);
    CHECK_INT_EQ (ledger_max (ledger), report.sent);
    CHECK_INT_EQ (feed_uint (feed, "seq"), report.sent);
    CHECK_INT_EQ (feed_uint (feed, "events"), report.sent);
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);

    ledger_destroy (&ledger);
    service_proc_destroy (&service);
    feed_destroy (&feed);
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, 5000), 0);
    broker_proc_destroy (&broker);
    return 0;
}
