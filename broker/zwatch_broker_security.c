/*  zwatch_broker_security: CURVE, ZAP and self-watching for the broker.

    Three jobs, all set up before the sockets bind: the CURVE server
    options (the broker's keys, a ZAP domain per socket), the ZAP handler
    actor (who may connect), and a zwatch agent in the broker's own
    context that watches both sockets. The agent reaches the broker over
    inproc, which has no handshake: it needs no key, and IP lists never
    shut it out.
*/

#include "zwatch_broker_security.h"
#include "zwatch_curve.h"
#include "zwatch_log.h"
#include "zwatch_zap.h"
#include "zwatch_ratelimit.h"

#define WARN_INTERVAL_MS    1000
#define REFUSAL_GAP_MS      10000   //  one refusal per agent connection this often
#define REFUSAL_SLOTS       64      //  agent connections remembered; the oldest goes
#define ROUTING_ID_MAX      32      //  libzmq's own are 5 bytes

//  When a connection (ROUTER routing id) last heard a refusal from us
typedef struct {
    uint8_t id [ROUTING_ID_MAX];
    size_t len;
    int64_t sent;               //  0: free
} refusal_slot_t;

struct _zwatch_broker_security_t {
    bool curve;                 //  ingest and publish are CURVE servers
    zactor_t *zap;              //  the ZAP handler; NULL: nobody is checked
    zwatch_agent_t *agent;      //  watches ingest and publish
    zwatch_ratelimit_t mismatch_limit;      //  host mismatch warnings
    zwatch_ratelimit_t relay_limit;     //  relay_denied warnings
    refusal_slot_t refused [REFUSAL_SLOTS];
    uint64_t refusals_sent;
};

//  A libzmq option on a CZMQ socket, checked (zsock setters assert)
static int
s_set (zsock_t *sock, int option, const void *value, size_t size)
{
    return zmq_setsockopt (zsock_resolve (sock), option, value, size);
}

