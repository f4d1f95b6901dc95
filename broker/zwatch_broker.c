/*  zwatch_broker: the server: ingest ROUTER, publish XPUB, one loop.

    One thread does everything. Agents send [body] on a DEALER; the ROUTER
    gives us [routing id][body]. A valid event goes out on the XPUB as
    [ev/<host>/<svc>/<EVENT>][body], the body being the very zmq_msg_t we
    received (zmq_msg_send moves it: no copy of ours; libzmq copies each
    message once as it arrives, see ZMQ_ZERO_COPY_RECV below). The hot path allocates
    nothing and formats only the topic, into a stack buffer; we drain the
    ROUTER in bounded batches between polls. A body may hold several
    messages back to back (a batch, PROTOCOL.md 5): each is handled as if
    it came alone, and its event goes out pointing into the frame
    (zwatch_pin) or, for a sparse frame, copied.

    Invalid messages are dropped and counted by reason, warned about at
    most once a second per reason. Messages over 65536 bytes never reach
    us: ZMQ_MAXMSGSIZE makes libzmq drop that agent's connection instead
    (the agent reconnects); from ZWATCH_MSG_MAX+1 to 65536 they count as
    too_large.

    Agents are tracked by (host, svc, pid) in a table bounded by
    --max-agents. When it is full a new agent's events are still forwarded
    but the agent is not tracked (no up/gone/lost, no seq accounting) and
    every such message counts in agents_refused.

    The XPUB drops for a subscriber that is over its high-water mark, so a
    slow subscriber never stalls the broker or the others. It runs in
    "verboser" mode so that every subscribe and unsubscribe reaches us:
    the stats "subscriptions" is the number of subscriptions active now,
    "subscribers" the connections to it (zwatch_subscribers).

    Every accepted message also goes to the fleet model (fleet/), which
    answers snapshot requests (zwatch_snapshot_server, sent in slices
    between ingest batches) and reports link changes: those are held
    while the model applies a message and published right after that
    message's own event, as the merge rule (PROTOCOL.md 13) expects. The
    bodies published are also kept in a bounded ring (zwatch_history) for
    the snapshots' history. With --no-fleet (config->fleet false) there
    is neither: events are only forwarded, the model stays empty (the
    stats keep their keys) and snapshot requests get the error no_fleet.
*/

#include "zwatch_broker.h"
#include "zwatch_agent_table.h"
#include "zwatch_broker_security.h"
#include "zwatch_clock.h"
#include "zwatch_fdlimit.h"
#include "zwatch_hangup.h"
#include "zwatch_ratelimit.h"
#include "zwatch_report.h"
#include "zwatch_fleet_wire.h"
#include "zwatch_history.h"
#include "zwatch_pin.h"
#include "zwatch_snapshot_server.h"
#include "zwatch_subscribers.h"
#include "zwatch_parents.h"
#include "zwatch_children.h"
#include "zwatch_replay.h"
#include "zwatch_via.h"
#include "zwatch_msg_scan.h"
#include "zwatch_batch_feed.h"

#define BATCH_MAX           1000        //  messages read per socket per poll
#define INGEST_MAXMSGSIZE   65536
#define INGEST_RCVHWM       10000
#define PUBLISH_SNDHWM      100000
#define PUBLISH_LINGER      1000        //  ms to deliver what we hold at exit
#define SWEEP_MAX_MS        250         //  expiry checks at least this often
#define WARN_INTERVAL_MS    1000        //  one warning per kind per second
#define BUSY_POLL_MS        10          //  poll timeout while a reply waits on a full client
#define PIN_BYTES_PER_EVENT ZWATCH_MSG_MAX  //  batch: frame bytes a held event may keep alive

//  A context option of libzmq >= 4.3.0, still in its draft section
#ifndef ZMQ_ZERO_COPY_RECV
#   define ZMQ_ZERO_COPY_RECV 10
#endif

