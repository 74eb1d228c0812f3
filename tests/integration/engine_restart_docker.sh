# engine_restart_docker.sh: dockerd restarts under a running berthd.  Its
# containers stop with it (no live-restore): berthd reconnects, lists the
# engine, sees the tasks STOPPED with a reason saying the engine went away,
# and the service replaces its task.  The engine is a private dockerd (own
# socket, data root, exec root, bridge), never the shared one.
ENGINE=docker
. "$top_srcdir/tests/integration/tasks_env.sh"
requires ip

PRIVATE_BR=brd$$
PRIVATE_NET=10.213.$((RANDOM % 200 + 20))
PRIVATE_PORTS=47000-47199
. "$top_srcdir/tests/lib/private_dockerd.sh"

reconciled() { grep -c 'event=tasks.reconciled' "$T/berthd.log"; }
listed() { [ "$(reconciled)" -ge "$1" ]; }
ok "berthd starts on the private dockerd" start_berthd "$T/berth.conf" ||
    diag "$(tail -5 "$T/berthd.log")"
ok "it lists the engine" wait_for 300 listed 1

cat >"$T/loop.json" <<'EOF2'
{"family": "loop", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32, "stopTimeout": 2,
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}]}
EOF2
register "$T/loop.json" >/dev/null
A=$(run loop)
ok "a task runs" wait_for 150 task_is "$A" RUNNING
ecs create-service --service-name svc --task-definition loop --desired-count 1 >/dev/null
svc_task() { ecs list-tasks --service-name svc --desired-status RUNNING | jpath '" ".join(d["taskArns"])'; }
svc_running() { s=$(svc_task) && [ -n "$s" ] && [ "${s#* }" = "$s" ] && task_is "$s" RUNNING; }
ok "a service's task runs" wait_for 200 svc_running
S1=$(svc_task)

ok "the private dockerd stops (and its containers with it)" private_dockerd_stop "$PD"
ok "berthd sees the engine down" wait_log 100 'event=tasks.engine_down'
ok "the agent keeps going while the engine is down" kill -0 "$BERTHD_PID"
ok "the private dockerd starts again" private_dockerd_start "$PD" "$BR" "$CIDR"
ok "berthd reconnects and lists it again" wait_for 300 listed 2
ok "the task is seen STOPPED" wait_for 150 task_is "$A" STOPPED
# The exits come as events just before the stream breaks (the engine was
# stopping) or are found by the listing after (it was unreachable).
like "with a reason saying the engine went away" "$(task_field "$A" 'd["stoppedReason"]')" \
    'Essential container in task exited while the engine was (stopping|unreachable)$'
like "and the container's reason too" "$(task_field "$A" 'd["containers"][0].get("reason")')" \
    '^Exited while the engine was (stopping|unreachable)'
is "the container's exit code is recorded" \
    "$(task_field "$A" 'd["containers"][0].get("exitCode") is not None')" True
ok "the service's old task is STOPPED" wait_for 150 task_is "$S1" STOPPED
replaced() { s=$(svc_task) && [ -n "$s" ] && [ "$s" != "$S1" ] && task_is "$s" RUNNING; }
ok "the service replaced it with a new RUNNING task" wait_for 300 replaced
is "exactly one container of the service runs on the engine" "$(cluster_running "$SOCK" "$CLUSTER" loop)" 1

ecs update-service --service svc --desired-count 0 >/dev/null
ecs delete-service --service svc >/dev/null
stop_berthd
is "berthd exits 0" "$BERTHD_STATUS" 0
done_testing
