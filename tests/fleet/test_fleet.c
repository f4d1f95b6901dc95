/*  test_fleet: the fleet model, event by event, with exact expectations;
    snapshots decoded with msgpack-c and compared field by field.  */

#include <errno.h>
#include <inttypes.h>
#include "fleet_util.h"

#define EV(...) ((fu_event_t) { __VA_ARGS__ })

static fu_agent_t s_server = { "web-1", "api", 100, 5000 };
static fu_agent_t s_client = { "web-2", "worker", 200, 6000 };

//  Every event's effect on one socket, and the socket frame that shows it
static void
s_test_events (void)
{
    zwatch_fleet_t *fleet = zwatch_fleet_new (NULL);
    const fu_agent_t *a = &s_server;
    CHECK_INT_EQ (fu_lifecycle (fleet, a, ZWATCH_KIND_HELLO, 0, 0), 0);
    //  LISTENING adds; again for the same endpoint updates, no duplicate
    fu_apply (fleet, a, EV (.sock = "srv", .stype = "ROUTER", .event = "LISTENING", .value = 9,
                            .endpoint = "tcp://0.0.0.0:5555", .seq = 1));
    fu_apply (fleet, a, EV (.sock = "srv", .stype = "ROUTER", .event = "LISTENING", .value = 10,
                            .endpoint = "tcp://0.0.0.0:5556", .seq = 2));
    fu_apply (fleet, a, EV (.sock = "srv", .stype = "ROUTER", .event = "LISTENING", .value = 10,
                            .endpoint = "tcp://0.0.0.0:5556", .seq = 3));
    //  BIND_FAILED is kept as the last error and clears nothing
    fu_apply (fleet, a, EV (.sock = "srv", .stype = "ROUTER", .event = "BIND_FAILED",
                            .value = 98, .endpoint = "tcp://0.0.0.0:80", .seq = 4));
    //  ACCEPTED: an "in" connection with both addresses
    fu_apply (fleet, a, EV (.sock = "srv", .stype = "ROUTER", .event = "ACCEPTED", .value = 12,
                            .endpoint = "tcp://0.0.0.0:5555", .local = "10.0.0.1:5555",
                            .peer = "10.0.0.2:40000", .seq = 5));
    fu_apply (fleet, a, EV (.sock = "srv", .stype = "ROUTER", .event = "ACCEPTED", .value = 13,
                            .endpoint = "tcp://0.0.0.0:5555", .local = "10.0.0.1:5555",
                            .peer = "10.0.0.3:40001", .seq = 6));
    //  Events with no state of their own change nothing but are applied
    fu_apply (fleet, a, EV (.sock = "srv", .stype = "ROUTER", .event = "HANDSHAKE_SUCCEEDED",
                            .endpoint = "tcp://0.0.0.0:5555", .seq = 7));
    //  CONNECT_RETRIED: retrying with the interval; again: the new interval, same since
    fu_apply (fleet, a, EV (.sock = "cli", .event = "CONNECT_RETRIED", .value = 100,
                            .endpoint = "tcp://10.0.0.9:7000", .seq = 8));
    fu_apply (fleet, a, EV (.sock = "cli", .event = "CONNECT_RETRIED", .value = 200,
                            .endpoint = "tcp://10.0.0.9:7000", .seq = 9));
    fu_apply (fleet, a, EV (.sock = "cli", .event = "CONNECT_RETRIED", .value = 100,
                            .endpoint = "tcp://10.0.0.8:7000", .seq = 10));
    CHECK_INT_EQ (zwatch_fleet_agents (fleet), 1);
    CHECK_INT_EQ (zwatch_fleet_sockets (fleet), 2);
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), 2);

    fu_snapshot_t *snap = fu_snapshot (fleet, NULL);
    CHECK_INT_EQ (snap->count, 3);
    msgpack_object *agent = fu_agent_frame (snap, "web-1", 100);
    CHECK (agent);
    CHECK_INT_EQ (fu_map_size (agent), 12);
    CHECK (fu_str_is (fu_get (agent, "svc"), "api"));
    CHECK_INT_EQ (fu_uint (agent, "start"), 5000);
    CHECK_INT_EQ (fu_uint (agent, "seq"), 10);
    CHECK (fu_bool (agent, "partial"));         //  no replay has completed
    msgpack_object *srv = fu_socket (snap, "web-1", 100, "srv");
    CHECK (srv);
    CHECK_INT_EQ (fu_map_size (srv), 11);
    CHECK (fu_str_is (fu_get (srv, "stype"), "ROUTER"));
    CHECK (fu_str_is (fu_get (srv, "svc"), "api"));
    msgpack_object_array *listening = fu_array (srv, "listening");
    CHECK_INT_EQ (listening->size, 2);
    CHECK (fu_str_is (&listening->ptr [0], "tcp://0.0.0.0:5555"));
    CHECK (fu_str_is (&listening->ptr [1], "tcp://0.0.0.0:5556"));
    msgpack_object_array *conns = fu_array (srv, "connections");
    CHECK_INT_EQ (conns->size, 2);
    msgpack_object *conn = &conns->ptr [0];
    CHECK_INT_EQ (fu_map_size (conn), 6);
    CHECK (fu_str_is (fu_get (conn, "dir"), "in"));
    CHECK (fu_str_is (fu_get (conn, "endpoint"), "tcp://0.0.0.0:5555"));
    CHECK (fu_str_is (fu_get (conn, "local"), "10.0.0.1:5555"));
    CHECK (fu_str_is (fu_get (conn, "peer"), "10.0.0.2:40000"));
    CHECK_INT_EQ (fu_int (conn, "fd"), 12);
    CHECK_INT_EQ (fu_uint (conn, "since"), 5007);
    CHECK_INT_EQ (fu_array (srv, "retrying")->size, 0);
    msgpack_object *error = fu_get (srv, "bind_error");
    CHECK (error && fu_map_size (error) == 3);
    CHECK (fu_str_is (fu_get (error, "endpoint"), "tcp://0.0.0.0:80"));
    CHECK_INT_EQ (fu_int (error, "value"), 98);
    CHECK_INT_EQ (fu_uint (error, "ts"), 4007);
    msgpack_object *cli = fu_socket (snap, "web-1", 100, "cli");
    CHECK (cli && fu_map_size (cli) == 10);     //  no bind_error
    CHECK (fu_str_is (fu_get (cli, "stype"), "DEALER"));
    msgpack_object_array *retrying = fu_array (cli, "retrying");
    CHECK_INT_EQ (retrying->size, 2);
    CHECK (fu_str_is (fu_get (&retrying->ptr [0], "endpoint"), "tcp://10.0.0.9:7000"));
    CHECK_INT_EQ (fu_int (&retrying->ptr [0], "ivl"), 200);
    CHECK_INT_EQ (fu_uint (&retrying->ptr [0], "since"), 8007);
    CHECK_INT_EQ (fu_uint (&retrying->ptr [0], "last"), 9007);
    fu_snapshot_free (snap);

    //  CONNECTED clears the retrying entry of its endpoint, adds "out"
    fu_apply (fleet, a, EV (.sock = "cli", .event = "CONNECTED", .value = 14,
                            .endpoint = "tcp://10.0.0.9:7000", .local = "10.0.0.1:41000",
                            .peer = "10.0.0.9:7000", .seq = 11));
    //  DISCONNECTED by fd; CLOSED by addresses when the fd does not match
    fu_apply (fleet, a, EV (.sock = "srv", .event = "DISCONNECTED", .value = 12,
                            .endpoint = "tcp://0.0.0.0:5555", .seq = 12));
    fu_apply (fleet, a, EV (.sock = "srv", .event = "CLOSED", .value = 99,
                            .endpoint = "tcp://0.0.0.0:5555", .local = "10.0.0.1:5555",
                            .peer = "10.0.0.3:40001", .seq = 13));
    //  The fd matches but the addresses say another connection: not that one
    fu_apply (fleet, a, EV (.sock = "cli", .event = "DISCONNECTED", .value = 14,
                            .endpoint = "tcp://10.0.0.9:7000", .local = "10.0.0.1:1",
                            .peer = "10.0.0.9:7000", .seq = 14));
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->unmatched, 1);
    //  CLOSED of a listening endpoint removes it
    fu_apply (fleet, a, EV (.sock = "srv", .event = "CLOSED", .value = 10,
                            .endpoint = "tcp://0.0.0.0:5556", .seq = 15));
    //  A stale event (seq not above the last) is ignored and counted
    fu_apply (fleet, a, EV (.sock = "srv", .event = "LISTENING", .value = 10,
                            .endpoint = "tcp://0.0.0.0:5557", .seq = 15));
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->stale, 1);
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), 1);
    snap = fu_snapshot (fleet, NULL);
    srv = fu_socket (snap, "web-1", 100, "srv");
    CHECK_INT_EQ (fu_array (srv, "connections")->size, 0);
    CHECK_INT_EQ (fu_array (srv, "listening")->size, 1);
    cli = fu_socket (snap, "web-1", 100, "cli");
    retrying = fu_array (cli, "retrying");
    CHECK_INT_EQ (retrying->size, 1);
    CHECK (fu_str_is (fu_get (&retrying->ptr [0], "endpoint"), "tcp://10.0.0.8:7000"));
    conns = fu_array (cli, "connections");
    CHECK_INT_EQ (conns->size, 1);
    CHECK (fu_str_is (fu_get (&conns->ptr [0], "dir"), "out"));
    CHECK (fu_str_is (fu_get (&conns->ptr [0], "local"), "10.0.0.1:41000"));
    CHECK_INT_EQ (fu_uint (fu_agent_frame (snap, "web-1", 100), "seq"), 15);
    fu_snapshot_free (snap);

    //  A heartbeat's counters show in the agent frame
    fu_lifecycle (fleet, a, ZWATCH_KIND_HEARTBEAT, 15, 0);
    snap = fu_snapshot (fleet, NULL);
    agent = fu_agent_frame (snap, "web-1", 100);
    CHECK_INT_EQ (fu_uint (agent, "read"), 115);
    CHECK_INT_EQ (fu_uint (agent, "sent"), 15);
    CHECK_INT_EQ (fu_uint (agent, "dropped"), 100);
    CHECK_INT_EQ (fu_uint (agent, "watched"), 3);
    fu_snapshot_free (snap);

    //  MONITOR_STOPPED: the socket leaves with everything it had
    fu_apply (fleet, a, EV (.sock = "cli", .event = "MONITOR_STOPPED", .seq = 16));
    CHECK_INT_EQ (zwatch_fleet_sockets (fleet), 1);
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), 0);
    //  A second CONNECTED with the fd of a live connection: the old one
    //  ended unseen (one fd is one connection at a time)
    fu_apply (fleet, a, EV (.sock = "dup", .event = "CONNECTED", .value = 50,
                            .endpoint = "tcp://10.0.0.9:1", .local = "10.0.0.1:1",
                            .peer = "10.0.0.9:1", .seq = 17));
    fu_apply (fleet, a, EV (.sock = "dup", .event = "CONNECTED", .value = 50,
                            .endpoint = "tcp://10.0.0.9:1", .local = "10.0.0.1:2",
                            .peer = "10.0.0.9:1", .seq = 18));
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), 1);
    snap = fu_snapshot (fleet, NULL);
    conns = fu_array (fu_socket (snap, "web-1", 100, "dup"), "connections");
    CHECK_INT_EQ (conns->size, 1);
    CHECK (fu_str_is (fu_get (&conns->ptr [0], "local"), "10.0.0.1:2"));
    CHECK_INT_EQ (fu_uint (&conns->ptr [0], "since"), 18007);
    fu_snapshot_free (snap);
    //  bye: the agent leaves
    fu_lifecycle (fleet, a, ZWATCH_KIND_BYE, 18, 0);
    CHECK_INT_EQ (zwatch_fleet_agents (fleet), 0);
    CHECK_INT_EQ (zwatch_fleet_sockets (fleet), 0);
    zwatch_fleet_destroy (&fleet);
    CHECK (fleet == NULL);
    zwatch_fleet_destroy (&fleet);
}

