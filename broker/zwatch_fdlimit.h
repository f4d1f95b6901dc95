/*  zwatch_fdlimit: the broker's file descriptors against their limit.  */
#ifndef ZWATCH_FDLIMIT_H_INCLUDED
#define ZWATCH_FDLIMIT_H_INCLUDED

#include <czmq.h>

typedef struct _zwatch_fdlimit_t zwatch_fdlimit_t;

//  Raise the soft RLIMIT_NOFILE to the hard limit and log the limit, with
//  a warning if it cannot hold max_agents connections and our own needs
zwatch_fdlimit_t *
    zwatch_fdlimit_new (size_t max_agents);

//  Destroy; idempotent
void
    zwatch_fdlimit_destroy (zwatch_fdlimit_t **self_p);

//  Look again (now: zclock_mono () ms). Logs when the descriptors run
//  out, every 10 s while they stay out, and when some are free again.
void
    zwatch_fdlimit_check (zwatch_fdlimit_t *self, int64_t now);

#endif
