/*  test_broker_batches: the batch feed (--publish-batches, PROTOCOL.md 6).

    A real broker, fake agents sending exact bytes, a raw SUB on the batch
    feed beside a feed on the XPUB: the batch feed must carry the very
    events the XPUB carries, byte for byte, in the same order, grouped by
    service, and the stats must count its messages. With no subscriber on
    the XPUB the broker skips sending events there; one that connects then
    gets the next event, and the count of published events never lost any.
*/

#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include "zwatch.h"
#include "testutil.h"
#include "broker_proc.h"
#include "feed.h"
#include "fake_agent.h"
#include "snap_client.h"

#define WAIT_MS         10000
#define PROBE_PID       999
#define PROBES_MAX      200
#define MAPS_MAX        1024
#define BATCH_BYTES_MAX 8192        //  a batch's maps at most (PROTOCOL.md 6)

//  The maps of the batch feed, in arrival order, with their message's topic
typedef struct {
    size_t count;
    char topic [MAPS_MAX][160];
    uint8_t body [MAPS_MAX][ZWATCH_MSG_MAX];
    size_t size [MAPS_MAX];
    size_t messages;            //  batches, probes left out
    size_t maps_in [MAPS_MAX];  //  maps of each batch
} maps_t;

static maps_t s_maps;

//  Read one batch (up to timeout_ms): its maps go into maps unless they are
//  a probe's; returns false if none came
static bool
s_read_batch (zsock_t *sub, maps_t *maps, int timeout_ms)
{
    zsock_set_rcvtimeo (sub, timeout_ms);
    zmsg_t *msg = zmsg_recv (sub);
    if (!msg)
        return false;
    CHECK_INT_EQ (zmsg_size (msg), 2);
    char *topic = zmsg_popstr (msg);
    zframe_t *body = zmsg_pop (msg);
    const uint8_t *data = zframe_data (body);
    size_t size = zframe_size (body), offset = 0, maps_here = 0;
    CHECK (size <= BATCH_BYTES_MAX);
    bool probe = false;
    while (offset < size) {
        zwatch_msg_t event;
        bool rest_lost;
        size_t start = offset;
        CHECK_INT_EQ (zwatch_msg_decode_next (&event, data, size, &offset, &rest_lost, NULL),
                      ZWATCH_OK);
        CHECK (event.kind == ZWATCH_KIND_EVENT);
        char expected [160];
        snprintf (expected, sizeof (expected), "batch/%.*s/%.*s/", (int) event.host.len,
                  event.host.ptr, (int) event.svc.len, event.svc.ptr);
        CHECK_STR_EQ (topic, expected);
        if (event.pid == PROBE_PID) {
            probe = true;
            continue;
        }
        CHECK (!probe);                 //  a probe's batch is its own
        CHECK (maps->count < MAPS_MAX);
        snprintf (maps->topic [maps->count], sizeof (maps->topic [0]), "%s", topic);
        memcpy (maps->body [maps->count], data + start, offset - start);
        maps->size [maps->count++] = offset - start;
        maps_here++;
    }
    if (!probe)
        maps->maps_in [maps->messages++] = maps_here;
    zframe_destroy (&body);
    zstr_free (&topic);
    zmsg_destroy (&msg);
    return true;
}

//  Probe events (pid PROBE_PID of host, svc) until every sub has one: their
//  subscriptions reached the broker's PUB. Returns how many were sent.
static uint64_t
s_probe (const char *ingest, const char *host, const char *svc, zsock_t **subs, int sub_count)
{
    fake_agent_t *probe = fake_agent_new (ingest, host, svc, PROBE_PID);
    uint64_t sent = 0;
    bool seen [4] = { false };
    int seen_count = 0;
    while (seen_count < sub_count && sent < PROBES_MAX) {
        size_t size;
        fake_agent_send_event (probe, ++sent, "ACCEPTED", &size);
        for (int index = 0; index < sub_count; index++)
            if (!seen [index] && s_read_batch (subs [index], &s_maps, 50)) {
                seen [index] = true;
                seen_count++;
            }
    }
    CHECK (seen_count == sub_count);
    fake_agent_destroy (&probe);
    return sent;
}

