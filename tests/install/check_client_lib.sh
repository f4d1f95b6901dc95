#!/usr/bin/env bash
#  What a dashboard gets by linking the client library: the installed
#  zwatch-client.pc and header build a program, libzwatch-client.so has a
#  SONAME and exports its API only (fleet/, proto/ and common/ are inside,
#  hidden), and the agent's library does not carry any of it.
#  usage: check_client_lib.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fail () { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name zwatch-client.pc | head -n 1)
[ -n "$pc" ] || fail "zwatch-client.pc not installed"
export PKG_CONFIG_PATH=$(dirname "$pc")
[ -f "$prefix/include/zwatch_client.h" ] || fail "zwatch_client.h not installed"
lib=$(find "$prefix" -name 'libzwatch-client.so.*' -type f | head -n 1)
[ -n "$lib" ] || fail "libzwatch-client.so not installed"
[ -n "$(find "$prefix" -name 'libzwatch-client.a')" ] || fail "libzwatch-client.a not installed"
soname=$(objdump -p "$lib" | awk '/SONAME/ { print $2 }')
[ "$soname" = "libzwatch-client.so.0" ] || fail "SONAME '$soname'"

#  Exported: zwatch_client_* only
others=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | grep -v '^zwatch_client_' || true)
[ -z "$others" ] || fail "libzwatch-client.so exports $(echo $others)"
agent=$(find "$prefix" -name 'libzwatch.so.*' -type f | head -n 1)
if grep -q 'zwatch_client_\|zwatch_fleet_' <<< "$(nm -D --defined-only "$agent")"; then
    fail "libzwatch.so carries client or fleet symbols"
fi

app=$prefix/app
cat > "$app.c" <<'CODE'
#include <zwatch_client.h>
int main (void)
{
    zwatch_client_t *client = zwatch_client_new (NULL, NULL);
    int rc = client && zwatch_client_agents (client) == 0? 0: 1;
    zwatch_client_destroy (&client);
    return rc;
}
CODE
# shellcheck disable=SC2046
cc "$app.c" -o "$app" $(pkg-config --cflags --libs zwatch-client)
if ! grep -q 'NEEDED.*libasan' <<< "$(objdump -p "$lib")"; then
    LD_LIBRARY_PATH=$(dirname "$lib") "$app" || fail "the program built against the client did not run"
fi
echo "ok: libzwatch-client.so ($soname) exports $(nm -D --defined-only "$lib" | wc -l) zwatch_client_ symbols"
