/*  libzwatch-preload: watch an unmodified program's ZeroMQ sockets.

        LD_PRELOAD=libzwatch-preload.so ZWATCH_BROKER=tcp://broker:5570 ./program

    Interposes the libzmq calls that make, monitor, close and end sockets
    and contexts, forwards each to libzmq (zwatch_preload_real), and
    watches every socket the program makes, in every context, with one
    agent per process, started at the first socket (contexts are learnt
    from zmq_socket, so zmq_ctx_new needs no catching). The program sees
    no difference: the same results and errno; its own zmq_socket_monitor
    still gets its events (through a tee, agent/zwatch_tee.h); its
    contexts end without waiting on zwatch. zwatch's own libzmq calls
    (zwatch_guard) pass straight through: it never watches itself.

    fork (): the child gets a fresh agent of its own (its own pid) at its
    first socket; the parent's agent goes on in the parent.
*/

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "zwatch_agent_internal.h"
#include "zwatch_guard.h"
#include "zwatch_log.h"
#include "zwatch_preload_config.h"
#include "zwatch_preload_inproc.h"
#include "zwatch_preload_real.h"
#include "zwatch_preload_sockets.h"

typedef enum {
    PRELOAD_IDLE,                   //  no socket yet: nothing started
    PRELOAD_RUNNING,                //  the agent watches every new socket
    PRELOAD_OFF                     //  disabled, wrong settings, or stopped
} preload_state_t;

//  The process's one preload: libzmq's entry points carry no state of
//  ours, so it is global. lock guards the agent's life: interposed calls
//  use it as readers, starting, stopping and fork () as the writer.
static struct {
    pthread_rwlock_t lock;
    atomic_int state;
    zwatch_agent_t *agent;
    zwatch_agent_t *orphan;         //  in a forked child: the parent's, never touched
    zwatch_preload_config_t config;
    bool fork_handlers;
    atomic_bool unwatched_said;     //  a socket went unwatched: said once
    zwatch_preload_sockets_t sockets;
    zwatch_preload_inproc_t inproc;     //  inproc connects waiting for their bind
} s_preload = {
    .lock = PTHREAD_RWLOCK_INITIALIZER,
    .state = PRELOAD_IDLE,
    .sockets = ZWATCH_PRELOAD_SOCKETS_INIT,
    .inproc = ZWATCH_PRELOAD_INPROC_INIT
};

static void
s_fork_prepare (void)
{
    pthread_rwlock_wrlock (&s_preload.lock);
    zwatch_preload_sockets_fork_prepare (&s_preload.sockets);
}

static void
s_fork_parent (void)
{
    zwatch_preload_sockets_fork_parent (&s_preload.sockets);
    pthread_rwlock_unlock (&s_preload.lock);
}

//  libzmq sends some monitor events from the calling thread: LISTENING and
//  BIND_FAILED from zmq_bind, the old monitor's MONITOR_STOPPED from
//  zmq_socket_monitor. A signal between the event's two frames fails the
//  second send (EINTR): the frames left behind run into the next event's,
//  and the agent can read neither, not even a MONITOR_STOPPED. Where a
//  call of ours or the program's makes such events on a watched socket,
//  its signals wait until the call returns (microseconds; nothing in
//  there blocks)
static void
s_signals_hold (sigset_t *old)
{
    sigset_t all;
    sigfillset (&all);
    pthread_sigmask (SIG_BLOCK, &all, old);
}

static void
s_signals_release (const sigset_t *old)
{
    pthread_sigmask (SIG_SETMASK, old, NULL);
}

//  The agent's thread did not survive the fork and its lock may be held
//  by a thread that is gone: leave it alone, start afresh at the first
//  socket. Our locks are made anew: the child's thread has a new id, so
//  it cannot unlock what the parent's thread locked.
static void
s_fork_child (void)
{
    zwatch_preload_sockets_fork_child (&s_preload.sockets);
    zwatch_preload_inproc_fork_child (&s_preload.inproc);
    if (atomic_load (&s_preload.state) == PRELOAD_RUNNING) {
        s_preload.orphan = s_preload.agent;
        s_preload.agent = NULL;
        atomic_store (&s_preload.state, PRELOAD_IDLE);
    }
    pthread_rwlock_init (&s_preload.lock, NULL);
}

