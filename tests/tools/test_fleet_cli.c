/*  test_fleet_cli: zwatch-fleet for a known fleet, exact lines and JSON.

    Two services with real agents in their own processes (a ROUTER that
    listens, a DEALER connected to it), a real broker; what the client
    library holds (pids, start times, addresses, seqs) gives the exact
    lines zwatch-fleet must print for agents, sockets and links, and the
    JSON lines are checked key by key (tests/tools/json_canon.py). Also:
    long names cut to 80 columns, --host, --watch, the exit codes.
*/

#define _GNU_SOURCE
#include <czmq.h>
#include <time.h>
#include "zwatch.h"
#include "zwatch_client.h"
#include "tools_fleet_util.h"
#include "agent_child.h"
#include "broker_proc.h"
#include "testutil.h"

#define WAIT_MS     30000

//  Run zwatch-fleet with args (after the endpoints); returns its output
//  (caller frees) and its exit code in *code
static char *
s_run (broker_proc_t *broker, const char *const *args, int *code)
{
    char *bin = tu_bin ("zwatch-fleet");
    const char *argv [16] = { bin, "--connect", broker_proc_publish (broker), "--snapshot",
                              broker_proc_snapshot (broker) };
    size_t count = 5;
    for (; *args && count < 15; args++)
        argv [count++] = *args;
    argv [count] = NULL;
    char *out = tu_temp_path (".out");
    const char *env [] = { "TZ=UTC", NULL };
    pid_t pid = tu_spawn (argv, env, out);
    *code = tu_wait (pid, WAIT_MS);
    char *text = tu_read_file (out);
    tu_remove_output (out);
    free (out);
    free (bin);
    return text;
}

//  The number after key in text becomes "N"
static void
s_mask (char *text, const char *key)
{
    char *at = strstr (text, key);
    CHECK (at);
    at += strlen (key);
    char *end = at;
    while (*end >= '0' && *end <= '9')
        end++;
    CHECK (end > at);
    *at = 'N';
    memmove (at + 1, end, strlen (end) + 1);
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
    pid_t pid = tu_spawn (argv, NULL, out);
    CHECK_INT_EQ (tu_wait (pid, WAIT_MS), 0);
    char *canon = tu_read_file (out);
    tu_remove_output (out);
    remove (path);
    free (out);
    free (path);
    return canon;
}

