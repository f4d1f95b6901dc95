/*  zwatch_web_assets: the page's files, compiled into zwatch-web.

    web/page/ (index.html, app.js, style.css) and d3.min.js from
    Debian's node-d3 are embedded at build time (web/embed.cmake), so
    that zwatch-web needs no files and no network at run time.
*/
#ifndef ZWATCH_WEB_ASSETS_H_INCLUDED
#define ZWATCH_WEB_ASSETS_H_INCLUDED

#include <stddef.h>

typedef struct {
    const char *path;               //  "/", "/app.js", "/static/d3.min.js"
    const char *type;               //  Content-Type
    const unsigned char *data;
    size_t size;
} zwatch_web_asset_t;

//  The file served at path, or NULL
const zwatch_web_asset_t *zwatch_web_asset_find (const char *path);

#endif
