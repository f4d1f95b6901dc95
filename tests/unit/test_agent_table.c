/*  test_agent_table: the broker's agent table on its own, no process, no
    socket: the pid cache in front of the hash (pids that share a slot,
    the same pid on other hosts and services, removed agents), the order
    expiry sees (oldest heard from first), the limit, and the seq
    accounting of one agent, including the same pid with a new start.  */

#include <string.h>
#include <czmq.h>
#include "testutil.h"
#include "zwatch_agent_table.h"

//  A decoded message as the broker has it after zwatch_msg_decode
static zwatch_msg_t
s_msg (zwatch_kind_t kind, const char *host, const char *svc, uint64_t pid, uint64_t seq,
       uint64_t start)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = kind;
    msg.host = (zwatch_str_t) { host, strlen (host) };
    msg.svc = (zwatch_str_t) { svc, strlen (svc) };
    msg.pid = pid;
    msg.seq = seq;
    msg.start = kind == ZWATCH_KIND_EVENT? 0: start;
    return msg;
}

static void
s_check_key (const zwatch_agent_t *agent, const char *host, const char *svc, uint64_t pid)
{
    CHECK (agent);
    CHECK_STR_EQ (agent->key.host, host);
    CHECK_STR_EQ (agent->key.svc, svc);
    CHECK_INT_EQ (agent->key.host_len, strlen (host));
    CHECK_INT_EQ (agent->key.svc_len, strlen (svc));
    CHECK_INT_EQ (agent->key.pid, pid);
}

#define CACHE_AGENTS    4096        //  16 times the cache's slots: many share one

//  Every lookup finds its own agent, whichever agent last used its cache
//  slot; a removed agent is never found again, through the cache or not
static void
test_cache (void)
{
    zwatch_agent_table_t *table = zwatch_agent_table_new (CACHE_AGENTS + 2);
    CHECK (table);
    zwatch_agent_t *agents [CACHE_AGENTS];
    for (uint64_t pid = 0; pid < CACHE_AGENTS; pid++) {
        zwatch_msg_t msg = s_msg (ZWATCH_KIND_EVENT, "cache-host", "svc", pid + 1, 1, 0);
        CHECK (!zwatch_agent_table_lookup (table, &msg));
        agents [pid] = zwatch_agent_table_add (table, &msg, (int64_t) pid);
        s_check_key (agents [pid], "cache-host", "svc", pid + 1);
    }
    CHECK_INT_EQ (zwatch_agent_table_size (table), CACHE_AGENTS);
    //  Forwards, backwards, then strides that make neighbours evict each other
    for (int round = 0; round < 3; round++)
        for (uint64_t index = 0; index < CACHE_AGENTS; index++) {
            uint64_t pid = round == 0? index: round == 1? CACHE_AGENTS - 1 - index
                                                        : (index * 257) % CACHE_AGENTS;
            zwatch_msg_t msg = s_msg (ZWATCH_KIND_EVENT, "cache-host", "svc", pid + 1, 2, 0);
            CHECK (zwatch_agent_table_lookup (table, &msg) == agents [pid]);
            CHECK (zwatch_agent_table_lookup (table, &msg) == agents [pid]);    //  cached
        }

    //  The same pid elsewhere is another agent: another host, another
    //  service, a host that is a prefix of the first
    zwatch_msg_t web = s_msg (ZWATCH_KIND_EVENT, "web-1", "orders", 42, 1, 0);
    zwatch_msg_t other_host = s_msg (ZWATCH_KIND_EVENT, "web-10", "orders", 42, 1, 0);
    zwatch_msg_t other_svc = s_msg (ZWATCH_KIND_EVENT, "web-1", "order", 42, 1, 0);
    zwatch_msg_t swapped = s_msg (ZWATCH_KIND_EVENT, "orders", "web-1", 42, 1, 0);
    CHECK (zwatch_agent_table_lookup (table, &web) != agents [41]);    //  pid 42 too
    CHECK (!zwatch_agent_table_lookup (table, &web));
    zwatch_agent_t *web_agent = zwatch_agent_table_add (table, &web, 10);
    s_check_key (web_agent, "web-1", "orders", 42);
    CHECK (zwatch_agent_table_lookup (table, &web) == web_agent);
    CHECK (!zwatch_agent_table_lookup (table, &other_host));
    CHECK (!zwatch_agent_table_lookup (table, &other_svc));
    CHECK (!zwatch_agent_table_lookup (table, &swapped));
    zwatch_agent_t *other_agent = zwatch_agent_table_add (table, &other_host, 11);
    CHECK (other_agent && other_agent != web_agent);
    CHECK (zwatch_agent_table_lookup (table, &web) == web_agent);
    CHECK (zwatch_agent_table_lookup (table, &other_host) == other_agent);
    CHECK (zwatch_agent_table_lookup (table, &web) == web_agent);
    //  Full: the limit counts every agent, whatever its pid
    CHECK (!zwatch_agent_table_add (table, &other_svc, 12));
    CHECK_INT_EQ (zwatch_agent_table_size (table), CACHE_AGENTS + 2);

    //  Removed while cached: gone; its neighbour is still there
    zwatch_agent_table_remove (table, web_agent);
    CHECK (!zwatch_agent_table_lookup (table, &web));
    CHECK (zwatch_agent_table_lookup (table, &other_host) == other_agent);
    //  Removed while another agent holds the slot: gone as well
    zwatch_msg_t first = s_msg (ZWATCH_KIND_EVENT, "cache-host", "svc", 1, 3, 0);
    CHECK (zwatch_agent_table_lookup (table, &first) == agents [0]);
    for (uint64_t pid = 1; pid < CACHE_AGENTS; pid++) {
        zwatch_msg_t msg = s_msg (ZWATCH_KIND_EVENT, "cache-host", "svc", pid + 1, 3, 0);
        CHECK (zwatch_agent_table_lookup (table, &msg) == agents [pid]);
    }
    zwatch_agent_table_remove (table, agents [0]);
    CHECK (!zwatch_agent_table_lookup (table, &first));
    //  Back with the same key: a new agent, counted from scratch
    zwatch_agent_t *again = zwatch_agent_table_add (table, &first, 20);
    s_check_key (again, "cache-host", "svc", 1);
    CHECK_INT_EQ (again->events, 0);
    CHECK_INT_EQ (again->last_seen, 20);
    CHECK (zwatch_agent_table_lookup (table, &first) == again);
    CHECK_INT_EQ (zwatch_agent_table_size (table), CACHE_AGENTS + 1);
    zwatch_agent_table_destroy (&table);
    CHECK (!table);
    zwatch_agent_table_destroy (&table);        //  idempotent
}

