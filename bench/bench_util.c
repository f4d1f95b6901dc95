/*  bench_util: clocks, /proc readings, statistics, figure lines.  */

#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"

int64_t
bench_mono_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

uint64_t
bench_wall_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (uint64_t) now.tv_sec * 1000000000ULL + (uint64_t) now.tv_nsec;
}

//  schedstat's first field is the time spent on a CPU, in ns: far finer
//  than the clock ticks of /proc/<pid>/stat
int64_t
bench_thread_cpu_ns (pid_t pid, pid_t tid)
{
    char path [64];
    snprintf (path, sizeof (path), "/proc/%d/task/%d/schedstat", (int) pid, (int) tid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    long long ns = -1;
    if (fscanf (file, "%lld", &ns) != 1)
        ns = -1;
    fclose (file);
    return ns;
}

size_t
bench_threads (pid_t pid, pid_t *tids, size_t max)
{
    char path [64];
    snprintf (path, sizeof (path), "/proc/%d/task", (int) pid);
    DIR *dir = opendir (path);
    if (!dir)
        return 0;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir)) && count < max)
        if (entry->d_name [0] != '.')
            tids [count++] = (pid_t) atoi (entry->d_name);
    closedir (dir);
    return count;
}

void
bench_thread_name (pid_t pid, pid_t tid, char *name, size_t size)
{
    char path [64];
    snprintf (path, sizeof (path), "/proc/%d/task/%d/comm", (int) pid, (int) tid);
    name [0] = 0;
    FILE *file = fopen (path, "r");
    if (!file)
        return;
    if (fgets (name, (int) size, file))
        name [strcspn (name, "\n")] = 0;
    fclose (file);
}

int64_t
bench_process_cpu_ns (pid_t pid)
{
    pid_t tids [256];
    size_t count = bench_threads (pid, tids, 256);
    if (count == 0)
        return -1;
    int64_t total = 0;
    for (size_t index = 0; index < count; index++) {
        int64_t ns = bench_thread_cpu_ns (pid, tids [index]);
        if (ns > 0)
            total += ns;        //  a thread may end between readdir and read
    }
    return total;
}

long
bench_status_kb (pid_t pid, const char *field)
{
    char path [64];
    snprintf (path, sizeof (path), "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char line [256];
    size_t field_len = strlen (field);
    long kb = -1;
    while (fgets (line, sizeof (line), file))
        if (strncmp (line, field, field_len) == 0 && line [field_len] == ':'
        &&  sscanf (line + field_len + 1, " %ld kB", &kb) == 1)
            break;
    fclose (file);
    return kb;
}

long
bench_rss_kb (pid_t pid)
{
    return bench_status_kb (pid, "VmRSS");
}

static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

void
bench_sort (double *values, size_t count)
{
    qsort (values, count, sizeof (double), s_compare);
}

double
bench_median (double *values, size_t count)
{
    if (count == 0)
        return 0;
    bench_sort (values, count);
    if (count % 2)
        return values [count / 2];
    return (values [count / 2 - 1] + values [count / 2]) / 2;
}

//  Nearest rank: the smallest value with at least fraction of all at or below it
double
bench_percentile (const double *sorted, size_t count, double fraction)
{
    if (count == 0)
        return 0;
    size_t rank = (size_t) ceil (fraction * (double) count);
    return sorted [rank > 0? rank - 1: 0];
}

void
bench_figure (const char *name, double value, const char *unit, const char *goal, bool met)
{
    printf ("  %-44s %12.3f %-8s goal %-12s %s\n", name, value, unit, goal,
            met? "MET": "MISSED");
}

void
bench_info (const char *name, double value, const char *unit, const char *note)
{
    printf ("  %-44s %12.3f %-8s %s\n", name, value, unit, note? note: "");
}
