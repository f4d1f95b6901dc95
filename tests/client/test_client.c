/*  test_client: libzwatch-client against the real broker, real agents in
    real processes (tests/util/agent_child) and hand-made ones
    (fake_agent), and against a broker faked in the test (bad input).

    changes   a DEALER service connects to a ROUTER service and closes: the
              exact changes per agent, the link after both ends, the state
    gap       a fake agent skips seq 3 and 4: GAP of 2 from that agent, then
              the client starts over
    restart   the broker SIGKILLed and restarted on the same ports while a
              service closes its socket: the client notices, starts over and
              holds what a fresh snapshot shows, field by field
    filters   host and service filters: the agents held, snapshot and feed
    bad_input bad snapshot frames and feed messages are counted by reason
              and skipped; the good ones still apply
    poll_fd   the client driven from poll () on zwatch_client_fd
*/

#define _GNU_SOURCE
#include <czmq.h>
#include <msgpack.h>
#include <poll.h>
#include <signal.h>
#include "zwatch.h"
#include "zwatch_client.h"
#include "zwatch_fleet_wire.h"
#include "agent_child.h"
#include "broker_proc.h"
#include "fake_agent.h"
#include "snap_client.h"
#include "testutil.h"

#define WAIT_MS     30000       //  bound on anything the test waits for
#define STEP_MS     100

static const char *
s_kind_name (zwatch_change_kind_t kind)
{
    static const char *names [] = {
        "?", "AGENT_UP", "AGENT_GONE", "AGENT_LOST", "SOCKET_ADDED", "SOCKET_REMOVED",
        "CONNECTION_UP", "CONNECTION_DOWN", "LINK_UP", "LINK_DOWN", "EVENT", "STATS", "GAP",
        "RESYNC_START", "RESYNC_DONE", "BROKER_UNREACHABLE", "BROKER_BACK", "HISTORY"
    };
    return kind <= ZWATCH_CHANGE_HISTORY? names [kind]: "?";
}

//  A change as one line the tests compare
static char *
s_line (const zwatch_change_t *change)
{
    switch (change->kind) {
        case ZWATCH_CHANGE_SOCKET_ADDED:
        case ZWATCH_CHANGE_SOCKET_REMOVED:
            return zsys_sprintf ("%s %s %s %s", s_kind_name (change->kind), change->svc,
                                 change->sock, change->stype);
        case ZWATCH_CHANGE_CONNECTION_UP:
        case ZWATCH_CHANGE_CONNECTION_DOWN:
            return zsys_sprintf ("%s %s %s %s %s", s_kind_name (change->kind), change->svc,
                                 change->sock, change->in? "in": "out", change->endpoint);
        case ZWATCH_CHANGE_LINK_UP:
        case ZWATCH_CHANGE_LINK_DOWN:
            return zsys_sprintf ("%s %s/%s -> %s/%s %s", s_kind_name (change->kind),
                                 change->from.svc, change->from.sock, change->to.svc,
                                 change->to.sock, change->endpoint);
        case ZWATCH_CHANGE_EVENT:
        case ZWATCH_CHANGE_HISTORY:
            return zsys_sprintf ("%s %s %s %s %" PRIu64, s_kind_name (change->kind),
                                 change->svc, change->sock, change->event, change->seq);
        default:
            return zsys_sprintf ("%s %s", s_kind_name (change->kind),
                                 change->reason? change->reason: "");
    }
}

//  The next change of kind, the others skipped; the test fails after WAIT_MS
static const zwatch_change_t *
s_wait_kind (zwatch_client_t *client, zwatch_change_kind_t kind)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (tu_now_ms () < deadline) {
        const zwatch_change_t *change = zwatch_client_next (client, STEP_MS);
        if (change && change->kind == kind)
            return change;
    }
    fprintf (stderr, "no %s in %d ms\n", s_kind_name (kind), WAIT_MS);
    CHECK (false);
    return NULL;
}

//  The agent of svc in the client's state, or NULL
static zwatch_client_agent_t *
s_agent (zwatch_client_t *client, const char *svc)
{
    zwatch_client_agent_t *agent = zwatch_client_agent_first (client);
    for (; agent; agent = zwatch_client_agent_next (client))
        if (strcmp (zwatch_client_agent_svc (agent), svc) == 0)
            return agent;
    return NULL;
}

static zwatch_client_socket_t *
s_socket (zwatch_client_agent_t *agent, const char *label)
{
    zwatch_client_socket_t *socket = agent? zwatch_client_socket_first (agent): NULL;
    for (; socket; socket = zwatch_client_socket_next (agent))
        if (strcmp (zwatch_client_socket_label (socket), label) == 0)
            return socket;
    return NULL;
}


/*  changes  */

static void s_print (zlistx_t *lines);

//  Lines of kinds SOCKET_* / CONNECTION_* / LINK_* until every line of
//  expected has come (in any order), the test failing after WAIT_MS
static zlistx_t *
s_collect (zwatch_client_t *client, const char *const *expected, size_t count)
{
    zlistx_t *lines = zlistx_new ();
    zlistx_set_destructor (lines, (zlistx_destructor_fn *) zstr_free);
    long long deadline = tu_now_ms () + WAIT_MS;
    size_t seen = 0;
    while (seen < count) {
        if (tu_now_ms () > deadline)
            s_print (lines);
        CHECK (tu_now_ms () < deadline);
        const zwatch_change_t *change = zwatch_client_next (client, STEP_MS);
        if (!change || change->kind < ZWATCH_CHANGE_SOCKET_ADDED
        ||  change->kind > ZWATCH_CHANGE_LINK_DOWN)
            continue;
        char *line = s_line (change);
        for (size_t index = 0; index < count; index++)
            if (strcmp (line, expected [index]) == 0)
                seen++;
        zlistx_add_end (lines, line);
    }
    return lines;
}

