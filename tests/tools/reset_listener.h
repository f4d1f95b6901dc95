/*  reset_listener: a TCP port on 127.0.0.1 that accepts each connection
    and resets it at once (SO_LINGER {1, 0}: close sends RST), as a broker
    that is restarting, a load balancer with no backend or a port scanner
    guard might. It runs in a thread of the test and counts the resets.  */
#ifndef RESET_LISTENER_H_INCLUDED
#define RESET_LISTENER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _reset_listener_t reset_listener_t;

//  Listen on a free port of 127.0.0.1 (the test fails if it cannot)
reset_listener_t *
    reset_listener_new (void);

//  Stop, and close the port (nothing listens on it afterwards); idempotent
void
    reset_listener_destroy (reset_listener_t **self_p);

//  "tcp://127.0.0.1:<port>"
const char *
    reset_listener_endpoint (reset_listener_t *self);

//  Connections reset so far
uint64_t
    reset_listener_resets (reset_listener_t *self);

//  Wait up to timeout_ms until at least count connections were reset
bool
    reset_listener_wait (reset_listener_t *self, uint64_t count, int timeout_ms);

#endif
