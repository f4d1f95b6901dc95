/*  zwatch_agent: the public face of the agent (include/zwatch_agent.h).

    Calls may come from any of the service's threads; a mutex serializes
    them onto the engine's command pipe. The monitor itself is started and
    stopped here, in the caller's thread, because that thread owns the
    socket; the engine never touches the service's sockets.
*/

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "zwatch.h"
#include "zwatch_agent_internal.h"
#include "zwatch_curve.h"
#include "zwatch_engine.h"
#include "zwatch_identity.h"
#include "zwatch_log.h"
#include "zwatch_tee.h"

struct _zwatch_agent_t {
    pthread_mutex_t mutex;
    zwatch_engine_t *engine;
    char host [ZWATCH_HOST_MAX + 1];
    char service [ZWATCH_SVC_MAX + 1];
};

zwatch_agent_t *
zwatch_agent_new (void *zmq_ctx, const char *broker_endpoint)
{
    if (!zmq_ctx) {
        zwatch_log_error ("zwatch_agent_new: zmq_ctx is NULL");
        errno = EINVAL;
        return NULL;
    }
    if (!broker_endpoint)
        broker_endpoint = getenv ("ZWATCH_BROKER");
    if (!broker_endpoint || !*broker_endpoint)
        broker_endpoint = ZWATCH_DEFAULT_INGEST;

    //  CURVE keys from the environment apply before the first connection.
    //  A bad setting fails here rather than send in clear; inproc has no
    //  security handshake, so they do not apply to it.
    zwatch_curve_t curve;
    memset (&curve, 0, sizeof (curve));
    char error [512];
    if (strncmp (broker_endpoint, "inproc://", 9) != 0
    &&  zwatch_curve_from_env (&curve, error, sizeof (error)) != 0) {
        zwatch_log_error ("zwatch_agent_new: %s", error);
        errno = EINVAL;
        return NULL;
    }
    zwatch_agent_t *self = (zwatch_agent_t *) calloc (1, sizeof (zwatch_agent_t));
    if (!self)
        return NULL;
    pthread_mutex_init (&self->mutex, NULL);
    zwatch_identity_host (self->host, sizeof (self->host));
    zwatch_identity_service (self->service, sizeof (self->service));
    self->engine = zwatch_engine_new (zmq_ctx, broker_endpoint, self->host, self->service, &curve);
    explicit_bzero (&curve, sizeof (curve));
    if (!self->engine) {
        int err = errno;
        zwatch_log_error ("cannot start agent for broker '%s': %s", broker_endpoint, zmq_strerror (err));
        pthread_mutex_destroy (&self->mutex);
        free (self);
        errno = err;
        return NULL;
    }
    return self;
}

//  Run a command on the engine under the lock; returns rc with errno set
static int
s_call (zwatch_agent_t *self, zwatch_engine_command_t *command)
{
    pthread_mutex_lock (&self->mutex);
    zwatch_engine_call (self->engine, command);
    pthread_mutex_unlock (&self->mutex);
    if (command->rc != 0)
        errno = command->err;
    return command->rc;
}

//  Labels are protocol strings: 1..ZWATCH_SOCK_MAX printable ASCII
bool
zwatch_agent_label_valid (const char *label, size_t max)
{
    size_t len = strlen (label);
    if (len == 0 || len > max)
        return false;
    for (size_t index = 0; index < len; index++)
        if ((unsigned char) label [index] < 0x20 || (unsigned char) label [index] > 0x7e)
            return false;
    return true;
}

//  The engine's reader first, then the monitor, in the caller's thread (it
//  owns the socket). Returns 0, or -1 with errno.
static int
s_start (zwatch_agent_t *self, zwatch_engine_command_t *command)
{
    if (s_call (self, command) != 0)
        return -1;
    //  libzmq's bind of the monitor may be interrupted by a signal; it
    //  undoes the half-made monitor, so trying again is safe
    int rc;
    while ((rc = zmq_socket_monitor (command->socket, command->endpoint, ZMQ_EVENT_ALL)) != 0
    &&     zmq_errno () == EINTR)
        ;
    if (rc != 0) {
        int err = zmq_errno ();
        zwatch_engine_command_t release = { .op = ENGINE_RELEASE, .socket = command->socket };
        s_call (self, &release);
        errno = err;
        return -1;
    }
    return 0;
}

