/*  zwatch_top_feed: zwatch-top's model filled from libzwatch-client.

    Each change goes to the header (feed state, broker ID and its `lost`
    from stats), the event rate, the failures per socket and the recent
    event lines (events as zwatch-sub prints them, without the date; agent
    lifecycle, gaps, resyncs and the broker going away as lines of their
    own). Rows are refilled from the client's state on demand.
*/
#ifndef ZWATCH_TOP_FEED_H_INCLUDED
#define ZWATCH_TOP_FEED_H_INCLUDED

#include <stdint.h>
#include "zwatch_client.h"
#include "zwatch_top_model.h"

typedef struct _zwatch_top_feed_t zwatch_top_feed_t;

//  A feed into model (not owned). NULL if out of memory.
zwatch_top_feed_t *zwatch_top_feed_new (zwatch_top_model_t *model);
void zwatch_top_feed_destroy (zwatch_top_feed_t **self_p);

//  Apply one change at now (monotonic ms)
void zwatch_top_feed_apply (zwatch_top_feed_t *self, const zwatch_change_t *change, int64_t now);

//  The model's rows, agents and dropped count from the client's state at now
void zwatch_top_feed_fill (zwatch_top_feed_t *self, zwatch_client_t *client, int64_t now);

#endif
