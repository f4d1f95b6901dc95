/*  zwatch_web_http: zwatch-web's HTTP server (libmicrohttpd).  */

#include <czmq.h>
#include <microhttpd.h>
#include "zwatch.h"
#include "zwatch_log.h"
#include "zwatch_web_assets.h"
#include "zwatch_web_http.h"
#include "zwatch_web_views.h"

struct _zwatch_web_http_t {
    struct MHD_Daemon *daemon;
    zwatch_web_model_t *model;          //  not ours
    zwatch_web_sse_t *sse;              //  not ours
    char *token;
    uint64_t requests, bad_requests;
    bool verbose;
    char last_error [256];              //  libmicrohttpd's last message
};

static void
s_mhd_log (void *cls, const char *format, va_list args)
{
    zwatch_web_http_t *self = (zwatch_web_http_t *) cls;
    vsnprintf (self->last_error, sizeof (self->last_error), format, args);
    self->last_error [strcspn (self->last_error, "\n")] = 0;
    if (self->verbose)
        zwatch_log_info ("libmicrohttpd: %s", self->last_error);
}

static enum MHD_Result
s_queue (zwatch_web_http_t *self, struct MHD_Connection *connection, unsigned status,
         struct MHD_Response *response)
{
    self->requests++;
    if (status >= 400 && status < 500)
        self->bad_requests++;
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

//  A small text answer: "<status> <text>\n"
static enum MHD_Result
s_text (zwatch_web_http_t *self, struct MHD_Connection *connection, unsigned status,
        const char *text)
{
    char body [256];
    snprintf (body, sizeof (body), "%u %s\n", status, text);
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_COPY);
    if (!response)
        return MHD_NO;
    MHD_add_response_header (response, "Content-Type", "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header (response, "Allow", "GET, HEAD");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header (response, "WWW-Authenticate", "Bearer realm=\"zwatch-web\"");
    return s_queue (self, connection, status, response);
}

//  A built document, or 500 when it did not fit
static enum MHD_Result
s_document (zwatch_web_http_t *self, struct MHD_Connection *connection, zwatch_web_buf_t *buf,
            int rc, const char *type)
{
    if (rc != 0) {
        zwatch_web_buf_free (buf);
        zwatch_log_warning ("a document over %d bytes was not served", ZWATCH_WEB_DOCUMENT_MAX);
        return s_text (self, connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "document too large");
    }
    //  MHD frees the text with free ()
    struct MHD_Response *response =
        MHD_create_response_from_buffer (buf->size, buf->data, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        zwatch_web_buf_free (buf);
        return MHD_NO;
    }
    MHD_add_response_header (response, "Content-Type", type);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    return s_queue (self, connection, MHD_HTTP_OK, response);
}

//  A path we serve has one '/' between segments, no dot segments, and
//  printable ASCII only (MHD has already decoded %XX)
static bool
s_path_valid (const char *url)
{
    if (url [0] != '/' || strstr (url, "//") || strstr (url, "/./") || strstr (url, "/.."))
        return false;
    size_t length = strlen (url);
    if (length >= 2 && strcmp (url + length - 2, "/.") == 0)
        return false;
    for (const unsigned char *at = (const unsigned char *) url; *at; at++)
        if (*at <= 0x20 || *at >= 0x7f || *at == '\\')
            return false;
    return true;
}

//  Constant-time comparison of the token given with ours
static bool
s_token_ok (zwatch_web_http_t *self, struct MHD_Connection *connection)
{
    const char *given = MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "token");
    const char *header = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                      MHD_HTTP_HEADER_AUTHORIZATION);
    if (header && strncasecmp (header, "Bearer ", 7) == 0)
        given = header + 7;
    if (!given)
        return false;
    size_t length = strlen (self->token);
    if (strlen (given) != length)
        return false;
    unsigned char diff = 0;
    for (size_t index = 0; index < length; index++)
        diff |= (unsigned char) (given [index] ^ self->token [index]);
    return diff == 0;
}