//  Both sockets become CURVE servers with the broker's keys (the config
//  read them)
static int
s_curve_server (zwatch_broker_security_t *self, const zwatch_broker_config_t *config,
                zsock_t *ingest, zsock_t *publish, zsock_t *snapshot, zsock_t *batches,
                char *error, size_t error_size)
{
    int server = 1, rc = 0;
    zsock_t *sockets [] = { ingest, publish, snapshot, batches };
    for (size_t index = 0; index < 4 && rc == 0; index++)
        if (sockets [index])
            rc = s_set (sockets [index], ZMQ_CURVE_SERVER, &server, sizeof (server))
               | s_set (sockets [index], ZMQ_CURVE_PUBLICKEY, config->curve_public_key,
                        ZWATCH_CURVE_KEY_LEN)
               | s_set (sockets [index], ZMQ_CURVE_SECRETKEY, config->curve_secret_key,
                        ZWATCH_CURVE_KEY_LEN);
    if (rc != 0) {
        snprintf (error, error_size, "cannot make CURVE servers: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    self->curve = true;
    return 0;
}

//  One command to the ZAP handler; it signals 0 when done
static int
s_zap_command (zactor_t *zap, const char *command, const char *first, const char *second)
{
    if (zstr_sendx (zap, command, first, second, NULL) != 0)
        return -1;
    return zsock_wait (zap) == 0? 0: -1;
}

static int
s_zap_addresses (zactor_t *zap, const char *command, zlistx_t *addresses)
{
    for (const char *address = (const char *) zlistx_first (addresses); address;
         address = (const char *) zlistx_next (addresses))
        if (s_zap_command (zap, command, address, NULL) != 0)
            return -1;
    return 0;
}

//  Who may connect, from config: one domain per socket (an empty
//  directory name: any key), the IP lists
static int
s_zap_rules (zactor_t *zap, const zwatch_broker_config_t *config)
{
    const char *agents = config->agents_allow? config->agents_allow: "";
    const char *subscribers = config->subscribers_allow? config->subscribers_allow: "";
    if (s_zap_command (zap, "DOMAIN", "ingest", agents) != 0
    ||  s_zap_command (zap, "DOMAIN", "publish", subscribers) != 0
    ||  s_zap_addresses (zap, "ALLOW", config->allow_ip) != 0
    ||  s_zap_addresses (zap, "DENY", config->deny_ip) != 0)
        return -1;
    return 0;
}

//  The ZAP handler and its rules
static int
s_start_zap (zwatch_broker_security_t *self, const zwatch_broker_config_t *config,
             zsock_t *ingest, zsock_t *publish, zsock_t *snapshot, zsock_t *batches,
             char *error, size_t error_size)
{
    self->zap = zactor_new (zwatch_zap_actor, NULL);
    if (!self->zap
    ||  s_zap_rules (self->zap, config) != 0
    ||  s_set (ingest, ZMQ_ZAP_DOMAIN, "ingest", 6) != 0
    ||  s_set (publish, ZMQ_ZAP_DOMAIN, "publish", 7) != 0
    //  Snapshots and the batch feed show what the feed shows: the
    //  subscribers' allow list
    ||  (snapshot && s_set (snapshot, ZMQ_ZAP_DOMAIN, "publish", 7) != 0)
    ||  (batches && s_set (batches, ZMQ_ZAP_DOMAIN, "publish", 7) != 0)) {
        snprintf (error, error_size, "cannot start the ZAP handler (is another one running "
                  "in this process?)");
        return -1;
    }
    return 0;
}

//  The zwatch agent on our own sockets, before they bind: nothing is missed
static int
s_watch (zwatch_broker_security_t *self, zsock_t *ingest, zsock_t *publish,
         zsock_t *snapshot, char *error, size_t error_size)
{
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "inproc://zwatch-broker-self-%p", (void *) self);
    if (zsock_bind (ingest, "%s", endpoint) == -1
    ||  !(self->agent = zwatch_agent_new (zsys_init (), endpoint))
    ||  zwatch_agent_watch (self->agent, zsock_resolve (ingest), "ingest") != 0
    ||  zwatch_agent_watch (self->agent, zsock_resolve (publish), "publish") != 0
    ||  (snapshot && zwatch_agent_watch (self->agent, zsock_resolve (snapshot), "snapshot") != 0)) {
        snprintf (error, error_size, "cannot watch the broker's own sockets: %s",
                  zmq_strerror (errno));
        return -1;
    }
    return 0;
}

static void
s_describe_dir (char *text, size_t size, const char *dir, const char *flag)
{
    if (dir)
        snprintf (text, size, "certificates in %s", dir);
    else
        snprintf (text, size, "any key (no %s)", flag);
}

//  The one line that says how the broker is protected
static void
s_log_summary (zwatch_broker_security_t *self, const zwatch_broker_config_t *config,
               const char *public_key)
{
    size_t allowed = zlistx_size (config->allow_ip), denied = zlistx_size (config->deny_ip);
    char addresses [64] = "any address";
    if (allowed || denied)
        snprintf (addresses, sizeof (addresses), "%s list of %zu", allowed? "allow": "deny",
                  allowed? allowed: denied);
    char refused [ZWATCH_TOPIC_MAX + 64] = "";
    if (self->agent)
        snprintf (refused, sizeof (refused), "; refused handshakes: ev/%s/%s/HANDSHAKE_FAILED_AUTH",
                  zwatch_agent_host (self->agent), zwatch_agent_service (self->agent));
    if (!self->zap)
        zsys_warning ("zwatch-broker: security: OPEN (no --curve-secret): anyone who reaches "
                      "ingest can send events as any host, anyone who reaches publish can read "
                      "the feed (see docs/SECURITY.md)");
    else
    if (!self->curve)
        zsys_warning ("zwatch-broker: security: no CURVE (traffic in clear, no keys); "
                      "IP: %s%s", addresses, refused);
    else {
        char agents [300], subscribers [300];
        s_describe_dir (agents, sizeof (agents), config->agents_allow, "--agents-allow");
        s_describe_dir (subscribers, sizeof (subscribers), config->subscribers_allow,
                        "--subscribers-allow");
        //  Encryption without client keys is still open to anyone: a warning
        if (config->agents_allow && config->subscribers_allow)
            zsys_info ("zwatch-broker: security: CURVE, server key %s; agents: %s; "
                       "subscribers: %s; IP: %s%s", public_key, agents, subscribers,
                       addresses, refused);
        else
            zsys_warning ("zwatch-broker: security: CURVE, server key %s; agents: %s; "
                          "subscribers: %s; IP: %s%s", public_key, agents, subscribers,
                          addresses, refused);
    }
}

zwatch_broker_security_t *
zwatch_broker_security_new (const zwatch_broker_config_t *config, zsock_t *ingest,
                            zsock_t *publish, zsock_t *snapshot, zsock_t *batches, char *error,
                            size_t error_size)
{
    zwatch_broker_security_t *self =
        (zwatch_broker_security_t *) zmalloc (sizeof (zwatch_broker_security_t));
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->mismatch_limit = (zwatch_ratelimit_t) ZWATCH_RATELIMIT_INIT;
    self->relay_limit = (zwatch_ratelimit_t) ZWATCH_RATELIMIT_INIT;
    bool lists = zlistx_size (config->allow_ip) || zlistx_size (config->deny_ip);
    int rc = 0;
    if (config->curve_secret)
        rc = s_curve_server (self, config, ingest, publish, snapshot, batches, error, error_size);
    if (rc == 0 && (self->curve || lists))
        rc = s_start_zap (self, config, ingest, publish, snapshot, batches, error, error_size);
    if (rc == 0 && self->zap)
        rc = s_watch (self, ingest, publish, snapshot, error, error_size);
    if (rc != 0) {
        zwatch_broker_security_destroy (&self);
        return NULL;
    }
    s_log_summary (self, config, config->curve_public_key);
    return self;
}

int
zwatch_broker_security_reload (zwatch_broker_security_t *self,
                               const zwatch_broker_config_t *config)
{
    if (!self->zap)
        return 0;                   //  an open broker has nothing to reload
    if (s_zap_command (self->zap, "RELOAD", NULL, NULL) != 0
    ||  s_zap_rules (self->zap, config) != 0
    ||  s_zap_command (self->zap, "COMMIT", NULL, NULL) != 0) {
        //  A RELOAD not committed is dropped by the next one
        zwatch_log_error ("reload: security rules unchanged (a certificate directory "
                          "could not be read)");
        return -1;
    }
    s_log_summary (self, config, config->curve_public_key);
    return 0;
}

void
zwatch_broker_security_unwatch (zwatch_broker_security_t *self)
{
    if (self)
        zwatch_agent_destroy (&self->agent);
}

void
zwatch_broker_security_destroy (zwatch_broker_security_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_broker_security_t *self = *self_p;
        zwatch_agent_destroy (&self->agent);
        zactor_destroy (&self->zap);
        free (self);
        *self_p = NULL;
    }
}

