# taskfields_common.sh: every task-definition field that acts on one host,
# proven at task level on a real engine: registered and run through the
# ECS API with Debian's aws CLI, the effect checked inside the container
# (through files it writes on a host bind mount), on the engine (its
# inspect, logs and volumes) or from the host (ports).  Sourced by
# taskfields_docker.sh and taskfields_podman.sh with ENGINE set.
#
# stopTimeout (SIGKILL after it, exit 137) is proven by tasks_common.sh.
#
# A task-scoped volume goes with its task's containers, which [tasks]
# cleanup-delay keeps for 3 h by default (as ECS does): here they go at once,
# so the volume's end is seen when the task stops (cleanup_*.sh test the
# delay itself).
TASKS_CONF_EXTRA="cleanup-delay = 0s"
. "$top_srcdir/tests/integration/tasks_env.sh"

# Debian's aws CLI predates restartPolicy: those definitions go as a
# signed request of curl's own (SigV4, like the CLI).
api() { # ACTION JSON-FILE
    curl -s --aws-sigv4 "aws:amz:local:ecs" --user "AKIDTASKS:tasks/secret" \
        -H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.$1" \
        -H 'Content-Type: application/x-amz-json-1.1' \
        --data-binary "@$2" "http://127.0.0.1:$PORT/"
}
# The compat API answers the same inspect on both engines.
inspect() { # ID EXPR (d is the container)
    curl -s --unix-socket "$SOCK" "http://d/v1.41/containers/$1/json" |
        python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"
}
volume_exists() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "http://d/v1.41/volumes/$1")" = 200 ]
}
rid() { task_field "$1" "d['containers'][$2]['runtimeId']"; }
has_file() { [ -s "$T/out/$1" ]; }
out() { cat "$T/out/$1" 2>/dev/null; }
engine_logs() { "$ENGINE" logs "$1" 2>&1; }
# A free port of the test's range, away from the dynamic ones the agent
# hands out from its bottom.
fixed_port() {
    python3 -c 'import random, socket
for p in random.sample(range(41500, 42000), 500):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass'
}
# wait_for counts polls, and an aws call takes seconds on a busy host:
# these waits count seconds.
wait_for() {
    _end=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$_end" ] || return 1
        sleep 0.2
    done
}
# register, saying why when the definition is refused.
register() {
    _r=$(ecs register-task-definition --cli-input-json "file://$1")
    printf '%s' "$_r" | jpath 'd["taskDefinition"]["taskDefinitionArn"]' 2>/dev/null ||
        diag "$1 refused: $_r" >&2
}
SHARED_VOL=berth-shared-$CLUSTER
cleanup_volumes() {
    for v in "$SHARED_VOL" "$SHARED_VOL-absent"; do
        curl -s -X DELETE --unix-socket "$SOCK" "http://d/v1.41/volumes/$v?force=1" >/dev/null
    done
}
on_exit cleanup_volumes

mkdir -p "$T/out" "$T/ro"
chmod 777 "$T/out"

ok "berthd starts with the $ENGINE plugin" start_berthd "$T/berth.conf"
ok "it lists the engine" wait_log 30 'event=tasks.reconciled'

# --- restartPolicy first: a restart needs the container to have run for
#     restartAttemptPeriod (60 s at least), so these run while the rest is
#     checked.  They run 72 s: the agent times a run from the start's answer
#     to the exit's event, which a loaded host can shorten by seconds.  ECS: "a container can be restarted only once every
#     restartAttemptPeriod seconds; if it exits early, it is not restarted."
restart_def() { # FAMILY COMMAND IGNORED-CODES
    cat >"$T/$1.json" <<EOF2
{"family": "$1", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "$2"],
   "restartPolicy": {"enabled": true, "ignoredExitCodes": [$3], "restartAttemptPeriod": 60}}]}
