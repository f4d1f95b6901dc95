/*  zwatch_agent.h: watch a service's ZeroMQ sockets, forward their monitor
    events to a zwatch broker. See README.md "Using the agent".
*/
#ifndef ZWATCH_AGENT_H_INCLUDED
#define ZWATCH_AGENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zwatch_agent_t zwatch_agent_t;

//  Agent counters, as reported in heartbeats. With several brokers
//  (zwatch_agent_new), sent and dropped are the agent's as a whole: sent
//  = events some broker's queue took (each has a seq, the same at every
//  broker), dropped = events no broker's queue took (lost to all), so
//  read = sent + dropped still; state_dropped and refused are summed over
//  the brokers. Each broker's own: zwatch_agent_broker_stats.
typedef struct {
    uint64_t read;          //  monitor events read from watched sockets
    uint64_t sent;          //  events handed to the upstream socket (the last seq; a
                            //  folded summary counts the events it stands for)
    uint64_t dropped;       //  events dropped because the queue was full (in events too)
    uint64_t watched;       //  sockets watched now
    uint64_t skipped;       //  monitor frames skipped: not part of a whole event (a
                            //  signal on a service thread can cut libzmq's send of one)
    uint64_t untracked;     //  facts not kept for replays: a connection over its
                            //  socket's bound (zwatch_agent_set_connection_limit), a
                            //  listening or retrying endpoint over 64 per socket
    uint64_t state_dropped; //  replay messages (state, state_end) the queue did not take
    uint64_t refused;       //  refusals from the broker: it drops our messages (host_mismatch:
                            //  our certificate is for another host; logged once)
} zwatch_agent_stats_t;

//  One broker's counters (zwatch_agent_broker_stats), as its heartbeats
//  carry them
typedef struct {
    const char *endpoint;   //  as listed; valid until zwatch_agent_destroy
    int connected;          //  1 while its connection is up (a handshake succeeded and
                            //  it has not dropped since; inproc: always 1)
    uint64_t sent;          //  event messages its queue took
    uint64_t dropped;       //  event messages its queue did not take (full: the
                            //  broker down or slow); sent + dropped = read
    uint64_t state_dropped; //  replay messages its queue did not take
    uint64_t refused;       //  refusals it sent us
} zwatch_agent_broker_stats_t;

#define ZWATCH_AGENT_QUEUE_DEFAULT      10000   //  messages held for each broker
#define ZWATCH_AGENT_BROKERS_MAX        4       //  brokers one agent reports to at most
#define ZWATCH_AGENT_SOCKETS_LIMIT      4096    //  sockets one agent watches at most
#define ZWATCH_AGENT_HEARTBEAT_DEFAULT  2000    //  msecs between heartbeats
#define ZWATCH_AGENT_CONNECTIONS_DEFAULT 10000  //  live connections kept per socket

//  What the agent keeps of each watched socket, to replay to every broker
//  it connects to (after each hello; docs/PROTOCOL.md section 4): the
//  endpoints it listens on and retries (64 of each at most), its last bind
//  error, and its live connections (ZWATCH_AGENT_CONNECTIONS_DEFAULT at
//  most, or zwatch_agent_set_connection_limit). Each costs about 100 bytes
//  (one allocation and its hash slots) plus its endpoint and addresses (at
//  most about 870 bytes); what is over a bound is not kept and counted in
//  stats.untracked.

//  Start an agent for sockets in zmq_ctx. broker_endpoint NULL means
//  $ZWATCH_BROKER, else ZWATCH_DEFAULT_INGEST. It may list several brokers,
//  comma-separated with no spaces ("tcp://a:5570,tcp://b:5570", at most
//  ZWATCH_AGENT_BROKERS_MAX): the agent sends everything to each, through
//  its own queue (each of the queue limit), so either one alone has the
//  whole picture and one broker down costs nothing on the others.
//  $ZWATCH_CURVE_SERVER_KEY and $ZWATCH_CURVE_CERT turn on CURVE (see
//  zwatch_agent_set_curve; the same keys for every broker). Returns NULL
//  with errno on failure, libzmq's for an endpoint: EINVAL (zmq_ctx NULL,
//  an endpoint not "transport://address", an empty element in the list,
//  an endpoint listed twice, bad CURVE setting), E2BIG (more than
//  ZWATCH_AGENT_BROKERS_MAX brokers), EPROTONOSUPPORT (a transport libzmq
//  does not have, e.g. "bogus://x"), ENOMEM. Each failure is logged on
//  one line.
zwatch_agent_t *zwatch_agent_new (void *zmq_ctx, const char *broker_endpoint);