struct _zwatch_broker_t {
    zwatch_broker_config_t *config;     //  SIGHUP changes some of it
    zsock_t *ingest;                    //  ROUTER, agents connect
    zsock_t *publish;                   //  XPUB, subscribers connect
    zwatch_batch_feed_t *batches;       //  --publish-batches, or NULL
    bool publish_stirred;               //  a call on the XPUB since we last read its monitor
    void *ingest_handle;                //  raw libzmq sockets for the hot path
    void *publish_handle;
    zmq_msg_t routing_id;               //  reused for every message
    zmq_msg_t body;
    zmq_msg_t subscription;
    zwatch_agent_table_t *agents;
    zwatch_fleet_t *fleet;              //  empty and unused without config->fleet
    bool fleet_on;
    zwatch_history_t *history;
    zwatch_snapshot_server_t *snapshots;
    void *snapshot_handle;
    //  Link changes of the message being applied: [u32 topic][topic][u32 body][body]...
    uint8_t *links;
    size_t links_size;
    size_t links_capacity;
    uint64_t links_unsent;              //  link messages that did not fit (ENOMEM)
    zwatch_report_t *report;
    zwatch_broker_security_t *security;     //  CURVE, ZAP, self-watch; set by bind
    zwatch_fdlimit_t *fdlimit;              //  descriptors left; set by bind
    zwatch_subscribers_t *subscribers;      //  connected to publish; set by bind
    zwatch_parents_t *parents;              //  --parent links; set by bind
    zwatch_children_t *children;            //  brokers below us, by their heartbeats
    uint64_t started_wall;                  //  epoch ns, our heartbeats' start
    zwatch_counters_t counters;
    int64_t started;                    //  zclock_mono () at start
    int64_t heartbeat_ms;
    int64_t sweep_ms;
    int64_t stats_ms;
    zwatch_ratelimit_t invalid_limit [ZWATCH_REJECT_COUNT];
    zwatch_ratelimit_t refused_limit;
    bool loop_logged;                   //  the loop line goes out once
    char error [512];
};

static int
s_queue_part (zwatch_broker_t *self, const void *data, size_t size)
{
    size_t needed = self->links_size + sizeof (uint32_t) + size;
    if (needed > self->links_capacity) {
        size_t capacity = self->links_capacity? self->links_capacity * 2: 4096;
        while (capacity < needed)
            capacity *= 2;
        uint8_t *links = (uint8_t *) realloc (self->links, capacity);
        if (!links)
            return -1;
        self->links = links;
        self->links_capacity = capacity;
    }
    uint32_t length = (uint32_t) size;
    memcpy (self->links + self->links_size, &length, sizeof (length));
    memcpy (self->links + self->links_size + sizeof (length), data, size);
    self->links_size = needed;
    return 0;
}

//  From inside zwatch_fleet_apply / _forget: held until the message that
//  caused it went out (s_flush_links)
static void
s_on_link (void *arg, const zwatch_fleet_link_t *link)
{
    zwatch_broker_t *self = (zwatch_broker_t *) arg;
    char topic [ZWATCH_FLEET_LINK_TOPIC_MAX + 1];
    uint8_t body [4096];
    int topic_len = zwatch_fleet_topic_link (topic, sizeof (topic), link);
    int body_len = zwatch_fleet_encode_link (body, sizeof (body), link, zwatch_clock_wall_ns ());
    size_t mark = self->links_size;
    if (topic_len < 0 || body_len < 0
    ||  s_queue_part (self, topic, (size_t) topic_len) != 0
    ||  s_queue_part (self, body, (size_t) body_len) != 0) {
        self->links_size = mark;
        self->links_unsent++;
    }
}

static void
s_flush_links (zwatch_broker_t *self)
{
    self->publish_stirred = true;
    size_t offset = 0;
    while (offset < self->links_size) {
        uint32_t topic_len, body_len;
        memcpy (&topic_len, self->links + offset, sizeof (topic_len));
        const uint8_t *topic = self->links + offset + sizeof (topic_len);
        offset += sizeof (topic_len) + topic_len;
        memcpy (&body_len, self->links + offset, sizeof (body_len));
        const uint8_t *body = self->links + offset + sizeof (body_len);
        offset += sizeof (body_len) + body_len;
        if (zmq_send (self->publish_handle, topic, topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) != -1
        &&  zmq_send (self->publish_handle, body, body_len, ZMQ_DONTWAIT) != -1)
            self->counters.links_out++;
    }
    self->links_size = 0;
}

//  The loop's periods from the settings (at start and on reload)
static void
s_periods (zwatch_broker_t *self)
{
    const zwatch_broker_config_t *config = self->config;
    self->heartbeat_ms = (int64_t) (config->heartbeat_timeout * 1000 + 0.5);
    if (self->heartbeat_ms < 1)
        self->heartbeat_ms = 1;
    self->sweep_ms = self->heartbeat_ms / 4;
    if (self->sweep_ms > SWEEP_MAX_MS)
        self->sweep_ms = SWEEP_MAX_MS;
    if (self->sweep_ms < 10)
        self->sweep_ms = 10;
    self->stats_ms = (int64_t) (config->stats_interval * 1000 + 0.5);
    if (self->stats_ms < 1)
        self->stats_ms = 1;
}

