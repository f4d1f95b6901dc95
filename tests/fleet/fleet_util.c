/*  fleet_util: see fleet_util.h  */

#include <inttypes.h>
#include "fleet_util.h"

static zwatch_str_t
s_str (const char *text)
{
    zwatch_str_t str = { text, text? strlen (text): 0 };
    return str;
}

int
fu_apply (zwatch_fleet_t *fleet, const fu_agent_t *agent, fu_event_t event)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = event.kind? event.kind: ZWATCH_KIND_EVENT;
    msg.host = s_str (agent->host);
    msg.svc = s_str (agent->svc);
    msg.pid = agent->pid;
    msg.sock = s_str (event.sock);
    msg.stype = s_str (event.stype? event.stype: "DEALER");
    msg.event = s_str (event.event);
    msg.code = zwatch_event_code (event.event, strlen (event.event));
    CHECK (msg.code != 0);
    msg.value = event.value;
    msg.endpoint = s_str (event.endpoint? event.endpoint: "");
    msg.local = s_str (event.local);
    msg.peer = s_str (event.peer);
    msg.peer_pid = event.peer_pid;
    msg.seq = event.seq;
    msg.ts = event.ts? event.ts: event.seq * 1000 + 7;
    return zwatch_fleet_apply (fleet, &msg);
}

int
fu_lifecycle (zwatch_fleet_t *fleet, const fu_agent_t *agent, zwatch_kind_t kind,
              uint64_t seq, uint64_t count)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = kind;
    msg.host = s_str (agent->host);
    msg.svc = s_str (agent->svc);
    msg.pid = agent->pid;
    msg.start = kind == ZWATCH_KIND_STATE_END? 0: agent->start;
    msg.seq = seq;
    msg.count = count;
    msg.ts = seq * 1000 + 9;
    msg.read = 100 + seq;
    msg.sent = seq;
    msg.dropped = 100;
    msg.watched = 3;
    return zwatch_fleet_apply (fleet, &msg);
}

void
fu_links_handler (void *arg, const zwatch_fleet_link_t *link)
{
    fu_links_t *links = (fu_links_t *) arg;
    CHECK (links->count < 256);
    fu_link_t *record = &links->links [links->count++];
    record->up = link->up;
    snprintf (record->from, sizeof (record->from), "%s/%s/%" PRIu64 "/%s/%s", link->from.host,
              link->from.svc, link->from.pid, link->from.sock, link->from.addr);
    snprintf (record->to, sizeof (record->to), "%s/%s/%" PRIu64 "/%s/%s", link->to.host,
              link->to.svc, link->to.pid, link->to.sock, link->to.addr);
    snprintf (record->endpoint, sizeof (record->endpoint), "%s", link->endpoint);
    record->since = link->since;
    record->lseq = link->lseq;
}

fu_snapshot_t *
fu_snapshot (zwatch_fleet_t *fleet, const char *prefix)
{
    zwatch_fleet_snapshot_t *snapshot =
        zwatch_fleet_snapshot_new (fleet, prefix, prefix? strlen (prefix): 0);
    CHECK (snapshot);
    fu_snapshot_t *self = (fu_snapshot_t *) calloc (1, sizeof (fu_snapshot_t));
    const void *data;
    size_t size;
    size_t bytes = 0;
    while (zwatch_fleet_snapshot_next (snapshot, &data, &size)) {
        CHECK (self->count < 4096);
        char *copy = (char *) malloc (size);
        memcpy (copy, data, size);
        self->bytes [self->count] = copy;
        msgpack_unpacked *frame = &self->frames [self->count++];
        msgpack_unpacked_init (frame);
        size_t offset = 0;
        //  Exactly one map per frame, every byte used
        CHECK (msgpack_unpack_next (frame, copy, size, &offset) == MSGPACK_UNPACK_SUCCESS);
        CHECK (offset == size);
        CHECK (frame->data.type == MSGPACK_OBJECT_MAP);
        CHECK (fu_uint (&frame->data, "v") == 1);
        bytes += size;
    }
    CHECK (bytes == zwatch_fleet_snapshot_bytes (snapshot));
    CHECK (zwatch_fleet_snapshot_agents (snapshot) == fu_count (self, "agent"));
    CHECK (zwatch_fleet_snapshot_sockets (snapshot) == fu_count (self, "socket"));
    CHECK (zwatch_fleet_snapshot_links (snapshot) == fu_count (self, "link"));
    CHECK (zwatch_fleet_snapshot_lseq (snapshot) == zwatch_fleet_counters (fleet)->lseq);
    zwatch_fleet_snapshot_destroy (&snapshot);
    CHECK (snapshot == NULL);
    return self;
}

