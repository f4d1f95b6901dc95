/*  zwatch_client_dedup: what a subscriber of several brokers delivers once
    (include/zwatch_client.h).

    One entry per agent (host, svc, pid) in a hash, and the same entries in
    a list from the least to the most recently heard, so the bound forgets
    the one silent longest. An entry holds the event window (the highest
    seq delivered and a bitmap of the seqs below it) and each broker's
    last agent/ state for the instance (start) it knows.
*/

#include <czmq.h>
#include "zwatch_client.h"
#include "zwatch_proto.h"

#define WORDS   (ZWATCH_CLIENT_DEDUP_WINDOW / 64)

typedef enum { STATE_NONE, STATE_UP, STATE_GONE, STATE_LOST } state_t;

typedef struct {
    char *key;                      //  "host/svc/pid", owned
    void *handle;                   //  in the recency list
    uint64_t start;                 //  the instance the states are of (0: not known)
    uint64_t top;                   //  highest seq delivered, 0: none
    uint64_t seen [WORDS];          //  bit n: seq top - 1 - n was delivered
    char brokers [ZWATCH_CLIENT_DEDUP_BROKERS][64];
    state_t states [ZWATCH_CLIENT_DEDUP_BROKERS];
    state_t merged;                 //  the state last delivered
} entry_t;

struct _zwatch_client_dedup_t {
    zhashx_t *entries;              //  key -> entry_t (not owned by the hash)
    zlistx_t *recency;              //  entry_t, least recently heard first
    size_t max;
    uint64_t duplicates;
    uint64_t evicted;
};

static void
s_entry_destroy (entry_t **entry_p)
{
    if (*entry_p) {
        free ((*entry_p)->key);
        free (*entry_p);
        *entry_p = NULL;
    }
}

zwatch_client_dedup_t *
zwatch_client_dedup_new (size_t agents_max)
{
    zwatch_client_dedup_t *self = (zwatch_client_dedup_t *) zmalloc (sizeof (*self));
    if (!self) {
        errno = ENOMEM;
        return NULL;
    }
    self->max = agents_max? agents_max: ZWATCH_CLIENT_DEDUP_AGENTS;
    self->entries = zhashx_new ();
    self->recency = zlistx_new ();
    if (!self->entries || !self->recency) {
        zwatch_client_dedup_destroy (&self);
        errno = ENOMEM;
        return NULL;
    }
    return self;
}

void
zwatch_client_dedup_destroy (zwatch_client_dedup_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_client_dedup_t *self = *self_p;
    if (self->recency) {
        entry_t *entry = (entry_t *) zlistx_first (self->recency);
        while (entry) {
            s_entry_destroy (&entry);
            entry = (entry_t *) zlistx_next (self->recency);
        }
        zlistx_destroy (&self->recency);
    }
    zhashx_destroy (&self->entries);
    free (self);
    *self_p = NULL;
}

//  The agent's entry, made if new (forgetting the least recently heard
//  at the bound) and made the most recent; NULL on ENOMEM
static entry_t *
s_entry (zwatch_client_dedup_t *self, const char *host, const char *svc, uint64_t pid)
{
    char key [ZWATCH_HOST_MAX + ZWATCH_SVC_MAX + 32];
    snprintf (key, sizeof (key), "%s/%s/%" PRIu64, host, svc, pid);
    entry_t *entry = (entry_t *) zhashx_lookup (self->entries, key);
    if (entry) {
        zlistx_move_end (self->recency, entry->handle);
        return entry;
    }
    if (zhashx_size (self->entries) >= self->max) {
        entry_t *oldest = (entry_t *) zlistx_first (self->recency);
        zhashx_delete (self->entries, oldest->key);
        zlistx_delete (self->recency, oldest->handle);
        s_entry_destroy (&oldest);
        self->evicted++;
    }
    entry = (entry_t *) zmalloc (sizeof (entry_t));
    if (entry)
        entry->key = strdup (key);
    if (!entry || !entry->key
    ||  !(entry->handle = zlistx_add_end (self->recency, entry))) {
        s_entry_destroy (&entry);
        return NULL;
    }
    zhashx_insert (self->entries, entry->key, entry);
    return entry;
}

