/*  test_broker cases about the commands themselves: the broker's signals,
    errors and config file; zwatch-sub's flags, exit codes and output.  */

#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include "test_broker.h"

//  The broker's log says line
static void
s_check_log (broker_proc_t *broker, const char *format, const char *value, bool present)
{
    char line [512];
    snprintf (line, sizeof (line), format, value);
    char *log = broker_proc_log (broker);
    if ((strstr (log, line) != NULL) != present) {
        fprintf (stderr, "broker log %s '%s':\n%s\n", present? "lacks": "has", line, log);
        exit (1);
    }
    free (log);
}

//  Stop the broker with signum while it holds a subscriber and an agent
static void
s_stop_by (int signum)
{
    const char *args [] = { "--stats-interval", "60", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    s_check_log (broker, "zwatch-broker: ingest bound to %s", broker_proc_ingest (broker), true);
    s_check_log (broker, "zwatch-broker: publish bound to %s", broker_proc_publish (broker), true);
    const char *prefixes [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "sig-host", "sig-svc", 9);

    //  No stats for a minute: send until events arrive, then see the last
    uint64_t seq = 0;
    size_t size;
    long long deadline = tu_now_ms () + TB_WAIT_MS;
    do {
        fake_agent_send_event (agent, ++seq, "CONNECTED", &size);
        CHECK (tu_now_ms () < deadline);
    } while (!feed_recv (feed, 20));
    while (feed_uint (feed, "seq") < seq)
        CHECK (feed_recv (feed, TB_WAIT_MS));

    CHECK_INT_EQ (broker_proc_stop (broker, signum, TB_WAIT_MS), 0);
    //  On the way out it published its last stats, counting everything
    CHECK (feed_wait_stats (feed, "msgs_in", seq, TB_WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "events_out"), seq);
    char stopping [128];
    snprintf (stopping, sizeof (stopping), "%" PRIu64 " messages in, %" PRIu64 " events out, "
              "0 invalid", seq, seq);
    s_check_log (broker, "zwatch-broker: stopping (%s)", stopping, true);
    //  Its log is on stderr: stdout has nothing
    char *output = broker_proc_output (broker);
    CHECK_STR_EQ (output, "");
    free (output);
    fake_agent_destroy (&agent);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
}

//  zwatch-broker with args fails with code and this one line on stderr
static void
s_broker_fails (const char *const args [], int code, const char *message)
{
    char *errors = NULL;
    int got = broker_proc_run (args, TB_WAIT_MS, &errors);
    char expected [512];
    snprintf (expected, sizeof (expected), "zwatch-broker: %s\n", message);
    if (got != code || !streq (errors, expected)) {
        fprintf (stderr, "zwatch-broker %s: exit %d, stderr '%s'; expected %d, '%s'\n",
                 args [0], got, errors, code, expected);
        exit (1);
    }
    free (errors);
}

//  zwatch-broker with args starts, then fails with code: its last log line
//  is the error (level E)
static void
s_broker_fails_running (const char *const args [], int code, const char *message)
{
    char *errors = NULL;
    int got = broker_proc_run (args, TB_WAIT_MS, &errors);
    char expected [512];
    snprintf (expected, sizeof (expected), " E zwatch-broker: %s\n", message);
    size_t length = strlen (errors), tail = strlen (expected);
    if (got != code || length < tail || !streq (errors + length - tail, expected)) {
        fprintf (stderr, "zwatch-broker %s: exit %d, stderr '%s'; expected %d, a last line "
                 "ending '%s'\n", args [0], got, errors, code, expected);
        exit (1);
    }
    free (errors);
}

void
test_signals (void)
{
    s_stop_by (SIGTERM);
    s_stop_by (SIGINT);

    char *ingest = tu_free_endpoint ();
    char *publish = tu_free_endpoint ();
    char message [512];
    const char *bogus [] = { "--bogus", NULL };
    s_broker_fails (bogus, 2, "unknown option '--bogus' (see --help)");
    const char *no_value [] = { "--publish", publish, "--ingest", NULL };
    s_broker_fails (no_value, 2, "option '--ingest' needs a value (see --help)");
    const char *zero [] = { "--stats-interval", "0", NULL };
    s_broker_fails (zero, 2, "bad value for --stats-interval: '0' (expected seconds > 0, e.g. 1.5)");
    const char *foo [] = { "--ingest", "foo://x", "--publish", publish, NULL };
    s_broker_fails (foo, 2, "bad endpoint for --ingest: 'foo://x' (expected tcp://... or ipc://...)");
    //  A transport it knows, an address libzmq cannot parse: still usage
    const char *nonsense [] = { "--ingest", ingest, "--publish", "tcp://nonsense", NULL };
    s_broker_fails_running (nonsense, 2, "cannot bind --publish tcp://nonsense: Invalid argument");

    //  A port in use is a runtime error, for either socket
    zsock_t *holder = zsock_new (ZMQ_ROUTER);
    int port = zsock_bind (holder, "tcp://127.0.0.1:*");
    CHECK (port > 0);
    char taken [64];
    snprintf (taken, sizeof (taken), "tcp://127.0.0.1:%d", port);
    const char *ingest_taken [] = { "--ingest", taken, "--publish", publish, NULL };
    snprintf (message, sizeof (message), "cannot bind --ingest %s: Address already in use", taken);
    s_broker_fails_running (ingest_taken, 1, message);
    const char *publish_taken [] = { "--ingest", ingest, "--publish", taken, NULL };
    snprintf (message, sizeof (message), "cannot bind --publish %s: Address already in use", taken);
    s_broker_fails_running (publish_taken, 1, message);
    zsock_destroy (&holder);

    //  Config files: missing, or with a key it does not know
    char *path = tu_temp_path (".cfg");
    const char *missing [] = { "--config", path, "--ingest", ingest, "--publish", publish, NULL };
    snprintf (message, sizeof (message),
              "cannot read config file '%s': No such file or directory", path);
    s_broker_fails (missing, 2, message);
    FILE *file = fopen (path, "w");
    CHECK (file);
    fprintf (file, "broker\n    colour = blue\n");
    fclose (file);
    snprintf (message, sizeof (message), "unknown key 'broker/colour' in config file '%s'", path);
    s_broker_fails (missing, 2, message);
    //  A bad value in the file is an error even where a flag overrides it
    file = fopen (path, "w");
    CHECK (file);
    fprintf (file, "broker\n    heartbeat-timeout = soon\n");
    fclose (file);
    const char *overridden [] = { "--config", path, "--heartbeat-timeout", "3", "--ingest", ingest,
                                  "--publish", publish, NULL };
    snprintf (message, sizeof (message), "bad value for 'heartbeat-timeout' in %s: 'soon' "
              "(expected seconds > 0, e.g. 1.5)", path);
    s_broker_fails (overridden, 2, message);
    unlink (path);
    free (path);
    free (ingest);
    free (publish);
}

//  Write the config file test_config uses
static void
s_write_config (const char *path, const char *ingest, const char *ipc, const char *publish)
{
    FILE *file = fopen (path, "w");
    CHECK (file);
    fprintf (file,
        "#   test_broker: every key, ingest twice\n"
        "broker\n"
        "    id = from-file\n"
        "    ingest = %s\n"
        "    ingest = %s\n"
        "    publish = %s\n"
        "    heartbeat-timeout = 7\n"
        "    stats-interval = 0.1\n"
        "    max-agents = 1\n"
        "    verbose = 1\n", ingest, ipc, publish);
    fclose (file);
}

void
test_config (void)
{
    char *path = tu_temp_path (".cfg");
    char *ipc_path = tu_temp_path (".ipc");
    char *ipc = NULL;
    CHECK (asprintf (&ipc, "ipc://%s", ipc_path) > 0);
    char *ingest = tu_free_endpoint ();
    char *publish = tu_free_endpoint ();
    char *flag_publish = tu_free_endpoint ();
    s_write_config (path, ingest, ipc, publish);
    const char *ev_stats [] = { "ev/", "stats/", NULL };

    //  The file alone: every setting is used
    const char *file_only [] = { "--config", path, NULL };
    broker_proc_t *broker = broker_proc_new (file_only, false);
    s_check_log (broker, "zwatch-broker: ingest bound to %s", ingest, true);
    s_check_log (broker, "zwatch-broker: ingest bound to %s", ipc, true);
    s_check_log (broker, "zwatch-broker: publish bound to %s", publish, true);
    s_check_log (broker, "zwatch-broker: id %s (heartbeat timeout 7 s, stats every 0.1 s, "
                 "max 1 agents)", "from-file", true);
    feed_t *feed = feed_new (publish, ev_stats);
    tb_wait_subscribers (feed, 2);
    CHECK_STR_EQ (feed_topic (feed), "stats/from-file");
    CHECK_STR_EQ (feed_str (feed, "broker"), "from-file");
    //  One agent on each ingest endpoint; the table holds one
    fake_agent_t *by_tcp = fake_agent_new (ingest, "cfg-host", "tcp-svc", 1);
    fake_agent_t *by_ipc = fake_agent_new (ipc, "cfg-host", "ipc-svc", 2);
    size_t size;
    fake_agent_send_event (by_tcp, 1, "CONNECTED", &size);
    CHECK (feed_wait_stats (feed, "msgs_in", 1, TB_WAIT_MS));
    fake_agent_send_event (by_ipc, 1, "CONNECTED", &size);
    CHECK (feed_wait_stats (feed, "msgs_in", 2, TB_WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "events_out"), 2);
    CHECK_INT_EQ (feed_uint (feed, "agents"), 1);
    CHECK_INT_EQ (feed_uint (feed, "agents_refused"), 1);
    CHECK (feed_recv (feed, 0));
    CHECK_STR_EQ (feed_topic (feed), "ev/cfg-host/tcp-svc/CONNECTED");
    CHECK (feed_recv (feed, 0));
    CHECK_STR_EQ (feed_topic (feed), "ev/cfg-host/ipc-svc/CONNECTED");
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    s_check_log (broker, "zwatch-broker: agent up %s pid 1 (seq 1, events 1, lost 0)",
                 "cfg-host/tcp-svc", true);         //  verbose = 1
    broker_proc_destroy (&broker);
    feed_destroy (&feed);

    //  Flags override the file key by key; --publish replaces its list
    const char *overridden [] = { "--config", path, "--id", "from-flag", "--publish", flag_publish,
                                  "--stats-interval", "0.2", "--max-agents", "5", NULL };
    broker = broker_proc_new (overridden, false);
    s_check_log (broker, "zwatch-broker: ingest bound to %s", ingest, true);
    s_check_log (broker, "zwatch-broker: ingest bound to %s", ipc, true);
    s_check_log (broker, "zwatch-broker: publish bound to %s", flag_publish, true);
    s_check_log (broker, "zwatch-broker: publish bound to %s", publish, false);
    s_check_log (broker, "zwatch-broker: id %s (heartbeat timeout 7 s, stats every 0.2 s, "
                 "max 5 agents)", "from-flag", true);
    feed = feed_new (flag_publish, ev_stats);
    tb_wait_subscribers (feed, 2);
    CHECK_STR_EQ (feed_topic (feed), "stats/from-flag");
    fake_agent_send_event (by_ipc, 2, "CLOSED", &size);
    CHECK (feed_wait_stats (feed, "msgs_in", 1, TB_WAIT_MS));
    CHECK (feed_recv (feed, 0));
    CHECK_STR_EQ (feed_topic (feed), "ev/cfg-host/ipc-svc/CLOSED");
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);

    broker_proc_destroy (&broker);
    feed_destroy (&feed);
    fake_agent_destroy (&by_tcp);
    fake_agent_destroy (&by_ipc);
    unlink (path);
    unlink (ipc_path);
    free (path);
    free (ipc_path);
    free (ipc);
    free (ingest);
    free (publish);
    free (flag_publish);
}

