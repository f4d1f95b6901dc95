/*  zwatch_web_buf: a growing text buffer with a hard bound, and JSON.

    Every page, metrics text and SSE message is built in one. Over its
    bound a buffer stops growing and remembers that it is short (full),
    so a caller can answer 500 instead of sending half a document.
*/
#ifndef ZWATCH_WEB_BUF_H_INCLUDED
#define ZWATCH_WEB_BUF_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;                 //  NUL-terminated (when not NULL)
    size_t size;                //  bytes used, without the NUL
    size_t alloc;
    size_t limit;               //  most bytes it may hold
    bool full;                  //  something did not fit
} zwatch_web_buf_t;

//  An empty buffer of at most limit bytes (nothing allocated yet)
void zwatch_web_buf_init (zwatch_web_buf_t *self, size_t limit);
//  Free what it holds; it is empty after
void zwatch_web_buf_free (zwatch_web_buf_t *self);
//  Forget the text, keep the memory
void zwatch_web_buf_clear (zwatch_web_buf_t *self);
//  Drop the first count bytes
void zwatch_web_buf_consume (zwatch_web_buf_t *self, size_t count);

//  Append bytes / a string / printf text. Return 0, or -1 when over the
//  limit or out of memory (then nothing was appended and full is set)
int zwatch_web_buf_add (zwatch_web_buf_t *self, const void *data, size_t size);
int zwatch_web_buf_puts (zwatch_web_buf_t *self, const char *text);
int zwatch_web_buf_printf (zwatch_web_buf_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  A JSON string, escaped per RFC 8259 (control characters as \u00XX);
//  NULL is written as null
int zwatch_web_buf_json_str (zwatch_web_buf_t *self, const char *text);
//  "key": then the string (for the many string fields)
int zwatch_web_buf_json_kv (zwatch_web_buf_t *self, const char *key, const char *text);

//  A Prometheus label value: \, " and newline escaped
int zwatch_web_buf_label (zwatch_web_buf_t *self, const char *text);

#endif
