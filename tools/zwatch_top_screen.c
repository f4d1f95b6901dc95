/*  zwatch_top_screen: zwatch-top's terminal through ncurses (see header).  */

#include <curses.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <unistd.h>
#include "zwatch_top_screen.h"
#include "zwatch_fleet_view.h"

#define KEYS_TEXT   " s sort   / filter   p pause   q quit"

struct _zwatch_top_screen_t {
    SCREEN *screen;
};

//  The terminal can be used: stdout and stdin are one, TERM names a type
//  terminfo knows, and it can move the cursor
static int
s_usable (char *error, size_t size)
{
    if (!isatty (STDOUT_FILENO)) {
        snprintf (error, size, "stdout is not a terminal (zwatch-top draws a full-screen view; "
                  "for lines use zwatch-fleet --watch)");
        return -1;
    }
    if (!isatty (STDIN_FILENO)) {
        snprintf (error, size, "stdin is not a terminal (zwatch-top reads its keys there)");
        return -1;
    }
    const char *type = getenv ("TERM");
    if (!type || !*type) {
        snprintf (error, size, "TERM is not set (set it to your terminal's type, e.g. xterm)");
        return -1;
    }
    int rc;
    if (setupterm (NULL, STDOUT_FILENO, &rc) != OK) {
        snprintf (error, size, rc == -1? "no terminfo database found (TERM '%s')"
                                       : "terminal type '%s' is not known to terminfo", type);
        return -1;
    }
    const char *cup = tigetstr ("cup");
    bool moves = cup && cup != (const char *) -1;
    del_curterm (cur_term);
    if (!moves) {
        snprintf (error, size, "terminal type '%s' cannot move the cursor (a full-screen view "
                  "needs it; for lines use zwatch-fleet --watch)", type);
        return -1;
    }
    return 0;
}

zwatch_top_screen_t *
zwatch_top_screen_new (char *error, size_t size)
{
    if (s_usable (error, size) != 0)
        return NULL;
    zwatch_top_screen_t *self = (zwatch_top_screen_t *) calloc (1, sizeof (zwatch_top_screen_t));
    if (!self) {
        snprintf (error, size, "out of memory");
        return NULL;
    }
    self->screen = newterm (NULL, stdout, stdin);
    if (!self->screen) {
        snprintf (error, size, "cannot start curses on this terminal (TERM '%s')", getenv ("TERM"));
        free (self);
        return NULL;
    }
    set_term (self->screen);
    cbreak ();                  //  keys at once; Ctrl-C stays SIGINT
    noecho ();
    nodelay (stdscr, TRUE);
    keypad (stdscr, TRUE);
    set_escdelay (50);          //  Esc alone cancels the filter prompt quickly
    curs_set (0);
    return self;
}

void
zwatch_top_screen_destroy (zwatch_top_screen_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_top_screen_t *self = *self_p;
    curs_set (1);
    endwin ();                  //  leaves the alternate screen: the shell is back
    delscreen (self->screen);
    free (self);
    *self_p = NULL;
}

int
zwatch_top_screen_key (zwatch_top_screen_t *self)
{
    (void) self;
    int key = getch ();
    switch (key) {
        case ERR: return ZWATCH_TOP_KEY_NONE;
        case KEY_RESIZE: return ZWATCH_TOP_KEY_RESIZE;
        case '\n': case '\r': case KEY_ENTER: return ZWATCH_TOP_KEY_ENTER;
        case 27: return ZWATCH_TOP_KEY_ESCAPE;
        case KEY_BACKSPACE: case 127: case 8: return ZWATCH_TOP_KEY_BACKSPACE;
        default:
            return key >= 32 && key < 127? key: ZWATCH_TOP_KEY_OTHER;
    }
}

//  One line at y, cut at the screen's width
static void
s_put (int y, int attr, const char *format, ...)
{
    char text [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof (text), format, args);
    va_end (args);
    int width = COLS;
    attron (attr);
    mvaddnstr (y, 0, text, width);
    if (attr) {
        //  Reverse video over the whole line
        int len = (int) strlen (text);
        for (int x = len; x < width; x++)
            mvaddch (y, x, ' ');
    }
    attroff (attr);
}

