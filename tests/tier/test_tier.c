/*  test_tier: tiered brokers, each a real zwatch-broker, real agents in
    processes of their own behind the edges.

    Four brokers: a root, a region whose parent is the root, two edges
    whose parent is the region. A ROUTER service reports to edge 1, a
    DEALER service connected to it reports to edge 2; both run on one
    machine (host "box": a loopback link joins on one host only).
    - three: a subscriber of the root gets the events of both with their
      origin and via [edge, region]; the root's snapshot holds both agents
      and the link between them (the two ends came through two edges).
    - heal: the region is SIGKILLed; the root loses the agents; the
      region comes back on its ports and the edges replay their fleet to
      it: the root is whole again, with no agent restarted.
    - root: the root is SIGKILLed and restarted: the region's replay makes
      it whole again.
    - edge: edge 1 is SIGKILLed: its agent is lost at the root and comes
      back when the edge restarts (the agent replays to it).
    - loop: A's parent is B and B's is A: the loop is refused with one
      log line and counted in stats loops, and the child told `loop`
      stops forwarding (stats parents[].stopped).
    - relay: CURVE on at the root; an edge with a relay certificate
      (zwatch-keygen --relay) forwards its agent, one with an agent
      certificate is refused (relay_denied, counted, logged).
    - drops: an edge whose parent is down drops past its link's bound,
      counted, and its heartbeat tells the parent once it is up.
*/

#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zmq.h>
#include "zwatch.h"
#include "agent_child.h"
#include "broker_proc.h"
#include "fake_agent.h"
#include "feed.h"
#include "zwatch_parents.h"
#include "snap_client.h"
#include "testutil.h"

#define WAIT_MS     30000       //  bound on the fleet reaching a state (loaded CI, ASan)
#define POLL_MS     50

typedef struct {
    char *ingest, *publish, *snapshot;
    const char *args [16];
    broker_proc_t *proc;
} tier_t;

//  A broker's ports, its id, a parent (or NULL) and a heartbeat timeout
static void
s_tier_init (tier_t *self, const char *id, const char *parent, const char *timeout)
{
    self->ingest = tu_free_endpoint ();
    self->publish = tu_free_endpoint ();
    self->snapshot = tu_free_endpoint ();
    const char *args [] = { "--ingest", self->ingest, "--publish", self->publish,
                            "--snapshot", self->snapshot, "--id", id, "--stats-interval", "0.2",
                            "--heartbeat-timeout", timeout, parent? "--parent": NULL, parent,
                            NULL };
    memcpy (self->args, args, sizeof (args));
}

static void
s_tier_start (tier_t *self)
{
    self->proc = broker_proc_new (self->args, false);
}

static void
s_tier_kill (tier_t *self)
{
    CHECK_INT_EQ (broker_proc_stop (self->proc, SIGKILL, 5000), 128 + SIGKILL);
    broker_proc_destroy (&self->proc);
}

static void
s_tier_destroy (tier_t *self)
{
    broker_proc_destroy (&self->proc);
    free (self->ingest);
    free (self->publish);
    free (self->snapshot);
}

//  Root, region, two edges
typedef struct {
    tier_t root, region, edge1, edge2;
    char *server_ep;
    agent_child_t server, client;
} fleet_t;

static void
s_fleet_start (fleet_t *self, feed_t **feed)
{
    //  Agents are lost only by the silence of the broker they are behind
    //  (5 s), never by their own timeout, within the test's bounds
    s_tier_init (&self->root, "root", NULL, "600");
    s_tier_init (&self->region, "region", self->root.ingest, "600");
    s_tier_init (&self->edge1, "edge1", self->region.ingest, "600");
    s_tier_init (&self->edge2, "edge2", self->region.ingest, "600");
    s_tier_start (&self->root);
    s_tier_start (&self->region);
    s_tier_start (&self->edge1);
    s_tier_start (&self->edge2);
    if (feed) {
        const char *prefixes [] = { "ev/", NULL };
        *feed = feed_new (self->root.publish, prefixes);
        CHECK (feed_wait_broker_subscribers (self->root.publish, 1, WAIT_MS));
    }
    self->server_ep = tu_free_endpoint ();
    self->server = agent_child_start (self->edge1.ingest, "box", "srv", ZMQ_ROUTER, "api",
                                      self->server_ep, true);
    self->client = agent_child_start (self->edge2.ingest, "box", "cli", ZMQ_DEALER, "client",
                                      self->server_ep, true);
}

