/*  zwatch_client_wire: strict readers of the broker's maps (see header).

    One table of the keys a broker map may have, read in one pass over the
    map; then the keys the kind requires, then the strings' rules. The
    socket map's arrays are walked again by client_wire_facts, which turns
    each entry into the state message an agent would send for it and puts
    that through proto's decoder, so a fact from a snapshot obeys exactly
    the rules of a fact from an agent.
*/

#include <string.h>
#include "zwatch_client_wire.h"
#include "zwatch_charset.h"
#include "zwatch_mpread.h"

typedef enum { T_STR, T_UINT, T_INT, T_BOOL, T_MAP, T_ARRAY } field_type_t;

typedef struct {
    const char *name;
    field_type_t type;
    void *dest;                 //  zwatch_str_t, uint64_t, int64_t, bool, or the
                                //  value's first byte (const uint8_t *) for containers
    bool seen;
} field_t;

//  Read a map's entries into fields; unknown keys are skipped
static const char *
s_read_fields (zwatch_mpread_t *reader, field_t *fields, size_t count)
{
    uint32_t entries;
    int rc = zwatch_mpread_map (reader, &entries);
    if (rc == MPREAD_WRONG_TYPE)
        return "not_map";
    if (rc)
        return "malformed";
    if (entries > ZWATCH_MAP_KEYS_MAX)
        return "too_many_keys";
    for (uint32_t entry = 0; entry < entries; entry++) {
        const char *key;
        size_t key_len;
        rc = zwatch_mpread_str (reader, &key, &key_len);
        if (rc == MPREAD_WRONG_TYPE)
            return "bad_key";
        if (rc)
            return "malformed";
        if (key_len > ZWATCH_KEY_MAX)
            return "bad_key";
        field_t *field = NULL;
        for (size_t index = 0; index < count && !field; index++)
            if (strlen (fields [index].name) == key_len
            &&  memcmp (fields [index].name, key, key_len) == 0)
                field = &fields [index];
        if (!field) {
            rc = zwatch_mpread_skip (reader, ZWATCH_DEPTH_MAX);
            if (rc)
                return rc == MPREAD_TOO_DEEP? "too_deep": "malformed";
            continue;
        }
        if (field->seen)
            return "duplicate_key";
        field->seen = true;
        const uint8_t *start = reader->pos;
        switch (field->type) {
            case T_STR: {
                zwatch_str_t *str = (zwatch_str_t *) field->dest;
                rc = zwatch_mpread_str (reader, &str->ptr, &str->len);
                break;
            }
            case T_UINT:
                rc = zwatch_mpread_uint (reader, (uint64_t *) field->dest);
                break;
            case T_INT:
                rc = zwatch_mpread_int (reader, (int64_t *) field->dest);
                break;
            case T_BOOL:
                if (reader->pos >= reader->end)
                    rc = MPREAD_TRUNCATED;
                else
                if (*reader->pos == 0xc2 || *reader->pos == 0xc3) {
                    *(bool *) field->dest = *reader->pos == 0xc3;
                    reader->pos++;
                    rc = MPREAD_OK;
                }
                else
                    rc = MPREAD_WRONG_TYPE;
                break;
            case T_MAP:
            case T_ARRAY: {
                if (reader->pos >= reader->end)
                    return "malformed";
                uint8_t tag = *reader->pos;
                bool is_map = (tag & 0xf0) == 0x80 || tag == 0xde || tag == 0xdf;
                bool is_array = (tag & 0xf0) == 0x90 || tag == 0xdc || tag == 0xdd;
                if (field->type == T_MAP? !is_map: !is_array)
                    return "bad_type";
                *(const uint8_t **) field->dest = start;
                rc = zwatch_mpread_skip (reader, ZWATCH_DEPTH_MAX);
                if (rc == MPREAD_TOO_DEEP)
                    return "too_deep";
                break;
            }
        }
        if (rc == MPREAD_WRONG_TYPE)
            return "bad_type";
        if (rc == MPREAD_RANGE)
            return "bad_value";
        if (rc)
            return "malformed";
    }
    return NULL;
}

static bool
s_is (zwatch_str_t str, const char *text)
{
    return str.ptr && str.len == strlen (text) && memcmp (str.ptr, text, str.len) == 0;
}

static bool
s_printable (zwatch_str_t str, size_t min, size_t max)
{
    return str.len >= min && str.len <= max
        && zwatch_charset_all (str.ptr, str.len, ZWATCH_CHAR_PRINT);
}

