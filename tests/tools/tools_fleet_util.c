#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tools_fleet_util.h"

char *
tools_fleet_clock (uint64_t ns)
{
    time_t seconds = (time_t) (ns / 1000000000u);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    char text [16];
    strftime (text, sizeof (text), "%H:%M:%S", &tm);
    return strdup (text);
}

zwatch_client_agent_t *
tools_fleet_agent (zwatch_client_t *client, const char *svc)
{
    for (zwatch_client_agent_t *agent = zwatch_client_agent_first (client); agent;
         agent = zwatch_client_agent_next (client))
        if (strcmp (zwatch_client_agent_svc (agent), svc) == 0)
            return agent;
    return NULL;
}
