#!/usr/bin/env bash
#  The live demo: a broker, zwatch-web (the fleet's page), zwatch-sub
#  printing the feed, and a service (zwatch-demo --story) that lives one
#  short life with the agent watching its sockets. Ctrl-C stops it early.
#
#  ZWATCH_DEMO_INGEST_PORT, ZWATCH_DEMO_PUBLISH_PORT, ZWATCH_DEMO_SNAPSHOT_PORT
#  choose the broker's ports (5570, 5571, 5572), ZWATCH_DEMO_WEB_PORT the
#  page's (5580). ZWATCH_DEMO_PACE sets the
#  msecs between the story's steps (2500). ZWATCH_DEMO_BIN runs the
#  commands from that directory, without installing or building.
set -euo pipefail
cd "$(dirname "$0")/.."
say () { echo "demo: $*"; }

bin="${ZWATCH_DEMO_BIN:-}"
if [ -z "$bin" ]; then
    say "checking the build tools and libraries (tools/deps.sh)..."
    tools/deps.sh
    say "configuring and building in build/ (the first time takes a minute)..."
    log="$(mktemp)"
    if ! { cmake -S . -B build && cmake --build build -j"$(nproc)"; } >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        echo "demo.sh: the build failed (the lines above; all of it: $log)" >&2
        exit 1
    fi
    rm -f "$log"
    bin=build/bin
fi
for program in zwatch-broker zwatch-sub zwatch-demo; do
    if [ ! -x "$bin/$program" ]; then
        echo "demo.sh: $bin/$program is missing (not built yet?)" >&2
        exit 1
    fi
done

ingest_port="${ZWATCH_DEMO_INGEST_PORT:-5570}"
publish_port="${ZWATCH_DEMO_PUBLISH_PORT:-5571}"
snapshot_port="${ZWATCH_DEMO_SNAPSHOT_PORT:-5572}"
web_port="${ZWATCH_DEMO_WEB_PORT:-5580}"
pace="${ZWATCH_DEMO_PACE:-2500}"
ingest="tcp://127.0.0.1:$ingest_port"
publish="tcp://127.0.0.1:$publish_port"
logs="$(mktemp -d "${TMPDIR:-/tmp}/zwatch-demo.XXXXXX")"
broker_pid="" sub_pid="" demo_pid="" web_pid=""

#  Services first, the broker last, so the feed shows the agent leave
stop () {
    for pid in "$demo_pid" "$sub_pid" "$web_pid" "$broker_pid"; do
        [ -n "$pid" ] || continue
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    demo_pid="" sub_pid="" web_pid="" broker_pid=""
}
trap 'stop; echo; say "stopped (logs in $logs)"; exit 130' INT TERM
trap stop EXIT

say "starting the broker (ingest $ingest_port, publish $publish_port, snapshots $snapshot_port)..."
"$bin/zwatch-broker" --ingest "$ingest" --publish "$publish" \
    --snapshot "tcp://127.0.0.1:$snapshot_port" --id demo-broker --stats-interval 1 \
    >"$logs/broker.log" 2>&1 &
broker_pid=$!
#  Wait for it to listen on all three, or to fail
for _ in $(seq 100); do
    if ! kill -0 "$broker_pid" 2>/dev/null; then
        wait "$broker_pid" || true
        broker_pid=""
        #  The broker's last log line, without its time and level
        reason=$(grep -v '^ *$' "$logs/broker.log" | tail -n 1 | sed -E 's/^[0-9T:.+-]+ [EWNID] //')
        echo "demo.sh: the broker did not start: $reason" >&2
        cat >&2 <<EOF
demo.sh: a port in use? (another broker or demo running) Choose other ports:
  ZWATCH_DEMO_INGEST_PORT=6570 ZWATCH_DEMO_PUBLISH_PORT=6571 \\
  ZWATCH_DEMO_SNAPSHOT_PORT=6572 tools/demo.sh
EOF
        exit 1
    fi
    [ "$(grep -c ' bound to ' "$logs/broker.log" || true)" -ge 3 ] && break
    sleep 0.1
done

#  The page, if zwatch-web was built (it needs libmicrohttpd and node-d3)
if [ -x "$bin/zwatch-web" ]; then
    "$bin/zwatch-web" --listen "127.0.0.1:$web_port" --connect "$publish" \
        --snapshot "tcp://127.0.0.1:$snapshot_port" >"$logs/web.log" 2>&1 &
    web_pid=$!
    for _ in $(seq 100); do
        grep -q 'serving http://' "$logs/web.log" 2>/dev/null && break
        kill -0 "$web_pid" 2>/dev/null || break
        sleep 0.1
    done
    if grep -q 'serving http://' "$logs/web.log" 2>/dev/null; then
        say "the fleet graph, live: http://127.0.0.1:$web_port/ (open it in a browser)"
    else
        say "zwatch-web did not start (port $web_port taken? ZWATCH_DEMO_WEB_PORT)"
        web_pid=""
    fi
else
    say "no page: zwatch-web is not built (it needs libmicrohttpd-dev, node-d3)"
fi

say "starting zwatch-sub, which prints the broker's feed: one line per event,"
say "shortened here to fit 80 columns (time, socket, event, endpoint, value)"
#  The line: date time host svc[pid] sock(stype) EVENT endpoint value [peer=].
#  The broker's stats (every second) are not shown: the first says that
#  zwatch-sub's subscriptions are in place (file "ready")
feed () {
    local date time host svc sock event endpoint value line
    while read -r date time host svc sock event endpoint value _; do
        if [ "$sock" = broker ] || [ "$host" = broker ]; then
            [ -e "$logs/ready" ] || : >"$logs/ready"
            continue
        fi
        if [ "$sock" = agent ]; then
            echo "   ${time:0:8}  agent $host/$svc $event"
            [ "$event" != gone ] || : >"$logs/gone"
            continue
        fi
        line="$(printf '   %s  %-8s %-19s %s %s' "${time:0:8}" "${sock%%(*}" "$event" \
                "$endpoint" "$value")"
        [ "${#line}" -le 80 ] || line="${line:0:77}..."
        echo "$line"
    done
}
"$bin/zwatch-sub" --connect "$publish" 2>"$logs/sub.log" > >(feed) &
sub_pid=$!
for _ in $(seq 100); do
    [ -e "$logs/ready" ] && break
    sleep 0.1
done

say "starting the service 'demo' (zwatch-demo --story), its agent watching it"
ZWATCH_SERVICE=demo ZWATCH_HOST_ID=demo-host ZWATCH_BROKER="$ingest" \
    "$bin/zwatch-demo" --story --pace "$pace" 2>"$logs/demo.log" &
demo_pid=$!
wait "$demo_pid" || true
demo_pid=""
#  Its bye reaches the feed as "agent ... gone"
for _ in $(seq 50); do
    [ -e "$logs/gone" ] && break
    sleep 0.1
done
stop
cat <<EOF

demo: done. What to try next, with the commands in
  $bin:
  zwatch-broker                        the broker, in one terminal; then
  zwatch-web                           the page: http://127.0.0.1:5580/
  zwatch-demo                          a service that loops (Ctrl-C stops)
  zwatch-sub --event bind_failed       only the failed binds
  zwatch-sub --host 'web-*'            hosts web-..., any service
  zwatch-sub --json                    JSON lines, with "time" and "error"
  LD_PRELOAD=build/lib/libzwatch-preload.so ZWATCH_BROKER=tcp://127.0.0.1:5570 \\
      python3 app.py                   any ZeroMQ program, unchanged
  README.md: the agent library, snapshots, CURVE security (zwatch-keygen).
EOF
