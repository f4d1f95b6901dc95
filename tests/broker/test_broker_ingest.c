/*  test_broker cases about what agents send: malformed messages, seq
    gaps, a full agent table. A fake agent sends exact bytes; the broker's
    stats must count exactly what was sent.  */

#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "test_broker.h"

#define MALFORMED_KINDS 24
#define OVERSIZED       5000        //  over 4096, under the 65536 frame limit

//  Deterministic "random" bytes (xorshift32)
static void
s_random_bytes (uint8_t *bytes, size_t size, uint32_t seed)
{
    uint32_t state = seed;
    for (size_t index = 0; index < size; index++) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        bytes [index] = (uint8_t) state;
    }
}

//  Send invalid message number `which` (0 .. MALFORMED_KINDS-1) built
//  around a valid event with this seq; returns the reason it must get
static zwatch_reason_t
s_send_malformed (fake_agent_t *agent, int which, uint64_t seq)
{
    static uint8_t bytes [ZWATCH_MSG_MAX + 1];
    static char padding [OVERSIZED + 1];
    fake_field_t fields [FAKE_EVENT_FIELDS + 1];
    fake_agent_event_fields (agent, fields, seq, "ACCEPTED");
    size_t size;
    const void *valid = fake_agent_event (agent, seq, "ACCEPTED", &size);
    CHECK (size < sizeof (bytes));
    zwatch_reason_t reason;
    zwatch_msg_t msg;

    switch (which) {
        case 0:
        case 1:
            //  Random bytes: whatever the normative decoder says, never ok
            size = which? sizeof (bytes) - 1: 100;
            s_random_bytes (bytes, size, 2463534242u + (uint32_t) which);
            reason = zwatch_msg_decode (&msg, bytes, size, NULL);
            CHECK (reason != ZWATCH_OK);
            fake_agent_send_raw (agent, bytes, size);
            return reason;
        case 2:
            fake_agent_send_raw (agent, "", 0);
            return ZWATCH_REJECT_MALFORMED;
        case 3:
            fake_agent_send_raw (agent, "\x81\xa1x\xc1", 4);     //  {"x": 0xc1}
            return ZWATCH_REJECT_MALFORMED;
        case 4:
            fake_agent_send_raw (agent, valid, size / 2);       //  truncated
            return ZWATCH_REJECT_MALFORMED;
        case 5:
            fake_agent_send_raw (agent, valid, 1);              //  the map header only
            return ZWATCH_REJECT_MALFORMED;
        case 6:
            fake_agent_send_raw (agent, "\x92\x01\x02", 3);     //  [1, 2]
            return ZWATCH_REJECT_NOT_MAP;
        case 7:
            //  nil before the map: not a map, and the rest of the frame
            //  goes with it (after a map, nil would end a batch: test_batch)
            bytes [0] = 0xc0;
            memcpy (bytes + 1, valid, size);
            fake_agent_send_raw (agent, bytes, size + 1);
            return ZWATCH_REJECT_NOT_MAP;
        case 8:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "pid", FAKE_STR, "4242", 0);
            reason = ZWATCH_REJECT_BAD_TYPE;
            break;
        case 9:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "host", FAKE_BIN, "mal-host", 0);
            reason = ZWATCH_REJECT_BAD_TYPE;
            break;
        case 10:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "seq", FAKE_INT, NULL, -1);
            reason = ZWATCH_REJECT_BAD_VALUE;
            break;
        case 11:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "endpoint", FAKE_REMOVED, NULL, 0);
            reason = ZWATCH_REJECT_MISSING_KEY;
            break;
        case 12:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "v", FAKE_REMOVED, NULL, 0);
            reason = ZWATCH_REJECT_MISSING_KEY;
            break;
        case 13:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "v", FAKE_UINT, NULL, 2);
            reason = ZWATCH_REJECT_BAD_VERSION;
            break;
        case 14:
            memset (padding, 'p', OVERSIZED);
            fields [FAKE_EVENT_FIELDS] = (fake_field_t) { "padding", FAKE_STR, padding, 0 };
            fake_agent_send_fields (agent, fields, FAKE_EVENT_FIELDS + 1);
            return ZWATCH_REJECT_TOO_LARGE;
        case 15:
        case 16:
            fake_agent_send_parts (agent, valid, size, which == 15? 2: 3);
            return ZWATCH_REJECT_MULTIPART;
        case 17:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "host", FAKE_STR, "a/b", 0);
            reason = ZWATCH_REJECT_BAD_HOST;
            break;
        case 18:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "svc", FAKE_STR, "mal svc", 0);
            reason = ZWATCH_REJECT_BAD_SERVICE;
            break;
        case 19:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "code", FAKE_UINT, NULL, ZMQ_EVENT_CONNECTED);
            reason = ZWATCH_REJECT_BAD_EVENT;                   //  ACCEPTED is 32
            break;
        case 20:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "kind", FAKE_STR, "party", 0);
            reason = ZWATCH_REJECT_BAD_KIND;
            break;
        case 21:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "seq", FAKE_UINT, NULL, 0);
            reason = ZWATCH_REJECT_BAD_VALUE;
            break;
        case 22:
            fields [FAKE_EVENT_FIELDS] = (fake_field_t) { "pid", FAKE_UINT, NULL, 4242 };
            fake_agent_send_fields (agent, fields, FAKE_EVENT_FIELDS + 1);
            return ZWATCH_REJECT_DUPLICATE_KEY;
        default:
            fake_field_set (fields, FAKE_EVENT_FIELDS, "sock", FAKE_STR, "tab\there", 0);
            reason = ZWATCH_REJECT_BAD_STRING;
            break;
    }
    fake_agent_send_fields (agent, fields, FAKE_EVENT_FIELDS);
    return reason;
}

