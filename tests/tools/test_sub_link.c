/*  test_sub_link: what zwatch-sub says about its broker links, linked
    directly: monitor events and the clock go in, exact lines come out.  */

#include <string.h>
#include <zmq.h>
#include "zwatch_sub_link.h"
#include "testutil.h"

#define GAP 1000
#define EP  "tcp://b:1"

//  Feed one event; the line it gives must be expected (NULL: none)
static void
s_event (zwatch_sub_link_t *link, uint16_t code, uint32_t value, int64_t now,
         const char *expected, bool expect_fatal)
{
    bool fatal = !expect_fatal;
    const char *line = zwatch_sub_link_event (link, code, value, EP, now, &fatal);
    if (expected)
        CHECK_STR_EQ (line, expected);
    else
    if (line) {
        fprintf (stderr, "event %u at %lld: unexpected line '%s'\n", code, (long long) now, line);
        exit (1);
    }
    CHECK (fatal == expect_fatal);
}

static void
s_due (zwatch_sub_link_t *link, int64_t now, const char *expected)
{
    const char *line = zwatch_sub_link_due (link, now);
    if (expected)
        CHECK_STR_EQ (line, expected);
    else
    if (line) {
        fprintf (stderr, "due at %lld: unexpected line '%s'\n", (long long) now, line);
        exit (1);
    }
}

//  A broker that goes away and comes back, then a link that flaps
static void
test_restart (void)
{
    zwatch_sub_link_t *link = zwatch_sub_link_new (1, GAP, false, false);
    CHECK (link);
    //  The first connection: nothing to say
    s_event (link, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, 0, NULL, false);
    CHECK_INT_EQ (zwatch_sub_link_wait (link, 0), -1);
    //  Killed: said at once, however often libzmq retries
    s_event (link, ZMQ_EVENT_DISCONNECTED, 12, 5000, "zwatch-sub: broker at '" EP "' unreachable "
             "(connection lost); retrying", false);
    for (int64_t now = 5100; now < 8000; now += 100)
        s_event (link, ZMQ_EVENT_CONNECT_RETRIED, 100, now, NULL, false);
    CHECK_INT_EQ (zwatch_sub_link_wait (link, 8000), -1);
    s_event (link, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, 8200, "zwatch-sub: broker at '" EP "' back "
             "after 3.2 s", false);

    //  Lost and back twice within the gap: one line once the gap has passed
    s_event (link, ZMQ_EVENT_DISCONNECTED, 12, 8300, NULL, false);
    CHECK_INT_EQ (zwatch_sub_link_wait (link, 8300), 900);
    s_event (link, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, 8400, NULL, false);
    s_event (link, ZMQ_EVENT_DISCONNECTED, 12, 8500, NULL, false);
    s_event (link, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, 8650, NULL, false);
    s_due (link, 9199, NULL);
    CHECK_INT_EQ (zwatch_sub_link_wait (link, 9199), 1);
    s_due (link, 9200, "zwatch-sub: broker at '" EP "' was unreachable for 0.1 s (connection "
           "lost), back now (lost 2 times since the last line)");
    s_due (link, 9200, NULL);
    CHECK_INT_EQ (zwatch_sub_link_wait (link, 9200), -1);

    //  Lost, back for a moment, lost again: "again", with the count
    s_event (link, ZMQ_EVENT_DISCONNECTED, 12, 20000, "zwatch-sub: broker at '" EP "' "
             "unreachable (connection lost); retrying", false);
    s_event (link, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, 20100, NULL, false);
    s_event (link, ZMQ_EVENT_DISCONNECTED, 12, 20200, NULL, false);
    s_event (link, ZMQ_EVENT_CONNECT_RETRIED, 100, 20300, NULL, false);
    s_due (link, 21000, "zwatch-sub: broker at '" EP "' unreachable again (connection lost); "
           "retrying (back 1 time since the last line)");
    //  Back, lost and back within the gap: the time away counts from the
    //  line that said it was gone
    s_event (link, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, 21500, NULL, false);
    s_event (link, ZMQ_EVENT_DISCONNECTED, 12, 21600, NULL, false);
    s_event (link, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, 21700, NULL, false);
    s_due (link, 22000, "zwatch-sub: broker at '" EP "' back after 1.7 s (lost again 1 time in "
           "between)");
    s_event (link, ZMQ_EVENT_DISCONNECTED, 12, 23000, "zwatch-sub: broker at '" EP "' "
             "unreachable (connection lost); retrying", false);
    s_event (link, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, 25000, "zwatch-sub: broker at '" EP "' "
             "back after 2.0 s", false);

    //  A link that flaps for a minute makes at most one line a second
    int lines = 0;
    for (int64_t now = 30000; now < 90000; now += 50) {
        bool fatal;
        uint16_t code = (now / 50) % 2? ZMQ_EVENT_DISCONNECTED: ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
        lines += zwatch_sub_link_event (link, code, 0, EP, now, &fatal) != NULL;
        while (zwatch_sub_link_due (link, now))
            lines++;
    }
    CHECK (lines <= 61);
    CHECK (lines >= 59);
    zwatch_sub_link_destroy (&link);
    CHECK (link == NULL);
    zwatch_sub_link_destroy (&link);
}

