# engine_restart_podman.sh: the podman service restarts under a running
# berthd.  Its containers live on under conmon: berthd reconnects, the
# running task stays RUNNING with the same container (not started twice),
# and a container that exited while the service was down is noticed and
# its task stopped with a reason saying so.  The service is a private one
# on its own socket (podman's storage is shared: this test's containers
# carry its own cluster label), never the shared service.
ENGINE=podman
. "$top_srcdir/tests/integration/tasks_env.sh"

PP=$T/podman
cleanup_private() { private_podman_stop "$PP"; }
on_exit cleanup_private
ok "a private podman service starts" private_podman_start "$PP" || {
    done_testing
    exit 1
}
PSOCK=$PP/podman.sock
sed -i "s|^socket = $SOCK\$|socket = $PSOCK|" "$T/berth.conf"
sed -i "s/^host-port-range = .*/host-port-range = 47200-47399/" "$T/berth.conf"
ok "berthd's conf names the private socket" grep -q "^socket = $PSOCK\$" "$T/berth.conf"

reconciled() { grep -c 'event=tasks.reconciled' "$T/berthd.log"; }
listed() { [ "$(reconciled)" -ge "$1" ]; }
ok "berthd starts on the private podman service" start_berthd "$T/berth.conf" ||
    diag "$(tail -5 "$T/berthd.log")"
ok "it lists the engine" wait_for 300 listed 1

cat >"$T/loop.json" <<'EOF2'
{"family": "loop", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32, "stopTimeout": 2,
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}]}
EOF2
register "$T/loop.json" >/dev/null
A=$(run loop)
B=$(run loop)
ok "task A runs" wait_for 150 task_is "$A" RUNNING
ok "task B runs" wait_for 150 task_is "$B" RUNNING
AID=$(task_field "$A" 'd["containers"][0]["runtimeId"]')
BID=$(task_field "$B" 'd["containers"][0]["runtimeId"]')
started() { podman inspect --format '{{.State.StartedAt}} {{.RestartCount}}' "$1" 2>/dev/null; }
A_STARTED=$(started "$AID")

ok "the private podman service stops" private_podman_stop "$PP"
ok "berthd sees the engine down" wait_log 100 'event=tasks.engine_down'
is "A's container lives on under conmon" "$(podman inspect --format '{{.State.Status}}' "$AID")" running
ok "B's container is killed while the service is down" podman kill "$BID"
ok "the private podman service starts again" private_podman_start "$PP"
ok "berthd reconnects and lists it again" wait_for 300 listed 2
ok "B, whose container exited meanwhile, is STOPPED" wait_for 150 task_is "$B" STOPPED
is "with its exit code (137: SIGKILL)" "$(task_field "$B" 'd["containers"][0].get("exitCode")')" 137
like "and a reason saying it exited while the engine was away" \
    "$(task_field "$B" 'd["stoppedReason"]')" \
    'Essential container in task exited while the engine was unreachable'
is "A is still RUNNING" "$(task_field "$A" 'd["lastStatus"]')" RUNNING
is "with the same container" "$(task_field "$A" 'd["containers"][0]["runtimeId"]')" "$AID"
is "not started again (same start time, no restart)" "$(started "$AID")" "$A_STARTED"
is "exactly one container of the test runs" "$(cluster_running podman "$CLUSTER" loop)" 1
ok "A still stops cleanly through the restarted service" ecs stop-task --task "$A"
ok "A is STOPPED" wait_for 150 task_is "$A" STOPPED
stop_berthd
is "berthd exits 0" "$BERTHD_STATUS" 0
done_testing
