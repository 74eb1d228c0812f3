# api_clusters.sh: clusters, this host as a container instance, and
# placement on it, through the ECS API with Debian's aws CLI against berthd
# driving the real dockerd.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"

requires curl
requires python3
. "$top_srcdir/tests/lib/aws.sh"
start_dockerd || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
SOCK=$(engine_sock docker)

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
aws_credentials AKIDCLUSTERS 'clusters/secret'

# Fixed host ports of this test: 42700 (taken by a task), 42701 (reserved).
CLUSTER=clusters-$$
write_conf "$T/berth.conf" <<EOF2
[api]
socket = $T/api.sock
listen = 127.0.0.1:$PORT
credentials-file = $T/credentials

[tasks]
host-port-range = 42000-42499
reserved-ports = 22,42701

[plugin docker]
socket = $SOCK
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"

cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine

ecs() { "$AWS_BIN" ecs "$@" --endpoint-url "http://127.0.0.1:$PORT" --region local --output json 2>&1; }
task_is() {
    [ "$(ecs describe-tasks --cluster "$CLUSTER" --tasks "$1" | jpath 'd["tasks"][0]["lastStatus"]')" = "$2" ]
}
CARN="arn:aws:ecs:local:000000000000:cluster"

ok "berthd starts with the docker plugin" start_berthd "$T/berth.conf"
ok "it registers this host in its cluster" wait_log 10 "event=instance.registered cluster=$CLUSTER"
ok "the engine is listed" wait_log 30 'event=tasks.reconciled'

# --- Clusters.
is "the agent's own cluster exists, ACTIVE, with its one instance" \
    "$(ecs describe-clusters --clusters "$CLUSTER" | jpath 'd["clusters"][0]["status"]+" "+str(d["clusters"][0]["registeredContainerInstancesCount"])')" \
    "ACTIVE 1"
OUT=$(ecs create-cluster --cluster-name other-$$ --settings name=containerInsights,value=enabled \
    --tags key=team,value=ops --configuration 'executeCommandConfiguration={logging=DEFAULT}')
is "create-cluster answers the new cluster" "$(echo "$OUT" | jpath 'd["cluster"]["clusterArn"]+" "+d["cluster"]["status"]')" \
    "$CARN/other-$$ ACTIVE"
is "its settings are echoed" "$(echo "$OUT" | jpath 'd["cluster"]["settings"]')" \
    "[{'name': 'containerInsights', 'value': 'enabled'}]"
is "it has no container instance" "$(echo "$OUT" | jpath 'd["cluster"]["registeredContainerInstancesCount"]')" 0
is "creating it again returns it unchanged" \
    "$(ecs create-cluster --cluster-name other-$$ | jpath 'd["cluster"]["settings"][0]["value"]')" enabled
like "a bad name is refused naming it" "$(ecs create-cluster --cluster-name 'bad name')" \
    "InvalidParameterException.*bad name"
like "capacity providers are refused, saying why" \
    "$(ecs create-cluster --cluster-name cp-$$ --capacity-providers FARGATE)" \
    "InvalidParameterException.*capacityProviders.*own capacity"
D=$(ecs describe-clusters --clusters other-$$ nosuch-$$ --include TAGS SETTINGS STATISTICS CONFIGURATIONS)
is "describe-clusters --include TAGS" "$(echo "$D" | jpath 'd["clusters"][0]["tags"]')" \
    "[{'key': 'team', 'value': 'ops'}]"
is "--include CONFIGURATIONS echoes the configuration" \
    "$(echo "$D" | jpath 'd["clusters"][0]["configuration"]["executeCommandConfiguration"]["logging"]')" DEFAULT
is "--include STATISTICS" "$(echo "$D" | jpath 'len(d["clusters"][0]["statistics"])')" 8
is "an unknown cluster is a MISSING failure" "$(echo "$D" | jpath 'd["failures"][0]["arn"]+" "+d["failures"][0]["reason"]')" \
    "$CARN/nosuch-$$ MISSING"
is "without --include no tags" "$(ecs describe-clusters --clusters other-$$ | jpath '"tags" in d["clusters"][0]')" False
like "an unknown include value is refused" "$(ecs describe-clusters --clusters other-$$ --include NOPE)" \
    "InvalidParameterException.*include\[0\]"
for i in 1 2 3; do ecs create-cluster --cluster-name "page$i-$$" >/dev/null; done
L=$(ecs list-clusters --max-items 100)
for c in "$CLUSTER" other-$$ page1-$$ page3-$$; do
    like "list-clusters lists $c" "$L" "$CARN/$c\""
