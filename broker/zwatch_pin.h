/*  zwatch_pin: publish the maps of a batch frame without copying them.

    A batch (PROTOCOL.md 5) comes as one frame; each event in it goes out
    as a message of its own. Copied, each costs an allocation in the
    forwarding thread that libzmq's I/O thread frees (two threads on one
    malloc arena: the lock shows in profiles). Pinned, each points into
    the frame, which lives until the last of them has gone out (a count
    of references). Made and released in the forwarding thread; a sent
    message's release may run in libzmq's I/O thread.
*/
#ifndef ZWATCH_PIN_H_INCLUDED
#define ZWATCH_PIN_H_INCLUDED

#include <stddef.h>
#include <zmq.h>

typedef struct _zwatch_pin_t zwatch_pin_t;

//  Hold a reference to frame (not a copy of its bytes); NULL if out of
//  memory, or if the frame keeps its bytes inside the zmq_msg_t itself
//  (very small frames), where nothing can point into it
zwatch_pin_t *zwatch_pin_new (zmq_msg_t *frame);

//  Send [data, data + size), inside the frame, as one message on socket
//  with zmq_send flags. Returns as zmq_msg_send.
int zwatch_pin_send (zwatch_pin_t *self, void *socket, const void *data, size_t size, int flags);

//  Let go of our reference; the frame goes when no message holds it
void zwatch_pin_release (zwatch_pin_t **self_p);

#endif
