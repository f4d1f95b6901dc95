/*  test_security: CURVE, ZAP, host binding and self-watching, with a real
    zwatch-broker, real agents (agent_service, and this process), real
    zwatch-sub and zwatch-keygen on loopback.
    Usage: test_security CASE (see tests/security/CMakeLists.txt).  */

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <czmq.h>
#include "zwatch.h"
#include "testutil.h"
#include "broker_proc.h"
#include "zwatch_curve.h"
#include "sec_feed.h"
#include "tcp_tap.h"

#define WAIT_MS         10000           //  bound on waits; only reached when broken
#define BROKER_HOST     "broker-host"   //  host ID of the broker's own agent
#define SELF_EVENTS     "ev/" BROKER_HOST "/zwatch-broker/"
#define AUTH_FAILED     SELF_EVENTS "HANDSHAKE_FAILED_AUTH"
#define SVC             "svc-sec"

//  A CURVE broker with its certificates, and a subscriber it allows
typedef struct {
    char *dir;                  //  temporary; holds every certificate
    char *broker_key;           //  the broker's public key
    char *agents;               //  --agents-allow: "agent" (host web-01), "free" (no host)
    char *subscribers;          //  --subscribers-allow: "reader"
    broker_proc_t *broker;
    sec_feed_t *feed;           //  "reader", subscribed to everything
} setup_t;

static bool
s_str_is (zwatch_str_t str, const char *text)
{
    return str.ptr && str.len == strlen (text) && memcmp (str.ptr, text, str.len) == 0;
}

static char *
s_path (const char *dir, const char *name)
{
    char *path = NULL;
    CHECK (asprintf (&path, "%s/%s", dir, name) > 0);
    return path;
}

static int
s_exit (pid_t pid)
{
    int code = tu_wait (pid, WAIT_MS);
    if (code < 0) {
        tu_kill (pid);
        fprintf (stderr, "process %d did not exit within %d ms\n", (int) pid, WAIT_MS);
        exit (1);
    }
    return code;
}

//  stderr of a process started with tu_spawn (out_path + ".err"); caller frees
static char *
s_errors (const char *out_path)
{
    char *err_path = NULL;
    CHECK (asprintf (&err_path, "%s.err", out_path) > 0);
    char *errors = tu_read_file (err_path);
    CHECK (errors);
    unlink (err_path);
    free (err_path);
    return errors;
}

//  Run a program to its end; returns its exit code, *out and *errors
static int
s_run (const char *const argv [], const char *const env [], char **out, char **errors)
{
    char *out_path = tu_temp_path (".out");
    int code = s_exit (tu_spawn (argv, env, out_path));
    *out = tu_read_file (out_path);
    *errors = s_errors (out_path);
    CHECK (*out);
    unlink (out_path);
    free (out_path);
    return code;
}

//  zwatch-keygen [--host H] dir/name; returns the public key it prints
static char *
s_keygen (const char *dir, const char *name, const char *host)
{
    char *bin = tu_bin ("zwatch-keygen");
    char *path = s_path (dir, name);
    const char *with_host [] = { bin, "--host", host, path, NULL };
    const char *without [] = { bin, path, NULL };
    char *out, *errors;
    CHECK_INT_EQ (s_run (host? with_host: without, NULL, &out, &errors), 0);
    CHECK_STR_EQ (errors, "");
    CHECK_INT_EQ (strlen (out), 41);
    out [40] = 0;
    free (errors);
    free (path);
    free (bin);
    return out;
}

//  Write text to dir/name; returns the path
static char *
s_write (const char *dir, const char *name, const char *text)
{
    char *path = s_path (dir, name);
    FILE *file = fopen (path, "w");
    CHECK (file && fputs (text, file) >= 0 && fclose (file) == 0);
    return path;
}

//  Copy the public certificate dir/name into to_dir
static void
s_allow (const char *dir, const char *name, const char *to_dir)
{
    char *from = s_path (dir, name);
    char *text = tu_read_file (from);
    CHECK (text);
    free (s_write (to_dir, name, text));
    free (text);
    free (from);
}

static char *
s_temp_dir (void)
{
    char *dir = tu_temp_path ("-sec");
    CHECK (mkdir (dir, 0700) == 0);
    return dir;
}

static void
s_remove_dir (char **dir_p)
{
    zdir_t *dir = zdir_new (*dir_p, NULL);
    if (dir) {
        zdir_remove (dir, true);
        zdir_destroy (&dir);
    }
    zstr_free (dir_p);
}

//  Certificates, a CURVE broker (plus extra args), a feed that has seen stats
static setup_t *
s_setup_new (const char *const extra [])
{
    setup_t *setup = (setup_t *) zmalloc (sizeof (setup_t));
    CHECK (setup);
    setup->dir = s_temp_dir ();
    setup->agents = s_path (setup->dir, "agents");
    setup->subscribers = s_path (setup->dir, "subscribers");
    CHECK (mkdir (setup->agents, 0700) == 0 && mkdir (setup->subscribers, 0700) == 0);
    setup->broker_key = s_keygen (setup->dir, "broker", NULL);
    free (s_keygen (setup->dir, "agent", "web-01"));
    free (s_keygen (setup->dir, "free", NULL));
    free (s_keygen (setup->dir, "reader", NULL));
    s_allow (setup->dir, "agent", setup->agents);
    s_allow (setup->dir, "free", setup->agents);
    s_allow (setup->dir, "reader", setup->subscribers);

    char *secret = s_path (setup->dir, "broker_secret");
    const char *args [32] = { "--curve-secret", secret, "--agents-allow", setup->agents,
                              "--subscribers-allow", setup->subscribers,
                              "--stats-interval", "0.2" };
    size_t count = 8;
    for (size_t index = 0; extra && extra [index]; index++)
        args [count++] = extra [index];
    args [count] = NULL;
    setup->broker = broker_proc_new (args, true);
    free (secret);

    char *reader = s_path (setup->dir, "reader_secret");
    setup->feed = sec_feed_new (broker_proc_publish (setup->broker), setup->broker_key, reader);
    free (reader);
    CHECK (sec_feed_wait (setup->feed, "stats/", WAIT_MS));
    return setup;
}

