/*  zwatch_web_buf: a growing text buffer with a hard bound, and JSON.  */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zwatch_web_buf.h"

void
zwatch_web_buf_init (zwatch_web_buf_t *self, size_t limit)
{
    memset (self, 0, sizeof (*self));
    self->limit = limit;
}

void
zwatch_web_buf_free (zwatch_web_buf_t *self)
{
    free (self->data);
    zwatch_web_buf_init (self, self->limit);
}

void
zwatch_web_buf_clear (zwatch_web_buf_t *self)
{
    self->size = 0;
    self->full = false;
    if (self->data)
        self->data [0] = 0;
}

void
zwatch_web_buf_consume (zwatch_web_buf_t *self, size_t count)
{
    if (count >= self->size) {
        zwatch_web_buf_clear (self);
        return;
    }
    memmove (self->data, self->data + count, self->size - count + 1);
    self->size -= count;
}

//  Room for size more bytes plus the NUL
static int
s_reserve (zwatch_web_buf_t *self, size_t size)
{
    if (size > self->limit - self->size) {
        self->full = true;
        return -1;
    }
    if (self->size + size + 1 <= self->alloc)
        return 0;
    size_t alloc = self->alloc? self->alloc: 256;
    while (alloc < self->size + size + 1)
        alloc *= 2;
    char *data = (char *) realloc (self->data, alloc);
    if (!data) {
        self->full = true;
        return -1;
    }
    self->data = data;
    self->alloc = alloc;
    return 0;
}

int
zwatch_web_buf_add (zwatch_web_buf_t *self, const void *data, size_t size)
{
    if (s_reserve (self, size))
        return -1;
    if (size)
        memcpy (self->data + self->size, data, size);
    self->size += size;
    self->data [self->size] = 0;
    return 0;
}

int
zwatch_web_buf_puts (zwatch_web_buf_t *self, const char *text)
{
    return zwatch_web_buf_add (self, text, strlen (text));
}

int
zwatch_web_buf_printf (zwatch_web_buf_t *self, const char *format, ...)
{
    char small [256];
    va_list args;
    va_start (args, format);
    int length = vsnprintf (small, sizeof (small), format, args);
    va_end (args);
    if (length < 0)
        return -1;
    if ((size_t) length < sizeof (small))
        return zwatch_web_buf_add (self, small, (size_t) length);
    if (s_reserve (self, (size_t) length))
        return -1;
    va_start (args, format);
    vsnprintf (self->data + self->size, (size_t) length + 1, format, args);
    va_end (args);
    self->size += (size_t) length;
    return 0;
}

int
zwatch_web_buf_json_str (zwatch_web_buf_t *self, const char *text)
{
    if (!text)
        return zwatch_web_buf_puts (self, "null");
    int rc = zwatch_web_buf_puts (self, "\"");
    for (const unsigned char *at = (const unsigned char *) text; *at && !rc; at++) {
        if (*at == '"' || *at == '\\')
            rc = zwatch_web_buf_printf (self, "\\%c", *at);
        else
        if (*at < 0x20 || *at == 0x7f)
            rc = zwatch_web_buf_printf (self, "\\u%04x", *at);
        else
            rc = zwatch_web_buf_add (self, at, 1);
    }
    return rc? rc: zwatch_web_buf_puts (self, "\"");
}

int
zwatch_web_buf_json_kv (zwatch_web_buf_t *self, const char *key, const char *text)
{
    if (zwatch_web_buf_printf (self, "\"%s\":", key))
        return -1;
    return zwatch_web_buf_json_str (self, text);
}

int
zwatch_web_buf_label (zwatch_web_buf_t *self, const char *text)
{
    int rc = zwatch_web_buf_puts (self, "\"");
    for (const char *at = text? text: ""; *at && !rc; at++) {
        if (*at == '"' || *at == '\\')
            rc = zwatch_web_buf_printf (self, "\\%c", *at);
        else
        if (*at == '\n')
            rc = zwatch_web_buf_puts (self, "\\n");
        else
            rc = zwatch_web_buf_add (self, at, 1);
    }
    return rc? rc: zwatch_web_buf_puts (self, "\"");
}
