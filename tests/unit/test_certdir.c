/*  test_certdir: the broker's certificate directory on its own, no
    process, no socket: what a lookup sees after files are added, removed,
    renamed over, duplicated or put in subdirectories, after the directory
    goes away and comes back, after a change within the same clock tick as
    the last load, and for a file that was still being written then.  */

#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <czmq.h>
#include "testutil.h"
#include "zwatch_certdir.h"

#define WAIT_MS         5000        //  bound on waits; never a speed limit
#define MISS_RELOAD_MS  1000        //  zwatch_certdir.c: an unknown key reloads this often

static char *
s_dir_new (void)
{
    char *dir = tu_temp_path ("-certs");
    CHECK (mkdir (dir, 0700) == 0);
    return dir;
}

static void
s_dir_destroy (char **dir_p)
{
    zdir_t *dir = zdir_new (*dir_p, NULL);
    if (dir) {
        zdir_remove (dir, true);
        zdir_destroy (&dir);
    }
    zstr_free (dir_p);
}

static char *
s_path (const char *dir, const char *name)
{
    char *path = NULL;
    CHECK (asprintf (&path, "%s/%s", dir, name) > 0);
    return path;
}

//  A new certificate as dir/name (public part; with_secret: name_secret
//  too); returns its public key
static char *
s_cert_write (const char *dir, const char *name, bool with_secret)
{
    zcert_t *cert = zcert_new ();
    CHECK (cert);
    char *path = s_path (dir, name);
    CHECK ((with_secret? zcert_save (cert, path): zcert_save_public (cert, path)) == 0);
    char *key = strdup (zcert_public_txt (cert));
    free (path);
    zcert_destroy (&cert);
    return key;
}

static void
s_unlink (const char *dir, const char *name)
{
    char *path = s_path (dir, name);
    CHECK (unlink (path) == 0);
    free (path);
}

static struct timespec
s_mtime (const char *dir)
{
    struct stat info;
    CHECK (stat (dir, &info) == 0);
    return info.st_mtim;
}

//  Give dir this modification time, as if nothing had changed since
static void
s_set_mtime (const char *dir, struct timespec mtime)
{
    struct timespec times [2] = { { 0, UTIME_OMIT }, mtime };
    CHECK (utimensat (AT_FDCWD, dir, times, 0) == 0);
}

//  Ten seconds ago: a load after it sees a settled directory
static struct timespec
s_settled (void)
{
    struct timespec now;
    CHECK (clock_gettime (CLOCK_REALTIME, &now) == 0);
    now.tv_sec -= 10;
    return now;
}

static bool
s_knows (zwatch_certdir_t *certs, const char *key)
{
    zcert_t *cert = zwatch_certdir_lookup (certs, key);
    if (cert)
        CHECK_STR_EQ (zcert_public_txt (cert), key);
    return cert != NULL;
}

static void
test_empty (void)
{
    char *dir = s_dir_new ();
    zwatch_certdir_t *certs = zwatch_certdir_new (dir);
    CHECK (certs);
    CHECK_STR_EQ (zwatch_certdir_location (certs), dir);
    CHECK_INT_EQ (zwatch_certdir_size (certs), 0);
    zcert_t *stranger = zcert_new ();
    CHECK (!s_knows (certs, zcert_public_txt (stranger)));
    zcert_destroy (&stranger);
    zwatch_certdir_destroy (&certs);
    CHECK (!certs);
    zwatch_certdir_destroy (&certs);
    s_dir_destroy (&dir);
}

//  Added and removed files count at the next lookup
static void
test_add_remove (void)
{
    char *dir = s_dir_new ();
    zwatch_certdir_t *certs = zwatch_certdir_new (dir);
    char *alice = s_cert_write (dir, "alice", false);
    CHECK (s_knows (certs, alice));
    CHECK_INT_EQ (zwatch_certdir_size (certs), 1);
    char *bob = s_cert_write (dir, "bob", false);
    CHECK (s_knows (certs, bob));
    CHECK (s_knows (certs, alice));
    CHECK_INT_EQ (zwatch_certdir_size (certs), 2);
    s_unlink (dir, "alice");
    CHECK (!s_knows (certs, alice));                //  revoked at once
    CHECK (s_knows (certs, bob));
    CHECK_INT_EQ (zwatch_certdir_size (certs), 1);
    zwatch_certdir_destroy (&certs);
    free (alice);
    free (bob);
    s_dir_destroy (&dir);
}

//  A key replaced by renaming a new file over the old one (how an editor
//  or "mv" replaces it): the old key is refused, the new one known
static void
test_rename (void)
{
    char *dir = s_dir_new ();
    char *old_key = s_cert_write (dir, "alice", false);
    s_set_mtime (dir, s_settled ());
    zwatch_certdir_t *certs = zwatch_certdir_new (dir);
    CHECK (s_knows (certs, old_key));
    char *new_key = s_cert_write (dir, "alice.new", false);
    char *from = s_path (dir, "alice.new"), *to = s_path (dir, "alice");
    CHECK (rename (from, to) == 0);
    CHECK (!s_knows (certs, old_key));
    CHECK (s_knows (certs, new_key));
    CHECK_INT_EQ (zwatch_certdir_size (certs), 1);
    zwatch_certdir_destroy (&certs);
    free (from);
    free (to);
    free (old_key);
    free (new_key);
    s_dir_destroy (&dir);
}

