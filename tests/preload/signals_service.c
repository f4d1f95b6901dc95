/*  signals_service: a program whose threads take a signal every 50 us (a
    sampling profiler's SIGALRM, a no-op handler without SA_RESTART) while
    they make, bind, connect, monitor and close thousands of sockets and
    end their contexts. No reference to zwatch; run once without the
    preload and once with it: the output must be the same.

        signals_service ROUNDS

    Two threads (the main one and a worker, each with a context of its own
    per round and a timer of its own) check every call's result and errno
    against what libzmq gives, retrying on EINTR where libzmq may return
    it (as its documentation says for zmq_ctx_term); zmq_socket and
    zmq_close never return it, and must leave errno alone when they work.
    Prints one summary line per thread (exit 3 after a line per mismatch);
    how many EINTRs it met goes to stderr (it differs from run to run).
*/

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define SOCKETS         40      //  per round and thread
#define INTERVAL_NS     50000   //  between two signals
#define EVENT_MSECS     5000    //  bound on waiting for one monitor event

typedef struct {
    int thread;
    int rounds;
    long sockets, binds, connects, monitors, events, refusals;
    long mismatches;
    long eintr;                 //  EINTRs met (and retried)
} worker_t;

static atomic_long s_signals;

static void
s_signal (int signal)
{
    (void) signal;
    atomic_fetch_add (&s_signals, 1);
}

static const char *
s_errno_name (int err)
{
    switch (err) {
        case 0: return "0";
        case EINTR: return "EINTR";
        case EINVAL: return "EINVAL";
        case ENODEV: return "ENODEV";
        case EAGAIN: return "EAGAIN";
        case EADDRINUSE: return "EADDRINUSE";
        case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
        case ETERM: return "ETERM";
        case ENOTSOCK: return "ENOTSOCK";
        default: return "other";
    }
}

//  One call's result against what libzmq gives it
static void
s_expect (worker_t *self, int round, int index, const char *what, int rc, int err,
          int expected_rc, int expected_err)
{
    if (rc == expected_rc && (expected_rc == 0 || err == expected_err))
        return;
    printf ("thread %d round %d socket %d: %s: %d %s (expected %d %s)\n", self->thread, round,
            index, what, rc, s_errno_name (rc? err: 0), expected_rc,
            s_errno_name (expected_rc? expected_err: 0));
    self->mismatches++;
}

//  call, again while it says EINTR; rc, with its errno in *err
#define RETRY(self, call, err)  ({ int _rc; \
    while ((_rc = (call)) == -1 && zmq_errno () == EINTR) (self)->eintr++; \
    *(err) = zmq_errno (); _rc; })

//  A socket, checking that zmq_socket leaves errno alone
static void *
s_socket (worker_t *self, int round, int index, void *ctx, int type)
{
    errno = 4242;
    void *socket = zmq_socket (ctx, type);
    if (!socket || errno != 4242) {
        printf ("thread %d round %d socket %d: zmq_socket: %s errno %s\n", self->thread, round,
                index, socket? "ok": "NULL", errno == 4242? "kept": s_errno_name (errno));
        self->mismatches++;
    }
    if (socket) {
        int linger = 0;
        zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof (linger));
        self->sockets++;
    }
    return socket;
}

static void
s_close (worker_t *self, int round, int index, void *socket)
{
    errno = 4343;
    int rc = zmq_close (socket);
    if (rc != 0 || errno != 4343) {
        printf ("thread %d round %d socket %d: zmq_close: %d errno %s\n", self->thread, round,
                index, rc, errno == 4343? "kept": s_errno_name (errno));
        self->mismatches++;
    }
}

//  The next event on reader: its code, 0 if none came in time, 0xffff if
//  it was not a well-formed v1 event
static uint16_t
s_event (worker_t *self, void *reader)
{
    zmq_pollitem_t item = { reader, 0, ZMQ_POLLIN, 0 };
    int err;
    if (RETRY (self, zmq_poll (&item, 1, EVENT_MSECS), &err) != 1)
        return 0;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    uint16_t code = 0xffff;
    int frames = 0;
    bool well_formed = true;
    do {
        if (RETRY (self, zmq_msg_recv (&frame, reader, 0), &err) < 0)
            break;
        if (frames == 0 && zmq_msg_size (&frame) == 6)
            memcpy (&code, zmq_msg_data (&frame), sizeof (code));
        else
        if (frames == 0)
            well_formed = false;
        frames++;
    } while (zmq_msg_more (&frame));
    zmq_msg_close (&frame);
    return well_formed && frames == 2? code: 0xffff;
}

