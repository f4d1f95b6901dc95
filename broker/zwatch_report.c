/*  zwatch_report: the messages the broker makes itself (agent state, stats).

    msgpack maps with the keys documented in docs/PROTOCOL.md, packed with
    one msgpack_packer over one reused sbuffer.
*/

#include <string.h>
#include <time.h>
#include <msgpack.h>
#include <czmq.h>
#include "zwatch_clock.h"
#include "zwatch_report.h"

struct _zwatch_report_t {
    msgpack_sbuffer buffer;
    msgpack_packer packer;
};

#define PACK_KEY(pk, literal) msgpack_pack_str_with_body ((pk), (literal), sizeof (literal) - 1)

static int
s_pack_str (msgpack_packer *pk, const char *value, size_t len)
{
    return msgpack_pack_str_with_body (pk, value, len);
}

static int
s_pack_cstr (msgpack_packer *pk, const char *value)
{
    return s_pack_str (pk, value, strlen (value));
}

zwatch_report_t *
zwatch_report_new (void)
{
    zwatch_report_t *self = (zwatch_report_t *) zmalloc (sizeof (zwatch_report_t));
    if (self) {
        msgpack_sbuffer_init (&self->buffer);
        msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    }
    return self;
}

void
zwatch_report_destroy (zwatch_report_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_report_t *self = *self_p;
        msgpack_sbuffer_destroy (&self->buffer);
        free (self);
        *self_p = NULL;
    }
}

int
zwatch_report_agent (zwatch_report_t *self, const zwatch_agent_t *agent,
                     const char *state, const char *broker_id)
{
    msgpack_packer *pk = &self->packer;
    msgpack_sbuffer_clear (&self->buffer);
    int rc = msgpack_pack_map (pk, 12);
    rc |= PACK_KEY (pk, "v")      | msgpack_pack_uint64 (pk, ZWATCH_PROTO_VERSION);
    rc |= PACK_KEY (pk, "kind")   | s_pack_cstr (pk, "agent");
    rc |= PACK_KEY (pk, "state")  | s_pack_cstr (pk, state);
    rc |= PACK_KEY (pk, "host")   | s_pack_str (pk, agent->key.host, agent->key.host_len);
    rc |= PACK_KEY (pk, "pid")    | msgpack_pack_uint64 (pk, agent->key.pid);
    rc |= PACK_KEY (pk, "svc")    | s_pack_str (pk, agent->key.svc, agent->key.svc_len);
    rc |= PACK_KEY (pk, "start")  | msgpack_pack_uint64 (pk, agent->start);
    rc |= PACK_KEY (pk, "ts")     | msgpack_pack_uint64 (pk, zwatch_clock_wall_ns ());
    rc |= PACK_KEY (pk, "seq")    | msgpack_pack_uint64 (pk, agent->last_seq);
    rc |= PACK_KEY (pk, "events") | msgpack_pack_uint64 (pk, agent->events);
    rc |= PACK_KEY (pk, "lost")   | msgpack_pack_uint64 (pk, agent->lost);
    rc |= PACK_KEY (pk, "broker") | s_pack_cstr (pk, broker_id);
    return rc? -1: 0;
}

//  The model's sizes now and what each bound refused
static int
s_pack_fleet (msgpack_packer *pk, zwatch_fleet_t *fleet)
{
    const zwatch_fleet_counters_t *c = zwatch_fleet_counters (fleet);
    int rc = msgpack_pack_map (pk, 16);
    rc |= PACK_KEY (pk, "agents")              | msgpack_pack_uint64 (pk, zwatch_fleet_agents (fleet));
    rc |= PACK_KEY (pk, "sockets")             | msgpack_pack_uint64 (pk, zwatch_fleet_sockets (fleet));
    rc |= PACK_KEY (pk, "connections")         | msgpack_pack_uint64 (pk, zwatch_fleet_connections (fleet));
    rc |= PACK_KEY (pk, "links")               | msgpack_pack_uint64 (pk, zwatch_fleet_links (fleet));
    rc |= PACK_KEY (pk, "agents_refused")      | msgpack_pack_uint64 (pk, c->agents_refused);
    rc |= PACK_KEY (pk, "sockets_refused")     | msgpack_pack_uint64 (pk, c->sockets_refused);
    rc |= PACK_KEY (pk, "listening_refused")   | msgpack_pack_uint64 (pk, c->listening_refused);
    rc |= PACK_KEY (pk, "connections_refused") | msgpack_pack_uint64 (pk, c->connections_refused);
    rc |= PACK_KEY (pk, "retrying_refused")    | msgpack_pack_uint64 (pk, c->retrying_refused);
    rc |= PACK_KEY (pk, "links_refused")       | msgpack_pack_uint64 (pk, c->links_refused);
    rc |= PACK_KEY (pk, "link_conflicts")      | msgpack_pack_uint64 (pk, c->link_conflicts);
    rc |= PACK_KEY (pk, "stale")               | msgpack_pack_uint64 (pk, c->stale);
    rc |= PACK_KEY (pk, "unmatched")           | msgpack_pack_uint64 (pk, c->unmatched);
    rc |= PACK_KEY (pk, "replays_complete")    | msgpack_pack_uint64 (pk, c->replays_complete);
    rc |= PACK_KEY (pk, "replays_partial")     | msgpack_pack_uint64 (pk, c->replays_partial);
    rc |= PACK_KEY (pk, "lseq")                | msgpack_pack_uint64 (pk, c->lseq);
    return rc;
}

