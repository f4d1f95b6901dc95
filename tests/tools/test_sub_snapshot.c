/*  test_sub_snapshot: zwatch-sub --snapshot against a real broker.

    lines   two services with real agents (ROUTER and DEALER linked) and one
            on another host: with --host ss-h*, the exact lines of the
            snapshot (agents, sockets, links of the two, not the third),
            then exactly the live lines the feed brought after it (the
            DEALER closed, its agent gone), formatted as zwatch-sub always
            does (its formatter, fed what a library client of the test got)
    json    the snapshot's lines key by key (json_canon.py), --service srv;
            then the live events with "time" and "error" keys
    merge   a fake agent streams events while zwatch-sub takes its snapshot:
            after the agent's line with seq S, exactly S+1 .. N, once each
    reconnect   started before the broker: "unreachable" on stderr, then
            "back after", then the snapshot and the feed
    usage   --snapshot EP (a hint to --snapshot=EP), two --connect, a bad
            endpoint, --help; no broker: exit 1 at --timeout
*/

#define _GNU_SOURCE
#include <czmq.h>
#include <signal.h>
#include <time.h>
#include "zwatch.h"
#include "zwatch_client.h"
#include "tools_fleet_util.h"
#include "zwatch_sub_format.h"
#include "agent_child.h"
#include "broker_proc.h"
#include "fake_agent.h"
#include "testutil.h"
#include "tu_child.h"

#define WAIT_MS     30000

//  zwatch-sub with args, TZ=UTC (so times are the test's gmtime)
static tu_child_t *
s_sub (const char *const *args)
{
    char *bin = tu_bin ("zwatch-sub");
    const char *argv [24] = { bin };
    size_t count = 1;
    for (; *args && count < 23; args++)
        argv [count++] = *args;
    argv [count] = NULL;
    const char *env [] = { "TZ=UTC", NULL };
    tu_child_t *sub = tu_child_new (argv, env, NULL, 0, "zwatch-sub");
    free (bin);
    return sub;
}

static void
s_wait_output (tu_child_t *sub, const char *text, int times)
{
    if (!tu_wait_for_text (tu_child_out_path (sub), text, times, WAIT_MS)) {
        char *output = tu_child_output (sub), *errors = tu_child_errors (sub);
        fprintf (stderr, "zwatch-sub never printed '%s' (x%d); stdout:\n%s\nstderr:\n%s\n",
                 text, times, output, errors);
        exit (1);
    }
}

static void
s_wait_errors (tu_child_t *sub, const char *text)
{
    if (!tu_wait_for_text (tu_child_err_path (sub), text, 1, WAIT_MS)) {
        char *errors = tu_child_errors (sub);
        fprintf (stderr, "zwatch-sub's stderr lacks '%s':\n%s\n", text, errors);
        exit (1);
    }
}

//  JSON lines of text, canonical (key=value, sorted), via json_canon.py
static char *
s_canon (const char *text)
{
    char *path = tu_temp_path (".json");
    FILE *file = fopen (path, "w");
    CHECK (file);
    fputs (text, file);
    fclose (file);
    char *out = tu_temp_path (".canon");
    const char *argv [] = { PYTHON3, JSON_CANON_PY, path, NULL };
    CHECK_INT_EQ (tu_wait (tu_spawn (argv, NULL, out), WAIT_MS), 0);
    char *canon = tu_read_file (out);
    tu_remove_output (out);
    remove (path);
    free (out);
    free (path);
    return canon;
}

//  The fleet of lines and json: srv (ROUTER "api", listening) and cli
//  (DEALER "client", connected to it) on ss-host, and other-host/zz
//  (ROUTER "lone", listening), with the link and every handshake seen by
//  client (filtered as given)
typedef struct {
    broker_proc_t *broker;
    char *server_ep, *lone_ep;
    agent_child_t server, dealer, lone;
    zwatch_client_t *client;
} fleet_t;