//  A tcp connection between two known agents, ends in the given order
static void
s_connect (zwatch_fleet_t *fleet, bool accept_first, uint64_t seq)
{
    fu_event_t accepted = EV (.sock = "srv", .stype = "ROUTER", .event = "ACCEPTED", .value = 20,
                              .endpoint = "tcp://0.0.0.0:5555", .local = "10.0.0.1:5555",
                              .peer = "10.0.0.2:40000", .seq = seq);
    fu_event_t connected = EV (.sock = "cli", .event = "CONNECTED", .value = 30,
                               .endpoint = "tcp://10.0.0.1:5555", .local = "10.0.0.2:40000",
                               .peer = "10.0.0.1:5555", .seq = seq + 1);
    if (accept_first) {
        fu_apply (fleet, &s_server, accepted);
        fu_apply (fleet, &s_client, connected);
    }
    else {
        fu_apply (fleet, &s_client, connected);
        fu_apply (fleet, &s_server, accepted);
    }
}

static void
s_check_link (fu_link_t *link, bool up, uint64_t lseq)
{
    CHECK_INT_EQ (link->up, up);
    CHECK_STR_EQ (link->from, "web-2/worker/200/cli/10.0.0.2:40000");
    CHECK_STR_EQ (link->to, "web-1/api/100/srv/10.0.0.1:5555");
    CHECK_STR_EQ (link->endpoint, "tcp://10.0.0.1:5555");
    CHECK_INT_EQ (link->lseq, lseq);
}