//  Secret files, a second copy of a key, and certificates in a
//  subdirectory do not count
static void
test_secret_and_duplicates (void)
{
    char *dir = s_dir_new ();
    char *alice = s_cert_write (dir, "alice", true);        //  alice and alice_secret
    char *from = s_path (dir, "alice"), *to = s_path (dir, "alice-copy");
    char *text = tu_read_file (from);
    CHECK (text);
    FILE *file = fopen (to, "w");
    CHECK (file && fputs (text, file) >= 0 && fclose (file) == 0);
    char *sub = s_path (dir, "old");
    CHECK (mkdir (sub, 0700) == 0);
    char *hidden = s_cert_write (sub, "carol", false);
    zwatch_certdir_t *certs = zwatch_certdir_new (dir);
    CHECK_INT_EQ (zwatch_certdir_size (certs), 1);
    CHECK (s_knows (certs, alice));
    CHECK (!s_knows (certs, hidden));
    zwatch_certdir_destroy (&certs);
    free (from);
    free (to);
    free (text);
    free (sub);
    free (alice);
    free (hidden);
    s_dir_destroy (&dir);
}

//  A file removed within the same clock tick as the load before it leaves
//  the directory's time as it was (the kernel stamps with a clock of a few
//  ms, some filesystems with whole seconds): the load that saw a time that
//  recent is not trusted, the next lookup loads again
static void
test_same_tick (void)
{
    char *dir = s_dir_new ();
    char *alice = s_cert_write (dir, "alice", false);
    char *bob = s_cert_write (dir, "bob", false);
    struct timespec tick = s_mtime (dir);
    zwatch_certdir_t *certs = zwatch_certdir_new (dir);
    CHECK (s_knows (certs, alice));
    s_unlink (dir, "alice");
    s_set_mtime (dir, tick);                        //  the same tick
    CHECK (!s_knows (certs, alice));
    CHECK (s_knows (certs, bob));
    CHECK_INT_EQ (zwatch_certdir_size (certs), 1);
    zwatch_certdir_destroy (&certs);
    free (alice);
    free (bob);
    s_dir_destroy (&dir);
}

//  No directory: nobody; the directory back: its certificates
static void
test_missing_dir (void)
{
    char *dir = tu_temp_path ("-certs");
    zwatch_certdir_t *certs = zwatch_certdir_new (dir);
    CHECK (certs);
    CHECK_INT_EQ (zwatch_certdir_size (certs), 0);
    CHECK (mkdir (dir, 0700) == 0);
    char *alice = s_cert_write (dir, "alice", false);
    CHECK (s_knows (certs, alice));
    CHECK_INT_EQ (zwatch_certdir_size (certs), 1);
    s_unlink (dir, "alice");
    CHECK (rmdir (dir) == 0);
    CHECK (!s_knows (certs, alice));
    CHECK_INT_EQ (zwatch_certdir_size (certs), 0);
    zwatch_certdir_destroy (&certs);
    free (alice);
    free (dir);
}

//  A file the last load did not see while the directory looks unchanged
//  (it was still being written, say): an unknown key reloads, at most once
//  a second, and then it is known
static void
test_late_file (void)
{
    char *dir = s_dir_new ();
    char *alice = s_cert_write (dir, "alice", false);
    struct timespec settled = s_settled ();
    s_set_mtime (dir, settled);
    long long loaded = tu_now_ms ();
    zwatch_certdir_t *certs = zwatch_certdir_new (dir);
    CHECK (s_knows (certs, alice));
    char *bob = s_cert_write (dir, "bob", false);
    s_set_mtime (dir, settled);                     //  as the load saw it
    long long deadline = tu_now_ms () + WAIT_MS;
    while (!s_knows (certs, bob) && tu_now_ms () < deadline)
        usleep (20000);
    long long took = tu_now_ms () - loaded;
    CHECK (s_knows (certs, bob));
    CHECK (took >= MISS_RELOAD_MS);                 //  not before a second
    CHECK (s_knows (certs, alice));
    CHECK_INT_EQ (zwatch_certdir_size (certs), 2);
    zwatch_certdir_destroy (&certs);
    free (alice);
    free (bob);
    s_dir_destroy (&dir);
}

int
main (int argc, char *argv [])
{
    static const tu_case_t cases [] = {
        { "empty", test_empty }, { "add_remove", test_add_remove }, { "rename", test_rename },
        { "secret_and_duplicates", test_secret_and_duplicates }, { "same_tick", test_same_tick },
        { "missing_dir", test_missing_dir }, { "late_file", test_late_file }
    };
    return tu_run_cases (argc, argv, "test_certdir", cases, sizeof (cases) / sizeof (cases [0]));
}
