/*  test_agent: runs agent_service (a real process with the agent linked
    in) against a ROUTER standing in for the broker, and checks what
    arrives, field by field.  */

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include "zwatch.h"
#include "testutil.h"

#define MESSAGES_MAX 20000

typedef struct {
    zframe_t *frames [MESSAGES_MAX];    //  one per frame, at its first message
    zwatch_msg_t msgs [MESSAGES_MAX];
    int count;
    int frames_received;                //  frames: count, or fewer in batches
    pid_t pid;
    int exit_code;
    char *stdout_text;
    char *stderr_text;
    uint64_t started_ns;
    uint64_t ended_ns;
} run_t;

static uint64_t
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (uint64_t) now.tv_sec * 1000000000ULL + (uint64_t) now.tv_nsec;
}

static bool
s_is (zwatch_str_t str, const char *text)
{
    return str.ptr && str.len == strlen (text) && memcmp (str.ptr, text, str.len) == 0;
}

//  One more environment variable for the next s_run, or NULL
static const char *s_extra_env = NULL;

//  Run agent_service MODE ARG with the stand-in broker (unless no_broker),
//  collecting every message until the bye and the process exit
static run_t *
s_run (const char *mode, const char *arg, bool no_broker, int timeout_ms)
{
    run_t *run = calloc (1, sizeof (run_t));
    CHECK (run);
    char *endpoint = tu_free_endpoint ();
    zsock_t *router = NULL;
    if (!no_broker) {
        router = zsock_new (ZMQ_ROUTER);
        CHECK (zsock_bind (router, "%s", endpoint) >= 0);
    }
    char *broker_env = NULL;
    CHECK (asprintf (&broker_env, "ZWATCH_BROKER=%s", endpoint) > 0);
    const char *env [] = { broker_env, "ZWATCH_HOST_ID=test-host", "ZWATCH_SERVICE=svc-x",
                           "TEST_HEARTBEAT_MS=100", s_extra_env, NULL };
    char *service = tu_bin ("agent_service");
    const char *argv [] = { service, mode, arg, NULL };
    char *out_path = tu_temp_path (".out");
    run->started_ns = s_now_ns ();
    run->pid = tu_spawn (argv, env, out_path);

    long long deadline = tu_now_ms () + timeout_ms;
    bool bye = false;
    while (router && !bye && tu_now_ms () < deadline && run->count < MESSAGES_MAX) {
        zpoller_t *poller = zpoller_new (router, NULL);
        void *which = zpoller_wait (poller, 100);
        zpoller_destroy (&poller);
        if (!which)
            continue;
        zmsg_t *msg = zmsg_recv (router);
        CHECK_INT_EQ (zmsg_size (msg), 2);     //  [routing id][one body frame]
        zframe_t *id = zmsg_pop (msg);
        zframe_destroy (&id);
        zframe_t *body = zmsg_pop (msg);
        zmsg_destroy (&msg);
        run->frames_received++;
        //  A frame may hold several messages (PROTOCOL.md 5, "Batches"); the
        //  first message's slot keeps the frame their strings point into
        size_t offset = 0;
        do {
            CHECK (run->count < MESSAGES_MAX);
            run->frames [run->count] = offset == 0? body: NULL;
            const char *detail;
            bool rest_lost;
            zwatch_reason_t reason = zwatch_msg_decode_next (&run->msgs [run->count],
                                                             zframe_data (body), zframe_size (body),
                                                             &offset, &rest_lost, &detail);
            if (reason != ZWATCH_OK) {
                fprintf (stderr, "agent sent an invalid message: %s (%s)\n",
                         zwatch_reason_name (reason), detail);
                exit (1);
            }
            bye = run->msgs [run->count].kind == ZWATCH_KIND_BYE;
            run->count++;
        } while (offset < zframe_size (body));
    }
    run->exit_code = tu_wait (run->pid, (int) (deadline - tu_now_ms () > 0? deadline - tu_now_ms (): 1));
    if (run->exit_code < 0) {
        tu_kill (run->pid);
        fprintf (stderr, "agent_service %s did not exit in time\n", mode);
        exit (1);
    }
    run->ended_ns = s_now_ns ();
    run->stdout_text = tu_read_file (out_path);
    run->stderr_text = tu_read_errors (out_path);
    tu_remove_output (out_path);
    free (out_path);
    free (service);
    free (broker_env);
    free (endpoint);
    zsock_destroy (&router);
    return run;
}