static int
s_pack_snapshots (msgpack_packer *pk, const zwatch_snapshot_counters_t *c, uint64_t history)
{
    int rc = msgpack_pack_map (pk, 7);
    rc |= PACK_KEY (pk, "requests") | msgpack_pack_uint64 (pk, c->requests);
    rc |= PACK_KEY (pk, "served")   | msgpack_pack_uint64 (pk, c->served);
    rc |= PACK_KEY (pk, "refused")  | msgpack_pack_uint64 (pk, c->refused);
    uint32_t reasons = 0;
    for (int reason = 1; reason < ZWATCH_SNAPSHOT_REASONS; reason++)
        if (c->refused_by [reason])
            reasons++;
    rc |= PACK_KEY (pk, "refused_by") | msgpack_pack_map (pk, reasons);
    for (int reason = 1; reason < ZWATCH_SNAPSHOT_REASONS; reason++)
        if (c->refused_by [reason]) {
            rc |= s_pack_cstr (pk, zwatch_snapshot_reason_name (reason));
            rc |= msgpack_pack_uint64 (pk, c->refused_by [reason]);
        }
    rc |= PACK_KEY (pk, "dropped")  | msgpack_pack_uint64 (pk, c->dropped);
    rc |= PACK_KEY (pk, "frames")   | msgpack_pack_uint64 (pk, c->frames);
    rc |= PACK_KEY (pk, "history")  | msgpack_pack_uint64 (pk, history);
    return rc;
}

//  One map per --parent link, in the order of the flags
static int
s_pack_parents (msgpack_packer *pk, zwatch_parents_t *parents)
{
    size_t count = zwatch_parents_size (parents);
    int rc = msgpack_pack_array (pk, count);
    for (size_t index = 0; index < count; index++) {
        const zwatch_parent_stats_t *stats = zwatch_parents_stats (parents, index);
        rc |= msgpack_pack_map (pk, 6);
        rc |= PACK_KEY (pk, "endpoint") | s_pack_cstr (pk, stats->endpoint);
        rc |= PACK_KEY (pk, "sent")     | msgpack_pack_uint64 (pk, stats->sent);
        rc |= PACK_KEY (pk, "dropped")  | msgpack_pack_uint64 (pk, stats->dropped);
        rc |= PACK_KEY (pk, "connects") | msgpack_pack_uint64 (pk, stats->connects);
        rc |= PACK_KEY (pk, "replays")  | msgpack_pack_uint64 (pk, stats->replays);
        rc |= PACK_KEY (pk, "stopped")  | (stats->stopped? msgpack_pack_true (pk)
                                                          : msgpack_pack_false (pk));
    }
    return rc;
}

//  One map per broker below us, as its last heartbeat said
static int
s_pack_children (msgpack_packer *pk, zwatch_children_t *children)
{
    size_t count = zwatch_children_size (children);
    int rc = msgpack_pack_array (pk, count);
    for (size_t index = 0; index < count; index++) {
        const zwatch_child_t *child = zwatch_children_get (children, index);
        rc |= msgpack_pack_map (pk, 6);
        rc |= PACK_KEY (pk, "id")      | s_pack_cstr (pk, child->id);
        rc |= PACK_KEY (pk, "agents")  | msgpack_pack_uint64 (pk, child->agents);
        rc |= PACK_KEY (pk, "sent")    | msgpack_pack_uint64 (pk, child->sent);
        rc |= PACK_KEY (pk, "dropped") | msgpack_pack_uint64 (pk, child->dropped);
        rc |= PACK_KEY (pk, "losses")  | msgpack_pack_uint64 (pk, child->losses);
        rc |= PACK_KEY (pk, "silent")  | (child->silent? msgpack_pack_true (pk)
                                                        : msgpack_pack_false (pk));
    }
    return rc;
}