void
test_malformed (void)
{
    const char *args [] = { "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *prefixes [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    tb_wait_subscribers (feed, 2);

    //  Each invalid message is followed by a valid event
    long long start = tu_now_ms ();
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "mal-host", "mal-svc", 4242);
    fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 0);
    static uint8_t sent [MALFORMED_KINDS][ZWATCH_MSG_MAX];
    size_t sent_size [MALFORMED_KINDS];
    uint64_t expected [ZWATCH_REJECT_COUNT] = { 0 };
    const char *names [] = { "ACCEPTED", "BIND_FAILED", "DISCONNECTED" };
    for (int which = 0; which < MALFORMED_KINDS; which++) {
        expected [s_send_malformed (agent, which, (uint64_t) which + 1)]++;
        const void *bytes = fake_agent_send_event (agent, (uint64_t) which + 1, names [which % 3],
                                                   &sent_size [which]);
        memcpy (sent [which], bytes, sent_size [which]);
    }
    fake_agent_send_state (agent, ZWATCH_KIND_BYE, MALFORMED_KINDS);

    //  Counted exactly, by reason; valid events, agent table untouched
    CHECK (feed_wait_stats (feed, "msgs_in", 1 + 2 * MALFORMED_KINDS + 1, TB_WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "invalid"), MALFORMED_KINDS);
    CHECK_INT_EQ (feed_uint (feed, "events_out"), MALFORMED_KINDS);
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);
    CHECK_INT_EQ (feed_uint (feed, "reordered"), 0);
    CHECK_INT_EQ (feed_uint (feed, "agents"), 0);
    CHECK_INT_EQ (feed_uint (feed, "agents_refused"), 0);
    const msgpack_object *by = feed_get (feed, "invalid_by");
    CHECK (by && by->type == MSGPACK_OBJECT_MAP);
    uint32_t reasons = 0;
    for (int reason = 1; reason < ZWATCH_REJECT_COUNT; reason++) {
        uint64_t counted = 0;
        const char *name = zwatch_reason_name ((zwatch_reason_t) reason);
        for (uint32_t index = 0; index < by->via.map.size; index++) {
            const msgpack_object_kv *kv = &by->via.map.ptr [index];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen (name)
            &&  memcmp (kv->key.via.str.ptr, name, strlen (name)) == 0) {
                CHECK (kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER);
                counted = kv->val.via.u64;
            }
        }
        if (counted != expected [reason]) {
            fprintf (stderr, "invalid_by %s: %" PRIu64 ", sent %" PRIu64 "\n", name, counted,
                     expected [reason]);
            exit (1);
        }
        reasons += expected [reason] > 0;
    }
    CHECK_INT_EQ (by->via.map.size, reasons);           //  only nonzero reasons

    //  Every valid event was published, byte for byte, in order
    for (int which = 0; which < MALFORMED_KINDS; which++) {
        CHECK (feed_recv (feed, 0));
        char topic [64];
        snprintf (topic, sizeof (topic), "ev/mal-host/mal-svc/%s", names [which % 3]);
        CHECK_STR_EQ (feed_topic (feed), topic);
        CHECK_INT_EQ (feed_body_size (feed), sent_size [which]);
        CHECK (memcmp (feed_body (feed), sent [which], sent_size [which]) == 0);
    }
    while (feed_recv (feed, 0))
        CHECK (feed_is (feed, "stats/"));

    //  Each reason is logged, at most once a second per reason
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    long long seconds = (tu_now_ms () - start) / 1000 + 1;
    char *log = broker_proc_log (broker);
    for (int reason = 1; reason < ZWATCH_REJECT_COUNT; reason++) {
        char line [80];
        snprintf (line, sizeof (line), "dropped invalid message: %s",
                  zwatch_reason_name ((zwatch_reason_t) reason));
        CHECK ((tu_count (log, line) > 0) == (expected [reason] > 0));
        CHECK (tu_count (log, line) <= seconds);
    }
    free (log);
    fake_agent_destroy (&agent);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

