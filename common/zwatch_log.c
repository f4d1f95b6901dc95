/*  zwatch_log: log lines on stderr, for the agent and for the daemons.

    One fprintf per line, so that lines from several threads never
    interleave. The daemon settings are set once before threads start and
    only read afterwards: no lock.
*/

#define _GNU_SOURCE                 //  fopencookie
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include "zwatch_log.h"

#define LINE_MAX_    1024           //  a message longer than this is cut
#define ZSYS_DATE    18             //  "26-12-02 17:03:11 " in a zsys line

static const char *s_program;       //  NULL: the agent's "zwatch: L: " lines
static zwatch_log_format_t s_format;

int
zwatch_log_format_parse (const char *name, zwatch_log_format_t *format)
{
    if (strcmp (name, "text") == 0)
        *format = ZWATCH_LOG_TEXT;
    else
    if (strcmp (name, "json") == 0)
        *format = ZWATCH_LOG_JSON;
    else
        return -1;
    return 0;
}

void
zwatch_log_start (const char *program, zwatch_log_format_t format)
{
    s_program = program;
    s_format = format;
}

bool
zwatch_log_started (void)
{
    return s_program != NULL;
}

//  Now as 2026-12-02T17:03:11.123+01:00 (local time)
static void
s_timestamp (char *text, size_t size)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm local;
    localtime_r (&now.tv_sec, &local);
    char date [32];
    strftime (date, sizeof (date), "%Y-%m-%dT%H:%M:%S", &local);
    long offset = local.tm_gmtoff / 60;
    char sign = offset < 0? '-': '+';
    if (offset < 0)
        offset = -offset;
    //  Bounded values, so that the compiler sees the text always fits
    unsigned millis = (unsigned) (now.tv_nsec / 1000000) % 1000u;
    unsigned hours = (unsigned) (offset / 60) % 100u;
    unsigned minutes = (unsigned) (offset % 60);
    snprintf (text, size, "%.19s.%03u%c%02u:%02u", date, millis, sign, hours, minutes);
}

static const char *
s_level_name (char level)
{
    switch (level) {
        case 'E': return "error";
        case 'W': return "warning";
        case 'N': return "notice";
        case 'D': return "debug";
        default:  return "info";
    }
}

//  Length of the valid UTF-8 sequence at text (at most size bytes), 0 if
//  there is none
static size_t
s_utf8_length (const unsigned char *text, size_t size)
{
    size_t length = text [0] >= 0xF0 && text [0] <= 0xF4? 4
                  : text [0] >= 0xE0? 3
                  : text [0] >= 0xC2 && text [0] <= 0xDF? 2: 0;
    if (length == 0 || length > size)
        return 0;
    for (size_t index = 1; index < length; index++)
        if ((text [index] & 0xC0) != 0x80)
            return 0;
    return length;
}

//  message as a JSON string's contents: control characters escaped,
//  bytes that are not UTF-8 replaced by U+FFFD, so every line parses
static void
s_json_escape (char *out, size_t size, const char *message)
{
    size_t used = 0;
    const unsigned char *text = (const unsigned char *) message;
    size_t left = strlen (message);
    while (left && used + 8 < size) {
        size_t length = 1;
        if (*text == '"' || *text == '\\')
            used += (size_t) snprintf (out + used, size - used, "\\%c", *text);
        else
        if (*text < 0x20)
            used += (size_t) snprintf (out + used, size - used, "\\u%04x", *text);
        else
        if (*text < 0x80)
            out [used++] = (char) *text;
        else
        if ((length = s_utf8_length (text, left)) > 0) {
            memcpy (out + used, text, length);
            used += length;
        }
        else {
            length = 1;
            used += (size_t) snprintf (out + used, size - used, "\\ufffd");
        }
        text += length;
        left -= length;
    }
    out [used] = 0;
}

//  One line at level ('E', 'W', 'N', 'I', 'D')
static void
s_emit (char level, const char *message)
{
    if (!s_program) {
        fprintf (stderr, "zwatch: %c: %s\n", level, message);
        return;
    }
    char stamp [48];
    s_timestamp (stamp, sizeof (stamp));
    if (s_format == ZWATCH_LOG_JSON) {
        char escaped [LINE_MAX_ * 6 + 1];
        s_json_escape (escaped, sizeof (escaped), message);
        fprintf (stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"program\":\"%s\",\"msg\":\"%s\"}\n",
                 stamp, s_level_name (level), s_program, escaped);
    }
    else
        fprintf (stderr, "%s %c %s: %s\n", stamp, level, s_program, message);
}

static void
s_log (char level, const char *format, va_list args)
{
    const char *quiet = getenv ("ZWATCH_QUIET");
    if (quiet && *quiet == '1' && level == 'W')
        return;
    char line [LINE_MAX_];
    vsnprintf (line, sizeof (line), format, args);
    s_emit (level, line);
}

void
zwatch_log_error (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_log ('E', format, args);
    va_end (args);
}

void
zwatch_log_warning (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_log ('W', format, args);
    va_end (args);
}

void
zwatch_log_notice (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_log ('N', format, args);
    va_end (args);
}

void
zwatch_log_info (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_log ('I', format, args);
    va_end (args);
}

//  The zsys stream: complete lines are taken apart and logged. stdio
//  calls this under the stream's lock, so one line is whole here even
//  when several threads log through zsys at once.
typedef struct {
    char line [LINE_MAX_];
    size_t size;                    //  a longer line is cut (its end is dropped)
} s_zsys_t;

//  "L: [(ident) ]yy-mm-dd HH:MM:SS text" as ours
static void
s_zsys_line (char *line)
{
    char level = line [0];
    const char *text = line;
    if (strchr ("EWNID", level) && line [1] == ':' && line [2] == ' ') {
        text = line + 3;
        if (*text == '(' && strstr (text, ") "))
            text = strstr (text, ") ") + 2;
        if (strlen (text) >= ZSYS_DATE && text [2] == '-' && text [8] == ' ')
            text += ZSYS_DATE;
    }
    else
        level = 'I';
    size_t program = s_program? strlen (s_program): 0;
    if (program && strncmp (text, s_program, program) == 0 && strncmp (text + program, ": ", 2) == 0)
        text += program + 2;
    s_emit (level, text);
}

static ssize_t
s_zsys_write (void *cookie, const char *data, size_t size)
{
    s_zsys_t *self = (s_zsys_t *) cookie;
    for (size_t index = 0; index < size; index++) {
        if (data [index] == '\n') {
            self->line [self->size] = 0;
            s_zsys_line (self->line);
            self->size = 0;
        }
        else
        if (self->size < sizeof (self->line) - 1)
            self->line [self->size++] = data [index];
    }
    return (ssize_t) size;
}

FILE *
zwatch_log_zsys_stream (void)
{
    //  Static, never closed: zsys may log until the very end of the process
    //  (after its shutdown lets go of the stream, which a heap cookie would
    //  make a leak)
    static s_zsys_t s_cookie;
    static FILE *s_stream;
    if (s_stream)
        return s_stream;
    cookie_io_functions_t functions = { NULL, s_zsys_write, NULL, NULL };
    s_stream = fopencookie (&s_cookie, "w", functions);
    if (s_stream)
        setvbuf (s_stream, NULL, _IOLBF, 0);
    return s_stream;
}
