/*  zwatch_fold: storm folding (zwatch_fold.h).

    An open-addressing hash (linear probing, deletion by backward shift)
    of keys: owner, code, endpoint. It grows by doubling up to twice the
    key bound, so an agent that never sees a storm holds 16 slots. A scan
    of the table runs only when a summary is due, every second to forget
    quiet keys, when a key finds it full, and for an event that does not
    fold while keys hold events.
*/

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "zwatch_fold.h"

#define SLOTS_MIN   16

typedef struct {
    const void *owner;              //  NULL: a free slot
    uint32_t code;
    uint32_t hash;
    char *endpoint;                 //  our copy
    size_t endpoint_len;
    zwatch_str_t sock;              //  the owner's, valid until it is released
    zwatch_str_t stype;
    int64_t first_ms;               //  the first event of the count below
    int64_t last_ms;                //  the last event
    uint32_t burst;                 //  events since first_ms, up to ZWATCH_FOLD_AFTER + 1:
                                    //  beyond ZWATCH_FOLD_AFTER the key folds until quiet
    uint64_t held;                  //  events held for the next summary
    int64_t held_ms;                //  when the first of them came
    uint64_t since;                 //  its ts
    uint64_t last_ts;               //  the last one's ts and value
    int64_t last_value;
} entry_t;

struct _zwatch_fold_t {
    entry_t *slots;
    size_t capacity;                //  a power of two
    size_t size;                    //  keys
    size_t max_keys;
    size_t held_keys;               //  keys holding events
    int64_t due;                    //  the earliest summary due, 0: none
    int64_t sweep_at;               //  when to forget quiet keys next
    int64_t full_at;                //  the last msec a full table was swept
    uint64_t unfolded;              //  events whose key did not fit
};

static uint32_t
s_hash (const void *owner, uint32_t code, const char *endpoint, size_t len)
{
    uint32_t hash = 2166136261u;
    uintptr_t ptr = (uintptr_t) owner;
    for (size_t index = 0; index < sizeof (ptr); index++, ptr >>= 8)
        hash = (hash ^ (uint8_t) ptr) * 16777619u;
    for (int index = 0; index < 4; index++, code >>= 8)
        hash = (hash ^ (uint8_t) code) * 16777619u;
    for (size_t index = 0; index < len; index++)
        hash = (hash ^ (uint8_t) endpoint [index]) * 16777619u;
    return hash;
}

bool
zwatch_fold_code_folds (uint32_t code)
{
    return code == ZMQ_EVENT_CONNECT_DELAYED || code == ZMQ_EVENT_CONNECT_RETRIED
        || code == ZMQ_EVENT_BIND_FAILED || code == ZMQ_EVENT_ACCEPT_FAILED
        || code == ZMQ_EVENT_CLOSED || code == ZMQ_EVENT_CLOSE_FAILED
        || code == ZMQ_EVENT_DISCONNECTED || code == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        || code == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
}

zwatch_fold_t *
zwatch_fold_new (size_t max_keys)
{
    zwatch_fold_t *self = (zwatch_fold_t *) calloc (1, sizeof (zwatch_fold_t));
    if (!self)
        return NULL;
    self->max_keys = max_keys? max_keys: ZWATCH_FOLD_KEYS_MAX;
    self->capacity = SLOTS_MIN;
    self->slots = (entry_t *) calloc (self->capacity, sizeof (entry_t));
    if (!self->slots) {
        free (self);
        return NULL;
    }
    return self;
}