static void
s_fleet_destroy (fleet_t *self)
{
    agent_child_end (&self->client);
    agent_child_end (&self->server);
    s_tier_destroy (&self->edge2);
    s_tier_destroy (&self->edge1);
    s_tier_destroy (&self->region);
    s_tier_destroy (&self->root);
    free (self->server_ep);
}

static bool
s_has_socket (snap_reply_t *reply, const char *host, const char *svc, const char *sock,
              size_t connections)
{
    for (size_t index = 0; index < snap_reply_size (reply); index++) {
        const msgpack_object *frame = snap_reply_frame (reply, index);
        if (mp_str_is (frame, "kind", "socket") && mp_str_is (frame, "host", host)
        &&  mp_str_is (frame, "svc", svc) && mp_str_is (frame, "sock", sock)) {
            const msgpack_object *array = mp_get (frame, "connections");
            return array && array->type == MSGPACK_OBJECT_ARRAY
                && array->via.array.size == connections;
        }
    }
    return false;
}

//  Agents in reply that are services (not the brokers below, which appear
//  by their heartbeats as agents of svc zwatch-broker)
static size_t
s_services (snap_reply_t *reply)
{
    size_t count = 0;
    for (size_t index = 0; index < snap_reply_size (reply); index++) {
        const msgpack_object *frame = snap_reply_frame (reply, index);
        if (mp_str_is (frame, "kind", "agent") && !mp_str_is (frame, "svc", "zwatch-broker"))
            count++;
    }
    return count;
}

//  Snapshots of endpoint until it holds exactly agents services (and, when
//  whole, both sockets connected and their link); fails after WAIT_MS
static void
s_wait_root (const char *endpoint, size_t agents, bool whole)
{
    snap_client_t *client = snap_client_new (endpoint);
    long long deadline = tu_now_ms () + WAIT_MS;
    while (true) {
        snap_reply_t *reply = snap_client_get (client, NULL, -1, WAIT_MS);
        CHECK (!snap_reply_error (reply));
        bool done = s_services (reply) == agents;
        if (done && whole) {
            const msgpack_object *link = snap_reply_nth (reply, "link", 0);
            done = snap_reply_count (reply, "link") == 1
                && s_has_socket (reply, "box", "srv", "api", 1)
                && s_has_socket (reply, "box", "cli", "client", 1)
                && mp_str_is (mp_get (link, "from"), "host", "box")
                && mp_str_is (mp_get (link, "from"), "svc", "cli")
                && mp_str_is (mp_get (link, "to"), "host", "box")
                && mp_str_is (mp_get (link, "to"), "svc", "srv");
        }
        if (done) {
            snap_reply_destroy (&reply);
            break;
        }
        if (tu_now_ms () > deadline) {
            fprintf (stderr, "%s did not reach %zu agents%s in %d ms (has %zu agents, %zu links)\n",
                     endpoint, agents, whole? " and the link": "", WAIT_MS,
                     s_services (reply), snap_reply_count (reply, "link"));
            for (size_t index = 0; getenv ("TIER_DUMP") && index < snap_reply_size (reply); index++) {
                msgpack_object_print (stderr, *snap_reply_frame (reply, index));
                fprintf (stderr, "\n");
            }
            CHECK (false);
        }
        snap_reply_destroy (&reply);
        usleep (POLL_MS * 1000);
    }
    snap_client_destroy (&client);
}

//  True if the current message's via is exactly [first, second]
static bool
s_via_is (feed_t *feed, const char *first, const char *second)
{
    const msgpack_object *via = feed_get (feed, "via");
    if (!via || via->type != MSGPACK_OBJECT_ARRAY || via->via.array.size != 2)
        return false;
    const char *want [2] = { first, second };
    for (int index = 0; index < 2; index++) {
        const msgpack_object *id = &via->via.array.ptr [index];
        if (id->type != MSGPACK_OBJECT_STR || id->via.str.size != strlen (want [index])
        ||  memcmp (id->via.str.ptr, want [index], id->via.str.size) != 0)
            return false;
    }
    return true;
}

