/*  fork_service: a process that forks; the child makes sockets of its own
    and sends to the parent, which goes on making sockets. No reference to
    zwatch. Prints nothing that differs between runs.
*/

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <zmq.h>

//  The child: a context and a socket of its own (never the parent's)
static int
s_child (const char *endpoint)
{
    void *ctx = zmq_ctx_new ();
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    zmq_connect (push, endpoint);
    int sent = zmq_send (push, "from child", 10, 0);
    zmq_close (push);               //  the default linger delivers it
    zmq_ctx_term (ctx);
    return sent == 10? 0: 1;
}

int
main (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    if (zmq_bind (pull, "tcp://127.0.0.1:*") != 0)
        return 3;
    char endpoint [256];
    size_t size = sizeof (endpoint);
    zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, endpoint, &size);
    fflush (stdout);
    pid_t pid = fork ();
    if (pid < 0)
        return 4;
    if (pid == 0)
        exit (s_child (endpoint));

    int timeout = 10000;
    zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeout, sizeof (timeout));
    char buffer [32] = "";
    int got = zmq_recv (pull, buffer, sizeof (buffer) - 1, 0);
    int status = 0;
    waitpid (pid, &status, 0);
    printf ("parent got '%.*s', child exit %d\n", got > 0? got: 0, buffer,
            WIFEXITED (status)? WEXITSTATUS (status): -1);
    //  The parent's own sockets are still watched after the fork
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    printf ("parent bind after fork: %d\n", zmq_bind (pub, "tcp://127.0.0.1:*"));
    zmq_close (pub);
    zmq_close (pull);
    return zmq_ctx_term (ctx) == 0? 0: 1;
}
