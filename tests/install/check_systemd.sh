#!/usr/bin/env bash
#  The broker's systemd unit and default config, from an installed tree:
#  systemd-analyze verify finds nothing, the unit has what the README and
#  issue 17 promise (user, restart, reload by SIGHUP, hardening) and an
#  exposure score of at most 2.0, and the installed broker starts from the
#  installed config, reloads it on SIGHUP and stops with 0 on SIGTERM.
#  usage: check_systemd.sh BUILD_DIR   (exit 77: systemd-analyze missing)
set -euo pipefail
build=$1
command -v systemd-analyze >/dev/null || { echo "skip: no systemd-analyze"; exit 77; }
prefix=$(mktemp -d)
broker_pid=
trap '[ -z "$broker_pid" ] || kill -9 "$broker_pid" 2>/dev/null || true; rm -rf "$prefix"' EXIT
fail () { echo "FAIL: $*" >&2; [ -f "$prefix/log" ] && sed 's/^/  broker: /' "$prefix/log" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
unit=$prefix/lib/systemd/system/zwatch-broker.service
config=$prefix/etc/zwatch/zwatch-broker.cfg
[ -f "$unit" ] || fail "zwatch-broker.service not installed"
[ -f "$config" ] || fail "etc/zwatch/zwatch-broker.cfg not installed"
[ -f "$prefix/lib/sysusers.d/zwatch.conf" ] || fail "lib/sysusers.d/zwatch.conf not installed"
grep -q '^u zwatch ' "$prefix/lib/sysusers.d/zwatch.conf" || fail "sysusers.d makes no user zwatch"

#  The unit names the configured prefix; point it at this tree to verify it
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
case "$exec_start" in
    */bin/zwatch-broker\ --config\ */zwatch/zwatch-broker.cfg) ;;
    *) fail "ExecStart=$exec_start";;
esac
sed -i "s|^ExecStart=.*|ExecStart=$prefix/bin/zwatch-broker --config $config|" "$unit"
out=$(systemd-analyze verify --man=no "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify says: $out"
for line in Type=exec User=zwatch Group=zwatch Restart=on-failure \
            'ExecReload=/bin/kill -HUP $MAINPID' NoNewPrivileges=yes ProtectSystem=strict \
            PrivateTmp=yes ProtectHome=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
            StandardError=journal; do
    grep -qxF "$line" "$unit" || fail "the unit has no '$line'"
done
score=$(systemd-analyze security --offline=true "$unit" 2>&1 \
        | sed -n 's/.*Overall exposure level for zwatch-broker.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "systemd-analyze security gave no score"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $score (want <= 2.0)"

#  The installed broker starts from the installed config (ipc endpoints
#  instead of its tcp ports, which may be taken here), reloads on SIGHUP
#  as systemctl reload makes it, and stops with 0 on SIGTERM
"$prefix/bin/zwatch-broker" --config "$config" --ingest "ipc://$prefix/in" \
    --publish "ipc://$prefix/pub" --snapshot "ipc://$prefix/snap" 2>"$prefix/log" &
broker_pid=$!
for _ in $(seq 300); do
    [ -S "$prefix/in" ] && [ -S "$prefix/pub" ] && [ -S "$prefix/snap" ] && break
    kill -0 "$broker_pid" 2>/dev/null || fail "the broker exited with the installed config"
    sleep 0.1
done
[ -S "$prefix/snap" ] || fail "the broker bound nothing in 30 s"
kill -HUP "$broker_pid"
for _ in $(seq 300); do
    grep -q 'reloaded on SIGHUP' "$prefix/log" && break
    sleep 0.1
done
grep -q 'reloaded on SIGHUP' "$prefix/log" || fail "no 'reloaded on SIGHUP' line in 30 s"
kill -TERM "$broker_pid"
rc=0; wait "$broker_pid" || rc=$?
broker_pid=
[ "$rc" = 0 ] || fail "the broker exited $rc on SIGTERM"
echo "ok: unit verified, exposure $score; the broker ran from the installed config, reloaded, stopped"