zwatch_broker_t *
zwatch_broker_new (zwatch_broker_config_t *config)
{
    zwatch_broker_t *self = (zwatch_broker_t *) zmalloc (sizeof (zwatch_broker_t));
    if (!self)
        return NULL;
    self->config = config;
    zmq_msg_init (&self->routing_id);
    zmq_msg_init (&self->body);
    zmq_msg_init (&self->subscription);
    s_periods (self);
    for (int reason = 0; reason < ZWATCH_REJECT_COUNT; reason++)
        self->invalid_limit [reason] = (zwatch_ratelimit_t) ZWATCH_RATELIMIT_INIT;
    self->refused_limit = (zwatch_ratelimit_t) ZWATCH_RATELIMIT_INIT;

    //  By default each received message points into the 8 KiB read buffer
    //  it came in, and keeps all of it alive: a stuck subscriber's queue
    //  of 100000 events could pin a read buffer per event (~13 KiB, 1.3 GB).
    //  Copied, a held event costs its own size.
    zmq_ctx_set (zsys_init (), ZMQ_ZERO_COPY_RECV, 0);
    self->ingest = zsock_new (ZMQ_ROUTER);
    self->publish = zsock_new (ZMQ_XPUB);
    if (zlistx_size (config->publish_batches) && !(self->batches = zwatch_batch_feed_new ())) {
        zwatch_broker_destroy (&self);
        return NULL;
    }
    self->agents = zwatch_agent_table_new (config->max_agents);
    self->report = zwatch_report_new ();
    self->children = zwatch_children_new ();
    self->started_wall = zwatch_clock_wall_ns ();
    self->fleet_on = config->fleet;
    self->fleet = zwatch_fleet_new (&config->fleet_limits);
    self->history = zwatch_history_new (self->fleet_on? config->history: 0);
    if (self->fleet && self->history)
        self->snapshots = zwatch_snapshot_server_new (self->fleet_on? self->fleet: NULL,
                                                      self->history,
                                                      self->fleet_on? config->history: 0);
    if (!self->ingest || !self->publish || !self->agents || !self->report || !self->snapshots
    ||  !self->children) {
        zwatch_broker_destroy (&self);
        return NULL;
    }
    self->ingest_handle = zsock_resolve (self->ingest);
    self->publish_handle = zsock_resolve (self->publish);
    self->snapshot_handle = zsock_resolve (zwatch_snapshot_server_socket (self->snapshots));
    zwatch_fleet_set_link_handler (self->fleet, s_on_link, self);
    zsock_set_linger (self->ingest, 0);
    zsock_set_maxmsgsize (self->ingest, INGEST_MAXMSGSIZE);
    zsock_set_rcvhwm (self->ingest, INGEST_RCVHWM);
    zsock_set_sndhwm (self->publish, PUBLISH_SNDHWM);
    zsock_set_linger (self->publish, PUBLISH_LINGER);
    int verboser = 1;
    zmq_setsockopt (self->publish_handle, ZMQ_XPUB_VERBOSER, &verboser, sizeof (verboser));
    return self;
}

void
zwatch_broker_destroy (zwatch_broker_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_broker_t *self = *self_p;
        zmq_msg_close (&self->routing_id);
        zmq_msg_close (&self->body);
        zmq_msg_close (&self->subscription);
        zwatch_broker_security_unwatch (self->security);
        zwatch_subscribers_destroy (&self->subscribers);
        zwatch_parents_destroy (&self->parents);
        zwatch_children_destroy (&self->children);
        zsock_destroy (&self->ingest);
        zsock_destroy (&self->publish);
        zwatch_batch_feed_destroy (&self->batches);
        zwatch_snapshot_server_destroy (&self->snapshots);
        zwatch_broker_security_destroy (&self->security);
        zwatch_fdlimit_destroy (&self->fdlimit);
        zwatch_agent_table_destroy (&self->agents);
        zwatch_report_destroy (&self->report);
        zwatch_fleet_destroy (&self->fleet);
        zwatch_history_destroy (&self->history);
        free (self->links);
        free (self);
        *self_p = NULL;
    }
}

static int
s_bind_all (zwatch_broker_t *self, zsock_t *sock, zlistx_t *endpoints, const char *flag)
{
    for (const char *endpoint = (const char *) zlistx_first (endpoints); endpoint;
         endpoint = (const char *) zlistx_next (endpoints)) {
        if (zsock_bind (sock, "%s", endpoint) == -1) {
            int error = zmq_errno ();
            snprintf (self->error, sizeof (self->error), "cannot bind %s %s: %s",
                      flag, endpoint, zmq_strerror (error));
            errno = error;          //  the caller tells EINVAL (bad endpoint) from the rest
            return -1;
        }
        zsys_info ("zwatch-broker: %s bound to %s", flag + 2, endpoint);
    }
    return 0;
}

