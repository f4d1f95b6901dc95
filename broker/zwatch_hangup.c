/*  zwatch_hangup: SIGHUP as a request to reload, not the end.  */

#include <signal.h>
#include <string.h>
#include "zwatch_hangup.h"

static volatile sig_atomic_t s_hangup;

static void
s_handler (int signum)
{
    (void) signum;
    s_hangup = 1;
}

int
zwatch_hangup_install (void)
{
    struct sigaction action;
    memset (&action, 0, sizeof (action));
    action.sa_handler = s_handler;
    sigemptyset (&action.sa_mask);
    action.sa_flags = 0;            //  no SA_RESTART: the loop's poll returns EINTR
    return sigaction (SIGHUP, &action, NULL);
}

bool
zwatch_hangup_take (void)
{
    if (!s_hangup)
        return false;
    s_hangup = 0;
    return true;
}
