/*  test_broker_snapshot: the broker's fleet model, its snapshots and link
    messages, with fake agents that send what real agents send (local and
    peer on CONNECTED / ACCEPTED, state replays after hello).  */

#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include "test_broker.h"
#include "snap_client.h"
#include "zwatch_fleet_wire.h"

//  Send one event or state message built field by field
typedef struct {
    zwatch_kind_t kind;
    uint64_t seq;
    const char *sock;
    const char *stype;
    const char *event;
    const char *endpoint;
    const char *local;          //  NULL: absent
    const char *peer;
    int64_t value;
    uint64_t count;             //  state_end
} ts_msg_t;

static zwatch_str_t
s_str (const char *text)
{
    zwatch_str_t str = { text, text? strlen (text): 0 };
    return str;
}

static void
s_send (fake_agent_t *agent, const char *host, const char *svc, uint64_t pid, ts_msg_t m)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = m.kind;
    msg.host = s_str (host);
    msg.svc = s_str (svc);
    msg.pid = pid;
    msg.ts = (uint64_t) zclock_time () * 1000000;
    msg.seq = m.seq;
    msg.count = m.count;
    if (m.kind == ZWATCH_KIND_EVENT || m.kind == ZWATCH_KIND_STATE) {
        msg.sock = s_str (m.sock);
        msg.stype = s_str (m.stype);
        msg.event = s_str (m.event);
        msg.code = zwatch_event_code (m.event, strlen (m.event));
        msg.endpoint = s_str (m.endpoint);
        msg.local = s_str (m.local);
        msg.peer = s_str (m.peer);
        msg.value = m.value;
    }
    uint8_t buffer [ZWATCH_MSG_MAX];
    int size = zwatch_msg_encode (&msg, buffer, sizeof (buffer));
    CHECK (size > 0);
    fake_agent_send_raw (agent, buffer, (size_t) size);
}

//  Read the feed until a message on exactly topic (others skipped)
static void
s_wait_topic (feed_t *feed, const char *topic)
{
    int64_t deadline = zclock_mono () + TB_WAIT_MS;
    while (zclock_mono () < deadline) {
        if (!feed_recv (feed, (int) (deadline - zclock_mono ())))
            break;
        if (streq (feed_topic (feed), topic))
            return;
    }
    fprintf (stderr, "no message on %s within %d ms\n", topic, TB_WAIT_MS);
    CHECK (false);
}