//  Expiry looks at the agent heard from longest ago, and only at it
static void
test_expiry_order (void)
{
    zwatch_agent_table_t *table = zwatch_agent_table_new (3);
    CHECK (table);
    CHECK (!zwatch_agent_table_oldest (table));
    zwatch_msg_t a = s_msg (ZWATCH_KIND_HELLO, "h", "a", 1, 0, 1);
    zwatch_msg_t b = s_msg (ZWATCH_KIND_HELLO, "h", "b", 2, 0, 1);
    zwatch_msg_t c = s_msg (ZWATCH_KIND_HELLO, "h", "c", 3, 0, 1);
    zwatch_agent_t *agent_a = zwatch_agent_table_add (table, &a, 100);
    zwatch_agent_t *agent_b = zwatch_agent_table_add (table, &b, 200);
    zwatch_agent_t *agent_c = zwatch_agent_table_add (table, &c, 300);
    CHECK (agent_a && agent_b && agent_c);
    CHECK (zwatch_agent_table_oldest (table) == agent_a);
    //  Heard from again: the newest, with the time it was heard
    zwatch_agent_table_touch (table, agent_a, 400);
    CHECK_INT_EQ (agent_a->last_seen, 400);
    CHECK (zwatch_agent_table_oldest (table) == agent_b);
    //  Touching the newest changes nothing but its time
    zwatch_agent_table_touch (table, agent_a, 450);
    CHECK (zwatch_agent_table_oldest (table) == agent_b);
    zwatch_agent_table_touch (table, agent_c, 500);
    CHECK (zwatch_agent_table_oldest (table) == agent_b);
    //  What s_expire does with a 250 ms timeout at 720: only b (200) and a
    //  (450) are silent that long, in that order; c (500) stays
    const int64_t now = 720, timeout = 250;
    const char *expired [3];
    int count = 0;
    zwatch_agent_t *oldest;
    while ((oldest = zwatch_agent_table_oldest (table)) && now - oldest->last_seen >= timeout) {
        expired [count++] = oldest->key.svc;
        CHECK (count <= 2);
        if (count == 1)
            CHECK_STR_EQ (expired [0], "b");
        else
            CHECK_STR_EQ (expired [1], "a");
        zwatch_agent_table_remove (table, oldest);
    }
    CHECK_INT_EQ (count, 2);
    CHECK (zwatch_agent_table_oldest (table) == agent_c);
    CHECK_INT_EQ (zwatch_agent_table_size (table), 1);
    //  Room again: a full table takes agents once some left
    CHECK (zwatch_agent_table_add (table, &a, 700) && zwatch_agent_table_add (table, &b, 800));
    zwatch_msg_t d = s_msg (ZWATCH_KIND_HELLO, "h", "d", 4, 0, 1);
    CHECK (!zwatch_agent_table_add (table, &d, 900));
    CHECK (!zwatch_agent_table_lookup (table, &d));
    CHECK (zwatch_agent_table_oldest (table) == agent_c);
    zwatch_agent_table_remove (table, agent_c);
    oldest = zwatch_agent_table_oldest (table);
    s_check_key (oldest, "h", "a", 1);
    zwatch_agent_table_destroy (&table);
}

