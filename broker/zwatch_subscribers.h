/*  zwatch_subscribers: how many subscribers are connected to the XPUB.

    The XPUB tells us subscriptions (one per topic prefix a subscriber
    asks for), not who sends them: the number of subscribers comes from
    the socket's monitor, ACCEPTED up and DISCONNECTED down (libzmq sends
    a DISCONNECTED for every accepted connection that ends, handshake
    refused or not). libzmq gives a socket one monitor. When the broker's
    self-watching agent holds it (zwatch_broker_security), its events come
    back to us through ingest and the broker hands their codes to
    zwatch_subscribers_event; otherwise we hold the monitor ourselves.
    inproc connections make no monitor events and are not counted.
*/
#ifndef ZWATCH_SUBSCRIBERS_H_INCLUDED
#define ZWATCH_SUBSCRIBERS_H_INCLUDED

#include <czmq.h>

typedef struct _zwatch_subscribers_t zwatch_subscribers_t;

//  Count subscribers on publish. own_monitor: monitor it ourselves (call
//  before it binds: no connection is missed). Returns NULL with errno.
zwatch_subscribers_t *
    zwatch_subscribers_new (zsock_t *publish, bool own_monitor);

//  Stop the monitor (while publish is still open); idempotent
void
    zwatch_subscribers_destroy (zwatch_subscribers_t **self_p);

//  The PAIR to poll for our own monitor's events, or NULL
void *
    zwatch_subscribers_socket (zwatch_subscribers_t *self);

//  Read what our monitor holds, up to a batch
void
    zwatch_subscribers_read (zwatch_subscribers_t *self);

//  One monitor event of the publish socket (code as libzmq numbers it)
void
    zwatch_subscribers_event (zwatch_subscribers_t *self, uint16_t code);

//  Subscribers connected now
uint64_t
    zwatch_subscribers_count (zwatch_subscribers_t *self);

#endif
