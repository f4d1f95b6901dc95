/*  zwatch_batch: one frame being filled with encoded messages.

    The agent's broker link (zwatch_link) appends each event message the
    agent thread encodes while events are ready and sends the frame when
    the agent has nothing more to read right now, or when the next message
    would not fit (PROTOCOL.md 5, "Batches"). The broker's batch feed
    (zwatch_batch_feed) fills one with the events of one service and
    publishes it behind a topic frame (PROTOCOL.md 6). A frame goes whole
    or not at all, so it keeps how many monitor events it stands for: a
    dropped frame is counted as every one of them.
*/
#ifndef ZWATCH_BATCH_H_INCLUDED
#define ZWATCH_BATCH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZWATCH_BATCH_MAX    16384   //  bytes in one frame; ingest takes up to 65536

typedef struct _zwatch_batch_t zwatch_batch_t;

//  An empty frame of up to capacity bytes (at most ZWATCH_BATCH_MAX)
zwatch_batch_t *zwatch_batch_new (size_t capacity);
void zwatch_batch_destroy (zwatch_batch_t **self_p);

//  True if size more bytes fit
bool zwatch_batch_fits (zwatch_batch_t *self, size_t size);

//  Append one encoded message (the caller checked that it fits) that
//  stands for events monitor events (a folded summary: its count)
void zwatch_batch_add (zwatch_batch_t *self, const void *data, size_t size, uint64_t events);

//  Send the frame on socket without blocking and start a new one. Returns
//  0 (or nothing to send), or -1 if libzmq did not take it: *lost is then
//  the events it stood for. Either way the frame is empty after.
int zwatch_batch_send (zwatch_batch_t *self, void *socket, uint64_t *lost);

//  The same behind a topic frame: [topic][frame], as a publisher sends it
int zwatch_batch_send_topic (zwatch_batch_t *self, void *socket, const void *topic,
                             size_t topic_len, uint64_t *lost);

//  Messages in the frame now
size_t zwatch_batch_messages (zwatch_batch_t *self);

#endif