//  host and svc by the protocol's rules
static const char *
s_check_names (zwatch_str_t host, zwatch_str_t svc)
{
    if (!zwatch_name_valid (host.ptr, host.len, ZWATCH_HOST_MAX))
        return "bad_host";
    if (!zwatch_name_valid (svc.ptr, svc.len, ZWATCH_SVC_MAX))
        return "bad_service";
    return NULL;
}

//  A link end: host, svc, pid, sock, addr, all required
static const char *
s_read_end (const uint8_t *start, const uint8_t *end, client_end_t *link_end)
{
    zwatch_mpread_t reader = { start, end };
    memset (link_end, 0, sizeof (*link_end));
    field_t fields [] = {
        { "host", T_STR, &link_end->host, false }, { "svc", T_STR, &link_end->svc, false },
        { "pid", T_UINT, &link_end->pid, false }, { "sock", T_STR, &link_end->sock, false },
        { "addr", T_STR, &link_end->addr, false }
    };
    size_t count = sizeof (fields) / sizeof (fields [0]);
    const char *reason = s_read_fields (&reader, fields, count);
    if (reason)
        return reason;
    for (size_t index = 0; index < count; index++)
        if (!fields [index].seen)
            return "missing_key";
    reason = s_check_names (link_end->host, link_end->svc);
    if (reason)
        return reason;
    if (link_end->pid == 0)
        return "bad_value";
    if (!s_printable (link_end->sock, 1, ZWATCH_SOCK_MAX)
    ||  !s_printable (link_end->addr, 0, ZWATCH_ENDPOINT_MAX))
        return "bad_string";
    return NULL;
}

//  Keys of every broker map; F_ names their index in the table
enum {
    F_V, F_KIND, F_HOST, F_SVC, F_PID, F_START, F_SEQ, F_TS, F_STATE, F_EVENTS, F_LOST,
    F_BROKER, F_PARTIAL, F_READ, F_SENT, F_DROPPED, F_WATCHED, F_SOCK, F_STYPE, F_LISTENING,
    F_CONNECTIONS, F_RETRYING, F_BIND_ERROR, F_UP, F_FROM, F_TO, F_ENDPOINT, F_SINCE, F_LSEQ,
    F_UPTIME, F_AGENTS, F_SOCKETS, F_LINKS, F_REASON, F_COUNT
};
#define BIT(f) (1ull << (f))

