/*  test_broker cases for zwatch-sub --batches: a broker's batch feed
    (--publish-batches, PROTOCOL.md 6 "The batch feed") read by zwatch-sub,
    beside the same broker's publish endpoint; its filters; and batch
    bodies that are not what the protocol says, from a raw publisher.  */

#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "test_broker.h"

#define PROBE_PID       900     //  the probe agents' from here; no test agent has one
#define PROBES_MAX      2       //  one per broker
#define FENCE_SEQ       99999   //  the probe's last event: all before it were read
#define LINES_MAX       256
#define BATCH_FRAME_MAX 16384

//  The batch feed is a PUB: nothing tells when a subscriber's subscription
//  is in. A probe event printed says it is. Sends an event of each probe
//  (probe n has pid PROBE_PID + n), seq from *seq on, every 100 ms until
//  each output at paths holds one of each.
static void
s_probe_until_printed (fake_agent_t *const probes [], size_t probe_count, uint64_t *seq,
                       char *const paths [], size_t count)
{
    long long deadline = tu_now_ms () + TB_WAIT_MS;
    while (true) {
        size_t size;
        for (size_t probe = 0; probe < probe_count; probe++)
            fake_agent_send_event (probes [probe], *seq, "CONNECTED", &size);
        ++*seq;
        bool all = true;
        for (size_t index = 0; index < count; index++) {
            char *output = tu_read_file (paths [index]);
            for (size_t probe = 0; probe < probe_count; probe++) {
                char needle [32];
                snprintf (needle, sizeof (needle), "\"pid\":%zu,", PROBE_PID + probe);
                all &= output && strstr (output, needle);
            }
            free (output);
        }
        if (all)
            return;
        CHECK (tu_now_ms () < deadline);
        zclock_sleep (100);
    }
}

//  Each probe's fence event, then each output prints them: what the
//  brokers published before was read. Then SIGTERM; each exits 0.
static void
s_fence_and_stop (fake_agent_t *const probes [], size_t probe_count, char *const paths [],
                  const pid_t subs [], size_t count)
{
    size_t size;
    for (size_t probe = 0; probe < probe_count; probe++)
        fake_agent_send_event (probes [probe], FENCE_SEQ, "CONNECTED", &size);
    char needle [64];
    snprintf (needle, sizeof (needle), "\"tcp://10.0.0.1:%d\"", FENCE_SEQ);
    for (size_t index = 0; index < count; index++) {
        CHECK (tu_wait_for_text (paths [index], needle, (int) probe_count, TB_WAIT_MS));
        kill (subs [index], SIGTERM);
        CHECK_INT_EQ (tb_wait_exit (subs [index], "zwatch-sub"), 0);
        char *errors = tu_read_errors (paths [index]);
        CHECK_STR_EQ (errors, "");
        free (errors);
    }
}

//  Send events seq first..last of agent in one ingest frame
static void
s_send_frame (fake_agent_t *agent, uint64_t first, uint64_t last)
{
    static uint8_t frame [BATCH_FRAME_MAX];
    const char *names [] = { "CONNECTED", "HANDSHAKE_SUCCEEDED", "DISCONNECTED", "CLOSED" };
    size_t used = 0;
    for (uint64_t seq = first; seq <= last; seq++) {
        size_t size;
        const void *bytes = fake_agent_event (agent, seq, names [seq % 4], &size);
        CHECK (used + size <= sizeof (frame));
        memcpy (frame + used, bytes, size);
        used += size;
    }
    fake_agent_send_raw (agent, frame, used);
}

//  Canonical lines of a --json output (json_lines.py), kind=event ones in
//  events (count in *event_count), the others counted; text freed by caller
static char *
s_event_lines (const char *path, char *events [], int *event_count, int *others)
{
    char *text = tb_json_lines (path);
    char *lines [LINES_MAX];
    int count = tb_split_lines (text, lines, LINES_MAX);
    CHECK (count < LINES_MAX);
    *event_count = *others = 0;
    for (int index = 0; index < count; index++)
        if (strstr (lines [index], "\tkind=event\t"))
            events [(*event_count)++] = lines [index];
        else
            ++*others;
    return text;
}

