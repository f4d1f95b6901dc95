/*  zwatch_tool_client: the client flags the commands on libzwatch-client
    share (--connect, --snapshot, --host, --service, --server-key, --cert)
    and the client they make.

    zwatch-fleet and zwatch-top read them through this.
*/
#ifndef ZWATCH_TOOL_CLIENT_H_INCLUDED
#define ZWATCH_TOOL_CLIENT_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>
#include "zwatch_client.h"

typedef struct _zwatch_tool_client_t zwatch_tool_client_t;

//  The flags' help lines, for a command's --help
#define ZWATCH_TOOL_CLIENT_HELP \
    "  --connect EP     broker publish endpoint (default " ZWATCH_CLIENT_PUBLISH_DEFAULT ")\n" \
    "  --snapshot EP    broker snapshot endpoint (default " ZWATCH_CLIENT_SNAPSHOT_DEFAULT ")\n" \
    "  --host H         only agents of host H (repeatable)\n" \
    "  --service S      only agents of service S (repeatable)\n" \
    "  --server-key KEY CURVE: the broker's public key (default $ZWATCH_CURVE_SERVER_KEY)\n" \
    "  --cert FILE      CURVE: our secret certificate (default $ZWATCH_CURVE_CERT)\n"

//  Flags for getopt_long: their val is ZWATCH_TOOL_CLIENT_OPT + n
#define ZWATCH_TOOL_CLIENT_OPT      0x1000
#define ZWATCH_TOOL_CLIENT_OPTIONS \
    { "connect", required_argument, NULL, ZWATCH_TOOL_CLIENT_OPT + 0 }, \
    { "snapshot", required_argument, NULL, ZWATCH_TOOL_CLIENT_OPT + 1 }, \
    { "host", required_argument, NULL, ZWATCH_TOOL_CLIENT_OPT + 2 }, \
    { "service", required_argument, NULL, ZWATCH_TOOL_CLIENT_OPT + 3 }, \
    { "server-key", required_argument, NULL, ZWATCH_TOOL_CLIENT_OPT + 4 }, \
    { "cert", required_argument, NULL, ZWATCH_TOOL_CLIENT_OPT + 5 }

//  Flags for the client of program (its name starts error lines); the
//  CURVE defaults from the environment. NULL if out of memory.
zwatch_tool_client_t *zwatch_tool_client_new (const char *program);
void zwatch_tool_client_destroy (zwatch_tool_client_t **self_p);

//  True if option (getopt_long's val) is one of ours
bool zwatch_tool_client_has (int option);

//  Take one of our flags. Returns 0, or -1 after a usage error line on
//  stderr ("<program>: invalid host name 'a/b' (...) (try --help)").
int zwatch_tool_client_take (zwatch_tool_client_t *self, int option, const char *arg);

//  The client, with the flags applied but not started, or NULL after a
//  usage error line on stderr (a bad endpoint, key or certificate)
zwatch_client_t *zwatch_tool_client_make (zwatch_tool_client_t *self);

//  A usage error line: "<program>: <text with arg> (try --help)"; returns 2
int zwatch_tool_client_usage_error (zwatch_tool_client_t *self, const char *text, const char *arg);

#endif
