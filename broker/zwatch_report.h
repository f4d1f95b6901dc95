/*  zwatch_report: the messages the broker makes itself (agent state, stats).  */
#ifndef ZWATCH_REPORT_H_INCLUDED
#define ZWATCH_REPORT_H_INCLUDED

#include "zwatch.h"
#include "zwatch_agent_table.h"
#include "zwatch_fleet.h"
#include "zwatch_snapshot_server.h"
#include "zwatch_parents.h"
#include "zwatch_children.h"

//  Broker-wide counters since start (keys of the stats message)
typedef struct {
    uint64_t msgs_in;               //  all messages read from ingest (each map of a batch)
    uint64_t ingest_frames;         //  body frames read from ingest (one per batch)
    uint64_t batch_truncated;       //  frames whose rest after a map was not a map
    uint64_t events_out;            //  events published
    uint64_t events_represented;    //  monitor events they stand for (Σ count: folded storms)
    uint64_t invalid;               //  messages rejected, all reasons
    uint64_t invalid_by [ZWATCH_REJECT_COUNT];
    uint64_t agents_refused;        //  messages from new agents when the table was full
    uint64_t lost;                  //  events lost in seq gaps
    uint64_t reordered;             //  events at or below their agent's last seq
    uint64_t subscriptions;         //  subscriptions active on the XPUB
    uint64_t subscribers;           //  connections to the XPUB (zwatch_subscribers)
    uint64_t host_mismatch;         //  rejected: certificate bound to another host (in invalid)
    uint64_t auth_failures;         //  handshakes refused (ZAP), ingest and publish
    uint64_t links_out;             //  link/ messages published
    uint64_t links_unsent;          //  link changes not published (out of memory)
    uint64_t refusals;              //  refusals sent to agents (host_mismatch)
    uint64_t loops;                 //  refused: our own id in via (in invalid)
    uint64_t relay_denied;          //  refused: via from a certificate not a relay's (in invalid)
    uint64_t batches_out;           //  messages on the batch feed (zwatch_batch_feed)
} zwatch_counters_t;

typedef struct _zwatch_report_t zwatch_report_t;

//  Create an encoder; its buffer is reused from message to message
zwatch_report_t *
    zwatch_report_new (void);

//  Destroy the encoder; idempotent
void
    zwatch_report_destroy (zwatch_report_t **self_p);

//  Encode an agent state message; state is "up", "gone" or "lost".
//  Returns 0, or -1 if out of memory.
int
    zwatch_report_agent (zwatch_report_t *self, const zwatch_agent_t *agent,
                         const char *state, const char *broker_id);

//  Encode a stats message, with the fleet model's sizes and counters and
//  the snapshot server's, each parent link's and each child broker's
int
    zwatch_report_stats (zwatch_report_t *self, const zwatch_counters_t *counters,
                         const char *broker_id, uint64_t uptime_ms, uint64_t agents,
                         zwatch_fleet_t *fleet, const zwatch_snapshot_counters_t *snapshots,
                         uint64_t history, zwatch_parents_t *parents,
                         zwatch_children_t *children);

//  The last message encoded, valid until the next call
const void *
    zwatch_report_data (zwatch_report_t *self);
size_t
    zwatch_report_size (zwatch_report_t *self);

#endif
