/*  zwatch_preload_inproc: a small locked table of inproc names (see .h).
    It changes with binds and connects, never with messages.  */

#include <string.h>
#include "zwatch_preload_inproc.h"

#define INPROC_PREFIX       "inproc://"
#define INPROC_PREFIX_SIZE  9

//  The name after inproc://, or NULL if not inproc or too long to keep
static const char *
s_name (const char *endpoint)
{
    if (!endpoint || strncmp (endpoint, INPROC_PREFIX, INPROC_PREFIX_SIZE) != 0)
        return NULL;
    const char *name = endpoint + INPROC_PREFIX_SIZE;
    return strlen (name) < ZWATCH_PRELOAD_INPROC_NAME? name: NULL;
}

static void
s_add (zwatch_preload_inproc_t *self, void *socket, bool bound, const char *name)
{
    if (self->count == ZWATCH_PRELOAD_INPROC_MAX) {
        self->overflow = true;
        return;
    }
    zwatch_preload_inproc_entry_t *entry = &self->entries [self->count++];
    entry->socket = socket;
    entry->bound = bound;
    strcpy (entry->name, name);
}

static void
s_remove (zwatch_preload_inproc_t *self, size_t index)
{
    self->entries [index] = self->entries [--self->count];
}

void
zwatch_preload_inproc_bound (zwatch_preload_inproc_t *self, void *socket, const char *endpoint)
{
    const char *name = s_name (endpoint);
    if (!name) {
        //  An inproc name too long to keep: no longer sure what is bound
        if (endpoint && strncmp (endpoint, INPROC_PREFIX, INPROC_PREFIX_SIZE) == 0)
            self->overflow = true;
        return;
    }
    pthread_mutex_lock (&self->mutex);
    //  The connects waiting for this name are complete now
    for (size_t index = self->count; index-- > 0; )
        if (!self->entries [index].bound && strcmp (self->entries [index].name, name) == 0)
            s_remove (self, index);
    s_add (self, socket, true, name);
    pthread_mutex_unlock (&self->mutex);
}

void
zwatch_preload_inproc_unbound (zwatch_preload_inproc_t *self, void *socket, const char *endpoint)
{
    const char *name = s_name (endpoint);
    if (!name)
        return;
    pthread_mutex_lock (&self->mutex);
    for (size_t index = self->count; index-- > 0; )
        if (self->entries [index].bound && self->entries [index].socket == socket
        &&  strcmp (self->entries [index].name, name) == 0)
            s_remove (self, index);
    pthread_mutex_unlock (&self->mutex);
}

void
zwatch_preload_inproc_connected (zwatch_preload_inproc_t *self, void *socket, const char *endpoint)
{
    const char *name = s_name (endpoint);
    if (!name)
        return;
    pthread_mutex_lock (&self->mutex);
    bool bound = false;
    for (size_t index = 0; index < self->count && !bound; index++)
        bound = self->entries [index].bound && strcmp (self->entries [index].name, name) == 0;
    if (!bound)
        s_add (self, socket, false, name);
    pthread_mutex_unlock (&self->mutex);
}

bool
zwatch_preload_inproc_closing (zwatch_preload_inproc_t *self, void *socket)
{
    bool pending = false;
    pthread_mutex_lock (&self->mutex);
    for (size_t index = self->count; index-- > 0; )
        if (self->entries [index].socket == socket) {
            pending |= !self->entries [index].bound;
            s_remove (self, index);     //  its binds end with it too
        }
    //  Unsure of the binds (table overflowed): wait, as before
    pending &= !self->overflow;
    pthread_mutex_unlock (&self->mutex);
    return pending;
}

void
zwatch_preload_inproc_fork_child (zwatch_preload_inproc_t *self)
{
    self->count = 0;
    self->overflow = false;
    pthread_mutex_init (&self->mutex, NULL);
}
