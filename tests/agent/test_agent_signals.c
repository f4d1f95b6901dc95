/*  test_agent_signals: every public agent call gives the result it gives
    without signals while a SIGALRM storm (a no-op handler without
    SA_RESTART, every 50 us) hits the calling thread: same return value,
    same errno, never EINTR, no call answered with another call's result,
    and every event accounted for.

    This program is the service: the real agent is linked in, and a ROUTER
    in a thread of its own (signals blocked there, so they all land on the
    service's thread) stands in for the broker and decodes what arrives.

    Usage: test_agent_signals [SOCKETS]     (default 3000)
*/

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <zmq.h>
#include "zwatch.h"
#include "testutil.h"

#define SOCKETS_DEFAULT     3000
#define CYCLES              40          //  agents made and destroyed under the storm
#define TIMER_USECS         50
#define STANDIN_WAIT_MS     30000       //  bound on the stand-in broker's wait for the byes

static volatile sig_atomic_t s_signals;

static void
s_on_alarm (int signum)
{
    (void) signum;
    s_signals++;
}

//  What the stand-in broker saw
typedef struct {
    void *router;
    int sockets;                //  labels s-0 .. s-<sockets - 1>
    int byes_expected;
    unsigned char *stopped;     //  MONITOR_STOPPED count per label
    int stopped_total;
    int other_events;           //  events that are not a socket's MONITOR_STOPPED
    int hellos;
    int byes;
    int invalid;
    bool main_bye;              //  the watching agent's bye came: seq = sockets
} standin_t;

static void *
s_standin (void *args)
{
    standin_t *standin = (standin_t *) args;
    long long deadline = tu_now_ms () + STANDIN_WAIT_MS;
    zmq_pollitem_t item = { standin->router, 0, ZMQ_POLLIN, 0 };
    while (standin->byes < standin->byes_expected && tu_now_ms () < deadline) {
        if (zmq_poll (&item, 1, 100) <= 0)
            continue;
        zmq_msg_t id, body;
        zmq_msg_init (&id);
        zmq_msg_init (&body);
        if (zmq_msg_recv (&id, standin->router, 0) < 0 || !zmq_msg_more (&id)
        ||  zmq_msg_recv (&body, standin->router, 0) < 0 || zmq_msg_more (&body)) {
            standin->invalid++;
            zmq_msg_close (&id);
            zmq_msg_close (&body);
            continue;
        }
        //  Each message of the frame (PROTOCOL.md 5, "Batches")
        size_t offset = 0;
        do {
            zwatch_msg_t msg;
            const char *detail;
            bool rest_lost;
            if (zwatch_msg_decode_next (&msg, zmq_msg_data (&body), zmq_msg_size (&body), &offset,
                                        &rest_lost, &detail) != ZWATCH_OK)
                standin->invalid++;
            else
            if (msg.kind == ZWATCH_KIND_HELLO)
                standin->hellos++;
            else
            if (msg.kind == ZWATCH_KIND_BYE) {
                standin->byes++;
                //  The watching agent's: its last seq is its sent count
                if (msg.seq == (uint64_t) standin->sockets)
                    standin->main_bye = true;
            }
            else
            if (msg.kind == ZWATCH_KIND_EVENT) {
                int number = -1;
                char label [ZWATCH_SOCK_MAX + 1];
                snprintf (label, sizeof (label), "%.*s", (int) msg.sock.len, msg.sock.ptr);
                if (msg.code == ZMQ_EVENT_MONITOR_STOPPED && sscanf (label, "s-%d", &number) == 1
                &&  number >= 0 && number < standin->sockets) {
                    standin->stopped [number]++;
                    standin->stopped_total++;
                }
                else
                    standin->other_events++;
            }
        } while (offset < zmq_msg_size (&body));
        zmq_msg_close (&id);
        zmq_msg_close (&body);
    }
    return NULL;
}

//  rc and errno must be what the call gives without signals
#define EXPECT(call, expected_rc, expected_errno) do { \
    errno = 0; \
    int _rc = (call); \
    int _err = errno; \
    if (_rc != (expected_rc) || ((expected_rc) != 0 && _err != (expected_errno))) { \
        fprintf (stderr, "%s:%d: %s gave %d (%s), expected %d (%s)\n", __FILE__, __LINE__, \
                 #call, _rc, strerror (_err), (expected_rc), strerror (expected_errno)); \
        exit (1); \
    } \
} while (0)

static void
s_timer (long usecs)
{
    struct itimerval timer = { { 0, usecs }, { 0, usecs } };
    CHECK (setitimer (ITIMER_REAL, &timer, NULL) == 0);
}

