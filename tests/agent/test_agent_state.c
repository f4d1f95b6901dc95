/*  test_agent_state: the agent's per-socket state, on the wire.

    A real agent in this process watches real sockets on 127.0.0.1 (and
    ipc); a ROUTER in its own context stands in for the broker and decodes
    every frame with zwatch_msg_decode. Checked: the local and peer of
    CONNECTED / ACCEPTED (against getsockname / getpeername on the event's
    fd), those of the DISCONNECTED that ends the connection, peer_pid on
    ipc, the replay after a broker restart (exactly the facts, the count,
    the seq), and the bound on connections kept per socket.  */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>
#include "zwatch.h"
#include "testutil.h"

#define MESSAGES_MAX    4096
#define WAIT_MS         10000       //  bound on every wait

typedef struct {
    void *ctx;                      //  its own: closing it never touches the service's
    void *router;
    char endpoint [64];
    zwatch_msg_t msgs [MESSAGES_MAX];
    void *bodies [MESSAGES_MAX];    //  what msgs' strings point into (at a frame's first)
    int count;
    uint8_t *frame;                 //  the last frame, while it has messages left
    size_t frame_size;
    size_t frame_offset;
} broker_t;

//  Bind the endpoint; a closed ROUTER lets go of its port a moment later,
//  in libzmq's I/O thread: retry until it has (bounded)
static void
s_broker_bind (broker_t *self)
{
    self->router = zmq_socket (self->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt (self->router, ZMQ_LINGER, &linger, sizeof (linger));
    long long deadline = tu_now_ms () + WAIT_MS;
    while (zmq_bind (self->router, self->endpoint) != 0) {
        CHECK_INT_EQ (zmq_errno (), EADDRINUSE);
        CHECK (tu_now_ms () < deadline);
        usleep (10 * 1000);
    }
}

static broker_t *
s_broker_new (void)
{
    broker_t *self = calloc (1, sizeof (broker_t));
    CHECK (self);
    self->ctx = zmq_ctx_new ();
    char *endpoint = tu_free_endpoint ();
    snprintf (self->endpoint, sizeof (self->endpoint), "%s", endpoint);
    free (endpoint);
    s_broker_bind (self);
    return self;
}

//  A broker restart: the old ROUTER goes with what it holds, a new one
//  binds the same port
static void
s_broker_restart (broker_t *self)
{
    zmq_close (self->router);
    s_broker_bind (self);
}

static void
s_broker_destroy (broker_t **self_p)
{
    broker_t *self = *self_p;
    zmq_close (self->router);
    zmq_ctx_term (self->ctx);
    for (int index = 0; index < self->count; index++)
        free (self->bodies [index]);
    free (self);
    *self_p = NULL;
}

//  Receive one message within timeout_ms; every one must decode
static zwatch_msg_t *
s_broker_recv (broker_t *self, int timeout_ms)
{
    //  A frame may hold several messages (PROTOCOL.md 5, "Batches")
    CHECK (self->count < MESSAGES_MAX);
    self->bodies [self->count] = NULL;
    if (!self->frame || self->frame_offset >= self->frame_size) {
        zmq_pollitem_t item = { self->router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, timeout_ms) <= 0)
            return NULL;
        zmq_msg_t id, body;
        zmq_msg_init (&id);
        zmq_msg_init (&body);
        CHECK (zmq_msg_recv (&id, self->router, 0) >= 0);
        CHECK (zmq_msg_more (&id));
        CHECK (zmq_msg_recv (&body, self->router, 0) >= 0);
        CHECK (!zmq_msg_more (&body));
        size_t size = zmq_msg_size (&body);
        CHECK (size <= 65536);
        self->frame = malloc (size? size: 1);
        CHECK (self->frame);
        memcpy (self->frame, zmq_msg_data (&body), size);
        self->frame_size = size;
        self->frame_offset = 0;
        self->bodies [self->count] = self->frame;
        zmq_msg_close (&id);
        zmq_msg_close (&body);
    }
    const char *detail;
    bool rest_lost;
    zwatch_msg_t *msg = &self->msgs [self->count];
    zwatch_reason_t reason = zwatch_msg_decode_next (msg, self->frame, self->frame_size,
                                                     &self->frame_offset, &rest_lost, &detail);
    if (reason != ZWATCH_OK) {
        fprintf (stderr, "agent sent an invalid message: %s (%s)\n",
                 zwatch_reason_name (reason), detail);
        exit (1);
    }
    self->count++;
    return msg;
}

