/*  zwatch_proto.h: the zwatch wire format (docs/PROTOCOL.md).

    One message is one msgpack map. zwatch_msg_t is its decoded form;
    strings are views (pointer + length, not NUL-terminated) into the
    buffer that was decoded, or into caller memory when encoding.
*/
#ifndef ZWATCH_PROTO_H_INCLUDED
#define ZWATCH_PROTO_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZWATCH_PROTO_VERSION    1

//  Limits (PROTOCOL.md "Limits"); the decoder rejects anything beyond them
#define ZWATCH_MSG_MAX          4096    //  bytes in one agent message
#define ZWATCH_HOST_MAX         64      //  host, svc: [A-Za-z0-9._-]{1,64}
#define ZWATCH_SVC_MAX          64
#define ZWATCH_SOCK_MAX         128     //  socket label
#define ZWATCH_STYPE_MAX        16
#define ZWATCH_EVENT_NAME_MAX   40
#define ZWATCH_ENDPOINT_MAX     256     //  endpoint, peer and local
#define ZWATCH_KEY_MAX          32      //  any map key
#define ZWATCH_MAP_KEYS_MAX     64      //  entries in the top-level map
#define ZWATCH_DEPTH_MAX        8       //  nesting inside ignored values
#define ZWATCH_TOPIC_MAX        (3 + ZWATCH_HOST_MAX + 1 + ZWATCH_SVC_MAX + 1 + ZWATCH_EVENT_NAME_MAX + 1)

typedef enum {
    ZWATCH_KIND_HELLO = 1,
    ZWATCH_KIND_EVENT,
    ZWATCH_KIND_HEARTBEAT,
    ZWATCH_KIND_BYE,
    ZWATCH_KIND_STATE,          //  one fact of the agent's current state (replay)
    ZWATCH_KIND_STATE_END       //  end of a replay: count of state messages
} zwatch_kind_t;

//  Why the decoder rejected a message. Stable: names appear in stats.
typedef enum {
    ZWATCH_OK = 0,
    ZWATCH_REJECT_TOO_LARGE,        //  more than ZWATCH_MSG_MAX bytes
    ZWATCH_REJECT_MALFORMED,        //  not valid msgpack, or truncated
    ZWATCH_REJECT_NOT_MAP,          //  top-level value is not a map
    ZWATCH_REJECT_TRAILING,         //  bytes left after the map
    ZWATCH_REJECT_TOO_MANY_KEYS,    //  map has more than ZWATCH_MAP_KEYS_MAX
    ZWATCH_REJECT_BAD_KEY,          //  key not a string, or too long
    ZWATCH_REJECT_DUPLICATE_KEY,    //  a known key appears twice
    ZWATCH_REJECT_TOO_DEEP,         //  ignored value nested too deep
    ZWATCH_REJECT_MISSING_KEY,      //  a required key is absent
    ZWATCH_REJECT_BAD_TYPE,         //  a known key has the wrong type
    ZWATCH_REJECT_BAD_VERSION,      //  v is not 1
    ZWATCH_REJECT_BAD_KIND,         //  kind is not one of zwatch_kind_t's names
    ZWATCH_REJECT_BAD_HOST,         //  host empty, too long, or out of set
    ZWATCH_REJECT_BAD_SERVICE,      //  svc empty, too long, or out of set
    ZWATCH_REJECT_BAD_STRING,       //  sock/stype/endpoint/peer/local length or chars
    ZWATCH_REJECT_BAD_EVENT,        //  event name invalid, not the code's name, or
                                    //  (state) not an event that is a fact
    ZWATCH_REJECT_BAD_VALUE,        //  integer out of range (e.g. seq 0, peer_pid 0)
    ZWATCH_REJECT_MULTIPART,        //  broker: more than one frame
    ZWATCH_REJECT_COUNT             //  number of reasons, not a reason
} zwatch_reason_t;

typedef struct {
    const char *ptr;            //  NULL when absent (optional keys)
    size_t len;
} zwatch_str_t;

typedef struct {
    zwatch_kind_t kind;
    zwatch_str_t host;
    zwatch_str_t svc;
    uint64_t pid;
    uint64_t ts;                //  Unix epoch ns when sent (event: when read)
    uint64_t seq;               //  event: its number; others: last event seq
    //  kind == event or state (state: ts = when the fact began)
    zwatch_str_t sock;
    zwatch_str_t stype;
    zwatch_str_t event;
    zwatch_str_t endpoint;
    zwatch_str_t peer;          //  optional: the connection's remote address
    zwatch_str_t local;         //  optional: the connection's local address
    uint64_t peer_pid;          //  optional (0 = absent): ACCEPTED on ipc, the
                                //  connecting process (SO_PEERCRED)
    uint32_t code;
    int64_t value;
    //  kind == hello, heartbeat, bye
    uint64_t start;             //  agent start time, Unix epoch ns
    //  kind == heartbeat (counters since start). read shares its storage
    //  with an event's since (below), so the struct keeps the size and
    //  layout libzwatch.so.1 was built with
    union {
        uint64_t read;          //  heartbeat: monitor events read
        uint64_t since;         //  event with count >= 2: ts of the first of them
    };
    uint64_t sent;              //  event messages handed to the upstream
    uint64_t dropped;           //  event messages dropped at the queue limit
    uint64_t watched;           //  sockets watched now
    //  kind == state_end: state messages in this replay. kind == event:
    //  monitor events this message stands for, itself included (a folded
    //  storm, PROTOCOL.md section 4 "Folding"); the decoder gives 1 when the
    //  key is absent, the encoder writes it when >= 2
    uint64_t count;
} zwatch_msg_t;

