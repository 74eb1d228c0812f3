# api_taskdefs.sh: the ECS API end to end with Debian's aws CLI over TCP
# (SigV4) and curl over the unix socket: task definitions, tags, errors,
# durability across kill -9, listener reloads.
. "$top_srcdir/tests/lib/functions.sh"

requires curl
requires python3
. "$top_srcdir/tests/lib/aws.sh"

REGION=eu-west-3
PORT=$(free_port)

aws_credentials AKIDBERTHTEST 'berth/test+secret/0123456789'

api_conf() { # PORT
    write_conf "$T/berth.conf" <<EOF2
region = $REGION
account-id = 123456789012

[api]
socket = $T/api.sock
listen = 127.0.0.1:$1
credentials-file = $T/credentials
EOF2
}

ecs() { "$AWS_BIN" ecs "$@" --endpoint-url "http://127.0.0.1:$PORT" --region "$REGION" --output json 2>&1; }
# jq-free JSON reading: jpath 'expr' evaluated on stdin as d.
unix_call() { # ACTION BODY
    curl -s --unix-socket "$T/api.sock" http://localhost/ \
        -H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.$1" \
        -H 'Content-Type: application/x-amz-json-1.1' -d "$2"
}

cat >"$T/web.json" <<'EOF2'
{"family": "web",
 "containerDefinitions": [{"name": "app", "image": "berth-test/busybox:1", "memory": 64,
   "portMappings": [{"containerPort": 8080}]}]}
EOF2
cat >"$T/bad.json" <<'EOF2'
{"family": "web",
 "containerDefinitions": [{"name": "app", "image": "busybox", "memory": 64,
   "portMappings": [{"containerPort": 70000}]}]}
EOF2

api_conf "$PORT"
ok "berthd starts with the API on TCP and a unix socket" start_berthd "$T/berth.conf"
ok "it logs its listeners" log_has "event=api.started socket=$T/api.sock listen=127.0.0.1:$PORT"
is "the socket is mode 0660" "$(stat -c %a "$T/api.sock")" 660

# Register, twice.
out=$(ecs register-task-definition --cli-input-json "file://$T/web.json" --tags key=team,value=blue)
is "register: revision 1" "$(echo "$out" | jpath 'd["taskDefinition"]["revision"]')" 1
is "with its ARN" "$(echo "$out" | jpath 'd["taskDefinition"]["taskDefinitionArn"]')" \
    "arn:aws:ecs:$REGION:123456789012:task-definition/web:1"
is "compatibilities EC2" "$(echo "$out" | jpath 'd["taskDefinition"]["compatibilities"]')" "['EC2']"
out=$(ecs register-task-definition --cli-input-json "file://$T/web.json")
is "registering again: revision 2" "$(echo "$out" | jpath 'd["taskDefinition"]["revision"]')" 2
ok "the access log names action, status, time and peer" \
    log_has 'event=api.request action=RegisterTaskDefinition status=200 ms=[0-9.]+ peer=127\.0\.0\.1:[0-9]+ .*key=AKIDBERTHTEST'

# Describe three ways.
out=$(ecs describe-task-definition --task-definition web)
is "describe by family: the latest" "$(echo "$out" | jpath 'd["taskDefinition"]["revision"]')" 2
out=$(ecs describe-task-definition --task-definition web:1 --include TAGS)
is "describe by family:rev" "$(echo "$out" | jpath 'd["taskDefinition"]["revision"]')" 1
is "with its tags" "$(echo "$out" | jpath 'd["tags"][0]["value"]')" blue
out=$(ecs describe-task-definition --task-definition "arn:aws:ecs:$REGION:123456789012:task-definition/web:2")
is "describe by ARN" "$(echo "$out" | jpath 'd["taskDefinition"]["revision"]')" 2
like "registeredAt is a date the CLI understands" \
    "$(echo "$out" | jpath 'd["taskDefinition"]["registeredAt"]')" '^20[0-9]{2}-'

# Lists, with the CLI's pagination.
out=$(ecs list-task-definitions --max-items 1)
is "list --max-items 1: one ARN" "$(echo "$out" | jpath 'len(d["taskDefinitionArns"])')" 1
tok=$(echo "$out" | jpath 'd["NextToken"]')
ok "and a NextToken" test -n "$tok"
out=$(ecs list-task-definitions --max-items 1 --starting-token "$tok")
is "the next page" "$(echo "$out" | jpath 'd["taskDefinitionArns"][0].split("/")[-1]')" web:2
out=$(ecs list-task-definitions --page-size 1)
is "--page-size 1 follows nextToken to the end" "$(echo "$out" | jpath 'len(d["taskDefinitionArns"])')" 2
out=$(ecs list-task-definition-families)
is "families" "$(echo "$out" | jpath 'd["families"]')" "['web']"

# Deregister, delete.
out=$(ecs deregister-task-definition --task-definition web:1)
is "deregister: INACTIVE" "$(echo "$out" | jpath 'd["taskDefinition"]["status"]')" INACTIVE
out=$(ecs list-task-definitions --status INACTIVE)
is "listed as INACTIVE" "$(echo "$out" | jpath 'len(d["taskDefinitionArns"])')" 1
# aws 2.9.19 predates delete-task-definitions: over the unix socket.
out=$(unix_call DeleteTaskDefinitions '{"taskDefinitions":["web:1","web:2"]}')
is "delete: one deleted" "$(echo "$out" | jpath 'len(d["taskDefinitions"])')" 1
like "the ACTIVE one is a failure" "$(echo "$out" | jpath 'd["failures"][0]["reason"]')" "ACTIVE"
out=$(ecs describe-task-definition --task-definition web:1)
like "a deleted revision is gone" "$out" "ClientException"

