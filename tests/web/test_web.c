/*  test_web: zwatch-web as a process, against a real broker and real
    services (agents in processes of their own), over raw HTTP.

    http        bad requests and their status codes, bounded connections,
                slowloris, and the server still answering after them
    token       --token-file: 401 without it, Bearer and ?token= accepted
    tls         HTTPS from the config file's tls-cert and tls-key (curl)
    api         /api/fleet and /metrics for a link made and broken, exact
                metric lines, /healthz 503 when the broker goes
    sse         /api/events filters, and a client that stops reading is
                dropped and counted while the others go on
    prometheus  a real Prometheus scraping zwatch-web, queried through its
                HTTP API; promtool checks the metrics and docs' rules
    browser     the page in headless chromium (browser_check.py)
*/

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>
#include "agent_child.h"
#include "broker_proc.h"
#include "testutil.h"
#include "web_http.h"

#define SKIP 77

//  A broker, zwatch-web on it (synced), and optionally the two services
typedef struct {
    broker_proc_t *broker;
    tu_child_t *web;
    int port;
    agent_child_t server, client;
    bool services;
} s_fleet_t;

static void
s_fleet_start (s_fleet_t *self, const char *const web_args [], bool services)
{
    memset (self, 0, sizeof (*self));
    self->broker = broker_proc_new ((const char *const []) { "--stats-interval", "1", NULL }, true);
    self->web = web_start (broker_proc_publish (self->broker), broker_proc_snapshot (self->broker),
                           web_args, &self->port);
    //  Synced before the services start, so that it counts all their events
    char *body = web_wait_body (self->port, "/healthz", "200 ok", false, 20000);
    CHECK (body);
    free (body);
    if (!services)
        return;
    char *endpoint = tu_free_endpoint ();
    self->server = agent_child_start (broker_proc_ingest (self->broker), "h-test", "svc-server",
                                      ZMQ_ROUTER, "api", endpoint, true);
    self->client = agent_child_start (broker_proc_ingest (self->broker), "h-test", "svc-client",
                                      ZMQ_DEALER, "backend", endpoint, true);
    free (endpoint);
    self->services = true;
    body = web_wait_body (self->port, "/api/fleet", "\"links\":[{", false, 30000);
    CHECK (body);
    free (body);
}

static void
s_fleet_stop (s_fleet_t *self)
{
    if (self->services) {
        agent_child_end (&self->client);
        agent_child_end (&self->server);
    }
    int code = tu_child_stop (self->web, SIGTERM, 10000);
    if (code != 0) {
        char *errors = tu_child_errors (self->web);
        fprintf (stderr, "zwatch-web: exit %d:\n%s\n", code, errors);
        free (errors);
    }
    CHECK_INT_EQ (code, 0);
    tu_child_destroy (&self->web);
    broker_proc_destroy (&self->broker);
}

static int
s_status (int port, const char *request)
{
    web_reply_t reply = web_http_raw (port, request, 10000);
    int status = reply.status;
    web_reply_free (&reply);
    return status;
}

static char *
s_config (const char *text)
{
    char *path = tu_temp_path (".cfg");
    FILE *file = fopen (path, "w");
    CHECK (file);
    fputs (text, file);
    fclose (file);
    return path;
}

