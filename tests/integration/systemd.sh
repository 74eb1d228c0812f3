#!/bin/bash
# The systemd unit and the notify protocol behind Type=notify: the unit
# passes `systemd-analyze verify`, and berthd tells a real NOTIFY_SOCKET
# READY=1 once started, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on
# SIGTERM.  The unit under a real systemd as PID 1 (start, reload,
# restart, sandbox) is package.sh's last part: it needs the installed package.
. "$top_srcdir/tests/lib/functions.sh"
requires systemd-analyze
requires python3

unit="$top_builddir/conf/berthd.service"
ok "the unit is generated" test -s "$unit"
unlike "with every @VAR@ replaced" "$(cat "$unit")" '@[a-z]+@'
start=$(sed -n 's/^ExecStart=//p' "$unit")
like "it runs berthd in the foreground with the installed conf" "$start" \
    '^/.*/sbin/berthd --foreground --config /.*/berth/berth\.conf$'
like "it is Type=notify" "$(cat "$unit")" '^Type=notify$'

# verify checks that the binaries exist: point them at the build.
installed=${start%% *}
sed "s|$installed|$BERTHD|g" "$unit" >"$T/berthd.service"
out=$(cd "$T" && systemd-analyze verify --man=no "$T/berthd.service" 2>&1)
is "systemd-analyze verify finds nothing to say" "$out" ""

# The notify protocol, on a datagram socket of our own.
cat >"$T/listen.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], 'w') as out:
    try:
        while True:
            m = s.recv(4096).decode()
            out.write(m.replace('\n', ' ') + '\n')
            out.flush()
            if 'STOPPING=1' in m:
                break
    except socket.timeout:
        pass
PY
start_bg notify python3 "$T/listen.py" "$T/notify.sock" "$T/notify.out"
ok "listener ready" wait_for 10 test -S "$T/notify.sock"
write_conf "$T/berth.conf" <<EOF2
[plugin example]
interval = 1s
EOF2
export NOTIFY_SOCKET="$T/notify.sock"
ok "berthd starts" start_berthd "$T/berth.conf"
ok "READY=1 once started" wait_for 10 grep -qx 'READY=1' "$T/notify.out"
ok "SIGHUP is answered" reload
ok "RELOADING=1, then READY=1 again" wait_for 10 sh -c \
    "[ \"\$(tr '\n' ' ' <'$T/notify.out')\" = 'READY=1 RELOADING=1 READY=1 ' ]"
stop_berthd
is "clean exit" "$BERTHD_STATUS" 0
ok "STOPPING=1 on SIGTERM" wait_for 10 grep -qx 'STOPPING=1' "$T/notify.out"
is "the whole conversation" "$(tr '\n' ' ' <"$T/notify.out")" \
    "READY=1 RELOADING=1 READY=1 STOPPING=1 "
unset NOTIFY_SOCKET

done_testing
