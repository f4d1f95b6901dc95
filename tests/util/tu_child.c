/*  tu_child: a process a test starts and owns (see header).  */

#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "testutil.h"
#include "tu_child.h"

struct _tu_child_t {
    pid_t pid;
    bool running;
    char *out_path;             //  stdout; stderr goes to out_path.err
    char *err_path;
};

tu_child_t *
tu_child_new (const char *const argv [], const char *const env [], const char *ready,
              int timeout_ms, const char *what)
{
    tu_child_t *self = (tu_child_t *) calloc (1, sizeof (tu_child_t));
    CHECK (self);
    self->out_path = tu_temp_path (".out");
    CHECK (asprintf (&self->err_path, "%s.err", self->out_path) > 0);
    self->pid = tu_spawn (argv, env, self->out_path);
    self->running = true;
    long long deadline = tu_now_ms () + timeout_ms;
    while (ready && !tu_wait_for_text (self->out_path, ready, 1, 10)
                 && !tu_wait_for_text (self->err_path, ready, 1, 10)) {
        int code = tu_wait (self->pid, 0);
        if (code >= 0 || tu_now_ms () > deadline) {
            char *errors = tu_read_file (self->err_path);
            fprintf (stderr, "%s did not start (exit %d): %s\n", what, code, errors? errors: "");
            exit (1);
        }
    }
    return self;
}

void
tu_child_destroy (tu_child_t **self_p)
{
    if (self_p && *self_p) {
        tu_child_t *self = *self_p;
        if (self->running)
            tu_kill (self->pid);
        unlink (self->out_path);
        unlink (self->err_path);
        free (self->out_path);
        free (self->err_path);
        free (self);
        *self_p = NULL;
    }
}

int
tu_child_wait (tu_child_t *self, int timeout_ms)
{
    CHECK (self->running);
    int code = tu_wait (self->pid, timeout_ms);
    self->running = code < 0;
    return code;
}

int
tu_child_stop (tu_child_t *self, int signum, int timeout_ms)
{
    CHECK (self->running);
    CHECK (kill (self->pid, signum) == 0);
    return tu_child_wait (self, timeout_ms);
}

void
tu_child_signal (tu_child_t *self, int signum)
{
    CHECK (self->running);
    if (signum == SIGKILL) {
        tu_kill (self->pid);
        self->running = false;
    }
    else
        CHECK (kill (self->pid, signum) == 0);
}

pid_t
tu_child_pid (tu_child_t *self)
{
    return self->pid;
}

const char *
tu_child_out_path (tu_child_t *self)
{
    return self->out_path;
}

const char *
tu_child_err_path (tu_child_t *self)
{
    return self->err_path;
}

char *
tu_child_output (tu_child_t *self)
{
    return tu_read_file (self->out_path);
}

char *
tu_child_errors (tu_child_t *self)
{
    return tu_read_file (self->err_path);
}
