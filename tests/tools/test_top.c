/*  test_top: zwatch-top in a real terminal (tmux) against the real broker
    with real agents in their own processes (tests/util/agent_child).

    screen   the services show; a DEALER service connects to a ROUTER one:
             both rows count the connection and the events show at the
             bottom; it closes: the rows go back; filter, sort, pause keys
    resize   tmux resizes the window: the screen is redrawn to the new size
    quit     q (and SIGINT, SIGTERM) gives the terminal back as it was: the
             alternate screen gone, the shell's earlier lines back, exit 0;
             TERM=dumb: an error line and exit 1
    not_tty  stdout not a terminal: the error line, exit 1; usage errors 2

    Each test runs its own tmux server (tmux -L <unique name>), killed at
    the end. Every wait is for the screen's content, with a bound.
*/

#define _GNU_SOURCE
#include <czmq.h>
#include <signal.h>
#include "agent_child.h"
#include "broker_proc.h"
#include "testutil.h"

#define WAIT_MS     30000       //  bound on anything the test waits for
#define STEP_MS     100

static char s_server [64];      //  this test's tmux server (-L)

//  Run a tmux command on our server; its stdout, caller frees
static char *
s_tmux (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *command = zsys_vprintf (format, args);
    va_end (args);
    char *line = zsys_sprintf ("tmux -L %s -f /dev/null %s 2>&1", s_server, command);
    FILE *pipe = popen (line, "r");
    CHECK (pipe);
    char *output = NULL;
    size_t size = 0;
    FILE *mem = open_memstream (&output, &size);
    char buffer [4096];
    size_t got;
    while ((got = fread (buffer, 1, sizeof (buffer), pipe)) > 0)
        fwrite (buffer, 1, got, mem);
    fclose (mem);
    int status = pclose (pipe);
    if (status != 0)
        fprintf (stderr, "tmux %s: status %d: %s\n", command, status, output);
    CHECK (status == 0);
    zstr_free (&command);
    zstr_free (&line);
    return output;
}

static void
s_tmux_kill (void)
{
    if (*s_server) {
        char *line = zsys_sprintf ("tmux -L %s kill-server >/dev/null 2>&1", s_server);
        if (system (line) == -1)
            fprintf (stderr, "cannot run tmux kill-server\n");
        zstr_free (&line);
        *s_server = 0;
    }
}

//  A tmux server of our own with one window of width x height running
//  sh with a known prompt; killed when the test exits, whatever happens
static void
s_tmux_start (const char *name, int width, int height)
{
    snprintf (s_server, sizeof (s_server), "zwatch-top-%s-%d", name, (int) getpid ());
    unsetenv ("TMUX");          //  run from inside tmux, still a server of our own
    atexit (s_tmux_kill);
    free (s_tmux ("new-session -d -s top -x %d -y %d 'env PS1=\"prompt> \" sh'", width, height));
}

//  Type text (literally: single-quoted for the shell popen runs) and Enter
static void
s_type_line (const char *text)
{
    char *quoted = (char *) zmalloc (strlen (text) * 4 + 1);
    char *at = quoted;
    for (; *text; text++)
        if (*text == '\'') {
            memcpy (at, "'\\''", 4);
            at += 4;
        }
        else
            *at++ = *text;
    free (s_tmux ("send-keys -t top -l '%s'", quoted));
    free (s_tmux ("send-keys -t top Enter"));
    free (quoted);
}

//  Press keys (tmux key names: q, Escape, BSpace, C-c)
static void
s_keys (const char *keys)
{
    free (s_tmux ("send-keys -t top %s", keys));
}

static char *
s_screen (void)
{
    return s_tmux ("capture-pane -p -t top");
}

//  The screen once test (needle) holds, the test failing after WAIT_MS
static char *
s_wait (bool (*test) (const char *screen, const void *arg), const void *arg, const char *what)
{
    long long deadline = tu_now_ms () + WAIT_MS;
    while (true) {
        char *screen = s_screen ();
        if (test (screen, arg))
            return screen;
        if (tu_now_ms () > deadline) {
            fprintf (stderr, "no %s in %d ms; the screen:\n%s\n", what, WAIT_MS, screen);
            CHECK (false);
        }
        free (screen);
        zclock_sleep (STEP_MS);
    }
}

