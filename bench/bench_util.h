/*  bench_util: what the zwatch benchmarks share: clocks, CPU time and
    memory read from /proc, statistics, and the figure lines they print.  */
#ifndef ZWATCH_BENCH_UTIL_H_INCLUDED
#define ZWATCH_BENCH_UTIL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

//  Monotonic nanoseconds, for durations
int64_t bench_mono_ns (void);

//  Unix epoch nanoseconds (CLOCK_REALTIME), the clock of the protocol's ts
uint64_t bench_wall_ns (void);

//  CPU time one thread has used, in ns (/proc/<pid>/task/<tid>/schedstat),
//  or -1 if it cannot be read
int64_t bench_thread_cpu_ns (pid_t pid, pid_t tid);

//  CPU time of all threads of a process now alive, in ns, or -1
int64_t bench_process_cpu_ns (pid_t pid);

//  Resident memory of a process (VmRSS), in KiB, or -1
long bench_rss_kb (pid_t pid);

//  Any "<field>: N kB" line of /proc/<pid>/status (e.g. "RssAnon"), -1 if none
long bench_status_kb (pid_t pid, const char *field);

//  Thread ids of a process into tids (at most max); returns how many
size_t bench_threads (pid_t pid, pid_t *tids, size_t max);

//  Sort count values ascending
void bench_sort (double *values, size_t count);

//  Name of a thread (/proc/<pid>/task/<tid>/comm) into name; "" if unknown
void bench_thread_name (pid_t pid, pid_t tid, char *name, size_t size);

//  Median of count values (sorts them in place); 0 if count is 0
double bench_median (double *values, size_t count);

//  The value at fraction (0..1) of count values sorted ascending
double bench_percentile (const double *sorted, size_t count, double fraction);

//  One figure line: name, value with unit, the goal and whether it is met
void bench_figure (const char *name, double value, const char *unit, const char *goal,
                   bool met);

//  Same, for a figure that has no goal
void bench_info (const char *name, double value, const char *unit, const char *note);

#endif
