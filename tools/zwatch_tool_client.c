/*  zwatch_tool_client: the client flags tools share (see header).  */

#include <czmq.h>
#include "zwatch.h"
#include "zwatch_tool_client.h"

#define FILTERS_MAX     256     //  --host and --service flags, each

struct _zwatch_tool_client_t {
    const char *program;
    const char *publish, *snapshot, *server_key, *cert;
    const char *hosts [FILTERS_MAX], *services [FILTERS_MAX];
    size_t host_count, service_count;
};

zwatch_tool_client_t *
zwatch_tool_client_new (const char *program)
{
    zwatch_tool_client_t *self = (zwatch_tool_client_t *) zmalloc (sizeof (zwatch_tool_client_t));
    if (self) {
        self->program = program;
        self->server_key = getenv ("ZWATCH_CURVE_SERVER_KEY");
        self->cert = getenv ("ZWATCH_CURVE_CERT");
    }
    return self;
}

void
zwatch_tool_client_destroy (zwatch_tool_client_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

bool
zwatch_tool_client_has (int option)
{
    return option >= ZWATCH_TOOL_CLIENT_OPT && option <= ZWATCH_TOOL_CLIENT_OPT + 5;
}

int
zwatch_tool_client_usage_error (zwatch_tool_client_t *self, const char *text, const char *arg)
{
    fprintf (stderr, "%s: ", self->program);
    fprintf (stderr, text, arg);
    fprintf (stderr, " (try --help)\n");
    return 2;
}

//  A --host or --service name into names, checked
static int
s_name (zwatch_tool_client_t *self, const char **names, size_t *count, const char *what,
        const char *arg, size_t max)
{
    if (!zwatch_name_valid (arg, strlen (arg), max)) {
        char text [96];
        snprintf (text, sizeof (text), "invalid %s name '%%s' (1-64 characters of A-Za-z0-9._-)",
                  what);
        zwatch_tool_client_usage_error (self, text, arg);
        return -1;
    }
    if (*count == FILTERS_MAX) {
        zwatch_tool_client_usage_error (self, "too many --%s flags (at most 256)",
                                        strcmp (what, "host") == 0? "host": "service");
        return -1;
    }
    names [(*count)++] = arg;
    return 0;
}

int
zwatch_tool_client_take (zwatch_tool_client_t *self, int option, const char *arg)
{
    switch (option - ZWATCH_TOOL_CLIENT_OPT) {
        case 0: self->publish = arg; return 0;
        case 1: self->snapshot = arg; return 0;
        case 2: return s_name (self, self->hosts, &self->host_count, "host", arg, ZWATCH_HOST_MAX);
        case 3: return s_name (self, self->services, &self->service_count, "service", arg,
                               ZWATCH_SVC_MAX);
        case 4: self->server_key = arg; return 0;
        case 5: self->cert = arg; return 0;
        default: return -1;
    }
}

zwatch_client_t *
zwatch_tool_client_make (zwatch_tool_client_t *self)
{
    zwatch_client_t *client = zwatch_client_new (self->publish, self->snapshot);
    if (!client) {
        zwatch_tool_client_usage_error (self, "invalid endpoint '%s' (want transport://address)",
                                        self->publish && !strstr (self->publish, "://")
                                        ? self->publish: self->snapshot);
        return NULL;
    }
    const char *key = self->server_key, *cert = self->cert;
    int rc = 0;
    if ((key && *key) || (cert && *cert)) {
        if (!key || !*key)
            rc = zwatch_tool_client_usage_error (self, "%s", "--cert needs --server-key");
        else
        if (zwatch_client_set_curve (client, key, cert && *cert? cert: NULL) != 0)
            rc = zwatch_tool_client_usage_error (self, "%s", zwatch_client_error (client));
    }
    for (size_t index = 0; index < self->host_count && !rc; index++)
        rc = zwatch_client_add_host_filter (client, self->hosts [index]);
    for (size_t index = 0; index < self->service_count && !rc; index++)
        rc = zwatch_client_add_service_filter (client, self->services [index]);
    if (rc)
        zwatch_client_destroy (&client);
    return client;
}