//  Read stats until map key of the stats has sub == value
static void
s_wait_stats (feed_t *feed, const char *key, const char *sub, uint64_t value)
{
    int64_t deadline = zclock_mono () + TB_WAIT_MS;
    uint64_t last = 0;
    while (zclock_mono () < deadline) {
        if (!feed_recv (feed, (int) (deadline - zclock_mono ())))
            break;
        if (!feed_is (feed, "stats/"))
            continue;
        const msgpack_object *map = feed_get (feed, key);
        const msgpack_object *found = sub? mp_get (map, sub): map;
        CHECK (found && found->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
        last = found->via.u64;
        if (last == value)
            return;
    }
    fprintf (stderr, "stats %s.%s never %" PRIu64 " (last %" PRIu64 ")\n", key,
             sub? sub: "", value, last);
    CHECK (false);
}

static broker_proc_t *
s_broker (const char *history)
{
    const char *args [] = { "--stats-interval", "0.05", "--history", history, NULL };
    return broker_proc_new (args, true);
}

//  The socket map of (svc, sock) in reply
static const msgpack_object *
s_socket (snap_reply_t *reply, const char *svc, const char *sock)
{
    for (size_t index = 0; index < snap_reply_size (reply); index++) {
        const msgpack_object *frame = snap_reply_frame (reply, index);
        if (mp_str_is (frame, "kind", "socket") && mp_str_is (frame, "svc", svc)
        &&  mp_str_is (frame, "sock", sock))
            return frame;
    }
    return NULL;
}

static const msgpack_object *
s_array (const msgpack_object *map, const char *key)
{
    const msgpack_object *array = mp_get (map, key);
    CHECK (array && array->type == MSGPACK_OBJECT_ARRAY);
    return array;
}

#define SRV_EP      "tcp://127.0.0.1:6000"
#define SRV_ADDR    "127.0.0.1:6000"
#define CLI_ADDR    "127.0.0.1:40000"

//  A listening agent and a connecting one: both sockets, the listening
//  endpoint, both ends with their addresses and one link; a link/ message
//  up, then down when the connection ends, and a fresh snapshot without it
static void
test_snapshot_link (void)
{
    broker_proc_t *broker = s_broker ("100");
    const char *prefixes [] = { "ev/", "link/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_subscribers (feed, 3, TB_WAIT_MS));
    fake_agent_t *srv = fake_agent_new (broker_proc_ingest (broker), "h1", "srv", 10);
    fake_agent_t *cli = fake_agent_new (broker_proc_ingest (broker), "h1", "cli", 11);
    fake_agent_send_state (srv, ZWATCH_KIND_HELLO, 0);
    fake_agent_send_state (cli, ZWATCH_KIND_HELLO, 0);
    s_send (srv, "h1", "srv", 10, (ts_msg_t) { ZWATCH_KIND_EVENT, 1, "router", "ROUTER",
            "LISTENING", SRV_EP, NULL, NULL, 7, 0 });
    s_send (srv, "h1", "srv", 10, (ts_msg_t) { ZWATCH_KIND_EVENT, 2, "router", "ROUTER",
            "ACCEPTED", SRV_EP, SRV_ADDR, CLI_ADDR, 8, 0 });
    s_wait_topic (feed, "ev/h1/srv/ACCEPTED");
    s_send (cli, "h1", "cli", 11, (ts_msg_t) { ZWATCH_KIND_EVENT, 1, "dealer", "DEALER",
            "CONNECTED", SRV_EP, CLI_ADDR, SRV_ADDR, 9, 0 });
    //  The link comes right after the event that made it
    CHECK (feed_recv (feed, TB_WAIT_MS));
    while (feed_is (feed, "stats/"))
        CHECK (feed_recv (feed, TB_WAIT_MS));
    CHECK_STR_EQ (feed_topic (feed), "ev/h1/cli/CONNECTED");
    CHECK (feed_recv (feed, TB_WAIT_MS));
    while (feed_is (feed, "stats/"))
        CHECK (feed_recv (feed, TB_WAIT_MS));
    CHECK_STR_EQ (feed_topic (feed), "link/h1/cli");
    CHECK (feed_get (feed, "up")->type == MSGPACK_OBJECT_BOOLEAN && feed_get (feed, "up")->via.boolean);
    CHECK_INT_EQ (feed_uint (feed, "lseq"), 1);
    CHECK_STR_EQ (feed_str (feed, "endpoint"), SRV_EP);
    CHECK (mp_str_is (feed_get (feed, "from"), "sock", "dealer"));
    CHECK (mp_str_is (feed_get (feed, "from"), "addr", CLI_ADDR));
    CHECK (mp_str_is (feed_get (feed, "to"), "svc", "srv"));
    CHECK (mp_str_is (feed_get (feed, "to"), "addr", SRV_ADDR));

    snap_client_t *client = snap_client_new (broker_proc_snapshot (broker));
    snap_reply_t *reply = snap_client_get (client, NULL, -1, TB_WAIT_MS);
    CHECK (!snap_reply_error (reply));
    CHECK_INT_EQ (snap_reply_count (reply, "agent"), 2);
    CHECK_INT_EQ (snap_reply_count (reply, "socket"), 2);
    CHECK_INT_EQ (snap_reply_count (reply, "link"), 1);
    const msgpack_object *end = snap_reply_last (reply);
    CHECK (mp_str_is (end, "kind", "snapshot_end"));
    CHECK_INT_EQ (mp_uint (end, "agents"), 2);
    CHECK_INT_EQ (mp_uint (end, "sockets"), 2);
    CHECK_INT_EQ (mp_uint (end, "links"), 1);
    CHECK_INT_EQ (mp_uint (end, "events"), 0);
    CHECK_INT_EQ (mp_uint (end, "lseq"), 1);
    const msgpack_object *router = s_socket (reply, "srv", "router");
    CHECK (router && mp_str_is (router, "stype", "ROUTER"));
    const msgpack_object *listening = s_array (router, "listening");
    CHECK_INT_EQ (listening->via.array.size, 1);
    CHECK (listening->via.array.ptr [0].type == MSGPACK_OBJECT_STR
        && listening->via.array.ptr [0].via.str.size == strlen (SRV_EP));
    const msgpack_object *in = s_array (router, "connections");
    CHECK_INT_EQ (in->via.array.size, 1);
    CHECK (mp_str_is (&in->via.array.ptr [0], "dir", "in"));
    CHECK (mp_str_is (&in->via.array.ptr [0], "local", SRV_ADDR));
    CHECK (mp_str_is (&in->via.array.ptr [0], "peer", CLI_ADDR));
    const msgpack_object *dealer = s_socket (reply, "cli", "dealer");
    CHECK (dealer);
    const msgpack_object *out = s_array (dealer, "connections");
    CHECK_INT_EQ (out->via.array.size, 1);
    CHECK (mp_str_is (&out->via.array.ptr [0], "dir", "out"));
    CHECK (mp_str_is (&out->via.array.ptr [0], "endpoint", SRV_EP));
    CHECK (mp_str_is (&out->via.array.ptr [0], "local", CLI_ADDR));
    CHECK (mp_str_is (&out->via.array.ptr [0], "peer", SRV_ADDR));
    const msgpack_object *link = snap_reply_nth (reply, "link", 0);
    CHECK (mp_str_is (mp_get (link, "from"), "svc", "cli"));
    CHECK_INT_EQ (mp_uint (mp_get (link, "from"), "pid"), 11);
    CHECK (mp_str_is (mp_get (link, "to"), "sock", "router"));
    const msgpack_object *agent = snap_reply_nth (reply, "agent", 0);
    CHECK (mp_get (agent, "partial")->type == MSGPACK_OBJECT_BOOLEAN);
    snap_reply_destroy (&reply);

    //  The connection ends: both sides say so
    s_send (cli, "h1", "cli", 11, (ts_msg_t) { ZWATCH_KIND_EVENT, 2, "dealer", "DEALER",
            "DISCONNECTED", SRV_EP, CLI_ADDR, SRV_ADDR, 9, 0 });
    s_wait_topic (feed, "ev/h1/cli/DISCONNECTED");
    CHECK (feed_recv (feed, TB_WAIT_MS));
    while (feed_is (feed, "stats/"))
        CHECK (feed_recv (feed, TB_WAIT_MS));
    CHECK_STR_EQ (feed_topic (feed), "link/h1/cli");
    CHECK (!feed_get (feed, "up")->via.boolean);
    CHECK_INT_EQ (feed_uint (feed, "lseq"), 2);
    s_send (srv, "h1", "srv", 10, (ts_msg_t) { ZWATCH_KIND_EVENT, 3, "router", "ROUTER",
            "DISCONNECTED", SRV_EP, SRV_ADDR, CLI_ADDR, 8, 0 });
    s_wait_topic (feed, "ev/h1/srv/DISCONNECTED");
    reply = snap_client_get (client, NULL, -1, TB_WAIT_MS);
    CHECK_INT_EQ (snap_reply_count (reply, "link"), 0);
    CHECK_INT_EQ (s_array (s_socket (reply, "srv", "router"), "connections")->via.array.size, 0);
    CHECK_INT_EQ (s_array (s_socket (reply, "cli", "dealer"), "connections")->via.array.size, 0);
    CHECK_INT_EQ (s_array (s_socket (reply, "srv", "router"), "listening")->via.array.size, 1);
    CHECK_INT_EQ (mp_uint (snap_reply_last (reply), "lseq"), 2);
    snap_reply_destroy (&reply);
    //  Stats: the model's sizes and the snapshots served
    s_wait_stats (feed, "snapshots", "served", 2);
    CHECK_INT_EQ (mp_uint (feed_get (feed, "fleet"), "agents"), 2);
    CHECK_INT_EQ (mp_uint (feed_get (feed, "fleet"), "links"), 0);
    CHECK_INT_EQ (mp_uint (feed_get (feed, "fleet"), "lseq"), 2);
    CHECK_INT_EQ (feed_uint (feed, "links_out"), 2);

    //  MONITOR_STOPPED takes the socket away
    s_send (cli, "h1", "cli", 11, (ts_msg_t) { ZWATCH_KIND_EVENT, 3, "dealer", "DEALER",
            "MONITOR_STOPPED", "", NULL, NULL, 0, 0 });
    s_wait_topic (feed, "ev/h1/cli/MONITOR_STOPPED");
    reply = snap_client_get (client, NULL, -1, TB_WAIT_MS);
    CHECK (!s_socket (reply, "cli", "dealer"));
    CHECK_INT_EQ (snap_reply_count (reply, "socket"), 1);
    snap_reply_destroy (&reply);
    snap_client_destroy (&client);
    fake_agent_destroy (&srv);
    fake_agent_destroy (&cli);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

//  Wait for a snapshot whose only agent's partial is want
static snap_reply_t *
s_wait_partial (snap_client_t *client, bool want)
{
    int64_t deadline = zclock_mono () + TB_WAIT_MS;
    while (zclock_mono () < deadline) {
        snap_reply_t *reply = snap_client_get (client, NULL, -1, TB_WAIT_MS);
        const msgpack_object *agent = snap_reply_nth (reply, "agent", 0);
        const msgpack_object *partial = mp_get (agent, "partial");
        if (partial && partial->via.boolean == want)
            return reply;
        snap_reply_destroy (&reply);
        zclock_sleep (10);      //  polling a condition with a bound, not a wait for ready
    }
    fprintf (stderr, "partial never became %d\n", want);
    CHECK (false);
    return NULL;
}

//  state + state_end replace what the broker held; a count mismatch gives partial
static void
test_snapshot_replay (void)
{
    broker_proc_t *broker = s_broker ("0");
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "h2", "svc", 20);
    snap_client_t *client = snap_client_new (broker_proc_snapshot (broker));
    //  What the broker knew before (say, from events): a socket the replay lacks
    fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 4);
    s_send (agent, "h2", "svc", 20, (ts_msg_t) { ZWATCH_KIND_EVENT, 5, "old", "PUB",
            "LISTENING", "tcp://*:7000", NULL, NULL, 3, 0 });
    snap_reply_t *reply = s_wait_partial (client, true);
    CHECK (s_socket (reply, "svc", "old"));
    snap_reply_destroy (&reply);
    //  The replay: one listening endpoint, one live connection, seq 5
    s_send (agent, "h2", "svc", 20, (ts_msg_t) { ZWATCH_KIND_STATE, 5, "rep", "REP",
            "LISTENING", "tcp://*:7001", NULL, NULL, 3, 0 });
    s_send (agent, "h2", "svc", 20, (ts_msg_t) { ZWATCH_KIND_STATE, 5, "req", "REQ",
            "CONNECTED", "tcp://10.1.1.1:7002", "10.1.1.2:5000", "10.1.1.1:7002", 4, 0 });
    s_send (agent, "h2", "svc", 20, (ts_msg_t) { ZWATCH_KIND_STATE_END, 5, NULL, NULL,
            NULL, NULL, NULL, NULL, 0, 2 });
    reply = s_wait_partial (client, false);
    CHECK (!s_socket (reply, "svc", "old"));
    CHECK (s_socket (reply, "svc", "rep"));
    CHECK_INT_EQ (s_array (s_socket (reply, "svc", "rep"), "listening")->via.array.size, 1);
    const msgpack_object *out = s_array (s_socket (reply, "svc", "req"), "connections");
    CHECK_INT_EQ (out->via.array.size, 1);
    CHECK (mp_str_is (&out->via.array.ptr [0], "local", "10.1.1.2:5000"));
    CHECK_INT_EQ (mp_uint (snap_reply_nth (reply, "agent", 0), "seq"), 5);
    snap_reply_destroy (&reply);
    //  A replay cut short (count 3, two states): partial, the state kept
    fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 5);
    s_send (agent, "h2", "svc", 20, (ts_msg_t) { ZWATCH_KIND_STATE, 5, "rep", "REP",
            "LISTENING", "tcp://*:7001", NULL, NULL, 3, 0 });
    s_send (agent, "h2", "svc", 20, (ts_msg_t) { ZWATCH_KIND_STATE_END, 5, NULL, NULL,
            NULL, NULL, NULL, NULL, 0, 3 });
    reply = s_wait_partial (client, true);
    CHECK (s_socket (reply, "svc", "req"));
    snap_reply_destroy (&reply);
    snap_client_destroy (&client);
    fake_agent_destroy (&agent);
    broker_proc_destroy (&broker);
}

