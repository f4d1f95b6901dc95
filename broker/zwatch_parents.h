/*  zwatch_parents: the links of a child broker to its parents (--parent).

    One DEALER per parent, connected to its ingest like an agent's, with a
    monitor that tells when a handshake went through (then the broker
    replays its fleet to that parent). Forwarded messages keep their bytes
    and get our id appended to `via` (zwatch_via). Each link's queue is
    bounded (SNDHWM); what it cannot take is dropped and counted per
    parent. A parent that answers `refused` with reason `loop` is one we
    already feed through another path: we log it once and stop sending
    to it.  */
#ifndef ZWATCH_PARENTS_H_INCLUDED
#define ZWATCH_PARENTS_H_INCLUDED

#include <czmq.h>
#include "zwatch_via.h"
#include "zwatch_curve.h"

#define ZWATCH_PARENTS_MAX      4       //  --parent endpoints at most
#define ZWATCH_PARENT_SNDHWM    10000   //  messages queued per parent

typedef struct {
    const char *endpoint;
    uint64_t sent;                      //  messages its queue took
    uint64_t dropped;                   //  messages it could not take (full, too big)
    uint64_t connects;                  //  handshakes that went through
    uint64_t replays;                   //  replays sent to it
    bool stopped;                       //  refused us (loop): nothing more goes
} zwatch_parent_stats_t;

typedef struct _zwatch_parents_t zwatch_parents_t;

//  Links to each endpoint of the list (may be empty), CURVE clients when
//  curve is enabled; our id goes in via. NULL with errno (E2BIG: over
//  ZWATCH_PARENTS_MAX, or libzmq's).
zwatch_parents_t *
    zwatch_parents_new (zlistx_t *endpoints, const char *id, const zwatch_curve_t *curve);

void
    zwatch_parents_destroy (zwatch_parents_t **self_p);

size_t
    zwatch_parents_size (zwatch_parents_t *self);

//  Two poll items per parent (its DEALER, its monitor) into items;
//  returns how many it wrote
int
    zwatch_parents_pollitems (zwatch_parents_t *self, zmq_pollitem_t *items);

//  After a poll: read what the items hold. Returns a bitmask of the
//  parents that (re)connected since (bit i: parent i), for a replay.
unsigned
    zwatch_parents_read (zwatch_parents_t *self);

//  Forward a valid message with its via (read from data) to every parent
void
    zwatch_parents_forward (zwatch_parents_t *self, const void *data, size_t size,
                            const zwatch_via_t *via);

//  Send one message of ours (no via, or via [edge]) to parent index only. Returns 0,
//  or -1 if its queue did not take it (counted in dropped).
int
    zwatch_parents_send (zwatch_parents_t *self, size_t index, const void *data, size_t size);

//  A replay of agents went to parent index (counted)
void
    zwatch_parents_replayed (zwatch_parents_t *self, size_t index);

const zwatch_parent_stats_t *
    zwatch_parents_stats (zwatch_parents_t *self, size_t index);

#endif