//  Position of line in lines (the test fails if absent)
static size_t
s_position (zlistx_t *lines, const char *line)
{
    size_t index = 0;
    for (char *item = (char *) zlistx_first (lines); item; item = (char *) zlistx_next (lines),
         index++)
        if (strcmp (item, line) == 0)
            return index;
    fprintf (stderr, "missing: %s\n", line);
    CHECK (false);
    return 0;
}

static void
s_print (zlistx_t *lines)
{
    for (char *item = (char *) zlistx_first (lines); item; item = (char *) zlistx_next (lines))
        fprintf (stderr, "  %s\n", item);
}

static void
s_test_changes (void)
{
    broker_proc_t *broker = broker_proc_new (NULL, true);
    const char *ingest = broker_proc_ingest (broker);
    char *server_ep = tu_free_endpoint ();
    zwatch_client_t *client = zwatch_client_new (broker_proc_publish (broker),
                                                 broker_proc_snapshot (broker));
    CHECK (client);
    CHECK_INT_EQ (zwatch_client_start (client), 0);
    s_wait_kind (client, ZWATCH_CHANGE_RESYNC_DONE);

    agent_child_t server = agent_child_start (ingest, "ch-host", "ch-srv", ZMQ_ROUTER, "api",
                                              server_ep, true);
    agent_child_t dealer = agent_child_start (ingest, "ch-host", "ch-cli", ZMQ_DEALER,
                                              "client", server_ep, false);
    //  Both agents up, the server listening
    long long deadline = tu_now_ms () + WAIT_MS;
    while (!s_agent (client, "ch-cli") || !s_socket (s_agent (client, "ch-srv"), "api")
       ||  !zwatch_client_listening_first (s_socket (s_agent (client, "ch-srv"), "api"))) {
        CHECK (tu_now_ms () < deadline);
        zwatch_client_next (client, STEP_MS);
    }

    //  Connect: per agent in this order, the link once both ends are there
    agent_child_say (&dealer, 'o');
    char *cli_added = zsys_sprintf ("SOCKET_ADDED ch-cli client DEALER");
    char *cli_up = zsys_sprintf ("CONNECTION_UP ch-cli client out %s", server_ep);
    char *srv_up = zsys_sprintf ("CONNECTION_UP ch-srv api in %s", server_ep);
    char *link_up = zsys_sprintf ("LINK_UP ch-cli/client -> ch-srv/api %s", server_ep);
    const char *ups [] = { cli_added, cli_up, srv_up, link_up };
    zlistx_t *lines = s_collect (client, ups, 4);
    if (zlistx_size (lines) != 4)
        s_print (lines);
    CHECK_INT_EQ (zlistx_size (lines), 4);
    CHECK (s_position (lines, cli_added) < s_position (lines, cli_up));
    CHECK (s_position (lines, link_up) > s_position (lines, cli_up));
    CHECK (s_position (lines, link_up) > s_position (lines, srv_up));
    zlistx_destroy (&lines);

    //  The state: both ends with mirrored addresses, one link
    zwatch_client_socket_t *api = s_socket (s_agent (client, "ch-srv"), "api");
    zwatch_client_socket_t *cli = s_socket (s_agent (client, "ch-cli"), "client");
    CHECK (api && cli);
    CHECK_STR_EQ (zwatch_client_socket_stype (api), "ROUTER");
    CHECK_STR_EQ (zwatch_client_listening_first (api), server_ep);
    CHECK (zwatch_client_listening_next (api) == NULL);
    CHECK_INT_EQ (zwatch_client_socket_connections (api), 1);
    CHECK_INT_EQ (zwatch_client_socket_connections (cli), 1);
    zwatch_client_conn_t *in = zwatch_client_conn_first (api);
    zwatch_client_conn_t *out = zwatch_client_conn_first (cli);
    CHECK (zwatch_client_conn_in (in) && !zwatch_client_conn_in (out));
    CHECK_STR_EQ (zwatch_client_conn_local (in), server_ep + strlen ("tcp://"));
    CHECK_STR_EQ (zwatch_client_conn_peer (out), server_ep + strlen ("tcp://"));
    CHECK_STR_EQ (zwatch_client_conn_peer (in), zwatch_client_conn_local (out));
    CHECK_STR_EQ (zwatch_client_conn_endpoint (out), server_ep);
    CHECK_INT_EQ (zwatch_client_links (client), 1);
    const zwatch_client_link_t *link = zwatch_client_link_first (client);
    CHECK_STR_EQ (zwatch_client_link_from (link)->svc, "ch-cli");
    CHECK_STR_EQ (zwatch_client_link_from (link)->sock, "client");
    CHECK_STR_EQ (zwatch_client_link_from (link)->addr, zwatch_client_conn_local (out));
    CHECK_STR_EQ (zwatch_client_link_to (link)->svc, "ch-srv");
    CHECK_STR_EQ (zwatch_client_link_to (link)->addr, server_ep + strlen ("tcp://"));
    CHECK_STR_EQ (zwatch_client_link_endpoint (link), server_ep);

    //  Close: both ends down, the link down after the first, the socket gone
    agent_child_say (&dealer, 'c');
    char *cli_down = zsys_sprintf ("CONNECTION_DOWN ch-cli client out %s", server_ep);
    char *cli_removed = zsys_sprintf ("SOCKET_REMOVED ch-cli client DEALER");
    char *srv_down = zsys_sprintf ("CONNECTION_DOWN ch-srv api in %s", server_ep);
    char *link_down = zsys_sprintf ("LINK_DOWN ch-cli/client -> ch-srv/api %s", server_ep);
    const char *downs [] = { cli_down, cli_removed, srv_down, link_down };
    lines = s_collect (client, downs, 4);
    if (zlistx_size (lines) != 4)
        s_print (lines);
    CHECK_INT_EQ (zlistx_size (lines), 4);
    CHECK (s_position (lines, cli_down) < s_position (lines, cli_removed));
    size_t first_down = s_position (lines, cli_down) < s_position (lines, srv_down)
                      ? s_position (lines, cli_down): s_position (lines, srv_down);
    CHECK (s_position (lines, link_down) > first_down);
    zlistx_destroy (&lines);
    CHECK_INT_EQ (zwatch_client_links (client), 0);
    CHECK_INT_EQ (zwatch_client_agent_sockets (s_agent (client, "ch-cli")), 0);
    CHECK_INT_EQ (zwatch_client_socket_connections (s_socket (s_agent (client, "ch-srv"),
                                                              "api")), 0);
    CHECK_INT_EQ (zwatch_client_bad (client, NULL), 0);

    //  The DEALER's service says bye: AGENT_GONE
    agent_child_end (&dealer);
    const zwatch_change_t *gone = s_wait_kind (client, ZWATCH_CHANGE_AGENT_GONE);
    CHECK_STR_EQ (gone->svc, "ch-cli");
    CHECK (s_agent (client, "ch-cli") == NULL);

    zwatch_client_destroy (&client);
    CHECK (client == NULL);
    agent_child_end (&server);
    broker_proc_destroy (&broker);
    free (cli_added); free (cli_up); free (srv_up); free (link_up);
    free (cli_down); free (cli_removed); free (srv_down); free (link_down);
    free (server_ep);
}