static void
test_http (void)
{
    //  The idle timeout: long enough that 64 connections open well inside it
    char *config = s_config ("connection-timeout = 4\n");
    s_fleet_t fleet;
    s_fleet_start (&fleet, (const char *const []) { "--config", config, NULL }, false);
    int port = fleet.port;
    CHECK_INT_EQ (s_status (port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 200);
    CHECK_INT_EQ (s_status (port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404);
    CHECK_INT_EQ (s_status (port, "GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404);
    web_reply_t reply = web_http_raw (port, "POST /api/fleet HTTP/1.1\r\nHost: x\r\nContent-Length: 3"
                                      "\r\nConnection: close\r\n\r\nabc", 10000);
    CHECK_INT_EQ (reply.status, 405);
    CHECK (strstr (reply.head, "\r\nAllow: GET, HEAD"));
    web_reply_free (&reply);
    CHECK_INT_EQ (s_status (port, "DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 405);
    //  Path tricks, raw and %-encoded
    const char *tricks [] = { "/../etc/passwd", "/%2e%2e/etc/passwd", "/api/../metrics",
                              "/static/%2E%2E/%2E%2E/x", "//metrics", "/./metrics", "/a\\b",
                              "/%5c..%5cx", "/metrics%20", "/%01" };
    for (size_t index = 0; index < sizeof (tricks) / sizeof (tricks [0]); index++) {
        char request [256];
        snprintf (request, sizeof (request), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                  tricks [index]);
        int status = s_status (port, request);
        if (status != 400)
            fprintf (stderr, "path %s: %d\n", tricks [index], status);
        CHECK_INT_EQ (status, 400);
    }
    CHECK_INT_EQ (s_status (port, "GET /api/events?host=a/b HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    CHECK_INT_EQ (s_status (port, "GET /api/events?event=%22x HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    //  Huge headers: 431; a huge request line: 414
    size_t huge = 64 * 1024;
    char *request = (char *) malloc (huge + 256);
    snprintf (request, huge + 256, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    size_t prefix = strlen (request);
    memset (request + prefix, 'a', huge);
    strcpy (request + prefix + huge, "\r\n\r\n");
    CHECK_INT_EQ (s_status (port, request), 431);
    snprintf (request, huge + 256, "GET /");
    memset (request + 5, 'a', huge);
    strcpy (request + 5 + huge, " HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT_EQ (s_status (port, request), 414);
    free (request);
    //  HEAD: the headers only
    reply = web_http_raw (port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10000);
    CHECK_INT_EQ (reply.status, 200);
    CHECK_STR_EQ (reply.body, "");
    web_reply_free (&reply);

    //  Slowloris: a request that never ends is closed at the idle timeout (4 s)
    int slow = web_http_open (port, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", 0);
    long long start = tu_now_ms ();
    char *buf = NULL;
    size_t size = 0;
    CHECK (!web_http_read_until (slow, &buf, &size, "never", 20000));
    long long took = tu_now_ms () - start;
    CHECK (took >= 3500 && took < 20000);
    free (buf);
    close (slow);

    //  Bounded connections: 64 idle ones take every slot; another is not
    //  served until the timeout frees them
    int idle [64];
    for (int index = 0; index < 64; index++)
        idle [index] = web_http_open (port, "GET / HTTP/1.1\r\n", 0);
    reply = web_http_raw (port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 1000);
    CHECK_INT_EQ (reply.status, 0);
    web_reply_free (&reply);
    char *body = web_wait_body (port, "/healthz", "200 ok", false, 30000);
    CHECK (body);
    free (body);
    for (int index = 0; index < 64; index++)
        close (idle [index]);
    //  Still whole, and it counted what it refused
    body = web_wait_body (port, "/metrics", "zwatch_web_http_bad_requests_total ", false, 10000);
    CHECK (body);
    CHECK (!strstr (body, "zwatch_web_http_bad_requests_total 0\n"));
    free (body);
    s_fleet_stop (&fleet);
    unlink (config);
    free (config);
}

static void
test_token (void)
{
    char *token = s_config ("s3cret-token\n");
    s_fleet_t fleet;
    s_fleet_start (&fleet, (const char *const []) { "--token-file", token, NULL }, false);
    int port = fleet.port;
    web_reply_t reply = web_http_get (port, "/api/fleet", NULL);
    CHECK_INT_EQ (reply.status, 401);
    CHECK (strstr (reply.head, "WWW-Authenticate: Bearer"));
    web_reply_free (&reply);
    reply = web_http_get (port, "/api/fleet", "Authorization: Bearer wrong-token!");
    CHECK_INT_EQ (reply.status, 401);
    web_reply_free (&reply);
    reply = web_http_get (port, "/api/fleet", "Authorization: Bearer s3cret-token");
    CHECK_INT_EQ (reply.status, 200);
    CHECK (strstr (reply.body, "\"agents\":["));
    web_reply_free (&reply);
    reply = web_http_get (port, "/?token=s3cret-token", NULL);
    CHECK_INT_EQ (reply.status, 200);
    web_reply_free (&reply);
    reply = web_http_get (port, "/metrics?token=s3cret-tokeX", NULL);
    CHECK_INT_EQ (reply.status, 401);
    web_reply_free (&reply);
    reply = web_http_get (port, "/healthz", NULL);
    CHECK_INT_EQ (reply.status, 200);
    web_reply_free (&reply);
    s_fleet_stop (&fleet);

    //  Not loopback and no token: a warning; a bad token file: usage error
    int other = tu_free_port ();
    char listen [64];
    snprintf (listen, sizeof (listen), "0.0.0.0:%d", other);
    char *bin = tu_bin ("zwatch-web");
    tu_child_t *open = tu_child_new ((const char *const []) { bin, "--listen", listen,
        "--connect", "tcp://127.0.0.1:1", "--snapshot", "tcp://127.0.0.1:1", NULL }, NULL,
        "serving http://", 20000, "zwatch-web");
    char *errors = tu_child_errors (open);
    CHECK (strstr (errors, "not loopback, without --token-file"));
    free (errors);
    CHECK_INT_EQ (tu_child_stop (open, SIGTERM, 10000), 0);
    tu_child_destroy (&open);
    tu_child_t *bad = tu_child_new ((const char *const []) { bin, "--token-file", "/nonexistent",
                                                             NULL }, NULL, NULL, 0, "zwatch-web");
    CHECK_INT_EQ (tu_child_wait (bad, 10000), 2);
    tu_child_destroy (&bad);
    free (bin);
    unlink (token);
    free (token);
}

//  --config tls-cert / tls-key: HTTPS, checked with curl
static void
test_tls (void)
{
    char *dir = tu_temp_path ("-tls");
    CHECK (mkdir (dir, 0700) == 0);
    char command [2048];
    snprintf (command, sizeof (command), "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
              "-subj /CN=127.0.0.1 -keyout %s/key.pem -out %s/cert.pem 2>/dev/null", dir, dir);
    CHECK_INT_EQ (system (command), 0);
    char text [1200];
    snprintf (text, sizeof (text), "tls-cert = \"%s/cert.pem\"\ntls-key = \"%s/key.pem\"\n", dir, dir);
    char *config = s_config (text);
    s_fleet_t fleet = { 0 };
    fleet.broker = broker_proc_new (NULL, true);
    fleet.web = web_start (broker_proc_publish (fleet.broker), broker_proc_snapshot (fleet.broker),
                           (const char *const []) { "--config", config, NULL }, &fleet.port);
    char *errors = tu_child_errors (fleet.web);
    CHECK (strstr (errors, "serving https://127.0.0.1:"));
    free (errors);
    char *out = tu_temp_path (".curl");
    snprintf (command, sizeof (command), "curl -sk --max-time 10 --retry 20 --retry-delay 1 "
              "--retry-all-errors https://127.0.0.1:%d/healthz > %s", fleet.port, out);
    //  503 until the feed is whole, then 200
    long long deadline = tu_now_ms () + 20000;
    char *body = NULL;
    do {
        free (body);
        CHECK_INT_EQ (system (command), 0);
        body = tu_read_file (out);
    } while (!(body && strstr (body, "200 ok")) && tu_now_ms () < deadline);
    CHECK (body && strstr (body, "200 ok"));
    free (body);
    //  Plain HTTP on it gets no HTTP answer
    CHECK_INT_EQ (s_status (fleet.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    s_fleet_stop (&fleet);
    //  A key that is not a key: exit 1 at start, saying so
    snprintf (text, sizeof (text), "tls-cert = \"%s/cert.pem\"\ntls-key = \"%s/cert.pem\"\n", dir, dir);
    char *bad = s_config (text);
    char *bin = tu_bin ("zwatch-web");
    char listen [64];
    snprintf (listen, sizeof (listen), "127.0.0.1:%d", tu_free_port ());
    tu_child_t *refused = tu_child_new ((const char *const []) { bin, "--config", bad, "--listen",
                                         listen, NULL }, NULL, NULL, 0, "zwatch-web");
    CHECK_INT_EQ (tu_child_wait (refused, 10000), 1);
    errors = tu_child_errors (refused);
    CHECK (strstr (errors, "E zwatch-web: libmicrohttpd: ") && strstr (errors, "TLS"));
    CHECK (strstr (errors, "E zwatch-web: cannot listen on 127.0.0.1:"));
    free (errors);
    tu_child_destroy (&refused);
    free (bin);
    unlink (bad);
    free (bad);
    unlink (out);
    free (out);
    unlink (config);
    free (config);
    snprintf (command, sizeof (command), "rm -rf '%s'", dir);
    CHECK_INT_EQ (system (command), 0);
    free (dir);
}

static void
test_api (void)
{
    s_fleet_t fleet;
    s_fleet_start (&fleet, NULL, true);
    int port = fleet.port;
    const char *link = "zwatch_links{from_host=\"h-test\",from_service=\"svc-client\","
                       "to_host=\"h-test\",to_service=\"svc-server\"} 1\n";
    char *body = web_wait_body (port, "/metrics", link, false, 20000);
    CHECK (body);
    CHECK (strstr (body, "zwatch_agents_up{host=\"h-test\",service=\"svc-server\"} 1\n"));
    CHECK (strstr (body, "zwatch_agents_up{host=\"h-test\",service=\"svc-client\"} 1\n"));
    CHECK (strstr (body, "zwatch_connections{host=\"h-test\",service=\"svc-server\",socket=\"api\","
                         "direction=\"in\"} 1\n"));
    CHECK (strstr (body, "zwatch_connections{host=\"h-test\",service=\"svc-client\","
                         "socket=\"backend\",direction=\"out\"} 1\n"));
    CHECK (strstr (body, "# TYPE zwatch_events_total counter\n"));
    CHECK (strstr (body, "zwatch_events_lost_total{host=\"h-test\",service=\"svc-server\"} 0\n"));
    CHECK (strstr (body, "zwatch_events_dropped_total{host=\"h-test\",service=\"svc-client\"} 0\n"));
    CHECK (!strstr (body, "pid"));
    free (body);
    //  Events are counted as they come; the accept may trail the link
    body = web_wait_body (port, "/metrics", "zwatch_events_total{host=\"h-test\","
                          "service=\"svc-server\",event=\"ACCEPTED\"} 1\n", false, 20000);
    CHECK (body);
    CHECK (strstr (body, "zwatch_events_total{host=\"h-test\",service=\"svc-client\","
                         "event=\"CONNECTED\"} 1\n"));
    free (body);
    body = web_wait_body (port, "/metrics", "zwatch_broker_messages_in_total{broker=\"test-broker\"} ",
                          false, 20000);
    CHECK (body);
    free (body);
    body = web_wait_body (port, "/api/fleet", "\"svc\":\"svc-client\"", false, 10000);
    CHECK (body);
    CHECK (strstr (body, "\"links\":[{\"from\":{\"host\":\"h-test\",\"svc\":\"svc-client\""));
    CHECK (strstr (body, "\"sock\":\"api\",\"stype\":\"ROUTER\",\"listening\":[\"tcp://127.0.0.1:"));
    CHECK (strstr (body, "\"dir\":\"out\""));
    CHECK (strstr (body, "\"synced\":true"));
    free (body);

    //  A zwatch-web started now has the broker's earlier events in its history
    int late_port;
    tu_child_t *late = web_start (broker_proc_publish (fleet.broker),
                                  broker_proc_snapshot (fleet.broker), NULL, &late_port);
    body = web_wait_body (late_port, "/api/history", "\"history\":true", false, 20000);
    CHECK (body);
    CHECK (strstr (body, "\"kind\":\"event\",\"at\":"));
    CHECK (strstr (body, "\"event\":\"ACCEPTED\""));
    CHECK (strstr (body, "\"event\":\"LISTENING\""));
    free (body);
    //  ... and counts none of them: they came before its snapshot
    body = web_wait_body (late_port, "/metrics", "zwatch_links{", false, 10000);
    CHECK (body);
    CHECK (!strstr (body, "zwatch_events_total{"));
    free (body);
    CHECK_INT_EQ (tu_child_stop (late, SIGTERM, 10000), 0);
    tu_child_destroy (&late);

    //  The client closes its socket: the link and its connections go
    agent_child_say (&fleet.client, 'c');
    body = web_wait_body (port, "/metrics", "zwatch_links{", true, 20000);
    CHECK (body);
    CHECK (!strstr (body, "zwatch_connections{"));
    CHECK (strstr (body, "zwatch_agents_up{host=\"h-test\",service=\"svc-client\"} 1\n"));
    free (body);
    body = web_wait_body (port, "/api/fleet", "\"links\":[]", false, 10000);
    CHECK (body);
    free (body);
    body = web_wait_body (port, "/api/history", "\"kind\":\"link_down\"", false, 10000);
    CHECK (body);
    CHECK (strstr (body, "\"kind\":\"link_up\""));
    free (body);
    //  Its agent says bye: 0, not gone from the metrics
    agent_child_end (&fleet.client);
    body = web_wait_body (port, "/metrics",
                          "zwatch_agents_up{host=\"h-test\",service=\"svc-client\"} 0\n", false, 20000);
    CHECK (body);
    free (body);
    agent_child_end (&fleet.server);
    fleet.services = false;
    //  The broker goes: 503 with the reason
    broker_proc_stop (fleet.broker, SIGKILL, 5000);
    body = web_wait_body (port, "/healthz", "503 broker unreachable", false, 30000);
    CHECK (body);
    free (body);
    s_fleet_stop (&fleet);
}

//  The data lines of an SSE stream, each checked by check (NULL: any);
//  returns how many
static int
s_data_lines (const char *stream, bool (*check) (const char *line))
{
    int count = 0;
    for (const char *at = strstr (stream, "\ndata: "); at; at = strstr (at + 1, "\ndata: ")) {
        const char *end = strchr (at + 1, '\n');
        char *line = strndup (at + 7, end? (size_t) (end - at - 7): strlen (at + 7));
        if (check && !check (line)) {
            fprintf (stderr, "unexpected line: %s\n", line);
            CHECK (false);
        }
        free (line);
        count++;
    }
    return count;
}

static bool
s_server_only (const char *line)
{
    return strstr (line, "\"svc\":\"svc-server\"") != NULL;
}

static bool
s_accepted_only (const char *line)
{
    return strstr (line, "\"kind\":\"event\"") && strstr (line, "\"event\":\"ACCEPTED\"");
}

static void
test_sse (void)
{
    char *config = s_config ("connection-timeout = 3\n");
    s_fleet_t fleet;
    s_fleet_start (&fleet, (const char *const []) { "--config", config, NULL }, false);
    int port = fleet.port;
    const char *head = " HTTP/1.1\r\nHost: x\r\n\r\n";
    char request [256];
    int streams [4];
    const char *paths [] = { "/api/events", "/api/events?service=svc-server",
                             "/api/events?event=accepted", "/api/events" };
    for (int index = 0; index < 4; index++) {
        snprintf (request, sizeof (request), "GET %s%s", paths [index], head);
        //  The last one reads nothing, through a small window; the others
        //  have room for a second of events should the test be slow to read
        streams [index] = web_http_open (port, request, index == 3? 4096: 1024 * 1024);
    }
    char *text [3] = { NULL }, *slow_text = NULL;
    size_t size [3] = { 0 }, slow_size = 0;
    for (int index = 0; index < 3; index++)
        CHECK (web_http_read_until (streams [index], &text [index], &size [index], ": zwatch-web",
                                    10000));
    CHECK (web_http_read_until (streams [3], &slow_text, &slow_size, ": zwatch-web", 10000));
    CHECK (strstr (text [0], "Content-Type: text/event-stream"));
    char *body = web_wait_body (port, "/metrics", "zwatch_web_sse_clients 4\n", false, 10000);
    CHECK (body);
    free (body);

    char *endpoint = tu_free_endpoint ();
    fleet.server = agent_child_start (broker_proc_ingest (fleet.broker), "h-test", "svc-server",
                                      ZMQ_ROUTER, "api", endpoint, true);
    fleet.client = agent_child_start (broker_proc_ingest (fleet.broker), "h-test", "svc-client",
                                      ZMQ_DEALER, "backend", endpoint, true);
    fleet.services = true;
    free (endpoint);
    CHECK (web_http_read_until (streams [0], &text [0], &size [0], "\"kind\":\"link_up\"", 20000));
    CHECK (web_http_read_until (streams [2], &text [2], &size [2], "\"event\":\"ACCEPTED\"", 20000));
    CHECK (web_http_read_until (streams [1], &text [1], &size [1], "\"event\":\"ACCEPTED\"", 20000));
    CHECK (web_http_read_until (streams [0], &text [0], &size [0], "\"event\":\"CONNECTED\"", 20000));
    //  Filters: the service's changes only; ACCEPTED events only
    CHECK (s_data_lines (text [1], s_server_only) >= 2);
    CHECK (s_data_lines (text [2], s_accepted_only) == 1);
    CHECK (strstr (text [0], "\"svc\":\"svc-client\""));

    //  A stream of events (600 a second, not folded into a few summaries):
    //  the reader that stopped is dropped; the others go on
    char *service = tu_bin ("fault_service");
    char ingest_env [300];
    snprintf (ingest_env, sizeof (ingest_env), "ZWATCH_BROKER=%s", broker_proc_ingest (fleet.broker));
    tu_child_t *burst = tu_child_new ((const char *const []) { service, "--burst", "0", "--rate", "300",
                                       "--no-fold", NULL },
                                      (const char *const []) { ingest_env, "ZWATCH_HOST_ID=h-burst",
                                                               "ZWATCH_SERVICE=burst", NULL },
                                      "ready pid=", 20000, "fault_service");
    free (service);
    long long deadline = tu_now_ms () + 60000;
    bool dropped = false;
    while (!dropped && tu_now_ms () < deadline) {
        web_http_read_until (streams [0], &text [0], &size [0], NULL, 100);
        web_reply_t reply = web_http_get (port, "/metrics", NULL);
        dropped = reply.body && strstr (reply.body, "zwatch_web_sse_dropped_total 1\n");
        web_reply_free (&reply);
    }
    CHECK (dropped);
    //  The reader that kept reading still gets the service's events after
    //  the drop, and keepalives
    size_t before = size [0];
    deadline = tu_now_ms () + 20000;
    while (!(size [0] > before && strstr (text [0] + before, "\"svc\":\"burst\"")
          && strstr (text [0] + before, ": keepalive")) && tu_now_ms () < deadline)
        web_http_read_until (streams [0], &text [0], &size [0], NULL, 100);
    CHECK (size [0] > before);
    CHECK (strstr (text [0] + before, "\"svc\":\"burst\""));
    CHECK (strstr (text [0] + before, ": keepalive"));
    CHECK_INT_EQ (tu_child_stop (burst, SIGTERM, 30000), 0);
    tu_child_destroy (&burst);
    //  The dropped one's stream ends (as soon as it can be written to, or at
    //  the idle timeout): reading it comes to the end
    CHECK (!web_http_read_until (streams [3], &slow_text, &slow_size, "never", 60000));
    body = web_wait_body (port, "/metrics", "zwatch_web_sse_clients 3\n", false, 20000);
    CHECK (body);
    free (body);
    for (int index = 0; index < 4; index++)
        close (streams [index]);
    for (int index = 0; index < 3; index++)
        free (text [index]);
    free (slow_text);
    s_fleet_stop (&fleet);
    unlink (config);
    free (config);
}

static bool
s_have (const char *program)
{
    char command [256];
    snprintf (command, sizeof (command), "command -v %s >/dev/null 2>&1", program);
    return system (command) == 0;
}

//  Query Prometheus until the answer has needle
static char *
s_prom_query (int port, const char *query, const char *needle, int timeout_ms)
{
    char path [1024];
    snprintf (path, sizeof (path), "/api/v1/query?query=%s", query);
    return web_wait_body (port, path, needle, false, timeout_ms);
}

static void
test_prometheus (void)
{
    s_fleet_t fleet;
    s_fleet_start (&fleet, NULL, true);
    //  promtool on what we serve, and on the docs' rules
    web_reply_t reply = web_http_get (fleet.port, "/metrics", NULL);
    CHECK_INT_EQ (reply.status, 200);
    char *metrics = tu_temp_path (".prom");
    FILE *file = fopen (metrics, "w");
    CHECK (file);
    fputs (reply.body, file);
    fclose (file);
    web_reply_free (&reply);
    char command [1024];
    snprintf (command, sizeof (command), "promtool check metrics < %s", metrics);
    CHECK_INT_EQ (system (command), 0);
    unlink (metrics);
    free (metrics);
    snprintf (command, sizeof (command), "promtool check rules %s/docs/prometheus/zwatch-rules.yml",
              ZWATCH_SOURCE_DIR);
    CHECK_INT_EQ (system (command), 0);

    //  A real Prometheus, scraping every second
    char *dir = tu_temp_path ("-prometheus");
    CHECK (mkdir (dir, 0700) == 0);
    char config [1100], data [1100];
    snprintf (config, sizeof (config), "%s/prometheus.yml", dir);
    snprintf (data, sizeof (data), "--storage.tsdb.path=%s/data", dir);
    file = fopen (config, "w");
    CHECK (file);
    fprintf (file, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                   "scrape_configs:\n  - job_name: zwatch\n    static_configs:\n"
                   "      - targets: ['127.0.0.1:%d']\n", fleet.port);
    fclose (file);
    int prom_port = tu_free_port ();
    char listen [64], config_flag [1200];
    snprintf (listen, sizeof (listen), "--web.listen-address=127.0.0.1:%d", prom_port);
    snprintf (config_flag, sizeof (config_flag), "--config.file=%s", config);
    tu_child_t *prometheus = tu_child_new ((const char *const []) { "prometheus", config_flag, data,
                                            listen, NULL }, NULL,
                                           "Server is ready to receive web requests", 60000,
                                           "prometheus");
    char *body = s_prom_query (prom_port, "zwatch_links", "\"to_service\":\"svc-server\"", 60000);
    CHECK (body);
    CHECK (strstr (body, "\"from_service\":\"svc-client\""));
    CHECK (strstr (body, ",\"1\"]"));
    CHECK (!strstr (body, "pid"));
    free (body);
    body = s_prom_query (prom_port, "zwatch_events_total%7Bservice%3D%22svc-server%22%2C"
                         "event%3D%22ACCEPTED%22%7D", "\"event\":\"ACCEPTED\"", 30000);
    CHECK (body);
    CHECK (strstr (body, "\"host\":\"h-test\""));
    CHECK (strstr (body, ",\"1\"]"));
    free (body);
    body = s_prom_query (prom_port, "zwatch_events_total%7Bservice%3D%22svc-client%22%2C"
                         "event%3D%22CONNECTED%22%7D", "\"event\":\"CONNECTED\"", 30000);
    CHECK (body);
    CHECK (strstr (body, ",\"1\"]"));
    free (body);
    //  The link breaks: Prometheus sees it go
    agent_child_say (&fleet.client, 'c');
    body = s_prom_query (prom_port, "zwatch_links", "\"result\":[]", 30000);
    CHECK (body);
    free (body);
    CHECK_INT_EQ (tu_child_stop (prometheus, SIGTERM, 20000), 0);
    tu_child_destroy (&prometheus);
    snprintf (command, sizeof (command), "rm -rf '%s'", dir);
    CHECK_INT_EQ (system (command), 0);
    free (dir);
    s_fleet_stop (&fleet);
}

static void
test_browser (void)
{
    s_fleet_t fleet;
    s_fleet_start (&fleet, NULL, true);
    char url [64];
    snprintf (url, sizeof (url), "http://127.0.0.1:%d/", fleet.port);
    tu_child_t *browser = tu_child_new ((const char *const []) { PYTHON3,
        ZWATCH_SOURCE_DIR "/tests/web/browser_check.py", url, ZWATCH_WEB_SHOT, NULL }, NULL,
        "ready-for-disconnect", 120000, "browser_check.py");
    agent_child_say (&fleet.client, 'c');
    int rc = tu_child_wait (browser, 90000);
    if (rc != 0) {
        char *errors = tu_child_errors (browser);
        char *output = tu_child_output (browser);
        fprintf (stderr, "browser_check.py: exit %d\n%s\n%s\n", rc, output, errors);
        free (errors);
        free (output);
    }
    CHECK_INT_EQ (rc, 0);
    tu_child_destroy (&browser);
    s_fleet_stop (&fleet);
}

int
main (int argc, char *argv [])
{
    if (argc > 1 && strcmp (argv [1], "prometheus") == 0
    &&  (!s_have ("prometheus") || !s_have ("promtool"))) {
        printf ("SKIP: prometheus or promtool not installed (Debian: prometheus)\n");
        return SKIP;
    }
    if (argc > 1 && strcmp (argv [1], "tls") == 0 && (!s_have ("openssl") || !s_have ("curl"))) {
        printf ("SKIP: openssl or curl not installed\n");
        return SKIP;
    }
    if (argc > 1 && strcmp (argv [1], "browser") == 0
    &&  (!s_have ("chromium") || !s_have ("chromedriver")
      || system (PYTHON3 " -c 'import selenium' 2>/dev/null") != 0)) {
        printf ("SKIP: chromium, chromedriver or python3-selenium not installed\n");
        return SKIP;
    }
    const tu_case_t cases [] = {
        { "http", test_http },
        { "token", test_token },
        { "tls", test_tls },
        { "api", test_api },
        { "sse", test_sse },
        { "prometheus", test_prometheus },
        { "browser", test_browser },
    };
    return tu_run_cases (argc, argv, "test_web", cases, sizeof (cases) / sizeof (cases [0]));
}
