/*  zwatch_client.h: a client of a zwatch broker's feed and snapshots.

    #include <zwatch_client.h>, link with `pkg-config --cflags --libs zwatch-client`
    (libzwatch-client.so; CZMQ and msgpack-c, not the agent library).

    The client subscribes to the broker's feed (publish endpoint), asks for
    a snapshot (snapshot endpoint) and merges the two by the merge rule
    (docs/PROTOCOL.md section 13), so it holds the fleet's current state:
    agents, their sockets, what they listen on, retry and are connected
    to, and the links between watched sockets. It hands the caller what
    changes, one change at a time (zwatch_client_next), and lets it read
    the state at any time.

    It starts over by itself (a new snapshot and merge, told as
    RESYNC_START and RESYNC_DONE) when continuity is lost: the broker
    restarted (its stats uptime went back, its link numbers restarted), a
    gap in an agent's seq or in the link numbers, the feed's connection
    came back after the broker was unreachable, messages kept during a
    snapshot over their bound, or an agent that reconnected and replays
    its state to the broker (replays are not in the feed, so the client
    asks again, up to 5 times with growing waits, while the snapshot says
    an agent is partial).

    Every message from the network goes through a strict decoder (proto's
    for events, a bounds-checked reader for the broker's maps); a bad one
    is counted by reason (zwatch_client_bad) and skipped.

    Not thread-safe: one thread uses a client. Strings handed out are
    NUL-terminated and valid until the next zwatch_client_next or
    zwatch_client_destroy; state handles until the next zwatch_client_next.
*/
#ifndef ZWATCH_CLIENT_H_INCLUDED
#define ZWATCH_CLIENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZWATCH_CLIENT_PUBLISH_DEFAULT   "tcp://127.0.0.1:5571"
#define ZWATCH_CLIENT_SNAPSHOT_DEFAULT  "tcp://127.0.0.1:5572"
//  Feed messages kept while a snapshot is read (zwatch_client_set_queue_limit)
#define ZWATCH_CLIENT_QUEUE_DEFAULT     100000
//  Changes waiting for the caller; one message that makes more starts over
#define ZWATCH_CLIENT_CHANGES_MAX       100000

typedef struct _zwatch_client_t zwatch_client_t;

//  What changed. Stable numbers.
typedef enum {
    ZWATCH_CHANGE_AGENT_UP = 1,         //  the broker heard from an agent first (agent/ up);
                                        //  AGENT_* from the feed: ts and body (its agent/ map)
    ZWATCH_CHANGE_AGENT_GONE,           //  it said bye; its sockets were removed before
    ZWATCH_CHANGE_AGENT_LOST,           //  it went silent (the broker's heartbeat timeout)
    ZWATCH_CHANGE_SOCKET_ADDED,         //  sock, stype
    ZWATCH_CHANGE_SOCKET_REMOVED,       //  its connections went down before
    ZWATCH_CHANGE_CONNECTION_UP,        //  sock, in, endpoint, local, peer, peer_pid, fd, since
    ZWATCH_CHANGE_CONNECTION_DOWN,
    ZWATCH_CHANGE_LINK_UP,              //  from, to, endpoint, since, lseq
    ZWATCH_CHANGE_LINK_DOWN,
    ZWATCH_CHANGE_EVENT,                //  every event applied (not those before the snapshot)
    ZWATCH_CHANGE_STATS,                //  broker, uptime, body (the stats map)
    ZWATCH_CHANGE_GAP,                  //  an agent's seq skipped: lost events, seq after them
    ZWATCH_CHANGE_RESYNC_START,         //  reason: why the client starts over
    ZWATCH_CHANGE_RESYNC_DONE,          //  the state is whole again: read it afresh
    ZWATCH_CHANGE_BROKER_UNREACHABLE,   //  the feed's connection is down (libzmq retries);
                                        //  reason "auth" / "protocol" (a refusal: told
                                        //  even while unreachable), "disconnected",
                                        //  "retrying"
    ZWATCH_CHANGE_BROKER_BACK,          //  and up again (a RESYNC_START follows); BROKER_*:
                                        //  the SUB monitor's event as code, value (errno,
                                        //  ZAP status, protocol error) and endpoint
    ZWATCH_CHANGE_HISTORY               //  an event the broker held before the snapshot
                                        //  (zwatch_client_set_history), oldest first, after
                                        //  RESYNC_START; as EVENT, but not applied to the state
} zwatch_change_kind_t;

//  One end of a link
typedef struct {
    const char *host;
    const char *svc;
    uint64_t pid;
    const char *sock;
    const char *addr;                   //  its local address, "" if unknown
} zwatch_change_end_t;