/*  gap  */

static void
s_test_gap (void)
{
    broker_proc_t *broker = broker_proc_new (NULL, true);
    zwatch_client_t *client = zwatch_client_new (broker_proc_publish (broker),
                                                 broker_proc_snapshot (broker));
    CHECK_INT_EQ (zwatch_client_start (client), 0);
    s_wait_kind (client, ZWATCH_CHANGE_RESYNC_DONE);
    uint64_t snapshots = zwatch_client_snapshots (client);

    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "gap-host", "gap-svc",
                                          4242);
    fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 0);
    const zwatch_change_t *change = s_wait_kind (client, ZWATCH_CHANGE_AGENT_UP);
    CHECK_STR_EQ (change->host, "gap-host");
    size_t size;
    fake_agent_send_event (agent, 1, "CONNECT_DELAYED", &size);
    fake_agent_send_event (agent, 2, "CONNECT_DELAYED", &size);
    fake_agent_send_event (agent, 5, "CONNECT_DELAYED", &size);   //  3 and 4 lost

    //  Exactly: events 1 and 2, the gap of 2 before 5, event 5, the resync
    const char *expected [] = {
        "EVENT gap-svc fake-sock CONNECT_DELAYED 1", "EVENT gap-svc fake-sock CONNECT_DELAYED 2",
        "GAP ", "EVENT gap-svc fake-sock CONNECT_DELAYED 5", "RESYNC_START gap", "RESYNC_DONE "
    };
    long long deadline = tu_now_ms () + WAIT_MS;
    for (size_t index = 0; index < sizeof (expected) / sizeof (expected [0]); index++) {
        do {
            CHECK (tu_now_ms () < deadline);
            change = zwatch_client_next (client, STEP_MS);
        } while (!change || change->kind == ZWATCH_CHANGE_STATS
              || change->kind == ZWATCH_CHANGE_SOCKET_ADDED);
        char *line = s_line (change);
        CHECK_STR_EQ (line, expected [index]);
        free (line);
        if (change->kind == ZWATCH_CHANGE_GAP) {
            CHECK_STR_EQ (change->host, "gap-host");
            CHECK_STR_EQ (change->svc, "gap-svc");
            CHECK_INT_EQ (change->pid, 4242);
            CHECK_INT_EQ (change->lost, 2);
            CHECK_INT_EQ (change->seq, 5);
        }
    }
    CHECK_INT_EQ (zwatch_client_snapshots (client), snapshots + 1);
    zwatch_client_agent_t *held = zwatch_client_agent_lookup (client, "gap-host", "gap-svc",
                                                              4242);
    CHECK (held);
    CHECK_INT_EQ (zwatch_client_agent_seq (held), 5);
    CHECK (zwatch_client_synced (client));

    fake_agent_destroy (&agent);
    zwatch_client_destroy (&client);
    broker_proc_destroy (&broker);
}


/*  history  */

static void s_replay_empty (fake_agent_t *agent, const char *host, const char *svc, int64_t pid);

static void
s_test_history (void)
{
    broker_proc_t *broker = broker_proc_new (NULL, true);
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "hi-host", "hi-svc", 77);
    fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 0);
    s_replay_empty (agent, "hi-host", "hi-svc", 77);
    size_t size;
    for (uint64_t seq = 1; seq <= 3; seq++)
        fake_agent_send_event (agent, seq, "CONNECT_DELAYED", &size);
    //  A first client sees the three applied
    zwatch_client_t *first = zwatch_client_new (broker_proc_publish (broker),
                                                broker_proc_snapshot (broker));
    CHECK_INT_EQ (zwatch_client_start (first), 0);
    long long deadline = tu_now_ms () + WAIT_MS;
    zwatch_client_agent_t *held = NULL;
    while (!held || zwatch_client_agent_seq (held) < 3 || !zwatch_client_synced (first)) {
        CHECK (tu_now_ms () < deadline);
        zwatch_client_next (first, STEP_MS);
        held = zwatch_client_agent_lookup (first, "hi-host", "hi-svc", 77);
    }
    //  A second asks for the last two: they come before RESYNC_DONE, oldest
    //  first, and are not applied again
    zwatch_client_t *client = zwatch_client_new (broker_proc_publish (broker),
                                                 broker_proc_snapshot (broker));
    CHECK_INT_EQ (zwatch_client_set_history (client, 2), 0);
    CHECK_INT_EQ (zwatch_client_start (client), 0);
    CHECK (zwatch_client_set_history (client, 2) == -1 && errno == EBUSY);
    const char *expected [] = {
        "RESYNC_START start", "HISTORY hi-svc fake-sock CONNECT_DELAYED 2",
        "HISTORY hi-svc fake-sock CONNECT_DELAYED 3", "RESYNC_DONE "
    };
    for (size_t index = 0; index < sizeof (expected) / sizeof (expected [0]); index++) {
        const zwatch_change_t *change;
        do {
            CHECK (tu_now_ms () < deadline);
            change = zwatch_client_next (client, STEP_MS);
        } while (!change || change->kind == ZWATCH_CHANGE_STATS);
        char *line = s_line (change);
        CHECK_STR_EQ (line, expected [index]);
        free (line);
        if (change->kind == ZWATCH_CHANGE_HISTORY) {
            zwatch_msg_t msg;
            CHECK (zwatch_msg_decode (&msg, change->body, change->body_size, NULL) == ZWATCH_OK);
            CHECK_INT_EQ (msg.seq, change->seq);
        }
    }
    held = zwatch_client_agent_lookup (client, "hi-host", "hi-svc", 77);
    CHECK (held && zwatch_client_agent_seq (held) == 3);
    zwatch_client_destroy (&first);
    zwatch_client_destroy (&client);
    fake_agent_destroy (&agent);
    broker_proc_destroy (&broker);
}


