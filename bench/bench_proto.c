/*  bench_proto: encode and decode cost of one typical event message.

    Compares zwatch_msg_encode / zwatch_msg_decode with the generic way of
    using msgpack-c (an sbuffer per event, msgpack_unpack_next plus a key
    lookup per field). The message is like test vector 1: an ACCEPTED
    event with a peer, 165 bytes. Figures only, never pass/fail; results
    go in docs/BENCHMARKS.md.

    Usage: bench_proto [--iterations N]
*/

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <msgpack.h>
#include "zwatch_proto.h"

#define ITERATIONS_DEFAULT  2000000
#define ROUNDS              5
#define VARIANTS            64          //  distinct inputs the decoders cycle through
#define TS_BASE             1700000000123456789ULL

//  Keeps a value alive without costing a store per iteration
#define KEEP(value)     __asm__ volatile ("" : : "g" (value) : "memory")

typedef double (bench_fn) (size_t iterations);

static zwatch_msg_t s_msg;                      //  the message encoders write
static char s_inputs [VARIANTS][ZWATCH_MSG_MAX]; //  what decoders read
static size_t s_input_size [VARIANTS];
static uint64_t s_sink;                         //  results, printed at the end

static zwatch_str_t
s_str (const char *text)
{
    zwatch_str_t str = { text, strlen (text) };
    return str;
}

static double
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec * 1e9 + (double) now.tv_nsec;
}

//  The event every benchmark encodes: test vector 1
static void
s_msg_init (zwatch_msg_t *msg)
{
    memset (msg, 0, sizeof (*msg));
    msg->kind = ZWATCH_KIND_EVENT;
    msg->host = s_str ("web-01");
    msg->pid = 4242;
    msg->svc = s_str ("orders");
    msg->sock = s_str ("frontend");
    msg->stype = s_str ("ROUTER");
    msg->event = s_str ("ACCEPTED");
    msg->code = 32;
    msg->value = 17;
    msg->endpoint = s_str ("tcp://0.0.0.0:5555");
    msg->ts = TS_BASE;
    msg->seq = 1;
    msg->peer = s_str ("10.0.0.9:51234");
}

//  Pack msg the generic way: same keys, same order, same bytes as ours
static void
s_generic_pack (msgpack_packer *pk, const zwatch_msg_t *msg)
{
    #define KEY(literal) msgpack_pack_str_with_body (pk, literal, sizeof (literal) - 1)
    #define STR(field) msgpack_pack_str_with_body (pk, msg->field.ptr, msg->field.len)
    msgpack_pack_map (pk, 14);
    KEY ("v");        msgpack_pack_uint64 (pk, ZWATCH_PROTO_VERSION);
    KEY ("kind");     KEY ("event");
    KEY ("host");     STR (host);
    KEY ("pid");      msgpack_pack_uint64 (pk, msg->pid);
    KEY ("svc");      STR (svc);
    KEY ("sock");     STR (sock);
    KEY ("stype");    STR (stype);
    KEY ("event");    STR (event);
    KEY ("code");     msgpack_pack_uint64 (pk, msg->code);
    KEY ("value");    msgpack_pack_int64 (pk, msg->value);
    KEY ("endpoint"); STR (endpoint);
    KEY ("ts");       msgpack_pack_uint64 (pk, msg->ts);
    KEY ("seq");      msgpack_pack_uint64 (pk, msg->seq);
    KEY ("peer");     STR (peer);
    #undef KEY
    #undef STR
}

//  Generic lookup: linear search of the map for key, NULL if absent
static msgpack_object *
s_generic_find (msgpack_object_map *map, const char *key)
{
    size_t len = strlen (key);
    for (uint32_t index = 0; index < map->size; index++) {
        msgpack_object *k = &map->ptr [index].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len
        &&  memcmp (k->via.str.ptr, key, len) == 0)
            return &map->ptr [index].val;
    }
    return NULL;
}

