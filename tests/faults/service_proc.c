/*  service_proc: a fault_service process started by a test.  */

#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "testutil.h"
#include "tu_child.h"
#include "service_proc.h"

#define ARGS_MAX    16
#define READY_MS    10000       //  bound on start-up
#define STOP_MS     10000       //  bound on a clean exit
#define WRAPPED     3           //  both times this under $ZWATCH_TEST_WRAPPER (valgrind)

//  A bound, longer for a service under valgrind (one took over 10 s to
//  start in valgrind_soak while the suite ran at -j2 on a busy machine)
static int
s_bound (int msecs)
{
    const char *wrapper = getenv ("ZWATCH_TEST_WRAPPER");
    return wrapper && *wrapper? WRAPPED * msecs: msecs;
}

struct _service_proc_t {
    tu_child_t *child;
};

service_proc_t *
service_proc_new (const char *ingest, const char *host, const char *svc,
                  const char *const args [])
{
    return service_proc_new_env (ingest, host, svc, args, NULL);
}

service_proc_t *
service_proc_new_env (const char *ingest, const char *host, const char *svc,
                      const char *const args [], const char *extra_env)
{
    service_proc_t *self = (service_proc_t *) calloc (1, sizeof (service_proc_t));
    CHECK (self);
    char *broker_env, *host_env, *svc_env;
    CHECK (asprintf (&broker_env, "ZWATCH_BROKER=%s", ingest) > 0);
    CHECK (asprintf (&host_env, "ZWATCH_HOST_ID=%s", host) > 0);
    CHECK (asprintf (&svc_env, "ZWATCH_SERVICE=%s", svc) > 0);
    const char *env [] = { broker_env, host_env, svc_env, extra_env, NULL };
    const char *argv [ARGS_MAX];
    size_t count = 0;
    char *bin = tu_bin ("fault_service");
    argv [count++] = bin;
    for (size_t index = 0; args && args [index]; index++) {
        CHECK (count < ARGS_MAX - 1);
        argv [count++] = args [index];
    }
    argv [count] = NULL;
    self->child = tu_child_new (argv, env, "ready pid=", s_bound (READY_MS),
                                "fault_service");
    free (bin);
    free (broker_env);
    free (host_env);
    free (svc_env);
    return self;
}

void
service_proc_destroy (service_proc_t **self_p)
{
    if (self_p && *self_p) {
        service_proc_t *self = *self_p;
        tu_child_destroy (&self->child);
        free (self);
        *self_p = NULL;
    }
}

pid_t
service_proc_pid (service_proc_t *self)
{
    return tu_child_pid (self->child);
}

void
service_proc_signal (service_proc_t *self, int signum)
{
    tu_child_signal (self->child, signum);
}

//  The value after "name=" in line, or the test fails
static long long
s_field (const char *line, const char *name)
{
    char key [64];
    snprintf (key, sizeof (key), " %s=", name);
    const char *at = strstr (line, key);
    if (!at) {
        fprintf (stderr, "fault_service: no %s in '%s'\n", name, line);
        exit (1);
    }
    return strtoll (at + strlen (key), NULL, 10);
}

//  The line starting with prefix in the service's output, copied, or NULL
static char *
s_line (service_proc_t *self, const char *prefix)
{
    char *text = tu_child_output (self->child);
    char *line = NULL;
    for (char *at = text; at && *at; ) {
        char *end = strchr (at, '\n');
        if (!end)
            break;                      //  not complete yet
        if (strncmp (at, prefix, strlen (prefix)) == 0) {
            line = strndup (at, (size_t) (end - at));
            break;
        }
        at = end + 1;
    }
    free (text);
    return line;
}

bool
service_proc_burst (service_proc_t *self, service_report_t *report, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    char *line;
    while (!(line = s_line (self, "burst "))) {
        if (tu_now_ms () > deadline)
            return false;
        usleep (10000);
    }
    report->tries = (uint64_t) s_field (line, "tries");
    report->max_iter_us = s_field (line, "max_iter_us");
    report->rss_warm_kb = (long) s_field (line, "rss_warm_kb");
    report->rss_end_kb = (long) s_field (line, "rss_end_kb");
    report->sent = (uint64_t) s_field (line, "sent");
    report->dropped = (uint64_t) s_field (line, "dropped");
    free (line);
    return true;
}

void
service_proc_stop (service_proc_t *self, service_report_t *report)
{
    int code = tu_child_stop (self->child, SIGTERM, s_bound (STOP_MS));
    if (code < 0)
        tu_child_signal (self->child, SIGKILL);
    char *line = s_line (self, "done ");
    if (code != 0 || !line) {
        char *errors = tu_child_errors (self->child);
        fprintf (stderr, "fault_service exit %d, %s: %s\n", code, line? line: "no done line",
                 errors? errors: "");
        exit (1);
    }
    report->tries = (uint64_t) s_field (line, "tries");
    report->read = (uint64_t) s_field (line, "read");
    report->sent = (uint64_t) s_field (line, "sent");
    report->dropped = (uint64_t) s_field (line, "dropped");
    report->folded = (uint64_t) s_field (line, "folded");
    report->unfolded = (uint64_t) s_field (line, "unfolded");
    free (line);
}

bool
service_proc_wait_line (service_proc_t *self, const char *prefix, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    char *line;
    while (!(line = s_line (self, prefix))) {
        if (tu_now_ms () > deadline)
            return false;
        usleep (2000);
    }
    free (line);
    return true;
}

void
service_proc_broker (service_proc_t *self, size_t index, service_broker_report_t *report)
{
    char prefix [64];
    snprintf (prefix, sizeof (prefix), "broker index=%zu ", index);
    char *line = s_line (self, prefix);
    if (!line) {
        fprintf (stderr, "fault_service printed no line for broker %zu\n", index);
        exit (1);
    }
    report->connected = s_field (line, "connected") == 1;
    report->sent = (uint64_t) s_field (line, "sent");
    report->dropped = (uint64_t) s_field (line, "dropped");
    report->refused = (uint64_t) s_field (line, "refused");
    free (line);
}
