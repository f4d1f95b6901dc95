/*  zwatch_watchset: the sockets the agent watches, on its own thread.

    For each watched socket it holds an inproc PAIR reader connected to the
    socket's monitor endpoint (in the socket's context), and maybe a tee for
    the service's own monitor. It reads their events (a fair budget per
    reader per turn), hands each to the upstream, lets go of a reader after
    its MONITOR_STOPPED or when its context ends, and waits (bounded) for
    sockets the service just closed to stop. Watching, finding and
    releasing a socket cost O(1) whatever the number watched: a hash finds
    a socket's watch, and an epoll set over each reader's ZMQ_FD (edge-
    triggered) says which readers to read, instead of zmq_poll over all of
    them. A reader whose budget ran out stays on a ready list, read first
    next turn. The engine never touches the service's sockets themselves.
*/
#ifndef ZWATCH_WATCHSET_H_INCLUDED
#define ZWATCH_WATCHSET_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zwatch_upstream.h"

typedef struct _zwatch_watchset_t zwatch_watchset_t;

//  Readers of sockets in service_ctx (the agent's context) and any other;
//  events go to upstream; moving: see move_adopt. NULL with errno on failure.
zwatch_watchset_t *zwatch_watchset_new (void *service_ctx, zwatch_upstream_t *upstream,
                                        _Atomic (void *) *moving);

//  Close every reader and tee, without touching the service's sockets
void zwatch_watchset_destroy (zwatch_watchset_t **self_p);

//  Add a reader for socket (of ZMQ_TYPE type) in ctx (NULL: the agent's),
//  connected before the monitor binds, so not even the first event is
//  missed; its monitor endpoint goes into endpoint. label NULL means
//  "<label_prefix><STYPE>-<n>". Returns 0, or -1 with errno: EEXIST,
//  ENOSPC (ZWATCH_AGENT_SOCKETS_LIMIT), ETERM (context gone), libzmq's.
int zwatch_watchset_add (zwatch_watchset_t *self, void *socket, void *ctx, int type,
                         const char *label, const char *label_prefix, char *endpoint,
                         size_t endpoint_size);

//  The caller stopped socket's monitor: read what it said, then let go
void zwatch_watchset_release (zwatch_watchset_t *self, void *socket);

//  Is socket still watched, after reading its reader? Returns 0, or -1
//  with errno ENOENT (a MONITOR_STOPPED already there means it is gone)
int zwatch_watchset_check (zwatch_watchset_t *self, void *socket);

//  Wait (bounded) until readers go quiet, then copy up to max sockets still
//  watched into list; returns how many
size_t zwatch_watchset_list (zwatch_watchset_t *self, void **list, size_t max);

//  The service's own zmq_socket_monitor on socket: libzmq stops the old
//  monitor and starts the new one at the moment of that call. The caller
//  (in the service's thread, no round trip first) makes a reader with
//  zwatch_watchset_reader_new, sets *moving (given to zwatch_watchset_new)
//  to socket, moves the agent's monitor to the reader's endpoint, then has
//  the engine run move_adopt with the reader, and clears *moving. The old
//  reader's MONITOR_STOPPED marks the moment: the old copy ends there, the
//  new reader and the copy made at tee_endpoint (NULL: none; see
//  zwatch_tee.h) take over; a stop read before the reader was handed over
//  waits for it (*moving says it is a move's, not the socket's end).
//  Returns 0 with *tee_err 0, or the errno that made the copy fail (the
//  old copy stops all the same, as libzmq's does); -1 with errno ENOENT
//  (not watched), EBUSY, libzmq's: then the reader stays the caller's, to
//  close once it has stopped the monitor (libzmq blocks a monitor whose
//  reader is gone).
int zwatch_watchset_move_adopt (zwatch_watchset_t *self, void *socket, void *reader,
                                const char *tee_endpoint, int events, int *tee_err);

//  Moving the monitor failed after libzmq stopped the old one: let go
void zwatch_watchset_move_failed (zwatch_watchset_t *self, void *socket);

//  A reader PAIR in ctx connected to a fresh inproc endpoint (into
//  endpoint), before a monitor binds there (inproc allows it), so not even
//  the first event is missed. Any thread. NULL with errno on failure
void *zwatch_watchset_reader_new (void *ctx, char *endpoint, size_t endpoint_size);

//  The errno socket's last BIND_FAILED carried (0: none since the last
//  ask), after reading its reader; then forgets it. -1 with errno ENOENT
int zwatch_watchset_bind_failed (zwatch_watchset_t *self, void *socket);

//  The service is closing socket. Returns 0, or -1 with errno ENOENT
int zwatch_watchset_closing (zwatch_watchset_t *self, void *socket);

//  ctx (NULL: all) ends: wait up to max_msecs (0: 1 s) for the sockets
//  closed in it to stop, forward what they said, let go of every reader
//  and tee in it
void zwatch_watchset_release_ctx (zwatch_watchset_t *self, void *ctx, int max_msecs);

//  A context ended under a reader: let go of everything in it at once
void zwatch_watchset_ctx_gone (zwatch_watchset_t *self, void *ctx);

//  The epoll fd to poll for readers with events (readable: read some)
int zwatch_watchset_fd (zwatch_watchset_t *self);

//  True if some reader still has events its budget left: do not wait
bool zwatch_watchset_ready (zwatch_watchset_t *self);

//  Read the readers that have events, up to a budget each
void zwatch_watchset_read (zwatch_watchset_t *self);

//  Read every reader to the end
void zwatch_watchset_drain_all (zwatch_watchset_t *self);

//  Retry held tee events; true while some are still held. tees: any at all
bool zwatch_watchset_flush_tees (zwatch_watchset_t *self);
bool zwatch_watchset_has_tees (zwatch_watchset_t *self);

//  True once the service terminated the agent's context
bool zwatch_watchset_service_ctx_gone (zwatch_watchset_t *self);

//  Monitor frames skipped, not part of a whole event (from any thread)
uint64_t zwatch_watchset_skipped (zwatch_watchset_t *self);

//  Facts not kept for replays, over a socket's bound (from any thread)
uint64_t zwatch_watchset_untracked (zwatch_watchset_t *self);

//  Live connections kept per socket, for sockets watched from now on
void zwatch_watchset_set_connections (zwatch_watchset_t *self, size_t max);

//  Storm folding (zwatch_fold) on or off; on by default. Off lets go of
//  what it holds first. Returns 0, or -1 with errno ENOMEM
int zwatch_watchset_set_fold (zwatch_watchset_t *self, bool fold);

//  Send the fold summaries due at now (monotonic msecs); when the next is
//  due (0: none held)
void zwatch_watchset_tick (zwatch_watchset_t *self, int64_t now);
int64_t zwatch_watchset_due (zwatch_watchset_t *self);

//  Events not folded because the fold table was full (from any thread)
uint64_t zwatch_watchset_unfolded (zwatch_watchset_t *self);

//  Replay every watched socket's state to the upstream (a
//  zwatch_upstream_replay_fn; arg is the watch set)
void zwatch_watchset_replay (void *arg);

#endif