static void
s_test_three (void)
{
    fleet_t fleet;
    feed_t *feed;
    s_fleet_start (&fleet, &feed);
    //  Every event at the root: the agent's own (host, svc, pid, seq) and
    //  the path it came by, edge first; topics as at the edge
    bool server_seen = false, client_seen = false;
    long long deadline = tu_now_ms () + WAIT_MS;
    while (!(server_seen && client_seen) && tu_now_ms () < deadline) {
        if (!feed_recv (feed, 1000))
            continue;
        zwatch_msg_t msg;
        feed_event (feed, &msg);
        CHECK (msg.seq >= 1);
        CHECK_STR_EQ (feed_str (feed, "host"), "box");
        if (strcmp (feed_str (feed, "svc"), "srv") == 0) {
            CHECK_INT_EQ (msg.pid, fleet.server.pid);
            CHECK (strncmp (feed_topic (feed), "ev/box/srv/", 11) == 0);
            CHECK (s_via_is (feed, "edge1", "region"));
            server_seen = true;
        }
        else {
            CHECK_STR_EQ (feed_str (feed, "svc"), "cli");
            CHECK_INT_EQ (msg.pid, fleet.client.pid);
            CHECK (strncmp (feed_topic (feed), "ev/box/cli/", 11) == 0);
            CHECK (s_via_is (feed, "edge2", "region"));
            client_seen = true;
        }
    }
    CHECK (server_seen && client_seen);
    //  The link joins at the root: its two ends came through two edges
    s_wait_root (fleet.root.snapshot, 2, true);
    feed_destroy (&feed);
    s_fleet_destroy (&fleet);
}

static void
s_test_heal (void)
{
    fleet_t fleet;
    s_fleet_start (&fleet, NULL);
    s_wait_root (fleet.root.snapshot, 2, true);
    //  The region dies: its agents are lost at the root after its timeout
    s_tier_kill (&fleet.region);
    s_wait_root (fleet.root.snapshot, 0, false);
    //  It comes back empty; the edges replay their fleet to it, it passes
    //  that up, and the root is whole again with no agent restarted
    s_tier_start (&fleet.region);
    s_wait_root (fleet.region.snapshot, 2, true);
    s_wait_root (fleet.root.snapshot, 2, true);
    CHECK (kill (fleet.server.pid, 0) == 0 && kill (fleet.client.pid, 0) == 0);
    s_fleet_destroy (&fleet);
}

//  The root restarts empty: the region replays its fleet to it
static void
s_test_root (void)
{
    fleet_t fleet;
    s_fleet_start (&fleet, NULL);
    s_wait_root (fleet.root.snapshot, 2, true);
    s_tier_kill (&fleet.root);
    s_tier_start (&fleet.root);
    long long start = tu_now_ms ();
    s_wait_root (fleet.root.snapshot, 2, true);
    fprintf (stderr, "root whole again %lld ms after its restart\n", tu_now_ms () - start);
    //  The replayed agents keep their edge: edge1's silence loses its one
    //  service at the root
    s_tier_kill (&fleet.edge1);
    s_wait_root (fleet.root.snapshot, 1, false);
    s_tier_start (&fleet.edge1);
    s_wait_root (fleet.root.snapshot, 2, true);
    s_fleet_destroy (&fleet);
}

static void
s_test_edge (void)
{
    fleet_t fleet;
    s_fleet_start (&fleet, NULL);
    s_wait_root (fleet.root.snapshot, 2, true);
    s_tier_kill (&fleet.edge1);
    s_wait_root (fleet.root.snapshot, 1, false);
    CHECK (broker_proc_wait_log (fleet.root.proc, "child broker edge1 silent for 5 s: its 2 "
                                 "agents are lost", WAIT_MS));     //  the service and edge1
    s_tier_start (&fleet.edge1);
    s_wait_root (fleet.root.snapshot, 2, true);
    //  The root's stats: each broker below it, edge1 lost once and back
    const char *prefixes [] = { "stats/", NULL };
    feed_t *feed = feed_new (fleet.root.publish, prefixes);
    long long deadline = tu_now_ms () + WAIT_MS;
    bool seen = false;
    while (!seen && tu_now_ms () < deadline) {
        if (!feed_recv (feed, 1000))
            continue;
        const msgpack_object *children = feed_get (feed, "children");
        CHECK (children && children->type == MSGPACK_OBJECT_ARRAY);
        size_t matched = 0;
        for (uint32_t index = 0; index < children->via.array.size; index++) {
            const msgpack_object *child = &children->via.array.ptr [index];
            const msgpack_object *silent = mp_get (child, "silent");
            CHECK (silent && silent->type == MSGPACK_OBJECT_BOOLEAN);
            if (silent->via.boolean)
                continue;
            if (mp_str_is (child, "id", "edge1") && mp_uint (child, "losses") == 1
            &&  mp_uint (child, "agents") == 1)
                matched++;
            if (mp_str_is (child, "id", "edge2") && mp_uint (child, "losses") == 0
            &&  mp_uint (child, "agents") == 1 && mp_uint (child, "dropped") == 0
            &&  mp_uint (child, "sent") > 0)
                matched++;
            if (mp_str_is (child, "id", "region") && mp_uint (child, "losses") == 0)
                matched++;
        }
        seen = children->via.array.size == 3 && matched == 3;
    }
    CHECK (seen);
    feed_destroy (&feed);
    s_fleet_destroy (&fleet);
}

