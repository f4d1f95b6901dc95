/*  zwatch_broker_security: CURVE, ZAP and self-watching for the broker.

    With --curve-secret, ingest and publish are CURVE servers and the ZAP
    handler (zwatch_zap) admits agents and subscribers by certificate; IP
    allow/deny lists work with or without CURVE. Whenever the handler runs,
    the broker also watches its own two sockets with the zwatch agent, over
    inproc, so refused handshakes reach the feed as
    ev/<host>/zwatch-broker/HANDSHAKE_FAILED_AUTH. See docs/SECURITY.md.
*/
#ifndef ZWATCH_BROKER_SECURITY_H_INCLUDED
#define ZWATCH_BROKER_SECURITY_H_INCLUDED

#include "zwatch_broker_config.h"

typedef struct _zwatch_broker_security_t zwatch_broker_security_t;

//  Secure ingest, publish, snapshot and batches (the batch feed; either
//  may be NULL: none; both are secured as publish is, subscribers' allow
//  list) as config says, before they bind, and log one line saying how (a
//  warning when the broker is open). Returns NULL with one line in error
//  on failure.
zwatch_broker_security_t *
    zwatch_broker_security_new (const zwatch_broker_config_t *config, zsock_t *ingest,
                                zsock_t *publish, zsock_t *snapshot, zsock_t *batches,
                                char *error, size_t error_size);

//  SIGHUP: the ZAP handler's rules made again from config (every
//  certificate directory read afresh, the IP lists) and swapped in at
//  once; connections stay as they are. Logs the security line again.
//  Returns 0, or -1 with the old rules kept, after a log line.
int
    zwatch_broker_security_reload (zwatch_broker_security_t *self,
                                   const zwatch_broker_config_t *config);

//  Stop watching the sockets; call while they are still open
void
    zwatch_broker_security_unwatch (zwatch_broker_security_t *self);

//  Stop watching and stop the ZAP handler; call after the sockets are
//  closed, so no handshake ever goes unchecked. Idempotent.
void
    zwatch_broker_security_destroy (zwatch_broker_security_t **self_p);

//  0 if the connection that brought body may send msg (a decoded, valid
//  message): its certificate names no host, or msg's host. Else -1, with
//  a warning at most once a second, and a refusal (PROTOCOL.md section 2,
//  "Broker to agent") sent on ingest to routing_id, at most once every
//  10 s per connection (64 remembered).
int
    zwatch_broker_security_check_host (zwatch_broker_security_t *self, void *ingest,
                                       zmq_msg_t *routing_id, zmq_msg_t *body,
                                       const zwatch_msg_t *msg, int64_t now);

//  0 if the connection that brought body may send a message with via
//  (via_count ids): no CURVE, no via, or a certificate of role relay
//  (zwatch-keygen --relay). Else -1, with a warning at most once a
//  second and a refusal relay_denied as for host_mismatch.
int
    zwatch_broker_security_check_relay (zwatch_broker_security_t *self, void *ingest,
                                        zmq_msg_t *routing_id, zmq_msg_t *body,
                                        const zwatch_msg_t *msg, size_t via_count, int64_t now);

//  Send a refusal (PROTOCOL.md section 2) with this reason, host and sent
//  to routing_id on ingest, at most once every 10 s per connection
void
    zwatch_broker_security_refuse (zwatch_broker_security_t *self, void *ingest,
                                   zmq_msg_t *routing_id, const char *reason, const char *host,
                                   zwatch_str_t sent, int64_t now);

//  Refusals sent to agents since start
uint64_t
    zwatch_broker_security_refusals_sent (zwatch_broker_security_t *self);

//  True if our own agent watches the sockets (it holds their monitors)
bool
    zwatch_broker_security_watching (zwatch_broker_security_t *self);

//  True if msg (decoded, valid) is an event of the publish socket, as our
//  own agent reports it
bool
    zwatch_broker_security_own_publish (zwatch_broker_security_t *self, const zwatch_msg_t *msg);

//  Handshakes the ZAP handler refused since start
uint64_t
    zwatch_broker_security_auth_failures (zwatch_broker_security_t *self);

#endif
