/*  zwatch_msg_decode: strict decoder for untrusted agent messages.

    Every required key, type and limit is checked; strings are views into
    the input; nothing is allocated; every read is bounds-checked by
    zwatch_mpread. The first problem found is the reason returned, except
    that an unknown version wins over everything after the map is read,
    so a future v:2 agent is reported as such and not as a type error.

    Nearly every message is an event from the reference encoder, whose
    layout is fixed: those are read on a fast path that compares each key
    with its expected bytes in one go, then takes the same field checks.
    Any difference sends the message down the general path, from the
    start, which alone decides how to reject it (the fuzz target checks
    that both paths agree on every input).
*/

#include <string.h>
#include "zwatch_proto.h"
#include "zwatch_mpread.h"
#include "zwatch_charset.h"
#include "zwatch_bytes.h"
#include "zwatch_msg_decode_internal.h"
#include "zwatch_msg_scan.h"

typedef enum { TYPE_UINT, TYPE_INT, TYPE_STR } key_type_t;

typedef enum {
    KEY_V, KEY_KIND, KEY_HOST, KEY_PID, KEY_SVC, KEY_TS, KEY_SEQ,
    KEY_SOCK, KEY_STYPE, KEY_EVENT, KEY_CODE, KEY_VALUE, KEY_ENDPOINT, KEY_PEER,
    KEY_START, KEY_READ, KEY_SENT, KEY_DROPPED, KEY_WATCHED,
    KEY_LOCAL, KEY_PEER_PID, KEY_STATES, KEY_SINCE,
    KEY_COUNT, KEY_UNKNOWN = KEY_COUNT
} key_id_t;

static const char *s_key_names [KEY_COUNT] = {
    "v", "kind", "host", "pid", "svc", "ts", "seq",
    "sock", "stype", "event", "code", "value", "endpoint", "peer",
    "start", "read", "sent", "dropped", "watched",
    "local", "peer_pid", "count", "since"
};

static const key_type_t s_key_types [KEY_COUNT] = {
    TYPE_UINT, TYPE_STR, TYPE_STR, TYPE_UINT, TYPE_STR, TYPE_UINT, TYPE_UINT,
    TYPE_STR, TYPE_STR, TYPE_STR, TYPE_UINT, TYPE_INT, TYPE_STR, TYPE_STR,
    TYPE_UINT, TYPE_UINT, TYPE_UINT, TYPE_UINT, TYPE_UINT,
    TYPE_STR, TYPE_UINT, TYPE_UINT, TYPE_UINT
};

#define BIT(key) (1u << (key))
#define REQUIRED_COMMON   (BIT (KEY_V) | BIT (KEY_KIND) | BIT (KEY_HOST) | BIT (KEY_PID) \
                         | BIT (KEY_SVC) | BIT (KEY_TS) | BIT (KEY_SEQ))
#define REQUIRED_EVENT    (REQUIRED_COMMON | BIT (KEY_SOCK) | BIT (KEY_STYPE) | BIT (KEY_EVENT) \
                         | BIT (KEY_CODE) | BIT (KEY_VALUE) | BIT (KEY_ENDPOINT))
#define REQUIRED_LIFE     (REQUIRED_COMMON | BIT (KEY_START))
#define REQUIRED_HEARTBEAT (REQUIRED_LIFE | BIT (KEY_READ) | BIT (KEY_SENT) \
                         | BIT (KEY_DROPPED) | BIT (KEY_WATCHED))
#define REQUIRED_STATE_END (REQUIRED_COMMON | BIT (KEY_STATES))

#define KEY_IS(literal) (memcmp (key, literal, sizeof (literal) - 1) == 0)

