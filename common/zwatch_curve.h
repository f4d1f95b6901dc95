/*  zwatch_curve: CURVE client keys for a link to the broker.

    The agent uses no CZMQ, so it reads the certificate files that zcert
    (and zwatch-keygen) write itself: the "curve" section of the ZPL
    secret file, public-key and secret-key in Z85. zwatch-sub and the
    broker use the same reader, so a bad file fails the same way everywhere.
*/
#ifndef ZWATCH_CURVE_H_INCLUDED
#define ZWATCH_CURVE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define ZWATCH_CURVE_KEY_LEN    40          //  Z85 text of a 32-byte key
#define ZWATCH_CURVE_FILE_MAX   65536       //  a certificate is a few hundred bytes

//  What a CURVE client needs; enabled false means a plain (NULL) link
typedef struct {
    bool enabled;
    char server_key [ZWATCH_CURVE_KEY_LEN + 1];     //  the broker's public key
    char public_key [ZWATCH_CURVE_KEY_LEN + 1];     //  ours
    char secret_key [ZWATCH_CURVE_KEY_LEN + 1];
} zwatch_curve_t;

//  True if text is exactly the Z85 text of a 32-byte key
bool
    zwatch_curve_key_valid (const char *text);

//  Read the keypair of a zcert secret certificate file. The public key
//  must be the secret key's. Returns 0, or -1 with one line in error.
int
    zwatch_curve_load (const char *path, char *public_key, char *secret_key,
                       char *error, size_t error_size);

//  Client settings: the broker's public key (Z85) and our certificate's
//  secret file, or NULL for a fresh keypair (for a broker that accepts any
//  key). Returns 0, or -1 with one line in error.
int
    zwatch_curve_client (zwatch_curve_t *self, const char *server_key, const char *cert_path,
                         char *error, size_t error_size);

//  Client settings from $ZWATCH_CURVE_SERVER_KEY and $ZWATCH_CURVE_CERT;
//  neither set (or both empty) leaves self disabled. Returns 0 or -1.
int
    zwatch_curve_from_env (zwatch_curve_t *self, char *error, size_t error_size);

//  Set the client options on a socket before it connects; nothing when
//  disabled. Returns 0, or -1 with zmq_errno set.
int
    zwatch_curve_apply (const zwatch_curve_t *self, void *socket);

#endif
