/*  zwatch_sockstate: what one watched socket is doing now, as its monitor
    events told the agent: the endpoints it listens on, its live
    connections, the endpoints it is retrying, its last bind error.

    The agent replays it to every broker it connects to (docs/PROTOCOL.md
    section 4, "Replay"), and names the connection a DISCONNECTED or
    CLOSED ends from it. Used on the agent thread only. Each event costs
    O(1): connections are found by fd in a hash; the listening and retrying
    lists are short and bounded. Memory is bounded per socket: a live
    connection takes one allocation and two hash slots (about 100 bytes
    plus its endpoint, local and peer strings; at most about 870), a
    listening or retrying endpoint likewise; what is over a bound is not kept, and counted.
*/
#ifndef ZWATCH_SOCKSTATE_H_INCLUDED
#define ZWATCH_SOCKSTATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch_proto.h"

typedef struct _zwatch_sockstate_t zwatch_sockstate_t;

#define ZWATCH_SOCKSTATE_LISTENING_MAX  64      //  listening endpoints per socket
#define ZWATCH_SOCKSTATE_RETRYING_MAX   64      //  retrying endpoints per socket

//  An empty state keeping at most connections_max live connections.
//  NULL if memory is short
zwatch_sockstate_t *zwatch_sockstate_new (size_t connections_max);

void zwatch_sockstate_destroy (zwatch_sockstate_t **self_p);

//  The bound it was made with
size_t zwatch_sockstate_connections_max (zwatch_sockstate_t *self);

//  Before event is sent: a DISCONNECTED or CLOSED of a connection the
//  state holds (the one with fd = value) gets that connection's local and
//  peer. The strings point into the state: valid until the next apply
void zwatch_sockstate_describe (zwatch_sockstate_t *self, zwatch_msg_t *event);

//  After: the event changes the state (code, value, endpoint, ts, and for
//  CONNECTED / ACCEPTED local, peer and peer_pid are read). Returns false
//  if it named a fact over a bound, which is then not kept
bool zwatch_sockstate_apply (zwatch_sockstate_t *self, const zwatch_msg_t *event);

//  How many facts the state holds (each a state message in a replay)
size_t zwatch_sockstate_size (zwatch_sockstate_t *self);

//  Call fact for each fact, a message with code, event, value, endpoint,
//  ts and (connections) local, peer, peer_pid set; stops when fact
//  returns false. Returns how many facts fact said yes to
typedef bool (zwatch_sockstate_fact_fn) (void *arg, zwatch_msg_t *fact);
size_t zwatch_sockstate_each (zwatch_sockstate_t *self, zwatch_sockstate_fact_fn *fact, void *arg);

#endif
