/*  testutil: helpers for tests that run real processes on loopback.  */

#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "testutil.h"

//  The stderr file tu_spawn writes beside out_path; caller frees
static char *
s_err_path (const char *out_path)
{
    char *err_path = NULL;
    CHECK (asprintf (&err_path, "%s.err", out_path) > 0);
    return err_path;
}

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

//  The kernel may hand out a port again as soon as it is closed: a process
//  that asks for several (a broker's ingest, publish and snapshot) would
//  get one twice, so the last ones given are remembered and not given again
#define RECENT_PORTS 256

static int
s_any_port (void)
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

int
tu_free_port (void)
{
    static int recent [RECENT_PORTS];
    static size_t given;
    static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock (&mutex);
    int port = 0;
    for (int attempt = 0; attempt < 1000 && !port; attempt++) {
        port = s_any_port ();
        size_t kept = given < RECENT_PORTS? given: RECENT_PORTS;
        for (size_t index = 0; index < kept; index++)
            if (recent [index] == port) {
                port = 0;
                break;
            }
    }
    CHECK (port);
    recent [given++ % RECENT_PORTS] = port;
    pthread_mutex_unlock (&mutex);
    return port;
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

//  argv behind the words of $ZWATCH_TEST_WRAPPER (say "valgrind -q") when
//  argv [0] is one of our programs, in out (max entries); else argv
static const char *const *
s_wrapped (const char *const argv [], const char *out [], size_t max, char *words, size_t size)
{
    const char *wrapper = getenv ("ZWATCH_TEST_WRAPPER");
    if (!wrapper || !*wrapper || strncmp (argv [0], ZWATCH_BIN_DIR "/", strlen (ZWATCH_BIN_DIR "/")))
        return argv;
    snprintf (words, size, "%s", wrapper);
    size_t count = 0;
    char *state;
    for (char *word = strtok_r (words, " ", &state); word; word = strtok_r (NULL, " ", &state)) {
        CHECK (count < max - 1);
        out [count++] = word;
    }
    for (size_t index = 0; argv [index]; index++) {
        CHECK (count < max - 1);
        out [count++] = argv [index];
    }
    out [count] = NULL;
    return out;
}

pid_t
tu_spawn (const char *const argv [], const char *const env [], const char *out_path)
{
    return tu_spawn_stdin (argv, env, out_path, -1);
}

pid_t
tu_spawn_stdin (const char *const argv [], const char *const env [], const char *out_path,
                int stdin_fd)
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
    if (stdin_fd >= 0)
        posix_spawn_file_actions_adddup2 (&actions, stdin_fd, 0);
    if (out_path) {
        posix_spawn_file_actions_addopen (&actions, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char *err_path = s_err_path (out_path);
        posix_spawn_file_actions_addopen (&actions, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        free (err_path);    //  addopen copies the path (glibc >= 2.29)
    }
    const char *wrapped [64];
    char words [512];
    argv = s_wrapped (argv, wrapped, 64, words, sizeof (words));
    pid_t pid;
    int rc = posix_spawnp (&pid, argv [0], &actions, NULL, (char **) argv, child_env);
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

long
tu_proc_rss_kb (pid_t pid)
{
    char path [64], line [256];
    snprintf (path, sizeof (path), "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    long rss = -1;
    while (fgets (line, sizeof (line), file))
        if (sscanf (line, "VmRSS: %ld", &rss) == 1)
            break;
    fclose (file);
    return rss;
}

int
tu_proc_fds (pid_t pid)
{
    char path [64];
    snprintf (path, sizeof (path), "/proc/%d/fd", (int) pid);
    DIR *dir = opendir (path);
    if (!dir)
        return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir)))
        if (entry->d_name [0] != '.')
            count++;
    closedir (dir);
    return count;
}

long long
tu_proc_cpu_ms (pid_t pid)
{
    char path [64];
    snprintf (path, sizeof (path), "/proc/%d/stat", (int) pid);
    char *text = tu_read_file (path);
    if (!text)
        return -1;
    //  Fields 14 and 15 (utime, stime) follow the command name, which
    //  may hold spaces: count from its closing parenthesis
    unsigned long long utime = 0, stime = 0;
    const char *after = strrchr (text, ')');
    int fields = after? sscanf (after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                                &utime, &stime): 0;
    free (text);
    if (fields != 2)
        return -1;
    return (long long) (utime + stime) * 1000 / sysconf (_SC_CLK_TCK);
}

int
tu_run_cases (int argc, char *argv [], const char *program, const tu_case_t *cases,
              size_t count)
{
    const char *only = argc > 1? argv [1]: NULL;
    bool found = false;
    for (size_t index = 0; index < count; index++)
        if (!only || strcmp (only, cases [index].name) == 0) {
            long long start = tu_now_ms ();
            cases [index].test ();
            printf ("%s %s: OK (%lld ms)\n", program, cases [index].name, tu_now_ms () - start);
            fflush (stdout);
            found = true;
        }
    if (!found) {
        fprintf (stderr, "%s: no case '%s'\n", program, only);
        return 2;
    }
    return 0;
}

char *
tu_read_errors (const char *out_path)
{
    char *err_path = s_err_path (out_path);
    char *errors = tu_read_file (err_path);
    free (err_path);
    return errors;
}

void
tu_remove_output (const char *out_path)
{
    char *err_path = s_err_path (out_path);
    unlink (out_path);
    unlink (err_path);
    free (err_path);
}