static void
s_setup_destroy (setup_t **setup_p)
{
    setup_t *setup = *setup_p;
    sec_feed_destroy (&setup->feed);
    CHECK_INT_EQ (broker_proc_stop (setup->broker, SIGTERM, WAIT_MS), 0);
    broker_proc_destroy (&setup->broker);
    s_remove_dir (&setup->dir);
    free (setup->broker_key);
    free (setup->agents);
    free (setup->subscribers);
    free (setup);
    *setup_p = NULL;
}

//  agent_service MODE ARG as (host, SVC) sending to endpoint, with the
//  certificate dir/cert (NULL: no CURVE); *out_path gets its stdout path
static pid_t
s_agent (setup_t *setup, const char *endpoint, const char *host, const char *cert,
         const char *mode, const char *arg, char **out_path)
{
    char *broker = NULL, *host_id = NULL, *server_key = NULL, *cert_env = NULL;
    CHECK (asprintf (&broker, "ZWATCH_BROKER=%s", endpoint) > 0);
    CHECK (asprintf (&host_id, "ZWATCH_HOST_ID=%s", host) > 0);
    if (cert) {
        CHECK (asprintf (&server_key, "ZWATCH_CURVE_SERVER_KEY=%s", setup->broker_key) > 0);
        CHECK (asprintf (&cert_env, "ZWATCH_CURVE_CERT=%s/%s_secret", setup->dir, cert) > 0);
    }
    const char *env [] = { broker, host_id, "ZWATCH_SERVICE=" SVC, "TEST_HEARTBEAT_MS=100",
                           server_key, cert_env, NULL };
    char *bin = tu_bin ("agent_service");
    const char *argv [] = { bin, mode, arg, NULL };
    *out_path = tu_temp_path (".agent");
    pid_t pid = tu_spawn (argv, env, *out_path);
    free (bin);
    free (broker);
    free (host_id);
    free (server_key);
    free (cert_env);
    return pid;
}

//  Run the agent to its end; returns its stderr (caller frees)
static char *
s_agent_run (setup_t *setup, const char *endpoint, const char *host, const char *cert,
             const char *mode)
{
    char *out_path;
    CHECK_INT_EQ (s_exit (s_agent (setup, endpoint, host, cert, mode, "", &out_path)), 0);
    char *errors = s_errors (out_path);
    unlink (out_path);
    free (out_path);
    return errors;
}

//  Start agent_service idle as (host, SVC) and wait until it says on stderr
//  that the broker refused it (so it lived that long, whatever the load).
//  Returns its pid, still running; *out_path as s_agent
static pid_t
s_agent_refused (setup_t *setup, const char *endpoint, const char *host, const char *cert,
                 char **out_path)
{
    pid_t pid = s_agent (setup, endpoint, host, cert, "idle", "20000", out_path);
    char *err_path = NULL;
    CHECK (asprintf (&err_path, "%s.err", *out_path) > 0);
    CHECK (tu_wait_for_text (err_path, "refused the handshake", 1, WAIT_MS));
    free (err_path);
    return pid;
}

//  Kill an agent from s_agent_refused; returns its stderr (caller frees)
static char *
s_agent_kill (pid_t pid, char *out_path)
{
    tu_kill (pid);
    char *errors = s_errors (out_path);
    unlink (out_path);
    free (out_path);
    return errors;
}

//  Stats until auth_failures equals the HANDSHAKE_FAILED_AUTH events seen
//  (the clients that caused them are gone); returns that count
static uint64_t
s_wait_auth_failures_seen (sec_feed_t *feed)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (tu_now_ms () < deadline) {
        CHECK (sec_feed_wait (feed, "stats/", WAIT_MS));
        uint64_t failures = sec_feed_uint (feed, NULL, "auth_failures");
        if (failures == sec_feed_count (feed, AUTH_FAILED))
            return failures;
    }
    fprintf (stderr, "stats auth_failures never matched the %zu events seen\n",
             sec_feed_count (feed, AUTH_FAILED));
    exit (1);
}

//  The next HANDSHAKE_FAILED_AUTH event: from the broker's own agent, on
//  its socket labelled label, with the ZAP status
static void
s_check_auth_event (sec_feed_t *feed, pid_t broker_pid, const char *label)
{
    CHECK (sec_feed_wait (feed, AUTH_FAILED, WAIT_MS));
    zwatch_msg_t msg;
    sec_feed_event (feed, &msg);
    CHECK (s_str_is (msg.sock, label));
    CHECK (s_str_is (msg.stype, strcmp (label, "ingest") == 0? "ROUTER": "XPUB"));
    CHECK_INT_EQ (msg.code, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    CHECK_INT_EQ (msg.value, 400);
    CHECK_INT_EQ (msg.pid, broker_pid);
}


//  Read stats until the feed has seen topic count times (agent up/gone...)
static void
s_wait_seen (sec_feed_t *feed, const char *topic, size_t count)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (sec_feed_count (feed, topic) < count && tu_now_ms () < deadline)
        sec_feed_wait (feed, "stats/", WAIT_MS);
    if (sec_feed_count (feed, topic) < count) {
        fprintf (stderr, "saw '%s' %zu times, expected %zu\n", topic,
                 sec_feed_count (feed, topic), count);
        exit (1);
    }
}

