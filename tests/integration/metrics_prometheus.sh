# metrics_prometheus.sh: container metrics collected from real dockerd and
# served by the prometheus plugin: the page passes promtool, the container
# series carry Berth's labels and plausible values, a real Prometheus
# scrapes it (target up, series queryable), and clients that hold scrape
# connections open without sending or reading never stall the agent.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"

requires curl
requires python3
requires promtool
requires prometheus
. "$top_srcdir/tests/lib/aws.sh"

start_engine docker || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
SOCK=$(engine_sock docker)

PORT=$(free_port)
PPORT=$(free_port)
aws_credentials AKIDPROM 'prom/secret'
CLUSTER=prom-$$
write_conf "$T/berth.conf" <<EOF2
[api]
socket = $T/api.sock
listen = 127.0.0.1:$PORT
credentials-file = $T/credentials

[tasks]
host-port-range = 46000-46999

[plugin docker]
socket = $SOCK

[plugin prometheus]
address = 127.0.0.1
port = $PPORT
path = /metrics
io-timeout = 2s
max-connections = 8
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"
cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine

ecs() { "$AWS_BIN" ecs "$@" --endpoint-url "http://127.0.0.1:$PORT" --region local --output json 2>&1; }
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$PPORT/metrics"; }
# sample NAME LABEL-REGEX: the value of the first matching sample.
sample() { scrape | grep -E "^$1\{[^}]*$2" | head -1 | awk '{print $NF}'; }
has_sample() { [ -n "$(sample "$1" "$2")" ]; }

ok "berthd starts with the docker and prometheus plugins" start_berthd "$T/berth.conf"
ok "the endpoint listens" wait_log 30 "event=prometheus.listening .*address=127.0.0.1 port=$PPORT path=/metrics"
ok "the engine is listed" wait_log 30 'event=tasks.reconciled'

cat >"$T/web.json" <<'EOF2'
{"family": "promweb", "cpu": "256", "memory": "128",
 "containerDefinitions": [
  {"name": "app", "image": "berth-test/busybox:1",
   "command": ["sh", "-c", "trap 'exit 0' TERM; while :; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 0.2; done"]}]}
EOF2
ecs register-task-definition --cli-input-json "file://$T/web.json" >/dev/null
out=$(ecs create-service --service-name web --task-definition promweb --desired-count 1)
like "CreateService web" "$out" '"serviceName": "web"'
running() { [ "$(ecs list-tasks --service-name web --desired-status RUNNING | jpath 'len(d["taskArns"])')" = 1 ] &&
            ecs describe-tasks --tasks "$(ecs list-tasks --service-name web | jpath 'd["taskArns"][0]')" | grep -q '"lastStatus": "RUNNING"'; }
ok "the service's task runs" wait_for 180 running
TASK=$(ecs list-tasks --service-name web | jpath 'd["taskArns"][0].rsplit("/",1)[1]')
CID=$(ecs describe-tasks --tasks "$TASK" | jpath 'd["tasks"][0]["containers"][0]["runtimeId"]')
diag "task $TASK container $CID"

LBL="id=\"$CID\",name=\"app\",image=\"berth-test/busybox:1\",cluster=\"$CLUSTER\",service=\"web\",task=\"$TASK\",family=\"promweb\""
ok "the container's working set is served with its task, service and cluster labels" \
    wait_for 60 has_sample container_memory_working_set_bytes "$LBL"

scrape >"$T/page1.txt"
hdr=$(curl -sfI --max-time 5 "http://127.0.0.1:$PPORT/metrics" | tr -d '\r')
like "Content-Type is the 0.0.4 text format" "$hdr" 'Content-Type: text/plain; version=0.0.4'
out=$(promtool check metrics <"$T/page1.txt" 2>&1)
st=$?
ok "promtool check metrics passes" test "$st" -eq 0
[ "$st" -eq 0 ] || diag "$out"
ok "the page carries the API's latency histogram (promtool checked it above)" \
    grep -q '^# TYPE berth_api_request_duration_seconds histogram$' "$T/page1.txt"
