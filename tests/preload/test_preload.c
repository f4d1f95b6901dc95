/*  test_preload: programs built with no reference to zwatch (plain libzmq,
    CZMQ, many threads, fork, their own zmq_socket_monitor) run under
    LD_PRELOAD=libzwatch-preload.so against a real zwatch-broker. A raw SUB
    on the broker checks what arrives, field by field; each program must
    print exactly what it prints without the preload, and exit the same.  */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <czmq.h>
#include "zwatch.h"
#include "testutil.h"
#include "broker_proc.h"
#include "feed.h"

#define EVENTS_MAX  2048
#define AGENTS_MAX  4
#define TALLY_MAX   64
#define RUN_MS      90000       //  bound on one program run (catches hangs; ASan at load is slow)
#define FEED_MS     15000       //  bound on waiting for the agents' bye
#define QUIET_MS    1000        //  "nothing arrives": how long we listen
#define HOST        "preload-host"
#define SERVICE     "preload-svc"

typedef struct {
    uint64_t pid;
    char host [ZWATCH_HOST_MAX + 1];
    char svc [ZWATCH_SVC_MAX + 1];
    char sock [ZWATCH_SOCK_MAX + 1];
    char stype [ZWATCH_STYPE_MAX + 1];
    char event [ZWATCH_EVENT_NAME_MAX + 1];
    char endpoint [ZWATCH_ENDPOINT_MAX + 1];
} event_t;

typedef struct {
    pid_t pid;
    int exit_code;
    char *out;                  //  stdout
    char *err;                  //  stderr
    long long took_ms;
} proc_t;

typedef struct {
    proc_t plain;               //  the program without the preload
    proc_t preload;             //  and with it
    event_t events [EVENTS_MAX];
    size_t count;
    uint64_t gone [AGENTS_MAX]; //  pids of the agents that said bye
    uint64_t gone_events [AGENTS_MAX];  //  and the events and losses the broker counted
    uint64_t gone_lost [AGENTS_MAX];
    size_t gone_count;
    uint64_t total;             //  every event, kept or not
    struct { char key [64]; uint64_t count; } tally [TALLY_MAX];   //  "<STYPE> <EVENT>"
    size_t tally_count;
} run_t;

//  > 0: the program prints a line per step, and going this long without
//  one is a hang (its threads' stacks go into the test log)
static int s_step_ms;
static int s_run_ms = RUN_MS;

//  Every thread's stack of a hung pid, on our stdout: gdb, else eu-stack,
//  else what /proc says each thread waits in
static void
s_dump_stacks (pid_t pid)
{
    char *script = NULL;
    CHECK (asprintf (&script,
        "if command -v gdb >/dev/null; then gdb -p %d -batch -ex 'thread apply all bt' 2>&1;"
        " elif command -v eu-stack >/dev/null; then eu-stack -p %d 2>&1;"
        " else echo 'no gdb or eu-stack: threads and where they wait';"
        " for t in /proc/%d/task/*; do echo \"$t $(cat $t/comm) $(cat $t/wchan)\"; done; fi",
        (int) pid, (int) pid, (int) pid) > 0);
    const char *argv [] = { "/bin/sh", "-c", script, NULL };
    printf ("=== stacks of hung pid %d ===\n", (int) pid);
    fflush (stdout);
    pid_t dumper = tu_spawn (argv, NULL, NULL);
    if (tu_wait (dumper, 60000) < 0)
        tu_kill (dumper);
    printf ("=== end of stacks ===\n");
    fflush (stdout);
    free (script);
}

//  Wait for pid, up to s_run_ms, and with s_step_ms for each new line of
//  out_path. Returns its exit code, or -1 if it hung (stacks dumped)
static int
s_wait_steps (pid_t pid, const char *out_path, const char *name)
{
    long long start = tu_now_ms (), step_at = start;
    off_t size = 0;
    while (true) {
        int code = tu_wait (pid, s_step_ms? 20: s_run_ms);
        if (code >= 0)
            return code;
        long long now = tu_now_ms ();
        struct stat status;
        if (stat (out_path, &status) == 0 && status.st_size != size) {
            size = status.st_size;
            step_at = now;
        }
        bool stuck = s_step_ms && now - step_at > s_step_ms;
        if (stuck || now - start > s_run_ms) {
            char *out = tu_read_file (out_path);
            const char *last = out? out + strlen (out): "";
            while (out && last > out && last [-1] == '\n')
                last--;
            while (out && last > out && last [-1] != '\n')
                last--;
            fprintf (stderr, "%s: %s (last line: '%.40s')\n", name,
                     stuck? "no progress, a step is hung": "did not finish in time", last);
            s_dump_stacks (pid);
            free (out);
            tu_kill (pid);
            return -1;
        }
    }
}

//  Run argv with env up to s_run_ms; the test fails if it hangs
static void
s_spawn (const char *const argv [], const char *const env [], proc_t *proc)
{
    char *out_path = tu_temp_path (".out");
    long long start = tu_now_ms ();
    proc->pid = tu_spawn (argv, env, out_path);
    proc->exit_code = s_wait_steps (proc->pid, out_path, argv [0]);
    proc->took_ms = tu_now_ms () - start;
    if (proc->exit_code < 0) {
        char *err = tu_read_errors (out_path);
        fprintf (stderr, "%s stderr: %s\n", argv [0], err? err: "(none)");
        exit (1);
    }
    proc->out = tu_read_file (out_path);
    proc->err = tu_read_errors (out_path);
    CHECK (proc->out && proc->err);
    tu_remove_output (out_path);
    free (out_path);
}

//  fidelity_monitor's sockets retrying a dead port: their events are not kept
static bool s_skip_retries;
//  Keep the first EVENTS_MAX events and count the rest (else: too many fails)
static bool s_keep_first;