//  An agent with an allowed certificate: its events flow, and the broker's
//  own agent reports the handshakes it accepted
static void
test_allowed (void)
{
    setup_t *setup = s_setup_new (NULL);
    char *log = broker_proc_log (setup->broker);
    char *agents = s_path (setup->dir, "agents"), *subscribers = s_path (setup->dir, "subscribers");
    char *line = NULL;
    CHECK (asprintf (&line, "zwatch-broker: security: CURVE, server key %s; agents: certificates "
                     "in %s; subscribers: certificates in %s; IP: any address; refused "
                     "handshakes: " AUTH_FAILED "\n", setup->broker_key, agents, subscribers) > 0);
    CHECK (strstr (log, line));
    CHECK_INT_EQ (tu_count (log, "security:"), 1);

    char *out_path;
    pid_t pid = s_agent (setup, broker_proc_ingest (setup->broker), "web-01", "agent", "reqrep",
                         "", &out_path);
    CHECK_INT_EQ (s_exit (pid), 0);
    char *errors = s_errors (out_path);
    CHECK (!strstr (errors, "refused"));
    //  Its events arrive as it sent them
    zwatch_msg_t msg;
    CHECK (sec_feed_wait (setup->feed, "ev/web-01/" SVC "/LISTENING", WAIT_MS));
    sec_feed_event (setup->feed, &msg);
    CHECK (s_str_is (msg.host, "web-01") && s_str_is (msg.sock, "server"));
    CHECK_INT_EQ (msg.pid, pid);
    CHECK (sec_feed_wait (setup->feed, "ev/web-01/" SVC "/ACCEPTED", WAIT_MS));
    s_wait_seen (setup->feed, "agent/web-01/" SVC, 2);          //  up, gone
    //  The broker's own agent saw the connection come in and pass (its
    //  events travel apart from the agent's: found, not waited for in order)
    CHECK (sec_feed_find (setup->feed, SELF_EVENTS "ACCEPTED", "ingest", WAIT_MS));
    sec_feed_event (setup->feed, &msg);
    CHECK (s_str_is (msg.stype, "ROUTER"));
    CHECK (msg.peer.ptr && msg.peer.len > 10 && memcmp (msg.peer.ptr, "127.0.0.1:", 10) == 0);
    CHECK_INT_EQ (msg.pid, broker_proc_pid (setup->broker));
    CHECK (sec_feed_find (setup->feed, SELF_EVENTS "HANDSHAKE_SUCCEEDED", "ingest", WAIT_MS));

    CHECK (sec_feed_wait (setup->feed, "stats/", WAIT_MS));
    CHECK_INT_EQ (sec_feed_uint (setup->feed, NULL, "auth_failures"), 0);
    CHECK_INT_EQ (sec_feed_uint (setup->feed, NULL, "invalid"), 0);
    CHECK_INT_EQ (sec_feed_count (setup->feed, AUTH_FAILED), 0);

    //  zwatch-sub with the reader's certificate, from the command line
    char *sub_bin = tu_bin ("zwatch-sub"), *reader = s_path (setup->dir, "reader_secret");
    const char *sub_argv [] = { sub_bin, "--connect", broker_proc_publish (setup->broker),
                                "--server-key", setup->broker_key, "--cert", reader,
                                "--events-only", "--host", "web-01", "--count", "1", NULL };
    char *sub_path = tu_temp_path (".sub");
    pid_t sub = tu_spawn (sub_argv, NULL, sub_path);
    //  Its subscription counts once the handshake is through: 2 with the feed's
    long long deadline = tu_now_ms () + WAIT_MS;
    do
        CHECK (sec_feed_wait (setup->feed, "stats/", WAIT_MS));
    while (sec_feed_uint (setup->feed, NULL, "subscribers") < 2 && tu_now_ms () < deadline);
    CHECK_INT_EQ (sec_feed_uint (setup->feed, NULL, "subscribers"), 2);
    free (s_agent_run (setup, broker_proc_ingest (setup->broker), "web-01", "agent", "reqrep"));
    CHECK_INT_EQ (s_exit (sub), 0);
    char *printed = tu_read_file (sub_path);
    CHECK (printed && tu_count (printed, "\n") == 1 && strstr (printed, "web-01"));
    free (s_errors (sub_path));
    unlink (sub_path);

    free (printed);
    free (sub_path);
    free (reader);
    free (sub_bin);
    free (errors);
    unlink (out_path);
    free (out_path);
    free (line);
    free (agents);
    free (subscribers);
    free (log);
    s_setup_destroy (&setup);
}