static void
s_run_destroy (run_t **run_p)
{
    run_t *run = *run_p;
    for (int index = 0; index < run->count; index++)
        zframe_destroy (&run->frames [index]);
    free (run->stdout_text);
    free (run->stderr_text);
    free (run);
    *run_p = NULL;
}

//  Every message: identity and lifecycle rules; events numbered 1..n
static void
s_check_common (run_t *run)
{
    CHECK (run->count >= 2);
    CHECK_INT_EQ (run->msgs [0].kind, ZWATCH_KIND_HELLO);
    CHECK_INT_EQ (run->msgs [run->count - 1].kind, ZWATCH_KIND_BYE);
    uint64_t expected_seq = 1;
    uint64_t start = run->msgs [0].start;
    CHECK (start >= run->started_ns - 1000000000ULL && start <= run->ended_ns);
    for (int index = 0; index < run->count; index++) {
        zwatch_msg_t *msg = &run->msgs [index];
        CHECK (s_is (msg->host, "test-host"));
        CHECK (s_is (msg->svc, "svc-x"));
        CHECK_INT_EQ (msg->pid, run->pid);
        CHECK (msg->ts >= run->started_ns && msg->ts <= run->ended_ns);
        if (msg->kind == ZWATCH_KIND_EVENT) {
            //  seq numbers events: a folded summary carries the last of its count
            CHECK (msg->count >= 1);
            CHECK_INT_EQ (msg->seq, expected_seq + msg->count - 1);
            expected_seq += msg->count;
            char name [ZWATCH_EVENT_NAME_MAX + 1];
            snprintf (name, sizeof (name), "%.*s", (int) msg->event.len, msg->event.ptr);
            CHECK_STR_EQ (zwatch_event_name (msg->code), name);
        }
        else {
            //  state and state_end (the replay after each hello) carry no start
            if (msg->kind != ZWATCH_KIND_STATE && msg->kind != ZWATCH_KIND_STATE_END)
                CHECK (msg->start == start);
            CHECK_INT_EQ (msg->seq, expected_seq - 1);      //  last seq so far
        }
    }
}

//  The index of the first event named `event` on socket `sock`, or -1
static int
s_find_event (run_t *run, const char *sock, const char *event, int from)
{
    for (int index = from; index < run->count; index++)
        if (run->msgs [index].kind == ZWATCH_KIND_EVENT
        &&  s_is (run->msgs [index].event, event)
        &&  (!sock || s_is (run->msgs [index].sock, sock)))
            return index;
    return -1;
}

static int
s_count_events (run_t *run, const char *event)
{
    int count = 0;
    for (int index = 0; index < run->count; index++)
        count += run->msgs [index].kind == ZWATCH_KIND_EVENT && s_is (run->msgs [index].event, event);
    return count;
}

