/*  late_monitor: an LD_PRELOAD that makes every zmq_socket_monitor call
    wait 100 ms before it starts the monitor, as a thread descheduled there
    on a busy machine would. A program that connects a socket before it
    monitors it misses what the connection did meanwhile; security_late_monitor
    runs agent_service under it.  */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>

#define LATE_MS 100

int zmq_socket_monitor (void *socket, const char *endpoint, int events);

int
zmq_socket_monitor (void *socket, const char *endpoint, int events)
{
    int (*real) (void *, const char *, int);
    *(void **) &real = dlsym (RTLD_NEXT, "zmq_socket_monitor");
    if (!real)
        return -1;
    if (endpoint) {                 //  stopping a monitor is not held up
        struct timespec late = { 0, LATE_MS * 1000000L };
        while (nanosleep (&late, &late) != 0)
            ;
    }
    return real (socket, endpoint, events);
}
