/*  fleet_util: what the fleet tests share: messages made in one call,
    a recorder of link changes, snapshot frames decoded with msgpack-c.  */
#ifndef FLEET_UTIL_H_INCLUDED
#define FLEET_UTIL_H_INCLUDED

#include <msgpack.h>
#include <string.h>
#include "zwatch_fleet.h"
#include "zwatch_fleet_wire.h"
#include "testutil.h"

//  An agent instance
typedef struct {
    const char *host;
    const char *svc;
    uint64_t pid;
    uint64_t start;
} fu_agent_t;

//  An event (kind ZWATCH_KIND_EVENT) or a state fact; ts = seq * 1000 + 7
//  unless ts is given; local / peer NULL: absent
typedef struct {
    zwatch_kind_t kind;
    const char *sock;
    const char *stype;
    const char *event;
    int64_t value;
    const char *endpoint;
    const char *local;
    const char *peer;
    uint64_t peer_pid;
    uint64_t seq;
    uint64_t ts;
} fu_event_t;

//  Apply one event / fact; returns what zwatch_fleet_apply returned
int fu_apply (zwatch_fleet_t *fleet, const fu_agent_t *agent, fu_event_t event);

//  Apply a hello / heartbeat / bye / state_end (count) with seq
int fu_lifecycle (zwatch_fleet_t *fleet, const fu_agent_t *agent, zwatch_kind_t kind,
                  uint64_t seq, uint64_t count);

//  Link changes seen by the handler
typedef struct {
    bool up;
    char from [160];            //  "host/svc/pid/sock/addr"
    char to [160];
    char endpoint [64];
    uint64_t since;
    uint64_t lseq;
} fu_link_t;

typedef struct {
    fu_link_t links [256];
    size_t count;
} fu_links_t;

void fu_links_handler (void *arg, const zwatch_fleet_link_t *link);

//  A snapshot, every frame decoded
typedef struct {
    msgpack_unpacked frames [4096];
    char *bytes [4096];         //  decoded strings point into these copies
    size_t count;
} fu_snapshot_t;

//  Take a snapshot with prefix (NULL: none) and decode it; caller frees
fu_snapshot_t *fu_snapshot (zwatch_fleet_t *fleet, const char *prefix);
void fu_snapshot_free (fu_snapshot_t *snapshot);

//  Frames of a kind; the socket frame of (host, pid, sock); NULL if none
size_t fu_count (fu_snapshot_t *snapshot, const char *kind);
msgpack_object *fu_socket (fu_snapshot_t *snapshot, const char *host, uint64_t pid,
                           const char *sock);
msgpack_object *fu_agent_frame (fu_snapshot_t *snapshot, const char *host, uint64_t pid);

//  A map's value for key, NULL if absent; typed accessors CHECK the type
msgpack_object *fu_get (msgpack_object *map, const char *key);
bool fu_str_is (msgpack_object *object, const char *expected);
uint64_t fu_uint (msgpack_object *map, const char *key);
int64_t fu_int (msgpack_object *map, const char *key);
bool fu_bool (msgpack_object *map, const char *key);
msgpack_object_array *fu_array (msgpack_object *map, const char *key);
size_t fu_map_size (msgpack_object *map);

//  Hex (spaces ignored) to bytes; returns size
size_t fu_unhex (const char *hex, uint8_t *out);

#endif
