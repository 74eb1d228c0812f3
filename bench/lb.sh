#!/bin/bash
# bench/lb.sh: Berth's L4 proxy against HAProxy in one run, on the same
# backends: a docker service of 3 busybox httpd tasks (dynamic host ports)
# behind [listener bench]; HAProxy (mode tcp, round robin, the same 3
# host ports) on another port.  wrk drives each in turn with the same
# settings; prints requests/s and p99 latency of both and the ratios
# Berth/HAProxy (goal: throughput >= 1.0, p99 <= 1.1).
#
# Usage: bench/lb.sh [DURATION (10s)] [CONNECTIONS (64)] [THREADS (2)]
# Run from a build dir (top_builddir) or set top_builddir/top_srcdir.
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
: "${top_srcdir:=$here}"
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"
set +e
DUR=${1:-10s}
CONNS=${2:-64}
THREADS=${3:-2}
for tool in haproxy wrk curl python3; do
    command -v $tool >/dev/null || { echo "bench/lb.sh: needs $tool (apt-get install haproxy wrk)" >&2; exit 1; }
done
start_engine docker || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
SOCK=$(engine_sock docker)
CLUSTER=lb-bench-$$
BPORT=$(free_port)
HPORT=$(free_port)
write_conf "$T/berth.conf" <<EOF2
[tasks]
host-port-range = 49500-49599

[plugin docker]
socket = $SOCK

[listener bench]
listen = 127.0.0.1:$BPORT
default-target-group = bench

[target-group bench]
health-check-interval = 5s
health-check-timeout = 2s
healthy-threshold = 2
deregistration-delay = 0s
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"
cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine
api() {
    curl -s --unix-socket "$T/api.sock" -X POST -H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.$1" \
        -H 'Content-Type: application/x-amz-json-1.1' -d "$2" http://berth/
}
start_berthd "$T/berth.conf" || { tail "$T/berthd.log"; exit 1; }
api RegisterTaskDefinition '{"family":"bench","containerDefinitions":[{"name":"app","image":"berth-test/busybox:1","memory":64,
 "command":["sh","-c","mkdir -p /www; head -c 1024 /dev/zero > /www/index.html; trap \"exit 0\" TERM; httpd -f -p 8080 -h /www & wait"],
 "portMappings":[{"containerPort":8080,"hostPort":0}]}]}' >/dev/null
api CreateService '{"serviceName":"bench","taskDefinition":"bench","desiredCount":3,
 "loadBalancers":[{"targetGroupArn":"bench","containerName":"app","containerPort":8080}]}' >/dev/null
healthy() { [ "$(grep -c 'event=lb.target.healthy' "$T/berthd.log")" -ge 3 ]; }
wait_for 600 healthy || { echo "bench/lb.sh: the targets did not become healthy" >&2; exit 1; }
ports=$(grep -o 'event=lb.target.registered .*target=127.0.0.1:[0-9]*' "$T/berthd.log" | sed 's/.*://' | sort -u)
{
    printf 'global\n  maxconn 8000\n  nbthread 2\n'
    printf 'defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n'
    printf 'listen bench\n  bind 127.0.0.1:%s\n  balance roundrobin\n' "$HPORT"
    for p in $ports; do printf '  server s%s 127.0.0.1:%s\n' "$p" "$p"; done
} >"$T/haproxy.cfg"
start_bg haproxy haproxy -db -f "$T/haproxy.cfg"
wait_for 10 curl -s -f -o /dev/null "http://127.0.0.1:$HPORT/" || { cat "$T/haproxy.log"; exit 1; }

# run NAME PORT: wrk's requests/s and p99 (ms) as "RPS P99".
run() {
    wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "http://127.0.0.1:$2/" >"$T/wrk-$1.txt" 2>&1
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$T/wrk-$1.txt")
    p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; print v}' "$T/wrk-$1.txt")
    errs=$(awk '/Socket errors|Non-2xx/ {print}' "$T/wrk-$1.txt" | tr '\n' ' ')
    echo "$rps $p99 $errs"
}
# Warm both, then measure each once, HAProxy first.
wrk -t1 -c4 -d2s "http://127.0.0.1:$BPORT/" >/dev/null 2>&1
wrk -t1 -c4 -d2s "http://127.0.0.1:$HPORT/" >/dev/null 2>&1
read -r h_rps h_p99 h_err <<<"$(run haproxy "$HPORT")"
read -r b_rps b_p99 b_err <<<"$(run berth "$BPORT")"
printf '%-8s %12s %10s  %s\n' proxy req/s p99-ms errors
printf '%-8s %12s %10s  %s\n' haproxy "$h_rps" "$h_p99" "${h_err:-none}"
printf '%-8s %12s %10s  %s\n' berth "$b_rps" "$b_p99" "${b_err:-none}"
python3 - "$b_rps" "$h_rps" "$b_p99" "$h_p99" <<'PY'
import sys
b, h, bp, hp = map(float, sys.argv[1:])
print("ratio Berth/HAProxy: throughput %.2f (goal >= 1.0), p99 %.2f (goal <= 1.1)" % (b / h, bp / hp))
PY
stop_berthd
