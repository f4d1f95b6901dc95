/*  zwatch_sub_link: zwatch-sub's connection states and what it says about them (see header).  */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zwatch.h"
#include "zwatch_sub_format.h"
#include "zwatch_sub_link.h"

#define PROGRAM     "zwatch-sub"
#define REASON_MAX  128

typedef enum { STATE_NEW, STATE_UP, STATE_DOWN } state_t;

//  One broker endpoint: where it is, what we last told the user about it
typedef struct {
    char endpoint [ZWATCH_SUB_LINK_ENDPOINT_MAX];
    state_t state;
    state_t said;               //  STATE_NEW: nothing said yet
    char reason [REASON_MAX];   //  why it went down, the last time
    int64_t down_at;            //  when it went down, the last time
    int64_t up_at;              //  when it came back, the last time
    int64_t away_since;         //  the outage our last "unreachable" line began
    int64_t last_line;          //  when we last said something about it
    uint64_t outages;           //  changes since the last line
    uint64_t recoveries;
} endpoint_t;

struct _zwatch_sub_link_t {
    endpoint_t *endpoints;
    size_t capacity;
    size_t count;
    int64_t gap_ms;
    bool curve;
    bool cert;
    char line [1024];
};

zwatch_sub_link_t *
zwatch_sub_link_new (size_t endpoints, int64_t gap_ms, bool curve, bool cert)
{
    zwatch_sub_link_t *self = (zwatch_sub_link_t *) calloc (1, sizeof (zwatch_sub_link_t));
    if (self) {
        self->capacity = endpoints? 2 * endpoints: 1;
        self->gap_ms = gap_ms;
        self->curve = curve;
        self->cert = cert;
        self->endpoints = (endpoint_t *) calloc (self->capacity, sizeof (endpoint_t));
        if (!self->endpoints)
            zwatch_sub_link_destroy (&self);
    }
    return self;
}

void
zwatch_sub_link_destroy (zwatch_sub_link_t **self_p)
{
    if (self_p && *self_p) {
        zwatch_sub_link_t *self = *self_p;
        free (self->endpoints);
        free (self);
        *self_p = NULL;
    }
}

//  The endpoint's state, made on first sight. libzmq names an endpoint in
//  its events as we gave it, so there is room for twice as many as we
//  connected to; should more show up, the last one stands for the rest.
static endpoint_t *
s_endpoint (zwatch_sub_link_t *self, const char *name, int64_t now)
{
    char cut [ZWATCH_SUB_LINK_ENDPOINT_MAX];
    snprintf (cut, sizeof (cut), "%s", name);
    for (size_t index = 0; index < self->count; index++)
        if (strcmp (self->endpoints [index].endpoint, cut) == 0)
            return &self->endpoints [index];
    if (self->count == self->capacity)
        return &self->endpoints [self->count - 1];
    endpoint_t *endpoint = &self->endpoints [self->count++];
    memcpy (endpoint->endpoint, cut, sizeof (cut));
    endpoint->last_line = now - self->gap_ms;       //  its first line goes out at once
    return endpoint;
}

//  Seconds between two msecs times, for "after 1.5 s"
static double
s_seconds (int64_t from, int64_t to)
{
    return (double) (to - from) / 1000.0;
}

static const char *
s_times (uint64_t count)
{
    return count == 1? "time": "times";
}

//  The line about endpoint's state now, if it has one to say and the gap
//  since its last line has passed; NULL otherwise
static const char *
s_report (zwatch_sub_link_t *self, endpoint_t *endpoint, int64_t now)
{
    if (endpoint->outages == 0 && endpoint->recoveries == 0)
        return NULL;
    if (endpoint->state == STATE_UP && endpoint->said == STATE_NEW && endpoint->outages == 0) {
        endpoint->recoveries = 0;   //  the first connection: nothing to say
        return NULL;
    }
    if (now - endpoint->last_line < self->gap_ms)
        return NULL;            //  held: zwatch_sub_link_due says it later
    char *line = self->line;
    size_t size = sizeof (self->line);
    int len;
    if (endpoint->state == STATE_DOWN) {
        bool again = endpoint->said == STATE_DOWN;
        len = snprintf (line, size, PROGRAM ": broker at '%s' unreachable%s (%s); retrying",
                        endpoint->endpoint, again? " again": "", endpoint->reason);
        if (again)
            snprintf (line + len, size - (size_t) len, " (back %llu %s since the last line)",
                      (unsigned long long) endpoint->recoveries, s_times (endpoint->recoveries));
        else
        if (endpoint->outages > 1)
            snprintf (line + len, size - (size_t) len, " (lost %llu %s since the last line)",
                      (unsigned long long) endpoint->outages, s_times (endpoint->outages));
        if (!again)
            endpoint->away_since = endpoint->down_at;
    }
    else
    if (endpoint->said == STATE_DOWN) {
        len = snprintf (line, size, PROGRAM ": broker at '%s' back after %.1f s",
                        endpoint->endpoint, s_seconds (endpoint->away_since, endpoint->up_at));
        if (endpoint->outages)
            snprintf (line + len, size - (size_t) len, " (lost again %llu %s in between)",
                      (unsigned long long) endpoint->outages, s_times (endpoint->outages));
    }
    else {
        //  Lost and back between two lines: the user saw neither
        len = snprintf (line, size, PROGRAM ": broker at '%s' was unreachable for %.1f s (%s), "
                        "back now", endpoint->endpoint,
                        s_seconds (endpoint->down_at, endpoint->up_at), endpoint->reason);
        if (endpoint->outages > 1)
            snprintf (line + len, size - (size_t) len, " (lost %llu %s since the last line)",
                      (unsigned long long) endpoint->outages, s_times (endpoint->outages));
    }
    endpoint->said = endpoint->state;
    endpoint->last_line = now;
    endpoint->outages = 0;
    endpoint->recoveries = 0;
    return line;
}