//  A program with libzwatch linked in watches its sockets itself (our own
//  copy of the agent is not exported, so dlsym can only find theirs)
static bool
s_linked_in (void)
{
    if (!dlsym (RTLD_DEFAULT, "zwatch_agent_new"))
        return false;
    zwatch_log_warning ("this program has libzwatch linked in: the preload leaves its sockets to it");
    return true;
}

//  The first socket: read the settings and start the agent, once
static void
s_start (void *ctx)
{
    pthread_rwlock_wrlock (&s_preload.lock);
    if (atomic_load (&s_preload.state) == PRELOAD_IDLE) {
        int state = PRELOAD_OFF;
        if (zwatch_preload_config_load (&s_preload.config) == 0
        &&  !s_preload.config.disabled && !s_linked_in ()) {
            zwatch_guard_enter ();
            //  On failure the agent says why on one line
            s_preload.agent = zwatch_agent_new (ctx, s_preload.config.broker);
            zwatch_guard_leave ();
            if (s_preload.agent)
                state = PRELOAD_RUNNING;
        }
        if (state == PRELOAD_RUNNING && !s_preload.fork_handlers)
            s_preload.fork_handlers =
                pthread_atfork (s_fork_prepare, s_fork_parent, s_fork_child) == 0;
        atomic_store (&s_preload.state, state);
    }
    pthread_rwlock_unlock (&s_preload.lock);
}

//  Once per process: some socket is not watched (ETERM: its context was
//  ending anyway)
static void
s_unwatched (int err)
{
    if (err != ETERM && !atomic_exchange (&s_preload.unwatched_said, true))
        zwatch_log_warning ("some sockets are not watched: %s (at most %d at once, and each "
                            "takes two more sockets of its context's ZMQ_MAX_SOCKETS)",
                            zmq_strerror (err), ZWATCH_PRELOAD_SOCKETS_MAX);
}

static void
s_watch (void *ctx, void *socket, int type)
{
    if (atomic_load (&s_preload.state) == PRELOAD_IDLE)
        s_start (ctx);
    pthread_rwlock_rdlock (&s_preload.lock);
    if (atomic_load (&s_preload.state) == PRELOAD_RUNNING) {
        zwatch_guard_enter ();
        const char *prefix = s_preload.config.label_prefix;
        if (zwatch_agent_watch_in (s_preload.agent, ctx, socket, type, prefix) != 0)
            s_unwatched (errno);
        else
        if (zwatch_preload_sockets_add (&s_preload.sockets, socket, ctx) != 0) {
            s_unwatched (errno);
            sigset_t signals;
            s_signals_hold (&signals);
            zwatch_agent_unwatch (s_preload.agent, socket);
            s_signals_release (&signals);
        }
        zwatch_guard_leave ();
    }
    pthread_rwlock_unlock (&s_preload.lock);
}

void *
zmq_socket (void *ctx, int type)
{
    void *socket = zwatch_preload_real ()->socket (ctx, type);
    if (socket && !zwatch_guard_active () && atomic_load (&s_preload.state) != PRELOAD_OFF) {
        int err = errno;
        s_watch (ctx, socket, type);
        errno = err;
    }
    return socket;
}