int
zwatch_agent_watch (zwatch_agent_t *self, void *socket, const char *label)
{
    if (!self) {
        zwatch_log_error ("zwatch_agent_watch: agent is NULL or destroyed");
        errno = ENOTSUP;
        return -1;
    }
    int type;
    size_t type_size = sizeof (type);
    if (!socket || zmq_getsockopt (socket, ZMQ_TYPE, &type, &type_size) != 0) {
        zwatch_log_error ("zwatch_agent_watch: not a libzmq socket (with CZMQ, pass zsock_resolve (sock))");
        errno = EINVAL;
        return -1;
    }
    if (label && !zwatch_agent_label_valid (label, ZWATCH_SOCK_MAX)) {
        zwatch_log_error ("zwatch_agent_watch: label must be 1-%d printable ASCII characters",
                          ZWATCH_SOCK_MAX);
        errno = EINVAL;
        return -1;
    }
    zwatch_engine_command_t command = { .op = ENGINE_WATCH, .socket = socket,
                                        .label = label, .type = type };
    if (s_start (self, &command) != 0) {
        int err = errno;
        if (err == EEXIST)
            zwatch_log_error ("zwatch_agent_watch: socket %p is already watched", socket);
        else
        if (err == ENOSPC)
            zwatch_log_error ("zwatch_agent_watch: already watching %d sockets, the most one "
                              "agent watches", ZWATCH_ENGINE_SOCKETS_MAX);
        else
            zwatch_log_error ("zwatch_agent_watch: %s", zmq_strerror (err));
        errno = err;
        return -1;
    }
    return 0;
}

int
zwatch_agent_watch_in (zwatch_agent_t *self, void *ctx, void *socket, int type,
                       const char *label_prefix)
{
    if (!self || !ctx || !socket) {
        errno = self? EINVAL: ENOTSUP;
        return -1;
    }
    zwatch_engine_command_t command = { .op = ENGINE_WATCH, .socket = socket, .ctx = ctx,
                                        .type = type, .label_prefix = label_prefix };
    return s_start (self, &command);
}

int
zwatch_agent_closing (zwatch_agent_t *self, void *socket)
{
    if (!self) {
        errno = ENOTSUP;
        return -1;
    }
    zwatch_engine_command_t command = { .op = ENGINE_CLOSING, .socket = socket };
    return s_call (self, &command);
}

int
zwatch_agent_tee (zwatch_agent_t *self, void *socket, const char *endpoint, int events)
{
    if (!self) {
        errno = ENOTSUP;
        return -1;
    }
    if (zwatch_tee_check (endpoint, events) != 0)
        return -1;
    //  libzmq would stop the old monitor and start the new one at this very
    //  moment: the agent's own monitor moves to a new reader now, and the
    //  engine switches the copies where the old reader ends. The command
    //  goes first, so the engine knows that end for a move, not a close.
    //  (A socket the engine let go of because its context ended refuses the
    //  move with ETERM, as it would refuse the service's own monitor.)
    static atomic_uint s_moves;
    zwatch_engine_command_t command = { .op = ENGINE_TEE, .socket = socket,
                                        .tee_endpoint = endpoint, .events = events };
    snprintf (command.endpoint, sizeof (command.endpoint), "inproc://zwatch-tee-%p-%u",
              socket, atomic_fetch_add (&s_moves, 1));
    pthread_mutex_lock (&self->mutex);
    int rc = zwatch_engine_post (self->engine, &command);
    int moved = -1;
    if (rc == 0) {
        while ((moved = zmq_socket_monitor (socket, command.endpoint, ZMQ_EVENT_ALL)) != 0
        &&     zmq_errno () == EINTR)
            ;
        int err = zmq_errno ();
        zwatch_engine_wait (self->engine, &command);
        if (moved != 0 && command.rc == 0) {
            command.rc = -1;
            command.err = err;
        }
    }
    pthread_mutex_unlock (&self->mutex);
    if (command.rc != 0)
        errno = command.err;
    return command.rc;
}

