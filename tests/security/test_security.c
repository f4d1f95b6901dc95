/*  test_security: CURVE, ZAP, host binding and self-watching, with a real
    zwatch-broker, real agents (agent_service, and this process), real
    zwatch-sub and zwatch-keygen on loopback. This file: what the cases
    share, and main. Usage: test_security CASE (see CMakeLists.txt).  */

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "test_security.h"

bool
ts_str_is (zwatch_str_t str, const char *text)
{
    return str.ptr && str.len == strlen (text) && memcmp (str.ptr, text, str.len) == 0;
}

char *
ts_path (const char *dir, const char *name)
{
    char *path = NULL;
    CHECK (asprintf (&path, "%s/%s", dir, name) > 0);
    return path;
}

int
ts_exit (pid_t pid)
{
    int code = tu_wait (pid, WAIT_MS);
    if (code < 0) {
        tu_kill (pid);
        fprintf (stderr, "process %d did not exit within %d ms\n", (int) pid, WAIT_MS);
        exit (1);
    }
    return code;
}

//  stderr of a process started with tu_spawn (out_path + ".err"), which
//  must be there; caller frees
char *
ts_errors (const char *out_path)
{
    char *errors = tu_read_errors (out_path);
    CHECK (errors);
    return errors;
}

//  Run a program to its end; returns its exit code, *out and *errors
int
ts_run (const char *const argv [], const char *const env [], char **out, char **errors)
{
    char *out_path = tu_temp_path (".out");
    int code = ts_exit (tu_spawn (argv, env, out_path));
    *out = tu_read_file (out_path);
    *errors = ts_errors (out_path);
    CHECK (*out);
    tu_remove_output (out_path);
    free (out_path);
    return code;
}

//  zwatch-keygen [--host H] dir/name; returns the public key it prints
char *
ts_keygen (const char *dir, const char *name, const char *host)
{
    char *bin = tu_bin ("zwatch-keygen");
    char *path = ts_path (dir, name);
    const char *with_host [] = { bin, "--host", host, path, NULL };
    const char *without [] = { bin, path, NULL };
    char *out, *errors;
    CHECK_INT_EQ (ts_run (host? with_host: without, NULL, &out, &errors), 0);
    CHECK_STR_EQ (errors, "");
    CHECK_INT_EQ (strlen (out), 41);
    out [40] = 0;
    free (errors);
    free (path);
    free (bin);
    return out;
}

//  Write text to dir/name; returns the path
char *
ts_write (const char *dir, const char *name, const char *text)
{
    char *path = ts_path (dir, name);
    FILE *file = fopen (path, "w");
    CHECK (file && fputs (text, file) >= 0 && fclose (file) == 0);
    return path;
}

//  Copy the public certificate dir/name into to_dir
void
ts_allow (const char *dir, const char *name, const char *to_dir)
{
    char *from = ts_path (dir, name);
    char *text = tu_read_file (from);
    CHECK (text);
    free (ts_write (to_dir, name, text));
    free (text);
    free (from);
}

char *
ts_temp_dir (void)
{
    char *dir = tu_temp_path ("-sec");
    CHECK (mkdir (dir, 0700) == 0);
    return dir;
}

void
ts_remove_dir (char **dir_p)
{
    zdir_t *dir = zdir_new (*dir_p, NULL);
    if (dir) {
        zdir_remove (dir, true);
        zdir_destroy (&dir);
    }
    zstr_free (dir_p);
}

//  Certificates, a CURVE broker (plus extra args), a feed that has seen stats
setup_t *
ts_setup_new (const char *const extra [])
{
    setup_t *setup = (setup_t *) zmalloc (sizeof (setup_t));
    CHECK (setup);
    setup->dir = ts_temp_dir ();
    setup->agents = ts_path (setup->dir, "agents");
    setup->subscribers = ts_path (setup->dir, "subscribers");
    CHECK (mkdir (setup->agents, 0700) == 0 && mkdir (setup->subscribers, 0700) == 0);
    setup->broker_key = ts_keygen (setup->dir, "broker", NULL);
    free (ts_keygen (setup->dir, "agent", "web-01"));
    free (ts_keygen (setup->dir, "free", NULL));
    free (ts_keygen (setup->dir, "reader", NULL));
    ts_allow (setup->dir, "agent", setup->agents);
    ts_allow (setup->dir, "free", setup->agents);
    ts_allow (setup->dir, "reader", setup->subscribers);

    char *secret = ts_path (setup->dir, "broker_secret");
    const char *args [32] = { "--curve-secret", secret, "--agents-allow", setup->agents,
                              "--subscribers-allow", setup->subscribers,
                              "--stats-interval", "0.2" };
    size_t count = 8;
    for (size_t index = 0; extra && extra [index]; index++)
        args [count++] = extra [index];
    args [count] = NULL;
    setup->broker = broker_proc_new (args, true);
    free (secret);

    char *reader = ts_path (setup->dir, "reader_secret");
    setup->feed = sec_feed_new (broker_proc_publish (setup->broker), setup->broker_key, reader);
    free (reader);
    CHECK (sec_feed_wait (setup->feed, "stats/", WAIT_MS));
    return setup;
}