void
zwatch_fold_destroy (zwatch_fold_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_fold_t *self = *self_p;
    for (size_t index = 0; index < self->capacity; index++)
        free (self->slots [index].endpoint);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

static entry_t *
s_find (zwatch_fold_t *self, const void *owner, uint32_t code, zwatch_str_t endpoint,
        uint32_t hash, size_t *free_index)
{
    size_t mask = self->capacity - 1;
    for (size_t index = hash & mask; ; index = (index + 1) & mask) {
        entry_t *entry = &self->slots [index];
        if (!entry->owner) {
            *free_index = index;
            return NULL;
        }
        if (entry->hash == hash && entry->owner == owner && entry->code == code
        &&  entry->endpoint_len == endpoint.len
        &&  (!endpoint.len || memcmp (entry->endpoint, endpoint.ptr, endpoint.len) == 0))
            return entry;
    }
}

//  Double the slots (up to twice the key bound); false if it cannot
static bool
s_grow (zwatch_fold_t *self)
{
    if (self->capacity >= 2 * self->max_keys)
        return false;
    size_t capacity = self->capacity * 2;
    entry_t *slots = (entry_t *) calloc (capacity, sizeof (entry_t));
    if (!slots)
        return false;
    for (size_t index = 0; index < self->capacity; index++) {
        entry_t *entry = &self->slots [index];
        if (!entry->owner)
            continue;
        size_t to = entry->hash & (capacity - 1);
        while (slots [to].owner)
            to = (to + 1) & (capacity - 1);
        slots [to] = *entry;
    }
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return true;
}

//  Forget the key in slot index, closing the gap behind it
static void
s_remove (zwatch_fold_t *self, size_t index)
{
    size_t mask = self->capacity - 1;
    free (self->slots [index].endpoint);
    size_t next = index;
    while (true) {
        next = (next + 1) & mask;
        if (!self->slots [next].owner)
            break;
        size_t home = self->slots [next].hash & mask;
        bool stays = index <= next? index < home && home <= next: index < home || home <= next;
        if (stays)
            continue;
        self->slots [index] = self->slots [next];
        index = next;
    }
    memset (&self->slots [index], 0, sizeof (entry_t));
    self->size--;
}

//  What a key holds, as one message: the last event's keys and the count
static void
s_emit (zwatch_fold_t *self, entry_t *entry, zwatch_fold_emit_fn *emit, void *arg)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.sock = entry->sock;
    msg.stype = entry->stype;
    msg.code = entry->code;
    msg.value = entry->last_value;
    msg.endpoint.ptr = entry->endpoint;
    msg.endpoint.len = entry->endpoint_len;
    msg.ts = entry->last_ts;
    msg.count = entry->held;
    if (entry->held >= 2)
        msg.since = entry->since;
    entry->held = 0;
    self->held_keys--;
    emit (arg, &msg);
}

//  One pass: emit what is due (all: everything held), forget the keys
//  quiet for a second (forget), and owner's keys (release, if not NULL)
static void
s_scan (zwatch_fold_t *self, int64_t now, bool all, bool forget, const void *release,
        bool release_all, zwatch_fold_emit_fn *emit, void *arg)
{
    int64_t due = 0;
    size_t index = 0;
    while (index < self->capacity) {
        entry_t *entry = &self->slots [index];
        if (!entry->owner) {
            index++;
            continue;
        }
        bool mine = release_all || (release && entry->owner == release);
        if (entry->held && (all || mine || now - entry->held_ms >= ZWATCH_FOLD_WINDOW_MS))
            s_emit (self, entry, emit, arg);
        if (mine || (forget && !entry->held && now - entry->last_ms >= ZWATCH_FOLD_WINDOW_MS)) {
            s_remove (self, index);
            continue;               //  another key may have moved into this slot
        }
        if (entry->held && (!due || entry->held_ms + ZWATCH_FOLD_WINDOW_MS < due))
            due = entry->held_ms + ZWATCH_FOLD_WINDOW_MS;
        index++;
    }
    self->due = due;
    if (forget)
        self->sweep_at = now + ZWATCH_FOLD_WINDOW_MS;
}

void
zwatch_fold_tick (zwatch_fold_t *self, int64_t now, zwatch_fold_emit_fn *emit, void *arg)
{
    bool due = self->due && now >= self->due;
    bool sweep = self->size && now >= self->sweep_at;
    if (due || sweep)
        s_scan (self, now, false, sweep, NULL, false, emit, arg);
}

void
zwatch_fold_release (zwatch_fold_t *self, const void *owner, zwatch_fold_emit_fn *emit, void *arg)
{
    if (self->size)
        s_scan (self, 0, false, false, owner, owner == NULL, emit, arg);
}

