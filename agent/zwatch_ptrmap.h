/*  zwatch_ptrmap: a map from pointers (a socket) to pointers, in O(1).

    Open addressing with linear probing over slots the caller provides (a
    static array for the preload, which must never free; a malloc'd one,
    regrown by rehashing into a bigger one, for the engine). Deleting
    shifts the entries after it back, so there are no tombstones and a
    long life of adds and removes never slows lookups. Not thread-safe:
    the caller locks. NULL is not a valid key.
*/
#ifndef ZWATCH_PTRMAP_H_INCLUDED
#define ZWATCH_PTRMAP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    void *key;                  //  NULL: free
    void *value;
} zwatch_ptrmap_slot_t;

typedef struct {
    zwatch_ptrmap_slot_t *slots;
    size_t capacity;            //  a power of two
    size_t count;
} zwatch_ptrmap_t;

//  Use capacity zeroed slots (capacity a power of two); the map is empty
void zwatch_ptrmap_init (zwatch_ptrmap_t *self, zwatch_ptrmap_slot_t *slots, size_t capacity);

//  The value for key, or NULL
void *zwatch_ptrmap_get (const zwatch_ptrmap_t *self, const void *key);

//  True if key is there (its value may be NULL)
bool zwatch_ptrmap_has (const zwatch_ptrmap_t *self, const void *key);

//  Set key's value. Returns 0, or -1 with errno ENOSPC when the map is
//  half full (the caller grows it, or refuses), EINVAL for a NULL key
int zwatch_ptrmap_put (zwatch_ptrmap_t *self, void *key, void *value);

//  Remove key; returns its value, or NULL if it was not there
void *zwatch_ptrmap_remove (zwatch_ptrmap_t *self, const void *key);

//  Move every entry of self into other (empty, bigger); other is the map now
void zwatch_ptrmap_move (zwatch_ptrmap_t *self, zwatch_ptrmap_t *other);

#endif
