#!/usr/bin/env bash
#  Fetch Debian's libzmq source (package zeromq3, the version installed) and
#  build its tests, once: tests/libzmq/fetch.sh <cache dir> [--source-only]
#  The cache dir lives in a zwatch build tree; a second call finds the
#  stamp files and does neither again. As root on a fresh Debian machine it
#  adds the deb-src entries and dpkg-dev it needs; the only network it uses
#  is Debian's archive, through apt.
set -euo pipefail
cache=${1:?usage: fetch.sh <cache dir> [--source-only]}
source_only=${2:-}
jobs=${ZWATCH_LIBZMQ_JOBS:-2}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
src_stamp=$cache/.fetched
build_stamp=$cache/.built

s_log () { echo "libzmq-suite: $*" >&2; }
s_die () { echo "libzmq-suite: error: $*" >&2; exit 2; }
s_now () { date +%s; }

#  Source entries for apt: the same archives as the deb entries, so the
#  source comes from the registry the build's packages come from
s_add_deb_src () {
    local file=/etc/apt/sources.list.d/zwatch-deb-src.sources
    [ -e "$file" ] && return 0
    [ "$(id -u)" = 0 ] || s_die "no deb-src entry in /etc/apt and not root to add one"
    local tmp
    tmp=$(mktemp)
    #  deb822 files: each stanza whose Types has deb, again with deb-src
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        [ "$f" = "$file" ] && continue
        awk 'BEGIN { RS = ""; ORS = "\n\n" }
             /(^|\n)Types:[^\n]*(^|[ \t])deb([ \t]|\n|$)/ && !/(^|\n)Enabled: *no/ {
                 sub (/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub (/^\n/, ""); print }' "$f" >>"$tmp"
    done
    #  one-line files: each 'deb' line again as 'deb-src'
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -e "$f" ] || continue
        grep -E '^[[:space:]]*deb[[:space:]]' "$f" | sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' \
            >>"${tmp}.list" || true
    done
    if [ -s "$tmp" ]; then
        install -m 644 "$tmp" "$file"
        s_log "added $file (deb-src for each deb stanza)"
    fi
    if [ -s "${tmp}.list" ]; then
        install -m 644 "${tmp}.list" /etc/apt/sources.list.d/zwatch-deb-src.list
        s_log "added /etc/apt/sources.list.d/zwatch-deb-src.list"
    fi
    rm -f "$tmp" "${tmp}.list"
    [ -e "$file" ] || [ -e /etc/apt/sources.list.d/zwatch-deb-src.list ] \
        || s_die "found no deb entries in /etc/apt to derive deb-src entries from"
    apt-get update >&2
}

s_fetch () {
    command -v apt-get >/dev/null || s_die "apt-get not found: the source comes from Debian's archive"
    if ! command -v dpkg-source >/dev/null; then
        [ "$(id -u)" = 0 ] || s_die "dpkg-source missing (package dpkg-dev) and not root to install it"
        s_log "installing dpkg-dev (apt-get source unpacks with dpkg-source)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dpkg-dev >&2
    fi
    #  The same version as the libzmq the build links, when it is installed
    local version want=zeromq3
    version=$(dpkg-query -W -f='${source:Version}' libzmq5 2>/dev/null || true)
    [ -n "$version" ] && want="zeromq3=$version"
    rm -rf "$cache/src"
    mkdir -p "$cache/src"
    local start
    start=$(s_now)
    if ! (cd "$cache/src" && apt-get source -q "$want" >&2); then
        s_log "apt-get source $want failed; adding deb-src entries and retrying"
        s_add_deb_src
        if ! (cd "$cache/src" && apt-get source -q "$want" >&2); then
            #  The installed version may have left the archive (a point
            #  release): the tests run against the libzmq they build anyway
            [ "$want" = zeromq3 ] && s_die "apt-get source zeromq3 failed (see above)"
            s_log "warning: $want is not in the archive's sources; taking its current zeromq3"
            want=zeromq3
            (cd "$cache/src" && apt-get source -q zeromq3 >&2) \
                || s_die "apt-get source zeromq3 failed (see above)"
        fi
    fi
    local dir
    dir=$(find "$cache/src" -mindepth 1 -maxdepth 1 -type d -name 'zeromq3-*' | head -1)
    [ -n "$dir" ] && [ -f "$dir/CMakeLists.txt" ] || s_die "no unpacked zeromq3-*/CMakeLists.txt in $cache/src"
    echo "$dir" >"$src_stamp.tmp"
    mv "$src_stamp.tmp" "$src_stamp"
    s_log "fetched $want into $dir in $(( $(s_now) - start )) s"
}

s_build () {
    local dir start
    dir=$(cat "$src_stamp")
    start=$(s_now)
    #  Only the shared library and the tests: no docs, static lib or perf tools
    cmake -S "$dir" -B "$cache/build" -DBUILD_TESTS=ON -DENABLE_DRAFTS=OFF \
          -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_STATIC=OFF -DWITH_DOCS=OFF \
          -DWITH_PERF_TOOL=OFF -DENABLE_CPACK=OFF >&2
    cmake --build "$cache/build" -j"$jobs" >&2
    touch "$build_stamp"
    s_log "built libzmq and its tests in $(( $(s_now) - start )) s (-j$jobs)"
}

if [ -f "$src_stamp" ] && [ -d "$(cat "$src_stamp")" ]; then
    s_log "source cached: $(cat "$src_stamp")"
else
    rm -f "$build_stamp"
    s_fetch
fi
if [ "$source_only" = --source-only ]; then
    exit 0
elif [ -f "$build_stamp" ]; then
    s_log "build cached: $cache/build"
else
    s_build
fi