int
zwatch_broker_bind (zwatch_broker_t *self)
{
    //  Security options only apply to endpoints bound after them
    zsock_t *snapshot = zwatch_snapshot_server_socket (self->snapshots);
    zsock_t *batches = self->batches? zwatch_batch_feed_socket (self->batches): NULL;
    self->security = zwatch_broker_security_new (self->config, self->ingest, self->publish,
                                                 snapshot, batches,
                                                 self->error, sizeof (self->error));
    if (!self->security)
        return -1;
    //  The self-watching agent holds publish's monitor if it runs
    self->subscribers = zwatch_subscribers_new (self->publish,
                                                !zwatch_broker_security_watching (self->security));
    if (!self->subscribers) {
        snprintf (self->error, sizeof (self->error), "cannot monitor --publish: %s",
                  zmq_strerror (errno));
        return -1;
    }
    if (s_bind_all (self, self->ingest, self->config->ingest, "--ingest")
    ||  s_bind_all (self, self->publish, self->config->publish, "--publish")
    ||  s_bind_all (self, snapshot, self->config->snapshot, "--snapshot")
    ||  (batches && s_bind_all (self, batches, self->config->publish_batches,
                                "--publish-batches")))
        return -1;
    self->fdlimit = zwatch_fdlimit_new (self->config->max_agents);
    self->parents = zwatch_parents_new (self->config->parent, self->config->id,
                                        &self->config->parent_curve);
    if (!self->parents) {
        snprintf (self->error, sizeof (self->error), "cannot connect to --parent: %s",
                  zmq_strerror (errno));
        return -1;
    }
    zsys_info ("zwatch-broker: id %s (heartbeat timeout %.3g s, stats every %.3g s, "
               "max %zu agents%s)", self->config->id, self->config->heartbeat_timeout,
               self->config->stats_interval, self->config->max_agents,
               self->fleet_on? "": ", no fleet model");
    return 0;
}

static void
s_publish (zwatch_broker_t *self, const char *topic, int topic_len)
{
    const void *data = zwatch_report_data (self->report);
    size_t size = zwatch_report_size (self->report);
    if (topic_len < 0 || !data)
        return;
    //  XPUB never blocks: it drops for subscribers that are full
    self->publish_stirred = true;
    if (zmq_send (self->publish_handle, topic, (size_t) topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) != -1)
        zmq_send (self->publish_handle, data, size, ZMQ_DONTWAIT);
}

static void
s_publish_agent (zwatch_broker_t *self, const zwatch_agent_t *agent, const char *state)
{
    if (zwatch_report_agent (self->report, agent, state, self->config->id) != 0)
        return;
    char topic [ZWATCH_TOPIC_MAX + 1];
    zwatch_str_t host = { agent->key.host, agent->key.host_len };
    zwatch_str_t svc = { agent->key.svc, agent->key.svc_len };
    s_publish (self, topic, zwatch_topic_agent (topic, sizeof (topic), host, svc));
    if (self->config->verbose)
        zsys_info ("zwatch-broker: agent %s %s/%s pid %" PRIu64 " (seq %" PRIu64
                   ", events %" PRIu64 ", lost %" PRIu64 ")", state, agent->key.host,
                   agent->key.svc, agent->key.pid, agent->last_seq, agent->events, agent->lost);
}

static void
s_publish_stats (zwatch_broker_t *self, int64_t now)
{
    self->counters.auth_failures = zwatch_broker_security_auth_failures (self->security);
    self->counters.links_unsent = self->links_unsent;
    self->counters.refusals = zwatch_broker_security_refusals_sent (self->security);
    self->counters.subscribers = zwatch_subscribers_count (self->subscribers);
    self->counters.batches_out = zwatch_batch_feed_sent (self->batches);
    if (zwatch_report_stats (self->report, &self->counters, self->config->id,
                             (uint64_t) (now - self->started),
                             zwatch_agent_table_size (self->agents), self->fleet,
                             zwatch_snapshot_server_counters (self->snapshots),
                             zwatch_history_size (self->history), self->parents,
                             self->children) != 0)
        return;
    char topic [ZWATCH_TOPIC_MAX + 1];
    s_publish (self, topic, zwatch_topic_stats (topic, sizeof (topic), self->config->id));
}

