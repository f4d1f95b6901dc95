/*  fidelity_service: corners where a program sees libzmq's own behaviour
    and the preload must not change it. No reference to zwatch; run once
    without the preload and once with it, the output must be the same.

        fidelity_service monitor            its own monitors (events, order, what is lost)
        fidelity_service errno ENDPOINT     errno after a failed zmq_bind / zmq_connect
        fidelity_service inproc             context end after closing sockets with an
                                            inproc connect no bind completed (prints the time)

    ENDPOINT is a free tcp://127.0.0.1:PORT, the same in both runs (it binds it
    first, then tries again).
*/

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define WAIT_MSECS      5000    //  bound on waiting for one event
#define RACE_ROUNDS     40      //  connect-then-monitor rounds
#define STORM_SOCKETS   8       //  sockets retrying a dead port: a busy monitor stream

static long long
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  A PAIR connected to a monitor endpoint
static void *
s_reader (void *ctx, const char *endpoint)
{
    void *reader = zmq_socket (ctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt (reader, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_connect (reader, endpoint);
    return reader;
}

//  One event's code within msecs, 0 if none came (value, if asked)
static uint16_t
s_event (void *reader, int msecs, uint32_t *value)
{
    zmq_pollitem_t item = { reader, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, msecs) != 1)
        return 0;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    uint16_t code = 0;
    if (zmq_msg_recv (&frame, reader, 0) == 6) {
        memcpy (&code, zmq_msg_data (&frame), sizeof (code));
        if (value)
            memcpy (value, (uint8_t *) zmq_msg_data (&frame) + 2, sizeof (*value));
    }
    while (zmq_msg_more (&frame) && zmq_msg_recv (&frame, reader, 0) >= 0)
        ;
    zmq_msg_close (&frame);
    return code;
}

static const char *
s_name (uint16_t code)
{
    switch (code) {
        case 0:                             return "nothing";
        case ZMQ_EVENT_CONNECTED:           return "CONNECTED";
        case ZMQ_EVENT_CONNECT_DELAYED:     return "CONNECT_DELAYED";
        case ZMQ_EVENT_LISTENING:           return "LISTENING";
        case ZMQ_EVENT_BIND_FAILED:         return "BIND_FAILED";
        case ZMQ_EVENT_ACCEPTED:            return "ACCEPTED";
        case ZMQ_EVENT_CLOSED:              return "CLOSED";
        case ZMQ_EVENT_DISCONNECTED:        return "DISCONNECTED";
        case ZMQ_EVENT_MONITOR_STOPPED:     return "MONITOR_STOPPED";
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return "HANDSHAKE_SUCCEEDED";
        default:                            return "OTHER";
    }
}

//  Bind socket on a free loopback port; its endpoint into endpoint
static void
s_bind_any (void *socket, char *endpoint, size_t size)
{
    zmq_bind (socket, "tcp://127.0.0.1:*");
    zmq_getsockopt (socket, ZMQ_LAST_ENDPOINT, endpoint, &size);
}

//  Sockets retrying a dead port every msec keep the monitors busy, as in
//  a loaded program
static void
s_storm (void *ctx, void *sockets [])
{
    int port = 0;
    void *probe = zmq_socket (ctx, ZMQ_PULL);
    char endpoint [64];
    s_bind_any (probe, endpoint, sizeof (endpoint));
    zmq_close (probe);          //  its port is now closed: nobody listens there
    sscanf (strrchr (endpoint, ':') + 1, "%d", &port);
    for (int index = 0; index < STORM_SOCKETS; index++) {
        sockets [index] = zmq_socket (ctx, ZMQ_DEALER);
        int ivl = 1, linger = 0;
        zmq_setsockopt (sockets [index], ZMQ_RECONNECT_IVL, &ivl, sizeof (ivl));
        zmq_setsockopt (sockets [index], ZMQ_LINGER, &linger, sizeof (linger));
        zmq_connect (sockets [index], endpoint);
    }
}

//  The program's monitor starts at its call: an event that comes after
//  it, however soon, is the program's (test_security_zap connects, then
//  monitors, then waits for the handshake's outcome)
static void
s_monitor_race (void *ctx)
{
    char endpoint [64];
    void *server = zmq_socket (ctx, ZMQ_ROUTER);
    s_bind_any (server, endpoint, sizeof (endpoint));
    void *storm [STORM_SOCKETS];
    s_storm (ctx, storm);
    int got = 0;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        void *client = zmq_socket (ctx, ZMQ_DEALER);
        int linger = 0;
        zmq_setsockopt (client, ZMQ_LINGER, &linger, sizeof (linger));
        zmq_connect (client, endpoint);
        char monitor [64];
        snprintf (monitor, sizeof (monitor), "inproc://race-%d", round);
        zmq_socket_monitor (client, monitor, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
        void *reader = s_reader (ctx, monitor);
        got += s_event (reader, WAIT_MSECS, NULL) == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
        zmq_close (reader);
        zmq_close (client);
    }
    //  libzmq alone can miss one too, if this thread stalls between its
    //  connect and its monitor call longer than the handshake takes (35 of
    //  40 seen under ASan beside other tests); a preload that loses the
    //  events after the call misses nearly all
    if (got >= RACE_ROUNDS - RACE_ROUNDS / 4)
        printf ("race: handshake seen in at least %d of %d rounds\n",
                RACE_ROUNDS - RACE_ROUNDS / 4, RACE_ROUNDS);
    else
        printf ("race: handshake seen in only %d of %d rounds\n", got, RACE_ROUNDS);
    for (int index = 0; index < STORM_SOCKETS; index++)
        zmq_close (storm [index]);
    zmq_close (server);
}

//  Events from libzmq's I/O thread before the program's PAIR connects:
//  libzmq blocks that thread until it does, then they all arrive, in order
static void
s_monitor_late_reader (void *ctx)
{
    char endpoint [64];
    void *server = zmq_socket (ctx, ZMQ_ROUTER);
    s_bind_any (server, endpoint, sizeof (endpoint));
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    zmq_socket_monitor (client, "inproc://late", ZMQ_EVENT_CONNECTED
                      | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_MONITOR_STOPPED);
    zmq_connect (client, endpoint);
    usleep (200 * 1000);        //  the events happen with nobody connected to read them
    void *reader = s_reader (ctx, "inproc://late");
    printf ("late: %s", s_name (s_event (reader, WAIT_MSECS, NULL)));
    printf (" %s", s_name (s_event (reader, WAIT_MSECS, NULL)));
    zmq_socket_monitor (client, NULL, 0);
    printf (" %s", s_name (s_event (reader, WAIT_MSECS, NULL)));
    printf (" %s\n", s_name (s_event (reader, 100, NULL)));
    zmq_close (reader);
    zmq_close (client);
    zmq_close (server);
}

//  The program closes its PAIR, then the socket has more to say: libzmq
//  drops that with the PAIR, silently (test_heartbeats); and a replaced
//  monitor hears what came before the call, the new one what came after
static void
s_monitor_gone_reader (void *ctx)
{
    char endpoint [64];
    void *server = zmq_socket (ctx, ZMQ_ROUTER);
    int mask = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED
             | ZMQ_EVENT_LISTENING | ZMQ_EVENT_MONITOR_STOPPED;
    zmq_socket_monitor (server, "inproc://first", mask);
    void *first = s_reader (ctx, "inproc://first");
    s_bind_any (server, endpoint, sizeof (endpoint));
    printf ("first: %s", s_name (s_event (first, WAIT_MSECS, NULL)));
    zmq_socket_monitor (server, "inproc://second", mask);
    void *second = s_reader (ctx, "inproc://second");
    printf (" %s", s_name (s_event (first, WAIT_MSECS, NULL)));
    printf (" %s\n", s_name (s_event (first, 100, NULL)));
    zmq_close (first);
    void *client = zmq_socket (ctx, ZMQ_DEALER);
    zmq_connect (client, endpoint);
    printf ("second: %s\n", s_name (s_event (second, WAIT_MSECS, NULL)));
    zmq_close (second);
    //  Nobody reads now: DISCONNECTED, CLOSED, MONITOR_STOPPED go unsaid
    int linger = 0;
    zmq_setsockopt (client, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_close (client);
    zmq_close (server);
}

static const char *
s_errno_name (int err)
{
    switch (err) {
        case 0:             return "0";
        case EAGAIN:        return "EAGAIN";
        case EINVAL:        return "EINVAL";
        case ENAMETOOLONG:  return "ENAMETOOLONG";
        case ENODEV:        return "ENODEV";
        case EADDRINUSE:    return "EADDRINUSE";
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
        case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
        case ECONNREFUSED:  return "ECONNREFUSED";
        case ENOENT:        return "ENOENT";
        default:            return strerror (err);
    }
}

//  libzmq's errno for each failed bind and connect, first on a fresh
//  socket (where a monitor's first event would overwrite it with EAGAIN)
static void
s_errno (void *ctx, const char *endpoint)
{
    char long_path [200];
    snprintf (long_path, sizeof (long_path), "ipc:///tmp/%0150d", 0);
    void *taken = zmq_socket (ctx, ZMQ_PULL);
    zmq_bind (taken, endpoint);
    const char *endpoints [] = { long_path, "ipc://@", "tcp://no-such-interface-zw:5",
                                 "tcp://192.0.2.1:5", endpoint, "bogus://x", "inproc://",
                                 "tcp://127.0.0.1", NULL };
    for (size_t index = 0; endpoints [index]; index++) {
        for (int fresh = 1; fresh >= 0; fresh--) {
            void *socket = zmq_socket (ctx, ZMQ_DEALER);
            if (!fresh)
                zmq_bind (socket, "ipc://@");          //  one failure before
            errno = 0;
            int rc = zmq_bind (socket, endpoints [index]);
            printf ("bind %s%s: %d %s\n", index? endpoints [index]: "ipc://<long>",
                    fresh? "": " (again)", rc, rc? s_errno_name (errno): "");
            errno = 0;
            rc = zmq_connect (socket, endpoints [index]);
            printf ("connect %s%s: %d %s\n", index? endpoints [index]: "ipc://<long>",
                    fresh? "": " (again)", rc, rc? s_errno_name (errno): "");
            //  (errno after a bind that worked is libzmq's business: not compared)
            printf ("bind ok: %d\n", zmq_bind (socket, "tcp://127.0.0.1:*"));
            int linger = 0;
            zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof (linger));
            zmq_close (socket);
        }
    }
    zmq_close (taken);
}

//  A socket connected to an inproc endpoint nobody bound is only let go
//  when its context ends; ending the context must not wait for it
static void
s_inproc (void *ctx)
{
    for (int index = 0; index < 8; index++) {
        char endpoint [64];
        snprintf (endpoint, sizeof (endpoint), "inproc://nobody-%d", index);
        void *socket = zmq_socket (ctx, index % 2? ZMQ_PUSH: ZMQ_DEALER);
        zmq_connect (socket, endpoint);
        zmq_close (socket);
    }
    //  One that did meet its bind, and one whose bind came and went: normal
    void *bound = zmq_socket (ctx, ZMQ_PULL);
    zmq_bind (bound, "inproc://met");
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    zmq_connect (push, "inproc://met");
    zmq_close (push);
    zmq_unbind (bound, "inproc://met");
    zmq_close (bound);
}

int
main (int argc, char *argv [])
{
    if (argc < 2)
        return 2;
    setvbuf (stdout, NULL, _IONBF, 0);
    void *ctx = zmq_ctx_new ();
    if (strcmp (argv [1], "monitor") == 0) {
        s_monitor_race (ctx);
        s_monitor_late_reader (ctx);
        s_monitor_gone_reader (ctx);
    }
    else
    if (strcmp (argv [1], "errno") == 0 && argc == 3)
        s_errno (ctx, argv [2]);
    else
    if (strcmp (argv [1], "inproc") == 0)
        s_inproc (ctx);
    else
        return 2;
    long long start = s_now_ms ();
    int rc = zmq_ctx_term (ctx);
    fprintf (stderr, "ctx_term took %lld ms\n", s_now_ms () - start);
    printf ("ctx_term: %d\n", rc);
    return 0;
}
