/*  zwatch_sockstate: one socket's listening endpoints, live connections
    (found by fd in a hash) and retrying endpoints, from its events.  */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "zwatch_ptrmap.h"
#include "zwatch_sockstate.h"

#define MAP_MIN     16              //  hash slots at the first connection

//  One fact, with its strings after it: endpoint, then local, then peer
typedef struct _fact_t fact_t;
struct _fact_t {
    fact_t *prev;
    fact_t *next;
    uint16_t code;
    int32_t value;                  //  fd; interval (retrying); errno (bind failed)
    uint64_t ts;                    //  when it began (retrying: the last retry)
    uint64_t peer_pid;              //  0: unknown
    uint16_t endpoint_len;
    uint16_t local_len;
    uint16_t peer_len;
    bool has_local;
    bool has_peer;
    char text [];
};

typedef struct {
    fact_t *head;
    size_t count;
} list_t;

struct _zwatch_sockstate_t {
    size_t connections_max;
    list_t connections;
    list_t listening;
    list_t retrying;
    fact_t *bind_failed;            //  the last BIND_FAILED, or NULL
    zwatch_ptrmap_t by_fd;          //  connection fd + 1 -> fact
};

static void
s_link (list_t *list, fact_t *fact)
{
    fact->prev = NULL;
    fact->next = list->head;
    if (list->head)
        list->head->prev = fact;
    list->head = fact;
    list->count++;
}

static void
s_unlink (list_t *list, fact_t *fact)
{
    if (fact->prev)
        fact->prev->next = fact->next;
    else
        list->head = fact->next;
    if (fact->next)
        fact->next->prev = fact->prev;
    list->count--;
}

static void
s_free_list (list_t *list)
{
    while (list->head) {
        fact_t *fact = list->head;
        s_unlink (list, fact);
        free (fact);
    }
}

//  fds are >= 0; the hash takes no NULL key
static void *
s_key (int32_t fd)
{
    return (void *) (uintptr_t) ((uint32_t) fd + 1);
}

static zwatch_str_t
s_str (const char *ptr, size_t len)
{
    zwatch_str_t str = { ptr, len };
    return str;
}

//  A fact copied from event: the one allocation it costs
static fact_t *
s_fact_new (const zwatch_msg_t *event)
{
    size_t local_len = event->local.ptr? event->local.len: 0;
    size_t peer_len = event->peer.ptr? event->peer.len: 0;
    fact_t *fact = (fact_t *) malloc (sizeof (fact_t) + event->endpoint.len + local_len + peer_len);
    if (!fact)
        return NULL;
    fact->code = (uint16_t) event->code;
    fact->value = (int32_t) event->value;
    fact->ts = event->ts;
    fact->peer_pid = event->peer_pid;
    fact->endpoint_len = (uint16_t) event->endpoint.len;
    fact->local_len = (uint16_t) local_len;
    fact->peer_len = (uint16_t) peer_len;
    fact->has_local = event->local.ptr != NULL;
    fact->has_peer = event->peer.ptr != NULL;
    if (event->endpoint.len)
        memcpy (fact->text, event->endpoint.ptr, event->endpoint.len);
    if (local_len)
        memcpy (fact->text + event->endpoint.len, event->local.ptr, local_len);
    if (peer_len)
        memcpy (fact->text + event->endpoint.len + local_len, event->peer.ptr, peer_len);
    return fact;
}

static bool
s_same_endpoint (const fact_t *fact, const zwatch_msg_t *event)
{
    return fact->endpoint_len == event->endpoint.len
        && memcmp (fact->text, event->endpoint.ptr, event->endpoint.len) == 0;
}

static fact_t *
s_find_endpoint (list_t *list, const zwatch_msg_t *event)
{
    for (fact_t *fact = list->head; fact; fact = fact->next)
        if (s_same_endpoint (fact, event))
            return fact;
    return NULL;
}

static fact_t *
s_find_fd (list_t *list, int32_t fd)
{
    for (fact_t *fact = list->head; fact; fact = fact->next)
        if (fact->value == fd)
            return fact;
    return NULL;
}

static void
s_remove (list_t *list, fact_t *fact)
{
    s_unlink (list, fact);
    free (fact);
}

static void
s_connection_remove (zwatch_sockstate_t *self, fact_t *fact)
{
    zwatch_ptrmap_remove (&self->by_fd, s_key (fact->value));
    s_remove (&self->connections, fact);
}

//  Room for one more key in the hash, which stays at most half full
static int
s_map_room (zwatch_sockstate_t *self)
{
    if (self->by_fd.count + 1 <= self->by_fd.capacity / 2)
        return 0;
    size_t capacity = self->by_fd.capacity? self->by_fd.capacity * 2: MAP_MIN;
    zwatch_ptrmap_slot_t *slots = calloc (capacity, sizeof (zwatch_ptrmap_slot_t));
    if (!slots)
        return -1;
    zwatch_ptrmap_t bigger;
    zwatch_ptrmap_init (&bigger, slots, capacity);
    zwatch_ptrmap_move (&self->by_fd, &bigger);
    free (self->by_fd.slots);
    self->by_fd = bigger;
    return 0;
}

//  CONNECTED or ACCEPTED: one fd is one connection at a time, so one
//  still held on that fd ended unseen
static bool
s_connection_add (zwatch_sockstate_t *self, const zwatch_msg_t *event)
{
    if (event->value < 0)
        return true;                //  not a descriptor: nothing to hold
    fact_t *old = (fact_t *) zwatch_ptrmap_get (&self->by_fd, s_key ((int32_t) event->value));
    if (old)
        s_connection_remove (self, old);
    if (self->connections.count >= self->connections_max || s_map_room (self) != 0)
        return false;
    fact_t *fact = s_fact_new (event);
    if (!fact)
        return false;
    s_link (&self->connections, fact);
    zwatch_ptrmap_put (&self->by_fd, s_key (fact->value), fact);
    return true;
}