static void
s_reject (zwatch_broker_t *self, zwatch_reason_t reason, const char *detail, int64_t now)
{
    self->counters.invalid++;
    self->counters.invalid_by [reason]++;
    uint64_t held;
    if (zwatch_ratelimit_ok (&self->invalid_limit [reason], now, WARN_INTERVAL_MS, &held)) {
        char suppressed [64] = "";
        if (held)
            snprintf (suppressed, sizeof (suppressed), " (%" PRIu64 " more suppressed)", held);
        zsys_warning ("zwatch-broker: dropped invalid message: %s%s%s%s%s",
                      zwatch_reason_name (reason), detail && *detail? " (key '": "",
                      detail && *detail? detail: "", detail && *detail? "')": "", suppressed);
    }
}

//  Agent table and seq accounting for one valid message, and the edge
//  broker it came from (via [0]; none: it reports to us)
static void
s_track (zwatch_broker_t *self, const zwatch_msg_t *msg, const zwatch_via_t *via, int64_t now)
{
    bool first = false;
    zwatch_agent_t *agent = zwatch_agent_table_lookup (self->agents, msg);
    if (agent)
        zwatch_agent_table_touch (self->agents, agent, now);
    else {
        agent = zwatch_agent_table_add (self->agents, msg, now);
        if (!agent) {
            self->counters.agents_refused++;
            uint64_t held;
            if (zwatch_ratelimit_ok (&self->refused_limit, now, WARN_INTERVAL_MS, &held))
                zsys_warning ("zwatch-broker: agent table full (--max-agents %zu), not tracking "
                              "%.*s/%.*s pid %" PRIu64 " (%" PRIu64 " more suppressed)",
                              self->config->max_agents, (int) msg->host.len, msg->host.ptr,
                              (int) msg->svc.len, msg->svc.ptr, msg->pid, held);
            return;
        }
        first = true;
    }
    zwatch_agent_account (agent, msg, first, &self->counters.lost, &self->counters.reordered);
    size_t edge_len = via->count? via->ids [0].len: 0;
    if (edge_len)
        memcpy (agent->edge, via->ids [0].ptr, edge_len);
    agent->edge [edge_len] = 0;
    if (first)
        s_publish_agent (self, agent, "up");
    if (msg->kind == ZWATCH_KIND_BYE) {
        s_publish_agent (self, agent, "gone");
        zwatch_agent_table_remove (self->agents, agent);
    }
}

//  The frame being read, for the events of a batch
typedef struct {
    size_t size;
    size_t events;              //  published from it so far
    zwatch_pin_t *pin;          //  made at its first event sent in place
} frame_t;

//  One event of a batch frame out on publish: in place (zwatch_pin) while
//  the frame is dense enough that a subscriber stuck holding its events
//  keeps at most PIN_BYTES_PER_EVENT of frame alive per event held (the
//  bound on a stuck subscriber's memory, as for single messages); copied
//  otherwise (the first events of a large frame, sparse frames)
static int
s_send_batched (zwatch_broker_t *self, frame_t *frame, const void *data, size_t size)
{
    frame->events++;
    if (frame->size <= PIN_BYTES_PER_EVENT * frame->events) {
        if (!frame->pin)
            frame->pin = zwatch_pin_new (&self->body);
        if (frame->pin)
            return zwatch_pin_send (frame->pin, self->publish_handle, data, size, ZMQ_DONTWAIT);
    }
    return zmq_send (self->publish_handle, data, size, ZMQ_DONTWAIT);
}

//  Whether an event goes out on the XPUB: not while no subscriber is
//  connected to it (an edge broker that only forwards to its parent, a
//  broker read through its batch feed). Its two sends cost more than all
//  the rest we do for it. The count must be our own monitor's, read after
//  any call on the XPUB: the XPUB attaches a new subscriber only inside
//  our calls on it, and by then the monitor holds its ACCEPTED
static bool
s_feed_wanted (zwatch_broker_t *self)
{
    if (!self->subscribers || !zwatch_subscribers_socket (self->subscribers))
        return true;
    if (self->publish_stirred) {
        zwatch_subscribers_read (self->subscribers);
        self->publish_stirred = false;
    }
    return zwatch_subscribers_count (self->subscribers) > 0;
}

