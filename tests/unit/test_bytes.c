/*  test_bytes: zwatch_bytes_same against memcmp, for every length up to
    40 (the word, half-word and byte paths, and the overlapping tail) with
    one differing byte at each position, and runs that end exactly at the
    end of their buffer (under ASan a read past either end fails).  */

#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "zwatch_bytes.h"

#define LENGTH_MAX  40

static void
test_lengths (void)
{
    size_t checked = 0;
    for (size_t len = 0; len <= LENGTH_MAX; len++) {
        //  Each side in an allocation of exactly len bytes, at two offsets
        for (size_t shift = 0; shift < 2; shift++) {
            uint8_t *a = (uint8_t *) malloc (len + shift + 1);
            uint8_t *b = (uint8_t *) malloc (len + 1);
            CHECK (a && b);
            for (size_t at = 0; at < len; at++)
                a [shift + at] = b [at] = (uint8_t) ('a' + at % 26);
            CHECK (zwatch_bytes_same (a + shift, b, len));
            for (size_t at = 0; at < len; at++) {
                b [at] ^= 0x20;
                CHECK (!zwatch_bytes_same (a + shift, b, len));
                CHECK (!zwatch_bytes_same (b, a + shift, len));
                b [at] ^= 0x20;
                checked++;
            }
            CHECK (zwatch_bytes_same (a + shift, b, len));
            free (a);
            free (b);
        }
    }
    CHECK_INT_EQ (checked, 2 * (LENGTH_MAX * (LENGTH_MAX + 1) / 2));
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = { { "lengths", test_lengths } };
    return tu_run_cases (argc, argv, "test_bytes", cases, sizeof (cases) / sizeof (cases [0]));
}
