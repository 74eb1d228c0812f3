#!/bin/bash
# metrics_cloudwatch_docker.sh: Container Insights' ECS figures from a real
# service on dockerd, through the CloudWatch sink in both modes at once:
# PutMetricData to tests/lib/cw_endpoint.py (signature checked with
# botocore, payload decoded against botocore's model) and EMF lines to a
# file.  A service of two tasks (256 cpu units, 128 MiB each), one of them
# busy: per service, cluster and family the tasks' reservations summed,
# CpuUtilized from the busy task's cpu, the working sets in Megabytes,
# network and storage figures, RunningTaskCount and DesiredTaskCount; then
# a scale-down shows in the next figures.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"
. "$top_srcdir/tests/lib/cw.sh"

requires curl
requires python3
if ! python3 -c 'import botocore' 2>/dev/null; then
    echo "1..0 # SKIP python3-botocore is not installed"
    exit 77
fi
. "$top_srcdir/tests/lib/aws.sh"

start_engine docker || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
SOCK=$(engine_sock docker)

cat >"$T/cwcreds" <<EOF2
[cw]
aws_access_key_id = AKIDBERTHCI
aws_secret_access_key = ci/secret+key
EOF2
ok "the endpoint starts" start_cw_endpoint ep "$T/cwcreds"

PORT=$(free_port)
aws_credentials AKIDCWAPI 'cw/api'
CLUSTER=cwci-$$
write_conf "$T/berth.conf" <<EOF2
[api]
socket = $T/api.sock
listen = 127.0.0.1:$PORT
credentials-file = $T/credentials

[tasks]
host-port-range = 47000-47999

[plugin docker]
socket = $SOCK

[plugin cw]
file = cloudwatch.so
endpoint = http://127.0.0.1:$EP_PORT/
region = eu-west-1
credentials-file = $T/cwcreds
profile = cw

[plugin emf]
file = cloudwatch.so
mode = emf
emf-target = file:$T/emf.out
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"
cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine
ecs() { "$AWS_BIN" ecs "$@" --endpoint-url "http://127.0.0.1:$PORT" --region local --output json 2>&1; }

ok "berthd starts with both CloudWatch sinks" start_berthd "$T/berth.conf"
ok "the engine is listed" wait_log 30 'event=tasks.reconciled'

# Task 1 of the service spins; the other sleeps.  Which is which is decided
# by a file only the first task to start creates on a shared volume.
mkdir -p "$T/shared"
cat >"$T/td.json" <<EOF2
{"family": "cifam", "cpu": "256", "memory": "128",
 "volumes": [{"name": "s", "host": {"sourcePath": "$T/shared"}}],
 "containerDefinitions": [
  {"name": "app", "image": "berth-test/busybox:1",
   "mountPoints": [{"sourceVolume": "s", "containerPath": "/s"}],
   "command": ["sh", "-c", "trap 'exit 0' TERM; if mkdir /s/busy 2>/dev/null; then while :; do :; done; else while :; do sleep 1; done; fi"]}]}
EOF2
ecs register-task-definition --cli-input-json "file://$T/td.json" >/dev/null
like "CreateService ci with 2 tasks" \
    "$(ecs create-service --service-name ci --task-definition cifam --desired-count 2)" '"serviceName": "ci"'
running2() { [ "$(ecs describe-services --services ci | jpath 'd["services"][0]["runningCount"]')" = 2 ]; }
ok "both tasks run" wait_for 180 running2

# rec_where EXPR: the values of PutMetricData data satisfying EXPR (m is
# the datum, dims its dimensions), newest last, one per line.
rec_where() {
    python3 - "$T/ep.rec" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("error") or not r.get("sig_ok"):
        continue
    for m in r["metrics"]:
        dims = m["dimensions"]
        if eval(sys.argv[2]):
            print(m["value"])
PY
}
svc='dims == {"ClusterName": "'$CLUSTER'", "ServiceName": "ci"}'
fam='dims == {"ClusterName": "'$CLUSTER'", "TaskDefinitionFamily": "cifam"}'
clu='dims == {"ClusterName": "'$CLUSTER'"}'
# last NAME DIMS-EXPR: the newest value of NAME with those dimensions.
last() { rec_where "m['name'] == '$1' and $2" | tail -1; }
# last_is NAME DIMS VALUE
last_is() { [ "$(last "$1" "$2")" = "$3" ]; }
# last_gt NAME DIMS MIN
last_gt() { v=$(last "$1" "$2"); [ -n "$v" ] && python3 -c "import sys; sys.exit(0 if $v > $3 else 1)"; }