//  A frame of several events of agent, seqs first..last, names in turn
static size_t
s_frame (fake_agent_t *agent, uint64_t first, uint64_t last, uint8_t *frame, size_t capacity)
{
    const char *names [] = { "ACCEPTED", "CONNECTED", "DISCONNECTED", "BIND_FAILED" };
    size_t used = 0;
    for (uint64_t seq = first; seq <= last; seq++) {
        size_t size;
        const void *bytes = fake_agent_event (agent, seq, names [seq % 4], &size);
        CHECK (used + size <= capacity);
        memcpy (frame + used, bytes, size);
        used += size;
    }
    return used;
}

//  Seqs 11, 12, a map the decoder rejects (host "a/b"), 13: one frame
static void
s_send_with_bad_map (fake_agent_t *agent, uint8_t *frame, size_t capacity)
{
    size_t used = s_frame (agent, 11, 12, frame, capacity);
    zwatch_msg_t bad;
    size_t size;
    const void *bytes = fake_agent_event (agent, 99, "ACCEPTED", &size);
    CHECK_INT_EQ (zwatch_msg_decode (&bad, bytes, size, NULL), ZWATCH_OK);
    bad.host = (zwatch_str_t) { "a/b", 3 };
    int bad_size = zwatch_msg_encode (&bad, frame + used, capacity - used);
    CHECK (bad_size > 0);
    used += (size_t) bad_size;
    used += s_frame (agent, 13, 13, frame + used, capacity - used);
    fake_agent_send_raw (agent, frame, used);
}

//  The ev/ bodies the feed holds now, in order, against the batch maps
static void
s_expect_same (feed_t *feed, const maps_t *maps, size_t events)
{
    size_t index = 0;
    while (feed_recv (feed, 0)) {
        if (!feed_is (feed, "ev/"))
            continue;
        zwatch_msg_t event;
        feed_event (feed, &event);
        if (event.pid == PROBE_PID)
            continue;
        CHECK (index < maps->count);
        CHECK_INT_EQ (feed_body_size (feed), maps->size [index]);
        CHECK (memcmp (feed_body (feed), maps->body [index], maps->size [index]) == 0);
        index++;
    }
    CHECK_INT_EQ (index, events);
    CHECK_INT_EQ (maps->count, events);
}

//  Two services, batches and single events, an invalid map in a batch: the
//  batch feed holds exactly what the XPUB published, grouped by service; a
//  subscription to one service gets that service alone
static void
test_batches (void)
{
    char *batches = tu_free_endpoint ();
    const char *args [] = { "--stats-interval", "0.1", "--publish-batches", batches, NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *prefixes [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_subscribers (feed, 2, WAIT_MS));
    zsock_t *all = zsock_new_sub (batches, "batch/");
    zsock_t *one = zsock_new_sub (batches, "batch/hb/sb/");
    zsock_t *subs [] = { all, one };
    uint64_t probes = s_probe (broker_proc_ingest (broker), "hb", "sb", subs, 2);
    CHECK (feed_wait_stats (feed, "events_out", probes, WAIT_MS));
    while (feed_recv (feed, 0))
        ;

    fake_agent_t *a = fake_agent_new (broker_proc_ingest (broker), "ha", "sa", 10);
    fake_agent_t *b = fake_agent_new (broker_proc_ingest (broker), "hb", "sb", 20);
    static uint8_t frame [65536];
    fake_agent_send_raw (a, frame, s_frame (a, 1, 10, frame, sizeof (frame)));
    CHECK (feed_wait_stats (feed, "events_out", probes + 10, WAIT_MS));
    size_t size;
    for (uint64_t seq = 1; seq <= 3; seq++)
        fake_agent_send_event (b, seq, "CONNECT_RETRIED", &size);
    CHECK (feed_wait_stats (feed, "events_out", probes + 13, WAIT_MS));
    //  11, 12, a map the decoder rejects (host "a/b"), 13: one batch of three
    s_send_with_bad_map (a, frame, sizeof (frame));
    fake_agent_send_event (a, 14, "CLOSED", &size);
    CHECK (feed_wait_stats (feed, "events_out", probes + 17, WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "invalid"), 1);
    //  Batches: a probe each, A's 10, B's three singles, A's 3, A's single
    CHECK_INT_EQ (feed_uint (feed, "batches_out"), probes + 6);

    memset (&s_maps, 0, sizeof (s_maps));
    while (s_maps.count < 17 && s_read_batch (all, &s_maps, WAIT_MS))
        ;
    CHECK_INT_EQ (s_maps.messages, 6);
    size_t expected_maps [] = { 10, 1, 1, 1, 3, 1 };
    for (size_t index = 0; index < 6; index++)
        CHECK_INT_EQ (s_maps.maps_in [index], expected_maps [index]);
    s_expect_same (feed, &s_maps, 17);
    CHECK (!s_read_batch (all, &s_maps, 100));

    //  The one-service subscription: B's three events, nothing of A
    memset (&s_maps, 0, sizeof (s_maps));
    while (s_maps.count < 3 && s_read_batch (one, &s_maps, WAIT_MS))
        ;
    CHECK_INT_EQ (s_maps.count, 3);
    for (size_t index = 0; index < 3; index++)
        CHECK_STR_EQ (s_maps.topic [index], "batch/hb/sb/");
    CHECK (!s_read_batch (one, &s_maps, 100));
    printf ("batches: %" PRIu64 " probes, 17 events in 6 batches, byte for byte as on ev/\n",
            probes);

    fake_agent_destroy (&a);
    fake_agent_destroy (&b);
    zsock_destroy (&all);
    zsock_destroy (&one);
    feed_destroy (&feed);
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, WAIT_MS), 0);
    broker_proc_destroy (&broker);
    free (batches);
}

