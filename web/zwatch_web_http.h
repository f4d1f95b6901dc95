/*  zwatch_web_http: zwatch-web's HTTP server (libmicrohttpd).

    Run from the main loop, on its thread (no thread of its own): the
    handlers read the client's state and the model directly, with no
    locks. Read-only: GET and HEAD; anything else is 405. Bounded: at most
    ZWATCH_WEB_CONNECTIONS_MAX connections, ZWATCH_WEB_REQUEST_MAX bytes of
    request line and headers (over it: 431 or 414), a connection idle for
    the timeout is closed (slowloris). A path with "..", "//", a
    backslash, or bytes that are not printable ASCII is 400; an unknown
    one 404; with a token, a request without it 401 (/healthz needs none).
*/
#ifndef ZWATCH_WEB_HTTP_H_INCLUDED
#define ZWATCH_WEB_HTTP_H_INCLUDED

#include <sys/socket.h>
#include "zwatch_web_model.h"
#include "zwatch_web_sse.h"

#define ZWATCH_WEB_CONNECTIONS_MAX  64
#define ZWATCH_WEB_REQUEST_MAX      (32 * 1024)
//  Largest document (/api/fleet, /metrics, /api/history)
#define ZWATCH_WEB_DOCUMENT_MAX     (64 * 1024 * 1024)

typedef struct _zwatch_web_http_t zwatch_web_http_t;

typedef struct {
    struct sockaddr_storage address;    //  where to listen
    socklen_t address_size;
    const char *token;                  //  bearer token, or NULL: none asked
    unsigned timeout;                   //  seconds a connection may be idle
    bool verbose;                       //  log libmicrohttpd's messages
    const char *tls_cert;               //  PEM text: HTTPS (GnuTLS) when both set
    const char *tls_key;
} zwatch_web_http_config_t;

//  Listen; NULL if that fails (errno, and libmicrohttpd's reason logged:
//  a bind error, a certificate or key GnuTLS refused; EINVAL: TLS asked of
//  a libmicrohttpd without it)
zwatch_web_http_t *zwatch_web_http_new (const zwatch_web_http_config_t *config,
                                        zwatch_web_model_t *model, zwatch_web_sse_t *sse);
void zwatch_web_http_destroy (zwatch_web_http_t **self_p);

//  The fd to poll for reading, and how long to wait at most (ms)
int zwatch_web_http_fd (zwatch_web_http_t *self);
int zwatch_web_http_timeout (zwatch_web_http_t *self);
//  Serve what is ready, without blocking
void zwatch_web_http_run (zwatch_web_http_t *self);

//  The port it listens on (useful with port 0)
int zwatch_web_http_port (zwatch_web_http_t *self);

#endif