EOF2
    api RegisterTaskDefinition "$T/$1.json" | jpath 'd["taskDefinition"]["taskDefinitionArn"]'
}
like "a definition with restartPolicy registers" "$(restart_def again 'sleep 72; exit 1' 5)" "task-definition/again:1$"
restart_def ignored 'sleep 72; exit 5' 5 >/dev/null
restart_def early 'sleep 1; exit 1' 5 >/dev/null
AGAIN=$(run again)
IGNORED=$(run ignored)
EARLY=$(run early)
ok "the three restartPolicy tasks run" wait_for 300 task_is "$AGAIN" RUNNING
AGAIN_ID=$(rid "$AGAIN" 0)
AGAIN_STARTED=$(inspect "$AGAIN_ID" 'd["State"]["StartedAt"]')

# --- One task, most container fields: volumes of every kind, ulimits, an
#     init process, user, workingDirectory, entryPoint + command, cpu / memory /
#     memoryReservation, dockerLabels, logConfiguration json-file.
cat >"$T/fields.json" <<EOF2
{"family": "fields",
 "volumes": [{"name": "hostdir", "host": {"sourcePath": "$T/out"}},
             {"name": "rodir", "host": {"sourcePath": "$T/ro"}},
             {"name": "data", "dockerVolumeConfiguration": {"scope": "task"}},
             {"name": "scratch"},
             {"name": "keep", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": true}}],
 "containerDefinitions": [
  {"name": "probe", "image": "berth-test/busybox:1",
   "cpu": 256, "memory": 64, "memoryReservation": 32,
   "entryPoint": ["sh", "-c"],
   "command": ["ulimit -n >/out/nofile; ulimit -Hn >/out/nofile_hard; tr '\\\\0' ' ' </proc/1/cmdline >/out/pid1; pwd >/out/pwd; id -u >/out/uid; if echo x >/ro/w; then echo written >/out/ro; else echo refused >/out/ro; fi; echo shared >/data/f; echo s >/scratch/f && echo ok >/out/scratch; echo kept >/keep/f; echo log-line-probe; exec sleep 1000"],
   "workingDirectory": "/tmp",
   "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 2048}],
   "linuxParameters": {"initProcessEnabled": true},
   "dockerLabels": {"org.berth.test": "fields"},
   "logConfiguration": {"logDriver": "json-file"},
   "mountPoints": [{"sourceVolume": "hostdir", "containerPath": "/out"},
                   {"sourceVolume": "rodir", "containerPath": "/ro", "readOnly": true},
                   {"sourceVolume": "data", "containerPath": "/data"},
                   {"sourceVolume": "scratch", "containerPath": "/scratch"},
                   {"sourceVolume": "keep", "containerPath": "/keep"}]},
  {"name": "peer", "image": "berth-test/busybox:1", "memory": 32, "essential": false,
   "user": "nobody",
   "command": ["sh", "-c", "id -u >/out/peer_uid; while [ ! -f /data/f ]; do sleep 1; done; cat /data/f >/out/peer_data; exec sleep 1000"],
   "mountPoints": [{"sourceVolume": "hostdir", "containerPath": "/out"},
                   {"sourceVolume": "data", "containerPath": "/data", "readOnly": true}]}]}
EOF2
sed -i "s/\"name\": \"keep\"/\"name\": \"$SHARED_VOL\"/; s/\"sourceVolume\": \"keep\"/\"sourceVolume\": \"$SHARED_VOL\"/" "$T/fields.json"
register "$T/fields.json" >/dev/null
FIELDS=$(run fields)
ok "the fields task reaches RUNNING" wait_for 60 task_is "$FIELDS" RUNNING
ok "its probe wrote its findings" wait_for 30 has_file peer_data
PROBE=$(rid "$FIELDS" 0)
PEER=$(rid "$FIELDS" 1)
is "ulimits: nofile soft inside" "$(out nofile)" 1024
is "ulimits: nofile hard inside" "$(out nofile_hard)" 2048
like "initProcessEnabled: PID 1 is the engine's init, running the command" "$(out pid1)" \
    "^(/sbin/docker-init|/run/podman-init|/usr/libexec/podman/catatonit|catatonit)[^ ]* -- sh -c "
is "workingDirectory" "$(out pwd)" /tmp
is "no user: root" "$(out uid)" 0
is "user nobody" "$(out peer_uid)" 65534
is "host volume: written inside, seen on the host" "$(out scratch)" ok
is "readOnly host volume: the write is refused" "$(out ro)" refused
ok "and nothing was written there" test ! -e "$T/ro/w"
is "a task-scoped docker volume is shared by the task's two containers" "$(out peer_data)" shared
DATA_VOL=berth-${FIELDS##*/}-data
ok "it exists on the engine as $DATA_VOL" volume_exists "$DATA_VOL"
ok "a volume with a plain name exists on the engine too" volume_exists "berth-${FIELDS##*/}-scratch"
ok "a shared volume with autoprovision is created under its own name" volume_exists "$SHARED_VOL"
is "entryPoint and command" "$(inspect "$PROBE" '" ".join(d["Config"]["Entrypoint"])+" | "+d["Config"]["Cmd"][0][:9]')" \
    "sh -c | ulimit -n"
is "cpu: 256 CPU shares" "$(inspect "$PROBE" 'd["HostConfig"]["CpuShares"]')" 256
is "memory: a 64 MiB limit" "$(inspect "$PROBE" 'd["HostConfig"]["Memory"]')" $((64 << 20))
is "memoryReservation: a 32 MiB soft limit" "$(inspect "$PROBE" 'd["HostConfig"]["MemoryReservation"]')" $((32 << 20))
is "dockerLabels on the container, next to ECS's" \
    "$(inspect "$PROBE" 'd["Config"]["Labels"]["org.berth.test"]+" "+d["Config"]["Labels"]["com.amazonaws.ecs.container-name"]')" \
    "fields probe"
like "logConfiguration json-file: the engine's driver" "$(inspect "$PROBE" 'd["HostConfig"]["LogConfig"]["Type"]')" \
    "^(json-file|k8s-file)$"
like "and its logs show the output" "$(engine_logs "$PROBE")" "log-line-probe"

ecs stop-task --task "$FIELDS" >/dev/null
ok "the fields task stops" wait_for 60 task_is "$FIELDS" STOPPED
ok "its task-scoped volume is destroyed with its containers (ECS: scope task)" \
    wait_for 60 eval "! volume_exists $DATA_VOL"
ok "so is the plain-named one" wait_for 60 eval "! volume_exists berth-${FIELDS##*/}-scratch"
ok "the shared volume outlives the task" volume_exists "$SHARED_VOL"

# A shared volume without autoprovision must exist already.
cat >"$T/absent.json" <<EOF2
{"family": "absent",
 "volumes": [{"name": "$SHARED_VOL-absent", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": false}}],
 "containerDefinitions": [{"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sleep", "1000"],
   "mountPoints": [{"sourceVolume": "$SHARED_VOL-absent", "containerPath": "/v"}]}]}
EOF2
register "$T/absent.json" >/dev/null
ABSENT=$(run absent)
ok "a shared volume that does not exist, without autoprovision: the task stops" \
    wait_for 60 task_is "$ABSENT" STOPPED
like "with a reason naming the volume" "$(task_field "$ABSENT" 'd["stoppedReason"]')" "$SHARED_VOL-absent"
ok "and the volume was not created" eval "! volume_exists $SHARED_VOL-absent"

# --- Log drivers.
log_def() { # FAMILY DRIVER
    cat >"$T/$1.json" <<EOF2
{"family": "$1", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "echo out-of-$1; exec sleep 1000"],
   "logConfiguration": {"logDriver": "$2"}}]}
EOF2
}
log_def lognone none
register "$T/lognone.json" >/dev/null
LNONE=$(run lognone)
ok "a task with logDriver none runs" wait_for 60 task_is "$LNONE" RUNNING
is "the engine keeps no logs" "$(inspect "$(rid "$LNONE" 0)" 'd["HostConfig"]["LogConfig"]["Type"]')" none
unlike "and shows none" "$(engine_logs "$(rid "$LNONE" 0)")" "out-of-lognone"
log_def loglocal local
register "$T/loglocal.json" >/dev/null
LLOCAL=$(run loglocal)
if [ "$ENGINE" = docker ]; then
    ok "logDriver local runs" wait_for 60 task_is "$LLOCAL" RUNNING
    is "with Docker's local driver" "$(inspect "$(rid "$LLOCAL" 0)" 'd["HostConfig"]["LogConfig"]["Type"]')" local
    ok "whose logs show the output" wait_for 10 eval "engine_logs $(rid "$LLOCAL" 0) | grep -q out-of-loglocal"
else
    ok "logDriver local, which podman has not: the task stops" wait_for 60 task_is "$LLOCAL" STOPPED
    like "with a reason naming the driver" "$(task_field "$LLOCAL" 'd["stoppedReason"]')" "log.*local"
fi
log_def loggelf gelf
like "an unsupported driver is refused with its JSON path" \
    "$(ecs register-task-definition --cli-input-json "file://$T/loggelf.json")" \
    "containerDefinitions\[0\]\.logConfiguration\.logDriver.*gelf"

# --- Network modes.
HOSTP=$(fixed_port)
cat >"$T/nethost.json" <<EOF2
{"family": "nethost", "networkMode": "host", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 127.0.0.1:$HOSTP -h /www & wait"]}]}
EOF2
register "$T/nethost.json" >/dev/null
NHOST=$(run nethost)
ok "networkMode host: the task runs" wait_for 60 task_is "$NHOST" RUNNING
is "it listens on the host directly ($HOSTP)" \
    "$(wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$HOSTP/" && curl -s "http://127.0.0.1:$HOSTP/index.html")" \
    "berth-test busybox"

cat >"$T/netnone.json" <<EOF2
{"family": "netnone", "networkMode": "none",
 "volumes": [{"name": "hostdir", "host": {"sourcePath": "$T/out"}}],
 "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "ls /sys/class/net | tr '\\\\n' ' ' >/out/none_ifs; exec sleep 1000"],
   "mountPoints": [{"sourceVolume": "hostdir", "containerPath": "/out"}]}]}
