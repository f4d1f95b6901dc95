/*  zwatch_endpoints: split and check a comma-separated endpoint list.  */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zwatch_endpoints.h"
#include "zwatch_proto.h"

struct _zwatch_endpoints_t {
    char *copy;                     //  the list, its commas made NULs
    size_t size;
    const char **items;             //  into copy
};

//  Fail with err and one line; always NULL
static zwatch_endpoints_t *
s_fail (zwatch_endpoints_t **self_p, int err, char *error, size_t error_size,
        const char *what, const char *list)
{
    zwatch_endpoints_destroy (self_p);
    if (error && error_size)
        snprintf (error, error_size, "'%.300s': %s", list, what);
    errno = err;
    return NULL;
}

zwatch_endpoints_t *
zwatch_endpoints_new (const char *list, size_t max, char *error, size_t error_size)
{
    char why [80];
    if (!list || !*list)
        return s_fail (NULL, EINVAL, error, error_size, "no endpoint", list? list: "");
    //  Count before allocating: the commas say how many there are
    size_t size = 1;
    for (const char *scan = list; *scan; scan++)
        size += *scan == ',';
    if (size > max) {
        snprintf (why, sizeof (why), "%zu endpoints, at most %zu", size, max);
        return s_fail (NULL, E2BIG, error, error_size, why, list);
    }
    zwatch_endpoints_t *self = (zwatch_endpoints_t *) calloc (1, sizeof (zwatch_endpoints_t));
    if (self) {
        self->copy = strdup (list);
        self->items = (const char **) calloc (size, sizeof (char *));
    }
    if (!self || !self->copy || !self->items)
        return s_fail (&self, ENOMEM, error, error_size, "out of memory", list);
    char *item = self->copy;
    while (item) {
        char *comma = strchr (item, ',');
        if (comma)
            *comma = 0;
        if (!*item)
            return s_fail (&self, EINVAL, error, error_size, "an empty element", list);
        if (strlen (item) > ZWATCH_ENDPOINT_MAX) {
            snprintf (why, sizeof (why), "an endpoint longer than %d characters",
                      ZWATCH_ENDPOINT_MAX);
            return s_fail (&self, EINVAL, error, error_size, why, list);
        }
        //  Twice the same broker would only get everything twice
        for (size_t index = 0; index < self->size; index++)
            if (strcmp (self->items [index], item) == 0)
                return s_fail (&self, EINVAL, error, error_size, "an endpoint listed twice",
                               list);
        self->items [self->size++] = item;
        item = comma? comma + 1: NULL;
    }
    return self;
}

void
zwatch_endpoints_destroy (zwatch_endpoints_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zwatch_endpoints_t *self = *self_p;
    free (self->items);
    free (self->copy);
    free (self);
    *self_p = NULL;
}

size_t
zwatch_endpoints_size (const zwatch_endpoints_t *self)
{
    return self->size;
}

const char *
zwatch_endpoints_get (const zwatch_endpoints_t *self, size_t index)
{
    return index < self->size? self->items [index]: NULL;
}

int
zwatch_endpoints_any (const zwatch_endpoints_t *self, const char *prefix)
{
    size_t len = strlen (prefix);
    for (size_t index = 0; index < self->size; index++)
        if (strncmp (self->items [index], prefix, len) == 0)
            return 1;
    return 0;
}
