/*  zwatch_endpoints: a comma-separated list of endpoints, split and checked.

    ZWATCH_BROKER, the agent API's endpoint argument and the preload take
    "tcp://a:5570,tcp://b:5570": one agent reporting to each broker of the
    list. This is the one place that splits such a list; libzmq itself
    judges each endpoint when the agent connects to it.
*/
#ifndef ZWATCH_ENDPOINTS_H_INCLUDED
#define ZWATCH_ENDPOINTS_H_INCLUDED

#include <stddef.h>

typedef struct _zwatch_endpoints_t zwatch_endpoints_t;

//  Split list (no spaces: each element is one endpoint, as libzmq takes
//  it) into at most max endpoints. NULL with errno EINVAL (empty list or
//  element, an element longer than ZWATCH_ENDPOINT_MAX, one listed twice),
//  E2BIG (more than max) or ENOMEM; then error (if not NULL) holds one
//  line that says why.
zwatch_endpoints_t *zwatch_endpoints_new (const char *list, size_t max, char *error,
                                          size_t error_size);
void zwatch_endpoints_destroy (zwatch_endpoints_t **self_p);

//  How many, and the index-th (NUL-terminated, valid as the list)
size_t zwatch_endpoints_size (const zwatch_endpoints_t *self);
const char *zwatch_endpoints_get (const zwatch_endpoints_t *self, size_t index);

//  True if some endpoint begins with prefix (e.g. "inproc://")
int zwatch_endpoints_any (const zwatch_endpoints_t *self, const char *prefix);

#endif