int
zmq_close (void *socket)
{
    //  A socket with an inproc connect no bind completed stops only when
    //  its context ends: ending the context must not wait for it
    bool pending = zwatch_preload_inproc_closing (&s_preload.inproc, socket);
    //  libzmq's reaper closes monitor sockets through here: for those it is
    //  one lookup, never a wait (a reaper held up here would hold up the
    //  MONITOR_STOPPED of every socket behind it)
    if (zwatch_guard_active () || !zwatch_preload_sockets_has (&s_preload.sockets, socket))
        return zwatch_preload_real ()->close (socket);
    //  The lock is held to the real close: the exit (s_stop) must not let
    //  go of the agent's readers between our remove and the close, or the
    //  socket's last MONITOR_STOPPED would wait forever for a reader
    int err = errno;
    pthread_rwlock_rdlock (&s_preload.lock);
    if (zwatch_preload_sockets_remove (&s_preload.sockets, socket)
    &&  atomic_load (&s_preload.state) == PRELOAD_RUNNING && !pending) {
        zwatch_guard_enter ();
        zwatch_agent_closing (s_preload.agent, socket);
        zwatch_guard_leave ();
    }
    errno = err;
    int rc = zwatch_preload_real ()->close (socket);
    err = errno;
    pthread_rwlock_unlock (&s_preload.lock);
    errno = err;
    return rc;
}

//  A failed bind on a watched socket sent BIND_FAILED to the agent's
//  monitor, and libzmq's send may have set errno to EAGAIN on the way
//  (its command check, at most once a msec). The event carries the errno
//  the bind failed with: the one the program gets without a monitor.
static int
s_bind_errno (void *socket, int err)
{
    if (err != EAGAIN || zwatch_guard_active ()
    ||  !zwatch_preload_sockets_has (&s_preload.sockets, socket))
        return err;
    pthread_rwlock_rdlock (&s_preload.lock);
    if (atomic_load (&s_preload.state) == PRELOAD_RUNNING) {
        zwatch_guard_enter ();
        int said = zwatch_agent_bind_failed (s_preload.agent, socket);
        zwatch_guard_leave ();
        if (said > 0)
            err = said;
    }
    pthread_rwlock_unlock (&s_preload.lock);
    return err;
}

int
zmq_bind (void *socket, const char *endpoint)
{
    bool watched = !zwatch_guard_active ()
                && zwatch_preload_sockets_has (&s_preload.sockets, socket);
    sigset_t signals;
    if (watched)
        s_signals_hold (&signals);
    int rc = zwatch_preload_real ()->bind (socket, endpoint);
    int err = errno;
    if (watched)
        s_signals_release (&signals);
    //  Binds of zwatch's own count too (a tee binds the program's monitor
    //  endpoint), but not the agent's monitors, which nobody else connects to
    if (rc == 0 && endpoint && (!zwatch_guard_active ()
                            ||  strncmp (endpoint, "inproc://zwatch-", 16) != 0))
        zwatch_preload_inproc_bound (&s_preload.inproc, socket, endpoint);
    if (rc != 0)
        err = s_bind_errno (socket, err);
    errno = err;
    return rc;
}

int
zmq_connect (void *socket, const char *endpoint)
{
    int rc = zwatch_preload_real ()->connect (socket, endpoint);
    int err = errno;
    if (rc == 0 && !zwatch_guard_active ()
    &&  zwatch_preload_sockets_has (&s_preload.sockets, socket))
        zwatch_preload_inproc_connected (&s_preload.inproc, socket, endpoint);
    errno = err;
    return rc;
}

int
zmq_unbind (void *socket, const char *endpoint)
{
    int rc = zwatch_preload_real ()->unbind (socket, endpoint);
    int err = errno;
    if (rc == 0)
        zwatch_preload_inproc_unbound (&s_preload.inproc, socket, endpoint);
    errno = err;
    return rc;
}