static void
s_test_reqrep (void)
{
    run_t *run = s_run ("reqrep", "", false, 10000);
    CHECK_INT_EQ (run->exit_code, 0);
    s_check_common (run);
    char endpoint [256];
    unsigned long long watched = 99;
    CHECK (sscanf (run->stdout_text, "reqrep %255s 8 watched=%llu", endpoint, &watched) == 2);

    int listening = s_find_event (run, "server", "LISTENING", 0);
    CHECK (listening > 0);
    zwatch_msg_t *msg = &run->msgs [listening];
    CHECK (s_is (msg->stype, "REP"));
    CHECK_INT_EQ (msg->code, ZMQ_EVENT_LISTENING);
    CHECK (s_is (msg->endpoint, endpoint));
    CHECK (msg->value >= 0);            //  the listening fd
    CHECK (msg->peer.ptr == NULL);

    int connected = s_find_event (run, "REQ-1", "CONNECTED", 0);
    CHECK (connected > 0);
    msg = &run->msgs [connected];
    CHECK (s_is (msg->stype, "REQ"));
    CHECK (s_is (msg->endpoint, endpoint));
    //  peer of the connecting side is the server's address
    CHECK (msg->peer.ptr && strstr (endpoint, "127.0.0.1:")
           && s_is (msg->peer, strstr (endpoint, "127.0.0.1:")));

    int accepted = s_find_event (run, "server", "ACCEPTED", 0);
    CHECK (accepted > listening);
    msg = &run->msgs [accepted];
    CHECK (s_is (msg->endpoint, endpoint));     //  libzmq gives the bind address
    CHECK (msg->peer.ptr && msg->peer.len > 10 && memcmp (msg->peer.ptr, "127.0.0.1:", 10) == 0);
    CHECK (!s_is (msg->peer, strstr (endpoint, "127.0.0.1:")));    //  the client's port

    CHECK (s_find_event (run, "server", "HANDSHAKE_SUCCEEDED", 0) > 0);
    CHECK (s_find_event (run, "REQ-1", "HANDSHAKE_SUCCEEDED", 0) > 0);
    CHECK (s_find_event (run, "server", "DISCONNECTED", accepted) > accepted);
    int closed = s_find_event (run, "server", "CLOSED", accepted);
    CHECK (closed > accepted);
    int stopped = s_find_event (run, "server", "MONITOR_STOPPED", closed);
    CHECK (stopped > closed);
    CHECK_INT_EQ (run->msgs [stopped].code, ZMQ_EVENT_MONITOR_STOPPED);
    CHECK (s_find_event (run, "REQ-1", "MONITOR_STOPPED", 0) > connected);
    //  Both sockets closed: the agent forgot them by itself (the bye
    //  carries no counters; its seq is the last event's, s_check_common)
    CHECK_INT_EQ (watched, 0);
    s_run_destroy (&run);
}

static void
s_test_bindfail (void)
{
    //  Hold a port, ask the service to bind it
    zsock_t *holder = zsock_new (ZMQ_PULL);
    int port = zsock_bind (holder, "tcp://127.0.0.1:*");
    CHECK (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "tcp://127.0.0.1:%d", port);
    run_t *run = s_run ("bindfail", endpoint, false, 10000);
    CHECK_INT_EQ (run->exit_code, 0);
    CHECK (strstr (run->stdout_text, "bind -1 Address already in use"));
    s_check_common (run);
    int failed = s_find_event (run, "taken", "BIND_FAILED", 0);
    CHECK (failed > 0);
    CHECK_INT_EQ (run->msgs [failed].value, EADDRINUSE);
    CHECK_INT_EQ (run->msgs [failed].code, ZMQ_EVENT_BIND_FAILED);
    //  libzmq 4.3 reports a failed tcp bind without the "tcp://" scheme
    CHECK (s_is (run->msgs [failed].endpoint, endpoint + strlen ("tcp://")));

    s_run_destroy (&run);
    zsock_destroy (&holder);
}

static void
s_test_retry (void)
{
    char *dead = tu_free_endpoint ();
    run_t *run = s_run ("retry", dead, false, 10000);
    CHECK_INT_EQ (run->exit_code, 0);
    s_check_common (run);
    int retried = s_find_event (run, "retrier", "CONNECT_RETRIED", 0);
    CHECK (retried > 0);
    CHECK (s_is (run->msgs [retried].endpoint, dead));
    CHECK (run->msgs [retried].value > 0);      //  the reconnect interval, msecs
    CHECK (s_count_events (run, "CONNECT_RETRIED") >= 2);
    CHECK (s_count_events (run, "CONNECTED") == 0);
    s_run_destroy (&run);
    free (dead);
}

static void
s_test_many (void)
{
    run_t *run = s_run ("many", "100", false, 20000);
    CHECK_INT_EQ (run->exit_code, 0);
    CHECK (strstr (run->stdout_text, "many watched=100"));
    s_check_common (run);
    CHECK_INT_EQ (s_count_events (run, "LISTENING"), 100);
    CHECK_INT_EQ (s_count_events (run, "MONITOR_STOPPED"), 100);
    //  Default labels PULL-1 .. PULL-100, each listening once
    for (int number = 1; number <= 100; number++) {
        char label [32];
        snprintf (label, sizeof (label), "PULL-%d", number);
        CHECK (s_find_event (run, label, "LISTENING", 0) > 0);
    }
    s_run_destroy (&run);
}