//  A filter argument of /api/events: absent, or a valid name
static bool
s_filter (struct MHD_Connection *connection, const char *key, size_t max, const char **value)
{
    *value = MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, key);
    if (*value && !**value)
        *value = NULL;
    return !*value || zwatch_name_valid (*value, strlen (*value), max);
}

static enum MHD_Result
s_events (zwatch_web_http_t *self, struct MHD_Connection *connection)
{
    const char *host, *svc, *event;
    if (!s_filter (connection, "host", ZWATCH_HOST_MAX, &host)
    ||  !s_filter (connection, "service", ZWATCH_SVC_MAX, &svc)
    ||  !s_filter (connection, "event", 39, &event))
        return s_text (self, connection, MHD_HTTP_BAD_REQUEST,
                       "bad filter (host, service, event: 1-64 characters of A-Za-z0-9._-)");
    //  The kernel's share of a stream's queue is bounded too (no autotuning
    //  to megabytes), so a reader that stops is seen at our queue's bound
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    int sndbuf = ZWATCH_WEB_SSE_SNDBUF;
    if (info)
        setsockopt (info->connect_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof (sndbuf));
    struct MHD_Response *response = zwatch_web_sse_open (self->sse, connection, host, svc, event);
    if (!response)
        return s_text (self, connection, MHD_HTTP_SERVICE_UNAVAILABLE, "too many event streams");
    return s_queue (self, connection, MHD_HTTP_OK, response);
}

static enum MHD_Result
s_healthz (zwatch_web_http_t *self, struct MHD_Connection *connection)
{
    const char *reason;
    if (zwatch_web_model_healthy (self->model, &reason))
        return s_text (self, connection, MHD_HTTP_OK, "ok");
    return s_text (self, connection, MHD_HTTP_SERVICE_UNAVAILABLE, reason);
}

static void
s_own (zwatch_web_http_t *self, zwatch_web_own_t *own)
{
    own->sse_clients = zwatch_web_sse_clients (self->sse);
    own->sse_dropped = zwatch_web_sse_dropped (self->sse);
    own->sse_refused = zwatch_web_sse_refused (self->sse);
    own->requests = self->requests;
    own->bad_requests = self->bad_requests;
}