static bool
s_has (const char *screen, const void *needle)
{
    return strstr (screen, (const char *) needle) != NULL;
}

static bool
s_lacks (const char *screen, const void *needle)
{
    return strstr (screen, (const char *) needle) == NULL;
}

static void
s_wait_text (const char *needle)
{
    free (s_wait (s_has, needle, needle));
}

static void
s_wait_gone (const char *needle)
{
    char *what = zsys_sprintf ("end of '%s'", needle);
    free (s_wait (s_lacks, needle, what));
    zstr_free (&what);
}

//  The table row of host/svc as its columns (PID SOCKET TYPE CONN RETRY
//  ENDPOINT FAIL), or false if it is not on the screen
typedef struct {
    const char *name;
    const char *sock;
    const char *row;            //  "SOCKET TYPE CONN RETRY ENDPOINT" as wanted
} row_want_t;

static bool
s_row_is (const char *screen, const void *arg)
{
    const row_want_t *want = (const row_want_t *) arg;
    char *copy = strdup (screen);
    bool found = false;
    for (char *line = strtok (copy, "\n"); line && !found; line = strtok (NULL, "\n")) {
        char name [128], pid [32], sock [64], type [32], conns [16], retry [16], endpoint [128];
        if (sscanf (line, "%127s %31s %63s %31s %15s %15s %127s", name, pid, sock, type, conns,
                    retry, endpoint) != 7
        ||  strcmp (name, want->name) || strcmp (sock, want->sock))
            continue;
        char *row = zsys_sprintf ("%s %s %s %s %s", sock, type, conns, retry, endpoint);
        found = strcmp (row, want->row) == 0;
        zstr_free (&row);
    }
    free (copy);
    return found;
}

static bool
s_row_absent (const char *screen, const void *arg)
{
    const row_want_t *want = (const row_want_t *) arg;
    char *copy = strdup (screen);
    bool found = false;
    for (char *line = strtok (copy, "\n"); line && !found; line = strtok (NULL, "\n")) {
        char name [128], pid [32], sock [64];
        found = sscanf (line, "%127s %31s %63s", name, pid, sock) == 3
             && strcmp (name, want->name) == 0 && strcmp (sock, want->sock) == 0;
    }
    free (copy);
    return !found;
}

static void
s_wait_row_gone (const char *name, const char *sock)
{
    row_want_t want = { name, sock, NULL };
    char *what = zsys_sprintf ("end of row '%s %s'", name, sock);
    free (s_wait (s_row_absent, &want, what));
    zstr_free (&what);
}

//  The header says paused, with new events since
static bool
s_paused_with_events (const char *screen, const void *arg)
{
    (void) arg;
    const char *paused = strstr (screen, "PAUSED (");
    return paused && atoi (paused + 8) > 0;
}

static void
s_wait_row (const char *name, const char *sock, const char *row)
{
    row_want_t want = { name, sock, row };
    char *what = zsys_sprintf ("row '%s %s' as '%s'", name, sock, row);
    free (s_wait (s_row_is, &want, what));
    zstr_free (&what);
}

//  zwatch-top on the broker, in the window's shell, saying its exit code
static void
s_top_run (broker_proc_t *broker, const char *env, const char *more)
{
    char *bin = tu_bin ("zwatch-top");
    char *command = zsys_sprintf ("%s %s --connect %s --snapshot %s %s; echo top-exit=$?",
                                  env? env: "", bin, broker_proc_publish (broker),
                                  broker_proc_snapshot (broker), more? more: "");
    s_type_line (command);
    zstr_free (&command);
    zstr_free (&bin);
}

static broker_proc_t *
s_broker (void)
{
    const char *args [] = { "--stats-interval", "1", NULL };
    return broker_proc_new (args, true);
}