static void
s_fleet_up (fleet_t *fleet, const char *host_filter)
{
    fleet->broker = broker_proc_new (NULL, true);
    const char *ingest = broker_proc_ingest (fleet->broker);
    fleet->server_ep = tu_free_endpoint ();
    fleet->lone_ep = tu_free_endpoint ();
    fleet->server = agent_child_start (ingest, "ss-host", "srv", ZMQ_ROUTER, "api",
                                       fleet->server_ep, true);
    fleet->dealer = agent_child_start (ingest, "ss-host", "cli", ZMQ_DEALER, "client",
                                       fleet->server_ep, false);
    fleet->lone = agent_child_start (ingest, "other-host", "zz", ZMQ_ROUTER, "lone",
                                     fleet->lone_ep, true);
    fleet->client = zwatch_client_new (broker_proc_publish (fleet->broker),
                                       broker_proc_snapshot (fleet->broker));
    if (host_filter)
        CHECK_INT_EQ (zwatch_client_add_host_filter (fleet->client, host_filter), 0);
    CHECK_INT_EQ (zwatch_client_start (fleet->client), 0);
    long long deadline = tu_now_ms () + WAIT_MS;
    bool opened = false, srv_done = false, cli_done = false;
    while (!(srv_done && cli_done && zwatch_client_links (fleet->client) == 1)) {
        CHECK (tu_now_ms () < deadline);
        const zwatch_change_t *change = zwatch_client_next (fleet->client, 100);
        zwatch_client_agent_t *srv = tools_fleet_agent (fleet->client, "srv");
        zwatch_client_socket_t *api = srv? zwatch_client_socket_first (srv): NULL;
        if (!opened && zwatch_client_synced (fleet->client) && api
        &&  zwatch_client_listening_first (api) && tools_fleet_agent (fleet->client, "cli")) {
            agent_child_say (&fleet->dealer, 'o');
            opened = true;
        }
        if (change && change->kind == ZWATCH_CHANGE_EVENT
        &&  strcmp (change->event, "HANDSHAKE_SUCCEEDED") == 0) {
            srv_done |= strcmp (change->svc, "srv") == 0;
            cli_done |= strcmp (change->svc, "cli") == 0;
        }
    }
}

static void
s_fleet_down (fleet_t *fleet)
{
    zwatch_client_destroy (&fleet->client);
    if (fleet->dealer.pid)
        agent_child_end (&fleet->dealer);
    agent_child_end (&fleet->server);
    agent_child_end (&fleet->lone);
    broker_proc_destroy (&fleet->broker);
    free (fleet->server_ep);
    free (fleet->lone_ep);
}

//  What zwatch-sub prints for a change the feed brought (its formatter)
static char *
s_line (zwatch_sub_format_t *format, const zwatch_change_t *change, bool json)
{
    const char *line;
    const char *reason;
    if (change->kind == ZWATCH_CHANGE_EVENT && !json) {
        zwatch_msg_t msg;
        CHECK_INT_EQ (zwatch_msg_decode (&msg, change->body, change->body_size, NULL), ZWATCH_OK);
        line = zwatch_sub_format_event (format, &msg);
    }
    else {
        const msgpack_object *object = zwatch_sub_format_parse (format, change->body,
                                                                change->body_size, &reason);
        CHECK (object);
        line = json? zwatch_sub_format_json (format, object)
                   : zwatch_sub_format_agent (format, object);
    }
    CHECK (line);
    return zsys_sprintf ("%s\n", line);
}

//  The DEALER closes its socket, then its agent says bye; the lone server
//  closes too. Returns the lines of what client got (events, agents), as
//  zwatch-sub prints them, up to cli's AGENT_GONE
static char *
s_live (fleet_t *fleet, bool json)
{
    agent_child_say (&fleet->dealer, 'c');
    agent_child_say (&fleet->lone, 'c');
    agent_child_end (&fleet->dealer);
    fleet->dealer.pid = 0;
    zwatch_sub_format_t *format = zwatch_sub_format_new ();
    char *lines = strdup ("");
    long long deadline = tu_now_ms () + WAIT_MS;
    bool gone = false, srv_down = false;
    while (!(gone && srv_down)) {
        CHECK (tu_now_ms () < deadline);
        const zwatch_change_t *change = zwatch_client_next (fleet->client, 100);
        if (!change || !change->body)
            continue;
        bool event = change->kind == ZWATCH_CHANGE_EVENT;
        bool agent = change->kind == ZWATCH_CHANGE_AGENT_UP
                  || change->kind == ZWATCH_CHANGE_AGENT_GONE
                  || change->kind == ZWATCH_CHANGE_AGENT_LOST;
        if (!event && !agent)
            continue;
        char *line = s_line (format, change, json);
        char *more = zsys_sprintf ("%s%s", lines, line);
        free (lines);
        free (line);
        lines = more;
        gone |= change->kind == ZWATCH_CHANGE_AGENT_GONE && strcmp (change->svc, "cli") == 0;
        srv_down |= event && strcmp (change->svc, "srv") == 0
                 && strcmp (change->event, "DISCONNECTED") == 0;
    }
    zwatch_sub_format_destroy (&format);
    return lines;
}