#define ZWATCH_COUNT_MAX        UINT32_MAX      //  an event's count at most

//  Encode msg into buf (capacity bytes). No allocation. Returns the encoded
//  size, or -1 with errno EMSGSIZE (does not fit / string beyond a limit)
//  or EINVAL (unknown kind).
int zwatch_msg_encode (const zwatch_msg_t *msg, void *buf, size_t capacity);

//  Strictly decode untrusted bytes into msg; strings point into data.
//  Returns ZWATCH_OK or the reason for rejection; *detail (if not NULL) is
//  set to the key concerned, or "" when none.
zwatch_reason_t zwatch_msg_decode (zwatch_msg_t *msg, const void *data, size_t size,
                                   const char **detail);

//  Decode the message at *offset of a frame that may hold several maps back
//  to back (a batch, PROTOCOL.md 5 "Batches") and move *offset past it.
//  Each map gets the reason zwatch_msg_decode would give it alone (never
//  trailing_bytes). If the map's end cannot be found (not a map, not
//  msgpack, truncated, nested too deep), *offset becomes size and
//  *rest_lost is set: the rest of the frame is rejected with that reason.
//  Call while *offset < size.
zwatch_reason_t zwatch_msg_decode_next (zwatch_msg_t *msg, const void *data, size_t size,
                                        size_t *offset, bool *rest_lost, const char **detail);

//  Stable short name of a reason, e.g. "bad_host"
const char *zwatch_reason_name (zwatch_reason_t reason);

//  True if code is an event a state message may carry: LISTENING,
//  CONNECTED, ACCEPTED, CONNECT_RETRIED or BIND_FAILED
bool zwatch_event_is_fact (uint32_t code);

//  Name of a kind ("hello", "event", ...), NULL if unknown
const char *zwatch_kind_name (zwatch_kind_t kind);

//  Name of a libzmq monitor event code, "UNKNOWN" if not a libzmq 4.3 event
const char *zwatch_event_name (uint32_t code);

//  Code of an event name, 0 if not a libzmq 4.3 event name
uint32_t zwatch_event_code (const char *name, size_t len);

//  True if s is a valid host ID / service name: 1..max chars of [A-Za-z0-9._-]
bool zwatch_name_valid (const char *s, size_t len, size_t max);

//  Copy src into dst (size bytes) keeping only [A-Za-z0-9._-], other bytes
//  become '-'; empty result becomes "unknown". Returns the length written.
size_t zwatch_name_sanitize (char *dst, size_t size, const char *src);

//  This machine's host name, sanitized as above: the default host ID of
//  agents and the default ID of brokers. Returns the length written.
size_t zwatch_name_hostname (char *dst, size_t size);

//  The broker's answer to an agent whose message it refused, on the same
//  DEALER/ROUTER pair (docs/PROTOCOL.md section 2, "Broker to agent").
//  reason: "host_mismatch"; host: the host ID the agent's certificate
//  allows; sent: the host the refused message named
typedef struct {
    zwatch_str_t reason;
    zwatch_str_t host;
    zwatch_str_t sent;
    uint64_t ts;
} zwatch_refusal_t;

#define ZWATCH_REFUSAL_MAX  256     //  bytes an encoded refusal takes at most

//  Encode into buf. Returns the size, or -1 with errno EMSGSIZE (a string
//  beyond its limit, or capacity too small)
int zwatch_refusal_encode (const zwatch_refusal_t *refusal, void *buf, size_t capacity);

//  Decode untrusted bytes: a map with v 1, kind "refused", reason (1..32
//  characters of [a-z_]), host and sent (host IDs) and ts; other keys are
//  skipped. Strings point into data. Returns 0, or -1 with errno EPROTO.
int zwatch_refusal_decode (zwatch_refusal_t *refusal, const void *data, size_t size);

//  Topic builders. Return the topic length (not NUL-terminated is fine, but
//  a NUL is written when it fits), or -1 with errno EMSGSIZE.
int zwatch_topic_event (char *buf, size_t size, const zwatch_msg_t *msg);
int zwatch_topic_agent (char *buf, size_t size, zwatch_str_t host, zwatch_str_t svc);
int zwatch_topic_stats (char *buf, size_t size, const char *broker_id);

#ifdef __cplusplus
}
#endif

#endif