//  The program's own monitor on a socket it binds to tcp: LISTENING, then
//  MONITOR_STOPPED at its close. libzmq sends LISTENING from this thread in
//  two frames, and a signal between them breaks the event (the second send
//  fails with EINTR), so this program, like a careful one, holds its
//  signals around that bind; they still come everywhere else
static void
s_monitored (worker_t *self, int round, int index, void *ctx)
{
    void *socket = s_socket (self, round, index, ctx, ZMQ_PULL);
    if (!socket)
        return;
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "inproc://monitor-%d-%d-%d", self->thread, round, index);
    int err;
    int rc = RETRY (self, zmq_socket_monitor (socket, endpoint,
                                              ZMQ_EVENT_LISTENING | ZMQ_EVENT_MONITOR_STOPPED), &err);
    s_expect (self, round, index, "zmq_socket_monitor", rc, err, 0, 0);
    void *reader = s_socket (self, round, index, ctx, ZMQ_PAIR);
    rc = RETRY (self, zmq_connect (reader, endpoint), &err);
    s_expect (self, round, index, "monitor connect", rc, err, 0, 0);
    self->monitors++;
    sigset_t alarm, old;
    sigemptyset (&alarm);
    sigaddset (&alarm, SIGALRM);
    pthread_sigmask (SIG_BLOCK, &alarm, &old);
    rc = RETRY (self, zmq_bind (socket, "tcp://127.0.0.1:*"), &err);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    s_expect (self, round, index, "monitored bind", rc, err, 0, 0);
    uint16_t code = s_event (self, reader);
    s_expect (self, round, index, "LISTENING", code, 0, ZMQ_EVENT_LISTENING, 0);
    s_close (self, round, index, socket);
    code = s_event (self, reader);
    s_expect (self, round, index, "MONITOR_STOPPED", code, 0, ZMQ_EVENT_MONITOR_STOPPED, 0);
    self->events += 2;
    s_close (self, round, index, reader);
}

//  Calls that fail, and how: the same errno with or without the preload
static void
s_refusals (worker_t *self, int round, void *ctx)
{
    errno = 0;
    void *bogus = zmq_socket (ctx, 999);
    s_expect (self, round, -1, "zmq_socket 999", bogus? 0: -1, errno, -1, EINVAL);
    void *socket = s_socket (self, round, -1, ctx, ZMQ_PUSH);
    void *other = s_socket (self, round, -1, ctx, ZMQ_PULL);
    if (!socket || !other)
        return;
    int err;
    int rc = RETRY (self, zmq_bind (socket, "tcp://no-such-interface-zw:5"), &err);
    s_expect (self, round, -1, "bind no such interface", rc, err, -1, ENODEV);
    rc = RETRY (self, zmq_connect (socket, "bogus://nowhere"), &err);
    s_expect (self, round, -1, "connect bogus://", rc, err, -1, EPROTONOSUPPORT);
    rc = RETRY (self, zmq_socket_monitor (socket, "tcp://127.0.0.1:5", ZMQ_EVENT_ALL), &err);
    s_expect (self, round, -1, "monitor tcp://", rc, err, -1, EPROTONOSUPPORT);
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "inproc://taken-%d-%d", self->thread, round);
    rc = RETRY (self, zmq_bind (other, endpoint), &err);
    s_expect (self, round, -1, "bind inproc", rc, err, 0, 0);
    rc = RETRY (self, zmq_bind (socket, endpoint), &err);
    s_expect (self, round, -1, "bind inproc taken", rc, err, -1, EADDRINUSE);
    s_close (self, round, -1, socket);
    s_close (self, round, -1, other);
    self->refusals += 5;
}

