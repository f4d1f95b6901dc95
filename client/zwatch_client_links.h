/*  zwatch_client_links: the fleet links a client holds, by their two ends.

    A link is named by its two ends, all five keys each (PROTOCOL.md 13):
    one hash from that name to the link, bounded, with its strings copied
    out of the message that brought it.
*/
#ifndef ZWATCH_CLIENT_LINKS_H_INCLUDED
#define ZWATCH_CLIENT_LINKS_H_INCLUDED

#include "zwatch_client.h"
#include "zwatch_client_wire.h"

typedef struct _client_links_t client_links_t;

//  One end as held: NUL-terminated copies
typedef zwatch_change_end_t client_link_end_t;

typedef struct {
    client_link_end_t from, to;
    const char *endpoint;
    uint64_t since;
} client_link_t;

//  A table of at most max links. NULL on ENOMEM.
client_links_t *client_links_new (size_t max);
void client_links_destroy (client_links_t **self_p);

//  Add the link of a link map: returns 1 (added), 0 (held already), or -1
//  with errno ENOSPC (at the bound) or ENOMEM
int client_links_add (client_links_t *self, const client_map_t *link);

//  Remove it: 1 (removed), 0 (not held)
int client_links_remove (client_links_t *self, const client_map_t *link);

//  Links held, and a walk over them (no two walks at once)
size_t client_links_size (client_links_t *self);
const client_link_t *client_links_first (client_links_t *self);
const client_link_t *client_links_next (client_links_t *self);

#endif