static void
s_test_lines (void)
{
    fleet_t fleet;
    s_fleet_up (&fleet, "ss-h*");
    zwatch_client_t *client = fleet.client;
    zwatch_client_agent_t *srv = tools_fleet_agent (client, "srv"), *cli = tools_fleet_agent (client, "cli");
    CHECK (!tools_fleet_agent (client, "zz"));
    char *srv_start = tools_fleet_clock (zwatch_client_agent_start (srv));
    char *cli_start = tools_fleet_clock (zwatch_client_agent_start (cli));
    char *link_since = tools_fleet_clock (zwatch_client_link_since (zwatch_client_link_first (client)));
    char *snapshot = zsys_sprintf (
        "HOST             SERVICE              PID UP SINCE   EVENTS  DROPPED PARTIAL\n"
        "%-16s %-16s %7d %8s %8d %8d %7s\n"
        "%-16s %-16s %7d %8s %8d %8d %7s\n"
        "AGENT/SOCKET             TYPE   CONNS  LISTENING / RETRYING           ERROR\n"
        "ss-host/cli client       DEALER     1  -                              -\n"
        "ss-host/srv api          ROUTER     1  %-30s -\n"
        "ss-host/cli client -> ss-host/srv api (%s, since %s)\n",
        "ss-host", "cli", (int) fleet.dealer.pid, cli_start, (int) zwatch_client_agent_seq (cli),
        0, "no", "ss-host", "srv", (int) fleet.server.pid, srv_start, 3, 0, "no",
        fleet.server_ep, fleet.server_ep, link_since);

    char *snapshot_arg = zsys_sprintf ("--snapshot=%s", broker_proc_snapshot (fleet.broker));
    const char *args [] = { "--connect", broker_proc_publish (fleet.broker), snapshot_arg,
                            "--host", "ss-h*", NULL };
    tu_child_t *sub = s_sub (args);
    s_wait_output (sub, " -> ss-host/srv api (", 1);
    char *output = tu_child_output (sub);
    CHECK_STR_EQ (output, snapshot);            //  the snapshot, and nothing before the feed
    free (output);

    //  The feed after it: exactly what the test's client got since, in order
    char *live = s_live (&fleet, false);
    CHECK (strstr (live, " agent gone\n") && strstr (live, " DISCONNECTED "));
    CHECK (!strstr (live, "other-host"));
    s_wait_output (sub, " agent gone\n", 1);
    s_wait_output (sub, " DISCONNECTED ", 1);   //  the server's (a close says no more)
    CHECK_INT_EQ (tu_child_stop (sub, SIGTERM, WAIT_MS), 0);
    output = tu_child_output (sub);
    char *expected = zsys_sprintf ("%s%s", snapshot, live);
    CHECK_STR_EQ (output, expected);
    //  Nothing from before the snapshot again, nothing of the other host
    CHECK (!strstr (output, ") HANDSHAKE_SUCCEEDED ") && !strstr (output, ") LISTENING ")
        && !strstr (output, ") ACCEPTED "));
    CHECK (!strstr (output, "other-host") && !strstr (output, "broker test-broker"));
    char *errors = tu_child_errors (sub);
    CHECK_STR_EQ (errors, "");
    free (errors);
    free (output);
    free (expected);
    free (live);
    tu_child_destroy (&sub);
    free (snapshot_arg);
    free (snapshot);
    free (srv_start);
    free (cli_start);
    free (link_since);
    s_fleet_down (&fleet);
}

//  The line of text that starts with start, whole (caller frees)
static char *
s_line_of (const char *text, const char *start)
{
    const char *at = strstr (text, start);
    CHECK (at);
    const char *end = strchr (at, '\n');
    CHECK (end);
    return strndup (at, (size_t) (end - at + 1));
}

