#!/bin/bash
# berthd's command line: version, help, check-config on the shipped conf,
# daemon mode with readiness and pidfile, orderly and bounded shutdown.
. "$top_srcdir/tests/lib/functions.sh"
requires python3

out=$("$BERTHD" --version)
abi() { sed -n "s/^#define BERTH_PLUGIN_ABI_$1 \([0-9]*\)$/\1/p" "$top_srcdir/include/berth/plugin.h"; }
like "--version names the version and the installed header's plugin ABI" "$out" \
    "^berthd [0-9.]+ \\(plugin ABI $(abi MAJOR)\\.$(abi MINOR)\\)$"
out=$("$BERTHD" --help)
for o in --config --check-config --foreground --pidfile --version --help; do
    like "--help documents $o" "$out" "$o"
done
"$BERTHD" --bogus >"$T/out" 2>&1
is "an unknown option exits 2" "$?" 2
like "and says what was wrong" "$(cat "$T/out")" "unrecognized option '--bogus'"

# The shipped example conf passes --check-config, with its plugins found in
# the build tree instead of the install path.
grep -v '^plugin-dir *=' "$top_srcdir/conf/berth.conf" |
    sed "s|^\[agent\]|[agent]\nplugin-dir = $PLUGIN_DIR|" >"$T/shipped.conf"
out=$("$BERTHD" --check-config --config "$T/shipped.conf" 2>&1)
is "conf/berth.conf passes --check-config" "$?" 0
is "and says ok" "$out" "$T/shipped.conf: ok"

# Daemon mode: returns once started, pidfile names the live process.
write_conf "$T/d.conf" <<EOF2
[plugin example]
interval = 200ms
status-socket = $T/d.sock
EOF2
"$BERTHD" --config "$T/d.conf" --pidfile "$T/berthd.pid" 2>"$T/d.err"
is "daemon mode exits 0 once started" "$?" 0
pid=$(cat "$T/berthd.pid" 2>/dev/null)
_pids="$_pids $pid"
ok "the pidfile names a live process" kill -0 "$pid"
ok "the daemon's plugin runs (status socket answers)" wait_for 10 status "$T/d.sock"
"$BERTHD" --config "$T/d.conf" --pidfile "$T/berthd.pid" 2>"$T/d2.err"
is "a second instance on the same pidfile refuses" "$?" 1
like "naming the holder" "$(cat "$T/d2.err")" "pidfile $T/berthd.pid is held by another berthd \(pid $pid\)"
kill -TERM "$pid"
ok "SIGTERM stops the daemon" wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
ok "and removes its pidfile" test ! -e "$T/berthd.pid"

# Detached, the log goes to syslog.  In a private /dev (a mount namespace),
# a datagram socket at /dev/log receives it; nothing on the host changes.
cat >"$T/syslog.sh" <<'EOF2'
set -e
mkdir -p "$T/olddev"
mount --bind /dev "$T/olddev"
mount -t tmpfs tmpfs /dev
for n in null zero random urandom; do
    touch "/dev/$n" && mount --bind "$T/olddev/$n" "/dev/$n"
done
python3 - "$T/syslog.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('/dev/log')
s.settimeout(20)
out = open(sys.argv[1], 'w')
open(sys.argv[1] + '.ready', 'w').close()
try:
    while True:
        m = s.recv(65536).decode()
        out.write(m + '\n')
        out.flush()
        if 'event=agent.stopped' in m:
            break
except socket.timeout:
    pass
PY
while [ ! -e "$T/syslog.out.ready" ]; do sleep 0.1; done
"$BERTHD" --config "$T/d.conf" --pidfile "$T/sl.pid"
for _ in $(seq 100); do grep -q 'event=agent.started' "$T/syslog.out" && break; sleep 0.1; done
kill -TERM "$(cat "$T/sl.pid")"
wait
EOF2
if [ "$(id -u)" -eq 0 ]; then
    T=$T BERTHD=$BERTHD unshare --mount --propagation private bash "$T/syslog.sh"
    sl=$(cat "$T/syslog.out" 2>/dev/null)
    like "the detached daemon logs to syslog (facility daemon, ident berthd)" "$sl" \
        '^<30>.* berthd\[[0-9]+\]: level=info event=agent.started '
    like "its plugins' lines too" "$sl" 'berthd\[[0-9]+\]: level=info event=example.started plugin=example'
    like "through to the orderly stop" "$sl" 'event=agent.stopped'
    unlike "without the ts= field (syslog stamps lines itself)" "$sl" ' ts='
else
    diag "not root: the syslog check needs a mount namespace"
fi

# A daemon that cannot start says why on stderr and exits non-zero.
printf '[agent]\nshutdown-timeout = soon\n' >"$T/bad.conf"
"$BERTHD" --config "$T/bad.conf" 2>"$T/bad.err"
is "daemon mode with a bad conf exits 1" "$?" 1
like "and prints the error with file and line" "$(cat "$T/bad.err")" \
    "^berthd: $T/bad.conf:2: \[agent\] shutdown-timeout: "

# Orderly stop: plugins stop in reverse conf order.
write_conf "$T/o.conf" <<EOF2
[plugin first]
file = example.so
interval = 1s

[plugin second]
file = example.so
interval = 1s

[plugin third]
file = example.so
interval = 1s
EOF2
ok "three plugins start" start_berthd "$T/o.conf"
stop_berthd
is "SIGTERM: exit 0" "$BERTHD_STATUS" 0
order=$(sed -n 's/.*event=plugin.stopped plugin=\([a-z]*\).*/\1/p' "$T/berthd.log" | tr '\n' ' ')
is "plugins stopped in reverse conf order" "$order" "third second first "
ok "the agent says it stopped" log_has 'event=agent.stopped'

# Bounded stop: a plugin waiting for a probe that cannot end in time is cut
# off at shutdown-timeout; one whose probe ends in time is waited for.  The
# probe starts at the first tick, so stopping right after it finds it in
# flight (/slow answers after 5s, /stream after 0.4s).
ok "test HTTP server starts" start_httpd
stop_during_probe() { # NAME PATH
    write_conf "$T/$1.conf" <<EOF2
[plugin $1]
file = example.so
interval = 100ms
probe-timeout = 30s
probe-url = http://127.0.0.1:$HTTPD_PORT/$2
EOF2
    sed -i 's/^shutdown-timeout = .*/shutdown-timeout = 1s/' "$T/$1.conf"
    start_berthd "$T/$1.conf" && wait_log 10 "event=example.tick plugin=$1" && stop_berthd
}
ok "agent with a slow probe starts and is stopped" stop_during_probe slow slow
is "bounded stop: exit 0" "$BERTHD_STATUS" 0
ok "the plugin asked to finish its probe" log_has 'event=example.stop.waiting plugin=slow'
ok "the deadline cut it off" log_has 'event=plugins.stop.deadline timeout_ms=1000'
ok "its transfer was cancelled by the host" log_has 'event=plugin.resources.released plugin=slow'

ok "agent with a short probe starts and is stopped" stop_during_probe fast stream
is "graceful stop: exit 0" "$BERTHD_STATUS" 0
ok "the plugin asked to finish its probe" log_has 'event=example.stop.waiting plugin=fast'
ok "the probe finished" log_has 'event=example.probe plugin=fast status=200'
ok "within the deadline" sh -c "! grep -q 'plugins.stop.deadline' '$T/berthd.log'"
ok "and only then the plugin was stopped" sh -c \
    "grep -n 'event=' '$T/berthd.log' | grep -A99 'example.probe plugin=fast' | grep -q 'plugin.stopped plugin=fast'"

done_testing
