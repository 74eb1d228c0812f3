# services_common.sh: services on a real engine, end to end through the ECS
# API with Debian's aws CLI: desired count, rolling deployments sampled for
# min/max, the circuit breaker with rollback, replacement of killed and
# unhealthy tasks, adoption after kill -9, delete.  Sourced by
# services_docker.sh and services_podman.sh with ENGINE set.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"

requires curl
requires python3
. "$top_srcdir/tests/lib/aws.sh"

start_engine "$ENGINE" || exit 1
build_busybox_image "$ENGINE" berth-test/busybox:1 || exit 1
SOCK=$(engine_sock "$ENGINE")

PORT=$(free_port)
aws_credentials AKIDSERVICES 'services/secret'
printf '[default]\naws_access_key_id = AKIDSERVICES\naws_secret_access_key = not/the/secret\n' >"$T/wrong"

# Containers of this test carry cluster=$CLUSTER; anything left is removed.
# Each engine's test has its own host ports, so the two can run together.
CLUSTER=svc-$ENGINE-$$
case $ENGINE in
docker) PORTS=43000-43999 ;;
*) PORTS=44000-44999 ;;
esac
write_conf "$T/berth.conf" <<EOF2
[api]
socket = $T/api.sock
listen = 127.0.0.1:$PORT
credentials-file = $T/credentials

[tasks]
host-port-range = $PORTS

[plugin $ENGINE]
socket = $SOCK
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"

cleanup_engine() { remove_cluster "$ENGINE" "$CLUSTER"; }
on_exit cleanup_engine

