/*  broker_proc: a real zwatch-broker process on random loopback ports.  */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "broker_proc.h"

#define ARGS_MAX    64
#define START_MS    10000       //  bound on the wait for the broker to bind

struct _broker_proc_t {
    pid_t pid;
    bool running;
    char *ingest;
    char *publish;
    char *out_path;             //  stdout; stderr goes to out_path.err
    char *err_path;
};

//  argv for tu_spawn: the binary, then the lists, NULL-terminated
static void
s_argv (const char **argv, const char *bin, const char *const first [], const char *const args [])
{
    size_t count = 0;
    argv [count++] = bin;
    for (size_t index = 0; first && first [index]; index++)
        argv [count++] = first [index];
    for (size_t index = 0; args && args [index]; index++) {
        CHECK (count < ARGS_MAX - 1);
        argv [count++] = args [index];
    }
    argv [count] = NULL;
}

broker_proc_t *
broker_proc_new (const char *const args [], bool with_endpoints)
{
    broker_proc_t *self = (broker_proc_t *) calloc (1, sizeof (broker_proc_t));
    CHECK (self);
    if (with_endpoints) {
        self->ingest = tu_free_endpoint ();
        self->publish = tu_free_endpoint ();
    }
    const char *endpoints [] = { "--ingest", self->ingest, "--publish", self->publish,
                                 "--id", "test-broker", NULL };
    char *bin = tu_bin ("zwatch-broker");
    const char *argv [ARGS_MAX];
    s_argv (argv, bin, with_endpoints? endpoints: NULL, args);
    self->out_path = tu_temp_path (".broker");
    CHECK (asprintf (&self->err_path, "%s.err", self->out_path) > 0);
    self->pid = tu_spawn (argv, NULL, self->out_path);
    self->running = true;
    free (bin);

    //  It logs its id and settings once every endpoint is bound
    long long deadline = tu_now_ms () + START_MS;
    while (!tu_wait_for_text (self->out_path, "zwatch-broker: id ", 1, 20)) {
        int code = tu_wait (self->pid, 0);
        if (code >= 0 || tu_now_ms () > deadline) {
            char *errors = tu_read_file (self->err_path);
            fprintf (stderr, "zwatch-broker did not start (exit %d): %s\n", code,
                     errors? errors: "");
            exit (1);
        }
    }
    return self;
}

void
broker_proc_destroy (broker_proc_t **self_p)
{
    if (self_p && *self_p) {
        broker_proc_t *self = *self_p;
        if (self->running)
            tu_kill (self->pid);
        unlink (self->out_path);
        unlink (self->err_path);
        free (self->out_path);
        free (self->err_path);
        free (self->ingest);
        free (self->publish);
        free (self);
        *self_p = NULL;
    }
}

int
broker_proc_stop (broker_proc_t *self, int signum, int timeout_ms)
{
    CHECK (self->running);
    CHECK (kill (self->pid, signum) == 0);
    int code = tu_wait (self->pid, timeout_ms);
    self->running = code < 0;       //  still there: destroy kills it
    return code;
}

const char *
broker_proc_ingest (broker_proc_t *self)
{
    return self->ingest;
}

const char *
broker_proc_publish (broker_proc_t *self)
{
    return self->publish;
}

pid_t
broker_proc_pid (broker_proc_t *self)
{
    return self->pid;
}

char *
broker_proc_log (broker_proc_t *self)
{
    return tu_read_file (self->out_path);
}

bool
broker_proc_wait_log (broker_proc_t *self, const char *text, int timeout_ms)
{
    return tu_wait_for_text (self->out_path, text, 1, timeout_ms);
}

char *
broker_proc_errors (broker_proc_t *self)
{
    return tu_read_file (self->err_path);
}

int
broker_proc_run (const char *const args [], int timeout_ms, char **errors)
{
    char *bin = tu_bin ("zwatch-broker");
    const char *argv [ARGS_MAX];
    s_argv (argv, bin, NULL, args);
    char *out_path = tu_temp_path (".broker");
    char *err_path = NULL;
    CHECK (asprintf (&err_path, "%s.err", out_path) > 0);
    pid_t pid = tu_spawn (argv, NULL, out_path);
    int code = tu_wait (pid, timeout_ms);
    if (code < 0)
        tu_kill (pid);
    *errors = tu_read_file (err_path);
    CHECK (*errors);
    unlink (out_path);
    unlink (err_path);
    free (out_path);
    free (err_path);
    free (bin);
    return code;
}