//  Links: made in either order, broken by either end, shown in snapshots
static void
s_test_links (void)
{
    for (int order = 0; order < 2; order++) {
        zwatch_fleet_t *fleet = zwatch_fleet_new (NULL);
        fu_links_t links = { .count = 0 };
        zwatch_fleet_set_link_handler (fleet, fu_links_handler, &links);
        s_connect (fleet, order == 0, 1);
        CHECK_INT_EQ (links.count, 1);
        s_check_link (&links.links [0], true, 1);
        CHECK_INT_EQ (links.links [0].since, 2007);     //  the later end
        CHECK_INT_EQ (zwatch_fleet_links (fleet), 1);

        fu_snapshot_t *snap = fu_snapshot (fleet, NULL);
        CHECK_INT_EQ (fu_count (snap, "link"), 1);
        msgpack_object *link = NULL;
        for (size_t index = 0; index < snap->count; index++)
            if (fu_str_is (fu_get (&snap->frames [index].data, "kind"), "link"))
                link = &snap->frames [index].data;
        CHECK_INT_EQ (fu_map_size (link), 6);
        msgpack_object *from = fu_get (link, "from"), *to = fu_get (link, "to");
        CHECK_INT_EQ (fu_map_size (from), 5);
        CHECK (fu_str_is (fu_get (from, "host"), "web-2") && fu_str_is (fu_get (from, "svc"), "worker"));
        CHECK (fu_uint (from, "pid") == 200 && fu_str_is (fu_get (from, "sock"), "cli"));
        CHECK (fu_str_is (fu_get (from, "addr"), "10.0.0.2:40000"));
        CHECK (fu_str_is (fu_get (to, "host"), "web-1") && fu_str_is (fu_get (to, "sock"), "srv"));
        CHECK (fu_str_is (fu_get (to, "addr"), "10.0.0.1:5555"));
        CHECK (fu_str_is (fu_get (link, "endpoint"), "tcp://10.0.0.1:5555"));
        CHECK_INT_EQ (fu_uint (link, "since"), 2007);
        fu_snapshot_free (snap);

        //  Broken by the accepting end's DISCONNECTED, then made again and
        //  broken by the connecting end's MONITOR_STOPPED, then by gone
        fu_apply (fleet, &s_server, EV (.sock = "srv", .event = "DISCONNECTED", .value = 20,
                                        .endpoint = "tcp://0.0.0.0:5555", .seq = 10));
        CHECK_INT_EQ (links.count, 2);
        s_check_link (&links.links [1], false, 2);
        CHECK_INT_EQ (zwatch_fleet_links (fleet), 0);
        s_connect (fleet, order == 1, 20);
        CHECK_INT_EQ (links.count, 3);
        s_check_link (&links.links [2], true, 3);
        fu_apply (fleet, &s_client, EV (.sock = "cli", .event = "MONITOR_STOPPED", .seq = 30));
        CHECK_INT_EQ (links.count, 4);
        s_check_link (&links.links [3], false, 4);
        s_connect (fleet, order == 0, 40);
        CHECK_INT_EQ (links.count, 5);
        CHECK_INT_EQ (zwatch_fleet_forget (fleet, (zwatch_str_t) { "web-1", 5 },
                                           (zwatch_str_t) { "api", 3 }, 100), 0);
        CHECK_INT_EQ (links.count, 6);
        s_check_link (&links.links [5], false, 6);
        CHECK_INT_EQ (zwatch_fleet_forget (fleet, (zwatch_str_t) { "web-1", 5 },
                                           (zwatch_str_t) { "api", 3 }, 100), -1);
        CHECK_INT_EQ (errno, ENOENT);
        CHECK_INT_EQ (zwatch_fleet_links (fleet), 0);
        CHECK_INT_EQ (zwatch_fleet_counters (fleet)->lseq, 6);
        //  The client's connection stays, with its remote address, unlinked
        CHECK_INT_EQ (zwatch_fleet_connections (fleet), 1);
        zwatch_fleet_destroy (&fleet);
        CHECK_INT_EQ (links.count, 6);          //  destroy reports nothing
    }
}

