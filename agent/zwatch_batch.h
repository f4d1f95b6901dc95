/*  zwatch_batch: one ingest frame being filled with encoded messages.

    The agent thread appends each message it encodes while events are
    ready and sends the frame when it has nothing more to read right now,
    or when the next message would not fit (PROTOCOL.md 5, "Batches"). A
    frame goes whole or not at all, so it keeps what it holds by kind: the
    upstream counts a dropped frame as every event and state in it.
*/
#ifndef ZWATCH_BATCH_H_INCLUDED
#define ZWATCH_BATCH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZWATCH_BATCH_MAX    16384   //  bytes in one frame; ingest takes up to 65536

typedef struct _zwatch_batch_t zwatch_batch_t;

//  What a frame holds besides bytes
typedef struct {
    uint64_t events;            //  event messages (each took a seq)
    uint64_t states;            //  state and state_end messages
} zwatch_batch_counts_t;

//  An empty frame of up to capacity bytes (at most ZWATCH_BATCH_MAX)
zwatch_batch_t *zwatch_batch_new (size_t capacity);
void zwatch_batch_destroy (zwatch_batch_t **self_p);

//  True if size more bytes fit
bool zwatch_batch_fits (zwatch_batch_t *self, size_t size);

//  Append one encoded message (the caller checked that it fits); event or
//  state: what to count it as
void zwatch_batch_add (zwatch_batch_t *self, const void *data, size_t size, bool event,
                       bool state);

//  Send the frame on socket without blocking and start a new one. Returns
//  0 (or nothing to send), or -1 if libzmq did not take it: *lost then
//  says what it held. Either way the frame is empty after.
int zwatch_batch_send (zwatch_batch_t *self, void *socket, zwatch_batch_counts_t *lost);

//  Messages in the frame now
size_t zwatch_batch_messages (zwatch_batch_t *self);

#endif