//  Sum of what a consumer would read from each key; 0 if anything is off
static uint64_t
s_generic_fields (msgpack_object_map *map)
{
    static const char *strings [] = {
        "kind", "host", "svc", "sock", "stype", "event", "endpoint", "peer"
    };
    static const char *uints [] = { "v", "pid", "code", "ts", "seq" };
    uint64_t sum = 0;
    for (size_t index = 0; index < sizeof (strings) / sizeof (strings [0]); index++) {
        msgpack_object *value = s_generic_find (map, strings [index]);
        if (!value || value->type != MSGPACK_OBJECT_STR)
            return 0;
        sum += value->via.str.size + (uint8_t) value->via.str.ptr [0];
    }
    for (size_t index = 0; index < sizeof (uints) / sizeof (uints [0]); index++) {
        msgpack_object *value = s_generic_find (map, uints [index]);
        if (!value || value->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return 0;
        sum += value->via.u64;
    }
    msgpack_object *value = s_generic_find (map, "value");
    if (!value || (value->type != MSGPACK_OBJECT_POSITIVE_INTEGER
               &&  value->type != MSGPACK_OBJECT_NEGATIVE_INTEGER))
        return 0;
    return sum + (uint64_t) value->via.i64;
}

//  (a) zwatch_msg_encode into a reused stack buffer
static double
s_bench_encode (size_t iterations)
{
    char buf [ZWATCH_MSG_MAX];
    uint64_t total = 0;
    double start = s_now_ns ();
    for (size_t index = 0; index < iterations; index++) {
        s_msg.seq = index + 1;
        s_msg.ts = TS_BASE + index;
        int size = zwatch_msg_encode (&s_msg, buf, sizeof (buf));
        KEEP (buf);
        total += (uint64_t) size + (uint8_t) buf [size - 1];
    }
    double elapsed = s_now_ns () - start;
    s_sink += total;
    return elapsed;
}

//  (c) msgpack-c, a new sbuffer per event: the generic way
static double
s_bench_encode_generic (size_t iterations)
{
    uint64_t total = 0;
    double start = s_now_ns ();
    for (size_t index = 0; index < iterations; index++) {
        s_msg.seq = index + 1;
        s_msg.ts = TS_BASE + index;
        msgpack_sbuffer *buffer = msgpack_sbuffer_new ();
        msgpack_packer pk;
        msgpack_packer_init (&pk, buffer, msgpack_sbuffer_write);
        s_generic_pack (&pk, &s_msg);
        KEEP (buffer->data);
        total += buffer->size + (uint8_t) buffer->data [buffer->size - 1];
        msgpack_sbuffer_free (buffer);
    }
    double elapsed = s_now_ns () - start;
    s_sink += total;
    return elapsed;
}

//  (c) msgpack-c, one sbuffer cleared per event
static double
s_bench_encode_reused (size_t iterations)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    uint64_t total = 0;
    double start = s_now_ns ();
    for (size_t index = 0; index < iterations; index++) {
        s_msg.seq = index + 1;
        s_msg.ts = TS_BASE + index;
        msgpack_sbuffer_clear (&buffer);
        s_generic_pack (&pk, &s_msg);
        KEEP (buffer.data);
        total += buffer.size + (uint8_t) buffer.data [buffer.size - 1];
    }
    double elapsed = s_now_ns () - start;
    msgpack_sbuffer_destroy (&buffer);
    s_sink += total;
    return elapsed;
}

//  (b) zwatch_msg_decode: every key, type, limit and char set checked
static double
s_bench_decode (size_t iterations)
{
    uint64_t total = 0;
    zwatch_msg_t msg;
    double start = s_now_ns ();
    for (size_t index = 0; index < iterations; index++) {
        size_t variant = index % VARIANTS;
        zwatch_reason_t reason = zwatch_msg_decode (&msg, s_inputs [variant],
                                                    s_input_size [variant], NULL);
        KEEP (msg);
        total += reason + msg.seq + (uint64_t) msg.value + msg.peer.len + msg.host.len;
    }
    double elapsed = s_now_ns () - start;
    s_sink += total;
    return elapsed;
}

//  (d) msgpack_unpack_next into a msgpack_unpacked per event, then every key
static double
s_bench_decode_generic (size_t iterations)
{
    uint64_t total = 0;
    double start = s_now_ns ();
    for (size_t index = 0; index < iterations; index++) {
        size_t variant = index % VARIANTS;
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        size_t offset = 0;
        msgpack_unpack_return rc = msgpack_unpack_next (&unpacked, s_inputs [variant],
                                                        s_input_size [variant], &offset);
        if (rc == MSGPACK_UNPACK_SUCCESS && offset == s_input_size [variant]
        &&  unpacked.data.type == MSGPACK_OBJECT_MAP)
            total += s_generic_fields (&unpacked.data.via.map);
        msgpack_unpacked_destroy (&unpacked);
    }
    double elapsed = s_now_ns () - start;
    s_sink += total;
    return elapsed;
}

