/*  test_security: the wire (no plaintext with CURVE) and IP lists.  */

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "test_security.h"
#include "tcp_tap.h"

//  Run an agent as canary-host-7f3a through a tap on ingest while a feed
//  reads through a tap on publish; returns both recordings (caller frees)
static void
s_tapped_run (setup_t *setup, const char *server_key, const char *cert,
              char **in, size_t *in_size, char **out, size_t *out_size)
{
    tcp_tap_t *tap_in = tcp_tap_new (ts_port (broker_proc_ingest (setup->broker)));
    tcp_tap_t *tap_out = tcp_tap_new (ts_port (broker_proc_publish (setup->broker)));
    char *reader = ts_path (setup->dir, "reader_secret");
    sec_feed_t *feed = sec_feed_new (tcp_tap_endpoint (tap_out), server_key, reader);
    CHECK (sec_feed_wait (feed, "stats/", WAIT_MS));
    free (ts_agent_run (setup, tcp_tap_endpoint (tap_in), "canary-host-7f3a", cert, "reqrep"));
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
void
test_wire (void)
{
    setup_t *setup = ts_setup_new (NULL);
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
    ts_setup_destroy (&setup);
}

//  "tcp://<source>:0;127.0.0.1:<port>": connect from another loopback address
static char *
s_from (const char *source, const char *endpoint)
{
    char *from = NULL;
    CHECK (asprintf (&from, "tcp://%s:0;127.0.0.1:%d", source, ts_port (endpoint)) > 0);
    return from;
}

//  One IP list on an open broker: from refused_source the agent is
//  refused, from allowed_source its events flow
static void
s_ip_case (const char *flag, const char *address, const char *refused_source,
           const char *allowed_source, const char *summary, const char *const *agent_env)
{
    const char *args [] = { flag, address, "--stats-interval", "0.2", NULL };
    setup_t setup = { .broker = broker_proc_new (args, true), .agent_env = agent_env };
    char *log = broker_proc_log (setup.broker);
    CHECK (strstr (log, summary));
    const char *ingest = broker_proc_ingest (setup.broker);
    //  The feed connects from the allowed address too
    char *feed_from = s_from (allowed_source, broker_proc_publish (setup.broker));
    sec_feed_t *feed = sec_feed_new (feed_from, NULL, NULL);
    CHECK (sec_feed_wait (feed, "stats/", WAIT_MS));

    char *refused_from = s_from (refused_source, ingest);
    char *out_path;
    pid_t pid = ts_agent_refused (&setup, refused_from, "far-host", NULL, &out_path);
    ts_check_auth_event (feed, broker_proc_pid (setup.broker), "ingest");
    char *errors = ts_agent_kill (pid, out_path);
    CHECK (strstr (errors, "refused the handshake (HANDSHAKE_FAILED_AUTH, 400)"));
    CHECK (ts_wait_auth_failures_seen (feed) >= 1);
    CHECK_INT_EQ (sec_feed_count (feed, "ev/far-host/"), 0);
    free (errors);

    char *allowed_from = s_from (allowed_source, ingest);
    errors = ts_agent_run (&setup, allowed_from, "near-host", NULL, "reqrep");
    CHECK (!strstr (errors, "refused"));
    CHECK (sec_feed_wait (feed, "ev/near-host/" SVC "/ACCEPTED", WAIT_MS));
    CHECK (broker_proc_wait_log (setup.broker, "zwatch-broker: refused a NULL handshake on "
                                 "ingest from ", WAIT_MS));

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
void
test_ip_lists (void)
{
    s_ip_case ("--allow-ip", "127.0.0.2", "127.0.0.1", "127.0.0.2",
               "zwatch-broker: security: no CURVE (traffic in clear, no keys); IP: allow list "
               "of 1; refused handshakes: " AUTH_FAILED "\n", NULL);
    char *dir = ts_temp_dir ();
    char *config = ts_write (dir, "broker.cfg", "broker\n    deny-ip = 127.0.0.3\n"
                                               "    deny-ip = ::1\n");
    s_ip_case ("--config", config, "127.0.0.3", "127.0.0.1",
               "zwatch-broker: security: no CURVE (traffic in clear, no keys); IP: deny list "
               "of 2; refused handshakes: " AUTH_FAILED "\n", NULL);
    free (config);
    ts_remove_dir (&dir);
}

//  An agent held up between connecting to the broker and watching its own
//  connection (late_monitor: 100 ms in zmq_socket_monitor) is refused all
//  the same and says so. A NULL handshake with a refused address is over
//  within a millisecond on loopback, and libzmq does not retry after a
//  refusal: an agent that missed it stayed disconnected, silent, forever
//  (security_ip_lists failed once that way under load).
void
test_late_monitor (void)
{
    //  The preload comes before the ASan runtime in an ASan build
    const char *options = getenv ("ASAN_OPTIONS");
    char *asan = NULL;
    CHECK (asprintf (&asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0", options? options: "",
                     options && *options? ":": "") > 0);
    const char *env [] = { "LD_PRELOAD=" LATE_MONITOR_LIB, asan, NULL };
    s_ip_case ("--deny-ip", "127.0.0.3", "127.0.0.3", "127.0.0.1",
               "zwatch-broker: security: no CURVE (traffic in clear, no keys); IP: deny list "
               "of 1; refused handshakes: " AUTH_FAILED "\n", env);
    free (asan);
}
