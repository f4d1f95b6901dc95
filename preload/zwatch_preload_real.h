/*  zwatch_preload_real: libzmq's own entry points, behind the preload's.  */
#ifndef ZWATCH_PRELOAD_REAL_H_INCLUDED
#define ZWATCH_PRELOAD_REAL_H_INCLUDED

typedef struct {
    void *(*socket) (void *ctx, int type);
    int (*close) (void *socket);
    int (*socket_monitor) (void *socket, const char *endpoint, int events);
    int (*bind) (void *socket, const char *endpoint);
    int (*connect) (void *socket, const char *endpoint);
    int (*unbind) (void *socket, const char *endpoint);
    int (*ctx_term) (void *ctx);
    int (*ctx_shutdown) (void *ctx);
    int (*ctx_destroy) (void *ctx);
    int (*term) (void *ctx);
} zwatch_preload_real_t;

//  The next definitions after ours (dlsym RTLD_NEXT), resolved once; all
//  set. Aborts with one line on stderr if libzmq is not there at all.
const zwatch_preload_real_t *zwatch_preload_real (void);

#endif