//  Who is joined and who is not: loopback stays on its host, addresses
//  must cross exactly, ipc joins by path and the connecting pid
static void
s_test_link_rules (void)
{
    zwatch_fleet_t *fleet = zwatch_fleet_new (NULL);
    fu_links_t links = { .count = 0 };
    zwatch_fleet_set_link_handler (fleet, fu_links_handler, &links);
    //  Loopback on two hosts: the same addresses, no link
    fu_apply (fleet, &s_server, EV (.sock = "srv", .event = "ACCEPTED", .value = 5,
                                    .endpoint = "tcp://127.0.0.1:5555", .local = "127.0.0.1:5555",
                                    .peer = "127.0.0.1:40000", .seq = 1));
    fu_apply (fleet, &s_client, EV (.sock = "cli", .event = "CONNECTED", .value = 6,
                                    .endpoint = "tcp://127.0.0.1:5555", .local = "127.0.0.1:40000",
                                    .peer = "127.0.0.1:5555", .seq = 1));
    CHECK_INT_EQ (links.count, 0);
    //  ... on one host: linked
    fu_agent_t neighbour = { "web-1", "batch", 300, 1 };
    fu_apply (fleet, &neighbour, EV (.sock = "cli", .event = "CONNECTED", .value = 6,
                                     .endpoint = "tcp://127.0.0.1:5555", .local = "127.0.0.1:40000",
                                     .peer = "127.0.0.1:5555", .seq = 1));
    CHECK_INT_EQ (links.count, 1);
    CHECK_STR_EQ (links.links [0].from, "web-1/batch/300/cli/127.0.0.1:40000");
    //  Addresses that do not cross exactly, or a missing local: no link
    fu_apply (fleet, &s_client, EV (.sock = "cli2", .event = "CONNECTED", .value = 7,
                                    .endpoint = "tcp://10.0.0.1:5555", .local = "10.0.0.2:40001",
                                    .peer = "10.0.0.1:5555", .seq = 2));
    fu_apply (fleet, &s_server, EV (.sock = "srv", .event = "ACCEPTED", .value = 8,
                                    .endpoint = "tcp://0.0.0.0:5555", .local = "10.0.0.1:5555",
                                    .peer = "10.0.0.2:40002", .seq = 2));
    fu_apply (fleet, &s_server, EV (.sock = "srv", .event = "ACCEPTED", .value = 9,
                                    .endpoint = "tcp://0.0.0.0:5555", .peer = "10.0.0.2:40001",
                                    .seq = 3));
    CHECK_INT_EQ (links.count, 1);
    //  ipc: the accepting end names the connecting process
    fu_apply (fleet, &s_server, EV (.sock = "ipc", .event = "ACCEPTED", .value = 10,
                                    .endpoint = "ipc:///run/a.sock", .local = "/run/a.sock",
                                    .peer = "", .peer_pid = 300, .seq = 4));
    fu_apply (fleet, &neighbour, EV (.sock = "ipc-cli", .event = "CONNECTED", .value = 11,
                                     .endpoint = "ipc:///run/a.sock", .local = "", .peer = "/run/a.sock",
                                     .seq = 2));
    CHECK_INT_EQ (links.count, 2);
    CHECK_STR_EQ (links.links [1].from, "web-1/batch/300/ipc-cli/");
    CHECK_STR_EQ (links.links [1].to, "web-1/api/100/ipc//run/a.sock");
    CHECK_STR_EQ (links.links [1].endpoint, "ipc:///run/a.sock");
    //  ... another process on that path, or the same pid on another host: no link
    fu_apply (fleet, &s_client, EV (.sock = "ipc-cli", .event = "CONNECTED", .value = 12,
                                    .endpoint = "ipc:///run/a.sock", .local = "", .seq = 3));
    CHECK_INT_EQ (links.count, 2);
    //  A newer end with the same addresses takes the old one's place: the
    //  link moves (down, then up with the new end)
    fu_agent_t other = { "web-1", "batch2", 301, 1 };
    fu_apply (fleet, &other, EV (.sock = "cli", .event = "CONNECTED", .value = 6,
                                 .endpoint = "tcp://127.0.0.1:5555", .local = "127.0.0.1:40000",
                                 .peer = "127.0.0.1:5555", .seq = 1));
    CHECK_INT_EQ (links.count, 4);
    CHECK (!links.links [2].up && links.links [3].up);
    CHECK_STR_EQ (links.links [3].from, "web-1/batch2/301/cli/127.0.0.1:40000");
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->link_conflicts, 1);
    CHECK_INT_EQ (zwatch_fleet_links (fleet), 2);
    zwatch_fleet_destroy (&fleet);

    //  An fd taken again by a connection with other addresses (the old
    //  one's end went unseen): the old link goes, the new end joins its own pair
    fleet = zwatch_fleet_new (NULL);
    links.count = 0;
    zwatch_fleet_set_link_handler (fleet, fu_links_handler, &links);
    s_connect (fleet, true, 1);
    CHECK_INT_EQ (links.count, 1);
    fu_apply (fleet, &s_server, EV (.sock = "srv", .event = "ACCEPTED", .value = 20,
                                    .endpoint = "tcp://0.0.0.0:5555", .local = "10.0.0.1:5555",
                                    .peer = "10.0.0.3:41000", .seq = 5));
    CHECK_INT_EQ (links.count, 2);
    s_check_link (&links.links [1], false, 2);
    CHECK_INT_EQ (zwatch_fleet_links (fleet), 0);
    fu_agent_t third = { "web-3", "worker", 400, 1 };
    fu_apply (fleet, &third, EV (.sock = "cli", .event = "CONNECTED", .value = 30,
                                 .endpoint = "tcp://10.0.0.1:5555", .local = "10.0.0.3:41000",
                                 .peer = "10.0.0.1:5555", .seq = 1));
    CHECK_INT_EQ (links.count, 3);
    CHECK (links.links [2].up);
    CHECK_STR_EQ (links.links [2].from, "web-3/worker/400/cli/10.0.0.3:41000");
    CHECK_STR_EQ (links.links [2].to, "web-1/api/100/srv/10.0.0.1:5555");
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), 3);
    zwatch_fleet_destroy (&fleet);

    //  An fd taken again with the same addresses (reused in place): still
    //  one connection, its since the new one's, the link neither goes nor
    //  comes; then its DISCONNECTED ends it and the link goes once
    fleet = zwatch_fleet_new (NULL);
    links.count = 0;
    zwatch_fleet_set_link_handler (fleet, fu_links_handler, &links);
    s_connect (fleet, true, 1);
    CHECK_INT_EQ (links.count, 1);
    for (uint64_t seq = 5; seq < 8; seq++)
        fu_apply (fleet, &s_server, EV (.sock = "srv", .event = "ACCEPTED", .value = 20,
                                        .endpoint = "tcp://0.0.0.0:5555",
                                        .local = "10.0.0.1:5555", .peer = "10.0.0.2:40000",
                                        .seq = seq));
    CHECK_INT_EQ (links.count, 1);
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), 2);
    CHECK_INT_EQ (zwatch_fleet_links (fleet), 1);
    fu_snapshot_t *snapshot = fu_snapshot (fleet, NULL);
    msgpack_object *srv = fu_socket (snapshot, "web-1", 100, "srv");
    CHECK (srv);
    msgpack_object_array *conns = fu_array (srv, "connections");
    CHECK (conns && conns->size == 1);
    CHECK_INT_EQ (fu_uint (&conns->ptr [0], "since"), 7 * 1000 + 7);
    fu_snapshot_free (snapshot);
    fu_apply (fleet, &s_server, EV (.sock = "srv", .event = "DISCONNECTED", .value = 20,
                                    .endpoint = "tcp://0.0.0.0:5555", .seq = 8));
    CHECK_INT_EQ (links.count, 2);
    CHECK (!links.links [1].up);
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), 1);
    CHECK_INT_EQ (zwatch_fleet_links (fleet), 0);
    zwatch_fleet_destroy (&fleet);
}

