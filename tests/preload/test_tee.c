/*  test_tee: the agent pieces libzwatch-preload stands on, in-process (so
    they run under the sanitizers too): the tee that hands a program its
    own monitor events, and an agent watching sockets in several contexts
    that lets go of each context before it ends.  */

#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <czmq.h>
#include "zwatch.h"
#include "zwatch_agent_internal.h"
#include "zwatch_tee.h"
#include "testutil.h"

#define WAIT_MS     5000        //  bound on any one wait
#define MESSAGES    64

//  Read one monitor event off reader: its code, value and endpoint, and
//  that it is libzmq's layout (two frames, 6 bytes first). False if none came.
static bool
s_event (void *reader, uint16_t *code, uint32_t *value, char *endpoint, size_t size)
{
    zmq_pollitem_t item = { reader, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, WAIT_MS) != 1)
        return false;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    CHECK (zmq_msg_recv (&frame, reader, 0) == 6 && zmq_msg_more (&frame));
    memcpy (code, zmq_msg_data (&frame), sizeof (*code));
    memcpy (value, (uint8_t *) zmq_msg_data (&frame) + 2, sizeof (*value));
    int got = zmq_msg_recv (&frame, reader, 0);
    CHECK (got >= 0 && !zmq_msg_more (&frame) && (size_t) got < size);
    memcpy (endpoint, zmq_msg_data (&frame), (size_t) got);
    endpoint [got] = 0;
    zmq_msg_close (&frame);
    return true;
}

static bool
s_quiet (void *reader, int msecs)
{
    zmq_pollitem_t item = { reader, 0, ZMQ_POLLIN, 0 };
    return zmq_poll (&item, 1, msecs) == 0;
}

//  A synthetic event with this code, value and endpoint, offered to tee
static void
s_offer (zwatch_tee_t *tee, uint16_t code, uint32_t value, const char *endpoint)
{
    zmq_msg_t event, address;
    zmq_msg_init_size (&event, 6);
    memcpy (zmq_msg_data (&event), &code, sizeof (code));
    memcpy ((uint8_t *) zmq_msg_data (&event) + 2, &value, sizeof (value));
    zmq_msg_init_size (&address, strlen (endpoint));
    memcpy (zmq_msg_data (&address), endpoint, strlen (endpoint));
    zwatch_tee_send (tee, code, &event, &address);
    zmq_msg_close (&event);
    zmq_msg_close (&address);
}

static void *
s_reader (void *ctx, const char *endpoint)
{
    void *reader = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (reader && zmq_connect (reader, endpoint) == 0);
    return reader;
}

//  zwatch_tee_check says what libzmq's zmq_socket_monitor says, errno included
static void
s_test_check (void)
{
    void *ctx = zmq_ctx_new ();
    void *socket = zmq_socket (ctx, ZMQ_DEALER);
    //  libzmq's stop sends MONITOR_STOPPED, and blocks with nobody to read
    //  it: the one valid endpoint does not ask for it
    struct { const char *endpoint; int events; } cases [] = {
        { NULL, 0 }, { NULL, 1 << 16 }, { NULL, -1 }, { "inproc://check", ZMQ_EVENT_LISTENING },
        { "inproc://check", 1 << 16 }, { "tcp://127.0.0.1:9", ZMQ_EVENT_ALL },
        { "bogus://x", ZMQ_EVENT_ALL }, { "nowhere", ZMQ_EVENT_ALL }, { "://x", ZMQ_EVENT_ALL },
        { "inproc://", ZMQ_EVENT_ALL }, { "INPROC://x", ZMQ_EVENT_ALL }
    };
    for (size_t index = 0; index < sizeof (cases) / sizeof (cases [0]); index++) {
        errno = 0;
        int ours = zwatch_tee_check (cases [index].endpoint, cases [index].events);
        int our_errno = ours? errno: 0;
        errno = 0;
        int theirs = zmq_socket_monitor (socket, cases [index].endpoint, cases [index].events);
        int their_errno = theirs? errno: 0;
        if (theirs == 0)
            zmq_socket_monitor (socket, NULL, 0);
        if (ours != theirs || our_errno != their_errno) {
            fprintf (stderr, "'%s' %d: zwatch_tee_check %d (%s), libzmq %d (%s)\n",
                     cases [index].endpoint? cases [index].endpoint: "(null)",
                     cases [index].events, ours, strerror (our_errno), theirs,
                     strerror (their_errno));
            exit (1);
        }
    }
    zmq_close (socket);
    zmq_ctx_term (ctx);
}

