/*  bench_path: forwarder processes, sender threads, the subscriber.  */

#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "testutil.h"
#include "bench_feed.h"
#include "bench_path.h"
#include "bench_util.h"

#define READY_TIMEOUT_MS        5000        //  forwarder up and subscription through
#define IDLE_TIMEOUT_MS         1000        //  the subscriber stops after this silence
#define SENDER_LINGER_MS        1000        //  bounds the final zmq_ctx_term
#define START_ATTEMPTS          3           //  a free port can be taken before we bind it
#define FLOW_NAP_NS             20000       //  a sender's pause when the window is full
#define ARGS_MAX                32

static void *s_send_ctx;        //  senders' context, one I/O thread
static void *s_sub_ctx;         //  subscriber's context, one I/O thread

void
bench_path_init (void)
{
    s_send_ctx = zmq_ctx_new ();
    s_sub_ctx = zmq_ctx_new ();
}

void
bench_path_term (void)
{
    zmq_ctx_term (s_send_ctx);
    zmq_ctx_term (s_sub_ctx);
}

void *
bench_path_send_ctx (void)
{
    return s_send_ctx;
}

bool
bench_path_receive (bench_path_t *path)
{
    if (zmq_msg_recv (&path->topic, path->sub, 0) < 0)
        return false;
    if (!zmq_msg_more (&path->topic)) {
        zmq_msg_close (&path->body);        //  a single frame: empty body
        zmq_msg_init (&path->body);
        return true;
    }
    if (zmq_msg_recv (&path->body, path->sub, 0) < 0)
        return false;
    while (zmq_msg_more (&path->body))
        if (zmq_msg_recv (&path->body, path->sub, 0) < 0)
            return false;
    return true;
}

bool
bench_path_topic_starts (bench_path_t *path, const char *prefix)
{
    size_t len = strlen (prefix);
    return zmq_msg_size (&path->topic) >= len
        && memcmp (zmq_msg_data (&path->topic), prefix, len) == 0;
}

//  A proxy topic is a routing id, which never starts like those
bool
bench_path_is_event (bench_path_t *path)
{
    return !bench_path_topic_starts (path, "agent/") && !bench_path_topic_starts (path, "stats/")
        && !bench_path_topic_starts (path, "link/");
}

