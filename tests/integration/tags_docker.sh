# tags_docker.sh: TagResource, UntagResource and ListTagsForResource on a
# service and a task, with Debian's aws CLI against berthd on the real
# dockerd: merged with CreateService's and RunTask's tags, shown by
# DescribeServices/DescribeTasks --include TAGS, checked as ECS checks
# them, and still there after the agent restarts.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"

requires curl
requires python3
. "$top_srcdir/tests/lib/aws.sh"
start_dockerd || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1

PORT=$(free_port)
aws_credentials AKIDTAGS 'tags/secret'
CLUSTER=tags-$$
write_conf "$T/berth.conf" <<EOF2
[api]
socket = $T/api.sock
listen = 127.0.0.1:$PORT
credentials-file = $T/credentials

[plugin docker]
socket = $(engine_sock docker)
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"
cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine

ecs() { "$AWS_BIN" ecs "$@" --endpoint-url "http://127.0.0.1:$PORT" --region local --output json 2>&1; }
tags_of() { ecs list-tags-for-resource --resource-arn "$1" | jpath '" ".join(sorted(t["key"]+"="+t["value"] for t in d["tags"]))'; }

ok "berthd starts" start_berthd "$T/berth.conf" || diag "$(tail -20 "$T/berthd.log")"
ok "it lists the engine" wait_log 30 'event=tasks.reconciled'

cat >"$T/sleep.json" <<EOF2
{"family": "tagged", "containerDefinitions": [
  {"name": "main", "image": "berth-test/busybox:1", "memory": 16, "command": ["sleep", "3600"]}]}
EOF2
ecs register-task-definition --cli-input-json "file://$T/sleep.json" >/dev/null
SARN=$(ecs create-service --cluster "$CLUSTER" --service-name tagged --task-definition tagged \
    --desired-count 1 --tags key=team,value=web key=tier,value=front | jpath 'd["service"]["serviceArn"]')
like "a service with two tags" "$SARN" "service/$CLUSTER/tagged$"
TARN=$(ecs run-task --cluster "$CLUSTER" --task-definition tagged --tags key=job,value=batch |
    jpath 'd["tasks"][0]["taskArn"]')
like "a task with one tag" "$TARN" "task/$CLUSTER/[0-9a-f]{32}$"

is "list-tags-for-resource: the service's own tags" "$(tags_of "$SARN")" "team=web tier=front"
is "list-tags-for-resource: the task's own tags" "$(tags_of "$TARN")" "job=batch"

is "tag-resource on the service answers" \
    "$(ecs tag-resource --resource-arn "$SARN" --tags key=tier,value=back key=owner,value=ops)" ""
is "a new key is added and an existing key's value replaced" "$(tags_of "$SARN")" \
    "owner=ops team=web tier=back"
is "describe-services --include TAGS shows the same" \
    "$(ecs describe-services --cluster "$CLUSTER" --services tagged --include TAGS |
        jpath '" ".join(sorted(t["key"]+"="+t["value"] for t in d["services"][0]["tags"]))')" \
    "owner=ops team=web tier=back"
is "untag-resource on the service answers" "$(ecs untag-resource --resource-arn "$SARN" --tag-keys team nosuch)" ""
is "the key is gone, an absent key ignored" "$(tags_of "$SARN")" "owner=ops tier=back"

ecs tag-resource --resource-arn "$TARN" --tags key=cost,value=42 >/dev/null
is "tag-resource on the task" "$(tags_of "$TARN")" "cost=42 job=batch"
is "describe-tasks --include TAGS shows it" \
    "$(ecs describe-tasks --cluster "$CLUSTER" --tasks "$TARN" --include TAGS |
        jpath '" ".join(sorted(t["key"]+"="+t["value"] for t in d["tasks"][0]["tags"]))')" \
    "cost=42 job=batch"
ecs untag-resource --resource-arn "$TARN" --tag-keys job cost >/dev/null
is "untagging every key leaves none" "$(tags_of "$TARN")" ""

# --- ECS's rules, and nothing changed by a refused call.
like "a reserved key is refused" "$(ecs tag-resource --resource-arn "$SARN" --tags key=aws:x,value=1)" \
    "InvalidParameterException.*aws:"
ARGS=$(python3 -c 'print(" ".join("key=k%d,value=v" % i for i in range(49)))')
# shellcheck disable=SC2086 # one word per tag
like "more than 50 tags in all is refused" "$(ecs tag-resource --resource-arn "$SARN" --tags $ARGS)" \
    "InvalidParameterException.*too many tags: 51"
is "and the service kept its tags" "$(tags_of "$SARN")" "owner=ops tier=back"
like "an unknown service is ResourceNotFoundException" \
    "$(ecs tag-resource --resource-arn "${SARN%/tagged}/nosuch" --tags key=a,value=b)" \
    "ResourceNotFoundException.*service/$CLUSTER/nosuch"
like "an unknown task too" \
    "$(ecs list-tags-for-resource --resource-arn "${TARN%/*}/0123456789abcdef0123456789abcdef")" \
    "ResourceNotFoundException"

# --- Saved before the answer: an agent restart keeps them.
ecs tag-resource --resource-arn "$TARN" --tags key=kept,value=yes >/dev/null
stop_berthd
ok "berthd starts again" start_berthd "$T/berth.conf"
ok "and lists the engine" wait_log 30 'event=tasks.reconciled'
is "the service's tags after the restart" "$(tags_of "$SARN")" "owner=ops tier=back"
is "the task's tags after the restart" "$(tags_of "$TARN")" "kept=yes"

ecs delete-service --cluster "$CLUSTER" --service tagged --force >/dev/null
ecs stop-task --cluster "$CLUSTER" --task "$TARN" >/dev/null
stop_berthd
done_testing