//  Agents the broker does not know: nothing of theirs is published; each
//  refusal is an event in the feed and is counted in stats
static void
test_unknown_agent (void)
{
    setup_t *setup = s_setup_new (NULL);
    char *rogue_key = s_keygen (setup->dir, "rogue", NULL);
    const char *ingest = broker_proc_ingest (setup->broker);
    char *out_path;
    pid_t pid = s_agent_refused (setup, ingest, "rogue-host", "rogue", &out_path);
    //  Refused, then refused again when it retries by itself (after 1 s)
    s_check_auth_event (setup->feed, broker_proc_pid (setup->broker), "ingest");
    s_check_auth_event (setup->feed, broker_proc_pid (setup->broker), "ingest");
    char *errors = s_agent_kill (pid, out_path);
    CHECK (strstr (errors, "zwatch: W: broker ") && strstr (errors, " refused the handshake "
                   "(HANDSHAKE_FAILED_AUTH, 400): events are not delivered"));
    CHECK_INT_EQ (tu_count (errors, "refused the handshake"), 1);        //  said once
    uint64_t failures = s_wait_auth_failures_seen (setup->feed);
    CHECK (failures >= 2);
    CHECK_INT_EQ (sec_feed_uint (setup->feed, NULL, "invalid"), 0);
    CHECK_INT_EQ (sec_feed_count (setup->feed, "ev/rogue-host/"), 0);
    CHECK_INT_EQ (sec_feed_count (setup->feed, "agent/rogue-host/"), 0);
    char *log = broker_proc_log (setup->broker);
    char *line = NULL;
    CHECK (asprintf (&line, "zwatch-broker: refused a CURVE handshake on ingest from "
                     "'127.0.0.1': key %s not in %s", rogue_key, setup->agents) > 0);
    CHECK (strstr (log, line));

    //  An agent without CURVE does not get in either (no key to check: a
    //  protocol failure, not an authentication one)
    free (errors);
    pid = s_agent_refused (setup, ingest, "plain-host", NULL, &out_path);
    CHECK (sec_feed_wait (setup->feed, SELF_EVENTS "HANDSHAKE_FAILED_", WAIT_MS));
    errors = s_agent_kill (pid, out_path);
    CHECK (strstr (errors, "refused the handshake (HANDSHAKE_FAILED_"));
    zwatch_msg_t msg;
    sec_feed_event (setup->feed, &msg);
    CHECK (s_str_is (msg.sock, "ingest"));
    CHECK (msg.code == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
       ||  msg.code == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    CHECK_INT_EQ (s_wait_auth_failures_seen (setup->feed), failures);
    CHECK_INT_EQ (sec_feed_count (setup->feed, "ev/plain-host/"), 0);
    CHECK_INT_EQ (sec_feed_count (setup->feed, "agent/plain-host/"), 0);

    free (line);
    free (log);
    free (errors);
    free (rogue_key);
    s_setup_destroy (&setup);
}

//  zwatch-sub ARGS with env; *out_path gets its stdout path
static pid_t
s_sub_spawn (const char *const args [], const char *const env [], char **out_path)
{
    const char *argv [16];
    char *bin = tu_bin ("zwatch-sub");
    size_t count = 0;
    argv [count++] = bin;
    for (size_t index = 0; args [index]; index++)
        argv [count++] = args [index];
    argv [count] = NULL;
    *out_path = tu_temp_path (".sub");
    pid_t pid = tu_spawn (argv, env, *out_path);
    free (bin);
    return pid;
}

//  A zwatch-sub that got nothing: exit 1 (refused, or at its --timeout),
//  nothing printed; returns its stderr
static char *
s_sub_nothing (pid_t pid, char *out_path)
{
    CHECK_INT_EQ (s_exit (pid), 1);
    char *printed = tu_read_file (out_path);
    CHECK_STR_EQ (printed, "");
    char *errors = s_errors (out_path);
    unlink (out_path);
    free (out_path);
    free (printed);
    return errors;
}

//  Subscribers without an allowed certificate receive nothing, while an
//  allowed one receives the feed
static void
test_subscribers (void)
{
    setup_t *setup = s_setup_new (NULL);
    const char *publish = broker_proc_publish (setup->broker);
    char *agent_cert = s_path (setup->dir, "agent_secret");
    char *key_env = NULL;
    CHECK (asprintf (&key_env, "ZWATCH_CURVE_SERVER_KEY=%s", setup->broker_key) > 0);
    //  An agent's certificate (allowed on ingest only), a fresh key, no CURVE
    const char *with_agent_cert [] = { "--connect", publish, "--server-key", setup->broker_key,
                                       "--cert", agent_cert, "--timeout", "1.5", NULL };
    const char *fresh_key [] = { "--connect", publish, "--timeout", "1.5", NULL };
    const char *fresh_env [] = { key_env, NULL };
    const char *plain [] = { "--connect", publish, "--timeout", "1.5", NULL };
    char *paths [3];
    pid_t subs [3] = { s_sub_spawn (with_agent_cert, NULL, &paths [0]),
                       s_sub_spawn (fresh_key, fresh_env, &paths [1]),
                       s_sub_spawn (plain, NULL, &paths [2]) };
    char *errors [3];
    for (int index = 0; index < 3; index++)
        errors [index] = s_sub_nothing (subs [index], paths [index]);
    const char *refused = "zwatch-sub: the broker at '%s' refused the handshake (%s";
    char *line = NULL;
    CHECK (asprintf (&line, refused, publish, "HANDSHAKE_FAILED_AUTH, 400)") > 0);
    CHECK (strstr (errors [0], line) && strstr (errors [1], line));
    free (line);
    CHECK (asprintf (&line, refused, publish, "HANDSHAKE_FAILED_") > 0);
    CHECK (strstr (errors [2], line));

    //  Two refusals on the publish socket, in the feed and in stats
    s_check_auth_event (setup->feed, broker_proc_pid (setup->broker), "publish");
    s_check_auth_event (setup->feed, broker_proc_pid (setup->broker), "publish");
    CHECK (s_wait_auth_failures_seen (setup->feed) >= 2);

    //  The reader's certificate from the environment: it gets the feed
    char *reader_env = NULL;
    CHECK (asprintf (&reader_env, "ZWATCH_CURVE_CERT=%s/reader_secret", setup->dir) > 0);
    const char *allowed [] = { "--connect", publish, "--host", "web-01", "--count", "1",
                               "--timeout", "9", NULL };
    const char *allowed_env [] = { key_env, reader_env, NULL };
    char *path;
    pid_t sub = s_sub_spawn (allowed, allowed_env, &path);
    long long deadline = tu_now_ms () + WAIT_MS;
    do
        CHECK (sec_feed_wait (setup->feed, "stats/", WAIT_MS));
    while (sec_feed_uint (setup->feed, NULL, "subscribers") < 3 && tu_now_ms () < deadline);
    CHECK_INT_EQ (sec_feed_uint (setup->feed, NULL, "subscribers"), 3);
    free (s_agent_run (setup, broker_proc_ingest (setup->broker), "web-01", "agent", "reqrep"));
    CHECK_INT_EQ (s_exit (sub), 0);
    char *printed = tu_read_file (path);
    CHECK (printed && strstr (printed, "web-01"));
    free (s_errors (path));
    unlink (path);

    free (printed);
    free (path);
    free (reader_env);
    for (int index = 0; index < 3; index++)
        free (errors [index]);
    free (line);
    free (key_env);
    free (agent_cert);
    s_setup_destroy (&setup);
}

//  Send count events for host over a CURVE DEALER, first seq at seq
static void
s_send_events (zsock_t *dealer, const char *host, uint64_t seq, int count)
{
    for (int index = 0; index < count; index++, seq++) {
        zwatch_msg_t msg;
        memset (&msg, 0, sizeof (msg));
        msg.kind = ZWATCH_KIND_EVENT;
        msg.host = (zwatch_str_t) { host, strlen (host) };
        msg.svc = (zwatch_str_t) { SVC, strlen (SVC) };
        msg.pid = 4242;
        msg.sock = (zwatch_str_t) { "hand-made", 9 };
        msg.stype = (zwatch_str_t) { "DEALER", 6 };
        msg.event = (zwatch_str_t) { "CONNECTED", 9 };
        msg.code = ZMQ_EVENT_CONNECTED;
        msg.endpoint = (zwatch_str_t) { "tcp://10.0.0.1:1", 16 };
        msg.ts = 1700000000000000000ULL;
        msg.seq = seq;
        char buffer [ZWATCH_MSG_MAX];
        int size = zwatch_msg_encode (&msg, buffer, sizeof (buffer));
        CHECK (size > 0);
        CHECK (zmq_send (zsock_resolve (dealer), buffer, (size_t) size, 0) == size);
    }
}

//  A certificate bound to web-01 may only speak for web-01: the rest is
//  dropped whole and counted as host_mismatch
static void
test_host_mismatch (void)
{
    setup_t *setup = s_setup_new (NULL);
    char *cert_path = s_path (setup->dir, "agent_secret");
    zcert_t *cert = zcert_load (cert_path);
    CHECK (cert);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zcert_apply (cert, dealer);
    zsock_set_curve_serverkey (dealer, setup->broker_key);
    CHECK (zsock_connect (dealer, "%s", broker_proc_ingest (setup->broker)) == 0);
    s_send_events (dealer, "web-02", 1, 5);         //  another host: dropped
    s_send_events (dealer, "web-01", 6, 3);         //  its own: published
    for (int index = 0; index < 3; index++)
        CHECK (sec_feed_wait (setup->feed, "ev/web-01/" SVC "/CONNECTED", WAIT_MS));
    //  The broker read the five before the three: the next stats count them
    CHECK (sec_feed_wait (setup->feed, "stats/", WAIT_MS));
    CHECK_INT_EQ (sec_feed_uint (setup->feed, NULL, "invalid"), 5);
    CHECK_INT_EQ (sec_feed_uint (setup->feed, "invalid_by", "host_mismatch"), 5);
    CHECK_INT_EQ (sec_feed_uint (setup->feed, NULL, "auth_failures"), 0);
    CHECK_INT_EQ (sec_feed_count (setup->feed, "ev/web-02/"), 0);
    char *log = broker_proc_log (setup->broker);
    char *line = NULL;
    CHECK (asprintf (&line, "zwatch-broker: dropped a message for host 'web-02' from key %s, "
                     "whose certificate is for host 'web-01' (host_mismatch, 1 since the last "
                     "line)", zcert_public_txt (cert)) > 0);
    CHECK (strstr (log, line));
    CHECK_INT_EQ (tu_count (log, "(host_mismatch"), 1);         //  one line a second at most

    //  The real agent with that certificate and another host ID: it gets
    //  in (no refusal) but nothing it says is published
    char *errors = s_agent_run (setup, broker_proc_ingest (setup->broker), "web-02", "agent",
                                "reqrep");
    CHECK (!strstr (errors, "refused"));
    long long deadline = tu_now_ms () + WAIT_MS;
    uint64_t rejected;
    do {
        CHECK (sec_feed_wait (setup->feed, "stats/", WAIT_MS));
        rejected = sec_feed_uint (setup->feed, "invalid_by", "host_mismatch");
    } while (rejected < 5 + 2 && tu_now_ms () < deadline);        //  at least hello and bye
    CHECK (rejected >= 5 + 2);
    CHECK_INT_EQ (sec_feed_uint (setup->feed, NULL, "invalid"), rejected);
    CHECK_INT_EQ (sec_feed_count (setup->feed, "ev/web-02/"), 0);
    CHECK_INT_EQ (sec_feed_count (setup->feed, "agent/web-02/"), 0);

    free (errors);
    free (line);
    free (log);
    zsock_destroy (&dealer);
    zcert_destroy (&cert);
    free (cert_path);
    s_setup_destroy (&setup);
}

static int
s_port (const char *endpoint)
{
    const char *colon = strrchr (endpoint, ':');
    CHECK (colon);
    return atoi (colon + 1);
}

//  Run an agent as canary-host-7f3a through a tap on ingest while a feed
//  reads through a tap on publish; returns both recordings (caller frees)
static void
s_tapped_run (setup_t *setup, const char *server_key, const char *cert,
              char **in, size_t *in_size, char **out, size_t *out_size)
{
    tcp_tap_t *tap_in = tcp_tap_new (s_port (broker_proc_ingest (setup->broker)));
    tcp_tap_t *tap_out = tcp_tap_new (s_port (broker_proc_publish (setup->broker)));
    char *reader = s_path (setup->dir, "reader_secret");
    sec_feed_t *feed = sec_feed_new (tcp_tap_endpoint (tap_out), server_key, reader);
    CHECK (sec_feed_wait (feed, "stats/", WAIT_MS));
    free (s_agent_run (setup, tcp_tap_endpoint (tap_in), "canary-host-7f3a", cert, "reqrep"));
    //  It went all the way, through both taps
    CHECK (sec_feed_wait (feed, "ev/canary-host-7f3a/" SVC "/ACCEPTED", WAIT_MS));
    sec_feed_destroy (&feed);
    *in = tcp_tap_bytes (tap_in, in_size);
    *out = tcp_tap_bytes (tap_out, out_size);
    tcp_tap_destroy (&tap_in);
    tcp_tap_destroy (&tap_out);
    free (reader);
}

//  With CURVE the wire carries no host name, service or event name; the
//  same run against an open broker shows them (so the check can see them)
static void
test_wire (void)
{
    setup_t *setup = s_setup_new (NULL);
    char *in, *out;
    size_t in_size, out_size;
    s_tapped_run (setup, setup->broker_key, "free", &in, &in_size, &out, &out_size);
    CHECK (in_size > 1000 && out_size > 1000);
    const char *words [] = { "canary-host-7f3a", SVC, "ACCEPTED", "reqrep", "server" };
    for (size_t index = 0; index < 5; index++) {
        CHECK (!memmem (in, in_size, words [index], strlen (words [index])));
        CHECK (!memmem (out, out_size, words [index], strlen (words [index])));
    }
    CHECK (memmem (in, in_size, "CURVE", 5));           //  the greeting names the mechanism
    free (in);
    free (out);

    //  Control: an open broker, the same run in clear
    CHECK_INT_EQ (broker_proc_stop (setup->broker, SIGTERM, WAIT_MS), 0);
    broker_proc_destroy (&setup->broker);
    const char *open_args [] = { "--stats-interval", "0.2", NULL };
    setup->broker = broker_proc_new (open_args, true);
    char *log = broker_proc_log (setup->broker);
    CHECK (strstr (log, "zwatch-broker: security: OPEN (no --curve-secret): anyone who reaches "
                        "ingest can send events as any host"));
    s_tapped_run (setup, NULL, NULL, &in, &in_size, &out, &out_size);
    CHECK (memmem (in, in_size, "canary-host-7f3a", 16) && memmem (out, out_size, "canary-host-7f3a", 16));
    free (in);
    free (out);
    free (log);
    s_setup_destroy (&setup);
}

//  "tcp://<source>:0;127.0.0.1:<port>": connect from another loopback address
static char *
s_from (const char *source, const char *endpoint)
{
    char *from = NULL;
    CHECK (asprintf (&from, "tcp://%s:0;127.0.0.1:%d", source, s_port (endpoint)) > 0);
    return from;
}

//  One IP list on an open broker: from refused_source the agent is
//  refused, from allowed_source its events flow
static void
s_ip_case (const char *flag, const char *address, const char *refused_source,
           const char *allowed_source, const char *summary)
{
    const char *args [] = { flag, address, "--stats-interval", "0.2", NULL };
    setup_t setup = { .broker = broker_proc_new (args, true) };
    char *log = broker_proc_log (setup.broker);
    CHECK (strstr (log, summary));
    const char *ingest = broker_proc_ingest (setup.broker);
    //  The feed connects from the allowed address too
    char *feed_from = s_from (allowed_source, broker_proc_publish (setup.broker));
    sec_feed_t *feed = sec_feed_new (feed_from, NULL, NULL);
    CHECK (sec_feed_wait (feed, "stats/", WAIT_MS));

    char *refused_from = s_from (refused_source, ingest);
    char *out_path;
    pid_t pid = s_agent_refused (&setup, refused_from, "far-host", NULL, &out_path);
    s_check_auth_event (feed, broker_proc_pid (setup.broker), "ingest");
    char *errors = s_agent_kill (pid, out_path);
    CHECK (strstr (errors, "refused the handshake (HANDSHAKE_FAILED_AUTH, 400)"));
    CHECK (s_wait_auth_failures_seen (feed) >= 1);
    CHECK_INT_EQ (sec_feed_count (feed, "ev/far-host/"), 0);
    free (errors);

    char *allowed_from = s_from (allowed_source, ingest);
    errors = s_agent_run (&setup, allowed_from, "near-host", NULL, "reqrep");
    CHECK (!strstr (errors, "refused"));
    CHECK (sec_feed_wait (feed, "ev/near-host/" SVC "/ACCEPTED", WAIT_MS));
    free (log);
    log = broker_proc_log (setup.broker);
    CHECK (strstr (log, "zwatch-broker: refused a NULL handshake on ingest from "));

    free (errors);
    free (allowed_from);
    free (refused_from);
    free (feed_from);
    free (log);
    sec_feed_destroy (&feed);
    CHECK_INT_EQ (broker_proc_stop (setup.broker, SIGTERM, WAIT_MS), 0);
    broker_proc_destroy (&setup.broker);
}

//  IP allow and deny lists, here without CURVE (ZAP for the NULL mechanism);
//  the deny list from the config file
static void
test_ip_lists (void)
{
    s_ip_case ("--allow-ip", "127.0.0.2", "127.0.0.1", "127.0.0.2",
               "zwatch-broker: security: no CURVE (traffic in clear, no keys); IP: allow list "
               "of 1; refused handshakes: " AUTH_FAILED "\n");
    char *dir = s_temp_dir ();
    char *config = s_write (dir, "broker.cfg", "broker\n    deny-ip = 127.0.0.3\n"
                                               "    deny-ip = ::1\n");
    s_ip_case ("--config", config, "127.0.0.3", "127.0.0.1",
               "zwatch-broker: security: no CURVE (traffic in clear, no keys); IP: deny list "
               "of 2; refused handshakes: " AUTH_FAILED "\n");
    free (config);
    s_remove_dir (&dir);
}

//  A certificate copied into --agents-allow while the broker runs lets
//  its refused agent in at its next attempt; once removed, it is refused
//  again. No restart.
static void
test_reload (void)
{
    setup_t *setup = s_setup_new (NULL);
    free (s_keygen (setup->dir, "late", "late-host"));
    char *out_path;
    pid_t pid = s_agent (setup, broker_proc_ingest (setup->broker), "late-host", "late",
                         "idle", "20000", &out_path);
    s_check_auth_event (setup->feed, broker_proc_pid (setup->broker), "ingest");
    s_allow (setup->dir, "late", setup->agents);
    CHECK (sec_feed_wait (setup->feed, "agent/late-host/" SVC, WAIT_MS));
    char *errors = s_agent_kill (pid, out_path);
    CHECK (strstr (errors, "refused the handshake (HANDSHAKE_FAILED_AUTH, 400)"));
    //  Revoked: the same certificate is refused at once
    char *late = s_path (setup->agents, "late");
    CHECK (unlink (late) == 0);
    free (errors);
    pid = s_agent_refused (setup, broker_proc_ingest (setup->broker), "late-host", "late",
                           &out_path);
    s_check_auth_event (setup->feed, broker_proc_pid (setup->broker), "ingest");
    errors = s_agent_kill (pid, out_path);
    CHECK (strstr (errors, "refused the handshake (HANDSHAKE_FAILED_AUTH, 400)"));
    CHECK_INT_EQ (sec_feed_count (setup->feed, "ev/late-host/"), 0);       //  none got through
    free (late);
    free (errors);
    s_setup_destroy (&setup);
}

//  zwatch_agent_set_curve in this process: bad keys are refused with
//  EINVAL, good ones reconnect the agent, and its events flow
static void
test_setter (void)
{
    setup_t *setup = s_setup_new (NULL);
    setenv ("ZWATCH_HOST_ID", "setter-host", 1);
    setenv ("ZWATCH_SERVICE", "setter-svc", 1);
    void *ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (ctx, broker_proc_ingest (setup->broker));
    CHECK (agent);
    char *cert = s_path (setup->dir, "free_secret");
    char *public_cert = s_path (setup->dir, "free");
    errno = 0;
    CHECK (zwatch_agent_set_curve (agent, "not a key", cert) == -1 && errno == EINVAL);
    errno = 0;
    CHECK (zwatch_agent_set_curve (agent, setup->broker_key, public_cert) == -1 && errno == EINVAL);
    errno = 0;
    CHECK (zwatch_agent_set_curve (NULL, setup->broker_key, cert) == -1 && errno == EINVAL);
    CHECK_INT_EQ (zwatch_agent_set_curve (agent, setup->broker_key, cert), 0);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK_INT_EQ (zwatch_agent_watch (agent, pull, "setter-sock"), 0);
    CHECK_INT_EQ (zmq_bind (pull, "tcp://127.0.0.1:*"), 0);
    CHECK (sec_feed_wait (setup->feed, "ev/setter-host/setter-svc/LISTENING", WAIT_MS));
    zwatch_msg_t msg;
    sec_feed_event (setup->feed, &msg);
    CHECK (s_str_is (msg.sock, "setter-sock"));
    CHECK_INT_EQ (msg.pid, getpid ());
    zmq_close (pull);
    zwatch_agent_destroy (&agent);
    CHECK_INT_EQ (zmq_ctx_term (ctx), 0);
    unsetenv ("ZWATCH_SERVICE");
    setenv ("ZWATCH_HOST_ID", BROKER_HOST, 1);
    free (public_cert);
    free (cert);
    s_setup_destroy (&setup);
}

//  zwatch-broker ARGS exits 2 with exactly this one line on stderr
static void
s_broker_refuses (const char *const args [], const char *line)
{
    char *errors = NULL;
    CHECK_INT_EQ (broker_proc_run (args, WAIT_MS, &errors), 2);
    if (strcmp (errors, line) != 0) {
        fprintf (stderr, "expected: %sgot:      %s", line, errors);
        exit (1);
    }
    free (errors);
}

//  A tool (zwatch-sub, agent_service) with args and env exits code with
//  expected on stderr
static void
s_tool_refuses (const char *name, const char *const args [], const char *const env [],
                int code, const char *expected)
{
    const char *argv [16];
    char *bin = tu_bin (name);
    size_t count = 0;
    argv [count++] = bin;
    for (size_t index = 0; args [index]; index++)
        argv [count++] = args [index];
    argv [count] = NULL;
    char *out, *errors;
    CHECK_INT_EQ (s_run (argv, env, &out, &errors), code);
    if (!strstr (errors, expected)) {
        fprintf (stderr, "%s: expected '%s' in: %s\n", name, expected, errors);
        exit (1);
    }
    free (out);
    free (errors);
    free (bin);
}

//  Bad certificates, directories and addresses: one clear line, exit 2
//  (the agent fails to start rather than send in clear)
static void
test_bad_keys (void)
{
    char *dir = s_temp_dir ();
    char *key = s_keygen (dir, "good", NULL);
    char *other = s_keygen (dir, "other", NULL);
    char *good_secret = s_path (dir, "good_secret");
    char *public = s_path (dir, "good");
    char *secret_text = tu_read_file (good_secret);
    CHECK (secret_text);
    //  A secret file whose public key is another's
    char *swapped = strdup (secret_text);
    memcpy (strstr (swapped, key), other, 40);
    char *mismatched = s_write (dir, "mismatched", swapped);
    //  A secret key that is not Z85
    char *damaged_text = strdup (secret_text);
    char *secret_line = strstr (damaged_text, "secret-key = \"");
    CHECK (secret_line);
    memcpy (secret_line + 14, "~~~~~", 5);
    char *damaged = s_write (dir, "damaged", damaged_text);
    char *garbage = s_write (dir, "garbage", "this is not a certificate\n");
    char *missing = s_path (dir, "missing");
    char *line = NULL;

    const char *a1 [] = { "--curve-secret", missing, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: cannot read certificate '%s': "
                     "No such file or directory\n", missing) > 0);
    s_broker_refuses (a1, line);
    free (line);
    const char *a2 [] = { "--curve-secret", public, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: certificate '%s' has no curve "
                     "secret-key (a public certificate? use the NAME_secret file)\n", public) > 0);
    s_broker_refuses (a2, line);
    free (line);
    const char *a3 [] = { "--curve-secret", garbage, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: certificate '%s' has no curve "
                     "secret-key (a public certificate? use the NAME_secret file)\n", garbage) > 0);
    s_broker_refuses (a3, line);
    free (line);
    const char *a4 [] = { "--curve-secret", mismatched, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: certificate '%s': public-key "
                     "does not belong to secret-key\n", mismatched) > 0);
    s_broker_refuses (a4, line);
    free (line);
    const char *a5 [] = { "--curve-secret", damaged, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: certificate '%s': secret-key is "
                     "not a 40-character Z85 key\n", damaged) > 0);
    s_broker_refuses (a5, line);
    free (line);
    const char *a6 [] = { "--agents-allow", dir, NULL };
    s_broker_refuses (a6, "zwatch-broker: --agents-allow needs --curve-secret (the broker's "
                          "certificate)\n");
    const char *a7 [] = { "--curve-secret", good_secret, "--subscribers-allow", missing, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --subscribers-allow '%s': not a directory\n",
                     missing) > 0);
    s_broker_refuses (a7, line);
    free (line);
    const char *a8 [] = { "--allow-ip", "300.1.2.3", NULL };
    s_broker_refuses (a8, "zwatch-broker: bad address for --allow-ip: '300.1.2.3' (expected an "
                          "IP address, e.g. 10.0.0.7)\n");
    const char *a9 [] = { "--allow-ip", "10.0.0.1", "--deny-ip", "10.0.0.2", NULL };
    s_broker_refuses (a9, "zwatch-broker: --allow-ip and --deny-ip exclude each other (with an "
                          "allow list, every other address is denied)\n");
    //  The same settings from the config file
    char *config_text = NULL;
    CHECK (asprintf (&config_text, "broker\n    curve-secret = \"%s\"\n    deny-ip = ::1\n",
                     garbage) > 0);
    char *config = s_write (dir, "broker.cfg", config_text);
    const char *a10 [] = { "--config", config, NULL };
    CHECK (asprintf (&line, "zwatch-broker: bad --curve-secret: certificate '%s' has no curve "
                     "secret-key (a public certificate? use the NAME_secret file)\n", garbage) > 0);
    s_broker_refuses (a10, line);
    free (line);

    //  zwatch-sub: usage errors, exit 2
    const char *s1 [] = { "--server-key", "short", NULL };
    s_tool_refuses ("zwatch-sub", s1, NULL, 2,
                    "zwatch-sub: server key 'short' is not a 40-character Z85 public key");
    const char *s2 [] = { "--cert", good_secret, NULL };
    s_tool_refuses ("zwatch-sub", s2, NULL, 2, "zwatch-sub: --cert needs --server-key");
    const char *s3 [] = { "--server-key", key, "--cert", public, NULL };
    CHECK (asprintf (&line, "zwatch-sub: certificate '%s' has no curve secret-key", public) > 0);
    s_tool_refuses ("zwatch-sub", s3, NULL, 2, line);
    free (line);

    //  The agent refuses to start (agent_service exits 5 when
    //  zwatch_agent_new fails) and says why
    char *key_env = NULL, *cert_env = NULL;
    CHECK (asprintf (&key_env, "ZWATCH_CURVE_SERVER_KEY=%s", key) > 0);
    CHECK (asprintf (&cert_env, "ZWATCH_CURVE_CERT=%s", garbage) > 0);
    const char *idle [] = { "idle", "0", NULL };
    const char *e1 [] = { key_env, cert_env, NULL };
    CHECK (asprintf (&line, "zwatch: E: zwatch_agent_new: ZWATCH_CURVE_CERT: certificate '%s' "
                     "has no curve secret-key", garbage) > 0);
    s_tool_refuses ("agent_service", idle, e1, 5, line);
    free (line);
    const char *e2 [] = { "ZWATCH_CURVE_SERVER_KEY=0123456789", NULL };
    s_tool_refuses ("agent_service", idle, e2, 5, "zwatch: E: zwatch_agent_new: "
                    "ZWATCH_CURVE_SERVER_KEY: server key '0123456789' is not a 40-character Z85 "
                    "public key");
    const char *e3 [] = { cert_env, "ZWATCH_CURVE_SERVER_KEY=", NULL };
    s_tool_refuses ("agent_service", idle, e3, 5, "zwatch: E: zwatch_agent_new: "
                    "ZWATCH_CURVE_CERT is set but ZWATCH_CURVE_SERVER_KEY (the broker's public "
                    "key) is not");

    free (key_env);
    free (cert_env);
    free (config);
    free (config_text);
    free (missing);
    free (garbage);
    free (damaged);
    free (damaged_text);
    free (mismatched);
    free (swapped);
    free (secret_text);
    free (public);
    free (good_secret);
    free (other);
    free (key);
    s_remove_dir (&dir);
}

