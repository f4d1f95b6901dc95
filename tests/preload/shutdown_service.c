/*  shutdown_service: what a Jupyter kernel does at shutdown, over and over.
    No reference to zwatch; run once without the preload and once with it.

        shutdown_service ITERATIONS [signals]

    Each iteration makes a kernel: shell, control and stdin ROUTERs, an
    iopub PUB fed through an inproc PULL by its own thread, a control
    thread serving its ROUTER, a heartbeat thread in a context of its own
    (zmq_proxy until ETERM, then it closes its socket, as ipykernel's
    does), and daemon threads blocked in zmq_recv that close their socket
    on ETERM: after zmq_ctx_term has started. One of them closes at the
    very moment the main thread calls zmq_ctx_term. Sockets made in one
    thread are closed in another. Then the kernel shuts down in
    ipykernel's order. After the last iteration the program exits with
    sockets open while three threads keep making and closing sockets,
    another closes sockets made before, and one is blocked in zmq_recv.

    With "signals", a no-op SIGALRM without SA_RESTART every 200 us
    interrupts every thread of the program; every call is retried on
    EINTR, as libzmq's documentation says.

    Prints "iteration N" after each one (the test's hang detector watches
    them), then "done"; a call that fails prints what and exits 3.
*/

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <zmq.h>

#define DAEMONS     3       //  threads blocked in zmq_recv at shutdown
#define WORKERS     2       //  threads that send on iopub's pipe, then close

//  Retry a call that libzmq may interrupt (-1 with EINTR)
#define RETRY(call)  ({ int _rc; while ((_rc = (call)) == -1 && zmq_errno () == EINTR) ; _rc; })

static void
s_fail (const char *what, int iteration)
{
    printf ("iteration %d: %s: %s\n", iteration, what, zmq_strerror (zmq_errno ()));
    fflush (stdout);
    _exit (3);
}

static void *
s_bound (void *ctx, int type, char *endpoint, size_t size, int iteration)
{
    void *socket = zmq_socket (ctx, type);
    if (!socket)
        s_fail ("zmq_socket", iteration);
    int linger = 0;
    zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof (linger));
    if (RETRY (zmq_bind (socket, "tcp://127.0.0.1:*")) != 0)
        s_fail ("zmq_bind", iteration);
    size_t endpoint_size = size;
    zmq_getsockopt (socket, ZMQ_LAST_ENDPOINT, endpoint, &endpoint_size);
    return socket;
}

typedef struct {
    int iteration;
    void *ctx;
    void *hb_ctx;
    char shell [64];            //  endpoint
    char pipe [64];             //  iopub's inproc pipe
    char control_pipe [64];     //  the control thread's stop pipe
    void *iopub;                //  made by the iopub thread, closed by main
    void *control;              //  made by the control thread, closed by main
    pthread_barrier_t ready;    //  every thread has its sockets
    pthread_barrier_t race;     //  daemon 0 closes as main ends the context
} kernel_t;

//  Heartbeat: its own context; zmq_proxy until the context ends
static void *
s_heartbeat (void *args)
{
    kernel_t *kernel = (kernel_t *) args;
    char endpoint [64];
    void *socket = s_bound (kernel->hb_ctx, ZMQ_ROUTER, endpoint, sizeof (endpoint),
                            kernel->iteration);
    pthread_barrier_wait (&kernel->ready);
    int rc;
    while ((rc = zmq_proxy (socket, socket, NULL)) == -1 && zmq_errno () == EINTR)
        ;
    if (zmq_errno () != ETERM)
        s_fail ("heartbeat zmq_proxy", kernel->iteration);
    zmq_close (socket);
    return NULL;
}

//  IOPub: what comes on the pipe goes out on the PUB, until "stop"
static void *
s_iopub (void *args)
{
    kernel_t *kernel = (kernel_t *) args;
    char endpoint [64];
    kernel->iopub = s_bound (kernel->ctx, ZMQ_PUB, endpoint, sizeof (endpoint), kernel->iteration);
    void *pull = zmq_socket (kernel->ctx, ZMQ_PULL);
    if (!pull || RETRY (zmq_bind (pull, kernel->pipe)) != 0)
        s_fail ("iopub pipe", kernel->iteration);
    pthread_barrier_wait (&kernel->ready);
    char buffer [16];
    int size;
    while ((size = RETRY (zmq_recv (pull, buffer, sizeof (buffer), 0))) >= 0
    &&     !(size == 4 && memcmp (buffer, "stop", 4) == 0))
        RETRY (zmq_send (kernel->iopub, buffer, (size_t) size, ZMQ_DONTWAIT));
    if (size < 0)
        s_fail ("iopub zmq_recv", kernel->iteration);
    zmq_close (pull);
    return NULL;
}