/*  restart: the client's state against a fresh snapshot  */

//  A str key equal to text, or absent when text is NULL
static bool
s_str_is (const msgpack_object *map, const char *key, const char *text)
{
    return text? mp_str_is (map, key, text): mp_get (map, key) == NULL;
}

//  Why the state differs from the snapshot, or NULL if it does not
static char *
s_differs (zwatch_client_t *client, snap_reply_t *reply)
{
    char host [256], svc [256], text [256];
    size_t agents = 0, links = 0;
    for (size_t index = 0; index < snap_reply_size (reply); index++) {
        const msgpack_object *frame = snap_reply_frame (reply, index);
        if (mp_str_is (frame, "kind", "agent")) {
            agents++;
            zwatch_client_agent_t *agent = zwatch_client_agent_lookup (client,
                mp_str (frame, "host", host, sizeof (host)),
                mp_str (frame, "svc", svc, sizeof (svc)), mp_uint (frame, "pid"));
            if (!agent)
                return zsys_sprintf ("agent %s/%s missing", host, svc);
            if (zwatch_client_agent_start (agent) != mp_uint (frame, "start")
            ||  zwatch_client_agent_seq (agent) != mp_uint (frame, "seq")
            ||  zwatch_client_agent_partial (agent) != mp_get (frame, "partial")->via.boolean)
                return zsys_sprintf ("agent %s/%s: start, seq %" PRIu64 " or partial differ",
                                     host, svc, zwatch_client_agent_seq (agent));
        }
        else
        if (mp_str_is (frame, "kind", "socket")) {
            zwatch_client_agent_t *agent = zwatch_client_agent_lookup (client,
                mp_str (frame, "host", host, sizeof (host)),
                mp_str (frame, "svc", svc, sizeof (svc)), mp_uint (frame, "pid"));
            zwatch_client_socket_t *socket = s_socket (agent,
                                                       mp_str (frame, "sock", text, sizeof (text)));
            if (!socket)
                return zsys_sprintf ("socket %s of %s missing", text, svc);
            if (!mp_str_is (frame, "stype", zwatch_client_socket_stype (socket)))
                return strdup ("stype differs");
            const msgpack_object *listening = mp_get (frame, "listening");
            size_t count = 0;
            for (const char *ep = zwatch_client_listening_first (socket); ep;
                 ep = zwatch_client_listening_next (socket), count++)
                if (count >= listening->via.array.size
                ||  listening->via.array.ptr [count].via.str.size != strlen (ep)
                ||  memcmp (listening->via.array.ptr [count].via.str.ptr, ep, strlen (ep)))
                    return strdup ("listening differs");
            if (count != listening->via.array.size)
                return strdup ("listening count differs");
            const msgpack_object *conns = mp_get (frame, "connections");
            if (conns->via.array.size != zwatch_client_socket_connections (socket))
                return zsys_sprintf ("%s: %zu connections, snapshot %u", text,
                                     zwatch_client_socket_connections (socket),
                                     conns->via.array.size);
            for (uint32_t at = 0; at < conns->via.array.size; at++) {
                const msgpack_object *conn = &conns->via.array.ptr [at];
                bool found = false;
                zwatch_client_conn_t *held = zwatch_client_conn_first (socket);
                for (; held && !found; held = zwatch_client_conn_next (socket))
                    found = mp_str_is (conn, "dir", zwatch_client_conn_in (held)? "in": "out")
                         && mp_str_is (conn, "endpoint", zwatch_client_conn_endpoint (held))
                         && s_str_is (conn, "local", zwatch_client_conn_local (held))
                         && s_str_is (conn, "peer", zwatch_client_conn_peer (held))
                         && mp_get (conn, "fd")->via.i64 == zwatch_client_conn_fd (held)
                         && mp_uint (conn, "since") == zwatch_client_conn_since (held);
                if (!found)
                    return zsys_sprintf ("%s: a connection differs", text);
            }
            if (mp_get (frame, "retrying")->via.array.size != 0
            ||  zwatch_client_retry_first (socket) != NULL)
                return strdup ("retrying differs");
        }
        else
        if (mp_str_is (frame, "kind", "link")) {
            links++;
            const msgpack_object *from = mp_get (frame, "from"), *to = mp_get (frame, "to");
            bool found = false;
            const zwatch_client_link_t *link = zwatch_client_link_first (client);
            for (; link && !found; link = zwatch_client_link_next (client)) {
                const zwatch_change_end_t *a = zwatch_client_link_from (link);
                const zwatch_change_end_t *b = zwatch_client_link_to (link);
                found = mp_str_is (from, "host", a->host) && mp_str_is (from, "svc", a->svc)
                     && mp_uint (from, "pid") == a->pid && mp_str_is (from, "sock", a->sock)
                     && mp_str_is (from, "addr", a->addr) && mp_str_is (to, "host", b->host)
                     && mp_str_is (to, "svc", b->svc) && mp_uint (to, "pid") == b->pid
                     && mp_str_is (to, "sock", b->sock) && mp_str_is (to, "addr", b->addr)
                     && mp_str_is (frame, "endpoint", zwatch_client_link_endpoint (link))
                     && mp_uint (frame, "since") == zwatch_client_link_since (link);
            }
            if (!found)
                return strdup ("a link differs");
        }
    }
    //  Sockets: the same count per agent, so none extra
    size_t sockets = 0;
    for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent;
         agent = zwatch_client_agent_next (client))
        sockets += zwatch_client_agent_sockets (agent);
    if (agents != zwatch_client_agents (client) || links != zwatch_client_links (client)
    ||  sockets != snap_reply_count (reply, "socket"))
        return zsys_sprintf ("counts differ: agents %zu/%zu links %zu/%zu sockets %zu/%zu",
                             zwatch_client_agents (client), agents, zwatch_client_links (client),
                             links, sockets, snap_reply_count (reply, "socket"));
    return NULL;
}

