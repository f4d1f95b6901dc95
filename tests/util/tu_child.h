/*  tu_child: a process a test starts and owns: its output in files, a
    bounded wait for it to be ready, signals, and cleanup. The broker,
    service and other process helpers of the tests build on it.  */
#ifndef TU_CHILD_H_INCLUDED
#define TU_CHILD_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>

typedef struct _tu_child_t tu_child_t;

//  Start argv (env as for tu_spawn); stdout goes to a temporary file,
//  stderr to that file's name + ".err". With ready not NULL, wait up to
//  timeout_ms for ready in its stdout or stderr: if it exits first or time runs
//  out, the test fails with "<what> did not start (exit N): <stderr>".
tu_child_t *
    tu_child_new (const char *const argv [], const char *const env [], const char *ready,
                  int timeout_ms, const char *what);

//  Kill it (SIGKILL) if still running, remove its files; idempotent
void
    tu_child_destroy (tu_child_t **self_p);

//  Wait up to timeout_ms for it to exit. Returns the exit code (see
//  tu_wait), or -1 if it is still running (destroy kills it then)
int
    tu_child_wait (tu_child_t *self, int timeout_ms);

//  Send signum and wait up to timeout_ms. Returns the exit code (see
//  tu_wait), or -1 if it is still running (destroy kills it then)
int
    tu_child_stop (tu_child_t *self, int signum, int timeout_ms);

//  Send signum without waiting; SIGKILL also reaps it
void
    tu_child_signal (tu_child_t *self, int signum);

pid_t
    tu_child_pid (tu_child_t *self);

//  Its stdout and stderr files, and what it wrote so far on stdout and
//  stderr (caller frees)
const char *
    tu_child_out_path (tu_child_t *self);
const char *
    tu_child_err_path (tu_child_t *self);
char *
    tu_child_output (tu_child_t *self);
char *
    tu_child_errors (tu_child_t *self);

#endif