//  The line of the screen that starts with prefix, or NULL; caller frees
static char *
s_line_starting (const char *screen, const char *prefix)
{
    for (const char *line = screen; line && *line; ) {
        const char *end = strchr (line, '\n');
        size_t len = end? (size_t) (end - line): strlen (line);
        if (strncmp (line, prefix, strlen (prefix)) == 0)
            return strndup (line, len);
        line = end? end + 1: NULL;
    }
    return NULL;
}


/*  screen  */

static void
s_test_screen (void)
{
    broker_proc_t *broker = s_broker ();
    char *server_ep = tu_free_endpoint ();
    agent_child_t server = agent_child_start (broker_proc_ingest (broker), "top-host", "top-srv",
                                              ZMQ_ROUTER, "api", server_ep, true);
    agent_child_t dealer = agent_child_start (broker_proc_ingest (broker), "top-host", "top-cli",
                                              ZMQ_DEALER, "client", server_ep, false);
    s_tmux_start ("screen", 120, 30);
    s_top_run (broker, NULL, NULL);

    //  Both services, the server listening; the header
    s_wait_text ("feed whole");
    char *listening = zsys_sprintf ("api ROUTER 0 0 %s", server_ep);
    s_wait_row ("top-host/top-srv", "api", listening);
    s_wait_row ("top-host/top-cli", "-", "- - 0 0 -");
    s_wait_text ("broker test-broker  agents 2  ");
    s_wait_text ("HOST/SERVICE");
    s_wait_text (" s sort   / filter   p pause   q quit");

    //  Connect: both rows count it, the events show at the bottom
    agent_child_say (&dealer, 'o');
    char *connected = zsys_sprintf ("api ROUTER 1 0 %s", server_ep);
    s_wait_row ("top-host/top-srv", "api", connected);
    s_wait_row ("top-host/top-cli", "client", "client DEALER 1 0 -");
    char *event = zsys_sprintf ("client(DEALER) CONNECTED %s", server_ep);
    s_wait_text (event);
    zstr_free (&event);
    event = zsys_sprintf ("api(ROUTER) ACCEPTED %s", server_ep);
    s_wait_text (event);
    zstr_free (&event);

    //  Sort by connections: the label says so, the rows stay
    s_keys ("s");
    s_wait_text ("sort conns  ");
    s_wait_row ("top-host/top-srv", "api", connected);

    //  Filter by a service prefix: only top-cli is left, rows and events
    s_keys ("/");
    s_wait_text ("filter (host or service prefix; Enter applies, Esc cancels):");
    free (s_tmux ("send-keys -t top -l top-c"));
    s_keys ("Enter");
    s_wait_text ("filter top-c  sockets 1 of 2");
    s_wait_gone ("top-srv");
    //  A host prefix matches both
    s_keys ("/ BSpace BSpace BSpace BSpace BSpace Enter");
    s_wait_text ("filter -  sockets 2 of 2");
    s_wait_text ("top-host/top-srv");

    //  Close: the connection goes from both rows
    agent_child_say (&dealer, 'c');
    s_wait_row ("top-host/top-srv", "api", listening);
    s_wait_row_gone ("top-host/top-cli", "client");
    s_wait_row ("top-host/top-cli", "-", "- - 0 0 -");
    event = zsys_sprintf ("api(ROUTER) DISCONNECTED %s", server_ep);
    s_wait_text (event);
    zstr_free (&event);

    //  Pause: said in the header; the rows stay as they were while the
    //  server closes its socket (its events are counted), and come back up
    //  to date after
    s_keys ("p");
    s_wait_text ("PAUSED (0 new events)");
    agent_child_say (&server, 'c');
    free (s_wait (s_paused_with_events, NULL, "new events while paused"));
    s_wait_row ("top-host/top-srv", "api", listening);
    s_keys ("p");
    s_wait_gone ("PAUSED");
    s_wait_row ("top-host/top-srv", "-", "- - 0 0 -");

    s_keys ("q");
    s_wait_text ("top-exit=0");
    agent_child_end (&dealer);
    agent_child_end (&server);
    zstr_free (&connected);
    zstr_free (&listening);
    zstr_free (&server_ep);
    s_tmux_kill ();
    broker_proc_destroy (&broker);
}


