/*  zwatch_certdir: the public certificates in one directory, for ZAP.

    zcertstore's disk loader rescans the whole directory (a stat per file)
    on every lookup: 25 ms per handshake with 5000 certificates, many
    minutes of handshakes for a fleet reconnecting after a broker restart.
    This class keeps the certificates in a memory zcertstore and reloads
    them only when the directory itself changed (a file added, removed or
    renamed: one stat per lookup; for a second after a change, every
    lookup reloads, as the directory's time may not show a second change
    in the same clock tick), or, for a key it does not know, at most once
    a second (a file that was still being written at the last load).
    Only regular files directly in the directory count (not those in
    subdirectories, unlike zcertstore); names starting with "." or ending
    in "_secret" are skipped. A file rewritten in place changes no
    directory: replace a certificate by writing a new file and renaming
    it over the old one (mv), or remove it first.
*/
#ifndef ZWATCH_CERTDIR_H_INCLUDED
#define ZWATCH_CERTDIR_H_INCLUDED

#include <czmq.h>

typedef struct _zwatch_certdir_t zwatch_certdir_t;

//  Load the certificates in location. NULL if out of memory.
zwatch_certdir_t *
    zwatch_certdir_new (const char *location);

//  Destroy it; idempotent
void
    zwatch_certdir_destroy (zwatch_certdir_t **self_p);

//  The certificate with this public key (Z85), reloading first if the
//  directory changed; NULL if there is none. Valid until the next call.
zcert_t *
    zwatch_certdir_lookup (zwatch_certdir_t *self, const char *public_key);

//  The directory, and how many certificates the last load found
const char *
    zwatch_certdir_location (zwatch_certdir_t *self);
size_t
    zwatch_certdir_size (zwatch_certdir_t *self);

#endif