static bool
s_is (zwatch_str_t str, const char *text)
{
    return str.ptr && str.len == strlen (text) && memcmp (str.ptr, text, str.len) == 0;
}

static bool
s_same (zwatch_str_t one, zwatch_str_t other)
{
    return one.ptr && other.ptr && one.len == other.len
        && memcmp (one.ptr, other.ptr, one.len) == 0;
}

static bool
s_matches (const zwatch_msg_t *msg, zwatch_kind_t kind, const char *sock, const char *event)
{
    return msg->kind == kind && (!sock || s_is (msg->sock, sock))
        && (!event || s_is (msg->event, event));
}

//  Index of the first message from `from` on of that kind (sock and event
//  NULL: any), receiving until it comes
static int
s_wait_for (broker_t *self, int from, zwatch_kind_t kind, const char *sock, const char *event)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    for (int index = from; ; index++) {
        while (index >= self->count) {
            long long left = deadline - tu_now_ms ();
            if (left <= 0 || !s_broker_recv (self, (int) left)) {
                fprintf (stderr, "no %s %s %s from message %d on\n", zwatch_kind_name (kind),
                         sock? sock: "*", event? event: "*", from);
                exit (1);
            }
        }
        if (s_matches (&self->msgs [index], kind, sock, event))
            return index;
    }
}

//  An fd's address as the protocol writes it (IPv4 here), from the kernel
static void
s_addr (int fd, bool peer, char *buf, size_t size)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof (addr);
    int rc = peer? getpeername (fd, (struct sockaddr *) &addr, &len)
                 : getsockname (fd, (struct sockaddr *) &addr, &len);
    CHECK_INT_EQ (rc, 0);
    CHECK_INT_EQ (addr.sin_family, AF_INET);
    char host [INET_ADDRSTRLEN];
    inet_ntop (AF_INET, &addr.sin_addr, host, sizeof (host));
    snprintf (buf, size, "%s:%u", host, ntohs (addr.sin_port));
}

static void
s_check_addresses (const zwatch_msg_t *msg)
{
    char local [64], peer [64];
    s_addr ((int) msg->value, false, local, sizeof (local));
    s_addr ((int) msg->value, true, peer, sizeof (peer));
    CHECK (s_is (msg->local, local));
    CHECK (s_is (msg->peer, peer));
}

//  A service ROUTER watched as label, then bound on 127.0.0.1 (so the
//  agent hears its LISTENING), its endpoint into endpoint
static void *
s_bound_router (void *ctx, zwatch_agent_t *agent, const char *label, char *endpoint, size_t size)
{
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt (router, ZMQ_LINGER, &linger, sizeof (linger));
    CHECK_INT_EQ (zwatch_agent_watch (agent, router, label), 0);
    CHECK_INT_EQ (zmq_bind (router, "tcp://127.0.0.1:*"), 0);
    CHECK_INT_EQ (zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, endpoint, &size), 0);
    return router;
}

static void *
s_connected_dealer (void *ctx, const char *endpoint, int reconnect_ivl)
{
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof (linger));
    if (reconnect_ivl)
        zmq_setsockopt (dealer, ZMQ_RECONNECT_IVL, &reconnect_ivl, sizeof (reconnect_ivl));
    CHECK_INT_EQ (zmq_connect (dealer, endpoint), 0);
    return dealer;
}

//  The agent's first words: hello, then an empty replay (nothing watched yet)
static void
s_check_first_replay (broker_t *broker)
{
    CHECK_INT_EQ (s_wait_for (broker, 0, ZWATCH_KIND_HELLO, NULL, NULL), 0);
    CHECK_INT_EQ (s_wait_for (broker, 1, ZWATCH_KIND_STATE_END, NULL, NULL), 1);
    CHECK_INT_EQ (broker->msgs [1].count, 0);
    CHECK_INT_EQ (broker->msgs [1].seq, 0);
}

