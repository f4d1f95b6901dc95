/*  test_sub_watch: zwatch-sub keeps watching while its broker is away.
    Real processes on loopback: zwatch-sub, the real zwatch-broker, a port
    that resets every connection (reset_listener). Usage: test_sub_watch
    [CASE]; without a case, runs them all.  */

#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "tu_child.h"
#include "broker_proc.h"
#include "feed.h"
#include "fake_agent.h"
#include "agent_child.h"
#include "reset_listener.h"

//  Bound on every wait for something that should happen
#define WAIT_MS     10000

//  zwatch-sub --connect endpoint --events-only --json --count count
static tu_child_t *
s_sub_new (const char *endpoint, const char *count)
{
    char *bin = tu_bin ("zwatch-sub");
    const char *argv [] = { bin, "--connect", endpoint, "--events-only", "--json", "--count",
                            count, NULL };
    tu_child_t *sub = tu_child_new (argv, NULL, NULL, 0, "zwatch-sub");
    free (bin);
    return sub;
}

//  Wait until zwatch-sub's stderr holds text, times times
static void
s_wait_errors (tu_child_t *sub, const char *text, int times)
{
    char *err_path = NULL;
    CHECK (asprintf (&err_path, "%s.err", tu_child_out_path (sub)) > 0);
    if (!tu_wait_for_text (err_path, text, times, WAIT_MS)) {
        char *errors = tu_child_errors (sub);
        fprintf (stderr, "zwatch-sub's stderr lacks '%s' (x%d):\n%s\n", text, times, errors);
        exit (1);
    }
    free (err_path);
}

//  Wait until the broker behind feed counts this many subscriptions
static void
s_wait_subscribers (feed_t *feed, uint64_t count)
{
    if (!feed_wait_stats (feed, "subscriptions", count, WAIT_MS)) {
        fprintf (stderr, "the broker never counted %" PRIu64 " subscriptions\n", count);
        exit (1);
    }
}

//  zwatch-sub printed exactly these seqs, one JSON line each, in order
static void
s_check_printed (tu_child_t *sub, const uint64_t *seqs, int count)
{
    char *output = tu_child_output (sub);
    CHECK_INT_EQ (tu_count (output, "\n"), count);
    const char *at = output;
    for (int index = 0; index < count; index++) {
        char seq [32];
        snprintf (seq, sizeof (seq), "\"seq\":%" PRIu64 "}", seqs [index]);
        at = strstr (at, seq);
        if (!at) {
            fprintf (stderr, "zwatch-sub did not print seq %" PRIu64 " (in order):\n%s\n",
                     seqs [index], output);
            exit (1);
        }
    }
    free (output);
}

//  A broker's ingest and publish flags on given endpoints, with stats
//  every 100 ms so tests can wait for subscriptions
static broker_proc_t *
s_broker_on (const char *ingest, const char *publish, const char *id)
{
    const char *args [] = { "--ingest", ingest, "--publish", publish, "--id", id,
                            "--stats-interval", "0.1", NULL };
    return broker_proc_new (args, false);
}

