/*  tools_fleet_util: what the tests of the commands on libzwatch-client
    share for reading the expected state (test_fleet_cli, test_sub_snapshot).
*/
#ifndef TOOLS_FLEET_UTIL_H_INCLUDED
#define TOOLS_FLEET_UTIL_H_INCLUDED

#include <stdint.h>
#include "zwatch_client.h"

//  ns since the epoch as "HH:MM:SS" UTC, as the views print it; caller frees
char *tools_fleet_clock (uint64_t ns);

//  The first agent of service svc in the client's state, or NULL
zwatch_client_agent_t *tools_fleet_agent (zwatch_client_t *client, const char *svc);

#endif