//  Control: serves its ROUTER until a message on its pipe
static void *
s_control (void *args)
{
    kernel_t *kernel = (kernel_t *) args;
    char endpoint [64];
    kernel->control = s_bound (kernel->ctx, ZMQ_ROUTER, endpoint, sizeof (endpoint),
                               kernel->iteration);
    void *pipe = zmq_socket (kernel->ctx, ZMQ_PAIR);
    if (!pipe || RETRY (zmq_bind (pipe, kernel->control_pipe)) != 0)
        s_fail ("control pipe", kernel->iteration);
    pthread_barrier_wait (&kernel->ready);
    zmq_pollitem_t items [] = { { kernel->control, 0, ZMQ_POLLIN, 0 }, { pipe, 0, ZMQ_POLLIN, 0 } };
    while (true) {
        if (RETRY (zmq_poll (items, 2, -1)) < 0)
            s_fail ("control zmq_poll", kernel->iteration);
        if (items [1].revents & ZMQ_POLLIN)
            break;
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        RETRY (zmq_msg_recv (&msg, kernel->control, ZMQ_DONTWAIT));
        zmq_msg_close (&msg);
    }
    zmq_close (pipe);
    return NULL;
}

typedef struct {
    kernel_t *kernel;
    int index;
} daemon_t;

//  A daemon thread holding a socket: blocked in zmq_recv until the
//  context ends, then it closes it (while zmq_ctx_term waits for it)
static void *
s_daemon (void *args)
{
    daemon_t *daemon = (daemon_t *) args;
    kernel_t *kernel = daemon->kernel;
    void *dealer = zmq_socket (kernel->ctx, ZMQ_DEALER);
    if (!dealer || RETRY (zmq_connect (dealer, kernel->shell)) != 0)
        s_fail ("daemon socket", kernel->iteration);
    pthread_barrier_wait (&kernel->ready);
    if (daemon->index == 0) {
        //  This one does not wait: it closes as the context ends
        pthread_barrier_wait (&kernel->race);
        zmq_close (dealer);
        return NULL;
    }
    char buffer [8];
    if (RETRY (zmq_recv (dealer, buffer, sizeof (buffer), 0)) != -1 || zmq_errno () != ETERM)
        s_fail ("daemon zmq_recv", kernel->iteration);
    zmq_close (dealer);
    return NULL;
}

//  A worker sends one message on iopub's pipe and closes its PUSH
static void *
s_worker (void *args)
{
    kernel_t *kernel = (kernel_t *) args;
    void *push = zmq_socket (kernel->ctx, ZMQ_PUSH);
    if (!push || RETRY (zmq_connect (push, kernel->pipe)) != 0)
        s_fail ("worker socket", kernel->iteration);
    pthread_barrier_wait (&kernel->ready);
    if (RETRY (zmq_send (push, "status", 6, 0)) != 6)
        s_fail ("worker zmq_send", kernel->iteration);
    zmq_close (push);
    return NULL;
}

static void
s_term (void *ctx, const char *what, int iteration)
{
    if (RETRY (zmq_ctx_term (ctx)) != 0)
        s_fail (what, iteration);
}

static void
s_kernel (int iteration)
{
    kernel_t kernel;
    memset (&kernel, 0, sizeof (kernel));
    kernel.iteration = iteration;
    kernel.ctx = zmq_ctx_new ();
    kernel.hb_ctx = zmq_ctx_new ();
    if (!kernel.ctx || !kernel.hb_ctx)
        s_fail ("zmq_ctx_new", iteration);
    snprintf (kernel.pipe, sizeof (kernel.pipe), "inproc://iopub-%d", iteration);
    snprintf (kernel.control_pipe, sizeof (kernel.control_pipe), "inproc://control-%d", iteration);
    char endpoint [64];
    void *shell = s_bound (kernel.ctx, ZMQ_ROUTER, kernel.shell, sizeof (kernel.shell), iteration);
    void *stdin_ = s_bound (kernel.ctx, ZMQ_ROUTER, endpoint, sizeof (endpoint), iteration);
    void *client = zmq_socket (kernel.ctx, ZMQ_DEALER);
    if (!client || RETRY (zmq_connect (client, kernel.shell)) != 0)
        s_fail ("client", iteration);

    pthread_barrier_init (&kernel.ready, NULL, 4 + DAEMONS + WORKERS);
    pthread_barrier_init (&kernel.race, NULL, 2);
    pthread_t heartbeat, iopub, control, daemons [DAEMONS], workers [WORKERS];
    daemon_t daemon_args [DAEMONS];
    pthread_create (&heartbeat, NULL, s_heartbeat, &kernel);
    pthread_create (&iopub, NULL, s_iopub, &kernel);
    pthread_create (&control, NULL, s_control, &kernel);
    for (int index = 0; index < DAEMONS; index++) {
        daemon_args [index] = (daemon_t) { &kernel, index };
        pthread_create (&daemons [index], NULL, s_daemon, &daemon_args [index]);
    }
    for (int index = 0; index < WORKERS; index++)
        pthread_create (&workers [index], NULL, s_worker, &kernel);
    pthread_barrier_wait (&kernel.ready);

    //  One request on shell, answered
    zmq_msg_t identity, body;
    zmq_msg_init (&identity);
    zmq_msg_init (&body);
    if (RETRY (zmq_send (client, "execute", 7, 0)) != 7
    ||  RETRY (zmq_msg_recv (&identity, shell, 0)) < 0
    ||  RETRY (zmq_msg_recv (&body, shell, 0)) != 7
    ||  RETRY (zmq_msg_send (&identity, shell, ZMQ_SNDMORE)) < 0
    ||  RETRY (zmq_send (shell, "reply", 5, 0)) != 5)
        s_fail ("shell request", iteration);
    zmq_msg_close (&body);
    char reply [8];
    if (RETRY (zmq_recv (client, reply, sizeof (reply), 0)) != 5)
        s_fail ("shell reply", iteration);
    for (int index = 0; index < WORKERS; index++)
        pthread_join (workers [index], NULL);

    //  Shutdown, in ipykernel's order: heartbeat's context first (its
    //  thread closes its socket while the term waits), then iopub, control,
    //  the channels, and the context under the daemon threads
    s_term (kernel.hb_ctx, "heartbeat zmq_ctx_term", iteration);
    pthread_join (heartbeat, NULL);
    void *stop = zmq_socket (kernel.ctx, ZMQ_PUSH);
    if (!stop || RETRY (zmq_connect (stop, kernel.pipe)) != 0
    ||  RETRY (zmq_send (stop, "stop", 4, 0)) != 4)
        s_fail ("iopub stop", iteration);
    pthread_join (iopub, NULL);
    zmq_close (kernel.iopub);
    void *control_stop = zmq_socket (kernel.ctx, ZMQ_PAIR);
    if (!control_stop || RETRY (zmq_connect (control_stop, kernel.control_pipe)) != 0
    ||  RETRY (zmq_send (control_stop, "", 0, 0)) != 0)
        s_fail ("control stop", iteration);
    pthread_join (control, NULL);
    zmq_close (control_stop);
    zmq_close (kernel.control);
    zmq_close (stdin_);
    zmq_close (shell);
    zmq_close (client);
    zmq_close (stop);
    pthread_barrier_wait (&kernel.race);
    s_term (kernel.ctx, "zmq_ctx_term", iteration);
    for (int index = 0; index < DAEMONS; index++)
        pthread_join (daemons [index], NULL);
    pthread_barrier_destroy (&kernel.ready);
    pthread_barrier_destroy (&kernel.race);
}

