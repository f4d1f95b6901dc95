/*  test_via: the via key read and appended byte for byte (PROTOCOL.md 14,
    the vector there), the loop check, and what via may not be.  */

#include <errno.h>
#include <string.h>
#include "zwatch.h"
#include "zwatch_via.h"
#include "testutil.h"

//  PROTOCOL.md section 8, vector 3: a heartbeat, 12 entries
static const uint8_t s_vector3 [] = {
    0x8c, 0xa1, 0x76, 0x01, 0xa4, 0x6b, 0x69, 0x6e, 0x64, 0xa9, 0x68, 0x65, 0x61, 0x72, 0x74, 0x62,
    0x65, 0x61, 0x74, 0xa4, 0x68, 0x6f, 0x73, 0x74, 0xa6, 0x77, 0x65, 0x62, 0x2d, 0x30, 0x31, 0xa3,
    0x70, 0x69, 0x64, 0xcd, 0x10, 0x92, 0xa3, 0x73, 0x76, 0x63, 0xa6, 0x6f, 0x72, 0x64, 0x65, 0x72,
    0x73, 0xa5, 0x73, 0x74, 0x61, 0x72, 0x74, 0xcf, 0x17, 0x97, 0x9c, 0xfe, 0x36, 0x2a, 0x00, 0x00,
    0xa2, 0x74, 0x73, 0xcf, 0x17, 0x97, 0x9d, 0x0c, 0x2e, 0x71, 0x58, 0x00, 0xa3, 0x73, 0x65, 0x71,
    0x76, 0xa4, 0x72, 0x65, 0x61, 0x64, 0x78, 0xa4, 0x73, 0x65, 0x6e, 0x74, 0x76, 0xa7, 0x64, 0x72,
    0x6f, 0x70, 0x70, 0x65, 0x64, 0x02, 0xa7, 0x77, 0x61, 0x74, 0x63, 0x68, 0x65, 0x64, 0x03
};

//  What edge1 then region make of it: header 8c -> 8d, then via at the end
static const uint8_t s_via_edge1 [] = { 0xa3, 'v', 'i', 'a', 0x91, 0xa5, 'e', 'd', 'g', 'e', '1' };
static const uint8_t s_via_both [] = {
    0xa3, 'v', 'i', 'a', 0x92, 0xa5, 'e', 'd', 'g', 'e', '1', 0xa6, 'r', 'e', 'g', 'i', 'o', 'n'
};

static void
s_test_vector (void)
{
    zwatch_via_t via;
    CHECK_INT_EQ (zwatch_via_read (&via, s_vector3, sizeof (s_vector3)), 0);
    CHECK_INT_EQ (via.count, 0);
    uint8_t once [ZWATCH_MSG_MAX], twice [ZWATCH_MSG_MAX];
    int size = zwatch_via_append (&via, s_vector3, sizeof (s_vector3), "edge1", once, sizeof (once));
    CHECK_INT_EQ (size, 122);
    CHECK_INT_EQ (once [0], 0x8d);
    CHECK (memcmp (once + 1, s_vector3 + 1, sizeof (s_vector3) - 1) == 0);
    CHECK (memcmp (once + sizeof (s_vector3), s_via_edge1, sizeof (s_via_edge1)) == 0);
    //  Still a valid heartbeat, with the origin as it was
    zwatch_msg_t msg;
    CHECK_INT_EQ (zwatch_msg_decode (&msg, once, (size_t) size, NULL), ZWATCH_OK);
    CHECK_INT_EQ (msg.pid, 4242);
    CHECK_INT_EQ (msg.seq, 118);

    CHECK_INT_EQ (zwatch_via_read (&via, once, (size_t) size), 0);
    CHECK_INT_EQ (via.count, 1);
    CHECK (zwatch_via_has (&via, "edge1"));
    CHECK (!zwatch_via_has (&via, "edge"));
    CHECK (!zwatch_via_has (&via, "region"));
    int size2 = zwatch_via_append (&via, once, (size_t) size, "region", twice, sizeof (twice));
    CHECK_INT_EQ (size2, 129);
    CHECK_INT_EQ (twice [0], 0x8d);
    CHECK (memcmp (twice + 1, s_vector3 + 1, sizeof (s_vector3) - 1) == 0);
    CHECK (memcmp (twice + sizeof (s_vector3), s_via_both, sizeof (s_via_both)) == 0);
    CHECK_INT_EQ (zwatch_via_read (&via, twice, (size_t) size2), 0);
    CHECK_INT_EQ (via.count, 2);
    CHECK (zwatch_via_has (&via, "edge1") && zwatch_via_has (&via, "region"));
}