static void
s_test_json (void)
{
    fleet_t fleet;
    s_fleet_up (&fleet, NULL);
    zwatch_client_t *client = fleet.client;
    zwatch_client_agent_t *srv = tools_fleet_agent (client, "srv"), *cli = tools_fleet_agent (client, "cli");
    const zwatch_client_link_t *link = zwatch_client_link_first (client);
    const char *client_addr = zwatch_client_link_from (link)->addr;
    const char *server_addr = fleet.server_ep + strlen ("tcp://");
    //  srv's lines: its agent, its socket, the link (either end held); cli not
    char *snapshot = zsys_sprintf (
        "dropped=%d\thost=ss-host\tkind=agent\tpartial=false\tpid=%d\tread=%d\tsent=%d\tseq=3"
        "\tstart=%" PRIu64 "\tsvc=srv\twatched=%d\n"
        "bind_error=null\tconnections=1\thost=ss-host\tkind=socket\tlistening=[\"%s\"]"
        "\tpid=%d\tretrying=[]\tsock=api\tstype=ROUTER\tsvc=srv\n"
        "endpoint=%s\t"
        "from={\"addr\":\"%s\",\"host\":\"ss-host\",\"pid\":%d,\"sock\":\"client\",\"svc\":\"cli\"}\t"
        "kind=link\tsince=%" PRIu64 "\t"
        "to={\"addr\":\"%s\",\"host\":\"ss-host\",\"pid\":%d,\"sock\":\"api\",\"svc\":\"srv\"}\n",
        (int) zwatch_client_agent_dropped (srv), (int) fleet.server.pid,
        (int) zwatch_client_agent_read (srv), (int) zwatch_client_agent_sent (srv),
        zwatch_client_agent_start (srv), (int) zwatch_client_agent_watched (srv),
        fleet.server_ep, (int) fleet.server.pid, fleet.server_ep, client_addr,
        (int) fleet.dealer.pid, zwatch_client_link_since (link), server_addr,
        (int) fleet.server.pid);
    (void) cli;
    char *snapshot_arg = zsys_sprintf ("--snapshot=%s", broker_proc_snapshot (fleet.broker));
    const char *args [] = { "--connect", broker_proc_publish (fleet.broker), snapshot_arg,
                            "--service", "srv", "--json", NULL };
    tu_child_t *sub = s_sub (args);
    s_wait_output (sub, "\"kind\":\"link\"", 1);
    char *output = tu_child_output (sub);
    char *canon = s_canon (output);
    //  The heartbeat counters may have moved since the test read them
    if (strcmp (canon, snapshot) != 0)
        fprintf (stderr, "(heartbeat counters moved?)\n");
    CHECK_STR_EQ (canon, snapshot);
    free (canon);
    free (output);

    //  The server's live events: the agent's message with "time" (and its
    //  DISCONNECTED has no "error": its value is an fd)
    char *live = s_live (&fleet, true);
    s_wait_output (sub, "\"event\":\"DISCONNECTED\"", 1);
    CHECK_INT_EQ (tu_child_stop (sub, SIGTERM, WAIT_MS), 0);
    output = tu_child_output (sub);
    const char *feed = output;
    for (int lines = 0; lines < 3; lines++)
        feed = strchr (feed, '\n') + 1;
    //  Only srv's messages, and exactly those the client got for srv
    char *srv_only = strdup ("");
    for (char *line = live; *line; ) {
        char *end = strchr (line, '\n');
        if (strstr (line, "\"svc\":\"srv\"") && strstr (line, "\"svc\":\"srv\"") < end) {
            char *more = zsys_sprintf ("%s%.*s", srv_only, (int) (end - line + 1), line);
            free (srv_only);
            srv_only = more;
        }
        line = end + 1;
    }
    CHECK_STR_EQ (feed, srv_only);
    canon = s_canon (feed);
    CHECK (strstr (canon, "event=DISCONNECTED\t"));
    char *disconnected = s_line_of (canon, "code=512\t");
    uint64_t ts = 0;
    CHECK (sscanf (strstr (disconnected, "\tts=") + 4, "%" SCNu64, &ts) == 1);
    time_t seconds = (time_t) (ts / 1000000000u);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    char time_key [64], iso [40];
    strftime (iso, sizeof (iso), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf (time_key, sizeof (time_key), "\ttime=%s.%09uZ\t", iso,
              (unsigned) (ts % 1000000000u));
    CHECK (strstr (disconnected, time_key));
    CHECK (strstr (disconnected, "\tseq=4\t") && strstr (disconnected, "\tsock=api\t")
        && strstr (disconnected, "\tstype=ROUTER\t") && strstr (disconnected, "\tkind=event\t"));
    CHECK (!strstr (disconnected, "\terror="));
    free (disconnected);
    free (canon);
    free (srv_only);
    free (live);
    free (output);
    tu_child_destroy (&sub);
    free (snapshot_arg);
    free (snapshot);
    s_fleet_down (&fleet);
}

//  An empty replay after the hello: the broker holds the agent complete
static void
s_replay_empty (fake_agent_t *agent, const char *host, const char *svc, int64_t pid)
{
    fake_field_t fields [] = {
        { "v", FAKE_UINT, NULL, 1 }, { "kind", FAKE_STR, "state_end", 0 },
        { "host", FAKE_STR, host, 0 }, { "pid", FAKE_UINT, NULL, pid },
        { "svc", FAKE_STR, svc, 0 }, { "ts", FAKE_UINT, NULL, 1 }, { "seq", FAKE_UINT, NULL, 0 },
        { "count", FAKE_UINT, NULL, 0 }
    };
    fake_agent_send_fields (agent, fields, sizeof (fields) / sizeof (fields [0]));
}

static void
s_test_merge (void)
{
    broker_proc_t *broker = broker_proc_new (NULL, true);
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "ss-stream", "gen", 77);
    fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 0);
    s_replay_empty (agent, "ss-stream", "gen", 77);
    char *snapshot_arg = zsys_sprintf ("--snapshot=%s", broker_proc_snapshot (broker));
    const char *args [] = { "--connect", broker_proc_publish (broker), snapshot_arg,
                            "--host", "ss-stream", "--json", NULL };
    //  Events go on while zwatch-sub subscribes, asks and merges
    uint64_t seq = 0;
    size_t size;
    for (; seq < 50; )
        fake_agent_send_event (agent, ++seq, "CONNECT_DELAYED", &size);
    tu_child_t *sub = s_sub (args);
    long long deadline = tu_now_ms () + WAIT_MS;
    while (!tu_wait_for_text (tu_child_out_path (sub), "\"kind\":\"agent\"", 1, 0)) {
        CHECK (tu_now_ms () < deadline);
        for (int burst = 0; burst < 5; burst++)
            fake_agent_send_event (agent, ++seq, "CONNECT_DELAYED", &size);
        usleep (500);           //  a pace, not a wait for readiness
    }
    for (int more = 0; more < 200; more++) {
        fake_agent_send_event (agent, ++seq, "CONNECT_DELAYED", &size);
        if (more % 10 == 0)
            usleep (2000);
    }
    char last [40];
    snprintf (last, sizeof (last), "\"seq\":%" PRIu64 "}", seq);
    s_wait_output (sub, last, 1);
    CHECK_INT_EQ (tu_child_stop (sub, SIGTERM, WAIT_MS), 0);
    char *output = tu_child_output (sub);
    //  First line: the agent, with the snapshot's seq S
    CHECK (strncmp (output, "{\"kind\":\"agent\",\"host\":\"ss-stream\"", 34) == 0);
    char *at = strstr (output, "\"seq\":");
    CHECK (at);
    uint64_t snap_seq = strtoull (at + 6, NULL, 10);
    CHECK (snap_seq >= 50 && snap_seq < seq);
    //  Then its socket; then S+1 .. seq, once each, in order
    char *line = strchr (output, '\n') + 1;
    CHECK (strncmp (line, "{\"kind\":\"socket\",", 17) == 0);
    line = strchr (line, '\n') + 1;
    uint64_t want = snap_seq + 1;
    for (; *line; want++) {
        char *end = strchr (line, '\n');
        CHECK (end);
        char expect [40];
        snprintf (expect, sizeof (expect), ",\"seq\":%" PRIu64 "}\n", want);
        if (strncmp (end - strlen (expect) + 1, expect, strlen (expect)) != 0) {
            fprintf (stderr, "after seq %" PRIu64 " (snapshot at %" PRIu64 ") came: %.*s\n",
                     want - 1, snap_seq, (int) (end - line), line);
            exit (1);
        }
        line = end + 1;
    }
    CHECK_INT_EQ (want, seq + 1);
    printf ("snapshot at seq %" PRIu64 " of %" PRIu64 "; the rest printed once each\n",
            snap_seq, seq);
    free (output);
    tu_child_destroy (&sub);
    free (snapshot_arg);
    fake_agent_destroy (&agent);
    broker_proc_destroy (&broker);
}

