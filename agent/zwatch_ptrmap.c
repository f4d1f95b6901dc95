/*  zwatch_ptrmap: linear probing, kept at most half full.  */

#include <errno.h>
#include <stdint.h>
#include "zwatch_ptrmap.h"

//  Where key's probe starts. Pointers from malloc share their low bits:
//  mix them all in (the 64-bit finaliser of MurmurHash3)
static size_t
s_home (const zwatch_ptrmap_t *self, const void *key)
{
    uint64_t hash = (uint64_t) (uintptr_t) key;
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 33;
    return (size_t) hash & (self->capacity - 1);
}

//  The slot holding key, or the free slot where its probe ends
static size_t
s_probe (const zwatch_ptrmap_t *self, const void *key)
{
    size_t index = s_home (self, key);
    while (self->slots [index].key && self->slots [index].key != key)
        index = (index + 1) & (self->capacity - 1);
    return index;
}

void
zwatch_ptrmap_init (zwatch_ptrmap_t *self, zwatch_ptrmap_slot_t *slots, size_t capacity)
{
    self->slots = slots;
    self->capacity = capacity;
    self->count = 0;
}

void *
zwatch_ptrmap_get (const zwatch_ptrmap_t *self, const void *key)
{
    if (!key || !self->capacity)
        return NULL;
    return self->slots [s_probe (self, key)].value;
}

bool
zwatch_ptrmap_has (const zwatch_ptrmap_t *self, const void *key)
{
    return key && self->capacity && self->slots [s_probe (self, key)].key == key;
}

int
zwatch_ptrmap_put (zwatch_ptrmap_t *self, void *key, void *value)
{
    if (!key || !self->capacity) {
        errno = key? ENOSPC: EINVAL;
        return -1;
    }
    size_t index = s_probe (self, key);
    if (!self->slots [index].key) {
        //  Half full at most: probes stay short
        if (self->count + 1 > self->capacity / 2) {
            errno = ENOSPC;
            return -1;
        }
        self->slots [index].key = key;
        self->count++;
    }
    self->slots [index].value = value;
    return 0;
}

void *
zwatch_ptrmap_remove (zwatch_ptrmap_t *self, const void *key)
{
    if (!key || !self->capacity)
        return NULL;
    size_t mask = self->capacity - 1;
    size_t hole = s_probe (self, key);
    void *value = self->slots [hole].value;
    if (!self->slots [hole].key)
        return NULL;
    //  Shift back each later entry of the run whose probe would pass the hole
    for (size_t next = (hole + 1) & mask; self->slots [next].key; next = (next + 1) & mask) {
        size_t home = s_home (self, self->slots [next].key);
        int passes = hole <= next? (home <= hole || home > next): (home <= hole && home > next);
        if (passes) {
            self->slots [hole] = self->slots [next];
            hole = next;
        }
    }
    self->slots [hole].key = NULL;
    self->slots [hole].value = NULL;
    self->count--;
    return value;
}

void
zwatch_ptrmap_move (zwatch_ptrmap_t *self, zwatch_ptrmap_t *other)
{
    for (size_t index = 0; index < self->capacity; index++)
        if (self->slots [index].key)
            zwatch_ptrmap_put (other, self->slots [index].key, self->slots [index].value);
    self->count = 0;
}