//  Run zwatch-sub with exactly args; returns its exit code, *errors its stderr
static int
s_run_sub (const char *const args [], char **errors)
{
    const char *argv [8];
    char *bin = tu_bin ("zwatch-sub");
    size_t count = 0;
    argv [count++] = bin;
    for (size_t index = 0; args [index]; index++) {
        CHECK (count < 7);
        argv [count++] = args [index];
    }
    argv [count] = NULL;
    char *out_path = tu_temp_path (".sub");
    int code = tb_wait_exit (tu_spawn (argv, NULL, out_path), "zwatch-sub");
    char *output = tu_read_file (out_path);
    CHECK_STR_EQ (output, "");
    free (output);
    *errors = tu_read_errors (out_path);
    tb_remove (out_path);
    free (bin);
    return code;
}

//  Usage errors: exit 2, stderr is one line that starts with the message
static void
s_sub_usage (void)
{
    struct {
        const char *args [4];
        const char *message;
    } cases [] = {
        { { "--bogus", NULL }, "unknown option '--bogus'" },
        { { "--count", "0", NULL }, "invalid --count '0' (want a positive integer)" },
        { { "--count", "many", NULL }, "invalid --count 'many' (want a positive integer)" },
        { { "--timeout", "-1", NULL }, "invalid --timeout '-1' (want seconds > 0)" },
        { { "--event", "NOPE", NULL }, "unknown event name 'NOPE'" },
        { { "--event", "nope", NULL }, "unknown event name 'nope'" },
        { { "--host", "a/b", NULL }, "invalid host name 'a/b' (1-64 characters of A-Za-z0-9._-, "
                                     "or a start of one and '*')" },
        { { "--host", "a/*", NULL }, "invalid host name 'a/*' (1-64 characters of A-Za-z0-9._-, "
                                     "or a start of one and '*')" },
        { { "--host", "a*b", NULL }, "invalid host name 'a*b' (1-64 characters of A-Za-z0-9._-, "
                                     "or a start of one and '*')" },
        { { "--service", "", NULL }, "invalid service name '' (1-64 characters of A-Za-z0-9._-, "
                                     "or a start of one and '*')" },
        { { "--count", NULL }, "option '--count' needs a value" },
        { { "stray", NULL }, "unexpected argument 'stray'" },
        { { "--connect", "foo://x", NULL }, "cannot connect to 'foo://x': Protocol not supported" },
        { { "--connect", "tcp://nonsense", NULL }, "cannot connect to 'tcp://nonsense': Invalid argument" },
        { { "--batches", NULL }, "--batches needs --connect (a broker's --publish-batches endpoint)" },
        { { "--batches", "--snapshot", NULL }, "--batches and --snapshot do not go together" }
    };
    for (size_t index = 0; index < sizeof (cases) / sizeof (cases [0]); index++) {
        char *errors = NULL;
        int code = s_run_sub (cases [index].args, &errors);
        char expected [256];
        snprintf (expected, sizeof (expected), "zwatch-sub: %s", cases [index].message);
        const char *newline = strchr (errors, '\n');
        if (code != 2 || strncmp (errors, expected, strlen (expected)) != 0
        ||  !newline || newline [1] != 0) {
            fprintf (stderr, "zwatch-sub %s: exit %d, stderr '%s'; expected 2, '%s'\n",
                     cases [index].args [0], code, errors, expected);
            exit (1);
        }
        free (errors);
    }
}

