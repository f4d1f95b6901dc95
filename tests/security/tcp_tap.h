/*  tcp_tap: a man in the middle on loopback that records what it relays.

    Listens on a free port of 127.0.0.1 and relays every connection, both
    ways, to 127.0.0.1:target_port, keeping a copy of every byte (up to
    TCP_TAP_MAX) so a test can look for plaintext on the wire.
*/
#ifndef TCP_TAP_H_INCLUDED
#define TCP_TAP_H_INCLUDED

#include <stddef.h>

#define TCP_TAP_MAX     (4 * 1024 * 1024)   //  bytes recorded at most

typedef struct _tcp_tap_t tcp_tap_t;

//  Start relaying to 127.0.0.1:target_port on a thread
tcp_tap_t *
    tcp_tap_new (int target_port);

//  Stop the thread, close every connection; idempotent
void
    tcp_tap_destroy (tcp_tap_t **self_p);

//  "tcp://127.0.0.1:<port>" to connect to instead of the target
const char *
    tcp_tap_endpoint (tcp_tap_t *self);

//  A copy of the bytes relayed so far, both directions; caller frees
char *
    tcp_tap_bytes (tcp_tap_t *self, size_t *size);

#endif
