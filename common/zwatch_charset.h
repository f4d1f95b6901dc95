/*  zwatch_charset: character classes of the protocol's strings, as one
    table lookup per byte (the decoder checks every byte it accepts).  */
#ifndef ZWATCH_CHARSET_H_INCLUDED
#define ZWATCH_CHARSET_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define ZWATCH_CHAR_NAME     1      //  [A-Za-z0-9._-]: host, svc
#define ZWATCH_CHAR_PRINT    2      //  0x20-0x7e: labels, endpoints
#define ZWATCH_CHAR_UPPER    4      //  [A-Z0-9_]: socket types, event names

extern const uint8_t zwatch_charset [256];

//  True if all len bytes at s are in class
static inline int
zwatch_charset_all (const char *s, size_t len, uint8_t class_bits)
{
    uint8_t seen = class_bits;
    for (size_t index = 0; index < len; index++)
        seen &= zwatch_charset [(uint8_t) s [index]];
    return seen == class_bits;
}

//  Copy len bytes from src to dst, each byte not in class_bits made '?':
//  for strings from outside that end up on terminals
static inline void
zwatch_charset_clean (char *dst, const char *src, size_t len, uint8_t class_bits)
{
    for (size_t index = 0; index < len; index++)
        dst [index] = (zwatch_charset [(uint8_t) src [index]] & class_bits)? src [index]: '?';
}

#endif