//  One agent's seq accounting (PROTOCOL.md section 7), message by message
static void
test_account (void)
{
    zwatch_agent_table_t *table = zwatch_agent_table_new (10);
    uint64_t lost = 0, reordered = 0;
    //  First seen by an event: no loss before it
    zwatch_msg_t msg = s_msg (ZWATCH_KIND_EVENT, "h", "s", 9, 5, 0);
    zwatch_agent_t *agent = zwatch_agent_table_add (table, &msg, 1);
    zwatch_agent_account (agent, &msg, true, &lost, &reordered);
    CHECK_INT_EQ (agent->last_seq, 5);
    CHECK_INT_EQ (agent->events, 1);
    CHECK_INT_EQ (agent->start, 0);
    msg.seq = 8;                                    //  6 and 7 lost
    zwatch_agent_account (agent, &msg, false, &lost, &reordered);
    CHECK_INT_EQ (agent->lost, 2);
    CHECK_INT_EQ (lost, 2);
    msg.seq = 7;                                    //  late
    zwatch_agent_account (agent, &msg, false, &lost, &reordered);
    CHECK_INT_EQ (reordered, 1);
    CHECK_INT_EQ (agent->last_seq, 8);
    CHECK_INT_EQ (agent->events, 3);
    //  A heartbeat carrying seq 10: 9 and 10 never came
    zwatch_msg_t beat = s_msg (ZWATCH_KIND_HEARTBEAT, "h", "s", 9, 10, 1000);
    zwatch_agent_account (agent, &beat, false, &lost, &reordered);
    CHECK_INT_EQ (agent->start, 1000);
    CHECK_INT_EQ (agent->lost, 4);
    CHECK_INT_EQ (agent->last_seq, 10);
    //  The same start again, same seq: nothing new
    zwatch_agent_account (agent, &beat, false, &lost, &reordered);
    CHECK_INT_EQ (agent->lost, 4);
    CHECK_INT_EQ (lost, 4);
    CHECK_INT_EQ (agent->events, 3);
    zwatch_agent_table_destroy (&table);
}

//  The same (host, svc, pid) with another start is a new agent instance:
//  its seq, events and lost count from scratch (PROTOCOL.md section 7), so
//  that its gone message has events + lost = last seq - base, as for any
//  agent; what the broker counted overall stays counted
static void
test_restart (void)
{
    zwatch_agent_table_t *table = zwatch_agent_table_new (10);
    uint64_t lost = 0, reordered = 0;
    zwatch_msg_t hello = s_msg (ZWATCH_KIND_HELLO, "h", "s", 1, 0, 1000);
    zwatch_agent_t *agent = zwatch_agent_table_add (table, &hello, 1);
    zwatch_agent_account (agent, &hello, true, &lost, &reordered);
    for (uint64_t seq = 1; seq <= 6; seq++) {
        if (seq == 3)
            continue;                               //  lost
        zwatch_msg_t event = s_msg (ZWATCH_KIND_EVENT, "h", "s", 1, seq, 0);
        CHECK (zwatch_agent_table_lookup (table, &event) == agent);
        zwatch_agent_account (agent, &event, false, &lost, &reordered);
    }
    CHECK_INT_EQ (agent->events, 5);
    CHECK_INT_EQ (agent->lost, 1);
    CHECK_INT_EQ (agent->last_seq, 6);

    //  The process died and the pid came back (a container's pid 1, say)
    zwatch_msg_t again = s_msg (ZWATCH_KIND_HELLO, "h", "s", 1, 0, 2000);
    CHECK (zwatch_agent_table_lookup (table, &again) == agent);
    zwatch_agent_account (agent, &again, false, &lost, &reordered);
    CHECK_INT_EQ (agent->start, 2000);
    CHECK_INT_EQ (agent->last_seq, 0);
    CHECK_INT_EQ (agent->events, 0);
    CHECK_INT_EQ (agent->lost, 0);
    //  Its events 1 and 2 are new, not late; 4 after 2 loses 3
    for (uint64_t seq = 1; seq <= 4; seq++) {
        if (seq == 3)
            continue;
        zwatch_msg_t event = s_msg (ZWATCH_KIND_EVENT, "h", "s", 1, seq, 0);
        zwatch_agent_account (agent, &event, false, &lost, &reordered);
    }
    CHECK_INT_EQ (reordered, 0);
    CHECK_INT_EQ (agent->events, 3);
    CHECK_INT_EQ (agent->lost, 1);
    CHECK_INT_EQ (agent->last_seq, 4);
    //  Its bye with seq 5: one more lost, counted once
    zwatch_msg_t bye = s_msg (ZWATCH_KIND_BYE, "h", "s", 1, 5, 2000);
    zwatch_agent_account (agent, &bye, false, &lost, &reordered);
    CHECK_INT_EQ (agent->lost, 2);
    CHECK_INT_EQ (agent->events + agent->lost, agent->last_seq);    //  base 0
    CHECK_INT_EQ (lost, 1 + 2);                     //  both instances, broker-wide

    //  A start of 0 (not known) is no new instance
    zwatch_msg_t unknown = s_msg (ZWATCH_KIND_HEARTBEAT, "h", "s", 1, 5, 0);
    zwatch_agent_account (agent, &unknown, false, &lost, &reordered);
    CHECK_INT_EQ (agent->start, 2000);
    CHECK_INT_EQ (agent->events, 3);
    CHECK_INT_EQ (agent->last_seq, 5);
    zwatch_agent_table_destroy (&table);
}