//  Before the program's PAIR connects, events are held (in order), up to
//  the limit; beyond it they are dropped and counted, exactly
static void
s_test_held (void)
{
    void *ctx = zmq_ctx_new ();
    int held = ZWATCH_TEE_HELD_MAX, extra = 500;
    zwatch_tee_t *tee = zwatch_tee_new (ctx, "inproc://held", ZMQ_EVENT_LISTENING);
    CHECK (tee);
    for (int index = 0; index < held + extra; index++) {
        char endpoint [32];
        snprintf (endpoint, sizeof (endpoint), "tcp://held:%d", index);
        s_offer (tee, ZMQ_EVENT_LISTENING, (uint32_t) index, endpoint);
        s_offer (tee, ZMQ_EVENT_CLOSED, 0, "not asked for");
    }
    CHECK (zwatch_tee_flush (tee));
    CHECK_INT_EQ (zwatch_tee_dropped (tee), extra);

    //  Connected: the held events go, the first ones, in order
    void *reader = s_reader (ctx, "inproc://held");
    long long deadline = tu_now_ms () + WAIT_MS;
    while (zwatch_tee_flush (tee) && tu_now_ms () < deadline)
        usleep (1000);
    for (int index = 0; index < held; index++) {
        uint16_t code;
        uint32_t value;
        char endpoint [64], expected [32];
        CHECK (s_event (reader, &code, &value, endpoint, sizeof (endpoint)));
        snprintf (expected, sizeof (expected), "tcp://held:%d", index);
        CHECK_INT_EQ (code, ZMQ_EVENT_LISTENING);
        CHECK_INT_EQ (value, index);
        CHECK_STR_EQ (endpoint, expected);
    }
    CHECK (s_quiet (reader, 50));
    //  MONITOR_STOPPED was not asked for: the stop says nothing
    s_offer (tee, ZMQ_EVENT_MONITOR_STOPPED, 0, "");
    CHECK (s_quiet (reader, 50));
    CHECK_INT_EQ (zwatch_tee_dropped (tee), extra);
    zwatch_tee_destroy (&tee);
    zwatch_tee_destroy (&tee);          //  idempotent
    zmq_close (reader);
    zmq_ctx_term (ctx);
}

//  The endpoint is the tee's while it lives, and free again at once after
static void
s_test_endpoint (void)
{
    void *ctx = zmq_ctx_new ();
    int mask = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_MONITOR_STOPPED;
    zwatch_tee_t *tee = zwatch_tee_new (ctx, "inproc://mine", mask);
    CHECK (tee);
    errno = 0;
    CHECK (zwatch_tee_new (ctx, "inproc://mine", mask) == NULL);
    CHECK_INT_EQ (errno, EADDRINUSE);
    void *reader = s_reader (ctx, "inproc://mine");
    s_offer (tee, ZMQ_EVENT_ACCEPTED, 42, "tcp://127.0.0.1:1234");
    s_offer (tee, ZMQ_EVENT_MONITOR_STOPPED, 0, "");
    uint16_t code;
    uint32_t value;
    char endpoint [64];
    CHECK (s_event (reader, &code, &value, endpoint, sizeof (endpoint)));
    CHECK_INT_EQ (code, ZMQ_EVENT_ACCEPTED);
    CHECK_INT_EQ (value, 42);
    CHECK_STR_EQ (endpoint, "tcp://127.0.0.1:1234");
    CHECK (s_event (reader, &code, &value, endpoint, sizeof (endpoint)));
    CHECK_INT_EQ (code, ZMQ_EVENT_MONITOR_STOPPED);
    CHECK_INT_EQ (value, 0);
    CHECK_STR_EQ (endpoint, "");
    CHECK_INT_EQ (zwatch_tee_dropped (tee), 0);
    zwatch_tee_destroy (&tee);
    tee = zwatch_tee_new (ctx, "inproc://mine", mask);
    CHECK (tee);
    zwatch_tee_destroy (&tee);
    zmq_close (reader);
    zmq_ctx_term (ctx);
}

