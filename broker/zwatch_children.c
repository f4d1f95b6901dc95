/*  zwatch_children: the brokers below us (see zwatch_children.h)  */

#include <czmq.h>
#include "zwatch_children.h"

struct _zwatch_children_t {
    zwatch_child_t children [ZWATCH_CHILDREN_MAX];
    size_t count;
    zhashx_t *by_id;                    //  id -> child, in children
    uint64_t refused;
};

zwatch_children_t *
zwatch_children_new (void)
{
    zwatch_children_t *self = (zwatch_children_t *) zmalloc (sizeof (zwatch_children_t));
    if (self) {
        self->by_id = zhashx_new ();
        if (!self->by_id)
            zwatch_children_destroy (&self);
    }
    return self;
}

void
zwatch_children_destroy (zwatch_children_t **self_p)
{
    if (self_p && *self_p) {
        zhashx_destroy (&(*self_p)->by_id);
        free (*self_p);
        *self_p = NULL;
    }
}

bool
zwatch_children_heard (zwatch_children_t *self, const zwatch_msg_t *msg,
                       const zwatch_via_t *via, int64_t now)
{
    //  Lifecycle messages (rare) say the edge is there too: an edge heard
    //  of only through a replay is one we can tell is gone
    if (via->count == 0 || (msg->kind != ZWATCH_KIND_HEARTBEAT && msg->kind != ZWATCH_KIND_HELLO
                        &&  msg->kind != ZWATCH_KIND_STATE_END))
        return false;
    char id [ZWATCH_HOST_MAX + 1];
    memcpy (id, via->ids [0].ptr, via->ids [0].len);
    id [via->ids [0].len] = 0;
    zwatch_child_t *child = (zwatch_child_t *) zhashx_lookup (self->by_id, id);
    if (!child) {
        if (self->count == ZWATCH_CHILDREN_MAX) {
            self->refused++;
            return false;
        }
        child = &self->children [self->count++];
        memcpy (child->id, id, sizeof (id));
        if (zhashx_insert (self->by_id, child->id, child) != 0) {
            self->count--;
            return false;
        }
    }
    child->last_seen = now;
    child->silent = false;
    size_t svc_len = strlen (ZWATCH_RELAY_SVC);
    if (msg->kind != ZWATCH_KIND_HEARTBEAT
    ||  msg->svc.len != svc_len || memcmp (msg->svc.ptr, ZWATCH_RELAY_SVC, svc_len) != 0
    ||  via->ids [0].len != msg->host.len
    ||  memcmp (via->ids [0].ptr, msg->host.ptr, msg->host.len) != 0)
        return false;
    child->sent = msg->sent;
    child->dropped = msg->dropped;
    child->agents = msg->watched;
    return true;
}

const zwatch_child_t *
zwatch_children_expired (zwatch_children_t *self, int64_t now)
{
    for (size_t index = 0; index < self->count; index++) {
        zwatch_child_t *child = &self->children [index];
        if (!child->silent
        &&  now - child->last_seen >= ZWATCH_RELAY_HEARTBEAT_MS * ZWATCH_RELAY_LOST_INTERVALS) {
            child->silent = true;
            child->losses++;
            return child;
        }
    }
    return NULL;
}

size_t
zwatch_children_size (zwatch_children_t *self)
{
    return self? self->count: 0;
}

const zwatch_child_t *
zwatch_children_get (zwatch_children_t *self, size_t index)
{
    return self && index < self->count? &self->children [index]: NULL;
}

uint64_t
zwatch_children_refused (zwatch_children_t *self)
{
    return self? self->refused: 0;
}