//  No subscriber on the XPUB: events go to the batch feed and are counted
//  as published; a subscriber that connects gets the very next one
static void
test_batches_alone (void)
{
    char *batches = tu_free_endpoint ();
    const char *args [] = { "--stats-interval", "0.1", "--publish-batches", batches, NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    zsock_t *sub = zsock_new_sub (batches, "batch/");
    zsock_t *subs [] = { sub };
    uint64_t probes = s_probe (broker_proc_ingest (broker), "hp", "sp", subs, 1);

    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "ha", "sa", 10);
    static uint8_t frame [65536];
    for (uint64_t first = 1; first <= 500; first += 50)
        fake_agent_send_raw (agent, frame, s_frame (agent, first, first + 49, frame,
                                                    sizeof (frame)));
    memset (&s_maps, 0, sizeof (s_maps));
    while (s_maps.count < 500 && s_read_batch (sub, &s_maps, WAIT_MS))
        ;
    CHECK_INT_EQ (s_maps.count, 500);
    CHECK_INT_EQ (s_maps.messages, 10);
    for (size_t index = 0; index < 500; index++) {
        zwatch_msg_t event;
        CHECK_INT_EQ (zwatch_msg_decode (&event, s_maps.body [index], s_maps.size [index], NULL),
                      ZWATCH_OK);
        CHECK_INT_EQ (event.seq, index + 1);
    }

    //  Now a subscriber on the XPUB: the broker counted every event it did
    //  not send there, and sends the next one
    const char *prefixes [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_subscribers (feed, 2, WAIT_MS));
    CHECK (feed_wait_stats (feed, "events_out", probes + 500, WAIT_MS));
    CHECK_INT_EQ (feed_uint (feed, "subscribers"), 1);
    CHECK_INT_EQ (feed_uint (feed, "batches_out"), probes + 10);
    while (feed_recv (feed, 0))
        CHECK (!feed_is (feed, "ev/"));     //  nothing was sent before it came
    size_t size;
    const void *next = fake_agent_send_event (agent, 501, "DISCONNECTED", &size);
    CHECK (feed_recv (feed, WAIT_MS));
    while (!feed_is (feed, "ev/"))
        CHECK (feed_recv (feed, WAIT_MS));
    CHECK_INT_EQ (feed_body_size (feed), size);
    CHECK (memcmp (feed_body (feed), next, size) == 0);
    printf ("batches_alone: 500 events with no XPUB subscriber, then event 501 to the one "
            "that came\n");

    fake_agent_destroy (&agent);
    zsock_destroy (&sub);
    feed_destroy (&feed);
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, WAIT_MS), 0);
    broker_proc_destroy (&broker);
    free (batches);
}

//  The published ev/ bodies, in order: what a snapshot's history must hold
#define PUBLISHED_MAX   128
typedef struct {
    size_t count;
    uint8_t body [PUBLISHED_MAX][ZWATCH_MSG_MAX];
    size_t size [PUBLISHED_MAX];
} published_t;