//  CONNECTED and ACCEPTED say both ends, mirrored; the DISCONNECTED that
//  ends the connection says the same
static void
s_test_addresses (void)
{
    broker_t *broker = s_broker_new ();
    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, broker->endpoint);
    CHECK (agent);
    s_check_first_replay (broker);
    char endpoint [64];
    void *server = s_bound_router (ctx, agent, "server", endpoint, sizeof (endpoint));
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    CHECK_INT_EQ (zwatch_agent_watch (agent, client, "client"), 0);
    CHECK_INT_EQ (zmq_connect (client, endpoint), 0);

    zwatch_msg_t *accepted = &broker->msgs [s_wait_for (broker, 0, ZWATCH_KIND_EVENT, "server",
                                                        "ACCEPTED")];
    zwatch_msg_t *connected = &broker->msgs [s_wait_for (broker, 0, ZWATCH_KIND_EVENT, "client",
                                                         "CONNECTED")];
    //  Both fds are this process's, still open: the kernel says the same
    s_check_addresses (accepted);
    s_check_addresses (connected);
    CHECK (s_same (accepted->local, connected->peer));
    CHECK (s_same (accepted->peer, connected->local));
    CHECK (s_is (connected->peer, endpoint + strlen ("tcp://")));
    CHECK_INT_EQ (accepted->peer_pid, 0);           //  not ipc

    CHECK_INT_EQ (zwatch_agent_unwatch (agent, client), 0);
    zmq_close (client);
    zwatch_msg_t *disconnected = &broker->msgs [s_wait_for (broker, 0, ZWATCH_KIND_EVENT,
                                                            "server", "DISCONNECTED")];
    CHECK_INT_EQ (disconnected->value, accepted->value);
    CHECK (s_same (disconnected->local, accepted->local));
    CHECK (s_same (disconnected->peer, accepted->peer));

    zmq_close (server);
    zwatch_agent_destroy (&agent);
    zmq_ctx_term (ctx);
    s_broker_destroy (&broker);
}

//  The index of the fact among states [from, to) on sock, naming event; -1
static int
s_find_state (broker_t *broker, int from, int to, const char *sock, const char *event)
{
    int found = -1;
    for (int index = from; index < to; index++)
        if (s_matches (&broker->msgs [index], ZWATCH_KIND_STATE, sock, event)) {
            CHECK_INT_EQ (found, -1);               //  one such fact only
            found = index;
        }
    return found;
}

//  Wait until the broker has every event the agent queued so far
static uint64_t
s_wait_all_sent (broker_t *broker, zwatch_agent_t *agent)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (true) {
        zwatch_agent_stats_t stats;
        CHECK_INT_EQ (zwatch_agent_stats (agent, &stats), 0);
        uint64_t last = 0;
        for (int index = 0; index < broker->count; index++)
            if (broker->msgs [index].kind == ZWATCH_KIND_EVENT)
                last = broker->msgs [index].seq;
        if (last == stats.sent)
            return last;
        CHECK (tu_now_ms () < deadline);
        s_broker_recv (broker, 100);
    }
}

//  The replay after a hello on a restarted broker: the index of the hello
//  and of its state_end, with nothing but states between them
static void
s_wait_replay (broker_t *broker, int from, int *hello, int *end)
{
    *hello = s_wait_for (broker, from, ZWATCH_KIND_HELLO, NULL, NULL);
    *end = s_wait_for (broker, *hello, ZWATCH_KIND_STATE_END, NULL, NULL);
    for (int index = *hello + 1; index < *end; index++) {
        CHECK_INT_EQ (broker->msgs [index].kind, ZWATCH_KIND_STATE);
        CHECK_INT_EQ (broker->msgs [index].seq, broker->msgs [*hello].seq);
    }
    CHECK_INT_EQ (broker->msgs [*end].seq, broker->msgs [*hello].seq);
    CHECK_INT_EQ (broker->msgs [*end].count, *end - *hello - 1);
}

