#!/usr/bin/env bash
#  The live demo: a broker, a service with the agent, and zwatch-sub
#  printing the feed. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
for program in zwatch-broker zwatch-sub zwatch-demo; do
    if [ ! -x "build/bin/$program" ]; then
        echo "demo.sh: build/bin/$program is missing (not built yet?)" >&2
        exit 1
    fi
done
ingest="tcp://127.0.0.1:${ZWATCH_DEMO_INGEST_PORT:-5570}"
publish="tcp://127.0.0.1:${ZWATCH_DEMO_PUBLISH_PORT:-5571}"
pids=()
stop () {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "demo stopped"
}
trap stop INT TERM EXIT
build/bin/zwatch-broker --ingest "$ingest" --publish "$publish" --id demo-broker --stats-interval 10 &
pids+=($!)
sleep 0.3
build/bin/zwatch-sub --connect "$publish" &
pids+=($!)
sleep 0.3
ZWATCH_SERVICE=demo ZWATCH_BROKER="$ingest" build/bin/zwatch-demo --interval 1500 2>/dev/null &
pids+=($!)
wait
