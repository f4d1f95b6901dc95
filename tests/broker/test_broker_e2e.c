/*  test_broker cases with real agents and subscribers: the whole path,
    agent lifecycle, subscriber filters, a stuck subscriber.  */

#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "test_broker.h"

#define E2E_SUB_COUNT   9       //  events agent_service reqrep makes at least
#define E2E_EVENTS_MAX  64
#define LINE_MAX_       1024

//  Fields every agent state message of this agent has
static void
s_check_agent (feed_t *feed, const char *host, const char *svc, pid_t pid, const char *state)
{
    CHECK_INT_EQ (feed_uint (feed, "v"), 1);
    CHECK_STR_EQ (feed_str (feed, "kind"), "agent");
    CHECK_STR_EQ (feed_str (feed, "state"), state);
    CHECK_STR_EQ (feed_str (feed, "host"), host);
    CHECK_STR_EQ (feed_str (feed, "svc"), svc);
    CHECK_INT_EQ (feed_uint (feed, "pid"), pid);
    CHECK_STR_EQ (feed_str (feed, "broker"), "test-broker");
    CHECK (feed_uint (feed, "start") > 0);
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);
}

//  Events of one kind on one socket in the feed's events
static int
s_tally (zwatch_msg_t *msgs, int count, const char *sock, const char *event)
{
    int found = 0;
    for (int index = 0; index < count; index++)
        found += tb_is (msgs [index].sock, sock) && tb_is (msgs [index].event, event);
    return found;
}

