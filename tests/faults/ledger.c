/*  ledger: the event seqs a subscriber received from one agent instance.
    A bitmap indexed by seq, grown as seqs arrive.  */

#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "ledger.h"

#define SEQ_MAX     (1ULL << 30)    //  far beyond any test; catches garbage

struct _ledger_t {
    uint8_t *bits;
    size_t size;                    //  bytes in bits
    uint64_t count;
    uint64_t max;
    uint64_t duplicates;
};

ledger_t *
ledger_new (void)
{
    ledger_t *self = (ledger_t *) calloc (1, sizeof (ledger_t));
    CHECK (self);
    return self;
}

void
ledger_destroy (ledger_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->bits);
        free (*self_p);
        *self_p = NULL;
    }
}

bool
ledger_add (ledger_t *self, uint64_t seq)
{
    CHECK (seq >= 1 && seq < SEQ_MAX);
    size_t byte = (size_t) (seq / 8);
    if (byte >= self->size) {
        size_t size = self->size? self->size: 1024;
        while (size <= byte)
            size *= 2;
        self->bits = (uint8_t *) realloc (self->bits, size);
        CHECK (self->bits);
        memset (self->bits + self->size, 0, size - self->size);
        self->size = size;
    }
    uint8_t mask = (uint8_t) (1u << (seq % 8));
    if (self->bits [byte] & mask) {
        self->duplicates++;
        return false;
    }
    self->bits [byte] |= mask;
    self->count++;
    if (seq > self->max)
        self->max = seq;
    return true;
}

bool
ledger_add_events (ledger_t *self, uint64_t seq, uint64_t count)
{
    CHECK (count >= 1 && seq >= count);
    bool fresh = true;
    for (uint64_t index = seq - count + 1; index <= seq; index++)
        fresh &= ledger_add (self, index);
    return fresh;
}

uint64_t
ledger_count (ledger_t *self)
{
    return self->count;
}

uint64_t
ledger_count_upto (ledger_t *self, uint64_t seq)
{
    uint64_t count = 0;
    for (uint64_t index = 1; index <= seq && index <= self->max; index++)
        count += (self->bits [index / 8] >> (index % 8)) & 1;
    return count;
}

uint64_t
ledger_max (ledger_t *self)
{
    return self->max;
}

uint64_t
ledger_duplicates (ledger_t *self)
{
    return self->duplicates;
}
