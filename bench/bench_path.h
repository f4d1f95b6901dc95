/*  bench_path: a forwarder process on random loopback ports, the sender
    threads that feed it and the SUB that reads it, for the benches that
    measure zwatch-broker (bench_broker, bench_snapshot).

    A forwarder is build/bin/zwatch-broker (with any extra flags, e.g.
    --no-fleet) or bench_proxy (raw zmq_proxy, the baseline). Senders are
    DEALER threads, each a stand-in agent (bench_feed) of its own, sending
    as fast as a credit window allows or paced at a rate.
*/
#ifndef ZWATCH_BENCH_PATH_H_INCLUDED
#define ZWATCH_BENCH_PATH_H_INCLUDED

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <zmq.h>

#define BENCH_FLOW_WINDOW   20000       //  events in flight at most (XPUB SNDHWM: 100000)
#define BENCH_SENDERS_MAX   16

//  A forwarder process and the subscriber reading it
typedef struct {
    const char *name;
    bool is_broker;
    pid_t pid;
    char *ingest;
    char *publish;
    char *snapshot;             //  the broker's snapshot endpoint; NULL for the proxy
    char *batches;              //  its batch feed, which the subscriber reads; or NULL
    char *log;                  //  its stdout; stderr goes to log.err
    void *sub;
    zmq_msg_t topic;
    zmq_msg_t body;
} bench_path_t;

//  The credit window of a throughput run
typedef struct {
    atomic_size_t sent;         //  by all senders
    atomic_size_t received;     //  by the subscriber
    atomic_bool abort;          //  set by the subscriber when it gave up: senders stop
    size_t window;              //  events in flight at most; 0: BENCH_FLOW_WINDOW
    int batch;                  //  events per frame (a batch, PROTOCOL.md 5); 0: 1
} bench_flow_t;

typedef struct {
    const char *endpoint;
    int index;
    size_t count;               //  events to send
    int rate;                   //  events/s, 0 for as fast as allowed
    bench_flow_t *flow;         //  NULL for no window
} bench_sender_t;

//  The contexts of senders and subscribers (one I/O thread each); once
//  per process, before anything else here
void bench_path_init (void);
void bench_path_term (void);

//  The senders' context, for other sockets of the bench
void *bench_path_send_ctx (void);

//  Start a forwarder on fresh ports and a subscriber (to "") on it, ready
//  to measure: an event sent has come through. is_broker false: the
//  proxy; true: zwatch-broker with args (NULL-terminated, may be NULL)
//  added. name is for messages. Returns 0, or -1 after a line on stderr.
int bench_path_open (bench_path_t *path, const char *name, bool is_broker,
                     const char *const args []);

//  The same, the subscriber on the broker's batch feed instead
//  (--publish-batches on a fresh port, PROTOCOL.md 6): its events come
//  several to a message (bench_path_is_batch)
int bench_path_open_batches (bench_path_t *path, const char *name, const char *const args []);

//  Stop the forwarder (the broker must exit 0 on SIGTERM); 0 if all went well
int bench_path_close (bench_path_t *path);

//  One whole message from the SUB into topic and body; false on timeout
//  (1 s of silence)
bool bench_path_receive (bench_path_t *path);

//  True if the current topic starts with prefix
bool bench_path_topic_starts (bench_path_t *path, const char *prefix);

//  True if the current message is an event, not the broker's own agent/,
//  link/ or stats/ messages
bool bench_path_is_event (bench_path_t *path);

//  True if the last message is a batch of the batch feed
bool bench_path_is_batch (bench_path_t *path);

//  One sender thread (identity sender-<index>) to endpoint, sending count events
void bench_sender_start (pthread_t *thread, bench_sender_t *sender, int index,
                         const char *endpoint, size_t count, int rate, bench_flow_t *flow);

//  count sender threads to endpoint, each sending each events
void bench_senders_start (pthread_t *threads, bench_sender_t *senders, int count,
                          const char *endpoint, size_t each, int rate, bench_flow_t *flow);
void bench_senders_join (pthread_t *threads, int count);

//  Receive until max events came, until_mono (bench_mono_ns) or a second of
//  silence; each event's latency (now - its ts) in usecs goes to samples
//  unless its ts is before counted_from (the warm-up). Returns how many.
size_t bench_path_collect_latency (bench_path_t *path, double *samples, size_t max,
                                   uint64_t counted_from, int64_t until_mono);

//  The percentiles of count samples (sorted here) taken over seconds;
//  p99_goal (may be NULL) is printed as p99's goal, met below 1000 us
void bench_path_print_latency (const char *what, double *samples, size_t count, double seconds,
                               const char *p99_goal);

#endif