//  The broker restarts: hello, exactly the current facts, state_end
static void
s_test_replay (void)
{
    broker_t *broker = s_broker_new ();
    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, broker->endpoint);
    CHECK (agent);
    s_check_first_replay (broker);
    char endpoint [64];
    void *server = s_bound_router (ctx, agent, "server", endpoint, sizeof (endpoint));
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    CHECK_INT_EQ (zwatch_agent_watch (agent, client, "client"), 0);
    CHECK_INT_EQ (zmq_connect (client, endpoint), 0);
    //  Retrying a port nobody listens on, seldom (one retry event at once)
    char dead [64];
    snprintf (dead, sizeof (dead), "tcp://127.0.0.1:%d", tu_free_port ());
    void *retry = zmq_socket (ctx, ZMQ_DEALER);
    int ivl = 5000, linger = 0;
    zmq_setsockopt (retry, ZMQ_RECONNECT_IVL, &ivl, sizeof (ivl));
    zmq_setsockopt (retry, ZMQ_LINGER, &linger, sizeof (linger));
    CHECK_INT_EQ (zwatch_agent_watch (agent, retry, "retry"), 0);
    CHECK_INT_EQ (zmq_connect (retry, dead), 0);

    zwatch_msg_t listening = broker->msgs [s_wait_for (broker, 0, ZWATCH_KIND_EVENT, "server",
                                                       "LISTENING")];
    zwatch_msg_t accepted = broker->msgs [s_wait_for (broker, 0, ZWATCH_KIND_EVENT, "server",
                                                      "ACCEPTED")];
    zwatch_msg_t connected = broker->msgs [s_wait_for (broker, 0, ZWATCH_KIND_EVENT, "client",
                                                       "CONNECTED")];
    s_wait_for (broker, 0, ZWATCH_KIND_EVENT, "retry", "CONNECT_RETRIED");
    //  The last events this setup makes: none is in flight when the broker goes
    s_wait_for (broker, 0, ZWATCH_KIND_EVENT, "client", "HANDSHAKE_SUCCEEDED");
    s_wait_for (broker, 0, ZWATCH_KIND_EVENT, "server", "HANDSHAKE_SUCCEEDED");
    uint64_t last_seq = s_wait_all_sent (broker, agent);

    s_broker_restart (broker);
    int from = broker->count, hello, end;
    s_wait_replay (broker, from, &hello, &end);
    //  Events (and heartbeats) queued while the broker was away come
    //  first, on the new link
    for (int index = from; index < hello; index++) {
        CHECK (broker->msgs [index].kind == ZWATCH_KIND_EVENT
            || broker->msgs [index].kind == ZWATCH_KIND_HEARTBEAT);
        if (broker->msgs [index].kind == ZWATCH_KIND_EVENT)
            last_seq = broker->msgs [index].seq;
    }
    CHECK_INT_EQ (broker->msgs [hello].seq, last_seq);
    //  The retry the state describes is the last one said (libzmq adds
    //  jitter to the interval: each retry has its own)
    zwatch_msg_t *retried = NULL;
    for (int index = 0; index < hello; index++)
        if (s_matches (&broker->msgs [index], ZWATCH_KIND_EVENT, "retry", "CONNECT_RETRIED"))
            retried = &broker->msgs [index];
    CHECK_INT_EQ (broker->msgs [end].count, 4);
    zwatch_msg_t *state = &broker->msgs [s_find_state (broker, hello, end, "server", "LISTENING")];
    CHECK_INT_EQ (state->value, listening.value);
    CHECK (s_same (state->endpoint, listening.endpoint));
    CHECK (s_is (state->stype, "ROUTER"));
    CHECK_INT_EQ (state->ts, listening.ts);
    CHECK (!state->peer.ptr && !state->local.ptr);
    state = &broker->msgs [s_find_state (broker, hello, end, "server", "ACCEPTED")];
    CHECK_INT_EQ (state->value, accepted.value);
    CHECK_INT_EQ (state->code, ZMQ_EVENT_ACCEPTED);
    CHECK (s_same (state->endpoint, accepted.endpoint));
    CHECK (s_same (state->local, accepted.local));
    CHECK (s_same (state->peer, accepted.peer));
    CHECK_INT_EQ (state->ts, accepted.ts);
    state = &broker->msgs [s_find_state (broker, hello, end, "client", "CONNECTED")];
    CHECK (s_is (state->stype, "DEALER"));
    CHECK_INT_EQ (state->value, connected.value);
    CHECK (s_is (state->endpoint, endpoint));
    CHECK (s_same (state->local, connected.local));
    CHECK (s_same (state->peer, connected.peer));
    CHECK_INT_EQ (state->ts, connected.ts);
    state = &broker->msgs [s_find_state (broker, hello, end, "retry", "CONNECT_RETRIED")];
    CHECK (s_is (state->endpoint, dead));
    CHECK_INT_EQ (state->value, retried->value);
    CHECK (state->value >= ivl && state->value < 2 * ivl);
    CHECK_INT_EQ (state->ts, retried->ts);          //  the last retry
    //  After the replay, events go on from the picture's seq
    zmq_close (client);
    int after = s_wait_for (broker, end, ZWATCH_KIND_EVENT, NULL, NULL);
    CHECK (broker->msgs [after].seq == last_seq + 1);

    //  The connection ended, and a socket that retried got through: the
    //  next replay has neither the connection nor that retry
    s_wait_for (broker, end, ZWATCH_KIND_EVENT, "server", "DISCONNECTED");
    char dead_too [64];
    snprintf (dead_too, sizeof (dead_too), "tcp://127.0.0.1:%d", tu_free_port ());
    void *late = s_connected_dealer (ctx, dead_too, 50);
    CHECK_INT_EQ (zwatch_agent_watch (agent, late, "late"), 0);
    s_wait_for (broker, end, ZWATCH_KIND_EVENT, "late", "CONNECT_RETRIED");
    void *late_server = zmq_socket (ctx, ZMQ_ROUTER);     //  not watched
    CHECK_INT_EQ (zmq_setsockopt (late_server, ZMQ_LINGER, &linger, sizeof (linger)), 0);
    CHECK_INT_EQ (zmq_bind (late_server, dead_too), 0);
    s_wait_for (broker, end, ZWATCH_KIND_EVENT, "late", "CONNECTED");
    s_wait_for (broker, end, ZWATCH_KIND_EVENT, "late", "HANDSHAKE_SUCCEEDED");
    s_wait_all_sent (broker, agent);
    s_broker_restart (broker);
    s_wait_replay (broker, broker->count, &hello, &end);
    CHECK_INT_EQ (broker->msgs [end].count, 3);
    CHECK (s_find_state (broker, hello, end, "server", "LISTENING") > 0);
    CHECK (s_find_state (broker, hello, end, "retry", "CONNECT_RETRIED") > 0);
    CHECK (s_find_state (broker, hello, end, "late", "CONNECTED") > 0);
    CHECK_INT_EQ (s_find_state (broker, hello, end, "server", "ACCEPTED"), -1);
    CHECK_INT_EQ (s_find_state (broker, hello, end, "late", "CONNECT_RETRIED"), -1);
    zmq_close (late);
    zmq_close (late_server);

    zwatch_agent_stats_t stats;
    CHECK_INT_EQ (zwatch_agent_stats (agent, &stats), 0);
    CHECK_INT_EQ (stats.state_dropped, 0);
    CHECK_INT_EQ (stats.untracked, 0);
    zmq_close (retry);
    zmq_close (server);
    zwatch_agent_destroy (&agent);
    zmq_ctx_term (ctx);
    s_broker_destroy (&broker);
}