//  One more event of stype named event
static void
s_tally (run_t *run, zwatch_str_t stype, zwatch_str_t event)
{
    char key [64];
    snprintf (key, sizeof (key), "%.*s %.*s", (int) stype.len, stype.ptr,
              (int) event.len, event.ptr);
    size_t index;
    for (index = 0; index < run->tally_count; index++)
        if (streq (run->tally [index].key, key))
            break;
    if (index == run->tally_count) {
        CHECK (run->tally_count < TALLY_MAX);
        snprintf (run->tally [run->tally_count++].key, sizeof (key), "%s", key);
    }
    run->tally [index].count++;
}

//  How many events of stype named event came (kept or not)
static uint64_t
s_tallied (run_t *run, const char *stype, const char *event)
{
    char key [64];
    snprintf (key, sizeof (key), "%s %s", stype, event);
    for (size_t index = 0; index < run->tally_count; index++)
        if (streq (run->tally [index].key, key))
            return run->tally [index].count;
    return 0;
}

static bool
s_str_is (zwatch_str_t str, const char *text)
{
    return str.len == strlen (text) && memcmp (str.ptr, text, str.len) == 0;
}

static void
s_copy (char *dst, size_t size, zwatch_str_t str)
{
    snprintf (dst, size, "%.*s", (int) str.len, str.ptr? str.ptr: "");
}

//  Keep what the feed says until `agents` agents said bye (or QUIET_MS
//  passed, when none are expected)
static void
s_collect (run_t *run, feed_t *feed, size_t agents)
{
    long long deadline = tu_now_ms () + (agents? FEED_MS: QUIET_MS);
    long long left;
    while ((!agents || run->gone_count < agents) && (left = deadline - tu_now_ms ()) > 0) {
        if (!feed_recv (feed, (int) left))
            break;
        if (feed_is (feed, "ev/")) {
            zwatch_msg_t msg;
            feed_event (feed, &msg);
            if (s_skip_retries && (s_str_is (msg.event, "CONNECT_RETRIED")
                               ||  s_str_is (msg.event, "CONNECT_DELAYED")
                               ||  s_str_is (msg.event, "CLOSED")))
                continue;
            run->total++;
            s_tally (run, msg.stype, msg.event);
            if (s_keep_first && run->count == EVENTS_MAX)
                continue;
            CHECK (run->count < EVENTS_MAX);
            event_t *event = &run->events [run->count++];
            event->pid = msg.pid;
            s_copy (event->host, sizeof (event->host), msg.host);
            s_copy (event->svc, sizeof (event->svc), msg.svc);
            s_copy (event->sock, sizeof (event->sock), msg.sock);
            s_copy (event->stype, sizeof (event->stype), msg.stype);
            s_copy (event->event, sizeof (event->event), msg.event);
            s_copy (event->endpoint, sizeof (event->endpoint), msg.endpoint);
        }
        else
        if (feed_is (feed, "agent/") && streq (feed_str (feed, "state"), "gone")) {
            CHECK (run->gone_count < AGENTS_MAX);
            run->gone_events [run->gone_count] = feed_uint (feed, "events");
            run->gone_lost [run->gone_count] = feed_uint (feed, "lost");
            run->gone [run->gone_count++] = feed_uint (feed, "pid");
        }
    }
    if (run->gone_count < agents) {
        fprintf (stderr, "%zu of %zu agents said bye in %d ms\n", run->gone_count, agents, FEED_MS);
        exit (1);
    }
}

//  Run argv without the preload, then with it (env first: it overrides the
//  defaults below), against broker (NULL: none at all). Waits for `agents`
//  agents to say bye. With compare, the two runs must print the same and
//  exit the same.
static run_t *
s_run (const char *name, const char *const args [], const char *const env [],
       broker_proc_t *broker, size_t agents, bool compare)
{
    run_t *run = (run_t *) calloc (1, sizeof (run_t));
    CHECK (run);
    const char *argv [16];
    size_t argc = 0;
    argv [argc++] = name [0] == '/'? strdup (name): tu_bin (name);
    for (size_t index = 0; args && args [index]; index++)
        argv [argc++] = args [index];
    argv [argc] = NULL;
    s_spawn (argv, env, &run->plain);

    feed_t *feed = NULL;
    if (broker) {
        const char *prefixes [] = { "ev/", "agent/", "stats/", NULL };
        feed = feed_new (broker_proc_publish (broker), prefixes);
        //  A stats message means the subscription is in place
        CHECK (feed_wait_stats (feed, "v", 1, FEED_MS));
    }
    char *dead = tu_free_endpoint ();
    char *preload = NULL, *endpoint = NULL, *asan = NULL;
    CHECK (asprintf (&preload, "LD_PRELOAD=%s", ZWATCH_PRELOAD_LIB) > 0);
    CHECK (asprintf (&endpoint, "ZWATCH_BROKER=%s", broker? broker_proc_ingest (broker): dead) > 0);
    //  An ASan-built library in a preload comes before the ASan runtime
    const char *options = getenv ("ASAN_OPTIONS");
    CHECK (asprintf (&asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
                     options? options: "", options? ":": "") > 0);
    const char *full_env [32];
    size_t envc = 0;
    for (size_t index = 0; env && env [index]; index++)
        full_env [envc++] = env [index];
    const char *defaults [] = { preload, endpoint, asan, "ZWATCH_HOST_ID=" HOST,
                                "ZWATCH_SERVICE=" SERVICE, NULL };
    for (size_t index = 0; defaults [index]; index++)
        full_env [envc++] = defaults [index];
    full_env [envc] = NULL;
    s_spawn (argv, full_env, &run->preload);
    if (feed) {
        s_collect (run, feed, agents);
        feed_destroy (&feed);
    }
    if (compare) {
        CHECK_STR_EQ (run->preload.out, run->plain.out);
        CHECK_INT_EQ (run->preload.exit_code, run->plain.exit_code);
    }
    free (preload);
    free (endpoint);
    free (asan);
    free (dead);
    free ((char *) argv [0]);
    return run;
}

static void
s_run_destroy (run_t **run_p)
{
    run_t *run = *run_p;
    free (run->plain.out);
    free (run->plain.err);
    free (run->preload.out);
    free (run->preload.err);
    free (run);
    *run_p = NULL;
}

