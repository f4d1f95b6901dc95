/*  bench_proxy: raw libzmq zmq_proxy from a ROUTER to an XPUB, the
    baseline that bench_broker measures zwatch-broker against.

    It runs as a process of its own, like the broker, with the same number
    of I/O threads (one, libzmq's default and CZMQ's) and the same options
    on its two sockets as the broker's ingest and publish sockets (see
    broker/zwatch_broker.c), so that both are measured the same way: whole
    process, and the main thread, which is the forwarding thread in both.
    A message [routing id][body] from a DEALER goes out as 2 frames, like
    the broker's [topic][body].

    Usage: bench_proxy INGEST PUBLISH     (runs until killed)
*/

#include <stdio.h>
#include <zmq.h>

//  The broker's values (broker/zwatch_broker.c)
#define INGEST_MAXMSGSIZE   65536
#define INGEST_RCVHWM       10000
#define PUBLISH_SNDHWM      100000

int
main (int argc, char *argv [])
{
    if (argc != 3) {
        fprintf (stderr, "usage: bench_proxy INGEST PUBLISH\n");
        return 2;
    }
    void *ctx = zmq_ctx_new ();
    void *frontend = zmq_socket (ctx, ZMQ_ROUTER);
    void *backend = zmq_socket (ctx, ZMQ_XPUB);
    int64_t maxmsgsize = INGEST_MAXMSGSIZE;
    int rcvhwm = INGEST_RCVHWM, sndhwm = PUBLISH_SNDHWM, linger = 0;
    zmq_setsockopt (frontend, ZMQ_MAXMSGSIZE, &maxmsgsize, sizeof (maxmsgsize));
    zmq_setsockopt (frontend, ZMQ_RCVHWM, &rcvhwm, sizeof (rcvhwm));
    zmq_setsockopt (frontend, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_setsockopt (backend, ZMQ_SNDHWM, &sndhwm, sizeof (sndhwm));
    zmq_setsockopt (backend, ZMQ_LINGER, &linger, sizeof (linger));
    if (zmq_bind (frontend, argv [1]) != 0 || zmq_bind (backend, argv [2]) != 0) {
        fprintf (stderr, "bench_proxy: cannot bind: %s\n", zmq_strerror (zmq_errno ()));
        return 1;
    }
    zmq_proxy (frontend, backend, NULL);
    return 0;
}