# Tags.
ARN2="arn:aws:ecs:$REGION:123456789012:task-definition/web:2"
ecs tag-resource --resource-arn "$ARN2" --tags key=a,value=1 key=b,value=2 >/dev/null
out=$(ecs list-tags-for-resource --resource-arn "$ARN2")
is "tag-resource then list-tags-for-resource" "$(echo "$out" | jpath 'len(d["tags"])')" 2
ecs untag-resource --resource-arn "$ARN2" --tag-keys a >/dev/null
out=$(ecs list-tags-for-resource --resource-arn "$ARN2")
is "untag-resource" "$(echo "$out" | jpath '[t["key"] for t in d["tags"]]')" "['b']"
out=$(ecs list-tags-for-resource --resource-arn "arn:aws:ecs:$REGION:123456789012:service/c/x")
like "an unknown service: ResourceNotFoundException, naming the ARN" "$out" "ResourceNotFoundException.*service/c/x"
out=$(ecs list-tags-for-resource --resource-arn "arn:aws:ecs:$REGION:123456789012:capacity-provider/x")
like "resource types Berth does not tag are refused, naming the ARN" "$out" \
    "InvalidParameterException.*capacity-provider/x.*not supported by Berth"

# Errors.
out=$(ecs register-task-definition --cli-input-json "file://$T/bad.json")
like "a bad task definition is refused with its JSON path" "$out" \
    "ClientException.*containerDefinitions\[0\]\.portMappings\[0\]\.containerPort"
out=$(AWS_ACCESS_KEY_ID=AKIDBERTHTEST AWS_SECRET_ACCESS_KEY=wrong ecs list-task-definitions)
like "a wrong secret: InvalidSignatureException" "$out" "InvalidSignatureException"
like "with AWS's message" "$out" "The request signature we calculated does not match"
out=$(AWS_ACCESS_KEY_ID=AKIDNOBODY AWS_SECRET_ACCESS_KEY=x ecs list-task-definitions)
like "an unknown key: UnrecognizedClientException" "$out" "UnrecognizedClientException"
out=$(curl -s "http://127.0.0.1:$PORT/" -H 'X-Amz-Target: AmazonEC2ContainerServiceV20141113.ListTaskDefinitions' \
    -H 'Content-Type: application/x-amz-json-1.1' -d '{}')
like "unsigned curl to TCP: MissingAuthenticationTokenException" "$out" \
    '"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"'

# The unix socket is trusted: unsigned requests are served.
out=$(unix_call RegisterTaskDefinition "$(cat "$T/web.json")")
is "register over the unix socket, unsigned" "$(echo "$out" | jpath 'd["taskDefinition"]["revision"]')" 3
out=$(unix_call DescribeTaskDefinition '{"taskDefinition":"web:3","include":["TAGS"]}')
is "describe over the unix socket" "$(echo "$out" | jpath 'd["taskDefinition"]["status"]')" ACTIVE
out=$(unix_call ListTaskDefinitions '{"maxResults":1}')
ok "list over the unix socket pages" test -n "$(echo "$out" | jpath 'd["nextToken"]')"
out=$(unix_call Bogus '{}')
like "an unknown action" "$out" '"__type":"UnknownOperationException"'
out=$(unix_call DescribeTaskDefinition '{"taskDefinition":7}')
like "a wrong member type names the member" "$out" 'InvalidParameterException.*taskDefinition:'

# A register that was answered survives kill -9.
out=$(ecs register-task-definition --cli-input-json "file://$T/web.json")
is "register revision 4" "$(echo "$out" | jpath 'd["taskDefinition"]["revision"]')" 4
kill -KILL "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null
ok "after kill -9, berthd starts again (stale socket replaced)" start_berthd "$T/berth.conf"
out=$(ecs describe-task-definition --task-definition web)
is "and revision 4 is there" "$(echo "$out" | jpath 'd["taskDefinition"]["revision"]')" 4

# Reload: a new port opens before the old closes; a port in use is refused.
OLD=$PORT
NEW=$(free_port)
api_conf "$NEW"
ok "reload with a new TCP port" reload
ok "it is applied" log_has "event=api.reloaded .*listen=127.0.0.1:$NEW"
PORT=$NEW
out=$(ecs list-task-definition-families)
is "the new port serves" "$(echo "$out" | jpath 'd["families"]')" "['web']"
ok "the old port is closed" sh -c "! curl -s -o /dev/null http://127.0.0.1:$OLD/"

python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1)
open(sys.argv[1],"w").write(str(s.getsockname()[1])); time.sleep(30)' "$T/busy.port" &
_pids="$_pids $!"
wait_for 5 test -s "$T/busy.port"
api_conf "$(cat "$T/busy.port")"
ok "reload to a port in use" reload
ok "is refused, naming the key" log_has "event=reload.refused error=\".*\[api\] listen: cannot listen on 127.0.0.1:$(cat "$T/busy.port")"
out=$(ecs list-task-definition-families)
is "the old listener still serves" "$(echo "$out" | jpath 'd["families"]')" "['web']"

stop_berthd
is "berthd stops cleanly" "$BERTHD_STATUS" 0
ok "and removes its socket" test ! -e "$T/api.sock"

# Conf validation: TCP without credentials is refused.
write_conf "$T/nocreds.conf" <<EOF2
[api]
socket = $T/api.sock
listen = 127.0.0.1:$PORT
EOF2
out=$("$BERTHD" --check-config --config "$T/nocreds.conf" 2>&1)
like "TCP without credentials-file is refused" "$out" \
    "nocreds.conf:[0-9]+: \[api\] listen: a TCP listener needs credentials-file"

done_testing