done
is "list-clusters pages (the CLI follows nextToken with page size 2)" \
    "$(ecs list-clusters --page-size 2 | jpath 'len(d["clusterArns"])')" \
    "$(echo "$L" | jpath 'len(d["clusterArns"])')"

# --- Deleting.
is "delete-cluster of the agent's own cluster" \
    "$(ecs delete-cluster --cluster "$CLUSTER" | grep -o 'ClusterContainsContainerInstancesException.*')" \
    "ClusterContainsContainerInstancesException) when calling the DeleteCluster operation: The Cluster cannot be deleted while Container Instances are active or draining."
is "delete-cluster of another: INACTIVE" "$(ecs delete-cluster --cluster page2-$$ | jpath 'd["cluster"]["status"]')" INACTIVE
is "still describable as INACTIVE" "$(ecs describe-clusters --clusters page2-$$ | jpath 'd["clusters"][0]["status"]')" INACTIVE
unlike "and no longer listed" "$(ecs list-clusters)" "page2-$$"
like "delete-cluster of an unknown cluster" "$(ecs delete-cluster --cluster nosuch-$$)" \
    "ClusterNotFoundException.*Cluster not found"
is "create-cluster brings an INACTIVE cluster back" \
    "$(ecs create-cluster --cluster-name page2-$$ | jpath 'd["cluster"]["status"]')" ACTIVE

# --- This host as a container instance.
CI=$(ecs list-container-instances --cluster "$CLUSTER" | jpath 'd["containerInstanceArns"][0]')
like "list-container-instances: this host" "$CI" \
    "^arn:aws:ecs:local:000000000000:container-instance/$CLUSTER/[0-9a-f]{32}$"
is "no instance in another cluster" \
    "$(ecs list-container-instances --cluster other-$$ | jpath 'len(d["containerInstanceArns"])')" 0
is "status DRAINING lists none" \
    "$(ecs list-container-instances --cluster "$CLUSTER" --status DRAINING | jpath 'len(d["containerInstanceArns"])')" 0
is "filter attribute:ecs.os-type == linux lists this host" \
    "$(ecs list-container-instances --cluster "$CLUSTER" --filter 'attribute:ecs.os-type == linux' | jpath 'len(d["containerInstanceArns"])')" 1
is "filter attribute:ecs.os-type != linux lists none" \
    "$(ecs list-container-instances --cluster "$CLUSTER" --filter 'attribute:ecs.os-type != linux' | jpath 'len(d["containerInstanceArns"])')" 0
like "a filter beyond that is refused clearly" "$(ecs list-container-instances --cluster "$CLUSTER" --filter 'runningTasksCount > 1')" \
    "InvalidParameterException.*only one expression on an attribute"
