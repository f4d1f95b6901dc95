/*  ledger: the event seqs a subscriber received from one agent instance,
    to count what was delivered, what is missing and what came twice.  */
#ifndef LEDGER_H_INCLUDED
#define LEDGER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _ledger_t ledger_t;

ledger_t *
    ledger_new (void);

void
    ledger_destroy (ledger_t **self_p);

//  Note seq (>= 1) as received; false if it had been received before
bool
    ledger_add (ledger_t *self, uint64_t seq);

//  Note the count seqs up to seq (>= count) as received: an event message
//  standing for count events (a folded storm) carries the last of them.
//  False if any had been received before
bool
    ledger_add_events (ledger_t *self, uint64_t seq, uint64_t count);

//  Distinct seqs received: all of them, or those at or below seq
uint64_t
    ledger_count (ledger_t *self);
uint64_t
    ledger_count_upto (ledger_t *self, uint64_t seq);

//  Highest seq received, 0 if none; seqs received more than once
uint64_t
    ledger_max (ledger_t *self);
uint64_t
    ledger_duplicates (ledger_t *self);

#endif