//  True if the connection with this routing id may hear another refusal
//  now (it heard none for REFUSAL_GAP_MS); then it is marked as told
static bool
s_refusal_due (zwatch_broker_security_t *self, zmq_msg_t *routing_id, int64_t now)
{
    size_t len = zmq_msg_size (routing_id);
    if (len > ROUTING_ID_MAX)
        return false;
    refusal_slot_t *slot = NULL, *oldest = &self->refused [0];
    for (size_t index = 0; index < REFUSAL_SLOTS && !slot; index++) {
        refusal_slot_t *candidate = &self->refused [index];
        if (candidate->sent && candidate->len == len
        &&  memcmp (candidate->id, zmq_msg_data (routing_id), len) == 0)
            slot = candidate;
        else
        if (candidate->sent < oldest->sent)
            oldest = candidate;
    }
    if (slot && now - slot->sent < REFUSAL_GAP_MS)
        return false;
    if (!slot) {
        slot = oldest;
        memcpy (slot->id, zmq_msg_data (routing_id), len);
        slot->len = len;
    }
    slot->sent = now > 0? now: 1;
    return true;
}

void
zwatch_broker_security_refuse (zwatch_broker_security_t *self, void *ingest,
                               zmq_msg_t *routing_id, const char *reason, const char *host,
                               zwatch_str_t sent, int64_t now)
{
    if (!self || !ingest || !routing_id || !s_refusal_due (self, routing_id, now))
        return;
    zwatch_refusal_t refusal = {
        { reason, strlen (reason) }, { host, strlen (host) }, sent, (uint64_t) zclock_time () * 1000000
    };
    uint8_t body [ZWATCH_REFUSAL_MAX];
    int size = zwatch_refusal_encode (&refusal, body, sizeof (body));
    //  A ROUTER drops what it cannot deliver at once (an agent that never
    //  reads fills its own small queue, then hears no more)
    if (size > 0
    &&  zmq_send (ingest, zmq_msg_data (routing_id), zmq_msg_size (routing_id),
                  ZMQ_SNDMORE | ZMQ_DONTWAIT) != -1
    &&  zmq_send (ingest, body, (size_t) size, ZMQ_DONTWAIT) != -1)
        self->refusals_sent++;
}