like "an unknown cluster" "$(ecs list-container-instances --cluster nosuch-$$)" "ClusterNotFoundException"
ID=${CI##*/}
DI=$(ecs describe-container-instances --cluster "$CLUSTER" --container-instances "$ID" nope-$$)
ci() { echo "$DI" | jpath "$1"; }
is "describe by ID answers the ARN" "$(ci 'd["containerInstances"][0]["containerInstanceArn"]')" "$CI"
is "an unknown ID is a MISSING failure" "$(ci 'd["failures"][0]["arn"]+" "+d["failures"][0]["reason"]')" "nope-$$ MISSING"
is "status ACTIVE, agent connected" "$(ci 'd["containerInstances"][0]["status"]+" "+str(d["containerInstances"][0]["agentConnected"])')" "ACTIVE True"
is "agentVersion is berthd's" "$(ci 'd["containerInstances"][0]["versionInfo"]["agentVersion"]')" \
    "$("$BERTHD" --version | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)"
like "dockerVersion is the engine's" "$(ci 'd["containerInstances"][0]["versionInfo"]["dockerVersion"]')" "^docker [0-9]"
NCPU=$(nproc)
MEM=$(awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo)
is "registered CPU: 1024 per CPU" "$(ci '[r["integerValue"] for r in d["containerInstances"][0]["registeredResources"] if r["name"]=="CPU"][0]')" \
    "$((NCPU * 1024))"
is "registered MEMORY: MemTotal in MiB" "$(ci '[r["integerValue"] for r in d["containerInstances"][0]["registeredResources"] if r["name"]=="MEMORY"][0]')" "$MEM"
is "registered PORTS: the reserved ones" "$(ci '[r["stringSetValue"] for r in d["containerInstances"][0]["registeredResources"] if r["name"]=="PORTS"][0]')" \
    "['22', '42701']"
like "attributes: os type, architecture, docker remote API" \
    "$(ci '" ".join(a["name"]+"="+a.get("value","") for a in d["containerInstances"][0]["attributes"])')" \
    "ecs.os-type=linux .*ecs.cpu-architecture=$(uname -m | sed 's/aarch64/arm64/').*docker-remote-api.1.17="
like "describe in another cluster: MISSING" \
    "$(ecs describe-container-instances --cluster other-$$ --container-instances "$ID" | jpath 'd["failures"][0]["reason"]')" MISSING

# --- Tags on cluster and container-instance ARNs.
ok "tag-resource on a cluster" ecs tag-resource --resource-arn "$CARN/other-$$" --tags key=env,value=test
ok "untag-resource on a cluster" ecs untag-resource --resource-arn "$CARN/other-$$" --tag-keys team
is "list-tags-for-resource on a cluster" \
    "$(ecs list-tags-for-resource --resource-arn "$CARN/other-$$" | jpath 'd["tags"]')" "[{'key': 'env', 'value': 'test'}]"
ok "tag-resource on the container instance" ecs tag-resource --resource-arn "$CI" --tags key=rack,value=r1
is "describe-container-instances --include TAGS shows it" \
    "$(ecs describe-container-instances --cluster "$CLUSTER" --container-instances "$CI" --include TAGS | jpath 'd["containerInstances"][0]["tags"]')" \
    "[{'key': 'rack', 'value': 'r1'}]"
like "another host's instance ARN is refused" \
    "$(ecs tag-resource --resource-arn "arn:aws:ecs:local:000000000000:container-instance/$CLUSTER/0123" --tags key=a,value=b)" \
    "InvalidParameterException.*not found"

# --- Tasks and clusters.
cat >"$T/sleep.json" <<'EOF2'
{"family": "cl-sleep", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32, "cpu": 10,
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}]}
EOF2
ecs register-task-definition --cli-input-json "file://$T/sleep.json" >/dev/null
is "run-task into another cluster: no container instances" \
    "$(ecs run-task --cluster other-$$ --task-definition cl-sleep | grep -o 'InvalidParameterException.*')" \
    "InvalidParameterException) when calling the RunTask operation: No Container Instances were found in your cluster."
is "run-task into an unknown cluster" \
    "$(ecs run-task --cluster nosuch-$$ --task-definition cl-sleep | grep -o 'ClusterNotFoundException.*')" \
    "ClusterNotFoundException) when calling the RunTask operation: Cluster not found."
is "list-tasks in another cluster: none" "$(ecs list-tasks --cluster other-$$ | jpath 'len(d["taskArns"])')" 0
# Services run in this host's cluster only: another has none of them.
is "list-services in another cluster: none" \
    "$(ecs list-services --cluster other-$$ | jpath 'len(d["serviceArns"])')" 0
is "describe-services in another cluster: MISSING, under that cluster's ARN" \
    "$(ecs describe-services --cluster other-$$ --services web | jpath 'd["failures"][0]["reason"]+" "+d["failures"][0]["arn"]')" \
    "MISSING arn:aws:ecs:local:000000000000:service/other-$$/web"
like "update-service in another cluster: ServiceNotFoundException" \
    "$(ecs update-service --cluster other-$$ --service web --desired-count 1)" \
    "ServiceNotFoundException.*Service not found: web"
like "create-service in another cluster is refused, saying where services run" \
    "$(ecs create-service --cluster other-$$ --service-name web --task-definition cl-sleep --desired-count 1)" \
    "InvalidParameterException.*No Container Instances were found in cluster other-$$"
S=$(ecs run-task --cluster "$CLUSTER" --task-definition cl-sleep --count 2 | jpath '" ".join(t["taskArn"] for t in d["tasks"])')
set -- $S
ok "two tasks run" wait_for 60 task_is "$1" RUNNING
ok "both" wait_for 60 task_is "$2" RUNNING
is "describe-clusters counts them" \
    "$(ecs describe-clusters --clusters "$CLUSTER" | jpath 'str(d["clusters"][0]["runningTasksCount"])+" "+str(d["clusters"][0]["pendingTasksCount"])')" "2 0"
is "and the instance does" \
    "$(ecs describe-container-instances --cluster "$CLUSTER" --container-instances "$ID" | jpath 'd["containerInstances"][0]["runningTasksCount"]')" 2
