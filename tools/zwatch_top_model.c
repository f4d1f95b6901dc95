/*  zwatch_top_model: what zwatch-top shows (see header).  */

#define _GNU_SOURCE             //  qsort_r
#include <czmq.h>
#include <inttypes.h>
#include "zwatch_top_model.h"

//  Failures are counted in buckets of 10 s: six make the minute
#define BUCKET_MS       10000
#define BUCKETS         (ZWATCH_TOP_FAILURE_MS / BUCKET_MS)
//  The event rate, in buckets of 500 ms
#define RATE_BUCKET_MS  500
#define RATE_BUCKETS    (ZWATCH_TOP_RATE_MS / RATE_BUCKET_MS)

typedef struct {
    int64_t slot [BUCKETS];         //  which 10 s each bucket counts (now / BUCKET_MS)
    uint32_t count [BUCKETS];
    int64_t latest;                 //  when the last one came
    char last [64];
} failure_t;

typedef struct {
    char *host, *svc;               //  NULL: not filtered
    char *line;
} event_line_t;

struct _zwatch_top_model_t {
    zwatch_top_header_t header;
    zwatch_top_row_t *rows;
    size_t row_count, row_alloc, rows_dropped;
    const zwatch_top_row_t **shown;     //  filtered and sorted, rebuilt when stale
    size_t shown_count;
    bool shown_stale;
    zwatch_top_sort_t sort;
    char filter [ZWATCH_TOP_FILTER_MAX + 1];
    bool paused;
    uint64_t events_total;              //  lines ever added
    uint64_t paused_at;                 //  events_total at the pause
    event_line_t events [ZWATCH_TOP_EVENTS_MAX];
    zhashx_t *failures;                 //  "host/svc/pid/sock" -> failure_t
    uint64_t failures_untracked;
    int64_t rate_slot [RATE_BUCKETS];
    uint32_t rate_count [RATE_BUCKETS];
    int64_t rate_first;                 //  first count, -1 before
};

static void
s_failure_free (void **item)
{
    free (*item);
    *item = NULL;
}

zwatch_top_model_t *
zwatch_top_model_new (void)
{
    zwatch_top_model_t *self = (zwatch_top_model_t *) zmalloc (sizeof (zwatch_top_model_t));
    if (self) {
        self->rate_first = -1;
        self->failures = zhashx_new ();
        if (self->failures)
            zhashx_set_destructor (self->failures, s_failure_free);
        else
            zwatch_top_model_destroy (&self);
    }
    return self;
}

static void
s_event_clear (event_line_t *event)
{
    free (event->host);
    free (event->svc);
    free (event->line);
    memset (event, 0, sizeof (*event));
}

void
zwatch_top_model_destroy (zwatch_top_model_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_top_model_t *self = *self_p;
    for (size_t index = 0; index < ZWATCH_TOP_EVENTS_MAX; index++)
        s_event_clear (&self->events [index]);
    zhashx_destroy (&self->failures);
    free (self->rows);
    free (self->shown);
    free (self);
    *self_p = NULL;
}

zwatch_top_header_t *
zwatch_top_model_header (zwatch_top_model_t *self)
{
    return &self->header;
}


/*  Rows  */

void
zwatch_top_model_rows_clear (zwatch_top_model_t *self)
{
    self->row_count = 0;
    self->rows_dropped = 0;
    self->shown_stale = true;
}

int
zwatch_top_model_row_add (zwatch_top_model_t *self, const zwatch_top_row_t *row)
{
    if (self->row_count == ZWATCH_TOP_ROWS_MAX) {
        self->rows_dropped++;
        errno = ENOBUFS;
        return -1;
    }
    if (self->row_count == self->row_alloc) {
        size_t alloc = self->row_alloc? self->row_alloc * 2: 64;
        zwatch_top_row_t *rows = (zwatch_top_row_t *) realloc (self->rows, alloc * sizeof (*rows));
        const zwatch_top_row_t **shown =
            (const zwatch_top_row_t **) realloc (self->shown, alloc * sizeof (*shown));
        if (shown)
            self->shown = shown;
        if (rows)
            self->rows = rows;
        if (!rows || !shown) {
            self->rows_dropped++;
            errno = ENOMEM;
            return -1;
        }
        self->row_alloc = alloc;
    }
    self->rows [self->row_count++] = *row;
    self->shown_stale = true;
    return 0;
}

size_t
zwatch_top_model_rows (zwatch_top_model_t *self)
{
    return self->row_count;
}

size_t
zwatch_top_model_rows_dropped (zwatch_top_model_t *self)
{
    return self->rows_dropped;
}