//  A replay replaces the agent's state; events during it are kept
static void
s_test_replay (void)
{
    zwatch_fleet_t *fleet = zwatch_fleet_new (NULL);
    fu_links_t links = { .count = 0 };
    zwatch_fleet_set_link_handler (fleet, fu_links_handler, &links);
    const fu_agent_t *a = &s_server;
    //  What events made: a listener, a connection, a socket the replay will not have
    fu_lifecycle (fleet, a, ZWATCH_KIND_HELLO, 0, 0);
    fu_apply (fleet, a, EV (.sock = "old", .event = "LISTENING", .value = 3,
                            .endpoint = "tcp://0.0.0.0:1", .seq = 1));
    s_connect (fleet, true, 2);             //  server seq 2, client seq 3
    CHECK_INT_EQ (links.count, 1);

    //  Replay at seq 10: the same connection (its link must not flap), a
    //  new listener; meanwhile an event before the picture (seq 9: live
    //  only) and one after it (seq 11: live and the copy)
    fu_lifecycle (fleet, a, ZWATCH_KIND_HELLO, 10, 0);
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->replays_partial, 1);  //  the first hello's
    fu_apply (fleet, a, EV (.sock = "srv", .event = "LISTENING", .value = 4,
                            .endpoint = "tcp://0.0.0.0:2", .seq = 9));
    fu_apply (fleet, a, EV (.kind = ZWATCH_KIND_STATE, .sock = "srv", .stype = "ROUTER",
                            .event = "ACCEPTED", .value = 20, .endpoint = "tcp://0.0.0.0:5555",
                            .local = "10.0.0.1:5555", .peer = "10.0.0.2:40000", .seq = 10,
                            .ts = 2007));
    fu_apply (fleet, a, EV (.kind = ZWATCH_KIND_STATE, .sock = "srv", .stype = "ROUTER",
                            .event = "LISTENING", .value = 4, .endpoint = "tcp://0.0.0.0:2",
                            .seq = 10));
    fu_apply (fleet, a, EV (.sock = "srv", .stype = "ROUTER", .event = "LISTENING", .value = 5,
                            .endpoint = "tcp://0.0.0.0:3", .seq = 11));
    //  Until state_end the snapshot shows the live state, partial
    fu_snapshot_t *snap = fu_snapshot (fleet, NULL);
    CHECK (fu_socket (snap, "web-1", 100, "old"));
    CHECK (fu_bool (fu_agent_frame (snap, "web-1", 100), "partial"));
    fu_snapshot_free (snap);
    fu_lifecycle (fleet, a, ZWATCH_KIND_STATE_END, 10, 2);
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->replays_complete, 1);
    CHECK_INT_EQ (links.count, 1);          //  no flap
    CHECK_INT_EQ (zwatch_fleet_links (fleet), 1);
    snap = fu_snapshot (fleet, NULL);
    CHECK (!fu_socket (snap, "web-1", 100, "old"));
    msgpack_object *agent = fu_agent_frame (snap, "web-1", 100);
    CHECK (!fu_bool (agent, "partial"));
    CHECK_INT_EQ (fu_uint (agent, "seq"), 11);
    msgpack_object *srv = fu_socket (snap, "web-1", 100, "srv");
    CHECK_INT_EQ (fu_array (srv, "listening")->size, 2);
    CHECK (fu_str_is (&fu_array (srv, "listening")->ptr [0], "tcp://0.0.0.0:2"));
    CHECK (fu_str_is (&fu_array (srv, "listening")->ptr [1], "tcp://0.0.0.0:3"));
    CHECK_INT_EQ (fu_array (srv, "connections")->size, 1);
    CHECK_INT_EQ (fu_count (snap, "link"), 1);
    fu_snapshot_free (snap);

    //  A replay without that connection breaks its link
    fu_lifecycle (fleet, a, ZWATCH_KIND_HELLO, 11, 0);
    fu_lifecycle (fleet, a, ZWATCH_KIND_STATE_END, 11, 0);
    CHECK_INT_EQ (links.count, 2);
    CHECK (!links.links [1].up);
    CHECK_INT_EQ (zwatch_fleet_sockets (fleet), 1);     //  the client's one
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->replays_complete, 2);

    //  Cut short: a count mismatch, a hello before state_end, seqs that disagree
    fu_lifecycle (fleet, a, ZWATCH_KIND_HELLO, 11, 0);
    fu_apply (fleet, a, EV (.kind = ZWATCH_KIND_STATE, .sock = "x", .event = "LISTENING",
                            .endpoint = "tcp://0.0.0.0:9", .seq = 11));
    fu_lifecycle (fleet, a, ZWATCH_KIND_STATE_END, 11, 2);
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->replays_partial, 2);
    CHECK_INT_EQ (zwatch_fleet_sockets (fleet), 1);     //  nothing replaced
    fu_lifecycle (fleet, a, ZWATCH_KIND_HELLO, 11, 0);
    fu_apply (fleet, a, EV (.kind = ZWATCH_KIND_STATE, .sock = "x", .event = "LISTENING",
                            .endpoint = "tcp://0.0.0.0:9", .seq = 11));
    fu_lifecycle (fleet, a, ZWATCH_KIND_HELLO, 11, 0);
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->replays_partial, 3);
    fu_apply (fleet, a, EV (.kind = ZWATCH_KIND_STATE, .sock = "x", .event = "LISTENING",
                            .endpoint = "tcp://0.0.0.0:9", .seq = 11));
    fu_apply (fleet, a, EV (.kind = ZWATCH_KIND_STATE, .sock = "y", .event = "LISTENING",
                            .endpoint = "tcp://0.0.0.0:8", .seq = 12));
    fu_lifecycle (fleet, a, ZWATCH_KIND_STATE_END, 12, 2);
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->replays_partial, 4);
    //  An event after the picture that came before its first state: partial
    fu_lifecycle (fleet, a, ZWATCH_KIND_HELLO, 11, 0);
    fu_apply (fleet, a, EV (.sock = "z", .event = "LISTENING", .endpoint = "tcp://0.0.0.0:7",
                            .seq = 13));
    fu_apply (fleet, a, EV (.kind = ZWATCH_KIND_STATE, .sock = "x", .event = "LISTENING",
                            .endpoint = "tcp://0.0.0.0:9", .seq = 12));
    fu_lifecycle (fleet, a, ZWATCH_KIND_STATE_END, 12, 1);
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->replays_partial, 5);
    snap = fu_snapshot (fleet, NULL);
    CHECK (fu_bool (fu_agent_frame (snap, "web-1", 100), "partial"));
    CHECK (fu_socket (snap, "web-1", 100, "z"));        //  events still applied
    CHECK (!fu_socket (snap, "web-1", 100, "x"));
    fu_snapshot_free (snap);
    //  The next full replay clears partial; a state_end alone is an empty replay
    fu_lifecycle (fleet, a, ZWATCH_KIND_STATE_END, 13, 0);
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->replays_complete, 3);
    snap = fu_snapshot (fleet, NULL);
    CHECK (!fu_bool (fu_agent_frame (snap, "web-1", 100), "partial"));
    CHECK (!fu_socket (snap, "web-1", 100, "z"));
    fu_snapshot_free (snap);

    //  The same pid with a new start: a new instance, nothing of the old one
    fu_apply (fleet, a, EV (.sock = "srv", .event = "LISTENING", .endpoint = "tcp://0.0.0.0:2",
                            .seq = 14));
    fu_agent_t again = s_server;
    again.start = 9999;
    fu_lifecycle (fleet, &again, ZWATCH_KIND_HELLO, 0, 0);
    snap = fu_snapshot (fleet, NULL);
    agent = fu_agent_frame (snap, "web-1", 100);
    CHECK_INT_EQ (fu_uint (agent, "start"), 9999);
    CHECK_INT_EQ (fu_uint (agent, "seq"), 0);
    CHECK (fu_bool (agent, "partial"));
    CHECK (!fu_socket (snap, "web-1", 100, "srv"));
    fu_snapshot_free (snap);
    //  ... whose seq counts from scratch: seq 1 is not stale
    uint64_t stale = zwatch_fleet_counters (fleet)->stale;
    fu_apply (fleet, &again, EV (.sock = "n", .event = "LISTENING", .endpoint = "tcp://0.0.0.0:2",
                                 .seq = 1));
    CHECK_INT_EQ (zwatch_fleet_counters (fleet)->stale, stale);
    CHECK_INT_EQ (zwatch_fleet_sockets (fleet), 2);
    zwatch_fleet_destroy (&fleet);
}