//  One map of the frame in self->body, at [data, data + size); whole: it
//  is the whole frame, which then goes out as is (moved, not copied);
//  plain: it is in the reference encoder's layout, so it has no via
static void
s_handle_map (zwatch_broker_t *self, zwatch_msg_t *msg, const void *data, size_t size,
              bool whole, bool plain, frame_t *frame, int64_t now)
{
    //  An agent whose certificate names a host speaks for that host only
    if (zwatch_broker_security_check_host (self->security, self->ingest_handle, &self->routing_id,
                                           &self->body, msg, now) != 0) {
        self->counters.invalid++;
        self->counters.host_mismatch++;
        return;
    }
    //  A message that passed through us already came round a loop: refused
    //  here, and the child that sent it is told so (it stops sending)
    zwatch_via_t via;
    if ((plain? zwatch_via_read_plain (&via, data, size): zwatch_via_read (&via, data, size)) != 0) {
        s_reject (self, ZWATCH_REJECT_BAD_VALUE, "via", now);
        return;
    }
    //  Only a relay's certificate speaks for others (docs/SECURITY.md)
    if (zwatch_broker_security_check_relay (self->security, self->ingest_handle, &self->routing_id,
                                            &self->body, msg, via.count, now) != 0) {
        self->counters.invalid++;
        self->counters.relay_denied++;
        return;
    }
    if (zwatch_via_has (&via, self->config->id)) {
        self->counters.invalid++;
        self->counters.loops++;
        if (!self->loop_logged)
            zsys_error ("zwatch-broker: refused a message from %.*s/%.*s that already passed "
                        "through us (loop: our id '%s' is in its via); counted in stats loops",
                        (int) msg->host.len, msg->host.ptr, (int) msg->svc.len, msg->svc.ptr,
                        self->config->id);
        self->loop_logged = true;
        zwatch_broker_security_refuse (self->security, self->ingest_handle, &self->routing_id,
                                       "loop", self->config->id, msg->host, now);
        return;
    }
    if (zwatch_broker_security_own_publish (self->security, msg))
        zwatch_subscribers_event (self->subscribers, (uint16_t) msg->code);
    //  Before the send: msg's strings point into the body we are about to give away
    s_track (self, msg, &via, now);
    zwatch_children_heard (self->children, msg, &via, now);
    if (self->fleet_on)
        zwatch_fleet_apply (self->fleet, msg);      //  what it refuses, it counts
    zwatch_parents_forward (self->parents, data, size, &via);
    if (msg->kind == ZWATCH_KIND_EVENT) {
        if (self->fleet_on)
            zwatch_history_add (self->history, data, size);
        if (self->batches)
            zwatch_batch_feed_add (self->batches, msg, data, size);
        //  Published, to whoever is there: none may be (events_out counts it)
        bool published = true;
        if (s_feed_wanted (self)) {
            char topic [ZWATCH_TOPIC_MAX + 1];
            int topic_len = zwatch_topic_event (topic, sizeof (topic), msg);
            //  The topic cannot fail within the decoder's limits
            published = topic_len >= 0
                && zmq_send (self->publish_handle, topic, (size_t) topic_len,
                             ZMQ_SNDMORE | ZMQ_DONTWAIT) != -1
                && (whole? zmq_msg_send (&self->body, self->publish_handle, ZMQ_DONTWAIT)
                         : s_send_batched (self, frame, data, size)) != -1;
        }
        if (published) {
            self->counters.events_out++;
            self->counters.events_represented += msg->count? msg->count: 1;
        }
    }
    if (self->links_size)
        s_flush_links (self);
}

//  One single-frame message is in self->body: one map or several back to
//  back (a batch, PROTOCOL.md 5), each handled as if it came alone
static void
s_handle_body (zwatch_broker_t *self, int64_t now)
{
    const uint8_t *frame = (const uint8_t *) zmq_msg_data (&self->body);
    size_t frame_size = zmq_msg_size (&self->body);
    size_t offset = 0;
    frame_t batch = { frame_size, 0, NULL };
    do {
        zwatch_msg_t msg;
        const char *detail = "";
        size_t start = offset;
        bool rest_lost, plain;
        zwatch_reason_t reason = zwatch_msg_decode_scan (&msg, frame, frame_size, &offset,
                                                         &rest_lost, &detail, &plain);
        if (start > 0)
            self->counters.msgs_in++;       //  the frame's first is counted by the caller
        if (reason != ZWATCH_OK) {
            if (rest_lost && start > 0)
                self->counters.batch_truncated++;
            s_reject (self, reason, detail, now);
            continue;
        }
        s_handle_map (self, &msg, frame + start, offset - start,
                      start == 0 && offset == frame_size, plain, &batch, now);
    } while (offset < frame_size);
    zwatch_pin_release (&batch.pin);
    if (self->batches)
        zwatch_batch_feed_flush (self->batches);
}

