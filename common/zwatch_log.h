/*  zwatch_log: log lines on stderr, for the agent and for the daemons.

    The agent lives inside other people's services, so it does not use
    zsys logging: the first zsys call runs zsys_init, which installs
    CZMQ's SIGINT/SIGTERM handlers in the service. Its lines are
    "zwatch: W: ..." until a daemon calls zwatch_log_start. Set
    ZWATCH_QUIET=1 to silence warnings.

    A daemon (zwatch-broker) calls zwatch_log_start once, before any
    thread starts; from then on every line, its own, the agent's, and
    zsys's through zwatch_log_zsys_stream, goes to stderr as

        2026-12-02T17:03:11.123+00:00 W zwatch-broker: message

    (local time, ISO 8601 with milliseconds and the UTC offset; a level
    letter, E W N I D for error, warning, notice, info, debug; the
    program) or, in JSON, one object per line:

        {"time":"2026-12-02T17:03:11.123+00:00","level":"warning",
         "program":"zwatch-broker","msg":"message"}
*/
#ifndef ZWATCH_LOG_H_INCLUDED
#define ZWATCH_LOG_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    ZWATCH_LOG_TEXT,
    ZWATCH_LOG_JSON
} zwatch_log_format_t;

//  "text" or "json" in *format; -1 for anything else
int zwatch_log_format_parse (const char *name, zwatch_log_format_t *format);

//  Daemon lines from now on: program (kept, not copied) in format. Call
//  once, before threads start.
void zwatch_log_start (const char *program, zwatch_log_format_t format);

//  True after zwatch_log_start
bool zwatch_log_started (void);

void zwatch_log_error (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void zwatch_log_warning (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void zwatch_log_notice (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void zwatch_log_info (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  A stream for zsys_set_logstream: each line zsys writes to it
//  ("W: 26-12-02 17:03:11 text", with or without "(ident) ") becomes one
//  of ours, at its level, without zsys's time and ident (and without a
//  leading "<program>: " the text may repeat). NULL if it cannot be made.
//  It lives until exit, like zsys's own.
FILE *zwatch_log_zsys_stream (void);

#endif
