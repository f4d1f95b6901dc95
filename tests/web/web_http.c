/*  web_http: raw HTTP against zwatch-web for its tests.  */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "testutil.h"
#include "web_http.h"

int
web_http_open (int port, const char *request, int rcvbuf)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    if (rcvbuf > 0)
        CHECK (setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof (rcvbuf)) == 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    CHECK (connect (fd, (struct sockaddr *) &address, sizeof (address)) == 0);
    size_t size = strlen (request), sent = 0;
    while (sent < size) {
        ssize_t rc = send (fd, request + sent, size - sent, MSG_NOSIGNAL);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;                      //  the server may close on a huge request
        sent += (size_t) rc;
    }
    return fd;
}

//  Read once (waiting up to timeout_ms); 0 closed, -1 nothing in time
static ssize_t
s_read_some (int fd, char **buf, size_t *size, int timeout_ms)
{
    struct pollfd item = { .fd = fd, .events = POLLIN };
    if (poll (&item, 1, timeout_ms) <= 0)
        return -1;
    char chunk [65536];
    ssize_t got = recv (fd, chunk, sizeof (chunk), 0);
    if (got <= 0)
        return got < 0 && errno == ECONNRESET? 0: got;
    *buf = (char *) realloc (*buf, *size + (size_t) got + 1);
    memcpy (*buf + *size, chunk, (size_t) got);
    *size += (size_t) got;
    (*buf) [*size] = 0;
    return got;
}

bool
web_http_read_until (int fd, char **buf, size_t *size, const char *needle, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    while (!(*buf && needle && strstr (*buf, needle))) {
        long long left = deadline - tu_now_ms ();
        if (left <= 0 || s_read_some (fd, buf, size, (int) left) == 0)
            break;
    }
    return *buf && needle && strstr (*buf, needle);
}

web_reply_t
web_http_raw (int port, const char *request, int timeout_ms)
{
    web_reply_t reply = { 0 };
    int fd = web_http_open (port, request, 0);
    char *buf = NULL;
    size_t got = 0;
    long long deadline = tu_now_ms () + timeout_ms;
    for (;;) {
        long long left = deadline - tu_now_ms ();
        if (left <= 0)
            break;
        ssize_t rc = s_read_some (fd, &buf, &got, (int) left);
        if (rc <= 0)
            break;
    }
    close (fd);
    if (!buf)
        return reply;
    sscanf (buf, "HTTP/1.%*d %d", &reply.status);
    char *split = strstr (buf, "\r\n\r\n");
    reply.body = strdup (split? split + 4: "");
    if (split)
        *split = 0;
    reply.head = buf;
    return reply;
}

web_reply_t
web_http_get (int port, const char *path, const char *header)
{
    char request [4096];
    snprintf (request, sizeof (request), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s"
              "Connection: close\r\n\r\n", path, header? header: "", header? "\r\n": "");
    return web_http_raw (port, request, 10000);
}

void
web_reply_free (web_reply_t *reply)
{
    free (reply->head);
    free (reply->body);
    reply->head = reply->body = NULL;
}

tu_child_t *
web_start (const char *publish, const char *snapshot, const char *const extra [], int *port)
{
    *port = tu_free_port ();
    char listen [64];
    snprintf (listen, sizeof (listen), "127.0.0.1:%d", *port);
    char *bin = tu_bin ("zwatch-web");
    const char *argv [32] = { bin, "--listen", listen, "--connect", publish, "--snapshot",
                              snapshot };
    size_t count = 7;
    for (size_t index = 0; extra && extra [index] && count < 31; index++)
        argv [count++] = extra [index];
    tu_child_t *child = tu_child_new (argv, NULL, "serving http", 20000, "zwatch-web");
    free (bin);
    return child;
}

char *
web_wait_body (int port, const char *path, const char *needle, bool absent, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    char *last = NULL;
    do {
        web_reply_t reply = web_http_get (port, path, NULL);
        free (last);
        last = reply.body;
        reply.body = NULL;
        web_reply_free (&reply);
        if (last && (strstr (last, needle) != NULL) != absent)
            return last;
        usleep (100 * 1000);            //  poll pace, not a readiness guess
    } while (tu_now_ms () < deadline);
    if (last)
        fprintf (stderr, "web_wait_body %s: last body:\n%s\n", path, last);
    free (last);
    return NULL;
}
