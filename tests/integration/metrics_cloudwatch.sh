#!/bin/bash
# The CloudWatch sink through a real agent, against tests/lib/cw_endpoint.py
# (every request re-signed with botocore's SigV4Auth and its form decoded
# and validated against botocore's PutMetricData model): signed requests
# with the ECS dimensions; the same batch retried after 500s and a
# Throttling answer; drops logged and counted while the endpoint is down;
# the agent's API answering while the endpoint hangs; then Embedded Metric
# Format lines to a file, a UDP and a TCP listener, each checked against
# the format's rules.  Counters arrive as increments, histograms as
# Values/Counts (PutMetricData) or _count/_sum (EMF); EMF groups series
# that share dimensions into one event.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/cw.sh"
requires python3
requires curl
if ! python3 -c 'import botocore' 2>/dev/null; then
    echo "1..0 # SKIP python3-botocore is not installed"
    exit 77
fi

cat >"$T/credentials" <<EOF2
[default]
aws_access_key_id = AKIDOTHER
aws_secret_access_key = not-this-one
[cw]
aws_access_key_id = AKIDBERTHCW
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
aws_session_token = session/token+1
EOF2

# start_endpoint NAME ARGS...: the endpoint, recording in $T/NAME.rec;
# its port in EP_PORT.
start_endpoint() { start_cw_endpoint "$1" "$T/credentials" "${@:2}"; }

# recs FILE PYTHON-EXPR: how many recorded requests r satisfy the expression.
recs() {
    python3 - "$1" "$2" <<'PY'
import json, sys
try:
    rs = [json.loads(l) for l in open(sys.argv[1])]
except FileNotFoundError:
    rs = []
print(sum(1 for r in rs if eval(sys.argv[2])))
PY
}
recs_ge() { [ "$(recs "$1" "$2")" -ge "$3" ]; }

# cw_conf FILE ENDPOINT-PORT EXTRA: an agent with the sink and an example
# sink that writes every series (the sink's own counters too) to a file.
cw_conf() {
    write_conf "$1" <<EOF2
[plugin cw]
file = cloudwatch.so
endpoint = http://127.0.0.1:$2/
region = eu-west-1
credentials-file = $T/credentials
profile = cw
$3

[plugin dump]
file = example.so
interval = 1s
output = $T/dump.out
EOF2
}

api() {
    curl -s --max-time 10 --unix-socket "$T/api.sock" \
        -H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.$1" \
        -H 'Content-Type: application/x-amz-json-1.1' -d '{}' http://localhost/
}

# ---- signed, decoded, dimensions ----
ok "endpoint starts" start_endpoint good
cw_conf "$T/good.conf" "$EP_PORT" "namespace = ECS/ContainerInsights
metrics = both"
ok "berthd starts with the cloudwatch sink" start_berthd "$T/good.conf"
ok "the sink started" log_has "event=cloudwatch.start plugin=cw endpoint=http://127.0.0.1:$EP_PORT/ region=eu-west-1"
ok "two exports reach the endpoint" wait_for 30 recs_ge "$T/good.rec" True 2
is "every request's signature matches botocore's" \
    "$(recs "$T/good.rec" 'not r["sig_ok"]')" 0
is "every body decodes and passes botocore's model" \
    "$(recs "$T/good.rec" 'r.get("error")')" 0
ok "the namespace is the conf's" \
    recs_ge "$T/good.rec" 'r["namespace"] == "ECS/ContainerInsights"' 2
ok "the agent's own series arrive with ClusterName = the agent's cluster" \
    recs_ge "$T/good.rec" 'any(m["name"] == "berth_build_info" and m["dimensions"].get("ClusterName") == "test" for m in r["metrics"])' 1
ok "the sink reports its own sends, and they arrive too" \
    wait_for 30 recs_ge "$T/good.rec" 'any(m["name"] == "berth_cloudwatch_sent_batches_total" and m["value"] >= 1 for m in r["metrics"])' 1
