/*  zwatch_log: one line per message on stderr, prefixed "zwatch: ".  */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "zwatch_log.h"

static void
s_log (const char *level, const char *format, va_list args)
{
    const char *quiet = getenv ("ZWATCH_QUIET");
    if (quiet && *quiet == '1' && level [0] == 'W')
        return;
    //  One fprintf per line so lines from several threads don't interleave
    char line [512];
    vsnprintf (line, sizeof (line), format, args);
    fprintf (stderr, "zwatch: %s: %s\n", level, line);
}

void
zwatch_log_warning (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_log ("W", format, args);
    va_end (args);
}

void
zwatch_log_error (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_log ("E", format, args);
    va_end (args);
}