//  Wait for a stats message of feed with key above 0; fails after WAIT_MS
static void
s_wait_counted (feed_t *feed, const char *key)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (tu_now_ms () < deadline)
        if (feed_recv (feed, 1000) && feed_is (feed, "stats/") && feed_uint (feed, key) > 0)
            return;
    fprintf (stderr, "no stats with %s above 0 in %d ms\n", key, WAIT_MS);
    CHECK (false);
}

static void
s_test_loop (void)
{
    tier_t a, b;
    char *b_ingest = tu_free_endpoint ();
    s_tier_init (&a, "broker-a", b_ingest, "6");
    s_tier_init (&b, "broker-b", a.ingest, "6");
    free (b.ingest);
    b.ingest = b_ingest;
    b.args [1] = b_ingest;
    s_tier_start (&a);
    s_tier_start (&b);
    char *server_ep = tu_free_endpoint ();
    agent_child_t server = agent_child_start (a.ingest, "host1", "srv", ZMQ_ROUTER, "api",
                                              server_ep, true);
    //  Whichever sees the loop first refuses it and tells the other
    long long deadline = tu_now_ms () + WAIT_MS;
    tier_t *refuser = NULL, *child = NULL;
    while (!refuser && tu_now_ms () < deadline) {
        char *log_a = broker_proc_log (a.proc);
        char *log_b = broker_proc_log (b.proc);
        if (strstr (log_a, "already passed through us (loop"))
            refuser = &a, child = &b;
        else
        if (strstr (log_b, "already passed through us (loop"))
            refuser = &b, child = &a;
        free (log_a);
        free (log_b);
        if (!refuser)
            usleep (POLL_MS * 1000);
    }
    CHECK (refuser);
    char line [256];
    snprintf (line, sizeof (line), "parent %s refused us: loop", refuser->ingest);
    CHECK (broker_proc_wait_log (child->proc, line, WAIT_MS));
    //  One line, however many messages came round
    char *log = broker_proc_log (refuser->proc);
    CHECK_INT_EQ (tu_count (log, "already passed through us (loop"), 1);
    free (log);
    const char *prefixes [] = { "stats/", NULL };
    feed_t *feed = feed_new (refuser->publish, prefixes);
    s_wait_counted (feed, "loops");
    feed_destroy (&feed);
    //  The child stopped forwarding to it
    feed = feed_new (child->publish, prefixes);
    long long until = tu_now_ms () + WAIT_MS;
    bool stopped = false;
    while (!stopped && tu_now_ms () < until)
        if (feed_recv (feed, 1000) && feed_is (feed, "stats/")) {
            const msgpack_object *parents = feed_get (feed, "parents");
            CHECK (parents && parents->type == MSGPACK_OBJECT_ARRAY && parents->via.array.size == 1);
            const msgpack_object *stop = mp_get (&parents->via.array.ptr [0], "stopped");
            stopped = stop && stop->type == MSGPACK_OBJECT_BOOLEAN && stop->via.boolean;
        }
    CHECK (stopped);
    feed_destroy (&feed);
    agent_child_end (&server);
    s_tier_destroy (&b);
    s_tier_destroy (&a);
    free (server_ep);
}

