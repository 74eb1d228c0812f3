# services_dir_docker.sh: declarative services (services.d) on a real
# dockerd, checked through the ECS API with Debian's aws CLI: a file's
# service runs at start; SIGHUP with the file unchanged changes nothing; a
# changed command makes a new revision and a deployment that completes; a
# new file adds its service; a broken file is logged with its file and
# JSON path while its service runs on; a removed file's service is scaled
# to zero and goes INACTIVE; a service made with the aws CLI is untouched.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"

requires curl
requires python3
. "$top_srcdir/tests/lib/aws.sh"

start_dockerd || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
SOCK=$(engine_sock docker)

PORT=$(free_port)
aws_credentials AKIDSERVICESD 'servicesd/secret'

CLUSTER=sd-docker-$$
mkdir -p "$T/services.d"
# services-dir relative: taken from the conf's folder ($T).
write_conf "$T/berth.conf" <<EOF2
services-dir = services.d

[api]
socket = $T/api.sock
listen = 127.0.0.1:$PORT
credentials-file = $T/credentials

[tasks]
host-port-range = 48500-48999

[plugin docker]
socket = $SOCK
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"

cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine

ecs() { "$AWS_BIN" ecs "$@" --cluster "$CLUSTER" --endpoint-url "http://127.0.0.1:$PORT" --region local --output json 2>&1; }
svc() { # NAME EXPR (s is the service)
    api DescribeServices "{\"services\":[\"$1\"]}" |
        python3 -c "import json,sys; s=json.load(sys.stdin)['services'][0]; print($2)"
}
svc_is() { [ "$(svc "$1" "$2" 2>/dev/null)" = "$3" ]; }
revisions() { api ListTaskDefinitions "{\"familyPrefix\":\"$1\"}" | jpath 'len(d["taskDefinitionArns"])'; }
applied() { grep -c "event=services_dir.applied file=$1 service=$2 action=$3" "$T/berthd.log"; }
# engine_running NAME: running containers of service NAME's tasks.
engine_running() { cluster_running docker "$CLUSTER" "$1"; }
# A service file: FILE SERVICE FAMILY VERSION DESIRED [EXTRA-SERVICE-JSON]
sdfile() {
    cat >"$T/services.d/$1" <<EOF2
{"taskDefinition": {"family": "$3", "containerDefinitions": [
   {"name": "app", "image": "berth-test/busybox:1", "memory": 32,
    "command": ["sh", "-c", "echo $4; trap 'exit 0' TERM; sleep 3600 & wait"]}]},
 "service": {"serviceName": "$2", "desiredCount": $5${6:+, $6}}}
EOF2
}
# steady NAME N: one deployment, COMPLETED, N running.
steady() { svc_is "$1" 'len(s["deployments"]), s["deployments"][0]["rolloutState"], s["runningCount"], s["pendingCount"]' "1 COMPLETED $2 0"; }

sdfile web.json web web one 2
ok "berthd starts with a services.d holding web.json" start_berthd "$T/berth.conf" ||
    diag "$(tail -20 "$T/berthd.log")"
is "at start: web.json applied, action=created" "$(applied web.json web created)" 1
ok "aws ecs wait services-stable web returns" ecs wait services-stable --services web
ok "web: 2 tasks running, deployment COMPLETED" wait_for 60 steady web 2
is "describe-services (aws CLI): ACTIVE, 2 running, web:1" \
    "$(ecs describe-services --services web | jpath '(lambda s: (s["status"], s["runningCount"], s["taskDefinition"].split("/")[-1]))(d["services"][0])')" \
    "('ACTIVE', 2, 'web:1')"
is "2 containers of web run on docker" "$(engine_running web)" 2

# A service made with the aws CLI, which the folder must never touch.
printf '%s' '{"family": "apidef", "containerDefinitions": [{"name": "app", "image": "berth-test/busybox:1", "memory": 32, "command": ["sh", "-c", "trap \"exit 0\" TERM; sleep 3600 & wait"]}]}' >"$T/apidef.json"
like "aws CLI: a definition registered" \
    "$("$AWS_BIN" ecs register-task-definition --cli-input-json "file://$T/apidef.json" --endpoint-url "http://127.0.0.1:$PORT" --region local --output json 2>&1)" apidef:1