//  Watch every monitor event of socket (a libzmq socket; with CZMQ pass
//  zsock_resolve (sock)). Call it from the thread that owns the socket.
//  label NULL means "<STYPE>-<n>". Returns 0, or -1 with errno: EINVAL
//  (socket NULL or not a libzmq socket, label not 1-ZWATCH_SOCK_MAX
//  printable ASCII characters), EEXIST (already watched), ENOTSUP (agent
//  NULL), ETERM (the socket's or the agent's context was terminated or
//  shut down), ENOSPC (ZWATCH_AGENT_SOCKETS_LIMIT sockets already watched).
int zwatch_agent_watch (zwatch_agent_t *self, void *socket, const char *label);

//  Stop watching socket: unregisters its monitor, and reads its
//  MONITOR_STOPPED, before returning. Returns 0, or -1 with errno ENOENT
//  (not watched), EINVAL (socket NULL), ENOTSUP (agent NULL).
int zwatch_agent_unwatch (zwatch_agent_t *self, void *socket);

//  Say bye and stop; returns within ~1 s even with no broker. Sockets the
//  service closed are forgotten by themselves (after their CLOSED and
//  MONITOR_STOPPED events). Sockets still watched must still be open: destroy
//  unregisters their monitors (so don't close them concurrently with it).
//  destroy waits up to 300 ms for the MONITOR_STOPPED of sockets closed
//  just before it (and up to 300 ms more for those libzmq's reaper has not
//  stopped yet); a service that closes hundreds of watched sockets right
//  before destroy should unwatch them before closing them.
//  If the service terminated its context first, the agent already let go.
void zwatch_agent_destroy (zwatch_agent_t **self_p);

//  Setters: call before the first watch. Return 0 or -1 with errno EINVAL
//  (agent NULL, value out of range: limit 1..INT32_MAX, msecs >= 10).
//  Queue limit (messages) for each broker link; default ZWATCH_AGENT_QUEUE_DEFAULT.
int zwatch_agent_set_queue_limit (zwatch_agent_t *self, size_t limit);
//  Heartbeat interval in msecs; default ZWATCH_AGENT_HEARTBEAT_DEFAULT.
int zwatch_agent_set_heartbeat (zwatch_agent_t *self, int msecs);
//  Live connections kept per socket for replays, for sockets watched
//  afterwards; default ZWATCH_AGENT_CONNECTIONS_DEFAULT.
int zwatch_agent_set_connection_limit (zwatch_agent_t *self, size_t limit);

//  Storm folding, on by default ($ZWATCH_FOLD=0 turns it off from
//  zwatch_agent_new): of one socket's repeats of an event (same code and
//  endpoint, e.g. CONNECT_RETRIED to a dead peer) the first 3 within a
//  second go out at once, the rest as one summary a second with their count
//  (docs/PROTOCOL.md section 4, "Folding"). Off sends what is held first.
//  Any time. Returns 0, or -1 with errno EINVAL (agent NULL), ENOMEM.
int zwatch_agent_set_fold (zwatch_agent_t *self, bool fold);

//  Secure the link to the broker with CURVE. server_key: the broker's
//  public key (40 characters of Z85); cert_path: this agent's certificate
//  secret file (zwatch-keygen or zcert_save), or NULL for a fresh keypair
//  (only a broker that accepts any key lets it in). Reconnects at once.
//  $ZWATCH_CURVE_SERVER_KEY and $ZWATCH_CURVE_CERT do the same from
//  zwatch_agent_new, before the first connection (preferred).
//  Returns 0, or -1 with errno EINVAL (agent NULL, bad key or file; the
//  reason is logged).
int zwatch_agent_set_curve (zwatch_agent_t *self, const char *server_key, const char *cert_path);

//  Copy the agent's counters into *stats. Returns 0, or -1 with errno
//  EINVAL (agent or stats NULL).
int zwatch_agent_stats (zwatch_agent_t *self, zwatch_agent_stats_t *stats);

//  Storm folding's counters (either pointer may be NULL): folded, events
//  held for a storm's summary instead of sent one by one (read = sent +
//  dropped + those held now, at most a second's); unfolded, storm events
//  sent one by one because the fold table was full. Apart from
//  zwatch_agent_stats_t, whose size libzwatch.so.1 keeps. Returns 0, or -1
//  with errno EINVAL (agent NULL).
int zwatch_agent_fold_stats (zwatch_agent_t *self, uint64_t *folded, uint64_t *unfolded);

//  How many brokers the agent reports to (0 if agent is NULL)
size_t zwatch_agent_brokers (zwatch_agent_t *self);

//  Copy the index-th broker's counters (0 .. brokers - 1, in the order
//  listed) into *stats. Returns 0, or -1 with errno EINVAL (agent or
//  stats NULL) or ERANGE (no such broker).
int zwatch_agent_broker_stats (zwatch_agent_t *self, size_t index,
                               zwatch_agent_broker_stats_t *stats);

//  The host ID and service name this agent reports (NULL if agent is NULL)
const char *zwatch_agent_host (zwatch_agent_t *self);
const char *zwatch_agent_service (zwatch_agent_t *self);

#ifdef __cplusplus
}
#endif

#endif
