/*  zwatch_hangup: SIGHUP as a request to reload, not the end.

    The handler only sets a flag (the one thing a handler may safely do);
    the broker's loop takes it between two polls. Any thread may get the
    signal: the loop polls at least every 250 ms, so a reload starts
    within that, or at once when the signal lands on the loop's thread
    and interrupts its poll.
*/
#ifndef ZWATCH_HANGUP_H_INCLUDED
#define ZWATCH_HANGUP_H_INCLUDED

#include <stdbool.h>

//  Catch SIGHUP from now on. Returns 0, or -1 with errno (sigaction's)
int
    zwatch_hangup_install (void);

//  True once per SIGHUP received since the last call (several before a
//  call count as one)
bool
    zwatch_hangup_take (void);

#endif