//  state and state_end are no lifecycle messages: a replay neither resets
//  the start nor counts the events above the last seq as lost
static void
test_replay (void)
{
    zwatch_agent_table_t *table = zwatch_agent_table_new (10);
    uint64_t lost = 0, reordered = 0;
    zwatch_msg_t hello = s_msg (ZWATCH_KIND_HELLO, "h", "s", 1, 4, 1000);
    zwatch_agent_t *agent = zwatch_agent_table_add (table, &hello, 1);
    zwatch_agent_account (agent, &hello, true, &lost, &reordered);
    CHECK_INT_EQ (agent->last_seq, 4);
    //  Facts carry the agent's current seq, 9 (say events 5..9 are on their way)
    zwatch_msg_t state = s_msg (ZWATCH_KIND_STATE, "h", "s", 1, 9, 0);
    zwatch_msg_t end = s_msg (ZWATCH_KIND_STATE_END, "h", "s", 1, 9, 0);
    zwatch_agent_account (agent, &state, false, &lost, &reordered);
    zwatch_agent_account (agent, &end, false, &lost, &reordered);
    CHECK_INT_EQ (agent->start, 1000);
    CHECK_INT_EQ (agent->last_seq, 4);
    CHECK_INT_EQ (agent->lost, 0);
    CHECK_INT_EQ (agent->events, 0);
    //  Events 5..9 then come in order: no gap, nothing late
    for (uint64_t seq = 5; seq <= 9; seq++) {
        zwatch_msg_t event = s_msg (ZWATCH_KIND_EVENT, "h", "s", 1, seq, 0);
        zwatch_agent_account (agent, &event, false, &lost, &reordered);
    }
    CHECK_INT_EQ (lost, 0);
    CHECK_INT_EQ (reordered, 0);
    CHECK_INT_EQ (agent->events, 5);
    //  An agent first heard of by a fact takes its seq as the base
    zwatch_msg_t other = s_msg (ZWATCH_KIND_STATE, "h", "s", 2, 7, 0);
    zwatch_agent_t *second = zwatch_agent_table_add (table, &other, 2);
    zwatch_agent_account (second, &other, true, &lost, &reordered);
    zwatch_msg_t next = s_msg (ZWATCH_KIND_EVENT, "h", "s", 2, 8, 0);
    zwatch_agent_account (second, &next, false, &lost, &reordered);
    CHECK_INT_EQ (second->lost, 0);
    CHECK_INT_EQ (second->last_seq, 8);
    CHECK_INT_EQ (lost, 0);
    zwatch_agent_table_destroy (&table);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "cache", test_cache }, { "expiry_order", test_expiry_order },
        { "account", test_account }, { "restart", test_restart },
        { "replay", test_replay }
    };
    return tu_run_cases (argc, argv, "test_agent_table", cases, sizeof (cases) / sizeof (cases [0]));
}