void
test_e2e (void)
{
    const char *args [] = { "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *publish = broker_proc_publish (broker);
    const char *ev_stats [] = { "ev/", "stats/", NULL };
    const char *agent_only [] = { "agent/", NULL };
    feed_t *feed = feed_new (publish, ev_stats);
    feed_t *agents = feed_new (publish, agent_only);
    char *sub_path = tu_temp_path (".sub");
    char count [16];
    snprintf (count, sizeof (count), "%d", E2E_SUB_COUNT);
    const char *sub_args [] = { "--json", "--count", count, NULL };
    pid_t sub = tb_spawn_sub (publish, sub_args, sub_path);
    tb_wait_subscribers (feed, 2 + 1 + 3);     //  zwatch-sub: ev/ agent/ stats/

    uint64_t started = (uint64_t) zclock_time () * 1000000;    //  epoch ns
    char *service_path = tu_temp_path (".service");
    pid_t service = tb_spawn_service ("reqrep", "", broker_proc_ingest (broker),
                                      "e2e-host", "e2e-svc", service_path);
    CHECK_INT_EQ (tb_wait_exit (service, "agent_service"), 0);
    uint64_t ended = (uint64_t) (zclock_time () + 1) * 1000000;
    char *service_out = tu_read_file (service_path);
    char endpoint [256];
    CHECK (service_out && sscanf (service_out, "reqrep %255s 8", endpoint) == 1);

    //  up on hello, gone on bye, with the agent's identity and counts
    CHECK (feed_wait_agent (agents, "agent/e2e-host/e2e-svc", "up", TB_WAIT_MS));
    s_check_agent (agents, "e2e-host", "e2e-svc", service, "up");
    uint64_t start = feed_uint (agents, "start");
    CHECK (start >= started - 1000000000ULL && start <= ended);
    CHECK_INT_EQ (feed_uint (agents, "events"), 0);
    CHECK_INT_EQ (feed_uint (agents, "seq"), 0);
    CHECK (feed_wait_agent (agents, "agent/e2e-host/e2e-svc", "gone", TB_WAIT_MS));
    s_check_agent (agents, "e2e-host", "e2e-svc", service, "gone");
    CHECK_INT_EQ (feed_uint (agents, "start"), start);
    int events = (int) feed_uint (agents, "events");
    CHECK_INT_EQ (feed_uint (agents, "seq"), events);
    CHECK (events >= E2E_SUB_COUNT && events <= E2E_EVENTS_MAX);

    //  Once the broker counts them all, the feed holds every event, in order.
    //  The first stats with every event out may come before the broker read
    //  the bye (the "gone" above travels on another socket): read on to one after it
    bool after_bye = false;
    while (!after_bye && feed_wait_stats (feed, "events_out", (uint64_t) events, TB_WAIT_MS))
        after_bye = feed_uint (feed, "agents") == 0;
    CHECK (after_bye);
    CHECK_INT_EQ (feed_uint (feed, "invalid"), 0);
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);
    static zwatch_msg_t msgs [E2E_EVENTS_MAX];
    static char bodies [E2E_EVENTS_MAX][ZWATCH_MSG_MAX];
    static char lines [E2E_EVENTS_MAX][LINE_MAX_];
    for (int index = 0; index < events; index++) {
        CHECK (feed_recv (feed, 0));
        zwatch_msg_t *msg = &msgs [index];
        CHECK (feed_body_size (feed) <= ZWATCH_MSG_MAX);
        memcpy (bodies [index], feed_body (feed), feed_body_size (feed));
        CHECK_INT_EQ (zwatch_msg_decode (msg, bodies [index], feed_body_size (feed), NULL),
                      ZWATCH_OK);
        CHECK_INT_EQ (msg->kind, ZWATCH_KIND_EVENT);
        const char *name = zwatch_event_name (msg->code);
        char topic [ZWATCH_TOPIC_MAX + 1];
        snprintf (topic, sizeof (topic), "ev/e2e-host/e2e-svc/%s", name);
        CHECK_STR_EQ (feed_topic (feed), topic);
        CHECK (tb_is (msg->event, name));
        CHECK (tb_is (msg->host, "e2e-host"));
        CHECK (tb_is (msg->svc, "e2e-svc"));
        CHECK_INT_EQ (msg->pid, service);
        CHECK_INT_EQ (msg->seq, index + 1);
        CHECK (msg->ts >= started && msg->ts <= ended);
        if (tb_is (msg->sock, "server"))
            CHECK (tb_is (msg->stype, "REP"));
        else {
            CHECK (tb_is (msg->sock, "REQ-1"));
            CHECK (tb_is (msg->stype, "REQ"));
        }
        CHECK (tb_is (msg->endpoint, msg->code == ZMQ_EVENT_MONITOR_STOPPED? "": endpoint));
        tb_event_line (msg, lines [index], LINE_MAX_);
    }
    while (feed_recv (feed, 0))
        CHECK (!feed_is (feed, "ev/"));         //  nothing beyond the count
    CHECK_INT_EQ (s_tally (msgs, events, "server", "LISTENING"), 1);
    CHECK_INT_EQ (s_tally (msgs, events, "server", "ACCEPTED"), 1);
    CHECK_INT_EQ (s_tally (msgs, events, "server", "HANDSHAKE_SUCCEEDED"), 1);
    CHECK_INT_EQ (s_tally (msgs, events, "server", "DISCONNECTED"), 1);
    CHECK_INT_EQ (s_tally (msgs, events, "server", "CLOSED"), 1);
    CHECK_INT_EQ (s_tally (msgs, events, "server", "MONITOR_STOPPED"), 1);
    CHECK_INT_EQ (s_tally (msgs, events, "REQ-1", "CONNECTED"), 1);
    CHECK_INT_EQ (s_tally (msgs, events, "REQ-1", "HANDSHAKE_SUCCEEDED"), 1);
    CHECK_INT_EQ (s_tally (msgs, events, "REQ-1", "MONITOR_STOPPED"), 1);

    //  zwatch-sub printed the first events as JSON, exactly as published,
    //  plus the agent's up and the broker's stats, then exited 0
    CHECK_INT_EQ (tb_wait_exit (sub, "zwatch-sub"), 0);
    char *errors = tu_read_errors (sub_path);
    CHECK_STR_EQ (errors, "");
    char *json = tb_json_lines (sub_path);
    char *json_lines [E2E_EVENTS_MAX * 4];
    int count_lines = tb_split_lines (json, json_lines, E2E_EVENTS_MAX * 4);
    int printed = 0, ups = 0, stats = 0;
    char pid_field [32];
    snprintf (pid_field, sizeof (pid_field), "\tpid=%d\t", (int) service);
    for (int index = 0; index < count_lines; index++) {
        const char *line = json_lines [index];
        if (strstr (line, "\tkind=event\t")) {
            CHECK (printed < E2E_SUB_COUNT);
            CHECK_STR_EQ (line, lines [printed]);
            printed++;
        }
        else
        if (strstr (line, "\tkind=agent\t")) {
            CHECK (strstr (line, "\tstate=up\t") && strstr (line, pid_field));
            CHECK_INT_EQ (printed, 0);          //  before the agent's first event
            ups++;
        }
        else {
            CHECK (strstr (line, "\tkind=stats\t") && strstr (line, "broker=test-broker\t"));
            stats++;
        }
    }
    CHECK_INT_EQ (printed, E2E_SUB_COUNT);
    CHECK_INT_EQ (ups, 1);
    CHECK (stats >= 1);

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    free (json);
    free (errors);
    free (service_out);
    tb_remove (service_path);
    tb_remove (sub_path);
    feed_destroy (&feed);
    feed_destroy (&agents);
    broker_proc_destroy (&broker);
}