//  Every bound, hit on purpose: what is over it is counted and not kept
static void
s_test_bounds (void)
{
    zwatch_fleet_limits_t limits = { .agents = 2, .sockets = 2, .listening = 2,
                                     .connections = 3, .retrying = 1, .connections_all = 5,
                                     .links = 1 };
    zwatch_fleet_t *fleet = zwatch_fleet_new (&limits);
    fu_agent_t agents [3] = { { "h1", "s", 1, 1 }, { "h2", "s", 2, 1 }, { "h3", "s", 3, 1 } };
    CHECK_INT_EQ (fu_lifecycle (fleet, &agents [0], ZWATCH_KIND_HELLO, 0, 0), 0);
    CHECK_INT_EQ (fu_lifecycle (fleet, &agents [1], ZWATCH_KIND_HELLO, 0, 0), 0);
    errno = 0;
    CHECK_INT_EQ (fu_lifecycle (fleet, &agents [2], ZWATCH_KIND_HELLO, 0, 0), -1);
    CHECK_INT_EQ (errno, ENOSPC);
    CHECK_INT_EQ (fu_apply (fleet, &agents [2], EV (.sock = "a", .event = "LISTENING",
                                                    .endpoint = "tcp://*:1", .seq = 1)), -1);
    const zwatch_fleet_counters_t *counters = zwatch_fleet_counters (fleet);
    CHECK_INT_EQ (counters->agents_refused, 2);
    CHECK_INT_EQ (zwatch_fleet_agents (fleet), 2);

    const fu_agent_t *a = &agents [0];
    uint64_t seq = 1;
    //  Sockets per agent
    CHECK_INT_EQ (fu_apply (fleet, a, EV (.sock = "s1", .event = "HANDSHAKE_SUCCEEDED", .seq = seq++)), 0);
    CHECK_INT_EQ (fu_apply (fleet, a, EV (.sock = "s2", .event = "HANDSHAKE_SUCCEEDED", .seq = seq++)), 0);
    CHECK_INT_EQ (fu_apply (fleet, a, EV (.sock = "s3", .event = "HANDSHAKE_SUCCEEDED", .seq = seq++)), -1);
    CHECK_INT_EQ (counters->sockets_refused, 1);
    CHECK_INT_EQ (zwatch_fleet_sockets (fleet), 2);
    //  Listening per socket
    const char *endpoints [] = { "tcp://*:1", "tcp://*:2", "tcp://*:3" };
    for (int index = 0; index < 3; index++)
        CHECK_INT_EQ (fu_apply (fleet, a, EV (.sock = "s1", .event = "LISTENING",
                                              .endpoint = endpoints [index], .seq = seq++)),
                      index < 2? 0: -1);
    CHECK_INT_EQ (counters->listening_refused, 1);
    //  Retrying per socket; the same endpoint again is an update, not refused
    CHECK_INT_EQ (fu_apply (fleet, a, EV (.sock = "s1", .event = "CONNECT_RETRIED", .value = 100,
                                          .endpoint = endpoints [0], .seq = seq++)), 0);
    CHECK_INT_EQ (fu_apply (fleet, a, EV (.sock = "s1", .event = "CONNECT_RETRIED", .value = 200,
                                          .endpoint = endpoints [0], .seq = seq++)), 0);
    CHECK_INT_EQ (fu_apply (fleet, a, EV (.sock = "s1", .event = "CONNECT_RETRIED", .value = 100,
                                          .endpoint = endpoints [1], .seq = seq++)), -1);
    CHECK_INT_EQ (counters->retrying_refused, 1);
    //  Connections per socket (3), then in the whole fleet (5)
    for (int fd = 10; fd < 14; fd++)
        CHECK_INT_EQ (fu_apply (fleet, a, EV (.sock = "s1", .event = "ACCEPTED", .value = fd,
                                              .endpoint = "tcp://0.0.0.0:1", .seq = seq++)),
                      fd < 13? 0: -1);
    CHECK_INT_EQ (counters->connections_refused, 1);
    for (int fd = 20; fd < 24; fd++)
        CHECK_INT_EQ (fu_apply (fleet, a, EV (.sock = "s2", .event = "ACCEPTED", .value = fd,
                                              .endpoint = "tcp://0.0.0.0:1", .seq = seq++)),
                      fd < 22? 0: -1);
    CHECK_INT_EQ (counters->connections_refused, 3);
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), 5);
    fu_apply (fleet, a, EV (.sock = "s1", .event = "MONITOR_STOPPED", .seq = seq++));
    fu_apply (fleet, a, EV (.sock = "s2", .event = "MONITOR_STOPPED", .seq = seq++));
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), 0);

    //  Links (1): the second matching pair stays two unlinked connections
    const fu_agent_t *b = &agents [1];
    fu_apply (fleet, a, EV (.sock = "c", .event = "CONNECTED", .value = 1, .endpoint = "tcp://10.0.0.2:1",
                            .local = "10.0.0.1:100", .peer = "10.0.0.2:1", .seq = seq++));
    fu_apply (fleet, b, EV (.sock = "l", .event = "ACCEPTED", .value = 1, .endpoint = "tcp://0.0.0.0:1",
                            .local = "10.0.0.2:1", .peer = "10.0.0.1:100", .seq = 1));
    fu_apply (fleet, a, EV (.sock = "c", .event = "CONNECTED", .value = 2, .endpoint = "tcp://10.0.0.2:1",
                            .local = "10.0.0.1:101", .peer = "10.0.0.2:1", .seq = seq++));
    fu_apply (fleet, b, EV (.sock = "l", .event = "ACCEPTED", .value = 2, .endpoint = "tcp://0.0.0.0:1",
                            .local = "10.0.0.2:1", .peer = "10.0.0.1:101", .seq = 2));
    CHECK_INT_EQ (zwatch_fleet_links (fleet), 1);
    CHECK_INT_EQ (counters->links_refused, 1);
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), 4);

    //  A replay over the bounds: kept up to them, counted, still complete
    fu_lifecycle (fleet, b, ZWATCH_KIND_HELLO, 2, 0);
    for (int index = 0; index < 3; index++)
        fu_apply (fleet, b, EV (.kind = ZWATCH_KIND_STATE, .sock = "r", .event = "LISTENING",
                                .endpoint = endpoints [index], .seq = 2));
    fu_lifecycle (fleet, b, ZWATCH_KIND_STATE_END, 2, 3);
    CHECK_INT_EQ (counters->listening_refused, 2);
    CHECK_INT_EQ (counters->replays_complete, 1);
    CHECK_INT_EQ (zwatch_fleet_links (fleet), 0);
    zwatch_fleet_destroy (&fleet);
}

