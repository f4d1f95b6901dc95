/*  zwatch_client: the feed and the snapshot, merged (include/zwatch_client.h).

    Three sockets: a SUB on the feed, a PAIR on that SUB's monitor (to
    see the broker go and come back), and while a snapshot is read a
    DEALER on the snapshot endpoint, a fresh one for every request.

    Phases: SNAPSHOT (the request is out, the reply is loaded into a new
    model; the feed is kept, bounded), DRAIN (the new model replaced the
    old one; the kept feed is applied by the merge rule, one message per
    step, new feed messages queue behind it), LIVE (the feed is applied as
    it comes). Changes go to the caller's queue as the model makes them.

    The state is fleet/'s model, fed as the broker's is: a snapshot agent
    is loaded as a replay of its seq (zwatch_fleet_load_*), events go
    through zwatch_fleet_apply, which skips a seq at or below the agent's
    (the merge rule's event clause). Links are not the model's joins but
    the broker's own: the snapshot's link maps plus link/ messages above
    its lseq. With a filter the model holds only some agents, so it
    cannot join a link to an agent outside it, which the snapshot and the
    link feed do name; the broker's numbering (lseq) also tells the client
    when it missed a change or the broker restarted.
*/

#include <czmq.h>
#include <sys/epoll.h>
#include "zwatch_client.h"
#include "zwatch_client_changes.h"
#include "zwatch_client_internal.h"
#include "zwatch_client_links.h"
#include "zwatch_client_wire.h"
#include "zwatch_curve.h"
#include "zwatch_fleet.h"
#include "zwatch_fleet_wire.h"
#include "zwatch_monitor.h"

#define SNAPSHOT_IDLE_MS    5000    //  a reply that stalls this long is asked again
#define RETRY_MS            1000    //  after a failed snapshot
#define REFRESH_MS          1000    //  first wait before asking again for a replay
#define REFRESH_TRIES       5       //  while the snapshot shows partial agents
#define TIMER_MAX_MS        500     //  longest the caller may leave us (zwatch_client_fd)
#define BAD_REASONS_MAX     32
#define MONITOR_EVENTS      (ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED \
                           | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZWATCH_HANDSHAKE_FAILURES)

typedef enum { PHASE_IDLE, PHASE_SNAPSHOT, PHASE_DRAIN, PHASE_LIVE } phase_t;

struct _zwatch_client_t {
    char *publish_ep;
    char *snapshot_ep;
    zwatch_curve_t curve;
    zlistx_t *hosts;                //  filters, char *
    zlistx_t *svcs;
    size_t queue_limit;
    phase_t phase;

    zsock_t *sub;
    zsock_t *monitor;
    zsock_t *dealer;                //  while a request is out
    int epoll_fd;

    zwatch_fleet_t *fleet;          //  the state the caller reads
    client_links_t *links;
    client_changes_t *changes;

    //  The snapshot being read
    zwatch_fleet_t *next_fleet;
    client_links_t *next_links;
    zlistx_t *kept;                 //  zmsg_t: feed since the subscription
    int64_t deadline;               //  the reply stalled (monotonic ms)
    int64_t retry_at;               //  ask again (no dealer), 0: as soon as connected
    bool loading;                   //  an agent's frames are being loaded
    zwatch_msg_t load;              //  its heartbeat-like message
    char load_host [ZWATCH_HOST_MAX + 1];
    char load_svc [ZWATCH_SVC_MAX + 1];
    bool load_partial;
    size_t load_facts;
    size_t frames [4];              //  agents, sockets, links, events read
    bool any_partial;
    zlistx_t *history;              //  zframe_t: history events of the reply
    size_t history_max;             //  asked for (0: none)

    //  Continuity
    bool lseq_known;
    uint64_t lseq;
    char broker [ZWATCH_ENDPOINT_MAX + 1];
    uint64_t uptime;
    bool connected;                 //  the feed's handshake went through
    bool ever_connected;
    bool unreachable;
    const char *resync;             //  start over after this step: why
    int64_t refresh_at;             //  ask again for replays (0: no)
    int refresh_tries;

    //  Counters
    struct { const char *name; uint64_t count; } bad [BAD_REASONS_MAX];
    size_t bad_reasons;
    uint64_t bad_total;
    uint64_t dropped, resyncs, snapshots;
    char error [256];
};

static void s_on_change (void *arg, const zwatch_fleet_change_t *change);
static void s_history_clear (zwatch_client_t *self);
static void s_push_event (zwatch_client_t *self, zwatch_change_kind_t kind,
                          const zwatch_msg_t *msg, uint64_t start, const void *body,
                          size_t body_size);


/*  Small helpers  */

static bool
s_endpoint_valid (const char *endpoint)
{
    const char *sep = strstr (endpoint, "://");
    return sep && sep > endpoint && sep [3] != 0;
}

//  Count a refused message by reason (reason names are static strings)
static void
s_bad (zwatch_client_t *self, const char *reason)
{
    self->bad_total++;
    for (size_t index = 0; index < self->bad_reasons; index++)
        if (strcmp (self->bad [index].name, reason) == 0) {
            self->bad [index].count++;
            return;
        }
    if (self->bad_reasons < BAD_REASONS_MAX) {
        self->bad [self->bad_reasons].name = reason;
        self->bad [self->bad_reasons++].count = 1;
    }
}

static void
s_push (zwatch_client_t *self, const zwatch_change_t *change)
{
    if (client_changes_push (self->changes, change) != 0 && !self->resync)
        self->resync = "changes_full";      //  the caller's view would have a hole
}

static void
s_push_kind (zwatch_client_t *self, zwatch_change_kind_t kind, const char *reason)
{
    zwatch_change_t change = { .kind = kind, .reason = reason };
    s_push (self, &change);
}

//  A view as a C string in buf (views are at most ZWATCH_ENDPOINT_MAX)
static const char *
s_cstr (char *buf, size_t size, zwatch_str_t str)
{
    if (!str.ptr)
        return NULL;
    size_t len = str.len < size - 1? str.len: size - 1;
    memcpy (buf, str.ptr, len);
    buf [len] = 0;
    return buf;
}

