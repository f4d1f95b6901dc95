/*  test_fleet_wire: the snapshot request, snapshot_end, error and link
    maps, byte for byte where PROTOCOL.md publishes them; the request
    decoder's every reason; the snapshot's cost for a big fleet.  */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <time.h>
#include "fleet_util.h"
#include "vectors_fleet.inc"

static msgpack_sbuffer s_buffer;

//  A request from msgpack-c: keys and values from a format string, one
//  letter each: s = str, u = uint, i = negative int, n = nil, a = [1]
static zwatch_request_reason_t
s_request (const char *format, ...)
{
    msgpack_sbuffer_clear (&s_buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &s_buffer, msgpack_sbuffer_write);
    va_list args;
    va_start (args, format);
    msgpack_pack_map (&pk, strlen (format));
    for (const char *type = format; *type; type++) {
        const char *key = va_arg (args, const char *);
        msgpack_pack_str_with_body (&pk, key, strlen (key));
        switch (*type) {
            case 's': {
                const char *value = va_arg (args, const char *);
                msgpack_pack_str_with_body (&pk, value, strlen (value));
                break;
            }
            case 'u': msgpack_pack_uint64 (&pk, va_arg (args, uint64_t)); break;
            case 'i': msgpack_pack_int64 (&pk, va_arg (args, int64_t)); break;
            case 'n': msgpack_pack_nil (&pk); break;
            case 'a': msgpack_pack_array (&pk, 1); msgpack_pack_uint64 (&pk, 1); break;
        }
    }
    va_end (args);
    zwatch_fleet_request_t request;
    return zwatch_fleet_request_decode (&request, s_buffer.data, s_buffer.size);
}