//  One change, read-only. Fields that do not apply to its kind are 0 /
//  NULL. Strings NUL-terminated.
typedef struct {
    zwatch_change_kind_t kind;
    //  The agent: AGENT_*, SOCKET_*, CONNECTION_*, EVENT, HISTORY, GAP
    const char *host;
    const char *svc;
    uint64_t pid;
    uint64_t start;                     //  AGENT_*: its start (epoch ns), 0 if not known
    //  AGENT_*: the broker's counts (seq, events, lost); EVENT: its seq;
    //  GAP: the seq that came after the gap. EVENT, HISTORY: events is how
    //  many monitor events it stands for (1, or a folded storm's count;
    //  since is then the first one's ts)
    uint64_t seq;
    uint64_t events;
    uint64_t lost;                      //  AGENT_*: all lost; GAP: lost in this gap
    //  SOCKET_*, CONNECTION_*, EVENT
    const char *sock;
    const char *stype;
    //  CONNECTION_*, LINK_*, EVENT: the endpoint
    const char *endpoint;
    bool in;                            //  CONNECTION_*: accepted (true) or connected
    const char *local;                  //  CONNECTION_*, EVENT: NULL if unknown
    const char *peer;
    uint64_t peer_pid;                  //  0 if unknown
    int64_t fd;                         //  CONNECTION_*: the connection's fd
    uint64_t since;                     //  CONNECTION_*, LINK_*: when it began (ts); EVENT: above
    //  EVENT: its name, libzmq code, value, ts (epoch ns)
    const char *event;
    uint32_t code;
    int64_t value;
    uint64_t ts;
    //  LINK_*
    zwatch_change_end_t from;           //  the connecting end
    zwatch_change_end_t to;             //  the accepting end
    uint64_t lseq;
    //  STATS
    const char *broker;                 //  the broker's ID
    uint64_t uptime;                    //  ms since it started
    //  RESYNC_START: "start", "broker_restart", "reconnect", "gap",
    //  "link_gap", "replay", "queue_full", "changes_full", "snapshot_failed"
    const char *reason;
    //  EVENT and HISTORY (the agent's msgpack message), STATS (the broker's map),
    //  AGENT_* from the feed (the broker's agent/ map; none from a snapshot)
    const void *body;
    size_t body_size;
} zwatch_change_t;

//  Read access to the state: opaque handles
typedef struct _zwatch_client_agent_t zwatch_client_agent_t;
typedef struct _zwatch_client_socket_t zwatch_client_socket_t;
typedef struct _zwatch_client_conn_t zwatch_client_conn_t;
typedef struct _zwatch_client_retry_t zwatch_client_retry_t;
typedef struct _zwatch_client_link_t zwatch_client_link_t;

//  A client of the broker at publish_ep (NULL: ZWATCH_CLIENT_PUBLISH_DEFAULT)
//  and snapshot_ep (NULL: ZWATCH_CLIENT_SNAPSHOT_DEFAULT). Nothing connects
//  before zwatch_client_start. NULL with errno EINVAL (an endpoint that is
//  not transport://address) or ENOMEM.
zwatch_client_t *zwatch_client_new (const char *publish_ep, const char *snapshot_ep);

//  Close the sockets and free everything; sets *self_p NULL. Idempotent.
void zwatch_client_destroy (zwatch_client_t **self_p);

//  CURVE, as zwatch-sub takes it: the broker's public key (Z85, 40
//  chars) and our certificate's secret file (zwatch-keygen), or NULL for
//  a fresh keypair. Before _start. Returns 0, or -1 with errno EINVAL (bad
//  key or certificate; zwatch_client_error says why) or EBUSY (started).
int zwatch_client_set_curve (zwatch_client_t *self, const char *server_key,
                             const char *cert_path);

//  Only agents of these hosts / services (repeatable; none: all). An agent
//  is held when its host is one of the hosts (if any) and its service one
//  of the services (if any); a link when either end's agent is held. A
//  name ending in '*' is a prefix ("web*": web, web-1, ...; "*": any).
//  Before _start. Returns 0, or -1 with errno EINVAL (not a valid host ID
//  / service name), EBUSY (started) or ENOMEM.
int zwatch_client_add_host_filter (zwatch_client_t *self, const char *host);
int zwatch_client_add_service_filter (zwatch_client_t *self, const char *svc);

//  Feed messages kept while a snapshot is read (0: the default). Over it
//  the client counts them (zwatch_client_dropped) and starts over.
//  Before _start. Returns 0, or -1 with errno EBUSY.
int zwatch_client_set_queue_limit (zwatch_client_t *self, size_t limit);

//  Ask each snapshot for up to events of the broker's recent history
//  (0: none, the default; the broker caps it at its ring). They come as
//  HISTORY changes before RESYNC_DONE, within the filters. Before _start.
//  Returns 0, or -1 with errno EBUSY.
int zwatch_client_set_history (zwatch_client_t *self, size_t events);

