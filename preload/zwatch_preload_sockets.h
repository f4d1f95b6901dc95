/*  zwatch_preload_sockets: the program's sockets the preload watches, and
    the context each one lives in.

    A value type in static storage, never freed: libzmq's reaper thread
    calls zmq_close (on monitor sockets) until the process is gone, and
    each call looks the socket up here. A hash (zwatch_ptrmap, over a
    static table twice the limit) makes each lookup O(1) however many
    sockets the program holds. The lock is held only for the lookup
    itself, never across a libzmq call, but in
    zwatch_preload_sockets_end_all.
*/
#ifndef ZWATCH_PRELOAD_SOCKETS_H_INCLUDED
#define ZWATCH_PRELOAD_SOCKETS_H_INCLUDED

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include "zwatch_engine.h"
#include "zwatch_ptrmap.h"

#define ZWATCH_PRELOAD_SOCKETS_MAX  ZWATCH_ENGINE_SOCKETS_MAX    //  as many as one agent watches

typedef struct {
    pthread_mutex_t mutex;
    zwatch_ptrmap_t map;        //  socket -> ctx, over slots (set up at first use)
    zwatch_ptrmap_slot_t slots [2 * ZWATCH_PRELOAD_SOCKETS_MAX];
} zwatch_preload_sockets_t;

#define ZWATCH_PRELOAD_SOCKETS_INIT { PTHREAD_MUTEX_INITIALIZER, { NULL, 0, 0 }, { { NULL, NULL } } }

//  Add socket in ctx. Returns 0, or -1 with errno ENOSPC when full.
int zwatch_preload_sockets_add (zwatch_preload_sockets_t *self, void *socket, void *ctx);

//  Remove socket; true if it was there
bool zwatch_preload_sockets_remove (zwatch_preload_sockets_t *self, void *socket);

//  True if socket is there
bool zwatch_preload_sockets_has (zwatch_preload_sockets_t *self, void *socket);

//  Remove every socket in ctx. Returns how many were removed.
size_t zwatch_preload_sockets_take (zwatch_preload_sockets_t *self, void *ctx);

//  At exit: call end (socket) on every socket, then empty the table. The
//  lock is held throughout, so a zmq_close in another thread finds its
//  socket either still there, or already ended (end must not look
//  sockets up here). Returns how many there were.
size_t zwatch_preload_sockets_end_all (zwatch_preload_sockets_t *self, void (*end) (void *socket));

//  fork (): hold the lock across it; the child starts empty, with a new lock
void zwatch_preload_sockets_fork_prepare (zwatch_preload_sockets_t *self);
void zwatch_preload_sockets_fork_parent (zwatch_preload_sockets_t *self);
void zwatch_preload_sockets_fork_child (zwatch_preload_sockets_t *self);

#endif