//  Map a key to its id by length, then bytes
static key_id_t
s_key_id (const char *key, size_t len)
{
    switch (len) {
        case 1: return key [0] == 'v'? KEY_V: KEY_UNKNOWN;
        case 2: return KEY_IS ("ts")? KEY_TS: KEY_UNKNOWN;
        case 3:
            if (KEY_IS ("pid")) return KEY_PID;
            if (KEY_IS ("svc")) return KEY_SVC;
            if (KEY_IS ("seq")) return KEY_SEQ;
            return KEY_UNKNOWN;
        case 4:
            if (KEY_IS ("kind")) return KEY_KIND;
            if (KEY_IS ("host")) return KEY_HOST;
            if (KEY_IS ("sock")) return KEY_SOCK;
            if (KEY_IS ("code")) return KEY_CODE;
            if (KEY_IS ("peer")) return KEY_PEER;
            if (KEY_IS ("read")) return KEY_READ;
            if (KEY_IS ("sent")) return KEY_SENT;
            return KEY_UNKNOWN;
        case 5:
            if (KEY_IS ("stype")) return KEY_STYPE;
            if (KEY_IS ("event")) return KEY_EVENT;
            if (KEY_IS ("value")) return KEY_VALUE;
            if (KEY_IS ("start")) return KEY_START;
            if (KEY_IS ("local")) return KEY_LOCAL;
            if (KEY_IS ("count")) return KEY_STATES;
            if (KEY_IS ("since")) return KEY_SINCE;
            return KEY_UNKNOWN;
        case 7:
            if (KEY_IS ("dropped")) return KEY_DROPPED;
            if (KEY_IS ("watched")) return KEY_WATCHED;
            return KEY_UNKNOWN;
        case 8:
            if (KEY_IS ("endpoint")) return KEY_ENDPOINT;
            if (KEY_IS ("peer_pid")) return KEY_PEER_PID;
            return KEY_UNKNOWN;
        default: return KEY_UNKNOWN;
    }
}

//  Where each key's value goes in the message
static void *
s_key_target (zwatch_msg_t *msg, key_id_t key, uint64_t *scratch)
{
    switch (key) {
        case KEY_HOST:     return &msg->host;
        case KEY_SVC:      return &msg->svc;
        case KEY_SOCK:     return &msg->sock;
        case KEY_STYPE:    return &msg->stype;
        case KEY_EVENT:    return &msg->event;
        case KEY_ENDPOINT: return &msg->endpoint;
        case KEY_PEER:     return &msg->peer;
        case KEY_LOCAL:    return &msg->local;
        case KEY_PEER_PID: return &msg->peer_pid;
        case KEY_STATES:   return &msg->count;
        case KEY_PID:      return &msg->pid;
        case KEY_TS:       return &msg->ts;
        case KEY_SEQ:      return &msg->seq;
        case KEY_START:    return &msg->start;
        case KEY_SENT:     return &msg->sent;
        case KEY_DROPPED:  return &msg->dropped;
        case KEY_WATCHED:  return &msg->watched;
        case KEY_VALUE:    return &msg->value;
        default:           return scratch;      //  v, kind, code: checked later
    }
}

//  Printable ASCII only: labels and endpoints end up on terminals and in logs
static inline bool
s_printable (zwatch_str_t s, size_t min, size_t max)
{
    return s.len >= min && s.len <= max && zwatch_charset_all (s.ptr, s.len, ZWATCH_CHAR_PRINT);
}

//  [A-Z0-9_]{1,max}: socket types and event names
static inline bool
s_upper (zwatch_str_t s, size_t max)
{
    return s.len >= 1 && s.len <= max && zwatch_charset_all (s.ptr, s.len, ZWATCH_CHAR_UPPER);
}

static zwatch_reason_t
s_fail (const char **detail, zwatch_reason_t reason, const char *key)
{
    if (detail)
        *detail = key;
    return reason;
}