//  Send probe events until the subscriber sees one: the forwarder is up
//  and our subscription has reached it. Then drain what else came.
static int
s_path_ready (bench_path_t *path)
{
    void *probe = zmq_socket (s_send_ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (probe, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_connect (probe, path->ingest);
    bench_feed_t *feed = bench_feed_new ("bench-probe", 1);
    long long deadline = tu_now_ms () + READY_TIMEOUT_MS;
    int rc = -1;
    while (rc != 0 && tu_now_ms () < deadline && tu_wait (path->pid, 0) == -1) {
        bench_feed_send_event (feed, probe, ZMQ_DONTWAIT);
        zmq_pollitem_t item = { path->sub, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 20) == 1)
            rc = 0;
    }
    bench_feed_destroy (&feed);
    zmq_close (probe);
    if (rc == 0) {
        int quiet = 50;
        zmq_setsockopt (path->sub, ZMQ_RCVTIMEO, &quiet, sizeof (quiet));
        while (bench_path_receive (path))
            ;
        int idle = IDLE_TIMEOUT_MS;
        zmq_setsockopt (path->sub, ZMQ_RCVTIMEO, &idle, sizeof (idle));
    }
    return rc;
}

static void
s_path_free (bench_path_t *path)
{
    if (path->sub)
        zmq_close (path->sub);
    zmq_msg_close (&path->topic);
    zmq_msg_close (&path->body);
    if (path->log) {
        char *err_path = NULL;
        if (asprintf (&err_path, "%s.err", path->log) > 0) {
            unlink (err_path);
            free (err_path);
        }
        unlink (path->log);
    }
    free (path->ingest);
    free (path->publish);
    free (path->snapshot);
    free (path->batches);
    free (path->log);
    memset (path, 0, sizeof (*path));
}

bool
bench_path_is_batch (bench_path_t *path)
{
    return bench_path_topic_starts (path, "batch/");
}

static int s_open (bench_path_t *path, const char *name, bool is_broker, const char *const args [],
                   bool batches);

int
bench_path_open (bench_path_t *path, const char *name, bool is_broker, const char *const args [])
{
    return s_open (path, name, is_broker, args, false);
}

int
bench_path_open_batches (bench_path_t *path, const char *name, const char *const args [])
{
    return s_open (path, name, true, args, true);
}

static int
s_open (bench_path_t *path, const char *name, bool is_broker, const char *const args [],
        bool batches)
{
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        memset (path, 0, sizeof (*path));
        path->name = name;
        path->is_broker = is_broker;
        path->ingest = tu_free_endpoint ();
        path->publish = tu_free_endpoint ();
        path->log = tu_temp_path (".log");
        zmq_msg_init (&path->topic);
        zmq_msg_init (&path->body);
        char *bin = tu_bin (is_broker? "zwatch-broker": "bench_proxy");
        const char *argv [ARGS_MAX] = { bin };
        size_t argc = 1;
        if (is_broker) {
            //  Its own snapshot port: the default (5572) may be another broker's
            path->snapshot = tu_free_endpoint ();
            const char *base [] = { "--ingest", path->ingest, "--publish", path->publish,
                                    "--snapshot", path->snapshot, "--id", "bench" };
            for (size_t index = 0; index < sizeof (base) / sizeof (base [0]); index++)
                argv [argc++] = base [index];
            if (batches) {
                path->batches = tu_free_endpoint ();
                argv [argc++] = "--publish-batches";
                argv [argc++] = path->batches;
            }
            for (size_t index = 0; args && args [index] && argc < ARGS_MAX - 1; index++)
                argv [argc++] = args [index];
        }
        else {
            argv [argc++] = path->ingest;
            argv [argc++] = path->publish;
        }
        argv [argc] = NULL;
        path->pid = tu_spawn (argv, NULL, path->log);
        free (bin);

        //  No receive limit: the subscriber's I/O thread takes all the
        //  forwarder sends, so its XPUB never drops and every forwarder
        //  delivers every event (all are measured on the same work)
        path->sub = zmq_socket (s_sub_ctx, ZMQ_SUB);
        int linger = 0, unlimited = 0;
        zmq_setsockopt (path->sub, ZMQ_LINGER, &linger, sizeof (linger));
        zmq_setsockopt (path->sub, ZMQ_RCVHWM, &unlimited, sizeof (unlimited));
        zmq_setsockopt (path->sub, ZMQ_SUBSCRIBE, "", 0);
        zmq_connect (path->sub, path->batches? path->batches: path->publish);
        if (s_path_ready (path) == 0)
            return 0;
        tu_kill (path->pid);
        s_path_free (path);
    }
    fprintf (stderr, "bench: %s did not start or forward within %d ms (%d attempts)\n",
             name, READY_TIMEOUT_MS, START_ATTEMPTS);
    return -1;
}

int
bench_path_close (bench_path_t *path)
{
    int rc = 0;
    if (path->is_broker) {
        kill (path->pid, SIGTERM);
        int code = tu_wait (path->pid, 5000);
        if (code != 0) {
            fprintf (stderr, "bench: %s exit code %d after SIGTERM\n", path->name, code);
            tu_kill (path->pid);
            rc = -1;
        }
    }
    else
        tu_kill (path->pid);
    s_path_free (path);
    return rc;
}

