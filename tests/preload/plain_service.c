/*  plain_service: a plain libzmq program with no reference to zwatch, run
    by test_preload with and without libzwatch-preload. Everything it
    prints must be the same both ways (so no ports, fds or pids).

    Usage: plain_service EXIT_CODE [open]   (open: exit with its sockets
    and context left as they are, as many programs do)
*/

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

//  errno of the call just made, by name where the test cares
static const char *
s_errno_name (int rc)
{
    if (rc == 0)
        return "ok";
    switch (errno) {
        case EINVAL:            return "EINVAL";
        case EFAULT:            return "EFAULT";
        case ENOTSOCK:          return "ENOTSOCK";
        case EPROTONOSUPPORT:   return "EPROTONOSUPPORT";
        default:                return strerror (errno);
    }
}

//  Threads in this process, from /proc/self/status
static int
s_threads (void)
{
    FILE *file = fopen ("/proc/self/status", "r");
    char line [256];
    int threads = -1;
    while (file && fgets (line, sizeof (line), file))
        if (sscanf (line, "Threads: %d", &threads) == 1)
            break;
    if (file)
        fclose (file);
    return threads;
}

int
main (int argc, char *argv [])
{
    int exit_code = argc > 1? atoi (argv [1]): 0;
    void *ctx = zmq_ctx_new ();
    //  Nothing of zwatch runs before the first socket
    printf ("threads before the first socket: %d\n", s_threads ());
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    if (zmq_bind (rep, "tcp://127.0.0.1:*") != 0)
        return 3;
    char endpoint [256];
    size_t size = sizeof (endpoint);
    zmq_getsockopt (rep, ZMQ_LAST_ENDPOINT, endpoint, &size);
    zmq_connect (req, endpoint);

    char buffer [16] = "";
    zmq_send (req, "ping", 4, 0);
    int got = zmq_recv (rep, buffer, sizeof (buffer) - 1, 0);
    printf ("request %.*s\n", got, buffer);
    zmq_send (rep, "pong", 4, 0);
    got = zmq_recv (req, buffer, sizeof (buffer) - 1, 0);
    printf ("reply %.*s\n", got, buffer);

    //  Failing calls: the same result and errno as without the preload
    errno = 0;
    void *bad = zmq_socket (ctx, 99);
    printf ("socket 99: %s %s\n", bad? "made": "NULL", s_errno_name (-1));
    printf ("close NULL: %s\n", s_errno_name (zmq_close (NULL)));
    printf ("monitor tcp: %s\n", s_errno_name (zmq_socket_monitor (rep, "tcp://127.0.0.1:9", ZMQ_EVENT_ALL)));
    printf ("monitor no protocol: %s\n", s_errno_name (zmq_socket_monitor (rep, "nowhere", ZMQ_EVENT_ALL)));
    printf ("monitor events: %s\n", s_errno_name (zmq_socket_monitor (rep, "inproc://m", 1 << 16)));
    printf ("monitor stop: %s\n", s_errno_name (zmq_socket_monitor (rep, NULL, 0)));
    printf ("ctx_term NULL: %s\n", s_errno_name (zmq_ctx_term (NULL)));
    printf ("ctx_shutdown NULL: %s\n", s_errno_name (zmq_ctx_shutdown (NULL)));
    printf ("ctx_destroy NULL: %s\n", s_errno_name (zmq_ctx_destroy (NULL)));
    printf ("term NULL: %s\n", s_errno_name (zmq_term (NULL)));
    //  A call that succeeds leaves errno as libzmq left it
    errno = 4242;
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    printf ("errno after socket: %d\n", errno);
    errno = 4343;
    int rc = zmq_close (pub);
    printf ("close: %d errno %d\n", rc, errno);
    if (argc > 2 && strcmp (argv [2], "open") == 0)
        return exit_code;

    int linger = 0;
    zmq_setsockopt (req, ZMQ_LINGER, &linger, sizeof (linger));
    printf ("close req: %d\n", zmq_close (req));
    printf ("close rep: %d\n", zmq_close (rep));
    printf ("ctx_term: %d\n", zmq_ctx_term (ctx));
    return exit_code;
}