//  Lines of zwatch-sub --json output at path (kind=event ones are checked
//  against the seqs and names given, in order); returns agent/stats lines
static int
s_check_json (const char *path, const uint64_t *seqs, const char *const *names, int events,
              int *agent_lines)
{
    char *json = tb_json_lines (path);
    char *lines [64];
    int count = tb_split_lines (json, lines, 64);
    int printed = 0, others = 0;
    *agent_lines = 0;
    for (int index = 0; index < count; index++) {
        if (!strstr (lines [index], "\tkind=event\t")) {
            *agent_lines += strstr (lines [index], "\tkind=agent\t") != NULL;
            others++;
            continue;
        }
        CHECK (printed < events);
        char seq [32], name [64];
        snprintf (seq, sizeof (seq), "\tseq=%" PRIu64 "\t", seqs [printed]);
        snprintf (name, sizeof (name), "\tevent=%s\t", names [printed]);
        CHECK (strstr (lines [index], seq) && strstr (lines [index], name));
        CHECK (strstr (lines [index], "\thost=cli-host\t"));
        printed++;
    }
    CHECK_INT_EQ (printed, events);
    free (json);
    return others;
}

void
test_sub_cli (void)
{
    s_sub_usage ();

    const char *args [] = { "--stats-interval", "0.1", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *publish = broker_proc_publish (broker);

    //  --timeout: stats and agent messages are no events; exit 1
    char *idle_path = tu_temp_path (".idle");
    const char *idle_args [] = { "--timeout", "1", NULL };
    long long start = tu_now_ms ();
    pid_t idle = tb_spawn_sub (publish, idle_args, idle_path);
    CHECK_INT_EQ (tb_wait_exit (idle, "zwatch-sub --timeout"), 1);
    CHECK (tu_now_ms () - start >= 1000);
    char *errors = tu_read_errors (idle_path);
    CHECK_STR_EQ (errors, "zwatch-sub: timeout: no event for 1 s\n");
    free (errors);
    char *output = tu_read_file (idle_path);
    CHECK (strstr (output, " broker test-broker: in=0 out=0 invalid=0 agents=0 lost=0"));
    free (output);
    tb_remove (idle_path);

    //  Four subscribers at once
    const char *stats_only [] = { "stats/", NULL };
    feed_t *feed = feed_new (publish, stats_only);
    char *all_path = tu_temp_path (".all"), *only_path = tu_temp_path (".only");
    char *named_path = tu_temp_path (".named"), *human_path = tu_temp_path (".human");
    const char *all_args [] = { "--json", "--count", "3", NULL };
    const char *only_args [] = { "--json", "--events-only", "--count", "3", NULL };
    const char *named_args [] = { "--json", "--events-only", "--event", "CLOSED",
                                  "--event", "BIND_FAILED", "--count", "3", NULL };
    const char *human_args [] = { "--host", "cli-svc-host", "--event", "BIND_FAILED",
                                  "--count", "1", NULL };
    pid_t all = tb_spawn_sub (publish, all_args, all_path);
    pid_t only = tb_spawn_sub (publish, only_args, only_path);
    pid_t named = tb_spawn_sub (publish, named_args, named_path);
    pid_t human = tb_spawn_sub (publish, human_args, human_path);
    tb_wait_subscribers (feed, 1 + 3 + 1 + 1 + 2);

    //  --count N exits 0 after N events though more come
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "cli-host", "cli-svc", 31);
    fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 0);
    const char *names [] = { "CONNECTED", "CLOSED", "CONNECTED", "BIND_FAILED", "CONNECTED",
                             "CLOSED", "CONNECTED" };
    size_t size;
    for (uint64_t seq = 1; seq <= 7; seq++)
        fake_agent_send_event (agent, seq, names [seq - 1], &size);
    CHECK_INT_EQ (tb_wait_exit (all, "zwatch-sub --count 3"), 0);
    CHECK_INT_EQ (tb_wait_exit (only, "zwatch-sub --events-only"), 0);
    CHECK_INT_EQ (tb_wait_exit (named, "zwatch-sub --event"), 0);
    const uint64_t first_seqs [] = { 1, 2, 3 };
    int agent_lines;
    //  Not --events-only: the agent's up and the broker's stats too
    CHECK (s_check_json (all_path, first_seqs, names, 3, &agent_lines) >= 2);
    CHECK_INT_EQ (agent_lines, 1);
    CHECK_INT_EQ (s_check_json (only_path, first_seqs, names, 3, &agent_lines), 0);
    const uint64_t named_seqs [] = { 2, 4, 6 };
    const char *named_names [] = { "CLOSED", "BIND_FAILED", "CLOSED" };
    CHECK_INT_EQ (s_check_json (named_path, named_seqs, named_names, 3, &agent_lines), 0);

    //  Default output, for a real BIND_FAILED: one readable line
    zsock_t *holder = zsock_new (ZMQ_PULL);
    int port = zsock_bind (holder, "tcp://127.0.0.1:*");
    CHECK (port > 0);
    char taken [64];
    snprintf (taken, sizeof (taken), "tcp://127.0.0.1:%d", port);
    char *service_path = tu_temp_path (".service");
    pid_t service = tb_spawn_service ("bindfail", taken, broker_proc_ingest (broker),
                                      "cli-svc-host", "cli-svc", service_path);
    CHECK_INT_EQ (tb_wait_exit (service, "agent_service bindfail"), 0);
    CHECK_INT_EQ (tb_wait_exit (human, "zwatch-sub --event BIND_FAILED"), 0);
    output = tu_read_file (human_path);
    char *lines [4];
    CHECK_INT_EQ (tb_split_lines (output, lines, 4), 2);
    char expected [256];
    snprintf (expected, sizeof (expected), " cli-svc-host cli-svc[%d] agent up", (int) service);
    CHECK (strstr (lines [0], expected));
    //  local time, host, service[pid], socket(type), event, endpoint, errno name
    int year, month, day, hour, minute, second, msec, consumed = 0;
    CHECK (sscanf (lines [1], "%4d-%2d-%2d %2d:%2d:%2d.%3d%n", &year, &month, &day, &hour,
                   &minute, &second, &msec, &consumed) == 7 && consumed == 23);
    snprintf (expected, sizeof (expected),
              " cli-svc-host cli-svc[%d] taken(REP) BIND_FAILED 127.0.0.1:%d err=EADDRINUSE",
              (int) service, port);
    CHECK_STR_EQ (lines [1] + consumed, expected);
    free (output);

    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    zsock_destroy (&holder);
    fake_agent_destroy (&agent);
    feed_destroy (&feed);
    broker_proc_destroy (&broker);
    tb_remove (service_path);
    tb_remove (all_path);
    tb_remove (only_path);
    tb_remove (named_path);
    tb_remove (human_path);
}