static broker_proc_t *
s_broker (void)
{
    const char *args [] = { "--stats-interval", "0.1", NULL };
    return broker_proc_new (args, true);
}

//  The first event on sock named event (NULL: any), or NULL
static event_t *
s_find (run_t *run, const char *sock, const char *event)
{
    for (size_t index = 0; index < run->count; index++)
        if (streq (run->events [index].sock, sock)
        &&  (!event || streq (run->events [index].event, event)))
            return &run->events [index];
    return NULL;
}

//  Events on sock (NULL: any) named event (NULL: any) from pid (0: any)
static int
s_count (run_t *run, const char *sock, const char *event, uint64_t pid)
{
    int count = 0;
    for (size_t index = 0; index < run->count; index++)
        count += (!sock || streq (run->events [index].sock, sock))
              && (!event || streq (run->events [index].event, event))
              && (!pid || run->events [index].pid == pid);
    return count;
}

//  How many sockets the events name
static int
s_sockets (run_t *run)
{
    int sockets = 0;
    for (size_t index = 0; index < run->count; index++)
        sockets += s_find (run, run->events [index].sock, NULL) == &run->events [index];
    return sockets;
}

//  Every event comes from pid, with the host and service given; its agent said bye
static void
s_check_identity (run_t *run, uint64_t pid, const char *service)
{
    for (size_t index = 0; index < run->count; index++) {
        CHECK_INT_EQ (run->events [index].pid, pid);
        CHECK_STR_EQ (run->events [index].host, HOST);
        CHECK_STR_EQ (run->events [index].svc, service);
    }
    CHECK_INT_EQ (run->gone_count, 1);
    CHECK_INT_EQ (run->gone [0], pid);
}

//  Each socket in labels had its monitor stopped exactly once
static void
s_check_stopped (run_t *run, const char *const labels [])
{
    for (size_t index = 0; labels [index]; index++)
        CHECK_INT_EQ (s_count (run, labels [index], "MONITOR_STOPPED", 0), 1);
}