//  Read what the ROUTER holds, up to a batch
static void
s_drain_ingest (zwatch_broker_t *self, int64_t now)
{
    for (int count = 0; count < BATCH_MAX; count++) {
        if (zmq_msg_recv (&self->routing_id, self->ingest_handle, ZMQ_DONTWAIT) == -1)
            break;              //  EAGAIN: empty; EINTR: the loop looks at the signal
        self->counters.msgs_in++;
        if (!zmq_msg_more (&self->routing_id)) {
            s_reject (self, ZWATCH_REJECT_MALFORMED, "", now);
            continue;
        }
        //  The rest of a message is there once its first frame is
        if (zmq_msg_recv (&self->body, self->ingest_handle, ZMQ_DONTWAIT) == -1)
            break;
        self->counters.ingest_frames++;
        if (zmq_msg_more (&self->body)) {
            while (zmq_msg_more (&self->body)
               &&  zmq_msg_recv (&self->body, self->ingest_handle, ZMQ_DONTWAIT) != -1)
                ;
            s_reject (self, ZWATCH_REJECT_MULTIPART, "", now);
            continue;
        }
        s_handle_body (self, now);
    }
}

//  Subscribe (first byte 1) and unsubscribe (0) messages from the XPUB
static void
s_read_subscriptions (zwatch_broker_t *self)
{
    self->publish_stirred = true;
    for (int count = 0; count < BATCH_MAX; count++) {
        if (zmq_msg_recv (&self->subscription, self->publish_handle, ZMQ_DONTWAIT) == -1)
            break;
        const uint8_t *data = (const uint8_t *) zmq_msg_data (&self->subscription);
        size_t size = zmq_msg_size (&self->subscription);
        if (size >= 1 && data [0] == 1)
            self->counters.subscriptions++;
        else
        if (size >= 1 && data [0] == 0 && self->counters.subscriptions > 0)
            self->counters.subscriptions--;
        //  Anything else a peer sends is skipped, whole
        while (zmq_msg_more (&self->subscription)
           &&  zmq_msg_recv (&self->subscription, self->publish_handle, ZMQ_DONTWAIT) != -1)
            ;
    }
}

static void
s_lose (zwatch_broker_t *self, zwatch_agent_t *agent)
{
    s_publish_agent (self, agent, "lost");
    zwatch_str_t host = { agent->key.host, agent->key.host_len };
    zwatch_str_t svc = { agent->key.svc, agent->key.svc_len };
    if (self->fleet_on)
        zwatch_fleet_forget (self->fleet, host, svc, agent->key.pid);
    zwatch_agent_table_remove (self->agents, agent);
    if (self->links_size)
        s_flush_links (self);
}

//  Agents silent for --heartbeat-timeout are lost; the oldest go first.
//  So are those behind a child broker that went silent (they may still
//  talk to it, but nothing of theirs reaches us).
static void
s_expire (zwatch_broker_t *self, int64_t now)
{
    zwatch_agent_t *agent;
    while ((agent = zwatch_agent_table_oldest (self->agents))
       &&  now - agent->last_seen >= self->heartbeat_ms)
        s_lose (self, agent);
    const zwatch_child_t *child;
    while ((child = zwatch_children_expired (self->children, now))) {
        size_t lost = 0;
        zwatch_agent_t *next;
        for (agent = zwatch_agent_table_oldest (self->agents); agent; agent = next) {
            next = agent->newer;
            if (streq (agent->edge, child->id)) {
                s_lose (self, agent);
                lost++;
            }
        }
        zsys_warning ("zwatch-broker: child broker %s silent for %d s: its %zu agents are lost",
                      child->id, ZWATCH_RELAY_HEARTBEAT_MS * ZWATCH_RELAY_LOST_INTERVALS / 1000,
                      lost);
    }
}

//  Our heartbeat to each parent: who we are, what its link took and
//  dropped, how many agents we speak for (zwatch_children.h)
static void
s_relay_heartbeat (zwatch_broker_t *self)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = ZWATCH_KIND_HEARTBEAT;
    msg.host.ptr = self->config->id;
    msg.host.len = strlen (self->config->id);
    msg.svc.ptr = ZWATCH_RELAY_SVC;
    msg.svc.len = strlen (ZWATCH_RELAY_SVC);
    msg.pid = (uint64_t) getpid ();
    msg.start = self->started_wall;
    msg.ts = zwatch_clock_wall_ns ();
    msg.read = self->counters.msgs_in;
    msg.watched = zwatch_agent_table_size (self->agents);
    uint8_t body [ZWATCH_MSG_MAX];
    for (size_t index = 0; index < zwatch_parents_size (self->parents); index++) {
        const zwatch_parent_stats_t *stats = zwatch_parents_stats (self->parents, index);
        msg.sent = stats->sent;
        msg.dropped = stats->dropped;
        int size = zwatch_msg_encode (&msg, body, sizeof (body));
        if (size > 0)
            zwatch_parents_send (self->parents, index, body, (size_t) size);
    }
}