//  Checks that only apply to event and state messages; peer_pid_seen: the
//  key was present (0 then is out of range, not "absent"); count_seen the
//  same for an event's count (absent: 1)
static zwatch_reason_t
s_check_event (zwatch_msg_t *msg, uint64_t code, bool peer_pid_seen, bool count_seen,
               const char **detail)
{
    if (!s_printable (msg->sock, 1, ZWATCH_SOCK_MAX))
        return s_fail (detail, ZWATCH_REJECT_BAD_STRING, "sock");
    if (!s_upper (msg->stype, ZWATCH_STYPE_MAX))
        return s_fail (detail, ZWATCH_REJECT_BAD_STRING, "stype");
    if (!s_printable (msg->endpoint, 0, ZWATCH_ENDPOINT_MAX))
        return s_fail (detail, ZWATCH_REJECT_BAD_STRING, "endpoint");
    if (msg->peer.ptr && !s_printable (msg->peer, 0, ZWATCH_ENDPOINT_MAX))
        return s_fail (detail, ZWATCH_REJECT_BAD_STRING, "peer");
    if (msg->local.ptr && !s_printable (msg->local, 0, ZWATCH_ENDPOINT_MAX))
        return s_fail (detail, ZWATCH_REJECT_BAD_STRING, "local");
    if (code > UINT32_MAX)
        return s_fail (detail, ZWATCH_REJECT_BAD_VALUE, "code");
    //  A state message carries the agent's current seq, 0 before any event
    if (msg->seq == 0 && msg->kind == ZWATCH_KIND_EVENT)
        return s_fail (detail, ZWATCH_REJECT_BAD_VALUE, "seq");
    if (peer_pid_seen && msg->peer_pid == 0)
        return s_fail (detail, ZWATCH_REJECT_BAD_VALUE, "peer_pid");
    if (msg->kind == ZWATCH_KIND_EVENT) {
        if (count_seen && (msg->count == 0 || msg->count > ZWATCH_COUNT_MAX))
            return s_fail (detail, ZWATCH_REJECT_BAD_VALUE, "count");
        if (!count_seen)
            msg->count = 1;
    }
    msg->code = (uint32_t) code;
    if (!s_upper (msg->event, ZWATCH_EVENT_NAME_MAX))
        return s_fail (detail, ZWATCH_REJECT_BAD_EVENT, "event");
    //  A known code must carry its own name; a known name its own code.
    //  Unknown codes (newer libzmq) may carry any other name.
    const char *expected = zwatch_event_name (msg->code);
    bool matches = strcmp (expected, "UNKNOWN") == 0
        ? zwatch_event_code (msg->event.ptr, msg->event.len) == 0
        : strlen (expected) == msg->event.len
          && memcmp (expected, msg->event.ptr, msg->event.len) == 0;
    if (!matches)
        return s_fail (detail, ZWATCH_REJECT_BAD_EVENT, "event");
    //  A state message is one fact: something listening, connected or retrying
    if (msg->kind == ZWATCH_KIND_STATE && !zwatch_event_is_fact (msg->code))
        return s_fail (detail, ZWATCH_REJECT_BAD_EVENT, "event");
    return ZWATCH_OK;
}

static zwatch_reason_t s_check_fields (zwatch_msg_t *msg, uint64_t code, bool peer_pid_seen,
                                       bool count_seen, const char **detail);