//  The exact part of a filter, and whether it is a prefix ("web*")
static size_t
s_filter_len (const char *filter, bool *prefix)
{
    size_t len = strlen (filter);
    *prefix = len && filter [len - 1] == '*';
    return *prefix? len - 1: len;
}

static bool
s_listed (zlistx_t *list, zwatch_str_t name)
{
    if (zlistx_size (list) == 0)
        return true;
    const char *item = (const char *) zlistx_first (list);
    for (; item; item = (const char *) zlistx_next (list)) {
        bool prefix;
        size_t want = s_filter_len (item, &prefix);
        if ((prefix? want <= name.len: want == name.len) && memcmp (item, name.ptr, want) == 0)
            return true;
    }
    return false;
}

//  True if the filters hold agents of host / svc
static bool
s_held (zwatch_client_t *self, zwatch_str_t host, zwatch_str_t svc)
{
    return s_listed (self->hosts, host) && s_listed (self->svcs, svc);
}

static bool
s_link_held (zwatch_client_t *self, const client_map_t *link)
{
    return s_held (self, link->from.host, link->from.svc)
        || s_held (self, link->to.host, link->to.svc);
}

static void
s_poll_add (zwatch_client_t *self, zsock_t *sock)
{
    int fd = zsock_fd (sock);
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = sock };
    epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

static void
s_dealer_close (zwatch_client_t *self)
{
    if (self->dealer) {
        epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, zsock_fd (self->dealer), NULL);
        zsock_destroy (&self->dealer);
    }
}

static void
s_kept_clear (zwatch_client_t *self)
{
    zmsg_t *msg;
    while ((msg = (zmsg_t *) zlistx_detach (self->kept, NULL)))
        zmsg_destroy (&msg);
}


/*  Snapshots  */

//  A fresh DEALER and the request; the reply comes in s_snapshot_frame
static void
s_request (zwatch_client_t *self)
{
    s_dealer_close (self);
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer) {
        self->retry_at = zclock_mono () + RETRY_MS;
        return;
    }
    zsock_set_linger (self->dealer, 0);
    zsock_set_maxmsgsize (self->dealer, ZWATCH_CLIENT_FRAME_MAX);
    zwatch_curve_apply (&self->curve, zsock_resolve (self->dealer));
    //  One host (and one service) is a prefix; anything else is filtered
    //  here. A filter "web*" ends the prefix ("ev/web" also takes web-2)
    char prefix [ZWATCH_FLEET_PREFIX_MAX + 1];
    const char *use = NULL;
    if (zlistx_size (self->hosts) == 1 && zlistx_size (self->svcs) <= 1) {
        bool host_prefix, svc_prefix = false;
        const char *host = (const char *) zlistx_first (self->hosts);
        int host_len = (int) s_filter_len (host, &host_prefix);
        const char *svc = (const char *) zlistx_first (self->svcs);
        int svc_len = svc? (int) s_filter_len (svc, &svc_prefix): 0;
        if (host_prefix || !svc)
            snprintf (prefix, sizeof (prefix), "ev/%.*s%s", host_len, host,
                      host_prefix? "": "/");
        else
            snprintf (prefix, sizeof (prefix), "ev/%.*s/%.*s%s", host_len, host, svc_len, svc,
                      svc_prefix? "": "/");
        use = prefix;
    }
    uint8_t request [ZWATCH_FLEET_REQUEST_MAX];
    int size = zwatch_fleet_request_encode (request, sizeof (request), use,
                                            self->history_max? (int64_t) self->history_max: -1);
    if (zsock_connect (self->dealer, "%s", self->snapshot_ep) != 0 || size < 0
    ||  zmq_send (zsock_resolve (self->dealer), request, (size_t) size, ZMQ_DONTWAIT) != size) {
        s_dealer_close (self);
        self->retry_at = zclock_mono () + RETRY_MS;
        return;
    }
    s_poll_add (self, self->dealer);
    self->snapshots++;
    self->deadline = zclock_mono () + SNAPSHOT_IDLE_MS;
    zwatch_fleet_destroy (&self->next_fleet);
    client_links_destroy (&self->next_links);
    self->next_fleet = zwatch_fleet_new (NULL);
    self->next_links = client_links_new (ZWATCH_FLEET_LINKS_DEFAULT);
    self->loading = false;
    self->any_partial = false;
    s_history_clear (self);
    memset (self->frames, 0, sizeof (self->frames));
    if (!self->next_fleet || !self->next_links) {
        s_dealer_close (self);
        self->retry_at = zclock_mono () + RETRY_MS;
    }
}

//  Start over: a new snapshot, the feed kept from now on
static void
s_resync (zwatch_client_t *self, const char *reason)
{
    self->resyncs++;
    self->resync = NULL;
    if (self->phase != PHASE_SNAPSHOT && self->phase != PHASE_DRAIN)
        s_push_kind (self, ZWATCH_CHANGE_RESYNC_START, reason);
    self->phase = PHASE_SNAPSHOT;
    s_kept_clear (self);
    s_dealer_close (self);
    self->retry_at = 0;
    if (self->connected)
        s_request (self);           //  else when the feed's handshake is through
}

//  A reply that cannot be used: ask again in a moment, the feed still kept
static void
s_snapshot_failed (zwatch_client_t *self, const char *reason)
{
    s_bad (self, reason);
    s_dealer_close (self);
    self->retry_at = zclock_mono () + RETRY_MS;
}

//  The agent being loaded has all its frames: its replay ends
static void
s_load_end (zwatch_client_t *self)
{
    if (!self->loading)
        return;
    self->loading = false;
    zwatch_msg_t end = self->load;
    end.kind = ZWATCH_KIND_STATE_END;
    end.count = self->load_facts;
    zwatch_fleet_apply (self->next_fleet, &end);
    zwatch_fleet_agent_t *agent =
        zwatch_fleet_agent_lookup (self->next_fleet, end.host, end.svc, end.pid);
    if (agent)
        zwatch_fleet_agent_set_partial (agent, self->load_partial);
    if (self->load_partial)
        self->any_partial = true;
}