//  Run the client until it is synced and equal to a fresh snapshot with
//  links links and sockets sockets; the test fails after WAIT_MS
static void
s_wait_equal (zwatch_client_t *client, snap_client_t *snap, size_t links, size_t sockets)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    char *why = NULL;
    while (true) {
        while (zwatch_client_next (client, 0))
            ;
        if (zwatch_client_synced (client)) {
            snap_reply_t *reply = snap_client_get (snap, NULL, -1, WAIT_MS);
            free (why);
            why = s_differs (client, reply);
            bool done = !why && snap_reply_count (reply, "link") == links
                     && snap_reply_count (reply, "socket") == sockets
                     && snap_reply_count (reply, "agent") == 2;
            snap_reply_destroy (&reply);
            if (done)
                break;
        }
        if (tu_now_ms () > deadline) {
            fprintf (stderr, "client not equal to a snapshot: %s\n", why? why: "not synced");
            CHECK (false);
        }
        zwatch_client_next (client, STEP_MS);
    }
    free (why);
}

static void
s_test_restart (void)
{
    char *ingest = tu_free_endpoint ();
    char *publish = tu_free_endpoint ();
    char *snapshot = tu_free_endpoint ();
    char *server_ep = tu_free_endpoint ();
    const char *args [] = { "--ingest", ingest, "--publish", publish, "--snapshot", snapshot,
                            "--id", "restart-broker", "--stats-interval", "1", NULL };
    broker_proc_t *broker = broker_proc_new (args, false);
    agent_child_t server = agent_child_start (ingest, "rs-host", "rs-srv", ZMQ_ROUTER, "api",
                                              server_ep, true);
    agent_child_t dealer = agent_child_start (ingest, "rs-host", "rs-cli", ZMQ_DEALER,
                                              "client", server_ep, true);
    zwatch_client_t *client = zwatch_client_new (publish, snapshot);
    CHECK_INT_EQ (zwatch_client_start (client), 0);
    snap_client_t *snap = snap_client_new (snapshot);
    s_wait_equal (client, snap, 1, 2);
    uint64_t resyncs = zwatch_client_resyncs (client);

    //  The broker dies; meanwhile the DEALER closes; the broker comes back
    CHECK_INT_EQ (broker_proc_stop (broker, SIGKILL, 5000), 128 + SIGKILL);
    broker_proc_destroy (&broker);
    s_wait_kind (client, ZWATCH_CHANGE_BROKER_UNREACHABLE);
    agent_child_say (&dealer, 'c');
    broker = broker_proc_new (args, false);
    s_wait_kind (client, ZWATCH_CHANGE_BROKER_BACK);
    const zwatch_change_t *change = s_wait_kind (client, ZWATCH_CHANGE_RESYNC_START);
    CHECK (strcmp (change->reason, "reconnect") == 0
        || strcmp (change->reason, "broker_restart") == 0);
    CHECK (!zwatch_client_synced (client));
    s_wait_kind (client, ZWATCH_CHANGE_RESYNC_DONE);
    CHECK (zwatch_client_resyncs (client) > resyncs);

    //  No service restarted: the server's socket, no DEALER, no link
    s_wait_equal (client, snap, 0, 1);
    CHECK (s_socket (s_agent (client, "rs-srv"), "api"));
    CHECK_INT_EQ (zwatch_client_agent_sockets (s_agent (client, "rs-cli")), 0);
    CHECK_INT_EQ (zwatch_client_bad (client, NULL), 0);

    snap_client_destroy (&snap);
    zwatch_client_destroy (&client);
    agent_child_end (&dealer);
    agent_child_end (&server);
    broker_proc_destroy (&broker);
    free (ingest);
    free (publish);
    free (snapshot);
    free (server_ep);
}


/*  filters  */

//  The services held, sorted, as "host/svc host/svc"
static char *
s_held (zwatch_client_t *client)
{
    zlistx_t *names = zlistx_new ();
    zlistx_set_destructor (names, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_comparator (names, (zlistx_comparator_fn *) strcmp);
    for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent;
         agent = zwatch_client_agent_next (client))
        zlistx_add_end (names, zsys_sprintf ("%s/%s", zwatch_client_agent_host (agent),
                                             zwatch_client_agent_svc (agent)));
    zlistx_sort (names);
    char *text = strdup ("");
    for (char *name = (char *) zlistx_first (names); name; name = (char *) zlistx_next (names)) {
        char *longer = zsys_sprintf ("%s%s%s", text, *text? " ": "", name);
        free (text);
        text = longer;
    }
    zlistx_destroy (&names);
    return text;
}

