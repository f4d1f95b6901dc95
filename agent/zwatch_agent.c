/*  zwatch_agent: the public face of the agent (include/zwatch_agent.h).

    Calls may come from any of the service's threads; a mutex serializes
    them onto the engine's command pipe. The monitor itself is started and
    stopped here, in the caller's thread, because that thread owns the
    socket; the engine never touches the service's sockets.
*/

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "zwatch.h"
#include "zwatch_agent_internal.h"
#include "zwatch_charset.h"
#include "zwatch_curve.h"
#include "zwatch_eintr.h"
#include "zwatch_endpoints.h"
#include "zwatch_engine.h"
#include "zwatch_identity.h"
#include "zwatch_log.h"
#include "zwatch_tee.h"
#include "zwatch_watchset.h"

#define DESTROY_CLOSED_MSECS    300     //  destroy: wait for sockets libzmq says were closed

struct _zwatch_agent_t {
    pthread_mutex_t mutex;
    void *ctx;                      //  the service's context, given to zwatch_agent_new
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
    char error [512];
    zwatch_endpoints_t *brokers = zwatch_endpoints_new (broker_endpoint, ZWATCH_AGENT_BROKERS_MAX,
                                                        error, sizeof (error));
    if (!brokers) {
        int err = errno;
        zwatch_log_error ("cannot start agent for brokers %s", error);
        errno = err;
        return NULL;
    }
    //  CURVE keys from the environment apply before the first connection.
    //  A bad setting fails here rather than send in clear; inproc has no
    //  security handshake, so they do not apply to it.
    zwatch_curve_t curve;
    memset (&curve, 0, sizeof (curve));
    bool remote = false;
    for (size_t index = 0; index < zwatch_endpoints_size (brokers); index++)
        remote |= strncmp (zwatch_endpoints_get (brokers, index), "inproc://", 9) != 0;
    if (remote && zwatch_curve_from_env (&curve, error, sizeof (error)) != 0) {
        zwatch_log_error ("zwatch_agent_new: %s", error);
        zwatch_endpoints_destroy (&brokers);
        errno = EINVAL;
        return NULL;
    }
    zwatch_agent_t *self = (zwatch_agent_t *) calloc (1, sizeof (zwatch_agent_t));
    if (!self) {
        zwatch_endpoints_destroy (&brokers);
        return NULL;
    }
    pthread_mutex_init (&self->mutex, NULL);
    zwatch_identity_host (self->host, sizeof (self->host));
    zwatch_identity_service (self->service, sizeof (self->service));
    self->ctx = zmq_ctx;
    self->engine = zwatch_engine_new (zmq_ctx, brokers, self->host, self->service, &curve);
    explicit_bzero (&curve, sizeof (curve));
    zwatch_endpoints_destroy (&brokers);
    if (!self->engine) {
        int err = errno;
        zwatch_log_error ("cannot start agent for broker '%s': %s", broker_endpoint, zmq_strerror (err));
        pthread_mutex_destroy (&self->mutex);
        free (self);
        errno = err;
        return NULL;
    }
    //  Folding is on unless the environment says 0; a value we do not know
    //  leaves it on, and says so
    const char *fold = getenv ("ZWATCH_FOLD");
    if (fold && strcmp (fold, "0") == 0)
        zwatch_agent_set_fold (self, false);
    else
    if (fold && *fold && strcmp (fold, "1") != 0)
        zwatch_log_warning ("ZWATCH_FOLD must be 0 or 1, not '%.40s': folding stays on", fold);
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
    return len > 0 && len <= max && zwatch_charset_all (label, len, ZWATCH_CHAR_PRINT);
}

//  Start, move (endpoint: where to) or stop (endpoint NULL) socket's
//  monitor, in the caller's thread, which owns the socket; 0 or -1 with
//  zmq_errno (ENOTSOCK: the service closed it). libzmq sends the old
//  monitor's MONITOR_STOPPED from this thread with blocking sends whose
//  errors it ignores, and a signal could interrupt its bind: with signals
//  blocked just around the call, none can cut the event in half
static int
s_monitor (void *socket, const char *endpoint)
{
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_SETMASK, &all, &old);
    int rc = zmq_socket_monitor (socket, endpoint, endpoint? ZMQ_EVENT_ALL: 0);
    int err = zmq_errno ();
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    errno = err;
    return rc;
}

//  The engine's reader first, then the monitor. Returns 0, or -1 with errno.
static int
s_start (zwatch_agent_t *self, zwatch_engine_command_t *command)
{
    if (s_call (self, command) != 0)
        return -1;
    if (s_monitor (command->socket, command->endpoint) != 0) {
        int err = zmq_errno ();
        zwatch_engine_command_t release = { .op = ENGINE_RELEASE, .socket = command->socket };
        s_call (self, &release);
        errno = err;
        return -1;
    }
    return 0;
}

//  The type of socket, or -1 with errno: EINVAL (NULL, not a socket), ETERM
//  (its context was terminated). ZMQ_EVENTS processes the socket's pending
//  commands, so a zmq_ctx_term or shutdown already under way shows here
static int
s_socket_type (void *socket)
{
    int type, events;
    size_t type_size = sizeof (type), events_size = sizeof (events);
    if (!socket)
        errno = EINVAL;
    else
    if (zmq_getsockopt (socket, ZMQ_TYPE, &type, &type_size) != 0
    ||  ZWATCH_EINTR_RETRY (zmq_getsockopt (socket, ZMQ_EVENTS, &events, &events_size)) != 0)
        errno = zmq_errno () == ETERM? ETERM: EINVAL;
    else
        return type;
    return -1;
}