static published_t s_published;

static void
s_collect (feed_t *feed, size_t events)
{
    while (s_published.count < events && feed_recv (feed, WAIT_MS)) {
        if (!feed_is (feed, "ev/"))
            continue;
        CHECK (s_published.count < PUBLISHED_MAX);
        memcpy (s_published.body [s_published.count], feed_body (feed), feed_body_size (feed));
        s_published.size [s_published.count++] = feed_body_size (feed);
    }
    CHECK_INT_EQ (s_published.count, events);
}

//  The snapshot's history (the ring's every event) is the last ring
//  events published, byte for byte, oldest first
static void
s_expect_history (snap_client_t *client, size_t ring)
{
    snap_client_request (client, NULL, 1000000);
    zsock_t *dealer = snap_client_handle (client);
    zsock_set_rcvtimeo (dealer, WAIT_MS);
    size_t from = s_published.count > ring? s_published.count - ring: 0, events = 0;
    while (true) {
        zframe_t *frame = zframe_recv (dealer);
        CHECK (frame);
        zwatch_msg_t msg;
        bool last = zframe_size (frame) >= 14
                 && memmem (zframe_data (frame), zframe_size (frame), "snapshot_end", 12);
        if (!last && zwatch_msg_decode (&msg, zframe_data (frame), zframe_size (frame), NULL)
                     == ZWATCH_OK) {
            CHECK (from + events < s_published.count);
            CHECK_INT_EQ (zframe_size (frame), s_published.size [from + events]);
            CHECK (memcmp (zframe_data (frame), s_published.body [from + events],
                           zframe_size (frame)) == 0);
            events++;
        }
        zframe_destroy (&frame);
        if (last)
            break;
    }
    CHECK_INT_EQ (events, s_published.count - from);
}

//  The history ring keeps the events of batches as it keeps lone ones: a
//  snapshot gives back the very bytes published, also once the ring has
//  gone round (slots reused for bodies of other sizes)
static void
test_batches_history (void)
{
    const char *args [] = { "--stats-interval", "0.1", "--history", "40", NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    const char *prefixes [] = { "ev/", "stats/", NULL };
    feed_t *feed = feed_new (broker_proc_publish (broker), prefixes);
    CHECK (feed_wait_subscribers (feed, 2, WAIT_MS));
    snap_client_t *client = snap_client_new (broker_proc_snapshot (broker));
    fake_agent_t *a = fake_agent_new (broker_proc_ingest (broker), "ha", "sa", 10);
    fake_agent_t *b = fake_agent_new (broker_proc_ingest (broker), "hb", "sb", 20);
    static uint8_t frame [65536];
    memset (&s_published, 0, sizeof (s_published));

    //  10 in a frame; 3 lone
    fake_agent_send_raw (a, frame, s_frame (a, 1, 10, frame, sizeof (frame)));
    s_collect (feed, 10);
    size_t size;
    for (uint64_t seq = 1; seq <= 3; seq++)
        fake_agent_send_event (b, seq, "CONNECT_RETRIED", &size);
    s_collect (feed, 13);
    s_expect_history (client, 40);
    //  3 of a frame with a map the decoder rejects
    s_send_with_bad_map (a, frame, sizeof (frame));
    //  20 in a frame, one lone, then 50 in a frame: more than the ring
    fake_agent_send_raw (a, frame, s_frame (a, 14, 33, frame, sizeof (frame)));
    fake_agent_send_event (a, 34, "CLOSED", &size);
    s_collect (feed, 37);
    s_expect_history (client, 40);
    fake_agent_send_raw (b, frame, s_frame (b, 4, 53, frame, sizeof (frame)));
    s_collect (feed, 87);
    s_expect_history (client, 40);
    //  Lone events take the ring round again, past every frame it held
    for (uint64_t seq = 54; seq < 94; seq++)
        fake_agent_send_event (b, seq, "ACCEPTED", &size);
    s_collect (feed, 127);
    s_expect_history (client, 40);
    CHECK (feed_wait_stats (feed, "events_out", 127, WAIT_MS));
    printf ("batches_history: 127 events (4 frames, 44 lone), the ring's 40 byte for byte "
            "at each of 4 snapshots\n");

    snap_client_destroy (&client);
    fake_agent_destroy (&a);
    fake_agent_destroy (&b);
    feed_destroy (&feed);
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, WAIT_MS), 0);
    broker_proc_destroy (&broker);
}