hc=$(grep -E '^berth_api_request_duration_seconds_count\{action="CreateService"\}' "$T/page1.txt" | awk '{print $NF}')
hinf=$(grep -E '^berth_api_request_duration_seconds_bucket\{action="CreateService",le="\+Inf"\}' "$T/page1.txt" | awk '{print $NF}')
ok "CreateService's latency counted ($hc), +Inf bucket = count ($hinf)" test "${hc:-0}" -ge 1 -a "$hc" = "$hinf"
ok "the scheduler's passes are timed" \
    grep -qE '^berth_reconcile_duration_seconds_count [1-9]' "$T/page1.txt"
ok "its buckets are Prometheus' defaults, le=\"0.005\" first" \
    grep -q '^berth_api_request_duration_seconds_bucket{action="CreateService",le="0.005"}' "$T/page1.txt"
is "each name has one TYPE line" "$(grep -c '^# TYPE' "$T/page1.txt")" \
    "$(grep '^# TYPE' "$T/page1.txt" | awk '{print $3}' | sort -u | wc -l)"
# page_sample NAME LABEL-REGEX: from page1 (one reading of the container).
page_sample() { grep -E "^$1\{[^}]*$2" "$T/page1.txt" | head -1 | awk '{print $NF}'; }
mem=$(page_sample container_memory_working_set_bytes "$LBL")
ok "memory working set > 0 ($mem)" python3 -c "import sys; sys.exit(not float('$mem') > 0)"
usage=$(page_sample container_memory_usage_bytes "$LBL")
ok "memory usage >= working set in the same reading ($usage)" python3 -c "import sys; sys.exit(not float('$usage') >= float('$mem'))"
cpu1=$(sample container_cpu_usage_seconds_total "$LBL")
grows() { c=$(sample container_cpu_usage_seconds_total "$LBL"); python3 -c "import sys; sys.exit(not float('$c') > float('$cpu1'))"; }
ok "the cpu counter grows (from $cpu1)" wait_for 30 grows
ok "container_start_time_seconds is set" has_sample container_start_time_seconds "$LBL"
ok "ECS CPUUtilization of the task" wait_for 30 has_sample ecs_task_cpu_utilization_percent "task=\"$TASK\""
mu=$(sample ecs_task_memory_utilization_percent "task=\"$TASK\"")
ok "ECS MemoryUtilization of the task is a percent of 128 MiB ($mu)" \
    python3 -c "import sys; v=float('$mu'); sys.exit(not 0 < v < 100 and abs(v - float('$mem')/(128*1048576)*100) < 5)"
ok "the service's CPUUtilization" has_sample ecs_service_cpu_utilization_percent "service=\"web\""
is "the service's running count" "$(sample ecs_service_running_tasks "service=\"web\"")" 1
is "the service's desired count" "$(sample ecs_service_desired_tasks "service=\"web\"")" 1
is "berth_tasks{state=RUNNING}" "$(sample berth_tasks 'state="RUNNING"')" 1
ok "API requests by action" has_sample berth_api_requests_total 'action="CreateService",error="none"'
ecs describe-services --services nosuch-x --cluster nosuch >/dev/null
ok "and by error" wait_for 10 has_sample berth_api_requests_total 'action="DescribeServices",error="ClusterNotFoundException"'
is "an unknown path is 404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PPORT/nope")" 404
is "POST is 405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PPORT/metrics")" 405

# --- a real Prometheus scrapes it.
QPORT=$(free_port)
mkdir -p "$T/prom"
cat >"$T/prom/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: berth
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:$PPORT']
EOF2
start_bg prometheus prometheus --config.file="$T/prom/prometheus.yml" \
    --storage.tsdb.path="$T/prom/data" --web.listen-address="127.0.0.1:$QPORT"
