/*  zwatch_fleet: the fleet's current state, built from agent messages.

    For each agent instance (host, svc, pid, start): its sockets (label,
    stype) and for each socket the endpoints it listens on, its live
    connections, the endpoints it retries and its last bind error; plus
    the fleet links, the connections whose two ends are both known. The
    rules are docs/PROTOCOL.md section 11; in short:

    - zwatch_fleet_apply takes every message the decoder accepted, in the
      order they came. An event applies to its agent's live state when
      its seq is above the last seq applied for the agent (else it is
      counted `stale` and ignored). hello starts a replay, state messages
      fill a pending copy, state_end with a matching count replaces the
      agent's state with it; a replay cut short (count or seq mismatch,
      a new hello before state_end) marks the agent partial. bye removes
      the agent; zwatch_fleet_forget does for gone / lost.
    - Links are made and broken as connections come and go, in either
      order of arrival, and reported to the link handler.
    - Everything is bounded (zwatch_fleet_limits_t); what is over a bound
      is counted (zwatch_fleet_counters_t) and not kept.
    - A snapshot is a cursor that packs the model as msgpack frames
      (agent, socket, link maps) one agent at a time, so the broker can
      send it in slices between ingest batches while the model goes on
      changing; each agent's frames are of one instant.

    Strings handed out (link ends) are valid during the call only. Not
    thread-safe: one thread (the broker's) owns a fleet.
*/
#ifndef ZWATCH_FLEET_H_INCLUDED
#define ZWATCH_FLEET_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Default bounds (zwatch_fleet_limits_t); 0 in a field means its default
#define ZWATCH_FLEET_AGENTS_DEFAULT         10000
#define ZWATCH_FLEET_SOCKETS_DEFAULT        4096    //  per agent: the agent's own watch limit
#define ZWATCH_FLEET_LISTENING_DEFAULT      64      //  per socket
#define ZWATCH_FLEET_CONNECTIONS_DEFAULT    10000   //  per socket
#define ZWATCH_FLEET_RETRYING_DEFAULT       256     //  per socket
#define ZWATCH_FLEET_CONNECTIONS_ALL_DEFAULT 1000000 //  in the whole fleet
#define ZWATCH_FLEET_LINKS_DEFAULT          500000  //  in the whole fleet

typedef struct {
    size_t agents;              //  agent instances
    size_t sockets;             //  sockets per agent
    size_t listening;           //  listening endpoints per socket
    size_t connections;         //  live connections per socket
    size_t retrying;            //  retrying endpoints per socket
    size_t connections_all;     //  live connections in the whole fleet
    size_t links;               //  links in the whole fleet
} zwatch_fleet_limits_t;

//  Counters since the fleet was made, for the broker's stats
typedef struct {
    uint64_t agents_refused;        //  messages of a new agent while the table was full
    uint64_t sockets_refused;       //  events / facts of a new socket over its agent's bound
    uint64_t listening_refused;     //  LISTENING over the socket's bound
    uint64_t connections_refused;   //  CONNECTED / ACCEPTED over a connection bound
    uint64_t retrying_refused;      //  CONNECT_RETRIED of a new endpoint over the bound
    uint64_t links_refused;         //  two matching ends not joined: links at the bound
    uint64_t link_conflicts;        //  an end that took the place of another with the same addresses
    uint64_t stale;                 //  events at or below their agent's last applied seq
    uint64_t unmatched;             //  DISCONNECTED / CLOSED that matched nothing
    uint64_t replays_complete;      //  state_end that replaced an agent's state
    uint64_t replays_partial;       //  replays cut short (the agent was marked partial)
    uint64_t lseq;                  //  link changes reported (the last lseq)
} zwatch_fleet_counters_t;

//  One end of a link
typedef struct {
    const char *host;
    const char *svc;
    uint64_t pid;
    const char *sock;               //  socket label
    const char *addr;               //  this end's local address ("" if unknown)
} zwatch_fleet_end_t;

//  A link change: `from` connected (CONNECTED), `to` accepted (ACCEPTED)
typedef struct {
    bool up;                        //  made (true) or broken (false)
    zwatch_fleet_end_t from;
    zwatch_fleet_end_t to;
    const char *endpoint;           //  what `from` connected to
    uint64_t since;                 //  ts of the later of the two ends
    uint64_t lseq;                  //  this change's number: 1, 2, 3, ... per fleet
} zwatch_fleet_link_t;

//  Called for every link change, from inside zwatch_fleet_apply / _forget
typedef void (zwatch_fleet_link_fn) (void *arg, const zwatch_fleet_link_t *link);

typedef struct _zwatch_fleet_t zwatch_fleet_t;
typedef struct _zwatch_fleet_snapshot_t zwatch_fleet_snapshot_t;

//  Read access to the model (zwatch_fleet_read.c): opaque handles, valid
//  until the next _apply, _forget, _load_* or _destroy
typedef struct _fleet_agent_t zwatch_fleet_agent_t;
typedef struct _fleet_socket_t zwatch_fleet_socket_t;
typedef struct _fleet_conn_t zwatch_fleet_conn_t;
typedef struct _fleet_retry_t zwatch_fleet_retry_t;