//  prefix selects agents as a subscription would; history sends the last
//  events as published, oldest first, at most the ring
static void
test_snapshot_prefix_history (void)
{
    broker_proc_t *broker = s_broker ("8");
    const char *prefixes [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_subscribers (feed, 2, TB_WAIT_MS));
    const char *names [3][2] = { { "h1", "a" }, { "h1", "b" }, { "h10", "a" } };
    fake_agent_t *agents [3];
    for (int index = 0; index < 3; index++) {
        agents [index] = fake_agent_new (broker_proc_ingest (broker), names [index][0],
                                         names [index][1], 30 + (uint64_t) index);
        for (uint64_t seq = 1; seq <= 4; seq++)
            s_send (agents [index], names [index][0], names [index][1], 30 + (uint64_t) index,
                    (ts_msg_t) { ZWATCH_KIND_EVENT, seq, "s", "PUB", "LISTENING",
                                 seq % 2? "tcp://*:1": "tcp://*:2", NULL, NULL, 1, 0 });
    }
    //  The three agents' links are read in whatever order the broker's
    //  poll gives: the feed says which event was published last
    char last_host [8] = "";
    uint64_t last_seq = 0;
    for (int count = 0; count < 12; count++) {
        CHECK (feed_recv (feed, TB_WAIT_MS));
        if (!feed_is (feed, "ev/")) {
            count--;
            continue;
        }
        snprintf (last_host, sizeof (last_host), "%s", feed_str (feed, "host"));
        last_seq = feed_uint (feed, "seq");
    }
    snap_client_t *client = snap_client_new (broker_proc_snapshot (broker));
    struct { const char *prefix; size_t agents; } cases [] = {
        { NULL, 3 }, { "", 3 }, { "ev/", 3 }, { "ev/h1/", 2 }, { "ev/h1", 3 }, { "ev/h1/a/", 1 },
        { "ev/h1/a/LISTENING", 1 }, { "ev/h2/", 0 }, { "agent/", 0 }
    };
    for (size_t index = 0; index < sizeof (cases) / sizeof (cases [0]); index++) {
        snap_reply_t *reply = snap_client_get (client, cases [index].prefix, -1, TB_WAIT_MS);
        CHECK (!snap_reply_error (reply));
        if (snap_reply_count (reply, "agent") != cases [index].agents)
            fprintf (stderr, "prefix %s\n", cases [index].prefix);
        CHECK_INT_EQ (snap_reply_count (reply, "agent"), cases [index].agents);
        CHECK_INT_EQ (snap_reply_count (reply, "socket"), cases [index].agents);
        CHECK_INT_EQ (snap_reply_count (reply, "event"), 0);
        snap_reply_destroy (&reply);
    }
    //  history: 5 -> the last 5; 0 -> none; a million -> the ring's 8
    struct { int64_t history; size_t events; } asks [] = { { 5, 5 }, { 0, 0 }, { 1000000, 8 } };
    for (size_t index = 0; index < 3; index++) {
        snap_reply_t *reply = snap_client_get (client, "ev/h2/", asks [index].history, TB_WAIT_MS);
        CHECK_INT_EQ (snap_reply_count (reply, "event"), asks [index].events);
        CHECK_INT_EQ (mp_uint (snap_reply_last (reply), "events"), asks [index].events);
        //  Oldest first: the very last one published is the last
        for (size_t nth = 0; nth < asks [index].events; nth++) {
            const msgpack_object *event = snap_reply_nth (reply, "event", nth);
            CHECK (mp_str_is (event, "kind", "event"));
            if (nth + 1 == asks [index].events) {
                CHECK (mp_str_is (event, "host", last_host));
                CHECK_INT_EQ (mp_uint (event, "seq"), last_seq);
            }
        }
        snap_reply_destroy (&reply);
    }
    snap_client_destroy (&client);
    for (int index = 0; index < 3; index++)
        fake_agent_destroy (&agents [index]);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

//  Each bad request gets its one error, counted by reason
static void
test_snapshot_bad_requests (void)
{
    broker_proc_t *broker = s_broker ("10");
    const char *prefixes [] = { "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    snap_client_t *client = snap_client_new (broker_proc_snapshot (broker));
    //  Not msgpack: a map cut short
    snap_client_send_raw (client, "\x82\xa1v", 3);
    snap_reply_t *reply = snap_client_reply (client, TB_WAIT_MS);
    CHECK (reply);
    CHECK_STR_EQ (snap_reply_error (reply), "malformed");
    CHECK_INT_EQ (snap_reply_size (reply), 1);
    snap_reply_destroy (&reply);
    //  Wrong types: {"v":1,"kind":"snapshot","history":"x"}
    const char bad_type [] = "\x83\xa1v\x01\xa4kind\xa8snapshot\xa7history\xa1x";
    snap_client_send_raw (client, bad_type, sizeof (bad_type) - 1);
    reply = snap_client_reply (client, TB_WAIT_MS);
    CHECK_STR_EQ (snap_reply_error (reply), "bad_type");
    snap_reply_destroy (&reply);
    //  A prefix of 200 bytes
    char prefix [201];
    memset (prefix, 'p', 200);
    prefix [200] = 0;
    reply = snap_client_get (client, prefix, -1, TB_WAIT_MS);
    CHECK_STR_EQ (snap_reply_error (reply), "bad_prefix");
    snap_reply_destroy (&reply);
    //  Several frames
    uint8_t request [64];
    int size = zwatch_fleet_request_encode (request, sizeof (request), NULL, -1);
    CHECK (size > 0);
    snap_client_send_parts (client, request, (size_t) size, 3);
    reply = snap_client_reply (client, TB_WAIT_MS);
    CHECK_STR_EQ (snap_reply_error (reply), "multipart");
    snap_reply_destroy (&reply);
    //  Too large
    char large [2000];
    memset (large, 0xc0, sizeof (large));
    snap_client_send_raw (client, large, sizeof (large));
    reply = snap_client_reply (client, TB_WAIT_MS);
    CHECK_STR_EQ (snap_reply_error (reply), "too_large");
    snap_reply_destroy (&reply);
    //  v 2
    const char version [] = "\x82\xa1v\x02\xa4kind\xa8snapshot";
    snap_client_send_raw (client, version, sizeof (version) - 1);
    reply = snap_client_reply (client, TB_WAIT_MS);
    CHECK_STR_EQ (snap_reply_error (reply), "bad_version");
    snap_reply_destroy (&reply);
    //  The broker goes on: a good request is served
    reply = snap_client_get (client, NULL, -1, TB_WAIT_MS);
    CHECK (!snap_reply_error (reply));
    snap_reply_destroy (&reply);
    s_wait_stats (feed, "snapshots", "refused", 6);
    const msgpack_object *by = mp_get (feed_get (feed, "snapshots"), "refused_by");
    CHECK_INT_EQ (mp_uint (by, "malformed"), 1);
    CHECK_INT_EQ (mp_uint (by, "bad_type"), 1);
    CHECK_INT_EQ (mp_uint (by, "bad_prefix"), 1);
    CHECK_INT_EQ (mp_uint (by, "multipart"), 1);
    CHECK_INT_EQ (mp_uint (by, "too_large"), 1);
    CHECK_INT_EQ (mp_uint (by, "bad_version"), 1);
    CHECK_INT_EQ (mp_uint (feed_get (feed, "snapshots"), "served"), 1);
    snap_client_destroy (&client);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

#define FLOOD_EVENTS    50000
#define FLOOD_CLIENTS   40

//  A flood of requests and a client that never reads: "busy" beyond the
//  replies in progress, the stalled client dropped, and events flow to a
//  subscriber all along
static void
test_snapshot_flood (void)
{
    broker_proc_t *broker = s_broker ("100000");
    const char *prefixes [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_subscribers (feed, 2, TB_WAIT_MS));
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "h3", "load", 40);
    //  A full ring: each history reply is 50000 frames
    for (uint64_t seq = 1; seq <= FLOOD_EVENTS; seq++) {
        size_t size;
        fake_agent_send_event (agent, seq, "CONNECT_DELAYED", &size);
    }
    s_wait_stats (feed, "events_out", NULL, FLOOD_EVENTS);
    while (feed_recv (feed, 0))
        ;
    //  A client that asks for everything and never reads
    zsock_t *stuck = zsock_new (ZMQ_DEALER);
    zsock_set_rcvhwm (stuck, 1);
    zsock_set_rcvbuf (stuck, 4096);
    CHECK (zsock_connect (stuck, "%s", broker_proc_snapshot (broker)) == 0);
    uint8_t request [64];
    int size = zwatch_fleet_request_encode (request, sizeof (request), NULL, FLOOD_EVENTS);
    CHECK (zmq_send (zsock_resolve (stuck), request, (size_t) size, 0) == size);
    //  Its reply has begun (its connection may be made after the flood's:
    //  then it would be refused busy, not stall): one frame read, no more
    zmq_pollitem_t item = { zsock_resolve (stuck), 0, ZMQ_POLLIN, 0 };
    CHECK (zmq_poll (&item, 1, TB_WAIT_MS) == 1);
    zframe_t *first = zframe_recv (stuck);
    CHECK (first);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    CHECK (msgpack_unpack_next (&unpacked, (const char *) zframe_data (first), zframe_size (first),
                                NULL) == MSGPACK_UNPACK_SUCCESS);
    CHECK (!mp_str_is (&unpacked.data, "kind", "error"));
    msgpack_unpacked_destroy (&unpacked);
    zframe_destroy (&first);
    //  A flood: many clients at once, each asking for the whole history
    snap_client_t *flood [FLOOD_CLIENTS];
    for (int index = 0; index < FLOOD_CLIENTS; index++) {
        flood [index] = snap_client_new (broker_proc_snapshot (broker));
        snap_client_request (flood [index], NULL, FLOOD_EVENTS);
    }
    //  Meanwhile an event goes through
    size_t event_size;
    fake_agent_send_event (agent, FLOOD_EVENTS + 1, "CONNECT_RETRIED", &event_size);
    s_wait_topic (feed, "ev/h3/load/CONNECT_RETRIED");
    //  Every request gets one answer: a whole reply or "busy"
    size_t served = 0, busy = 0;
    for (int index = 0; index < FLOOD_CLIENTS; index++) {
        snap_reply_t *reply = snap_client_reply (flood [index], 60000);
        CHECK (reply);
        const char *error = snap_reply_error (reply);
        if (error) {
            CHECK_STR_EQ (error, "busy");
            CHECK_INT_EQ (snap_reply_size (reply), 1);
            busy++;
        }
        else {
            CHECK_INT_EQ (snap_reply_count (reply, "event"), FLOOD_EVENTS);
            served++;
        }
        snap_reply_destroy (&reply);
    }
    CHECK_INT_EQ (served + busy, FLOOD_CLIENTS);
    CHECK (busy > 0);
    CHECK (served > 0);
    //  The stuck client is dropped at the stall bound
    //  (counters only grow: served reaches its count, then dropped its own)
    s_wait_stats (feed, "snapshots", "served", served);
    s_wait_stats (feed, "snapshots", "dropped", 1);
    CHECK_INT_EQ (mp_uint (mp_get (feed_get (feed, "snapshots"), "refused_by"), "busy"), busy);
    CHECK_INT_EQ (mp_uint (feed_get (feed, "snapshots"), "served"), served);
    //  And events still flow after it
    fake_agent_send_event (agent, FLOOD_EVENTS + 2, "CONNECT_RETRIED", &event_size);
    s_wait_topic (feed, "ev/h3/load/CONNECT_RETRIED");
    zsock_destroy (&stuck);
    for (int index = 0; index < FLOOD_CLIENTS; index++)
        snap_client_destroy (&flood [index]);
    fake_agent_destroy (&agent);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

//  The stats' snapshots.refused_by count of reason, 0 if absent
static uint64_t
s_refused_by (feed_t *feed, const char *reason)
{
    const msgpack_object *by = mp_get (feed_get (feed, "snapshots"), "refused_by");
    CHECK (by && by->type == MSGPACK_OBJECT_MAP);
    return mp_get (by, reason)? mp_uint (by, reason): 0;
}

//  --no-fleet (and fleet = 0 in a file): events are forwarded as always,
//  the model stays empty (no link/ message), a valid snapshot request gets
//  one error no_fleet, a bad one still its own reason; a bad value is a
//  usage error
static void
test_snapshot_no_fleet (void)
{
    const char *args [] = { "--stats-interval", "0.05", "--no-fleet", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    CHECK (broker_proc_wait_log (broker, "no fleet model", TB_WAIT_MS));
    const char *prefixes [] = { "ev/", "link/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_subscribers (feed, 3, TB_WAIT_MS));
    fake_agent_t *srv = fake_agent_new (broker_proc_ingest (broker), "h1", "srv", 10);
    fake_agent_t *cli = fake_agent_new (broker_proc_ingest (broker), "h1", "cli", 11);
    fake_agent_send_state (srv, ZWATCH_KIND_HELLO, 0);
    fake_agent_send_state (cli, ZWATCH_KIND_HELLO, 0);
    s_send (srv, "h1", "srv", 10, (ts_msg_t) { ZWATCH_KIND_EVENT, 1, "router", "ROUTER",
            "LISTENING", SRV_EP, NULL, NULL, 7, 0 });
    s_send (srv, "h1", "srv", 10, (ts_msg_t) { ZWATCH_KIND_EVENT, 2, "router", "ROUTER",
            "ACCEPTED", SRV_EP, SRV_ADDR, CLI_ADDR, 8, 0 });
    s_wait_topic (feed, "ev/h1/srv/ACCEPTED");
    s_send (cli, "h1", "cli", 11, (ts_msg_t) { ZWATCH_KIND_EVENT, 1, "dealer", "DEALER",
            "CONNECTED", SRV_EP, CLI_ADDR, SRV_ADDR, 9, 0 });
    s_wait_topic (feed, "ev/h1/cli/CONNECTED");
    //  The stats of after the three events: the agents tracked, the model empty
    s_wait_stats (feed, "events_out", NULL, 3);
    CHECK_INT_EQ (feed_uint (feed, "agents"), 2);
    CHECK_INT_EQ (feed_uint (feed, "links_out"), 0);
    CHECK_INT_EQ (mp_uint (feed_get (feed, "fleet"), "agents"), 0);
    CHECK_INT_EQ (mp_uint (feed_get (feed, "fleet"), "connections"), 0);
    CHECK_INT_EQ (mp_uint (feed_get (feed, "fleet"), "links"), 0);
    CHECK_INT_EQ (mp_uint (feed_get (feed, "snapshots"), "history"), 0);

    snap_client_t *client = snap_client_new (broker_proc_snapshot (broker));
    snap_reply_t *reply = snap_client_get (client, NULL, 10, TB_WAIT_MS);
    CHECK_INT_EQ (snap_reply_size (reply), 1);
    CHECK (snap_reply_error (reply));
    CHECK_STR_EQ (snap_reply_error (reply), "no_fleet");
    snap_reply_destroy (&reply);
    snap_client_send_raw (client, "\x93\x01\x02\x03", 4);
    reply = snap_client_reply (client, TB_WAIT_MS);
    CHECK (reply && snap_reply_error (reply));
    CHECK_STR_EQ (snap_reply_error (reply), "not_map");
    snap_reply_destroy (&reply);
    s_wait_stats (feed, "snapshots", "refused", 2);
    CHECK_INT_EQ (s_refused_by (feed, "no_fleet"), 1);
    CHECK_INT_EQ (s_refused_by (feed, "not_map"), 1);
    CHECK_INT_EQ (mp_uint (feed_get (feed, "snapshots"), "served"), 0);
    //  No link/ message ever came: the feed holds only stats
    while (feed_recv (feed, 0))
        CHECK (feed_is (feed, "stats/"));
    //  Events still go through after the refusals
    s_send (srv, "h1", "srv", 10, (ts_msg_t) { ZWATCH_KIND_EVENT, 3, "router", "ROUTER",
            "DISCONNECTED", SRV_EP, SRV_ADDR, CLI_ADDR, 8, 0 });
    s_wait_topic (feed, "ev/h1/srv/DISCONNECTED");
    snap_client_destroy (&client);
    fake_agent_destroy (&cli);
    fake_agent_destroy (&srv);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);

    //  The ZPL key: fleet = 0 does the same, fleet = 1 (the default) serves
    const char *values [] = { "0", "1" };
    for (size_t index = 0; index < 2; index++) {
        char *path = tu_temp_path (".cfg");
        FILE *file = fopen (path, "w");
        CHECK (file);
        fprintf (file, "broker\n    fleet = %s\n", values [index]);
        fclose (file);
        const char *file_args [] = { "--config", path, NULL };
        broker = broker_proc_new (file_args, true);
        client = snap_client_new (broker_proc_snapshot (broker));
        reply = snap_client_get (client, NULL, -1, TB_WAIT_MS);
        if (index == 0) {
            CHECK (snap_reply_error (reply));
            CHECK_STR_EQ (snap_reply_error (reply), "no_fleet");
        }
        else {
            CHECK (!snap_reply_error (reply));
            CHECK (mp_str_is (snap_reply_last (reply), "kind", "snapshot_end"));
        }
        snap_reply_destroy (&reply);
        snap_client_destroy (&client);
        broker_proc_destroy (&broker);
        unlink (path);
        free (path);
    }
    //  A value that is not a bool, and --no-fleet takes no value
    char *errors = NULL;
    const char *bad [] = { "--no-fleet=1", NULL };
    CHECK_INT_EQ (broker_proc_run (bad, TB_WAIT_MS, &errors), 2);
    CHECK (strstr (errors, "--no-fleet"));
    free (errors);
    char *path = tu_temp_path (".cfg");
    FILE *file = fopen (path, "w");
    CHECK (file);
    fprintf (file, "broker\n    fleet = maybe\n");
    fclose (file);
    const char *bad_file [] = { "--config", path, NULL };
    CHECK_INT_EQ (broker_proc_run (bad_file, TB_WAIT_MS, &errors), 2);
    CHECK (strstr (errors, "bad value for 'fleet' in "));
    CHECK (strstr (errors, "'maybe' (expected 0 or 1)"));
    free (errors);
    unlink (path);
    free (path);
}

int
main (int argc, char *argv [])
{
    zsys_init ();
    zsys_set_logstream (stderr);
    static const tu_case_t cases [] = {
        { "link", test_snapshot_link }, { "replay", test_snapshot_replay },
        { "prefix_history", test_snapshot_prefix_history },
        { "bad_requests", test_snapshot_bad_requests }, { "flood", test_snapshot_flood },
        { "no_fleet", test_snapshot_no_fleet }
    };
    return tu_run_cases (argc, argv, "test_broker_snapshot", cases,
                         sizeof (cases) / sizeof (cases [0]));
}
