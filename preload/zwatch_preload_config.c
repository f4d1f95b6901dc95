/*  zwatch_preload_config: read and check the preload's settings.  */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zwatch_agent_internal.h"
#include "zwatch_log.h"
#include "zwatch_preload_config.h"

//  The one line a wrong setting gets; always -1
static int
s_wrong (const char *format, ...)
{
    char text [400];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof (text), format, args);
    va_end (args);
    zwatch_log_error ("%s: running without zwatch", text);
    return -1;
}

int
zwatch_preload_config_load (zwatch_preload_config_t *self)
{
    memset (self, 0, sizeof (*self));
    const char *disable = getenv ("ZWATCH_DISABLE");
    if (disable && *disable && strcmp (disable, "0") != 0) {
        if (strcmp (disable, "1") != 0)
            return s_wrong ("ZWATCH_DISABLE must be 0 or 1, not '%.40s'", disable);
        self->disabled = true;
        return 0;
    }
    const char *broker = getenv ("ZWATCH_BROKER");
    if (!broker || !*broker)
        return s_wrong ("ZWATCH_BROKER is not set (the broker's ingest endpoint, e.g. %s)",
                        "tcp://127.0.0.1:5570");
    if (strlen (broker) > ZWATCH_ENDPOINT_MAX)
        return s_wrong ("ZWATCH_BROKER is longer than %d characters", ZWATCH_ENDPOINT_MAX);
    //  An inproc broker would live in one of the program's own contexts
    if (strncmp (broker, "inproc://", 9) == 0)
        return s_wrong ("ZWATCH_BROKER '%s' is inproc://, which only works in-process; "
                        "use tcp:// or ipc://", broker);
    strcpy (self->broker, broker);

    const char *prefix = getenv ("ZWATCH_LABEL_PREFIX");
    if (prefix && *prefix) {
        if (!zwatch_agent_label_valid (prefix, ZWATCH_PRELOAD_PREFIX_MAX))
            return s_wrong ("ZWATCH_LABEL_PREFIX must be 1-%d printable ASCII characters",
                            ZWATCH_PRELOAD_PREFIX_MAX);
        strcpy (self->label_prefix, prefix);
    }
    return 0;
}
