#!/usr/bin/env bash
#  Install what zwatch needs to build and test, if it is missing (Debian/Ubuntu).
set -euo pipefail
packages="build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev scdoc libncurses-dev tmux libmicrohttpd-dev node-d3"
missing=0
for module in libzmq libczmq libmicrohttpd; do
    pkg-config --exists "$module" 2>/dev/null || missing=1
done
pkg-config --exists msgpack-c 2>/dev/null || pkg-config --exists msgpack 2>/dev/null || missing=1
pkg-config --exists ncursesw 2>/dev/null || missing=1       #  zwatch-top
command -v tmux >/dev/null 2>&1 || missing=1                #  zwatch-top's tests
command -v cmake >/dev/null 2>&1 || missing=1
[ -f /usr/share/nodejs/d3/dist/d3.min.js ] || missing=1       #  zwatch-web's page
command -v cc >/dev/null 2>&1 || missing=1
if [ "$missing" = 0 ] && [ "${1:-}" != "--force" ]; then
    exit 0
fi
echo "deps.sh: installing $packages" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y $packages