static int
s_compare_name (const zwatch_top_row_t *a, const zwatch_top_row_t *b)
{
    int rc = strcmp (a->host, b->host);
    if (!rc)
        rc = strcmp (a->svc, b->svc);
    if (!rc)
        rc = a->pid < b->pid? -1: a->pid > b->pid;
    if (!rc)
        rc = strcmp (a->sock, b->sock);
    return rc;
}

//  Larger first, then by name: the busiest on top, the order stable
static int
s_compare_size (size_t a, size_t b)
{
    return a > b? -1: a < b;
}

static int
s_compare_rows (const void *x, const void *y, void *arg)
{
    zwatch_top_sort_t sort = *(const zwatch_top_sort_t *) arg;
    const zwatch_top_row_t *a = *(const zwatch_top_row_t * const *) x;
    const zwatch_top_row_t *b = *(const zwatch_top_row_t * const *) y;
    int rc = 0;
    if (sort == ZWATCH_TOP_SORT_CONNS)
        rc = s_compare_size (a->conns, b->conns);
    else
    if (sort == ZWATCH_TOP_SORT_RETRYING)
        rc = s_compare_size (a->retrying, b->retrying);
    else
    if (sort == ZWATCH_TOP_SORT_FAILURES)
        rc = s_compare_size (a->failures, b->failures);
    return rc? rc: s_compare_name (a, b);
}

static void
s_show (zwatch_top_model_t *self)
{
    if (!self->shown_stale)
        return;
    self->shown_count = 0;
    for (size_t index = 0; index < self->row_count; index++)
        if (zwatch_top_model_matches (self, self->rows [index].host, self->rows [index].svc))
            self->shown [self->shown_count++] = &self->rows [index];
    if (self->shown_count)
        qsort_r (self->shown, self->shown_count, sizeof (self->shown [0]), s_compare_rows,
                 &self->sort);
    self->shown_stale = false;
}

size_t
zwatch_top_model_shown (zwatch_top_model_t *self)
{
    s_show (self);
    return self->shown_count;
}

const zwatch_top_row_t *
zwatch_top_model_shown_row (zwatch_top_model_t *self, size_t index)
{
    s_show (self);
    return index < self->shown_count? self->shown [index]: NULL;
}


/*  Sort, filter, pause  */

void
zwatch_top_model_set_sort (zwatch_top_model_t *self, zwatch_top_sort_t sort)
{
    self->sort = sort < ZWATCH_TOP_SORT_COUNT? sort: ZWATCH_TOP_SORT_NAME;
    self->shown_stale = true;
}

zwatch_top_sort_t
zwatch_top_model_sort (zwatch_top_model_t *self)
{
    return self->sort;
}

void
zwatch_top_model_sort_next (zwatch_top_model_t *self)
{
    zwatch_top_model_set_sort (self, (zwatch_top_sort_t) ((self->sort + 1) % ZWATCH_TOP_SORT_COUNT));
}

const char *
zwatch_top_sort_name (zwatch_top_sort_t sort)
{
    static const char *names [] = { "name", "conns", "retrying", "failures" };
    return sort < ZWATCH_TOP_SORT_COUNT? names [sort]: "?";
}

void
zwatch_top_model_set_filter (zwatch_top_model_t *self, const char *prefix)
{
    snprintf (self->filter, sizeof (self->filter), "%s", prefix? prefix: "");
    self->shown_stale = true;
}

const char *
zwatch_top_model_filter (zwatch_top_model_t *self)
{
    return self->filter;
}

bool
zwatch_top_model_matches (zwatch_top_model_t *self, const char *host, const char *svc)
{
    size_t len = strlen (self->filter);
    return len == 0
        || (host && strncmp (host, self->filter, len) == 0)
        || (svc && strncmp (svc, self->filter, len) == 0);
}

void
zwatch_top_model_set_paused (zwatch_top_model_t *self, bool paused)
{
    if (paused && !self->paused)
        self->paused_at = self->events_total;
    self->paused = paused;
}

bool
zwatch_top_model_paused (zwatch_top_model_t *self)
{
    return self->paused;
}


/*  Failures  */

static char *
s_failure_key (const char *host, const char *svc, uint64_t pid, const char *sock)
{
    return zsys_sprintf ("%s/%s/%" PRIu64 "/%s", host, svc, pid, sock? sock: "");
}

void
zwatch_top_model_failure (zwatch_top_model_t *self, const char *host, const char *svc,
                          uint64_t pid, const char *sock, const char *name, int64_t now)
{
    char *key = s_failure_key (host, svc, pid, sock);
    if (!key) {
        self->failures_untracked++;
        return;
    }
    failure_t *failure = (failure_t *) zhashx_lookup (self->failures, key);
    if (!failure && zhashx_size (self->failures) < ZWATCH_TOP_FAILURE_KEYS) {
        failure = (failure_t *) zmalloc (sizeof (failure_t));
        if (failure && zhashx_insert (self->failures, key, failure) != 0) {
            free (failure);
            failure = NULL;
        }
    }
    zstr_free (&key);
    if (!failure) {
        self->failures_untracked++;
        return;
    }
    int64_t slot = now / BUCKET_MS;
    size_t bucket = (size_t) (slot % BUCKETS);
    if (failure->slot [bucket] != slot) {
        failure->slot [bucket] = slot;
        failure->count [bucket] = 0;
    }
    failure->count [bucket]++;
    failure->latest = now;
    snprintf (failure->last, sizeof (failure->last), "%s", name);
}