//  A sender thread: its own DEALER and identity, count events, as fast as
//  the window allows (blocking sends), or paced at rate events/s
static void *
s_sender (void *args)
{
    bench_sender_t *self = (bench_sender_t *) args;
    void *dealer = zmq_socket (s_send_ctx, ZMQ_DEALER);
    int linger = SENDER_LINGER_MS;
    zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_connect (dealer, self->endpoint);
    char svc [32];
    snprintf (svc, sizeof (svc), "sender-%d", self->index);
    bench_feed_t *feed = bench_feed_new (svc, (uint64_t) (100 + self->index));
    int64_t interval = self->rate? 1000000000 / self->rate: 0;
    int64_t next = bench_mono_ns ();
    size_t window = self->flow && self->flow->window? self->flow->window: BENCH_FLOW_WINDOW;
    int batch = self->flow && self->flow->batch > 1? self->flow->batch: 1;
    for (size_t count = 0; count < self->count; ) {
        size_t frame = self->count - count < (size_t) batch? self->count - count: (size_t) batch;
        if (self->flow) {
            bench_flow_t *flow = self->flow;
            while (atomic_load (&flow->sent) - atomic_load (&flow->received) + frame > window
               &&  !atomic_load (&flow->abort))
                nanosleep (&(struct timespec) { 0, FLOW_NAP_NS }, NULL);
            if (atomic_load (&flow->abort))
                break;          //  the subscriber stopped waiting: a full window never empties
            atomic_fetch_add (&flow->sent, frame);
        }
        if (interval) {
            //  Absolute deadlines: a late wake-up is made up, not accumulated
            next += interval;
            struct timespec at = { (time_t) (next / 1000000000), (long) (next % 1000000000) };
            clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        }
        if ((frame == 1? bench_feed_send_event (feed, dealer, 0)
                       : bench_feed_send_events (feed, dealer, (int) frame, 0)) < 0)
            break;
        count += frame;
    }
    bench_feed_destroy (&feed);
    zmq_close (dealer);         //  the context delivers what is queued, within the linger
    return NULL;
}

void
bench_sender_start (pthread_t *thread, bench_sender_t *sender, int index, const char *endpoint,
                    size_t count, int rate, bench_flow_t *flow)
{
    *sender = (bench_sender_t) { endpoint, index, count, rate, flow };
    if (pthread_create (thread, NULL, s_sender, sender) != 0) {
        fprintf (stderr, "bench: cannot start a sender thread\n");
        exit (1);
    }
}

void
bench_senders_start (pthread_t *threads, bench_sender_t *senders, int count, const char *endpoint,
                     size_t each, int rate, bench_flow_t *flow)
{
    for (int index = 0; index < count; index++)
        bench_sender_start (&threads [index], &senders [index], index, endpoint, each, rate, flow);
}

void
bench_senders_join (pthread_t *threads, int count)
{
    for (int index = 0; index < count; index++)
        pthread_join (threads [index], NULL);
}

size_t
bench_path_collect_latency (bench_path_t *path, double *samples, size_t max, uint64_t counted_from,
                            int64_t until_mono)
{
    size_t count = 0;
    while (count < max && bench_mono_ns () < until_mono && bench_path_receive (path)) {
        uint64_t now = bench_wall_ns ();
        zwatch_msg_t msg;
        if (bench_path_is_batch (path)) {
            const uint8_t *data = (const uint8_t *) zmq_msg_data (&path->body);
            size_t size = zmq_msg_size (&path->body), offset = 0;
            bool rest_lost;
            while (count < max && offset < size)
                if (zwatch_msg_decode_next (&msg, data, size, &offset, &rest_lost, NULL) == ZWATCH_OK
                &&  msg.kind == ZWATCH_KIND_EVENT && msg.ts >= counted_from)
                    samples [count++] = (double) (now - msg.ts) / 1000.0;
            continue;
        }
        if (!bench_path_is_event (path)
        ||  zwatch_msg_decode (&msg, zmq_msg_data (&path->body), zmq_msg_size (&path->body),
                               NULL) != ZWATCH_OK
        ||  msg.kind != ZWATCH_KIND_EVENT || msg.ts < counted_from)
            continue;
        samples [count++] = (double) (now - msg.ts) / 1000.0;
    }
    return count;
}

void
bench_path_print_latency (const char *what, double *samples, size_t count, double seconds,
                          const char *p99_goal)
{
    bench_sort (samples, count);
    double p99 = bench_percentile (samples, count, 0.99);
    printf ("  %s: %zu samples, %.0f events/s\n", what, count, (double) count / seconds);
    bench_info ("p50", bench_percentile (samples, count, 0.50), "us", NULL);
    if (p99_goal)
        bench_figure ("p99", p99, "us", p99_goal, p99 < 1000);
    else
        bench_info ("p99", p99, "us", NULL);
    bench_info ("p99.9", bench_percentile (samples, count, 0.999), "us", NULL);
    bench_info ("max", count? samples [count - 1]: 0, "us", NULL);
}
