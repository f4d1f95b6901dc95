/*  zwatch_snapshot_server: the broker's snapshot ROUTER (PROTOCOL.md 12).

    A DEALER sends one request frame; the reply is the fleet model's frames
    (zwatch_fleet_snapshot_t), then the history's events, then one
    snapshot_end, each a frame of its own, to that client only. The broker
    calls _read when the ROUTER has input and _send between ingest
    batches: each call sends a bounded slice, so forwarding never waits
    for a snapshot. Bounded: at most ZWATCH_SNAPSHOT_ACTIVE_MAX replies in
    progress (a request beyond them gets the error "busy"); a client whose
    pipe stays full (ROUTER_MANDATORY and a bounded SNDHWM: EAGAIN) for
    ZWATCH_SNAPSHOT_STALL_MS is dropped, counted, and its reply abandoned.
*/
#ifndef ZWATCH_SNAPSHOT_SERVER_H_INCLUDED
#define ZWATCH_SNAPSHOT_SERVER_H_INCLUDED

#include <czmq.h>
#include "zwatch_fleet.h"
#include "zwatch_fleet_wire.h"
#include "zwatch_history.h"

#define ZWATCH_SNAPSHOT_ACTIVE_MAX  8       //  replies in progress
#define ZWATCH_SNAPSHOT_SLICE       256     //  frames per _send, all replies together
#define ZWATCH_SNAPSHOT_SNDHWM      1000    //  frames queued per client
#define ZWATCH_SNAPSHOT_STALL_MS    2000    //  a client that takes none for this long goes

//  Refusal reasons: the request decoder's, then the server's own
#define ZWATCH_SNAPSHOT_BUSY        ZWATCH_REQUEST_COUNT        //  all replies in use
#define ZWATCH_SNAPSHOT_NO_MEMORY   (ZWATCH_REQUEST_COUNT + 1)  //  packing failed
#define ZWATCH_SNAPSHOT_NO_FLEET    (ZWATCH_REQUEST_COUNT + 2)  //  the broker runs --no-fleet
#define ZWATCH_SNAPSHOT_REASONS     (ZWATCH_REQUEST_COUNT + 3)

typedef struct {
    uint64_t requests;              //  requests read
    uint64_t served;                //  replies sent whole, up to snapshot_end
    uint64_t refused;               //  requests answered with an error, all reasons
    uint64_t refused_by [ZWATCH_SNAPSHOT_REASONS];
    uint64_t dropped;               //  clients dropped: did not read (or left) mid-reply
    uint64_t frames;                //  reply frames sent
} zwatch_snapshot_counters_t;

typedef struct _zwatch_snapshot_server_t zwatch_snapshot_server_t;

//  A server over fleet and history (both must outlive it); its ROUTER is
//  not bound yet. fleet NULL: the broker holds no model, and every valid
//  request gets the error no_fleet. NULL on failure.
zwatch_snapshot_server_t *
    zwatch_snapshot_server_new (zwatch_fleet_t *fleet, zwatch_history_t *history,
                                size_t history_max);

//  Abandon the replies in progress and close the socket; idempotent
void
    zwatch_snapshot_server_destroy (zwatch_snapshot_server_t **self_p);

//  The ROUTER, to secure and bind
zsock_t *
    zwatch_snapshot_server_socket (zwatch_snapshot_server_t *self);

//  Read the requests waiting, up to a batch, and start or refuse each
void
    zwatch_snapshot_server_read (zwatch_snapshot_server_t *self, int64_t now);

//  Send one slice of the replies in progress
void
    zwatch_snapshot_server_send (zwatch_snapshot_server_t *self, int64_t now);

//  Replies in progress, and how many of them can send now (not blocked
//  on a full client): the loop polls without waiting while any can
size_t
    zwatch_snapshot_server_active (zwatch_snapshot_server_t *self);
size_t
    zwatch_snapshot_server_ready (zwatch_snapshot_server_t *self);

const zwatch_snapshot_counters_t *
    zwatch_snapshot_server_counters (zwatch_snapshot_server_t *self);

//  Name of a refusal reason (the `reason` of the error reply)
const char *
    zwatch_snapshot_reason_name (int reason);

#endif