static void
s_test_reconnect (void)
{
    char *ingest = tu_free_endpoint (), *publish = tu_free_endpoint ();
    char *snapshot = tu_free_endpoint ();
    char *snapshot_arg = zsys_sprintf ("--snapshot=%s", snapshot);
    const char *args [] = { "--connect", publish, snapshot_arg, "--events-only", NULL };
    tu_child_t *sub = s_sub (args);
    char *unreachable = zsys_sprintf ("zwatch-sub: broker at '%s' unreachable (cannot connect); "
                                      "retrying\n", publish);
    s_wait_errors (sub, unreachable);
    const char *broker_args [] = { "--ingest", ingest, "--publish", publish, "--snapshot",
                                   snapshot, NULL };
    broker_proc_t *broker = broker_proc_new (broker_args, false);
    char *back = zsys_sprintf ("zwatch-sub: broker at '%s' back after ", publish);
    s_wait_errors (sub, back);
    s_wait_output (sub, "HOST             SERVICE", 1);
    fake_agent_t *agent = fake_agent_new (ingest, "ss-late", "late", 5);
    fake_agent_send_state (agent, ZWATCH_KIND_HELLO, 0);
    s_replay_empty (agent, "ss-late", "late", 5);
    size_t size;
    fake_agent_send_event (agent, 1, "CONNECTED", &size);
    s_wait_output (sub, " ss-late late[5] fake-sock(DEALER) CONNECTED ", 1);
    CHECK_INT_EQ (tu_child_stop (sub, SIGTERM, WAIT_MS), 0);
    char *errors = tu_child_errors (sub);
    CHECK_INT_EQ (tu_count (errors, "\n"), 2);
    free (errors);
    tu_child_destroy (&sub);
    fake_agent_destroy (&agent);
    broker_proc_destroy (&broker);
    free (back);
    free (unreachable);
    free (snapshot_arg);
    free (snapshot);
    free (publish);
    free (ingest);
}