//  What changed in an agent's live sockets (not in a pending replay copy)
typedef enum {
    ZWATCH_FLEET_SOCKET_ADDED = 1,
    ZWATCH_FLEET_SOCKET_REMOVED,
    ZWATCH_FLEET_CONNECTION_UP,
    ZWATCH_FLEET_CONNECTION_DOWN
} zwatch_fleet_change_kind_t;

typedef struct {
    zwatch_fleet_change_kind_t kind;
    const zwatch_fleet_agent_t *agent;
    const zwatch_fleet_socket_t *socket;
    const zwatch_fleet_conn_t *conn;    //  CONNECTION_UP / _DOWN, else NULL
} zwatch_fleet_change_t;

//  Called for every such change, from inside zwatch_fleet_apply / _forget;
//  the handles are valid during the call only
typedef void (zwatch_fleet_change_fn) (void *arg, const zwatch_fleet_change_t *change);

//  New empty fleet. limits NULL (or fields 0): the defaults. NULL on
//  failure (ENOMEM).
zwatch_fleet_t *zwatch_fleet_new (const zwatch_fleet_limits_t *limits);

//  Destroy the fleet (no link changes are reported); sets *self_p NULL
void zwatch_fleet_destroy (zwatch_fleet_t **self_p);

//  Report link changes to fn (NULL: none)
void zwatch_fleet_set_link_handler (zwatch_fleet_t *self, zwatch_fleet_link_fn *fn, void *arg);

//  Report socket and connection changes to fn (NULL: none). A complete
//  replay reports the sockets it removes and those it brings.
void zwatch_fleet_set_change_handler (zwatch_fleet_t *self, zwatch_fleet_change_fn *fn,
                                      void *arg);

//  Apply one decoded agent message. Returns 0, or -1 with errno ENOSPC
//  when it was not kept because a bound was reached (counted), or ENOMEM.
int zwatch_fleet_apply (zwatch_fleet_t *self, const zwatch_msg_t *msg);

//  The agent is gone or lost: drop its whole state (its links break).
//  Returns 0, or -1 with errno ENOENT if it was not in the model.
int zwatch_fleet_forget (zwatch_fleet_t *self, zwatch_str_t host, zwatch_str_t svc, uint64_t pid);

//  A client loading a snapshot (PROTOCOL.md section 13) gives each agent
//  as a replay: _load_agent with a heartbeat-like msg (host, svc, pid,
//  start, seq S, read, sent, dropped, watched) drops what the model held
//  for that agent and opens a replay of seq S; then _load_socket for each
//  socket (it is known even with no fact), zwatch_fleet_apply of a state
//  (seq S) for each fact, and a state_end (seq S, count: the facts). The
//  agent then holds exactly that, at seq S. Returns 0 or -1 (ENOSPC, or
//  ENOENT: no load open for the agent).
int zwatch_fleet_load_agent (zwatch_fleet_t *self, const zwatch_msg_t *msg);
int zwatch_fleet_load_socket (zwatch_fleet_t *self, const zwatch_msg_t *msg);

//  The model, read: agents (hash order), an agent's sockets, a socket's
//  connections, listening endpoints and retrying entries. Each _first /
//  _next pair is a cursor of its container: no two walks of one container
//  at once. NULL at the end.
zwatch_fleet_agent_t *zwatch_fleet_agent_first (zwatch_fleet_t *self);
zwatch_fleet_agent_t *zwatch_fleet_agent_next (zwatch_fleet_t *self);
zwatch_fleet_agent_t *zwatch_fleet_agent_lookup (zwatch_fleet_t *self, zwatch_str_t host,
                                                 zwatch_str_t svc, uint64_t pid);
const char *zwatch_fleet_agent_host (const zwatch_fleet_agent_t *agent);
const char *zwatch_fleet_agent_svc (const zwatch_fleet_agent_t *agent);
uint64_t zwatch_fleet_agent_pid (const zwatch_fleet_agent_t *agent);
uint64_t zwatch_fleet_agent_start (const zwatch_fleet_agent_t *agent);
//  The last seq applied; false if none yet (no event, no replay)
bool zwatch_fleet_agent_seq (const zwatch_fleet_agent_t *agent, uint64_t *seq);
bool zwatch_fleet_agent_partial (const zwatch_fleet_agent_t *agent);
void zwatch_fleet_agent_set_partial (zwatch_fleet_agent_t *agent, bool partial);
//  Counters of its last heartbeat: read, sent, dropped, watched
void zwatch_fleet_agent_counters (const zwatch_fleet_agent_t *agent, uint64_t counters [4]);
size_t zwatch_fleet_agent_sockets (const zwatch_fleet_agent_t *agent);