ok "Container Insights' cluster figures arrive with ClusterName alone" \
    recs_ge "$T/good.rec" 'any(m["name"] == "TaskCount" and m["dimensions"] == {"ClusterName": "test"} and m["value"] == 0 for m in r["metrics"])' 1
# Counters go as increments: the sink's own sent-batches counter, summed
# over every request, cannot exceed the requests accepted (running totals
# would sum to 1 + 2 + 3 + ...).
ok "four exports arrive" wait_for 30 recs_ge "$T/good.rec" True 4
sent_sum() {
    python3 - "$T/good.rec" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
vals = [m["value"] for r in rs for m in r["metrics"] if m["name"] == "berth_cloudwatch_sent_batches_total"]
print("%d %d %d" % (len(vals), sum(vals), len(rs)))
PY
}
read -r n_sent sum_sent n_req <<<"$(sent_sum)"
ok "counters are sent as increments ($n_sent data summing to $sum_sent, $n_req requests)" \
    test "$n_sent" -ge 2 -a "$sum_sent" -le "$n_req" -a "$sum_sent" -ge 1
is "and with unit Count" "$(recs "$T/good.rec" 'any(m["name"] == "berth_cloudwatch_sent_batches_total" and m["unit"] != "Count" for m in r["metrics"])')" 0
# A histogram goes as Values and Counts: the API's latency after requests.
for i in 1 2 3 4 5; do api ListClusters >/dev/null; done
hist_ok='any(m["name"] == "berth_api_request_duration_seconds" and m["unit"] == "Seconds" and m["values"] and sum(m["counts"]) >= 1 and m["dimensions"].get("action") == "ListClusters" for m in r["metrics"])'
ok "the API's latency histogram arrives as Values and Counts, unit Seconds" \
    wait_for 30 recs_ge "$T/good.rec" "$hist_ok" 1
# The endpoint's check can fail: a request signed with another key is refused.
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' \
    -H "X-Amz-Date: $(date -u +%Y%m%dT%H%M%SZ)" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=AKIDBERTHCW/$(date -u +%Y%m%d)/eu-west-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=$(printf '0%.0s' $(seq 64))" \
    --data 'Action=PutMetricData&Version=2010-08-01&Namespace=x' "http://127.0.0.1:$EP_PORT/")
is "the endpoint refuses a wrong signature" "$code" 403
stop_berthd
is "clean exit" "$BERTHD_STATUS" 0
kill "$EP_PID"

# ---- retries: 500, 500, Throttling, then accepted ----
ok "endpoint (2 x 500, 1 x Throttling) starts" start_endpoint flaky --fail 2 --throttle 1
cw_conf "$T/flaky.conf" "$EP_PORT" "retry-base = 100ms
max-retries = 4"
ok "berthd starts" start_berthd "$T/flaky.conf"
ok "the fourth request is accepted" wait_for 30 recs_ge "$T/flaky.rec" 'r["status"] == 200' 1
is "the first three were 500, 500, 400" \
    "$(recs "$T/flaky.rec" '(r["n"], r["status"]) in ((1, 500), (2, 500), (3, 400))')" 3
is "and carried the same batch as the accepted fourth" \
    "$(python3 -c 'import json,sys; rs=[json.loads(l) for l in open(sys.argv[1])]; print(len({r["body_sha"] for r in rs if r["n"] <= 4}))' "$T/flaky.rec")" 1
ok "the retries are logged" log_has 'event=cloudwatch.batch.retry plugin=cw attempts=3 .*Throttling'
is "no batch was dropped" "$(grep -c 'cloudwatch.batch.dropped' "$T/berthd.log")" 0
stop_berthd
kill "$EP_PID"

# ---- the endpoint is down: drops are logged and counted ----
down=$(free_port)
cw_conf "$T/down.conf" "$down" "retry-base = 50ms
retry-max = 100ms
max-retries = 1
queue-limit = 2"
ok "berthd starts with the endpoint down" start_berthd "$T/down.conf"
ok "a batch is dropped after its retries, and logged" \
    wait_log 30 'event=cloudwatch.batch.dropped plugin=cw reason=retries metrics=[1-9][0-9]* attempts=2 '
