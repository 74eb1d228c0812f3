# overrides_common.sh: RunTask's overrides on a real engine ($ENGINE: docker
# or podman, set by overrides_docker.sh / overrides_podman.sh) through
# Debian's aws CLI: the container runs the overridden command, environment
# and memory; describe-tasks shows them as ECS does, also after kill -9 and
# a restart of berthd; a bad container name is refused at its path.  The
# container is read through the Docker API, which Podman also answers.
. "$top_srcdir/tests/integration/tasks_env.sh"
case $ENGINE in
docker) RANGE=48000-48499 ;;
*) RANGE=48500-48999 ;;
esac
sed -i "s/^host-port-range = .*/host-port-range = $RANGE/" "$T/berth.conf"

ok "berthd starts" start_berthd "$T/berth.conf" || diag "$(tail -5 "$T/berthd.log")"
ok "it lists the engine" wait_log 30 'event=tasks.reconciled'

cat >"$T/ov.json" <<'EOF2'
{"family": "ovr", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 64,
   "command": ["sh", "-c", "echo definition-command; sleep 600"],
   "environment": [{"name": "A", "value": "def-a"}, {"name": "B", "value": "def-b"}]},
  {"name": "side", "image": "berth-test/busybox:1", "memory": 32, "essential": false,
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}]}
EOF2
register "$T/ov.json" >/dev/null
cat >"$T/overrides.json" <<'EOF2'
{"containerOverrides": [
  {"name": "main",
   "command": ["sh", "-c", "echo \"A=$A B=$B C=$C\"; trap 'exit 0' TERM; sleep 600 & wait"],
   "environment": [{"name": "B", "value": "over-b"}, {"name": "C", "value": "new-c"}],
   "memory": 96}],
 "taskRoleArn": "arn:aws:iam::000000000000:role/app"}
EOF2
out=$(ecs run-task --task-definition ovr --overrides "file://$T/overrides.json")
TASK=$(printf '%s' "$out" | jpath 'd["tasks"][0]["taskArn"]' 2>/dev/null)
if ! like "run-task with overrides answers with a task" "$TASK" \
    "^arn:aws:ecs:local:000000000000:task/$CLUSTER/[0-9a-f]{32}$"; then
    diag "$out"
    stop_berthd
    done_testing
    exit 1
fi
ok "the task reaches RUNNING" wait_for 60 task_is "$TASK" RUNNING
ok "taskRoleArn is logged as ignored" \
    log_has 'event=api.task.ignored action=RunTask .*overrides.taskRoleArn: ignored'

ID=$(task_field "$TASK" '[c for c in d["containers"] if c["name"]=="main"][0]["runtimeId"]')
inspect() { # PYTHON-EXPR over the container's inspect document d
    curl -s --unix-socket "$SOCK" "http://d/v1.41/containers/$ID/json" | jpath "$1"
}
is "the container runs the overridden command" "$(inspect 'json.dumps(d["Config"]["Cmd"])')" \
    "$(jpath 'json.dumps(d["containerOverrides"][0]["command"])' <"$T/overrides.json")"
is "its environment: kept, overridden and added" \
    "$(inspect '" ".join(sorted(e for e in d["Config"]["Env"] if e[:2] in ("A=","B=","C=")))')" \
    "A=def-a B=over-b C=new-c"
is "its memory limit is the override's (96 MiB)" "$(inspect 'd["HostConfig"]["Memory"]')" \
    $((96 * 1024 * 1024))
logs() { curl -s --unix-socket "$SOCK" "http://d/v1.41/containers/$ID/logs?stdout=1&stderr=1" | tr -d '\000-\010'; }
printed() { logs | grep -q 'A=def-a B=over-b C=new-c'; }
ok "it printed the merged environment" wait_for 20 printed

shown() { task_field "$TASK" 'json.dumps(d["overrides"], sort_keys=True)'; }
WANT=$(python3 -c 'import json
print(json.dumps({"containerOverrides": [
  {"name": "main",
   "command": ["sh", "-c", "echo \"A=$A B=$B C=$C\"; trap '"'"'exit 0'"'"' TERM; sleep 600 & wait"],
   "environment": [{"name": "B", "value": "over-b"}, {"name": "C", "value": "new-c"}],
   "memory": 96},
  {"name": "side"}],
 "taskRoleArn": "arn:aws:iam::000000000000:role/app",
 "inferenceAcceleratorOverrides": []}, sort_keys=True))')
is "describe-tasks shows the overrides, every container by name" "$(shown)" "$WANT"

bad=$(ecs run-task --task-definition ovr --overrides \
    '{"containerOverrides":[{"name":"main"},{"name":"nope","memory":8}]}')
like "an override naming no container of the definition is refused" "$bad" \
    'InvalidParameterException'
like "... at its path" "$bad" 'overrides\.containerOverrides\[1\]\.name: no container named "nope"'
bad=$(ecs run-task --task-definition ovr --overrides \
    '{"containerOverrides":[{"name":"main","memoryReservation":100}]}')
like "a merged definition breaking its rules is refused at the override's path" "$bad" \
    'overrides\.containerOverrides\[0\]\.memoryReservation: must be less than memory \(64 MiB\)'
big=$(ecs run-task --task-definition ovr --overrides \
    '{"containerOverrides":[{"name":"main","memory":100000000}]}')
is "placement counts the overridden memory: RESOURCE:MEMORY" \
    "$(printf '%s' "$big" | jpath 'd["failures"][0]["reason"]' 2>&1)" RESOURCE:MEMORY ||
    diag "$big"
is "nothing was started for the refused requests" \
    "$(ecs list-tasks | jpath 'len(d["taskArns"])')" 1

kill -9 "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null
ok "berthd restarts after kill -9" start_berthd "$T/berth.conf"
ok "and re-lists the engine" wait_log 30 'event=tasks.reconciled'
ok "the task is RUNNING again" wait_for 60 task_is "$TASK" RUNNING
is "the same container was adopted" \
    "$(task_field "$TASK" '[c for c in d["containers"] if c["name"]=="main"][0]["runtimeId"]')" "$ID"
is "describe-tasks still shows the overrides" "$(shown)" "$WANT"

ecs stop-task --task "$TASK" >/dev/null
ok "the task stops" wait_for 60 task_is "$TASK" STOPPED
stop_berthd
is "berthd exits 0" "$BERTHD_STATUS" 0
done_testing
