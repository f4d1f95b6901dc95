/*  zwatch_broker: the server: ingest ROUTER, publish XPUB, one loop.  */
#ifndef ZWATCH_BROKER_H_INCLUDED
#define ZWATCH_BROKER_H_INCLUDED

#include "zwatch_broker_config.h"

typedef struct _zwatch_broker_t zwatch_broker_t;

//  Create the broker's sockets (not bound yet); config must outlive it
//  (the broker changes it on SIGHUP, zwatch_broker_run)
zwatch_broker_t *
    zwatch_broker_new (zwatch_broker_config_t *config);

//  Destroy the broker; the XPUB lingers up to 1 s to deliver what it holds
void
    zwatch_broker_destroy (zwatch_broker_t **self_p);

//  Bind every endpoint. Returns 0, or -1 with zwatch_broker_error () set;
//  after a failed bind errno is libzmq's (EINVAL: it could not parse the
//  endpoint)
int
    zwatch_broker_bind (zwatch_broker_t *self);

//  Serve until SIGINT/SIGTERM (zsys_interrupted). On SIGHUP (once
//  zwatch_hangup_install ran) it reloads the settings that can change and
//  the certificate directories, and says so in one log line; the sockets
//  and every connection stay. Returns 0, or -1 with zwatch_broker_error ()
//  set if the sockets failed.
int
    zwatch_broker_run (zwatch_broker_t *self);

//  One line saying what failed, e.g. "cannot bind --publish tcp://...: ..."
const char *
    zwatch_broker_error (zwatch_broker_t *self);

#endif