EOF2
register "$T/netnone.json" >/dev/null
NNONE=$(run netnone)
ok "networkMode none: the task runs" wait_for 60 task_is "$NNONE" RUNNING
ok "it looked at its interfaces" wait_for 30 has_file none_ifs
is "only lo inside" "$(out none_ifs)" "lo "

cat >"$T/vpc.json" <<EOF2
{"family": "vpc", "networkMode": "awsvpc",
 "volumes": [{"name": "hostdir", "host": {"sourcePath": "$T/out"}}],
 "containerDefinitions": [
  {"name": "server", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 127.0.0.1:8080 -h /www & wait"]},
  {"name": "client", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "until wget -q -O /out/vpc http://127.0.0.1:8080/index.html; do sleep 1; done; exec sleep 1000"],
   "mountPoints": [{"sourceVolume": "hostdir", "containerPath": "/out"}]}]}
EOF2
register "$T/vpc.json" >/dev/null
VPC=$(run vpc)
ok "networkMode awsvpc: the task runs" wait_for 60 task_is "$VPC" RUNNING
ok "the client reached the server" wait_for 30 has_file vpc
is "on 127.0.0.1: one network namespace for the task" "$(out vpc)" "berth-test busybox"

FIXED=$(fixed_port)
cat >"$T/bridge.json" <<EOF2
{"family": "bridge", "networkMode": "bridge", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & httpd -f -p 8081 -h /etc & wait"],
   "portMappings": [{"containerPort": 8080, "hostPort": $FIXED}, {"containerPort": 8081, "hostPort": 0}]}]}
