/*  zwatch_web_model: what zwatch-web knows beyond the client's state.

    The client (libzwatch-client) holds the fleet: agents, sockets,
    connections, links. The model adds what the views need on top of it,
    all from the changes the client hands out: counts per host and service
    (events by name, events lost in the feed's gaps, events agents
    dropped), a ring of recent events and changes (/api/history: the
    broker's history from the last snapshot, then what came since), the feed's own state
    (synced, resyncing and why, broker reachable, gaps), and the broker's
    last stats. Every table is bounded; what does not fit is counted.
*/
#ifndef ZWATCH_WEB_MODEL_H_INCLUDED
#define ZWATCH_WEB_MODEL_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "zwatch_client.h"
#include "zwatch_web_buf.h"

//  Host + service pairs counted; more are refused (series_refused)
#define ZWATCH_WEB_SERIES_MAX       4096
//  Changes kept for /api/history (and events of history asked of the broker)
#define ZWATCH_WEB_HISTORY_MAX      1000
//  Broker figures kept from its stats (top-level and one level down)
#define ZWATCH_WEB_FIGURES_MAX      96

typedef struct _zwatch_web_model_t zwatch_web_model_t;

//  One figure of the broker's stats: "msgs_in", "fleet.links",
//  "invalid_by.bad_host", ...
typedef struct {
    char name [80];
    uint64_t value;
} zwatch_web_figure_t;

//  One host + service: what its changes counted
typedef struct {
    char host [65];
    char svc [65];
    uint64_t events;                //  all events seen
    uint64_t lost;                  //  lost in the feed's gaps (GAP changes)
    uint64_t dropped_gone;          //  dropped by agents of it that are gone
    void *by_event;                 //  zhashx: event name -> uint64_t *
} zwatch_web_series_t;

zwatch_web_model_t *zwatch_web_model_new (zwatch_client_t *client);
void zwatch_web_model_destroy (zwatch_web_model_t **self_p);

//  Take one change into account (before the next zwatch_client_next)
void zwatch_web_model_apply (zwatch_web_model_t *self, const zwatch_change_t *change);

//  A link end as "key":{host, svc, pid, sock, addr}, appended to buf;
//  /api/fleet and the change stream write link ends alike. Returns 0 or -1
int zwatch_web_model_end_json (zwatch_web_buf_t *buf, const char *key,
                               const zwatch_change_end_t *end);

//  The change as one JSON object, appended to buf. Returns 0 or -1
int zwatch_web_model_change_json (const zwatch_change_t *change, zwatch_web_buf_t *buf);

//  True when the feed is whole; else *reason says why not
bool zwatch_web_model_healthy (zwatch_web_model_t *self, const char **reason);

//  The series, sorted by host then service (caller frees the array, not
//  its items, valid until the next _apply); *count set
zwatch_web_series_t **zwatch_web_model_series (zwatch_web_model_t *self, size_t *count);
//  The series of host + svc, or NULL
zwatch_web_series_t *zwatch_web_model_series_lookup (zwatch_web_model_t *self, const char *host,
                                                     const char *svc);
//  Count of one event name in a series (0 if none)
uint64_t zwatch_web_series_event (const zwatch_web_series_t *series, const char *event);
//  The event names counted in a series, sorted (caller frees the array)
const char **zwatch_web_series_event_names (const zwatch_web_series_t *series, size_t *count);

//  The broker's last stats figures (NULL broker: none yet)
const zwatch_web_figure_t *zwatch_web_model_figures (zwatch_web_model_t *self, size_t *count,
                                                     const char **broker);

//  Feed counters: gaps seen, events lost in them, series refused
typedef struct {
    bool reachable;
    bool synced;
    const char *resync_reason;      //  while resyncing, else NULL
    uint64_t gaps;
    uint64_t lost;
    uint64_t resyncs;
    uint64_t series_refused;
    uint64_t changes;               //  changes applied
    uint64_t stats_at;              //  monotonic ms of the last stats, 0: none
} zwatch_web_feed_t;
void zwatch_web_model_feed (zwatch_web_model_t *self, zwatch_web_feed_t *feed);

//  The client it reads
zwatch_client_t *zwatch_web_model_client (zwatch_web_model_t *self);

//  The history as a JSON array, oldest first
int zwatch_web_model_history_json (zwatch_web_model_t *self, zwatch_web_buf_t *buf);

#endif