void
fu_snapshot_free (fu_snapshot_t *self)
{
    for (size_t index = 0; index < self->count; index++) {
        msgpack_unpacked_destroy (&self->frames [index]);
        free (self->bytes [index]);
    }
    free (self);
}

size_t
fu_count (fu_snapshot_t *self, const char *kind)
{
    size_t count = 0;
    for (size_t index = 0; index < self->count; index++)
        count += fu_str_is (fu_get (&self->frames [index].data, "kind"), kind);
    return count;
}

msgpack_object *
fu_socket (fu_snapshot_t *self, const char *host, uint64_t pid, const char *sock)
{
    for (size_t index = 0; index < self->count; index++) {
        msgpack_object *frame = &self->frames [index].data;
        if (fu_str_is (fu_get (frame, "kind"), "socket") && fu_str_is (fu_get (frame, "host"), host)
        &&  fu_uint (frame, "pid") == pid && fu_str_is (fu_get (frame, "sock"), sock))
            return frame;
    }
    return NULL;
}

msgpack_object *
fu_agent_frame (fu_snapshot_t *self, const char *host, uint64_t pid)
{
    for (size_t index = 0; index < self->count; index++) {
        msgpack_object *frame = &self->frames [index].data;
        if (fu_str_is (fu_get (frame, "kind"), "agent") && fu_str_is (fu_get (frame, "host"), host)
        &&  fu_uint (frame, "pid") == pid)
            return frame;
    }
    return NULL;
}

msgpack_object *
fu_get (msgpack_object *map, const char *key)
{
    CHECK (map && map->type == MSGPACK_OBJECT_MAP);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        msgpack_object *name = &map->via.map.ptr [index].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == strlen (key)
        &&  memcmp (name->via.str.ptr, key, name->via.str.size) == 0)
            return &map->via.map.ptr [index].val;
    }
    return NULL;
}

bool
fu_str_is (msgpack_object *object, const char *expected)
{
    return object && object->type == MSGPACK_OBJECT_STR
        && object->via.str.size == strlen (expected)
        && memcmp (object->via.str.ptr, expected, object->via.str.size) == 0;
}

uint64_t
fu_uint (msgpack_object *map, const char *key)
{
    msgpack_object *value = fu_get (map, key);
    CHECK (value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
    return value->via.u64;
}

int64_t
fu_int (msgpack_object *map, const char *key)
{
    msgpack_object *value = fu_get (map, key);
    CHECK (value);
    if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (int64_t) value->via.u64;
    CHECK (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER);
    return value->via.i64;
}

bool
fu_bool (msgpack_object *map, const char *key)
{
    msgpack_object *value = fu_get (map, key);
    CHECK (value && value->type == MSGPACK_OBJECT_BOOLEAN);
    return value->via.boolean;
}

msgpack_object_array *
fu_array (msgpack_object *map, const char *key)
{
    msgpack_object *value = fu_get (map, key);
    CHECK (value && value->type == MSGPACK_OBJECT_ARRAY);
    return &value->via.array;
}

size_t
fu_map_size (msgpack_object *map)
{
    CHECK (map && map->type == MSGPACK_OBJECT_MAP);
    return map->via.map.size;
}

size_t
fu_unhex (const char *hex, uint8_t *out)
{
    size_t size = 0;
    for (; *hex; hex++) {
        if (*hex == ' ' || *hex == '\n')
            continue;
        unsigned byte;
        CHECK (sscanf (hex, "%2x", &byte) == 1);
        out [size++] = (uint8_t) byte;
        hex++;
    }
    return size;
}
