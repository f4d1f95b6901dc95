/*  zwatch_fleet_internal: the model's structures, shared by the model
    (zwatch_fleet.c) and the snapshot builder (zwatch_fleet_snapshot.c).
    Not part of the API.
*/
#ifndef ZWATCH_FLEET_INTERNAL_H_INCLUDED
#define ZWATCH_FLEET_INTERNAL_H_INCLUDED

#include <czmq.h>
#include "zwatch_fleet.h"

typedef struct _fleet_agent_t fleet_agent_t;
typedef struct _fleet_socket_t fleet_socket_t;
typedef struct _fleet_conn_t fleet_conn_t;
typedef struct _fleet_pair_t fleet_pair_t;

//  A live connection of a socket
struct _fleet_conn_t {
    fleet_socket_t *socket;
    void *handle;               //  in socket->conns
    bool in;                    //  ACCEPTED (true) or CONNECTED
    int64_t fd;                 //  the event's value
    uint64_t since;             //  ts of the event (or fact)
    uint64_t peer_pid;          //  0: unknown
    char *endpoint;
    char *local;                //  NULL: unknown
    char *peer;                 //  NULL: unknown
    uint16_t lengths [3];       //  of endpoint, local, peer (each at most ZWATCH_ENDPOINT_MAX)
    fleet_pair_t *pair;         //  the join slot it holds, or NULL
    bool joined;                //  it held one once: a pair may name it until the settle
    fleet_conn_t *next_dead;    //  in the fleet's list of removed ones, until the settle
    //  endpoint, local and peer live here, in the same allocation
};

//  The join slot of one address pair: a link when both ends are there
struct _fleet_pair_t {
    char *key;
    fleet_conn_t *out;          //  the connecting end, if known
    fleet_conn_t *in;           //  the accepting end, if known
    //  The ends last reported up (NULL, NULL when not linked)
    fleet_conn_t *linked_out;
    fleet_conn_t *linked_in;
    bool touched;               //  in the fleet's list of pairs to settle
    fleet_pair_t *next_touched; //  the next in that list
};

typedef struct {
    char *endpoint;
    int64_t fd;
    uint64_t since;
} fleet_listen_t;

struct _fleet_retry_t {
    char *endpoint;
    int64_t ivl;                //  ms, the last CONNECT_RETRIED's value
    uint64_t since;             //  first CONNECT_RETRIED of this run
    uint64_t last;              //  latest CONNECT_RETRIED
};
typedef struct _fleet_retry_t fleet_retry_t;

struct _fleet_socket_t {
    fleet_agent_t *agent;
    char *label;
    size_t label_len;
    char stype [ZWATCH_STYPE_MAX + 1];
    zlistx_t *listening;        //  fleet_listen_t
    zlistx_t *conns;            //  fleet_conn_t
    zhashx_t *conns_by_fd;      //  &conn->fd -> conn: one fd is one connection at a time
    zlistx_t *retrying;         //  fleet_retry_t
    //  The last BIND_FAILED
    char *error_endpoint;       //  NULL: none
    int64_t error_value;
    uint64_t error_ts;
};

//  A replay in progress: the pending copy of the agent's sockets
typedef struct {
    zhashx_t *sockets;          //  label -> fleet_socket_t
    uint64_t received;          //  state messages
    bool seq_known;
    uint64_t seq;               //  the replay's seq (all its messages carry it)
    uint64_t early_seq;         //  highest event seq applied before the first state
    bool broken;                //  messages that disagree: cannot be complete
} fleet_replay_t;

struct _fleet_agent_t {
    char key [ZWATCH_HOST_MAX + ZWATCH_SVC_MAX + 24];
    char host [ZWATCH_HOST_MAX + 1];
    char svc [ZWATCH_SVC_MAX + 1];
    uint8_t host_len, svc_len;  //  compared for every message: kept, not counted
    uint64_t pid;
    uint64_t start;             //  0 until a hello / heartbeat / bye says
    bool seq_known;             //  an event or a replay was applied
    uint64_t seq;               //  the last seq applied
    bool partial;               //  no complete replay since first seen, or cut short
    uint64_t read, sent, dropped, watched;  //  from the last heartbeat
    zhashx_t *sockets;          //  label -> fleet_socket_t
    fleet_socket_t *last_socket;    //  of sockets, the one the last event named (or NULL)
    fleet_replay_t *replay;     //  NULL: none in progress
};

#define FLEET_RECENT_AGENTS 64    //  a power of two

struct _zwatch_fleet_t {
    zwatch_fleet_limits_t limits;
    zwatch_fleet_counters_t counters;
    zhashx_t *agents;           //  "host/svc/pid" -> fleet_agent_t
    zhashx_t *pairs;            //  join key -> fleet_pair_t
    //  Intrusive lists: no allocation per event
    fleet_pair_t *touched;      //  pairs changed in this step, to settle, in order
    fleet_pair_t *touched_tail;
    fleet_conn_t *dead_conns;   //  removed in this step, freed after the settle
    //  Agents recently named, by pid: a message's agent is found without a
    //  key and a hash (they were ~15 % of the broker's forwarding thread
    //  with a few agents sending at once, perf); a slot is cleared when its
    //  agent goes
    fleet_agent_t *recent [FLEET_RECENT_AGENTS];
    zlistx_t *dead_sockets;
    zlistx_t *dead_agents;
    bool removed;               //  either list has one since the last finish
    size_t sockets;             //  live sockets, all agents
    size_t conns;               //  connections held, live and pending (the bound)
    size_t conns_live;          //  live connections, all agents
    size_t links;
    zwatch_fleet_link_fn *link_fn;
    void *link_arg;
    zwatch_fleet_change_fn *change_fn;
    void *change_arg;
};

#endif