zwatch_fleet_socket_t *zwatch_fleet_socket_first (zwatch_fleet_agent_t *agent);
zwatch_fleet_socket_t *zwatch_fleet_socket_next (zwatch_fleet_agent_t *agent);
const zwatch_fleet_agent_t *zwatch_fleet_socket_agent (const zwatch_fleet_socket_t *socket);
const char *zwatch_fleet_socket_label (const zwatch_fleet_socket_t *socket);
const char *zwatch_fleet_socket_stype (const zwatch_fleet_socket_t *socket);
//  Its last BIND_FAILED: endpoint (NULL if none), errno value and ts
const char *zwatch_fleet_socket_bind_error (const zwatch_fleet_socket_t *socket,
                                            int64_t *value, uint64_t *ts);
size_t zwatch_fleet_socket_connections (const zwatch_fleet_socket_t *socket);
const char *zwatch_fleet_listening_first (zwatch_fleet_socket_t *socket);
const char *zwatch_fleet_listening_next (zwatch_fleet_socket_t *socket);
zwatch_fleet_conn_t *zwatch_fleet_conn_first (zwatch_fleet_socket_t *socket);
zwatch_fleet_conn_t *zwatch_fleet_conn_next (zwatch_fleet_socket_t *socket);
zwatch_fleet_retry_t *zwatch_fleet_retry_first (zwatch_fleet_socket_t *socket);
zwatch_fleet_retry_t *zwatch_fleet_retry_next (zwatch_fleet_socket_t *socket);

//  A connection: in (accepted) or out, endpoint, local / peer (NULL:
//  unknown), peer_pid (0: unknown), fd, since (ts)
bool zwatch_fleet_conn_in (const zwatch_fleet_conn_t *conn);
const char *zwatch_fleet_conn_endpoint (const zwatch_fleet_conn_t *conn);
const char *zwatch_fleet_conn_local (const zwatch_fleet_conn_t *conn);
const char *zwatch_fleet_conn_peer (const zwatch_fleet_conn_t *conn);
uint64_t zwatch_fleet_conn_peer_pid (const zwatch_fleet_conn_t *conn);
int64_t zwatch_fleet_conn_fd (const zwatch_fleet_conn_t *conn);
uint64_t zwatch_fleet_conn_since (const zwatch_fleet_conn_t *conn);

//  A retrying endpoint: endpoint, last interval (ms), since, last (ts)
const char *zwatch_fleet_retry_endpoint (const zwatch_fleet_retry_t *retry);
int64_t zwatch_fleet_retry_ivl (const zwatch_fleet_retry_t *retry);
uint64_t zwatch_fleet_retry_since (const zwatch_fleet_retry_t *retry);
uint64_t zwatch_fleet_retry_last (const zwatch_fleet_retry_t *retry);

//  Counters and sizes
const zwatch_fleet_counters_t *zwatch_fleet_counters (zwatch_fleet_t *self);
size_t zwatch_fleet_agents (zwatch_fleet_t *self);
size_t zwatch_fleet_sockets (zwatch_fleet_t *self);
size_t zwatch_fleet_connections (zwatch_fleet_t *self);
size_t zwatch_fleet_links (zwatch_fleet_t *self);

//  A snapshot of the agents whose topic `ev/<host>/<svc>/` and prefix
//  agree (one starts with the other; an empty prefix takes every agent):
//  one msgpack map per frame (PROTOCOL.md section 12). It is a cursor
//  over the agents in the model now; each agent's frames are packed when
//  the cursor reaches it, so the model may change between two calls of
//  _next (the merge rule, section 13, makes the result exact). prefix
//  need not be NUL-terminated. The fleet must outlive the snapshot. NULL
//  on failure (ENOMEM).
zwatch_fleet_snapshot_t *zwatch_fleet_snapshot_new (zwatch_fleet_t *self, const char *prefix,
                                                    size_t prefix_len);

//  The next frame: for each agent its agent map, its sockets, its links
//  (those it connected, and those it accepted from an agent left out).
//  False at the end (or on ENOMEM: _failed says). *data stays valid
//  until the next call or the destroy. One call costs at most the
//  packing of one agent's frames.
bool zwatch_fleet_snapshot_next (zwatch_fleet_snapshot_t *self, const void **data, size_t *size);

//  True if packing ran out of memory (the snapshot is then cut short)
bool zwatch_fleet_snapshot_failed (zwatch_fleet_snapshot_t *self);

//  Frames of each kind and bytes handed out so far (all of them once
//  _next returned false: the counts of snapshot_end), and the lseq of the
//  request (snapshot_end's lseq: link messages above it come after)
size_t zwatch_fleet_snapshot_agents (zwatch_fleet_snapshot_t *self);
size_t zwatch_fleet_snapshot_sockets (zwatch_fleet_snapshot_t *self);
size_t zwatch_fleet_snapshot_links (zwatch_fleet_snapshot_t *self);
size_t zwatch_fleet_snapshot_bytes (zwatch_fleet_snapshot_t *self);
uint64_t zwatch_fleet_snapshot_lseq (zwatch_fleet_snapshot_t *self);

void zwatch_fleet_snapshot_destroy (zwatch_fleet_snapshot_t **self_p);

#ifdef __cplusplus
}
#endif

#endif