//  Batches (PROTOCOL.md 5): several maps in one frame are handled one by
//  one, as if each came alone; a map whose end cannot be found ends the frame
#define BATCH_EVENTS 40

void
test_batch (void)
{
    const char *args [] = { "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *prefixes [] = { "ev/", "agent/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    tb_wait_subscribers (feed, 3);
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "bat-host", "bat-svc", 77);

    //  Frame 1: hello and BATCH_EVENTS events; frame 2: events 41, 42, an
    //  invalid (well formed, bad host) map, event 43
    static uint8_t frame [65536];
    static uint8_t sent [BATCH_EVENTS + 3][ZWATCH_MSG_MAX];
    size_t sent_size [BATCH_EVENTS + 3];
    const char *names [] = { "ACCEPTED", "BIND_FAILED", "DISCONNECTED" };
    zwatch_msg_t hello;
    memset (&hello, 0, sizeof (hello));
    hello.kind = ZWATCH_KIND_HELLO;
    hello.host = (zwatch_str_t) { "bat-host", 8 };
    hello.svc = (zwatch_str_t) { "bat-svc", 7 };
    hello.pid = 77;
    hello.ts = hello.start = 1700000000000000000ULL;
    int size = zwatch_msg_encode (&hello, frame, sizeof (frame));
    CHECK (size > 0);
    size_t used = (size_t) size;
    for (int index = 0; index < BATCH_EVENTS + 3; index++) {
        if (index == BATCH_EVENTS) {
            fake_agent_send_raw (agent, frame, used);
            used = 0;
        }
        if (index == BATCH_EVENTS + 2) {
            zwatch_msg_t bad;
            const void *bytes = fake_agent_event (agent, 1000, "ACCEPTED", &sent_size [index]);
            CHECK (zwatch_msg_decode (&bad, bytes, sent_size [index], NULL) == ZWATCH_OK);
            bad.host = (zwatch_str_t) { "a/b", 3 };
            size = zwatch_msg_encode (&bad, frame + used, sizeof (frame) - used);
            CHECK (size > 0);
            used += (size_t) size;
        }
        const void *bytes = fake_agent_event (agent, (uint64_t) index + 1, names [index % 3],
                                              &sent_size [index]);
        memcpy (sent [index], bytes, sent_size [index]);
        memcpy (frame + used, bytes, sent_size [index]);
        used += sent_size [index];
    }
    fake_agent_send_raw (agent, frame, used);

    //  Frame 3: event 44, then what is not a map (nil, an event after it):
    //  44 goes out, the rest is lost and counted once
    size_t first;
    const void *bytes = fake_agent_event (agent, BATCH_EVENTS + 4, "ACCEPTED", &first);
    memcpy (frame, bytes, first);
    frame [first] = 0xc0;
    size_t lost_size;
    bytes = fake_agent_event (agent, BATCH_EVENTS + 5, "ACCEPTED", &lost_size);
    memcpy (frame + first + 1, bytes, lost_size);
    fake_agent_send_raw (agent, frame, first + 1 + lost_size);
    //  Frame 4: a truncated second map (malformed) after event 45
    bytes = fake_agent_event (agent, BATCH_EVENTS + 5, "ACCEPTED", &first);
    memcpy (frame, bytes, first);
    memcpy (frame + first, bytes, first / 2);
    fake_agent_send_raw (agent, frame, first + first / 2);

    //  4 frames; maps: 1 + 40, 4, 2 (44 and the lost rest), 2
    CHECK (feed_wait_stats (feed, "msgs_in", 1 + BATCH_EVENTS + 4 + 2 + 2, TB_WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "ingest_frames"), 4);
    CHECK_INT_EQ (feed_uint (feed, "events_out"), BATCH_EVENTS + 3 + 2);
    CHECK_INT_EQ (feed_uint (feed, "invalid"), 3);
    CHECK_INT_EQ (feed_uint (feed, "batch_truncated"), 2);
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);
    CHECK_INT_EQ (feed_uint (feed, "reordered"), 0);
    CHECK_INT_EQ (feed_uint (feed, "agents"), 1);

    //  The agent came up once; every event was published once, in order,
    //  byte for byte, as it would have been alone
    CHECK (feed_recv (feed, 0));
    CHECK_STR_EQ (feed_topic (feed), "agent/bat-host/bat-svc");
    CHECK_STR_EQ (feed_str (feed, "state"), "up");
    for (int index = 0; index < BATCH_EVENTS + 3; index++) {
        CHECK (feed_recv (feed, 0));
        char topic [64];
        snprintf (topic, sizeof (topic), "ev/bat-host/bat-svc/%s", names [index % 3]);
        CHECK_STR_EQ (feed_topic (feed), topic);
        CHECK_INT_EQ (feed_body_size (feed), sent_size [index]);
        CHECK (memcmp (feed_body (feed), sent [index], sent_size [index]) == 0);
    }
    for (uint64_t seq = BATCH_EVENTS + 4; seq <= BATCH_EVENTS + 5; seq++) {
        CHECK (feed_recv (feed, 0));
        zwatch_msg_t msg;
        feed_event (feed, &msg);
        CHECK_INT_EQ (msg.seq, seq);
    }
    while (feed_recv (feed, 0))
        CHECK (feed_is (feed, "stats/"));

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    char *log = broker_proc_log (broker);
    CHECK (tu_count (log, "dropped invalid message: bad_host") == 1);
    CHECK (tu_count (log, "dropped invalid message: not_map") == 1);
    CHECK (tu_count (log, "dropped invalid message: malformed") == 1);
    free (log);
    fake_agent_destroy (&agent);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