//  LISTENING and CONNECT_RETRIED: one entry per endpoint, updated in place
static bool
s_endpoint_set (list_t *list, size_t max, const zwatch_msg_t *event)
{
    fact_t *fact = s_find_endpoint (list, event);
    if (fact) {
        fact->value = (int32_t) event->value;
        fact->ts = event->ts;
        return true;
    }
    if (list->count >= max)
        return false;
    fact = s_fact_new (event);
    if (!fact)
        return false;
    s_link (list, fact);
    return true;
}

zwatch_sockstate_t *
zwatch_sockstate_new (size_t connections_max)
{
    zwatch_sockstate_t *self = (zwatch_sockstate_t *) calloc (1, sizeof (zwatch_sockstate_t));
    if (self)
        self->connections_max = connections_max;
    return self;
}

void
zwatch_sockstate_destroy (zwatch_sockstate_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_sockstate_t *self = *self_p;
    s_free_list (&self->connections);
    s_free_list (&self->listening);
    s_free_list (&self->retrying);
    free (self->bind_failed);
    free (self->by_fd.slots);
    free (self);
    *self_p = NULL;
}

void
zwatch_sockstate_describe (zwatch_sockstate_t *self, zwatch_msg_t *event)
{
    if (event->code != ZMQ_EVENT_DISCONNECTED && event->code != ZMQ_EVENT_CLOSED)
        return;
    fact_t *fact = (fact_t *) zwatch_ptrmap_get (&self->by_fd, s_key ((int32_t) event->value));
    if (!fact)
        return;
    if (fact->has_local && !event->local.ptr)
        event->local = s_str (fact->text + fact->endpoint_len, fact->local_len);
    if (fact->has_peer && !event->peer.ptr)
        event->peer = s_str (fact->text + fact->endpoint_len + fact->local_len, fact->peer_len);
}

bool
zwatch_sockstate_apply (zwatch_sockstate_t *self, const zwatch_msg_t *event)
{
    int32_t fd = (int32_t) event->value;
    switch (event->code) {
        case ZMQ_EVENT_CONNECTED: {
            fact_t *retrying = s_find_endpoint (&self->retrying, event);
            if (retrying)
                s_remove (&self->retrying, retrying);
            return s_connection_add (self, event);
        }
        case ZMQ_EVENT_ACCEPTED:
            return s_connection_add (self, event);
        case ZMQ_EVENT_DISCONNECTED:
        case ZMQ_EVENT_CLOSED: {
            fact_t *fact = (fact_t *) zwatch_ptrmap_get (&self->by_fd, s_key (fd));
            if (fact)
                s_connection_remove (self, fact);
            else
            if (event->code == ZMQ_EVENT_CLOSED && (fact = s_find_fd (&self->listening, fd)))
                s_remove (&self->listening, fact);      //  the listener closed
            return true;
        }
        case ZMQ_EVENT_LISTENING:
            return s_endpoint_set (&self->listening, ZWATCH_SOCKSTATE_LISTENING_MAX, event);
        case ZMQ_EVENT_CONNECT_RETRIED:
            return s_endpoint_set (&self->retrying, ZWATCH_SOCKSTATE_RETRYING_MAX, event);
        case ZMQ_EVENT_BIND_FAILED: {
            //  Rare: a fresh entry each time is simpler than reuse
            fact_t *fact = s_fact_new (event);
            if (!fact)
                return false;
            free (self->bind_failed);
            self->bind_failed = fact;
            return true;
        }
        default:
            return true;
    }
}

size_t
zwatch_sockstate_connections_max (zwatch_sockstate_t *self)
{
    return self->connections_max;
}

size_t
zwatch_sockstate_size (zwatch_sockstate_t *self)
{
    return self->listening.count + self->connections.count + self->retrying.count
         + (self->bind_failed? 1: 0);
}

//  One fact as a state message's event keys
static bool
s_each_one (const fact_t *fact, zwatch_sockstate_fact_fn *fn, void *arg)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.code = fact->code;
    const char *name = zwatch_event_name (fact->code);
    msg.event = s_str (name, strlen (name));
    msg.value = fact->value;
    msg.ts = fact->ts;
    msg.endpoint = s_str (fact->text, fact->endpoint_len);
    if (fact->has_local)
        msg.local = s_str (fact->text + fact->endpoint_len, fact->local_len);
    if (fact->has_peer)
        msg.peer = s_str (fact->text + fact->endpoint_len + fact->local_len, fact->peer_len);
    msg.peer_pid = fact->peer_pid;
    return fn (arg, &msg);
}

size_t
zwatch_sockstate_each (zwatch_sockstate_t *self, zwatch_sockstate_fact_fn *fn, void *arg)
{
    size_t done = 0;
    list_t *lists [] = { &self->listening, &self->retrying, &self->connections };
    for (size_t index = 0; index < sizeof (lists) / sizeof (lists [0]); index++)
        for (fact_t *fact = lists [index]->head; fact; fact = fact->next) {
            if (!s_each_one (fact, fn, arg))
                return done;
            done++;
        }
    if (self->bind_failed && s_each_one (self->bind_failed, fn, arg))
        done++;
    return done;
}
