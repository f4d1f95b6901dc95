/*  test_history: the broker's history ring on its own, no process, no
    socket: events copied in, the ring keeping the last capacity of them
    as bodies grow and shrink in reused slots (under ASan a copy past a
    slot's buffer fails), the numbering, and a ring that keeps none.  */

#include <string.h>
#include "testutil.h"
#include "zwatch_history.h"

//  An event body that says its number: "event <n>" padded to size bytes
static size_t
s_body (char *buf, size_t size, uint64_t number)
{
    memset (buf, '.', size);
    int len = snprintf (buf, size, "event %llu", (unsigned long long) number);
    buf [len] = '.';
    return size;
}

static void
s_check_event (zwatch_history_t *history, uint64_t number, size_t size)
{
    char expected [512];
    s_body (expected, size, number);
    size_t got_size = 0;
    const uint8_t *got = zwatch_history_get (history, number, &got_size);
    CHECK (got);
    CHECK_INT_EQ (got_size, size);
    CHECK (memcmp (got, expected, size) == 0);
}

//  Events copied in: the ring keeps the last capacity of them
static void
test_ring (void)
{
    zwatch_history_t *history = zwatch_history_new (8);
    CHECK (history);
    char body [512];
    for (uint64_t number = 0; number < 20; number++) {
        size_t size = 40 + (size_t) (number * 37) % 300;      //  slots grow and shrink
        CHECK_INT_EQ (zwatch_history_add (history, body, s_body (body, size, number)), 0);
    }
    CHECK_INT_EQ (zwatch_history_end (history), 20);
    CHECK_INT_EQ (zwatch_history_begin (history), 12);
    CHECK_INT_EQ (zwatch_history_size (history), 8);
    size_t size;
    CHECK (!zwatch_history_get (history, 11, &size));
    CHECK (!zwatch_history_get (history, 20, &size));
    for (uint64_t number = 12; number < 20; number++)
        s_check_event (history, number, 40 + (size_t) (number * 37) % 300);
    zwatch_history_destroy (&history);
    CHECK (!history);
}

//  A ring of 0 keeps nothing, whatever comes
static void
test_none (void)
{
    zwatch_history_t *history = zwatch_history_new (0);
    CHECK (history);
    char body [512];
    CHECK_INT_EQ (zwatch_history_add (history, body, s_body (body, 64, 0)), 0);
    CHECK_INT_EQ (zwatch_history_size (history), 0);
    size_t size;
    CHECK (!zwatch_history_get (history, 0, &size));
    zwatch_history_destroy (&history);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "ring", test_ring }, { "none", test_none }
    };
    return tu_run_cases (argc, argv, "test_history", cases, sizeof (cases) / sizeof (cases [0]));
}