const char *
client_wire_decode (client_map_t *map, const void *data, size_t size, bool feed,
                    client_map_kind_t expect)
{
    memset (map, 0, sizeof (*map));
    if (size > (feed? ZWATCH_CLIENT_BODY_MAX: ZWATCH_CLIENT_FRAME_MAX))
        return "too_large";
    uint64_t version = 0;
    zwatch_str_t kind = { NULL, 0 };
    const uint8_t *listening = NULL, *connections = NULL, *retrying = NULL, *bind_error = NULL;
    const uint8_t *from = NULL, *to = NULL;
    field_t fields [F_COUNT] = {
        [F_V] = { "v", T_UINT, &version, false },
        [F_KIND] = { "kind", T_STR, &kind, false },
        [F_HOST] = { "host", T_STR, &map->host, false },
        [F_SVC] = { "svc", T_STR, &map->svc, false },
        [F_PID] = { "pid", T_UINT, &map->pid, false },
        [F_START] = { "start", T_UINT, &map->start, false },
        [F_SEQ] = { "seq", T_UINT, &map->seq, false },
        [F_TS] = { "ts", T_UINT, &map->ts, false },
        [F_STATE] = { "state", T_STR, &map->state, false },
        [F_EVENTS] = { "events", T_UINT, &map->events, false },
        [F_LOST] = { "lost", T_UINT, &map->lost, false },
        [F_BROKER] = { "broker", T_STR, &map->broker, false },
        [F_PARTIAL] = { "partial", T_BOOL, &map->partial, false },
        [F_READ] = { "read", T_UINT, &map->read, false },
        [F_SENT] = { "sent", T_UINT, &map->sent, false },
        [F_DROPPED] = { "dropped", T_UINT, &map->dropped, false },
        [F_WATCHED] = { "watched", T_UINT, &map->watched, false },
        [F_SOCK] = { "sock", T_STR, &map->sock, false },
        [F_STYPE] = { "stype", T_STR, &map->stype, false },
        [F_LISTENING] = { "listening", T_ARRAY, &listening, false },
        [F_CONNECTIONS] = { "connections", T_ARRAY, &connections, false },
        [F_RETRYING] = { "retrying", T_ARRAY, &retrying, false },
        [F_BIND_ERROR] = { "bind_error", T_MAP, &bind_error, false },
        [F_UP] = { "up", T_BOOL, &map->up, false },
        [F_FROM] = { "from", T_MAP, &from, false },
        [F_TO] = { "to", T_MAP, &to, false },
        [F_ENDPOINT] = { "endpoint", T_STR, &map->endpoint, false },
        [F_SINCE] = { "since", T_UINT, &map->since, false },
        [F_LSEQ] = { "lseq", T_UINT, &map->lseq, false },
        [F_UPTIME] = { "uptime", T_UINT, &map->uptime, false },
        [F_AGENTS] = { "agents", T_UINT, &map->agents, false },
        [F_SOCKETS] = { "sockets", T_UINT, &map->sockets, false },
        [F_LINKS] = { "links", T_UINT, &map->links, false },
        [F_REASON] = { "reason", T_STR, &map->reason, false }
    };
    zwatch_mpread_t reader;
    zwatch_mpread_init (&reader, data, size);
    //  An event's keys are the agent's: its types are proto's to check
    const char *reason = s_read_fields (&reader, fields, F_COUNT);
    if (!reason && zwatch_mpread_left (&reader))
        reason = "trailing_bytes";
    if (!fields [F_V].seen)
        return reason? reason: "missing_key";
    if (version != 1)
        return "bad_version";
    if (s_is (kind, "event") && expect == 0) {
        map->kind = CLIENT_MAP_EVENT;       //  proto's decoder has the last word
        return NULL;
    }
    if (reason)
        return reason;
    if (!fields [F_KIND].seen)
        return "missing_key";

    uint64_t required;
    if (s_is (kind, "agent")) {
        map->kind = CLIENT_MAP_AGENT;
        required = BIT (F_HOST) | BIT (F_SVC) | BIT (F_PID) | BIT (F_START) | BIT (F_SEQ)
                 | (feed? BIT (F_STATE) | BIT (F_TS) | BIT (F_EVENTS) | BIT (F_LOST)
                        | BIT (F_BROKER)
                        : BIT (F_PARTIAL) | BIT (F_READ) | BIT (F_SENT) | BIT (F_DROPPED)
                        | BIT (F_WATCHED));
    }
    else
    if (s_is (kind, "socket") && !feed) {
        map->kind = CLIENT_MAP_SOCKET;
        required = BIT (F_HOST) | BIT (F_SVC) | BIT (F_PID) | BIT (F_SOCK) | BIT (F_STYPE)
                 | BIT (F_LISTENING) | BIT (F_CONNECTIONS) | BIT (F_RETRYING);
    }
    else
    if (s_is (kind, "link")) {
        map->kind = CLIENT_MAP_LINK;
        required = BIT (F_FROM) | BIT (F_TO) | BIT (F_ENDPOINT) | BIT (F_SINCE)
                 | (feed? BIT (F_UP) | BIT (F_LSEQ) | BIT (F_TS): 0);
        if (!feed)
            map->up = true;         //  a snapshot's links are all up
    }
    else
    if (s_is (kind, "stats") && feed) {
        map->kind = CLIENT_MAP_STATS;
        required = BIT (F_BROKER) | BIT (F_TS) | BIT (F_UPTIME);
    }
    else
    if (s_is (kind, "snapshot_end") && !feed) {
        map->kind = CLIENT_MAP_SNAPSHOT_END;
        required = BIT (F_AGENTS) | BIT (F_SOCKETS) | BIT (F_LINKS) | BIT (F_EVENTS)
                 | BIT (F_LSEQ);
    }
    else
    if (s_is (kind, "error") && !feed) {
        map->kind = CLIENT_MAP_ERROR;
        required = BIT (F_REASON);
    }
    else
        return "bad_kind";
    if (expect && map->kind != expect)
        return "bad_kind";
    for (int field = 0; field < F_COUNT; field++)
        if ((required & BIT (field)) && !fields [field].seen)
            return "missing_key";
    map->history = map->events;

    switch (map->kind) {
        case CLIENT_MAP_AGENT:
            reason = s_check_names (map->host, map->svc);
            if (reason)
                return reason;
            if (map->pid == 0)
                return "bad_value";
            if (feed && !s_is (map->state, "up") && !s_is (map->state, "gone")
            &&  !s_is (map->state, "lost"))
                return "bad_value";
            if (feed && !s_printable (map->broker, 1, ZWATCH_ENDPOINT_MAX))
                return "bad_string";
            return NULL;
        case CLIENT_MAP_SOCKET:
            reason = s_check_names (map->host, map->svc);
            if (reason)
                return reason;
            if (map->pid == 0)
                return "bad_value";
            if (!s_printable (map->sock, 1, ZWATCH_SOCK_MAX)
            ||  map->stype.len < 1 || map->stype.len > ZWATCH_STYPE_MAX
            ||  !zwatch_charset_all (map->stype.ptr, map->stype.len, ZWATCH_CHAR_UPPER))
                return "bad_string";
            //  Every entry of its arrays, checked before any is used
            return client_wire_facts (data, size, NULL, NULL, NULL);
        case CLIENT_MAP_LINK:
            reason = s_read_end (from, reader.end, &map->from);
            if (!reason)
                reason = s_read_end (to, reader.end, &map->to);
            if (!reason && !s_printable (map->endpoint, 0, ZWATCH_ENDPOINT_MAX))
                reason = "bad_string";
            return reason;
        case CLIENT_MAP_STATS:
            return s_printable (map->broker, 1, ZWATCH_ENDPOINT_MAX)? NULL: "bad_string";
        case CLIENT_MAP_ERROR:
            return s_printable (map->reason, 1, ZWATCH_KEY_MAX)? NULL: "bad_string";
        default:
            return NULL;
    }
}


