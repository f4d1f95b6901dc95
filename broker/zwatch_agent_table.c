/*  zwatch_agent_table: the agents a broker knows, bounded, oldest first.

    A zhashx keyed by the agent's own zwatch_agent_key_t (no key copies:
    lookups hash a key built on the caller's stack), plus a list in
    last_seen order so expiry only ever looks at the oldest agent.

    Every message looks its agent up, so in front of the hash sits a small
    cache indexed by pid: a hit costs one key comparison instead of a
    hash over host and svc plus a bucket walk.
*/

#include "zwatch_agent_table.h"

#define CACHE_SIZE  256                 //  power of two

struct _zwatch_agent_table_t {
    zhashx_t *agents;               //  key -> zwatch_agent_t (keys live in the agents)
    zwatch_agent_t *cache [CACHE_SIZE];     //  by pid; may miss, never stale
    size_t max_agents;
    zwatch_agent_t *oldest;
    zwatch_agent_t *newest;
};

//  FNV-1a over host, svc and pid
static size_t
s_key_hash (const void *item)
{
    const zwatch_agent_key_t *key = (const zwatch_agent_key_t *) item;
    uint64_t hash = 14695981039346656037ULL;
    for (size_t index = 0; index < key->host_len; index++)
        hash = (hash ^ (uint8_t) key->host [index]) * 1099511628211ULL;
    hash = (hash ^ '/') * 1099511628211ULL;
    for (size_t index = 0; index < key->svc_len; index++)
        hash = (hash ^ (uint8_t) key->svc [index]) * 1099511628211ULL;
    hash ^= key->pid;
    hash *= 1099511628211ULL;
    return (size_t) (hash ^ (hash >> 32));
}

static int
s_key_compare (const void *item1, const void *item2)
{
    const zwatch_agent_key_t *a = (const zwatch_agent_key_t *) item1;
    const zwatch_agent_key_t *b = (const zwatch_agent_key_t *) item2;
    if (a->pid != b->pid)
        return a->pid < b->pid? -1: 1;
    if (a->host_len != b->host_len || a->svc_len != b->svc_len)
        return a->host_len != b->host_len? (a->host_len < b->host_len? -1: 1)
                                         : (a->svc_len < b->svc_len? -1: 1);
    int rc = memcmp (a->host, b->host, a->host_len);
    return rc? rc: memcmp (a->svc, b->svc, a->svc_len);
}

//  The decoder has checked the lengths; we check again as we copy
static bool
s_key_build (zwatch_agent_key_t *key, const zwatch_msg_t *msg)
{
    if (msg->host.len > ZWATCH_HOST_MAX || msg->svc.len > ZWATCH_SVC_MAX)
        return false;
    key->pid = msg->pid;
    key->host_len = msg->host.len;
    key->svc_len = msg->svc.len;
    memcpy (key->host, msg->host.ptr, msg->host.len);
    key->host [msg->host.len] = 0;
    memcpy (key->svc, msg->svc.ptr, msg->svc.len);
    key->svc [msg->svc.len] = 0;
    return true;
}

static void
s_unlink (zwatch_agent_table_t *self, zwatch_agent_t *agent)
{
    if (agent->older)
        agent->older->newer = agent->newer;
    else
        self->oldest = agent->newer;
    if (agent->newer)
        agent->newer->older = agent->older;
    else
        self->newest = agent->older;
    agent->older = agent->newer = NULL;
}

static void
s_link_newest (zwatch_agent_table_t *self, zwatch_agent_t *agent)
{
    agent->older = self->newest;
    agent->newer = NULL;
    if (self->newest)
        self->newest->newer = agent;
    else
        self->oldest = agent;
    self->newest = agent;
}

zwatch_agent_table_t *
zwatch_agent_table_new (size_t max_agents)
{
    zwatch_agent_table_t *self = (zwatch_agent_table_t *) zmalloc (sizeof (zwatch_agent_table_t));
    if (self) {
        self->max_agents = max_agents;
        self->agents = zhashx_new ();
        if (self->agents) {
            zhashx_set_key_hasher (self->agents, s_key_hash);
            zhashx_set_key_comparator (self->agents, s_key_compare);
            zhashx_set_key_duplicator (self->agents, NULL);
            zhashx_set_key_destructor (self->agents, NULL);
        }
        else
            zwatch_agent_table_destroy (&self);
    }
    return self;
}

void
zwatch_agent_table_destroy (zwatch_agent_table_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_agent_table_t *self = *self_p;
        while (self->oldest)
            zwatch_agent_table_remove (self, self->oldest);
        zhashx_destroy (&self->agents);
        free (self);
        *self_p = NULL;
    }
}

