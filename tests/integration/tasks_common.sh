# tasks_common.sh: tasks on a real engine, end to end through the ECS API
# with Debian's aws CLI.  Sourced by tasks_docker.sh and tasks_podman.sh
# with ENGINE set (docker or podman).
. "$top_srcdir/tests/integration/tasks_env.sh"

ok "berthd starts with the $ENGINE plugin and the API" start_berthd "$T/berth.conf"
# A task asked for at once, before the engine's event stream is up, waits
# for the engine instead of failing (EngineUnavailableError).
api RegisterTaskDefinition '{"family": "early", "containerDefinitions": [{"name": "app",
  "image": "berth-test/busybox:1", "memory": 16, "command": ["sleep", "3600"]}]}' >/dev/null
EARLY=$(api RunTask "{\"cluster\": \"$CLUSTER\", \"taskDefinition\": \"early\"}" |
    jpath 'd["tasks"][0]["taskArn"]')
ok "it lists the engine before running anything" wait_log 30 'event=tasks.reconciled'
ok "a task run the moment berthd started runs once the engine is listed" \
    wait_for 120 task_is "$EARLY" RUNNING
ecs stop-task --task "$EARLY" >/dev/null

# --- A two-container task: health check, dependsOn HEALTHY, dynamic port,
#     environment from a file, a variable and a secret.
cat >"$T/web.json" <<'EOF2'
{"family": "web",
 "containerDefinitions": [
  {"name": "app", "image": "berth-test/busybox:1", "memory": 64,
   "command": ["sh", "-c", "echo \"$FROM_FILE $SHARED $PLAIN $DB_PASSWORD\" > /tmp/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /tmp & wait"],
   "environmentFiles": [{"value": "@T@/app.env", "type": "s3"}],
   "environment": [{"name": "PLAIN", "value": "two"}, {"name": "SHARED", "value": "env"}],
   "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:local:000000000000:secret:db-password"}],
   "portMappings": [{"containerPort": 8080, "hostPort": 0}],
   "healthCheck": {"command": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
                   "interval": 5, "timeout": 2, "retries": 2}},
  {"name": "side", "image": "berth-test/busybox:1", "memory": 32, "essential": false,
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
   "dependsOn": [{"containerName": "app", "condition": "HEALTHY"}]}]}
EOF2
sed -i "s|@T@|$T|" "$T/web.json"
register "$T/web.json" >/dev/null
WEB=$(run web)
like "RunTask answers with a task ARN" "$WEB" "^arn:aws:ecs:local:000000000000:task/$CLUSTER/[0-9a-f]{32}$"
ok "aws ecs wait tasks-running returns once it runs" ecs wait tasks-running --tasks "$WEB"
ok "the task reaches RUNNING" wait_for 60 task_is "$WEB" RUNNING
is "its health is HEALTHY" "$(task_field "$WEB" 'd["healthStatus"]')" HEALTHY
is "both containers run, side started after app was healthy" \
    "$(task_field "$WEB" '" ".join(c["name"]+"="+c["lastStatus"] for c in d["containers"])')" \
    "app=RUNNING side=RUNNING"
HPORT=$(task_field "$WEB" 'd["containers"][0]["networkBindings"][0]["hostPort"]')
ok "the dynamic host port comes from the configured range ($HPORT)" \
    test "$HPORT" -ge 41000 -a "$HPORT" -le 41999
is "curl reaches the app on it; env file, environment and secret in order" \
    "$(curl -s "http://127.0.0.1:$HPORT/index.html")" "one env two s3cr3t-value"
unlike "the secret's value is never logged" "$(cat "$T/berthd.log")" "s3cr3t-value"
ok "the log says side waited for app to be healthy" \
    log_has "event=container.health task=${WEB##*/} container=app health=HEALTHY"

# --- An essential container that exits stops the task with its code.
cat >"$T/exit.json" <<'EOF2'
{"family": "quits", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "sleep 1; exit 3"]}]}
EOF2
register "$T/exit.json" >/dev/null
QUIT=$(run quits)
ok "a task whose essential container exits reaches STOPPED" wait_for 60 task_is "$QUIT" STOPPED
is "stopCode EssentialContainerExited" "$(task_field "$QUIT" 'd["stopCode"]')" EssentialContainerExited
is "stoppedReason as ECS words it" "$(task_field "$QUIT" 'd["stoppedReason"]')" \
    "Essential container in task exited"
is "the container's exit code is 3" "$(task_field "$QUIT" 'd["containers"][0]["exitCode"]')" 3

# --- Stop timeouts: SIGTERM ignored -> SIGKILL after stopTimeout (137).
cat >"$T/stubborn.json" <<'EOF2'
{"family": "stubborn", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32, "stopTimeout": 2,
   "command": ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]}]}
EOF2
register "$T/stubborn.json" >/dev/null
STUB=$(run stubborn)
ok "a task ignoring SIGTERM runs" wait_for 60 task_is "$STUB" RUNNING
is "StopTask answers desiredStatus STOPPED" \
    "$(ecs stop-task --task "$STUB" --reason 'by the test' | jpath 'd["task"]["desiredStatus"]')" STOPPED
ok "it reaches STOPPED" wait_for 60 task_is "$STUB" STOPPED
is "killed after its stopTimeout: exit code 137" \
    "$(task_field "$STUB" 'd["containers"][0]["exitCode"]')" 137
