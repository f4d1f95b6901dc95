/*  zwatch_curve: CURVE client keys for a link to the broker.

    The reader understands the subset of ZPL (rfc.zeromq.org/spec:4) that
    zcert writes: a top-level "curve" line, then indented
    'name = "value"' lines. Everything else (comments, the metadata
    section) is skipped. Values may be quoted with " or ', or bare.
*/

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "zwatch_curve.h"

#define VALUE_MAX   64          //  longer values are not keys anyway

//  The two values we look for, copied out of the file
typedef struct {
    char public_key [VALUE_MAX + 1];
    char secret_key [VALUE_MAX + 1];
    bool have_public;
    bool have_secret;
} keys_t;

bool
zwatch_curve_key_valid (const char *text)
{
    uint8_t key [32];
    return text && strlen (text) == ZWATCH_CURVE_KEY_LEN && zmq_z85_decode (key, text) != NULL;
}

//  Copy a value (quoted or bare) that starts at text; returns false if a
//  quote is not closed on the line
static bool
s_copy_value (const char *text, const char *end, char *value)
{
    const char *stop;
    if (*text == '"' || *text == '\'') {
        stop = memchr (text + 1, *text, (size_t) (end - text - 1));
        if (!stop)
            return false;
        text++;
    }
    else
        for (stop = text; stop < end && *stop != ' ' && *stop != '\t' && *stop != '#'; stop++)
            ;
    size_t len = (size_t) (stop - text);
    if (len > VALUE_MAX)
        len = VALUE_MAX;            //  still too long for a key: fails the check later
    memcpy (value, text, len);
    value [len] = 0;
    return true;
}

//  One line of the file; section tracks the current top-level name
static void
s_parse_line (const char *line, const char *end, char *section, size_t section_size, keys_t *keys)
{
    const char *text = line;
    while (text < end && (*text == ' ' || *text == '\t'))
        text++;
    if (text == end || *text == '#')
        return;
    const char *name = text;
    while (text < end && *text != ' ' && *text != '\t' && *text != '=')
        text++;
    size_t name_len = (size_t) (text - name);
    if (name == line) {             //  no indent: a new section
        snprintf (section, section_size, "%.*s", (int) name_len, name);
        return;
    }
    if (strcmp (section, "curve") != 0)
        return;
    while (text < end && (*text == ' ' || *text == '\t'))
        text++;
    if (text == end || *text != '=')
        return;
    for (text++; text < end && (*text == ' ' || *text == '\t'); text++)
        ;
    if (name_len == 10 && memcmp (name, "public-key", 10) == 0)
        keys->have_public = s_copy_value (text, end, keys->public_key);
    else
    if (name_len == 10 && memcmp (name, "secret-key", 10) == 0)
        keys->have_secret = s_copy_value (text, end, keys->secret_key);
}

//  Whole file into a NUL-terminated buffer, at most ZWATCH_CURVE_FILE_MAX
static char *
s_read_file (const char *path, char *error, size_t error_size)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (error, error_size, "cannot read certificate '%s': %s", path, strerror (errno));
        return NULL;
    }
    char *text = malloc (ZWATCH_CURVE_FILE_MAX + 1);
    size_t size = text? fread (text, 1, ZWATCH_CURVE_FILE_MAX + 1, file): 0;
    int failed = ferror (file);
    fclose (file);
    if (!text || failed || size > ZWATCH_CURVE_FILE_MAX) {
        snprintf (error, error_size, "cannot read certificate '%s': %s", path,
                  !text? "out of memory": failed? "read error": "larger than 64 KiB");
        free (text);
        return NULL;
    }
    text [size] = 0;
    return text;
}

