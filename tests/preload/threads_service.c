/*  threads_service: sockets made, bound and closed in many threads at
    once, half in one shared context and half in contexts of their own.
    No reference to zwatch. Usage: threads_service THREADS SOCKETS
*/

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

int
main (int argc, char *argv [])
{
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
