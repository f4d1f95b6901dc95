/*  zwatch_sub_snapshot: zwatch-sub --snapshot's side of libzwatch-client.

    The client is made with zwatch-sub's settings (one broker, its
    snapshot endpoint, the --host / --service filters, CURVE); the state
    is printed as zwatch-fleet prints it (zwatch_fleet_view: agents,
    sockets, links); a change that carries a feed message (EVENT, AGENT_*
    from the feed, STATS) gets back the topic it came on, so zwatch-sub
    filters and prints it as any message of its feed.
*/
#ifndef ZWATCH_SUB_SNAPSHOT_H_INCLUDED
#define ZWATCH_SUB_SNAPSHOT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "zwatch_client.h"

//  A started client of the broker at publish (the feed) and snapshot (NULL:
//  the library's default), holding the agents of the filters (names, or
//  starts of names and '*'), with CURVE when server_key is not NULL (cert:
//  our secret certificate file, or NULL). Returns it, or NULL with a line
//  in error and *usage set when the settings are wrong (not the network).
zwatch_client_t *zwatch_sub_snapshot_client (const char *publish, const char *snapshot,
                                             const char **hosts, size_t host_count,
                                             const char **services, size_t service_count,
                                             const char *server_key, const char *cert,
                                             char *error, size_t error_size, bool *usage);

//  The client's state: agents, sockets (each with its header line when not
//  json), then links and the connections whose other end is not watched
void zwatch_sub_snapshot_print (FILE *out, zwatch_client_t *client, bool json);

//  The feed topic a change's body came on (ev/<host>/<svc>/<EVENT>,
//  agent/<host>/<svc>, stats/<broker>) into buf; its length, or 0 when the
//  change carries no feed message (or buf is too small)
size_t zwatch_sub_snapshot_topic (const zwatch_change_t *change, char *buf, size_t size);

#endif