//  A port that resets every connection: one line, retried, never fatal
static void
test_resets (void)
{
    zwatch_sub_link_t *link = zwatch_sub_link_new (1, GAP, false, false);
    CHECK (link);
    s_event (link, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 104, 0, "zwatch-sub: broker at '" EP "' "
             "unreachable (connected, but the handshake broke off: ECONNRESET); retrying", false);
    for (int64_t now = 1; now < 100000; now += 100) {
        s_event (link, ZMQ_EVENT_DISCONNECTED, 9, now, NULL, false);
        s_event (link, ZMQ_EVENT_CONNECT_RETRIED, 100, now + 50, NULL, false);
        s_event (link, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 104, now + 60, NULL, false);
        s_due (link, now + 70, NULL);
    }
    zwatch_sub_link_destroy (&link);

    //  With CURVE, a wrong server key looks the same: the line says so
    link = zwatch_sub_link_new (1, GAP, true, true);
    s_event (link, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 32, 0, "zwatch-sub: broker at '" EP "' "
             "unreachable (connected, but the handshake broke off: EPIPE; a wrong --server-key "
             "looks like this too); retrying", false);
    zwatch_sub_link_destroy (&link);

    //  Nothing listening at start; then two endpoints, each said on its own
    link = zwatch_sub_link_new (2, GAP, false, false);
    s_event (link, ZMQ_EVENT_CONNECT_RETRIED, 100, 0, "zwatch-sub: broker at '" EP "' unreachable "
             "(cannot connect); retrying", false);
    bool fatal;
    CHECK_STR_EQ (zwatch_sub_link_event (link, ZMQ_EVENT_CONNECT_RETRIED, 100, "ipc://other", 10,
                                         &fatal),
                  "zwatch-sub: broker at 'ipc://other' unreachable (cannot connect); retrying");
    CHECK (!fatal);
    s_event (link, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0, 1500, "zwatch-sub: broker at '" EP "' back "
             "after 1.5 s", false);
    zwatch_sub_link_destroy (&link);
}

//  Refusals that waiting cannot fix: fatal, with what to check
static void
test_refused (void)
{
    struct {
        bool curve, cert;
        uint16_t code;
        uint32_t value;
        const char *line;
    } cases [] = {
        { true, true, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, "refused the handshake "
          "(HANDSHAKE_FAILED_AUTH, 400): key not allowed: check that the public certificate of "
          "--cert is in the broker's --subscribers-allow directory (and this address in its "
          "--allow-ip)" },
        { true, false, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, "refused the handshake "
          "(HANDSHAKE_FAILED_AUTH, 400): key not allowed: without --cert this subscriber has a "
          "fresh key no broker knows; give --cert with a certificate in its --subscribers-allow "
          "directory" },
        { false, false, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, "refused the handshake "
          "(HANDSHAKE_FAILED_AUTH, 400): this address is not allowed: check the broker's "
          "--allow-ip and --deny-ip" },
        { true, true, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 500, "refused the handshake "
          "(HANDSHAKE_FAILED_AUTH, 500): the broker's authentication failed (internal error): "
          "see the broker's log" },
        { true, false, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
          "refused the handshake (HANDSHAKE_FAILED_PROTOCOL, 0x11000002): protocol mismatch: "
          "this subscriber speaks CURVE (--server-key) and the broker does not: drop "
          "--server-key, or start the broker with --curve-secret" },
        { false, false, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
          "refused the handshake (HANDSHAKE_FAILED_PROTOCOL, 0x11000002): protocol mismatch: "
          "the broker speaks CURVE and this subscriber does not: give --server-key (the "
          "broker's public key) and --cert" },
        { true, true, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC,
          "refused the handshake (HANDSHAKE_FAILED_PROTOCOL, 0x11000001): protocol mismatch: "
          "the CURVE keys do not fit: check --server-key (the broker's public key) and --cert" },
        { false, false, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
          ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND, "refused the handshake "
          "(HANDSHAKE_FAILED_PROTOCOL, 0x10000001): protocol mismatch: is this a zwatch "
          "broker's publish endpoint?" }
    };
    for (size_t index = 0; index < sizeof (cases) / sizeof (cases [0]); index++) {
        zwatch_sub_link_t *link = zwatch_sub_link_new (1, GAP, cases [index].curve,
                                                       cases [index].cert);
        CHECK (link);
        char expected [1024];
        snprintf (expected, sizeof (expected), "zwatch-sub: the broker at '" EP "' %s",
                  cases [index].line);
        //  Even right after another line: a fatal one is never held back
        s_event (link, ZMQ_EVENT_CONNECT_RETRIED, 100, 0, "zwatch-sub: broker at '" EP "' "
                 "unreachable (cannot connect); retrying", false);
        s_event (link, cases [index].code, cases [index].value, 10, expected, true);
        zwatch_sub_link_destroy (&link);
    }
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "restart", test_restart }, { "resets", test_resets }, { "refused", test_refused }
    };
    return tu_run_cases (argc, argv, "test_sub_link", cases, sizeof (cases) / sizeof (cases [0]));
}