static enum MHD_Result
s_request (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
    (void) version;
    (void) upload_data;
    (void) state;
    zwatch_web_http_t *self = (zwatch_web_http_t *) cls;
    *upload_data_size = 0;              //  a body is never read
    if (!s_path_valid (url))
        return s_text (self, connection, MHD_HTTP_BAD_REQUEST, "bad path");
    const zwatch_web_asset_t *asset = zwatch_web_asset_find (url);
    bool known = asset || !strcmp (url, "/api/fleet") || !strcmp (url, "/api/events")
              || !strcmp (url, "/api/history") || !strcmp (url, "/healthz")
              || !strcmp (url, "/metrics");
    if (!known)
        return s_text (self, connection, MHD_HTTP_NOT_FOUND, "not found");
    if (strcmp (method, MHD_HTTP_METHOD_GET) && strcmp (method, MHD_HTTP_METHOD_HEAD))
        return s_text (self, connection, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    if (strcmp (url, "/healthz") == 0)
        return s_healthz (self, connection);
    if (self->token && !s_token_ok (self, connection))
        return s_text (self, connection, MHD_HTTP_UNAUTHORIZED, "token required");
    if (asset) {
        struct MHD_Response *response = MHD_create_response_from_buffer (
            asset->size, (void *) asset->data, MHD_RESPMEM_PERSISTENT);
        if (!response)
            return MHD_NO;
        MHD_add_response_header (response, "Content-Type", asset->type);
        return s_queue (self, connection, MHD_HTTP_OK, response);
    }
    if (strcmp (url, "/api/events") == 0)
        return s_events (self, connection);
    zwatch_web_own_t own;
    s_own (self, &own);
    zwatch_web_buf_t buf;
    zwatch_web_buf_init (&buf, ZWATCH_WEB_DOCUMENT_MAX);
    if (strcmp (url, "/api/fleet") == 0)
        return s_document (self, connection, &buf, zwatch_web_views_fleet (self->model, &own, &buf),
                           "application/json");
    if (strcmp (url, "/api/history") == 0)
        return s_document (self, connection, &buf,
                           zwatch_web_model_history_json (self->model, &buf), "application/json");
    return s_document (self, connection, &buf, zwatch_web_views_metrics (self->model, &own, &buf),
                       "text/plain; version=0.0.4; charset=utf-8");
}

zwatch_web_http_t *
zwatch_web_http_new (const zwatch_web_http_config_t *config, zwatch_web_model_t *model,
                     zwatch_web_sse_t *sse)
{
    zwatch_web_http_t *self = (zwatch_web_http_t *) zmalloc (sizeof (zwatch_web_http_t));
    if (!self)
        return NULL;
    self->model = model;
    self->sse = sse;
    self->verbose = config->verbose;
    self->token = config->token? strdup (config->token): NULL;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (config->address.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem tls [] = {
        { MHD_OPTION_HTTPS_MEM_KEY, 0, (void *) config->tls_key },
        { MHD_OPTION_HTTPS_MEM_CERT, 0, (void *) config->tls_cert },
        { MHD_OPTION_END, 0, NULL }
    };
    bool use_tls = config->tls_cert && config->tls_key;
    if (use_tls) {
        if (MHD_is_feature_supported (MHD_FEATURE_TLS) != MHD_YES) {
            zwatch_log_error ("this libmicrohttpd has no TLS support");
            zwatch_web_http_destroy (&self);
            errno = EINVAL;
            return NULL;
        }
        flags |= MHD_USE_TLS;
    }
    self->daemon = MHD_start_daemon (flags, 0, NULL, NULL, s_request, self,
        MHD_OPTION_ARRAY, use_tls? tls: tls + 2,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *) &config->address,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned) ZWATCH_WEB_CONNECTIONS_MAX,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) ZWATCH_WEB_REQUEST_MAX,
        MHD_OPTION_CONNECTION_TIMEOUT, config->timeout,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_END);
    if (!self->daemon) {
        //  Why, in libmicrohttpd's words (a bind error, a key GnuTLS refused)
        int error = errno;
        if (*self->last_error)
            zwatch_log_error ("libmicrohttpd: %s", self->last_error);
        zwatch_web_http_destroy (&self);
        errno = error? error: EADDRINUSE;
    }
    return self;
}

void
zwatch_web_http_destroy (zwatch_web_http_t **self_p)
{
    if (*self_p) {
        zwatch_web_http_t *self = *self_p;
        if (self->daemon) {
            //  Suspended streams must be resumed before MHD stops
            zwatch_web_sse_close_all (self->sse);
            MHD_run (self->daemon);
            MHD_stop_daemon (self->daemon);
        }
        free (self->token);
        free (self);
        *self_p = NULL;
    }
}

int
zwatch_web_http_fd (zwatch_web_http_t *self)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (self->daemon,
                                                            MHD_DAEMON_INFO_EPOLL_FD);
    return info? info->epoll_fd: -1;
}

int
zwatch_web_http_timeout (zwatch_web_http_t *self)
{
    MHD_UNSIGNED_LONG_LONG timeout;
    if (MHD_get_timeout (self->daemon, &timeout) != MHD_YES)
        return -1;
    return timeout > INT32_MAX? INT32_MAX: (int) timeout;
}

void
zwatch_web_http_run (zwatch_web_http_t *self)
{
    MHD_run (self->daemon);
}

int
zwatch_web_http_port (zwatch_web_http_t *self)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (self->daemon,
                                                            MHD_DAEMON_INFO_BIND_PORT);
    return info? (int) info->port: -1;
}