//  The current message is the agent state message for agent
static void
s_check_state (feed_t *feed, const char *topic, const char *state, uint64_t seq,
               uint64_t events, uint64_t lost)
{
    CHECK_STR_EQ (feed_topic (feed), topic);
    CHECK_STR_EQ (feed_str (feed, "state"), state);
    CHECK_INT_EQ (feed_uint (feed, "seq"), seq);
    CHECK_INT_EQ (feed_uint (feed, "events"), events);
    CHECK_INT_EQ (feed_uint (feed, "lost"), lost);
}

void
test_seq_gaps (void)
{
    const char *args [] = { "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *prefixes [] = { "agent/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    tb_wait_subscribers (feed, 2);

    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "gap-host", "gap-svc", 555);
    size_t size;
    fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 0);
    fake_agent_send_event (agent, 1, "CONNECTED", &size);
    fake_agent_send_event (agent, 2, "DISCONNECTED", &size);
    fake_agent_send_event (agent, 5, "CONNECTED", &size);      //  3 and 4 lost
    CHECK (feed_wait_stats (feed, "msgs_in", 4, TB_WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "lost"), 2);
    CHECK_INT_EQ (feed_uint (feed, "reordered"), 0);
    CHECK_INT_EQ (feed_uint (feed, "events_out"), 3);
    CHECK_INT_EQ (feed_uint (feed, "agents"), 1);

    //  4 comes late (reordered, still published); a heartbeat says 8 was
    //  the last seq: 7 and 8 never came
    fake_agent_send_event (agent, 4, "DISCONNECTED", &size);
    fake_agent_send_event (agent, 6, "CONNECTED", &size);
    fake_agent_send_state (agent, ZWATCH_KIND_HEARTBEAT, 8);
    fake_agent_send_state (agent, ZWATCH_KIND_BYE, 8);
    CHECK (feed_wait_stats (feed, "msgs_in", 8, TB_WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "lost"), 4);
    CHECK_INT_EQ (feed_uint (feed, "reordered"), 1);
    CHECK_INT_EQ (feed_uint (feed, "events_out"), 5);
    CHECK_INT_EQ (feed_uint (feed, "agents"), 0);
    CHECK_INT_EQ (feed_uint (feed, "invalid"), 0);

    CHECK (feed_recv (feed, 0));
    s_check_state (feed, "agent/gap-host/gap-svc", "up", 0, 0, 0);
    CHECK (feed_recv (feed, 0));
    s_check_state (feed, "agent/gap-host/gap-svc", "gone", 8, 5, 4);
    while (feed_recv (feed, 0))
        CHECK (feed_is (feed, "stats/"));

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    fake_agent_destroy (&agent);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

