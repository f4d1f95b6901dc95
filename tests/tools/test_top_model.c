/*  test_top_model: zwatch-top's model linked directly (no curses, no
    client): sort orders, the filter on rows and events, failures over the
    last minute, the bounded events ring and pause, the event rate.  */

#include <czmq.h>
#include "zwatch_top_model.h"
#include "testutil.h"

static void
s_row (zwatch_top_model_t *model, const char *host, const char *svc, uint64_t pid,
       const char *sock, size_t conns, size_t retrying, size_t failures)
{
    zwatch_top_row_t row;
    memset (&row, 0, sizeof (row));
    snprintf (row.host, sizeof (row.host), "%s", host);
    snprintf (row.svc, sizeof (row.svc), "%s", svc);
    row.pid = pid;
    snprintf (row.sock, sizeof (row.sock), "%s", sock);
    row.conns = conns;
    row.retrying = retrying;
    row.failures = failures;
    CHECK_INT_EQ (zwatch_top_model_row_add (model, &row), 0);
}

//  The shown rows as "svc/sock svc/sock ..."
static char *
s_order (zwatch_top_model_t *model)
{
    char *text = strdup ("");
    for (size_t index = 0; index < zwatch_top_model_shown (model); index++) {
        const zwatch_top_row_t *row = zwatch_top_model_shown_row (model, index);
        char *more = zsys_sprintf ("%s%s%s/%s", text, index? " ": "", row->svc, row->sock);
        free (text);
        text = more;
    }
    return text;
}

static void
s_check_order (zwatch_top_model_t *model, const char *expected)
{
    char *order = s_order (model);
    CHECK_STR_EQ (order, expected);
    free (order);
}

static void
s_test_rows (void)
{
    zwatch_top_model_t *model = zwatch_top_model_new ();
    CHECK (model);
    s_row (model, "web-2", "api", 20, "b", 1, 0, 5);
    s_row (model, "db-1", "store", 10, "main", 4, 0, 0);
    s_row (model, "web-1", "api", 30, "a", 1, 2, 1);
    s_row (model, "web-1", "api", 30, "", 0, 0, 0);
    CHECK_INT_EQ (zwatch_top_model_rows (model), 4);
    CHECK_STR_EQ (zwatch_top_sort_name (zwatch_top_model_sort (model)), "name");
    s_check_order (model, "store/main api/ api/a api/b");
    zwatch_top_model_sort_next (model);
    CHECK_STR_EQ (zwatch_top_sort_name (zwatch_top_model_sort (model)), "conns");
    //  Ties by name
    s_check_order (model, "store/main api/a api/b api/");
    zwatch_top_model_sort_next (model);
    CHECK_STR_EQ (zwatch_top_sort_name (zwatch_top_model_sort (model)), "retrying");
    s_check_order (model, "api/a store/main api/ api/b");
    zwatch_top_model_sort_next (model);
    CHECK_STR_EQ (zwatch_top_sort_name (zwatch_top_model_sort (model)), "failures");
    s_check_order (model, "api/b api/a store/main api/");
    zwatch_top_model_sort_next (model);
    CHECK_STR_EQ (zwatch_top_sort_name (zwatch_top_model_sort (model)), "name");

    //  Filter: a host or service prefix
    zwatch_top_model_set_filter (model, "web-1");
    s_check_order (model, "api/ api/a");
    zwatch_top_model_set_filter (model, "st");
    s_check_order (model, "store/main");
    zwatch_top_model_set_filter (model, "web");
    s_check_order (model, "api/ api/a api/b");
    CHECK (zwatch_top_model_matches (model, "web-9", "x"));
    CHECK (!zwatch_top_model_matches (model, "db-1", "store"));
    zwatch_top_model_set_filter (model, "nothing");
    CHECK_INT_EQ (zwatch_top_model_shown (model), 0);
    CHECK (zwatch_top_model_shown_row (model, 0) == NULL);
    zwatch_top_model_set_filter (model, "");
    CHECK_INT_EQ (zwatch_top_model_shown (model), 4);

    //  Refilled from scratch
    zwatch_top_model_rows_clear (model);
    CHECK_INT_EQ (zwatch_top_model_shown (model), 0);
    s_row (model, "h", "s", 1, "x", 0, 0, 0);
    s_check_order (model, "s/x");
    zwatch_top_model_destroy (&model);
    CHECK (model == NULL);
    zwatch_top_model_destroy (&model);
}

