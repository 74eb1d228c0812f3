# tasks_env.sh: what every task test on a real engine needs, sourced with
# ENGINE set (docker or podman): the engine and the busybox image, a free
# API port, aws CLI credentials, $T/berth.conf for cluster $CLUSTER (extra
# [tasks] lines from TASKS_CONF_EXTRA), clean-up of the cluster's
# containers at exit, and the helpers ecs, jpath, task_field, task_is,
# engine_running, register and run.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"

requires curl
requires python3
. "$top_srcdir/tests/lib/aws.sh"

start_engine "$ENGINE" || exit 1
build_busybox_image "$ENGINE" berth-test/busybox:1 || exit 1
SOCK=$(engine_sock "$ENGINE")

PORT=$(free_port)
aws_credentials AKIDTASKS 'tasks/secret'
mkdir -p "$T/secrets"
printf 's3cr3t-value\n' >"$T/secrets/db-password"
printf '# comment\nFROM_FILE=one\nSHARED=file\n' >"$T/app.env"

# Containers of this test carry cluster=$CLUSTER; anything left is removed.
CLUSTER=test-$ENGINE-$$
write_conf "$T/berth.conf" <<EOF2
[api]
socket = $T/api.sock
listen = 127.0.0.1:$PORT
credentials-file = $T/credentials

[tasks]
host-port-range = 41000-41999
secrets-dir = $T/secrets
${TASKS_CONF_EXTRA:-}

[plugin $ENGINE]
socket = $SOCK
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"
# Docker's awsvpc sandbox runs the pause program built here (under the
# plugin's own section: write_conf may add sections after it).
if [ "$ENGINE" = docker ]; then
    sed -i "s|^\[plugin docker\]\$|&\npause-binary = $top_builddir/berth-pause|" "$T/berth.conf"
fi

cleanup_engine() { remove_cluster "$ENGINE" "$CLUSTER"; }
on_exit cleanup_engine

ecs() { "$AWS_BIN" ecs "$@" --endpoint-url "http://127.0.0.1:$PORT" --region local --output json 2>&1; }
task_field() { # TASK EXPR (d is the task)
    ecs describe-tasks --tasks "$1" | python3 -c "import json,sys; d=json.load(sys.stdin)['tasks'][0]; print($2)"
}
task_is() { [ "$(task_field "$1" 'd["lastStatus"]')" = "$2" ]; }
# Containers of this cluster on the engine, running ones only.
engine_running() { cluster_running "$ENGINE" "$CLUSTER"; }
register() { ecs register-task-definition --cli-input-json "file://$1" | jpath 'd["taskDefinition"]["taskDefinitionArn"]'; }
run() { ecs run-task --task-definition "$1" ${2:+--count $2} | jpath '" ".join(t["taskArn"] for t in d["tasks"])'; }