//  via not last: the ids are added in place, the keys after it kept
static void
s_test_middle (void)
{
    const uint8_t in [] = { 0x83, 0xa1, 'v', 0x01, 0xa3, 'v', 'i', 'a', 0x91, 0xa1, 'a',
                            0xa1, 'x', 0x07 };
    const uint8_t out [] = { 0x83, 0xa1, 'v', 0x01, 0xa3, 'v', 'i', 'a', 0x92, 0xa1, 'a',
                             0xa1, 'b', 0xa1, 'x', 0x07 };
    zwatch_via_t via;
    CHECK_INT_EQ (zwatch_via_read (&via, in, sizeof (in)), 0);
    uint8_t buffer [64];
    CHECK_INT_EQ (zwatch_via_append (&via, in, sizeof (in), "b", buffer, sizeof (buffer)),
                  sizeof (out));
    CHECK (memcmp (buffer, out, sizeof (out)) == 0);
}

static void
s_test_bad (void)
{
    zwatch_via_t via;
    const uint8_t not_array [] = { 0x81, 0xa3, 'v', 'i', 'a', 0xa1, 'a' };
    const uint8_t empty [] = { 0x81, 0xa3, 'v', 'i', 'a', 0x90 };
    const uint8_t bad_id [] = { 0x81, 0xa3, 'v', 'i', 'a', 0x91, 0xa3, 'a', '/', 'b' };
    const uint8_t twice [] = { 0x82, 0xa3, 'v', 'i', 'a', 0x91, 0xa1, 'a',
                               0xa3, 'v', 'i', 'a', 0x91, 0xa1, 'b' };
    const uint8_t *bad [] = { not_array, empty, bad_id, twice };
    size_t sizes [] = { sizeof (not_array), sizeof (empty), sizeof (bad_id), sizeof (twice) };
    for (size_t index = 0; index < 4; index++) {
        errno = 0;
        CHECK_INT_EQ (zwatch_via_read (&via, bad [index], sizes [index]), -1);
        CHECK_INT_EQ (errno, EPROTO);
    }
    //  ZWATCH_VIA_MAX brokers: no ninth
    uint8_t full [64] = { 0x81, 0xa3, 'v', 'i', 'a', 0x98 };
    size_t size = 6;
    for (int index = 0; index < ZWATCH_VIA_MAX; index++) {
        full [size++] = 0xa1;
        full [size++] = (uint8_t) ('a' + index);
    }
    CHECK_INT_EQ (zwatch_via_read (&via, full, size), 0);
    CHECK_INT_EQ (via.count, ZWATCH_VIA_MAX);
    uint8_t buffer [64];
    errno = 0;
    CHECK_INT_EQ (zwatch_via_append (&via, full, size, "z", buffer, sizeof (buffer)), -1);
    CHECK_INT_EQ (errno, E2BIG);
    //  Over the capacity given
    CHECK_INT_EQ (zwatch_via_read (&via, s_vector3, sizeof (s_vector3)), 0);
    errno = 0;
    CHECK_INT_EQ (zwatch_via_append (&via, s_vector3, sizeof (s_vector3), "edge1", buffer,
                                     sizeof (buffer)), -1);
    CHECK_INT_EQ (errno, EMSGSIZE);
}

int
main (int argc, char *argv [])
{
    const tu_case_t cases [] = {
        { "vector", s_test_vector }, { "middle", s_test_middle }, { "bad", s_test_bad }
    };
    return tu_run_cases (argc, argv, "test_via", cases, sizeof (cases) / sizeof (cases [0]));
}
