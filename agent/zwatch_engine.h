/*  zwatch_engine: the agent's own thread, and the loop that ties its parts.

    zwatch_upstream talks to the brokers, one zwatch_link each (in a private
    context, so the service's context termination never waits on them), zwatch_watchset the
    readers of the watched sockets' monitors (in the service's contexts).
    The public zwatch_agent talks to the engine through zwatch_engine_call,
    one command at a time; the engine never touches the service's sockets.
*/
#ifndef ZWATCH_ENGINE_H_INCLUDED
#define ZWATCH_ENGINE_H_INCLUDED

#include <stdatomic.h>
#include <stddef.h>
#include "zwatch_agent.h"
#include "zwatch_curve.h"
#include "zwatch_endpoints.h"

typedef struct _zwatch_engine_t zwatch_engine_t;

#define ZWATCH_ENGINE_SOCKETS_MAX   ZWATCH_AGENT_SOCKETS_LIMIT

typedef enum {
    ENGINE_WATCH,           //  add a reader for socket; returns its endpoint
    ENGINE_RELEASE,         //  drain and drop the reader for socket
    ENGINE_CHECK,           //  is socket still watched, after reading its reader? (0 / -1 ENOENT)
    ENGINE_LIST,            //  sockets still watched, after draining
    ENGINE_SET_QUEUE,       //  upstream queue limit
    ENGINE_SET_HEARTBEAT,   //  heartbeat interval, msecs
    ENGINE_SET_CONNECTIONS, //  live connections kept per socket watched from now on
    ENGINE_SET_CURVE,       //  reconnect upstream with these CURVE keys
    ENGINE_TEE,             //  socket's monitor moved to reader: copy its events from there
                            //  on to tee_endpoint (NULL: no copy); value out: the errno that
                            //  made the copy fail, or 0
    ENGINE_TEE_FAILED,      //  moving socket's monitor failed after libzmq stopped the old one
    ENGINE_CLOSING,         //  the service is closing socket
    ENGINE_BIND_FAILED,     //  value out: errno of socket's last BIND_FAILED (0: none), cleared
    ENGINE_RELEASE_CTX,     //  ctx (NULL: all) ends: wait for closing sockets, let go of it
    ENGINE_SET_FOLD         //  storm folding on (value 1) or off (0)
} zwatch_engine_op_t;

typedef struct {
    zwatch_engine_op_t op;
    void *socket;               //  WATCH, RELEASE, CHECK, TEE, CLOSING
    void *ctx;                  //  WATCH: socket's context, NULL for the agent's; RELEASE_CTX
    const char *label;          //  WATCH: NULL for "<label_prefix><STYPE>-<n>"
    const char *label_prefix;   //  WATCH: may be NULL
    int type;                   //  WATCH: ZMQ_TYPE of socket
    int value;                  //  SET_QUEUE, SET_HEARTBEAT, SET_CONNECTIONS, SET_FOLD; RELEASE_CTX: msecs to wait at most (0: 1 s)
    const zwatch_curve_t *curve;    //  SET_CURVE
    const char *tee_endpoint;   //  TEE: the service's monitor endpoint, or NULL
    int events;                 //  TEE: the service's event mask
    char endpoint [64];         //  WATCH out: the monitor endpoint its reader waits on
    void *reader;               //  TEE: the reader the monitor moved to
    void **list;                //  LIST out
    size_t list_max;
    size_t list_size;
    int rc;                     //  out: 0 or -1
    int err;                    //  out: errno when rc == -1
} zwatch_engine_command_t;

//  Start the thread, reporting to every broker of brokers. NULL with errno
//  if an endpoint is invalid. curve (may be NULL) secures the broker links.
//  An inproc:// endpoint is a broker in service_ctx itself (a broker
//  watching its own sockets).
zwatch_engine_t *zwatch_engine_new (void *service_ctx, const zwatch_endpoints_t *brokers,
                                    const char *host, const char *service,
                                    const zwatch_curve_t *curve);

//  Run one command on the engine thread and wait for its result.
//  Not thread-safe: the caller serializes calls.
void zwatch_engine_call (zwatch_engine_t *self, zwatch_engine_command_t *command);

//  The socket whose monitor a caller is moving now (one at a time: the
//  agent serializes calls), or NULL; see zwatch_watchset_move_adopt
_Atomic (void *) *zwatch_engine_moving (zwatch_engine_t *self);

//  Counters, readable from any thread
void zwatch_engine_stats (zwatch_engine_t *self, zwatch_agent_stats_t *stats);

//  Storm folding's counters (zwatch_agent_fold_stats), from any thread
void zwatch_engine_fold_stats (zwatch_engine_t *self, uint64_t *folded, uint64_t *unfolded);

//  The brokers, and the index-th one's counters (any thread); -1 with
//  errno ERANGE past the last
size_t zwatch_engine_brokers (zwatch_engine_t *self);
int zwatch_engine_broker_stats (zwatch_engine_t *self, size_t index,
                                zwatch_agent_broker_stats_t *stats);

//  Say bye, stop the thread (bounded by the upstream linger), free all
void zwatch_engine_destroy (zwatch_engine_t **self_p);

#endif