static void
s_test_views (void)
{
    broker_proc_t *broker = broker_proc_new (NULL, true);
    const char *ingest = broker_proc_ingest (broker);
    char *server_ep = tu_free_endpoint ();
    const char *server_addr = server_ep + strlen ("tcp://");
    agent_child_t server = agent_child_start (ingest, "fl-host", "srv", ZMQ_ROUTER, "api",
                                              server_ep, true);
    agent_child_t dealer = agent_child_start (ingest, "fl-host", "cli", ZMQ_DEALER, "client",
                                              server_ep, false);
    //  Wait, with the library, for the link and both handshakes (the last events)
    zwatch_client_t *client = zwatch_client_new (broker_proc_publish (broker),
                                                 broker_proc_snapshot (broker));
    zwatch_client_set_history (client, 100);
    CHECK_INT_EQ (zwatch_client_start (client), 0);
    //  The DEALER connects once the ROUTER listens: then each has its last
    //  event, HANDSHAKE_SUCCEEDED, and a seq the test reads
    long long deadline = tu_now_ms () + WAIT_MS;
    bool opened = false, srv_done = false, cli_done = false;
    char *srv_events [3] = { NULL, NULL, NULL };    //  the server's three, as lines
    while (!(srv_done && cli_done && zwatch_client_links (client) == 1)) {
        CHECK (tu_now_ms () < deadline);
        const zwatch_change_t *change = zwatch_client_next (client, 100);
        zwatch_client_agent_t *srv = tools_fleet_agent (client, "srv");
        zwatch_client_socket_t *api = srv? zwatch_client_socket_first (srv): NULL;
        if (!opened && zwatch_client_synced (client) && api
        &&  zwatch_client_listening_first (api) && tools_fleet_agent (client, "cli")) {
            agent_child_say (&dealer, 'o');
            opened = true;
        }
        if (change && (change->kind == ZWATCH_CHANGE_EVENT || change->kind == ZWATCH_CHANGE_HISTORY)
        &&  strcmp (change->svc, "srv") == 0 && change->seq >= 1 && change->seq <= 3) {
            char *clock = tools_fleet_clock (change->ts);
            free (srv_events [change->seq - 1]);
            srv_events [change->seq - 1] = zsys_sprintf ("%s fl-host/srv api %s %s\n", clock,
                                                         change->event, change->endpoint);
            free (clock);
        }
        if (change && change->kind == ZWATCH_CHANGE_EVENT
        &&  strcmp (change->event, "HANDSHAKE_SUCCEEDED") == 0) {
            srv_done |= strcmp (change->svc, "srv") == 0;
            cli_done |= strcmp (change->svc, "cli") == 0;
        }
    }
    zwatch_client_agent_t *srv = tools_fleet_agent (client, "srv"), *cli = tools_fleet_agent (client, "cli");
    zwatch_client_socket_t *client_socket = zwatch_client_socket_first (cli);
    const char *client_addr = zwatch_client_conn_local (zwatch_client_conn_first (client_socket));
    char *srv_start = tools_fleet_clock (zwatch_client_agent_start (srv));
    char *cli_start = tools_fleet_clock (zwatch_client_agent_start (cli));
    const zwatch_client_link_t *link = zwatch_client_link_first (client);
    char *link_since = tools_fleet_clock (zwatch_client_link_since (link));

    //  agents
    int code;
    const char *agents_args [] = { "agents", NULL };
    char *text = s_run (broker, agents_args, &code);
    CHECK_INT_EQ (code, 0);
    char *expected = zsys_sprintf (
        "HOST             SERVICE              PID UP SINCE   EVENTS  DROPPED PARTIAL\n"
        "%-16s %-16s %7d %8s %8d %8d %7s\n"
        "%-16s %-16s %7d %8s %8d %8d %7s\n",
        "fl-host", "cli", (int) dealer.pid, cli_start, (int) zwatch_client_agent_seq (cli), 0, "no",
        "fl-host", "srv", (int) server.pid, srv_start, 3, 0, "no");
    CHECK_STR_EQ (text, expected);
    free (text);
    free (expected);

    //  sockets
    const char *sockets_args [] = { "sockets", NULL };
    text = s_run (broker, sockets_args, &code);
    CHECK_INT_EQ (code, 0);
    expected = zsys_sprintf (
        "AGENT/SOCKET             TYPE   CONNS  LISTENING / RETRYING           ERROR\n"
        "fl-host/cli client       DEALER     1  -                              -\n"
        "fl-host/srv api          ROUTER     1  %-30s -\n", server_ep);
    CHECK_STR_EQ (text, expected);
    free (text);
    free (expected);

    //  links (the default view)
    const char *links_args [] = { NULL };
    text = s_run (broker, links_args, &code);
    CHECK_INT_EQ (code, 0);
    expected = zsys_sprintf ("fl-host/cli client -> fl-host/srv api (%s, since %s)\n",
                             server_ep, link_since);
    CHECK_STR_EQ (text, expected);
    free (text);
    free (expected);

    //  JSON, key by key
    const char *json_args [] = { "links", "--json", NULL };
    text = s_run (broker, json_args, &code);
    CHECK_INT_EQ (code, 0);
    char *canon = s_canon (text);
    expected = zsys_sprintf (
        "endpoint=%s\t"
        "from={\"addr\":\"%s\",\"host\":\"fl-host\",\"pid\":%d,\"sock\":\"client\",\"svc\":\"cli\"}\t"
        "kind=link\tsince=%" PRIu64 "\t"
        "to={\"addr\":\"%s\",\"host\":\"fl-host\",\"pid\":%d,\"sock\":\"api\",\"svc\":\"srv\"}\n",
        server_ep, client_addr, (int) dealer.pid, zwatch_client_link_since (link), server_addr,
        (int) server.pid);
    CHECK_STR_EQ (canon, expected);
    free (canon);
    free (text);
    free (expected);
    const char *agents_json [] = { "agents", "--json", "--service", "srv", NULL };
    text = s_run (broker, agents_json, &code);
    CHECK_INT_EQ (code, 0);
    canon = s_canon (text);
    //  The heartbeat counters move with the agents' heartbeats: masked
    s_mask (canon, "\tread=");
    s_mask (canon, "\tsent=");
    s_mask (canon, "dropped=");
    s_mask (canon, "\twatched=");
    expected = zsys_sprintf (
        "dropped=N\thost=fl-host\tkind=agent\tpartial=false\tpid=%d\tread=N\tsent=N\tseq=3"
        "\tstart=%" PRIu64 "\tsvc=srv\twatched=N\n", (int) server.pid,
        zwatch_client_agent_start (srv));
    CHECK_STR_EQ (canon, expected);
    free (canon);
    free (text);
    free (expected);

    //  events: the broker's history (of the whole fleet), the server's three
    const char *events_args [] = { "events", "--service", "srv", NULL };
    text = s_run (broker, events_args, &code);
    CHECK_INT_EQ (code, 0);
    CHECK (srv_events [0] && srv_events [1] && srv_events [2]);
    expected = zsys_sprintf ("%s%s%s", srv_events [0], srv_events [1], srv_events [2]);
    CHECK_STR_EQ (text, expected);
    CHECK (strstr (srv_events [0], " LISTENING ") && strstr (srv_events [1], " ACCEPTED ")
        && strstr (srv_events [2], " HANDSHAKE_SUCCEEDED "));
    free (text);
    free (expected);
    for (int index = 0; index < 3; index++)
        free (srv_events [index]);
    const char *events_json [] = { "events", "--json", "--host", "fl-host", "--service", "srv",
                                   NULL };
    text = s_run (broker, events_json, &code);
    CHECK_INT_EQ (code, 0);
    canon = s_canon (text);
    CHECK_INT_EQ (tu_count (canon, "\n"), 3);
    CHECK (strstr (canon, "event=LISTENING\t") && strstr (canon, "event=ACCEPTED\t"));
    CHECK (strstr (canon, "event=HANDSHAKE_SUCCEEDED\t") && strstr (canon, "\tkind=event\t")
        && strstr (canon, "\tseq=3\t") && strstr (canon, "\tsvc=srv\t")
        && strstr (canon, "\tsock=api\t") && strstr (canon, "\thost=fl-host\t"));
    free (canon);
    free (text);

    //  --host: none of these
    const char *other [] = { "agents", "--host", "elsewhere", NULL };
    text = s_run (broker, other, &code);
    CHECK_INT_EQ (code, 0);
    CHECK_STR_EQ (text, "HOST             SERVICE              PID UP SINCE   EVENTS  DROPPED PARTIAL\n");
    free (text);
    //  Usage errors and an absent broker
    const char *bad_view [] = { "bogus", NULL };
    free (s_run (broker, bad_view, &code));
    CHECK_INT_EQ (code, 2);
    const char *bad_host [] = { "--host", "a/b", NULL };
    free (s_run (broker, bad_host, &code));
    CHECK_INT_EQ (code, 2);
    char *bin = tu_bin ("zwatch-fleet");
    char *nobody = tu_free_endpoint ();
    const char *absent [] = { bin, "--connect", nobody, "--snapshot", nobody, "--timeout", "0.5",
                              NULL };
    CHECK_INT_EQ (tu_wait (tu_spawn (absent, NULL, NULL), WAIT_MS), 1);
    free (nobody);
    free (bin);

    free (srv_start);
    free (cli_start);
    free (link_since);
    zwatch_client_destroy (&client);
    agent_child_end (&dealer);
    agent_child_end (&server);
    broker_proc_destroy (&broker);
    free (server_ep);
}