static int
s_load_fact (void *arg, const zwatch_msg_t *fact)
{
    zwatch_client_t *self = (zwatch_client_t *) arg;
    zwatch_msg_t state = *fact;
    state.seq = self->load.seq;
    self->load_facts++;
    zwatch_fleet_apply (self->next_fleet, &state);   //  over a bound: counted there
    return 0;
}

static void
s_load_agent (zwatch_client_t *self, const client_map_t *map)
{
    memset (&self->load, 0, sizeof (self->load));
    memcpy (self->load_host, map->host.ptr, map->host.len);
    self->load_host [map->host.len] = 0;
    memcpy (self->load_svc, map->svc.ptr, map->svc.len);
    self->load_svc [map->svc.len] = 0;
    self->load.host = (zwatch_str_t) { self->load_host, map->host.len };
    self->load.svc = (zwatch_str_t) { self->load_svc, map->svc.len };
    self->load.pid = map->pid;
    self->load.start = map->start;
    self->load.seq = map->seq;
    self->load.read = map->read;
    self->load.sent = map->sent;
    self->load.dropped = map->dropped;
    self->load.watched = map->watched;
    self->load_partial = map->partial;
    self->load_facts = 0;
    self->loading = zwatch_fleet_load_agent (self->next_fleet, &self->load) == 0;
}

static bool
s_same_agent (const zwatch_msg_t *load, const client_map_t *map)
{
    return load->pid == map->pid && load->host.len == map->host.len
        && memcmp (load->host.ptr, map->host.ptr, map->host.len) == 0
        && load->svc.len == map->svc.len
        && memcmp (load->svc.ptr, map->svc.ptr, map->svc.len) == 0;
}

//  A history event: strictly decoded, kept for the caller until the reply
//  is whole (bounded by what was asked). False if refused.
static bool
s_history (zwatch_client_t *self, zframe_t *frame)
{
    zwatch_msg_t msg;
    zwatch_reason_t reason = zwatch_msg_decode (&msg, zframe_data (frame), zframe_size (frame),
                                                NULL);
    if (reason != ZWATCH_OK || msg.kind != ZWATCH_KIND_EVENT) {
        s_snapshot_failed (self, reason? zwatch_reason_name (reason): "bad_kind");
        return false;
    }
    if (s_held (self, msg.host, msg.svc) && zlistx_size (self->history) < self->history_max)
        zlistx_add_end (self->history, zframe_dup (frame));
    return true;
}

static void
s_history_clear (zwatch_client_t *self)
{
    zframe_t *frame;
    while ((frame = (zframe_t *) zlistx_detach (self->history, NULL)))
        zframe_destroy (&frame);
}

//  The new model takes over; the kept feed is applied next (DRAIN)
static void
s_snapshot_done (zwatch_client_t *self, uint64_t lseq)
{
    s_dealer_close (self);
    zwatch_fleet_destroy (&self->fleet);
    client_links_destroy (&self->links);
    self->fleet = self->next_fleet;
    self->links = self->next_links;
    self->next_fleet = NULL;
    self->next_links = NULL;
    zwatch_fleet_set_change_handler (self->fleet, s_on_change, self);
    //  The history first, oldest first, as the broker sent it
    zframe_t *frame;
    while ((frame = (zframe_t *) zlistx_detach (self->history, NULL))) {
        zwatch_msg_t msg;
        if (zwatch_msg_decode (&msg, zframe_data (frame), zframe_size (frame), NULL) == ZWATCH_OK)
            s_push_event (self, ZWATCH_CHANGE_HISTORY, &msg, 0, zframe_data (frame),
                          zframe_size (frame));
        zframe_destroy (&frame);
    }
    self->lseq = lseq;
    self->lseq_known = true;
    self->phase = PHASE_DRAIN;
    //  Partial agents: their replay may be on its way to the broker
    if (!self->any_partial)
        self->refresh_tries = 0;
    if (self->any_partial && self->refresh_tries < REFRESH_TRIES)
        self->refresh_at = zclock_mono () + ((int64_t) REFRESH_MS << self->refresh_tries++);
    else
        self->refresh_at = 0;
}

static void
s_snapshot_frame (zwatch_client_t *self, zmsg_t *msg)
{
    self->deadline = zclock_mono () + SNAPSHOT_IDLE_MS;
    zframe_t *frame = zmsg_first (msg);
    if (zmsg_size (msg) != 1) {
        s_snapshot_failed (self, "multipart");
        return;
    }
    client_map_t map;
    const char *reason = client_wire_decode (&map, zframe_data (frame), zframe_size (frame),
                                             false, 0);
    if (reason) {
        s_snapshot_failed (self, reason);
        return;
    }
    if (map.kind != CLIENT_MAP_SOCKET)
        s_load_end (self);
    switch (map.kind) {
        case CLIENT_MAP_AGENT:
            self->frames [0]++;
            if (s_held (self, map.host, map.svc))
                s_load_agent (self, &map);
            break;
        case CLIENT_MAP_SOCKET:
            self->frames [1]++;
            if (!self->loading) {
                if (s_held (self, map.host, map.svc)) {
                    s_snapshot_failed (self, "bad_order");  //  a socket without its agent
                    return;
                }
                break;
            }
            if (!s_same_agent (&self->load, &map)) {
                s_snapshot_failed (self, "bad_order");
                return;
            }
            {
                zwatch_msg_t known = self->load;
                known.kind = ZWATCH_KIND_STATE;
                known.sock = map.sock;
                known.stype = map.stype;
                zwatch_fleet_load_socket (self->next_fleet, &known);
                client_wire_facts (zframe_data (frame), zframe_size (frame), s_load_fact, self,
                                   NULL);
            }
            break;
        case CLIENT_MAP_LINK:
            self->frames [2]++;
            if (s_link_held (self, &map))
                client_links_add (self->next_links, &map);
            break;
        case CLIENT_MAP_EVENT:
            self->frames [3]++;
            if (!s_history (self, frame))
                return;
            break;
        case CLIENT_MAP_SNAPSHOT_END:
            if (map.agents != self->frames [0] || map.sockets != self->frames [1]
            ||  map.links != self->frames [2] || map.history != self->frames [3])
                s_snapshot_failed (self, "snapshot_short");
            else
                s_snapshot_done (self, map.lseq);
            break;
        case CLIENT_MAP_ERROR:
            snprintf (self->error, sizeof (self->error), "snapshot refused: %.*s",
                      (int) map.reason.len, map.reason.ptr);
            s_snapshot_failed (self, "snapshot_refused");
            break;
        default:
            s_snapshot_failed (self, "bad_kind");
    }
}