//  zwatch-sub reading bodies that are not what the protocol says (from
//  something other than a zwatch broker): each is skipped with a reason on
//  stderr, at most one line a second that counts what it held back, and
//  the valid event after them still comes through
void
test_sub_bad_input (void)
{
    char endpoint [64];
    zsock_t *publisher = tb_raw_publisher (endpoint, sizeof (endpoint));
    char *path = tu_temp_path (".bad");
    const char *args [] = { "--json", "--count", "1", NULL };
    pid_t sub = tb_spawn_sub (endpoint, args, path);
    zsock_set_rcvtimeo (publisher, TB_WAIT_MS);
    //  All three (ev/, agent/, stats/): one that is not in yet drops what we send
    for (int count = 0; count < 3; count++) {
        zframe_t *subscription = zframe_recv (publisher);
        CHECK (subscription && zframe_size (subscription) >= 1
               && zframe_data (subscription) [0] == 1);
        zframe_destroy (&subscription);
    }

    const uint8_t invalid_byte [] = { 0xc1 };
    const uint8_t array [] = { 0x91, 0x01 };
    const uint8_t trailing [] = { 0x81, 0xa1, 'k', 0x01, 0x00 };
    tb_publish_raw (publisher, "agent/h/s", invalid_byte, sizeof (invalid_byte));
    tb_publish_raw (publisher, "agent/h/s", array, sizeof (array));
    //  The limit counts from the line it wrote, not from our send
    char *err_path = NULL;
    CHECK (asprintf (&err_path, "%s.err", path) > 0);
    CHECK (tu_wait_for_text (err_path, "skipped a message on 'agent/h/s'", 1, TB_WAIT_MS));
    free (err_path);
    zclock_sleep (1100);                //  past the one-line-a-second limit
    tb_publish_raw (publisher, "stats/b", trailing, sizeof (trailing));

    zwatch_msg_t event = {
        .kind = ZWATCH_KIND_EVENT, .host = { "h", 1 }, .svc = { "s", 1 }, .pid = 7,
        .sock = { "x", 1 }, .stype = { "DEALER", 6 }, .event = { "CONNECTED", 9 },
        .code = ZMQ_EVENT_CONNECTED, .value = 12, .endpoint = { "tcp://a:1", 9 },
        .ts = 1, .seq = 3
    };
    char body [ZWATCH_MSG_MAX];
    int size = zwatch_msg_encode (&event, body, sizeof (body));
    CHECK (size > 0);
    tb_publish_raw (publisher, "ev/h/s/CONNECTED", body, (size_t) size);
    CHECK_INT_EQ (tb_wait_exit (sub, "zwatch-sub on a raw publisher"), 0);

    char *errors = tu_read_errors (path);
    CHECK_STR_EQ (errors,
        "zwatch-sub: skipped a message on 'agent/h/s': malformed msgpack\n"
        "zwatch-sub: skipped a message on 'stats/b': trailing bytes "
        "(2 skipped since the last warning, 3 in all)\n");
    free (errors);
    char *output = tu_read_file (path);
    CHECK_INT_EQ (tu_count (output, "\n"), 1);
    CHECK (strstr (output, "\"kind\":\"event\",\"host\":\"h\",\"pid\":7,"));
    CHECK (strstr (output, "\"seq\":3"));
    free (output);
    tb_remove (path);
    zsock_destroy (&publisher);
}

