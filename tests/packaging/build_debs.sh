#!/usr/bin/env bash
#  Build the Debian packages from a copy of the source tree (dpkg-buildpackage
#  writes ../*.deb and debian/ build files: the tree itself stays clean for
#  the test runs), then run lintian on them.
#  usage: build_debs.sh OUT_DIR     (OUT_DIR gets the .debs, .buildinfo,
#  .changes and lintian.txt)
set -euo pipefail
source=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/zwatch"
#  The tracked files plus new ones not ignored, as they are now (no build
#  trees, no .git, no worktrees)
if git -C "$source" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$source" && git ls-files -z --cached --others --exclude-standard \
        | grep -zv '^\.wt/' | xargs -0 cp --parents -d -t "$work/zwatch")
else
    tar -C "$source" --exclude='./build*' --exclude=./.wt -cf - . | tar -C "$work/zwatch" -xf -
fi
(cd "$work/zwatch" && dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$out/build.log" 2>&1) || {
    tail -n 40 "$out/build.log" >&2
    echo "FAIL: dpkg-buildpackage (log: $out/build.log)" >&2
    exit 1
}
rm -f "$out"/*.deb
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
#  Errors fail; warnings are listed (the README says why those left are kept)
lintian --info --display-info --fail-on error "$out"/*.changes | tee "$out/lintian.txt"
echo "ok: $(cd "$out" && ls ./*.deb | xargs -n1 basename | tr '\n' ' ')"
