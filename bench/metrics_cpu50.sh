# metrics_cpu50.sh: berthd's CPU with 50 running busybox tasks on dockerd, with the
# prometheus sink scraped every second, at metrics-interval 10s and 1s, and
# with metrics as good as off (metrics-interval 1h, the longest, no scrape).
# Tasks are low-memory busybox sleeps started in batches of 5, each batch
# running before the next is asked for: a loaded dockerd fails when asked
# for 50 containers at once.
# With CLOUDWATCH=1 the agent also runs two cloudwatch sinks with metrics =
# both (Container Insights and every series): PutMetricData to
# tests/lib/cw_endpoint.py on loopback, and EMF lines to a file.
# Not a test (it asserts nothing): run from a build dir as
#   top_srcdir=SRC top_builddir=. bash SRC/bench/metrics_cpu50.sh
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"
. "$top_srcdir/tests/lib/cw.sh"
start_engine docker || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
SOCK=$(engine_sock docker)
PPORT=$(free_port)
CLUSTER=cpu50-$$
CW_CONF=
if [ "${CLOUDWATCH:-0}" = 1 ]; then
    printf '[cw]\naws_access_key_id = AKIDBENCH\naws_secret_access_key = bench/key\n' >"$T/cwcreds"
    start_cw_endpoint ep "$T/cwcreds" || { echo "the endpoint did not start"; exit 1; }
    CW_CONF="[plugin cw]
file = cloudwatch.so
metrics = both
endpoint = http://127.0.0.1:$EP_PORT/
region = eu-west-1
credentials-file = $T/cwcreds
profile = cw

[plugin emf]
file = cloudwatch.so
mode = emf
metrics = both
emf-target = file:$T/emf.out"
    echo "with the cloudwatch sinks (PutMetricData and EMF, metrics = both)"
fi
conf() {
write_conf "$T/berth.conf" <<EOF2
[tasks]
host-port-range = 47000-47999

[plugin docker]
socket = $SOCK

[plugin prometheus]
port = $PPORT

$CW_CONF
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/; s/^metrics-interval = .*/metrics-interval = $1/" "$T/berth.conf"
}
cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine
api() { curl -s --unix-socket "$T/api.sock" -H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.$1" \
    -H 'Content-Type: application/x-amz-json-1.1' -d "$2" http://x/; }
conf 10s
start_berthd "$T/berth.conf" || { echo start failed; exit 1; }
wait_log 300 'event=tasks.reconciled'
api RegisterTaskDefinition '{"family":"idle","containerDefinitions":[{"name":"app","image":"berth-test/busybox:1","memory":6,"command":["sleep","3600"]}]}' >/dev/null
nrun() { api ListTasks '{"desiredStatus":"RUNNING"}' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["taskArns"]))'; }
ndocker() { curl -s --unix-socket "$SOCK" "http://x/containers/json?filters=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "{\"label\":[\"com.amazonaws.ecs.cluster=$CLUSTER\"],\"status\":[\"running\"]}")" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
running_ge() { [ "$(ndocker)" -ge "$1" ]; }
for batch in $(seq 5 5 50); do
    api RunTask '{"taskDefinition":"idle","count":5}' >/dev/null
    wait_for 300 running_ge "$batch" || echo "batch to $batch: only $(ndocker) running"
done
echo "running: $(ndocker) containers, $(nrun) tasks RUNNING in the API"
ticks() { awk '{print $14 + $15}' /proc/$BERTHD_PID/stat; }
measure() { # SECONDS
    t0=$(ticks); s0=$(date +%s.%N)
    end=$(( $(date +%s) + $1 ))
    while [ "$(date +%s)" -lt "$end" ]; do curl -s -o /dev/null "http://127.0.0.1:$PPORT/metrics"; sleep 1; done
    t1=$(ticks); s1=$(date +%s.%N)
    python3 -c "import os; t=($t1-$t0)/os.sysconf('SC_CLK_TCK'); w=$s1-$s0; print('cpu %.2fs over %.0fs wall = %.2f%% of one core' % (t, w, 100*t/w))"
}
echo "metrics-interval 10s: $(measure 30)"
sed -i "s/^metrics-interval = .*/metrics-interval = 1s/" "$T/berth.conf"
reload
sleep 3
echo "metrics-interval 1s: $(measure 30)"
sed -i "s/^metrics-interval = .*/metrics-interval = 1h/" "$T/berth.conf"
reload
sleep 3
measure_off() { # SECONDS: no scrape
    t0=$(ticks); s0=$(date +%s.%N); sleep "$1"; t1=$(ticks); s1=$(date +%s.%N)
    python3 -c "import os; t=($t1-$t0)/os.sysconf('SC_CLK_TCK'); w=$s1-$s0; print('cpu %.2fs over %.0fs wall = %.2f%% of one core' % (t, w, 100*t/w))"
}
echo "metrics off (interval 1h, no scrape): $(measure_off 30)"
echo "load: $(cat /proc/loadavg)"
[ -f "$T/emf.out" ] && echo "EMF events written: $(wc -l <"$T/emf.out")"
echo "series: $(curl -s "http://127.0.0.1:$PPORT/metrics" | grep -vc '^#') bytes: $(curl -s "http://127.0.0.1:$PPORT/metrics" | wc -c)"
api ListTasks '{}' | python3 -c 'import json,sys; [print(a) for a in json.load(sys.stdin)["taskArns"]]' | while read -r a; do api StopTask "{\"task\":\"$a\"}" >/dev/null; done
stop_berthd
