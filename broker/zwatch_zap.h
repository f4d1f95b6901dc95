/*  zwatch_zap: the broker's ZAP handler (RFC 27), an actor.

    CZMQ's zauth keeps one CURVE certificate store per context, but the
    broker needs one per socket: agents may publish on ingest, subscribers
    may read on publish, and an agent's key must not read the feed. This
    handler picks the certificate directory (zwatch_certdir) by ZAP domain
    (zsock_set_zap_domain), keeps zauth's IP ALLOW/DENY rules, and answers
    with the client's key as
    User-Id and its certificate's "host" metadata as the "host" property,
    which the broker reads per message (zmq_msg_gets).

    Commands (zstr_sendx), each answered with zsock_signal, status 0 when
    done and 1 when not (a bad directory, or another ZAP handler is bound
    in this context, so this one never started):
        DOMAIN name [dir]   CURVE clients of this domain need a certificate
                            in dir; without dir, any key is accepted
        ALLOW address       only listed addresses may connect (repeatable)
        DENY address        listed addresses may not (when none is allowed)
        RELOAD              the next DOMAIN, ALLOW and DENY commands build a
                            new set of rules (every directory read afresh),
                            while handshakes still get the old one
        COMMIT              handshakes get the new set from now on
    and one query: FAILURES, answered with "8" (uint64): handshakes refused.
*/
#ifndef ZWATCH_ZAP_H_INCLUDED
#define ZWATCH_ZAP_H_INCLUDED

#include <czmq.h>

#define ZWATCH_ZAP_HOST_PROPERTY    "host"      //  certificate metadata and ZAP property
#define ZWATCH_ZAP_ROLE_PROPERTY    "role"      //  the same; "relay": a child broker's
#define ZWATCH_ZAP_ROLE_RELAY       "relay"

//  zactor_new (zwatch_zap_actor, NULL)
void
    zwatch_zap_actor (zsock_t *pipe, void *args);

#endif
