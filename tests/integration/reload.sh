#!/bin/bash
# SIGHUP: a bad conf is refused and the running one stays in force; options
# are applied in place (1.1 reconfigure) or by a restart (1.0 plugins);
# plugins are added and removed; a crashing new plugin changes nothing.
. "$top_srcdir/tests/lib/functions.sh"
requires python3

S="$T/status.sock"
base() {
    write_conf "$T/berth.conf" <<EOF2
[plugin example]
interval = ${1:-200ms}
status-socket = $S
${2:-}
EOF2
}
base 200ms
ok "berthd starts" start_berthd "$T/berth.conf"
ok "the example plugin answers" wait_for 10 status "$S"
ticks() { field "$(status "$S")" ticks; }
ok "it ticks" wait_for 10 status_ge "$S" ticks 2

# A bad conf: refused with its errors, nothing changes.
cp "$T/berth.conf" "$T/good.conf"
printf '[agent\nbogus\n' >>"$T/berth.conf"
t0=$(ticks)
ok "SIGHUP with a broken conf is answered" reload
ok "the reload is refused, naming file and line" \
    log_has "event=reload.refused error=\"$T/berth.conf:[0-9]+: .*missing '\]'"
ok "the agent keeps running" kill -0 "$BERTHD_PID"
ok "the plugin keeps running (ticks go on)" wait_for 10 status_ge "$S" ticks $((t0 + 1))

# A changed option: applied in place, the plugin is not restarted.
base 300ms
t1=$(ticks)
ok "SIGHUP with a new interval" reload
ok "the plugin is reconfigured, not restarted" log_has 'event=plugin.reconfigured plugin=example'
is "the new interval is in force" "$(field "$(status "$S")" interval_ms)" 300
t2=$(ticks)
ok "its state survived (ticks did not restart: $t1 -> $t2)" test "$t2" -ge "$t1"
unlike "it was not started again" "$(grep -c 'event=plugin.started plugin=example' "$T/berthd.log")" '^[2-9]'

# A reconfigure the plugin refuses (its new socket cannot be opened): the
# old config stays in force and the plugin keeps serving.
write_conf "$T/berth.conf" <<EOF2
[plugin example]
interval = 400ms
status-socket = $T/no/such/dir/status.sock
EOF2
ok "SIGHUP with a status socket that cannot be opened" reload
ok "the plugin's refusal is logged with its reason" \
    log_has "event=reload.plugin.failed error=\"$T/berth.conf:[0-9]+: \[plugin example\] reconfigure failed: status-socket $T/no/such/dir/status.sock: No such file or directory"
ok "the old socket still answers" wait_for 5 status "$S"
is "with the old interval" "$(field "$(status "$S")" interval_ms)" 300
ok "and it still ticks" wait_for 10 status_ge "$S" ticks $(( $(ticks) + 1 ))
base 300ms

# An unchanged conf: nothing happens.
ok "SIGHUP with the conf as it was" reload
ok "SIGHUP with the same conf" reload
like "nothing added, restarted or reconfigured" "$(grep 'event=reload.done' "$T/berthd.log" | tail -1)" \
    'added=0 restarted=0 reconfigured=0 failed=0'

# Add an ABI 1.0 plugin, then change its option: it has no reconfigure, so
# it is restarted.
base 300ms "
[plugin old]
file = $TEST_PLUGINS/old_minor.so
trace = $T/old.trace"
ok "SIGHUP adding a 1.0 plugin" reload
ok "it is started" log_has 'event=plugin.started plugin=old name=old_minor version=1 kind=extension abi=1.0'
base 300ms "
[plugin old]
file = $TEST_PLUGINS/old_minor.so
trace = $T/old2.trace"
ok "SIGHUP changing its option" reload
# Each start is preceded by a trial init/destroy in a child process.
is "it is restarted (stopped, then started)" "$(tr '\n' ' ' <"$T/old.trace")" \
    "init destroy init start stop destroy "
is "the new instance runs with the new option" "$(tr '\n' ' ' <"$T/old2.trace")" "init destroy init start "
like "the reload counts one restart" "$(grep 'event=reload.done' "$T/berthd.log" | tail -1)" 'restarted=1'

# A crashing new plugin: refused, and everything running stays.
cp "$T/berth.conf" "$T/before-crash.conf"
printf '\n[plugin crashes]\nfile = %s\n' "$TEST_PLUGINS/init_crashes.so" >>"$T/berth.conf"
ok "SIGHUP adding a plugin that crashes in init" reload
ok "refused with the crash named" log_has 'event=reload.refused error=".*\[plugin crashes\] crashed in init \(signal 11'
ok "the agent is alive" kill -0 "$BERTHD_PID"
ok "the old plugins still run" wait_for 5 status "$S"
is "the 1.0 plugin was not touched" "$(tr '\n' ' ' <"$T/old2.trace")" "init destroy init start "

# Remove a plugin.
base 300ms
ok "SIGHUP removing the 1.0 plugin" reload
is "it is stopped and destroyed" "$(tr '\n' ' ' <"$T/old2.trace")" "init destroy init start stop destroy "
ok "the example plugin still answers" wait_for 5 status "$S"

stop_berthd
is "clean exit after the reloads" "$BERTHD_STATUS" 0
done_testing