static zwatch_client_t *
s_filtered (broker_proc_t *broker, const char *const *hosts, const char *const *svcs)
{
    zwatch_client_t *client = zwatch_client_new (broker_proc_publish (broker),
                                                 broker_proc_snapshot (broker));
    for (; hosts && *hosts; hosts++)
        CHECK_INT_EQ (zwatch_client_add_host_filter (client, *hosts), 0);
    for (; svcs && *svcs; svcs++)
        CHECK_INT_EQ (zwatch_client_add_service_filter (client, *svcs), 0);
    CHECK_INT_EQ (zwatch_client_start (client), 0);
    return client;
}

//  Run client until it holds exactly expected with seq >= seq each
static void
s_wait_held (zwatch_client_t *client, const char *expected, uint64_t seq)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (true) {
        zwatch_client_next (client, STEP_MS);
        char *held = s_held (client);
        bool same = strcmp (held, expected) == 0;
        for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent && same;
             agent = zwatch_client_agent_next (client))
            same = zwatch_client_agent_seq (agent) >= seq;
        if (same && zwatch_client_synced (client)) {
            free (held);
            return;
        }
        if (tu_now_ms () > deadline) {
            fprintf (stderr, "held '%s', expected '%s' (seq %" PRIu64 ")\n", held, expected,
                     seq);
            CHECK (false);
        }
        free (held);
    }
}

//  An empty replay after the hello: the broker holds the agent complete,
//  so clients have no reason to ask again (they do while one is partial)
static void
s_replay_empty (fake_agent_t *agent, const char *host, const char *svc, int64_t pid)
{
    fake_field_t fields [] = {
        { "v", FAKE_UINT, NULL, 1 }, { "kind", FAKE_STR, "state_end", 0 },
        { "host", FAKE_STR, host, 0 }, { "pid", FAKE_UINT, NULL, pid },
        { "svc", FAKE_STR, svc, 0 }, { "ts", FAKE_UINT, NULL, 1 }, { "seq", FAKE_UINT, NULL, 0 },
        { "count", FAKE_UINT, NULL, 0 }
    };
    fake_agent_send_fields (agent, fields, sizeof (fields) / sizeof (fields [0]));
}

static void
s_test_filters (void)
{
    broker_proc_t *broker = broker_proc_new (NULL, true);
    const char *ingest = broker_proc_ingest (broker);
    fake_agent_t *agents [3] = {
        fake_agent_new (ingest, "flt-1", "svc-a", 11), fake_agent_new (ingest, "flt-1", "svc-b", 12),
        fake_agent_new (ingest, "flt-2", "svc-a", 13)
    };
    size_t size;
    const char *names [3][2] = { { "flt-1", "svc-a" }, { "flt-1", "svc-b" }, { "flt-2", "svc-a" } };
    for (int index = 0; index < 3; index++) {
        fake_agent_send_state (agents [index], ZWATCH_KIND_HELLO, 0);
        s_replay_empty (agents [index], names [index][0], names [index][1], 11 + index);
        fake_agent_send_event (agents [index], 1, "CONNECT_DELAYED", &size);
    }
    snap_client_t *snap = snap_client_new (broker_proc_snapshot (broker));
    long long deadline = tu_now_ms () + WAIT_MS;
    while (true) {
        snap_reply_t *reply = snap_client_get (snap, NULL, -1, WAIT_MS);
        size_t count = snap_reply_count (reply, "socket");
        snap_reply_destroy (&reply);
        if (count == 3)
            break;
        CHECK (tu_now_ms () < deadline);
        usleep (STEP_MS * 1000);
    }
    const char *host_1 [] = { "flt-1", NULL }, *both_hosts [] = { "flt-2", "flt-1", NULL };
    const char *svc_a [] = { "svc-a", NULL };
    zwatch_client_t *by_host = s_filtered (broker, host_1, NULL);       //  snapshot prefix
    zwatch_client_t *by_svc = s_filtered (broker, NULL, svc_a);         //  filtered here
    zwatch_client_t *by_both = s_filtered (broker, host_1, svc_a);
    zwatch_client_t *by_hosts = s_filtered (broker, both_hosts, NULL);
    CHECK (zwatch_client_add_host_filter (by_host, "x") == -1 && errno == EBUSY);
    zwatch_client_t *bad = zwatch_client_new (NULL, NULL);
    CHECK (zwatch_client_add_host_filter (bad, "a/b") == -1 && errno == EINVAL);
    CHECK (zwatch_client_add_service_filter (bad, "") == -1 && errno == EINVAL);
    zwatch_client_destroy (&bad);
    CHECK (zwatch_client_new ("nowhere", NULL) == NULL && errno == EINVAL);

    s_wait_held (by_host, "flt-1/svc-a flt-1/svc-b", 1);
    s_wait_held (by_svc, "flt-1/svc-a flt-2/svc-a", 1);
    s_wait_held (by_both, "flt-1/svc-a", 1);
    s_wait_held (by_hosts, "flt-1/svc-a flt-1/svc-b flt-2/svc-a", 1);
    //  Live: the next events reach only the clients that hold their agents
    for (int index = 0; index < 3; index++)
        fake_agent_send_event (agents [index], 2, "CONNECT_DELAYED", &size);
    s_wait_held (by_host, "flt-1/svc-a flt-1/svc-b", 2);
    s_wait_held (by_svc, "flt-1/svc-a flt-2/svc-a", 2);
    s_wait_held (by_both, "flt-1/svc-a", 2);
    s_wait_held (by_hosts, "flt-1/svc-a flt-1/svc-b flt-2/svc-a", 2);

    zwatch_client_destroy (&by_host);
    zwatch_client_destroy (&by_svc);
    zwatch_client_destroy (&by_both);
    zwatch_client_destroy (&by_hosts);
    snap_client_destroy (&snap);
    for (int index = 0; index < 3; index++)
        fake_agent_destroy (&agents [index]);
    broker_proc_destroy (&broker);
}


