/*  snap_client: a DEALER that asks a broker for snapshots (PROTOCOL.md 12).

    snap_client_get sends a request and reads the reply up to its
    snapshot_end (or an error), keeping every frame unpacked, so tests can
    look at any key of any map. The raw senders make bad requests.
*/
#ifndef SNAP_CLIENT_H_INCLUDED
#define SNAP_CLIENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

typedef struct _snap_client_t snap_client_t;

//  One reply: its frames in order, each a map
typedef struct _snap_reply_t snap_reply_t;

//  Connect a DEALER to endpoint
snap_client_t *
    snap_client_new (const char *endpoint);

//  The same as a CURVE client of a broker whose public key is server_key
//  (Z85), with a fresh keypair; server_key NULL: plain
snap_client_t *
    snap_client_new_curve (const char *endpoint, const char *server_key);

void
    snap_client_destroy (snap_client_t **self_p);

//  Send a request (prefix NULL: none; history < 0: none)
void
    snap_client_request (snap_client_t *self, const char *prefix, int64_t history);

//  Send bytes as one frame, or as parts frames
void
    snap_client_send_raw (snap_client_t *self, const void *data, size_t size);
void
    snap_client_send_parts (snap_client_t *self, const void *data, size_t size, int parts);

//  Read a reply: frames up to snapshot_end or error, up to timeout_ms in
//  all. NULL on timeout. A frame that is not a map with v 1 fails the test.
snap_reply_t *
    snap_client_reply (snap_client_t *self, int timeout_ms);

//  Request and reply in one (the test fails on timeout)
snap_reply_t *
    snap_client_get (snap_client_t *self, const char *prefix, int64_t history, int timeout_ms);

//  Its raw libzmq socket (a test that never reads needs only that)
void *
    snap_client_handle (snap_client_t *self);

void
    snap_reply_destroy (snap_reply_t **self_p);

//  Frames in the reply, the index-th, and how many have this kind
size_t
    snap_reply_size (snap_reply_t *self);
const msgpack_object *
    snap_reply_frame (snap_reply_t *self, size_t index);
size_t
    snap_reply_count (snap_reply_t *self, const char *kind);

//  The last frame (snapshot_end or error)
const msgpack_object *
    snap_reply_last (snap_reply_t *self);

//  The index-th frame of this kind, or NULL
const msgpack_object *
    snap_reply_nth (snap_reply_t *self, const char *kind, size_t index);

//  The error's reason, or NULL if the reply is no error
const char *
    snap_reply_error (snap_reply_t *self);

//  Map helpers: a key's value or NULL; a str key equal to text; a uint key
//  (the test fails if absent or not a uint); a str key as a NUL-terminated
//  string in buf
const msgpack_object *
    mp_get (const msgpack_object *map, const char *key);
bool
    mp_str_is (const msgpack_object *map, const char *key, const char *text);
uint64_t
    mp_uint (const msgpack_object *map, const char *key);
const char *
    mp_str (const msgpack_object *map, const char *key, char *buf, size_t size);

#endif