ok "and counted" wait_for 30 grep -Eq '^berth_cloudwatch_dropped_batches_total\{.*reason="retries".*\} [1-9]' "$T/dump.out"
ok "with its data" grep -Eq '^berth_cloudwatch_dropped_metrics_total\{.*reason="retries".*\} [1-9]' "$T/dump.out"
stop_berthd
is "clean exit" "$BERTHD_STATUS" 0

# ---- the endpoint hangs: the agent keeps answering ----
ok "endpoint (never answers) starts" start_endpoint hang --hang
cw_conf "$T/hang.conf" "$EP_PORT" "queue-limit = 2
request-timeout = 60s"
ok "berthd starts" start_berthd "$T/hang.conf"
ok "a request is hanging" wait_for 30 recs_ge "$T/hang.rec" 'r["status"] == "hang"' 1
like "the API answers while the request hangs" "$(api ListClusters)" '"clusterArns"'
ok "the queue overflows: the oldest waiting batch is dropped, logged" \
    wait_log 30 'event=cloudwatch.batch.dropped plugin=cw reason=overflow '
like "the API still answers" "$(api ListClusters)" '"clusterArns"'
ok "the other sink keeps receiving exports" \
    wait_for 30 grep -Eq '^berth_cloudwatch_dropped_batches_total\{.*reason="overflow".*\} [1-9]' "$T/dump.out"
is "one request only: the hanging one holds the queue" "$(recs "$T/hang.rec" True)" 1
stop_berthd
is "clean exit despite the hanging request" "$BERTHD_STATUS" 0
ok "what was still queued is dropped at shutdown, logged" \
    log_has 'event=cloudwatch.batch.dropped plugin=cw reason=shutdown batches=[1-9]'
kill "$EP_PID"

