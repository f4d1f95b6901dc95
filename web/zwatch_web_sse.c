/*  zwatch_web_sse: the clients of /api/events (Server-Sent Events).  */

#include <czmq.h>
#include "zwatch_log.h"
#include "zwatch_web_buf.h"
#include "zwatch_web_sse.h"

typedef struct {
    zwatch_web_sse_t *owner;
    struct MHD_Connection *connection;
    zwatch_web_buf_t queue;
    char host [65], svc [65], event [40];       //  filters, "" for none
    bool suspended;
    bool ending;                                //  dropped or closing: end the stream
} s_client_t;

struct _zwatch_web_sse_t {
    zlistx_t *clients;                          //  s_client_t, freed by their response
    uint64_t dropped, refused;
    int64_t keepalive_at;
    int keepalive_ms;
    bool closing;
};

zwatch_web_sse_t *
zwatch_web_sse_new (void)
{
    zwatch_web_sse_t *self = (zwatch_web_sse_t *) zmalloc (sizeof (zwatch_web_sse_t));
    if (self) {
        self->keepalive_ms = ZWATCH_WEB_SSE_KEEPALIVE_MS;
        self->keepalive_at = zclock_mono () + self->keepalive_ms;
        self->clients = zlistx_new ();
        if (!self->clients)
            zwatch_web_sse_destroy (&self);
    }
    return self;
}

void
zwatch_web_sse_destroy (zwatch_web_sse_t **self_p)
{
    if (*self_p) {
        zwatch_web_sse_t *self = *self_p;
        //  MHD freed every client (s_free) when it stopped
        zlistx_destroy (&self->clients);
        free (self);
        *self_p = NULL;
    }
}

static void
s_resume (s_client_t *client)
{
    if (client->suspended) {
        client->suspended = false;
        MHD_resume_connection (client->connection);
    }
}

//  MHD asks for more bytes of the stream
static ssize_t
s_read (void *cls, uint64_t pos, char *buf, size_t max)
{
    (void) pos;
    s_client_t *client = (s_client_t *) cls;
    if (client->ending)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (client->queue.size == 0) {
        //  Nothing to send: out of MHD's loop until something comes
        client->suspended = true;
        MHD_suspend_connection (client->connection);
        return 0;
    }
    size_t size = client->queue.size < max? client->queue.size: max;
    memcpy (buf, client->queue.data, size);
    zwatch_web_buf_consume (&client->queue, size);
    return (ssize_t) size;
}

//  The response is done with: the client is gone
static void
s_free (void *cls)
{
    s_client_t *client = (s_client_t *) cls;
    zwatch_web_sse_t *self = client->owner;
    void *handle = zlistx_find (self->clients, client);
    if (handle)
        zlistx_delete (self->clients, handle);
    zwatch_web_buf_free (&client->queue);
    free (client);
}

struct MHD_Response *
zwatch_web_sse_open (zwatch_web_sse_t *self, struct MHD_Connection *connection,
                     const char *host, const char *svc, const char *event)
{
    if (self->closing || zlistx_size (self->clients) >= ZWATCH_WEB_SSE_CLIENTS_MAX) {
        self->refused++;
        return NULL;
    }
    s_client_t *client = (s_client_t *) zmalloc (sizeof (s_client_t));
    if (!client)
        return NULL;
    client->owner = self;
    client->connection = connection;
    zwatch_web_buf_init (&client->queue, ZWATCH_WEB_SSE_QUEUE_MAX);
    snprintf (client->host, sizeof (client->host), "%s", host? host: "");
    snprintf (client->svc, sizeof (client->svc), "%s", svc? svc: "");
    snprintf (client->event, sizeof (client->event), "%s", event? event: "");
    //  The first bytes go at once, so that the browser sees the stream open
    zwatch_web_buf_puts (&client->queue, "retry: 2000\n: zwatch-web\n\n");
    struct MHD_Response *response =
        MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 16 * 1024, s_read, client, s_free);
    if (!response) {
        zwatch_web_buf_free (&client->queue);
        free (client);
        return NULL;
    }
    if (!zlistx_add_end (self->clients, client)) {
        MHD_destroy_response (response);        //  frees the client (s_free)
        return NULL;
    }
    MHD_add_response_header (response, "Content-Type", "text/event-stream");
    MHD_add_response_header (response, "Cache-Control", "no-cache");
    MHD_add_response_header (response, "X-Accel-Buffering", "no");
    return response;
}

