/*  zwatch_top_screen: zwatch-top's terminal, through ncurses.

    Takes the terminal (alternate screen, no echo, keys one at a time,
    Ctrl-C still a signal) and gives it back as it was on destroy. Draws
    the model in full each time; curses sends only what changed, which
    keeps it light over ssh. A resize comes as ZWATCH_TOP_KEY_RESIZE
    (curses has the new size by then). Uses nothing beyond cursor
    addressing and reverse video, so any terminal type with cursor
    addressing works.
*/
#ifndef ZWATCH_TOP_SCREEN_H_INCLUDED
#define ZWATCH_TOP_SCREEN_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "zwatch_top_model.h"

//  Keys: printable ASCII as itself, these, or ZWATCH_TOP_KEY_NONE
#define ZWATCH_TOP_KEY_NONE         (-1)
#define ZWATCH_TOP_KEY_RESIZE       0x1001
#define ZWATCH_TOP_KEY_ENTER        0x1002
#define ZWATCH_TOP_KEY_ESCAPE       0x1003
#define ZWATCH_TOP_KEY_BACKSPACE    0x1004
#define ZWATCH_TOP_KEY_OTHER        0x1005      //  anything else (arrows, F-keys)

typedef struct _zwatch_top_screen_t zwatch_top_screen_t;

//  Take the terminal on stdin / stdout. NULL when stdout or stdin is not
//  a terminal or TERM cannot be used (error gets one line saying which),
//  or out of memory.
zwatch_top_screen_t *zwatch_top_screen_new (char *error, size_t size);

//  Give the terminal back as it was; sets *self_p NULL. Idempotent.
void zwatch_top_screen_destroy (zwatch_top_screen_t **self_p);

//  The next key typed, without waiting
int zwatch_top_screen_key (zwatch_top_screen_t *self);

//  Draw the model at now (monotonic ms); typing: the filter being typed
//  (the prompt line), or NULL
void zwatch_top_screen_draw (zwatch_top_screen_t *self, zwatch_top_model_t *model,
                             const char *typing, int64_t now);

#endif
