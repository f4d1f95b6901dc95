/*  test_fold: the agent's fold table on its own, with a clock of our own:
    which events of a storm go out at once, what the summaries say (count,
    since, the last one's ts and value), that counts stay exact, the key
    bound (what does not fit is sent and counted), the release of a
    socket's keys (nothing held is lost), the events that never fold, and
    the table under many keys (growth, removal).  */

#include <string.h>
#include <zmq.h>
#include "testutil.h"
#include "zwatch_fold.h"

#define EMITTED_MAX 4096

//  What the table emitted, in order
typedef struct {
    size_t size;
    struct {
        char sock [32];
        uint32_t code;
        uint64_t count;
        uint64_t since;
        uint64_t ts;
        int64_t value;
    } msgs [EMITTED_MAX];
} emitted_t;

static void
s_emit (void *arg, zwatch_msg_t *msg)
{
    emitted_t *emitted = (emitted_t *) arg;
    CHECK (emitted->size < EMITTED_MAX);
    CHECK (msg->count >= 1);
    CHECK (msg->count >= 2 || msg->since == 0);
    snprintf (emitted->msgs [emitted->size].sock, 32, "%.*s", (int) msg->sock.len, msg->sock.ptr);
    emitted->msgs [emitted->size].code = msg->code;
    emitted->msgs [emitted->size].count = msg->count;
    emitted->msgs [emitted->size].since = msg->since;
    emitted->msgs [emitted->size].ts = msg->ts;
    emitted->msgs [emitted->size].value = msg->value;
    emitted->size++;
}

static uint64_t
s_counted (emitted_t *emitted)
{
    uint64_t sum = 0;
    for (size_t index = 0; index < emitted->size; index++)
        sum += emitted->msgs [index].count;
    return sum;
}

static zwatch_msg_t
s_msg (const char *sock, uint32_t code, const char *endpoint, uint64_t ts, int64_t value)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.sock = (zwatch_str_t) { sock, strlen (sock) };
    msg.stype = (zwatch_str_t) { "DEALER", 6 };
    msg.code = code;
    msg.endpoint = (zwatch_str_t) { endpoint, strlen (endpoint) };
    msg.ts = ts;
    msg.value = value;
    return msg;
}

//  A storm of one key, one event a msec for 3.5 s: the first three go out
//  at once, then one summary a second, the last one at release; every
//  event is counted once
static void
test_storm (void)
{
    zwatch_fold_t *fold = zwatch_fold_new (0);
    CHECK (fold);
    static emitted_t emitted;
    memset (&emitted, 0, sizeof (emitted));
    int owner;
    uint64_t sent = 0, held = 0;
    int64_t now = 1000000;
    for (int index = 0; index < 3500; index++, now++) {
        zwatch_msg_t msg = s_msg ("s", ZMQ_EVENT_CONNECT_RETRIED, "tcp://127.0.0.1:1",
                                  (uint64_t) now * 1000000, index);
        zwatch_fold_tick (fold, now, s_emit, &emitted);
        zwatch_fold_verdict_t verdict = zwatch_fold_event (fold, &owner, &msg, now, s_emit,
                                                           &emitted);
        CHECK (verdict != ZWATCH_FOLD_FULL);
        if (verdict == ZWATCH_FOLD_SEND)
            sent++;
        else
            held++;
        //  The first of the storm and the two after it go out at once
        if (index < ZWATCH_FOLD_AFTER)
            CHECK_INT_EQ (verdict, ZWATCH_FOLD_SEND);
    }
    CHECK_INT_EQ (sent, ZWATCH_FOLD_AFTER);
    //  Summaries at 1 s, 2 s and 3 s after the first held one
    CHECK_INT_EQ (emitted.size, 3);
    CHECK_INT_EQ (emitted.msgs [0].count, 1000);
    CHECK_INT_EQ (emitted.msgs [0].since, (uint64_t) (1000000 + 3) * 1000000);
    CHECK_INT_EQ (emitted.msgs [0].ts, (uint64_t) (1000000 + 1002) * 1000000);
    CHECK_INT_EQ (emitted.msgs [0].value, 1002);
    CHECK_INT_EQ (emitted.msgs [0].code, ZMQ_EVENT_CONNECT_RETRIED);
    CHECK_STR_EQ (emitted.msgs [0].sock, "s");
    CHECK_INT_EQ (emitted.msgs [1].count, 1000);
    CHECK (zwatch_fold_due (fold) > 0);
    //  Closing the socket sends the rest at once
    zwatch_fold_release (fold, &owner, s_emit, &emitted);
    CHECK_INT_EQ (emitted.size, 4);
    CHECK_INT_EQ (emitted.msgs [3].count, 3500 - 3 - 3000);
    CHECK_INT_EQ (emitted.msgs [3].value, 3499);
    CHECK_INT_EQ (s_counted (&emitted), held);
    CHECK_INT_EQ (sent + s_counted (&emitted), 3500);
    CHECK_INT_EQ (zwatch_fold_size (fold), 0);
    CHECK_INT_EQ (zwatch_fold_due (fold), 0);
    zwatch_fold_destroy (&fold);
    CHECK (!fold);
}