/*  The feed  */

//  The fleet's changes, for the caller
static void
s_on_change (void *arg, const zwatch_fleet_change_t *change)
{
    zwatch_client_t *self = (zwatch_client_t *) arg;
    zwatch_change_t out = { 0 };
    switch (change->kind) {
        case ZWATCH_FLEET_SOCKET_ADDED:
            out.kind = ZWATCH_CHANGE_SOCKET_ADDED;
            break;
        case ZWATCH_FLEET_SOCKET_REMOVED:
            out.kind = ZWATCH_CHANGE_SOCKET_REMOVED;
            break;
        case ZWATCH_FLEET_CONNECTION_UP:
            out.kind = ZWATCH_CHANGE_CONNECTION_UP;
            break;
        case ZWATCH_FLEET_CONNECTION_DOWN:
            out.kind = ZWATCH_CHANGE_CONNECTION_DOWN;
            break;
    }
    out.host = zwatch_fleet_agent_host (change->agent);
    out.svc = zwatch_fleet_agent_svc (change->agent);
    out.pid = zwatch_fleet_agent_pid (change->agent);
    out.start = zwatch_fleet_agent_start (change->agent);
    out.sock = zwatch_fleet_socket_label (change->socket);
    out.stype = zwatch_fleet_socket_stype (change->socket);
    if (change->conn) {
        out.in = zwatch_fleet_conn_in (change->conn);
        out.endpoint = zwatch_fleet_conn_endpoint (change->conn);
        out.local = zwatch_fleet_conn_local (change->conn);
        out.peer = zwatch_fleet_conn_peer (change->conn);
        out.peer_pid = zwatch_fleet_conn_peer_pid (change->conn);
        out.fd = zwatch_fleet_conn_fd (change->conn);
        out.since = zwatch_fleet_conn_since (change->conn);
    }
    s_push (self, &out);
}

//  The topic frame is exactly what the body says it should be
static bool
s_topic_is (zframe_t *topic, const char *expected, int length)
{
    return length >= 0 && zframe_size (topic) == (size_t) length
        && memcmp (zframe_data (topic), expected, (size_t) length) == 0;
}

//  An event as a change: EVENT, or HISTORY (from the snapshot)
static void
s_push_event (zwatch_client_t *self, zwatch_change_kind_t kind, const zwatch_msg_t *msg,
              uint64_t start, const void *body, size_t body_size)
{
    char host [ZWATCH_HOST_MAX + 1], svc [ZWATCH_SVC_MAX + 1], sock [ZWATCH_SOCK_MAX + 1];
    char stype [ZWATCH_STYPE_MAX + 1], event [ZWATCH_EVENT_NAME_MAX + 1];
    char endpoint [ZWATCH_ENDPOINT_MAX + 1], local [ZWATCH_ENDPOINT_MAX + 1];
    char peer [ZWATCH_ENDPOINT_MAX + 1];
    zwatch_change_t change = {
        .kind = kind,
        .host = s_cstr (host, sizeof (host), msg->host),
        .svc = s_cstr (svc, sizeof (svc), msg->svc),
        .pid = msg->pid, .start = start, .seq = msg->seq,
        .sock = s_cstr (sock, sizeof (sock), msg->sock),
        .stype = s_cstr (stype, sizeof (stype), msg->stype),
        .event = s_cstr (event, sizeof (event), msg->event),
        .endpoint = s_cstr (endpoint, sizeof (endpoint), msg->endpoint),
        .local = s_cstr (local, sizeof (local), msg->local),
        .peer = s_cstr (peer, sizeof (peer), msg->peer),
        .peer_pid = msg->peer_pid, .code = msg->code, .value = msg->value, .ts = msg->ts,
        .events = msg->count? msg->count: 1, .since = msg->count >= 2? msg->since: 0,
        .body = body, .body_size = body_size
    };
    s_push (self, &change);
}

static void
s_feed_event (zwatch_client_t *self, zframe_t *topic, zframe_t *body)
{
    zwatch_msg_t msg;
    zwatch_reason_t reason = zwatch_msg_decode (&msg, zframe_data (body), zframe_size (body),
                                                NULL);
    if (reason != ZWATCH_OK) {
        s_bad (self, zwatch_reason_name (reason));
        return;
    }
    char expected [ZWATCH_TOPIC_MAX + 1];
    if (msg.kind != ZWATCH_KIND_EVENT
    ||  !s_topic_is (topic, expected, zwatch_topic_event (expected, sizeof (expected), &msg))) {
        s_bad (self, "bad_topic");
        return;
    }
    if (!s_held (self, msg.host, msg.svc))
        return;
    zwatch_fleet_agent_t *agent = zwatch_fleet_agent_lookup (self->fleet, msg.host, msg.svc,
                                                             msg.pid);
    uint64_t last = 0;
    bool known = agent && zwatch_fleet_agent_seq (agent, &last);
    if (known && msg.seq <= last)
        return;                     //  in the snapshot already, or a duplicate
    char host [ZWATCH_HOST_MAX + 1], svc [ZWATCH_SVC_MAX + 1];
    zwatch_change_t change = {
        .host = s_cstr (host, sizeof (host), msg.host),
        .svc = s_cstr (svc, sizeof (svc), msg.svc),
        .pid = msg.pid,
        .seq = msg.seq
    };
    //  seq numbers monitor events: a folded summary carries the last of its count
    uint64_t count = msg.count? msg.count: 1;
    if (known && msg.seq - last > count) {
        change.kind = ZWATCH_CHANGE_GAP;
        change.lost = msg.seq - last - count;
        s_push (self, &change);
        if (!self->resync)
            self->resync = "gap";   //  what was lost may have changed the state
    }
    zwatch_fleet_apply (self->fleet, &msg);
    s_push_event (self, ZWATCH_CHANGE_EVENT, &msg, agent? zwatch_fleet_agent_start (agent): 0,
                  zframe_data (body), zframe_size (body));
}