/*  bad_input: a broker faked here  */

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str_with_body (pk, text, strlen (text));
}

//  The test's agent's map, or a socket map; pid_as_str breaks it
static zframe_t *
s_map (const char *kind, bool pid_as_str)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    bool agent = strcmp (kind, "agent") == 0;
    msgpack_pack_map (&pk, agent? 12: 10);
    s_pack_str (&pk, "v"); msgpack_pack_uint64 (&pk, 1);
    s_pack_str (&pk, "kind"); s_pack_str (&pk, kind);
    s_pack_str (&pk, "host"); s_pack_str (&pk, "bh");
    s_pack_str (&pk, "svc"); s_pack_str (&pk, "bs");
    s_pack_str (&pk, "pid");
    if (pid_as_str)
        s_pack_str (&pk, "7");
    else
        msgpack_pack_uint64 (&pk, 7);
    if (agent) {
        s_pack_str (&pk, "start"); msgpack_pack_uint64 (&pk, 1000);
        s_pack_str (&pk, "seq"); msgpack_pack_uint64 (&pk, 3);
        s_pack_str (&pk, "partial"); msgpack_pack_false (&pk);
        const char *counters [] = { "read", "sent", "dropped", "watched" };
        for (int index = 0; index < 4; index++) {
            s_pack_str (&pk, counters [index]);
            msgpack_pack_uint64 (&pk, 0);
        }
    }
    else {
        s_pack_str (&pk, "sock"); s_pack_str (&pk, "srv");
        s_pack_str (&pk, "stype"); s_pack_str (&pk, "ROUTER");
        s_pack_str (&pk, "listening"); msgpack_pack_array (&pk, 1); s_pack_str (&pk, "tcp://*:1");
        s_pack_str (&pk, "connections"); msgpack_pack_array (&pk, 0);
        s_pack_str (&pk, "retrying"); msgpack_pack_array (&pk, 0);
    }
    zframe_t *frame = zframe_new (buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    return frame;
}

static void
s_reply (zsock_t *router, zframe_t *identity, zframe_t *frame)
{
    zframe_t *copy = zframe_dup (identity);
    zframe_send (&copy, router, ZFRAME_MORE);
    zframe_send (&frame, router, 0);
}

static void
s_publish (zsock_t *xpub, const char *topic, const void *body, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, topic);
    zmsg_addmem (msg, body, size);
    zmsg_send (&msg, xpub);
}

//  A request on router: its identity (the test fails after WAIT_MS)
static zframe_t *
s_request (zsock_t *router, zwatch_client_t *client)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (zsock_events (router) & ZMQ_POLLIN ? false: true) {
        CHECK (tu_now_ms () < deadline);
        zwatch_client_next (client, 20);
    }
    zmsg_t *request = zmsg_recv (router);
    CHECK (request && zmsg_size (request) == 2);
    zframe_t *identity = zmsg_pop (request);
    zmsg_destroy (&request);
    return identity;
}

