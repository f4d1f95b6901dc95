/*  zwatch_agent_table: the agents a broker knows, bounded, oldest first.  */
#ifndef ZWATCH_AGENT_TABLE_H_INCLUDED
#define ZWATCH_AGENT_TABLE_H_INCLUDED

#include <czmq.h>
#include "zwatch.h"

//  Identity of an agent: (host, svc, pid). Strings are NUL-terminated.
typedef struct {
    uint64_t pid;
    size_t host_len;
    size_t svc_len;
    char host [ZWATCH_HOST_MAX + 1];
    char svc [ZWATCH_SVC_MAX + 1];
} zwatch_agent_key_t;

//  One tracked agent; the broker reads the fields, the table owns the memory
typedef struct _zwatch_agent_t {
    zwatch_agent_key_t key;
    uint64_t start;             //  agent start (epoch ns), 0 until hello/heartbeat/bye
    uint64_t last_seq;          //  highest event seq accounted for
    uint64_t events;            //  events received from it
    uint64_t lost;              //  events lost in its seq gaps
    int64_t last_seen;          //  zclock_mono () ms of its latest message
    char edge [ZWATCH_HOST_MAX + 1];    //  via [0]: the broker it reports to, "" if us
    struct _zwatch_agent_t *older, *newer;     //  in last_seen order
} zwatch_agent_t;

typedef struct _zwatch_agent_table_t zwatch_agent_table_t;

//  Create a table holding at most max_agents agents
zwatch_agent_table_t *
    zwatch_agent_table_new (size_t max_agents);

//  Destroy the table and every agent in it; idempotent
void
    zwatch_agent_table_destroy (zwatch_agent_table_t **self_p);

//  The agent that sent msg (a decoded, valid message), or NULL
zwatch_agent_t *
    zwatch_agent_table_lookup (zwatch_agent_table_t *self, const zwatch_msg_t *msg);

//  Add the agent that sent msg, first seen at now. Returns NULL when the
//  table is full (or out of memory): the caller counts it as refused.
zwatch_agent_t *
    zwatch_agent_table_add (zwatch_agent_table_t *self, const zwatch_msg_t *msg, int64_t now);

//  Note that agent was heard from at now (it becomes the newest)
void
    zwatch_agent_table_touch (zwatch_agent_table_t *self, zwatch_agent_t *agent, int64_t now);

//  The agent heard from longest ago, or NULL when empty
zwatch_agent_t *
    zwatch_agent_table_oldest (zwatch_agent_table_t *self);

//  Remove and free agent
void
    zwatch_agent_table_remove (zwatch_agent_table_t *self, zwatch_agent_t *agent);

//  Agents tracked now
size_t
    zwatch_agent_table_size (zwatch_agent_table_t *self);

//  Sequence accounting for msg from agent (first: msg is the message that
//  just added it). Adds to *lost the events missing before msg and to
//  *reordered 1 if msg is an event at or below the last seq. A message
//  with another nonzero start than the agent's is a new instance of it
//  (the pid came back): its seq, events and lost start again.
void
    zwatch_agent_account (zwatch_agent_t *agent, const zwatch_msg_t *msg, bool first,
                          uint64_t *lost, uint64_t *reordered);

#endif