int
zwatch_agent_bind_failed (zwatch_agent_t *self, void *socket)
{
    if (!self) {
        errno = ENOTSUP;
        return -1;
    }
    zwatch_engine_command_t command = { .op = ENGINE_BIND_FAILED, .socket = socket };
    return s_call (self, &command) == 0? command.value: -1;
}

void
zwatch_agent_release_ctx (zwatch_agent_t *self, void *ctx)
{
    if (!self)
        return;
    zwatch_engine_command_t command = { .op = ENGINE_RELEASE_CTX, .ctx = ctx };
    s_call (self, &command);
}

int
zwatch_agent_unwatch (zwatch_agent_t *self, void *socket)
{
    if (!self || !socket) {
        errno = self? EINVAL: ENOTSUP;
        return -1;
    }
    zwatch_engine_command_t check = { .op = ENGINE_CHECK, .socket = socket };
    if (s_call (self, &check) != 0)
        return -1;
    //  Unregister first, so libzmq never writes to a reader that is gone
    zmq_socket_monitor (socket, NULL, 0);
    zwatch_engine_command_t release = { .op = ENGINE_RELEASE, .socket = socket };
    return s_call (self, &release);
}

int
zwatch_agent_set_queue_limit (zwatch_agent_t *self, size_t limit)
{
    if (!self || limit == 0 || limit > INT32_MAX) {
        errno = EINVAL;
        return -1;
    }
    zwatch_engine_command_t command = { .op = ENGINE_SET_QUEUE, .value = (int) limit };
    return s_call (self, &command);
}

int
zwatch_agent_set_heartbeat (zwatch_agent_t *self, int msecs)
{
    if (!self || msecs < 10) {
        errno = EINVAL;
        return -1;
    }
    zwatch_engine_command_t command = { .op = ENGINE_SET_HEARTBEAT, .value = msecs };
    return s_call (self, &command);
}

int
zwatch_agent_set_curve (zwatch_agent_t *self, const char *server_key, const char *cert_path)
{
    zwatch_curve_t curve;
    char error [512];
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    if (zwatch_curve_client (&curve, server_key, cert_path, error, sizeof (error)) != 0) {
        zwatch_log_error ("zwatch_agent_set_curve: %s", error);
        errno = EINVAL;
        return -1;
    }
    zwatch_engine_command_t command = { .op = ENGINE_SET_CURVE, .curve = &curve };
    int rc = s_call (self, &command);
    explicit_bzero (&curve, sizeof (curve));
    return rc;
}

int
zwatch_agent_stats (zwatch_agent_t *self, zwatch_agent_stats_t *stats)
{
    if (!self || !stats) {
        errno = EINVAL;
        return -1;
    }
    zwatch_engine_stats (self->engine, stats);
    return 0;
}

const char *
zwatch_agent_host (zwatch_agent_t *self)
{
    return self? self->host: NULL;
}

const char *
zwatch_agent_service (zwatch_agent_t *self)
{
    return self? self->service: NULL;
}

void
zwatch_agent_destroy (zwatch_agent_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_agent_t *self = *self_p;
    //  Sockets still watched: stop their monitors while the engine still
    //  reads, so libzmq never blocks on a reader that is gone. They must
    //  still be open (see zwatch_agent.h).
    void **sockets = calloc (ZWATCH_ENGINE_SOCKETS_MAX, sizeof (void *));
    if (sockets) {
        zwatch_engine_command_t list = { .op = ENGINE_LIST, .list = sockets,
                                         .list_max = ZWATCH_ENGINE_SOCKETS_MAX };
        s_call (self, &list);
        for (size_t index = 0; index < list.list_size; index++) {
            //  Read it once more first: a socket the service closed may
            //  have said MONITOR_STOPPED since the list was made
            zwatch_engine_command_t check = { .op = ENGINE_CHECK, .socket = sockets [index] };
            if (s_call (self, &check) != 0)
                continue;
            zmq_socket_monitor (sockets [index], NULL, 0);
            zwatch_engine_command_t release = { .op = ENGINE_RELEASE, .socket = sockets [index] };
            s_call (self, &release);
        }
        free (sockets);
    }
    zwatch_engine_destroy (&self->engine);
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}
