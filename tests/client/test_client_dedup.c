/*  test_client_dedup: zwatch_client_dedup, what a subscriber of a broker
    pair delivers once: events by agent and seq within the window, agent
    states merged over the brokers, a new instance, the bound.  */

#include <czmq.h>
#include "zwatch_client.h"
#include "testutil.h"

#define W   ZWATCH_CLIENT_DEDUP_WINDOW

//  Events: each seq once, from either broker, in any order within the window
static void
s_test_events (void)
{
    zwatch_client_dedup_t *dedup = zwatch_client_dedup_new (0);
    CHECK (dedup);
    //  Broker A ahead, broker B behind: B's copies are all duplicates
    for (uint64_t seq = 1; seq <= 100; seq++)
        CHECK (zwatch_client_dedup_event (dedup, "h", "s", 1, seq));
    for (uint64_t seq = 1; seq <= 100; seq++)
        CHECK (!zwatch_client_dedup_event (dedup, "h", "s", 1, seq));
    //  A gap at A (101..110 lost there) that B fills, late and out of order
    CHECK (zwatch_client_dedup_event (dedup, "h", "s", 1, 111));
    for (uint64_t seq = 110; seq > 100; seq--)
        CHECK (zwatch_client_dedup_event (dedup, "h", "s", 1, seq));
    for (uint64_t seq = 101; seq <= 111; seq++)
        CHECK (!zwatch_client_dedup_event (dedup, "h", "s", 1, seq));
    CHECK_INT_EQ (zwatch_client_dedup_duplicates (dedup), 111);
    //  A jump of more than a word, then the window's far edge: W below the
    //  top is still remembered, W + 1 below is too old
    uint64_t top = 111 + 3 * 64 + 5;
    CHECK (zwatch_client_dedup_event (dedup, "h", "s", 1, top));
    CHECK (!zwatch_client_dedup_event (dedup, "h", "s", 1, 111));     //  the old top, shifted
    CHECK (!zwatch_client_dedup_event (dedup, "h", "s", 1, 50));      //  shifted with it
    CHECK (zwatch_client_dedup_event (dedup, "h", "s", 1, 112));      //  never seen
    CHECK (zwatch_client_dedup_event (dedup, "h", "s", 1, top + W));
    CHECK (!zwatch_client_dedup_event (dedup, "h", "s", 1, top));     //  W below: remembered
    CHECK (zwatch_client_dedup_event (dedup, "h", "s", 1, top + 1));  //  never seen
    CHECK (!zwatch_client_dedup_event (dedup, "h", "s", 1, top + 1));
    CHECK (!zwatch_client_dedup_event (dedup, "h", "s", 1, top - 1)); //  W + 1 below: too old
    //  Another agent (another pid) is numbered on its own
    CHECK (zwatch_client_dedup_event (dedup, "h", "s", 2, 1));
    CHECK (zwatch_client_dedup_event (dedup, "h", "t", 1, 1));
    zwatch_client_dedup_destroy (&dedup);
    CHECK (!dedup);
    zwatch_client_dedup_destroy (&dedup);
}

//  Agent states: up once, gone once (final), lost only when every broker
//  that spoke of it says so; a new start is a new instance
static void
s_test_agents (void)
{
    zwatch_client_dedup_t *dedup = zwatch_client_dedup_new (0);
    CHECK (zwatch_client_dedup_agent (dedup, "a", "h", "s", 1, 7, "up"));
    CHECK (!zwatch_client_dedup_agent (dedup, "b", "h", "s", 1, 7, "up"));
    CHECK (!zwatch_client_dedup_agent (dedup, "a", "h", "s", 1, 7, "lost"));  //  b has it
    CHECK (zwatch_client_dedup_agent (dedup, "b", "h", "s", 1, 7, "lost"));
    CHECK (zwatch_client_dedup_agent (dedup, "a", "h", "s", 1, 7, "up"));     //  back at a
    CHECK (zwatch_client_dedup_agent (dedup, "a", "h", "s", 1, 7, "gone"));
    CHECK (!zwatch_client_dedup_agent (dedup, "b", "h", "s", 1, 7, "gone"));
    CHECK (!zwatch_client_dedup_agent (dedup, "b", "h", "s", 1, 7, "up"));    //  gone is final
    CHECK (zwatch_client_dedup_agent (dedup, "a", "h", "s", 1, 7, "other"));  //  not ours
    //  The same pid, a new start: its states and seqs begin again
    CHECK (zwatch_client_dedup_event (dedup, "h", "s", 1, 5));
    CHECK (zwatch_client_dedup_agent (dedup, "a", "h", "s", 1, 8, "up"));
    CHECK (zwatch_client_dedup_event (dedup, "h", "s", 1, 5));
    //  One broker alone: its lost is the agent's
    CHECK (zwatch_client_dedup_agent (dedup, "a", "h2", "s", 1, 1, "up"));
    CHECK (zwatch_client_dedup_agent (dedup, "a", "h2", "s", 1, 1, "lost"));
    zwatch_client_dedup_destroy (&dedup);
}

//  At the bound the least recently heard agent is forgotten, counted
static void
s_test_bound (void)
{
    zwatch_client_dedup_t *dedup = zwatch_client_dedup_new (3);
    for (uint64_t pid = 1; pid <= 3; pid++)
        CHECK (zwatch_client_dedup_event (dedup, "h", "s", pid, 1));
    CHECK (!zwatch_client_dedup_event (dedup, "h", "s", 1, 1));          //  1 heard last now
    CHECK (zwatch_client_dedup_event (dedup, "h", "s", 4, 1));           //  forgets 2
    CHECK_INT_EQ (zwatch_client_dedup_evicted (dedup), 1);
    CHECK (!zwatch_client_dedup_event (dedup, "h", "s", 1, 1));
    CHECK (zwatch_client_dedup_event (dedup, "h", "s", 2, 1));           //  2 is new again
    CHECK_INT_EQ (zwatch_client_dedup_evicted (dedup), 2);
    zwatch_client_dedup_destroy (&dedup);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "events", s_test_events }, { "agents", s_test_agents }, { "bound", s_test_bound }
    };
    return tu_run_cases (argc, argv, "test_client_dedup", cases, sizeof (cases) / sizeof (cases [0]));
}
