/*  service_proc: a fault_service process (a service with the agent linked
    in) started by a test, signalled, and read back.  */
#ifndef SERVICE_PROC_H_INCLUDED
#define SERVICE_PROC_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct _service_proc_t service_proc_t;

//  What the service prints: its agent's counters, its own loop
typedef struct {
    uint64_t tries;             //  bind attempts the service made
    uint64_t read;              //  agent counters at the end
    uint64_t sent;
    uint64_t dropped;
    uint64_t folded;            //  events held for storm summaries; not folded: table full
    uint64_t unfolded;
    long long max_iter_us;      //  burst: slowest turn of the service's loop
    long rss_warm_kb;           //  burst: VmRSS a quarter in, and at the end
    long rss_end_kb;
} service_report_t;

//  One broker's counters, as the service printed them after it stopped
typedef struct {
    bool connected;
    uint64_t sent;
    uint64_t dropped;
    uint64_t refused;
} service_broker_report_t;

//  Start fault_service with args (NULL-terminated, may be NULL) as agent
//  host/svc of the broker at ingest (or brokers: "ep1,ep2"); waits until
//  it is ready
service_proc_t *
    service_proc_new (const char *ingest, const char *host, const char *svc,
                      const char *const args []);

//  The same with one more "NAME=value" in its environment (NULL: none)
service_proc_t *
    service_proc_new_env (const char *ingest, const char *host, const char *svc,
                          const char *const args [], const char *extra_env);

//  Kill it (SIGKILL) if still running, remove its files; idempotent
void
    service_proc_destroy (service_proc_t **self_p);

pid_t
    service_proc_pid (service_proc_t *self);

//  Send a signal (SIGKILL also reaps it)
void
    service_proc_signal (service_proc_t *self, int signum);

//  Wait up to timeout_ms for the burst line and read it into *report
bool
    service_proc_burst (service_proc_t *self, service_report_t *report, int timeout_ms);

//  Wait up to timeout_ms for a line of the service's that starts with prefix
bool
    service_proc_wait_line (service_proc_t *self, const char *prefix, int timeout_ms);

//  SIGTERM, wait for a clean exit (the agent says bye), read the final
//  counters into *report; the test fails if the service does not exit 0
void
    service_proc_stop (service_proc_t *self, service_report_t *report);

//  After service_proc_stop: the index-th broker's counters (its order in
//  ZWATCH_BROKER); the test fails if the service printed none
void
    service_proc_broker (service_proc_t *self, size_t index, service_broker_report_t *report);

#endif
