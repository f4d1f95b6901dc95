/*  zwatch_client_changes: a bounded FIFO of deep-copied changes.  */

#include <czmq.h>
#include "zwatch_client_changes.h"

struct _client_changes_t {
    zlistx_t *queue;            //  held_t
    size_t max;
    void *last;                 //  handed out by the last pop
};

typedef struct {
    zwatch_change_t change;
    char data [];
} held_t;

#define STRINGS(c) (c)->host, (c)->svc, (c)->sock, (c)->stype, (c)->endpoint, (c)->local, \
    (c)->peer, (c)->event, (c)->from.host, (c)->from.svc, (c)->from.sock, (c)->from.addr, \
    (c)->to.host, (c)->to.svc, (c)->to.sock, (c)->to.addr, (c)->broker, (c)->reason

static size_t
s_size (const char *text)
{
    return text? strlen (text) + 1: 0;
}

static const char *
s_put (char **cursor, const char *text)
{
    if (!text)
        return NULL;
    size_t size = strlen (text) + 1;
    memcpy (*cursor, text, size);
    *cursor += size;
    return *cursor - size;
}

client_changes_t *
client_changes_new (size_t max)
{
    client_changes_t *self = (client_changes_t *) zmalloc (sizeof (client_changes_t));
    self->max = max;
    self->queue = zlistx_new ();
    if (!self->queue)
        client_changes_destroy (&self);
    return self;
}

void
client_changes_destroy (client_changes_t **self_p)
{
    client_changes_t *self = *self_p;
    if (!self)
        return;
    if (self->queue)
        client_changes_clear (self);
    zlistx_destroy (&self->queue);
    free (self->last);
    free (self);
    *self_p = NULL;
}

int
client_changes_push (client_changes_t *self, const zwatch_change_t *change)
{
    if (zlistx_size (self->queue) >= self->max) {
        errno = ENOSPC;
        return -1;
    }
    const char *strings [] = { STRINGS (change) };
    size_t count = sizeof (strings) / sizeof (strings [0]);
    size_t size = sizeof (held_t) + change->body_size;
    for (size_t index = 0; index < count; index++)
        size += s_size (strings [index]);
    held_t *held = (held_t *) malloc (size);
    if (!held) {
        errno = ENOMEM;
        return -1;
    }
    held->change = *change;
    zwatch_change_t *copy = &held->change;
    char *cursor = held->data;
    if (change->body_size) {
        memcpy (cursor, change->body, change->body_size);
        copy->body = cursor;
        cursor += change->body_size;
    }
    else
        copy->body = NULL;
    copy->host = s_put (&cursor, change->host);
    copy->svc = s_put (&cursor, change->svc);
    copy->sock = s_put (&cursor, change->sock);
    copy->stype = s_put (&cursor, change->stype);
    copy->endpoint = s_put (&cursor, change->endpoint);
    copy->local = s_put (&cursor, change->local);
    copy->peer = s_put (&cursor, change->peer);
    copy->event = s_put (&cursor, change->event);
    copy->from.host = s_put (&cursor, change->from.host);
    copy->from.svc = s_put (&cursor, change->from.svc);
    copy->from.sock = s_put (&cursor, change->from.sock);
    copy->from.addr = s_put (&cursor, change->from.addr);
    copy->to.host = s_put (&cursor, change->to.host);
    copy->to.svc = s_put (&cursor, change->to.svc);
    copy->to.sock = s_put (&cursor, change->to.sock);
    copy->to.addr = s_put (&cursor, change->to.addr);
    copy->broker = s_put (&cursor, change->broker);
    copy->reason = s_put (&cursor, change->reason);
    if (!zlistx_add_end (self->queue, held)) {
        free (held);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

const zwatch_change_t *
client_changes_pop (client_changes_t *self)
{
    free (self->last);
    held_t *held = (held_t *) zlistx_detach (self->queue, NULL);
    self->last = held;
    return held? &held->change: NULL;
}

void
client_changes_clear (client_changes_t *self)
{
    held_t *held;
    while ((held = (held_t *) zlistx_detach (self->queue, NULL)))
        free (held);
}

size_t
client_changes_size (client_changes_t *self)
{
    return zlistx_size (self->queue);
}
