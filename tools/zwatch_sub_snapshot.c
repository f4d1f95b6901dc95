/*  zwatch_sub_snapshot: the client for zwatch-sub --snapshot (see header).  */

#include <errno.h>
#include <string.h>
#include "zwatch_fleet_view.h"
#include "zwatch_sub_snapshot.h"

zwatch_client_t *
zwatch_sub_snapshot_client (const char *publish, const char *snapshot, const char **hosts,
                            size_t host_count, const char **services, size_t service_count,
                            const char *server_key, const char *cert, char *error,
                            size_t error_size, bool *usage)
{
    *usage = true;
    zwatch_client_t *client = zwatch_client_new (publish, snapshot);
    if (!client) {
        if (errno == EINVAL)
            snprintf (error, error_size, "invalid endpoint '%s' (want transport://address)",
                      strstr (publish, "://")? snapshot: publish);
        else {
            snprintf (error, error_size, "out of memory");
            *usage = false;
        }
        return NULL;
    }
    int rc = 0;
    if (server_key && zwatch_client_set_curve (client, server_key, cert) != 0) {
        snprintf (error, error_size, "%s", zwatch_client_error (client));
        rc = -1;
    }
    //  zwatch-sub checked the names: a failure here is memory
    for (size_t index = 0; index < host_count && rc == 0; index++)
        rc = zwatch_client_add_host_filter (client, hosts [index]);
    for (size_t index = 0; index < service_count && rc == 0; index++)
        rc = zwatch_client_add_service_filter (client, services [index]);
    if (rc == 0 && zwatch_client_start (client) != 0) {
        snprintf (error, error_size, "%s", zwatch_client_error (client));
        *usage = false;
        rc = -1;
    }
    else
    if (rc != 0 && errno == ENOMEM) {
        snprintf (error, error_size, "out of memory");
        *usage = false;
    }
    if (rc != 0)
        zwatch_client_destroy (&client);
    return client;
}

void
zwatch_sub_snapshot_print (FILE *out, zwatch_client_t *client, bool json)
{
    zwatch_fleet_view_agents (out, client, json);
    zwatch_fleet_view_sockets (out, client, json);
    zwatch_fleet_view_links (out, client, json);
}

size_t
zwatch_sub_snapshot_topic (const zwatch_change_t *change, char *buf, size_t size)
{
    if (!change->body)
        return 0;
    int len;
    switch (change->kind) {
        case ZWATCH_CHANGE_EVENT:
            len = snprintf (buf, size, "ev/%s/%s/%s", change->host, change->svc, change->event);
            break;
        case ZWATCH_CHANGE_AGENT_UP:
        case ZWATCH_CHANGE_AGENT_GONE:
        case ZWATCH_CHANGE_AGENT_LOST:
            len = snprintf (buf, size, "agent/%s/%s", change->host, change->svc);
            break;
        case ZWATCH_CHANGE_STATS:
            len = snprintf (buf, size, "stats/%s", change->broker);
            break;
        default:
            return 0;
    }
    return len > 0 && (size_t) len < size? (size_t) len: 0;
}