//  An ipc ACCEPTED names the process that connected
static void
s_test_ipc (void)
{
    int go [2], stop [2];
    CHECK_INT_EQ (pipe (go), 0);
    CHECK_INT_EQ (pipe (stop), 0);
    char path [128], endpoint [160];
    snprintf (path, sizeof (path), "/tmp/zwatch-test-state-%d.sock", (int) getpid ());
    snprintf (endpoint, sizeof (endpoint), "ipc://%s", path);
    //  The connecting process, forked before any context exists here
    pid_t child = fork ();
    CHECK (child >= 0);
    if (child == 0) {
        char byte;
        close (go [1]);
        close (stop [1]);
        if (read (go [0], &byte, 1) != 1)
            _exit (2);
        void *child_ctx = zmq_ctx_new ();
        void *dealer = s_connected_dealer (child_ctx, endpoint, 0);
        if (read (stop [0], &byte, 1) < 0)      //  until the parent closes it
            _exit (3);
        zmq_close (dealer);
        zmq_ctx_term (child_ctx);
        _exit (0);
    }
    close (go [0]);
    close (stop [0]);
    broker_t *broker = s_broker_new ();
    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, broker->endpoint);
    CHECK (agent);
    void *server = zmq_socket (ctx, ZMQ_ROUTER);
    CHECK_INT_EQ (zwatch_agent_watch (agent, server, "ipc-server"), 0);
    unlink (path);
    CHECK_INT_EQ (zmq_bind (server, endpoint), 0);
    CHECK_INT_EQ (write (go [1], "g", 1), 1);
    zwatch_msg_t *accepted = &broker->msgs [s_wait_for (broker, 0, ZWATCH_KIND_EVENT,
                                                        "ipc-server", "ACCEPTED")];
    CHECK_INT_EQ (accepted->peer_pid, child);
    CHECK (s_is (accepted->local, path));
    CHECK (s_is (accepted->peer, ""));              //  the connecting end is unnamed
    close (stop [1]);
    int status = 0;
    CHECK_INT_EQ (waitpid (child, &status, 0), child);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    close (go [1]);
    zmq_close (server);
    zwatch_agent_destroy (&agent);
    zmq_ctx_term (ctx);
    s_broker_destroy (&broker);
    unlink (path);
}