//  zwatch-keygen: what it writes is what zcert and the agents read
static void
test_keygen (void)
{
    char *dir = s_temp_dir ();
    char *key = s_keygen (dir, "web", "web-01");
    CHECK (zwatch_curve_key_valid (key));
    char *public = s_path (dir, "web"), *secret = s_path (dir, "web_secret");
    struct stat info;
    CHECK (stat (secret, &info) == 0 && (info.st_mode & 0777) == 0600);
    zcert_t *cert = zcert_load (public);
    CHECK (cert);
    CHECK_STR_EQ (zcert_public_txt (cert), key);
    CHECK_STR_EQ (zcert_meta (cert, "host"), "web-01");
    zcert_destroy (&cert);
    char public_key [41], secret_key [41], error [300];
    CHECK_INT_EQ (zwatch_curve_load (secret, public_key, secret_key, error, sizeof (error)), 0);
    CHECK_STR_EQ (public_key, key);

    char *bin = tu_bin ("zwatch-keygen");
    char *out, *errors, *line = NULL;
    const char *again [] = { bin, public, NULL };
    CHECK_INT_EQ (s_run (again, NULL, &out, &errors), 1);
    CHECK (asprintf (&line, "zwatch-keygen: '%s' or '%s' exists; use --force to replace it\n",
                     public, secret) > 0);
    CHECK_STR_EQ (errors, line);
    CHECK_STR_EQ (out, "");
    free (out);
    free (errors);
    const char *force [] = { bin, "--force", public, NULL };
    CHECK_INT_EQ (s_run (force, NULL, &out, &errors), 0);
    CHECK (strlen (out) == 41 && strncmp (out, key, 40) != 0);
    free (out);
    free (errors);
    const char *bad_host [] = { bin, "--host", "a/b", public, NULL };
    CHECK_INT_EQ (s_run (bad_host, NULL, &out, &errors), 2);
    CHECK_STR_EQ (errors, "zwatch-keygen: invalid host ID 'a/b' (1-64 characters of "
                          "A-Za-z0-9._-) (see --help)\n");
    free (out);
    free (errors);
    const char *no_name [] = { bin, NULL };
    CHECK_INT_EQ (s_run (no_name, NULL, &out, &errors), 2);
    CHECK_STR_EQ (errors, "zwatch-keygen: missing NAME (see --help)\n");
    free (out);
    free (errors);
    const char *help [] = { bin, "--help", NULL };
    CHECK_INT_EQ (s_run (help, NULL, &out, &errors), 0);
    CHECK (strstr (out, "Usage: zwatch-keygen [--host H] [--force] NAME"));
    free (out);
    free (errors);

    free (line);
    free (bin);
    free (secret);
    free (public);
    free (key);
    s_remove_dir (&dir);
}

int
main (int argc, char *argv [])
{
    //  The broker's own agent reports this host (processes inherit it)
    setenv ("ZWATCH_HOST_ID", BROKER_HOST, 1);
    unsetenv ("ZWATCH_CURVE_SERVER_KEY");
    unsetenv ("ZWATCH_CURVE_CERT");
    zsys_init ();
    struct { const char *name; void (*test) (void); } tests [] = {
        { "allowed", test_allowed }, { "unknown_agent", test_unknown_agent },
        { "subscribers", test_subscribers }, { "host_mismatch", test_host_mismatch },
        { "wire", test_wire }, { "ip_lists", test_ip_lists }, { "reload", test_reload },
        { "setter", test_setter }, { "bad_keys", test_bad_keys }, { "keygen", test_keygen }
    };
    const char *only = argc > 1? argv [1]: NULL;
    bool found = false;
    for (size_t index = 0; index < sizeof (tests) / sizeof (tests [0]); index++)
        if (!only || streq (only, tests [index].name)) {
            tests [index].test ();
            found = true;
        }
    if (!found) {
        fprintf (stderr, "test_security: no case '%s'\n", only);
        return 2;
    }
    return 0;
}
