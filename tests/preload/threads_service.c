/*  threads_service: sockets made, bound and closed in many threads at
    once, half in one shared context and half in contexts of their own.
    No reference to zwatch. Usage: threads_service THREADS SOCKETS
    or threads_service blocked: the context ends under a thread blocked in
    zmq_recv, which closes its socket on ETERM, as services do.
*/

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static void *s_shared_ctx;
static int s_sockets;

static void *
s_worker (void *args)
{
    //  Odd threads make, and end, a context of their own
    bool own = (long) args % 2 == 1;
    void *ctx = own? zmq_ctx_new (): s_shared_ctx;
    long bound = 0;
    for (int index = 0; index < s_sockets; index++) {
        void *push = zmq_socket (ctx, ZMQ_PUSH);
        if (push && zmq_bind (push, "tcp://127.0.0.1:*") == 0)
            bound++;
        zmq_close (push);
    }
    if (own)
        zmq_ctx_term (ctx);
    return (void *) bound;
}

static void *
s_receiver (void *socket)
{
    char buffer [8];
    int rc = zmq_recv (socket, buffer, sizeof (buffer), 0);
    long err = rc < 0? zmq_errno (): 0;
    zmq_close (socket);
    return (void *) err;
}

static int
s_blocked (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    if (zmq_bind (pull, "tcp://127.0.0.1:*") != 0)
        return 3;
    pthread_t receiver;
    pthread_create (&receiver, NULL, s_receiver, pull);
    usleep (100 * 1000);
    int rc = zmq_ctx_term (ctx);
    void *err;
    pthread_join (receiver, &err);
    printf ("ctx_term %d, the receiver got %s\n", rc, (long) err == ETERM? "ETERM": "something else");
    return 0;
}

int
main (int argc, char *argv [])
{
    if (argc > 1 && strcmp (argv [1], "blocked") == 0)
        return s_blocked ();
    int threads = argc > 1? atoi (argv [1]): 8;
    s_sockets = argc > 2? atoi (argv [2]): 25;
    if (threads < 1 || threads > 64 || s_sockets < 1)
        return 2;
    s_shared_ctx = zmq_ctx_new ();
    pthread_t workers [64];
    for (long index = 0; index < threads; index++)
        pthread_create (&workers [index], NULL, s_worker, (void *) index);
    long bound = 0;
    for (int index = 0; index < threads; index++) {
        void *result;
        pthread_join (workers [index], &result);
        bound += (long) result;
    }
    printf ("threads %d sockets %d bound %ld\n", threads, threads * s_sockets, bound);
    return zmq_ctx_term (s_shared_ctx) == 0? 0: 1;
}