static bool
s_is_probe (const char *line)
{
    for (int probe = 0; probe < PROBES_MAX; probe++) {
        char field [32];
        snprintf (field, sizeof (field), "\tpid=%d\t", PROBE_PID + probe);
        if (strstr (line, field))
            return true;
    }
    return false;
}

//  zwatch-sub --batches on a broker's batch feed prints exactly the event
//  lines zwatch-sub prints from its publish endpoint, in the same order,
//  whether the events came to the broker many to a frame or one by one;
//  and nothing else (no agent or stats lines)
void
test_sub_batches (void)
{
    char *batch_ep = tu_free_endpoint ();
    const char *args [] = { "--stats-interval", "0.1", "--publish-batches", batch_ep, NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *publish = broker_proc_publish (broker);
    const char *stats_only [] = { "stats/", NULL };
    feed_t *feed = feed_new (publish, stats_only);
    char *paths [2] = { tu_temp_path (".plain"), tu_temp_path (".batches") };
    const char *plain_args [] = { "--json", NULL };
    const char *batch_args [] = { "--batches", "--json", NULL };
    pid_t subs [2];
    subs [0] = tb_spawn_sub (publish, plain_args, paths [0]);
    subs [1] = tb_spawn_sub (batch_ep, batch_args, paths [1]);
    tb_wait_subscribers (feed, 1 + 3);          //  the plain one: ev/ agent/ stats/
    const char *ingest = broker_proc_ingest (broker);
    fake_agent_t *probe = fake_agent_new (ingest, "probe-host", "probe-svc", PROBE_PID);
    uint64_t probe_seq = 1;
    s_probe_until_printed (&probe, 1, &probe_seq, paths, 2);

    //  A: 20 events in one frame, B: 5 alone, A: 10 more in one frame,
    //  B: 3 more alone, then both say bye (agent lines on the plain feed)
    fake_agent_t *a = fake_agent_new (ingest, "bat-a", "svc-a", 11);
    fake_agent_t *b = fake_agent_new (ingest, "bat-b", "svc-b", 12);
    fake_agent_send_state (a, ZWATCH_KIND_HELLO, 0);
    fake_agent_send_state (b, ZWATCH_KIND_HELLO, 0);
    s_send_frame (a, 1, 20);
    size_t size;
    for (uint64_t seq = 1; seq <= 5; seq++)
        fake_agent_send_event (b, seq, "ACCEPTED", &size);
    s_send_frame (a, 21, 30);
    for (uint64_t seq = 6; seq <= 8; seq++)
        fake_agent_send_event (b, seq, "LISTENING", &size);
    fake_agent_send_state (a, ZWATCH_KIND_BYE, 30);
    fake_agent_send_state (b, ZWATCH_KIND_BYE, 8);
    //  Their events and both byes are in before the fence
    CHECK (feed_wait_stats (feed, "events_out", probe_seq - 1 + 38, TB_WAIT_MS));
    CHECK (feed_wait_stats (feed, "agents", 1, TB_WAIT_MS));       //  the probe's
    s_fence_and_stop (&probe, 1, paths, subs, 2);

    //  Every event went out as a batch of its ingest frame: the two frames
    //  as one each, every event that came alone as one of its own
    uint64_t probes = probe_seq - 1 + 1;        //  and the fence
    CHECK (feed_wait_stats (feed, "events_out", probes + 38, TB_WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "batches_out"), probes + 2 + 8);
    CHECK_INT_EQ (feed_uint (feed, "invalid"), 0);

    char *plain [LINES_MAX], *batched [LINES_MAX];
    int plain_count, batched_count, plain_others, batched_others;
    char *plain_text = s_event_lines (paths [0], plain, &plain_count, &plain_others);
    char *batched_text = s_event_lines (paths [1], batched, &batched_count, &batched_others);
    //  The plain feed also had the agents' up and gone (and stats); the
    //  batch feed carries events alone
    CHECK (plain_others >= 5);
    CHECK_INT_EQ (batched_others, 0);
    //  The batch subscriber came in later (after some probes): its lines are
    //  the plain one's last lines, exactly, in order
    CHECK (batched_count >= 38 + 2 && batched_count <= plain_count);
    int skip = plain_count - batched_count;
    for (int index = 0; index < batched_count; index++)
        CHECK_STR_EQ (batched [index], plain [skip + index]);
    //  ... all of the test agents' events among them, in their seq order
    int tested = 0;
    uint64_t next_a = 1, next_b = 1;
    for (int index = 0; index < batched_count; index++) {
        const char *line = batched [index];
        if (s_is_probe (line))
            continue;
        CHECK (tested++ < 38);
        char expected [64];
        bool is_a = strstr (line, "\thost=bat-a\t") != NULL;
        snprintf (expected, sizeof (expected), "\tseq=%" PRIu64 "\t", is_a? next_a++: next_b++);
        CHECK (strstr (line, expected));
        CHECK (is_a || strstr (line, "\thost=bat-b\t"));
    }
    CHECK_INT_EQ (tested, 38);
    CHECK_INT_EQ (next_a, 31);
    CHECK_INT_EQ (next_b, 9);
    printf ("sub_batches: %d event lines each (%" PRIu64 " probes), %" PRIu64 " batches\n",
            batched_count, probes, feed_uint (feed, "batches_out"));

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    free (plain_text);
    free (batched_text);
    fake_agent_destroy (&a);
    fake_agent_destroy (&b);
    fake_agent_destroy (&probe);
    tb_remove (paths [0]);
    tb_remove (paths [1]);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
    free (batch_ep);
}

//  The agents of the filter case: hosts and services that are prefixes of
//  each other (PROTOCOL.md 6's pitfall); the probe, web-1/orders, is
//  within every filter below
static const struct {
    const char *host;
    const char *svc;
} s_agents [] = {
    { "web-10", "orders-v2" }, { "web-10", "orders" }, { "web-1", "orders-v2" },
    { "web-1", "orders" }, { "web-2", "orders" }
};
#define AGENTS          5
#define ROUNDS          4       //  frames of each agent: CONNECTED, DISCONNECTED
#define FILTER_SUBS     4

//  Each line of path that is no probe's is an event of one of the agents
//  named in wanted (indexes into s_agents, -1 ends it), each agent's seqs
//  1..ROUNDS*2 in order (every other one with connected_only), all there
static void
s_check_filtered (const char *path, const int wanted [], bool connected_only)
{
    char *events [LINES_MAX];
    int count, others;
    char *text = s_event_lines (path, events, &count, &others);
    CHECK_INT_EQ (others, 0);
    uint64_t next [AGENTS] = { 0 };
    uint64_t step = connected_only? 2: 1;
    for (int index = 0; index < count; index++) {
        const char *line = events [index];
        if (s_is_probe (line))
            continue;
        int agent = -1;
        for (int which = 0; wanted [which] >= 0 && agent < 0; which++) {
            char host [80], svc [80];
            snprintf (host, sizeof (host), "\thost=%s\t", s_agents [wanted [which]].host);
            snprintf (svc, sizeof (svc), "\tsvc=%s\t", s_agents [wanted [which]].svc);
            if (strstr (line, host) && strstr (line, svc))
                agent = wanted [which];
        }
        if (agent < 0) {
            fprintf (stderr, "%s: unexpected event: %s\n", path, line);
            exit (1);
        }
        next [agent] += next [agent]? step: 1;
        char seq [32];
        snprintf (seq, sizeof (seq), "\tseq=%" PRIu64 "\t", next [agent]);
        CHECK (strstr (line, seq));
        CHECK (!connected_only || strstr (line, "\tevent=CONNECTED\t"));
    }
    for (int which = 0; wanted [which] >= 0; which++)
        CHECK_INT_EQ (next [wanted [which]], ROUNDS * 2 - (connected_only? 1: 0));
    free (text);
}

//  --host, --service, '*' and --event on --batches: exactly the events
//  within them, whatever else shares their batch feed's topic prefixes
void
test_sub_batch_filters (void)
{
    char *batch_ep = tu_free_endpoint ();
    const char *args [] = { "--stats-interval", "0.1", "--publish-batches", batch_ep, NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *stats_only [] = { "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), stats_only);
    char *paths [FILTER_SUBS] = { tu_temp_path (".host"), tu_temp_path (".svc"),
                                  tu_temp_path (".both"), tu_temp_path (".star") };
    const char *host_args [] = { "--batches", "--json", "--host", "web-1", NULL };
    const char *svc_args [] = { "--batches", "--json", "--service", "orders", NULL };
    const char *both_args [] = { "--batches", "--json", "--service", "orders", "--host",
                                 "web-1", "--host", "web-10", NULL };
    const char *star_args [] = { "--batches", "--json", "--host", "web-1*", "--service",
                                 "orders*", "--event", "connected", NULL };
    pid_t subs [FILTER_SUBS] = { tb_spawn_sub (batch_ep, host_args, paths [0]),
                                 tb_spawn_sub (batch_ep, svc_args, paths [1]),
                                 tb_spawn_sub (batch_ep, both_args, paths [2]),
                                 tb_spawn_sub (batch_ep, star_args, paths [3]) };
    const char *ingest = broker_proc_ingest (broker);
    fake_agent_t *probe = fake_agent_new (ingest, "web-1", "orders", PROBE_PID);
    uint64_t probe_seq = 1;
    s_probe_until_printed (&probe, 1, &probe_seq, paths, FILTER_SUBS);

    //  Each agent: frames of two events (a batch each), then one alone
    fake_agent_t *agents [AGENTS];
    for (int index = 0; index < AGENTS; index++)
        agents [index] = fake_agent_new (ingest, s_agents [index].host, s_agents [index].svc,
                                         (uint64_t) (100 + index));
    static uint8_t frame [2 * ZWATCH_MSG_MAX];
    for (int round = 0; round < ROUNDS; round++)
        for (int index = 0; index < AGENTS; index++) {
            uint64_t seq = (uint64_t) round * 2 + 1;
            size_t size;
            if (round == ROUNDS - 1) {
                fake_agent_send_event (agents [index], seq, "CONNECTED", &size);
                fake_agent_send_event (agents [index], seq + 1, "DISCONNECTED", &size);
                continue;
            }
            const void *bytes = fake_agent_event (agents [index], seq, "CONNECTED", &size);
            memcpy (frame, bytes, size);
            size_t used = size;
            bytes = fake_agent_event (agents [index], seq + 1, "DISCONNECTED", &size);
            memcpy (frame + used, bytes, size);
            fake_agent_send_raw (agents [index], frame, used + size);
        }
    CHECK (feed_wait_stats (feed, "msgs_in", probe_seq - 1 + AGENTS * ROUNDS * 2, TB_WAIT_MS));
    s_fence_and_stop (&probe, 1, paths, subs, FILTER_SUBS);

    //  web-1: not web-10, not web-2; orders: not orders-v2; orders on
    //  web-1 and web-10: not web-2's; web-1* and orders*: all but web-2,
    //  CONNECTED only
    const int by_host [] = { 2, 3, -1 };
    const int by_svc [] = { 1, 3, 4, -1 };
    const int by_both [] = { 1, 3, -1 };
    const int by_star [] = { 0, 1, 2, 3, -1 };
    s_check_filtered (paths [0], by_host, false);
    s_check_filtered (paths [1], by_svc, false);
    s_check_filtered (paths [2], by_both, false);
    s_check_filtered (paths [3], by_star, true);

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    for (int index = 0; index < AGENTS; index++)
        fake_agent_destroy (&agents [index]);
    fake_agent_destroy (&probe);
    for (int index = 0; index < FILTER_SUBS; index++)
        tb_remove (paths [index]);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
    free (batch_ep);
}

#define PAIR_EVENTS     15

//  Brokers of a pair, each with its batch feed; an agent that reports to
//  both (the same events to each, many to a frame and alone): zwatch-sub
//  --batches on both feeds prints each event once
void
test_sub_batch_pair (void)
{
    char *batch_eps [2] = { tu_free_endpoint (), tu_free_endpoint () };
    broker_proc_t *brokers [2];
    feed_t *feeds [2];
    fake_agent_t *probes [2], *agents [2];
    for (int index = 0; index < 2; index++) {
        const char *args [] = { "--stats-interval", "0.1", "--publish-batches",
                                batch_eps [index], NULL };
        brokers [index] = broker_proc_new (args, true);
        const char *stats_only [] = { "stats/", NULL };
        feeds [index] = feed_new (broker_proc_publish (brokers [index]), stats_only);
        const char *ingest = broker_proc_ingest (brokers [index]);
        probes [index] = fake_agent_new (ingest, "probe-host", "probe-svc",
                                         (uint64_t) (PROBE_PID + index));
        agents [index] = fake_agent_new (ingest, "pair-host", "pair-svc", 50);
    }
    char *path = tu_temp_path (".pair");
    const char *sub_args [] = { "--connect", batch_eps [1], "--batches", "--json", NULL };
    pid_t sub = tb_spawn_sub (batch_eps [0], sub_args, path);
    uint64_t probe_seq = 1;
    s_probe_until_printed (probes, 2, &probe_seq, &path, 1);

    //  1..10 in two frames, 11..15 alone, to each broker
    for (int index = 0; index < 2; index++) {
        s_send_frame (agents [index], 1, 5);
        s_send_frame (agents [index], 6, 10);
        size_t size;
        for (uint64_t seq = 11; seq <= PAIR_EVENTS; seq++)
            fake_agent_send_event (agents [index], seq, "CONNECTED", &size);
    }
    //  The fences come on other connections: only once each broker
    //  published all the agent's events
    for (int index = 0; index < 2; index++)
        CHECK (feed_wait_stats (feeds [index], "events_out", probe_seq - 1 + PAIR_EVENTS,
                                TB_WAIT_MS));
    s_fence_and_stop (probes, 2, &path, &sub, 1);

    char *events [LINES_MAX];
    int count, others;
    char *text = s_event_lines (path, events, &count, &others);
    CHECK_INT_EQ (others, 0);
    int printed [PAIR_EVENTS + 1] = { 0 };
    int pair_lines = 0;
    for (int index = 0; index < count; index++) {
        if (s_is_probe (events [index]))
            continue;
        CHECK (strstr (events [index], "\thost=pair-host\t"));
        const char *seq = strstr (events [index], "\tseq=");
        CHECK (seq);
        unsigned long long value = strtoull (seq + 5, NULL, 10);
        CHECK (value >= 1 && value <= PAIR_EVENTS);
        printed [value]++;
        pair_lines++;
    }
    for (int seq = 1; seq <= PAIR_EVENTS; seq++)
        CHECK_INT_EQ (printed [seq], 1);
    CHECK_INT_EQ (pair_lines, PAIR_EVENTS);
    free (text);
    tb_remove (path);
    for (int index = 0; index < 2; index++) {
        CHECK_INT_EQ (broker_proc_stop (brokers [index], SIGTERM, TB_WAIT_MS), 0);
        fake_agent_destroy (&agents [index]);
        fake_agent_destroy (&probes [index]);
        feed_destroy (&feeds [index]);
        broker_proc_destroy (&brokers [index]);
        free (batch_eps [index]);
    }
}

//  An event map for the raw publisher: of host (valid or not), service s
static size_t
s_event_map (uint8_t *buf, size_t capacity, const char *host, uint64_t seq)
{
    zwatch_msg_t event = {
        .kind = ZWATCH_KIND_EVENT, .host = { host, strlen (host) }, .svc = { "s", 1 },
        .pid = 7, .sock = { "x", 1 }, .stype = { "DEALER", 6 }, .event = { "CONNECTED", 9 },
        .code = ZMQ_EVENT_CONNECTED, .value = 12, .endpoint = { "tcp://a:1", 9 },
        .ts = 1, .seq = seq
    };
    int size = zwatch_msg_encode (&event, buf, capacity);
    CHECK (size > 0);
    return (size_t) size;
}

//  zwatch-sub --batches reading batch bodies that do not all decode (from
//  something other than a zwatch broker): one line on stderr per body
//  (rate-limited as for any message it cannot read) that names the first
//  bad map, the maps before and between printed; a map whose end cannot
//  be found loses the rest of its batch. It goes on, and exits at --count.
void
test_sub_batch_malformed (void)
{
    //  An XPUB: a PUB that shows when the subscription is in
    char endpoint [64];
    zsock_t *publisher = tb_raw_publisher (endpoint, sizeof (endpoint));
    char *path = tu_temp_path (".badbatch");
    char *err_path = NULL;
    CHECK (asprintf (&err_path, "%s.err", path) > 0);
    const char *args [] = { "--batches", "--json", "--count", "5", NULL };
    pid_t sub = tb_spawn_sub (endpoint, args, path);
    zsock_set_rcvtimeo (publisher, TB_WAIT_MS);
    zframe_t *subscription = zframe_recv (publisher);
    CHECK (subscription && zframe_size (subscription) == 7
           && memcmp (zframe_data (subscription), "\001batch/", 7) == 0);
    zframe_destroy (&subscription);

    //  1, 2, a map of another host (valid), 3, a map with a bad host: the
    //  three events printed, one line for the two maps
    static uint8_t body [4096];
    size_t used = s_event_map (body, sizeof (body), "h", 1);
    used += s_event_map (body + used, sizeof (body) - used, "h", 2);
    used += s_event_map (body + used, sizeof (body) - used, "other", 9);
    used += s_event_map (body + used, sizeof (body) - used, "h", 3);
    used += s_event_map (body + used, sizeof (body) - used, "a/b", 10);
    tb_publish_raw (publisher, "batch/h/s/", body, used);
    CHECK (tu_wait_for_text (err_path, "skipped maps of a batch", 1, TB_WAIT_MS));
    zclock_sleep (1100);                //  past the one-line-a-second limit

    //  4, then a byte msgpack never uses and a whole map after it: 4
    //  printed, the rest unread (where would the next map start?)
    used = s_event_map (body, sizeof (body), "h", 4);
    size_t lost_start = used;
    body [used++] = 0xc1;
    used += s_event_map (body + used, sizeof (body) - used, "h", 12);
    tb_publish_raw (publisher, "batch/h/s/", body, used);
    CHECK (tu_wait_for_text (err_path, "skipped maps of a batch", 2, TB_WAIT_MS));
    size_t unread = used - lost_start;
    //  Held back by the limit, counted in the next line: a topic without
    //  its last '/', an empty batch
    tb_publish_raw (publisher, "batch/h/s", body, used);
    tb_publish_raw (publisher, "batch/h/s/", body, 0);
    zclock_sleep (1100);

    //  Not an event (a hello), then 5: 5 printed, the count reached
    zwatch_msg_t hello;
    memset (&hello, 0, sizeof (hello));
    hello.kind = ZWATCH_KIND_HELLO;
    hello.host = (zwatch_str_t) { "h", 1 };
    hello.svc = (zwatch_str_t) { "s", 1 };
    hello.pid = 7;
    hello.ts = hello.start = 1;
    int size = zwatch_msg_encode (&hello, body, sizeof (body));
    CHECK (size > 0);
    used = (size_t) size;
    used += s_event_map (body + used, sizeof (body) - used, "h", 5);
    tb_publish_raw (publisher, "batch/h/s/", body, used);
    CHECK_INT_EQ (tb_wait_exit (sub, "zwatch-sub --batches on a raw publisher"), 0);

    char *errors = tu_read_errors (path);
    char expected [1024];
    snprintf (expected, sizeof (expected),
        "zwatch-sub: skipped maps of a batch on 'batch/h/s/': map 3: topic does not match the "
        "event; 2 maps skipped\n"
        "zwatch-sub: skipped maps of a batch on 'batch/h/s/': map 2: invalid event "
        "(not_map); the last %zu bytes unread\n"
        "zwatch-sub: skipped maps of a batch on 'batch/h/s/': map 1: invalid event "
        "(bad_kind: kind) (3 skipped since the last warning, 5 in all)\n", unread);
    CHECK_STR_EQ (errors, expected);
    free (errors);
    char *output = tu_read_file (path);
    char *lines [8];
    CHECK_INT_EQ (tb_split_lines (output, lines, 8), 5);
    for (int index = 0; index < 5; index++) {
        char seq [32];
        snprintf (seq, sizeof (seq), "\"seq\":%d", index + 1);
        CHECK (strstr (lines [index], "\"kind\":\"event\",\"host\":\"h\",\"pid\":7,"));
        CHECK (strstr (lines [index], seq));
    }
    free (output);
    free (err_path);
    tb_remove (path);
    zsock_destroy (&publisher);
}
