/*  reset_listener: accept and reset every connection (see header).  */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "testutil.h"
#include "reset_listener.h"

#define POLL_MS     20          //  how soon the thread sees it should stop

struct _reset_listener_t {
    int fd;
    pthread_t thread;
    atomic_bool stop;
    atomic_uint_fast64_t resets;
    char endpoint [64];
};

//  Accept and reset until told to stop
static void *
s_run (void *arg)
{
    reset_listener_t *self = (reset_listener_t *) arg;
    while (!atomic_load (&self->stop)) {
        struct pollfd item = { self->fd, POLLIN, 0 };
        if (poll (&item, 1, POLL_MS) <= 0)
            continue;
        int peer = accept (self->fd, NULL, NULL);
        if (peer < 0)
            continue;
        struct linger abort_close = { 1, 0 };
        CHECK (setsockopt (peer, SOL_SOCKET, SO_LINGER, &abort_close, sizeof (abort_close)) == 0);
        close (peer);
        atomic_fetch_add (&self->resets, 1);
    }
    return NULL;
}

reset_listener_t *
reset_listener_new (void)
{
    reset_listener_t *self = (reset_listener_t *) calloc (1, sizeof (reset_listener_t));
    CHECK (self);
    self->fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK (self->fd >= 0);
    struct sockaddr_in address;
    memset (&address, 0, sizeof (address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t size = sizeof (address);
    CHECK (bind (self->fd, (struct sockaddr *) &address, size) == 0);
    CHECK (listen (self->fd, 16) == 0);
    CHECK (getsockname (self->fd, (struct sockaddr *) &address, &size) == 0);
    snprintf (self->endpoint, sizeof (self->endpoint), "tcp://127.0.0.1:%u",
              (unsigned) ntohs (address.sin_port));
    atomic_init (&self->stop, false);
    atomic_init (&self->resets, 0);
    CHECK (pthread_create (&self->thread, NULL, s_run, self) == 0);
    return self;
}

void
reset_listener_destroy (reset_listener_t **self_p)
{
    if (self_p && *self_p) {
        reset_listener_t *self = *self_p;
        atomic_store (&self->stop, true);
        CHECK (pthread_join (self->thread, NULL) == 0);
        close (self->fd);
        free (self);
        *self_p = NULL;
    }
}

const char *
reset_listener_endpoint (reset_listener_t *self)
{
    return self->endpoint;
}

uint64_t
reset_listener_resets (reset_listener_t *self)
{
    return atomic_load (&self->resets);
}

bool
reset_listener_wait (reset_listener_t *self, uint64_t count, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    while (reset_listener_resets (self) < count) {
        if (tu_now_ms () > deadline)
            return false;
        usleep (10 * 1000);     //  polls a counter, bounded by the deadline
    }
    return true;
}
