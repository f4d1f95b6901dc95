/*  web_http: raw HTTP against zwatch-web for its tests (no client
    library between the test and the server's bytes), and a zwatch-web
    process started on a free port.  */
#ifndef WEB_HTTP_H_INCLUDED
#define WEB_HTTP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "tu_child.h"

typedef struct {
    int status;                 //  0: no status line came (closed, timed out)
    char *head;                 //  status line and headers
    char *body;
} web_reply_t;

//  Send request bytes as they are to 127.0.0.1:port, read until the
//  server closes or timeout_ms; reply fields caller frees (web_reply_free)
web_reply_t web_http_raw (int port, const char *request, int timeout_ms);
//  GET path with Connection: close (and an extra header line if not NULL)
web_reply_t web_http_get (int port, const char *path, const char *header);
void web_reply_free (web_reply_t *reply);

//  A socket connected to port with request sent; its receive buffer
//  rcvbuf bytes when > 0 (a slow reader)
int web_http_open (int port, const char *request, int rcvbuf);
//  Read what there is into buf (appending, NUL-kept) for up to timeout_ms
//  or until needle is in it; true if needle was found
bool web_http_read_until (int fd, char **buf, size_t *size, const char *needle, int timeout_ms);

//  zwatch-web on a free port for a broker's publish and snapshot
//  endpoints, with extra args (NULL-terminated, may be NULL); waits until
//  it serves. *port set
tu_child_t *web_start (const char *publish, const char *snapshot, const char *const extra [],
                       int *port);

//  Poll GET path until its body contains needle (or, with absent, until
//  it does not), up to timeout_ms; the last body is returned (caller
//  frees) or NULL on timeout
char *web_wait_body (int port, const char *path, const char *needle, bool absent, int timeout_ms);

#endif
