/*  zwatch_zap: the broker's ZAP handler (RFC 27), an actor.

    libzmq asks it about every handshake on a socket of this context:
    [version][request id][domain][address][routing id][mechanism][credentials...]
    and it answers [version][request id][status][text][user id][metadata].
    Every refusal becomes a HANDSHAKE_FAILED_AUTH event on the socket, so
    the count it keeps matches those events one for one.
*/

#include "zwatch.h"
#include "zwatch_certdir.h"
#include "zwatch_curve.h"
#include "zwatch_zap.h"
#include "zwatch_ratelimit.h"

#define ZAP_ENDPOINT        "inproc://zeromq.zap.01"
#define WARN_INTERVAL_MS    1000        //  one refusal line per second at most

//  Where CURVE clients of one ZAP domain must have a certificate
typedef struct {
    zwatch_certdir_t *certs;            //  NULL: any key
} domain_t;

//  Who may connect: one set in use, another being built by a RELOAD
typedef struct {
    zhashx_t *domains;                  //  name -> domain_t
    zhashx_t *allowed;                  //  address -> "": only these (when any)
    zhashx_t *denied;                   //  address -> "": never these
} rules_t;

typedef struct {
    zsock_t *pipe;
    zsock_t *handler;                   //  NULL if the bind failed
    zpoller_t *poller;
    rules_t *rules;                     //  what handshakes are checked against
    rules_t *staged;                    //  after RELOAD, until COMMIT; else NULL
    uint64_t failures;                  //  handshakes refused
    zwatch_ratelimit_t refusal_limit;   //  refusal lines
    bool terminated;
} self_t;

//  One request's fields we use, and our answer
typedef struct {
    char *domain;
    char *address;
    char *mechanism;
    char key [ZWATCH_CURVE_KEY_LEN + 1];    //  CURVE client key, Z85
    const char *host;                   //  its certificate's host, or NULL
    bool relay;                         //  its certificate's role is relay
    char reason [300];                  //  why it was refused; empty: allowed
} request_t;

static void
s_domain_destroy (void **item_p)
{
    domain_t *domain = (domain_t *) *item_p;
    if (domain) {
        zwatch_certdir_destroy (&domain->certs);
        free (domain);
        *item_p = NULL;
    }
}

static void
s_rules_destroy (rules_t **self_p)
{
    rules_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->domains);
        zhashx_destroy (&self->allowed);
        zhashx_destroy (&self->denied);
        free (self);
        *self_p = NULL;
    }
}

static rules_t *
s_rules_new (void)
{
    rules_t *self = (rules_t *) zmalloc (sizeof (rules_t));
    assert (self);
    self->domains = zhashx_new ();
    self->allowed = zhashx_new ();
    self->denied = zhashx_new ();
    assert (self->domains && self->allowed && self->denied);
    zhashx_set_destructor (self->domains, s_domain_destroy);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (self) {
        zpoller_destroy (&self->poller);
        zsock_destroy (&self->handler);
        s_rules_destroy (&self->rules);
        s_rules_destroy (&self->staged);
        free (self);
        *self_p = NULL;
    }
}

static self_t *
s_self_new (zsock_t *pipe)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->refusal_limit = (zwatch_ratelimit_t) ZWATCH_RATELIMIT_INIT;
    self->rules = s_rules_new ();
    self->handler = zsock_new (ZMQ_REP);
    if (self->handler && zsock_bind (self->handler, ZAP_ENDPOINT) != 0)
        zsock_destroy (&self->handler);
    self->poller = zpoller_new (self->pipe, self->handler, NULL);
    assert (self->poller);
    //  Keep answering after SIGINT: the broker's sockets outlive the signal
    zpoller_set_nonstop (self->poller, true);
    return self;
}

static int
s_add_domain (rules_t *rules, const char *name, const char *location)
{
    domain_t *domain = (domain_t *) zmalloc (sizeof (domain_t));
    if (!domain)
        return -1;
    if (location && *location) {
        domain->certs = zwatch_certdir_new (location);
        if (!domain->certs) {
            void *item = domain;
            s_domain_destroy (&item);
            return -1;
        }
        size_t size = zwatch_certdir_size (domain->certs);
        if (size)
            zsys_info ("zwatch-broker: %s: %zu certificates in %s", name, size, location);
        else
            zsys_warning ("zwatch-broker: %s: no certificates in %s: every CURVE client "
                          "is refused until one is added", name, location);
    }
    zhashx_update (rules->domains, name, domain);
    return 0;
}

