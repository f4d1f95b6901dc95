/*  zwatch_charset: the table behind zwatch_charset.h.  */

#include "zwatch_charset.h"

#define N ZWATCH_CHAR_NAME
#define P ZWATCH_CHAR_PRINT
#define U ZWATCH_CHAR_UPPER
const uint8_t zwatch_charset [256] = {
    [' ' ... ','] = P, ['-'] = N | P, ['.'] = N | P, ['/'] = P,
    ['0' ... '9'] = N | P | U, [':' ... '@'] = P, ['A' ... 'Z'] = N | P | U,
    ['[' ... '^'] = P, ['_'] = N | P | U, ['`'] = P, ['a' ... 'z'] = N | P,
    ['{' ... '~'] = P
};
#undef N
#undef P
#undef U
