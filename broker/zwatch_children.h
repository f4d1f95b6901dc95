/*  zwatch_children: the brokers below us (tiers), as their heartbeats
    tell. A child broker sends each parent, every ZWATCH_RELAY_HEARTBEAT_MS,
    a `heartbeat` of its own: host its id, svc "zwatch-broker", via
    [its id], sent / dropped the messages its link to that parent took and
    dropped, watched the agents it tracks. It travels up like any message,
    so the root hears every broker below it. A child silent for
    ZWATCH_RELAY_LOST_INTERVALS intervals is lost: the broker marks the
    agents behind it (via [0], the edge they report to, is its id) lost.
    Bounded: ZWATCH_CHILDREN_MAX children, more are counted, not kept.  */
#ifndef ZWATCH_CHILDREN_H_INCLUDED
#define ZWATCH_CHILDREN_H_INCLUDED

#include "zwatch.h"
#include "zwatch_via.h"

#define ZWATCH_RELAY_SVC            "zwatch-broker"
#define ZWATCH_RELAY_HEARTBEAT_MS   1000
#define ZWATCH_RELAY_LOST_INTERVALS 5
#define ZWATCH_CHILDREN_MAX         256

typedef struct {
    char id [ZWATCH_HOST_MAX + 1];
    int64_t last_seen;                  //  zclock_mono () ms of its last heartbeat
    uint64_t sent;                      //  its link up took (its last heartbeat)
    uint64_t dropped;                   //  its link up dropped
    uint64_t agents;                    //  agents it tracks
    uint64_t losses;                    //  times it went silent
    bool silent;                        //  lost now, until it speaks again
} zwatch_child_t;

typedef struct _zwatch_children_t zwatch_children_t;

zwatch_children_t *
    zwatch_children_new (void);

void
    zwatch_children_destroy (zwatch_children_t **self_p);

//  Note the edge (via [0]) of a heartbeat, hello or state_end as heard
//  now. True if msg is the child broker's own heartbeat (its counters are
//  then kept).
bool
    zwatch_children_heard (zwatch_children_t *self, const zwatch_msg_t *msg,
                           const zwatch_via_t *via, int64_t now);

//  The next child silent for the lost bound at now, marked silent, or NULL
const zwatch_child_t *
    zwatch_children_expired (zwatch_children_t *self, int64_t now);

size_t
    zwatch_children_size (zwatch_children_t *self);
const zwatch_child_t *
    zwatch_children_get (zwatch_children_t *self, size_t index);

//  Heartbeats of children over the bound
uint64_t
    zwatch_children_refused (zwatch_children_t *self);

#endif
