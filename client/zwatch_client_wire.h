/*  zwatch_client_wire: strict readers of the broker's own maps, as a
    client gets them (PROTOCOL.md sections 6, 12, 13): agent/ and stats/
    and link/ feed bodies, and the snapshot reply's agent, socket, link,
    snapshot_end and error maps. Event bodies are agent messages and go
    through proto's decoder instead.

    Built on common/zwatch_mpread: every length is checked against the
    bytes left, nothing is allocated, strings are views into the input.
    A map that breaks a rule gives one stable reason (the names of the
    client's bad-message counters); unknown keys are skipped (at most
    ZWATCH_DEPTH_MAX deep), as the broker's decoders do.
*/
#ifndef ZWATCH_CLIENT_WIRE_H_INCLUDED
#define ZWATCH_CLIENT_WIRE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch_proto.h"

//  Largest body a client reads on the feed, and one snapshot frame (a
//  socket with 10000 connections of about 600 bytes each fits)
#define ZWATCH_CLIENT_BODY_MAX      65536
#define ZWATCH_CLIENT_FRAME_MAX     (8 * 1024 * 1024)

typedef enum {
    CLIENT_MAP_AGENT = 1,       //  agent/ body, or a snapshot agent map
    CLIENT_MAP_SOCKET,
    CLIENT_MAP_LINK,            //  link/ body, or a snapshot link map
    CLIENT_MAP_STATS,
    CLIENT_MAP_EVENT,           //  a history event (an agent message)
    CLIENT_MAP_SNAPSHOT_END,
    CLIENT_MAP_ERROR
} client_map_kind_t;

typedef struct {
    zwatch_str_t host, svc, sock, addr;
    uint64_t pid;
} client_end_t;

//  One decoded map; which fields are set depends on kind
typedef struct {
    client_map_kind_t kind;
    //  agent (feed: state ts events lost broker; snapshot: partial and counters)
    zwatch_str_t host, svc;
    uint64_t pid, start, seq, ts;
    zwatch_str_t state;             //  "up", "gone", "lost"
    uint64_t events, lost;
    zwatch_str_t broker;
    bool partial;
    uint64_t read, sent, dropped, watched;
    //  socket: label and type; the arrays are walked by client_wire_facts
    zwatch_str_t sock, stype;
    //  link
    bool up;
    client_end_t from, to;
    zwatch_str_t endpoint;
    uint64_t since, lseq;
    //  stats
    uint64_t uptime;
    //  snapshot_end
    uint64_t agents, sockets, links, history;
    //  error
    zwatch_str_t reason;
} client_map_t;

//  Decode one map. feed: a feed body (agent / link need their feed keys);
//  expect: the kind the topic says (0: any of the snapshot's). Returns
//  NULL, or the reason ("not_map", "bad_type", ...).
const char *client_wire_decode (client_map_t *map, const void *data, size_t size, bool feed,
                                client_map_kind_t expect);

//  Walk a socket map that client_wire_decode accepted: each listening
//  endpoint, connection, retrying entry and bind error as one state
//  message (a retrying entry as two: its since, then its last), to fn.
//  Returns NULL, or the reason of the first bad entry (fn NULL: check
//  only, so that a bad map is refused whole before anything is applied).
//  *facts gets the number of state messages.
typedef int (client_fact_fn) (void *arg, const zwatch_msg_t *fact);
const char *client_wire_facts (const void *data, size_t size, client_fact_fn *fn, void *arg,
                               size_t *facts);

#endif