like "aws CLI: service apisvc created" \
    "$(ecs create-service --service-name apisvc --task-definition apidef --desired-count 1)" '"ACTIVE"'
ok "apisvc steady" wait_for 60 steady apisvc 1
api_untouched() { svc_is apisvc 's["status"], s["desiredCount"], len(s["deployments"]), s["taskDefinition"].split("/")[-1]' "ACTIVE 1 1 apidef:1"; }

# --- SIGHUP, nothing changed.
events=$(svc web 'len(s["events"])')
dep=$(svc web 's["deployments"][0]["id"]')
ok "SIGHUP with the file unchanged: the reload is done" reload
is "web.json: action=unchanged" "$(applied web.json web unchanged)" 1
is "no new revision of web" "$(revisions web)" 1
is "no new deployment, no new event" "$(svc web 's["deployments"][0]["id"], len(s["deployments"]), len(s["events"])')" "$dep 1 $events"

# --- The command changed: a new revision and a deployment that completes.
sdfile web.json web web two 2
ok "SIGHUP with a changed command" reload
ok "web.json: action=updated, a new deployment" log_has \
    'event=services_dir.applied file=web.json service=web action=updated deployment=new'
is "web:2 registered" "$(revisions web)" 2
like "the primary deployment runs web:2" "$(svc web 's["deployments"][0]["taskDefinition"]')" 'web:2$'
ok "the deployment completes: 2 tasks of web:2, the old ones gone" wait_for 90 steady web 2
is "the service runs web:2" "$(svc web 's["taskDefinition"].split("/")[-1]')" web:2

# --- A second file.
sdfile second.json second second one 1
ok "SIGHUP with second.json added" reload
is "second.json: action=created" "$(applied second.json second created)" 1
ok "its service appears and runs 1 task" wait_for 60 steady second 1
is "web.json unchanged meanwhile" "$(applied web.json web unchanged)" 2

# --- A broken file: logged with file and path; its service runs on.
sdfile web.json web web three 2 '"deploymentConfiguration": {"maximumPercent": "lots"}'
ok "SIGHUP with web.json broken" reload
ok "the error names the file and the JSON path" log_has \
    'event=services_dir.error error="web.json: service.deploymentConfiguration.maximumPercent: '
is "no new revision from the broken file" "$(revisions web)" 2
out=$("$BERTHD" --check-config --config "$T/berth.conf" 2>&1)
is "berthd --check-config refuses the folder too" "$?" 1
like "naming the file and the JSON path" "$out" \
    "$T/services.d/web.json: service.deploymentConfiguration.maximumPercent: "
ok "web still runs its 2 tasks of web:2" steady web 2
is "and is still ACTIVE" "$(svc web 's["status"], s["desiredCount"]')" "ACTIVE 2"

# --- A file naming a target group berth.conf does not have: refused.
sdfile lbx.json lbx lbx one 1 '"loadBalancers": [{"targetGroupArn": "nosuch", "containerName": "app", "containerPort": 80}]'
ok "SIGHUP with lbx.json naming an unknown target group" reload
ok "the error names the file, the entry and the target group" wait_log 30 \
    'event=services_dir.error error="lbx.json: service.loadBalancers\[0\].targetGroupArn: target group nosuch does not exist: .* has no \[target-group NAME\] section"'
is "no service lbx" "$(api DescribeServices '{"services":["lbx"]}' | jpath 'len(d["services"])')" 0
rm "$T/services.d/lbx.json"

# --- The file removed: scaled to zero, INACTIVE.
rm "$T/services.d/web.json"
ok "SIGHUP with web.json removed" reload
is "web.json: action=deleted" "$(applied web.json web deleted)" 1
ok "web goes INACTIVE" wait_for 90 svc_is web 's["status"]' INACTIVE
is "its desiredCount is 0 and no container of it runs" "$(svc web 's["desiredCount"]') $(engine_running web)" "0 0"
ok "second still runs" steady second 1
ok "apisvc (made with the aws CLI) untouched throughout" api_untouched
is "no line of the log concerns apisvc from the folder" \
    "$(grep -c 'event=services_dir.*service=apisvc' "$T/berthd.log")" 0

stop_berthd
is "berthd stops cleanly" "$BERTHD_STATUS" 0
done_testing
