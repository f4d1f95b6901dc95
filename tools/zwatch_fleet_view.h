/*  zwatch_fleet_view: how zwatch-fleet prints the state and its changes.

    Lines fit 80 columns: columns aligned, a name longer than its column
    cut with a '~' at the end. Times are local HH:MM:SS. JSON: one object
    per line, keys as in docs/PROTOCOL.md (strings from the client are
    printable ASCII, checked by its decoders; '"' and '\' are escaped).
    Agents, sockets and links are printed sorted, so a fleet prints the
    same way every time.
*/
#ifndef ZWATCH_FLEET_VIEW_H_INCLUDED
#define ZWATCH_FLEET_VIEW_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>
#include "zwatch_client.h"
#include "zwatch_sub_format.h"

//  One table (with its header line when not json)
void zwatch_fleet_view_agents (FILE *out, zwatch_client_t *client, bool json);
void zwatch_fleet_view_sockets (FILE *out, zwatch_client_t *client, bool json);
//  Links, then the connections whose other end is not watched
void zwatch_fleet_view_links (FILE *out, zwatch_client_t *client, bool json);

//  One event (EVENT or HISTORY): "HH:MM:SS host/svc sock EVENT endpoint",
//  or the agent's message as JSON, as zwatch-sub --json prints it
void zwatch_fleet_view_event (FILE *out, const zwatch_change_t *change, bool json,
                              zwatch_sub_format_t *format);

//  One change as one line
void zwatch_fleet_view_change (FILE *out, const zwatch_change_t *change, bool json);

//  text cut to width bytes, '~' marking a cut, into buf (width + 1 bytes)
const char *zwatch_fleet_view_cut (char *buf, const char *text, size_t width);

#endif
