/*  zwatch_broker_config: zwatch-broker's settings from flags and a ZPL file.  */
#ifndef ZWATCH_BROKER_CONFIG_H_INCLUDED
#define ZWATCH_BROKER_CONFIG_H_INCLUDED

#include <czmq.h>
#include "zwatch.h"
#include "zwatch_curve.h"
#include "zwatch_fleet.h"
#include "zwatch_log.h"

//  Plain settings; the broker reads them, only this class writes them
typedef struct {
    char id [ZWATCH_HOST_MAX + 1];  //  broker id, valid per zwatch_name_valid
    zlistx_t *ingest;               //  endpoints (char *) to bind the ROUTER to
    zlistx_t *publish;              //  endpoints (char *) to bind the XPUB to
    zlistx_t *publish_batches;      //  endpoints (char *) to bind the batch feed's PUB to
    zlistx_t *snapshot;             //  endpoints (char *) to bind the snapshot ROUTER to
    zlistx_t *parent;               //  parent brokers' ingest endpoints (char *), may be empty
    char *parent_server_key;        //  the parents' CURVE public key (Z85), or NULL
    char *parent_cert;              //  our relay certificate's secret file, or NULL
    zwatch_curve_t parent_curve;    //  from the two: what the parent links use
    size_t history;                 //  recent events kept for snapshots (0: none)
    zwatch_fleet_limits_t fleet_limits;     //  0 in a field: the model's default
    bool fleet;                     //  false (--no-fleet): no model, no history, no snapshots
    double heartbeat_timeout;       //  seconds of silence before an agent is lost
    double stats_interval;          //  seconds between stats messages
    size_t max_agents;              //  agents tracked at most
    bool verbose;                   //  log every agent up/gone/lost
    zwatch_log_format_t log_format; //  --log-format
    //  Security (docs/SECURITY.md); NULL when not set
    char *curve_secret;             //  the broker's certificate secret file
    char curve_public_key [ZWATCH_CURVE_KEY_LEN + 1];   //  its keys (Z85), read once
    char curve_secret_key [ZWATCH_CURVE_KEY_LEN + 1];   //  zeroed on destroy
    char *agents_allow;             //  directory of agents' public certificates
    char *subscribers_allow;        //  directory of subscribers' public certificates
    zlistx_t *allow_ip;             //  addresses (char *) that alone may connect
    zlistx_t *deny_ip;              //  addresses that may not (when allow_ip is empty)
    int argc;                       //  the command line, read again on reload
    char **argv;
} zwatch_broker_config_t;

//  Exit codes (documented in --help)
#define ZWATCH_BROKER_EXIT_RUNTIME  1
#define ZWATCH_BROKER_EXIT_USAGE    2

//  Build the settings: defaults, then the --config file, then the other
//  flags, each value checked once (and the CURVE secret read once).
//  Returns NULL after --help or --version (*exit_code 0) or after printing
//  one error line to stderr (*exit_code 2).
zwatch_broker_config_t *
    zwatch_broker_config_new (int argc, char *argv [], int *exit_code);

//  Read the command line and the --config file again (SIGHUP) and take
//  what a running broker can change: verbose, heartbeat-timeout,
//  stats-interval, agents-allow, subscribers-allow, allow-ip, deny-ip. A
//  changed key of any other kind needs a restart: one warning line names
//  it, and it keeps its value; so do the IP lists of a broker that started
//  with no ZAP handler (no CURVE, no lists). Returns 0, or -1 with every
//  setting as it was, after a log line saying why.
int
    zwatch_broker_config_reload (zwatch_broker_config_t *self);

//  Destroy the settings; idempotent
void
    zwatch_broker_config_destroy (zwatch_broker_config_t **self_p);

#endif
