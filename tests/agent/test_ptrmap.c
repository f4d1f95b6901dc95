/*  test_ptrmap: the agent's pointer hash against a plain array, through
    hundreds of thousands of random adds, lookups and removes in a small
    table (so runs are long and wrap around its end), then growth by move.  */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "zwatch_ptrmap.h"
#include "testutil.h"

#define CAPACITY    64              //  at most 32 entries
#define KEYS        48              //  more keys than fit
#define STEPS       400000

int
main (void)
{
    static zwatch_ptrmap_slot_t slots [CAPACITY];
    zwatch_ptrmap_t map;
    zwatch_ptrmap_init (&map, slots, CAPACITY);
    //  Keys as pointers spaced like allocations, so many share a probe run
    static char base [KEYS * 64];
    void *values [KEYS];                //  the reference: NULL if absent
    memset (values, 0, sizeof (values));
    size_t present = 0;
    srand (7);
    for (long step = 0; step < STEPS; step++) {
        int key_index = rand () % KEYS;
        void *key = base + key_index * 64;
        int op = rand () % 3;
        if (op == 0) {
            void *value = (char *) key + 1 + rand () % 7;
            int rc = zwatch_ptrmap_put (&map, key, value);
            if (values [key_index] || present < CAPACITY / 2) {
                CHECK_INT_EQ (rc, 0);
                present += values [key_index]? 0: 1;
                values [key_index] = value;
            }
            else {
                CHECK_INT_EQ (rc, -1);
                CHECK_INT_EQ (errno, ENOSPC);
            }
        }
        else
        if (op == 1) {
            CHECK (zwatch_ptrmap_remove (&map, key) == values [key_index]);
            present -= values [key_index]? 1: 0;
            values [key_index] = NULL;
        }
        CHECK_INT_EQ (map.count, present);
        //  Every key answers as the reference says, after every step
        for (int other = 0; other < KEYS; other++) {
            CHECK (zwatch_ptrmap_get (&map, base + other * 64) == values [other]);
            CHECK (zwatch_ptrmap_has (&map, base + other * 64) == (values [other] != NULL));
        }
    }
    CHECK (!zwatch_ptrmap_has (&map, NULL));
    CHECK_INT_EQ (zwatch_ptrmap_put (&map, NULL, base), -1);
    CHECK_INT_EQ (errno, EINVAL);
    //  Growth: every entry moves to the bigger table, none is lost
    static zwatch_ptrmap_slot_t bigger_slots [4 * CAPACITY];
    zwatch_ptrmap_t bigger;
    zwatch_ptrmap_init (&bigger, bigger_slots, 4 * CAPACITY);
    zwatch_ptrmap_move (&map, &bigger);
    CHECK_INT_EQ (bigger.count, present);
    for (int other = 0; other < KEYS; other++)
        CHECK (zwatch_ptrmap_get (&bigger, base + other * 64) == values [other]);
    printf ("test_ptrmap: OK (%d steps, %zu entries at the end)\n", STEPS, present);
    return 0;
}