void
ts_setup_destroy (setup_t **setup_p)
{
    setup_t *setup = *setup_p;
    sec_feed_destroy (&setup->feed);
    CHECK_INT_EQ (broker_proc_stop (setup->broker, SIGTERM, WAIT_MS), 0);
    broker_proc_destroy (&setup->broker);
    ts_remove_dir (&setup->dir);
    free (setup->broker_key);
    free (setup->agents);
    free (setup->subscribers);
    free (setup);
    *setup_p = NULL;
}

//  agent_service MODE ARG as (host, SVC) sending to endpoint, with the
//  certificate dir/cert (NULL: no CURVE); *out_path gets its stdout path
pid_t
ts_agent (setup_t *setup, const char *endpoint, const char *host, const char *cert,
         const char *mode, const char *arg, char **out_path)
{
    char *broker = NULL, *host_id = NULL, *server_key = NULL, *cert_env = NULL;
    CHECK (asprintf (&broker, "ZWATCH_BROKER=%s", endpoint) > 0);
    CHECK (asprintf (&host_id, "ZWATCH_HOST_ID=%s", host) > 0);
    if (cert) {
        CHECK (asprintf (&server_key, "ZWATCH_CURVE_SERVER_KEY=%s", setup->broker_key) > 0);
        CHECK (asprintf (&cert_env, "ZWATCH_CURVE_CERT=%s/%s_secret", setup->dir, cert) > 0);
    }
    const char *env [16] = { broker, host_id, "ZWATCH_SERVICE=" SVC, "TEST_HEARTBEAT_MS=100" };
    size_t count = 4;
    for (size_t index = 0; setup->agent_env && setup->agent_env [index]; index++) {
        CHECK (count < 13);
        env [count++] = setup->agent_env [index];
    }
    env [count++] = server_key;     //  both NULL without CURVE
    env [count++] = cert_env;
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
char *
ts_agent_run (setup_t *setup, const char *endpoint, const char *host, const char *cert,
             const char *mode)
{
    char *out_path;
    CHECK_INT_EQ (ts_exit (ts_agent (setup, endpoint, host, cert, mode, "", &out_path)), 0);
    char *errors = ts_errors (out_path);
    tu_remove_output (out_path);
    free (out_path);
    return errors;
}

//  Start agent_service idle as (host, SVC) and wait until it says on stderr
//  that the broker refused it (so it lived that long, whatever the load).
//  Returns its pid, still running; *out_path as ts_agent
pid_t
ts_agent_refused (setup_t *setup, const char *endpoint, const char *host, const char *cert,
                 char **out_path)
{
    pid_t pid = ts_agent (setup, endpoint, host, cert, "idle", "20000", out_path);
    char *err_path = NULL;
    CHECK (asprintf (&err_path, "%s.err", *out_path) > 0);
    CHECK (tu_wait_for_text (err_path, "refused the handshake", 1, WAIT_MS));
    free (err_path);
    return pid;
}

//  Kill an agent from ts_agent_refused; returns its stderr (caller frees)
char *
ts_agent_kill (pid_t pid, char *out_path)
{
    tu_kill (pid);
    char *errors = ts_errors (out_path);
    tu_remove_output (out_path);
    free (out_path);
    return errors;
}

//  Stats until auth_failures equals the HANDSHAKE_FAILED_AUTH events seen
//  (the clients that caused them are gone); returns that count
uint64_t
ts_wait_auth_failures_seen (sec_feed_t *feed)
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
void
ts_check_auth_event (sec_feed_t *feed, pid_t broker_pid, const char *label)
{
    CHECK (sec_feed_wait (feed, AUTH_FAILED, WAIT_MS));
    zwatch_msg_t msg;
    sec_feed_event (feed, &msg);
    CHECK (ts_str_is (msg.sock, label));
    CHECK (ts_str_is (msg.stype, strcmp (label, "ingest") == 0? "ROUTER": "XPUB"));
    CHECK_INT_EQ (msg.code, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    CHECK_INT_EQ (msg.value, 400);
    CHECK_INT_EQ (msg.pid, broker_pid);
}

//  Read stats until the feed has seen topic count times (agent up/gone...)
void
ts_wait_seen (sec_feed_t *feed, const char *topic, size_t count)
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

//  zwatch-sub ARGS with env; *out_path gets its stdout path
pid_t
ts_sub_spawn (const char *const args [], const char *const env [], char **out_path)
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

int
ts_port (const char *endpoint)
{
    const char *colon = strrchr (endpoint, ':');
    CHECK (colon);
    return atoi (colon + 1);
}

int
main (int argc, char *argv [])
{
    //  The broker's own agent reports this host (processes inherit it)
    setenv ("ZWATCH_HOST_ID", BROKER_HOST, 1);
    unsetenv ("ZWATCH_CURVE_SERVER_KEY");
    unsetenv ("ZWATCH_CURVE_CERT");
    zsys_init ();
    static const tu_case_t cases [] = {
        { "allowed", test_allowed }, { "unknown_agent", test_unknown_agent },
        { "subscribers", test_subscribers }, { "host_mismatch", test_host_mismatch },
        { "wire", test_wire }, { "ip_lists", test_ip_lists },
        { "late_monitor", test_late_monitor }, { "reload", test_reload }, { "sighup", test_sighup },
        { "setter", test_setter }, { "bad_keys", test_bad_keys }, { "keygen", test_keygen }
    };
    return tu_run_cases (argc, argv, "test_security", cases, sizeof (cases) / sizeof (cases [0]));
}