//  Its publish port answers each connection with a reset; then the real
//  broker starts there
static void
test_resets (void)
{
    reset_listener_t *listener = reset_listener_new ();
    char *publish = strdup (reset_listener_endpoint (listener));
    tu_child_t *sub = s_sub_new (publish, "2");

    //  Several resets: still running, and it said so once, not "refused"
    long long deadline = tu_now_ms () + WAIT_MS;
    while (!reset_listener_wait (listener, 5, 20)) {
        int code = tu_child_wait (sub, 0);
        if (code >= 0 || tu_now_ms () > deadline) {
            char *errors = tu_child_errors (sub);
            fprintf (stderr, "zwatch-sub %s after %" PRIu64 " resets (exit %d): %s\n",
                     code >= 0? "exited": "still waiting", reset_listener_resets (listener),
                     code, errors);
            exit (1);
        }
    }
    CHECK_INT_EQ (tu_child_wait (sub, 0), -1);
    char *errors = tu_child_errors (sub);
    char *expected = NULL;
    //  (connected, but the handshake broke off: ECONNRESET), or, when the
    //  reset came before libzmq saw the connection made, (cannot connect)
    CHECK (asprintf (&expected, "zwatch-sub: broker at '%s' unreachable (", publish) > 0);
    if (strncmp (errors, expected, strlen (expected)) != 0
    ||  !strstr (errors, "); retrying\n") || tu_count (errors, "\n") != 1
    ||  strstr (errors, "refused")) {
        fprintf (stderr, "zwatch-sub after %" PRIu64 " resets said:\n%s\n",
                 reset_listener_resets (listener), errors);
        exit (1);
    }
    free (errors);
    free (expected);
    uint64_t resets = reset_listener_resets (listener);
    reset_listener_destroy (&listener);

    //  The broker on that port: zwatch-sub is back and prints its events
    char *ingest = tu_free_endpoint ();
    broker_proc_t *broker = s_broker_on (ingest, publish, "test-broker");
    const char *stats [] = { "stats/", NULL };
    feed_t *feed = feed_new (publish, stats);
    s_wait_subscribers (feed, 2);                  //  the feed's and zwatch-sub's "ev/"
    s_wait_errors (sub, "' back after ", 1);       //  held up to 2 s after the first line
    CHECK_INT_EQ (tu_child_wait (sub, 0), -1);
    fake_agent_t *agent = fake_agent_new (ingest, "reset-host", "reset-svc", 11);
    size_t size;
    fake_agent_send_event (agent, 1, "CONNECTED", &size);
    fake_agent_send_event (agent, 2, "DISCONNECTED", &size);
    CHECK_INT_EQ (tu_child_wait (sub, WAIT_MS), 0);
    const uint64_t seqs [] = { 1, 2 };
    s_check_printed (sub, seqs, 2);
    errors = tu_child_errors (sub);
    CHECK (asprintf (&expected, "zwatch-sub: broker at '%s' back after ", publish) > 0);
    char *lines [2] = { errors, strchr (errors, '\n') };
    CHECK (lines [1]);
    lines [1]++;
    double away;
    CHECK_INT_EQ (tu_count (errors, "\n"), 2);
    CHECK (strncmp (lines [1], expected, strlen (expected)) == 0);
    CHECK (sscanf (lines [1] + strlen (expected), "%lf s\n", &away) == 1 && away > 0);
    printf ("test_sub_watch resets: %" PRIu64 " resets, one line; back after %.1f s\n",
            resets, away);
    free (expected);
    free (errors);

    fake_agent_destroy (&agent);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
    tu_child_destroy (&sub);
    free (ingest);
    free (publish);
}