//  ZWATCH_AGENT_SOCKETS_LIMIT sockets are watched, the next is refused
//  with ENOSPC and a line that says why; the service goes on
static void
s_test_limit (void)
{
    run_t *run = s_run ("limit", "", false, 20000);
    CHECK_INT_EQ (run->exit_code, 0);
    char expected [64];
    snprintf (expected, sizeof (expected), "limit watched=%d refused=ENOSPC",
              ZWATCH_AGENT_SOCKETS_LIMIT);
    CHECK (strstr (run->stdout_text, expected));
    snprintf (expected, sizeof (expected), "already watching %d sockets",
              ZWATCH_AGENT_SOCKETS_LIMIT);
    CHECK_INT_EQ (tu_count (run->stderr_text, expected), 1);
    //  Each unwatch stops its monitor, which says so: one MONITOR_STOPPED each
    CHECK_INT_EQ (s_count_events (run, "MONITOR_STOPPED"), ZWATCH_AGENT_SOCKETS_LIMIT);
    s_run_destroy (&run);
}

static void
s_test_no_broker (void)
{
    long long start = tu_now_ms ();
    run_t *run = s_run ("work", "2000", true, 10000);
    CHECK_INT_EQ (run->exit_code, 0);       //  6 would mean destroy took > 1 s
    CHECK (strstr (run->stdout_text, "work 2000 rounds"));
    CHECK (tu_now_ms () - start < 8000);
    s_run_destroy (&run);
}

static void
s_test_ctxterm (const char *mode)
{
    run_t *run = s_run (mode, "", false, 10000);
    CHECK_INT_EQ (run->exit_code, 0);
    long long took = -1;
    char late [32] = "";
    CHECK (sscanf (strchr (run->stdout_text, ' ') + 1, "%lld ms late_watch=%31s", &took, late) == 2);
    CHECK (took >= 0 && took < 2000);
    //  A socket of a context being terminated, still open: ETERM
    CHECK_STR_EQ (late, "ETERM");
    //  The agent still said bye after the service's context was gone
    CHECK_INT_EQ (run->msgs [run->count - 1].kind, ZWATCH_KIND_BYE);
    s_run_destroy (&run);
}

static void
s_test_drops (void)
{
    //  No broker, queue limit 20: 300 bind/close cycles, about 1200 events
    run_t *run = s_run ("drops", "300", true, 20000);
    CHECK_INT_EQ (run->exit_code, 0);
    unsigned long long read = 0, sent = 0, dropped = 0, watched = 99;
    CHECK (sscanf (run->stdout_text, "drops read=%llu sent=%llu dropped=%llu watched=%llu",
                   &read, &sent, &dropped, &watched) == 4);
    CHECK_INT_EQ (watched, 0);
    CHECK (read >= 300 * 3);                //  LISTENING, CLOSED, MONITOR_STOPPED each
    CHECK_INT_EQ (read, sent + dropped);    //  every event is accounted for
    CHECK (dropped > 0);
    CHECK (sent <= 20 + 50);                //  the queue limit, plus libzmq's batching slack
    s_run_destroy (&run);
}

static void
s_test_heartbeats (void)
{
    run_t *run = s_run ("idle", "450", false, 10000);
    CHECK_INT_EQ (run->exit_code, 0);
    s_check_common (run);
    int heartbeats = 0;
    for (int index = 0; index < run->count; index++)
        if (run->msgs [index].kind == ZWATCH_KIND_HEARTBEAT) {
            heartbeats++;
            CHECK_INT_EQ (run->msgs [index].read, 0);
            CHECK_INT_EQ (run->msgs [index].watched, 0);
        }
    CHECK (heartbeats >= 2 && heartbeats <= 6);     //  every 100 ms for ~450 ms
    s_run_destroy (&run);
}

