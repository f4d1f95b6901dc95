/*  zwatch_fdlimit: the broker's file descriptors against their limit.

    Every agent or subscriber connection costs the broker a descriptor. At
    the limit libzmq (4.3) cannot accept: its I/O thread retries accept ()
    in a busy loop (tcp_listener.cpp: "TODO: Handle specific errors like
    ENFILE/EMFILE") while the connected peers keep being served, and none
    of it reaches our code. Unbinding would stop the loop, but it also
    closes every connection accepted on that endpoint. So we make the limit
    as high as we may at start, and watch for exhaustion ourselves: a dup ()
    that fails with EMFILE means the next accept fails too. Each episode is
    logged when it starts, every REMIND_MS while it lasts, and when it ends.
*/

#include <fcntl.h>
#include <sys/resource.h>
#include "zwatch_fdlimit.h"

#define FD_RESERVE  64          //  descriptors the broker needs besides connections
#define REMIND_MS   10000       //  while out of descriptors, say so this often

struct _zwatch_fdlimit_t {
    int probe;                  //  duplicated by each check, -1 if none
    unsigned long long limit;   //  the soft limit in force
    bool exhausted;
    int64_t since;              //  when the descriptors ran out
    int64_t reminded;           //  when we last said so
};

zwatch_fdlimit_t *
zwatch_fdlimit_new (size_t max_agents)
{
    zwatch_fdlimit_t *self = (zwatch_fdlimit_t *) zmalloc (sizeof (zwatch_fdlimit_t));
    if (!self)
        return NULL;
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0) {
        rlim_t before = limit.rlim_cur;
        if (limit.rlim_cur < limit.rlim_max) {
            limit.rlim_cur = limit.rlim_max;
            if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
                limit.rlim_cur = before;        //  e.g. an infinite hard limit
        }
        self->limit = (unsigned long long) limit.rlim_cur;
        if (limit.rlim_cur != before)
            zsys_info ("zwatch-broker: file descriptor limit %llu (raised from %llu)",
                       self->limit, (unsigned long long) before);
        else
            zsys_info ("zwatch-broker: file descriptor limit %llu", self->limit);
        if (self->limit < max_agents + FD_RESERVE)
            zsys_warning ("zwatch-broker: the file descriptor limit %llu is below --max-agents "
                          "%zu + %d: agents beyond about %llu will wait to connect (raise it: "
                          "ulimit -n, systemd LimitNOFILE=)", self->limit, max_agents,
                          FD_RESERVE, self->limit > FD_RESERVE? self->limit - FD_RESERVE: 0);
    }
    self->probe = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    return self;
}

void
zwatch_fdlimit_destroy (zwatch_fdlimit_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_fdlimit_t *self = *self_p;
        if (self->probe >= 0)
            close (self->probe);
        free (self);
        *self_p = NULL;
    }
}

void
zwatch_fdlimit_check (zwatch_fdlimit_t *self, int64_t now)
{
    if (self->probe < 0)
        return;
    int fd = fcntl (self->probe, F_DUPFD_CLOEXEC, 0);
    int err = fd == -1? errno: 0;
    bool exhausted = err == EMFILE || err == ENFILE;
    if (fd >= 0)
        close (fd);
    //  The limit may have been changed from outside (prlimit)
    struct rlimit limit;
    if (exhausted && getrlimit (RLIMIT_NOFILE, &limit) == 0)
        self->limit = (unsigned long long) limit.rlim_cur;
    if (exhausted && !self->exhausted) {
        zsys_warning ("zwatch-broker: out of file descriptors (%s, limit %llu): new agents and "
                      "subscribers wait to connect, connected ones are still served; libzmq "
                      "keeps retrying meanwhile (a busy I/O thread). Raise the limit: ulimit -n, "
                      "systemd LimitNOFILE=", err == EMFILE? "EMFILE": "ENFILE", self->limit);
        self->since = self->reminded = now;
    }
    else
    if (exhausted && now - self->reminded >= REMIND_MS) {
        zsys_warning ("zwatch-broker: still out of file descriptors after %.0f s (limit %llu)",
                      (now - self->since) / 1000.0, self->limit);
        self->reminded = now;
    }
    else
    if (!exhausted && self->exhausted)
        zsys_info ("zwatch-broker: file descriptors free again after %.1f s",
                   (now - self->since) / 1000.0);
    self->exhausted = exhausted;
}