int
main (int argc, char *argv [])
{
    int sockets = argc > 1? atoi (argv [1]): SOCKETS_DEFAULT;
    CHECK (sockets > 0 && sockets <= 100000);
    setenv ("ZWATCH_QUIET", "1", 1);        //  the misuse below is on purpose

    //  The stand-in broker, in a context and thread of its own
    void *broker_ctx = zmq_ctx_new ();
    standin_t standin = { zmq_socket (broker_ctx, ZMQ_ROUTER), sockets, CYCLES + 1,
                          calloc ((size_t) sockets, 1), 0, 0, 0, 0, 0, false };
    CHECK (standin.router && standin.stopped);
    CHECK (zmq_bind (standin.router, "tcp://127.0.0.1:*") == 0);
    char endpoint [256];
    size_t size = sizeof (endpoint);
    CHECK (zmq_getsockopt (standin.router, ZMQ_LAST_ENDPOINT, endpoint, &size) == 0);
    sigset_t alarm_set, old;
    sigemptyset (&alarm_set);
    sigaddset (&alarm_set, SIGALRM);
    pthread_sigmask (SIG_BLOCK, &alarm_set, &old);
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, s_standin, &standin) == 0);
    pthread_sigmask (SIG_SETMASK, &old, NULL);

    //  The storm: a handler that does nothing, and no SA_RESTART
    struct sigaction action;
    memset (&action, 0, sizeof (action));
    action.sa_handler = s_on_alarm;
    sigemptyset (&action.sa_mask);
    CHECK (sigaction (SIGALRM, &action, NULL) == 0);
    s_timer (TIMER_USECS);

    void *ctx = zmq_ctx_new ();
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 4096);
    //  Agents made and destroyed under the storm, and one that cannot be made
    for (int cycle = 0; cycle < CYCLES; cycle++) {
        zwatch_agent_t *agent = zwatch_agent_new (ctx, endpoint);
        if (!agent) {
            fprintf (stderr, "cycle %d: zwatch_agent_new: %s\n", cycle, strerror (errno));
            exit (1);
        }
        zwatch_agent_stats_t stats;
        EXPECT (zwatch_agent_stats (agent, &stats), 0, 0);
        CHECK_INT_EQ (stats.watched, 0);
        zwatch_agent_destroy (&agent);
        CHECK (agent == NULL);
        errno = 0;
        CHECK (zwatch_agent_new (ctx, "bogus://nowhere") == NULL);
        CHECK_INT_EQ (errno, EPROTONOSUPPORT);
    }

    zwatch_agent_t *agent = zwatch_agent_new (ctx, endpoint);
    CHECK (agent);
    EXPECT (zwatch_agent_set_queue_limit (agent, (size_t) sockets + 1000), 0, 0);
    EXPECT (zwatch_agent_set_queue_limit (agent, 0), -1, EINVAL);
    EXPECT (zwatch_agent_set_heartbeat (agent, 100), 0, 0);
    EXPECT (zwatch_agent_set_heartbeat (agent, 1), -1, EINVAL);
    EXPECT (zwatch_agent_set_curve (agent, "short", NULL), -1, EINVAL);

    for (int number = 0; number < sockets; number++) {
        void *socket = zmq_socket (ctx, ZMQ_DEALER);
        CHECK (socket);
        char label [32];
        snprintf (label, sizeof (label), "s-%d", number);
        EXPECT (zwatch_agent_watch (agent, socket, label), 0, 0);
        if (number % 100 == 0)         //  (each one logs a line)
            EXPECT (zwatch_agent_watch (agent, socket, label), -1, EEXIST);
        EXPECT (zwatch_agent_unwatch (agent, socket), 0, 0);
        EXPECT (zwatch_agent_unwatch (agent, socket), -1, ENOENT);
        //  unwatch returns after its MONITOR_STOPPED was read: counted at once
        zwatch_agent_stats_t stats;
        EXPECT (zwatch_agent_stats (agent, &stats), 0, 0);
        if (stats.read != (uint64_t) number + 1 || stats.watched != 0
        ||  stats.sent + stats.dropped != stats.read || stats.skipped != 0) {
            fprintf (stderr, "socket %d: read %llu sent %llu dropped %llu skipped %llu "
                     "watched %llu\n", number, (unsigned long long) stats.read,
                     (unsigned long long) stats.sent, (unsigned long long) stats.dropped,
                     (unsigned long long) stats.skipped, (unsigned long long) stats.watched);
            exit (1);
        }
        CHECK (zmq_close (socket) == 0);
    }
    zwatch_agent_stats_t stats;
    EXPECT (zwatch_agent_stats (agent, &stats), 0, 0);
    CHECK_INT_EQ (stats.read, sockets);
    CHECK_INT_EQ (stats.sent, sockets);
    CHECK_INT_EQ (stats.dropped, 0);
    zwatch_agent_destroy (&agent);
    CHECK (agent == NULL);
    int rc;
    while ((rc = zmq_ctx_term (ctx)) != 0 && errno == EINTR)
        ;
    CHECK_INT_EQ (rc, 0);
    s_timer (0);
    long long signals = s_signals;

    pthread_join (thread, NULL);
    printf ("test_agent_signals: %d sockets, %lld signals; broker saw %d hellos, %d byes, "
            "%d MONITOR_STOPPED, %d other events, %d invalid\n", sockets, signals,
            standin.hellos, standin.byes, standin.stopped_total, standin.other_events,
            standin.invalid);
    CHECK (signals > 1000);                 //  the storm did happen
    CHECK_INT_EQ (standin.invalid, 0);
    CHECK_INT_EQ (standin.hellos, CYCLES + 1);
    CHECK_INT_EQ (standin.byes, CYCLES + 1);
    CHECK_INT_EQ (standin.other_events, 0);
    CHECK_INT_EQ (standin.stopped_total, sockets);
    for (int number = 0; number < sockets; number++)
        if (standin.stopped [number] != 1) {
            fprintf (stderr, "socket s-%d: %d MONITOR_STOPPED\n", number, standin.stopped [number]);
            exit (1);
        }
    CHECK (standin.main_bye);
    zmq_close (standin.router);
    zmq_ctx_term (broker_ctx);
    free (standin.stopped);
    printf ("test_agent_signals: OK\n");
    return 0;
}
