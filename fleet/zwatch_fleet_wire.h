/*  zwatch_fleet_wire: the snapshot request, and the broker's own maps
    that are not model frames: snapshot_end, error, and the link feed
    message (PROTOCOL.md sections 12 and 13).

    Encoders write into caller memory (msgpack-c's packer over a fixed
    buffer) and return the size, or -1 with errno EMSGSIZE when it does
    not fit. The request decoder reads untrusted bytes without allocating.
*/
#ifndef ZWATCH_FLEET_WIRE_H_INCLUDED
#define ZWATCH_FLEET_WIRE_H_INCLUDED

#include "zwatch_fleet.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZWATCH_FLEET_REQUEST_MAX    1024            //  bytes in one request
#define ZWATCH_FLEET_PREFIX_MAX     ZWATCH_TOPIC_MAX //  bytes in its prefix
#define ZWATCH_FLEET_LINK_TOPIC_MAX (5 + ZWATCH_HOST_MAX + 1 + ZWATCH_SVC_MAX + 1)

//  Why a request was refused. Stable: the names are the `reason` of the
//  error reply and the keys the broker counts them under.
typedef enum {
    ZWATCH_REQUEST_OK = 0,
    ZWATCH_REQUEST_TOO_LARGE,       //  more than ZWATCH_FLEET_REQUEST_MAX bytes
    ZWATCH_REQUEST_MALFORMED,       //  not msgpack, truncated, or bytes after the map
    ZWATCH_REQUEST_NOT_MAP,         //  top-level value not a map
    ZWATCH_REQUEST_BAD_KEY,         //  key not a str of at most ZWATCH_KEY_MAX, or
                                    //  more than ZWATCH_MAP_KEYS_MAX entries
    ZWATCH_REQUEST_DUPLICATE_KEY,   //  a known key twice
    ZWATCH_REQUEST_TOO_DEEP,        //  an ignored value nested too deep
    ZWATCH_REQUEST_MISSING_KEY,     //  v or kind absent
    ZWATCH_REQUEST_BAD_TYPE,        //  a known key of the wrong type
    ZWATCH_REQUEST_BAD_VERSION,     //  v is not 1
    ZWATCH_REQUEST_BAD_KIND,        //  kind is not "snapshot"
    ZWATCH_REQUEST_BAD_PREFIX,      //  prefix longer than ZWATCH_FLEET_PREFIX_MAX or
                                    //  not printable ASCII
    ZWATCH_REQUEST_MULTIPART,       //  (broker) more than one frame
    ZWATCH_REQUEST_COUNT            //  number of reasons, not a reason
} zwatch_request_reason_t;

typedef struct {
    zwatch_str_t prefix;            //  view into the request; len 0 if absent
    bool has_history;
    uint64_t history;               //  events asked for (the broker caps it)
} zwatch_fleet_request_t;

//  Strictly decode a snapshot request; strings point into data
zwatch_request_reason_t zwatch_fleet_request_decode (zwatch_fleet_request_t *request,
                                                     const void *data, size_t size);

//  Stable short name of a reason, e.g. "bad_prefix"; "unknown" if none
const char *zwatch_fleet_request_reason_name (zwatch_request_reason_t reason);

//  A request, as a client sends it: prefix NULL for none, history < 0 for none
int zwatch_fleet_request_encode (void *buf, size_t capacity, const char *prefix,
                                 int64_t history);

//  {"v":1,"kind":"snapshot_end","agents","sockets","links","events","lseq"}
int zwatch_fleet_encode_snapshot_end (void *buf, size_t capacity, uint64_t agents,
                                      uint64_t sockets, uint64_t links, uint64_t events,
                                      uint64_t lseq);

//  {"v":1,"kind":"error","reason":reason}
int zwatch_fleet_encode_error (void *buf, size_t capacity, const char *reason);

//  The body of a link feed message; ts is the broker's time
int zwatch_fleet_encode_link (void *buf, size_t capacity, const zwatch_fleet_link_t *link,
                              uint64_t ts);

//  Its topic: "link/<host>/<svc>" of the connecting end, NUL-terminated.
//  Returns the length, or -1 with errno EMSGSIZE if it and its NUL do not
//  fit (ZWATCH_FLEET_LINK_TOPIC_MAX + 1 always does).
int zwatch_fleet_topic_link (char *buf, size_t size, const zwatch_fleet_link_t *link);

#ifdef __cplusplus
}
#endif

#endif