static void
s_test_bad_input (void)
{
    char *publish = tu_free_endpoint ();
    char *snapshot = tu_free_endpoint ();
    zsock_t *xpub = zsock_new_xpub (publish);
    zsock_t *router = zsock_new_router (snapshot);
    CHECK (xpub && router);
    zwatch_client_t *client = zwatch_client_new (publish, snapshot);
    CHECK_INT_EQ (zwatch_client_start (client), 0);

    //  The first reply has a socket map with a str pid: refused, asked again
    zframe_t *identity = s_request (router, client);
    s_reply (router, identity, s_map ("agent", false));
    s_reply (router, identity, s_map ("socket", true));
    zframe_destroy (&identity);
    identity = s_request (router, client);
    CHECK_INT_EQ (zwatch_client_bad (client, "bad_type"), 1);
    CHECK_INT_EQ (zwatch_client_snapshots (client), 2);
    s_reply (router, identity, s_map ("agent", false));
    s_reply (router, identity, s_map ("socket", false));
    uint8_t end [256];
    int end_size = zwatch_fleet_encode_snapshot_end (end, sizeof (end), 1, 1, 0, 0, 0);
    s_reply (router, identity, zframe_new (end, (size_t) end_size));
    zframe_destroy (&identity);
    s_wait_kind (client, ZWATCH_CHANGE_RESYNC_DONE);
    zwatch_client_agent_t *agent = zwatch_client_agent_lookup (client, "bh", "bs", 7);
    CHECK (agent);
    CHECK_INT_EQ (zwatch_client_agent_seq (agent), 3);
    CHECK_STR_EQ (zwatch_client_listening_first (s_socket (agent, "srv")), "tcp://*:1");

    //  The feed: the subscriptions are in (read them), then bad messages
    long long deadline = tu_now_ms () + WAIT_MS;
    int subscriptions = 0;
    while (subscriptions < 4) {
        CHECK (tu_now_ms () < deadline);
        zframe_t *frame = zframe_recv (xpub);
        if (frame && zframe_size (frame) > 0 && zframe_data (frame) [0] == 1)
            subscriptions++;
        zframe_destroy (&frame);
    }
    zwatch_msg_t event = {
        .kind = ZWATCH_KIND_EVENT, .host = { "bh", 2 }, .svc = { "bs", 2 }, .pid = 7, .ts = 5,
        .seq = 4, .sock = { "srv", 3 }, .stype = { "ROUTER", 6 }, .event = { "ACCEPTED", 8 },
        .code = 32, .value = 9, .endpoint = { "tcp://*:1", 9 }
    };
    uint8_t body [ZWATCH_MSG_MAX];
    int body_size = zwatch_msg_encode (&event, body, sizeof (body));
    CHECK (body_size > 0);
    s_publish (xpub, "ev/bh/bs/ACCEPTED", "\x01", 1);                     //  not_map
    s_publish (xpub, "ev/other/bs/ACCEPTED", body, (size_t) body_size);    //  bad_topic
    const uint8_t agent_map [] = {                  //  state "maybe": bad_value
        0x8c, 0xa1, 'v', 0x01, 0xa4, 'k', 'i', 'n', 'd', 0xa5, 'a', 'g', 'e', 'n', 't',
        0xa5, 's', 't', 'a', 't', 'e', 0xa5, 'm', 'a', 'y', 'b', 'e',
        0xa4, 'h', 'o', 's', 't', 0xa2, 'b', 'h', 0xa3, 's', 'v', 'c', 0xa2, 'b', 's',
        0xa3, 'p', 'i', 'd', 0x07, 0xa5, 's', 't', 'a', 'r', 't', 0x01, 0xa2, 't', 's', 0x01,
        0xa3, 's', 'e', 'q', 0x01, 0xa6, 'e', 'v', 'e', 'n', 't', 's', 0x01,
        0xa4, 'l', 'o', 's', 't', 0x00, 0xa6, 'b', 'r', 'o', 'k', 'e', 'r', 0xa1, 'b'
    };
    s_publish (xpub, "agent/bh/bs", agent_map, sizeof (agent_map));
    const uint8_t link_map [] = { 0x82, 0xa1, 'v', 0x01, 0xa4, 'k', 'i', 'n', 'd',
                                  0xa4, 'l', 'i', 'n', 'k' };           //  missing_key
    s_publish (xpub, "link/bh/bs", link_map, sizeof (link_map));
    zmsg_t *three = zmsg_new ();                                        //  bad_frames
    zmsg_addstr (three, "ev/bh/bs/ACCEPTED");
    zmsg_addmem (three, body, (size_t) body_size);
    zmsg_addstr (three, "extra");
    zmsg_send (&three, xpub);
    s_publish (xpub, "ev/bh/bs/ACCEPTED", body, (size_t) body_size);    //  good

    const zwatch_change_t *change = s_wait_kind (client, ZWATCH_CHANGE_EVENT);
    CHECK_INT_EQ (change->seq, 4);
    CHECK_STR_EQ (change->event, "ACCEPTED");
    CHECK_INT_EQ (change->body_size, body_size);
    CHECK (memcmp (change->body, body, (size_t) body_size) == 0);
    CHECK_INT_EQ (zwatch_client_bad (client, "not_map"), 1);
    CHECK_INT_EQ (zwatch_client_bad (client, "bad_topic"), 1);
    CHECK_INT_EQ (zwatch_client_bad (client, "bad_value"), 1);
    CHECK_INT_EQ (zwatch_client_bad (client, "missing_key"), 1);
    CHECK_INT_EQ (zwatch_client_bad (client, "bad_frames"), 1);
    CHECK_INT_EQ (zwatch_client_bad (client, NULL), 6);
    uint64_t count = 0;
    CHECK_STR_EQ (zwatch_client_bad_reason (client, 0, &count), "bad_type");
    CHECK_INT_EQ (count, 1);
    CHECK (zwatch_client_bad_reason (client, 6, NULL) == NULL);
    CHECK_INT_EQ (zwatch_client_socket_connections (s_socket (agent, "srv")), 1);
    CHECK_INT_EQ (zwatch_client_agent_seq (agent), 4);

    zwatch_client_destroy (&client);
    zsock_destroy (&xpub);
    zsock_destroy (&router);
    free (publish);
    free (snapshot);
}


/*  poll_fd  */

static void
s_test_poll_fd (void)
{
    broker_proc_t *broker = broker_proc_new (NULL, true);
    zwatch_client_t *client = zwatch_client_new (broker_proc_publish (broker),
                                                 broker_proc_snapshot (broker));
    CHECK_INT_EQ (zwatch_client_fd (client), -1);
    CHECK (zwatch_client_next (client, 0) == NULL && errno == EINVAL);
    CHECK_INT_EQ (zwatch_client_start (client), 0);
    CHECK (zwatch_client_start (client) == -1 && errno == EBUSY);
    struct pollfd item = { zwatch_client_fd (client), POLLIN, 0 };
    CHECK (item.fd >= 0);
    fake_agent_t *agent = NULL;
    int readable = 0;
    bool synced = false, got_event = false;
    long long deadline = tu_now_ms () + WAIT_MS;
    while (!got_event) {
        CHECK (tu_now_ms () < deadline);
        int rc = poll (&item, 1, 500);      //  the client's timers want a call every 500 ms
        CHECK (rc >= 0);
        if (rc > 0)
            readable++;
        const zwatch_change_t *change;
        while ((change = zwatch_client_next (client, 0))) {
            if (change->kind == ZWATCH_CHANGE_RESYNC_DONE && !synced) {
                synced = true;
                agent = fake_agent_new (broker_proc_ingest (broker), "poll-host", "poll-svc", 5);
                fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 0);
                size_t size;
                fake_agent_send_event (agent, 1, "CONNECT_DELAYED", &size);
            }
            if (change->kind == ZWATCH_CHANGE_EVENT && strcmp (change->svc, "poll-svc") == 0)
                got_event = true;
        }
        CHECK (errno == EAGAIN);
    }
    CHECK (readable > 0);
    fake_agent_destroy (&agent);
    zwatch_client_destroy (&client);
    broker_proc_destroy (&broker);
}

int
main (int argc, char *argv [])
{
    const tu_case_t cases [] = {
        { "changes", s_test_changes }, { "gap", s_test_gap }, { "restart", s_test_restart },
        { "filters", s_test_filters }, { "bad_input", s_test_bad_input },
        { "poll_fd", s_test_poll_fd }, { "history", s_test_history }
    };
    return tu_run_cases (argc, argv, "test_client", cases, sizeof (cases) / sizeof (cases [0]));
}