/*  A socket map's entries as state messages  */

typedef struct {
    client_fact_fn *fn;
    void *arg;
    size_t facts;
    zwatch_msg_t fact;          //  host, svc, pid, sock, stype of the socket
} facts_t;

//  Encode the fact as an agent would and decode it strictly: what the
//  decoder refuses in an agent's state, it refuses here
static const char *
s_fact (facts_t *self, const char *event, zwatch_str_t endpoint, int64_t value, uint64_t ts)
{
    zwatch_msg_t fact = self->fact;
    fact.kind = ZWATCH_KIND_STATE;
    fact.event.ptr = event;
    fact.event.len = strlen (event);
    fact.code = zwatch_event_code (event, fact.event.len);
    fact.endpoint = endpoint;
    fact.value = value;
    fact.ts = ts;
    uint8_t buffer [ZWATCH_MSG_MAX];
    int size = zwatch_msg_encode (&fact, buffer, sizeof (buffer));
    if (size < 0)
        return "bad_string";
    zwatch_msg_t decoded;
    zwatch_reason_t reason = zwatch_msg_decode (&decoded, buffer, (size_t) size, NULL);
    if (reason != ZWATCH_OK)
        return zwatch_reason_name (reason);
    self->facts++;
    if (self->fn && self->fn (self->arg, &decoded) != 0)
        return "refused";
    return NULL;
}

//  Walk an array: each element read by entry ()
static const char *
s_array (zwatch_mpread_t *reader, facts_t *self,
         const char *(*entry) (zwatch_mpread_t *reader, facts_t *self))
{
    if (reader->pos >= reader->end)
        return "malformed";
    uint8_t tag = *reader->pos;
    uint64_t count;
    if ((tag & 0xf0) == 0x90) {
        count = tag & 0x0f;
        reader->pos++;
    }
    else
    if (tag == 0xdc || tag == 0xdd) {
        if (zwatch_mpread_length (reader, tag == 0xdc? 2: 4, &count))
            return "malformed";
    }
    else
        return "bad_type";
    if (count > zwatch_mpread_left (reader))
        return "malformed";
    for (uint64_t index = 0; index < count; index++) {
        const char *reason = entry (reader, self);
        if (reason)
            return reason;
    }
    return NULL;
}

static const char *
s_listening (zwatch_mpread_t *reader, facts_t *self)
{
    zwatch_str_t endpoint;
    int rc = zwatch_mpread_str (reader, &endpoint.ptr, &endpoint.len);
    if (rc)
        return rc == MPREAD_WRONG_TYPE? "bad_type": "malformed";
    return s_fact (self, "LISTENING", endpoint, 0, 0);
}

