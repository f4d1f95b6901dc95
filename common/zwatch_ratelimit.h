/*  zwatch_ratelimit: at most one log line per interval for one kind of
    trouble, counting the lines it held back, so a flood of bad input
    never floods the log. Shared by the broker, zwatch-sub and the agent.  */
#ifndef ZWATCH_RATELIMIT_H_INCLUDED
#define ZWATCH_RATELIMIT_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t last_ms;                //  when the last line went out
    uint64_t held;                  //  lines held back since
} zwatch_ratelimit_t;

#define ZWATCH_RATELIMIT_INIT   { INT64_MIN / 2, 0 }

//  True if a line may go out at now (msecs); *held then gets how many were
//  held back since the last one. False counts this line as held back.
static inline bool
zwatch_ratelimit_ok (zwatch_ratelimit_t *self, int64_t now, int64_t interval_ms, uint64_t *held)
{
    if (now - self->last_ms < interval_ms) {
        self->held++;
        return false;
    }
    self->last_ms = now;
    *held = self->held;
    self->held = 0;
    return true;
}

#endif