//  Why an outage began, from the event that began it
static void
s_down_reason (zwatch_sub_link_t *self, endpoint_t *endpoint, uint16_t code, uint32_t value)
{
    char *reason = endpoint->reason;
    if (code == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
        const char *name = zwatch_sub_errno_name (value);
        char number [16];
        snprintf (number, sizeof (number), "errno %u", value);
        snprintf (reason, REASON_MAX, "connected, but the handshake broke off: %s%s",
                  name? name: number,
                  self->curve? "; a wrong --server-key looks like this too": "");
    }
    else
    if (code == ZMQ_EVENT_CONNECT_RETRIED)
        snprintf (reason, REASON_MAX, "cannot connect");
    else
    if (endpoint->state == STATE_UP)
        snprintf (reason, REASON_MAX, "connection lost");
    else
        snprintf (reason, REASON_MAX, "disconnected");
}

//  The fatal line for an authentication or protocol failure
static const char *
s_refused (zwatch_sub_link_t *self, const char *endpoint, uint16_t code, uint32_t value)
{
    const char *why;
    if (code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
        if (value == 400)
            why = !self->curve? "this address is not allowed: check the broker's --allow-ip "
                                "and --deny-ip"
                : self->cert? "key not allowed: check that the public certificate of --cert "
                              "is in the broker's --subscribers-allow directory (and this "
                              "address in its --allow-ip)"
                : "key not allowed: without --cert this subscriber has a fresh key no broker "
                  "knows; give --cert with a certificate in its --subscribers-allow directory";
        else
        if (value == 300)
            why = "the broker's authentication failed for now (temporary): try again";
        else
        if (value == 500)
            why = "the broker's authentication failed (internal error): see the broker's log";
        else
            why = "refused by the broker's authentication";
        snprintf (self->line, sizeof (self->line), PROGRAM ": the broker at '%s' refused the "
                  "handshake (HANDSHAKE_FAILED_AUTH, %u): %s", endpoint, value, why);
        return self->line;
    }
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        why = self->curve? "protocol mismatch: this subscriber speaks CURVE (--server-key) "
                           "and the broker does not: drop --server-key, or start the broker "
                           "with --curve-secret"
                         : "protocol mismatch: the broker speaks CURVE and this subscriber "
                           "does not: give --server-key (the broker's public key) and --cert";
    else
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC || value == ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE)
        why = "protocol mismatch: the CURVE keys do not fit: check --server-key (the broker's "
              "public key) and --cert";
    else
    if ((value & 0xf0000000u) == ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED)
        why = "the broker's authentication handler failed: see the broker's log";
    else
        why = "protocol mismatch: is this a zwatch broker's publish endpoint?";
    snprintf (self->line, sizeof (self->line), PROGRAM ": the broker at '%s' refused the "
              "handshake (HANDSHAKE_FAILED_PROTOCOL, 0x%x): %s", endpoint, value, why);
    return self->line;
}

const char *
zwatch_sub_link_event (zwatch_sub_link_t *self, uint16_t code, uint32_t value,
                       const char *endpoint_name, int64_t now, bool *fatal)
{
    *fatal = false;
    if (code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || code == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        *fatal = true;
        return s_refused (self, endpoint_name, code, value);
    }
    endpoint_t *endpoint = s_endpoint (self, endpoint_name, now);
    if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        if (endpoint->state != STATE_UP) {
            endpoint->state = STATE_UP;
            endpoint->up_at = now;
            endpoint->recoveries++;
        }
    }
    else
    if (code & (ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED
              | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
        if (endpoint->state != STATE_DOWN) {
            s_down_reason (self, endpoint, code, value);
            endpoint->state = STATE_DOWN;
            endpoint->down_at = now;
            endpoint->outages++;
        }
    }
    return s_report (self, endpoint, now);
}

const char *
zwatch_sub_link_due (zwatch_sub_link_t *self, int64_t now)
{
    for (size_t index = 0; index < self->count; index++) {
        const char *line = s_report (self, &self->endpoints [index], now);
        if (line)
            return line;
    }
    return NULL;
}

int64_t
zwatch_sub_link_wait (zwatch_sub_link_t *self, int64_t now)
{
    int64_t wait = -1;
    for (size_t index = 0; index < self->count; index++) {
        const endpoint_t *endpoint = &self->endpoints [index];
        if (endpoint->outages == 0 && endpoint->recoveries == 0)
            continue;
        int64_t left = endpoint->last_line + self->gap_ms - now;
        if (left < 0)
            left = 0;
        if (wait < 0 || left < wait)
            wait = left;
    }
    return wait;
}
