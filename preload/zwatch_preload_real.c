/*  zwatch_preload_real: resolve libzmq's entry points with dlsym (RTLD_NEXT).  */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "zwatch_preload_real.h"

static zwatch_preload_real_t s_real;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

//  One symbol; without it the program could not run at all
static void *
s_resolve (const char *name)
{
    void *function = dlsym (RTLD_NEXT, name);
    if (!function) {
        fprintf (stderr, "zwatch: E: libzwatch-preload cannot find libzmq's %s: %s\n",
                 name, dlerror ());
        abort ();
    }
    return function;
}

static void
s_resolve_all (void)
{
    //  dlsym returns void *; POSIX guarantees it converts to a function pointer
    *(void **) &s_real.socket = s_resolve ("zmq_socket");
    *(void **) &s_real.close = s_resolve ("zmq_close");
    *(void **) &s_real.socket_monitor = s_resolve ("zmq_socket_monitor");
    *(void **) &s_real.bind = s_resolve ("zmq_bind");
    *(void **) &s_real.connect = s_resolve ("zmq_connect");
    *(void **) &s_real.unbind = s_resolve ("zmq_unbind");
    *(void **) &s_real.ctx_term = s_resolve ("zmq_ctx_term");
    *(void **) &s_real.ctx_shutdown = s_resolve ("zmq_ctx_shutdown");
    *(void **) &s_real.ctx_destroy = s_resolve ("zmq_ctx_destroy");
    *(void **) &s_real.term = s_resolve ("zmq_term");
}

const zwatch_preload_real_t *
zwatch_preload_real (void)
{
    pthread_once (&s_once, s_resolve_all);
    return &s_real;
}