static void
s_feed_agent (zwatch_client_t *self, zframe_t *topic, zframe_t *body)
{
    client_map_t map;
    const char *reason = client_wire_decode (&map, zframe_data (body), zframe_size (body), true,
                                             CLIENT_MAP_AGENT);
    if (reason) {
        s_bad (self, reason);
        return;
    }
    char expected [ZWATCH_TOPIC_MAX + 1];
    if (!s_topic_is (topic, expected,
                     zwatch_topic_agent (expected, sizeof (expected), map.host, map.svc))) {
        s_bad (self, "bad_topic");
        return;
    }
    if (!s_held (self, map.host, map.svc))
        return;
    zwatch_fleet_agent_t *agent = zwatch_fleet_agent_lookup (self->fleet, map.host, map.svc,
                                                             map.pid);
    char host [ZWATCH_HOST_MAX + 1], svc [ZWATCH_SVC_MAX + 1];
    zwatch_change_t change = {
        .host = s_cstr (host, sizeof (host), map.host),
        .svc = s_cstr (svc, sizeof (svc), map.svc),
        .pid = map.pid, .start = map.start, .seq = map.seq, .events = map.events,
        .lost = map.lost, .ts = map.ts,
        .body = zframe_data (body), .body_size = zframe_size (body)
    };
    if (map.state.ptr [0] == 'u') {
        //  The same pid with another start is a new instance
        if (agent && map.start && zwatch_fleet_agent_start (agent)
        &&  map.start != zwatch_fleet_agent_start (agent)) {
            zwatch_fleet_forget (self->fleet, map.host, map.svc, map.pid);
            agent = NULL;
        }
        if (!agent) {
            //  Held from the broker's seq on: what came before is its replay's
            zwatch_msg_t load = { .host = map.host, .svc = map.svc, .pid = map.pid,
                                  .start = map.start, .seq = map.seq };
            if (zwatch_fleet_load_agent (self->fleet, &load) == 0) {
                load.kind = ZWATCH_KIND_STATE_END;
                zwatch_fleet_apply (self->fleet, &load);
                //  At seq 0 its replay is empty, so complete; later ones the
                //  client cannot see: partial until a snapshot says
                agent = zwatch_fleet_agent_lookup (self->fleet, map.host, map.svc, map.pid);
                if (agent)
                    zwatch_fleet_agent_set_partial (agent, map.seq > 0);
            }
        }
        //  An agent with a past replays it to the broker, not to the feed
        if (map.seq > 0 && (!self->refresh_at || self->refresh_tries > 0)) {
            self->refresh_at = zclock_mono () + REFRESH_MS;
            self->refresh_tries = 0;
        }
        change.kind = ZWATCH_CHANGE_AGENT_UP;
    }
    else {
        zwatch_fleet_forget (self->fleet, map.host, map.svc, map.pid);
        change.kind = map.state.ptr [0] == 'g'? ZWATCH_CHANGE_AGENT_GONE: ZWATCH_CHANGE_AGENT_LOST;
    }
    s_push (self, &change);
}

static void
s_feed_link (zwatch_client_t *self, zframe_t *topic, zframe_t *body)
{
    client_map_t map;
    const char *reason = client_wire_decode (&map, zframe_data (body), zframe_size (body), true,
                                             CLIENT_MAP_LINK);
    if (reason) {
        s_bad (self, reason);
        return;
    }
    char expected [ZWATCH_FLEET_LINK_TOPIC_MAX + 1];
    int length = snprintf (expected, sizeof (expected), "link/%.*s/%.*s",
                           (int) map.from.host.len, map.from.host.ptr, (int) map.from.svc.len,
                           map.from.svc.ptr);
    if (!s_topic_is (topic, expected, length)) {
        s_bad (self, "bad_topic");
        return;
    }
    if (map.lseq <= self->lseq) {
        //  Kept from before the snapshot: in it already. Live: a new broker
        if (self->phase == PHASE_LIVE && !self->resync)
            self->resync = "broker_restart";
        return;
    }
    if (map.lseq > self->lseq + 1) {
        if (!self->resync)
            self->resync = "link_gap";
        return;
    }
    self->lseq = map.lseq;
    if (!s_link_held (self, &map))
        return;
    int changed = map.up? client_links_add (self->links, &map):
                          client_links_remove (self->links, &map);
    if (changed != 1)
        return;
    char strings [10][ZWATCH_ENDPOINT_MAX + 1], endpoint [ZWATCH_ENDPOINT_MAX + 1];
    zwatch_change_t change = {
        .kind = map.up? ZWATCH_CHANGE_LINK_UP: ZWATCH_CHANGE_LINK_DOWN,
        .endpoint = s_cstr (endpoint, sizeof (endpoint), map.endpoint),
        .since = map.since, .lseq = map.lseq, .ts = map.ts,
        .from = { s_cstr (strings [0], sizeof (strings [0]), map.from.host),
                  s_cstr (strings [1], sizeof (strings [1]), map.from.svc), map.from.pid,
                  s_cstr (strings [2], sizeof (strings [2]), map.from.sock),
                  s_cstr (strings [3], sizeof (strings [3]), map.from.addr) },
        .to = { s_cstr (strings [4], sizeof (strings [4]), map.to.host),
                s_cstr (strings [5], sizeof (strings [5]), map.to.svc), map.to.pid,
                s_cstr (strings [6], sizeof (strings [6]), map.to.sock),
                s_cstr (strings [7], sizeof (strings [7]), map.to.addr) }
    };
    s_push (self, &change);
}

