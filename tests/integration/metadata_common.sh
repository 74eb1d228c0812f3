# metadata_common.sh: the task metadata endpoint v4 end to end on a real
# engine: containers read it from inside (busybox wget through the
# engine's exec API) in bridge and host mode, across kill -9 of the agent.
# Sourced by metadata_docker.sh and metadata_podman.sh with ENGINE set.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"

requires curl
requires python3
. "$top_srcdir/tests/lib/aws.sh"

start_engine "$ENGINE" || exit 1
build_busybox_image "$ENGINE" berth-test/busybox:1 || exit 1
SOCK=$(engine_sock "$ENGINE")

PORT=$(free_port)
MDPORT=$(free_port)
aws_credentials AKIDMETA 'meta/secret'

CLUSTER=md-$ENGINE-$$
write_conf "$T/berth.conf" <<EOF2
[api]
socket = $T/api.sock
listen = 127.0.0.1:$PORT
credentials-file = $T/credentials

[tasks]
host-port-range = 45000-45999

[metadata]
port = $MDPORT

[plugin $ENGINE]
socket = $SOCK
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"

cleanup_engine() { remove_cluster "$ENGINE" "$CLUSTER"; }
on_exit cleanup_engine

ecs() { "$AWS_BIN" ecs "$@" --endpoint-url "http://127.0.0.1:$PORT" --region local --output json 2>&1; }
task_field() { # TASK EXPR (d is the task)
    ecs describe-tasks --tasks "$1" | python3 -c "import json,sys; d=json.load(sys.stdin)['tasks'][0]; print($2)"
}
task_is() { [ "$(task_field "$1" 'd["lastStatus"]')" = "$2" ]; }
register() { ecs register-task-definition --cli-input-json "file://$1" | jpath 'd["taskDefinition"]["taskDefinitionArn"]'; }
run() { ecs run-task --task-definition "$1" | jpath 'd["tasks"][0]["taskArn"]'; }

# cexec ID SCRIPT: runs sh -c SCRIPT inside the container (the engine's
# exec API, so the same for both engines); prints its output.
cexec() {
    body=$(python3 -c 'import json,sys; print(json.dumps({"Cmd": ["sh", "-c", sys.argv[1]], "AttachStdout": True, "AttachStderr": True, "Tty": True}))' "$2")
    eid=$(curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
        "http://d/v1.41/containers/$1/exec" -d "$body" | jpath 'd["Id"]')
    curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
        "http://d/v1.41/exec/$eid/start" -d '{"Detach": false, "Tty": true}' | tr -d '\r'
}
# md ID PATH: GET ${ECS_CONTAINER_METADATA_URI_V4}PATH from inside ID.
md() { cexec "$1" "wget -qO- \"\$ECS_CONTAINER_METADATA_URI_V4$2\""; }
# jq-ish: DOC EXPR (d is the document).
jget() { printf '%s' "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)" 2>&1; }

# A port already taken at start: a start error naming it.
start_bg squatter python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(600)' "$MDPORT"
SQUAT=$LAST_PID
wait_for 10 python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$MDPORT"
out=$(timeout 20 "$BERTHD" --foreground --config "$T/berth.conf" 2>&1)
st=$?
ok "with the metadata port taken, berthd does not start (exit $st)" test "$st" -ne 0
like "and says which port, from where" "$out" \
    "berth.conf:[0-9]+: \[metadata\] port: cannot listen on 127.0.0.1:$MDPORT: Address already in use"
kill "$SQUAT"
wait "$SQUAT" 2>/dev/null

ok "berthd starts with the $ENGINE plugin" start_berthd "$T/berth.conf"
ok "it lists the engine" wait_log 30 'event=tasks.reconciled'
ok "the endpoint listens on 127.0.0.1:$MDPORT" log_has "event=metadata.listening address=127.0.0.1:$MDPORT"
# The gateway's listener: a metadata.listening line other than 127.0.0.1's
# (it can come after the engine is listed).
gw_in_log() {
    sed -n "s/.*event=metadata.listening address=\([0-9.]*\):$MDPORT.*/\1/p" "$T/berthd.log" |
        grep -v '^127\.0\.0\.1$' | head -1
}
ok "and on the engine's bridge gateway" wait_for 30 eval '[ -n "$(gw_in_log)" ]'
GW=$(gw_in_log)
diag "gateway: $GW"

# --- bridge mode: a dynamic port, a health check, a user value for the
#     variable that ECS overrides.
cat >"$T/web.json" <<'EOF2'
{"family": "mdweb",
 "containerDefinitions": [
  {"name": "app", "image": "berth-test/busybox:1", "memory": 64, "cpu": 128,
   "command": ["sh", "-c", "echo hi > /tmp/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /tmp & wait"],
   "environment": [{"name": "ECS_CONTAINER_METADATA_URI_V4", "value": "http://example.invalid/"}],
   "portMappings": [{"containerPort": 8080, "hostPort": 0}],
   "dockerLabels": {"team": "blue"},
   "healthCheck": {"command": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
                   "interval": 5, "timeout": 2, "retries": 2}}]}
