/*  zwatch_preload_config: the preload's settings, from the environment.

    ZWATCH_DISABLE=1 turns the preload off. ZWATCH_BROKER (required) is the
    broker's ingest endpoint, or several, comma-separated (the agent
    reports to each). ZWATCH_LABEL_PREFIX goes before each socket's
    "<STYPE>-<n>" label. ZWATCH_HOST_ID, ZWATCH_SERVICE, ZWATCH_QUIET and
    the CURVE settings are read by the agent itself, as when linked in.
*/
#ifndef ZWATCH_PRELOAD_CONFIG_H_INCLUDED
#define ZWATCH_PRELOAD_CONFIG_H_INCLUDED

#include <stdbool.h>
#include "zwatch_agent.h"
#include "zwatch_proto.h"

//  Room is left in a label for the longest "<STYPE>-<n>"
#define ZWATCH_PRELOAD_PREFIX_MAX   (ZWATCH_SOCK_MAX - 24)

typedef struct {
    bool disabled;
    char broker [(ZWATCH_ENDPOINT_MAX + 1) * ZWATCH_AGENT_BROKERS_MAX];
    char label_prefix [ZWATCH_PRELOAD_PREFIX_MAX + 1];     //  "" for none
} zwatch_preload_config_t;

//  Read the settings. Returns 0 (disabled says whether to stay out of the
//  way), or -1 after one line on stderr naming the wrong setting: the
//  program then runs without zwatch.
int zwatch_preload_config_load (zwatch_preload_config_t *self);

#endif