//  Messages the stand-in broker got, decoded; frames kept alive for the views
typedef struct {
    zframe_t *frames [MESSAGES];
    zwatch_msg_t msgs [MESSAGES];
    int count;
} inbox_t;

static void
s_inbox_read (inbox_t *inbox, zsock_t *router, int msecs)
{
    zpoller_t *poller = zpoller_new (router, NULL);
    while (zpoller_wait (poller, msecs)) {
        zmsg_t *msg = zmsg_recv (router);
        CHECK (msg && zmsg_size (msg) == 2 && inbox->count < MESSAGES);
        zframe_t *id = zmsg_pop (msg);
        zframe_destroy (&id);
        zframe_t *body = zmsg_pop (msg);
        zmsg_destroy (&msg);
        //  Each message of the frame (PROTOCOL.md 5, "Batches"); the first
        //  one's slot keeps the frame
        size_t offset = 0;
        bool bye = false, rest_lost;
        do {
            CHECK (inbox->count < MESSAGES);
            inbox->frames [inbox->count] = offset == 0? body: NULL;
            CHECK_INT_EQ (zwatch_msg_decode_next (&inbox->msgs [inbox->count], zframe_data (body),
                                                  zframe_size (body), &offset, &rest_lost, NULL),
                          ZWATCH_OK);
            bye = inbox->msgs [inbox->count++].kind == ZWATCH_KIND_BYE;
        } while (offset < zframe_size (body));
        if (bye)
            break;
    }
    zpoller_destroy (&poller);
}

static int
s_inbox_count (inbox_t *inbox, const char *sock, const char *event)
{
    int count = 0;
    for (int index = 0; index < inbox->count; index++) {
        zwatch_msg_t *msg = &inbox->msgs [index];
        count += msg->kind == ZWATCH_KIND_EVENT
              && msg->sock.len == strlen (sock) && memcmp (msg->sock.ptr, sock, msg->sock.len) == 0
              && msg->event.len == strlen (event) && memcmp (msg->event.ptr, event, msg->event.len) == 0;
    }
    return count;
}