static inline zwatch_agent_t **
s_cache_slot (zwatch_agent_table_t *self, uint64_t pid)
{
    return &self->cache [(pid ^ (pid >> 8)) & (CACHE_SIZE - 1)];
}

//  True if agent is the one that sent msg
static inline bool
s_agent_sent (const zwatch_agent_t *agent, const zwatch_msg_t *msg)
{
    return agent->key.pid == msg->pid
        && agent->key.host_len == msg->host.len && agent->key.svc_len == msg->svc.len
        && memcmp (agent->key.host, msg->host.ptr, msg->host.len) == 0
        && memcmp (agent->key.svc, msg->svc.ptr, msg->svc.len) == 0;
}

zwatch_agent_t *
zwatch_agent_table_lookup (zwatch_agent_table_t *self, const zwatch_msg_t *msg)
{
    zwatch_agent_t **slot = s_cache_slot (self, msg->pid);
    if (*slot && s_agent_sent (*slot, msg))
        return *slot;
    zwatch_agent_key_t key;
    if (!s_key_build (&key, msg))
        return NULL;
    zwatch_agent_t *agent = (zwatch_agent_t *) zhashx_lookup (self->agents, &key);
    if (agent)
        *slot = agent;
    return agent;
}

zwatch_agent_t *
zwatch_agent_table_add (zwatch_agent_table_t *self, const zwatch_msg_t *msg, int64_t now)
{
    if (zhashx_size (self->agents) >= self->max_agents)
        return NULL;
    zwatch_agent_t *agent = (zwatch_agent_t *) zmalloc (sizeof (zwatch_agent_t));
    if (!agent)
        return NULL;
    if (!s_key_build (&agent->key, msg)
    ||  zhashx_insert (self->agents, &agent->key, agent) != 0) {
        free (agent);
        return NULL;
    }
    agent->last_seen = now;
    s_link_newest (self, agent);
    return agent;
}

void
zwatch_agent_table_touch (zwatch_agent_table_t *self, zwatch_agent_t *agent, int64_t now)
{
    agent->last_seen = now;
    if (self->newest != agent) {
        s_unlink (self, agent);
        s_link_newest (self, agent);
    }
}

zwatch_agent_t *
zwatch_agent_table_oldest (zwatch_agent_table_t *self)
{
    return self->oldest;
}

void
zwatch_agent_table_remove (zwatch_agent_table_t *self, zwatch_agent_t *agent)
{
    s_unlink (self, agent);
    zwatch_agent_t **slot = s_cache_slot (self, agent->key.pid);
    if (*slot == agent)
        *slot = NULL;
    zhashx_delete (self->agents, &agent->key);
    free (agent);
}

size_t
zwatch_agent_table_size (zwatch_agent_table_t *self)
{
    return zhashx_size (self->agents);
}

void
zwatch_agent_account (zwatch_agent_t *agent, const zwatch_msg_t *msg, bool first,
                      uint64_t *lost, uint64_t *reordered)
{
    //  A replay's state / state_end carry no start and the seq of the
    //  agent's latest event, not one of theirs: they say nothing of losses
    //  (the hello before them and the next heartbeat do). Only the first
    //  message of an agent sets its base, so that its next event is no gap.
    if (msg->kind == ZWATCH_KIND_STATE || msg->kind == ZWATCH_KIND_STATE_END) {
        if (first)
            agent->last_seq = msg->seq;
        return;
    }
    if (msg->kind != ZWATCH_KIND_EVENT) {
        //  A new instance (same pid, new start) counts from scratch, so its
        //  gone has events + lost = seq - base like any agent's; a start of
        //  0 says nothing
        bool restarted = msg->start && agent->start && msg->start != agent->start;
        if (msg->start)
            agent->start = msg->start;
        if (restarted) {
            agent->events = 0;
            agent->lost = 0;
        }
        if (first || restarted)
            agent->last_seq = msg->seq;
        else
        if (msg->seq > agent->last_seq) {
            //  Sent after the agent's events: any it carries past ours are lost
            uint64_t gap = msg->seq - agent->last_seq;
            agent->lost += gap;
            *lost += gap;
            agent->last_seq = msg->seq;
        }
        return;
    }
    //  seq numbers monitor events: a folded summary carries the last of
    //  its count, and the ones before are its own, no gap
    uint64_t count = msg->count? msg->count: 1;
    agent->events += count;
    if (first)
        agent->last_seq = msg->seq;     //  no gap before the first we see
    else
    if (msg->seq > agent->last_seq) {
        uint64_t gap = msg->seq - agent->last_seq;
        gap = gap > count? gap - count: 0;
        agent->lost += gap;
        *lost += gap;
        agent->last_seq = msg->seq;
    }
    else
        *reordered += 1;
}
