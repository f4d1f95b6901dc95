/*  zwatch_fold: storm folding, a bounded table of repeating events.

    When a peer dies, every socket that talks to it loops CONNECT_DELAYED,
    CLOSED, CONNECT_RETRIED at its reconnect interval (1 ms at worst). The
    table keys such events by socket (an owner pointer), code and
    endpoint. The first ZWATCH_FOLD_AFTER of one key within a second go
    out as they come; the ones after them are held, and a summary (the
    last one's keys with count = how many, since = the first one's ts) goes
    out a second after the first held one, then every second while the
    storm lasts. A key quiet for a second is forgotten: its next event
    starts a new storm and goes out at once. Only events that carry no
    connection of their own fold (docs/PROTOCOL.md section 4, "Folding");
    a key that finds the table full is not folded, just sent, and counted.

    No clock of its own and no I/O: the caller gives the time and gets
    the summaries through a callback. One thread.
*/
#ifndef ZWATCH_FOLD_H_INCLUDED
#define ZWATCH_FOLD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch_proto.h"

#define ZWATCH_FOLD_AFTER       3       //  events of one key sent within a second before folding
#define ZWATCH_FOLD_WINDOW_MS   1000    //  the second: summary period, and quiet that ends a storm
#define ZWATCH_FOLD_KEYS_MAX    1024    //  keys held at most

typedef struct _zwatch_fold_t zwatch_fold_t;

//  A summary (or one held event) to send: msg has the keys of the last
//  event it stands for, count (>= 1) and, if count >= 2, since
typedef void (zwatch_fold_emit_fn) (void *arg, zwatch_msg_t *msg);

//  A table of at most max_keys keys (0: ZWATCH_FOLD_KEYS_MAX). NULL on ENOMEM
zwatch_fold_t *zwatch_fold_new (size_t max_keys);

//  Free it; held counts are forgotten, so flush first
void zwatch_fold_destroy (zwatch_fold_t **self_p);

//  True if events of this code may fold: not the ones that make or carry a
//  connection, a listener or a socket's end (their every occurrence is a fact)
bool zwatch_fold_code_folds (uint32_t code);

//  One event of owner's (sock, stype, code, value, endpoint, ts and the
//  optional keys set), at now (monotonic msecs). First emits what must go
//  before it: the summaries due, and, for an event that does not fold,
//  what owner's keys hold (so a CONNECTED never overtakes the retries
//  before it). Says whether to send it now, or that it is held for a
//  summary to come. sock and stype must stay valid until owner's keys are
//  released (zwatch_fold_release).
typedef enum {
    ZWATCH_FOLD_SEND,           //  send it now
    ZWATCH_FOLD_HELD,           //  held: a summary will count it
    ZWATCH_FOLD_FULL            //  send it now: its key did not fit (counted in unfolded)
} zwatch_fold_verdict_t;
zwatch_fold_verdict_t zwatch_fold_event (zwatch_fold_t *self, const void *owner,
                                         const zwatch_msg_t *msg, int64_t now,
                                         zwatch_fold_emit_fn *emit, void *arg);

//  Emit the summaries due at now; now and then forget the keys quiet for
//  a second
void zwatch_fold_tick (zwatch_fold_t *self, int64_t now, zwatch_fold_emit_fn *emit, void *arg);

//  Emit what owner's keys hold and forget them (owner NULL: every key)
void zwatch_fold_release (zwatch_fold_t *self, const void *owner, zwatch_fold_emit_fn *emit,
                          void *arg);

//  Monotonic msecs of the next summary due, 0 if nothing is held
int64_t zwatch_fold_due (zwatch_fold_t *self);

//  Keys held now; events not folded because the table was full
size_t zwatch_fold_size (zwatch_fold_t *self);
uint64_t zwatch_fold_unfolded (zwatch_fold_t *self);

#endif
