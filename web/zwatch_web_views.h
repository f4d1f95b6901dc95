/*  zwatch_web_views: the documents zwatch-web serves, made from the
    client's state and the model: /api/fleet (JSON) and /metrics
    (Prometheus text format 0.0.4). Each is built whole into a buffer; a
    buffer that fills makes the call return -1 (the server answers 500).
*/
#ifndef ZWATCH_WEB_VIEWS_H_INCLUDED
#define ZWATCH_WEB_VIEWS_H_INCLUDED

#include "zwatch_web_buf.h"
#include "zwatch_web_model.h"

//  zwatch-web's own figures for /metrics and /api/fleet
typedef struct {
    uint64_t sse_clients;           //  connected now
    uint64_t sse_dropped;           //  dropped: their queue was full
    uint64_t sse_refused;           //  refused: too many already
    uint64_t requests;              //  HTTP requests answered
    uint64_t bad_requests;          //  answered 4xx
} zwatch_web_own_t;

//  {"feed":{...},"broker":{...},"agents":[...],"sockets":[...],
//   "connections":[...],"links":[...]}
int zwatch_web_views_fleet (zwatch_web_model_t *model, const zwatch_web_own_t *own,
                            zwatch_web_buf_t *buf);

//  Every metric family, each with HELP and TYPE
int zwatch_web_views_metrics (zwatch_web_model_t *model, const zwatch_web_own_t *own,
                              zwatch_web_buf_t *buf);

#endif
