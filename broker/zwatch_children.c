/*  zwatch_children: the brokers below us (see zwatch_children.h)  */

#include <czmq.h>
#include "zwatch_children.h"

struct _zwatch_children_t {
    zwatch_child_t children [ZWATCH_CHILDREN_MAX];
    size_t count;
    uint64_t refused;
};

zwatch_children_t *
zwatch_children_new (void)
{
    return (zwatch_children_t *) zmalloc (sizeof (zwatch_children_t));
}

void
zwatch_children_destroy (zwatch_children_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

bool
zwatch_children_heard (zwatch_children_t *self, const zwatch_msg_t *msg,
                       const zwatch_via_t *via, int64_t now)
{
    size_t svc_len = strlen (ZWATCH_RELAY_SVC);
    if (msg->kind != ZWATCH_KIND_HEARTBEAT || via->count == 0
    ||  msg->svc.len != svc_len || memcmp (msg->svc.ptr, ZWATCH_RELAY_SVC, svc_len) != 0
    ||  via->ids [0].len != msg->host.len
    ||  memcmp (via->ids [0].ptr, msg->host.ptr, msg->host.len) != 0)
        return false;
    zwatch_child_t *child = NULL;
    for (size_t index = 0; index < self->count && !child; index++)
        if (strlen (self->children [index].id) == msg->host.len
        &&  memcmp (self->children [index].id, msg->host.ptr, msg->host.len) == 0)
            child = &self->children [index];
    if (!child) {
        if (self->count == ZWATCH_CHILDREN_MAX) {
            self->refused++;
            return true;
        }
        child = &self->children [self->count++];
        memcpy (child->id, msg->host.ptr, msg->host.len);
        child->id [msg->host.len] = 0;
    }
    child->last_seen = now;
    child->sent = msg->sent;
    child->dropped = msg->dropped;
    child->agents = msg->watched;
    child->silent = false;
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