int
zmq_socket_monitor (void *socket, const char *endpoint, int events)
{
    int err = errno;
    if (!zwatch_guard_active () && zwatch_preload_sockets_has (&s_preload.sockets, socket)) {
        int rc = -1, tee_err = ENOENT;
        pthread_rwlock_rdlock (&s_preload.lock);
        if (atomic_load (&s_preload.state) == PRELOAD_RUNNING) {
            //  The old monitor's MONITOR_STOPPED marks where the copies switch
            sigset_t signals;
            s_signals_hold (&signals);
            zwatch_guard_enter ();
            rc = zwatch_agent_tee (s_preload.agent, socket, endpoint, events);
            tee_err = errno;
            zwatch_guard_leave ();
            s_signals_release (&signals);
        }
        pthread_rwlock_unlock (&s_preload.lock);
        //  ENOENT: the agent no longer holds the socket's monitor; libzmq's is free
        if (rc == 0 || tee_err != ENOENT) {
            errno = rc == 0? err: tee_err;
            return rc;
        }
    }
    //  libzmq makes the monitor's PAIR with zmq_socket: not the program's to watch
    zwatch_guard_enter ();
    int rc = zwatch_preload_real ()->socket_monitor (socket, endpoint, events);
    err = errno;
    zwatch_guard_leave ();
    errno = err;
    return rc;
}

//  The program is about to end ctx: the agent lets go of everything in it
static void
s_let_go (void *ctx)
{
    if (!ctx || zwatch_guard_active () || atomic_load (&s_preload.state) != PRELOAD_RUNNING)
        return;
    int err = errno;
    pthread_rwlock_rdlock (&s_preload.lock);
    if (atomic_load (&s_preload.state) == PRELOAD_RUNNING) {
        zwatch_preload_sockets_take (&s_preload.sockets, ctx);
        zwatch_guard_enter ();
        zwatch_agent_release_ctx (s_preload.agent, ctx);
        zwatch_guard_leave ();
    }
    pthread_rwlock_unlock (&s_preload.lock);
    errno = err;
}

//  libzmq's zmq_term and zmq_ctx_destroy call zmq_ctx_term: the real call
//  is marked as ours so that inner call passes straight through
static int
s_end (void *ctx, int (*real) (void *))
{
    s_let_go (ctx);
    zwatch_guard_enter ();
    int rc = real (ctx);
    int err = errno;
    zwatch_guard_leave ();
    errno = err;
    return rc;
}

int
zmq_ctx_term (void *ctx)
{
    return s_end (ctx, zwatch_preload_real ()->ctx_term);
}

int
zmq_ctx_shutdown (void *ctx)
{
    return s_end (ctx, zwatch_preload_real ()->ctx_shutdown);
}

int
zmq_ctx_destroy (void *ctx)
{
    return s_end (ctx, zwatch_preload_real ()->ctx_destroy);
}

int
zmq_term (void *ctx)
{
    return s_end (ctx, zwatch_preload_real ()->term);
}

//  libzmq makes the socket say MONITOR_STOPPED and closes its monitor
//  (through our zmq_close, which passes it on: zwatch_guard)
static void
s_stop_monitor (void *socket)
{
    zwatch_preload_real ()->socket_monitor (socket, NULL, 0);
}

//  At exit, after the program's atexit handlers (CZMQ's zsys_shutdown
//  too): stop the monitors of the sockets still open, so the broker hears
//  their end and libzmq never writes to a reader that is gone; forward
//  what is left, say bye. Other threads may still be closing sockets: a
//  socket is stopped under the table's lock, so none is freed under us
__attribute__ ((destructor))
static void
s_stop (void)
{
    sigset_t signals;
    s_signals_hold (&signals);      //  it stops monitors: their MONITOR_STOPPED
    pthread_rwlock_wrlock (&s_preload.lock);
    if (atomic_load (&s_preload.state) == PRELOAD_RUNNING) {
        zwatch_guard_enter ();
        zwatch_preload_sockets_end_all (&s_preload.sockets, s_stop_monitor);
        zwatch_agent_release_ctx (s_preload.agent, NULL);
        zwatch_agent_destroy (&s_preload.agent);
        zwatch_guard_leave ();
        atomic_store (&s_preload.state, PRELOAD_OFF);
    }
    pthread_rwlock_unlock (&s_preload.lock);
    s_signals_release (&signals);
}