#define MAX_AGENTS      2
#define AGENT_EVENTS    5

//  The next message is an event of host with this seq
static void
s_expect_event (feed_t *feed, const char *host, uint64_t seq)
{
    CHECK (feed_recv (feed, 0));
    char topic [64];
    snprintf (topic, sizeof (topic), "ev/%s/max-svc/CONNECTED", host);
    CHECK_STR_EQ (feed_topic (feed), topic);
    CHECK_INT_EQ (feed_uint (feed, "seq"), seq);
}

void
test_max_agents (void)
{
    const char *args [] = { "--max-agents", "2", "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *prefixes [] = { "ev/", "agent/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    tb_wait_subscribers (feed, 3);

    //  One agent after the other: the third finds the table full
    const char *hosts [] = { "max-1", "max-2", "max-3" };
    fake_agent_t *agents [3];
    size_t size;
    for (int index = 0; index < 3; index++) {
        agents [index] = fake_agent_new (broker_proc_ingest (broker), hosts [index], "max-svc",
                                         1000 + index);
        fake_agent_send_state (agents [index], ZWATCH_KIND_HELLO, 0);
        for (uint64_t seq = 1; seq <= AGENT_EVENTS; seq++)
            fake_agent_send_event (agents [index], seq, "CONNECTED", &size);
        CHECK (feed_wait_stats (feed, "msgs_in", (uint64_t) (index + 1) * (AGENT_EVENTS + 1),
                                TB_WAIT_MS));
    }
    CHECK_INT_EQ (feed_uint (feed, "agents"), MAX_AGENTS);
    CHECK_INT_EQ (feed_uint (feed, "agents_refused"), AGENT_EVENTS + 1);
    CHECK_INT_EQ (feed_uint (feed, "events_out"), 3 * AGENT_EVENTS);
    CHECK_INT_EQ (feed_uint (feed, "invalid"), 0);
    //  All events forwarded; up only for the two tracked
    for (int index = 0; index < 3; index++) {
        if (index < MAX_AGENTS) {
            char topic [64];
            snprintf (topic, sizeof (topic), "agent/%s/max-svc", hosts [index]);
            CHECK (feed_recv (feed, 0));
            s_check_state (feed, topic, "up", 0, 0, 0);
        }
        for (uint64_t seq = 1; seq <= AGENT_EVENTS; seq++)
            s_expect_event (feed, hosts [index], seq);
    }

    //  A bye makes room: the third is tracked from its next message on,
    //  with no loss counted for what came before
    fake_agent_send_state (agents [0], ZWATCH_KIND_BYE, AGENT_EVENTS);
    CHECK (feed_wait_stats (feed, "msgs_in", 3 * (AGENT_EVENTS + 1) + 1, TB_WAIT_MS));
    fake_agent_send_event (agents [2], AGENT_EVENTS + 1, "CONNECTED", &size);
    CHECK (feed_wait_stats (feed, "msgs_in", 3 * (AGENT_EVENTS + 1) + 2, TB_WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "agents"), MAX_AGENTS);
    CHECK_INT_EQ (feed_uint (feed, "agents_refused"), AGENT_EVENTS + 1);
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);
    CHECK (feed_recv (feed, 0));
    s_check_state (feed, "agent/max-1/max-svc", "gone", AGENT_EVENTS, AGENT_EVENTS, 0);
    CHECK (feed_recv (feed, 0));
    s_check_state (feed, "agent/max-3/max-svc", "up", AGENT_EVENTS + 1, 1, 0);
    s_expect_event (feed, "max-3", AGENT_EVENTS + 1);
    while (feed_recv (feed, 0))
        CHECK (feed_is (feed, "stats/"));

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    char *log = broker_proc_log (broker);
    CHECK (strstr (log, "agent table full (--max-agents 2), not tracking max-3/max-svc pid 1002"));
    free (log);
    for (int index = 0; index < 3; index++)
        fake_agent_destroy (&agents [index]);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}