int
zwatch_broker_security_check_host (zwatch_broker_security_t *self, void *ingest,
                                   zmq_msg_t *routing_id, zmq_msg_t *body,
                                   const zwatch_msg_t *msg, int64_t now)
{
    if (!self || !self->curve)
        return 0;
    const char *host = zmq_msg_gets (body, ZWATCH_ZAP_HOST_PROPERTY);
    if (!host || (strlen (host) == msg->host.len && memcmp (host, msg->host.ptr, msg->host.len) == 0))
        return 0;
    uint64_t held;
    if (zwatch_ratelimit_ok (&self->mismatch_limit, now, WARN_INTERVAL_MS, &held)) {
        const char *key = zmq_msg_gets (body, "User-Id");
        zsys_warning ("zwatch-broker: dropped a message for host '%.*s' from key %s, whose "
                      "certificate is for host '%s' (host_mismatch, %" PRIu64 " since the "
                      "last line)", (int) msg->host.len, msg->host.ptr, key? key: "?", host,
                      held + 1);
    }
    //  Tell the agent on that connection which host its certificate allows
    zwatch_broker_security_refuse (self, ingest, routing_id, "host_mismatch", host, msg->host, now);
    return -1;
}

int
zwatch_broker_security_check_relay (zwatch_broker_security_t *self, void *ingest,
                                    zmq_msg_t *routing_id, zmq_msg_t *body,
                                    const zwatch_msg_t *msg, size_t via_count, int64_t now)
{
    if (!self || !self->curve || via_count == 0)
        return 0;
    const char *role = zmq_msg_gets (body, ZWATCH_ZAP_ROLE_PROPERTY);
    if (role && streq (role, ZWATCH_ZAP_ROLE_RELAY))
        return 0;
    uint64_t held;
    if (zwatch_ratelimit_ok (&self->relay_limit, now, WARN_INTERVAL_MS, &held)) {
        const char *key = zmq_msg_gets (body, "User-Id");
        zsys_warning ("zwatch-broker: dropped a forwarded message (via) for host '%.*s' from "
                      "key %s, whose certificate is not a relay's (relay_denied, %" PRIu64
                      " since the last line)", (int) msg->host.len, msg->host.ptr,
                      key? key: "?", held + 1);
    }
    //  host: what the certificate allows (its host, else any: the message's)
    char allowed [ZWATCH_HOST_MAX + 1];
    const char *host = zmq_msg_gets (body, ZWATCH_ZAP_HOST_PROPERTY);
    snprintf (allowed, sizeof (allowed), "%.*s", host? (int) strlen (host): (int) msg->host.len,
              host? host: msg->host.ptr);
    zwatch_broker_security_refuse (self, ingest, routing_id, "relay_denied", allowed, msg->host,
                                   now);
    return -1;
}

uint64_t
zwatch_broker_security_refusals_sent (zwatch_broker_security_t *self)
{
    return self? self->refusals_sent: 0;
}

bool
zwatch_broker_security_watching (zwatch_broker_security_t *self)
{
    return self && self->agent;
}

bool
zwatch_broker_security_own_publish (zwatch_broker_security_t *self, const zwatch_msg_t *msg)
{
    if (!self || !self->agent || msg->kind != ZWATCH_KIND_EVENT || msg->pid != (uint64_t) getpid ())
        return false;
    const char *host = zwatch_agent_host (self->agent);
    const char *service = zwatch_agent_service (self->agent);
    return msg->host.len == strlen (host) && memcmp (msg->host.ptr, host, msg->host.len) == 0
        && msg->svc.len == strlen (service) && memcmp (msg->svc.ptr, service, msg->svc.len) == 0
        && msg->sock.len == 7 && memcmp (msg->sock.ptr, "publish", 7) == 0;
}

uint64_t
zwatch_broker_security_auth_failures (zwatch_broker_security_t *self)
{
    uint64_t failures = 0;
    if (self && self->zap && zstr_send (self->zap, "FAILURES") == 0)
        zsock_recv (self->zap, "8", &failures);
    return failures;
}
