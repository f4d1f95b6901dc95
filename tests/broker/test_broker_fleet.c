/*  test_broker_fleet: the fleet state with real agents in real processes.

    Two services on loopback, each with its own agent: one binds a ROUTER,
    one connects a DEALER to it. The broker's snapshot shows both sockets,
    the listening endpoint, both connection ends with mirrored addresses
    and one link; after the broker is killed (SIGKILL) and restarted on the
    same ports, the agents' replays give it the same picture without any
    service restarting; after the DEALER is closed, the link and both
    connections are gone.
*/

#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>
#include "zwatch.h"
#include "agent_child.h"
#include "broker_proc.h"
#include "snap_client.h"
#include "testutil.h"

#define WAIT_MS     15000       //  bound on the fleet reaching a state
#define POLL_MS     50          //  between snapshots while waiting for it

//  The socket map of (svc, sock) in reply, or NULL
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

static size_t
s_connections (const msgpack_object *socket)
{
    const msgpack_object *array = socket? mp_get (socket, "connections"): NULL;
    return array && array->type == MSGPACK_OBJECT_ARRAY? array->via.array.size: 0;
}

//  Snapshots until the fleet shows links links and the two sockets with
//  server_conns and client_conns connections (client_conns < 0: the
//  client's socket is gone); the test fails after WAIT_MS
static snap_reply_t *
s_wait_fleet (snap_client_t *client, size_t links, size_t server_conns, int client_conns)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (true) {
        snap_reply_t *reply = snap_client_get (client, NULL, -1, WAIT_MS);
        CHECK (!snap_reply_error (reply));
        const msgpack_object *server = s_socket (reply, "fleet-srv", "api");
        const msgpack_object *dealer = s_socket (reply, "fleet-cli", "client");
        if (snap_reply_count (reply, "link") == links && server
        &&  s_connections (server) == server_conns
        &&  (client_conns < 0? !dealer: dealer && s_connections (dealer) == (size_t) client_conns))
            return reply;
        if (tu_now_ms () > deadline) {
            fprintf (stderr, "the fleet did not reach %zu links, %zu + %d connections in %d ms "
                     "(has %zu links)\n", links, server_conns, client_conns, WAIT_MS,
                     snap_reply_count (reply, "link"));
            CHECK (false);
        }
        snap_reply_destroy (&reply);
        usleep (POLL_MS * 1000);
    }
}

//  Both ends and the link, with mirrored addresses; returns the client's
//  local address (its ephemeral port) in client_addr
static void
s_check_linked (snap_reply_t *reply, const char *server_addr, const char *server_ep,
                char *client_addr, size_t size)
{
    CHECK_INT_EQ (snap_reply_count (reply, "agent"), 2);
    CHECK_INT_EQ (snap_reply_count (reply, "socket"), 2);
    const msgpack_object *server = s_socket (reply, "fleet-srv", "api");
    const msgpack_object *listening = mp_get (server, "listening");
    CHECK (listening && listening->type == MSGPACK_OBJECT_ARRAY);
    CHECK_INT_EQ (listening->via.array.size, 1);
    const msgpack_object *in = &mp_get (server, "connections")->via.array.ptr [0];
    CHECK (mp_str_is (in, "dir", "in"));
    CHECK (mp_str_is (in, "local", server_addr));
    const msgpack_object *dealer = s_socket (reply, "fleet-cli", "client");
    CHECK (mp_str_is (dealer, "stype", "DEALER"));
    const msgpack_object *out = &mp_get (dealer, "connections")->via.array.ptr [0];
    CHECK (mp_str_is (out, "dir", "out"));
    CHECK (mp_str_is (out, "endpoint", server_ep));
    CHECK (mp_str_is (out, "peer", server_addr));
    CHECK (mp_str (out, "local", client_addr, size));
    CHECK (mp_str_is (in, "peer", client_addr));
    const msgpack_object *link = snap_reply_nth (reply, "link", 0);
    CHECK (mp_str_is (mp_get (link, "from"), "svc", "fleet-cli"));
    CHECK (mp_str_is (mp_get (link, "from"), "sock", "client"));
    CHECK (mp_str_is (mp_get (link, "to"), "svc", "fleet-srv"));
    CHECK (mp_str_is (mp_get (link, "to"), "sock", "api"));
}

static void
s_test_restart (void)
{
    char *ingest = tu_free_endpoint ();
    char *publish = tu_free_endpoint ();
    char *snapshot = tu_free_endpoint ();
    char *server_ep = tu_free_endpoint ();
    const char *server_addr = server_ep + strlen ("tcp://");
    const char *args [] = { "--ingest", ingest, "--publish", publish, "--snapshot", snapshot,
                            "--id", "fleet-broker", NULL };
    broker_proc_t *broker = broker_proc_new (args, false);
    agent_child_t server = agent_child_start (ingest, "fleet-host", "fleet-srv", ZMQ_ROUTER, "api",
                                              server_ep, true);
    agent_child_t dealer = agent_child_start (ingest, "fleet-host", "fleet-cli", ZMQ_DEALER, "client",
                                              server_ep, true);
    snap_client_t *client = snap_client_new (snapshot);

    snap_reply_t *reply = s_wait_fleet (client, 1, 1, 1);
    char client_addr [256];
    s_check_linked (reply, server_addr, server_ep, client_addr, sizeof (client_addr));
    snap_reply_destroy (&reply);

    //  The broker dies and comes back on the same ports: the agents replay
    CHECK_INT_EQ (broker_proc_stop (broker, SIGKILL, 5000), 128 + SIGKILL);
    broker_proc_destroy (&broker);
    broker = broker_proc_new (args, false);
    reply = s_wait_fleet (client, 1, 1, 1);
    char replayed_addr [256];
    s_check_linked (reply, server_addr, server_ep, replayed_addr, sizeof (replayed_addr));
    CHECK_STR_EQ (replayed_addr, client_addr);      //  the same connection, not a new one
    snap_reply_destroy (&reply);

    //  The DEALER closes: its socket leaves, and the link and both ends go
    agent_child_say (&dealer, 'c');
    reply = s_wait_fleet (client, 0, 0, -1);
    CHECK_INT_EQ (snap_reply_count (reply, "socket"), 1);
    snap_reply_destroy (&reply);

    snap_client_destroy (&client);
    agent_child_end (&dealer);
    agent_child_end (&server);
    broker_proc_destroy (&broker);
    free (ingest);
    free (publish);
    free (snapshot);
    free (server_ep);
}

int
main (int argc, char *argv [])
{
    const tu_case_t cases [] = { { "restart", s_test_restart } };
    return tu_run_cases (argc, argv, "test_broker_fleet", cases, sizeof (cases) / sizeof (cases [0]));
}