//  A storm that stops: its summary comes a second after its first held
//  event, then a second of quiet ends it and the next event goes out at once
static void
test_storm_stops (void)
{
    zwatch_fold_t *fold = zwatch_fold_new (0);
    static emitted_t emitted;
    memset (&emitted, 0, sizeof (emitted));
    int owner;
    int64_t now = 5000;
    for (int index = 0; index < 10; index++, now += 10) {
        zwatch_msg_t msg = s_msg ("s", ZMQ_EVENT_CLOSED, "tcp://x:1", (uint64_t) now, 7);
        zwatch_fold_verdict_t verdict = zwatch_fold_event (fold, &owner, &msg, now, s_emit,
                                                           &emitted);
        CHECK_INT_EQ (verdict, index < 3? ZWATCH_FOLD_SEND: ZWATCH_FOLD_HELD);
    }
    //  Held from 5030 on: nothing before 6030, the 7 of them then
    CHECK_INT_EQ (zwatch_fold_due (fold), 6030);
    zwatch_fold_tick (fold, 6029, s_emit, &emitted);
    CHECK_INT_EQ (emitted.size, 0);
    zwatch_fold_tick (fold, 6030, s_emit, &emitted);
    CHECK_INT_EQ (emitted.size, 1);
    CHECK_INT_EQ (emitted.msgs [0].count, 7);
    CHECK_INT_EQ (emitted.msgs [0].since, 5030);
    CHECK_INT_EQ (emitted.msgs [0].ts, 5090);
    CHECK_INT_EQ (zwatch_fold_due (fold), 0);
    //  A second after the storm's last event (5090): a new storm
    zwatch_msg_t msg = s_msg ("s", ZMQ_EVENT_CLOSED, "tcp://x:1", 6090, 7);
    CHECK_INT_EQ (zwatch_fold_event (fold, &owner, &msg, 6090, s_emit, &emitted),
                  ZWATCH_FOLD_SEND);
    //  The quiet key is forgotten at the next sweep
    zwatch_fold_tick (fold, 9000, s_emit, &emitted);
    CHECK_INT_EQ (zwatch_fold_size (fold), 0);
    CHECK_INT_EQ (emitted.size, 1);
    zwatch_fold_destroy (&fold);
}

//  Repeats slower than 4 a second never fold; a lone held event goes out
//  alone, count 1, no since
static void
test_slow_and_single (void)
{
    zwatch_fold_t *fold = zwatch_fold_new (0);
    static emitted_t emitted;
    memset (&emitted, 0, sizeof (emitted));
    int owner;
    for (int64_t now = 0; now < 10000; now += 400) {
        zwatch_msg_t msg = s_msg ("s", ZMQ_EVENT_CONNECT_DELAYED, "tcp://x:1", 1, 0);
        CHECK_INT_EQ (zwatch_fold_event (fold, &owner, &msg, 100000 + now, s_emit, &emitted),
                      ZWATCH_FOLD_SEND);
    }
    for (int index = 0; index < 4; index++) {
        zwatch_msg_t msg = s_msg ("t", ZMQ_EVENT_BIND_FAILED, "tcp://x:2", 50 + index, 98);
        zwatch_fold_event (fold, &owner, &msg, 200000 + index, s_emit, &emitted);
    }
    zwatch_fold_tick (fold, 201003, s_emit, &emitted);
    CHECK_INT_EQ (emitted.size, 1);
    CHECK_INT_EQ (emitted.msgs [0].count, 1);
    CHECK_INT_EQ (emitted.msgs [0].since, 0);
    CHECK_INT_EQ (emitted.msgs [0].ts, 53);
    zwatch_fold_destroy (&fold);
}