//  Exit code and stderr of zwatch-sub with args
static int
s_exit (const char *const *args, char **errors)
{
    tu_child_t *sub = s_sub (args);
    int code = tu_child_wait (sub, WAIT_MS);
    *errors = tu_child_errors (sub);
    tu_child_destroy (&sub);
    return code;
}

static void
s_test_usage (void)
{
    char *errors;
    const char *spaced [] = { "--snapshot", "tcp://127.0.0.1:5572", NULL };
    CHECK_INT_EQ (s_exit (spaced, &errors), 2);
    CHECK_STR_EQ (errors, "zwatch-sub: unexpected argument 'tcp://127.0.0.1:5572' (an endpoint "
                          "for --snapshot goes as --snapshot=EP) (see --help)\n");
    free (errors);
    const char *two [] = { "--snapshot", "--connect", "tcp://127.0.0.1:1", "--connect",
                           "tcp://127.0.0.1:2", NULL };
    CHECK_INT_EQ (s_exit (two, &errors), 2);
    CHECK_STR_EQ (errors, "zwatch-sub: --snapshot reads one broker: give one --connect "
                          "(see --help)\n");
    free (errors);
    const char *bad [] = { "--snapshot=nowhere", NULL };
    CHECK_INT_EQ (s_exit (bad, &errors), 2);
    CHECK_STR_EQ (errors, "zwatch-sub: invalid endpoint 'nowhere' (want transport://address)\n");
    free (errors);
    const char *bad_host [] = { "--snapshot", "--host", "a/b*", NULL };
    CHECK_INT_EQ (s_exit (bad_host, &errors), 2);
    free (errors);
    //  Nobody there: the snapshot never comes
    char *nobody = tu_free_endpoint ();
    char *snapshot_arg = zsys_sprintf ("--snapshot=%s", nobody);
    const char *absent [] = { "--connect", nobody, snapshot_arg, "--timeout", "0.5", NULL };
    CHECK_INT_EQ (s_exit (absent, &errors), 1);
    CHECK (strstr (errors, "zwatch-sub: timeout: no snapshot for 0.5 s\n"));
    free (errors);
    free (snapshot_arg);
    free (nobody);
    const char *help [] = { "--help", NULL };
    tu_child_t *sub = s_sub (help);
    CHECK_INT_EQ (tu_child_wait (sub, WAIT_MS), 0);
    char *text = tu_child_output (sub);
    CHECK (strstr (text, "  --snapshot[=EP]  first print the fleet's state"));
    free (text);
    tu_child_destroy (&sub);
}

int
main (int argc, char *argv [])
{
    const tu_case_t cases [] = {
        { "lines", s_test_lines }, { "json", s_test_json }, { "merge", s_test_merge },
        { "reconnect", s_test_reconnect }, { "usage", s_test_usage }
    };
    return tu_run_cases (argc, argv, "test_sub_snapshot", cases,
                         sizeof (cases) / sizeof (cases [0]));
}