EOF2
register "$T/web.json" >/dev/null
WEB=$(run mdweb)
like "RunTask answers with a task ARN" "$WEB" "^arn:aws:ecs:local:000000000000:task/$CLUSTER/[0-9a-f]{32}$"
ok "the task reaches RUNNING" wait_for 60 task_is "$WEB" RUNNING
healthy() { [ "$(task_field "$WEB" 'd["healthStatus"]')" = HEALTHY ]; }
ok "and HEALTHY" wait_for 60 healthy
CID=$(task_field "$WEB" 'd["containers"][0]["runtimeId"]')
HPORT=$(task_field "$WEB" 'd["containers"][0]["networkBindings"][0]["hostPort"]')
URI=$(cexec "$CID" 'echo "$ECS_CONTAINER_METADATA_URI_V4"')
like "the container's ECS_CONTAINER_METADATA_URI_V4 names the gateway and a token" \
    "$URI" "^http://$GW:$MDPORT/v4/[0-9a-f]{32}$"
V3=$(cexec "$CID" 'echo "$ECS_CONTAINER_METADATA_URI"')
is "ECS_CONTAINER_METADATA_URI (v3) has the same token" "$V3" "$(printf '%s' "$URI" | sed 's|/v4/|/v3/|')"
unlike "the token is not in the agent's log" "$(cat "$T/berthd.log")" "${URI##*/}"

C=$(md "$CID" "")
is "\${URI}: DockerId is the container's runtimeId" "$(jget "$C" 'd["DockerId"]')" "$CID"
is "Name, Type, KnownStatus, DesiredStatus" \
    "$(jget "$C" 'd["Name"]+" "+d["Type"]+" "+d["KnownStatus"]+" "+d["DesiredStatus"]')" \
    "app NORMAL RUNNING RUNNING"
is "Ports: the dynamic host port" \
    "$(jget "$C" '"%d %s %d %s" % (d["Ports"][0]["ContainerPort"], d["Ports"][0]["Protocol"], d["Ports"][0]["HostPort"], d["Ports"][0]["HostIp"])')" \
    "8080 tcp $HPORT 0.0.0.0"
is "Health: HEALTHY, with the check's exit code" \
    "$(jget "$C" 'd["Health"]["status"]+" "+str(d["Health"]["exitCode"])')" "HEALTHY 0"
like "Health.statusSince is an RFC 3339 time" "$(jget "$C" 'd["Health"]["statusSince"]')" \
    '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$'
is "Labels: ECS's and the dockerLabels" \
    "$(jget "$C" 'd["Labels"]["com.amazonaws.ecs.task-arn"]+" "+d["Labels"]["com.amazonaws.ecs.container-name"]+" "+d["Labels"]["team"]')" \
    "$WEB app blue"
is "Limits: CPU units and MiB" "$(jget "$C" '"%d %d" % (d["Limits"]["CPU"], d["Limits"]["Memory"])')" "128 64"
is "Networks: bridge with the container's address" \
    "$(jget "$C" 'd["Networks"][0]["NetworkMode"]+" "+str(len(d["Networks"][0]["IPv4Addresses"]))')" "bridge 1"
like "ContainerARN" "$(jget "$C" 'd["ContainerARN"]')" "^arn:aws:ecs:local:000000000000:container/$CLUSTER/[0-9a-f]{32}/app$"
like "CreatedAt and StartedAt" "$(jget "$C" 'd["CreatedAt"]+" "+d["StartedAt"]')" '^20.*Z 20.*Z$'

TK=$(md "$CID" /task)
is "\${URI}/task: TaskARN is what DescribeTasks says" "$(jget "$TK" 'd["TaskARN"]')" "$WEB"
is "Cluster is the cluster's ARN" "$(jget "$TK" 'd["Cluster"]')" "$(task_field "$WEB" 'd["clusterArn"]')"
is "Family, Revision (a string), LaunchType, KnownStatus" \
    "$(jget "$TK" 'd["Family"]+" "+repr(d["Revision"])+" "+d["LaunchType"]+" "+d["KnownStatus"]')" \
    "mdweb '1' EC2 RUNNING"
is "Containers: the one container, as \${URI} shows it" "$(jget "$TK" 'd["Containers"][0]["DockerId"]')" "$CID"
like "PullStartedAt and PullStoppedAt" "$(jget "$TK" 'd["PullStartedAt"]+" "+d["PullStoppedAt"]')" '^20.*Z 20.*Z$'

S1=$(md "$CID" /stats)
is "\${URI}/stats: Docker's format, for this container" "$(jget "$S1" 'd["id"]')" "$CID"
ok "cpu_stats and memory_stats have readings" \
    test "$(jget "$S1" 'int(d["cpu_stats"]["cpu_usage"]["total_usage"] > 0 and d["memory_stats"]["usage"] > 0 and d["cpu_stats"]["system_cpu_usage"] > 0)')" = 1
