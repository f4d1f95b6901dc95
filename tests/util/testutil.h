/*  testutil: what the zwatch tests share: checks, free ports, real processes.  */
#ifndef ZWATCH_TESTUTIL_H_INCLUDED
#define ZWATCH_TESTUTIL_H_INCLUDED

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <sys/types.h>

//  Fail the test with file:line and the condition that did not hold
#define CHECK(cond) do { \
    if (!(cond)) { \
        fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        exit (1); \
    } \
} while (0)

#define CHECK_INT_EQ(actual, expected) do { \
    long long _a = (long long) (actual), _e = (long long) (expected); \
    if (_a != _e) { \
        fprintf (stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
                 __FILE__, __LINE__, #actual, #expected, _a, _e); \
        exit (1); \
    } \
} while (0)

#define CHECK_STR_EQ(actual, expected) do { \
    const char *_a = (actual), *_e = (expected); \
    if (!_a || strcmp (_a, _e) != 0) { \
        fprintf (stderr, "%s:%d: CHECK failed: %s == \"%s\" (got \"%s\")\n", \
                 __FILE__, __LINE__, #actual, _e, _a? _a: "(null)"); \
        exit (1); \
    } \
} while (0)

//  One named case of a test program; ctest runs each as its own test
typedef struct {
    const char *name;
    void (*test) (void);
} tu_case_t;

//  Run the case named argv [1] (all of them without one), printing
//  "<program> <case>: OK (<ms> ms)" after each. Returns the exit code:
//  0, or 2 (with a line on stderr) when no case has that name.
int tu_run_cases (int argc, char *argv [], const char *program, const tu_case_t *cases,
                  size_t count);

//  A TCP port on 127.0.0.1 that nobody listens on right now
int tu_free_port (void);

//  "tcp://127.0.0.1:<free port>" in a static-free, caller-owned string
char *tu_free_endpoint (void);

//  Path of a built program: <build>/bin/<name>; caller frees
char *tu_bin (const char *name);

//  Start argv [0] with argv; stdout (and stderr if merge) to out_path when
//  not NULL. env: extra "NAME=value" strings, NULL-terminated, or NULL.
//  A child tu_wait or tu_kill has not reaped when the test exits (say, on
//  a failed CHECK) is killed then. With $ZWATCH_TEST_WRAPPER set (say
//  "valgrind --error-exitcode=99"), programs of the build run under it.
pid_t tu_spawn (const char *const argv [], const char *const env [], const char *out_path);

//  tu_spawn with stdin_fd as the child's standard input
pid_t tu_spawn_stdin (const char *const argv [], const char *const env [], const char *out_path,
                      int stdin_fd);

//  What a process tu_spawn started with out_path wrote on stderr, or
//  NULL; caller frees
char *tu_read_errors (const char *out_path);

//  Remove out_path and its stderr file
void tu_remove_output (const char *out_path);

//  Wait for pid up to timeout_ms. Returns exit code, 128+signal if killed
//  by a signal, or -1 on timeout (the process is then left running).
int tu_wait (pid_t pid, int timeout_ms);

//  Kill (SIGKILL) and reap; safe on an exited pid
void tu_kill (pid_t pid);

//  Whole file as a NUL-terminated string, or NULL; caller frees
char *tu_read_file (const char *path);

//  A unique temporary file path for this test; caller frees
char *tu_temp_path (const char *suffix);

//  Monotonic milliseconds
long long tu_now_ms (void);

//  Count occurrences of needle in haystack
int tu_count (const char *haystack, const char *needle);

//  Poll until file at path contains needle at least times times, up to timeout_ms
bool tu_wait_for_text (const char *path, const char *needle, int times, int timeout_ms);

//  A process seen through /proc: resident memory (VmRSS) in KiB, open file
//  descriptors, CPU time used (user + system) in ms; -1 if it is gone
long tu_proc_rss_kb (pid_t pid);
int tu_proc_fds (pid_t pid);
long long tu_proc_cpu_ms (pid_t pid);

#endif
