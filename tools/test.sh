#!/usr/bin/env bash
#  Set up, build and run the whole test suite: tools/test.sh [--sanitize]
#  --sanitize builds in build-asan with ASan + UBSan and runs the suite there.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
build=build
options=()
if [ "${1:-}" = "--sanitize" ]; then
    build=build-asan
    options+=(-DZWATCH_SANITIZE=ON)
fi
cmake -S . -B "$build" "${options[@]}"
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j2
