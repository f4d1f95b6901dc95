/*  broker_proc: a real zwatch-broker process on random loopback ports.  */
#ifndef BROKER_PROC_H_INCLUDED
#define BROKER_PROC_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>

typedef struct _broker_proc_t broker_proc_t;

//  Start build/bin/zwatch-broker with args (NULL-terminated, may be NULL).
//  Unless with_endpoints is false, --ingest and --publish on free ports
//  and --id test-broker come first; --snapshot on a free port comes last
//  unless args name one. Waits until the broker logged its
//  settings (it has bound everything); fails the test if it exits first.
broker_proc_t *
    broker_proc_new (const char *const args [], bool with_endpoints);

//  Stop (SIGKILL) if still running, remove its log files; idempotent
void
    broker_proc_destroy (broker_proc_t **self_p);

//  Send signum and wait up to timeout_ms. Returns the exit code (see tu_wait)
int
    broker_proc_stop (broker_proc_t *self, int signum, int timeout_ms);

//  Endpoints to connect to ("tcp://127.0.0.1:port"), NULL without them
const char *
    broker_proc_ingest (broker_proc_t *self);
const char *
    broker_proc_publish (broker_proc_t *self);

//  Its snapshot endpoint: a free port added as --snapshot unless args
//  had one (then NULL)
const char *
    broker_proc_snapshot (broker_proc_t *self);

//  Its process id (tests/faults reads its CPU time and memory)
pid_t
    broker_proc_pid (broker_proc_t *self);

//  What it wrote so far on stderr (its log, errors among it) and on
//  stdout (nothing, ever); caller frees
char *
    broker_proc_log (broker_proc_t *self);
char *
    broker_proc_output (broker_proc_t *self);

//  Wait up to timeout_ms for text in its log (lines from other threads,
//  such as the ZAP handler's, may come a moment after what they report)
bool
    broker_proc_wait_log (broker_proc_t *self, const char *text, int timeout_ms);

//  Run zwatch-broker with args (nothing added) to completion, up to
//  timeout_ms. Returns the exit code; *errors gets its stderr (caller frees);
//  the test fails if it wrote anything on stdout
int
    broker_proc_run (const char *const args [], int timeout_ms, char **errors);

#endif