//  Long names are cut to 80 columns, with '~'
static void
s_test_cut (void)
{
    broker_proc_t *broker = broker_proc_new (NULL, true);
    const char *ingest = broker_proc_ingest (broker);
    char *server_ep = tu_free_endpoint ();
    const char *long_svc = "a-service-name-much-longer-than-any-column-of-the-table";
    agent_child_t server = agent_child_start (ingest, "cut-host", long_svc, ZMQ_ROUTER,
                                              "a-socket-label-that-is-long-too", server_ep, true);
    agent_child_t dealer = agent_child_start (ingest, "cut-host", long_svc, ZMQ_DEALER,
                                              "another-long-socket-label", server_ep, true);
    long long deadline = tu_now_ms () + WAIT_MS;
    const char *args [] = { "links", NULL };
    char *text = NULL;
    int code;
    while (true) {
        CHECK (tu_now_ms () < deadline);
        free (text);
        text = s_run (broker, args, &code);
        if (text && strstr (text, " -> "))
            break;
        usleep (100 * 1000);
    }
    CHECK_INT_EQ (code, 0);
    char *newline = strchr (text, '\n');
    CHECK (newline && (newline - text) <= 80);
    CHECK (strstr (text, "~"));
    //  The names share the room; the endpoint stays whole
    char *expected = zsys_sprintf ("cut-hos~ another~ -> cut-host~ a-socket~ (%s, since ",
                                   server_ep);
    CHECK (strncmp (text, expected, strlen (expected)) == 0);
    free (expected);
    free (text);
    const char *sockets [] = { "sockets", NULL };
    text = s_run (broker, sockets, &code);
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n"))
        CHECK (strlen (line) <= 80);
    free (text);
    agent_child_end (&dealer);
    agent_child_end (&server);
    broker_proc_destroy (&broker);
    free (server_ep);
}

int
main (int argc, char *argv [])
{
    const tu_case_t cases [] = { { "views", s_test_views }, { "cut", s_test_cut } };
    return tu_run_cases (argc, argv, "test_fleet_cli", cases, sizeof (cases) / sizeof (cases [0]));
}