//  One agent, sockets in two contexts of the service, a tee on one of
//  them; each context ends without waiting on the agent
static void
s_test_agent (void)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    CHECK (port > 0);
    char broker [64];
    snprintf (broker, sizeof (broker), "tcp://127.0.0.1:%d", port);
    void *first_ctx = zmq_ctx_new ();
    void *second_ctx = zmq_ctx_new ();
    zwatch_agent_t *agent = zwatch_agent_new (first_ctx, broker);
    CHECK (agent);
    void *rep = zmq_socket (first_ctx, ZMQ_REP);
    void *pull = zmq_socket (second_ctx, ZMQ_PULL);
    CHECK_INT_EQ (zwatch_agent_watch_in (agent, first_ctx, rep, ZMQ_REP, "a."), 0);
    CHECK_INT_EQ (zwatch_agent_watch_in (agent, second_ctx, pull, ZMQ_PULL, NULL), 0);
    errno = 0;
    CHECK_INT_EQ (zwatch_agent_watch_in (agent, second_ctx, pull, ZMQ_PULL, NULL), -1);
    CHECK_INT_EQ (errno, EEXIST);

    //  The service's own monitor on pull: a copy in the second context
    int mask = ZMQ_EVENT_LISTENING | ZMQ_EVENT_CLOSED | ZMQ_EVENT_MONITOR_STOPPED;
    CHECK_INT_EQ (zwatch_agent_tee (agent, second_ctx, pull, "inproc://copy", mask), 0);
    void *copy = s_reader (second_ctx, "inproc://copy");
    errno = 0;
    CHECK_INT_EQ (zwatch_agent_tee (agent, second_ctx, pull, "tcp://127.0.0.1:9", mask), -1);
    CHECK_INT_EQ (errno, EPROTONOSUPPORT);              //  and the copy goes on
    errno = 0;
    CHECK_INT_EQ (zwatch_agent_tee (agent, second_ctx, copy, "inproc://other", mask), -1);
    CHECK_INT_EQ (errno, ENOENT);                       //  not watched
    void *taken = zmq_socket (first_ctx, ZMQ_PAIR);
    CHECK (zmq_bind (taken, "inproc://taken") == 0);
    errno = 0;
    CHECK_INT_EQ (zwatch_agent_tee (agent, NULL, rep, "inproc://taken", mask), -1);
    CHECK_INT_EQ (errno, EADDRINUSE);

    CHECK (zmq_bind (pull, "tcp://127.0.0.1:*") == 0);
    char bound [256];
    size_t size = sizeof (bound);
    zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, bound, &size);
    uint16_t code;
    uint32_t value;
    char endpoint [256];
    CHECK (s_event (copy, &code, &value, endpoint, sizeof (endpoint)));
    CHECK_INT_EQ (code, ZMQ_EVENT_LISTENING);
    CHECK_STR_EQ (endpoint, bound);

    //  Closed, then its context ends: everything it said is read first
    CHECK_INT_EQ (zwatch_agent_closing (agent, pull), 0);
    zmq_close (pull);
    zwatch_agent_release_ctx (agent, second_ctx);
    CHECK (s_event (copy, &code, &value, endpoint, sizeof (endpoint)));
    CHECK_INT_EQ (code, ZMQ_EVENT_CLOSED);
    CHECK (s_event (copy, &code, &value, endpoint, sizeof (endpoint)));
    CHECK_INT_EQ (code, ZMQ_EVENT_MONITOR_STOPPED);
    zmq_close (copy);
    long long start = tu_now_ms ();
    CHECK_INT_EQ (zmq_ctx_term (second_ctx), 0);
    CHECK (tu_now_ms () - start < WAIT_MS);
    errno = 0;
    CHECK_INT_EQ (zwatch_agent_closing (agent, pull), -1);
    CHECK_INT_EQ (errno, ENOENT);

    //  The first context goes on; then the same for it
    zmq_close (taken);
    CHECK_INT_EQ (zwatch_agent_closing (agent, rep), 0);
    zmq_close (rep);
    zwatch_agent_release_ctx (agent, first_ctx);
    start = tu_now_ms ();
    CHECK_INT_EQ (zmq_ctx_term (first_ctx), 0);
    CHECK (tu_now_ms () - start < WAIT_MS);
    zwatch_agent_stats_t stats;
    CHECK_INT_EQ (zwatch_agent_stats (agent, &stats), 0);
    CHECK_INT_EQ (stats.watched, 0);
    zwatch_agent_destroy (&agent);

    //  The broker heard each socket from start to end, under its label
    inbox_t *inbox = (inbox_t *) calloc (1, sizeof (inbox_t));
    CHECK (inbox);
    s_inbox_read (inbox, router, WAIT_MS);
    CHECK (inbox->count > 2 && inbox->msgs [inbox->count - 1].kind == ZWATCH_KIND_BYE);
    CHECK_INT_EQ (s_inbox_count (inbox, "PULL-1", "LISTENING"), 1);
    CHECK_INT_EQ (s_inbox_count (inbox, "PULL-1", "CLOSED"), 1);
    CHECK_INT_EQ (s_inbox_count (inbox, "PULL-1", "MONITOR_STOPPED"), 1);
    CHECK_INT_EQ (s_inbox_count (inbox, "a.REP-1", "MONITOR_STOPPED"), 1);
    for (int index = 0; index < inbox->count; index++)
        zframe_destroy (&inbox->frames [index]);
    free (inbox);
    zsock_destroy (&router);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "check", s_test_check }, { "held", s_test_held }, { "endpoint", s_test_endpoint },
        { "agent", s_test_agent }
    };
    return tu_run_cases (argc, argv, "test_tee", cases, sizeof (cases) / sizeof (cases [0]));
}
