/*  broker_proc: a real zwatch-broker process on random loopback ports.  */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "tu_child.h"
#include "broker_proc.h"

#define ARGS_MAX    64
#define START_MS    10000       //  bound on the wait for the broker to bind

struct _broker_proc_t {
    tu_child_t *child;
    char *ingest;
    char *publish;
    char *snapshot;
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
    //  A snapshot port of its own unless the test names one: tests run in
    //  parallel, and the default port is one for all
    bool named = false, json = false;
    for (size_t index = 0; args && args [index]; index++) {
        if (strcmp (args [index], "--snapshot") == 0)
            named = true;
        if (strcmp (args [index], "json") == 0 && index && strcmp (args [index - 1], "--log-format") == 0)
            json = true;
    }
    if (!named)
        self->snapshot = tu_free_endpoint ();
    const char *endpoints [] = { "--ingest", self->ingest, "--publish", self->publish,
                                 "--id", "test-broker", NULL };
    const char *snapshot [] = { "--snapshot", self->snapshot, NULL };
    char *bin = tu_bin ("zwatch-broker");
    const char *argv [ARGS_MAX];
    s_argv (argv, bin, with_endpoints? endpoints: NULL, args);
    if (!named) {
        size_t count = 0;
        while (argv [count])
            count++;
        CHECK (count + 2 < ARGS_MAX);
        argv [count] = snapshot [0];
        argv [count + 1] = snapshot [1];
        argv [count + 2] = NULL;
    }
    //  It logs its id and settings (on stderr) once every endpoint is bound
    self->child = tu_child_new (argv, NULL, json? "\"msg\":\"id ": "zwatch-broker: id ",
                                START_MS, "zwatch-broker");
    free (bin);
    return self;
}

void
broker_proc_destroy (broker_proc_t **self_p)
{
    if (self_p && *self_p) {
        broker_proc_t *self = *self_p;
        tu_child_destroy (&self->child);
        free (self->ingest);
        free (self->publish);
        free (self->snapshot);
        free (self);
        *self_p = NULL;
    }
}

int
broker_proc_stop (broker_proc_t *self, int signum, int timeout_ms)
{
    return tu_child_stop (self->child, signum, timeout_ms);
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

const char *
broker_proc_snapshot (broker_proc_t *self)
{
    return self->snapshot;
}

pid_t
broker_proc_pid (broker_proc_t *self)
{
    return tu_child_pid (self->child);
}

char *
broker_proc_log (broker_proc_t *self)
{
    return tu_child_errors (self->child);
}

bool
broker_proc_wait_log (broker_proc_t *self, const char *text, int timeout_ms)
{
    return tu_wait_for_text (tu_child_err_path (self->child), text, 1, timeout_ms);
}

char *
broker_proc_output (broker_proc_t *self)
{
    return tu_child_output (self->child);
}

int
broker_proc_run (const char *const args [], int timeout_ms, char **errors)
{
    char *bin = tu_bin ("zwatch-broker");
    const char *argv [ARGS_MAX];
    s_argv (argv, bin, NULL, args);
    tu_child_t *child = tu_child_new (argv, NULL, NULL, 0, "zwatch-broker");
    int code = tu_child_wait (child, timeout_ms);
    *errors = tu_child_errors (child);
    CHECK (*errors);
    char *output = tu_child_output (child);
    CHECK_STR_EQ (output, "");
    free (output);
    tu_child_destroy (&child);
    free (bin);
    return code;
}
