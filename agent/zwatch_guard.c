/*  zwatch_guard: a per-thread depth counter (see zwatch_guard.h).  */

#include "zwatch_guard.h"

static __thread unsigned s_depth;

void
zwatch_guard_enter (void)
{
    s_depth++;
}

void
zwatch_guard_leave (void)
{
    if (s_depth > 0)
        s_depth--;
}

bool
zwatch_guard_active (void)
{
    return s_depth > 0;
}