//  The map of the current stats message's array key whose key_name is name
static const msgpack_object *
s_stats_entry (feed_t *feed, const char *array, const char *key_name, const char *name)
{
    const msgpack_object *list = feed_get (feed, array);
    CHECK (list && list->type == MSGPACK_OBJECT_ARRAY);
    for (uint32_t index = 0; index < list->via.array.size; index++)
        if (mp_str_is (&list->via.array.ptr [index], key_name, name))
            return &list->via.array.ptr [index];
    return NULL;
}

//  An edge whose parent is not there yet: its link's queue is bounded, so
//  a flood of events is dropped past it, counted; when the parent comes
//  up it hears the edge's drop count in its heartbeat (stats children)
static void
s_test_drops (void)
{
    tier_t parent, edge;
    s_tier_init (&parent, "parent", NULL, "600");
    s_tier_init (&edge, "edge", parent.ingest, "600");
    s_tier_start (&edge);
    const char *prefixes [] = { "stats/", NULL };
    feed_t *feed = feed_new (edge.publish, prefixes);
    fake_agent_t *agent = fake_agent_new (edge.ingest, "box", "flood", 77);
    fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 0);
    int events = 2 * ZWATCH_PARENT_SNDHWM;
    for (int seq = 1; seq <= events; seq++) {
        size_t size;
        fake_agent_send_event (agent, (uint64_t) seq, "CONNECTED", &size);
    }
    //  Everything the edge read went to the queue or was dropped; the
    //  queue took at most its bound (and the edge's heartbeats)
    uint64_t dropped = 0;
    long long deadline = tu_now_ms () + WAIT_MS;
    while (!dropped && tu_now_ms () < deadline) {
        if (!feed_recv (feed, 1000) || feed_uint (feed, "msgs_in") < (uint64_t) events + 1)
            continue;
        const msgpack_object *link = s_stats_entry (feed, "parents", "endpoint", parent.ingest);
        CHECK (link);
        uint64_t sent = mp_uint (link, "sent");
        dropped = mp_uint (link, "dropped");
        CHECK (sent + dropped >= (uint64_t) events + 1);
        CHECK (sent < (uint64_t) events);
        CHECK (dropped > 0);
        CHECK (mp_uint (link, "connects") == 0);
    }
    CHECK (dropped);
    fake_agent_destroy (&agent);
    feed_destroy (&feed);
    //  The parent comes up and the edge's heartbeat tells it
    s_tier_start (&parent);
    feed = feed_new (parent.publish, prefixes);
    bool told = false;
    deadline = tu_now_ms () + WAIT_MS;
    while (!told && tu_now_ms () < deadline)
        if (feed_recv (feed, 1000)) {
            const msgpack_object *child = s_stats_entry (feed, "children", "id", "edge");
            told = child && mp_uint (child, "dropped") >= dropped;
        }
    CHECK (told);
    feed_destroy (&feed);
    s_tier_destroy (&edge);
    s_tier_destroy (&parent);
}

//  zwatch-keygen [--relay] dir/name; returns the public key it prints
static char *
s_keygen (const char *dir, const char *name, bool relay)
{
    char *bin = tu_bin ("zwatch-keygen");
    char path [512];
    snprintf (path, sizeof (path), "%s/%s", dir, name);
    const char *with [] = { bin, "--relay", path, NULL };
    const char *without [] = { bin, path, NULL };
    char *out_path = tu_temp_path (".out");
    CHECK_INT_EQ (tu_wait (tu_spawn (relay? with: without, NULL, out_path), WAIT_MS), 0);
    char *out = tu_read_file (out_path);
    CHECK (out && strlen (out) == 41);
    out [40] = 0;
    tu_remove_output (out_path);
    free (out_path);
    free (bin);
    return out;
}