PROM_PID=$LAST_PID
q() { curl -sf --max-time 5 "http://127.0.0.1:$QPORT/api/v1/$1"; }
target_up() { q targets | jpath 'd["data"]["activeTargets"][0]["health"]' | grep -qx up; }
ok "Prometheus' target is up" wait_for 60 target_up
[ "$(q targets | jpath 'd["data"]["activeTargets"][0]["health"]')" = up ] ||
    diag "$(q targets)"
has_series() { q 'query?query=container_memory_working_set_bytes' |
    jpath '[r["metric"] for r in d["data"]["result"] if r["metric"].get("task") == "'"$TASK"'" and r["metric"].get("service") == "web"][0]["cluster"]' |
    grep -qx "$CLUSTER"; }
ok "its query returns the task's container_memory_working_set_bytes" wait_for 60 has_series
kill "$PROM_PID" 2>/dev/null
wait "$PROM_PID" 2>/dev/null

# --- clients that connect and never send, and one that sends and never
#     reads: the agent goes on (the API answers) and the endpoint recovers.
# (A file, not stdin: a background command's stdin is /dev/null.)
cat >"$T/slow.py" <<'PY'
import socket, sys, time
held = []
for i in range(20):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.connect(("127.0.0.1", int(sys.argv[1])))
    if i == 0:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    held.append(s)
print("holding", flush=True)
time.sleep(60)
PY
start_bg slow python3 "$T/slow.py" "$PPORT"
SLOW=$LAST_PID
ok "the stuck clients are connected" wait_for 10 grep -q holding "$T/slow.log"
api_ok() { ecs list-services | grep -q '"serviceArns"'; }
ok "with 20 stuck scrape connections the API answers" api_ok
ok "the endpoint serves again once they time out" wait_for 20 scrape
# own_ge NAME N: the plugin's sample NAME (labelled plugin=...) is at least N.
own_ge() { v=$(scrape | awk -v n="$1" 'index($1, n "{") == 1 || $1 == n {print $2}' | head -1)
           [ -n "$v" ] && python3 -c "import sys; sys.exit(not float('$v') >= $2)"; }
ok "the timeouts are counted (berth_prometheus_timeouts_total)" wait_for 10 own_ge berth_prometheus_timeouts_total 1
ok "connections past max-connections were refused (berth_prometheus_refused_total)" \
    wait_for 10 own_ge berth_prometheus_refused_total 1
kill "$SLOW" 2>/dev/null

# --- a stopped task's series go away (the agent's series do not grow with
#     task churn).
ecs update-service --service web --desired-count 0 >/dev/null
gone() { p=$(scrape) && ! printf "%s" "$p" | grep -q "id=\"$CID\""; }
ok "once the task stops, its container series are dropped" wait_for 120 gone
task_gone() { p=$(scrape) && ! printf "%s" "$p" | grep -q "^ecs_task_cpu_utilization_percent{[^}]*task=\"$TASK\""; }
ok "and its ecs_task_* series" task_gone

# --- a runtime plugin's failures are counted: a task whose image the
#     engine does not have.
cat >"$T/noimg.json" <<'EOF2'
{"family": "noimg", "memory": "32",
 "containerDefinitions": [{"name": "app", "image": "berth-test/not-here:1"}]}
EOF2
ecs register-task-definition --cli-input-json "file://$T/noimg.json" >/dev/null
ecs run-task --task-definition noimg >/dev/null
errs() { scrape | grep -E '^berth_plugin_errors_total\{plugin="docker",operation="[a-z_]+",code="[A-Z_]+"\} [1-9]'; }
ok "the failed operation shows in berth_plugin_errors_total{plugin, operation, code}" \
    wait_for 120 errs
diag "$(errs | head -3)"
ok "with HELP and TYPE counter" eval 'scrape | grep -q "^# TYPE berth_plugin_errors_total counter"'

ok "berthd stops" stop_berthd
is "exit status 0" "$BERTHD_STATUS" 0
done_testing