is "stopCode UserInitiated with the given reason" \
    "$(task_field "$STUB" 'd["stopCode"]+" "+d["stoppedReason"]')" "UserInitiated by the test"
is "StopTask of an unknown task" "$(ecs stop-task --task 0123456789abcdef0123456789abcdef | grep -o 'InvalidParameterException.*not found')" \
    "InvalidParameterException) when calling the StopTask operation: The referenced task was not found"

# --- Failures that stop a task with a reason, the agent going on.
cat >"$T/noimage.json" <<'EOF2'
{"family": "noimage", "containerDefinitions": [
  {"name": "main", "image": "berth-test/nope:1", "memory": 32}]}
EOF2
register "$T/noimage.json" >/dev/null
NOIMG=$(run noimage)
ok "a missing image: the task stops" wait_for 60 task_is "$NOIMG" STOPPED
is "with stopCode TaskFailedToStart" "$(task_field "$NOIMG" 'd["stopCode"]')" TaskFailedToStart
like "and a reason naming the image" "$(task_field "$NOIMG" 'd["stoppedReason"]')" \
    "^CannotPullContainerError: .*berth-test/nope:1"

TAKEN=$(free_port)
start_bg squatter python3 -m http.server --bind 0.0.0.0 "$TAKEN"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$TAKEN/"
cat >"$T/taken.json" <<EOF2
{"family": "taken", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "httpd -f -p 80"],
   "portMappings": [{"containerPort": 80, "hostPort": $TAKEN}]}]}
EOF2
register "$T/taken.json" >/dev/null
TAKE=$(run taken)
ok "a host port already taken: the task stops" wait_for 60 task_is "$TAKE" STOPPED
like "with a reason that says so" "$(task_field "$TAKE" 'd["stoppedReason"]')" \
    "(already allocated|address already in use)"
is "the web task still runs" "$(task_field "$WEB" 'd["lastStatus"]')" RUNNING

# --- Bad input.
like "RunTask of an unknown definition" "$(ecs run-task --task-definition nosuch)" \
    "ClientException.*Unable to describe task definition"
like "count out of range names the member" "$(ecs run-task --task-definition web --count 11)" \
    "InvalidParameterException.*count"
printf '{"family":"bad","containerDefinitions":[{"name":"a","image":"x","memory":4,"portMappings":[{"containerPort":80,"hostPort":70000}]}]}' >"$T/bad.json"
like "a bad definition is refused with its JSON path" "$(ecs register-task-definition --cli-input-json "file://$T/bad.json")" \
    "containerDefinitions\[0\]\.portMappings\[0\]\.hostPort"

# --- kill -9 of the agent with five tasks running, and a container that
#     dies while the agent is away.
cat >"$T/five.json" <<'EOF2'
{"family": "five", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h / & wait"],
   "portMappings": [{"containerPort": 8080}]}]}
EOF2
register "$T/five.json" >/dev/null
ecs stop-task --task "$WEB" >/dev/null
ok "aws ecs wait tasks-stopped returns once it stopped" ecs wait tasks-stopped --tasks "$WEB"
FIVE=$(run five 5)
SIX=$(run five 1)
for t in $FIVE $SIX; do wait_for 60 task_is "$t" RUNNING; done
running() { ecs list-tasks --desired-status RUNNING | jpath 'len(d["taskArns"])'; }
is "six tasks run" "$(running)" 6
is "six containers run on $ENGINE" "$(engine_running)" 6
ids_before=$(for t in $FIVE; do task_field "$t" 'd["containers"][0]["runtimeId"]'; done | sort | tr '\n' ' ')
kill -9 "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null
victim=$(python3 - "$T/state/berth.db" "$SIX" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
j = json.loads(db.execute("select json from task where arn = ?", (sys.argv[2],)).fetchone()[0])
print(j["containers"][0]["runtimeId"])
PY
)
curl -s -X POST --unix-socket "$SOCK" "http://d/v1.41/containers/$victim/kill?signal=KILL" >/dev/null
ok "berthd restarts after kill -9" start_berthd "$T/berth.conf"
ok "and re-lists the engine" wait_log 30 'event=tasks.reconciled containers=[0-9]+ tasks=[0-9]+'
ok "the task whose container died meanwhile is stopped" wait_for 60 task_is "$SIX" STOPPED
is "with its exit code" "$(task_field "$SIX" 'd["containers"][0]["exitCode"]')" 137
is "exactly five tasks run after the restart" "$(running)" 5
is "exactly five containers run on $ENGINE: none started twice" "$(engine_running)" 5
ids_after=$(for t in $FIVE; do task_field "$t" 'd["containers"][0]["runtimeId"]'; done | sort | tr '\n' ' ')
is "the same containers, adopted" "$ids_after" "$ids_before"
for t in $FIVE; do
    p=$(task_field "$t" 'd["containers"][0]["networkBindings"][0]["hostPort"]')
    curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$p/etc/passwd" >>"$T/codes"
done
is "each of the five still answers on its recorded port" "$(sort -u "$T/codes")" 200

for t in $FIVE; do ecs stop-task --task "$t" >/dev/null; done
for t in $FIVE; do wait_for 60 task_is "$t" STOPPED; done
is "stopped tasks leave no containers behind" "$(engine_running)" 0
stop_berthd
is "berthd exits 0" "$BERTHD_STATUS" 0
done_testing
