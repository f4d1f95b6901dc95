/*  zwatch_tee: re-sends a watched socket's monitor events to the service's
    own monitor endpoint, without ever blocking (see zwatch_tee.h).  */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "zwatch_log.h"
#include "zwatch_tee.h"

struct _zwatch_tee_t {
    void *socket;                   //  our PAIR, bound at endpoint
    char *endpoint;
    bool bound;
    int events;
    zmq_msg_t *held;                //  ring of [event, endpoint] frame pairs, made on first need
    size_t held_head;
    size_t held_count;
    uint64_t dropped;               //  beyond the held limit: where libzmq would have blocked
};

int
zwatch_tee_check (const char *endpoint, int events)
{
    //  libzmq's order: the v1 event mask first, then the endpoint
    if ((uint64_t) events >> 16 != 0) {
        errno = EINVAL;
        return -1;
    }
    if (!endpoint)
        return 0;
    const char *separator = strstr (endpoint, "://");
    if (!separator || separator == endpoint || !separator [3]) {
        errno = EINVAL;
        return -1;
    }
    if (separator - endpoint != 6 || memcmp (endpoint, "inproc", 6) != 0) {
        errno = EPROTONOSUPPORT;
        return -1;
    }
    return 0;
}

zwatch_tee_t *
zwatch_tee_new (void *ctx, const char *endpoint, int events)
{
    zwatch_tee_t *self = (zwatch_tee_t *) calloc (1, sizeof (zwatch_tee_t));
    if (!self)
        return NULL;
    self->events = events;
    self->endpoint = strdup (endpoint);
    if (self->endpoint)
        self->socket = zmq_socket (ctx, ZMQ_PAIR);
    if (self->socket) {
        //  As libzmq's own monitor: never hold up the context's termination
        int linger = 0;
        zmq_setsockopt (self->socket, ZMQ_LINGER, &linger, sizeof (linger));
        self->bound = zmq_bind (self->socket, endpoint) == 0;
    }
    if (!self->bound) {
        int err = self->endpoint? zmq_errno (): ENOMEM;
        zwatch_tee_destroy (&self);
        errno = err;
    }
    return self;
}

//  Send one event now. False if the PAIR can't take it yet (the caller
//  keeps the frames); true if it left, or failed for good: ETERM, the
//  context is ending, where libzmq's own send fails and drops it silently
static bool
s_send (zwatch_tee_t *self, zmq_msg_t *frames)
{
    if (zmq_msg_send (&frames [0], self->socket, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        if (zmq_errno () == EAGAIN)
            return false;
    }
    else
        //  Once the first frame is in, the pipe takes the rest of the message
        zmq_msg_send (&frames [1], self->socket, ZMQ_DONTWAIT);
    zmq_msg_close (&frames [0]);
    zmq_msg_close (&frames [1]);
    return true;
}

//  Keep an event for later, behind those already held; drop it when full
static void
s_hold (zwatch_tee_t *self, zmq_msg_t *frames)
{
    if (!self->held)
        self->held = (zmq_msg_t *) calloc (2 * ZWATCH_TEE_HELD_MAX, sizeof (zmq_msg_t));
    if (!self->held || self->held_count == ZWATCH_TEE_HELD_MAX) {
        self->dropped++;
        zmq_msg_close (&frames [0]);
        zmq_msg_close (&frames [1]);
        return;
    }
    size_t slot = (self->held_head + self->held_count++) % ZWATCH_TEE_HELD_MAX;
    for (size_t index = 0; index < 2; index++) {
        zmq_msg_init (&self->held [2 * slot + index]);
        zmq_msg_move (&self->held [2 * slot + index], &frames [index]);
        zmq_msg_close (&frames [index]);
    }
}

bool
zwatch_tee_flush (zwatch_tee_t *self)
{
    //  A send only now and then looks at the PAIR's commands (libzmq
    //  throttles that), and the service's connect is one: look now
    if (self->held_count > 0) {
        int events;
        size_t size = sizeof (events);
        zmq_getsockopt (self->socket, ZMQ_EVENTS, &events, &size);
    }
    while (self->held_count > 0 && s_send (self, &self->held [2 * self->held_head])) {
        self->held_head = (self->held_head + 1) % ZWATCH_TEE_HELD_MAX;
        self->held_count--;
    }
    return self->held_count > 0;
}

void
zwatch_tee_send (zwatch_tee_t *self, uint16_t code, zmq_msg_t *event, zmq_msg_t *endpoint)
{
    if (!(self->events & code))
        return;
    zmq_msg_t frames [2];
    zmq_msg_init (&frames [0]);
    zmq_msg_init (&frames [1]);
    zmq_msg_copy (&frames [0], event);
    zmq_msg_copy (&frames [1], endpoint);
    //  Order matters: nothing overtakes an event already held
    if (zwatch_tee_flush (self) || !s_send (self, frames))
        s_hold (self, frames);
}

uint64_t
zwatch_tee_dropped (zwatch_tee_t *self)
{
    return self->dropped;
}

void
zwatch_tee_destroy (zwatch_tee_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_tee_t *self = *self_p;
    if (self->bound) {
        //  What is still held libzmq would have had blocked in its send, or
        //  in the pipe of a PAIR that is gone: it ends with the socket, unsaid
        zwatch_tee_flush (self);
        if (self->dropped > 0)
            zwatch_log_warning ("the monitor at %s missed %" PRIu64 " events: its PAIR did not "
                                "read them, where libzmq would have blocked the socket",
                                self->endpoint, self->dropped);
        //  Unbind now, not when libzmq reaps the socket: the service may
        //  bind this endpoint again right away
        zmq_unbind (self->socket, self->endpoint);
    }
    while (self->held_count > 0) {
        zmq_msg_close (&self->held [2 * self->held_head]);
        zmq_msg_close (&self->held [2 * self->held_head + 1]);
        self->held_head = (self->held_head + 1) % ZWATCH_TEE_HELD_MAX;
        self->held_count--;
    }
    if (self->socket)
        zmq_close (self->socket);
    free (self->held);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}
