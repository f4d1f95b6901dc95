/*  testutil: helpers for tests that run real processes on loopback.  */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "testutil.h"

extern char **environ;

//  Children tu_spawn started and nobody reaped yet. A failed CHECK exits:
//  they must not outlive the test (e.g. a broker holding its ports)
#define CHILDREN_MAX 256
static pid_t s_children [CHILDREN_MAX];

static void
s_children_kill (void)
{
    for (int index = 0; index < CHILDREN_MAX; index++)
        if (s_children [index] > 0) {
            kill (s_children [index], SIGKILL);
            waitpid (s_children [index], NULL, 0);
            s_children [index] = 0;
        }
}

//  Note pid as started, or (started false) as reaped
static void
s_child (pid_t pid, bool started)
{
    static bool registered = false;
    if (!registered) {
        atexit (s_children_kill);
        registered = true;
    }
    for (int index = 0; index < CHILDREN_MAX; index++)
        if (s_children [index] == (started? 0: pid)) {
            s_children [index] = started? pid: 0;
            return;
        }
    CHECK (!started);           //  more than CHILDREN_MAX children at once
}

int
tu_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof (addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    addr.sin_port = 0;
    CHECK (bind (fd, (struct sockaddr *) &addr, sizeof (addr)) == 0);
    socklen_t len = sizeof (addr);
    CHECK (getsockname (fd, (struct sockaddr *) &addr, &len) == 0);
    close (fd);
    return ntohs (addr.sin_port);
}

char *
tu_free_endpoint (void)
{
    char *endpoint = NULL;
    CHECK (asprintf (&endpoint, "tcp://127.0.0.1:%d", tu_free_port ()) > 0);
    return endpoint;
}

char *
tu_bin (const char *name)
{
    char *path = NULL;
    CHECK (asprintf (&path, "%s/%s", ZWATCH_BIN_DIR, name) > 0);
    return path;
}

pid_t
tu_spawn (const char *const argv [], const char *const env [], const char *out_path)
{
    //  Child environment: ours plus the extras (extras win by coming first)
    size_t ours = 0, extra = 0;
    while (environ [ours])
        ours++;
    while (env && env [extra])
        extra++;
    char **child_env = calloc (ours + extra + 1, sizeof (char *));
    CHECK (child_env);
    size_t count = 0;
    for (size_t index = 0; index < extra; index++)
        child_env [count++] = (char *) env [index];
    for (size_t index = 0; index < ours; index++)
        child_env [count++] = environ [index];

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    if (out_path) {
        posix_spawn_file_actions_addopen (&actions, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char *err_path = NULL;
        CHECK (asprintf (&err_path, "%s.err", out_path) > 0);
        posix_spawn_file_actions_addopen (&actions, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        free (err_path);    //  addopen copies the path (glibc >= 2.29)
    }
    pid_t pid;
    int rc = posix_spawn (&pid, argv [0], &actions, NULL, (char **) argv, child_env);
    posix_spawn_file_actions_destroy (&actions);
    free (child_env);
    if (rc != 0) {
        fprintf (stderr, "spawn %s: %s\n", argv [0], strerror (rc));
        exit (1);
    }
    s_child (pid, true);
    return pid;
}

int
tu_wait (pid_t pid, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    while (true) {
        int status;
        pid_t rc = waitpid (pid, &status, WNOHANG);
        if (rc == pid || rc < 0)
            s_child (pid, false);
        if (rc == pid) {
            if (WIFEXITED (status))
                return WEXITSTATUS (status);
            if (WIFSIGNALED (status))
                return 128 + WTERMSIG (status);
        }
        if (rc < 0)
            return -1;
        if (tu_now_ms () >= deadline)
            return -1;
        usleep (5000);
    }
}

void
tu_kill (pid_t pid)
{
    if (kill (pid, SIGKILL) == 0)
        waitpid (pid, NULL, 0);
    s_child (pid, false);
}

char *
tu_read_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    size_t size = 0, capacity = 4096;
    char *data = malloc (capacity);
    CHECK (data);
    size_t got;
    while ((got = fread (data + size, 1, capacity - size - 1, file)) > 0) {
        size += got;
        if (capacity - size < 2) {
            capacity *= 2;
            data = realloc (data, capacity);
            CHECK (data);
        }
    }
    fclose (file);
    data [size] = 0;
    return data;
}

char *
tu_temp_path (const char *suffix)
{
    static int sequence = 0;
    char *path = NULL;
    const char *dir = getenv ("TMPDIR")? getenv ("TMPDIR"): "/tmp";
    CHECK (asprintf (&path, "%s/zwatch-test-%d-%d%s", dir, (int) getpid (), ++sequence,
                     suffix? suffix: "") > 0);
    return path;
}

long long
tu_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int
tu_count (const char *haystack, const char *needle)
{
    int count = 0;
    size_t len = strlen (needle);
    for (const char *at = haystack; at && (at = strstr (at, needle)); at += len)
        count++;
    return count;
}

bool
tu_wait_for_text (const char *path, const char *needle, int times, int timeout_ms)
{
    long long deadline = tu_now_ms () + timeout_ms;
    while (true) {
        char *text = tu_read_file (path);
        int count = tu_count (text, needle);
        free (text);
        if (count >= times)
            return true;
        if (tu_now_ms () >= deadline)
            return false;
        usleep (20000);
    }
}
