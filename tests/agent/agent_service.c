/*  agent_service: a small ZeroMQ service with the agent linked in, driven
    by test_agent. Usage: agent_service MODE [ARG]. Prints one line of
    results on stdout for the driver to check.  */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <czmq.h>
#include "zwatch.h"

static long long
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void
s_sleep_ms (int msecs)
{
    usleep ((useconds_t) msecs * 1000);
}

//  Bind to a random loopback port and return it as an endpoint
static void
s_bind_random (void *socket, char *endpoint, size_t size)
{
    if (zmq_bind (socket, "tcp://127.0.0.1:*") != 0) {
        fprintf (stderr, "bind: %s\n", zmq_strerror (errno));
        exit (3);
    }
    size_t len = size;
    zmq_getsockopt (socket, ZMQ_LAST_ENDPOINT, endpoint, &len);
}

//  REQ/REP over tcp: LISTENING, ACCEPTED, CONNECTED, DISCONNECTED, CLOSED, MONITOR_STOPPED
static int
s_reqrep (void *ctx, zwatch_agent_t *agent)
{
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    if (zwatch_agent_watch (agent, rep, "server") != 0
    ||  zwatch_agent_watch (agent, req, NULL) != 0)
        return 4;
    char endpoint [256];
    s_bind_random (rep, endpoint, sizeof (endpoint));
    zmq_connect (req, endpoint);
    char buffer [16];
    zmq_send (req, "ping", 4, 0);
    int size = zmq_recv (rep, buffer, sizeof (buffer), 0);
    zmq_send (rep, "pong", 4, 0);
    size += zmq_recv (req, buffer, sizeof (buffer), 0);
    int linger = 0;
    zmq_setsockopt (req, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_close (req);
    s_sleep_ms (200);          //  let the server see the disconnect
    zmq_close (rep);
    printf ("reqrep %s %d\n", endpoint, size);
    return 0;
}

//  BIND_FAILED: the port in ARG is taken by the driver
static int
s_bindfail (void *ctx, zwatch_agent_t *agent, const char *endpoint)
{
    void *rep = zmq_socket (ctx, ZMQ_REP);
    zwatch_agent_watch (agent, rep, "taken");
    int rc = zmq_bind (rep, endpoint);
    printf ("bind %d %s\n", rc, rc? zmq_strerror (errno): "ok");
    zmq_close (rep);
    return 0;
}

//  CONNECT_RETRIED: connect to a dead port for a while
static int
s_retry (void *ctx, zwatch_agent_t *agent, const char *endpoint)
{
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    int interval = 50, linger = 0;
    zmq_setsockopt (dealer, ZMQ_RECONNECT_IVL, &interval, sizeof (interval));
    zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof (linger));
    zwatch_agent_watch (agent, dealer, "retrier");
    zmq_connect (dealer, endpoint);
    s_sleep_ms (600);
    zmq_close (dealer);
    printf ("retry done\n");
    return 0;
}

//  N sockets watched at once, each bound
static int
s_many (void *ctx, zwatch_agent_t *agent, int count)
{
    void **sockets = calloc ((size_t) count, sizeof (void *));
    char endpoint [256];
    for (int index = 0; index < count; index++) {
        sockets [index] = zmq_socket (ctx, ZMQ_PULL);
        if (zwatch_agent_watch (agent, sockets [index], NULL) != 0)
            return 4;
        s_bind_random (sockets [index], endpoint, sizeof (endpoint));
    }
    zwatch_agent_stats_t stats;
    zwatch_agent_stats (agent, &stats);
    printf ("many watched=%llu\n", (unsigned long long) stats.watched);
    for (int index = 0; index < count; index++)
        zmq_close (sockets [index]);
    free (sockets);
    return 0;
}

//  One socket more than an agent watches: the last watch fails, ENOSPC
static int
s_limit (void *ctx, zwatch_agent_t *agent)
{
    int count = ZWATCH_AGENT_SOCKETS_LIMIT + 1, watched = 0, refused = 0;
    void **sockets = calloc ((size_t) count, sizeof (void *));
    for (int index = 0; index < count; index++) {
        sockets [index] = zmq_socket (ctx, ZMQ_DEALER);
        if (!sockets [index])
            return 3;
        if (zwatch_agent_watch (agent, sockets [index], NULL) == 0)
            watched++;
        else
            refused = errno;
    }
    printf ("limit watched=%d refused=%s\n", watched, refused == ENOSPC? "ENOSPC": "other");
    //  Unwatched first: thousands of closes right before destroy would
    //  outlast its wait for their MONITOR_STOPPED (see zwatch_agent.h)
    for (int index = 0; index < count; index++) {
        zwatch_agent_unwatch (agent, sockets [index]);
        zmq_close (sockets [index]);
    }
    free (sockets);
    return 0;
}