zwatch_reason_t
zwatch_msg_decode_general (zwatch_msg_t *msg, const void *data, size_t size,
                           const char **detail)
{
    memset (msg, 0, sizeof (*msg));
    if (detail)
        *detail = "";
    if (size > ZWATCH_MSG_MAX)
        return ZWATCH_REJECT_TOO_LARGE;

    zwatch_mpread_t reader;
    zwatch_mpread_init (&reader, data, size);
    uint32_t count;
    int rc = zwatch_mpread_map (&reader, &count);
    if (rc == MPREAD_WRONG_TYPE)
        return ZWATCH_REJECT_NOT_MAP;
    if (rc)
        return ZWATCH_REJECT_MALFORMED;
    if (count > ZWATCH_MAP_KEYS_MAX)
        return ZWATCH_REJECT_TOO_MANY_KEYS;

    uint32_t seen = 0;
    uint64_t version = 0, code = 0, scratch;
    uint64_t read = 0, since = 0;       //  one storage in msg: which one, the kind says
    zwatch_str_t kind = { NULL, 0 };
    zwatch_reason_t problem = ZWATCH_OK;    //  first problem, reported after v
    const char *problem_key = "";

    for (uint32_t index = 0; index < count; index++) {
        const char *key;
        size_t key_len;
        rc = zwatch_mpread_str (&reader, &key, &key_len);
        if (rc == MPREAD_WRONG_TYPE)
            return s_fail (detail, ZWATCH_REJECT_BAD_KEY, "");
        if (rc)
            return ZWATCH_REJECT_MALFORMED;
        if (key_len > ZWATCH_KEY_MAX)
            return s_fail (detail, ZWATCH_REJECT_BAD_KEY, "");

        key_id_t id = s_key_id (key, key_len);
        if (id == KEY_UNKNOWN) {
            //  Forward compatibility: unknown keys are skipped
            rc = zwatch_mpread_skip (&reader, ZWATCH_DEPTH_MAX);
            if (rc == MPREAD_TOO_DEEP)
                return ZWATCH_REJECT_TOO_DEEP;
            if (rc)
                return ZWATCH_REJECT_MALFORMED;
            continue;
        }
        if (seen & BIT (id))
            return s_fail (detail, ZWATCH_REJECT_DUPLICATE_KEY, s_key_names [id]);
        seen |= BIT (id);

        void *target = id == KEY_V? &version
                     : id == KEY_CODE? &code
                     : id == KEY_KIND? (void *) &kind
                     : id == KEY_READ? &read
                     : id == KEY_SINCE? &since
                     : s_key_target (msg, id, &scratch);
        zwatch_str_t *str = (zwatch_str_t *) target;
        switch (s_key_types [id]) {
            case TYPE_UINT: rc = zwatch_mpread_uint (&reader, (uint64_t *) target); break;
            case TYPE_INT:  rc = zwatch_mpread_int (&reader, (int64_t *) target); break;
            case TYPE_STR:  rc = zwatch_mpread_str (&reader, &str->ptr, &str->len); break;
        }
        if (rc == MPREAD_TRUNCATED)
            return ZWATCH_REJECT_MALFORMED;
        if (rc) {
            //  Wrong type or out of range: note it, skip the value, go on
            if (problem == ZWATCH_OK) {
                problem = rc == MPREAD_RANGE? ZWATCH_REJECT_BAD_VALUE: ZWATCH_REJECT_BAD_TYPE;
                problem_key = s_key_names [id];
            }
            rc = zwatch_mpread_skip (&reader, ZWATCH_DEPTH_MAX);
            if (rc == MPREAD_TOO_DEEP)
                return ZWATCH_REJECT_TOO_DEEP;
            if (rc)
                return ZWATCH_REJECT_MALFORMED;
        }
    }
    if (zwatch_mpread_left (&reader) != 0)
        return ZWATCH_REJECT_TRAILING;

    //  Version first: a message from a future protocol is not "malformed"
    if (!(seen & BIT (KEY_V)))
        return s_fail (detail, ZWATCH_REJECT_MISSING_KEY, "v");
    bool version_problem = problem != ZWATCH_OK && strcmp (problem_key, "v") == 0;
    if (!version_problem && version != ZWATCH_PROTO_VERSION)
        return s_fail (detail, ZWATCH_REJECT_BAD_VERSION, "v");
    if (problem != ZWATCH_OK)
        return s_fail (detail, problem, problem_key);

    if (!(seen & BIT (KEY_KIND)))
        return s_fail (detail, ZWATCH_REJECT_MISSING_KEY, "kind");
    uint32_t required;
    #define KIND_IS(literal) (kind.len == sizeof (literal) - 1 && memcmp (kind.ptr, literal, kind.len) == 0)
    if (KIND_IS ("event") || KIND_IS ("state")) {
        msg->kind = kind.ptr [0] == 'e'? ZWATCH_KIND_EVENT: ZWATCH_KIND_STATE;
        required = REQUIRED_EVENT;
    }
    else
    if (KIND_IS ("state_end")) {
        msg->kind = ZWATCH_KIND_STATE_END;
        required = REQUIRED_STATE_END;
    }
    else
    if (KIND_IS ("heartbeat")) {
        msg->kind = ZWATCH_KIND_HEARTBEAT;
        required = REQUIRED_HEARTBEAT;
    }
    else
    if (KIND_IS ("hello") || KIND_IS ("bye")) {
        msg->kind = kind.ptr [0] == 'h'? ZWATCH_KIND_HELLO: ZWATCH_KIND_BYE;
        required = REQUIRED_LIFE;
    }
    else
        return s_fail (detail, ZWATCH_REJECT_BAD_KIND, "kind");

    if (msg->kind == ZWATCH_KIND_EVENT)
        msg->since = since;
    else
        msg->read = read;
    uint32_t missing = required & ~seen;
    if (missing)
        return s_fail (detail, ZWATCH_REJECT_MISSING_KEY,
                       s_key_names [__builtin_ctz (missing)]);
    return s_check_fields (msg, code, (seen & BIT (KEY_PEER_PID)) != 0,
                           (seen & BIT (KEY_STATES)) != 0, detail);
}

