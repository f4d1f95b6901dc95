/*  test_sub_format: zwatch-sub's formatter linked directly, no processes.
    What the wire may hold (UTF-8, C0 and C1 controls, invalid bytes) and
    exactly what reaches the terminal, in text lines and in --json.  */

#include <errno.h>
#include <string.h>
#include <time.h>
#include <msgpack.h>
#include "zwatch.h"
#include "zwatch_sub_format.h"
#include "testutil.h"

//  One input (bytes, may hold NULs) and what each output must be exactly
typedef struct {
    const char *name;
    const char *bytes;
    size_t len;
    const char *text;           //  zwatch_sub_format_text
    const char *json;           //  zwatch_sub_format_json of it as a str
} case_t;

#define B(literal) literal, sizeof (literal) - 1

static const case_t s_cases [] = {
    //  Valid UTF-8 passes through, one to four bytes, up to U+10FFFF
    { "ascii",          B ("web-01 tcp://1.2.3.4:5"), "web-01 tcp://1.2.3.4:5",
                                                      "\"web-01 tcp://1.2.3.4:5\"" },
    { "empty",          B (""), "", "\"\"" },
    { "2 bytes",        B ("caf\xc3\xa9"), "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
    { "3 bytes",        B ("\xe2\x82\xac"), "\xe2\x82\xac", "\"\xe2\x82\xac\"" },
    { "4 bytes",        B ("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },
    { "U+10FFFF",       B ("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"" },
    { "U+D7FF",         B ("\xed\x9f\xbf"), "\xed\x9f\xbf", "\"\xed\x9f\xbf\"" },
    { "U+E000",         B ("\xee\x80\x80"), "\xee\x80\x80", "\"\xee\x80\x80\"" },
    { "U+00A0",         B ("\xc2\xa0"), "\xc2\xa0", "\"\xc2\xa0\"" },
    //  C0 controls and DEL
    { "NUL",            B ("a\0b"), "a\\x00b", "\"a\\u0000b\"" },
    { "newline",        B ("a\nb\r"), "a\\x0ab\\x0d", "\"a\\nb\\r\"" },
    { "tab",            B ("\t"), "\\x09", "\"\\t\"" },
    { "ESC",            B ("\x1b[31mred"), "\\x1b[31mred", "\"\\u001b[31mred\"" },
    { "0x1f",           B ("\x1f"), "\\x1f", "\"\\u001f\"" },
    { "DEL",            B ("\x7f"), "\\x7f", "\"\\u007f\"" },
    { "backspace, ff",  B ("\b\f"), "\\x08\\x0c", "\"\\b\\f\"" },
    //  Characters JSON or the line escape themselves
    { "backslash",      B ("a\\b"), "a\\\\b", "\"a\\\\b\"" },
    { "quote",          B ("\"q\""), "\"q\"", "\"\\\"q\\\"\"" },
    { "looks escaped",  B ("\\x41"), "\\\\x41", "\"\\\\x41\"" },
    //  C1 controls, U+0080..U+009F as C2 80..C2 9F
    { "U+0080",         B ("\xc2\x80"), "\\u0080", "\"\\u0080\"" },
    { "U+009B (CSI)",   B ("\xc2\x9b" "2J"), "\\u009b2J", "\"\\u009b2J\"" },
    { "U+009F",         B ("\xc2\x9f"), "\\u009f", "\"\\u009f\"" },
    //  Lone continuation bytes
    { "lone 0x80",      B ("a\x80z"), "a\\x80z", "\"a\\ufffdz\"" },
    { "lone 0xbf",      B ("\xbf"), "\\xbf", "\"\\ufffd\"" },
    { "raw C1 byte",    B ("\x9b"), "\\x9b", "\"\\ufffd\"" },
    //  Overlong forms (of '/', NUL, U+07FF, U+FFFF)
    { "overlong 2",     B ("\xc0\xaf"), "\\xc0\\xaf", "\"\\ufffd\\ufffd\"" },
    { "overlong NUL",   B ("\xc0\x80"), "\\xc0\\x80", "\"\\ufffd\\ufffd\"" },
    { "overlong 0xc1",  B ("\xc1\xbf"), "\\xc1\\xbf", "\"\\ufffd\\ufffd\"" },
    { "overlong 3",     B ("\xe0\x80\xaf"), "\\xe0\\x80\\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },
    { "overlong 3 top", B ("\xe0\x9f\xbf"), "\\xe0\\x9f\\xbf", "\"\\ufffd\\ufffd\\ufffd\"" },
    { "overlong 4",     B ("\xf0\x8f\xbf\xbf"), "\\xf0\\x8f\\xbf\\xbf",
                                            "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
    //  UTF-16 surrogates encoded (CESU-8 style), D800..DFFF
    { "U+D800",         B ("\xed\xa0\x80"), "\\xed\\xa0\\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
    { "U+DBFF U+DC00",  B ("\xed\xaf\xbf\xed\xb0\x80"), "\\xed\\xaf\\xbf\\xed\\xb0\\x80",
                        "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"" },
    { "U+DFFF",         B ("\xed\xbf\xbf"), "\\xed\\xbf\\xbf", "\"\\ufffd\\ufffd\\ufffd\"" },
    //  Truncated sequences: at the end, and before an ASCII byte
    { "cut 2 at end",   B ("a\xc3"), "a\\xc3", "\"a\\ufffd\"" },
    { "cut 3 at end",   B ("\xe2\x82"), "\\xe2\\x82", "\"\\ufffd\\ufffd\"" },
    { "cut 4 at end",   B ("\xf0\x9f\x98"), "\\xf0\\x9f\\x98", "\"\\ufffd\\ufffd\\ufffd\"" },
    { "cut 3 then A",   B ("\xe2\x82" "A"), "\\xe2\\x82A", "\"\\ufffd\\ufffdA\"" },
    { "cut then valid", B ("\xe2\xc3\xa9"), "\\xe2\xc3\xa9", "\"\\ufffd\xc3\xa9\"" },
    //  Beyond U+10FFFF, and bytes that never start a sequence
    { "U+110000",       B ("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80",
                                            "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
    { "lead 0xf5",      B ("\xf5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80",
                                            "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
    { "lead 0xf8",      B ("\xf8\x88\x80\x80\x80"), "\\xf8\\x88\\x80\\x80\\x80",
                        "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"" },
    { "0xfe 0xff",      B ("\xfe\xff"), "\\xfe\\xff", "\"\\ufffd\\ufffd\"" }
};

//  A msgpack str object over bytes
static msgpack_object
s_str (const char *bytes, size_t len)
{
    msgpack_object object;
    memset (&object, 0, sizeof (object));
    object.type = MSGPACK_OBJECT_STR;
    object.via.str.ptr = bytes;
    object.via.str.size = (uint32_t) len;
    return object;
}

//  Fail with the case's name and both strings, bytes shown as they are
static void
s_expect (const char *name, const char *what, const char *got, const char *expected)
{
    if (got && strcmp (got, expected) == 0)
        return;
    fprintf (stderr, "case '%s', %s: got \"%s\", expected \"%s\"\n", name, what,
             got? got: "(null)", expected);
    exit (1);
}

static void
test_strings (void)
{
    zwatch_sub_format_t *format = zwatch_sub_format_new ();
    CHECK (format);
    for (size_t index = 0; index < sizeof (s_cases) / sizeof (s_cases [0]); index++) {
        const case_t *test = &s_cases [index];
        s_expect (test->name, "text", zwatch_sub_format_text (format, test->bytes, test->len),
                  test->text);
        msgpack_object str = s_str (test->bytes, test->len);
        s_expect (test->name, "json", zwatch_sub_format_json (format, &str), test->json);
    }
    zwatch_sub_format_destroy (&format);
    CHECK (format == NULL);
    zwatch_sub_format_destroy (&format);       //  idempotent
}

//  Map keys and values in --json, nested, from packed bytes as they come
static void
test_json_map (void)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 4);
    msgpack_pack_str_with_body (&pk, "k\xc2\x85y", 4);         //  C1 in a key (NEL)
    msgpack_pack_str_with_body (&pk, "\xff", 1);
    msgpack_pack_int (&pk, 7);                                  //  a key that is no string
    msgpack_pack_array (&pk, 2);
    msgpack_pack_str_with_body (&pk, "\xed\xa0\x80", 3);
    msgpack_pack_nil (&pk);
    msgpack_pack_str_with_body (&pk, "bin", 3);
    msgpack_pack_bin_with_body (&pk, "\x80\x00\xff", 3);
    msgpack_pack_str_with_body (&pk, "\"", 1);                 //  a quote as a key
    msgpack_pack_str_with_body (&pk, "\xe2\x80\xa8", 3);       //  U+2028: valid JSON
    zwatch_sub_format_t *format = zwatch_sub_format_new ();
    CHECK (format);
    const char *reason = NULL;
    const msgpack_object *object = zwatch_sub_format_parse (format, buffer.data, buffer.size,
                                                            &reason);
    CHECK (object);
    s_expect ("map", "json", zwatch_sub_format_json (format, object),
              "{\"k\\u0085y\":\"\\ufffd\",\"7\":[\"\\ufffd\\ufffd\\ufffd\",null],"
              "\"bin\":\"gAD/\",\"\\\"\":\"\xe2\x80\xa8\"}");
    msgpack_sbuffer_destroy (&buffer);
    zwatch_sub_format_destroy (&format);
}

//  An event line: every string field escaped the same way
static void
test_event_line (void)
{
    zwatch_msg_t msg;
    memset (&msg, 0, sizeof (msg));
    msg.kind = ZWATCH_KIND_EVENT;
    msg.host = (zwatch_str_t) { "h", 1 };
    msg.svc = (zwatch_str_t) { "s", 1 };
    msg.pid = 42;
    msg.sock = (zwatch_str_t) { "so\xc2\x9b" "ck", 6 };
    msg.stype = (zwatch_str_t) { "DEALER", 6 };
    msg.event = (zwatch_str_t) { "CONNECTED", 9 };
    msg.code = ZMQ_EVENT_CONNECTED;
    msg.value = 12;
    msg.endpoint = (zwatch_str_t) { "tcp://\x1b]0;x\x07:1", 14 };
    msg.peer = (zwatch_str_t) { "\xed\xa0\x80", 3 };
    msg.ts = 1700000000123456789ull;
    msg.seq = 1;
    zwatch_sub_format_t *format = zwatch_sub_format_new ();
    CHECK (format);
    s_expect ("event", "line", zwatch_sub_format_event (format, &msg),
              "2023-11-14 22:13:20.123 h s[42] so\\u009bck(DEALER) CONNECTED "
              "tcp://\\x1b]0;x\\x07:1 fd=12 peer=\\xed\\xa0\\x80");
    zwatch_sub_format_destroy (&format);
}

//  Pack a map of (key, uint or str) pairs and render it with --json
static void
s_expect_json (const char *name, const char *const keys [], const char *const strs [],
               const uint64_t *uints, size_t count, const char *expected)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, (uint32_t) count);
    for (size_t index = 0; index < count; index++) {
        msgpack_pack_str_with_body (&pk, keys [index], strlen (keys [index]));
        if (strs [index])
            msgpack_pack_str_with_body (&pk, strs [index], strlen (strs [index]));
        else
            msgpack_pack_uint64 (&pk, uints [index]);
    }
    zwatch_sub_format_t *format = zwatch_sub_format_new ();
    CHECK (format);
    const msgpack_object *object = zwatch_sub_format_parse (format, buffer.data, buffer.size, NULL);
    CHECK (object);
    s_expect (name, "json", zwatch_sub_format_json (format, object), expected);
    zwatch_sub_format_destroy (&format);
    msgpack_sbuffer_destroy (&buffer);
}

//  --json adds "time" after ts and "error" after an errno value, and
//  nothing else; the protocol's keys stay as they came
static void
test_json_readable (void)
{
    //  CONNECT_DELAYED (2): value 115 is EINPROGRESS
    const char *keys [] = { "kind", "code", "value", "ts", "seq" };
    const char *strs [] = { "event", NULL, NULL, NULL, NULL };
    uint64_t delayed [] = { 0, 2, EINPROGRESS, 1700000000123456789ull, 7 };
    s_expect_json ("errno", keys, strs, delayed, 5,
                   "{\"kind\":\"event\",\"code\":2,\"value\":115,\"error\":\"EINPROGRESS\","
                   "\"ts\":1700000000123456789,\"time\":\"2023-11-14T22:13:20.123456789Z\","
                   "\"seq\":7}");
    //  BIND_FAILED (16), EADDRINUSE; ts with leading zeros in its nanoseconds
    uint64_t bind_failed [] = { 0, 16, EADDRINUSE, 1700000000000000042ull, 1 };
    s_expect_json ("bind_failed", keys, strs, bind_failed, 5,
                   "{\"kind\":\"event\",\"code\":16,\"value\":98,\"error\":\"EADDRINUSE\","
                   "\"ts\":1700000000000000042,\"time\":\"2023-11-14T22:13:20.000000042Z\","
                   "\"seq\":1}");
    //  CONNECTED (1): the value is an fd, no error
    uint64_t connected [] = { 0, 1, 115, 0, 2 };
    s_expect_json ("fd", keys, strs, connected, 5,
                   "{\"kind\":\"event\",\"code\":1,\"value\":115,"
                   "\"ts\":0,\"time\":\"1970-01-01T00:00:00.000000000Z\",\"seq\":2}");
    //  Any errno glibc knows, not only common ones (ESTALE is 116), and
    //  libzmq's own (EFSM): both named
    uint64_t stale [] = { 0, 16, ESTALE, 0, 4 };
    s_expect_json ("glibc name", keys, strs, stale, 5,
                   "{\"kind\":\"event\",\"code\":16,\"value\":116,\"error\":\"ESTALE\","
                   "\"ts\":0,\"time\":\"1970-01-01T00:00:00.000000000Z\",\"seq\":4}");
    uint64_t fsm [] = { 0, 2048, EFSM, 0, 6 };
    s_expect_json ("libzmq name", keys, strs, fsm, 5,
                   "{\"kind\":\"event\",\"code\":2048,\"value\":156384763,\"error\":\"EFSM\","
                   "\"ts\":0,\"time\":\"1970-01-01T00:00:00.000000000Z\",\"seq\":6}");
    //  An errno zwatch-sub cannot name: no error key
    uint64_t unnamed [] = { 0, 16, 4000, 1, 3 };
    s_expect_json ("unnamed", keys, strs, unnamed, 5,
                   "{\"kind\":\"event\",\"code\":16,\"value\":4000,"
                   "\"ts\":1,\"time\":\"1970-01-01T00:00:00.000000001Z\",\"seq\":3}");
    //  A map that has its own "time" and "error" keeps them, adds none
    const char *own_keys [] = { "time", "code", "value", "error", "ts" };
    const char *own_strs [] = { "mine", NULL, NULL, "theirs", NULL };
    uint64_t own [] = { 0, 16, EADDRINUSE, 0, 5 };
    s_expect_json ("own keys", own_keys, own_strs, own, 5,
                   "{\"time\":\"mine\",\"code\":16,\"value\":98,\"error\":\"theirs\","
                   "\"ts\":5}");
    //  A ts that is no uint, and a stats map: time only where ts is a uint
    const char *stats_keys [] = { "kind", "ts" };
    const char *stats_strs [] = { "stats", "soon" };
    uint64_t none [] = { 0, 0 };
    s_expect_json ("ts str", stats_keys, stats_strs, none, 2, "{\"kind\":\"stats\",\"ts\":\"soon\"}");
}

int
main (int argc, char *argv [])
{
    //  Event lines show local time: make it UTC
    setenv ("TZ", "UTC", 1);
    tzset ();
    static const tu_case_t cases [] = {
        { "strings", test_strings }, { "json_map", test_json_map },
        { "event_line", test_event_line }, { "json_readable", test_json_readable }
    };
    return tu_run_cases (argc, argv, "test_sub_format", cases, sizeof (cases) / sizeof (cases [0]));
}