static void
s_test_errors (void)
{
    run_t *run = s_run ("errors", "", false, 10000);
    CHECK_INT_EQ (run->exit_code, 0);
    //  Exactly the errno zwatch_agent.h gives for each (0: success)
    CHECK_STR_EQ (run->stdout_text,
        "errors new_null_ctx=EINVAL new_bogus=EPROTONOSUPPORT new_no_scheme=EINVAL "
        "new_empty_element=EINVAL new_trailing_comma=EINVAL new_twice=EINVAL "
        "new_too_many=E2BIG new_bogus_second=EPROTONOSUPPORT brokers_four=4 "
        "broker_stats_last=0 broker_endpoint=tcp://127.0.0.1:4 broker_stats_past=ERANGE "
        "broker_stats_null=EINVAL broker_stats_null_agent=EINVAL brokers_null=0 "
        "new_bad_curve=EINVAL watch_null_agent=ENOTSUP watch_null=EINVAL "
        "watch_not_socket=EINVAL watch_long_label=EINVAL watch_bad_label=EINVAL "
        "watch_empty_label=EINVAL watch=0 watch_twice=EEXIST watch_ctx_shut=ETERM "
        "unwatch_null_agent=ENOTSUP unwatch_null=EINVAL unwatch=0 unwatch_again=ENOENT "
        "rewatch=0 queue_null=EINVAL queue_zero=EINVAL queue_huge=EINVAL queue=0 "
        "heartbeat_null=EINVAL heartbeat_small=EINVAL heartbeat=0 curve_null=EINVAL "
        "curve_bad_key=EINVAL curve_no_cert=EINVAL stats_null_agent=EINVAL "
        "stats_null=EINVAL stats=0 host_null=NULL\n");
    //  Each misuse is logged on one clear line
    CHECK (strstr (run->stderr_text, "already watched"));
    CHECK (strstr (run->stderr_text, "not a libzmq socket"));
    CHECK (strstr (run->stderr_text, "label must be"));
    CHECK (strstr (run->stderr_text, "bogus://nowhere"));
    CHECK (strstr (run->stderr_text, "5 endpoints, at most 4"));
    CHECK (strstr (run->stderr_text, "an empty element"));
    CHECK (strstr (run->stderr_text, "an endpoint listed twice"));
    CHECK (strstr (run->stderr_text, "the socket's context was terminated"));
    //  unwatch let libzmq say MONITOR_STOPPED for the first watch
    CHECK (s_find_event (run, "once", "MONITOR_STOPPED", 0) > 0);
    s_run_destroy (&run);
}

static void
s_test_czmq (void)
{
    run_t *run = s_run ("czmq", "", false, 10000);
    CHECK_INT_EQ (run->exit_code, 0);
    s_check_common (run);
    int listening = s_find_event (run, "czmq-router", "LISTENING", 0);
    CHECK (listening > 0);
    CHECK (s_is (run->msgs [listening].stype, "ROUTER"));
    s_run_destroy (&run);
}

//  A burst (4096 unwatches, a MONITOR_STOPPED each) reaches the broker in
//  fewer frames than messages (PROTOCOL.md 5, "Batches"), each message
//  intact and in order; with ZWATCH_BATCH=0, one message a frame
static void
s_test_batch (void)
{
    for (int batching = 1; batching >= 0; batching--) {
        s_extra_env = batching? NULL: "ZWATCH_BATCH=0";
        run_t *run = s_run ("limit", "", false, 20000);
        s_extra_env = NULL;
        CHECK_INT_EQ (run->exit_code, 0);
        s_check_common (run);
        CHECK_INT_EQ (s_count_events (run, "MONITOR_STOPPED"), ZWATCH_AGENT_SOCKETS_LIMIT);
        printf ("batching %s: %d messages in %d frames\n", batching? "on": "off", run->count,
                run->frames_received);
        if (batching)
            CHECK (run->frames_received < run->count);
        else
            CHECK_INT_EQ (run->frames_received, run->count);
        s_run_destroy (&run);
    }
}

//  zmq_ctx_term and zmq_ctx_shutdown, one after the other
static void
s_test_ctxterm_both (void)
{
    s_test_ctxterm ("ctxterm");
    s_test_ctxterm ("ctxshutdown");
}

int
main (int argc, char *argv [])
{
    zsys_init ();
    zsys_set_logstream (stderr);
    static const tu_case_t cases [] = {
        { "reqrep", s_test_reqrep }, { "bindfail", s_test_bindfail },
        { "retry", s_test_retry }, { "many", s_test_many },
        { "no_broker", s_test_no_broker }, { "drops", s_test_drops },
        { "heartbeats", s_test_heartbeats }, { "errors", s_test_errors },
        { "czmq", s_test_czmq }, { "ctxterm", s_test_ctxterm_both },
        { "limit", s_test_limit }, { "batch", s_test_batch }
    };
    return tu_run_cases (argc, argv, "test_agent", cases, sizeof (cases) / sizeof (cases [0]));
}