ok "the service's RunningTaskCount reaches 2" wait_for 60 last_is RunningTaskCount "$svc" 2.0
is "DesiredTaskCount 2" "$(last DesiredTaskCount "$svc")" 2.0
ok "CpuReserved: 2 x 256 units" wait_for 60 last_is CpuReserved "$svc" 512.0
is "MemoryReserved: 2 x 128 Megabytes" "$(last MemoryReserved "$svc")" 256.0
ok "MemoryUtilized arrives, above 0" wait_for 60 last_gt MemoryUtilized "$svc" 0
ok "CpuUtilized: the busy task's cpu, above 100 units" wait_for 90 last_gt CpuUtilized "$svc" 100
ok "NetworkRxBytes and StorageReadBytes arrive with it" \
    wait_for 30 eval '[ -n "$(last NetworkRxBytes "$svc")" ] && [ -n "$(last StorageReadBytes "$svc")" ]'
is "units: CpuUtilized None, MemoryUtilized Megabytes, NetworkRxBytes Bytes/Second, StorageReadBytes Bytes" \
    "$(python3 - "$T/ep.rec" <<'PY'
import json, sys
u = {}
for line in open(sys.argv[1]):
    for m in json.loads(line)["metrics"]:
        u[m["name"]] = m["unit"]
print(" ".join(u.get(n, "-") for n in ("CpuUtilized", "MemoryUtilized", "NetworkRxBytes", "StorageReadBytes")))
PY
)" "None Megabytes Bytes/Second Bytes"
ok "the family's figures: RunningTaskCount 2, CpuReserved 512" \
    wait_for 30 eval 'last_is RunningTaskCount "$fam" 2.0 && last_is CpuReserved "$fam" 512.0'
ok "the cluster's: TaskCount 2, ServiceCount 1" \
    wait_for 30 eval 'last_is TaskCount "$clu" 2.0 && last_is ServiceCount "$clu" 1.0'
is "every request was signed right and passed botocore's model" \
    "$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("error") or not json.loads(l)["sig_ok"]))' "$T/ep.rec")" 0
is "Container Insights only (the default): no series under its own name" \
    "$(rec_where "m['name'].startswith('container_') or m['name'].startswith('berth_')" | wc -l)" 0

# ---- EMF: one event per group and export ----
emf_last() {
    python3 - "$T/emf.out" "$1" "$2" <<'PY'
import json, sys
want_type, name = sys.argv[2], sys.argv[3]
v = ""
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("Type") == want_type and name in o:
        d = o["_aws"]["CloudWatchMetrics"][0]
        assert name in [m["Name"] for m in d["Metrics"]], "value without its directive"
        for ds in d["Dimensions"]:
            for k in ds:
                assert isinstance(o[k], str), "dimension %s has no member" % k
        v = o[name]
print(v)
PY
}
emf_gt() { v=$(emf_last "$1" "$2"); [ -n "$v" ] && python3 -c "import sys; sys.exit(0 if $v > $3 else 1)"; }
ok "EMF: the service's event carries CpuUtilized above 100" wait_for 60 emf_gt Service CpuUtilized 100
is "EMF: the service's RunningTaskCount" "$(emf_last Service RunningTaskCount)" 2
is "EMF: the family's CpuReserved" "$(emf_last TaskDefinitionFamily CpuReserved)" 512
like "EMF: the service's event names its dimension set" \
    "$(grep '"Type":"Service"' "$T/emf.out" | tail -1)" '"Dimensions":\[\["ClusterName","ServiceName"\]\]'
is "EMF: every event holds one group's figures together (never one per value)" \
    "$(python3 -c '
import json, sys
print(min(len(json.loads(l)["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for l in open(sys.argv[1]) if "\"Type\":\"Service\"" in l) >= 3)' "$T/emf.out")" True

# ---- the next figures follow a scale-down ----
ecs update-service --service ci --desired-count 1 >/dev/null
ok "after scaling to 1: DesiredTaskCount 1, then RunningTaskCount 1" \
    wait_for 120 eval 'last_is DesiredTaskCount "$svc" 1.0 && last_is RunningTaskCount "$svc" 1.0'
ok "and CpuReserved 256" wait_for 60 last_is CpuReserved "$svc" 256.0

ecs update-service --service ci --desired-count 0 >/dev/null
ecs delete-service --service ci >/dev/null
stop_berthd
is "clean exit" "$BERTHD_STATUS" 0
done_testing
