/*  zwatch_top_model: what zwatch-top shows, without curses or a client.

    The header's figures, one row per watched socket (an agent without
    sockets gets one row of its own), sorted and filtered; recent
    failures per socket over the last minute; the most recent events as
    lines; the event rate. The feed (zwatch_top_feed) fills it from the
    client, the screen (zwatch_top_screen) draws it, and the tests drive
    it directly. Every table is bounded; what did not fit is counted.
    Times are the caller's monotonic milliseconds.
*/
#ifndef ZWATCH_TOP_MODEL_H_INCLUDED
#define ZWATCH_TOP_MODEL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch.h"

#define ZWATCH_TOP_ROWS_MAX         65536   //  rows held (more: counted)
#define ZWATCH_TOP_EVENTS_MAX       256     //  recent event lines kept
#define ZWATCH_TOP_FAILURE_KEYS     4096    //  sockets whose failures are counted
#define ZWATCH_TOP_FAILURE_MS       60000   //  "recent" failures: the last minute
#define ZWATCH_TOP_RATE_MS          5000    //  events/s over the last 5 s
#define ZWATCH_TOP_FILTER_MAX       64      //  a filter prefix, bytes
#define ZWATCH_TOP_LINE_MAX         400     //  an event line, bytes

typedef enum {
    ZWATCH_TOP_SORT_NAME,           //  host, service, pid, socket
    ZWATCH_TOP_SORT_CONNS,          //  most connections first
    ZWATCH_TOP_SORT_RETRYING,       //  most retrying endpoints first
    ZWATCH_TOP_SORT_FAILURES,       //  most recent failures first
    ZWATCH_TOP_SORT_COUNT
} zwatch_top_sort_t;

typedef enum {
    ZWATCH_TOP_FEED_STARTING,       //  no snapshot yet
    ZWATCH_TOP_FEED_WHOLE,          //  synced: the state is exact
    ZWATCH_TOP_FEED_RESYNCING,      //  starting over (reason)
    ZWATCH_TOP_FEED_UNREACHABLE     //  the feed's connection is down (reason)
} zwatch_top_feed_state_t;

//  The header line's figures
typedef struct {
    char broker [ZWATCH_HOST_MAX + 1];  //  "" until the first stats
    size_t agents;                      //  agents up (held by the client)
    bool lost_known;                    //  a stats message said `lost`
    uint64_t lost;                      //  events lost in seq gaps (broker's stats)
    uint64_t dropped;                   //  at the agents' queues and at the client
    zwatch_top_feed_state_t feed;
    char reason [32];                   //  why resyncing / unreachable
} zwatch_top_header_t;

//  One row: one socket of one agent (sock "" for an agent without any)
typedef struct {
    char host [ZWATCH_HOST_MAX + 1];
    char svc [ZWATCH_SVC_MAX + 1];
    uint64_t pid;
    char sock [ZWATCH_SOCK_MAX + 1];
    char stype [ZWATCH_STYPE_MAX + 1];
    size_t conns;
    size_t listening;
    char listen [ZWATCH_ENDPOINT_MAX + 1];  //  the first listening endpoint, or ""
    size_t retrying;
    char retry [ZWATCH_ENDPOINT_MAX + 1];   //  the first retrying endpoint, or ""
    size_t failures;                        //  failures in the last minute
    char failure [64];                      //  the latest ("BIND_FAILED EADDRINUSE"), or ""
} zwatch_top_row_t;

typedef struct _zwatch_top_model_t zwatch_top_model_t;

//  Create an empty model (sorted by name, no filter). NULL if out of memory.
zwatch_top_model_t *zwatch_top_model_new (void);
void zwatch_top_model_destroy (zwatch_top_model_t **self_p);

//  The header, to read and fill in
zwatch_top_header_t *zwatch_top_model_header (zwatch_top_model_t *self);

//  Rows: cleared, then added one by one (copied; over ZWATCH_TOP_ROWS_MAX
//  counted as not held), then shown: filtered and sorted
void zwatch_top_model_rows_clear (zwatch_top_model_t *self);
int zwatch_top_model_row_add (zwatch_top_model_t *self, const zwatch_top_row_t *row);
//  Rows held, and those not held at the last fill
size_t zwatch_top_model_rows (zwatch_top_model_t *self);
size_t zwatch_top_model_rows_dropped (zwatch_top_model_t *self);
//  Rows that pass the filter, in sort order; the index-th of them or NULL
size_t zwatch_top_model_shown (zwatch_top_model_t *self);
const zwatch_top_row_t *zwatch_top_model_shown_row (zwatch_top_model_t *self, size_t index);

//  Sort key; _sort_next moves to the next one (after the last: the first)
void zwatch_top_model_set_sort (zwatch_top_model_t *self, zwatch_top_sort_t sort);
zwatch_top_sort_t zwatch_top_model_sort (zwatch_top_model_t *self);
void zwatch_top_model_sort_next (zwatch_top_model_t *self);
//  "name", "conns", "retrying", "failures"
const char *zwatch_top_sort_name (zwatch_top_sort_t sort);

//  Filter: rows and events whose host or service starts with prefix
//  (cut at ZWATCH_TOP_FILTER_MAX bytes; "" or NULL: all)
void zwatch_top_model_set_filter (zwatch_top_model_t *self, const char *prefix);
const char *zwatch_top_model_filter (zwatch_top_model_t *self);
bool zwatch_top_model_matches (zwatch_top_model_t *self, const char *host, const char *svc);

//  Paused: the caller stops refilling rows; the events shown are those
//  before the pause (the newer ones are kept and counted)
void zwatch_top_model_set_paused (zwatch_top_model_t *self, bool paused);
bool zwatch_top_model_paused (zwatch_top_model_t *self);

//  A failure (name: "BIND_FAILED EADDRINUSE") of a socket at now; over
//  ZWATCH_TOP_FAILURE_KEYS sockets it is counted as untracked
void zwatch_top_model_failure (zwatch_top_model_t *self, const char *host, const char *svc,
                               uint64_t pid, const char *sock, const char *name, int64_t now);
//  Its failures in the minute up to now; *last (if not NULL) the latest
//  one's name or NULL
size_t zwatch_top_model_failures (zwatch_top_model_t *self, const char *host, const char *svc,
                                  uint64_t pid, const char *sock, int64_t now, const char **last);
//  Forget sockets without a failure in the last minute
void zwatch_top_model_failures_expire (zwatch_top_model_t *self, int64_t now);
//  Failures of sockets over the bound, not counted per socket
uint64_t zwatch_top_model_failures_untracked (zwatch_top_model_t *self);

//  An event line (host, svc: for the filter; NULL: shown with any filter);
//  the oldest goes past ZWATCH_TOP_EVENTS_MAX
void zwatch_top_model_event_add (zwatch_top_model_t *self, const char *host, const char *svc,
                                 const char *line);
//  The index-th most recent line that passes the filter (0: the newest;
//  paused: the newest before the pause), or NULL
const char *zwatch_top_model_event (zwatch_top_model_t *self, size_t index);
//  Lines added since the pause (0 when not paused)
uint64_t zwatch_top_model_events_since_pause (zwatch_top_model_t *self);

//  Count one event at now for the rate; the rate over the last
//  ZWATCH_TOP_RATE_MS (or since the first count, if shorter) at now
void zwatch_top_model_count_event (zwatch_top_model_t *self, int64_t now);
double zwatch_top_model_rate (zwatch_top_model_t *self, int64_t now);

#endif