//  The prefix filter: by host, by host and service, links with one end in
static void
s_test_prefix (void)
{
    zwatch_fleet_t *fleet = zwatch_fleet_new (NULL);
    s_connect (fleet, true, 1);
    fu_agent_t web10 = { "web-10", "api", 7, 1 };
    fu_apply (fleet, &web10, EV (.sock = "x", .event = "LISTENING", .endpoint = "tcp://*:1", .seq = 1));
    struct { const char *prefix; size_t agents, sockets, links; } cases [] = {
        { NULL, 3, 3, 1 }, { "", 3, 3, 1 }, { "ev/", 3, 3, 1 }, { "e", 3, 3, 1 },
        { "ev/web-1/", 1, 1, 1 }, { "ev/web-1", 2, 2, 1 }, { "ev/web-1/api/", 1, 1, 1 },
        { "ev/web-1/api/CONNECTED", 1, 1, 1 }, { "ev/web-1/apiv2/", 0, 0, 0 },
        { "ev/web-2/worker/", 1, 1, 1 }, { "ev/web-10/", 1, 1, 0 }, { "agent/", 0, 0, 0 },
        { "ev/nobody/", 0, 0, 0 }
    };
    for (size_t index = 0; index < sizeof (cases) / sizeof (cases [0]); index++) {
        fu_snapshot_t *snap = fu_snapshot (fleet, cases [index].prefix);
        if (fu_count (snap, "agent") != cases [index].agents
        ||  fu_count (snap, "socket") != cases [index].sockets
        ||  fu_count (snap, "link") != cases [index].links) {
            fprintf (stderr, "prefix '%s': %zu agents %zu sockets %zu links\n", cases [index].prefix,
                     fu_count (snap, "agent"), fu_count (snap, "socket"), fu_count (snap, "link"));
            exit (1);
        }
        fu_snapshot_free (snap);
    }
    zwatch_fleet_destroy (&fleet);
}

//  A fixed pseudo-random sequence: the same run every time
static uint32_t
s_random (uint32_t range)
{
    static uint64_t state = 88172645463325252ULL;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t) (state % range);
}

//  Events in any order: never a crash or a leak (ASan), and the counts the
//  model gives stay those of its own snapshot
static void
s_test_any_order (void)
{
    zwatch_fleet_limits_t limits = { .connections = 8, .links = 16, .listening = 4, .retrying = 4,
                                     .sockets = 4, .agents = 4 };
    zwatch_fleet_t *fleet = zwatch_fleet_new (&limits);
    fu_links_t links = { .count = 0 };
    const char *events [] = { "CONNECTED", "ACCEPTED", "DISCONNECTED", "CLOSED", "LISTENING",
                              "CONNECT_RETRIED", "BIND_FAILED", "MONITOR_STOPPED" };
    const char *addresses [] = { "10.0.0.1:1", "10.0.0.2:2", "127.0.0.1:3", "" };
    fu_agent_t agents [5] = { { "a", "s", 1, 1 }, { "b", "s", 2, 1 }, { "a", "t", 3, 1 },
                              { "b", "t", 4, 1 }, { "c", "s", 5, 1 } };
    uint64_t seqs [5] = { 0 };
    for (int round = 0; round < 200000; round++) {
        int who = s_random (5);
        if (links.count > 200)
            links.count = 0;
        zwatch_fleet_set_link_handler (fleet, s_random (2)? fu_links_handler: NULL, &links);
        if (s_random (50) == 0) {
            zwatch_kind_t kinds [] = { ZWATCH_KIND_HELLO, ZWATCH_KIND_STATE_END, ZWATCH_KIND_BYE,
                                       ZWATCH_KIND_HEARTBEAT };
            fu_lifecycle (fleet, &agents [who], kinds [s_random (4)], seqs [who], s_random (3));
            continue;
        }
        fu_event_t event = {
            .kind = s_random (7) == 0? ZWATCH_KIND_STATE: ZWATCH_KIND_EVENT,
            .sock = s_random (2)? "x": "y",
            .event = events [s_random (8)],
            .value = s_random (4),
            .endpoint = s_random (2)? "tcp://10.0.0.1:1": "ipc:///p",
            .local = addresses [s_random (4)],
            .peer = addresses [s_random (4)],
            .peer_pid = s_random (6),
            //  Mostly rising, sometimes repeated or going back
            .seq = s_random (8) == 0? seqs [who] - s_random (3): ++seqs [who]
        };
        if (event.kind == ZWATCH_KIND_STATE
        && !zwatch_event_is_fact (zwatch_event_code (event.event, strlen (event.event))))
            event.event = "ACCEPTED";
        if (!*event.local)
            event.local = NULL;
        fu_apply (fleet, &agents [who], event);
        if (round % 20000 == 0) {
            fu_snapshot_t *snap = fu_snapshot (fleet, NULL);
            size_t connections = 0;
            for (size_t index = 0; index < snap->count; index++)
                if (fu_str_is (fu_get (&snap->frames [index].data, "kind"), "socket"))
                    connections += fu_array (&snap->frames [index].data, "connections")->size;
            CHECK_INT_EQ (connections, zwatch_fleet_connections (fleet));
            CHECK_INT_EQ (fu_count (snap, "link"), zwatch_fleet_links (fleet));
            CHECK_INT_EQ (fu_count (snap, "agent"), zwatch_fleet_agents (fleet));
            CHECK_INT_EQ (fu_count (snap, "socket"), zwatch_fleet_sockets (fleet));
            CHECK (zwatch_fleet_links (fleet) * 2 <= zwatch_fleet_connections (fleet));
            fu_snapshot_free (snap);
        }
    }
    const zwatch_fleet_counters_t *counters = zwatch_fleet_counters (fleet);
    printf ("any order: %zu agents, %zu connections, %zu links; lseq %" PRIu64 ", stale %" PRIu64
            ", unmatched %" PRIu64 ", replays %" PRIu64 " complete %" PRIu64 " partial\n",
            zwatch_fleet_agents (fleet), zwatch_fleet_connections (fleet),
            zwatch_fleet_links (fleet), counters->lseq, counters->stale, counters->unmatched,
            counters->replays_complete, counters->replays_partial);
    CHECK (counters->lseq > 100 && counters->replays_complete > 0 && counters->replays_partial > 0);
    zwatch_fleet_destroy (&fleet);
}