static const char *
s_feed_text (char *buf, size_t size, const zwatch_top_header_t *header)
{
    const char *state = header->feed == ZWATCH_TOP_FEED_WHOLE? "whole"
                      : header->feed == ZWATCH_TOP_FEED_RESYNCING? "resyncing"
                      : header->feed == ZWATCH_TOP_FEED_UNREACHABLE? "unreachable": "starting";
    if (*header->reason)
        snprintf (buf, size, "%s (%s)", state, header->reason);
    else
        snprintf (buf, size, "%s", state);
    return buf;
}

static void
s_header (zwatch_top_model_t *model, const char *typing, int64_t now)
{
    zwatch_top_header_t *header = zwatch_top_model_header (model);
    char feed [64], lost [24];
    if (header->lost_known)
        snprintf (lost, sizeof (lost), "%" PRIu64, header->lost);
    else
        snprintf (lost, sizeof (lost), "-");
    s_put (0, A_BOLD, "zwatch-top  broker %s  agents %zu  events/s %.1f  lost %s  dropped %"
           PRIu64 "  feed %s", *header->broker? header->broker: "-", header->agents,
           zwatch_top_model_rate (model, now), lost, header->dropped,
           s_feed_text (feed, sizeof (feed), header));
    if (typing) {
        s_put (1, 0, "filter (host or service prefix; Enter applies, Esc cancels): %s", typing);
        move (1, (int) strlen ("filter (host or service prefix; Enter applies, Esc cancels): ")
                 + (int) strlen (typing));
        return;
    }
    char paused [64] = "";
    if (zwatch_top_model_paused (model))
        snprintf (paused, sizeof (paused), "  PAUSED (%" PRIu64 " new events)",
                  zwatch_top_model_events_since_pause (model));
    char dropped [48] = "";
    if (zwatch_top_model_rows_dropped (model))
        snprintf (dropped, sizeof (dropped), " (%zu not held)", zwatch_top_model_rows_dropped (model));
    const char *filter = zwatch_top_model_filter (model);
    s_put (1, 0, "sort %s  filter %s  sockets %zu of %zu%s%s",
           zwatch_top_sort_name (zwatch_top_model_sort (model)), *filter? filter: "-",
           zwatch_top_model_shown (model), zwatch_top_model_rows (model), dropped, paused);
}

//  Column widths for a screen width
typedef struct {
    int name, sock, endpoint, last;
} widths_t;

//  PID 7, TYPE 6, CONN 4, RETRY 5, FAIL 4, and 8 spaces between the 9 columns
#define FIXED_COLUMNS   34

//  Width of a column for its longest text, within [low, high]
static int
s_fit (int longest, int low, int high)
{
    return longest < low? low: longest > high? (high > low? high: low): longest;
}

//  The endpoint as the table shows it: listening, else retrying, else "-"
static const char *
s_endpoint (char *buf, size_t size, const zwatch_top_row_t *row)
{
    if (*row->listen)
        snprintf (buf, size, "%s", row->listen);
    else
    if (*row->retry)
        snprintf (buf, size, "-> %s", row->retry);
    else
        snprintf (buf, size, "-");
    return buf;
}

//  Name, socket and endpoint columns as wide as their longest shown text,
//  each within a share of the width; the last failure gets the rest
static widths_t
s_widths (zwatch_top_model_t *model, int width)
{
    int rest = width - FIXED_COLUMNS;
    if (rest < 24)
        rest = 24;              //  narrower screens cut the line instead
    int name = 0, sock = 0, endpoint = 0;
    for (size_t index = 0; index < zwatch_top_model_shown (model); index++) {
        const zwatch_top_row_t *row = zwatch_top_model_shown_row (model, index);
        char text [ZWATCH_ENDPOINT_MAX + 8];
        int len = (int) (strlen (row->host) + 1 + strlen (row->svc));
        name = len > name? len: name;
        len = (int) strlen (row->sock);
        sock = len > sock? len: sock;
        len = (int) strlen (s_endpoint (text, sizeof (text), row));
        endpoint = len > endpoint? len: endpoint;
    }
    widths_t widths;
    widths.name = s_fit (name, 12, rest * 40 / 100);
    widths.sock = s_fit (sock, 6, (rest - widths.name) * 30 / 100);
    widths.endpoint = s_fit (endpoint, 8, (rest - widths.name - widths.sock) * 55 / 100);
    widths.last = rest - widths.name - widths.sock - widths.endpoint;
    return widths;
}