int
zwatch_agent_watch (zwatch_agent_t *self, void *socket, const char *label)
{
    if (!self) {
        zwatch_log_error ("zwatch_agent_watch: agent is NULL or destroyed");
        errno = ENOTSUP;
        return -1;
    }
    int type = s_socket_type (socket);
    if (type < 0 && errno == ETERM) {
        zwatch_log_error ("zwatch_agent_watch: the socket's context was terminated");
        return -1;
    }
    if (type < 0) {
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
zwatch_agent_tee (zwatch_agent_t *self, void *ctx, void *socket, const char *endpoint, int events)
{
    if (!self) {
        errno = ENOTSUP;
        return -1;
    }
    if (zwatch_tee_check (endpoint, events) != 0)
        return -1;
    //  libzmq stops a socket's monitor and starts the new one at the moment
    //  of the call: here and now, with no round trip first, the agent's own
    //  monitor moves to a new reader, so the old reader's MONITOR_STOPPED
    //  marks this moment and the engine switches the copies exactly there.
    //  *moving tells the engine that a stop it reads before it has the
    //  reader is this move's, not the socket's end
    char reader_endpoint [64];
    void *reader = zwatch_watchset_reader_new (ctx? ctx: self->ctx, reader_endpoint,
                                               sizeof (reader_endpoint));
    if (!reader)
        return -1;
    pthread_mutex_lock (&self->mutex);
    _Atomic (void *) *moving = zwatch_engine_moving (self->engine);
    atomic_store (moving, socket);
    zwatch_engine_command_t command = { .op = ENGINE_TEE, .socket = socket, .reader = reader,
                                        .tee_endpoint = endpoint, .events = events };
    if (s_monitor (socket, reader_endpoint) != 0) {
        command.rc = -1;
        command.err = errno;
        zmq_close (reader);
        zwatch_engine_command_t failed = { .op = ENGINE_TEE_FAILED, .socket = socket };
        zwatch_engine_call (self->engine, &failed);
    }
    else {
        zwatch_engine_call (self->engine, &command);
        if (command.rc != 0) {
            //  The engine did not take the reader (the socket is not watched,
            //  or not any more): the monitor is not ours. Stop it while the
            //  reader still takes its MONITOR_STOPPED, then let go of both
            s_monitor (socket, NULL);
            zmq_close (reader);
            zwatch_engine_command_t failed = { .op = ENGINE_TEE_FAILED, .socket = socket };
            zwatch_engine_call (self->engine, &failed);
        }
        //  A copy that could not bind: the old one stopped all the same, as libzmq's
        if (command.rc == 0 && command.value != 0) {
            command.rc = -1;
            command.err = command.value;
        }
    }
    atomic_store (moving, NULL);
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
    s_monitor (socket, NULL);
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
zwatch_agent_set_fold (zwatch_agent_t *self, bool fold)
{
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    zwatch_engine_command_t command = { .op = ENGINE_SET_FOLD, .value = fold? 1: 0 };
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
zwatch_agent_set_connection_limit (zwatch_agent_t *self, size_t limit)
{
    if (!self || limit < 1 || limit > INT32_MAX) {
        errno = EINVAL;
        return -1;
    }
    zwatch_engine_command_t command = { .op = ENGINE_SET_CONNECTIONS, .value = (int) limit };
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

int
zwatch_agent_fold_stats (zwatch_agent_t *self, uint64_t *folded, uint64_t *unfolded)
{
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    uint64_t held, full;
    zwatch_engine_fold_stats (self->engine, &held, &full);
    if (folded)
        *folded = held;
    if (unfolded)
        *unfolded = full;
    return 0;
}

size_t
zwatch_agent_brokers (zwatch_agent_t *self)
{
    return self? zwatch_engine_brokers (self->engine): 0;
}

int
zwatch_agent_broker_stats (zwatch_agent_t *self, size_t index, zwatch_agent_broker_stats_t *stats)
{
    if (!self || !stats) {
        errno = EINVAL;
        return -1;
    }
    return zwatch_engine_broker_stats (self->engine, index, stats);
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
    size_t closed = 0;
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
            if (s_monitor (sockets [index], NULL) != 0) {
                //  Closed after all, its events still on their way from
                //  libzmq's reaper (a slow one, under load): wait for them
                zwatch_engine_command_t closing = { .op = ENGINE_CLOSING,
                                                    .socket = sockets [index] };
                closed += s_call (self, &closing) == 0;
                continue;
            }
            zwatch_engine_command_t release = { .op = ENGINE_RELEASE, .socket = sockets [index] };
            s_call (self, &release);
        }
        free (sockets);
    }
    if (closed) {
        zwatch_engine_command_t release = { .op = ENGINE_RELEASE_CTX,
                                            .value = DESTROY_CLOSED_MSECS };
        s_call (self, &release);
    }
    zwatch_engine_destroy (&self->engine);
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}
