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

//  Wait (bounded) until the agent watches nothing: closed sockets are
//  forgotten once their MONITOR_STOPPED is read
static unsigned long long
s_wait_unwatched (zwatch_agent_t *agent)
{
    zwatch_agent_stats_t stats;
    long long deadline = s_now_ms () + 5000;
    while (zwatch_agent_stats (agent, &stats) == 0 && stats.watched > 0 && s_now_ms () < deadline)
        s_sleep_ms (5);
    return (unsigned long long) stats.watched;
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
    printf ("reqrep %s %d watched=%llu\n", endpoint, size, s_wait_unwatched (agent));
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

//  The name of an errno the agent may give, for the driver to compare
static const char *
s_errno_name (int err)
{
    static const struct { int value; const char *name; } names [] = {
        { EINVAL, "EINVAL" }, { ENOTSUP, "ENOTSUP" }, { EEXIST, "EEXIST" }, { ENOENT, "ENOENT" },
        { ETERM, "ETERM" }, { ENOSPC, "ENOSPC" }, { EPROTONOSUPPORT, "EPROTONOSUPPORT" },
        { EINTR, "EINTR" }, { ENOTSOCK, "ENOTSOCK" }, { ENOMEM, "ENOMEM" },
        { E2BIG, "E2BIG" }, { ERANGE, "ERANGE" }, { 0, "0" }
    };
    for (size_t index = 0; index < sizeof (names) / sizeof (names [0]); index++)
        if (names [index].value == err)
            return names [index].name;
    return "other";
}

//  ctx_term / ctx_shutdown with sockets still watched must not hang
typedef struct {
    void *pull;                 //  watched, blocked in recv
    void *late;                 //  not watched, of the same context
    zwatch_agent_t *agent;
    int late_errno;             //  what watching late gave, once the context ended
} receiver_t;

static void *
s_blocked_receiver (void *args)
{
    receiver_t *receiver = (receiver_t *) args;
    char buffer [16];
    int rc = zmq_recv (receiver->pull, buffer, sizeof (buffer), 0);
    if (rc < 0 && errno == ETERM) {
        //  The context is ending, the sockets are still open: watching fails cleanly
        errno = 0;
        if (zwatch_agent_watch (receiver->agent, receiver->late, NULL) == 0)
            receiver->late_errno = 0;
        else
            receiver->late_errno = errno;
        zmq_close (receiver->late);
        zmq_close (receiver->pull);
    }
    return NULL;
}

static int
s_ctxterm (zwatch_agent_t **agent_p, void *ctx, bool shutdown_first)
{
    receiver_t receiver = { zmq_socket (ctx, ZMQ_PULL), zmq_socket (ctx, ZMQ_DEALER),
                            *agent_p, -1 };
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    zwatch_agent_watch (*agent_p, receiver.pull, "pull");
    zwatch_agent_watch (*agent_p, push, "push");
    char endpoint [256];
    s_bind_random (receiver.pull, endpoint, sizeof (endpoint));
    zmq_connect (push, endpoint);
    int linger = 0;
    zmq_setsockopt (push, ZMQ_LINGER, &linger, sizeof (linger));
    //  A thread blocked in recv, closing its sockets on ETERM, as services do
    pthread_t thread;
    pthread_create (&thread, NULL, s_blocked_receiver, &receiver);
    s_sleep_ms (100);
    long long start = s_now_ms ();
    if (shutdown_first)
        zmq_ctx_shutdown (ctx);
    zmq_close (push);
    zmq_ctx_term (ctx);
    pthread_join (thread, NULL);
    long long took = s_now_ms () - start;
    zwatch_agent_destroy (agent_p);
    printf ("ctxterm %lld ms late_watch=%s\n", took, s_errno_name (receiver.late_errno));
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

//  Every documented failure of every public call: one "name=<errno>"
//  each (0: it succeeded), for the driver to compare with zwatch_agent.h
static void
s_result (const char *name, int rc)
{
    printf (" %s=%s", name, s_errno_name (rc == 0? 0: errno));
}

static int
s_errors (void *ctx, zwatch_agent_t *agent)
{
    void *socket = zmq_socket (ctx, ZMQ_DEALER);
    //  Zeros, as large as any libzmq socket: libzmq reads its tag inside
    static char not_a_socket [65536];
    char long_label [ZWATCH_SOCK_MAX + 2];
    memset (long_label, 'l', sizeof (long_label) - 1);
    long_label [sizeof (long_label) - 1] = 0;
    zwatch_agent_stats_t stats;
    printf ("errors");
    //  zwatch_agent_new
    errno = 0;
    s_result ("new_null_ctx", zwatch_agent_new (NULL, NULL)? 0: -1);
    s_result ("new_bogus", zwatch_agent_new (ctx, "bogus://nowhere")? 0: -1);
    s_result ("new_no_scheme", zwatch_agent_new (ctx, "nowhere")? 0: -1);
    //  Lists of brokers
    s_result ("new_empty_element", zwatch_agent_new (ctx, "tcp://127.0.0.1:1,,tcp://127.0.0.1:2")? 0: -1);
    s_result ("new_trailing_comma", zwatch_agent_new (ctx, "tcp://127.0.0.1:1,")? 0: -1);
    s_result ("new_twice", zwatch_agent_new (ctx, "tcp://127.0.0.1:1,tcp://127.0.0.1:1")? 0: -1);
    s_result ("new_too_many", zwatch_agent_new (ctx, "tcp://127.0.0.1:1,tcp://127.0.0.1:2,"
              "tcp://127.0.0.1:3,tcp://127.0.0.1:4,tcp://127.0.0.1:5")? 0: -1);
    s_result ("new_bogus_second", zwatch_agent_new (ctx, "tcp://127.0.0.1:1,bogus://nowhere")? 0: -1);
    zwatch_agent_t *four = zwatch_agent_new (ctx, "tcp://127.0.0.1:1,tcp://127.0.0.1:2,"
                                                  "tcp://127.0.0.1:3,tcp://127.0.0.1:4");
    zwatch_agent_broker_stats_t broker;
    printf (" brokers_four=%zu", zwatch_agent_brokers (four));
    s_result ("broker_stats_last", zwatch_agent_broker_stats (four, 3, &broker));
    printf (" broker_endpoint=%s", broker.endpoint);
    s_result ("broker_stats_past", zwatch_agent_broker_stats (four, 4, &broker));
    s_result ("broker_stats_null", zwatch_agent_broker_stats (four, 0, NULL));
    s_result ("broker_stats_null_agent", zwatch_agent_broker_stats (NULL, 0, &broker));
    printf (" brokers_null=%zu", zwatch_agent_brokers (NULL));
    zwatch_agent_destroy (&four);
    setenv ("ZWATCH_CURVE_SERVER_KEY", "too-short", 1);
    s_result ("new_bad_curve", zwatch_agent_new (ctx, "tcp://127.0.0.1:1")? 0: -1);
    unsetenv ("ZWATCH_CURVE_SERVER_KEY");
    //  zwatch_agent_watch
    s_result ("watch_null_agent", zwatch_agent_watch (NULL, socket, NULL));
    s_result ("watch_null", zwatch_agent_watch (agent, NULL, NULL));
    s_result ("watch_not_socket", zwatch_agent_watch (agent, not_a_socket, NULL));
    s_result ("watch_long_label", zwatch_agent_watch (agent, socket, long_label));
    s_result ("watch_bad_label", zwatch_agent_watch (agent, socket, "tab\there"));
    s_result ("watch_empty_label", zwatch_agent_watch (agent, socket, ""));
    s_result ("watch", zwatch_agent_watch (agent, socket, "once"));
    s_result ("watch_twice", zwatch_agent_watch (agent, socket, "twice"));
    void *other_ctx = zmq_ctx_new ();
    void *dead = zmq_socket (other_ctx, ZMQ_DEALER);
    zmq_ctx_shutdown (other_ctx);
    s_result ("watch_ctx_shut", zwatch_agent_watch (agent, dead, NULL));
    zmq_close (dead);
    zmq_ctx_term (other_ctx);
    //  zwatch_agent_unwatch
    s_result ("unwatch_null_agent", zwatch_agent_unwatch (NULL, socket));
    s_result ("unwatch_null", zwatch_agent_unwatch (agent, NULL));
    s_result ("unwatch", zwatch_agent_unwatch (agent, socket));
    s_result ("unwatch_again", zwatch_agent_unwatch (agent, socket));
    s_result ("rewatch", zwatch_agent_watch (agent, socket, "again"));
    //  setters, stats
    s_result ("queue_null", zwatch_agent_set_queue_limit (NULL, 10));
    s_result ("queue_zero", zwatch_agent_set_queue_limit (agent, 0));
    s_result ("queue_huge", zwatch_agent_set_queue_limit (agent, (size_t) INT32_MAX + 1));
    s_result ("queue", zwatch_agent_set_queue_limit (agent, 1000));
    s_result ("heartbeat_null", zwatch_agent_set_heartbeat (NULL, 100));
    s_result ("heartbeat_small", zwatch_agent_set_heartbeat (agent, 9));
    s_result ("heartbeat", zwatch_agent_set_heartbeat (agent, 100));
    s_result ("curve_null", zwatch_agent_set_curve (NULL, NULL, NULL));
    s_result ("curve_bad_key", zwatch_agent_set_curve (agent, "too-short", NULL));
    s_result ("curve_no_cert", zwatch_agent_set_curve (agent,
              "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "/nonexistent/cert"));
    s_result ("stats_null_agent", zwatch_agent_stats (NULL, &stats));
    s_result ("stats_null", zwatch_agent_stats (agent, NULL));
    s_result ("stats", zwatch_agent_stats (agent, &stats));
    printf (" host_null=%s", zwatch_agent_host (NULL) || zwatch_agent_service (NULL)? "set": "NULL");
    zwatch_agent_t *none = NULL;
    zwatch_agent_destroy (&none);
    zwatch_agent_destroy (NULL);
    zmq_close (socket);
    printf ("\n");
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
    else if (strcmp (mode, "until_refused") == 0) {
        //  Until the broker refused us (stats.refused), up to arg msecs
        zwatch_agent_stats_t stats;
        long long deadline = s_now_ms () + atoi (arg);
        while (zwatch_agent_stats (agent, &stats) == 0 && stats.refused == 0
           &&  s_now_ms () < deadline)
            s_sleep_ms (10);
        printf ("refused=%llu\n", (unsigned long long) stats.refused);
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
