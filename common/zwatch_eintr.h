/*  zwatch_eintr: libzmq calls retried when a signal interrupted them.

    The agent's public calls run on the service's threads, which may take
    signals (a handler without SA_RESTART, a profiler's timer); the
    broker's loop takes SIGHUP and SIGTERM on its own thread. libzmq
    then returns EINTR from any call that processes the socket's commands
    first (bind, connect, socket_monitor, send, recv, ctx_term, getsockopt
    ZMQ_EVENTS), before it has done anything, so trying again is safe and
    the caller gets the result it would get without the signal.
*/
#ifndef ZWATCH_EINTR_H_INCLUDED
#define ZWATCH_EINTR_H_INCLUDED

#include <errno.h>
#include <zmq.h>

//  The int result of call, after retrying it while it failed with EINTR
#define ZWATCH_EINTR_RETRY(call) __extension__ ({ \
    int _zwatch_rc; \
    while ((_zwatch_rc = (call)) == -1 && zmq_errno () == EINTR) \
        ; \
    _zwatch_rc; \
})

#endif
