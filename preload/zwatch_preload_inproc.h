/*  zwatch_preload_inproc: which watched sockets hold an inproc connect
    that no bind has completed.

    libzmq lets go of such a socket only when its context ends, so its
    MONITOR_STOPPED cannot come before: the preload must not wait for it
    (zwatch_agent_closing). Learnt from the zmq_connect, zmq_bind,
    zmq_unbind and zmq_close the preload sees. inproc names are per
    context; names are not told apart by context here, which errs on the
    side of waiting. A value type in static storage; its lock is held only
    for the table itself.
*/
#ifndef ZWATCH_PRELOAD_INPROC_H_INCLUDED
#define ZWATCH_PRELOAD_INPROC_H_INCLUDED

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define ZWATCH_PRELOAD_INPROC_MAX   1024    //  bound and pending names tracked at once
#define ZWATCH_PRELOAD_INPROC_NAME  256     //  longer names are not tracked (errs on waiting)

typedef struct {
    void *socket;
    bool bound;                             //  else: a connect waiting for its bind
    char name [ZWATCH_PRELOAD_INPROC_NAME];
} zwatch_preload_inproc_entry_t;

typedef struct {
    pthread_mutex_t mutex;
    bool overflow;                          //  the table was full once: no longer sure of binds
    size_t count;
    zwatch_preload_inproc_entry_t entries [ZWATCH_PRELOAD_INPROC_MAX];
} zwatch_preload_inproc_t;

#define ZWATCH_PRELOAD_INPROC_INIT { PTHREAD_MUTEX_INITIALIZER, false, 0, { { NULL, false, "" } } }

//  socket bound endpoint (any endpoint; only inproc:// ones count)
void zwatch_preload_inproc_bound (zwatch_preload_inproc_t *self, void *socket, const char *endpoint);

//  socket unbound endpoint
void zwatch_preload_inproc_unbound (zwatch_preload_inproc_t *self, void *socket, const char *endpoint);

//  socket connected to endpoint: pending unless the name is bound now
void zwatch_preload_inproc_connected (zwatch_preload_inproc_t *self, void *socket, const char *endpoint);

//  socket is closing: true if it holds a connect no bind completed. Forgets it.
bool zwatch_preload_inproc_closing (zwatch_preload_inproc_t *self, void *socket);

//  fork (): the child starts empty, with a new lock
void zwatch_preload_inproc_fork_child (zwatch_preload_inproc_t *self);

#endif
