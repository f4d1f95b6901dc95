/*  tcp_tap: a man in the middle on loopback that records what it relays.  */

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "testutil.h"
#include "tcp_tap.h"

#define PAIRS_MAX   16              //  connections relayed at once

struct _tcp_tap_t {
    int target_port;
    int listener;
    int wake [2];                   //  destroy writes here to stop the thread
    int fds [PAIRS_MAX * 2];        //  [2n] accepted side, [2n+1] target side; -1 free
    pthread_t thread;
    pthread_mutex_t mutex;          //  guards the record
    char *record;
    size_t size;
    char endpoint [64];
};

static int
s_connect_target (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

static void
s_close_pair (tcp_tap_t *self, int pair)
{
    close (self->fds [pair * 2]);
    close (self->fds [pair * 2 + 1]);
    self->fds [pair * 2] = self->fds [pair * 2 + 1] = -1;
}

//  Relay what fds [index] holds to its partner; false when the pair is done
static bool
s_relay (tcp_tap_t *self, int index)
{
    char buffer [16384];
    ssize_t got = read (self->fds [index], buffer, sizeof (buffer));
    if (got <= 0)
        return false;
    pthread_mutex_lock (&self->mutex);
    size_t keep = (size_t) got < TCP_TAP_MAX - self->size? (size_t) got: TCP_TAP_MAX - self->size;
    memcpy (self->record + self->size, buffer, keep);
    self->size += keep;
    pthread_mutex_unlock (&self->mutex);
    int partner = self->fds [index ^ 1];
    for (ssize_t sent = 0, rc; sent < got; sent += rc)
        if ((rc = write (partner, buffer + sent, (size_t) (got - sent))) <= 0)
            return false;
    return true;
}

static void *
s_tap_thread (void *args)
{
    tcp_tap_t *self = (tcp_tap_t *) args;
    while (true) {
        struct pollfd items [2 + PAIRS_MAX * 2];
        items [0] = (struct pollfd) { self->wake [0], POLLIN, 0 };
        items [1] = (struct pollfd) { self->listener, POLLIN, 0 };
        for (int index = 0; index < PAIRS_MAX * 2; index++)
            items [2 + index] = (struct pollfd) { self->fds [index], POLLIN, 0 };
        if (poll (items, 2 + PAIRS_MAX * 2, -1) < 0 && errno != EINTR)
            break;
        if (items [0].revents)
            break;
        for (int index = 0; index < PAIRS_MAX * 2; index++)
            if (self->fds [index] >= 0 && (items [2 + index].revents & (POLLIN | POLLHUP | POLLERR))
            &&  !s_relay (self, index))
                s_close_pair (self, index / 2);
        if (items [1].revents & POLLIN) {
            int client = accept (self->listener, NULL, NULL);
            int pair = 0;
            while (pair < PAIRS_MAX && self->fds [pair * 2] >= 0)
                pair++;
            int target = client >= 0 && pair < PAIRS_MAX? s_connect_target (self->target_port): -1;
            if (target < 0) {
                if (client >= 0)
                    close (client);         //  the client sees a reset and retries
                continue;
            }
            self->fds [pair * 2] = client;
            self->fds [pair * 2 + 1] = target;
        }
    }
    for (int pair = 0; pair < PAIRS_MAX; pair++)
        if (self->fds [pair * 2] >= 0)
            s_close_pair (self, pair);
    return NULL;
}

tcp_tap_t *
tcp_tap_new (int target_port)
{
    tcp_tap_t *self = (tcp_tap_t *) calloc (1, sizeof (tcp_tap_t));
    CHECK (self);
    self->target_port = target_port;
    self->record = malloc (TCP_TAP_MAX);
    CHECK (self->record);
    for (int index = 0; index < PAIRS_MAX * 2; index++)
        self->fds [index] = -1;
    CHECK (pipe (self->wake) == 0);
    pthread_mutex_init (&self->mutex, NULL);

    self->listener = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (self->listener >= 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof (addr);
    CHECK (bind (self->listener, (struct sockaddr *) &addr, sizeof (addr)) == 0);
    CHECK (listen (self->listener, 16) == 0);
    CHECK (getsockname (self->listener, (struct sockaddr *) &addr, &len) == 0);
    snprintf (self->endpoint, sizeof (self->endpoint), "tcp://127.0.0.1:%d", ntohs (addr.sin_port));
    CHECK (pthread_create (&self->thread, NULL, s_tap_thread, self) == 0);
    return self;
}

void
tcp_tap_destroy (tcp_tap_t **self_p)
{
    if (self_p && *self_p) {
        tcp_tap_t *self = *self_p;
        CHECK (write (self->wake [1], "x", 1) == 1);
        pthread_join (self->thread, NULL);
        close (self->listener);
        close (self->wake [0]);
        close (self->wake [1]);
        pthread_mutex_destroy (&self->mutex);
        free (self->record);
        free (self);
        *self_p = NULL;
    }
}

const char *
tcp_tap_endpoint (tcp_tap_t *self)
{
    return self->endpoint;
}

char *
tcp_tap_bytes (tcp_tap_t *self, size_t *size)
{
    pthread_mutex_lock (&self->mutex);
    char *copy = malloc (self->size + 1);
    CHECK (copy);
    memcpy (copy, self->record, self->size);
    *size = self->size;
    pthread_mutex_unlock (&self->mutex);
    return copy;
}
