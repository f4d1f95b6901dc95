/*  zwatch_web_sse: the clients of /api/events (Server-Sent Events).

    Each client has its filters and a send queue of at most
    ZWATCH_WEB_SSE_QUEUE_MAX bytes. A change goes into the queue of every
    client whose filters it passes; a client whose queue would overflow
    (it stopped reading, or reads slower than the fleet changes) is
    dropped and counted, so one slow browser costs a bounded amount of
    memory and never holds up the others. A client with nothing to send
    is suspended in libmicrohttpd and resumed when something comes.
*/
#ifndef ZWATCH_WEB_SSE_H_INCLUDED
#define ZWATCH_WEB_SSE_H_INCLUDED

#include <microhttpd.h>
#include "zwatch_client.h"

#define ZWATCH_WEB_SSE_CLIENTS_MAX  32
#define ZWATCH_WEB_SSE_QUEUE_MAX    (256 * 1024)
//  Its socket's send buffer (the kernel's part of the queue)
#define ZWATCH_WEB_SSE_SNDBUF       (64 * 1024)
//  A comment line this often keeps proxies and the connection timeout happy
#define ZWATCH_WEB_SSE_KEEPALIVE_MS 5000

typedef struct _zwatch_web_sse_t zwatch_web_sse_t;

zwatch_web_sse_t *zwatch_web_sse_new (void);
//  After MHD_stop_daemon (which frees the clients' responses)
void zwatch_web_sse_destroy (zwatch_web_sse_t **self_p);

//  A response for a new client on connection with these filters (NULL:
//  any); NULL when there are ZWATCH_WEB_SSE_CLIENTS_MAX already (counted
//  as refused) or out of memory
struct MHD_Response *zwatch_web_sse_open (zwatch_web_sse_t *self,
                                          struct MHD_Connection *connection,
                                          const char *host, const char *svc,
                                          const char *event);

//  Queue one change (json: its JSON object) to every client it passes
void zwatch_web_sse_send (zwatch_web_sse_t *self, const zwatch_change_t *change,
                          const char *json);

//  The keepalive period (default ZWATCH_WEB_SSE_KEEPALIVE_MS)
void zwatch_web_sse_set_keepalive (zwatch_web_sse_t *self, int msecs);

//  Keepalives when due; call from the main loop
void zwatch_web_sse_tick (zwatch_web_sse_t *self);

//  Resume every suspended client and end them all (before MHD_stop_daemon)
void zwatch_web_sse_close_all (zwatch_web_sse_t *self);

//  Clients now, dropped (queue full) and refused (too many) so far
size_t zwatch_web_sse_clients (zwatch_web_sse_t *self);
uint64_t zwatch_web_sse_dropped (zwatch_web_sse_t *self);
uint64_t zwatch_web_sse_refused (zwatch_web_sse_t *self);

#endif
