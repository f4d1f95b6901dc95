#!/bin/sh
#  Build the benchmarks (Release) and run them all, one after the other.
#  Usage: bench/run.sh [BUILD_DIR]        (default build-bench)
#  Figures only: the results and what they mean are in docs/BENCHMARKS.md.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DZWATCH_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target bench_proto bench_agent bench_broker bench_snapshot \
    bench_sockets bench_tiers fault_service bench_proxy zwatch-preload >/dev/null

echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(uname -sr)"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for bench in bench_proto bench_agent bench_broker bench_snapshot bench_sockets bench_tiers; do
    echo
    case $bench in
        #  issue 18's table: 2 and 4 senders, the broker with and without batches
        bench_broker) "$build/bin/$bench" --senders 2,4 || status=1 ;;
        *) "$build/bin/$bench" || status=1 ;;
    esac
done
exit $status
