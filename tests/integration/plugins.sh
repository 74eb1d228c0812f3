#!/bin/bash
# The example plugin through a real agent: host timers, HTTP over TCP and a
# unix socket (against a real server), name lookups, events, metrics into
# the sink; and an ABI 1.0 plugin accepted at start.
. "$top_srcdir/tests/lib/functions.sh"
requires python3

ok "test HTTP server starts" start_httpd
write_conf "$T/berth.conf" <<EOF2
[plugin tcp]
file = example.so
interval = 200ms
probe-url = http://127.0.0.1:$HTTPD_PORT/hello
lookup = localhost
status-socket = $T/tcp.sock
output = $T/metrics.out

[plugin unix]
file = example.so
interval = 200ms
probe-url = http://localhost/status/204
probe-socket = $HTTPD_SOCK
status-socket = $T/unix.sock

[plugin old]
file = $TEST_PLUGINS/old_minor.so
trace = $T/old.trace
EOF2
ok "berthd starts with three plugins" start_berthd "$T/berth.conf"
ok "the ABI 1.0 plugin is accepted" log_has 'event=plugin.started plugin=old .*abi=1.0'
ok "it sees the host's ABI" log_has 'event=old_minor.init plugin=old host_abi=1.4'

ok "probes over TCP succeed" wait_for 15 status_ge "$T/tcp.sock" probes_ok 2
is "TCP probe status" "$(field "$(status "$T/tcp.sock")" last_status)" 200
ok "probes over the unix socket succeed" wait_for 15 status_ge "$T/unix.sock" probes_ok 2
is "unix socket probe status" "$(field "$(status "$T/unix.sock")" last_status)" 204
is "the lookup resolved localhost" "$(field "$(status "$T/tcp.sock")" address)" 127.0.0.1
ok "events from the agent and the other plugin arrive" \
    test "$(field "$(status "$T/tcp.sock")" events_seen)" -ge 3
ok "the sink received exported metrics" wait_for 10 grep -q '^example_ticks_total{plugin="example"}' "$T/metrics.out"
ok "including the agent's own" grep -q '^berth_build_info{version="' "$T/metrics.out"
ok "and the probe gauge" grep -q '^example_probe_status{} 20[04]' "$T/metrics.out"

stop_berthd
is "clean exit" "$BERTHD_STATUS" 0
# The first init/destroy is the trial load in a child process.
is "the 1.0 plugin went through a trial, then its whole lifecycle" \
    "$(tr '\n' ' ' <"$T/old.trace")" "init destroy init start stop destroy "

write_conf "$T/fail.conf" <<EOF2
[plugin broken]
file = example.so
interval = 200ms
probe-url = http://localhost/hello
probe-socket = $T/nothing.sock
status-socket = $T/broken.sock
EOF2
ok "berthd starts with a probe to a missing socket" start_berthd "$T/fail.conf"
ok "the failure is logged with the socket's path" \
    wait_log 10 "event=example.probe.failed plugin=broken error=\".*$T/nothing.sock"
ok "and counted" status_ge "$T/broken.sock" probes_failed 1
stop_berthd
is "clean exit" "$BERTHD_STATUS" 0

done_testing