static void
s_test_request (void)
{
    msgpack_sbuffer_init (&s_buffer);
    uint8_t bytes [256];
    //  The published vector: what our encoder writes, and what it means
    size_t size = fu_unhex (VECTOR_SNAPSHOT_REQUEST, bytes);
    CHECK_INT_EQ (size, 45);
    zwatch_fleet_request_t request;
    CHECK_INT_EQ (zwatch_fleet_request_decode (&request, bytes, size), ZWATCH_REQUEST_OK);
    CHECK (request.prefix.len == 10 && memcmp (request.prefix.ptr, "ev/web-01/", 10) == 0);
    CHECK (request.has_history);
    CHECK_INT_EQ (request.history, 100);
    char encoded [256];
    CHECK_INT_EQ (zwatch_fleet_request_encode (encoded, sizeof (encoded), "ev/web-01/", 100), 45);
    CHECK (memcmp (encoded, bytes, size) == 0);
    //  The smallest request
    int length = zwatch_fleet_request_encode (encoded, sizeof (encoded), NULL, -1);
    CHECK_INT_EQ (length, 18);
    CHECK_INT_EQ (zwatch_fleet_request_decode (&request, encoded, (size_t) length), ZWATCH_REQUEST_OK);
    CHECK (request.prefix.len == 0 && !request.has_history);
    for (int capacity = 0; capacity < length; capacity++) {
        errno = 0;
        CHECK_INT_EQ (zwatch_fleet_request_encode (encoded, (size_t) capacity, NULL, -1), -1);
        CHECK_INT_EQ (errno, EMSGSIZE);
    }

    //  Every reason, with its stable name
    CHECK_INT_EQ (s_request ("us", "v", (uint64_t) 1, "kind", "snapshot"), ZWATCH_REQUEST_OK);
    CHECK_INT_EQ (s_request ("usn", "v", (uint64_t) 1, "kind", "snapshot", "future", NULL),
                  ZWATCH_REQUEST_OK);
    uint8_t big [ZWATCH_FLEET_REQUEST_MAX + 1] = { 0x80 };
    CHECK_INT_EQ (zwatch_fleet_request_decode (&request, big, sizeof (big)), ZWATCH_REQUEST_TOO_LARGE);
    CHECK_INT_EQ (zwatch_fleet_request_decode (&request, "", 0), ZWATCH_REQUEST_MALFORMED);
    CHECK_INT_EQ (zwatch_fleet_request_decode (&request, "\x82\xa1v\x01", 4), ZWATCH_REQUEST_MALFORMED);
    CHECK_INT_EQ (zwatch_fleet_request_decode (&request, "not msgpack", 11), ZWATCH_REQUEST_NOT_MAP);
    CHECK_INT_EQ (zwatch_fleet_request_decode (&request, "\x91\x01", 2), ZWATCH_REQUEST_NOT_MAP);
    length = zwatch_fleet_request_encode (encoded, sizeof (encoded), NULL, -1);
    encoded [length] = 0;
    CHECK_INT_EQ (zwatch_fleet_request_decode (&request, encoded, (size_t) length + 1),
                  ZWATCH_REQUEST_MALFORMED);       //  a byte after the map
    CHECK_INT_EQ (zwatch_fleet_request_decode (&request, "\x81\x01\x01", 3), ZWATCH_REQUEST_BAD_KEY);
    CHECK_INT_EQ (s_request ("uss", "v", (uint64_t) 1, "kind", "snapshot", "kind", "snapshot"),
                  ZWATCH_REQUEST_DUPLICATE_KEY);
    CHECK_INT_EQ (zwatch_fleet_request_decode (&request, "\x81\xa1x\x91\x91\x91\x91\x91\x91\x91\x91\x91\x01",
                                               14), ZWATCH_REQUEST_TOO_DEEP);
    CHECK_INT_EQ (s_request ("s", "kind", "snapshot"), ZWATCH_REQUEST_MISSING_KEY);
    CHECK_INT_EQ (s_request ("u", "v", (uint64_t) 1), ZWATCH_REQUEST_MISSING_KEY);
    CHECK_INT_EQ (s_request ("uu", "v", (uint64_t) 1, "kind", (uint64_t) 3), ZWATCH_REQUEST_BAD_TYPE);
    CHECK_INT_EQ (s_request ("usu", "v", (uint64_t) 1, "kind", "snapshot", "prefix", (uint64_t) 3),
                  ZWATCH_REQUEST_BAD_TYPE);
    CHECK_INT_EQ (s_request ("uss", "v", (uint64_t) 1, "kind", "snapshot", "history", "10"),
                  ZWATCH_REQUEST_BAD_TYPE);
    CHECK_INT_EQ (s_request ("usi", "v", (uint64_t) 1, "kind", "snapshot", "history", (int64_t) -1),
                  ZWATCH_REQUEST_BAD_TYPE);
    CHECK_INT_EQ (s_request ("usa", "v", (uint64_t) 1, "kind", "snapshot", "prefix"),
                  ZWATCH_REQUEST_BAD_TYPE);
    CHECK_INT_EQ (s_request ("us", "v", (uint64_t) 2, "kind", "snapshot"), ZWATCH_REQUEST_BAD_VERSION);
    CHECK_INT_EQ (s_request ("ss", "v", "1", "kind", "snapshot"), ZWATCH_REQUEST_BAD_VERSION);
    //  A future version wins over a type problem elsewhere
    CHECK_INT_EQ (s_request ("uu", "v", (uint64_t) 2, "kind", (uint64_t) 1), ZWATCH_REQUEST_BAD_VERSION);
    CHECK_INT_EQ (s_request ("us", "v", (uint64_t) 1, "kind", "snapshots"), ZWATCH_REQUEST_BAD_KIND);
    CHECK_INT_EQ (s_request ("us", "v", (uint64_t) 1, "kind", "event"), ZWATCH_REQUEST_BAD_KIND);
    char prefix [ZWATCH_FLEET_PREFIX_MAX + 2];
    memset (prefix, 'p', sizeof (prefix) - 1);
    prefix [sizeof (prefix) - 1] = 0;
    CHECK_INT_EQ (s_request ("uss", "v", (uint64_t) 1, "kind", "snapshot", "prefix", prefix),
                  ZWATCH_REQUEST_BAD_PREFIX);
    prefix [ZWATCH_FLEET_PREFIX_MAX] = 0;
    CHECK_INT_EQ (s_request ("uss", "v", (uint64_t) 1, "kind", "snapshot", "prefix", prefix),
                  ZWATCH_REQUEST_OK);
    CHECK_INT_EQ (s_request ("uss", "v", (uint64_t) 1, "kind", "snapshot", "prefix", "ev/\n"),
                  ZWATCH_REQUEST_BAD_PREFIX);
    //  Every prefix of a valid request is malformed, never accepted
    size = fu_unhex (VECTOR_SNAPSHOT_REQUEST, bytes);
    for (size_t cut = 0; cut < size; cut++)
        CHECK (zwatch_fleet_request_decode (&request, bytes, cut) != ZWATCH_REQUEST_OK);
    const char *names [] = { "ok", "too_large", "malformed", "not_map", "bad_key", "duplicate_key",
                             "too_deep", "missing_key", "bad_type", "bad_version", "bad_kind",
                             "bad_prefix", "multipart" };
    for (int reason = 0; reason < ZWATCH_REQUEST_COUNT; reason++)
        CHECK_STR_EQ (zwatch_fleet_request_reason_name (reason), names [reason]);
    CHECK_STR_EQ (zwatch_fleet_request_reason_name (ZWATCH_REQUEST_COUNT), "unknown");
    msgpack_sbuffer_destroy (&s_buffer);
}

