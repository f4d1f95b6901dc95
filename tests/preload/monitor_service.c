/*  monitor_service: a program that monitors its own sockets with
    zmq_socket_monitor and prints every event it reads: name, endpoint and
    frame layout. No reference to zwatch. Under libzwatch-preload it must
    print exactly what it prints without: the preload hands it a copy of
    each event, in libzmq's own format. Usage: monitor_service ENDPOINT
    (tcp://127.0.0.1:PORT, for REP to bind; the same in both runs)
*/

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define WAIT_MSECS  5000        //  bound on waiting for one event

static const char *s_bound = "";     //  endpoint of the socket monitored now

static const char *
s_result (int rc)
{
    if (rc == 0)
        return "ok";
    switch (errno) {
        case EINVAL:            return "EINVAL";
        case EPROTONOSUPPORT:   return "EPROTONOSUPPORT";
        case EADDRINUSE:        return "EADDRINUSE";
        default:                return strerror (errno);
    }
}

static const char *
s_name (uint16_t code)
{
    switch (code) {
        case ZMQ_EVENT_LISTENING:           return "LISTENING";
        case ZMQ_EVENT_ACCEPTED:            return "ACCEPTED";
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return "HANDSHAKE_SUCCEEDED";
        case ZMQ_EVENT_DISCONNECTED:        return "DISCONNECTED";
        case ZMQ_EVENT_CLOSED:              return "CLOSED";
        case ZMQ_EVENT_MONITOR_STOPPED:     return "MONITOR_STOPPED";
        default:                            return "OTHER";
    }
}

//  A PAIR connected to a monitor endpoint, reading with a time limit
static void *
s_monitor_reader (void *ctx, const char *endpoint)
{
    void *reader = zmq_socket (ctx, ZMQ_PAIR);
    int timeout = WAIT_MSECS;
    zmq_setsockopt (reader, ZMQ_RCVTIMEO, &timeout, sizeof (timeout));
    zmq_connect (reader, endpoint);
    return reader;
}

//  Read and print one event; returns its code, 0 if none came
static uint16_t
s_event (void *reader, const char *who)
{
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    if (zmq_msg_recv (&frame, reader, 0) < 0) {
        printf ("%s: no event\n", who);
        zmq_msg_close (&frame);
        return 0;
    }
    uint16_t code = 0;
    size_t first_size = zmq_msg_size (&frame);
    if (first_size == 6)
        memcpy (&code, zmq_msg_data (&frame), sizeof (code));
    int frames = 1;
    char endpoint [256] = "";
    while (zmq_msg_more (&frame) && zmq_msg_recv (&frame, reader, 0) >= 0) {
        if (++frames == 2)
            snprintf (endpoint, sizeof (endpoint), "%.*s", (int) zmq_msg_size (&frame),
                      (char *) zmq_msg_data (&frame));
    }
    zmq_msg_close (&frame);
    //  Random ports would differ between runs: name the bound one
    const char *shown = *s_bound && strcmp (endpoint, s_bound) == 0? "(bound)": endpoint;
    printf ("%s: %s '%s' frames=%d first=%zu\n", who, s_name (code), shown, frames, first_size);
    return code;
}

//  Print events up to and including the first one with code
static void
s_until (void *reader, const char *who, uint16_t code)
{
    uint16_t got;
    while ((got = s_event (reader, who)) != code && got != 0)
        ;
}

//  True if nothing arrives for msecs
static int
s_quiet (void *reader, int msecs)
{
    zmq_pollitem_t item = { reader, 0, ZMQ_POLLIN, 0 };
    return zmq_poll (&item, 1, msecs) == 0;
}

int
main (int argc, char *argv [])
{
    if (argc < 2)
        return 2;
    void *ctx = zmq_ctx_new ();
    void *rep = zmq_socket (ctx, ZMQ_REP);
    printf ("monitor tcp: %s\n", s_result (zmq_socket_monitor (rep, "tcp://127.0.0.1:9", ZMQ_EVENT_ALL)));
    printf ("monitor events: %s\n", s_result (zmq_socket_monitor (rep, "inproc://rep-events", 1 << 16)));
    int mask = ZMQ_EVENT_LISTENING | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
             | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_MONITOR_STOPPED;
    printf ("monitor rep: %s\n", s_result (zmq_socket_monitor (rep, "inproc://rep-events", mask)));
    void *reader = s_monitor_reader (ctx, "inproc://rep-events");
    void *other = zmq_socket (ctx, ZMQ_PUB);
    printf ("monitor taken: %s\n", s_result (zmq_socket_monitor (other, "inproc://rep-events", ZMQ_EVENT_ALL)));
    zmq_close (other);

    //  REQ/REP: the events in the mask, in libzmq's order
    printf ("bind: %s\n", s_result (zmq_bind (rep, argv [1])));
    void *req = zmq_socket (ctx, ZMQ_REQ);
    zmq_connect (req, argv [1]);
    char buffer [8];
    zmq_send (req, "ping", 4, 0);
    zmq_recv (rep, buffer, sizeof (buffer), 0);
    zmq_send (rep, "pong", 4, 0);
    zmq_recv (req, buffer, sizeof (buffer), 0);
    s_until (reader, "rep", ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    int linger = 0;
    zmq_setsockopt (req, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_close (req);
    s_until (reader, "rep", ZMQ_EVENT_DISCONNECTED);

    //  Stopping the monitor: MONITOR_STOPPED, then nothing, even at close
    printf ("stop: %s\n", s_result (zmq_socket_monitor (rep, NULL, 0)));
    s_until (reader, "rep", ZMQ_EVENT_MONITOR_STOPPED);
    zmq_close (rep);
    printf ("after stop: %s\n", s_quiet (reader, 300)? "nothing": "more events");
    zmq_close (reader);

    //  A second monitor replaces the first, which hears MONITOR_STOPPED
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    printf ("monitor pull a: %s\n", s_result (zmq_socket_monitor (pull, "inproc://pull-a", ZMQ_EVENT_ALL)));
    void *reader_a = s_monitor_reader (ctx, "inproc://pull-a");
    mask = ZMQ_EVENT_LISTENING | ZMQ_EVENT_CLOSED | ZMQ_EVENT_MONITOR_STOPPED;
    printf ("monitor pull b: %s\n", s_result (zmq_socket_monitor (pull, "inproc://pull-b", mask)));
    void *reader_b = s_monitor_reader (ctx, "inproc://pull-b");
    s_until (reader_a, "pull a", ZMQ_EVENT_MONITOR_STOPPED);
    printf ("bind: %s\n", s_result (zmq_bind (pull, "tcp://127.0.0.1:*")));
    char bound [256];
    size_t size = sizeof (bound);
    zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, bound, &size);
    s_bound = bound;
    s_until (reader_b, "pull b", ZMQ_EVENT_LISTENING);
    zmq_close (pull);
    s_until (reader_b, "pull b", ZMQ_EVENT_MONITOR_STOPPED);
    printf ("pull a after replace: %s\n", s_quiet (reader_a, 100)? "nothing": "more events");
    zmq_close (reader_a);
    zmq_close (reader_b);
    return zmq_ctx_term (ctx) == 0? 0: 1;
}