static void
s_handle_pipe (self_t *self)
{
    zmsg_t *message = zmsg_recv (self->pipe);
    char *command = message? zmsg_popstr (message): NULL;
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else
    if (streq (command, "FAILURES"))
        zsock_send (self->pipe, "8", self->failures);
    else
    if (streq (command, "RELOAD") || streq (command, "COMMIT")) {
        if (streq (command, "RELOAD")) {
            s_rules_destroy (&self->staged);
            self->staged = s_rules_new ();
        }
        else
        if (self->staged) {
            s_rules_destroy (&self->rules);
            self->rules = self->staged;
            self->staged = NULL;
        }
        zsock_signal (self->pipe, self->handler? 0: 1);
    }
    else {
        rules_t *rules = self->staged? self->staged: self->rules;
        char *first = zmsg_popstr (message);
        char *second = zmsg_popstr (message);
        int rc = -1;
        if (self->handler && first) {
            rc = 0;
            if (streq (command, "DOMAIN"))
                rc = s_add_domain (rules, first, second);
            else
            if (streq (command, "ALLOW"))
                zhashx_update (rules->allowed, first, "");
            else
            if (streq (command, "DENY"))
                zhashx_update (rules->denied, first, "");
            else
                rc = -1;
        }
        zsock_signal (self->pipe, rc == 0? 0: 1);
        zstr_free (&first);
        zstr_free (&second);
    }
    zstr_free (&command);
    zmsg_destroy (&message);
}

//  The address rules, then the mechanism's; fills request->reason if refused
static void
s_decide (self_t *self, request_t *request, zframe_t *credential)
{
    rules_t *rules = self->rules;
    if (zhashx_size (rules->allowed) && !zhashx_lookup (rules->allowed, request->address))
        snprintf (request->reason, sizeof (request->reason), "address not in the allow list");
    else
    if (zhashx_lookup (rules->denied, request->address))
        snprintf (request->reason, sizeof (request->reason), "address in the deny list");
    else
    if (streq (request->mechanism, "NULL"))
        ;                               //  a socket without CURVE: addresses only
    else
    if (!streq (request->mechanism, "CURVE"))
        snprintf (request->reason, sizeof (request->reason), "mechanism %.20s not supported",
                  request->mechanism);
    else
    if (!credential || zframe_size (credential) != 32)
        snprintf (request->reason, sizeof (request->reason), "CURVE request without a key");
    else {
        zmq_z85_encode (request->key, zframe_data (credential), 32);
        domain_t *domain = (domain_t *) zhashx_lookup (rules->domains, request->domain);
        zcert_t *cert = domain && domain->certs
                      ? zwatch_certdir_lookup (domain->certs, request->key): NULL;
        const char *role = cert? zcert_meta (cert, ZWATCH_ZAP_ROLE_PROPERTY): NULL;
        request->relay = role && streq (role, ZWATCH_ZAP_ROLE_RELAY);
        if (!domain)
            snprintf (request->reason, sizeof (request->reason), "unknown ZAP domain");
        else
        if (domain->certs && !cert)
            snprintf (request->reason, sizeof (request->reason), "key %s not in %s",
                      request->key, zwatch_certdir_location (domain->certs));
        else
        if (cert && (request->host = zcert_meta (cert, ZWATCH_ZAP_HOST_PROPERTY))
        &&  !zwatch_name_valid (request->host, strlen (request->host), ZWATCH_HOST_MAX))
            snprintf (request->reason, sizeof (request->reason),
                      "certificate of key %s in %s has an invalid host", request->key,
                      zwatch_certdir_location (domain->certs));
    }
}

