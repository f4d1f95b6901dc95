#!/usr/bin/env bash
#  After the packages are installed (apt-get install ./*.deb), check them
#  with the installed files only (/usr, /etc, /lib; nothing from the source
#  tree but this script): the unit verifies, the user exists, the broker
#  starts from /etc/zwatch/zwatch-broker.cfg as that user, reloads on SIGHUP,
#  man -w finds every page, programs built with pkg-config against the
#  installed headers run (the agent's reports to the broker), and the
#  preload from its installed path, and by the drop-in's bare name,
#  instruments a plain libzmq program. Run as root (the broker runs as
#  zwatch through setpriv). usage: check_installed.sh
set -euo pipefail
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup () {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail () { echo "FAIL: $*" >&2; [ -f "$work/broker.log" ] && sed 's/^/  broker: /' "$work/broker.log" >&2; exit 1; }
#  wait_for SECS COMMAND...: until COMMAND succeeds, at most SECS seconds
wait_for () {
    local until=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$until" ] || return 1
        sleep 0.2
    done
}
unset LD_LIBRARY_PATH PKG_CONFIG_PATH

#  The unit, as installed, and its user
unit=/lib/systemd/system/zwatch-broker.service
[ -f "$unit" ] || fail "$unit not installed"
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify says: $out"
score=$(systemd-analyze security --offline=true "$unit" 2>&1 \
        | sed -n 's/.*Overall exposure level for zwatch-broker.service: \([0-9.]*\).*/\1/p')
getent passwd zwatch >/dev/null || fail "no user zwatch after installing zwatch-broker"
[ -f /etc/zwatch/zwatch-broker.cfg ] || fail "/etc/zwatch/zwatch-broker.cfg not installed"
grep -q /etc/zwatch/zwatch-broker.cfg <<< "$(dpkg-query -W -f='${Conffiles}\n' zwatch-broker)" \
    || fail "/etc/zwatch/zwatch-broker.cfg is not a conffile"

#  Every page
pages="zwatch.7 zwatch-broker.8 zwatch-preload.8 zwatch-sub.1 zwatch-fleet.1 zwatch-top.1 zwatch-keygen.1
       zwatch-demo.1 zwatch-web.1 zwatch_agent.3 zwatch_client.3"
for page in $pages; do
    man -w "${page##*.}" "${page%.*}" >/dev/null 2>&1 || fail "man -w ${page##*.} ${page%.*} finds nothing"
done
for command in zwatch-broker zwatch-sub zwatch-fleet zwatch-top zwatch-keygen zwatch-demo zwatch-web; do
    [ "$(command -v "$command")" = "/usr/bin/$command" ] || fail "$command is not /usr/bin/$command"
    "$command" --version >/dev/null || fail "$command --version failed"
done

#  The broker as the unit runs it: user zwatch, the installed config; the
#  endpoints are ipc in a scratch directory (its tcp ports may be taken)
ep=ipc://$work
chown zwatch: "$work"
setpriv --reuid zwatch --regid zwatch --clear-groups --no-new-privs \
    /usr/bin/zwatch-broker --config /etc/zwatch/zwatch-broker.cfg --ingest "$ep/in" \
    --publish "$ep/pub" --snapshot "$ep/snap" 2>"$work/broker.log" &
broker=$!
pids+=("$broker")
wait_for 30 test -S "$work/snap" || fail "the broker bound nothing in 30 s"
kill -HUP "$broker"
wait_for 30 grep -q 'reloaded on SIGHUP' "$work/broker.log" || fail "no reload on SIGHUP"

#  A service built against the installed headers with pkg-config, and the
#  same source without the agent for the preload
cat > "$work/service.c" <<'CODE'
#include <stdio.h>
#include <unistd.h>
#include <zmq.h>
#ifdef WITH_AGENT
#include <zwatch.h>
#endif
int main (int argc, char *argv [])
{
    void *ctx = zmq_ctx_new ();
#ifdef WITH_AGENT
    zwatch_agent_t *agent = zwatch_agent_new (ctx, NULL);
    if (!agent)
        return 1;
#endif
    void *server = zmq_socket (ctx, ZMQ_ROUTER);
#ifdef WITH_AGENT
    zwatch_agent_watch (agent, server, "pkgcheck-server");
#endif
    if (argc < 3 || zmq_bind (server, argv [1]) != 0)
        return 1;
    while (access (argv [2], F_OK) != 0)    //  until the check is done
        usleep (100000);
    zmq_close (server);
#ifdef WITH_AGENT
    zwatch_agent_destroy (&agent);
#endif
    zmq_ctx_term (ctx);
    return 0;
}
CODE
# shellcheck disable=SC2046
cc -DWITH_AGENT "$work/service.c" -o "$work/agent_service" $(pkg-config --cflags --libs zwatch) \
    || fail "cc with pkg-config zwatch failed"
# shellcheck disable=SC2046
cc "$work/service.c" -o "$work/plain_service" $(pkg-config --cflags --libs libzmq) \
    || fail "cc with pkg-config libzmq failed"
#  Whole outputs into grep (under pipefail, grep -q ending first would make
#  the writer's SIGPIPE fail the pipe)
grep -Eq "=> (/usr)?/lib/[^ ]*/libzwatch\.so\.1 " <<< "$(ldd "$work/agent_service")" \
    || fail "agent_service does not use the installed libzwatch.so.1: $(ldd "$work/agent_service")"
cat > "$work/client.c" <<'CODE'
#include <zwatch_client.h>
int main (void)
{
    zwatch_client_t *client = zwatch_client_new (NULL, NULL);
    int rc = client? 0: 1;
    zwatch_client_destroy (&client);
    return rc;
}
CODE
# shellcheck disable=SC2046
cc "$work/client.c" -o "$work/client" $(pkg-config --cflags --libs zwatch-client) \
    || fail "cc with pkg-config zwatch-client failed"
"$work/client" || fail "the program built against libzwatch-client did not run"

#  has_socket SERVICE LABEL: the broker's snapshot holds that socket
has_socket () {
    grep -qF -- "\"$2\"" <<< "$(zwatch-fleet sockets --connect "$ep/pub" --snapshot "$ep/snap" \
        --service "$1" --timeout 10 --json 2>/dev/null)"
}
ZWATCH_BROKER=$ep/in ZWATCH_SERVICE=pkgcheck-agent "$work/agent_service" "$ep/app1" \
    "$work/stop" &
pids+=($!); services=($!)
wait_for 30 has_socket pkgcheck-agent pkgcheck-server \
    || fail "the broker's state has no socket of the pkg-config-built agent"

preload=$(dpkg -L libzwatch1 | grep '/libzwatch-preload\.so$')
[ -f "$preload" ] || fail "libzwatch1 holds no libzwatch-preload.so"
LD_PRELOAD=$preload ZWATCH_BROKER=$ep/in ZWATCH_SERVICE=pkgcheck-preload \
    "$work/plain_service" "$ep/app2" "$work/stop" &
pids+=($!); services+=($!)
wait_for 30 has_socket pkgcheck-preload ROUTER-1 \
    || fail "the broker's state has no socket of the program under $preload"

#  The drop-in's own settings (bare library name), its broker replaced
dropin=/usr/share/doc/libzwatch1/examples/zwatch-preload.conf
[ -f "$dropin" ] || fail "$dropin not installed"
dropin_preload=$(sed -n 's/^Environment=LD_PRELOAD=//p' "$dropin")
[ -n "$dropin_preload" ] || fail "$dropin sets no LD_PRELOAD"
LD_PRELOAD=$dropin_preload ZWATCH_BROKER=$ep/in ZWATCH_SERVICE=pkgcheck-dropin \
    "$work/plain_service" "$ep/app3" "$work/stop" &
pids+=($!); services+=($!)
wait_for 30 has_socket pkgcheck-dropin ROUTER-1 \
    || fail "the broker's state has no socket of the program under the drop-in's LD_PRELOAD"

#  The programs end as they would without zwatch: exit 0, within seconds
touch "$work/stop"
for pid in "${services[@]}"; do
    wait_for 30 sh -c "! kill -0 $pid" || fail "a service did not stop in 30 s"
    rc=0; wait "$pid" || rc=$?
    [ "$rc" = 0 ] || fail "a service exited $rc"
done
kill -TERM "$broker"
rc=0; wait "$broker" || rc=$?
[ "$rc" = 0 ] || fail "the broker exited $rc on SIGTERM"
echo "ok: unit verified (exposure $score), broker as zwatch from /etc/zwatch, reload," \
     "$(echo $pages | wc -w) man pages, pkg-config builds, agent, preload and drop-in seen by the broker"
