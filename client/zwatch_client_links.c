/*  zwatch_client_links: the links a client holds (see header).  */

#include <czmq.h>
#include <inttypes.h>
#include "zwatch_client_links.h"

struct _client_links_t {
    zhashx_t *links;            //  name -> held_t
    size_t max;
};

//  A link and the strings it points to, in one block
typedef struct {
    client_link_t link;
    char text [];
} held_t;

//  The name: both ends' five keys and the endpoint
static char *
s_name (const client_map_t *map)
{
    const client_end_t *from = &map->from, *to = &map->to;
    return zsys_sprintf ("%.*s/%.*s/%" PRIu64 "/%.*s/%.*s|%.*s/%.*s/%" PRIu64 "/%.*s/%.*s",
                         (int) from->host.len, from->host.ptr, (int) from->svc.len,
                         from->svc.ptr, from->pid, (int) from->sock.len, from->sock.ptr,
                         (int) from->addr.len, from->addr.ptr, (int) to->host.len,
                         to->host.ptr, (int) to->svc.len, to->svc.ptr, to->pid,
                         (int) to->sock.len, to->sock.ptr, (int) to->addr.len, to->addr.ptr);
}

static const char *
s_put (char **cursor, zwatch_str_t str)
{
    char *text = *cursor;
    if (str.len)
        memcpy (text, str.ptr, str.len);
    text [str.len] = 0;
    *cursor += str.len + 1;
    return text;
}

static void
s_put_end (char **cursor, client_link_end_t *held, const client_end_t *end)
{
    held->host = s_put (cursor, end->host);
    held->svc = s_put (cursor, end->svc);
    held->sock = s_put (cursor, end->sock);
    held->addr = s_put (cursor, end->addr);
    held->pid = end->pid;
}

static size_t
s_end_size (const client_end_t *end)
{
    return end->host.len + end->svc.len + end->sock.len + end->addr.len + 4;
}

client_links_t *
client_links_new (size_t max)
{
    client_links_t *self = (client_links_t *) zmalloc (sizeof (client_links_t));
    self->max = max;
    self->links = zhashx_new ();
    if (!self->links)
        client_links_destroy (&self);
    else
        zhashx_set_destructor (self->links, (zhashx_destructor_fn *) zstr_free);
    return self;
}

void
client_links_destroy (client_links_t **self_p)
{
    client_links_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->links);
    free (self);
    *self_p = NULL;
}

int
client_links_add (client_links_t *self, const client_map_t *link)
{
    char *name = s_name (link);
    if (!name) {
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    if (zhashx_lookup (self->links, name))
        rc = 0;
    else
    if (zhashx_size (self->links) >= self->max) {
        errno = ENOSPC;
        rc = -1;
    }
    else {
        size_t size = sizeof (held_t) + s_end_size (&link->from) + s_end_size (&link->to)
                    + link->endpoint.len + 1;
        held_t *held = (held_t *) malloc (size);
        if (!held) {
            errno = ENOMEM;
            rc = -1;
        }
        else {
            char *cursor = held->text;
            s_put_end (&cursor, &held->link.from, &link->from);
            s_put_end (&cursor, &held->link.to, &link->to);
            held->link.endpoint = s_put (&cursor, link->endpoint);
            held->link.since = link->since;
            zhashx_insert (self->links, name, held);
            rc = 1;
        }
    }
    free (name);
    return rc;
}

int
client_links_remove (client_links_t *self, const client_map_t *link)
{
    char *name = s_name (link);
    if (!name)
        return 0;
    int rc = zhashx_lookup (self->links, name)? 1: 0;
    if (rc)
        zhashx_delete (self->links, name);
    free (name);
    return rc;
}

size_t
client_links_size (client_links_t *self)
{
    return zhashx_size (self->links);
}

const client_link_t *
client_links_first (client_links_t *self)
{
    held_t *held = (held_t *) zhashx_first (self->links);
    return held? &held->link: NULL;
}

const client_link_t *
client_links_next (client_links_t *self)
{
    held_t *held = (held_t *) zhashx_next (self->links);
    return held? &held->link: NULL;
}