//  The service's own work, with the agent (maybe without a broker): a
//  REQ/REP ping-pong of N round trips; prints how long it took
static int
s_work (void *ctx, zwatch_agent_t *agent, int rounds)
{
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    zwatch_agent_watch (agent, rep, NULL);
    zwatch_agent_watch (agent, req, NULL);
    char endpoint [256], buffer [16];
    s_bind_random (rep, endpoint, sizeof (endpoint));
    zmq_connect (req, endpoint);
    long long start = s_now_ms ();
    int done = 0;
    for (int round = 0; round < rounds; round++) {
        zmq_send (req, "x", 1, 0);
        zmq_recv (rep, buffer, sizeof (buffer), 0);
        zmq_send (rep, "y", 1, 0);
        if (zmq_recv (req, buffer, sizeof (buffer), 0) == 1)
            done++;
    }
    printf ("work %d rounds %lld ms\n", done, s_now_ms () - start);
    zmq_close (req);
    zmq_close (rep);
    return 0;
}

//  ctx_term / ctx_shutdown with sockets still watched must not hang
static void *
s_blocked_receiver (void *socket)
{
    char buffer [16];
    int rc = zmq_recv (socket, buffer, sizeof (buffer), 0);
    if (rc < 0 && errno == ETERM)
        zmq_close (socket);
    return NULL;
}

static int
s_ctxterm (zwatch_agent_t **agent_p, void *ctx, bool shutdown_first)
{
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    zwatch_agent_watch (*agent_p, pull, "pull");
    zwatch_agent_watch (*agent_p, push, "push");
    char endpoint [256];
    s_bind_random (pull, endpoint, sizeof (endpoint));
    zmq_connect (push, endpoint);
    int linger = 0;
    zmq_setsockopt (push, ZMQ_LINGER, &linger, sizeof (linger));
    //  A thread blocked in recv, closing its socket on ETERM, as services do
    pthread_t thread;
    pthread_create (&thread, NULL, s_blocked_receiver, pull);
    s_sleep_ms (100);
    long long start = s_now_ms ();
    if (shutdown_first)
        zmq_ctx_shutdown (ctx);
    zmq_close (push);
    zmq_ctx_term (ctx);
    pthread_join (thread, NULL);
    long long took = s_now_ms () - start;
    //  The agent is still alive; watching in a dead context fails cleanly
    void *late = NULL;
    int rc = zwatch_agent_watch (*agent_p, &late, NULL);
    zwatch_agent_destroy (agent_p);
    printf ("ctxterm %lld ms late_watch=%d\n", took, rc);
    return 0;
}

//  Far more events than the queue holds, no broker: drops are counted
static int
s_drops (void *ctx, zwatch_agent_t *agent, int cycles)
{
    zwatch_agent_set_queue_limit (agent, 20);
    for (int cycle = 0; cycle < cycles; cycle++) {
        void *pull = zmq_socket (ctx, ZMQ_PULL);
        zwatch_agent_watch (agent, pull, NULL);
        char endpoint [256];
        s_bind_random (pull, endpoint, sizeof (endpoint));
        zmq_close (pull);
    }
    //  Wait until the agent has read every event (closed sockets are forgotten)
    zwatch_agent_stats_t stats;
    long long deadline = s_now_ms () + 5000;
    do {
        s_sleep_ms (20);
        zwatch_agent_stats (agent, &stats);
    } while (stats.watched > 0 && s_now_ms () < deadline);
    printf ("drops read=%llu sent=%llu dropped=%llu watched=%llu\n",
            (unsigned long long) stats.read, (unsigned long long) stats.sent,
            (unsigned long long) stats.dropped, (unsigned long long) stats.watched);
    return 0;
}