static void
s_feed_stats (zwatch_client_t *self, zframe_t *topic, zframe_t *body)
{
    client_map_t map;
    const char *reason = client_wire_decode (&map, zframe_data (body), zframe_size (body), true,
                                             CLIENT_MAP_STATS);
    if (reason) {
        s_bad (self, reason);
        return;
    }
    char broker [ZWATCH_ENDPOINT_MAX + 1];
    s_cstr (broker, sizeof (broker), map.broker);
    char expected [ZWATCH_ENDPOINT_MAX + 8];
    if (!s_topic_is (topic, expected, snprintf (expected, sizeof (expected), "stats/%s",
                                                broker))) {
        s_bad (self, "bad_topic");
        return;
    }
    //  Another broker, or this one started again
    if (*self->broker && (strcmp (self->broker, broker) != 0 || map.uptime < self->uptime)
    &&  !self->resync)
        self->resync = "broker_restart";
    strcpy (self->broker, broker);
    self->uptime = map.uptime;
    zwatch_change_t change = {
        .kind = ZWATCH_CHANGE_STATS, .broker = broker, .uptime = map.uptime, .ts = map.ts,
        .body = zframe_data (body), .body_size = zframe_size (body)
    };
    s_push (self, &change);
}

//  One feed message, by the merge rule
static void
s_feed (zwatch_client_t *self, zmsg_t *msg)
{
    zframe_t *topic = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    if (zmsg_size (msg) != 2) {
        s_bad (self, "bad_frames");
        return;
    }
    size_t size = zframe_size (topic);
    const char *data = (const char *) zframe_data (topic);
    if (size >= 3 && memcmp (data, "ev/", 3) == 0)
        s_feed_event (self, topic, body);
    else
    if (size >= 6 && memcmp (data, "agent/", 6) == 0)
        s_feed_agent (self, topic, body);
    else
    if (size >= 5 && memcmp (data, "link/", 5) == 0)
        s_feed_link (self, topic, body);
    else
    if (size >= 6 && memcmp (data, "stats/", 6) == 0)
        s_feed_stats (self, topic, body);
    else
        s_bad (self, "bad_topic");
}

//  The feed's connection, from the SUB's monitor
static void
s_monitor_event (zwatch_client_t *self)
{
    zmsg_t *msg = zmsg_recv (self->monitor);
    zframe_t *frame = msg? zmsg_first (msg): NULL;
    zframe_t *where = msg? zmsg_next (msg): NULL;
    uint16_t code;
    uint32_t value;
    if (!frame || !zwatch_monitor_parse (zframe_data (frame), zframe_size (frame), &code,
                                         &value)) {
        zmsg_destroy (&msg);
        return;
    }
    //  The endpoint libzmq names, printable ASCII only (it is ours, as given)
    char endpoint [ZWATCH_ENDPOINT_MAX + 1] = "";
    size_t len = where? zframe_size (where): 0;
    if (len > ZWATCH_ENDPOINT_MAX)
        len = ZWATCH_ENDPOINT_MAX;
    for (size_t index = 0; index < len; index++) {
        char byte = (char) zframe_data (where) [index];
        endpoint [index] = byte >= 0x20 && byte < 0x7f? byte: '?';
    }
    endpoint [len] = 0;
    zmsg_destroy (&msg);
    zwatch_change_t change = { .code = code, .value = value,
                               .endpoint = *endpoint? endpoint: self->publish_ep };
    bool refused = code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                || code == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
    if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        self->connected = true;
        if (self->unreachable) {
            self->unreachable = false;
            change.kind = ZWATCH_CHANGE_BROKER_BACK;
            s_push (self, &change);
        }
        if (self->ever_connected) {
            //  Whatever it published meanwhile is lost to us
            if (!self->resync)
                self->resync = "reconnect";
        }
        else
        if (self->phase == PHASE_SNAPSHOT && !self->dealer)
            s_request (self);       //  the first request, now that the feed is subscribed
        self->ever_connected = true;
    }
    else
    //  A refusal is told even while unreachable: waiting will not change it
    if ((!self->unreachable || refused)
    &&  (code == ZMQ_EVENT_DISCONNECTED || code & ZWATCH_HANDSHAKE_FAILURES
     ||  (code == ZMQ_EVENT_CONNECT_RETRIED && !self->connected))) {
        self->connected = false;
        self->unreachable = true;
        change.kind = ZWATCH_CHANGE_BROKER_UNREACHABLE;
        change.reason = code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH? "auth"
                      : code == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL? "protocol"
                      : code == ZMQ_EVENT_DISCONNECTED? "disconnected": "retrying";
        s_push (self, &change);
    }
    else
    if (code == ZMQ_EVENT_DISCONNECTED)
        self->connected = false;
}


/*  API  */