int
zwatch_report_stats (zwatch_report_t *self, const zwatch_counters_t *counters,
                     const char *broker_id, uint64_t uptime_ms, uint64_t agents,
                     zwatch_fleet_t *fleet, const zwatch_snapshot_counters_t *snapshots,
                     uint64_t history, zwatch_parents_t *parents,
                     zwatch_children_t *children)
{
    msgpack_packer *pk = &self->packer;
    msgpack_sbuffer_clear (&self->buffer);
    int rc = msgpack_pack_map (pk, 29);
    rc |= PACK_KEY (pk, "v")              | msgpack_pack_uint64 (pk, ZWATCH_PROTO_VERSION);
    rc |= PACK_KEY (pk, "kind")           | s_pack_cstr (pk, "stats");
    rc |= PACK_KEY (pk, "broker")         | s_pack_cstr (pk, broker_id);
    rc |= PACK_KEY (pk, "ts")             | msgpack_pack_uint64 (pk, zwatch_clock_wall_ns ());
    rc |= PACK_KEY (pk, "uptime")         | msgpack_pack_uint64 (pk, uptime_ms);
    rc |= PACK_KEY (pk, "msgs_in")        | msgpack_pack_uint64 (pk, counters->msgs_in);
    rc |= PACK_KEY (pk, "ingest_frames")  | msgpack_pack_uint64 (pk, counters->ingest_frames);
    rc |= PACK_KEY (pk, "batch_truncated") | msgpack_pack_uint64 (pk, counters->batch_truncated);
    rc |= PACK_KEY (pk, "events_out")     | msgpack_pack_uint64 (pk, counters->events_out);
    rc |= PACK_KEY (pk, "events_represented") | msgpack_pack_uint64 (pk, counters->events_represented);
    rc |= PACK_KEY (pk, "batches_out")    | msgpack_pack_uint64 (pk, counters->batches_out);
    rc |= PACK_KEY (pk, "invalid")        | msgpack_pack_uint64 (pk, counters->invalid);
    //  Only the reasons that happened: the map stays small and readable
    uint32_t reasons = counters->host_mismatch? 1: 0;
    for (int reason = 1; reason < ZWATCH_REJECT_COUNT; reason++)
        if (counters->invalid_by [reason])
            reasons++;
    rc |= PACK_KEY (pk, "invalid_by")     | msgpack_pack_map (pk, reasons);
    for (int reason = 1; reason < ZWATCH_REJECT_COUNT; reason++)
        if (counters->invalid_by [reason]) {
            rc |= s_pack_cstr (pk, zwatch_reason_name ((zwatch_reason_t) reason));
            rc |= msgpack_pack_uint64 (pk, counters->invalid_by [reason]);
        }
    //  The broker's own reason, not the decoder's (docs/SECURITY.md)
    if (counters->host_mismatch)
        rc |= PACK_KEY (pk, "host_mismatch") | msgpack_pack_uint64 (pk, counters->host_mismatch);
    rc |= PACK_KEY (pk, "agents")         | msgpack_pack_uint64 (pk, agents);
    rc |= PACK_KEY (pk, "agents_refused") | msgpack_pack_uint64 (pk, counters->agents_refused);
    rc |= PACK_KEY (pk, "lost")           | msgpack_pack_uint64 (pk, counters->lost);
    rc |= PACK_KEY (pk, "reordered")      | msgpack_pack_uint64 (pk, counters->reordered);
    rc |= PACK_KEY (pk, "subscribers")    | msgpack_pack_uint64 (pk, counters->subscribers);
    rc |= PACK_KEY (pk, "subscriptions")  | msgpack_pack_uint64 (pk, counters->subscriptions);
    rc |= PACK_KEY (pk, "auth_failures")  | msgpack_pack_uint64 (pk, counters->auth_failures);
    rc |= PACK_KEY (pk, "links_out")      | msgpack_pack_uint64 (pk, counters->links_out);
    rc |= PACK_KEY (pk, "links_unsent")   | msgpack_pack_uint64 (pk, counters->links_unsent);
    rc |= PACK_KEY (pk, "refusals")       | msgpack_pack_uint64 (pk, counters->refusals);
    rc |= PACK_KEY (pk, "loops")          | msgpack_pack_uint64 (pk, counters->loops);
    rc |= PACK_KEY (pk, "relay_denied")   | msgpack_pack_uint64 (pk, counters->relay_denied);
    rc |= PACK_KEY (pk, "parents")        | s_pack_parents (pk, parents);
    rc |= PACK_KEY (pk, "children")       | s_pack_children (pk, children);
    rc |= PACK_KEY (pk, "fleet")          | s_pack_fleet (pk, fleet);
    rc |= PACK_KEY (pk, "snapshots")      | s_pack_snapshots (pk, snapshots, history);
    return rc? -1: 0;
}

const void *
zwatch_report_data (zwatch_report_t *self)
{
    return self->buffer.data;
}

size_t
zwatch_report_size (zwatch_report_t *self)
{
    return self->buffer.size;
}

