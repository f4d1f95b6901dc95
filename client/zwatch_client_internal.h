/*  zwatch_client_internal: what the state readers (zwatch_client_state.c)
    take from the client. Not part of the API.  */
#ifndef ZWATCH_CLIENT_INTERNAL_H_INCLUDED
#define ZWATCH_CLIENT_INTERNAL_H_INCLUDED

#include "zwatch_client.h"
#include "zwatch_client_links.h"
#include "zwatch_fleet.h"

//  The model and the links the caller reads
zwatch_fleet_t *client_fleet (zwatch_client_t *self);
client_links_t *client_links (zwatch_client_t *self);

#endif