//  Connect, subscribe, ask for the first snapshot. Returns 0, or -1 with
//  errno EBUSY (started already) or what libzmq said (zwatch_client_error).
int zwatch_client_start (zwatch_client_t *self);

//  The next change, waiting up to timeout_ms (0: do not wait; -1: for
//  ever) while the client reads the network. NULL when nothing changed in
//  that time (errno EAGAIN) or on a signal (EINTR) or before _start
//  (EINVAL). The change is valid until the next call.
const zwatch_change_t *zwatch_client_next (zwatch_client_t *self, int timeout_ms);

//  A file descriptor for the caller's poll loop (poll / epoll / zpoller:
//  readable when the client has something to read). When it is readable,
//  and at least every 500 ms (the client's own timers), call
//  zwatch_client_next (self, 0) until it returns NULL. -1 before _start.
int zwatch_client_fd (zwatch_client_t *self);

//  True between the first RESYNC_DONE and the next RESYNC_START
bool zwatch_client_synced (zwatch_client_t *self);

//  Messages refused, by reason ("bad_type", "not_map", "bad_topic", ...;
//  NULL: all reasons together), and the index-th reason counted (NULL
//  past the last) with its count
uint64_t zwatch_client_bad (zwatch_client_t *self, const char *reason);
const char *zwatch_client_bad_reason (zwatch_client_t *self, size_t index, uint64_t *count);

//  Feed messages dropped over the queue limit, resyncs started, snapshot
//  requests sent
uint64_t zwatch_client_dropped (zwatch_client_t *self);
uint64_t zwatch_client_resyncs (zwatch_client_t *self);
uint64_t zwatch_client_snapshots (zwatch_client_t *self);

//  The broker's ID from its last stats message, or NULL
const char *zwatch_client_broker (zwatch_client_t *self);

//  The last error as one line (for _set_curve, _start)
const char *zwatch_client_error (zwatch_client_t *self);

/*  The state. Walks use one cursor per container (agents; an agent's
    sockets; a socket's connections, listening endpoints, retrying
    entries; links): no two walks of one container at once. Order is
    not defined. NULL at the end.  */

size_t zwatch_client_agents (zwatch_client_t *self);
zwatch_client_agent_t *zwatch_client_agent_first (zwatch_client_t *self);
zwatch_client_agent_t *zwatch_client_agent_next (zwatch_client_t *self);
//  The agent (host, svc, pid), or NULL
zwatch_client_agent_t *zwatch_client_agent_lookup (zwatch_client_t *self, const char *host,
                                                   const char *svc, uint64_t pid);

const char *zwatch_client_agent_host (const zwatch_client_agent_t *agent);
const char *zwatch_client_agent_svc (const zwatch_client_agent_t *agent);
uint64_t zwatch_client_agent_pid (const zwatch_client_agent_t *agent);
uint64_t zwatch_client_agent_start (const zwatch_client_agent_t *agent);
//  The last seq applied (0 if none)
uint64_t zwatch_client_agent_seq (const zwatch_client_agent_t *agent);
//  True if the broker had no complete replay of it (its state may lack what
//  it did before the broker heard of it)
bool zwatch_client_agent_partial (const zwatch_client_agent_t *agent);
//  The counters of its last heartbeat, as of the last snapshot: events
//  read from libzmq, sent, dropped at its queue, sockets watched
uint64_t zwatch_client_agent_read (const zwatch_client_agent_t *agent);
uint64_t zwatch_client_agent_sent (const zwatch_client_agent_t *agent);
uint64_t zwatch_client_agent_dropped (const zwatch_client_agent_t *agent);
uint64_t zwatch_client_agent_watched (const zwatch_client_agent_t *agent);
size_t zwatch_client_agent_sockets (const zwatch_client_agent_t *agent);

zwatch_client_socket_t *zwatch_client_socket_first (zwatch_client_agent_t *agent);
zwatch_client_socket_t *zwatch_client_socket_next (zwatch_client_agent_t *agent);
const char *zwatch_client_socket_label (const zwatch_client_socket_t *socket);
const char *zwatch_client_socket_stype (const zwatch_client_socket_t *socket);
//  Its last BIND_FAILED: the endpoint (NULL: none), errno and ts
const char *zwatch_client_socket_bind_error (const zwatch_client_socket_t *socket,
                                             int64_t *errnum, uint64_t *ts);
size_t zwatch_client_socket_connections (const zwatch_client_socket_t *socket);
//  The endpoints it listens on
const char *zwatch_client_listening_first (zwatch_client_socket_t *socket);
const char *zwatch_client_listening_next (zwatch_client_socket_t *socket);
//  Its live connections
zwatch_client_conn_t *zwatch_client_conn_first (zwatch_client_socket_t *socket);
zwatch_client_conn_t *zwatch_client_conn_next (zwatch_client_socket_t *socket);
//  The endpoints it retries
zwatch_client_retry_t *zwatch_client_retry_first (zwatch_client_socket_t *socket);
zwatch_client_retry_t *zwatch_client_retry_next (zwatch_client_socket_t *socket);