#define BOUND       3
#define CLIENTS     5

//  More connections than the bound: all are said, BOUND are kept and
//  replayed, the rest counted
static void
s_test_bound (void)
{
    broker_t *broker = s_broker_new ();
    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, broker->endpoint);
    CHECK (agent);
    CHECK_INT_EQ (zwatch_agent_set_connection_limit (agent, 0), -1);
    CHECK_INT_EQ (errno, EINVAL);
    CHECK_INT_EQ (zwatch_agent_set_connection_limit (agent, BOUND), 0);
    char endpoint [64];
    void *server = s_bound_router (ctx, agent, "server", endpoint, sizeof (endpoint));
    void *clients [CLIENTS];
    for (int index = 0; index < CLIENTS; index++)
        clients [index] = s_connected_dealer (ctx, endpoint, 0);
    int from = 0;
    for (int index = 0; index < CLIENTS; index++)
        from = s_wait_for (broker, from, ZWATCH_KIND_EVENT, "server", "ACCEPTED") + 1;
    s_wait_all_sent (broker, agent);
    zwatch_agent_stats_t stats;
    CHECK_INT_EQ (zwatch_agent_stats (agent, &stats), 0);
    CHECK_INT_EQ (stats.untracked, CLIENTS - BOUND);

    s_broker_restart (broker);
    int hello, end;
    s_wait_replay (broker, broker->count, &hello, &end);
    CHECK_INT_EQ (broker->msgs [end].count, 1 + BOUND);     //  the listener and BOUND connections
    int connections = 0;
    for (int index = hello + 1; index < end; index++)
        connections += s_is (broker->msgs [index].event, "ACCEPTED");
    CHECK_INT_EQ (connections, BOUND);
    CHECK_INT_EQ (zwatch_agent_stats (agent, &stats), 0);
    CHECK_INT_EQ (stats.state_dropped, 0);

    for (int index = 0; index < CLIENTS; index++)
        zmq_close (clients [index]);
    zmq_close (server);
    zwatch_agent_destroy (&agent);
    zmq_ctx_term (ctx);
    s_broker_destroy (&broker);
}

int
main (int argc, char *argv [])
{
    signal (SIGPIPE, SIG_IGN);
    tu_case_t cases [] = {
        { "addresses", s_test_addresses }, { "replay", s_test_replay },
        { "ipc", s_test_ipc }, { "bound", s_test_bound }
    };
    return tu_run_cases (argc, argv, "test_agent_state", cases, sizeof (cases) / sizeof (cases [0]));
}