//  A bad batch endpoint: a clear line, a non-zero exit
static void
test_batches_bad_endpoint (void)
{
    char *ingest = tu_free_endpoint (), *publish = tu_free_endpoint ();
    char *snapshot = tu_free_endpoint ();
    const char *args [] = { "--ingest", ingest, "--publish", publish,
                            "--snapshot", snapshot, "--publish-batches", "tcp://nonsense", NULL };
    char *errors = NULL;
    int code = broker_proc_run (args, WAIT_MS, &errors);
    CHECK_INT_EQ (code, 2);
    CHECK (errors && strstr (errors, "cannot bind --publish-batches tcp://nonsense: "
                                     "Invalid argument"));
    printf ("batches_bad_endpoint: exit %d, %s", code, errors);
    free (errors);
    free (ingest);
    free (publish);
    free (snapshot);
}

//  The ZPL key of the flag: the broker binds what the file names
static void
test_batches_config (void)
{
    char *batches = tu_free_endpoint ();
    char *path = tu_temp_path (".cfg");
    FILE *file = fopen (path, "w");
    CHECK (file);
    fprintf (file, "broker\n    publish-batches = %s\n", batches);
    fclose (file);
    const char *args [] = { "--config", path, NULL };
    broker_proc_t *broker = broker_proc_new (args, true);
    char expected [128];
    snprintf (expected, sizeof (expected), "publish-batches bound to %s", batches);
    CHECK (broker_proc_wait_log (broker, expected, WAIT_MS));
    zsock_t *sub = zsock_new_sub (batches, "batch/");
    zsock_t *subs [] = { sub };
    uint64_t probes = s_probe (broker_proc_ingest (broker), "hc", "sc", subs, 1);
    //  A frame of 100 events (~15 KiB) goes out as batches of at most 8 KiB
    fake_agent_t *agent = fake_agent_new (broker_proc_ingest (broker), "ha", "sa", 10);
    static uint8_t frame [65536];
    size_t used = s_frame (agent, 1, 100, frame, sizeof (frame));
    CHECK (used > BATCH_BYTES_MAX);            //  more than one batch holds
    fake_agent_send_raw (agent, frame, used);
    memset (&s_maps, 0, sizeof (s_maps));
    while (s_maps.count < 100 && s_read_batch (sub, &s_maps, WAIT_MS))
        ;
    CHECK_INT_EQ (s_maps.count, 100);
    CHECK (s_maps.messages >= 2);
    for (size_t index = 0; index < 100; index++) {
        zwatch_msg_t event;
        CHECK_INT_EQ (zwatch_msg_decode (&event, s_maps.body [index], s_maps.size [index], NULL),
                      ZWATCH_OK);
        CHECK_INT_EQ (event.seq, index + 1);
    }
    fake_agent_destroy (&agent);
    printf ("batches_config: bound from the file, a batch after %" PRIu64 " probes; a frame "
            "of %zu bytes in %zu batches\n", probes, used, s_maps.messages);
    zsock_destroy (&sub);
    CHECK_INT_EQ (broker_proc_stop (broker, SIGTERM, WAIT_MS), 0);
    broker_proc_destroy (&broker);
    unlink (path);
    free (path);
    free (batches);
}

int
main (int argc, char *argv [])
{
    zsys_init ();
    zsys_set_linger (0);
    if (argc != 2) {
        fprintf (stderr, "usage: test_broker_batches batches|alone|history|bad_endpoint|config\n");
        return 2;
    }
    if (streq (argv [1], "batches"))
        test_batches ();
    else
    if (streq (argv [1], "alone"))
        test_batches_alone ();
    else
    if (streq (argv [1], "history"))
        test_batches_history ();
    else
    if (streq (argv [1], "bad_endpoint"))
        test_batches_bad_endpoint ();
    else
    if (streq (argv [1], "config"))
        test_batches_config ();
    else {
        fprintf (stderr, "test_broker_batches: no case %s\n", argv [1]);
        return 2;
    }
    return 0;
}