# ---- Embedded Metric Format: file, UDP, TCP ----
# (A background job's stdin is /dev/null: the listener goes in a file.)
cat >"$T/listeners.py" <<'PY'
import socket, sys, threading, os
t = sys.argv[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
def udp():
    with open(t + "/emf.udp", "ab", buffering=0) as f:
        while True:
            f.write(u.recv(65536))
def tcp(c):
    with open(t + "/emf.tcp", "ab", buffering=0) as f:
        while True:
            d = c.recv(65536)
            if not d:
                return
            f.write(d)
threading.Thread(target=udp, daemon=True).start()
open(t + "/listen.ports.tmp", "w").write("%d %d" % (u.getsockname()[1], s.getsockname()[1]))
os.rename(t + "/listen.ports.tmp", t + "/listen.ports")
while True:
    c, _ = s.accept()
    threading.Thread(target=tcp, args=(c,), daemon=True).start()
PY
start_bg listeners python3 "$T/listeners.py" "$T"
ok "UDP and TCP listeners start" wait_for 30 test -s "$T/listen.ports"
read -r udp_port tcp_port <"$T/listen.ports"
write_conf "$T/emf.conf" <<EOF2
[plugin emf-file]
file = cloudwatch.so
mode = emf
namespace = ECS/ContainerInsights
metrics = both
emf-target = file:$T/emf.file

[plugin emf-udp]
file = cloudwatch.so
mode = emf
namespace = Berth/Test
metrics = series
emf-target = udp:127.0.0.1:$udp_port

[plugin emf-tcp]
file = cloudwatch.so
mode = emf
namespace = Berth/Test
metrics = series
emf-target = tcp:127.0.0.1:$tcp_port
EOF2
ok "berthd starts with three EMF sinks" start_berthd "$T/emf.conf"

# emf_check FILE NAMESPACE: every line is an EMF event by the format's
# rules; prints the number of events, or an error.
emf_check() {
    python3 - "$1" "$2" <<'PY'
import json, math, sys
import botocore.session
units = (botocore.session.get_session().get_service_model("cloudwatch")
         .shape_for("StandardUnit").enum)
n = 0
for i, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    where = "%s:%d" % (sys.argv[1], i)
    assert line.endswith("\n"), where + ": not a whole line"
    o = json.loads(line)
    assert isinstance(o, dict), where + ": not an object"
    aws = o["_aws"]
    assert isinstance(aws["Timestamp"], int) and aws["Timestamp"] > 1.5e12, where + ": Timestamp in ms"
    dirs = aws["CloudWatchMetrics"]
    assert isinstance(dirs, list) and dirs, where + ": CloudWatchMetrics"
    for d in dirs:
        assert d["Namespace"] == sys.argv[2], where + ": Namespace " + d["Namespace"]
        assert isinstance(d["Dimensions"], list)
        for ds in d["Dimensions"]:
            assert isinstance(ds, list) and len(ds) <= 30, where + ": dimension set"
            for name in ds:
                assert isinstance(o[name], str), where + ": dimension %s not a string member" % name
        ms = d["Metrics"]
        assert 1 <= len(ms) <= 100, where + ": Metrics"
        for m in ms:
            assert set(m) <= {"Name", "Unit", "StorageResolution"}, where
            v = o[m["Name"]]
            assert isinstance(v, (int, float)) and math.isfinite(v), where + ": value of " + m["Name"]
            assert m["Unit"] in units, where + ": Unit " + m["Unit"]
    assert "ClusterName" in dirs[0]["Dimensions"][0] and o["ClusterName"] == "test", where + ": ClusterName"
    n += 1
print(n)
PY
}
emf_ge() { v=$(emf_check "$1" "$2" 2>/dev/null) && [ "$v" -ge "$3" ]; }
for t in file udp tcp; do
    ns=Berth/Test
    [ $t = file ] && ns=ECS/ContainerInsights
    ok "EMF events reach the $t target, every line by the format's rules" \
        wait_for 30 emf_ge "$T/emf.$t" "$ns" 5 || diag "$(emf_check "$T/emf.$t" "$ns" 2>&1 | tail -3)"
    ok "$t: the agent's build_info is among them" grep -q '"berth_build_info":1' "$T/emf.$t"
done
# Series that share dimensions share an event: the agent's own figures
# labelled only by cluster come as one event, not one per series.
most_metrics() {
    python3 -c 'import json,sys; print(max(len(json.loads(l)["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for l in open(sys.argv[1])))' "$1"
}
many_in_one() { [ "$(most_metrics "$T/emf.udp")" -ge 3 ]; }
ok "EMF: one event carries the series that share dimensions" wait_for 30 many_in_one
two_sinks() {
    grep -q '"plugin":"emf-udp".*"berth_cloudwatch_emf_lines_total"' "$T/emf.file" &&
        grep -q '"plugin":"emf-tcp".*"berth_cloudwatch_emf_lines_total"' "$T/emf.file"
}
ok "each sink's own counters carry its instance (plugin label), so they stay apart" \
    wait_for 30 two_sinks
ok "EMF file (metrics = both): Container Insights' cluster event too" \
    grep -q '"Type":"Cluster".*"TaskCount":0' "$T/emf.file"
ok "EMF: a histogram goes as NAME_count and NAME_sum" \
    wait_for 30 grep -q '"berth_reconcile_duration_seconds_count":[1-9]' "$T/emf.udp"
# The checker can fail: a line without _aws is refused.
printf '{"x":1}\n' >"$T/bad.emf"
emf_refuses() { ! emf_check "$@" >/dev/null 2>&1; }
ok "the EMF checker refuses a line without _aws" emf_refuses "$T/bad.emf" x
stop_berthd
is "clean exit" "$BERTHD_STATUS" 0

# ---- a wrong choice is named, with where it was made ----
write_conf "$T/badmetrics.conf" <<EOF2
[plugin cw]
file = cloudwatch.so
mode = emf
emf-target = file:$T/never.emf
metrics = everything
EOF2
out=$("$BERTHD" --foreground --config "$T/badmetrics.conf" 2>&1)
is "metrics = everything: berthd refuses to start (exit 1)" "$?" 1
like "and names the option, the choices and the value, with the plugin's section" "$out" \
    "badmetrics.conf:[0-9]*: \[plugin cw\] init failed: metrics: expected container-insights, series or both, got \"everything\""

done_testing
