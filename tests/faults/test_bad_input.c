/*  test_bad_input: 120000 hostile messages (hostile.c: random bytes,
    truncated and nested msgpack, huge declared lengths, wrong types, bad
    characters in host, service and topic parts, unknown versions,
    multi-frame messages, ...) from several connections, mixed with valid
    events of eight agents. The broker keeps running, publishes every valid
    event unchanged and in order, counts each rejection under its reason
    exactly, and no event is ever published under a topic it did not earn:
    a host or service with '/' or any byte out of its set is rejected.  */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "broker_proc.h"
#include "fake_agent.h"
#include "feed.h"
#include "hostile.h"

#define HOSTILE         120000
#define GOOD_AGENTS     8
#define GOOD_ONE_IN     10          //  one message in ten is a valid event
#define SENDERS         4           //  connections the hostile messages come on
#define SEED            20251125
#define WAIT_MS         60000       //  bound on waits; never a speed limit

//  The count under reason in the current stats message's invalid_by
static uint64_t
s_counted (feed_t *feed, zwatch_reason_t reason)
{
    const msgpack_object *by = feed_get (feed, "invalid_by");
    CHECK (by && by->type == MSGPACK_OBJECT_MAP);
    const char *name = zwatch_reason_name (reason);
    for (uint32_t index = 0; index < by->via.map.size; index++) {
        const msgpack_object_kv *kv = &by->via.map.ptr [index];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen (name)
        &&  memcmp (kv->key.via.str.ptr, name, strlen (name)) == 0) {
            CHECK (kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER);
            return kv->val.via.u64;
        }
    }
    return 0;
}

int
main (void)
{
    const char *broker_args [] = { "--stats-interval", "0.2", NULL };
    broker_proc_t *broker = broker_proc_new (broker_args, true);
    const char *prefixes [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_subscribers (feed, 2, WAIT_MS));

    fake_agent_t *senders [SENDERS], *good [GOOD_AGENTS];
    for (int index = 0; index < SENDERS; index++)
        senders [index] = fake_agent_new (broker_proc_ingest (broker), "evil", "hostile", 666);
    for (int index = 0; index < GOOD_AGENTS; index++) {
        char host [16];
        snprintf (host, sizeof (host), "good-%d", index);
        good [index] = fake_agent_new (broker_proc_ingest (broker), host, "svc",
                                       (uint64_t) (100 + index));
    }
    static const char *names [] = { "ACCEPTED", "DISCONNECTED", "HANDSHAKE_SUCCEEDED" };
    uint64_t seq [GOOD_AGENTS] = { 0 };
    uint64_t expected [ZWATCH_REJECT_COUNT] = { 0 };
    uint64_t kinds [HOSTILE_KINDS] = { 0 };
    uint64_t valid = 0;
    hostile_t *hostile = hostile_new (SEED);
    long long start = tu_now_ms ();
    for (int sent = 0; sent < HOSTILE; ) {
        uint32_t dice = hostile_random (hostile);
        if (dice % GOOD_ONE_IN == 0) {
            int agent = (int) ((dice / GOOD_ONE_IN) % GOOD_AGENTS);
            size_t size;
            seq [agent]++;
            fake_agent_send_event (good [agent], seq [agent], names [seq [agent] % 3], &size);
            valid++;
            continue;
        }
        hostile_msg_t msg;
        hostile_next (hostile, &msg);
        fake_agent_send_parts (senders [sent % SENDERS], msg.data, msg.size, msg.parts);
        expected [msg.reason]++;
        kinds [msg.kind]++;
        sent++;
    }
    printf ("sent %d hostile messages and %llu valid events in %lld ms\n", HOSTILE,
            (unsigned long long) valid, tu_now_ms () - start);

    //  Counted exactly, by reason; the valid agents tracked, nothing lost
    CHECK (feed_wait_stats (feed, "msgs_in", HOSTILE + valid, WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "invalid"), HOSTILE);
    CHECK_INT_EQ (feed_uint (feed, "events_out"), valid);
    CHECK_INT_EQ (feed_uint (feed, "agents"), GOOD_AGENTS);
    CHECK_INT_EQ (feed_uint (feed, "agents_refused"), 0);
    CHECK_INT_EQ (feed_uint (feed, "lost"), 0);
    CHECK_INT_EQ (feed_uint (feed, "reordered"), 0);
    for (int reason = 1; reason < ZWATCH_REJECT_COUNT; reason++) {
        uint64_t counted = s_counted (feed, (zwatch_reason_t) reason);
        printf ("  %-15s %6llu\n", zwatch_reason_name ((zwatch_reason_t) reason),
                (unsigned long long) counted);
        CHECK_INT_EQ (counted, expected [reason]);
        //  Every reason was exercised but trailing_bytes: to the broker,
        //  bytes after a map are the next map of a batch (PROTOCOL.md 5)
        CHECK (counted > 0 || reason == ZWATCH_REJECT_TRAILING);
    }
    for (int kind = 0; kind < HOSTILE_KINDS; kind++)
        CHECK (kinds [kind] > 0);

    //  Every valid event, in order per agent, under its own topic only
    uint64_t next [GOOD_AGENTS] = { 0 };
    uint64_t events = 0;
    while (feed_recv (feed, 0)) {
        if (feed_is (feed, "stats/"))
            continue;
        zwatch_msg_t msg;
        feed_event (feed, &msg);
        int agent = (int) msg.pid - 100;
        CHECK (agent >= 0 && agent < GOOD_AGENTS);
        CHECK_INT_EQ (msg.seq, ++next [agent]);
        char topic [64];
        snprintf (topic, sizeof (topic), "ev/good-%d/svc/%s", agent, names [msg.seq % 3]);
        CHECK_STR_EQ (feed_topic (feed), topic);
        events++;
    }
    CHECK_INT_EQ (events, valid);
    for (int index = 0; index < GOOD_AGENTS; index++)
        CHECK_INT_EQ (next [index], seq [index]);

    //  Still serving, exits cleanly; its warnings stayed rate-limited
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, 10000), 0);
    long long seconds = (tu_now_ms () - start) / 1000 + 1;
    char *log = broker_proc_log (broker);
    CHECK (log);
    int warnings = tu_count (log, "dropped invalid message: ");
    printf ("%d warning lines in %lld s\n", warnings, seconds);
    CHECK (warnings > 0 && warnings <= (ZWATCH_REJECT_COUNT - 1) * seconds);
    free (log);

    hostile_destroy (&hostile);
    for (int index = 0; index < SENDERS; index++)
        fake_agent_destroy (&senders [index]);
    for (int index = 0; index < GOOD_AGENTS; index++)
        fake_agent_destroy (&good [index]);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
    return 0;
}