static const char *
s_connection (zwatch_mpread_t *reader, facts_t *self)
{
    zwatch_str_t dir = { NULL, 0 }, endpoint = { NULL, 0 }, local = { NULL, 0 },
                 peer = { NULL, 0 };
    uint64_t peer_pid = 0, since = 0;
    int64_t fd = 0;
    field_t fields [] = {
        { "dir", T_STR, &dir, false }, { "endpoint", T_STR, &endpoint, false },
        { "fd", T_INT, &fd, false }, { "since", T_UINT, &since, false },
        { "local", T_STR, &local, false }, { "peer", T_STR, &peer, false },
        { "peer_pid", T_UINT, &peer_pid, false }
    };
    const char *reason = s_read_fields (reader, fields, sizeof (fields) / sizeof (fields [0]));
    if (reason)
        return reason;
    for (size_t index = 0; index < 4; index++)
        if (!fields [index].seen)
            return "missing_key";
    if (!s_is (dir, "in") && !s_is (dir, "out"))
        return "bad_value";
    bool in = s_is (dir, "in");
    self->fact.local = local;
    self->fact.peer = peer;
    self->fact.peer_pid = in? peer_pid: 0;
    reason = s_fact (self, in? "ACCEPTED": "CONNECTED", endpoint, fd, since);
    self->fact.local.ptr = self->fact.peer.ptr = NULL;
    self->fact.peer_pid = 0;
    return reason;
}

static const char *
s_retrying (zwatch_mpread_t *reader, facts_t *self)
{
    zwatch_str_t endpoint = { NULL, 0 };
    int64_t ivl = 0;
    uint64_t since = 0, last = 0;
    field_t fields [] = {
        { "endpoint", T_STR, &endpoint, false }, { "ivl", T_INT, &ivl, false },
        { "since", T_UINT, &since, false }, { "last", T_UINT, &last, false }
    };
    size_t count = sizeof (fields) / sizeof (fields [0]);
    const char *reason = s_read_fields (reader, fields, count);
    for (size_t index = 0; !reason && index < count; index++)
        if (!fields [index].seen)
            reason = "missing_key";
    //  The first retry sets since, the latest last (PROTOCOL.md 11.1)
    if (!reason)
        reason = s_fact (self, "CONNECT_RETRIED", endpoint, ivl, since);
    if (!reason && last != since)
        reason = s_fact (self, "CONNECT_RETRIED", endpoint, ivl, last);
    return reason;
}

const char *
client_wire_facts (const void *data, size_t size, client_fact_fn *fn, void *arg, size_t *facts)
{
    facts_t self;
    memset (&self, 0, sizeof (self));
    self.fn = fn;
    self.arg = arg;
    const uint8_t *listening = NULL, *connections = NULL, *retrying = NULL, *bind_error = NULL;
    field_t fields [] = {
        { "host", T_STR, &self.fact.host, false }, { "svc", T_STR, &self.fact.svc, false },
        { "pid", T_UINT, &self.fact.pid, false }, { "sock", T_STR, &self.fact.sock, false },
        { "stype", T_STR, &self.fact.stype, false },
        { "listening", T_ARRAY, &listening, false },
        { "connections", T_ARRAY, &connections, false },
        { "retrying", T_ARRAY, &retrying, false },
        { "bind_error", T_MAP, &bind_error, false }
    };
    zwatch_mpread_t reader;
    zwatch_mpread_init (&reader, data, size);
    const char *reason = s_read_fields (&reader, fields, sizeof (fields) / sizeof (fields [0]));
    if (reason)
        return reason;
    if (!listening || !connections || !retrying)
        return "missing_key";
    zwatch_mpread_t array = { listening, reader.end };
    reason = s_array (&array, &self, s_listening);
    if (!reason) {
        array.pos = connections;
        reason = s_array (&array, &self, s_connection);
    }
    if (!reason) {
        array.pos = retrying;
        reason = s_array (&array, &self, s_retrying);
    }
    if (!reason && bind_error) {
        zwatch_str_t endpoint = { NULL, 0 };
        int64_t value = 0;
        uint64_t ts = 0;
        field_t error [] = {
            { "endpoint", T_STR, &endpoint, false }, { "value", T_INT, &value, false },
            { "ts", T_UINT, &ts, false }
        };
        zwatch_mpread_t map = { bind_error, reader.end };
        reason = s_read_fields (&map, error, 3);
        if (!reason && (!error [0].seen || !error [1].seen || !error [2].seen))
            reason = "missing_key";
        if (!reason)
            reason = s_fact (&self, "BIND_FAILED", endpoint, value, ts);
    }
    if (facts)
        *facts = self.facts;
    return reason;
}