//  Events that carry a connection, or make one, never fold; one of them
//  sends what its socket's keys hold first, so it never overtakes them
static void
test_never_folds (void)
{
    zwatch_fold_t *fold = zwatch_fold_new (0);
    static emitted_t emitted;
    memset (&emitted, 0, sizeof (emitted));
    int owner, other;
    for (int index = 0; index < 20; index++) {
        zwatch_msg_t msg = s_msg ("s", ZMQ_EVENT_CONNECTED, "tcp://x:1", 1, index);
        CHECK_INT_EQ (zwatch_fold_event (fold, &owner, &msg, 1000 + index, s_emit, &emitted),
                      ZWATCH_FOLD_SEND);
        msg = s_msg ("s", ZMQ_EVENT_DISCONNECTED, "tcp://x:1", 1, index);
        msg.peer = (zwatch_str_t) { "1.2.3.4:5", 9 };
        CHECK_INT_EQ (zwatch_fold_event (fold, &owner, &msg, 1000 + index, s_emit, &emitted),
                      ZWATCH_FOLD_SEND);
    }
    CHECK_INT_EQ (zwatch_fold_size (fold), 0);
    for (int index = 0; index < 10; index++) {
        zwatch_msg_t msg = s_msg ("s", ZMQ_EVENT_CONNECT_RETRIED, "tcp://x:1", 1, 100);
        zwatch_fold_event (fold, &owner, &msg, 2000 + index, s_emit, &emitted);
        msg = s_msg ("o", ZMQ_EVENT_CONNECT_RETRIED, "tcp://x:1", 1, 100);
        zwatch_fold_event (fold, &other, &msg, 2000 + index, s_emit, &emitted);
    }
    CHECK_INT_EQ (emitted.size, 0);
    zwatch_msg_t connected = s_msg ("s", ZMQ_EVENT_CONNECTED, "tcp://x:1", 1, 9);
    CHECK_INT_EQ (zwatch_fold_event (fold, &owner, &connected, 2010, s_emit, &emitted),
                  ZWATCH_FOLD_SEND);
    //  owner's 7 retries went out before it; other's still wait
    CHECK_INT_EQ (emitted.size, 1);
    CHECK_STR_EQ (emitted.msgs [0].sock, "s");
    CHECK_INT_EQ (emitted.msgs [0].count, 7);
    CHECK_INT_EQ (zwatch_fold_size (fold), 1);
    zwatch_fold_release (fold, NULL, s_emit, &emitted);
    CHECK_INT_EQ (emitted.size, 2);
    CHECK_STR_EQ (emitted.msgs [1].sock, "o");
    CHECK_INT_EQ (emitted.msgs [1].count, 7);
    CHECK (!zwatch_fold_code_folds (ZMQ_EVENT_LISTENING));
    CHECK (!zwatch_fold_code_folds (ZMQ_EVENT_ACCEPTED));
    CHECK (!zwatch_fold_code_folds (ZMQ_EVENT_MONITOR_STOPPED));
    CHECK (!zwatch_fold_code_folds (ZMQ_EVENT_HANDSHAKE_SUCCEEDED));
    CHECK (zwatch_fold_code_folds (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL));
    zwatch_fold_destroy (&fold);
}