//  SIGHUP: what can change without closing a socket
static void
s_reload (zwatch_broker_t *self)
{
    if (zwatch_broker_config_reload (self->config) != 0)
        return;
    s_periods (self);
    int rc = zwatch_broker_security_reload (self->security, self->config);
    zsys_info ("zwatch-broker: reloaded on SIGHUP%s (heartbeat timeout %.3g s, stats every "
               "%.3g s, verbose %d); %zu agents stay connected", rc == 0? "": ", but not the "
               "security rules", self->config->heartbeat_timeout, self->config->stats_interval,
               self->config->verbose, zwatch_agent_table_size (self->agents));
}

int
zwatch_broker_run (zwatch_broker_t *self)
{
    zmq_pollitem_t items [4 + 2 * ZWATCH_PARENTS_MAX] = {
        { self->ingest_handle, 0, ZMQ_POLLIN, 0 },
        { self->publish_handle, 0, ZMQ_POLLIN, 0 },
        { self->snapshot_handle, 0, ZMQ_POLLIN, 0 },
        { zwatch_subscribers_socket (self->subscribers), 0, ZMQ_POLLIN, 0 }
    };
    //  Our own monitor of publish, unless the self-watching agent has it
    int item_count = items [3].socket? 4: 3;
    int fixed_count = item_count;
    item_count += zwatch_parents_pollitems (self->parents, items + item_count);
    int64_t now = zclock_mono ();
    self->started = now;
    int64_t next_sweep = now + self->sweep_ms;
    int64_t next_stats = now + self->stats_ms;
    int64_t next_relay = now;
    int rc = 0;
    while (!zsys_interrupted) {
        int64_t next = next_sweep < next_stats? next_sweep: next_stats;
        long timeout = next > now? (long) (next - now): 0;
        //  A reply in progress goes on at once; one waiting on a full
        //  client is tried again soon (ROUTER has no POLLOUT per peer)
        if (zwatch_snapshot_server_ready (self->snapshots))
            timeout = 0;
        else
        if (zwatch_snapshot_server_active (self->snapshots) && timeout > BUSY_POLL_MS)
            timeout = BUSY_POLL_MS;
        if (zwatch_hangup_take ()) {
            s_reload (self);
            now = zclock_mono ();
            if (next_stats > now + self->stats_ms)
                next_stats = now + self->stats_ms;
            continue;
        }
        if (zmq_poll (items, item_count, timeout) == -1) {
            if (zmq_errno () == EINTR)
                continue;
            snprintf (self->error, sizeof (self->error), "poll failed: %s",
                      zmq_strerror (zmq_errno ()));
            rc = -1;
            break;
        }
        now = zclock_mono ();
        if (items [1].revents & ZMQ_POLLIN)
            s_read_subscriptions (self);
        if (fixed_count > 3 && (items [3].revents & ZMQ_POLLIN))
            zwatch_subscribers_read (self->subscribers);
        if (items [0].revents & ZMQ_POLLIN)
            s_drain_ingest (self, now);
        if (items [2].revents & ZMQ_POLLIN)
            zwatch_snapshot_server_read (self->snapshots, now);
        if (item_count > fixed_count) {
            //  A parent that (re)connected hears our whole fleet
            unsigned connected = zwatch_parents_read (self->parents);
            for (size_t index = 0; connected; index++, connected >>= 1)
                if ((connected & 1) && self->fleet_on)
                    zwatch_replay_send (self->fleet, self->agents, self->parents, index);
        }
        //  One slice between two ingest batches
        zwatch_snapshot_server_send (self->snapshots, now);
        if (now >= next_sweep) {
            s_expire (self, now);
            if (self->fdlimit)
                zwatch_fdlimit_check (self->fdlimit, now);
            next_sweep = now + self->sweep_ms;
        }
        if (now >= next_relay && zwatch_parents_size (self->parents)) {
            s_relay_heartbeat (self);
            next_relay = now + ZWATCH_RELAY_HEARTBEAT_MS;
        }
        if (now >= next_stats) {
            s_publish_stats (self, now);
            next_stats += self->stats_ms;
            if (next_stats <= now)
                next_stats = now + self->stats_ms;
        }
    }
    //  Stop reading agents; the last stats go out with what the XPUB holds
    if (rc == 0) {
        s_publish_stats (self, zclock_mono ());
        zsys_info ("zwatch-broker: stopping (%" PRIu64 " messages in, %" PRIu64
                   " events out, %" PRIu64 " invalid)", self->counters.msgs_in,
                   self->counters.events_out, self->counters.invalid);
    }
    return rc;
}

const char *
zwatch_broker_error (zwatch_broker_t *self)
{
    return self->error;
}
