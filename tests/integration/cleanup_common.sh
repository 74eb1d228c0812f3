# cleanup_common.sh: a stopped task's containers (on Podman its pod) stay on
# the engine for [tasks] cleanup-delay, then go; the task stays visible in
# describe-tasks with its exit codes; a new task needing their host port
# has them removed at once; a delay that ran out while berthd was down is
# acted on at start-up.  Sourced with ENGINE set (cleanup_docker.sh,
# cleanup_podman.sh).
TASKS_CONF_EXTRA="cleanup-delay = 15s"
. "$top_srcdir/tests/integration/tasks_env.sh"
case $ENGINE in
docker) RANGE=48600-48799 ;;
*) RANGE=48800-48999 ;;
esac
sed -i "s/^host-port-range = .*/host-port-range = $RANGE/" "$T/berth.conf"

# exists ID: the engine still has that container.  An empty ID is an
# error for both, so a lookup that found nothing cannot pass as "gone".
exists() {
    [ -n "$1" ] || return 2
    [ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
        "http://d/v1.41/containers/$1/json")" = 200 ]
}
gone() { [ -n "$1" ] && ! exists "$1"; }
# pods: how many pods of this cluster Podman has (0 on Docker).
pods() {
    [ "$ENGINE" = podman ] || { echo 0; return; }
    curl -s --unix-socket "$SOCK" -G "http://d/v4.0.0/libpod/pods/json" \
        --data-urlencode "filters=$(_eng_cluster_filter "$CLUSTER")" | jpath 'len(d or [])'
}
# Podman's pod is the sandbox: it outlives its containers' removal by one step.
no_pods() { [ "$(pods)" = 0 ]; }
# The task's container id, asked on the API's unix socket: the aws CLI can
# take longer than the delay on a loaded host.
runtime_id() {
    curl -s --unix-socket "$T/api.sock" -X POST \
        -H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.DescribeTasks" \
        -H 'Content-Type: application/x-amz-json-1.1' -d "{\"tasks\":[\"$1\"]}" http://berth/ |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["containers"][0].get("runtimeId",""))'
}
set_delay() { sed -i "s/^cleanup-delay = .*/cleanup-delay = $1/" "$T/berth.conf"; }

ok "berthd starts" start_berthd "$T/berth.conf" || diag "$(tail -5 "$T/berthd.log")"
ok "it lists the engine" wait_log 30 'event=tasks.reconciled'

cat >"$T/exit3.json" <<'EOF2'
{"family": "cleanup", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "portMappings": [{"containerPort": 8080, "hostPort": 0}],
   "command": ["sh", "-c", "sleep 1; exit 3"]}]}
EOF2
register "$T/exit3.json" >/dev/null
A=$(run cleanup)
# The log, not the (slow) aws CLI, says when it stopped: the containers
# are looked at well within the delay.
ok "a task whose container exits 3 stops" \
    wait_log 600 "event=task.status task=${A##*/} family=cleanup from=DEPROVISIONING to=STOPPED"
ID=$(runtime_id "$A")
ok "its container is still on the engine once the task is STOPPED" exists "$ID"
[ "$ENGINE" = podman ] && is "... and so is its pod" "$(pods)" 1
ok "the container is removed after the 15 s delay" wait_for 600 gone "$ID"
[ "$ENGINE" = podman ] && ok "... and its pod" wait_for 50 no_pods
ok "berthd logged the cleanup" log_has "event=task.cleaned task=${A##*/}"
is "describe-tasks still shows the task and its exit code" \
    "$(task_field "$A" 'd["lastStatus"], d["containers"][0]["exitCode"]')" "STOPPED 3"
is "... and the same container id" "$(runtime_id "$A")" "$ID"

# A long delay: a new task needing the port has the old containers removed.
stop_berthd
set_delay 1h
ok "berthd restarts with cleanup-delay = 1h" start_berthd "$T/berth.conf"
ok "it lists the engine" wait_log 30 'event=tasks.reconciled'
HP=$(free_port)
cat >"$T/web.json" <<EOF2
{"family": "cleanweb", "containerDefinitions": [
  {"name": "web", "image": "berth-test/busybox:1", "memory": 32,
   "portMappings": [{"containerPort": 8080, "hostPort": $HP}],
   "command": ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]}]}
EOF2
register "$T/web.json" >/dev/null
B=$(run cleanweb)
ok "a task publishing static host port $HP runs" wait_for 100 task_is "$B" RUNNING
BID=$(runtime_id "$B")
ecs stop-task --task "$B" >/dev/null
ok "it stops" wait_for 100 task_is "$B" STOPPED
ok "its container stays (delay 1h)" exists "$BID"
[ "$ENGINE" = podman ] && is "... and its pod" "$(pods)" 1
C=$(run cleanweb)
ok "a new task on the same host port reaches RUNNING" wait_for 150 task_is "$C" RUNNING ||
    diag "$(task_field "$C" 'd.get("stoppedReason")')"
ok "the old task's container was removed for it" gone "$BID"
ok "berthd said why" log_has "event=task.cleanup_early task=${B##*/} for=${C##*/}"
is "the new task serves on port $HP" "$(curl -s --max-time 5 "http://127.0.0.1:$HP/")" \
    "berth-test busybox"
is "the old task is still visible" "$(task_field "$B" 'd["lastStatus"]')" STOPPED

# The delay runs out while berthd is down: cleaned at start-up.
ecs stop-task --task "$C" >/dev/null
ok "the new task stops" wait_for 100 task_is "$C" STOPPED
CID=$(runtime_id "$C")
ok "its container stays (delay 1h)" exists "$CID"
stop_berthd
set_delay 2s
sleep 3 # the 2 s delay runs out while no agent runs
ok "berthd restarts with cleanup-delay = 2s" start_berthd "$T/berth.conf"
ok "the container whose delay ran out is removed at start-up" wait_for 100 gone "$CID"
[ "$ENGINE" = podman ] && ok "... and its pod" wait_for 50 no_pods
is "the task is still visible after the restart, with its exit code" \
    "$(task_field "$C" 'd["lastStatus"], d["containers"][0]["exitCode"] is not None')" \
    "STOPPED True"
stop_berthd
is "berthd exits 0" "$BERTHD_STATUS" 0
done_testing
