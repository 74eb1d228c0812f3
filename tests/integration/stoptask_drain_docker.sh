# stoptask_drain_docker.sh: StopTask on a service's task drains it first,
# as the scheduler's own stops do (ECS deregisters it from its target
# groups before stopping it): the task answers DEACTIVATING with
# desiredStatus STOPPED, leaves DNS at once while its container still runs
# for the drainers' wait (the DNS TTL here, 20 s: the checks made
# during it need that much under load), then stops with the user's
# reason; the service says it began draining and replaces the task.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"

requires curl
requires python3
requires dig

ENGINE=docker
start_engine "$ENGINE" || exit 1
build_busybox_image "$ENGINE" berth-test/busybox:1 || exit 1
SOCK=$(engine_sock "$ENGINE")

CLUSTER=stopdrain-$$
DPORT=$(free_port)
write_conf "$T/berth.conf" <<EOF2
[tasks]
host-port-range = 46500-46599

[dns]
enabled = yes
listen = 127.0.0.1:$DPORT
namespaces = prod.local
ttl = 20s

[plugin $ENGINE]
socket = $SOCK
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"
cleanup_engine() { remove_cluster "$ENGINE" "$CLUSTER"; }
on_exit cleanup_engine

srv() { dig -p "$DPORT" @127.0.0.1 +time=2 +tries=1 +noall +answer SRV web.prod.local; }
n_srv() { srv | grep -c SRV; }
has_n() { [ "$(n_srv)" -eq "$1" ]; }
task() { api DescribeTasks "{\"tasks\":[\"$1\"]}"; }
task_field() { task "$1" | jpath "d['tasks'][0].get('$2', '')"; }
status_is() { [ "$(task_field "$1" lastStatus)" = "$2" ]; }
not_in_dns() { out=$(srv); [ -n "$out" ] && ! printf '%s\n' "$out" | grep -q "$1"; }
container_running() { # TASK
    cid=$(task "$1" | jpath 'd["tasks"][0]["containers"][0]["runtimeId"]')
    curl -s --unix-socket "$SOCK" "http://d/v1.41/containers/$cid/json" | jpath 'd["State"]["Running"]'
}

ok "berthd starts" start_berthd "$T/berth.conf" || diag "$(tail -20 "$T/berthd.log")"

cat >"$T/web.json" <<'EOF2'
{"family": "web", "containerDefinitions": [
  {"name": "app", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "echo hi > /tmp/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /tmp & wait"],
   "portMappings": [{"containerPort": 8080, "hostPort": 0}]}]}
EOF2
like "the task definition registers" "$(api RegisterTaskDefinition "$(cat "$T/web.json")")" '"taskDefinitionArn"'
like "CreateService web, 2 tasks, in DNS" \
    "$(api CreateService "{\"cluster\":\"$CLUSTER\",\"serviceName\":\"web\",\"taskDefinition\":\"web\",\"desiredCount\":2,
      \"serviceRegistries\":[{\"registryArn\":\"arn:aws:servicediscovery:local:000000000000:service/prod.local/web\",\"containerName\":\"app\",\"containerPort\":8080}]}")" \
    '"serviceName": *"web"'
ok "both tasks are in DNS" wait_for 600 has_n 2 || diag "$(srv; tail -5 "$T/berthd.log")"

arn=$(api ListTasks '{"serviceName":"web"}' | jpath 'd["taskArns"][0]')
id=${arn##*/}
out=$(api StopTask "{\"cluster\":\"$CLUSTER\",\"task\":\"$arn\",\"reason\":\"drain me\"}")
is "StopTask answers desiredStatus STOPPED" "$(printf '%s' "$out" | jpath 'd["task"]["desiredStatus"]')" STOPPED
is "... and lastStatus DEACTIVATING: it is drained before it stops" \
    "$(printf '%s' "$out" | jpath 'd["task"]["lastStatus"]')" DEACTIVATING
is "... its container still runs" "$(container_running "$arn")" True ||
    diag "$(grep "$id" "$T/berthd.log" | tail -15)"
ok "the task leaves DNS at once" wait_for 5 not_in_dns "$id" || diag "$(srv)"
is "... while it is still DEACTIVATING" "$(task_field "$arn" lastStatus)" DEACTIVATING
like "the service says it began draining" \
    "$(api DescribeServices "{\"cluster\":\"$CLUSTER\",\"services\":[\"web\"]}" | jpath '" | ".join(e["message"] for e in d["services"][0]["events"])')" \
    "has begun draining connections on 1 tasks"
ok "after the wait the task stops" wait_for 300 status_is "$arn" STOPPED ||
    diag "$(task "$arn")"
is "... with stopCode UserInitiated" "$(task_field "$arn" stopCode)" UserInitiated
is "... and the user's reason" "$(task_field "$arn" stoppedReason)" "drain me"
ok "... not before the drain's wait was over" python3 - "$(task "$arn")" <<'EOF2'
import json, sys
t = json.loads(sys.argv[1])["tasks"][0]
# stoppingAt is when StopTask came; the containers were stopped only after
# the 20 s TTL (executionStoppedAt).  Seconds, as floats.
sys.exit(0 if t["executionStoppedAt"] - t["stoppingAt"] >= 19.5 else 1)
EOF2
ok "the service replaces it: two tasks in DNS again" wait_for 600 has_n 2 || diag "$(srv)"
ok "... neither of them the stopped one" not_in_dns "$id"

# A task of no service stops at once.
out=$(api RunTask "{\"cluster\":\"$CLUSTER\",\"taskDefinition\":\"web\"}")
like "RunTask outside any service" "$out" '"taskArn"'
lone=$(printf '%s' "$out" | jpath 'd["tasks"][0]["taskArn"]')
ok "... once running" wait_for 300 status_is "$lone" RUNNING
out=$(api StopTask "{\"cluster\":\"$CLUSTER\",\"task\":\"$lone\"}")
unlike "... StopTask does not hold it DEACTIVATING" \
    "$(printf '%s' "$out" | jpath 'd["task"]["lastStatus"]')" "^DEACTIVATING$"
ok "... and it stops" wait_for 120 status_is "$lone" STOPPED

stop_berthd
done_testing
