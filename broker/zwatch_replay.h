/*  zwatch_replay: a child broker's fleet, told to a parent that just
    (re)connected, as each agent would: hello, one state per fact,
    state_end (PROTOCOL.md section 4, "Replay"). The parent's queue bounds
    it: the first message it cannot take ends the replay (counted in the
    parent's dropped); agents not told are replayed on the next connect
    and their own events go on meanwhile.  */
#ifndef ZWATCH_REPLAY_H_INCLUDED
#define ZWATCH_REPLAY_H_INCLUDED

#include "zwatch_fleet.h"
#include "zwatch_agent_table.h"
#include "zwatch_parents.h"

//  Replay every agent of fleet to parent index. An agent that reports to
//  a broker below us (its edge in agents) keeps it as via [0], as its own
//  messages have it. Returns the agents whose replay went whole.
size_t
    zwatch_replay_send (zwatch_fleet_t *fleet, zwatch_agent_table_t *agents,
                        zwatch_parents_t *parents, size_t index);

#endif
