/*  zwatch_certdir: the public certificates in one directory, for ZAP.

    Changes are seen by the directory's inode and modification time. The
    kernel stamps that time with a clock that ticks every few ms (some
    filesystems keep whole seconds), so a change in the same tick as a
    load leaves it as the load saw it: a load that saw a time less than
    RACY_MS old is not trusted, and the next lookup loads again (git's
    "racily clean" index entries, the same problem).
*/

#include <dirent.h>
#include <sys/stat.h>
#include "zwatch_certdir.h"

#define MISS_RELOAD_MS  1000        //  an unknown key reloads at most this often
#define RACY_MS         1000        //  a load this soon after a change may have missed one

struct _zwatch_certdir_t {
    char *location;
    zcertstore_t *certs;            //  a memory store: lookups never touch the disk
    size_t size;
    struct timespec modified;       //  the directory's, at the last load
    ino_t inode;                    //  a directory replaced by another one is a change
    bool racy;                      //  the last load came within RACY_MS of a change
    int64_t loaded_ms;              //  zclock_mono of the last load
};

//  A certificate file: regular, directly in the directory, not a secret
static bool
s_is_certificate (const char *path, const char *name)
{
    size_t len = strlen (name);
    if (name [0] == '.' || (len >= 7 && streq (name + len - 7, "_secret")))
        return false;
    struct stat info;
    return stat (path, &info) == 0 && S_ISREG (info.st_mode);
}

//  True if modified is less than RACY_MS before now (or after it)
static bool
s_recent (const struct timespec *modified)
{
    struct timespec now;
    if (clock_gettime (CLOCK_REALTIME, &now) != 0)
        return true;
    int64_t age_ms = (int64_t) (now.tv_sec - modified->tv_sec) * 1000
                   + (now.tv_nsec - modified->tv_nsec) / 1000000;
    return age_ms < RACY_MS;
}

//  A fresh memory store with every certificate in the directory now
static void
s_load (zwatch_certdir_t *self, const struct stat *info)
{
    zcertstore_t *certs = zcertstore_new (NULL);
    size_t size = 0;
    //  Only this directory: zdir would read every subdirectory too
    DIR *dir = info && certs? opendir (self->location): NULL;
    struct dirent *entry;
    while (dir && (entry = readdir (dir))) {
        char *path = zsys_sprintf ("%s/%s", self->location, entry->d_name);
        zcert_t *cert = path && s_is_certificate (path, entry->d_name)? zcert_load (path): NULL;
        zstr_free (&path);
        if (cert && zcertstore_lookup (certs, zcert_public_txt (cert)))
            zcert_destroy (&cert);      //  the same key twice: zcertstore_insert asserts
        if (cert) {
            zcertstore_insert (certs, &cert);
            size++;
        }
    }
    if (dir)
        closedir (dir);
    if (!certs)
        return;                     //  out of memory: keep what we had
    zcertstore_destroy (&self->certs);
    self->certs = certs;
    self->size = size;
    self->modified = info? info->st_mtim: (struct timespec) { 0, 0 };
    self->inode = info? info->st_ino: 0;
    self->racy = info && s_recent (&info->st_mtim);
    self->loaded_ms = zclock_mono ();
}

//  Reload if the directory changed (or went away), or the last load may
//  have missed a change
static void
s_refresh (zwatch_certdir_t *self)
{
    struct stat info;
    bool exists = stat (self->location, &info) == 0 && S_ISDIR (info.st_mode);
    if (!exists)
        s_load (self, NULL);        //  no directory: nobody is allowed
    else
    if (self->racy || info.st_ino != self->inode
    ||  info.st_mtim.tv_sec != self->modified.tv_sec
    ||  info.st_mtim.tv_nsec != self->modified.tv_nsec)
        s_load (self, &info);
}

zwatch_certdir_t *
zwatch_certdir_new (const char *location)
{
    zwatch_certdir_t *self = (zwatch_certdir_t *) zmalloc (sizeof (zwatch_certdir_t));
    if (self) {
        self->location = strdup (location);
        if (self->location)
            s_refresh (self);
        if (!self->certs)
            zwatch_certdir_destroy (&self);
    }
    return self;
}

void
zwatch_certdir_destroy (zwatch_certdir_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_certdir_t *self = *self_p;
        zcertstore_destroy (&self->certs);
        free (self->location);
        free (self);
        *self_p = NULL;
    }
}

zcert_t *
zwatch_certdir_lookup (zwatch_certdir_t *self, const char *public_key)
{
    s_refresh (self);
    zcert_t *cert = zcertstore_lookup (self->certs, public_key);
    if (!cert && zclock_mono () - self->loaded_ms >= MISS_RELOAD_MS) {
        struct stat info;
        if (stat (self->location, &info) == 0 && S_ISDIR (info.st_mode)) {
            s_load (self, &info);
            cert = zcertstore_lookup (self->certs, public_key);
        }
    }
    return cert;
}

const char *
zwatch_certdir_location (zwatch_certdir_t *self)
{
    return self->location;
}

size_t
zwatch_certdir_size (zwatch_certdir_t *self)
{
    return self->size;
}
