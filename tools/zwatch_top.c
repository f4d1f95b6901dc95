/*  zwatch-top: a live terminal view of the fleet, on libzwatch-client.

    One poll loop over the terminal's keys and the client's descriptor:
    changes go to the model as they come (zwatch_top_feed), the rows are
    refilled from the client's state and the screen redrawn at most 10
    times a second (and once a second for the rate). q, SIGINT and SIGTERM
    give the terminal back and exit 0 (SIGHUP and a terminal that went
    away end it too). Exit codes: 0 ok, 1 runtime error
    (not a terminal, TERM unusable, the client would not start), 2 usage.
*/

#include <czmq.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include "zwatch.h"
#include "zwatch_client.h"
#include "zwatch_tool_client.h"
#include "zwatch_top_feed.h"
#include "zwatch_top_model.h"
#include "zwatch_top_screen.h"

#define PROGRAM         "zwatch-top"
#define EXIT_RUNTIME    1
#define EXIT_USAGE      2
#define DRAW_MS         100         //  redraws at most this often
#define TICK_MS         1000        //  and at least this often (the rate moves)
#define CHANGES_BATCH   10000       //  changes taken between two looks at the keys

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int signum)
{
    (void) signum;
    s_stop = 1;
}

static void
s_usage (FILE *stream)
{
    fprintf (stream,
        "Usage: " PROGRAM " [OPTION]...\n"
        "A live full-screen view of the fleet from a zwatch broker: agents, their sockets,\n"
        "connections, retrying endpoints and recent failures, and the latest events.\n"
        "\n"
        ZWATCH_TOOL_CLIENT_HELP
        "  --help           this text\n"
        "  --version        show the version and exit\n"
        "\n"
        "Keys: s sort (name, conns, retrying, failures), / filter by host or service prefix\n"
        "(Enter applies, Esc cancels, empty clears), p pause, q quit.\n"
        "\n"
        "Exit codes: 0 ok (q, SIGINT, SIGTERM), 1 runtime error (not a terminal), 2 usage error.\n");
}

//  What the loop holds
typedef struct {
    zwatch_client_t *client;
    zwatch_top_model_t *model;
    zwatch_top_feed_t *feed;
    zwatch_top_screen_t *screen;
    bool typing;                            //  the filter prompt is open
    char typed [ZWATCH_TOP_FILTER_MAX + 1];
    bool quit;
} top_t;

//  One key; returns true if the screen should be redrawn
static bool
s_key (top_t *top, int key)
{
    if (top->typing) {
        size_t len = strlen (top->typed);
        if (key == ZWATCH_TOP_KEY_ENTER) {
            zwatch_top_model_set_filter (top->model, top->typed);
            top->typing = false;
        }
        else
        if (key == ZWATCH_TOP_KEY_ESCAPE)
            top->typing = false;
        else
        if (key == ZWATCH_TOP_KEY_BACKSPACE && len)
            top->typed [len - 1] = 0;
        else
        if (key >= 32 && key < 127 && len < ZWATCH_TOP_FILTER_MAX) {
            top->typed [len] = (char) key;
            top->typed [len + 1] = 0;
        }
        return true;
    }
    switch (key) {
        case 'q': case 'Q':
            top->quit = true;
            return false;
        case 's':
            zwatch_top_model_sort_next (top->model);
            return true;
        case '/': case 'f':
            top->typing = true;
            snprintf (top->typed, sizeof (top->typed), "%s", zwatch_top_model_filter (top->model));
            return true;
        case 'p': case ' ':
            zwatch_top_model_set_paused (top->model, !zwatch_top_model_paused (top->model));
            return true;
        case ZWATCH_TOP_KEY_RESIZE:
            return true;
        default:
            return false;
    }
}

