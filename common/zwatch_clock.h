/*  zwatch_clock: the two clocks zwatch reads. Wall-clock nanoseconds for
    the protocol's ts fields (comparable across hosts); monotonic msecs for
    deadlines and intervals (immune to clock steps).  */
#ifndef ZWATCH_CLOCK_H_INCLUDED
#define ZWATCH_CLOCK_H_INCLUDED

#include <stdint.h>
#include <time.h>

static inline uint64_t
zwatch_clock_wall_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (uint64_t) now.tv_sec * 1000000000ULL + (uint64_t) now.tv_nsec;
}

static inline int64_t
zwatch_clock_mono_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

#endif