//  Decode one map our encoders wrote, checking every byte is used
static msgpack_object *
s_decode (msgpack_unpacked *unpacked, const char *data, int size)
{
    CHECK (size > 0);
    msgpack_unpacked_init (unpacked);
    size_t offset = 0;
    CHECK (msgpack_unpack_next (unpacked, data, (size_t) size, &offset) == MSGPACK_UNPACK_SUCCESS);
    CHECK_INT_EQ (offset, size);
    return &unpacked->data;
}

static void
s_test_replies (void)
{
    uint8_t bytes [256];
    char encoded [512];
    size_t size = fu_unhex (VECTOR_SNAPSHOT_END, bytes);
    CHECK_INT_EQ (size, 60);
    CHECK_INT_EQ (zwatch_fleet_encode_snapshot_end (encoded, sizeof (encoded), 2, 3, 1, 100, 7), 60);
    CHECK (memcmp (encoded, bytes, size) == 0);
    msgpack_unpacked unpacked;
    msgpack_object *end = s_decode (&unpacked, (char *) bytes, (int) size);
    CHECK_INT_EQ (fu_map_size (end), 7);
    CHECK (fu_str_is (fu_get (end, "kind"), "snapshot_end"));
    CHECK_INT_EQ (fu_uint (end, "v"), 1);
    CHECK_INT_EQ (fu_uint (end, "agents"), 2);
    CHECK_INT_EQ (fu_uint (end, "sockets"), 3);
    CHECK_INT_EQ (fu_uint (end, "links"), 1);
    CHECK_INT_EQ (fu_uint (end, "events"), 100);
    CHECK_INT_EQ (fu_uint (end, "lseq"), 7);
    msgpack_unpacked_destroy (&unpacked);
    CHECK_INT_EQ (zwatch_fleet_encode_snapshot_end (encoded, 59, 2, 3, 1, 100, 7), -1);
    CHECK_INT_EQ (errno, EMSGSIZE);

    int length = zwatch_fleet_encode_error (encoded, sizeof (encoded), "bad_prefix");
    msgpack_object *error = s_decode (&unpacked, encoded, length);
    CHECK_INT_EQ (fu_map_size (error), 3);
    CHECK (fu_str_is (fu_get (error, "kind"), "error"));
    CHECK (fu_str_is (fu_get (error, "reason"), "bad_prefix"));
    msgpack_unpacked_destroy (&unpacked);

    zwatch_fleet_link_t link = {
        .up = true, .from = { "web-2", "worker", 200, "cli", "10.0.0.2:40000" },
        .to = { "web-1", "api", 100, "srv", "10.0.0.1:5555" },
        .endpoint = "tcp://10.0.0.1:5555", .since = 2007, .lseq = 9
    };
    length = zwatch_fleet_encode_link (encoded, sizeof (encoded), &link, 123456);
    msgpack_object *body = s_decode (&unpacked, encoded, length);
    CHECK_INT_EQ (fu_map_size (body), 9);
    CHECK (fu_str_is (fu_get (body, "kind"), "link"));
    CHECK (fu_bool (body, "up"));
    msgpack_object *from = fu_get (body, "from");
    CHECK_INT_EQ (fu_map_size (from), 5);
    CHECK (fu_str_is (fu_get (from, "host"), "web-2") && fu_str_is (fu_get (from, "svc"), "worker"));
    CHECK (fu_uint (from, "pid") == 200 && fu_str_is (fu_get (from, "sock"), "cli"));
    CHECK (fu_str_is (fu_get (from, "addr"), "10.0.0.2:40000"));
    CHECK (fu_str_is (fu_get (fu_get (body, "to"), "sock"), "srv"));
    CHECK (fu_str_is (fu_get (body, "endpoint"), "tcp://10.0.0.1:5555"));
    CHECK_INT_EQ (fu_uint (body, "since"), 2007);
    CHECK_INT_EQ (fu_uint (body, "lseq"), 9);
    CHECK_INT_EQ (fu_uint (body, "ts"), 123456);
    msgpack_unpacked_destroy (&unpacked);
    char topic [ZWATCH_FLEET_LINK_TOPIC_MAX + 1];
    CHECK_INT_EQ (zwatch_fleet_topic_link (topic, sizeof (topic), &link), 17);
    CHECK_STR_EQ (topic, "link/web-2/worker");
    CHECK_INT_EQ (zwatch_fleet_topic_link (topic, 17, &link), -1);
    CHECK_INT_EQ (errno, EMSGSIZE);
}

