/*  zwatch_preload_config: read and check the preload's settings.  */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zwatch_agent_internal.h"
#include "zwatch_endpoints.h"
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
    //  One line for a list the agent would refuse; a bad endpoint in it
    //  is libzmq's to judge, and the agent's to say
    char error [400];
    zwatch_endpoints_t *brokers = zwatch_endpoints_new (broker, ZWATCH_AGENT_BROKERS_MAX,
                                                        error, sizeof (error));
    if (!brokers)
        return s_wrong ("ZWATCH_BROKER %s", error);
    //  An inproc broker would live in one of the program's own contexts
    bool inproc = zwatch_endpoints_any (brokers, "inproc://");
    zwatch_endpoints_destroy (&brokers);
    if (inproc)
        return s_wrong ("ZWATCH_BROKER '%.300s': an endpoint is inproc://, which only works "
                        "in-process; use tcp:// or ipc://", broker);
    snprintf (self->broker, sizeof (self->broker), "%s", broker);

    const char *prefix = getenv ("ZWATCH_LABEL_PREFIX");
    if (prefix && *prefix) {
        if (!zwatch_agent_label_valid (prefix, ZWATCH_PRELOAD_PREFIX_MAX))
            return s_wrong ("ZWATCH_LABEL_PREFIX must be 1-%d printable ASCII characters",
                            ZWATCH_PRELOAD_PREFIX_MAX);
        strcpy (self->label_prefix, prefix);
    }
    return 0;
}