//  The next agent state message (stats are skipped), or false at timeout
static bool
s_next_agent (feed_t *feed, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    long long left;
    while ((left = deadline - tu_now_ms ()) > 0 && feed_recv (feed, (int) left))
        if (feed_is (feed, "agent/"))
            return true;
    return false;
}

//  A real agent's burst (4096 unwatches, each a MONITOR_STOPPED) reaches
//  the broker in batches: fewer ingest frames than messages, every event
//  published once, in seq order, none lost (PROTOCOL.md 5, "Batches")
void
test_batch_e2e (void)
{
    const char *args [] = { "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *ev_stats [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), ev_stats);
    const char *agent_only [] = { "agent/", NULL };
    feed_t *agents = feed_new (broker_proc_publish (broker), agent_only);
    tb_wait_subscribers (feed, 3);
    char *service_path = tu_temp_path (".service");
    pid_t service = tb_spawn_service ("limit", "", broker_proc_ingest (broker), "bat-host",
                                      "bat-svc", service_path);
    CHECK_INT_EQ (tb_wait_exit (service, "agent_service limit"), 0);
    CHECK (feed_wait_agent (agents, "agent/bat-host/bat-svc", "gone", TB_WAIT_MS));
    uint64_t events = feed_uint (agents, "events");
    CHECK_INT_EQ (feed_uint (agents, "lost"), 0);
    CHECK (events >= ZWATCH_AGENT_SOCKETS_LIMIT);
    //  Every event the broker counted for the agent came out once, in order
    CHECK (feed_wait_stats (feed, "events_out", events, TB_WAIT_MS));
    uint64_t msgs = feed_uint (feed, "msgs_in"), frames = feed_uint (feed, "ingest_frames");
    printf ("batch_e2e: %" PRIu64 " messages in %" PRIu64 " frames\n", msgs, frames);
    CHECK (msgs >= events + 2);             //  hello, events, heartbeats, bye
    CHECK (frames < msgs);
    CHECK_INT_EQ (feed_uint (feed, "invalid"), 0);
    CHECK_INT_EQ (feed_uint (feed, "batch_truncated"), 0);
    uint64_t seq = 0;
    while (feed_recv (feed, 0))
        if (feed_is (feed, "ev/")) {
            zwatch_msg_t msg;
            feed_event (feed, &msg);
            CHECK_INT_EQ (msg.seq, ++seq);
        }
    CHECK_INT_EQ (seq, events);
    tb_remove (service_path);
    feed_destroy (&agents);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

void
test_lifecycle (void)
{
    const char *args [] = { "--heartbeat-timeout", "1", "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *prefixes [] = { "agent/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    tb_wait_subscribers (feed, 2);

    //  A fails a bind and exits normally; B idles until killed
    zsock_t *holder = zsock_new (ZMQ_PULL);
    int port = zsock_bind (holder, "tcp://127.0.0.1:*");
    CHECK (port > 0);
    char taken [64];
    snprintf (taken, sizeof (taken), "tcp://127.0.0.1:%d", port);
    char *a_path = tu_temp_path (".a");
    char *b_path = tu_temp_path (".b");
    const char *ingest = broker_proc_ingest (broker);
    pid_t a = tb_spawn_service ("bindfail", taken, ingest, "life-host", "svc-a", a_path);
    pid_t b = tb_spawn_service ("idle", "60000", ingest, "life-host", "svc-b", b_path);

    uint64_t a_start = 0, b_start = 0;
    bool a_gone = false;
    while (!a_gone || !b_start) {
        CHECK (s_next_agent (feed, TB_WAIT_MS));
        const char *state = feed_str (feed, "state");
        if (streq (feed_topic (feed), "agent/life-host/svc-a") && !a_start) {
            s_check_agent (feed, "life-host", "svc-a", a, "up");
            CHECK_INT_EQ (feed_uint (feed, "events"), 0);
            a_start = feed_uint (feed, "start");
        }
        else
        if (streq (feed_topic (feed), "agent/life-host/svc-a") && !a_gone) {
            s_check_agent (feed, "life-host", "svc-a", a, "gone");
            CHECK_INT_EQ (feed_uint (feed, "start"), a_start);
            //  Its BIND_FAILED and MONITOR_STOPPED at least, none lost
            CHECK (feed_uint (feed, "events") >= 2);
            CHECK_INT_EQ (feed_uint (feed, "seq"), feed_uint (feed, "events"));
            a_gone = true;
        }
        else
        if (streq (feed_topic (feed), "agent/life-host/svc-b") && !b_start) {
            s_check_agent (feed, "life-host", "svc-b", b, "up");
            b_start = feed_uint (feed, "start");
        }
        else {
            fprintf (stderr, "unexpected %s on %s\n", state, feed_topic (feed));
            exit (1);
        }
    }
    CHECK_INT_EQ (tb_wait_exit (a, "agent_service bindfail"), 0);

    //  B's heartbeats keep it up past the timeout; A, gone, is not lost
    long long quiet_end = tu_now_ms () + 1500;
    long long left;
    while ((left = quiet_end - tu_now_ms ()) > 0)
        if (s_next_agent (feed, (int) left)) {
            fprintf (stderr, "unexpected %s on %s\n", feed_str (feed, "state"), feed_topic (feed));
            exit (1);
        }

    //  kill -9: no bye, lost after the heartbeat timeout
    long long killed = tu_now_ms ();
    tu_kill (b);
    CHECK (s_next_agent (feed, TB_WAIT_MS));
    long long elapsed = tu_now_ms () - killed;
    CHECK_STR_EQ (feed_topic (feed), "agent/life-host/svc-b");
    s_check_agent (feed, "life-host", "svc-b", b, "lost");
    CHECK_INT_EQ (feed_uint (feed, "start"), b_start);
    CHECK_INT_EQ (feed_uint (feed, "events"), 0);
    CHECK (elapsed >= 500);         //  the timeout, not the disconnect

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    zsock_destroy (&holder);
    tb_remove (a_path);
    tb_remove (b_path);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

//  Agents for the filter test: the hosts and services are prefixes of
//  each other, as PROTOCOL.md section 6 warns
static const struct {
    const char *host;
    const char *svc;
} s_filter_agents [] = {
    { "web-10", "orders-v2" }, { "web-10", "orders" },
    { "web-1", "orders-v2" },  { "web-1", "orders" }
};
#define FILTER_AGENTS   4
#define FILTER_ROUNDS   5

//  Each of the two agents that field tells apart (value a or b) sent
//  seqs 1..FILTER_ROUNDS once; agents on different connections interleave
//  in any order, each agent's events stay in order
typedef struct {
    const char *field;
    const char *values [2];
    uint64_t next [2];
} filtered_t;

static void
s_filtered_add (filtered_t *self, const char *line, uint64_t seq)
{
    for (int which = 0; which < 2; which++) {
        char expected [64];
        snprintf (expected, sizeof (expected), "\t%s=%s\t", self->field, self->values [which]);
        if (strstr (line, expected)) {
            CHECK_INT_EQ (seq, ++self->next [which]);
            return;
        }
    }
    fprintf (stderr, "unexpected event: %s\n", line);
    exit (1);
}

static void
s_filtered_check (filtered_t *self)
{
    CHECK_INT_EQ (self->next [0], FILTER_ROUNDS);
    CHECK_INT_EQ (self->next [1], FILTER_ROUNDS);
}

//  zwatch-sub's lines: all have filter (e.g. "host=web-1"), the two agents
//  that match it all their events
static void
s_check_filtered (char *path, const char *filter, const char *field, const char *a, const char *b)
{
    char *json = tb_json_lines (path);
    char *lines [FILTER_ROUNDS * 2 + 1];
    CHECK_INT_EQ (tb_split_lines (json, lines, FILTER_ROUNDS * 2 + 1), FILTER_ROUNDS * 2);
    filtered_t filtered = { field, { a, b }, { 0, 0 } };
    char wanted [64];
    snprintf (wanted, sizeof (wanted), "\t%s\t", filter);
    for (int index = 0; index < FILTER_ROUNDS * 2; index++) {
        CHECK (strstr (lines [index], "\tkind=event\t"));
        CHECK (strstr (lines [index], wanted));
        const char *seq = strstr (lines [index], "\tseq=");
        CHECK (seq);
        s_filtered_add (&filtered, lines [index], strtoull (seq + 5, NULL, 10));
    }
    s_filtered_check (&filtered);
    free (json);
    tb_remove (path);
}

void
test_filters (void)
{
    const char *args [] = { "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *publish = broker_proc_publish (broker);
    const char *prefixes [] = { "ev/web-10/", "stats/", NULL };
    feed_t *feed = feed_new (publish, prefixes);
    char *host_path = tu_temp_path (".host");
    char *svc_path = tu_temp_path (".svc");
    const char *host_args [] = { "--json", "--events-only", "--host", "web-1", "--count", "10", NULL };
    const char *svc_args [] = { "--json", "--events-only", "--service", "orders", "--count", "10", NULL };
    pid_t by_host = tb_spawn_sub (publish, host_args, host_path);
    pid_t by_svc = tb_spawn_sub (publish, svc_args, svc_path);
    tb_wait_subscribers (feed, 2 + 1 + 1);     //  ev/web-1/ and ev/

    fake_agent_t *agents [FILTER_AGENTS];
    for (int index = 0; index < FILTER_AGENTS; index++)
        agents [index] = fake_agent_new (broker_proc_ingest (broker), s_filter_agents [index].host,
                                         s_filter_agents [index].svc, 100 + index);
    //  Every event but the last; the last, which both subscribers want,
    //  goes once the broker has published all others: a subscriber that
    //  took a foreign event would have printed it among its 10 lines
    size_t size;
    for (int round = 1; round <= FILTER_ROUNDS; round++)
        for (int index = 0; index < FILTER_AGENTS; index++)
            if (round < FILTER_ROUNDS || index < FILTER_AGENTS - 1)
                fake_agent_send_event (agents [index], (uint64_t) round, "CONNECTED", &size);
    CHECK (feed_wait_stats (feed, "msgs_in", FILTER_ROUNDS * FILTER_AGENTS - 1, TB_WAIT_MS));
    fake_agent_send_event (agents [FILTER_AGENTS - 1], FILTER_ROUNDS, "CONNECTED", &size);
    CHECK (feed_wait_stats (feed, "msgs_in", FILTER_ROUNDS * FILTER_AGENTS, TB_WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "events_out"), FILTER_ROUNDS * FILTER_AGENTS);

    CHECK_INT_EQ (tb_wait_exit (by_host, "zwatch-sub --host"), 0);
    CHECK_INT_EQ (tb_wait_exit (by_svc, "zwatch-sub --service"), 0);
    s_check_filtered (host_path, "host=web-1", "svc", "orders-v2", "orders");
    s_check_filtered (svc_path, "svc=orders", "host", "web-10", "web-1");

    //  A raw SUB on ev/web-10/ has exactly web-10's events
    filtered_t filtered = { "svc", { "orders-v2", "orders" }, { 0, 0 } };
    for (int index = 0; index < FILTER_ROUNDS * 2; index++) {
        CHECK (feed_recv (feed, 0));
        zwatch_msg_t msg;
        feed_event (feed, &msg);
        CHECK (tb_is (msg.host, "web-10"));
        char line [LINE_MAX_];
        tb_event_line (&msg, line, sizeof (line));
        s_filtered_add (&filtered, line, msg.seq);
    }
    s_filtered_check (&filtered);
    while (feed_recv (feed, 0))
        CHECK (feed_is (feed, "stats/"));

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    for (int index = 0; index < FILTER_AGENTS; index++)
        fake_agent_destroy (&agents [index]);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

//  --host and --service with a trailing '*', --event in lower case:
//  web-1* takes web-10 and web-1, orders-* only orders-v2, "connected"
//  only CONNECTED (each agent also sends DISCONNECTED, which must not show)
void
test_filter_prefix (void)
{
    const char *args [] = { "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *publish = broker_proc_publish (broker);
    const char *prefixes [] = { "stats/", NULL };
    feed_t *feed = feed_new (publish, prefixes);
    char *path = tu_temp_path (".prefix");
    const char *sub_args [] = { "--json", "--events-only", "--host", "web-1*", "--service",
                                "orders-*", "--event", "connected", "--count", "10", NULL };
    pid_t sub = tb_spawn_sub (publish, sub_args, path);
    tb_wait_subscribers (feed, 1 + 1);         //  ev/web-1 (a prefix: no '/')

    fake_agent_t *agents [FILTER_AGENTS];
    for (int index = 0; index < FILTER_AGENTS; index++)
        agents [index] = fake_agent_new (broker_proc_ingest (broker), s_filter_agents [index].host,
                                         s_filter_agents [index].svc, 100 + index);
    //  The last wanted event (web-1/orders-v2, index 2) goes once all the
    //  others are in, as in test_filters
    size_t size;
    int sent = 0;
    for (int round = 1; round <= FILTER_ROUNDS; round++)
        for (int index = 0; index < FILTER_AGENTS; index++)
            if (round < FILTER_ROUNDS || index != 2) {
                fake_agent_send_event (agents [index], (uint64_t) round * 2 - 1, "CONNECTED",
                                       &size);
                fake_agent_send_event (agents [index], (uint64_t) round * 2, "DISCONNECTED",
                                       &size);
                sent += 2;
            }
    CHECK (feed_wait_stats (feed, "msgs_in", (uint64_t) sent, TB_WAIT_MS));
    fake_agent_send_event (agents [2], FILTER_ROUNDS * 2 - 1, "CONNECTED", &size);
    CHECK_INT_EQ (tb_wait_exit (sub, "zwatch-sub --host web-1*"), 0);

    char *json = tb_json_lines (path);
    char *lines [FILTER_ROUNDS * 2 + 1];
    CHECK_INT_EQ (tb_split_lines (json, lines, FILTER_ROUNDS * 2 + 1), FILTER_ROUNDS * 2);
    int web_10 = 0, web_1 = 0;
    for (int index = 0; index < FILTER_ROUNDS * 2; index++) {
        CHECK (strstr (lines [index], "\tevent=CONNECTED\t"));
        CHECK (strstr (lines [index], "\tsvc=orders-v2\t"));
        web_10 += strstr (lines [index], "\thost=web-10\t") != NULL;
        web_1 += strstr (lines [index], "\thost=web-1\t") != NULL;
    }
    CHECK_INT_EQ (web_10, FILTER_ROUNDS);
    CHECK_INT_EQ (web_1, FILTER_ROUNDS);
    free (json);
    tb_remove (path);

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    for (int index = 0; index < FILTER_AGENTS; index++)
        fake_agent_destroy (&agents [index]);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

//  More events than the broker's XPUB (100000 per subscriber) and the
//  kernel's buffers hold for a subscriber that never reads
#define STUCK_EVENTS    150000
#define STUCK_BATCH     500

//  Read what the feed (events only) has; each must be the next seq
static void
s_drain_good (feed_t *feed, int timeout_ms, uint64_t *got)
{
    while (*got < STUCK_EVENTS && feed_recv (feed, timeout_ms)) {
        CHECK_INT_EQ (feed_uint (feed, "seq"), *got + 1);
        ++*got;
    }
}

void
test_stuck (void)
{
    const char *args [] = { "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *ev_only [] = { "ev/", NULL };
    const char *stats_only [] = { "stats/", NULL };
    feed_t *good = feed_new (broker_proc_publish (broker), ev_only);
    feed_t *stats = feed_new (broker_proc_publish (broker), stats_only);
    zsock_t *stuck = zsock_new (ZMQ_SUB);
    CHECK (stuck);
    zsock_set_rcvhwm (stuck, 10);
    zsock_set_rcvbuf (stuck, 4096);
    zsock_set_subscribe (stuck, "ev/");        //  nothing comes after the events
    CHECK (zsock_connect (stuck, "%s", broker_proc_publish (broker)) == 0);
    tb_wait_subscribers (stats, 3);

    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "stuck-host", "stuck-svc", 77);
    uint64_t got = 0;
    size_t size;
    long long start = tu_now_ms ();
    for (uint64_t seq = 1; seq <= STUCK_EVENTS; seq++) {
        fake_agent_send_event (agent, seq, "CONNECTED", &size);
        if (seq % STUCK_BATCH == 0)
            s_drain_good (good, 0, &got);
    }
    s_drain_good (good, TB_WAIT_MS, &got);
    if (got < STUCK_EVENTS) {
        fprintf (stderr, "the good subscriber got %" PRIu64 " of %d events\n", got, STUCK_EVENTS);
        exit (1);
    }
    long long took = tu_now_ms () - start;
    CHECK (feed_wait_stats (stats, "msgs_in", STUCK_EVENTS, TB_WAIT_MS));
    CHECK_INT_EQ (feed_uint (stats, "events_out"), STUCK_EVENTS);

    //  The stuck one got only part: the broker dropped for it, not for us
    void *handle = zsock_resolve (stuck);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    uint64_t stuck_got = 0;
    zmq_pollitem_t items [] = { { handle, 0, ZMQ_POLLIN, 0 } };
    while (zmq_poll (items, 1, 500) == 1)
        while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) >= 0)
            stuck_got += !zmq_msg_more (&frame);
    zmq_msg_close (&frame);
    printf ("stuck: good subscriber got %" PRIu64 " events in %lld ms, the stuck one %" PRIu64
            "\n", got, took, stuck_got);
    CHECK (stuck_got > 0 && stuck_got < STUCK_EVENTS);

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    fake_agent_destroy (&agent);
    zsock_destroy (&stuck);
    feed_destroy (&good);
    feed_destroy (&stats);
    broker_proc_destroy (&broker);
}

//  Stats until they say both counts, or the test fails saying what they said
static void
s_wait_counts (feed_t *stats, uint64_t subscriptions, uint64_t subscribers)
{
    long long deadline = tu_now_ms () + TB_WAIT_MS;
    while (tu_now_ms () < deadline) {
        if (feed_wait_stats (stats, "subscriptions", subscriptions,
                             (int) (deadline - tu_now_ms ()))
        &&  feed_uint (stats, "subscribers") == subscribers)
            return;
    }
    fprintf (stderr, "stats: subscriptions %" PRIu64 ", subscribers %" PRIu64 "; expected %"
             PRIu64 " and %" PRIu64 "\n", feed_uint (stats, "subscriptions"),
             feed_uint (stats, "subscribers"), subscriptions, subscribers);
    exit (1);
}

//  stats: subscriptions (one per prefix) and subscribers (connections),
//  as subscribers come and go
void
test_subscribers (void)
{
    const char *args [] = { "--stats-interval", "0.05", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *publish = broker_proc_publish (broker);
    const char *stats_only [] = { "stats/", NULL };
    feed_t *stats = feed_new (publish, stats_only);
    s_wait_counts (stats, 1, 1);
    //  Two zwatch-sub: ev/, agent/ and stats/ each
    char *first_path = tu_temp_path (".sub"), *second_path = tu_temp_path (".sub");
    const char *sub_args [] = { NULL };
    pid_t first = tb_spawn_sub (publish, sub_args, first_path);
    pid_t second = tb_spawn_sub (publish, sub_args, second_path);
    s_wait_counts (stats, 1 + 3 + 3, 3);
    kill (first, SIGTERM);
    CHECK_INT_EQ (tb_wait_exit (first, "zwatch-sub"), 0);
    s_wait_counts (stats, 1 + 3, 2);
    kill (second, SIGTERM);
    CHECK_INT_EQ (tb_wait_exit (second, "zwatch-sub"), 0);
    s_wait_counts (stats, 1, 1);
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    tb_remove (first_path);
    tb_remove (second_path);
    feed_destroy (&stats);
    broker_proc_destroy (&broker);
}