int
zwatch_curve_load (const char *path, char *public_key, char *secret_key,
                   char *error, size_t error_size)
{
    char *text = s_read_file (path, error, error_size);
    if (!text)
        return -1;
    keys_t keys;
    memset (&keys, 0, sizeof (keys));
    char section [32] = "";
    for (char *line = text; *line; ) {
        char *end = strchr (line, '\n');
        if (!end)
            end = line + strlen (line);
        s_parse_line (line, end, section, sizeof (section), &keys);
        line = *end? end + 1: end;
    }
    free (text);

    //  A public certificate has no secret-key: the usual mix-up
    if (!keys.have_secret) {
        snprintf (error, error_size, "certificate '%s' has no curve secret-key "
                  "(a public certificate? use the NAME_secret file)", path);
        return -1;
    }
    if (!zwatch_curve_key_valid (keys.secret_key)) {
        snprintf (error, error_size, "certificate '%s': secret-key is not a %d-character Z85 key",
                  path, ZWATCH_CURVE_KEY_LEN);
        return -1;
    }
    if (!keys.have_public || !zwatch_curve_key_valid (keys.public_key)) {
        snprintf (error, error_size, "certificate '%s': %s", path, keys.have_public
                  ? "public-key is not a 40-character Z85 key": "has no curve public-key");
        return -1;
    }
    char derived [ZWATCH_CURVE_KEY_LEN + 1];
    if (zmq_curve_public (derived, keys.secret_key) != 0) {
        snprintf (error, error_size, "libzmq has no CURVE support: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    if (strcmp (derived, keys.public_key) != 0) {
        snprintf (error, error_size, "certificate '%s': public-key does not belong to secret-key",
                  path);
        return -1;
    }
    memcpy (public_key, keys.public_key, ZWATCH_CURVE_KEY_LEN + 1);
    memcpy (secret_key, keys.secret_key, ZWATCH_CURVE_KEY_LEN + 1);
    return 0;
}

int
zwatch_curve_client (zwatch_curve_t *self, const char *server_key, const char *cert_path,
                     char *error, size_t error_size)
{
    memset (self, 0, sizeof (*self));
    if (!zwatch_curve_key_valid (server_key)) {
        snprintf (error, error_size, "server key '%.48s' is not a %d-character Z85 public key",
                  server_key? server_key: "", ZWATCH_CURVE_KEY_LEN);
        return -1;
    }
    int rc = cert_path
        ? zwatch_curve_load (cert_path, self->public_key, self->secret_key, error, error_size)
        : zmq_curve_keypair (self->public_key, self->secret_key);
    if (rc != 0) {
        if (!cert_path)
            snprintf (error, error_size, "cannot make a CURVE keypair: %s",
                      zmq_strerror (zmq_errno ()));
        memset (self, 0, sizeof (*self));
        return -1;
    }
    memcpy (self->server_key, server_key, ZWATCH_CURVE_KEY_LEN + 1);
    self->enabled = true;
    return 0;
}

int
zwatch_curve_from_env (zwatch_curve_t *self, char *error, size_t error_size)
{
    const char *server_key = getenv ("ZWATCH_CURVE_SERVER_KEY");
    const char *cert_path = getenv ("ZWATCH_CURVE_CERT");
    if (server_key && !*server_key)
        server_key = NULL;
    if (cert_path && !*cert_path)
        cert_path = NULL;
    memset (self, 0, sizeof (*self));
    if (!server_key && !cert_path)
        return 0;
    if (!server_key) {
        snprintf (error, error_size, "ZWATCH_CURVE_CERT is set but ZWATCH_CURVE_SERVER_KEY "
                  "(the broker's public key) is not");
        return -1;
    }
    char reason [400];
    if (zwatch_curve_client (self, server_key, cert_path, reason, sizeof (reason)) != 0) {
        snprintf (error, error_size, "%s: %s", zwatch_curve_key_valid (server_key)
                  ? "ZWATCH_CURVE_CERT": "ZWATCH_CURVE_SERVER_KEY", reason);
        return -1;
    }
    return 0;
}

int
zwatch_curve_apply (const zwatch_curve_t *self, void *socket)
{
    if (!self || !self->enabled)
        return 0;
    if (zmq_setsockopt (socket, ZMQ_CURVE_SERVERKEY, self->server_key, ZWATCH_CURVE_KEY_LEN) != 0
    ||  zmq_setsockopt (socket, ZMQ_CURVE_PUBLICKEY, self->public_key, ZWATCH_CURVE_KEY_LEN) != 0
    ||  zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, self->secret_key, ZWATCH_CURVE_KEY_LEN) != 0)
        return -1;
    return 0;
}