static int
s_run (top_t *top)
{
    int64_t drawn_at = 0;
    bool dirty = true;      //  the model changed since the last draw
    bool redraw = true;     //  draw now, whatever the throttle
    while (!s_stop && !top->quit) {
        int64_t now = zclock_mono ();
        if (redraw || (dirty && now - drawn_at >= DRAW_MS) || now - drawn_at >= TICK_MS) {
            if (!zwatch_top_model_paused (top->model))
                zwatch_top_feed_fill (top->feed, top->client, now);
            zwatch_top_screen_draw (top->screen, top->model, top->typing? top->typed: NULL, now);
            drawn_at = now;
            dirty = redraw = false;
        }
        //  Wake for keys, the client, the next draw; the client's timers need
        //  a call at least every 500 ms
        int timeout = (int) (drawn_at + (dirty? DRAW_MS: TICK_MS) - now);
        if (timeout > 500)
            timeout = 500;
        if (timeout < 0)
            timeout = 0;
        struct pollfd fds [2] = {
            { .fd = STDIN_FILENO, .events = POLLIN },
            { .fd = zwatch_client_fd (top->client), .events = POLLIN }
        };
        //  EINTR: a signal (SIGWINCH comes back as a resize key, the others stop us)
        if (poll (fds, 2, timeout) > 0 && fds [0].revents & (POLLHUP | POLLERR | POLLNVAL))
            break;              //  the terminal went away (an ssh session dropped)
        now = zclock_mono ();
        for (size_t count = 0; count < CHANGES_BATCH; count++) {
            const zwatch_change_t *change = zwatch_client_next (top->client, 0);
            if (!change)
                break;
            zwatch_top_feed_apply (top->feed, change, now);
            dirty = true;
        }
        for (int key = zwatch_top_screen_key (top->screen); key != ZWATCH_TOP_KEY_NONE;
             key = zwatch_top_screen_key (top->screen))
            if (s_key (top, key))
                redraw = true;
    }
    return 0;
}

int
main (int argc, char *argv [])
{
    enum { OPT_HELP = 1, OPT_VERSION };
    static const struct option options [] = {
        ZWATCH_TOOL_CLIENT_OPTIONS,
        { "help", no_argument, NULL, OPT_HELP },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 }
    };
    //  CZMQ installs no handlers of its own (before anything starts it)
    zsys_handler_set (NULL);
    zwatch_tool_client_t *flags = zwatch_tool_client_new (PROGRAM);
    if (!flags) {
        fprintf (stderr, PROGRAM ": out of memory\n");
        return EXIT_RUNTIME;
    }
    int option, rc = -1;
    opterr = 0;
    while (rc < 0 && (option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (zwatch_tool_client_has (option)) {
            if (zwatch_tool_client_take (flags, option, optarg) != 0)
                rc = EXIT_USAGE;
        }
        else
        if (option == OPT_HELP) {
            s_usage (stdout);
            rc = 0;
        }
        else
        if (option == OPT_VERSION) {
            printf (PROGRAM " " ZWATCH_VERSION_STRING "\n");
            rc = 0;
        }
        else
            rc = zwatch_tool_client_usage_error (flags, "unknown or incomplete option '%s'",
                                                 argv [optind - 1]);
    }
    if (rc < 0 && optind < argc)
        rc = zwatch_tool_client_usage_error (flags, "unexpected argument '%s'", argv [optind]);
    top_t top = { NULL };
    if (rc < 0) {
        top.client = zwatch_tool_client_make (flags);
        if (!top.client)
            rc = EXIT_USAGE;
    }
    zwatch_tool_client_destroy (&flags);
    if (rc >= 0)
        return rc;

    //  Our handlers first: curses then leaves SIGINT / SIGTERM to us and
    //  keeps SIGWINCH for itself (it turns it into a resize key)
    struct sigaction action;
    memset (&action, 0, sizeof (action));
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGHUP, &action, NULL);

    char error [256];
    top.screen = zwatch_top_screen_new (error, sizeof (error));
    if (!top.screen) {
        fprintf (stderr, PROGRAM ": %s\n", error);
        zwatch_client_destroy (&top.client);
        return EXIT_RUNTIME;
    }
    top.model = zwatch_top_model_new ();
    top.feed = top.model? zwatch_top_feed_new (top.model): NULL;
    if (!top.feed || zwatch_client_start (top.client) != 0) {
        const char *why = top.feed? zwatch_client_error (top.client): "out of memory";
        zwatch_top_screen_destroy (&top.screen);
        fprintf (stderr, PROGRAM ": %s\n", why);
        rc = EXIT_RUNTIME;
    }
    else
        rc = s_run (&top);
    zwatch_top_screen_destroy (&top.screen);
    zwatch_top_feed_destroy (&top.feed);
    zwatch_top_model_destroy (&top.model);
    zwatch_client_destroy (&top.client);
    return rc;
}
