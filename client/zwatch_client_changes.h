/*  zwatch_client_changes: the changes a client holds for its caller.

    A bounded FIFO. Each change is copied whole when it goes in (its
    strings and body into one block), so it outlives the message and the
    model step that made it; the one handed out last stays valid until
    the next pop.
*/
#ifndef ZWATCH_CLIENT_CHANGES_H_INCLUDED
#define ZWATCH_CLIENT_CHANGES_H_INCLUDED

#include "zwatch_client.h"

typedef struct _client_changes_t client_changes_t;

//  A queue of at most max changes. NULL on ENOMEM.
client_changes_t *client_changes_new (size_t max);
void client_changes_destroy (client_changes_t **self_p);

//  Copy change in. Returns 0, or -1 with errno ENOSPC (full) or ENOMEM.
int client_changes_push (client_changes_t *self, const zwatch_change_t *change);

//  The oldest change, or NULL; valid until the next pop or the destroy
const zwatch_change_t *client_changes_pop (client_changes_t *self);

//  Drop every change held
void client_changes_clear (client_changes_t *self);

size_t client_changes_size (client_changes_t *self);

#endif