size_t
zwatch_top_model_failures (zwatch_top_model_t *self, const char *host, const char *svc,
                           uint64_t pid, const char *sock, int64_t now, const char **last)
{
    if (last)
        *last = NULL;
    char *key = s_failure_key (host, svc, pid, sock);
    failure_t *failure = key? (failure_t *) zhashx_lookup (self->failures, key): NULL;
    zstr_free (&key);
    if (!failure)
        return 0;
    size_t count = 0;
    int64_t slot = now / BUCKET_MS;
    for (size_t bucket = 0; bucket < BUCKETS; bucket++)
        if (failure->slot [bucket] > slot - BUCKETS && failure->slot [bucket] <= slot)
            count += failure->count [bucket];
    if (count && last)
        *last = failure->last;
    return count;
}

void
zwatch_top_model_failures_expire (zwatch_top_model_t *self, int64_t now)
{
    zlistx_t *keys = zhashx_keys (self->failures);
    if (!keys)
        return;
    for (const char *key = (const char *) zlistx_first (keys); key;
         key = (const char *) zlistx_next (keys)) {
        failure_t *failure = (failure_t *) zhashx_lookup (self->failures, key);
        if (failure && now - failure->latest >= ZWATCH_TOP_FAILURE_MS)
            zhashx_delete (self->failures, key);
    }
    zlistx_destroy (&keys);
}

uint64_t
zwatch_top_model_failures_untracked (zwatch_top_model_t *self)
{
    return self->failures_untracked;
}


/*  Events  */

void
zwatch_top_model_event_add (zwatch_top_model_t *self, const char *host, const char *svc,
                            const char *line)
{
    event_line_t *event = &self->events [self->events_total % ZWATCH_TOP_EVENTS_MAX];
    s_event_clear (event);
    event->host = host? strdup (host): NULL;
    event->svc = svc? strdup (svc): NULL;
    event->line = strndup (line, ZWATCH_TOP_LINE_MAX);
    self->events_total++;
}

const char *
zwatch_top_model_event (zwatch_top_model_t *self, size_t index)
{
    uint64_t newest = self->paused? self->paused_at: self->events_total;
    uint64_t oldest = self->events_total > ZWATCH_TOP_EVENTS_MAX
                    ? self->events_total - ZWATCH_TOP_EVENTS_MAX: 0;
    for (uint64_t at = newest; at > oldest; at--) {
        event_line_t *event = &self->events [(at - 1) % ZWATCH_TOP_EVENTS_MAX];
        if (!event->line)
            continue;
        if ((event->host || event->svc)
        &&  !zwatch_top_model_matches (self, event->host, event->svc))
            continue;
        if (index-- == 0)
            return event->line;
    }
    return NULL;
}

uint64_t
zwatch_top_model_events_since_pause (zwatch_top_model_t *self)
{
    return self->paused? self->events_total - self->paused_at: 0;
}


/*  Rate  */

void
zwatch_top_model_count_event (zwatch_top_model_t *self, int64_t now)
{
    int64_t slot = now / RATE_BUCKET_MS;
    size_t bucket = (size_t) (slot % RATE_BUCKETS);
    if (self->rate_slot [bucket] != slot) {
        self->rate_slot [bucket] = slot;
        self->rate_count [bucket] = 0;
    }
    self->rate_count [bucket]++;
    if (self->rate_first < 0)
        self->rate_first = now;
}

double
zwatch_top_model_rate (zwatch_top_model_t *self, int64_t now)
{
    if (self->rate_first < 0)
        return 0;
    int64_t slot = now / RATE_BUCKET_MS;
    uint64_t count = 0;
    for (size_t bucket = 0; bucket < RATE_BUCKETS; bucket++)
        if (self->rate_slot [bucket] > slot - RATE_BUCKETS && self->rate_slot [bucket] <= slot)
            count += self->rate_count [bucket];
    //  Over the window, or since the first event when that is shorter (at least 1 s)
    int64_t span = now - self->rate_first;
    if (span > ZWATCH_TOP_RATE_MS)
        span = ZWATCH_TOP_RATE_MS;
    if (span < 1000)
        span = 1000;
    return (double) count * 1000.0 / (double) span;
}
