/*  zwatch_guard: marks the code that runs inside zwatch itself.

    libzwatch-preload interposes zmq_socket and friends. The agent's own
    libzmq calls (its engine thread, and the preload's calls into the
    agent) must pass straight through, or zwatch would watch its own
    sockets. The mark is per thread; the engine thread sets it for life.
*/
#ifndef ZWATCH_GUARD_H_INCLUDED
#define ZWATCH_GUARD_H_INCLUDED

#include <stdbool.h>

//  Enter / leave zwatch code in this thread; they nest
void zwatch_guard_enter (void);
void zwatch_guard_leave (void);

//  True while this thread runs zwatch code
bool zwatch_guard_active (void);

#endif