is "remaining CPU and MEMORY subtract what they reserve" \
    "$(ecs describe-container-instances --cluster "$CLUSTER" --container-instances "$ID" | jpath '" ".join(str(r["integerValue"]) for r in d["containerInstances"][0]["remainingResources"][:2])')" \
    "$((NCPU * 1024 - 20)) $((MEM - 64))"
ok "start-task on this instance" wait_for 1 test "$(ecs start-task --cluster "$CLUSTER" --task-definition cl-sleep --container-instances "$ID" | jpath 'len(d["tasks"])')" = 1
is "start-task on an unknown instance: MISSING" \
    "$(ecs start-task --cluster "$CLUSTER" --task-definition cl-sleep --container-instances nope-$$ | jpath 'str(len(d["tasks"]))+" "+d["failures"][0]["reason"]')" "0 MISSING"

# --- Placement: memory and ports.
cat >"$T/huge.json" <<EOF2
{"family": "cl-huge", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": $((MEM + 1024)),
   "command": ["sleep", "60"]}]}
EOF2
ecs register-task-definition --cli-input-json "file://$T/huge.json" >/dev/null
H=$(ecs run-task --cluster "$CLUSTER" --task-definition cl-huge)
is "more memory than the host has: no task" "$(echo "$H" | jpath 'len(d["tasks"])')" 0
is "a RESOURCE:MEMORY failure on this instance" "$(echo "$H" | jpath 'd["failures"][0]["reason"]+" "+d["failures"][0]["arn"]')" \
    "RESOURCE:MEMORY $CI"
cat >"$T/fixed.json" <<'EOF2'
{"family": "cl-fixed", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 80 & wait"],
   "portMappings": [{"containerPort": 80, "hostPort": 42700}]}]}
EOF2
ecs register-task-definition --cli-input-json "file://$T/fixed.json" >/dev/null
F1=$(ecs run-task --cluster "$CLUSTER" --task-definition cl-fixed | jpath 'd["tasks"][0]["taskArn"]')
ok "a task with fixed hostPort 42700 runs" wait_for 60 task_is "$F1" RUNNING
F2=$(ecs run-task --cluster "$CLUSTER" --task-definition cl-fixed)
is "the same again: RESOURCE:PORTS, no task" "$(echo "$F2" | jpath 'str(len(d["tasks"]))+" "+d["failures"][0]["reason"]')" "0 RESOURCE:PORTS"
is "count 3 of the same: all three fail" \
    "$(ecs run-task --cluster "$CLUSTER" --task-definition cl-fixed --count 3 | jpath '" ".join(f["reason"] for f in d["failures"])')" \
    "RESOURCE:PORTS RESOURCE:PORTS RESOURCE:PORTS"
like "remaining PORTS include the task's" \
    "$(ecs describe-container-instances --cluster "$CLUSTER" --container-instances "$ID" | jpath '[r["stringSetValue"] for r in d["containerInstances"][0]["remainingResources"] if r["name"]=="PORTS"][0]')" \
    "'42700'"
sed 's/42700/42701/' "$T/fixed.json" | sed 's/cl-fixed/cl-reserved/' >"$T/reserved.json"
ecs register-task-definition --cli-input-json "file://$T/reserved.json" >/dev/null
is "a port reserved in berth.conf: RESOURCE:PORTS" \
    "$(ecs run-task --cluster "$CLUSTER" --task-definition cl-reserved | jpath 'd["failures"][0]["reason"]')" RESOURCE:PORTS
ecs stop-task --cluster "$CLUSTER" --task "$F1" >/dev/null
ok "once the first stops" wait_for 60 task_is "$F1" STOPPED
F3=$(ecs run-task --cluster "$CLUSTER" --task-definition cl-fixed | jpath 'd["tasks"][0]["taskArn"]')
ok "the port is free again: the task runs" wait_for 60 task_is "$F3" RUNNING

# --- The instance ID survives a restart.
stop_berthd
ok "berthd restarts" start_berthd "$T/berth.conf"
is "the same container instance" "$(ecs list-container-instances --cluster "$CLUSTER" | jpath 'd["containerInstanceArns"][0]')" "$CI"
is "clusters were kept" "$(ecs describe-clusters --clusters other-$$ | jpath 'd["clusters"][0]["status"]')" ACTIVE
for t in $S "$F3"; do ecs stop-task --cluster "$CLUSTER" --task "$t" >/dev/null; done
stop_berthd
done_testing