//  The change's host / service / event name for the filters; a link
//  passes a host or service filter when either end does
static bool
s_passes (s_client_t *client, const zwatch_change_t *change)
{
    if (*client->host) {
        bool match = change->host && strcmp (change->host, client->host) == 0;
        if (change->kind == ZWATCH_CHANGE_LINK_UP || change->kind == ZWATCH_CHANGE_LINK_DOWN)
            match = (change->from.host && strcmp (change->from.host, client->host) == 0)
                 || (change->to.host && strcmp (change->to.host, client->host) == 0);
        if (!match)
            return false;
    }
    if (*client->svc) {
        bool match = change->svc && strcmp (change->svc, client->svc) == 0;
        if (change->kind == ZWATCH_CHANGE_LINK_UP || change->kind == ZWATCH_CHANGE_LINK_DOWN)
            match = (change->from.svc && strcmp (change->from.svc, client->svc) == 0)
                 || (change->to.svc && strcmp (change->to.svc, client->svc) == 0);
        if (!match)
            return false;
    }
    if (*client->event)
        return change->kind == ZWATCH_CHANGE_EVENT && change->event
            && strcasecmp (change->event, client->event) == 0;
    return true;
}

//  Queue text to a client, dropping it when its queue is full
static void
s_queue (zwatch_web_sse_t *self, s_client_t *client, const char *text, size_t size)
{
    if (client->ending)
        return;
    if (zwatch_web_buf_add (&client->queue, text, size) != 0) {
        client->ending = true;
        self->dropped++;
        zwatch_log_warning ("dropped an /api/events client: %zu bytes waiting (it reads "
                      "too slowly)", client->queue.size);
    }
    s_resume (client);
}

void
zwatch_web_sse_send (zwatch_web_sse_t *self, const zwatch_change_t *change, const char *json)
{
    if (zlistx_size (self->clients) == 0)
        return;
    char *text = zsys_sprintf ("data: %s\n\n", json);
    if (!text)
        return;
    size_t size = strlen (text);
    for (s_client_t *client = (s_client_t *) zlistx_first (self->clients); client;
         client = (s_client_t *) zlistx_next (self->clients))
        if (s_passes (client, change))
            s_queue (self, client, text, size);
    zstr_free (&text);
}

void
zwatch_web_sse_set_keepalive (zwatch_web_sse_t *self, int msecs)
{
    self->keepalive_ms = msecs;
    self->keepalive_at = zclock_mono () + msecs;
}

void
zwatch_web_sse_tick (zwatch_web_sse_t *self)
{
    if (zclock_mono () < self->keepalive_at)
        return;
    self->keepalive_at = zclock_mono () + self->keepalive_ms;
    for (s_client_t *client = (s_client_t *) zlistx_first (self->clients); client;
         client = (s_client_t *) zlistx_next (self->clients))
        s_queue (self, client, ": keepalive\n\n", 13);
}

void
zwatch_web_sse_close_all (zwatch_web_sse_t *self)
{
    self->closing = true;
    for (s_client_t *client = (s_client_t *) zlistx_first (self->clients); client;
         client = (s_client_t *) zlistx_next (self->clients)) {
        client->ending = true;
        s_resume (client);
    }
}

size_t
zwatch_web_sse_clients (zwatch_web_sse_t *self)
{
    return zlistx_size (self->clients);
}

uint64_t
zwatch_web_sse_dropped (zwatch_web_sse_t *self)
{
    return self->dropped;
}

uint64_t
zwatch_web_sse_refused (zwatch_web_sse_t *self)
{
    return self->refused;
}