static void
s_test_plain (void)
{
    broker_proc_t *broker = s_broker ();
    const char *args [] = { "7", NULL };
    run_t *run = s_run ("plain_service", args, NULL, broker, 1, true);
    CHECK_INT_EQ (run->preload.exit_code, 7);
    CHECK_STR_EQ (run->preload.err, "");
    CHECK (strstr (run->preload.out, "threads before the first socket: 1\n"));
    CHECK (strstr (run->preload.out, "monitor tcp: EPROTONOSUPPORT\nmonitor no protocol: EINVAL\n"
                                     "monitor events: EINVAL\nmonitor stop: ok\n"));
    CHECK (strstr (run->preload.out, "errno after socket: 4242\nclose: 0 errno 4343\n"));
    s_check_identity (run, (uint64_t) run->preload.pid, SERVICE);

    //  Its three sockets, nothing else (not zwatch's own, not the failed one)
    CHECK_INT_EQ (s_sockets (run), 3);
    event_t *listening = s_find (run, "REP-1", "LISTENING");
    CHECK (listening);
    CHECK_STR_EQ (listening->stype, "REP");
    CHECK (strncmp (listening->endpoint, "tcp://127.0.0.1:", 16) == 0);
    event_t *connected = s_find (run, "REQ-1", "CONNECTED");
    CHECK (connected);
    CHECK_STR_EQ (connected->stype, "REQ");
    CHECK_STR_EQ (connected->endpoint, listening->endpoint);
    CHECK (s_find (run, "REP-1", "ACCEPTED"));
    CHECK (s_find (run, "REQ-1", "HANDSHAKE_SUCCEEDED"));
    CHECK_INT_EQ (s_count (run, "PUB-1", NULL, 0), 1);
    const char *labels [] = { "REP-1", "REQ-1", "PUB-1", NULL };
    s_check_stopped (run, labels);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  ZWATCH_BROKER with two brokers: each sees the whole service, the same
//  events, and its bye
static void
s_test_two_brokers (void)
{
    broker_proc_t *first = s_broker ();
    broker_proc_t *second = s_broker ();
    const char *prefixes [] = { "ev/", "agent/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (second), prefixes);
    CHECK (feed_wait_stats (feed, "v", 1, FEED_MS));
    char *both = NULL;
    CHECK (asprintf (&both, "ZWATCH_BROKER=%s,%s", broker_proc_ingest (first),
                     broker_proc_ingest (second)) > 0);
    const char *args [] = { "7", NULL };
    const char *env [] = { both, NULL };
    run_t *run = s_run ("plain_service", args, env, first, 1, true);
    CHECK_INT_EQ (run->preload.exit_code, 7);
    CHECK_STR_EQ (run->preload.err, "");
    run_t *other = (run_t *) calloc (1, sizeof (run_t));
    CHECK (other);
    s_collect (other, feed, 1);
    feed_destroy (&feed);
    const run_t *runs [] = { run, other };
    for (size_t index = 0; index < 2; index++) {
        run_t *each = (run_t *) runs [index];
        s_check_identity (each, (uint64_t) run->preload.pid, SERVICE);
        CHECK_INT_EQ (s_sockets (each), 3);
        CHECK (s_find (each, "REP-1", "LISTENING"));
        CHECK (s_find (each, "REQ-1", "CONNECTED"));
        const char *labels [] = { "REP-1", "REQ-1", "PUB-1", NULL };
        s_check_stopped (each, labels);
        CHECK_INT_EQ (each->gone_lost [0], 0);
    }
    //  The same events, in the same order, at both
    CHECK_INT_EQ (other->count, run->count);
    CHECK_INT_EQ (other->gone_events [0], run->gone_events [0]);
    for (size_t index = 0; index < run->count; index++) {
        CHECK_STR_EQ (other->events [index].sock, run->events [index].sock);
        CHECK_STR_EQ (other->events [index].event, run->events [index].event);
    }
    free (other);
    s_run_destroy (&run);
    free (both);
    broker_proc_destroy (&first);
    broker_proc_destroy (&second);
}

//  A program that exits with its sockets open and its context not ended:
//  the broker still hears every socket's end, and the exit is as quick
static void
s_test_open (void)
{
    broker_proc_t *broker = s_broker ();
    const char *args [] = { "6", "open", NULL };
    run_t *run = s_run ("plain_service", args, NULL, broker, 1, true);
    CHECK_INT_EQ (run->preload.exit_code, 6);
    CHECK_STR_EQ (run->preload.err, "");
    CHECK (!strstr (run->preload.out, "\nctx_term: "));
    s_check_identity (run, (uint64_t) run->preload.pid, SERVICE);
    CHECK_INT_EQ (s_sockets (run), 3);
    const char *labels [] = { "REP-1", "REQ-1", "PUB-1", NULL };
    s_check_stopped (run, labels);
    CHECK (run->preload.took_ms < run->plain.took_ms + 2000);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  ZWATCH_LABEL_PREFIX, and the service named after the program by default
static void
s_test_prefix (void)
{
    broker_proc_t *broker = s_broker ();
    const char *args [] = { "0", NULL };
    const char *env [] = { "ZWATCH_LABEL_PREFIX=api.", "ZWATCH_SERVICE=", NULL };
    run_t *run = s_run ("plain_service", args, env, broker, 1, true);
    CHECK_INT_EQ (run->preload.exit_code, 0);
    s_check_identity (run, (uint64_t) run->preload.pid, "plain_service");
    CHECK_INT_EQ (s_sockets (run), 3);
    CHECK (s_find (run, "api.REP-1", "LISTENING"));
    CHECK (s_find (run, "api.REQ-1", "CONNECTED"));
    const char *labels [] = { "api.REP-1", "api.REQ-1", "api.PUB-1", NULL };
    s_check_stopped (run, labels);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  zsock, zstr and an actor; CZMQ ends its context at exit
static void
s_test_czmq (void)
{
    broker_proc_t *broker = s_broker ();
    run_t *run = s_run ("czmq_service", NULL, NULL, broker, 1, true);
    CHECK_INT_EQ (run->preload.exit_code, 0);
    CHECK_STR_EQ (run->preload.out, "router got hello\ndealer got world\nactor said echo\n");
    CHECK_STR_EQ (run->preload.err, "");
    s_check_identity (run, (uint64_t) run->preload.pid, SERVICE);
    CHECK_INT_EQ (s_sockets (run), 4);         //  and the actor's pipe pair
    event_t *listening = s_find (run, "ROUTER-1", "LISTENING");
    CHECK (listening);
    CHECK_STR_EQ (listening->stype, "ROUTER");
    event_t *connected = s_find (run, "DEALER-1", "CONNECTED");
    CHECK (connected);
    CHECK_STR_EQ (connected->endpoint, listening->endpoint);
    CHECK (s_find (run, "ROUTER-1", "ACCEPTED"));
    const char *labels [] = { "ROUTER-1", "DEALER-1", "PAIR-1", "PAIR-2", NULL };
    s_check_stopped (run, labels);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  8 threads make and close 25 sockets each, half of them in contexts of their own
static void
s_test_threads (void)
{
    broker_proc_t *broker = s_broker ();
    const char *args [] = { "8", "25", NULL };
    run_t *run = s_run ("threads_service", args, NULL, broker, 1, true);
    CHECK_STR_EQ (run->preload.out, "threads 8 sockets 200 bound 200\n");
    CHECK_STR_EQ (run->preload.err, "");
    s_check_identity (run, (uint64_t) run->preload.pid, SERVICE);
    CHECK_INT_EQ (s_sockets (run), 200);
    CHECK_INT_EQ (s_count (run, NULL, "LISTENING", 0), 200);
    CHECK_INT_EQ (s_count (run, NULL, "CLOSED", 0), 200);
    CHECK_INT_EQ (s_count (run, NULL, "MONITOR_STOPPED", 0), 200);
    CHECK_INT_EQ ((int) run->count, 600);
    //  Labels PUSH-1 .. PUSH-200: each socket once, from start to end
    for (int number = 1; number <= 200; number++) {
        char label [32];
        snprintf (label, sizeof (label), "PUSH-%d", number);
        CHECK_INT_EQ (s_count (run, label, "LISTENING", 0), 1);
        CHECK_INT_EQ (s_count (run, label, "CLOSED", 0), 1);
        CHECK_INT_EQ (s_count (run, label, "MONITOR_STOPPED", 0), 1);
        event_t *listening = s_find (run, label, "LISTENING");
        CHECK_STR_EQ (listening->stype, "PUSH");
        CHECK (strncmp (listening->endpoint, "tcp://127.0.0.1:", 16) == 0);
    }
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  The context ends under a thread blocked in zmq_recv: no hang, and the
//  agent heard the socket until then
static void
s_test_blocked (void)
{
    broker_proc_t *broker = s_broker ();
    const char *args [] = { "blocked", NULL };
    run_t *run = s_run ("threads_service", args, NULL, broker, 1, true);
    CHECK_STR_EQ (run->preload.out, "ctx_term 0, the receiver got ETERM\n");
    CHECK_STR_EQ (run->preload.err, "");
    CHECK (run->preload.took_ms < run->plain.took_ms + 2000);
    s_check_identity (run, (uint64_t) run->preload.pid, SERVICE);
    CHECK_INT_EQ (s_count (run, "PULL-1", "LISTENING", 0), 1);
    CHECK_INT_EQ (s_sockets (run), 1);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  The child gets an agent of its own: its own pid, its own labels
static void
s_test_fork (void)
{
    broker_proc_t *broker = s_broker ();
    run_t *run = s_run ("fork_service", NULL, NULL, broker, 2, true);
    CHECK_STR_EQ (run->preload.out, "parent got 'from child', child exit 0\n"
                                    "parent bind after fork: 0\n");
    CHECK_STR_EQ (run->preload.err, "");
    uint64_t parent = (uint64_t) run->preload.pid;
    CHECK_INT_EQ (run->gone_count, 2);
    uint64_t child = run->gone [0] == parent? run->gone [1]: run->gone [0];
    CHECK (child != parent && (run->gone [0] == parent || run->gone [1] == parent));
    for (size_t index = 0; index < run->count; index++) {
        CHECK (run->events [index].pid == parent || run->events [index].pid == child);
        CHECK_STR_EQ (run->events [index].host, HOST);
        CHECK_STR_EQ (run->events [index].svc, SERVICE);
    }
    //  The parent: PULL-1 before the fork, PUB-1 after it
    event_t *listening = s_find (run, "PULL-1", "LISTENING");
    CHECK (listening && listening->pid == parent);
    CHECK_INT_EQ (s_count (run, "PULL-1", "ACCEPTED", parent), 1);
    CHECK_INT_EQ (s_count (run, "PUB-1", "LISTENING", parent), 1);
    CHECK_INT_EQ (s_count (run, NULL, NULL, parent), s_count (run, "PULL-1", NULL, parent)
                                                   + s_count (run, "PUB-1", NULL, parent));
    //  The child: only its own PUSH-1, numbered afresh, connected to the parent
    event_t *connected = s_find (run, "PUSH-1", "CONNECTED");
    CHECK (connected && connected->pid == child);
    CHECK_STR_EQ (connected->endpoint, listening->endpoint);
    CHECK_INT_EQ (s_count (run, NULL, NULL, child), s_count (run, "PUSH-1", NULL, child));
    CHECK_INT_EQ (s_count (run, "PUSH-1", "MONITOR_STOPPED", child), 1);
    CHECK_INT_EQ (s_count (run, "PULL-1", "MONITOR_STOPPED", parent), 1);
    CHECK_INT_EQ (s_count (run, "PUB-1", "MONITOR_STOPPED", parent), 1);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  A program's own zmq_socket_monitor: it sees exactly what it sees
//  without the preload, while the agent goes on watching
static void
s_test_monitor (void)
{
    broker_proc_t *broker = s_broker ();
    char *endpoint = tu_free_endpoint ();       //  the same in both runs
    const char *args [] = { endpoint, NULL };
    run_t *run = s_run ("monitor_service", args, NULL, broker, 1, true);
    CHECK_INT_EQ (run->preload.exit_code, 0);
    CHECK_STR_EQ (run->preload.err, "");
    //  What libzmq itself gives the program, so the comparison means something
    char *expected = NULL;
    CHECK (asprintf (&expected,
        "monitor tcp: EPROTONOSUPPORT\n"
        "monitor events: EINVAL\n"
        "monitor rep: ok\n"
        "monitor taken: EADDRINUSE\n"
        "bind: ok\n"
        "rep: LISTENING '%s' frames=2 first=6\n"
        "rep: ACCEPTED '%s' frames=2 first=6\n"
        "rep: HANDSHAKE_SUCCEEDED '%s' frames=2 first=6\n"
        "rep: DISCONNECTED '%s' frames=2 first=6\n"
        "stop: ok\n"
        "rep: MONITOR_STOPPED '' frames=2 first=6\n"
        "after stop: nothing\n"
        "monitor pull a: ok\n"
        "monitor pull b: ok\n"
        "pull a: MONITOR_STOPPED '' frames=2 first=6\n"
        "bind: ok\n"
        "pull b: LISTENING '(bound)' frames=2 first=6\n"
        "pull b: CLOSED '(bound)' frames=2 first=6\n"
        "pull b: MONITOR_STOPPED '' frames=2 first=6\n"
        "pull a after replace: nothing\n",
        endpoint, endpoint, endpoint, endpoint) > 0);
    CHECK_STR_EQ (run->plain.out, expected);
    free (expected);

    s_check_identity (run, (uint64_t) run->preload.pid, SERVICE);
    //  The agent watched REP-1 past the program's stop, to its close; the
    //  MONITOR_STOPPED the program got from its stop was its copy's alone
    CHECK (s_find (run, "REP-1", "LISTENING"));
    CHECK_STR_EQ (s_find (run, "REP-1", "LISTENING")->endpoint, endpoint);
    CHECK_INT_EQ (s_count (run, "REP-1", "CLOSED", 0), 1);
    CHECK_INT_EQ (s_count (run, "PULL-1", "LISTENING", 0), 1);
    //  The PUB whose monitor endpoint was taken is watched as any socket
    CHECK_INT_EQ (s_count (run, "PUB-1", NULL, 0), 1);
    const char *labels [] = { "REP-1", "REQ-1", "PUB-1", "PULL-1", "PAIR-1", "PAIR-2",
                              "PAIR-3", NULL };
    s_check_stopped (run, labels);
    CHECK_INT_EQ (s_sockets (run), 7);
    s_run_destroy (&run);
    free (endpoint);
    broker_proc_destroy (&broker);
}

//  No broker: the same output, exit code, and no delay worth the name
static void
s_test_no_broker (void)
{
    const char *args [] = { "4", "25", NULL };
    run_t *run = s_run ("threads_service", args, NULL, NULL, 0, true);
    CHECK_STR_EQ (run->preload.err, "");
    CHECK (run->preload.took_ms < run->plain.took_ms + 2000);
    s_run_destroy (&run);
    const char *plain_args [] = { "5", NULL };
    run = s_run ("plain_service", plain_args, NULL, NULL, 0, true);
    CHECK_INT_EQ (run->preload.exit_code, 5);
    CHECK (run->preload.took_ms < run->plain.took_ms + 2000);
    s_run_destroy (&run);
}

//  ZWATCH_DISABLE=1: nothing reaches the broker, nothing is said
static void
s_test_disable (void)
{
    broker_proc_t *broker = s_broker ();
    const char *args [] = { "3", NULL };
    const char *env [] = { "ZWATCH_DISABLE=1", NULL };
    run_t *run = s_run ("plain_service", args, env, broker, 0, true);
    CHECK_INT_EQ (run->preload.exit_code, 3);
    CHECK_STR_EQ (run->preload.err, "");
    CHECK_INT_EQ (run->count, 0);
    CHECK_INT_EQ (run->gone_count, 0);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  Wrong settings: one clear line on stderr, then the program as without zwatch
static void
s_test_bad_settings (void)
{
    char long_prefix [200] = "ZWATCH_LABEL_PREFIX=";
    memset (long_prefix + strlen (long_prefix), 'x', 150);
    struct { const char *setting; const char *says; } cases [] = {
        { "ZWATCH_BROKER=bogus://nowhere", "cannot start agent for broker 'bogus://nowhere'" },
        { "ZWATCH_BROKER=", "ZWATCH_BROKER is not set" },
        { "ZWATCH_BROKER=inproc://broker", "is inproc://" },
        { "ZWATCH_BROKER=tcp://127.0.0.1:1,inproc://broker", "is inproc://" },
        { "ZWATCH_BROKER=tcp://127.0.0.1:1,,tcp://127.0.0.1:2", "an empty element" },
        { "ZWATCH_BROKER=tcp://127.0.0.1:1,", "an empty element" },
        { "ZWATCH_BROKER=tcp://127.0.0.1:1,tcp://127.0.0.1:2,tcp://127.0.0.1:3,"
          "tcp://127.0.0.1:4,tcp://127.0.0.1:5", "5 endpoints, at most 4" },
        { "ZWATCH_BROKER=tcp://127.0.0.1:1,tcp://127.0.0.1:1", "an endpoint listed twice" },
        { "ZWATCH_BROKER=tcp://127.0.0.1:1,bogus://nowhere",
          "cannot start agent for broker 'tcp://127.0.0.1:1,bogus://nowhere'" },
        { "ZWATCH_DISABLE=yes", "ZWATCH_DISABLE must be 0 or 1, not 'yes'" },
        { long_prefix, "ZWATCH_LABEL_PREFIX must be 1-104 printable ASCII characters" },
        { "ZWATCH_CURVE_SERVER_KEY=short", "ZWATCH_CURVE_SERVER_KEY" }
    };
    for (size_t index = 0; index < sizeof (cases) / sizeof (cases [0]); index++) {
        const char *args [] = { "9", NULL };
        const char *env [] = { cases [index].setting, NULL };
        run_t *run = s_run ("plain_service", args, env, NULL, 0, true);
        CHECK_INT_EQ (run->preload.exit_code, 9);
        if (tu_count (run->preload.err, "\n") != 1
        ||  strncmp (run->preload.err, "zwatch: E: ", 11) != 0
        ||  !strstr (run->preload.err, cases [index].says)) {
            fprintf (stderr, "%s: expected one line saying \"%s\", got \"%s\"\n",
                     cases [index].setting, cases [index].says, run->preload.err);
            exit (1);
        }
        s_run_destroy (&run);
    }
}

//  A program with libzwatch linked in keeps its own agent; the preload
//  says so once and watches nothing
static void
s_test_linked (void)
{
    broker_proc_t *broker = s_broker ();
    const char *args [] = { "reqrep", NULL };
    run_t *run = s_run ("agent_service", args, NULL, broker, 1, false);
    CHECK_INT_EQ (run->preload.exit_code, 0);
    CHECK_INT_EQ (tu_count (run->preload.err, "has libzwatch linked in"), 1);
    s_check_identity (run, (uint64_t) run->preload.pid, SERVICE);
    CHECK (s_find (run, "server", "LISTENING"));
    CHECK_INT_EQ (s_sockets (run), 2);         //  "server" and "REQ-1", its own labels
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  The tests' exit code 77 (skipped) if the system python3 has no pyzmq
static void
s_require_pyzmq (void)
{
    const char *check [] = { PYTHON3_SYSTEM, "-c", "import zmq", NULL };
    proc_t proc;
    if (!*PYTHON3_SYSTEM)
        proc.exit_code = 1;
    else {
        s_spawn (check, NULL, &proc);
        free (proc.out);
        free (proc.err);
    }
    if (proc.exit_code != 0) {
        printf ("test_preload python: skipped, no pyzmq for %s\n",
                *PYTHON3_SYSTEM? PYTHON3_SYSTEM: "a system python3");
        exit (77);
    }
}

//  pyzmq, on the system libzmq.so.5
static void
s_test_python (void)
{
    s_require_pyzmq ();
    broker_proc_t *broker = s_broker ();
    const char *args [] = { PYZMQ_SERVICE, NULL };
    run_t *run = s_run (PYTHON3_SYSTEM, args, NULL, broker, 1, true);
    CHECK_INT_EQ (run->preload.exit_code, 4);
    CHECK_STR_EQ (run->preload.out, "request ping\nreply pong\n"
                                    "monitor: DISCONNECTED\nmonitor: MONITOR_STOPPED\n");
    CHECK_STR_EQ (run->preload.err, "");
    s_check_identity (run, (uint64_t) run->preload.pid, SERVICE);
    //  Its sockets, and the PAIR pyzmq reads its own monitor with
    CHECK_INT_EQ (s_sockets (run), 3);
    event_t *listening = s_find (run, "REP-1", "LISTENING");
    CHECK (listening);
    event_t *connected = s_find (run, "REQ-1", "CONNECTED");
    CHECK (connected);
    CHECK_STR_EQ (connected->endpoint, listening->endpoint);
    CHECK (s_find (run, "REP-1", "DISCONNECTED"));
    const char *labels [] = { "REP-1", "REQ-1", "PAIR-1", NULL };
    s_check_stopped (run, labels);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  pyzmq without ZWATCH_SERVICE: the service is the script, not python3
//  (an option before it is skipped); "-c code" runs no script: python3
static void
s_test_python_name (void)
{
    s_require_pyzmq ();
    broker_proc_t *broker = s_broker ();
    const char *env [] = { "ZWATCH_SERVICE=", NULL };
    const char *args [] = { "-u", PYZMQ_SERVICE, NULL };
    run_t *run = s_run (PYTHON3_SYSTEM, args, env, broker, 1, true);
    CHECK_INT_EQ (run->preload.exit_code, 4);
    s_check_identity (run, (uint64_t) run->preload.pid, "pyzmq_service.py");
    s_run_destroy (&run);
    const char *code [] = { "-c", "import zmq; zmq.Context().socket(zmq.REP).bind('tcp://127.0.0.1:*')",
                            NULL };
    run = s_run (PYTHON3_SYSTEM, code, env, broker, 1, true);
    CHECK_INT_EQ (run->preload.exit_code, 0);
    const char *slash = strrchr (PYTHON3_SYSTEM, '/');
    s_check_identity (run, (uint64_t) run->preload.pid, slash? slash + 1: PYTHON3_SYSTEM);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  The ctx_term time fidelity_service writes on stderr, and that nothing else is there
static long
s_ctx_term_ms (const char *err)
{
    long msecs = -1;
    CHECK (sscanf (err, "ctx_term took %ld ms\n", &msecs) == 1);
    CHECK (!strstr (err, "zwatch:"));
    CHECK_INT_EQ (tu_count (err, "\n"), 1);
    return msecs;
}

//  The program's own monitors get exactly what libzmq gives them: from the
//  moment of the call on (however soon after it the event comes), held
//  until its PAIR connects, and what it can no longer read dropped as
//  silently as libzmq does
static void
s_test_fidelity_monitor (void)
{
    broker_proc_t *broker = s_broker ();
    const char *args [] = { "monitor", NULL };
    s_skip_retries = true;
    run_t *run = s_run ("fidelity_service", args, NULL, broker, 1, true);
    CHECK_STR_EQ (run->plain.out,
        "race: handshake seen in at least 30 of 40 rounds\n"
        "late: CONNECTED HANDSHAKE_SUCCEEDED MONITOR_STOPPED nothing\n"
        "first: LISTENING MONITOR_STOPPED nothing\n"
        "second: ACCEPTED\n"
        "ctx_term: 0\n");
    s_ctx_term_ms (run->preload.err);
    //  The agent's own monitor went on through the program's replacements:
    //  the broker heard one LISTENING and one MONITOR_STOPPED, no more
    CHECK_INT_EQ (s_count (run, "ROUTER-3", "LISTENING", 0), 1);
    CHECK_INT_EQ (s_count (run, "ROUTER-3", "ACCEPTED", 0), 1);
    CHECK_INT_EQ (s_count (run, "ROUTER-3", "MONITOR_STOPPED", 0), 1);
    CHECK_INT_EQ (s_count (run, NULL, "MONITOR_STOPPED", 0), s_sockets (run));
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  errno after a failed bind or connect is libzmq's without a monitor,
//  though the agent monitors every socket
static void
s_test_fidelity_errno (void)
{
    broker_proc_t *broker = s_broker ();
    char *endpoint = tu_free_endpoint ();
    const char *args [] = { "errno", endpoint, NULL };
    run_t *run = s_run ("fidelity_service", args, NULL, broker, 1, true);
    CHECK (strstr (run->plain.out, "bind ipc://<long>: -1 ENAMETOOLONG\n"));
    CHECK (strstr (run->plain.out, "bind ipc://@: -1 EINVAL\n"));
    CHECK (strstr (run->plain.out, "bind tcp://no-such-interface-zw:5: -1 ENODEV\n"));
    CHECK_INT_EQ (tu_count (run->plain.out, "EAGAIN"), 0);
    s_ctx_term_ms (run->preload.err);
    CHECK (s_count (run, NULL, "BIND_FAILED", 0) >= 16);
    s_run_destroy (&run);
    free (endpoint);
    broker_proc_destroy (&broker);
}

//  Sockets closed with an inproc connect that no bind completed: libzmq
//  lets go of them only when the context ends, so their MONITOR_STOPPED
//  cannot come before; ending the context does not wait for it
static void
s_test_fidelity_inproc (void)
{
    broker_proc_t *broker = s_broker ();
    const char *args [] = { "inproc", NULL };
    run_t *run = s_run ("fidelity_service", args, NULL, broker, 1, true);
    CHECK_STR_EQ (run->plain.out, "ctx_term: 0\n");
    long msecs = s_ctx_term_ms (run->preload.err);
    printf ("ctx_term: %ld ms without the preload, %ld ms with it\n",
            s_ctx_term_ms (run->plain.err), msecs);
    //  The agent waits up to 1000 ms for a closed socket's end: well under that
    CHECK (msecs < 800);
    //  The sockets that met their bind were heard to the end
    CHECK_INT_EQ (s_count (run, "PULL-1", "MONITOR_STOPPED", 0), 1);
    CHECK_INT_EQ (s_count (run, "PUSH-5", "MONITOR_STOPPED", 0), 1);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

//  What a Jupyter kernel does at shutdown (threads, daemon threads holding
//  sockets, zmq_ctx_term racing zmq_close, sockets closed by other threads
//  than their makers', an exit with sockets open and threads in libzmq),
//  SHUTDOWN_ITERATIONS times, with a hang detector: a step (one kernel)
//  that takes longer than STEP_MS gets every thread's stack dumped into
//  the log, and fails. Plain, then with signals interrupting every call.
#define SHUTDOWN_ITERATIONS  200
#define STEP_MS              10000

static void
s_shutdown (const char *program, const char *script, const char *mode)
{
    broker_proc_t *broker = s_broker ();
    char iterations [16];
    snprintf (iterations, sizeof (iterations), "%d", SHUTDOWN_ITERATIONS);
    const char *args [] = { script? script: iterations, script? iterations: mode, mode, NULL };
    s_keep_first = true;
    s_step_ms = STEP_MS;
    s_run_ms = 100000;
    run_t *run = s_run (program, args, NULL, broker, 1, true);
    CHECK_INT_EQ (run->preload.exit_code, 0);
    CHECK_STR_EQ (run->preload.err, "");
    CHECK_INT_EQ (tu_count (run->preload.out, "iteration "), SHUTDOWN_ITERATIONS);
    CHECK (strstr (run->preload.out, "\ndone\n"));
    printf ("%d kernels: %lld ms without the preload, %lld ms with it; %" PRIu64 " events\n",
            SHUTDOWN_ITERATIONS, run->plain.took_ms, run->preload.took_ms, run->total);
    //  Every kernel's sockets were heard: bound, and the ones closed before
    //  their context ended heard to their end (heartbeat's ROUTER closes
    //  after its context's end began: the agent had let go of it)
    CHECK_INT_EQ (run->gone_count, 1);
    CHECK_INT_EQ (run->gone [0], (uint64_t) run->preload.pid);
    CHECK_INT_EQ (run->gone_lost [0], 0);
    CHECK_INT_EQ (run->gone_events [0], run->total);
    CHECK_INT_EQ (s_tallied (run, "ROUTER", "LISTENING"), 4 * SHUTDOWN_ITERATIONS);
    CHECK_INT_EQ (s_tallied (run, "PUB", "LISTENING"), SHUTDOWN_ITERATIONS);
    CHECK_INT_EQ (s_tallied (run, "PUB", "MONITOR_STOPPED"), SHUTDOWN_ITERATIONS);
    CHECK_INT_EQ (s_tallied (run, "ROUTER", "MONITOR_STOPPED"), 3 * SHUTDOWN_ITERATIONS);
    //  The sockets open at exit were heard to their end too
    CHECK_INT_EQ (s_tallied (run, "PULL", "LISTENING"), 1);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

static void
s_test_shutdown (void)
{
    s_shutdown ("shutdown_service", NULL, NULL);
}

static void
s_test_shutdown_signals (void)
{
    s_shutdown ("shutdown_service", NULL, "signals");
}

static void s_require_pyzmq (void);

//  The same in Python, on pyzmq: what the kernel was
static void
s_test_python_shutdown (void)
{
    s_require_pyzmq ();
    s_shutdown (PYTHON3_SYSTEM, PYZMQ_SHUTDOWN, NULL);
}

static void
s_test_python_shutdown_signals (void)
{
    s_require_pyzmq ();
    s_shutdown (PYTHON3_SYSTEM, PYZMQ_SHUTDOWN, "signals");
}

//  Signals every 50 us on the program's threads while they make, bind,
//  connect, monitor and close thousands of sockets and end contexts:
//  nothing crashes, and every call gives what libzmq alone gives
#define SIGNALS_ROUNDS  25

static void
s_test_signals (void)
{
    broker_proc_t *broker = s_broker ();
    char rounds [16];
    snprintf (rounds, sizeof (rounds), "%d", SIGNALS_ROUNDS);
    const char *args [] = { rounds, NULL };
    s_keep_first = true;
    s_run_ms = 120000;
    run_t *run = s_run ("signals_service", args, NULL, broker, 1, true);
    char *expected = NULL;
    //  Per round and thread: 40 sockets (5 of them monitored, with their
    //  readers), 3 for the refusals
    int sockets = SIGNALS_ROUNDS * (40 + 5 + 2);
    CHECK (asprintf (&expected,
        "thread 0: %d rounds, %d sockets, %d binds, %d connects, %d monitors (%d events), "
        "%d refusals, 0 mismatches\n"
        "thread 1: %d rounds, %d sockets, %d binds, %d connects, %d monitors (%d events), "
        "%d refusals, 0 mismatches\n",
        SIGNALS_ROUNDS, sockets, SIGNALS_ROUNDS * 20, SIGNALS_ROUNDS * 15, SIGNALS_ROUNDS * 5,
        SIGNALS_ROUNDS * 10, SIGNALS_ROUNDS * 5,
        SIGNALS_ROUNDS, sockets, SIGNALS_ROUNDS * 20, SIGNALS_ROUNDS * 15, SIGNALS_ROUNDS * 5,
        SIGNALS_ROUNDS * 10, SIGNALS_ROUNDS * 5) > 0);
    CHECK_STR_EQ (run->plain.out, expected);
    CHECK_INT_EQ (run->preload.exit_code, 0);
    CHECK (!strstr (run->preload.err, "zwatch:"));
    CHECK_INT_EQ (tu_count (run->preload.err, "EINTR retried\n"), 2);
    printf ("without the preload (%lld ms):\n%swith it (%lld ms):\n%s", run->plain.took_ms,
            run->plain.err, run->preload.took_ms, run->preload.err);
    //  The agent heard every socket from its start to its end
    CHECK_INT_EQ (run->gone_count, 1);
    CHECK_INT_EQ (run->gone_lost [0], 0);
    CHECK_INT_EQ (run->gone_events [0], run->total);
    CHECK_INT_EQ (s_tallied (run, "PULL", "LISTENING"), 2 * SIGNALS_ROUNDS * 15);
    uint64_t stopped = 0;
    for (size_t index = 0; index < run->tally_count; index++)
        if (strstr (run->tally [index].key, " MONITOR_STOPPED"))
            stopped += run->tally [index].count;
    CHECK_INT_EQ (stopped, 2 * sockets);
    free (expected);
    s_run_destroy (&run);
    broker_proc_destroy (&broker);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "plain", s_test_plain }, { "open", s_test_open }, { "prefix", s_test_prefix },
        { "two_brokers", s_test_two_brokers },
        { "czmq", s_test_czmq },
        { "threads", s_test_threads }, { "blocked", s_test_blocked }, { "fork", s_test_fork }, { "monitor", s_test_monitor },
        { "no_broker", s_test_no_broker }, { "disable", s_test_disable },
        { "bad_settings", s_test_bad_settings }, { "linked", s_test_linked },
        { "python", s_test_python }, { "fidelity_monitor", s_test_fidelity_monitor },
        { "python_name", s_test_python_name },
        { "fidelity_errno", s_test_fidelity_errno }, { "fidelity_inproc", s_test_fidelity_inproc },
        { "shutdown", s_test_shutdown }, { "shutdown_signals", s_test_shutdown_signals },
        { "signals", s_test_signals }, { "python_shutdown", s_test_python_shutdown },
        { "python_shutdown_signals", s_test_python_shutdown_signals }
    };
    return tu_run_cases (argc, argv, "test_preload", cases, sizeof (cases) / sizeof (cases [0]));
}