static int64_t
s_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static long
s_rss_kib (void)
{
    char *status = tu_read_file ("/proc/self/status");
    long kib = 0;
    char *line = status? strstr (status, "VmRSS:"): NULL;
    if (line)
        kib = strtol (line + 6, NULL, 10);
    free (status);
    return kib;
}

//  The figure: 1,000 agents x 10 sockets x 10 connections, every
//  connection linked (5,000 links); what a snapshot of it costs to build
static void
s_test_cost (void)
{
    long rss_before = s_rss_kib ();
    zwatch_fleet_t *fleet = zwatch_fleet_new (NULL);
    enum { AGENTS = 1000, SOCKETS = 10, CONNS = 10 };
    int64_t started = s_now_us ();
    uint64_t applied = 0;
    for (int index = 0; index < AGENTS; index++) {
        char host [32], local [64], peer [64], endpoint [64];
        snprintf (host, sizeof (host), "host-%d", index);
        fu_agent_t agent = { host, "svc", (uint64_t) (1000 + index), 1 };
        fu_lifecycle (fleet, &agent, ZWATCH_KIND_HELLO, 0, 0);
        uint64_t seq = 0;
        for (int sock = 0; sock < SOCKETS; sock++) {
            char label [16];
            snprintf (label, sizeof (label), "sock-%d", sock);
            //  Even agents accept, odd ones connect to their even neighbour
            bool server = index % 2 == 0;
            int partner = server? index + 1: index - 1;
            for (int conn = 0; conn < CONNS; conn++) {
                int port = 10000 + sock * CONNS + conn;
                snprintf (endpoint, sizeof (endpoint), "tcp://10.%d.%d.1:%d", partner / 256,
                          partner % 256, 5555);
                if (server) {
                    snprintf (local, sizeof (local), "10.%d.%d.1:5555", index / 256, index % 256);
                    snprintf (peer, sizeof (peer), "10.%d.%d.1:%d", partner / 256, partner % 256, port);
                }
                else {
                    snprintf (local, sizeof (local), "10.%d.%d.1:%d", index / 256, index % 256, port);
                    snprintf (peer, sizeof (peer), "10.%d.%d.1:5555", partner / 256, partner % 256);
                }
                fu_apply (fleet, &agent, (fu_event_t) {
                    .sock = label, .stype = server? "ROUTER": "DEALER",
                    .event = server? "ACCEPTED": "CONNECTED", .value = 100 + conn,
                    .endpoint = server? "tcp://0.0.0.0:5555": endpoint, .local = local, .peer = peer,
                    .seq = ++seq });
                applied++;
            }
        }
    }
    int64_t built = s_now_us ();
    CHECK_INT_EQ (zwatch_fleet_agents (fleet), AGENTS);
    CHECK_INT_EQ (zwatch_fleet_sockets (fleet), AGENTS * SOCKETS);
    CHECK_INT_EQ (zwatch_fleet_connections (fleet), AGENTS * SOCKETS * CONNS);
    CHECK_INT_EQ (zwatch_fleet_links (fleet), AGENTS * SOCKETS * CONNS / 2);
    long rss_model = s_rss_kib ();

    //  The whole snapshot, one frame at a time as the broker would: the
    //  total, and the longest single call (what one slice can cost)
    int64_t best = INT64_MAX, slowest_call = 0;
    size_t bytes = 0, frames = 0, largest = 0;
    for (int run = 0; run < 3; run++) {
        int64_t start = s_now_us ();
        zwatch_fleet_snapshot_t *snapshot = zwatch_fleet_snapshot_new (fleet, NULL, 0);
        CHECK (snapshot);
        int64_t created = s_now_us ();
        const void *data;
        size_t size;
        frames = 0;
        while (true) {
            int64_t before = s_now_us ();
            if (!zwatch_fleet_snapshot_next (snapshot, &data, &size))
                break;
            int64_t call = s_now_us () - before;
            slowest_call = call > slowest_call? call: slowest_call;
            largest = size > largest? size: largest;
            frames++;
        }
        int64_t took = s_now_us () - start;
        if (took < best)
            best = took;
        if (run == 0)
            printf ("snapshot_new: %.2f ms\n", (created - start) / 1000.0);
        bytes = zwatch_fleet_snapshot_bytes (snapshot);
        CHECK (!zwatch_fleet_snapshot_failed (snapshot));
        CHECK_INT_EQ (zwatch_fleet_snapshot_agents (snapshot), AGENTS);
        CHECK_INT_EQ (zwatch_fleet_snapshot_sockets (snapshot), AGENTS * SOCKETS);
        CHECK_INT_EQ (zwatch_fleet_snapshot_links (snapshot), AGENTS * SOCKETS * CONNS / 2);
        CHECK_INT_EQ (frames, AGENTS + AGENTS * SOCKETS + AGENTS * SOCKETS * CONNS / 2);
        CHECK (largest < 8192);
        zwatch_fleet_snapshot_destroy (&snapshot);
    }
    //  A filtered one: one host, and the links to and from it
    int64_t start = s_now_us ();
    zwatch_fleet_snapshot_t *one = zwatch_fleet_snapshot_new (fleet, "ev/host-7/", 10);
    const void *data;
    size_t size;
    while (zwatch_fleet_snapshot_next (one, &data, &size))
        ;
    int64_t took_one = s_now_us () - start;
    CHECK_INT_EQ (zwatch_fleet_snapshot_agents (one), 1);
    CHECK_INT_EQ (zwatch_fleet_snapshot_links (one), SOCKETS * CONNS);
    zwatch_fleet_snapshot_destroy (&one);

    printf ("fleet of %d agents x %d sockets x %d connections (%d links): model built from %"
            PRIu64 " events in %.0f ms (%.2f us each), RSS +%ld KiB (%.0f B per connection)\n",
            AGENTS, SOCKETS, CONNS, AGENTS * SOCKETS * CONNS / 2, applied,
            (built - started) / 1000.0, (double) (built - started) / (double) applied,
            rss_model - rss_before, (rss_model - rss_before) * 1024.0 / (AGENTS * SOCKETS * CONNS));
    printf ("snapshot: %zu frames, %zu bytes (largest %zu), all frames in %.1f ms (best of 3), "
            "slowest single call %.2f ms; one host: %.2f ms\n", frames, bytes, largest,
            best / 1000.0, slowest_call / 1000.0, took_one / 1000.0);
    start = s_now_us ();
    zwatch_fleet_destroy (&fleet);
    printf ("destroy: %.1f ms\n", (s_now_us () - start) / 1000.0);
}

int
main (int argc, char *argv [])
{
    tu_case_t cases [] = {
        { "request", s_test_request },
        { "replies", s_test_replies },
        { "cost", s_test_cost },
    };
    return tu_run_cases (argc, argv, "test_fleet_wire", cases, sizeof (cases) / sizeof (cases [0]));
}