//  Fixed-layout event: the reference encoder's key bytes, in its order
#define EVENT_HEAD  "\xa1" "v" "\x01" "\xa4" "kind" "\xa5" "event" "\xa4" "host"
//  Key bytes against a literal, compared inline a word at a time: a call
//  to memcmp for each of an event's 14 keys was 9 % of the broker's
//  forwarding thread (perf, bench_broker), a byte loop ~200 instructions
//  an event (callgrind)
#define KEY_BYTES_IS(reader, literal) \
    (zwatch_mpread_left (reader) >= sizeof (literal) - 1 \
     && zwatch_bytes_same ((reader)->pos, literal, sizeof (literal) - 1) \
     && ((reader)->pos += sizeof (literal) - 1, 1))

//  True if the reader is at an event laid out exactly as zwatch_msg_encode
//  lays it out, with every value of its key's type; fills msg, *code,
//  *peer_pid_seen and leaves the reader just past the map
static bool
s_read_event_layout (zwatch_msg_t *msg, zwatch_mpread_t *reader, uint64_t *code,
                     bool *peer_pid_seen)
{
    //  fixmap of 13..15 entries, or map16 of 16 (every optional key)
    unsigned entries = *reader->pos++;
    if (entries == 0xde && KEY_BYTES_IS (reader, "\x00" "\x10"))
        entries = 0x90;
    if ((entries < 0x8d || entries > 0x90)
    ||  !KEY_BYTES_IS (reader, EVENT_HEAD)
    ||  zwatch_mpread_str (reader, &msg->host.ptr, &msg->host.len)
    ||  !KEY_BYTES_IS (reader, "\xa3" "pid") || zwatch_mpread_uint (reader, &msg->pid)
    ||  !KEY_BYTES_IS (reader, "\xa3" "svc")
    ||  zwatch_mpread_str (reader, &msg->svc.ptr, &msg->svc.len)
    ||  !KEY_BYTES_IS (reader, "\xa4" "sock")
    ||  zwatch_mpread_str (reader, &msg->sock.ptr, &msg->sock.len)
    ||  !KEY_BYTES_IS (reader, "\xa5" "stype")
    ||  zwatch_mpread_str (reader, &msg->stype.ptr, &msg->stype.len)
    ||  !KEY_BYTES_IS (reader, "\xa5" "event")
    ||  zwatch_mpread_str (reader, &msg->event.ptr, &msg->event.len)
    ||  !KEY_BYTES_IS (reader, "\xa4" "code") || zwatch_mpread_uint (reader, code)
    ||  !KEY_BYTES_IS (reader, "\xa5" "value") || zwatch_mpread_int (reader, &msg->value)
    ||  !KEY_BYTES_IS (reader, "\xa8" "endpoint")
    ||  zwatch_mpread_str (reader, &msg->endpoint.ptr, &msg->endpoint.len)
    ||  !KEY_BYTES_IS (reader, "\xa2" "ts") || zwatch_mpread_uint (reader, &msg->ts)
    ||  !KEY_BYTES_IS (reader, "\xa3" "seq") || zwatch_mpread_uint (reader, &msg->seq))
        return false;
    //  The optional keys, each at most once, in the encoder's order
    unsigned optional = entries - 0x8d;
    if (optional && KEY_BYTES_IS (reader, "\xa4" "peer")) {
        if (zwatch_mpread_str (reader, &msg->peer.ptr, &msg->peer.len))
            return false;
        optional--;
    }
    if (optional && KEY_BYTES_IS (reader, "\xa5" "local")) {
        if (zwatch_mpread_str (reader, &msg->local.ptr, &msg->local.len))
            return false;
        optional--;
    }
    if (optional && KEY_BYTES_IS (reader, "\xa8" "peer_pid")) {
        if (zwatch_mpread_uint (reader, &msg->peer_pid))
            return false;
        *peer_pid_seen = true;
        optional--;
    }
    msg->kind = ZWATCH_KIND_EVENT;
    return optional == 0;
}

