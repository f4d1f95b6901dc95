/*  zwatch_preload_sockets: a small locked array. Lookups scan it: they
    come with socket creation and closing, never with messages.  */

#include <errno.h>
#include "zwatch_preload_sockets.h"

//  Index of socket, or -1; call with the lock held
static long
s_find (zwatch_preload_sockets_t *self, void *socket)
{
    for (size_t index = 0; index < self->count; index++)
        if (self->entries [index].socket == socket)
            return (long) index;
    return -1;
}

int
zwatch_preload_sockets_add (zwatch_preload_sockets_t *self, void *socket, void *ctx)
{
    int rc = 0;
    pthread_mutex_lock (&self->mutex);
    if (self->count < ZWATCH_PRELOAD_SOCKETS_MAX)
        self->entries [self->count++] = (zwatch_preload_socket_t) { socket, ctx };
    else
        rc = -1;
    pthread_mutex_unlock (&self->mutex);
    if (rc)
        errno = ENOSPC;
    return rc;
}

bool
zwatch_preload_sockets_remove (zwatch_preload_sockets_t *self, void *socket)
{
    pthread_mutex_lock (&self->mutex);
    long index = s_find (self, socket);
    if (index >= 0)
        self->entries [index] = self->entries [--self->count];
    pthread_mutex_unlock (&self->mutex);
    return index >= 0;
}

bool
zwatch_preload_sockets_has (zwatch_preload_sockets_t *self, void *socket)
{
    pthread_mutex_lock (&self->mutex);
    long index = s_find (self, socket);
    pthread_mutex_unlock (&self->mutex);
    return index >= 0;
}

size_t
zwatch_preload_sockets_take (zwatch_preload_sockets_t *self, void *ctx)
{
    size_t removed = 0;
    pthread_mutex_lock (&self->mutex);
    for (size_t index = self->count; index-- > 0; )
        if (self->entries [index].ctx == ctx) {
            removed++;
            self->entries [index] = self->entries [--self->count];
        }
    pthread_mutex_unlock (&self->mutex);
    return removed;
}

size_t
zwatch_preload_sockets_end_all (zwatch_preload_sockets_t *self, void (*end) (void *socket))
{
    pthread_mutex_lock (&self->mutex);
    size_t count = self->count;
    for (size_t index = 0; index < count; index++)
        end (self->entries [index].socket);
    self->count = 0;
    pthread_mutex_unlock (&self->mutex);
    return count;
}

void
zwatch_preload_sockets_fork_prepare (zwatch_preload_sockets_t *self)
{
    pthread_mutex_lock (&self->mutex);
}

void
zwatch_preload_sockets_fork_parent (zwatch_preload_sockets_t *self)
{
    pthread_mutex_unlock (&self->mutex);
}

void
zwatch_preload_sockets_fork_child (zwatch_preload_sockets_t *self)
{
    //  The parent's sockets are not the child's to watch; the lock is made
    //  anew, as the parent's thread locked it
    self->count = 0;
    pthread_mutex_init (&self->mutex, NULL);
}
