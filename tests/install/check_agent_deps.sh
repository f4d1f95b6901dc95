#!/usr/bin/env bash
#  What a service gets by linking the agent: libzmq only. Installs the
#  build tree into a scratch prefix, then checks the installed zwatch.pc,
#  the shared library's NEEDED entries, and a program built the way the
#  README says (examples/agent_basic.c, built with the README's own
#  command). usage: check_agent_deps.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fail () { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
pc_dir=$(dirname "$(find "$prefix" -name zwatch.pc | head -n 1)")
[ -f "$pc_dir/zwatch.pc" ] || fail "zwatch.pc not installed"
export PKG_CONFIG_PATH=$pc_dir

requires=$(pkg-config --print-requires zwatch)
[ "$requires" = "libzmq >= 4.3" ] || fail "zwatch.pc Requires: '$requires' (want 'libzmq >= 4.3' only)"
private=$(pkg-config --print-requires-private zwatch)
[ -z "$private" ] || fail "zwatch.pc Requires.private: '$private' (want nothing)"
if grep -Eq 'czmq|msgpack' <<< "$(pkg-config --static --libs zwatch)"; then
    fail "pkg-config --static --libs zwatch names CZMQ or msgpack: $(pkg-config --static --libs zwatch)"
fi

lib=$(find "$prefix" -name 'libzwatch.so.*' -type f | head -n 1)
[ -n "$lib" ] || fail "libzwatch.so not installed"
#  The sanitizer build adds its runtimes; nothing else may appear
unexpected=$(objdump -p "$lib" | awk '/NEEDED/ { print $2 }' \
             | grep -Ev '^(libzmq\.so\.5|libc\.so\.6|ld-linux.*|libpthread\.so\.0|libm\.so\.6|libdl\.so\.2|libasan\.so.*|libubsan\.so.*|libgcc_s\.so\.1)$' || true)
[ -z "$unexpected" ] || fail "libzwatch.so needs $(echo $unexpected)"

#  Exported: exactly the functions the installed headers declare (zwatch.map);
#  nothing of common/, the engine or proto/'s helpers
declared=$(grep -hoE '^[A-Za-z][^(#]*[ *](zwatch_[a-z0-9_]+) \(' "$prefix"/include/zwatch.h \
               "$prefix"/include/zwatch_agent.h "$prefix"/include/zwatch_proto.h \
           | grep -v typedef | sed -E 's/.*[ *](zwatch_[a-z0-9_]+) \($/\1/' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | sort -u)
[ -n "$declared" ] || fail "no functions found in the installed headers"
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
[ -z "$extra" ] || fail "libzwatch.so exports what no header declares: $(echo $extra)"
[ -z "$missing" ] || fail "libzwatch.so does not export: $(echo $missing)"

#  A service built as the README says links no CZMQ or msgpack-c
app=$prefix/app
cat > "$app.c" <<'CODE'
#include <zwatch.h>
int main (void) { return zwatch_agent_new (NULL, NULL) == NULL? 0: 1; }
CODE
# shellcheck disable=SC2046
cc "$app.c" -o "$app" $(pkg-config --cflags --libs zwatch)
linked=$(LD_LIBRARY_PATH=$(dirname "$lib") ldd "$app")
if echo "$linked" | grep -Eq 'czmq|msgpack'; then
    fail "a program linking the agent gets: $(echo "$linked" | grep -E 'czmq|msgpack')"
fi
#  A sanitizer build's library needs its runtime loaded first, which a plain
#  program does not do: run it only from a plain build
if ! grep -q 'NEEDED.*libasan' <<< "$(objdump -p "$lib")"; then
    LD_LIBRARY_PATH=$(dirname "$lib") "$app" 2>/dev/null \
        || fail "the program built against the installed agent did not run"
fi

#  The README's example, built with the README's command, word for word
command=$(grep -o 'cc agent_basic\.c -o agent_basic \$(pkg-config --cflags --libs zwatch)' \
          "$source/README.md" | head -n 1)
[ -n "$command" ] || fail "README.md has no 'cc agent_basic.c ... pkg-config' command"
cp "$source/examples/agent_basic.c" "$prefix/"
(cd "$prefix" && eval "$command") || fail "README's '$command' failed"
[ -x "$prefix/agent_basic" ] || fail "README's '$command' made no agent_basic"
echo "ok: zwatch.pc requires libzmq only; libzwatch.so needs $(objdump -p "$lib" | awk '/NEEDED/ { printf "%s ", $2 }')and exports the $(echo "$declared" | wc -l) functions of its headers"