//  A CURVE root whose agents-allow holds a relay certificate and an agent
//  certificate; an edge using the relay's gets its agent through, one
//  using the agent's is refused: relay_denied, counted and logged
static void
s_test_relay (void)
{
    char *dir = tu_temp_path (".certs");
    char allow [512];
    snprintf (allow, sizeof (allow), "%s/allow", dir);
    CHECK (mkdir (dir, 0700) == 0 && mkdir (allow, 0700) == 0);
    char *root_key = s_keygen (dir, "root", false);
    free (s_keygen (allow, "relay", true));
    free (s_keygen (allow, "agent", false));
    char root_secret [600], relay_secret [600], agent_secret [600];
    snprintf (root_secret, sizeof (root_secret), "%s/root_secret", dir);
    snprintf (relay_secret, sizeof (relay_secret), "%s/relay_secret", allow);
    snprintf (agent_secret, sizeof (agent_secret), "%s/agent_secret", allow);
    //  The secrets may stay there: the allow directory skips *_secret

    tier_t root, edge, rogue;
    s_tier_init (&root, "root", NULL, "600");
    //  Its args end at 12 (no --parent)
    const char *root_args [20];
    memcpy (root_args, root.args, 12 * sizeof (char *));
    const char *curve_root [] = { "--curve-secret", root_secret, "--agents-allow", allow, NULL };
    memcpy (root_args + 12, curve_root, sizeof (curve_root));
    root.proc = broker_proc_new (root_args, false);
    s_tier_init (&edge, "edge", root.ingest, "600");
    s_tier_init (&rogue, "rogue", root.ingest, "600");
    const char *edge_args [20], *rogue_args [20];
    memcpy (edge_args, edge.args, 16 * sizeof (char *));
    memcpy (rogue_args, rogue.args, 16 * sizeof (char *));
    const char *curve_edge [] = { "--parent-server-key", root_key, "--parent-cert", relay_secret, NULL };
    const char *curve_rogue [] = { "--parent-server-key", root_key, "--parent-cert", agent_secret, NULL };
    memcpy (edge_args + 14, curve_edge, sizeof (curve_edge));
    memcpy (rogue_args + 14, curve_rogue, sizeof (curve_rogue));
    edge.proc = broker_proc_new (edge_args, false);
    rogue.proc = broker_proc_new (rogue_args, false);

    char *server_ep = tu_free_endpoint (), *other_ep = tu_free_endpoint ();
    agent_child_t server = agent_child_start (edge.ingest, "box", "srv", ZMQ_ROUTER, "api",
                                              server_ep, true);
    agent_child_t other = agent_child_start (rogue.ingest, "box2", "srv2", ZMQ_ROUTER, "api",
                                             other_ep, true);
    //  The relay's agent is at the root; the agent certificate's is not,
    //  and the root says why
    CHECK (broker_proc_wait_log (root.proc, "whose certificate is not a relay's (relay_denied",
                                 WAIT_MS));
    snap_client_t *client = snap_client_new_curve (root.snapshot, root_key);
    long long deadline = tu_now_ms () + WAIT_MS;
    bool done = false;
    while (!done && tu_now_ms () < deadline) {
        snap_reply_t *reply = snap_client_get (client, NULL, -1, WAIT_MS);
        done = s_services (reply) == 1 && s_has_socket (reply, "box", "srv", "api", 0);
        for (size_t index = 0; index < snap_reply_size (reply); index++) {
            const msgpack_object *frame = snap_reply_frame (reply, index);
            CHECK (!mp_str_is (frame, "host", "box2") && !mp_str_is (frame, "host", "rogue"));
        }
        snap_reply_destroy (&reply);
        if (!done)
            usleep (POLL_MS * 1000);
    }
    CHECK (done);
    snap_client_destroy (&client);
    const char *prefixes [] = { "stats/", NULL };
    feed_t *feed = feed_new_curve (root.publish, prefixes, root_key);
    s_wait_counted (feed, "relay_denied");
    CHECK_INT_EQ (feed_uint (feed, "loops"), 0);
    feed_destroy (&feed);

    agent_child_end (&other);
    agent_child_end (&server);
    s_tier_destroy (&rogue);
    s_tier_destroy (&edge);
    s_tier_destroy (&root);
    free (server_ep);
    free (other_ep);
    free (root_key);
    char command [1200];
    snprintf (command, sizeof (command), "rm -rf '%s'", dir);
    CHECK (system (command) == 0);
    free (dir);
}

int
main (int argc, char *argv [])
{
    const tu_case_t cases [] = {
        { "three", s_test_three }, { "heal", s_test_heal }, { "edge", s_test_edge }, { "root", s_test_root },
        { "loop", s_test_loop }, { "relay", s_test_relay }, { "drops", s_test_drops }
    };
    return tu_run_cases (argc, argv, "test_tier", cases, sizeof (cases) / sizeof (cases [0]));
}