static void
s_test_failures (void)
{
    zwatch_top_model_t *model = zwatch_top_model_new ();
    const char *last;
    int64_t t0 = 1000000;
    CHECK_INT_EQ (zwatch_top_model_failures (model, "h", "s", 1, "a", t0, &last), 0);
    CHECK (last == NULL);
    zwatch_top_model_failure (model, "h", "s", 1, "a", "BIND_FAILED EADDRINUSE", t0);
    zwatch_top_model_failure (model, "h", "s", 1, "a", "HANDSHAKE_FAILED_AUTH", t0 + 20000);
    zwatch_top_model_failure (model, "h", "s", 2, "a", "ACCEPT_FAILED EMFILE", t0);
    CHECK_INT_EQ (zwatch_top_model_failures (model, "h", "s", 1, "a", t0 + 20000, &last), 2);
    CHECK_STR_EQ (last, "HANDSHAKE_FAILED_AUTH");
    CHECK_INT_EQ (zwatch_top_model_failures (model, "h", "s", 2, "a", t0 + 20000, NULL), 1);
    CHECK_INT_EQ (zwatch_top_model_failures (model, "h", "s", 1, "b", t0 + 20000, NULL), 0);
    //  A minute on, the first one is out of the window
    CHECK_INT_EQ (zwatch_top_model_failures (model, "h", "s", 1, "a", t0 + 65000, NULL), 1);
    CHECK_INT_EQ (zwatch_top_model_failures (model, "h", "s", 1, "a", t0 + 85000, &last), 0);
    CHECK (last == NULL);
    //  Expired sockets are forgotten: the bound is on those of the last minute
    zwatch_top_model_failures_expire (model, t0 + 85000);
    for (int index = 0; index < ZWATCH_TOP_FAILURE_KEYS + 10; index++) {
        char sock [32];
        snprintf (sock, sizeof (sock), "s%d", index);
        zwatch_top_model_failure (model, "h", "s", 1, sock, "CLOSE_FAILED", t0 + 90000);
    }
    CHECK_INT_EQ (zwatch_top_model_failures_untracked (model), 10);
    CHECK_INT_EQ (zwatch_top_model_failures (model, "h", "s", 1, "s0", t0 + 90000, NULL), 1);
    zwatch_top_model_destroy (&model);
}

static void
s_test_events (void)
{
    zwatch_top_model_t *model = zwatch_top_model_new ();
    CHECK (zwatch_top_model_event (model, 0) == NULL);
    zwatch_top_model_event_add (model, "web-1", "api", "one");
    zwatch_top_model_event_add (model, NULL, NULL, "resync");
    zwatch_top_model_event_add (model, "db-1", "store", "two");
    CHECK_STR_EQ (zwatch_top_model_event (model, 0), "two");
    CHECK_STR_EQ (zwatch_top_model_event (model, 1), "resync");
    CHECK_STR_EQ (zwatch_top_model_event (model, 2), "one");
    CHECK (zwatch_top_model_event (model, 3) == NULL);
    //  The filter hides other agents' lines, not the client's own
    zwatch_top_model_set_filter (model, "api");
    CHECK_STR_EQ (zwatch_top_model_event (model, 0), "resync");
    CHECK_STR_EQ (zwatch_top_model_event (model, 1), "one");
    CHECK (zwatch_top_model_event (model, 2) == NULL);
    zwatch_top_model_set_filter (model, NULL);

    //  Paused: the lines as they were, the new ones counted
    zwatch_top_model_set_paused (model, true);
    CHECK_INT_EQ (zwatch_top_model_events_since_pause (model), 0);
    zwatch_top_model_event_add (model, "db-1", "store", "three");
    CHECK_STR_EQ (zwatch_top_model_event (model, 0), "two");
    CHECK_INT_EQ (zwatch_top_model_events_since_pause (model), 1);
    zwatch_top_model_set_paused (model, false);
    CHECK_STR_EQ (zwatch_top_model_event (model, 0), "three");
    CHECK_INT_EQ (zwatch_top_model_events_since_pause (model), 0);

    //  Bounded: the oldest go
    for (int index = 0; index < ZWATCH_TOP_EVENTS_MAX + 5; index++) {
        char line [32];
        snprintf (line, sizeof (line), "line %d", index);
        zwatch_top_model_event_add (model, "h", "s", line);
    }
    CHECK_STR_EQ (zwatch_top_model_event (model, 0), "line 260");
    CHECK_STR_EQ (zwatch_top_model_event (model, ZWATCH_TOP_EVENTS_MAX - 1), "line 5");
    CHECK (zwatch_top_model_event (model, ZWATCH_TOP_EVENTS_MAX) == NULL);
    zwatch_top_model_destroy (&model);
}

static void
s_test_rate (void)
{
    zwatch_top_model_t *model = zwatch_top_model_new ();
    int64_t t0 = 1000000;
    CHECK (zwatch_top_model_rate (model, t0) == 0);
    //  10 events over 2 s: 5/s; in the first second, over 1 s (3 so far)
    for (int index = 0; index < 3; index++)
        zwatch_top_model_count_event (model, t0 + index * 200);
    CHECK (zwatch_top_model_rate (model, t0 + 500) > 2.9);
    CHECK (zwatch_top_model_rate (model, t0 + 500) < 3.1);
    for (int index = 3; index < 10; index++)
        zwatch_top_model_count_event (model, t0 + index * 200);
    CHECK (zwatch_top_model_rate (model, t0 + 2000) > 4.9);
    CHECK (zwatch_top_model_rate (model, t0 + 2000) < 5.1);
    //  After the 5 s window, none
    CHECK (zwatch_top_model_rate (model, t0 + 8000) == 0);
    zwatch_top_model_destroy (&model);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "rows", s_test_rows },
        { "failures", s_test_failures },
        { "events", s_test_events },
        { "rate", s_test_rate },
    };
    return tu_run_cases (argc, argv, "test_top_model", cases, sizeof (cases) / sizeof (cases [0]));
}