//  The broker's stderr checked by log_lines.py in format; returns its summary
static char *
s_log_lines (const char *format, const char *path, int least)
{
    char minimum [16];
    snprintf (minimum, sizeof (minimum), "%d", least);
    const char *argv [] = { PYTHON3, LOG_LINES_PY, format, path, minimum, NULL };
    char *out_path = tu_temp_path (".lines");
    int code = tb_wait_exit (tu_spawn (argv, NULL, out_path), "log_lines.py");
    char *summary = tu_read_file (out_path);
    char *errors = tu_read_errors (out_path);
    if (code != 0 || !summary) {
        fprintf (stderr, "log_lines.py %s failed (%d): %s\n", format, code, errors? errors: "");
        exit (1);
    }
    free (errors);
    tb_remove (out_path);
    return summary;
}

//  A broker in format: lines at several levels, from its own loop (an
//  invalid message), from zsys (the settings) and at exit; every line on
//  stderr parses, stdout stays empty
static void
s_logs_in (const char *format)
{
    const char *args [] = { "--log-format", format, NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "log-host", "log-svc", 3);
    fake_agent_send_raw (agent, "nonsense", 8);
    CHECK (broker_proc_wait_log (broker, "dropped invalid message", TB_WAIT_MS));
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, TB_WAIT_MS), 0);
    char *output = broker_proc_output (broker);
    CHECK_STR_EQ (output, "");
    free (output);
    char *log = broker_proc_log (broker);
    char *path = tu_temp_path (".log");
    FILE *file = fopen (path, "w");
    CHECK (file && fputs (log, file) >= 0 && fclose (file) == 0);
    //  The settings, the binds, the drop, the stop: at least 6 lines
    char *summary = s_log_lines (format, path, 6);
    bool json = streq (format, "json");
    CHECK (strstr (summary, json? "warning=": "W="));
    CHECK (strstr (summary, json? "info=": "I="));
    printf ("broker_logs: %s: %s", format, summary);
    //  zsys's own date (26-12-02 17:03:11) and ident never show
    CHECK (!strstr (log, "(zwatch-broker)"));
    CHECK (!strstr (log, "zwatch-broker: zwatch-broker:"));
    free (summary);
    free (log);
    tb_remove (path);
    fake_agent_destroy (&agent);
    broker_proc_destroy (&broker);
}

void
test_logs (void)
{
    s_logs_in ("text");
    s_logs_in ("json");

    //  A tab-indented config file: one line, exit 2, nothing on stdout
    char *path = tu_temp_path (".cfg");
    FILE *file = fopen (path, "w");
    CHECK (file);
    fprintf (file, "broker\n    id = logs\n\tverbose = 1\n");
    fclose (file);
    const char *args [] = { "--config", path, NULL };
    char message [512];
    snprintf (message, sizeof (message), "cannot parse config file '%s': line 3: invalid syntax "
              "'verbose = 1' (indented with a tab: ZPL indents with 4 spaces)", path);
    s_broker_fails (args, 2, message);
    tb_remove (path);
}