static void
s_table (zwatch_top_model_t *model, int top, int height)
{
    widths_t w = s_widths (model, COLS);
    s_put (top, A_REVERSE, "%-*s %7s %-*s %-6s %4s %5s %-*s %4s %s", w.name, "HOST/SERVICE", "PID",
           w.sock, "SOCKET", "TYPE", "CONN", "RETRY", w.endpoint, "ENDPOINT", "FAIL",
           "LAST FAILURE");
    size_t shown = zwatch_top_model_shown (model);
    for (int line = 0; line < height - 1; line++) {
        const zwatch_top_row_t *row = zwatch_top_model_shown_row (model, (size_t) line);
        if (!row)
            break;
        //  The last line says how many more there are, when they do not fit
        if (line == height - 2 && shown > (size_t) line + 1) {
            s_put (top + 1 + line, 0, "... %zu more (filter with /)", shown - (size_t) line);
            break;
        }
        char name [ZWATCH_HOST_MAX + ZWATCH_SVC_MAX + 2];
        snprintf (name, sizeof (name), "%s/%s", row->host, row->svc);
        char name_cut [128], sock_cut [128], type_cut [8], ep_cut [300], last_cut [80];
        char endpoint [ZWATCH_ENDPOINT_MAX + 8];
        s_endpoint (endpoint, sizeof (endpoint), row);
        char fails [24] = "-";
        if (row->failures)
            snprintf (fails, sizeof (fails), "%zu", row->failures);
        s_put (top + 1 + line, 0, "%-*s %7" PRIu64 " %-*s %-6s %4zu %5zu %-*s %4s %s", w.name,
               zwatch_fleet_view_cut (name_cut, name, (size_t) w.name), row->pid, w.sock,
               zwatch_fleet_view_cut (sock_cut, *row->sock? row->sock: "-", (size_t) w.sock),
               zwatch_fleet_view_cut (type_cut, *row->stype? row->stype: "-", 6), row->conns,
               row->retrying, w.endpoint,
               zwatch_fleet_view_cut (ep_cut, endpoint, (size_t) w.endpoint), fails,
               zwatch_fleet_view_cut (last_cut, *row->failure? row->failure: "-",
                                      (size_t) (w.last > 1? w.last: 1)));
    }
}

void
zwatch_top_screen_draw (zwatch_top_screen_t *self, zwatch_top_model_t *model, const char *typing,
                        int64_t now)
{
    (void) self;
    erase ();
    int height = LINES, width = COLS;
    //  Header (2), table header, separator, keys: 5 lines; the rest 2/3
    //  table, 1/3 events
    int rest = height - 5;
    int events = rest >= 3? rest / 3: 0;
    int table = rest - events;
    if (rest > 0) {
        s_table (model, 2, table + 1);
        char line [1024];
        int len = snprintf (line, sizeof (line), "-- recent events ");
        for (; len < width && len < (int) sizeof (line) - 1; len++)
            line [len] = '-';
        line [len] = 0;
        s_put (3 + table, 0, "%s", line);
        for (int index = 0; index < events; index++) {
            const char *text = zwatch_top_model_event (model, (size_t) (events - 1 - index));
            if (text)
                s_put (4 + table + index, 0, "%s", text);
        }
    }
    if (height > 1)
        s_put (height - 1, A_REVERSE, "%s", KEYS_TEXT);
    if (height > 0)
        s_header (model, typing, now);
    curs_set (typing? 1: 0);
    refresh ();
}