EOF2
register "$T/bridge.json" >/dev/null
BRIDGE=$(run bridge)
ok "networkMode bridge with a fixed and a dynamic host port: the task runs" wait_for 60 task_is "$BRIDGE" RUNNING
is "the fixed binding is reported" \
    "$(task_field "$BRIDGE" '" ".join("%d>%d" % (b["containerPort"], b["hostPort"]) for b in d["containers"][0]["networkBindings"][:1])')" \
    "8080>$FIXED"
DYN=$(task_field "$BRIDGE" 'd["containers"][0]["networkBindings"][1]["hostPort"]')
ok "the dynamic one comes from the range ($DYN)" test "$DYN" -ge 41000 -a "$DYN" -le 41999
is "the fixed port answers" "$(curl -s "http://127.0.0.1:$FIXED/index.html")" "berth-test busybox"
like "so does the dynamic one ($DYN)" "$(curl -s "http://127.0.0.1:$DYN/passwd")" "^root:"

for t in $NHOST $NNONE $VPC $BRIDGE $LNONE $LLOCAL; do ecs stop-task --task "$t" >/dev/null; done

# --- restartPolicy, now that a minute has passed.
ok "an early exit (before restartAttemptPeriod) is not restarted: STOPPED" wait_for 300 task_is "$EARLY" STOPPED
is "with its exit code 1" "$(task_field "$EARLY" 'd["containers"][0]["exitCode"]')" 1
ok "a container exiting 1 after the period is restarted in place" \
    wait_for 300 log_has "event=container.restarted task=${AGAIN##*/} container=main restarts=1"