//  A connection: accepted (in) or connected, its endpoint, local and peer
//  address (NULL: unknown), peer_pid (ipc accepted; 0: unknown), fd, since
bool zwatch_client_conn_in (const zwatch_client_conn_t *conn);
const char *zwatch_client_conn_endpoint (const zwatch_client_conn_t *conn);
const char *zwatch_client_conn_local (const zwatch_client_conn_t *conn);
const char *zwatch_client_conn_peer (const zwatch_client_conn_t *conn);
uint64_t zwatch_client_conn_peer_pid (const zwatch_client_conn_t *conn);
int64_t zwatch_client_conn_fd (const zwatch_client_conn_t *conn);
uint64_t zwatch_client_conn_since (const zwatch_client_conn_t *conn);

//  A retrying endpoint: the last reconnect interval (ms), the first retry
//  of this run and the latest (ts)
const char *zwatch_client_retry_endpoint (const zwatch_client_retry_t *retry);
int64_t zwatch_client_retry_ivl (const zwatch_client_retry_t *retry);
uint64_t zwatch_client_retry_since (const zwatch_client_retry_t *retry);
uint64_t zwatch_client_retry_last (const zwatch_client_retry_t *retry);

//  Links: connections whose two ends are both watched, from the
//  connecting end to the accepting one
size_t zwatch_client_links (zwatch_client_t *self);
const zwatch_client_link_t *zwatch_client_link_first (zwatch_client_t *self);
const zwatch_client_link_t *zwatch_client_link_next (zwatch_client_t *self);
//  Its ends (valid as the link), endpoint and since (ts)
const zwatch_change_end_t *zwatch_client_link_from (const zwatch_client_link_t *link);
const zwatch_change_end_t *zwatch_client_link_to (const zwatch_client_link_t *link);
const char *zwatch_client_link_endpoint (const zwatch_client_link_t *link);
uint64_t zwatch_client_link_since (const zwatch_client_link_t *link);

/*  De-duplication for a subscriber of several brokers that the same agents
    report to (a broker pair: ZWATCH_BROKER=a,b; docs/RELIABILITY.md
    section 11). Feed every ev/ and agent/ message of every broker through
    it and deliver only what it says to. Events: the agent numbers each
    once, the same seq at every broker, so per agent (host, svc, pid) it
    keeps the highest seq delivered and which of the
    ZWATCH_CLIENT_DEDUP_WINDOW seqs below it were: a seq delivered, or
    below the window, is a duplicate. agent/ messages: per agent instance
    it keeps each broker's last state and delivers a message when the
    merged state changes: "up" when some broker has it up, "gone" when one
    says gone (a bye is final), "lost" when every broker that spoke of it
    says lost. An agent/ message with a new start is a new instance (its
    window starts again). Bounded: at most agents_max agents, the least
    recently heard forgotten first (counted). Not thread-safe.  */
typedef struct _zwatch_client_dedup_t zwatch_client_dedup_t;

#define ZWATCH_CLIENT_DEDUP_WINDOW      1024    //  seqs below the highest remembered
#define ZWATCH_CLIENT_DEDUP_AGENTS      10000   //  agents remembered by default
#define ZWATCH_CLIENT_DEDUP_BROKERS     8       //  brokers whose states are merged

//  agents_max 0: ZWATCH_CLIENT_DEDUP_AGENTS. NULL with errno ENOMEM.
zwatch_client_dedup_t *zwatch_client_dedup_new (size_t agents_max);
void zwatch_client_dedup_destroy (zwatch_client_dedup_t **self_p);

//  An event of agent (host, svc, pid) with seq: true to deliver it (the
//  first time), false for a duplicate
bool zwatch_client_dedup_event (zwatch_client_dedup_t *self, const char *host, const char *svc,
                                uint64_t pid, uint64_t seq);

//  An agent/ message from broker (its ID) with state "up", "gone" or
//  "lost" for instance (host, svc, pid, start): true to deliver it (the
//  merged state changed), false if not. Other states are delivered.
bool zwatch_client_dedup_agent (zwatch_client_dedup_t *self, const char *broker,
                                const char *host, const char *svc, uint64_t pid, uint64_t start,
                                const char *state);

//  Messages it said not to deliver; agents forgotten to stay in its bound
uint64_t zwatch_client_dedup_duplicates (zwatch_client_dedup_t *self);
uint64_t zwatch_client_dedup_evicted (zwatch_client_dedup_t *self);

#ifdef __cplusplus
}
#endif

#endif