//  A new key in slot index (from s_find), or NULL: the table is full
static entry_t *
s_insert (zwatch_fold_t *self, const void *owner, const zwatch_msg_t *msg, uint32_t hash,
          size_t index, int64_t now, zwatch_fold_emit_fn *emit, void *arg)
{
    if (self->size >= self->max_keys && now != self->full_at) {
        //  Quiet keys may make room (at most one pass a msec)
        self->full_at = now;
        s_scan (self, now, false, true, NULL, false, emit, arg);
        s_find (self, owner, msg->code, msg->endpoint, hash, &index);
    }
    if (self->size >= self->max_keys)
        return NULL;
    if ((self->size + 1) * 2 > self->capacity) {
        if (!s_grow (self) && self->size + 1 >= self->capacity)
            return NULL;                //  never fill the last slot: lookups end on a free one
        s_find (self, owner, msg->code, msg->endpoint, hash, &index);
    }
    char *endpoint = (char *) malloc (msg->endpoint.len + 1);
    if (!endpoint)
        return NULL;
    if (msg->endpoint.len)
        memcpy (endpoint, msg->endpoint.ptr, msg->endpoint.len);
    endpoint [msg->endpoint.len] = 0;
    entry_t *entry = &self->slots [index];
    memset (entry, 0, sizeof (*entry));
    entry->owner = owner;
    entry->code = msg->code;
    entry->hash = hash;
    entry->endpoint = endpoint;
    entry->endpoint_len = msg->endpoint.len;
    self->size++;
    if (!self->sweep_at)
        self->sweep_at = now + ZWATCH_FOLD_WINDOW_MS;
    return entry;
}

zwatch_fold_verdict_t
zwatch_fold_event (zwatch_fold_t *self, const void *owner, const zwatch_msg_t *msg,
                   int64_t now, zwatch_fold_emit_fn *emit, void *arg)
{
    zwatch_fold_tick (self, now, emit, arg);
    //  An event about a connection of its own is a fact each time
    if (!zwatch_fold_code_folds (msg->code) || msg->peer.ptr || msg->local.ptr || msg->peer_pid) {
        if (self->held_keys)
            zwatch_fold_release (self, owner, emit, arg);
        return ZWATCH_FOLD_SEND;
    }
    uint32_t hash = s_hash (owner, msg->code, msg->endpoint.ptr, msg->endpoint.len);
    size_t index;
    entry_t *entry = s_find (self, owner, msg->code, msg->endpoint, hash, &index);
    if (!entry) {
        entry = s_insert (self, owner, msg, hash, index, now, emit, arg);
        if (!entry) {
            self->unfolded++;
            return ZWATCH_FOLD_FULL;
        }
        entry->burst = 0;
        entry->last_ms = now - ZWATCH_FOLD_WINDOW_MS;      //  quiet until now
    }
    //  The owner's strings may have moved (a socket's label is set once,
    //  but keep the latest view all the same)
    entry->sock = msg->sock;
    entry->stype = msg->stype;
    bool quiet = now - entry->last_ms >= ZWATCH_FOLD_WINDOW_MS;
    entry->last_ms = now;
    if (quiet || (entry->burst <= ZWATCH_FOLD_AFTER
                  && now - entry->first_ms >= ZWATCH_FOLD_WINDOW_MS)) {
        //  The first of a storm (held is 0: the tick above emitted it)
        entry->first_ms = now;
        entry->burst = 1;
        return ZWATCH_FOLD_SEND;
    }
    if (entry->burst <= ZWATCH_FOLD_AFTER)
        entry->burst++;
    if (entry->burst <= ZWATCH_FOLD_AFTER)
        return ZWATCH_FOLD_SEND;
    if (!entry->held) {
        entry->held_ms = now;
        entry->since = msg->ts;
        self->held_keys++;
        if (!self->due || now + ZWATCH_FOLD_WINDOW_MS < self->due)
            self->due = now + ZWATCH_FOLD_WINDOW_MS;
    }
    entry->held++;
    entry->last_ts = msg->ts;
    entry->last_value = msg->value;
    return ZWATCH_FOLD_HELD;
}

int64_t
zwatch_fold_due (zwatch_fold_t *self)
{
    return self->due;
}

size_t
zwatch_fold_size (zwatch_fold_t *self)
{
    return self->size;
}

uint64_t
zwatch_fold_unfolded (zwatch_fold_t *self)
{
    return self->unfolded;
}