is "the task stays RUNNING" "$(task_field "$AGAIN" 'd["lastStatus"]')" RUNNING
is "the same container on the engine" "$(rid "$AGAIN" 0)" "$AGAIN_ID"
ok "started again" wait_for 60 eval "[ \"\$(inspect $AGAIN_ID 'd[\"State\"][\"StartedAt\"]')\" != '$AGAIN_STARTED' ]"
is "and running" "$(inspect "$AGAIN_ID" 'd["State"]["Running"]')" True
ok "an exit code in ignoredExitCodes is not restarted: STOPPED" wait_for 300 task_is "$IGNORED" STOPPED
is "with exit code 5" "$(task_field "$IGNORED" 'd["containers"][0]["exitCode"]')" 5
unlike "no restart logged for it" "$(cat "$T/berthd.log")" "container.restarted task=${IGNORED##*/}"
ecs stop-task --task "$AGAIN" >/dev/null

# --- RunTask's clientToken: a retry gets the same tasks, nothing more is
#     started, also after an agent restart; other parameters with the same
#     token are a ConflictException (ECS_Idempotency).  Debian's aws CLI
#     has no --client-token: signed requests of curl's own.
TOK=tok-$$-$RANDOM
printf '{"taskDefinition": "early", "count": 2, "clientToken": "%s"}' "$TOK" >"$T/tok.json"
printf '{"taskDefinition": "early", "count": 1, "clientToken": "%s"}' "$TOK" >"$T/tok-other.json"
printf '{"taskDefinition": "early", "clientToken": "%s"}' "$(printf 'x%.0s' $(seq 65))" >"$T/tok-long.json"
arns() { api RunTask "$1" | jpath '" ".join(t["taskArn"] for t in d["tasks"])'; }
ID1=$(arns "$T/tok.json")
like "RunTask with a clientToken starts two tasks" "$ID1" "^arn:[^ ]+ arn:[^ ]+$"
is "the same request again answers with the same tasks" "$(arns "$T/tok.json")" "$ID1"
like "the same token with other parameters is refused" "$(api RunTask "$T/tok-other.json")" \
    "ConflictException.*clientToken $TOK was already used"
like "a token of 65 characters is refused" "$(api RunTask "$T/tok-long.json")" \
    "InvalidParameterException.*clientToken"

for t in $NHOST $NNONE $VPC $BRIDGE $LNONE $LLOCAL $AGAIN $ID1; do wait_for 60 task_is "$t" STOPPED; done
is "nothing of the test runs on the engine any more" "$(engine_running)" 0
stop_berthd
ok "berthd restarts" start_berthd "$T/berth.conf"
is "after it, the token still answers with the same tasks" "$(arns "$T/tok.json")" "$ID1"
is "and started nothing" "$(ecs list-tasks --family early --desired-status STOPPED | jpath 'len(d["taskArns"])')" 3
stop_berthd
is "berthd exits 0" "$BERTHD_STATUS" 0
done_testing