zwatch_reason_t
zwatch_msg_decode (zwatch_msg_t *msg, const void *data, size_t size, const char **detail)
{
    if (size > 0 && size <= ZWATCH_MSG_MAX) {
        memset (msg, 0, sizeof (*msg));
        zwatch_mpread_t reader;
        zwatch_mpread_init (&reader, data, size);
        uint64_t code;
        bool peer_pid_seen = false;
        if (s_read_event_layout (msg, &reader, &code, &peer_pid_seen)
        &&  zwatch_mpread_left (&reader) == 0) {
            if (detail)
                *detail = "";
            return s_check_fields (msg, code, peer_pid_seen, false, detail);
        }
    }
    return zwatch_msg_decode_general (msg, data, size, detail);
}

//  A batch: the reference layout is read in place; anything else has its
//  extent found first (a skip), then that map alone goes down the general
//  path, so each map gets exactly the answer it would get on its own
zwatch_reason_t
zwatch_msg_decode_next (zwatch_msg_t *msg, const void *data, size_t size, size_t *offset,
                        bool *rest_lost, const char **detail)
{
    bool reference_layout;
    return zwatch_msg_decode_scan (msg, data, size, offset, rest_lost, detail, &reference_layout);
}

zwatch_reason_t
zwatch_msg_decode_scan (zwatch_msg_t *msg, const void *data, size_t size, size_t *offset,
                        bool *rest_lost, const char **detail, bool *reference_layout)
{
    *rest_lost = false;
    *reference_layout = false;
    if (*offset >= size) {
        //  Nothing left: an empty frame is malformed, as on its own
        *rest_lost = true;
        memset (msg, 0, sizeof (*msg));
        if (detail)
            *detail = "";
        return ZWATCH_REJECT_MALFORMED;
    }
    const uint8_t *start = (const uint8_t *) data + *offset;
    size_t left = size - *offset;

    memset (msg, 0, sizeof (*msg));
    zwatch_mpread_t reader;
    zwatch_mpread_init (&reader, start, left);
    uint64_t code;
    bool peer_pid_seen = false;
    if (s_read_event_layout (msg, &reader, &code, &peer_pid_seen)) {
        size_t used = (size_t) (reader.pos - start);
        *offset += used;
        *reference_layout = true;
        if (detail)
            *detail = "";
        if (used > ZWATCH_MSG_MAX) {
            memset (msg, 0, sizeof (*msg));
            return ZWATCH_REJECT_TOO_LARGE;
        }
        return s_check_fields (msg, code, peer_pid_seen, false, detail);
    }
    //  Where does this map end? If that cannot be told, neither can where
    //  the next one starts: the rest of the frame goes with it
    zwatch_mpread_init (&reader, start, left);
    uint32_t entries;
    int rc = zwatch_mpread_map (&reader, &entries);
    if (rc == MPREAD_OK) {
        zwatch_mpread_init (&reader, start, left);
        rc = zwatch_mpread_skip (&reader, ZWATCH_DEPTH_MAX + 1);
    }
    if (rc != MPREAD_OK) {
        *offset = size;
        *rest_lost = true;
        memset (msg, 0, sizeof (*msg));
        if (detail)
            *detail = "";
        return rc == MPREAD_WRONG_TYPE? ZWATCH_REJECT_NOT_MAP
             : rc == MPREAD_TOO_DEEP? ZWATCH_REJECT_TOO_DEEP: ZWATCH_REJECT_MALFORMED;
    }
    size_t used = (size_t) (reader.pos - start);
    *offset += used;
    return zwatch_msg_decode_general (msg, start, used, detail);
}

//  What the general path and the fast path check alike, once the keys are in
static zwatch_reason_t
s_check_fields (zwatch_msg_t *msg, uint64_t code, bool peer_pid_seen, bool count_seen,
                const char **detail)
{
    if (!zwatch_name_valid (msg->host.ptr, msg->host.len, ZWATCH_HOST_MAX))
        return s_fail (detail, ZWATCH_REJECT_BAD_HOST, "host");
    if (!zwatch_name_valid (msg->svc.ptr, msg->svc.len, ZWATCH_SVC_MAX))
        return s_fail (detail, ZWATCH_REJECT_BAD_SERVICE, "svc");
    if (msg->pid == 0)
        return s_fail (detail, ZWATCH_REJECT_BAD_VALUE, "pid");
    if (msg->kind == ZWATCH_KIND_EVENT || msg->kind == ZWATCH_KIND_STATE)
        return s_check_event (msg, code, peer_pid_seen, count_seen, detail);
    return ZWATCH_OK;
}