/*  resize  */

//  The screen is drawn for width x height: the events' separator spans
//  the width, the keys are on the last line
typedef struct {
    int width, height;
} size_want_t;

static bool
s_drawn_for (const char *screen, const void *arg)
{
    const size_want_t *want = (const size_want_t *) arg;
    char *separator = s_line_starting (screen, "-- recent events ");
    bool fits = separator && (int) strlen (separator) == want->width
             && strspn (separator + 17, "-") == strlen (separator + 17);
    free (separator);
    //  Lines: the last one (capture-pane prints height lines) is the keys
    int lines = 0;
    const char *last = screen;
    for (const char *at = screen; *at; at++)
        if (*at == '\n') {
            if (at [1])
                last = at + 1;
            lines++;
        }
    return fits && lines == want->height
        && strncmp (last, " s sort   / filter   p pause   q quit", 37) == 0;
}

static void
s_wait_size (int width, int height)
{
    size_want_t want = { width, height };
    char *what = zsys_sprintf ("screen drawn for %dx%d", width, height);
    free (s_wait (s_drawn_for, &want, what));
    zstr_free (&what);
}

static void
s_test_resize (void)
{
    broker_proc_t *broker = s_broker ();
    char *server_ep = tu_free_endpoint ();
    agent_child_t server = agent_child_start (broker_proc_ingest (broker), "top-host", "top-srv",
                                              ZMQ_ROUTER, "api", server_ep, true);
    s_tmux_start ("resize", 100, 30);
    s_top_run (broker, NULL, NULL);
    s_wait_text ("top-host/top-srv");
    s_wait_size (100, 30);

    free (s_tmux ("resize-window -t top -x 72 -y 16"));
    s_wait_size (72, 16);
    //  The name column's share of 72 columns: the name cut, marked
    s_wait_text ("\ntop-host/top-s~ ");
    free (s_tmux ("resize-window -t top -x 140 -y 40"));
    s_wait_size (140, 40);
    s_wait_text ("top-host/top-srv");

    s_keys ("q");
    s_wait_text ("top-exit=0");
    agent_child_end (&server);
    zstr_free (&server_ep);
    s_tmux_kill ();
    broker_proc_destroy (&broker);
}


/*  quit  */

static bool
s_alternate_on (void)
{
    char *flag = s_tmux ("display-message -p -t top '#{alternate_on}'");
    bool on = flag [0] == '1';
    free (flag);
    return on;
}

//  zwatch-top's screen is gone, the shell's lines are back as they were
static void
s_check_restored (int exits)
{
    char *screen = s_screen ();
    CHECK (!s_alternate_on ());
    CHECK (strstr (screen, "before-top\nprompt>"));
    CHECK (!strstr (screen, "recent events"));
    CHECK (!strstr (screen, "HOST/SERVICE"));
    CHECK_INT_EQ (tu_count (screen, "top-exit=0"), exits);
    free (screen);
}