//  Shift the window up by shift seqs (the old top becomes a seen seq)
static void
s_window_raise (entry_t *entry, uint64_t seq)
{
    uint64_t shift = seq - entry->top;
    uint64_t old_top = entry->top;
    if (shift >= ZWATCH_CLIENT_DEDUP_WINDOW)
        memset (entry->seen, 0, sizeof (entry->seen));
    else {
        //  bit n moves to bit n + shift; whole words first, then the bits
        size_t words = (size_t) (shift / 64), bits = (size_t) (shift % 64);
        for (size_t index = WORDS; index-- > 0; ) {
            uint64_t value = index >= words? entry->seen [index - words] << bits: 0;
            if (bits && index > words)
                value |= entry->seen [index - words - 1] >> (64 - bits);
            entry->seen [index] = value;
        }
    }
    entry->top = seq;
    //  The old top is now shift - 1 below the new one
    if (old_top && shift - 1 < ZWATCH_CLIENT_DEDUP_WINDOW)
        entry->seen [(shift - 1) / 64] |= 1ULL << ((shift - 1) % 64);
}

bool
zwatch_client_dedup_event (zwatch_client_dedup_t *self, const char *host, const char *svc,
                           uint64_t pid, uint64_t seq)
{
    entry_t *entry = s_entry (self, host, svc, pid);
    if (!entry)
        return true;                //  no memory to remember: deliver rather than lose
    if (seq > entry->top) {
        s_window_raise (entry, seq);
        return true;
    }
    uint64_t below = entry->top - seq;      //  0: the top itself
    if (below == 0 || below > ZWATCH_CLIENT_DEDUP_WINDOW) {
        self->duplicates++;
        return false;
    }
    uint64_t bit = below - 1;
    if (entry->seen [bit / 64] & (1ULL << (bit % 64))) {
        self->duplicates++;
        return false;
    }
    entry->seen [bit / 64] |= 1ULL << (bit % 64);
    return true;
}

//  The merged state: gone if any, up if any, lost if all that spoke say so
static state_t
s_merge (const entry_t *entry)
{
    state_t merged = STATE_NONE;
    for (size_t index = 0; index < ZWATCH_CLIENT_DEDUP_BROKERS; index++) {
        state_t state = entry->states [index];
        if (state == STATE_GONE)
            return STATE_GONE;
        if (state == STATE_UP)
            merged = STATE_UP;
        else
        if (state == STATE_LOST && merged == STATE_NONE)
            merged = STATE_LOST;
    }
    return merged;
}

bool
zwatch_client_dedup_agent (zwatch_client_dedup_t *self, const char *broker, const char *host,
                           const char *svc, uint64_t pid, uint64_t start, const char *state)
{
    state_t said = streq (state, "up")? STATE_UP: streq (state, "gone")? STATE_GONE:
                   streq (state, "lost")? STATE_LOST: STATE_NONE;
    if (said == STATE_NONE)
        return true;
    entry_t *entry = s_entry (self, host, svc, pid);
    if (!entry)
        return true;
    if (start && entry->start && start != entry->start) {
        //  The same pid, a new instance: its seqs and states start again
        memset (entry->seen, 0, sizeof (entry->seen));
        memset (entry->brokers, 0, sizeof (entry->brokers));
        memset (entry->states, 0, sizeof (entry->states));
        entry->top = 0;
        entry->merged = STATE_NONE;
    }
    if (start)
        entry->start = start;
    size_t slot;
    for (slot = 0; slot < ZWATCH_CLIENT_DEDUP_BROKERS; slot++)
        if (!entry->brokers [slot][0] || streq (entry->brokers [slot], broker))
            break;
    if (slot == ZWATCH_CLIENT_DEDUP_BROKERS)
        return true;                //  more brokers than merged: each speaks for itself
    snprintf (entry->brokers [slot], sizeof (entry->brokers [slot]), "%s", broker);
    entry->states [slot] = said;
    state_t merged = s_merge (entry);
    if (merged == entry->merged) {
        self->duplicates++;
        return false;
    }
    entry->merged = merged;
    return true;
}

uint64_t
zwatch_client_dedup_duplicates (zwatch_client_dedup_t *self)
{
    return self->duplicates;
}

uint64_t
zwatch_client_dedup_evicted (zwatch_client_dedup_t *self)
{
    return self->evicted;
}
