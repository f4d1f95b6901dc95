/*  zwatch_certdir: the public certificates in one directory, for ZAP.  */

#include <sys/stat.h>
#include "zwatch_certdir.h"

#define MISS_RELOAD_MS  1000        //  an unknown key reloads at most this often

struct _zwatch_certdir_t {
    char *location;
    zcertstore_t *certs;            //  a memory store: lookups never touch the disk
    size_t size;
    struct timespec modified;       //  the directory's, at the last load
    ino_t inode;                    //  a directory replaced by another one is a change
    int64_t loaded_ms;              //  zclock_mono of the last load
};

//  A fresh memory store with every certificate in the directory now
static void
s_load (zwatch_certdir_t *self, const struct stat *info)
{
    zcertstore_t *certs = zcertstore_new (NULL);
    size_t size = 0;
    zdir_t *dir = info? zdir_new (self->location, NULL): NULL;
    zlist_t *files = dir? zdir_list (dir): NULL;
    for (zfile_t *file = files? (zfile_t *) zlist_first (files): NULL; file && certs;
         file = (zfile_t *) zlist_next (files)) {
        const char *name = zfile_filename (file, NULL);
        size_t len = strlen (name);
        if (!zfile_is_regular (file) || (len >= 7 && streq (name + len - 7, "_secret")))
            continue;
        zcert_t *cert = zcert_load (name);
        if (cert && zcertstore_lookup (certs, zcert_public_txt (cert)))
            zcert_destroy (&cert);      //  the same key twice: zcertstore_insert asserts
        if (cert) {
            zcertstore_insert (certs, &cert);
            size++;
        }
    }
    zlist_destroy (&files);
    zdir_destroy (&dir);
    if (!certs)
        return;                     //  out of memory: keep what we had
    zcertstore_destroy (&self->certs);
    self->certs = certs;
    self->size = size;
    self->modified = info? info->st_mtim: (struct timespec) { 0, 0 };
    self->inode = info? info->st_ino: 0;
    self->loaded_ms = zclock_mono ();
}

//  Reload if the directory changed (or went away)
static void
s_refresh (zwatch_certdir_t *self)
{
    struct stat info;
    bool exists = stat (self->location, &info) == 0 && S_ISDIR (info.st_mode);
    if (!exists)
        s_load (self, NULL);        //  no directory: nobody is allowed
    else
    if (info.st_ino != self->inode || info.st_mtim.tv_sec != self->modified.tv_sec
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
