#!/usr/bin/env bash
#  The installed tree works from any prefix: installs the build tree into a
#  scratch prefix and runs every installed command there, with no
#  LD_LIBRARY_PATH, for --help (exit 0) and --version (one version, the
#  project's), and checks the run path and the docs.
#  usage: check_install.sh BUILD_DIR VERSION
set -euo pipefail
build=$1
version=$2
prefix=$(mktemp -d)/some/prefix
trap 'rm -rf "${prefix%/some/prefix}"' EXIT
fail () { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
unset LD_LIBRARY_PATH
commands="zwatch-broker zwatch-sub zwatch-fleet zwatch-top zwatch-keygen zwatch-demo"
#  zwatch-web is built only with libmicrohttpd and node-d3
[ ! -x "$build/bin/zwatch-web" ] || commands="$commands zwatch-web"
for command in $commands; do
    [ -x "$prefix/bin/$command" ] || fail "$command not installed in $prefix/bin"
done
#  Nothing else is installed as a command without being checked here
for file in "$prefix"/bin/*; do
    case " $commands " in *" $(basename "$file") "*) ;; *) fail "unchecked command $file";; esac
done
for command in $commands; do
    binary=$prefix/bin/$command
    runpath=$(objdump -p "$binary" | awk '/RUNPATH|RPATH/ { print $2 }')
    case "$runpath" in
        '$ORIGIN/../lib'*) ;;
        *) fail "$command: run path '$runpath' (want \$ORIGIN/../<libdir>)";;
    esac
    help=$("$binary" --help 2>&1) || fail "$command --help: exit $? ($help)"
    echo "$help" | grep -q -- '--version' || fail "$command --help does not list --version"
    out=$("$binary" --version 2>&1) || fail "$command --version: exit $? ($out)"
    [ "$out" = "$command $version" ] || fail "$command --version says '$out' (want '$command $version')"
done
#  The libraries carry no run path of their own
for lib in "$prefix"/lib*/libzwatch.so.* "$prefix"/lib*/libzwatch-preload.so; do
    [ -f "$lib" ] || fail "$lib not installed"
    if grep -Eq 'RUNPATH|RPATH' <<< "$(objdump -p "$lib")"; then
        fail "$(basename "$lib") has a run path"
    fi
done
pc=$(find "$prefix" -name zwatch.pc | head -n 1)
grep -qx "Version: $version" "$pc" || fail "zwatch.pc: $(grep Version "$pc") (want $version)"
docdir=$(dirname "$(find "$prefix" -name PROTOCOL.md | head -n 1)")
for doc in README.md PROTOCOL.md SECURITY.md RELIABILITY.md BENCHMARKS.md \
           zwatch-broker.cfg.example examples/agent_basic.c examples/agent_czmq.c; do
    [ -f "$docdir/$doc" ] || fail "$doc not installed in $docdir"
done
echo "ok: $commands start from $prefix with --help and --version ($version); docs in $docdir"