//  "host/svc/pid/sock/addr" of a link frame's end, as fu_links_handler writes it
static void
s_end_name (msgpack_object *end, char *buf, size_t size)
{
    msgpack_object *host = fu_get (end, "host"), *svc = fu_get (end, "svc");
    msgpack_object *sock = fu_get (end, "sock"), *addr = fu_get (end, "addr");
    snprintf (buf, size, "%.*s/%.*s/%" PRIu64 "/%.*s/%.*s", (int) host->via.str.size,
              host->via.str.ptr, (int) svc->via.str.size, svc->via.str.ptr, fu_uint (end, "pid"),
              (int) sock->via.str.size, sock->via.str.ptr, (int) addr->via.str.size,
              addr->via.str.ptr);
}

//  A set of links by name, as a client would hold them
typedef struct {
    char names [64][330];
    size_t count;
} link_set_t;

static void
s_set_put (link_set_t *set, const char *name, bool present)
{
    for (size_t index = 0; index < set->count; index++)
        if (strcmp (set->names [index], name) == 0) {
            if (!present)
                strcpy (set->names [index], set->names [--set->count]);
            return;
        }
    if (present) {
        CHECK (set->count < 64);
        snprintf (set->names [set->count++], sizeof (set->names [0]), "%s", name);
    }
}

static bool
s_set_equal (link_set_t *a, link_set_t *b)
{
    if (a->count != b->count)
        return false;
    for (size_t index = 0; index < a->count; index++) {
        bool found = false;
        for (size_t other = 0; other < b->count && !found; other++)
            found = strcmp (a->names [index], b->names [other]) == 0;
        if (!found)
            return false;
    }
    return true;
}

static void
s_link_frame (link_set_t *set, msgpack_object *frame)
{
    if (!fu_str_is (fu_get (frame, "kind"), "link"))
        return;
    char from [160], to [160], name [330];
    s_end_name (fu_get (frame, "from"), from, sizeof (from));
    s_end_name (fu_get (frame, "to"), to, sizeof (to));
    snprintf (name, sizeof (name), "%s>%s", from, to);
    s_set_put (set, name, true);
}

static uint64_t s_server_seq;

//  Client b connects to the server (fd, port) on socket "cli"
static void
s_client_link (zwatch_fleet_t *fleet, const fu_agent_t *b, int port, uint64_t seq, bool up)
{
    char local [32], peer [32];
    snprintf (local, sizeof (local), "10.0.1.%d:%d", (int) b->pid % 250, port);
    fu_apply (fleet, b, EV (.sock = "cli", .event = up? "CONNECTED": "DISCONNECTED", .value = port,
                            .endpoint = "tcp://10.0.0.1:5555", .local = local,
                            .peer = "10.0.0.1:5555", .seq = seq));
    if (up) {
        snprintf (peer, sizeof (peer), "10.0.1.%d:%d", (int) b->pid % 250, port);
        fu_apply (fleet, &s_server, EV (.sock = "srv", .event = "ACCEPTED", .value = port,
                                        .endpoint = "tcp://0.0.0.0:5555", .local = "10.0.0.1:5555",
                                        .peer = peer, .seq = ++s_server_seq));
    }
}

//  The cursor: the model changes between frames, and a client that takes
//  the link frames and then the link messages above the snapshot's lseq
//  holds exactly the links of a fresh snapshot
static void
s_test_snapshot_cursor (void)
{
    for (int cut = 1; cut < 14; cut++) {     //  14 frames in all
        zwatch_fleet_t *fleet = zwatch_fleet_new (NULL);
        s_server_seq = 0;
        fu_links_t messages = { .count = 0 };
        zwatch_fleet_set_link_handler (fleet, fu_links_handler, &messages);
        fu_agent_t clients [5] = { { "c1", "w", 11, 1 }, { "c2", "w", 12, 1 }, { "c3", "w", 13, 1 },
                                   { "c4", "w", 14, 1 }, { "c5", "w", 15, 1 } };
        fu_lifecycle (fleet, &s_server, ZWATCH_KIND_HELLO, 0, 0);
        for (int index = 0; index < 4; index++)
            s_client_link (fleet, &clients [index], 40000 + index, 1, true);
        CHECK_INT_EQ (zwatch_fleet_links (fleet), 4);

        zwatch_fleet_snapshot_t *snapshot = zwatch_fleet_snapshot_new (fleet, NULL, 0);
        link_set_t client = { .count = 0 };
        const void *data;
        size_t size;
        int frame = 0;
        while (zwatch_fleet_snapshot_next (snapshot, &data, &size)) {
            msgpack_unpacked unpacked;
            msgpack_unpacked_init (&unpacked);
            size_t offset = 0;
            CHECK (msgpack_unpack_next (&unpacked, data, size, &offset) == MSGPACK_UNPACK_SUCCESS);
            s_link_frame (&client, &unpacked.data);
            msgpack_unpacked_destroy (&unpacked);
            //  After frame `cut`: a link breaks, one is made again on a
            //  new port, an agent goes, a new one comes with a link
            if (++frame == cut) {
                s_client_link (fleet, &clients [0], 40000, 2, false);
                s_client_link (fleet, &clients [0], 41000, 3, true);
                zwatch_fleet_forget (fleet, (zwatch_str_t) { "c2", 2 }, (zwatch_str_t) { "w", 1 }, 12);
                s_client_link (fleet, &clients [4], 40004, 1, true);
                s_client_link (fleet, &clients [2], 40002, 2, false);
            }
        }
        CHECK (!zwatch_fleet_snapshot_failed (snapshot));
        //  Read at the end, as the broker does for snapshot_end: the request's
        uint64_t lseq = zwatch_fleet_snapshot_lseq (snapshot);
        CHECK_INT_EQ (lseq, 4);
        zwatch_fleet_snapshot_destroy (&snapshot);
        for (size_t index = 0; index < messages.count; index++)
            if (messages.links [index].lseq > lseq) {
                char name [330];
                snprintf (name, sizeof (name), "%s>%s", messages.links [index].from,
                          messages.links [index].to);
                s_set_put (&client, name, messages.links [index].up);
            }
        link_set_t fresh = { .count = 0 };
        fu_snapshot_t *snap = fu_snapshot (fleet, NULL);
        for (size_t index = 0; index < snap->count; index++)
            s_link_frame (&fresh, &snap->frames [index].data);
        fu_snapshot_free (snap);
        CHECK_INT_EQ (fresh.count, 3);          //  c1 (again), c4, c5
        CHECK (s_set_equal (&client, &fresh));
        zwatch_fleet_destroy (&fleet);
    }
}

int
main (int argc, char *argv [])
{
    tu_case_t cases [] = {
        { "events", s_test_events },
        { "links", s_test_links },
        { "link_rules", s_test_link_rules },
        { "replay", s_test_replay },
        { "bounds", s_test_bounds },
        { "prefix", s_test_prefix },
        { "any_order", s_test_any_order },
        { "snapshot_cursor", s_test_snapshot_cursor },
    };
    return tu_run_cases (argc, argv, "test_fleet", cases, sizeof (cases) / sizeof (cases [0]));
}