//  API errors: each returns -1 with the documented errno
static int
s_errors (void *ctx, zwatch_agent_t *agent)
{
    void *socket = zmq_socket (ctx, ZMQ_DEALER);
    int not_a_socket = 42;
    char long_label [ZWATCH_SOCK_MAX + 2];
    memset (long_label, 'l', sizeof (long_label) - 1);
    long_label [sizeof (long_label) - 1] = 0;
    int null_socket = zwatch_agent_watch (agent, NULL, NULL) == -1 && errno == EINVAL;
    int invalid = zwatch_agent_watch (agent, &not_a_socket, NULL) == -1 && errno == EINVAL;
    int too_long = zwatch_agent_watch (agent, socket, long_label) == -1 && errno == EINVAL;
    int first = zwatch_agent_watch (agent, socket, "once") == 0;
    int twice = zwatch_agent_watch (agent, socket, "twice") == -1 && errno == EEXIST;
    int unwatch = zwatch_agent_unwatch (agent, socket) == 0;
    int unwatch_again = zwatch_agent_unwatch (agent, socket) == -1 && errno == ENOENT;
    int rewatch = zwatch_agent_watch (agent, socket, "again") == 0;
    int destroyed = zwatch_agent_watch (NULL, socket, NULL) == -1 && errno == ENOTSUP;
    errno = 0;
    int bad_endpoint = zwatch_agent_new (ctx, "bogus://nowhere") == NULL && errno != 0;
    zmq_close (socket);
    printf ("errors null=%d invalid=%d long=%d first=%d twice=%d unwatch=%d unwatch_again=%d "
            "rewatch=%d destroyed=%d bad_endpoint=%d\n", null_socket, invalid, too_long, first,
            twice, unwatch, unwatch_again, rewatch, destroyed, bad_endpoint);
    return 0;
}

//  CZMQ users: zsys_init () is the context, zsock_resolve () the socket
static int
s_czmq (zwatch_agent_t *agent)
{
    zsock_t *server = zsock_new (ZMQ_ROUTER);
    zwatch_agent_watch (agent, zsock_resolve (server), "czmq-router");
    int port = zsock_bind (server, "tcp://127.0.0.1:*");
    zsock_destroy (&server);
    printf ("czmq port=%d\n", port);
    return 0;
}

int
main (int argc, char *argv [])
{
    if (argc < 2) {
        fprintf (stderr, "usage: agent_service MODE [ARG]\n");
        return 2;
    }
    const char *mode = argv [1];
    const char *arg = argc > 2? argv [2]: "";
    bool czmq = strcmp (mode, "czmq") == 0;
    void *ctx = czmq? zsys_init (): zmq_ctx_new ();
    //  limit: each watched socket brings two more (libzmq's monitor, our reader)
    if (strcmp (mode, "limit") == 0)
        zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 3 * ZWATCH_AGENT_SOCKETS_LIMIT + 100);
    zwatch_agent_t *agent = zwatch_agent_new (ctx, NULL);
    if (!agent) {
        if (!czmq)
            zmq_ctx_term (ctx);         //  (zsys owns the CZMQ one)
        return 5;
    }
    const char *heartbeat = getenv ("TEST_HEARTBEAT_MS");
    if (heartbeat)
        zwatch_agent_set_heartbeat (agent, atoi (heartbeat));

    int rc = 2;
    if (strcmp (mode, "reqrep") == 0)
        rc = s_reqrep (ctx, agent);
    else if (strcmp (mode, "bindfail") == 0)
        rc = s_bindfail (ctx, agent, arg);
    else if (strcmp (mode, "retry") == 0)
        rc = s_retry (ctx, agent, arg);
    else if (strcmp (mode, "many") == 0)
        rc = s_many (ctx, agent, atoi (arg));
    else if (strcmp (mode, "limit") == 0)
        rc = s_limit (ctx, agent);
    else if (strcmp (mode, "work") == 0)
        rc = s_work (ctx, agent, atoi (arg));
    else if (strcmp (mode, "ctxterm") == 0 || strcmp (mode, "ctxshutdown") == 0) {
        rc = s_ctxterm (&agent, ctx, strcmp (mode, "ctxshutdown") == 0);
        ctx = NULL;
    }
    else if (strcmp (mode, "drops") == 0)
        rc = s_drops (ctx, agent, atoi (arg));
    else if (strcmp (mode, "errors") == 0)
        rc = s_errors (ctx, agent);
    else if (strcmp (mode, "czmq") == 0)
        rc = s_czmq (agent);
    else if (strcmp (mode, "idle") == 0) {
        s_sleep_ms (atoi (arg));
        rc = 0;
    }
    fflush (stdout);
    long long start = s_now_ms ();
    zwatch_agent_destroy (&agent);
    long long destroy_ms = s_now_ms () - start;
    fprintf (stderr, "destroy took %lld ms\n", destroy_ms);
    if (destroy_ms > 1000)
        rc = 6;
    if (ctx && !czmq)
        zmq_ctx_term (ctx);
    return rc;
}