//  At exit: a thread that keeps making and closing sockets
static void *
s_churn (void *ctx)
{
    while (true) {
        void *socket = zmq_socket (ctx, ZMQ_PUSH);
        if (!socket)
            s_fail ("churn zmq_socket", -1);
        RETRY (zmq_bind (socket, "tcp://127.0.0.1:*"));
        zmq_close (socket);
    }
    return NULL;
}

//  At exit: a thread that closes sockets made before, one after the other
#define CLOSER_SOCKETS  200
static void *s_closing [CLOSER_SOCKETS];

static void *
s_closer (void *args)
{
    (void) args;
    for (int index = 0; index < CLOSER_SOCKETS; index++)
        zmq_close (s_closing [index]);
    return NULL;
}

//  At exit: a thread blocked in zmq_recv on a socket that stays open
static void *
s_blocked (void *socket)
{
    char buffer [8];
    RETRY (zmq_recv (socket, buffer, sizeof (buffer), 0));
    return NULL;
}

static void
s_nothing (int signal)
{
    (void) signal;
}

int
main (int argc, char *argv [])
{
    int iterations = argc > 1? atoi (argv [1]): 0;
    if (iterations < 1 || (argc > 2 && strcmp (argv [2], "signals") != 0)) {
        fprintf (stderr, "usage: shutdown_service ITERATIONS [signals]\n");
        return 2;
    }
    if (argc > 2) {
        struct sigaction action;
        memset (&action, 0, sizeof (action));
        action.sa_handler = s_nothing;      //  no SA_RESTART: calls see EINTR
        sigaction (SIGALRM, &action, NULL);
        struct itimerval timer = { { 0, 200 }, { 0, 200 } };
        setitimer (ITIMER_REAL, &timer, NULL);
    }
    for (int iteration = 1; iteration <= iterations; iteration++) {
        s_kernel (iteration);
        printf ("iteration %d\n", iteration);
        fflush (stdout);
    }
    //  Exit with sockets open, while other threads are still in libzmq
    void *ctx = zmq_ctx_new ();
    char endpoint [64];
    void *pull = s_bound (ctx, ZMQ_PULL, endpoint, sizeof (endpoint), 0);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    RETRY (zmq_connect (push, endpoint));
    for (int index = 0; index < CLOSER_SOCKETS; index++)
        if (!(s_closing [index] = zmq_socket (ctx, ZMQ_PUSH)))
            s_fail ("closer zmq_socket", 0);
    pthread_t churn, blocked, closer;
    pthread_create (&churn, NULL, s_churn, ctx);
    pthread_create (&churn, NULL, s_churn, ctx);
    pthread_create (&churn, NULL, s_churn, ctx);
    pthread_create (&blocked, NULL, s_blocked, pull);
    pthread_create (&closer, NULL, s_closer, NULL);
    usleep (2000);      //  not a wait for readiness: let the churn get going
    printf ("done\n");
    fflush (stdout);
    exit (0);
}