ecs() { "$AWS_BIN" ecs "$@" --cluster "$CLUSTER" --endpoint-url "http://127.0.0.1:$PORT" --region local --output json 2>&1; }
ecs_nc() { "$AWS_BIN" ecs "$@" --endpoint-url "http://127.0.0.1:$PORT" --region local --output json 2>&1; }
# The API over its unix socket (trusted, no signature): fast enough to poll.
svc() { # EXPR (s is the service)
    api DescribeServices '{"services":["web"]}' | python3 -c "import json,sys; s=json.load(sys.stdin)['services'][0]; print($1)"
}
svc_is() { [ "$(svc "$1" 2>/dev/null)" = "$2" ]; }
running_tasks() { api ListTasks '{"serviceName":"web","desiredStatus":"RUNNING"}' | jpath '" ".join(sorted(d["taskArns"]))'; }
task_field() { # TASK EXPR (d is the task)
    api DescribeTasks "{\"tasks\":[\"$1\"]}" | python3 -c "import json,sys; d=json.load(sys.stdin)['tasks'][0]; print($2)"
}
task_is() { [ "$(task_field "$1" 'd["lastStatus"]')" = "$2" ]; }
# Running containers of this cluster on the engine.
engine_running() { cluster_running "$ENGINE" "$CLUSTER"; }
# steady: one deployment, COMPLETED, and 3 tasks RUNNING and HEALTHY.
steady() {
    [ "$(svc 'len(s["deployments"]), s["deployments"][0]["rolloutState"], s["runningCount"], s["pendingCount"]')" = "1 COMPLETED 3 0" ] || return 1
    arns=$(running_tasks | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))')
    [ "$(api DescribeTasks "{\"tasks\":$arns}" | jpath '" ".join(sorted(t["lastStatus"]+t.get("healthStatus","") for t in d["tasks"]))')" = "RUNNINGHEALTHY RUNNINGHEALTHY RUNNINGHEALTHY" ]
}
register() { ecs_nc register-task-definition --cli-input-json "file://$1" | jpath 'd["taskDefinition"]["taskDefinitionArn"]'; }
# A web app that is healthy while /tmp/ok exists; VERSION tells revisions
# apart.  The check is lenient (timeout 5 s, 2 retries): on a loaded host a
# single slow check must not fail a healthy task.
webdef() { # VERSION IMAGE
    cat >"$T/web.json" <<EOF2
{"family": "web", "containerDefinitions": [
  {"name": "app", "image": "$2", "memory": 32,
   "environment": [{"name": "VERSION", "value": "$1"}],
   "command": ["sh", "-c", "echo \$VERSION > /tmp/index.html; touch /tmp/ok; trap 'exit 0' TERM; httpd -f -p 8080 -h /tmp & wait"],
   "portMappings": [{"containerPort": 8080, "hostPort": 0}],
   "healthCheck": {"command": ["CMD-SHELL", "test -f /tmp/ok && wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
                   "interval": 5, "timeout": 5, "retries": 2}}]}
EOF2
    register "$T/web.json"
}
engine_exec() { # CONTAINER-ID CMD...
    id=$1
    shift
    cmd=$(python3 -c 'import json,sys; print(json.dumps({"Cmd": sys.argv[1:]}))' "$@")
    ex=$(curl -s -X POST --unix-socket "$SOCK" -H 'Content-Type: application/json' \
        -d "$cmd" "http://d/v1.41/containers/$id/exec" | jpath 'd["Id"]')
    curl -s -X POST --unix-socket "$SOCK" -H 'Content-Type: application/json' \
        -d '{"Detach":true}' "http://d/v1.41/exec/$ex/start" >/dev/null
}

ok "berthd starts with the $ENGINE plugin and the API" start_berthd "$T/berth.conf" ||
    diag "$(tail -20 "$T/berthd.log")"
ok "it lists the engine before running anything" wait_log 30 'event=tasks.reconciled'

# --- Bad input, named.
WEB1=$(webdef one berth-test/busybox:1)
like "CreateService with a bad name names serviceName" \
    "$(ecs create-service --service-name 'bad name' --task-definition web --desired-count 1)" \
    "InvalidParameterException.*serviceName"
like "a REPLICA service needs desiredCount" \
    "$(ecs create-service --service-name web --task-definition web)" \
    "InvalidParameterException.*desiredCount"
like "minimumHealthyPercent out of range names the member" \
    "$(ecs create-service --service-name web --task-definition web --desired-count 1 --deployment-configuration minimumHealthyPercent=150)" \
    "InvalidParameterException.*deploymentConfiguration.minimumHealthyPercent"
like "an unknown task definition" \
    "$(ecs create-service --service-name web --task-definition nosuch --desired-count 1)" \
    "ClientException.*TaskDefinition not found"
like "another cluster" \
    "$(ecs_nc create-service --cluster elsewhere --service-name web --task-definition web --desired-count 1)" \
    "ClusterNotFoundException"
like "UpdateService of an unknown service" "$(ecs update-service --service nosuch --desired-count 1)" \
    "ServiceNotFoundException"
like "ListServicesByNamespace is refused clearly" \
    "$(ecs_nc list-services-by-namespace --namespace ns)" "UnsupportedFeatureException.*not supported"
like "a request signed with a wrong secret is refused" \
    "$(AWS_SHARED_CREDENTIALS_FILE="$T/wrong" "$AWS_BIN" ecs list-services --endpoint-url "http://127.0.0.1:$PORT" --region local 2>&1)" \
    "InvalidSignatureException|SignatureDoesNotMatch|UnrecognizedClient"

# --- A 3-task service with a health check and the circuit breaker.
out=$(ecs create-service --service-name web --task-definition web --desired-count 3 \
    --deployment-configuration 'deploymentCircuitBreaker={enable=true,rollback=true}' \
    --health-check-grace-period-seconds 0)
is "CreateService answers the service, ACTIVE, with ECS's defaults" \
    "$(printf '%s' "$out" | jpath '(lambda s: (s["serviceArn"], s["status"], s["desiredCount"], s["deploymentConfiguration"]["maximumPercent"], s["deploymentConfiguration"]["minimumHealthyPercent"], s["schedulingStrategy"], s["launchType"], len(s["deployments"]), s["deployments"][0]["status"], s["deployments"][0]["rolloutState"]))(d["service"])')" \
    "('arn:aws:ecs:local:000000000000:service/$CLUSTER/web', 'ACTIVE', 3, 200, 100, 'REPLICA', 'EC2', 1, 'PRIMARY', 'IN_PROGRESS')"
like "its deployment id is ecs-svc/ and 19 digits" \
    "$(printf '%s' "$out" | jpath 'd["service"]["deployments"][0]["id"]')" '^ecs-svc/[0-9]{19}$'
like "a second CreateService of the name is refused" \
    "$(ecs create-service --service-name web --task-definition web --desired-count 3)" \
    "InvalidParameterException.*not idempotent"
ok "aws ecs wait services-stable returns" ecs wait services-stable --services web
ok "3 tasks RUNNING and HEALTHY, deployment COMPLETED" wait_for 60 steady
is "3 containers run on $ENGINE" "$(engine_running)" 3
like "the events say steady state, newest first" "$(svc 's["events"][0]["message"]')" \
    "^\(service web\) has reached a steady state\.$"
is "ListServices lists it" "$(ecs list-services | jpath 'd["serviceArns"]')" \
    "['arn:aws:ecs:local:000000000000:service/$CLUSTER/web']"
is "ListTasks serviceName finds its 3 tasks, started by the deployment" \
    "$(for t in $(running_tasks); do task_field "$t" 'd["group"]+" "+d["startedBy"][:8]'; done | sort -u)" \
    "service:web ecs-svc/"
is "DescribeServices: a missing service is a MISSING failure" \
    "$(ecs describe-services --services nosuch | jpath 'd["failures"][0]["reason"]+" "+d["failures"][0]["arn"]')" \
    "MISSING arn:aws:ecs:local:000000000000:service/$CLUSTER/nosuch"

# --- A rolling deployment, sampled: healthy >= 3 (min 100%), live <= 6 (max 200%).
cat >"$T/sample.py" <<'PY'
import http.client, json, socket, sys, os, time
sock, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sock)
def call(action, body):
    c = C("x"); c.request("POST", "/", json.dumps(body), {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113." + action})
    r = json.loads(c.getresponse().read()); c.close(); return r
lo, hi, n = 99, 0, 0
while not os.path.exists(stop):
    arns = call("ListTasks", {"serviceName": "web", "desiredStatus": "RUNNING"})["taskArns"]
    ts = call("DescribeTasks", {"tasks": arns})["tasks"] if arns else []
    ts = [t for t in ts if t["desiredStatus"] == "RUNNING"]
    healthy = sum(1 for t in ts if t["lastStatus"] == "RUNNING" and t.get("healthStatus") == "HEALTHY")
    lo, hi, n = min(lo, healthy), max(hi, len(ts)), n + 1
    time.sleep(0.2)
open(out, "w").write("%d %d %d\n" % (lo, hi, n))
PY
start_bg sampler python3 "$T/sample.py" "$T/api.sock" "$T/sample.stop" "$T/sample.out"
WEB2=$(webdef two berth-test/busybox:1)
out=$(ecs update-service --service web --task-definition web:2)
is "UpdateService makes a new PRIMARY deployment, the old one ACTIVE" \
    "$(printf '%s' "$out" | jpath '[(x["status"], x["taskDefinition"].split("/")[-1]) for x in d["service"]["deployments"]]')" \
    "[('PRIMARY', 'web:2'), ('ACTIVE', 'web:1')]"
ok "the rollout completes" wait_for 180 steady
touch "$T/sample.stop"
wait_for 10 test -s "$T/sample.out"
read -r lo hi n <"$T/sample.out"
diag "rollout sampled $n times: healthy >= $lo, live <= $hi"
ok "sampled more than 5 times during the rollout" test "$n" -gt 5
ok "healthy tasks never dropped below 3 (min 100%)" test "$lo" -ge 3
ok "live tasks never went above 6 (max 200%)" test "$hi" -le 6
is "every task runs web:2" \
    "$(for t in $(running_tasks); do task_field "$t" 'd["taskDefinitionArn"].split("/")[-1]'; done | sort -u)" web:2
is "only 3 containers run on $ENGINE" "$(engine_running)" 3
like "the deployment's events: started, stopped, completed" \
    "$(svc '"|".join(e["message"] for e in s["events"])')" \
    "deployment completed.*has stopped 1 running tasks.*has started [0-9] tasks"

# --- A deployment to a missing image trips the circuit breaker and rolls back.
before=$(running_tasks)
webdef three berth-test/nope:1 >/dev/null
ecs update-service --service web --task-definition web:3 >/dev/null
failed_event() { svc '"|".join(e["message"] for e in s["events"])' | grep -q 'deployment failed: tasks failed to start'; }
ok "the circuit breaker trips (event)" wait_for 180 failed_event
is "the PRIMARY is web:2 again" \
    "$(svc 's["deployments"][0]["status"]+" "+s["deployments"][0]["taskDefinition"].split("/")[-1]')" "PRIMARY web:2"
like "the events say it rolled back to the last completed deployment" \
    "$(svc '"|".join(e["message"] for e in s["events"])')" \
    "rolling back to deployment ecs-svc/[0-9]{19}\.\|.*deployment failed: tasks failed to start"
ok "steady again on web:2" wait_for 180 steady
is "the same web:2 tasks as before: the rollback replaced none of them" \
    "$(running_tasks)" "$before"

# --- A killed container: the task stops and is replaced.
before=$(running_tasks)
victim=${before%% *}
cid=$(task_field "$victim" 'd["containers"][0]["runtimeId"]')
curl -s -X POST --unix-socket "$SOCK" "http://d/v1.41/containers/$cid/kill?signal=KILL" >/dev/null
ok "the killed task stops" wait_for 60 task_is "$victim" STOPPED
replaced() { t=$(running_tasks); [ "$t" != "$before" ] && steady; }
ok "a new task replaces it: 3 healthy again" wait_for 120 replaced
unlike "the killed task is not among them" "$(running_tasks)" "$victim"

# --- A task whose health check starts failing is replaced.
before=$(running_tasks)
victim=${before%% *}
cid=$(task_field "$victim" 'd["containers"][0]["runtimeId"]')
engine_exec "$cid" rm /tmp/ok
ok "its health turns UNHEALTHY and the scheduler stops it" wait_for 90 task_is "$victim" STOPPED
is "stopped by the service scheduler" \
    "$(task_field "$victim" 'd["stopCode"]+" "+d["stoppedReason"]')" \
    "ServiceSchedulerInitiated Task failed container health checks"
ok "a new task replaces it: 3 healthy again" wait_for 120 replaced
like "the event names it" "$(svc '"|".join(e["message"] for e in s["events"])')" \
    "\(task ${victim##*/}\) failed container health checks"

# --- kill -9 of berthd: the same tasks are adopted, none is added.
before=$(running_tasks)
kill -9 "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null
ok "berthd restarts after kill -9" start_berthd "$T/berth.conf"
ok "and re-lists the engine" wait_log 30 'event=tasks.reconciled'
ok "the service is steady" wait_for 60 steady
is "the same 3 tasks run" "$(running_tasks)" "$before"
is "3 containers on $ENGINE" "$(engine_running)" 3
ok "no task was started after the restart" test "$(grep -c 'event=service.tasks_started' "$T/berthd.log")" -eq 0

# --- Scale in, then delete.
ecs update-service --service web --desired-count 2 >/dev/null
two() { [ "$(running_tasks | wc -w)" = 2 ] && [ "$(engine_running)" = 2 ]; }
ok "scaled in to 2" wait_for 60 two
like "DeleteService without force while scaled above 0 is refused" \
    "$(ecs delete-service --service web)" "InvalidParameterException.*scaled above 0"
is "DeleteService --force answers DRAINING" \
    "$(ecs delete-service --service web --force | jpath 'd["service"]["status"]')" DRAINING
ok "the service becomes INACTIVE" wait_for 60 svc_is 's["status"]' INACTIVE
is "its tasks are gone from the engine" "$(engine_running)" 0
is "ListServices no longer lists it" "$(ecs list-services | jpath 'd["serviceArns"]')" "[]"
like "UpdateService of an INACTIVE service" "$(ecs update-service --service web --desired-count 1)" \
    "ServiceNotActiveException"
# --- Tasks that cannot start, no circuit breaker: retried with a growing gap.
cat >"$T/broken.json" <<'EOF2'
{"family": "broken", "containerDefinitions": [
  {"name": "main", "image": "berth-test/nope:1", "memory": 32}]}
EOF2
register "$T/broken.json" >/dev/null
ecs create-service --service-name broken --task-definition broken --desired-count 1 >/dev/null
broken() { # EXPR (s is the service)
    api DescribeServices '{"services":["broken"]}' | python3 -c "import json,sys; s=json.load(sys.stdin)['services'][0]; print($1)"
}
unstable() { broken '"|".join(e["message"] for e in s["events"])' | grep -q 'is unable to consistently start tasks successfully'; }
ok "after repeated failures: \"is unable to consistently start tasks successfully\"" wait_for 120 unstable
is "the deployment counts its failed tasks and stays IN_PROGRESS" \
    "$(broken 's["deployments"][0]["rolloutState"]+" "+str(s["deployments"][0]["failedTasks"] >= 3)')" "IN_PROGRESS True"
ok "the retries are spaced: at least 2 s between the last two starts" \
    python3 - "$T/berthd.log" <<'PY'
import re, sys, datetime
ts = [datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
      for m in (re.match(r"ts=(\S+)Z .*event=service.tasks_started service=broken", l)
                for l in open(sys.argv[1])) if m]
sys.exit(0 if len(ts) >= 3 and (ts[-1] - ts[-2]).total_seconds() >= 2 else 1)
PY
is "DeleteService --force of it" \
    "$(ecs delete-service --service broken --force | jpath 'd["service"]["status"]')" DRAINING

# --- A service whose task cannot fit this host: placed as RunTask places.
HOST_MIB=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
cat >"$T/huge.json" <<EOF2
{"family": "huge", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": $((HOST_MIB * 2)), "command": ["sleep", "600"]}]}
EOF2
register "$T/huge.json" >/dev/null
ecs create-service --service-name huge --task-definition huge --desired-count 1 >/dev/null
huge() { # EXPR (s is the service)
    api DescribeServices '{"services":["huge"]}' | python3 -c "import json,sys; s=json.load(sys.stdin)['services'][0]; print($1)"
}
unplaced() { huge '"|".join(e["message"] for e in s["events"])' | grep -q 'was unable to place a task because no container instance met all of its requirements.*insufficient memory available'; }
ok "a task twice the host's memory: ECS's \"unable to place a task\" event, naming memory" wait_for 100 unplaced
is "no task was started for it" \
    "$(api ListTasks '{"serviceName":"huge"}' | jpath 'len(d["taskArns"])')/$(huge 's["runningCount"]+s["pendingCount"]')" 0/0
ecs delete-service --service huge --force >/dev/null

stop_berthd
is "berthd exits 0" "$BERTHD_STATUS" 0
done_testing
