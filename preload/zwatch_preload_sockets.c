/*  zwatch_preload_sockets: a locked hash of the watched sockets. Adding,
    finding and removing one is O(1); only taking a whole context (at its
    end, and at exit) walks the table.  */

#include <errno.h>
#include <string.h>
#include "zwatch_preload_sockets.h"

//  The map over the static slots; call with the lock held. A static
//  initialiser cannot point into the variable it initialises
static zwatch_ptrmap_t *
s_map (zwatch_preload_sockets_t *self)
{
    if (!self->map.slots)
        zwatch_ptrmap_init (&self->map, self->slots, 2 * ZWATCH_PRELOAD_SOCKETS_MAX);
    return &self->map;
}

int
zwatch_preload_sockets_add (zwatch_preload_sockets_t *self, void *socket, void *ctx)
{
    int rc = -1;
    pthread_mutex_lock (&self->mutex);
    zwatch_ptrmap_t *map = s_map (self);
    if (map->count < ZWATCH_PRELOAD_SOCKETS_MAX || zwatch_ptrmap_has (map, socket))
        rc = zwatch_ptrmap_put (map, socket, ctx);
    pthread_mutex_unlock (&self->mutex);
    if (rc)
        errno = ENOSPC;
    return rc;
}

bool
zwatch_preload_sockets_remove (zwatch_preload_sockets_t *self, void *socket)
{
    pthread_mutex_lock (&self->mutex);
    zwatch_ptrmap_t *map = s_map (self);
    bool removed = zwatch_ptrmap_has (map, socket);
    if (removed)
        zwatch_ptrmap_remove (map, socket);
    pthread_mutex_unlock (&self->mutex);
    return removed;
}

bool
zwatch_preload_sockets_has (zwatch_preload_sockets_t *self, void *socket)
{
    pthread_mutex_lock (&self->mutex);
    bool found = zwatch_ptrmap_has (s_map (self), socket);
    pthread_mutex_unlock (&self->mutex);
    return found;
}

size_t
zwatch_preload_sockets_take (zwatch_preload_sockets_t *self, void *ctx)
{
    size_t removed = 0;
    pthread_mutex_lock (&self->mutex);
    zwatch_ptrmap_t *map = s_map (self);
    //  Removing shifts later entries back into this slot: look at it again
    for (size_t index = 0; index < map->capacity; ) {
        zwatch_ptrmap_slot_t *slot = &map->slots [index];
        if (slot->key && slot->value == ctx) {
            removed++;
            zwatch_ptrmap_remove (map, slot->key);
        }
        else
            index++;
    }
    pthread_mutex_unlock (&self->mutex);
    return removed;
}

size_t
zwatch_preload_sockets_end_all (zwatch_preload_sockets_t *self, void (*end) (void *socket))
{
    pthread_mutex_lock (&self->mutex);
    zwatch_ptrmap_t *map = s_map (self);
    size_t count = map->count;
    for (size_t index = 0; index < map->capacity; index++)
        if (map->slots [index].key)
            end (map->slots [index].key);
    memset (self->slots, 0, sizeof (self->slots));
    zwatch_ptrmap_init (map, self->slots, 2 * ZWATCH_PRELOAD_SOCKETS_MAX);
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
    memset (self->slots, 0, sizeof (self->slots));
    zwatch_ptrmap_init (&self->map, self->slots, 2 * ZWATCH_PRELOAD_SOCKETS_MAX);
    pthread_mutex_init (&self->mutex, NULL);
}