//  A table of 4 keys: a fifth storm is sent event by event and counted;
//  once the others are quiet for a second, there is room again
static void
test_bound (void)
{
    zwatch_fold_t *fold = zwatch_fold_new (4);
    static emitted_t emitted;
    memset (&emitted, 0, sizeof (emitted));
    int owners [5];
    uint64_t sent = 0, total = 0;
    for (int index = 0; index < 20; index++)
        for (int key = 0; key < 5; key++) {
            zwatch_msg_t msg = s_msg ("s", ZMQ_EVENT_CONNECT_RETRIED, "tcp://x:1", 1, 0);
            zwatch_fold_verdict_t verdict = zwatch_fold_event (fold, &owners [key], &msg,
                                                               1000 + index, s_emit, &emitted);
            total++;
            if (key == 4)
                CHECK_INT_EQ (verdict, ZWATCH_FOLD_FULL);
            if (verdict != ZWATCH_FOLD_HELD)
                sent++;
        }
    CHECK_INT_EQ (zwatch_fold_size (fold), 4);
    CHECK_INT_EQ (zwatch_fold_unfolded (fold), 20);
    //  Their summaries at 1003..; quiet from 1019 on: room at 2019
    zwatch_msg_t msg = s_msg ("s", ZMQ_EVENT_CONNECT_RETRIED, "tcp://x:1", 1, 0);
    CHECK_INT_EQ (zwatch_fold_event (fold, &owners [4], &msg, 2100, s_emit, &emitted),
                  ZWATCH_FOLD_SEND);
    sent++;
    total++;
    CHECK_INT_EQ (zwatch_fold_unfolded (fold), 20);
    CHECK_INT_EQ (zwatch_fold_size (fold), 1);
    CHECK_INT_EQ (sent + s_counted (&emitted), total);
    CHECK_INT_EQ (emitted.size, 4);
    zwatch_fold_destroy (&fold);
}

//  Many keys (growth to the bound), released in another order than they
//  came (removal in the middle of probe runs): every count exact
static void
test_many_keys (void)
{
    zwatch_fold_t *fold = zwatch_fold_new (0);
    static emitted_t emitted;
    memset (&emitted, 0, sizeof (emitted));
    static char owners [ZWATCH_FOLD_KEYS_MAX / 4];
    const uint32_t codes [4] = { ZMQ_EVENT_CONNECT_DELAYED, ZMQ_EVENT_CLOSED,
                                 ZMQ_EVENT_CONNECT_RETRIED, ZMQ_EVENT_DISCONNECTED };
    uint64_t sent = 0, total = 0;
    for (int round = 0; round < 6; round++)
        for (size_t owner = 0; owner < sizeof (owners); owner++)
            for (int code = 0; code < 4; code++) {
                zwatch_msg_t msg = s_msg ("s", codes [code], "tcp://10.0.0.1:5555", 1, 0);
                zwatch_fold_verdict_t verdict = zwatch_fold_event (fold, &owners [owner], &msg,
                                                                   1000, s_emit, &emitted);
                CHECK (verdict != ZWATCH_FOLD_FULL);
                total++;
                sent += verdict == ZWATCH_FOLD_SEND;
            }
    CHECK_INT_EQ (zwatch_fold_size (fold), ZWATCH_FOLD_KEYS_MAX);
    CHECK_INT_EQ (sent, ZWATCH_FOLD_KEYS_MAX * ZWATCH_FOLD_AFTER);
    //  Every other owner, then the rest, then the rest again (no-op)
    for (size_t owner = 0; owner < sizeof (owners); owner += 2)
        zwatch_fold_release (fold, &owners [owner], s_emit, &emitted);
    CHECK_INT_EQ (zwatch_fold_size (fold), ZWATCH_FOLD_KEYS_MAX / 2);
    CHECK_INT_EQ (emitted.size, ZWATCH_FOLD_KEYS_MAX / 2);
    for (size_t owner = 1; owner < sizeof (owners); owner += 2)
        zwatch_fold_release (fold, &owners [owner], s_emit, &emitted);
    CHECK_INT_EQ (zwatch_fold_size (fold), 0);
    CHECK_INT_EQ (emitted.size, ZWATCH_FOLD_KEYS_MAX);
    for (size_t index = 0; index < emitted.size; index++)
        CHECK_INT_EQ (emitted.msgs [index].count, 6 - ZWATCH_FOLD_AFTER);
    CHECK_INT_EQ (sent + s_counted (&emitted), total);
    zwatch_fold_destroy (&fold);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "storm", test_storm },
        { "storm_stops", test_storm_stops },
        { "slow_and_single", test_slow_and_single },
        { "never_folds", test_never_folds },
        { "bound", test_bound },
        { "many_keys", test_many_keys },
    };
    return tu_run_cases (argc, argv, "test_fold", cases, sizeof (cases) / sizeof (cases [0]));
}