//  The broker is SIGKILLed and started again on the same ports
static void
test_restart (void)
{
    char *ingest = tu_free_endpoint ();
    char *publish = tu_free_endpoint ();
    broker_proc_t *broker = s_broker_on (ingest, publish, "first");
    const char *stats [] = { "stats/", NULL };
    feed_t *feed = feed_new (publish, stats);
    tu_child_t *sub = s_sub_new (publish, "3");
    s_wait_subscribers (feed, 2);
    fake_agent_t *agent = fake_agent_new (ingest, "restart-host", "restart-svc", 12);
    size_t size;
    fake_agent_send_event (agent, 1, "CONNECTED", &size);
    CHECK (tu_wait_for_text (tu_child_out_path (sub), "\"seq\":1}", 1, WAIT_MS));
    feed_destroy (&feed);

    broker_proc_stop (broker, SIGKILL, WAIT_MS);
    broker_proc_destroy (&broker);
    char *line = NULL;
    CHECK (asprintf (&line, "zwatch-sub: broker at '%s' unreachable (connection lost); "
                     "retrying\n", publish) > 0);
    s_wait_errors (sub, line, 1);
    CHECK_INT_EQ (tu_child_wait (sub, 0), -1);

    broker = s_broker_on (ingest, publish, "second");
    feed = feed_new (publish, stats);
    s_wait_subscribers (feed, 2);
    s_wait_errors (sub, "' back after ", 1);
    //  The agent's DEALER reconnects by itself; what it sends now arrives
    fake_agent_send_event (agent, 2, "CLOSED", &size);
    fake_agent_send_event (agent, 3, "CONNECTED", &size);
    CHECK_INT_EQ (tu_child_wait (sub, WAIT_MS), 0);
    const uint64_t seqs [] = { 1, 2, 3 };
    s_check_printed (sub, seqs, 3);

    //  Exactly two lines on stderr: gone, then back after how long
    char *errors = tu_child_errors (sub);
    CHECK_INT_EQ (tu_count (errors, "\n"), 2);
    CHECK (strncmp (errors, line, strlen (line)) == 0);
    free (line);
    CHECK (asprintf (&line, "zwatch-sub: broker at '%s' back after ", publish) > 0);
    const char *second = strchr (errors, '\n') + 1;
    CHECK (strncmp (second, line, strlen (line)) == 0);
    double away;
    CHECK (sscanf (second + strlen (line), "%lf s\n", &away) == 1 && away > 0);
    printf ("test_sub_watch restart: back after %.1f s\n", away);
    free (errors);
    free (line);

    fake_agent_destroy (&agent);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
    tu_child_destroy (&sub);
    free (ingest);
    free (publish);
}

//  A refusal that waiting cannot fix: CURVE on our side only, exit 1
static void
test_refused (void)
{
    const char *stats_args [] = { "--stats-interval", "60", NULL };
    broker_proc_t *broker = broker_proc_new (stats_args, true);
    char public_key [41], secret_key [41];
    CHECK (zmq_curve_keypair (public_key, secret_key) == 0);
    char *bin = tu_bin ("zwatch-sub");
    const char *argv [] = { bin, "--connect", broker_proc_publish (broker), "--server-key",
                            public_key, NULL };
    tu_child_t *sub = tu_child_new (argv, NULL, NULL, 0, "zwatch-sub");
    CHECK_INT_EQ (tu_child_wait (sub, WAIT_MS), 1);
    char *errors = tu_child_errors (sub);
    char *expected = NULL;
    CHECK (asprintf (&expected, "zwatch-sub: the broker at '%s' refused the handshake "
                     "(HANDSHAKE_FAILED_PROTOCOL, 0x11000002): protocol mismatch: this "
                     "subscriber speaks CURVE (--server-key) and the broker does not: drop "
                     "--server-key, or start the broker with --curve-secret\n",
                     broker_proc_publish (broker)) > 0);
    //  The last line; before it, if the broker closed before we read its
    //  greeting, one "unreachable" (libzmq retried and then saw why)
    size_t len = strlen (errors), expected_len = strlen (expected);
    if (len < expected_len || strcmp (errors + len - expected_len, expected) != 0
    ||  tu_count (errors, "\n") > 1 + tu_count (errors, "' unreachable (connected, but the "
                                                           "handshake broke off: ")) {
        fprintf (stderr, "zwatch-sub said:\n%s\nexpected at the end:\n%s\n", errors, expected);
        exit (1);
    }
    char *output = tu_child_output (sub);
    CHECK_STR_EQ (output, "");
    free (output);
    free (expected);
    free (errors);
    free (bin);
    tu_child_destroy (&sub);
    broker_proc_destroy (&broker);
}