//  One line per refusal, at most one a second (the rest are counted)
static void
s_log_refusal (self_t *self, const request_t *request)
{
    uint64_t held;
    if (!zwatch_ratelimit_ok (&self->refusal_limit, zclock_mono (), WARN_INTERVAL_MS, &held))
        return;
    char more [64] = "";
    if (held)
        snprintf (more, sizeof (more), " (%" PRIu64 " more refused since the last line)", held);
    zsys_warning ("zwatch-broker: refused a %s handshake on %s from '%s': %s%s",
                  request->mechanism, request->domain, request->address, request->reason, more);
}

//  One ZMTP metadata property: [name length][name][value length, 4 bytes BE][value]
static size_t
s_property (byte *data, const char *name, const char *value)
{
    size_t name_len = strlen (name), value_len = strlen (value);
    data [0] = (byte) name_len;
    memcpy (data + 1, name, name_len);
    data [1 + name_len] = 0;
    data [2 + name_len] = 0;
    data [3 + name_len] = (byte) (value_len >> 8);
    data [4 + name_len] = (byte) value_len;
    memcpy (data + 5 + name_len, value, value_len);
    return 5 + name_len + value_len;
}

//  The certificate's host and role, as the broker reads them per message
static zframe_t *
s_metadata (const char *host, bool relay)
{
    size_t size = (host? 5 + strlen (ZWATCH_ZAP_HOST_PROPERTY) + strlen (host): 0)
                + (relay? 5 + strlen (ZWATCH_ZAP_ROLE_PROPERTY) + strlen (ZWATCH_ZAP_ROLE_RELAY): 0);
    zframe_t *frame = zframe_new (NULL, size);
    if (frame) {
        byte *data = zframe_data (frame);
        if (host)
            data += s_property (data, ZWATCH_ZAP_HOST_PROPERTY, host);
        if (relay)
            s_property (data, ZWATCH_ZAP_ROLE_PROPERTY, ZWATCH_ZAP_ROLE_RELAY);
    }
    return frame;
}

static void
s_handle_request (self_t *self)
{
    zmsg_t *message = zmsg_recv (self->handler);
    if (!message)
        return;
    request_t request;
    memset (&request, 0, sizeof (request));
    char *version = zmsg_popstr (message);
    zframe_t *id = zmsg_pop (message);
    request.domain = zmsg_popstr (message);
    request.address = zmsg_popstr (message);
    zframe_t *routing_id = zmsg_pop (message);
    request.mechanism = zmsg_popstr (message);
    zframe_t *credential = zmsg_pop (message);

    const char *status = "200", *text = "OK";
    if (!version || !streq (version, "1.0") || !id || !request.domain || !request.address
    ||  !request.mechanism) {
        status = "500";
        text = "Internal error";
        snprintf (request.reason, sizeof (request.reason), "malformed ZAP request");
    }
    else {
        s_decide (self, &request, credential);
        if (*request.reason) {
            status = "400";
            text = "No access";
        }
    }
    if (*request.reason) {
        self->failures++;
        s_log_refusal (self, &request);
    }
    //  REP needs an answer even to nonsense, or it stops serving
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    if (id)
        zmsg_append (reply, &id);
    else
        zmsg_addstr (reply, "");
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, *request.reason? "": request.key);
    zframe_t *metadata = *request.reason? zframe_new (NULL, 0)
                                        : s_metadata (request.host, request.relay);
    zmsg_append (reply, &metadata);
    zmsg_send (&reply, self->handler);

    zstr_free (&version);
    zframe_destroy (&id);
    zframe_destroy (&routing_id);
    zframe_destroy (&credential);
    zstr_free (&request.domain);
    zstr_free (&request.address);
    zstr_free (&request.mechanism);
    zmsg_destroy (&message);
}

void
zwatch_zap_actor (zsock_t *pipe, void *args)
{
    (void) args;
    self_t *self = s_self_new (pipe);
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        void *which = zpoller_wait (self->poller, -1);
        if (which == self->pipe)
            s_handle_pipe (self);
        else
        if (which && which == self->handler)
            s_handle_request (self);
        else
        //  A signal the broker handles (SIGHUP) may land on this thread:
        //  an interrupted wait is no reason to stop answering
        if (zpoller_terminated (self->poller) && zmq_errno () != EINTR)
            break;
    }
    s_self_destroy (&self);
}