//  (d) msgpack_unpack_next alone, for reference: the cost before any key lookup
static double
s_bench_unpack_only (size_t iterations)
{
    uint64_t total = 0;
    double start = s_now_ns ();
    for (size_t index = 0; index < iterations; index++) {
        size_t variant = index % VARIANTS;
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        size_t offset = 0;
        msgpack_unpack_return rc = msgpack_unpack_next (&unpacked, s_inputs [variant],
                                                        s_input_size [variant], &offset);
        KEEP (unpacked.data);
        total += (uint64_t) rc + offset + unpacked.data.via.map.size;
        msgpack_unpacked_destroy (&unpacked);
    }
    double elapsed = s_now_ns () - start;
    s_sink += total;
    return elapsed;
}

static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

//  Warm up, then the median of ROUNDS rounds, in ns per event
static double
s_run (bench_fn *fn, size_t iterations)
{
    fn (iterations / 10 + 1);
    double rounds [ROUNDS];
    for (int round = 0; round < ROUNDS; round++)
        rounds [round] = fn (iterations) / (double) iterations;
    qsort (rounds, ROUNDS, sizeof (double), s_compare);
    return rounds [ROUNDS / 2];
}

//  Build the decoders' inputs, and check both encoders agree byte for byte
static int
s_prepare (void)
{
    char generic_bytes [ZWATCH_MSG_MAX];
    for (int variant = 0; variant < VARIANTS; variant++) {
        s_msg.seq = (uint64_t) variant + 1;
        s_msg.ts = TS_BASE + (uint64_t) variant * 1000;
        s_msg.value = 17 + variant;
        int size = zwatch_msg_encode (&s_msg, s_inputs [variant], ZWATCH_MSG_MAX);
        if (size <= 0)
            return -1;
        s_input_size [variant] = (size_t) size;

        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
        s_generic_pack (&pk, &s_msg);
        memcpy (generic_bytes, buffer.data, buffer.size);
        int same = buffer.size == (size_t) size && memcmp (generic_bytes, s_inputs [variant], buffer.size) == 0;
        msgpack_sbuffer_destroy (&buffer);

        zwatch_msg_t decoded;
        if (!same || zwatch_msg_decode (&decoded, s_inputs [variant], (size_t) size, NULL) != ZWATCH_OK)
            return -1;
    }
    s_msg_init (&s_msg);
    return 0;
}

int
main (int argc, char *argv [])
{
    size_t iterations = ITERATIONS_DEFAULT;
    for (int arg = 1; arg < argc; arg++) {
        if (strcmp (argv [arg], "--iterations") == 0 && arg + 1 < argc) {
            char *end;
            unsigned long long value = strtoull (argv [++arg], &end, 10);
            if (*end || value == 0 || argv [arg][0] == '-') {
                fprintf (stderr, "bench_proto: bad --iterations '%s'\n", argv [arg]);
                return 1;
            }
            iterations = (size_t) value;
        }
        else {
            fprintf (stderr, "usage: bench_proto [--iterations N]   (default %d)\n",
                     ITERATIONS_DEFAULT);
            return 1;
        }
    }
    s_msg_init (&s_msg);
    if (s_prepare ()) {
        fprintf (stderr, "bench_proto: encoders disagree or decode failed\n");
        return 1;
    }
    double encode = s_run (s_bench_encode, iterations);
    double encode_generic = s_run (s_bench_encode_generic, iterations);
    double encode_reused = s_run (s_bench_encode_reused, iterations);
    double decode = s_run (s_bench_decode, iterations);
    double decode_generic = s_run (s_bench_decode_generic, iterations);
    double unpack_only = s_run (s_bench_unpack_only, iterations);

    printf ("zwatch proto benchmark (%zu events x %d rounds, median)\n", iterations, ROUNDS);
    printf ("  message: ACCEPTED event with peer, %zu bytes\n", s_input_size [0]);
    printf ("  encode  %-29s %6.1f ns/event\n", "zwatch_msg_encode", encode);
    printf ("  encode  %-29s %6.1f ns/event\n", "msgpack-c, sbuffer per event", encode_generic);
    printf ("  encode  %-29s %6.1f ns/event\n", "msgpack-c, reused sbuffer", encode_reused);
    printf ("  decode  %-29s %6.1f ns/event\n", "zwatch_msg_decode (strict)", decode);
    printf ("  decode  %-29s %6.1f ns/event\n", "msgpack_unpack_next + keys", decode_generic);
    printf ("  decode  %-29s %6.1f ns/event\n", "msgpack_unpack_next only", unpack_only);
    printf ("  ratio   encode generic/zwatch  %.2f   decode generic/zwatch %.2f\n",
            encode_generic / encode, decode_generic / decode);
    //  Never true; stops the compiler from discarding the work
    if (s_sink == 42)
        printf ("  (sink %llu)\n", (unsigned long long) s_sink);
    return 0;
}