static void
s_round (worker_t *self, int round)
{
    void *ctx = zmq_ctx_new ();
    void *sockets [SOCKETS];
    char tcp [64] = "", inproc [64] = "";
    int err, rc;
    for (int index = 0; index < SOCKETS; index++) {
        sockets [index] = NULL;
        if (index % 8 == 7) {
            s_monitored (self, round, index, ctx);
            continue;
        }
        static const int types [] = { ZMQ_PULL, ZMQ_PUSH, ZMQ_PAIR, ZMQ_PAIR };
        void *socket = s_socket (self, round, index, ctx, types [index % 4]);
        sockets [index] = socket;
        if (!socket)
            continue;
        switch (index % 4) {
            case 0: {
                rc = RETRY (self, zmq_bind (socket, "tcp://127.0.0.1:*"), &err);
                s_expect (self, round, index, "bind tcp", rc, err, 0, 0);
                size_t size = sizeof (tcp);
                zmq_getsockopt (socket, ZMQ_LAST_ENDPOINT, tcp, &size);
                self->binds++;
                break;
            }
            case 1:
                rc = RETRY (self, zmq_connect (socket, tcp), &err);
                s_expect (self, round, index, "connect tcp", rc, err, 0, 0);
                self->connects++;
                break;
            case 2:
                snprintf (inproc, sizeof (inproc), "inproc://pair-%d-%d-%d", self->thread, round, index);
                rc = RETRY (self, zmq_bind (socket, inproc), &err);
                s_expect (self, round, index, "bind inproc", rc, err, 0, 0);
                self->binds++;
                break;
            case 3:
                rc = RETRY (self, zmq_connect (socket, inproc), &err);
                s_expect (self, round, index, "connect inproc", rc, err, 0, 0);
                self->connects++;
                break;
        }
    }
    s_refusals (self, round, ctx);
    for (int index = 0; index < SOCKETS; index++)
        if (sockets [index])
            s_close (self, round, index, sockets [index]);
    rc = RETRY (self, zmq_ctx_term (ctx), &err);
    s_expect (self, round, -1, "zmq_ctx_term", rc, err, 0, 0);
}

//  SIGALRM every INTERVAL_NS on the calling thread alone
static timer_t
s_timer (void)
{
    struct sigevent event;
    memset (&event, 0, sizeof (event));
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGALRM;
    event._sigev_un._tid = gettid ();
    timer_t timer;
    if (timer_create (CLOCK_MONOTONIC, &event, &timer) != 0) {
        perror ("timer_create");
        exit (2);
    }
    struct itimerspec every = { { 0, INTERVAL_NS }, { 0, INTERVAL_NS } };
    timer_settime (timer, 0, &every, NULL);
    return timer;
}

static void *
s_work (void *args)
{
    worker_t *self = (worker_t *) args;
    timer_t timer = s_timer ();
    for (int round = 0; round < self->rounds; round++)
        s_round (self, round);
    timer_delete (timer);
    return NULL;
}

int
main (int argc, char *argv [])
{
    int rounds = argc > 1? atoi (argv [1]): 0;
    if (rounds < 1) {
        fprintf (stderr, "usage: signals_service ROUNDS\n");
        return 2;
    }
    struct sigaction action;
    memset (&action, 0, sizeof (action));
    action.sa_handler = s_signal;           //  no SA_RESTART: calls see EINTR
    sigaction (SIGALRM, &action, NULL);
    worker_t workers [2];
    memset (workers, 0, sizeof (workers));
    pthread_t thread;
    for (int index = 0; index < 2; index++) {
        workers [index].thread = index;
        workers [index].rounds = rounds;
    }
    pthread_create (&thread, NULL, s_work, &workers [1]);
    s_work (&workers [0]);
    pthread_join (thread, NULL);
    long mismatches = 0;
    for (int index = 0; index < 2; index++) {
        worker_t *self = &workers [index];
        printf ("thread %d: %d rounds, %ld sockets, %ld binds, %ld connects, %ld monitors "
                "(%ld events), %ld refusals, %ld mismatches\n", index, self->rounds,
                self->sockets, self->binds, self->connects, self->monitors, self->events,
                self->refusals, self->mismatches);
        mismatches += self->mismatches;
        fprintf (stderr, "thread %d: %ld EINTR retried\n", index, self->eintr);
    }
    fprintf (stderr, "signals: %ld\n", atomic_load (&s_signals));
    return mismatches? 3: 0;
}