S2=$(md "$CID" /stats)
ok "a second read has the first as precpu_stats" \
    test "$(jget "$S2" 'int(d["precpu_stats"]["cpu_usage"]["total_usage"] > 0 and d["preread"] < d["read"])')" = 1
TS=$(md "$CID" /task/stats)
is "\${URI}/task/stats: a map DockerId -> stats" "$(jget "$TS" '" ".join(sorted(d.keys()))+" "+d[list(d)[0]]["id"]')" "$CID $CID"

is "the user's value for the variable was overridden (ECS does so)" \
    "$(cexec "$CID" 'env | grep -c example.invalid')" 0
BAD=$(printf '%s' "$URI" | sed 's|/v4/.*|/v4/0123456789abcdef0123456789abcdef|')
like "a wrong token, from inside: 404" "$(cexec "$CID" "wget -qO- $BAD 2>&1")" "404"
code=$(curl -s -o "$T/bad.json" -w '%{http_code}' "http://127.0.0.1:$MDPORT/v4/0123456789abcdef0123456789abcdef/task")
is "a wrong token: 404" "$code" 404
like "with a JSON error" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])))' "$T/bad.json")" "no container of this agent has that token"
like "Content-Type application/json" \
    "$(curl -s -D - -o /dev/null "http://127.0.0.1:$MDPORT/v4/${URI##*/}")" "Content-Type: application/json"

# A burst beyond the limit from one client: 60 at once, then 40 a second.
burst=$(python3 - "$MDPORT" "${URI##*/}" <<'PY'
import http.client, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
codes = {}
t0 = time.monotonic()
for _ in range(150):
    c.request("GET", "/v4/%s/task" % sys.argv[2])
    r = c.getresponse()
    body = r.read()
    codes[r.status] = codes.get(r.status, 0) + 1
    if r.status == 429:
        last = body.decode()
# at most the burst plus what refilled meanwhile (40/s)
print(codes.get(200, 0), codes.get(429, 0), int(60 + 40 * (time.monotonic() - t0)) + 1, last)
PY
)
set -- $burst
ok "a burst of 150: at least 60 answered, at most 60 + 40/s ($1 <= $3)" test "$1" -ge 60 -a "$1" -le "$3"
ok "the rest get 429 ($2)" test "$2" -gt 0 -a "$(($1 + $2))" -eq 150
like "with ECS's words" "$burst" "You have reached maximum request limit"
is "another client (the container) is not limited by it" "$(jget "$(md "$CID" /task)" 'd["TaskARN"]')" "$WEB"

# --- host mode: 127.0.0.1
cat >"$T/host.json" <<'EOF2'
{"family": "mdhost", "networkMode": "host",
 "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}]}
EOF2
register "$T/host.json" >/dev/null
HOST=$(run mdhost)
ok "a host-mode task reaches RUNNING" wait_for 60 task_is "$HOST" RUNNING
HID=$(task_field "$HOST" 'd["containers"][0]["runtimeId"]')
like "its URI is on 127.0.0.1" "$(cexec "$HID" 'echo "$ECS_CONTAINER_METADATA_URI_V4"')" \
    "^http://127\.0\.0\.1:$MDPORT/v4/[0-9a-f]{32}$"
HT=$(md "$HID" /task)
is "\${URI}/task from inside it: its TaskARN" "$(jget "$HT" 'd["TaskARN"]')" "$HOST"
is "Networks: host" "$(jget "$HT" 'd["Containers"][0]["Networks"][0]["NetworkMode"]')" host
unlike "no Health without a check" "$(jget "$HT" '",".join(d["Containers"][0].keys())')" "Health"

# --- kill -9 and restart: the same URI answers in the running container.
kill -9 "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null
ok "berthd restarts after kill -9" start_berthd "$T/berth.conf"
ok "and re-lists the engine" wait_log 30 'event=tasks.reconciled'
bridge_back() { log_has "event=metadata.listening address=$GW:$MDPORT"; }
ok "the gateway listener is back" wait_for 10 bridge_back
is "the container's unchanged URI still answers with its task" \
    "$(jget "$(md "$CID" /task)" 'd["TaskARN"]')" "$WEB"
is "so does the host-mode one" "$(jget "$(md "$HID" "")" 'd["DockerId"]')" "$HID"

# SIGHUP cannot move the port: containers hold the URI.
sed -i "s/^port = $MDPORT$/port = $(free_port)/" "$T/berth.conf"
ok "a reload is answered" reload
ok "a changed [metadata] port refuses the reload" \
    log_has 'event=reload.refused error=.*\[metadata\] enabled and port are in the URI of running containers'
is "the endpoint still answers on the old port" "$(jget "$(md "$CID" /task)" 'd["TaskARN"]')" "$WEB"
sed -i "s/^port = [0-9]*$/port = $MDPORT/" "$T/berth.conf"

ecs stop-task --task "$WEB" >/dev/null
ecs stop-task --task "$HOST" >/dev/null
ok "the tasks stop" wait_for 60 task_is "$WEB" STOPPED
wait_for 60 task_is "$HOST" STOPPED
stop_berthd
is "berthd exits 0" "$BERTHD_STATUS" 0
done_testing