zwatch_client_t *
zwatch_client_new (const char *publish_ep, const char *snapshot_ep)
{
    if (!publish_ep)
        publish_ep = ZWATCH_CLIENT_PUBLISH_DEFAULT;
    if (!snapshot_ep)
        snapshot_ep = ZWATCH_CLIENT_SNAPSHOT_DEFAULT;
    if (!s_endpoint_valid (publish_ep) || !s_endpoint_valid (snapshot_ep)) {
        errno = EINVAL;
        return NULL;
    }
    zwatch_client_t *self = (zwatch_client_t *) zmalloc (sizeof (zwatch_client_t));
    self->epoll_fd = -1;
    self->publish_ep = strdup (publish_ep);
    self->snapshot_ep = strdup (snapshot_ep);
    self->hosts = zlistx_new ();
    self->svcs = zlistx_new ();
    self->kept = zlistx_new ();
    self->history = zlistx_new ();
    self->fleet = zwatch_fleet_new (NULL);
    self->links = client_links_new (ZWATCH_FLEET_LINKS_DEFAULT);
    self->changes = client_changes_new (ZWATCH_CLIENT_CHANGES_MAX);
    self->queue_limit = ZWATCH_CLIENT_QUEUE_DEFAULT;
    if (!self->publish_ep || !self->snapshot_ep || !self->hosts || !self->svcs || !self->kept
    ||  !self->history
    ||  !self->fleet || !self->links || !self->changes) {
        zwatch_client_destroy (&self);
        errno = ENOMEM;
        return NULL;
    }
    zlistx_set_destructor (self->hosts, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_destructor (self->svcs, (zlistx_destructor_fn *) zstr_free);
    return self;
}

void
zwatch_client_destroy (zwatch_client_t **self_p)
{
    zwatch_client_t *self = *self_p;
    if (!self)
        return;
    if (self->kept)
        s_kept_clear (self);
    zlistx_destroy (&self->kept);
    if (self->history)
        s_history_clear (self);
    zlistx_destroy (&self->history);
    s_dealer_close (self);
    if (self->sub)
        zmq_socket_monitor (zsock_resolve (self->sub), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->sub);
    if (self->epoll_fd >= 0)
        close (self->epoll_fd);
    zwatch_fleet_destroy (&self->fleet);
    zwatch_fleet_destroy (&self->next_fleet);
    client_links_destroy (&self->links);
    client_links_destroy (&self->next_links);
    client_changes_destroy (&self->changes);
    zlistx_destroy (&self->hosts);
    zlistx_destroy (&self->svcs);
    free (self->publish_ep);
    free (self->snapshot_ep);
    free (self);
    *self_p = NULL;
}

int
zwatch_client_set_curve (zwatch_client_t *self, const char *server_key, const char *cert_path)
{
    if (self->phase != PHASE_IDLE) {
        errno = EBUSY;
        return -1;
    }
    if (zwatch_curve_client (&self->curve, server_key, cert_path, self->error,
                             sizeof (self->error)) != 0) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

static int
s_add_filter (zwatch_client_t *self, zlistx_t *list, const char *name, size_t max)
{
    if (self->phase != PHASE_IDLE) {
        errno = EBUSY;
        return -1;
    }
    //  A name, or the start of one and '*' ("*" alone: any)
    bool prefix;
    size_t len = name? s_filter_len (name, &prefix): 0;
    if (!name || !((prefix && len == 0) || zwatch_name_valid (name, len, max))) {
        errno = EINVAL;
        return -1;
    }
    char *copy = strdup (name);
    if (!copy || !zlistx_add_end (list, copy)) {
        free (copy);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int
zwatch_client_add_host_filter (zwatch_client_t *self, const char *host)
{
    return s_add_filter (self, self->hosts, host, ZWATCH_HOST_MAX);
}

int
zwatch_client_add_service_filter (zwatch_client_t *self, const char *svc)
{
    return s_add_filter (self, self->svcs, svc, ZWATCH_SVC_MAX);
}

int
zwatch_client_set_queue_limit (zwatch_client_t *self, size_t limit)
{
    if (self->phase != PHASE_IDLE) {
        errno = EBUSY;
        return -1;
    }
    self->queue_limit = limit? limit: ZWATCH_CLIENT_QUEUE_DEFAULT;
    return 0;
}

//  Subscriptions: by host when hosts are given (with services: each pair),
//  else everything, filtered here; link/ always whole (its topic names
//  only the connecting end, and its numbering must be seen whole)
static void
s_subscribe (zwatch_client_t *self)
{
    zsock_set_subscribe (self->sub, "link/");
    zsock_set_subscribe (self->sub, "stats/");
    if (zlistx_size (self->hosts) == 0) {
        zsock_set_subscribe (self->sub, "ev/");
        zsock_set_subscribe (self->sub, "agent/");
        return;
    }
    //  A filter "web*" ends the topic prefix; what follows is checked here
    const char *host = (const char *) zlistx_first (self->hosts);
    for (; host; host = (const char *) zlistx_next (self->hosts)) {
        bool host_prefix;
        int host_len = (int) s_filter_len (host, &host_prefix);
        const char *end = host_prefix? "": "/";
        char prefix [ZWATCH_TOPIC_MAX + 1];
        snprintf (prefix, sizeof (prefix), "agent/%.*s%s", host_len, host, end);
        zsock_set_subscribe (self->sub, prefix);
        if (zlistx_size (self->svcs) == 0 || host_prefix) {
            snprintf (prefix, sizeof (prefix), "ev/%.*s%s", host_len, host, end);
            zsock_set_subscribe (self->sub, prefix);
            continue;
        }
        const char *svc = (const char *) zlistx_first (self->svcs);
        for (; svc; svc = (const char *) zlistx_next (self->svcs)) {
            bool svc_prefix;
            int svc_len = (int) s_filter_len (svc, &svc_prefix);
            snprintf (prefix, sizeof (prefix), "ev/%.*s/%.*s%s", host_len, host, svc_len, svc,
                      svc_prefix? "": "/");
            zsock_set_subscribe (self->sub, prefix);
        }
    }
}

int
zwatch_client_set_history (zwatch_client_t *self, size_t events)
{
    if (self->phase != PHASE_IDLE) {
        errno = EBUSY;
        return -1;
    }
    self->history_max = events;
    return 0;
}

int
zwatch_client_start (zwatch_client_t *self)
{
    if (self->phase != PHASE_IDLE) {
        errno = EBUSY;
        return -1;
    }
    self->sub = zsock_new (ZMQ_SUB);
    self->monitor = zsock_new (ZMQ_PAIR);
    self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
    if (!self->sub || !self->monitor || self->epoll_fd < 0) {
        snprintf (self->error, sizeof (self->error), "cannot make sockets: %s",
                  strerror (errno));
        return -1;
    }
    void *sub = zsock_resolve (self->sub);
    zsock_set_linger (self->sub, 0);
    zsock_set_maxmsgsize (self->sub, ZWATCH_CLIENT_BODY_MAX);
    zsock_set_rcvhwm (self->sub, 100000);
    zsock_set_reconnect_ivl (self->sub, 100);
    char monitor [64];
    snprintf (monitor, sizeof (monitor), "inproc://zwatch-client-%p", (void *) self);
    if (zwatch_curve_apply (&self->curve, sub) != 0
    ||  zmq_socket_monitor (sub, monitor, MONITOR_EVENTS) != 0
    ||  zsock_connect (self->monitor, "%s", monitor) != 0) {
        snprintf (self->error, sizeof (self->error), "cannot set up the feed: %s",
                  zmq_strerror (zmq_errno ()));
        return -1;
    }
    s_subscribe (self);
    if (zsock_connect (self->sub, "%s", self->publish_ep) != 0) {
        snprintf (self->error, sizeof (self->error), "cannot connect to '%s': %s",
                  self->publish_ep, zmq_strerror (zmq_errno ()));
        errno = zmq_errno ();
        return -1;
    }
    s_poll_add (self, self->sub);
    s_poll_add (self, self->monitor);
    self->phase = PHASE_LIVE;       //  so that the first RESYNC_START is told
    s_resync (self, "start");
    self->resyncs = 0;
    return 0;
}

//  Timers due now: a stalled reply, a retry, a refresh for replays
static void
s_timers (zwatch_client_t *self, int64_t now)
{
    if (self->phase == PHASE_SNAPSHOT) {
        if (self->dealer && now >= self->deadline)
            s_snapshot_failed (self, "snapshot_timeout");
        else
        if (!self->dealer && self->connected && self->retry_at && now >= self->retry_at)
            s_request (self);
    }
    else
    if (self->phase == PHASE_LIVE && self->refresh_at && now >= self->refresh_at
    &&  !self->resync) {
        self->refresh_at = 0;
        self->resync = "replay";
    }
}

//  Msecs until the next timer (capped)
static int64_t
s_timer_wait (zwatch_client_t *self, int64_t now)
{
    int64_t next = now + TIMER_MAX_MS;
    if (self->phase == PHASE_SNAPSHOT && self->dealer && self->deadline < next)
        next = self->deadline;
    if (self->phase == PHASE_SNAPSHOT && !self->dealer && self->retry_at
    &&  self->retry_at < next)
        next = self->retry_at;
    if (self->phase == PHASE_LIVE && self->refresh_at && self->refresh_at < next)
        next = self->refresh_at;
    return next > now? next - now: 0;
}

//  Keep a feed message while a snapshot is read or the kept ones drain
static void
s_keep (zwatch_client_t *self, zmsg_t *msg)
{
    if (zlistx_size (self->kept) >= self->queue_limit) {
        self->dropped++;
        zmsg_destroy (&msg);
        if (!self->resync)
            self->resync = "queue_full";
        return;
    }
    zlistx_add_end (self->kept, msg);
}

const zwatch_change_t *
zwatch_client_next (zwatch_client_t *self, int timeout_ms)
{
    if (self->phase == PHASE_IDLE) {
        errno = EINVAL;
        return NULL;
    }
    int64_t end = timeout_ms < 0? INT64_MAX: zclock_mono () + timeout_ms;
    while (true) {
        const zwatch_change_t *change = client_changes_pop (self->changes);
        if (change)
            return change;
        if (self->resync) {
            s_resync (self, self->resync);
            continue;
        }
        int64_t now = zclock_mono ();
        s_timers (self, now);
        if (self->resync || client_changes_size (self->changes))
            continue;
        if (self->phase == PHASE_DRAIN) {
            zmsg_t *msg = (zmsg_t *) zlistx_detach (self->kept, NULL);
            if (msg) {
                s_feed (self, msg);
                zmsg_destroy (&msg);
            }
            else {
                //  Handed out before the network is read again: the state the
                //  caller reads at RESYNC_DONE is the snapshot and the kept
                //  feed, no more (a live message would be in it, and after it)
                self->phase = PHASE_LIVE;
                s_push_kind (self, ZWATCH_CHANGE_RESYNC_DONE, NULL);
                continue;
            }
            //  Read the network too, without waiting
            end = now < end? end: now;
        }
        zmq_pollitem_t items [] = {
            { zsock_resolve (self->monitor), 0, ZMQ_POLLIN, 0 },
            { zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0 },
            { self->dealer? zsock_resolve (self->dealer): NULL, 0, ZMQ_POLLIN, 0 }
        };
        int64_t wait = self->phase == PHASE_DRAIN? 0: end - now;
        int64_t timer = s_timer_wait (self, now);
        if (wait > timer)
            wait = timer;
        if (wait < 0)
            wait = 0;
        int rc = zmq_poll (items, self->dealer? 3: 2, (long) wait);
        if (rc == -1) {
            if (zmq_errno () == EINTR) {
                errno = EINTR;
                return NULL;
            }
            continue;
        }
        if (items [0].revents & ZMQ_POLLIN)
            s_monitor_event (self);
        if (items [1].revents & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (self->sub);
            if (msg) {
                if (self->phase == PHASE_LIVE)
                    s_feed (self, msg), zmsg_destroy (&msg);
                else
                    s_keep (self, msg);
            }
        }
        if (self->dealer && (items [2].revents & ZMQ_POLLIN)) {
            zmsg_t *msg = zmsg_recv (self->dealer);
            if (msg) {
                s_snapshot_frame (self, msg);
                zmsg_destroy (&msg);
            }
        }
        if (rc == 0 && self->phase != PHASE_DRAIN && zclock_mono () >= end
        &&  client_changes_size (self->changes) == 0 && !self->resync) {
            errno = EAGAIN;
            return NULL;
        }
    }
}

int
zwatch_client_fd (zwatch_client_t *self)
{
    return self->phase == PHASE_IDLE? -1: self->epoll_fd;
}

bool
zwatch_client_synced (zwatch_client_t *self)
{
    return self->phase == PHASE_LIVE;
}

uint64_t
zwatch_client_bad (zwatch_client_t *self, const char *reason)
{
    if (!reason)
        return self->bad_total;
    for (size_t index = 0; index < self->bad_reasons; index++)
        if (strcmp (self->bad [index].name, reason) == 0)
            return self->bad [index].count;
    return 0;
}

const char *
zwatch_client_bad_reason (zwatch_client_t *self, size_t index, uint64_t *count)
{
    if (index >= self->bad_reasons)
        return NULL;
    if (count)
        *count = self->bad [index].count;
    return self->bad [index].name;
}

uint64_t
zwatch_client_dropped (zwatch_client_t *self)
{
    return self->dropped;
}

uint64_t
zwatch_client_resyncs (zwatch_client_t *self)
{
    return self->resyncs;
}

uint64_t
zwatch_client_snapshots (zwatch_client_t *self)
{
    return self->snapshots;
}

const char *
zwatch_client_broker (zwatch_client_t *self)
{
    return *self->broker? self->broker: NULL;
}

const char *
zwatch_client_error (zwatch_client_t *self)
{
    return self->error;
}

zwatch_fleet_t *
client_fleet (zwatch_client_t *self)
{
    return self->fleet;
}

client_links_t *
client_links (zwatch_client_t *self)
{
    return self->links;
}
