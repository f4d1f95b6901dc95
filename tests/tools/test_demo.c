/*  test_demo: tools/demo.sh as a user runs it, on the built binaries
    (ZWATCH_DEMO_BIN: no install, no build) at a fast pace, on free ports.
    story: the six steps are told in order, each followed by its events in
    the feed, the agent comes and goes, nothing wider than 80 columns, no
    debug lines, exit 0. port_taken: with the ingest port taken the demo
    stops at once, exit 1, with the broker's own message and the hint.  */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include "testutil.h"

#define DEMO_MS     60000       //  bound on a demo run; a fast one takes ~3 s

static int s_web_port;

//  Run the demo with these ports; returns its exit code, *out its stdout
//  and *err its stderr (caller frees)
static int
s_demo (int ingest, int publish, int snapshot, char **out, char **err)
{
    char bin [512], ports [4][64];
    snprintf (bin, sizeof (bin), "ZWATCH_DEMO_BIN=%s", ZWATCH_BIN_DIR);
    snprintf (ports [0], sizeof (ports [0]), "ZWATCH_DEMO_INGEST_PORT=%d", ingest);
    snprintf (ports [1], sizeof (ports [1]), "ZWATCH_DEMO_PUBLISH_PORT=%d", publish);
    snprintf (ports [2], sizeof (ports [2]), "ZWATCH_DEMO_SNAPSHOT_PORT=%d", snapshot);
    snprintf (ports [3], sizeof (ports [3]), "ZWATCH_DEMO_WEB_PORT=%d", s_web_port);
    const char *env [] = { bin, ports [0], ports [1], ports [2], ports [3], "ZWATCH_DEMO_PACE=300",
                           NULL };
    const char *argv [] = { "bash", DEMO_SH, NULL };
    char *path = tu_temp_path (".demo");
    pid_t pid = tu_spawn (argv, env, path);
    int code = tu_wait (pid, DEMO_MS);
    if (code == -1) {
        tu_kill (pid);
        fprintf (stderr, "demo.sh still running after %d ms\n", DEMO_MS);
        exit (1);
    }
    *out = tu_read_file (path);
    *err = tu_read_errors (path);
    CHECK (*out && *err);
    tu_remove_output (path);
    free (path);
    return code;
}

//  Where needle is in text from from on, or the test fails saying so
static const char *
s_after (const char *text, const char *from, const char *needle)
{
    const char *found = strstr (from, needle);
    if (!found) {
        fprintf (stderr, "demo output: no '%s' after offset %td; output:\n%s\n", needle,
                 from - text, text);
        exit (1);
    }
    return found + strlen (needle);
}

static void
s_test_story (void)
{
    char *out, *err;
    s_web_port = tu_free_port ();
    int code = s_demo (tu_free_port (), tu_free_port (), tu_free_port (), &out, &err);
    if (code != 0 || *err)
        fprintf (stderr, "exit %d, stderr:\n%s\nstdout:\n%s\n", code, err, out);
    CHECK_INT_EQ (code, 0);
    CHECK_STR_EQ (err, "");
    //  The story in order; the feed in order. How the two interleave is
    //  the machine's timing (at the user's pace, 2.5 s, each step's
    //  events come right after it)
    const char *at = out;
    at = s_after (out, at, "demo: starting the broker");
#ifdef ZWATCH_WEB_BUILT
    char page [96];
    snprintf (page, sizeof (page), "demo: the fleet graph, live: http://127.0.0.1:%d/", s_web_port);
    at = s_after (out, at, page);
#endif
    at = s_after (out, at, "demo: starting zwatch-sub");
    at = s_after (out, at, ">> 1/6 The service starts");
    at = s_after (out, at, ">> 2/6 A client socket");
    at = s_after (out, at, ">> 3/6 A peer");
    at = s_after (out, at, ">> 4/6 A second server");
    at = s_after (out, at, ">> 5/6 A link 'backup'");
    at = s_after (out, at, ">> 6/6 The service shuts down");
    at = s_after (out, at, "demo: done. What to try next");
    at = s_after (out, at, "zwatch-sub --json");
    at = s_after (out, out, "agent demo-host/demo[");
    at = s_after (out, at, " up\n");
    at = s_after (out, at, "api      LISTENING");
    at = s_after (out, at, "client   CONNECTED");
    at = s_after (out, at, "api      DISCONNECTED");
    at = s_after (out, at, "squatter BIND_FAILED");
    at = s_after (out, at, "err=EADDRINUSE");
    at = s_after (out, at, "backup   CONNECT_RETRIED");
    at = s_after (out, at, "backup   CONNECT_RETRIED");      //  a retry loop: twice at least
    at = s_after (out, at, "api      CLOSED");
    at = s_after (out, at, " gone\n");
    //  The agent's goodbye came before the broker stopped
    s_after (out, at, "demo: done. What to try next");
    //  Every line fits an 80-column terminal; no debug or log lines
    for (const char *line = out; *line; ) {
        const char *end = strchrnul (line, '\n');
        if (end - line > 80) {
            fprintf (stderr, "line of %td columns: %.*s\n", end - line, (int) (end - line), line);
            exit (1);
        }
        CHECK (strncmp (line, "D: ", 3) != 0 && strncmp (line, "I: ", 3) != 0);
        line = *end? end + 1: end;
    }
    CHECK (!strstr (out, "bind failed as intended"));
    free (out);
    free (err);
}

static void
s_test_port_taken (void)
{
    s_web_port = tu_free_port ();
    //  A listener on the ingest port, as another broker would be
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof (addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof (addr);
    CHECK (bind (fd, (struct sockaddr *) &addr, sizeof (addr)) == 0);
    CHECK (listen (fd, 1) == 0);
    CHECK (getsockname (fd, (struct sockaddr *) &addr, &len) == 0);
    int taken = ntohs (addr.sin_port);
    char *out, *err;
    long long start = tu_now_ms ();
    int code = s_demo (taken, tu_free_port (), tu_free_port (), &out, &err);
    long long took = tu_now_ms () - start;
    CHECK_INT_EQ (code, 1);
    char expected [256];
    snprintf (expected, sizeof (expected), "demo.sh: the broker did not start: zwatch-broker: "
              "cannot bind --ingest tcp://127.0.0.1:%d: Address already in use\n", taken);
    if (strncmp (err, expected, strlen (expected)) != 0) {
        fprintf (stderr, "stderr:\n%s\nexpected it to start with:\n%s", err, expected);
        exit (1);
    }
    CHECK (strstr (err, "ZWATCH_DEMO_INGEST_PORT=") && strstr (err, "ZWATCH_DEMO_PUBLISH_PORT=")
           && strstr (err, "ZWATCH_DEMO_SNAPSHOT_PORT="));
    CHECK (!strstr (out, ">> 1/6"));            //  the story never began
    CHECK (took < 10000);                       //  at once, not at Ctrl-C
    close (fd);
    free (out);
    free (err);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "story", s_test_story }, { "port_taken", s_test_port_taken }
    };
    return tu_run_cases (argc, argv, "test_demo", cases, sizeof (cases) / sizeof (cases [0]));
}