static void
s_test_quit (void)
{
    broker_proc_t *broker = s_broker ();
    s_tmux_start ("quit", 100, 30);
    s_type_line ("echo before-top");
    s_wait_text ("before-top\nprompt>");
    CHECK (!s_alternate_on ());

    //  q
    s_top_run (broker, NULL, NULL);
    s_wait_text ("feed whole");
    CHECK (s_alternate_on ());
    s_keys ("q");
    s_wait_text ("top-exit=0");
    s_check_restored (1);
    s_type_line ("clear; echo before-top");
    s_wait_gone ("top-exit");

    //  Ctrl-C (SIGINT from the terminal)
    s_top_run (broker, NULL, NULL);
    s_wait_text ("feed whole");
    s_keys ("C-c");
    s_wait_text ("top-exit=0");
    s_check_restored (1);
    s_type_line ("clear; echo before-top");
    s_wait_gone ("top-exit");

    //  SIGTERM, to the pid it wrote before it became zwatch-top
    char *pid_path = tu_temp_path (".pid");
    char *bin = tu_bin ("zwatch-top");
    char *command = zsys_sprintf ("sh -c 'echo $$ > %s; exec %s --connect %s --snapshot %s'; "
                                  "echo top-exit=$?", pid_path, bin, broker_proc_publish (broker),
                                  broker_proc_snapshot (broker));
    s_type_line (command);
    s_wait_text ("feed whole");
    char *pid_text = tu_read_file (pid_path);
    CHECK (pid_text);
    CHECK (kill ((pid_t) atoi (pid_text), SIGTERM) == 0);
    s_wait_text ("top-exit=0");
    s_check_restored (1);

    //  A terminal type that cannot move the cursor
    s_type_line ("clear");
    s_wait_gone ("top-exit");
    s_top_run (broker, "TERM=dumb", NULL);
    s_wait_text ("top-exit=1");
    //  (the line wraps at 100 columns)
    s_wait_text ("zwatch-top: terminal type 'dumb' cannot move the cursor (a full-screen view "
                 "needs it; for lines use");
    CHECK (!s_alternate_on ());

    unlink (pid_path);
    zstr_free (&pid_text);
    zstr_free (&command);
    zstr_free (&bin);
    zstr_free (&pid_path);
    s_tmux_kill ();
    broker_proc_destroy (&broker);
}


/*  not_tty  */

//  zwatch-top with args, stdout to a file: its exit code; *errors its stderr
static int
s_run_plain (const char *const args [], char **errors)
{
    const char *argv [16] = { NULL };
    char *bin = tu_bin ("zwatch-top");
    argv [0] = bin;
    for (size_t index = 0; args [index]; index++)
        argv [index + 1] = args [index];
    char *out_path = tu_temp_path (".out");
    pid_t pid = tu_spawn (argv, NULL, out_path);
    int rc = tu_wait (pid, WAIT_MS);
    *errors = tu_read_errors (out_path);
    char *output = tu_read_file (out_path);
    CHECK (output && *output == 0);
    free (output);
    tu_remove_output (out_path);
    zstr_free (&out_path);
    zstr_free (&bin);
    return rc;
}

static void
s_test_not_tty (void)
{
    broker_proc_t *broker = s_broker ();
    char *errors;
    const char *args [] = { "--connect", broker_proc_publish (broker), "--snapshot",
                            broker_proc_snapshot (broker), NULL };
    CHECK_INT_EQ (s_run_plain (args, &errors), 1);
    CHECK_STR_EQ (errors, "zwatch-top: stdout is not a terminal (zwatch-top draws a full-screen "
                          "view; for lines use zwatch-fleet --watch)\n");
    free (errors);

    const char *bad_flag [] = { "--bogus", NULL };
    CHECK_INT_EQ (s_run_plain (bad_flag, &errors), 2);
    CHECK_STR_EQ (errors, "zwatch-top: unknown or incomplete option '--bogus' (try --help)\n");
    free (errors);
    const char *bad_host [] = { "--host", "a/b", NULL };
    CHECK_INT_EQ (s_run_plain (bad_host, &errors), 2);
    CHECK_STR_EQ (errors, "zwatch-top: invalid host name 'a/b' (1-64 characters of "
                          "A-Za-z0-9._-) (try --help)\n");
    free (errors);
    const char *bad_ep [] = { "--connect", "nowhere", NULL };
    CHECK_INT_EQ (s_run_plain (bad_ep, &errors), 2);
    CHECK_STR_EQ (errors, "zwatch-top: invalid endpoint 'nowhere' (want transport://address) "
                          "(try --help)\n");
    free (errors);
    broker_proc_destroy (&broker);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "screen", s_test_screen },
        { "resize", s_test_resize },
        { "quit", s_test_quit },
        { "not_tty", s_test_not_tty },
    };
    return tu_run_cases (argc, argv, "test_top", cases, sizeof (cases) / sizeof (cases [0]));
}