//  A broker pair: a real agent reports to both (ZWATCH_BROKER=a,b), and
//  zwatch-sub connected to both prints each of its events and each of its
//  states once. A marker agent on each broker alone, after the agent's
//  bye reached both, says that zwatch-sub has read everything before it.
static void
test_pair (void)
{
    char *ingest [2] = { tu_free_endpoint (), tu_free_endpoint () };
    char *publish [2] = { tu_free_endpoint (), tu_free_endpoint () };
    broker_proc_t *brokers [2] = { s_broker_on (ingest [0], publish [0], "pair-a"),
                                   s_broker_on (ingest [1], publish [1], "pair-b") };
    char *bin = tu_bin ("zwatch-sub");
    //  3 events of the agent and the 2 markers
    const char *argv [] = { bin, "--connect", publish [0], "--connect", publish [1], "--json",
                            "--count", "5", NULL };
    tu_child_t *sub = tu_child_new (argv, NULL, NULL, 0, "zwatch-sub");
    free (bin);
    const char *prefixes [] = { "agent/", "stats/", NULL };
    feed_t *feeds [2];
    for (int index = 0; index < 2; index++) {
        feeds [index] = feed_new (publish [index], prefixes);
        s_wait_subscribers (feeds [index], 5);      //  the feed's 2, zwatch-sub's 3
    }
    char *both = NULL;
    CHECK (asprintf (&both, "%s,%s", ingest [0], ingest [1]) > 0);
    char *endpoint = tu_free_endpoint ();
    agent_child_t agent = agent_child_start (both, "pair-host", "pair-svc", ZMQ_ROUTER, "server",
                                             endpoint, true);
    agent_child_say (&agent, 'c');                  //  CLOSED, MONITOR_STOPPED
    agent_child_end (&agent);                       //  bye
    for (int index = 0; index < 2; index++)
        CHECK (feed_wait_agent (feeds [index], "agent/pair-host/pair-svc", "gone", WAIT_MS));
    fake_agent_t *markers [2];
    size_t size;
    for (int index = 0; index < 2; index++) {
        markers [index] = fake_agent_new (ingest [index], "marker", index? "b": "a", 90);
        fake_agent_send_event (markers [index], 1, "CONNECTED", &size);
    }
    CHECK_INT_EQ (tu_child_wait (sub, WAIT_MS), 0);
    char *output = tu_child_output (sub);
    //  Each seq of the agent once, its up and its gone once, both markers
    int seen [4] = { 0, 0, 0, 0 };
    for (char *line = output; line && *line; ) {
        char *end = strchr (line, '\n');
        CHECK (end);
        *end = 0;
        const char *seq = strstr (line, "\"seq\":");
        if (strstr (line, "\"kind\":\"event\",\"host\":\"pair-host\"") && seq) {
            int value = atoi (seq + 6);
            CHECK (value >= 1 && value <= 3);
            seen [value]++;
        }
        *end = '\n';
        line = end + 1;
    }
    for (int seq = 1; seq <= 3; seq++)
        if (seen [seq] != 1) {
            fprintf (stderr, "zwatch-sub printed seq %d %d times:\n%s\n", seq, seen [seq], output);
            exit (1);
        }
    CHECK_INT_EQ (tu_count (output, "\"kind\":\"event\""), 5);
    CHECK_INT_EQ (tu_count (output, "\"state\":\"up\",\"host\":\"pair-host\""), 1);
    CHECK_INT_EQ (tu_count (output, "\"state\":\"gone\",\"host\":\"pair-host\""), 1);
    printf ("test_sub_watch pair: %d lines, each of the agent's 3 events and 2 states once\n",
            tu_count (output, "\n"));
    free (output);
    for (int index = 0; index < 2; index++) {
        fake_agent_destroy (&markers [index]);
        feed_destroy (&feeds [index]);
        broker_proc_destroy (&brokers [index]);
        free (ingest [index]);
        free (publish [index]);
    }
    tu_child_destroy (&sub);
    free (both);
    free (endpoint);
}

int
main (int argc, char *argv [])
{
    zsys_init ();
    zsys_set_logstream (stderr);
    static const tu_case_t cases [] = {
        { "resets", test_resets }, { "restart", test_restart }, { "refused", test_refused },
        { "pair", test_pair }
    };
    return tu_run_cases (argc, argv, "test_sub_watch", cases, sizeof (cases) / sizeof (cases [0]));
}
