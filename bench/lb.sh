#!/bin/bash
# bench/lb.sh: Berth's proxy against HAProxy in one run, L7 (http,
# keep-alive both sides) and L4 (tcp), on the same backends.
#
# Backends: three HTTP/1.1 keep-alive servers on the host network (one
# HAProxy process answering 1 KiB from three ports), so that neither
# docker-proxy nor a container's network is measured.  Berth learns them
# the way it learns any target: three services of one host-network task
# each (busybox sleeping; its containerPort is the backend's port), all
# joined to [target-group bench].  Berth listens with [listener l7]
# (protocol http) and [listener l4] (tcp); HAProxy with the equivalent
# (mode http + http-reuse always; mode tcp), round robin on both.
# wrk drives each with the same settings; printed: requests/s, p99
# latency, errors, and the ratios Berth/HAProxy (goal: throughput >= 1.0,
# p99 <= 1.1).  The machine's load matters: run it on a quiet host.
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
B7=$(free_port) B4=$(free_port) H7=$(free_port) H4=$(free_port)
P1=$(free_port) P2=$(free_port) P3=$(free_port)

# The backends.
body=$(head -c 1024 /dev/zero | tr '\0' x)
{
    printf 'global\n  maxconn 8000\n  nbthread 1\n'
    printf 'defaults\n  mode http\n  timeout client 60s\n  timeout http-keep-alive 60s\n'
    for p in $P1 $P2 $P3; do
        printf 'frontend b%s\n  bind 127.0.0.1:%s\n' "$p" "$p"
        printf '  http-request return status 200 content-type text/plain string "%s"\n' "$body"
    done
} >"$T/backends.cfg"
start_bg backends haproxy -db -f "$T/backends.cfg"
wait_for 10 curl -s -f -o /dev/null "http://127.0.0.1:$P3/" || { cat "$T/backends.log"; exit 1; }

write_conf "$T/berth.conf" <<EOF2
[plugin docker]
socket = $SOCK

[lb]
workers = 2

[listener l7]
listen = 127.0.0.1:$B7
protocol = http
default-target-group = bench

[listener l4]
listen = 127.0.0.1:$B4
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
for p in $P1 $P2 $P3; do
    api RegisterTaskDefinition "{\"family\":\"b$p\",\"networkMode\":\"host\",\"containerDefinitions\":[{\"name\":\"app\",
     \"image\":\"berth-test/busybox:1\",\"memory\":16,\"command\":[\"sh\",\"-c\",\"trap 'exit 0' TERM; sleep 3600 & wait\"],
     \"portMappings\":[{\"containerPort\":$p}]}]}" >/dev/null
    api CreateService "{\"serviceName\":\"b$p\",\"taskDefinition\":\"b$p\",\"desiredCount\":1,
     \"loadBalancers\":[{\"targetGroupArn\":\"bench\",\"containerName\":\"app\",\"containerPort\":$p}]}" >/dev/null
done
healthy() { [ "$(grep -c 'event=lb.target.healthy' "$T/berthd.log")" -ge 3 ]; }
wait_for 600 healthy || { echo "bench/lb.sh: the targets did not become healthy" >&2; tail "$T/berthd.log"; exit 1; }

{
    printf 'global\n  maxconn 8000\n  nbthread 2\n'
    printf 'defaults\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n'
    printf 'listen l7\n  mode http\n  bind 127.0.0.1:%s\n  balance roundrobin\n' "$H7"
    printf '  option http-keep-alive\n  http-reuse always\n  option forwardfor\n'
    for p in $P1 $P2 $P3; do printf '  server s%s 127.0.0.1:%s\n' "$p" "$p"; done
    printf 'listen l4\n  mode tcp\n  bind 127.0.0.1:%s\n  balance roundrobin\n' "$H4"
    for p in $P1 $P2 $P3; do printf '  server s%s 127.0.0.1:%s\n' "$p" "$p"; done
} >"$T/haproxy.cfg"
start_bg haproxy haproxy -db -f "$T/haproxy.cfg"
wait_for 10 curl -s -f -o /dev/null "http://127.0.0.1:$H7/" || { cat "$T/haproxy.log"; exit 1; }

# run NAME PORT: wrk's requests/s and p99 (ms) as "RPS P99 ERRORS".
run() {
    wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --latency "http://127.0.0.1:$2/" >"$T/wrk-$1.txt" 2>&1
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$T/wrk-$1.txt")
    p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; print v}' "$T/wrk-$1.txt")
    errs=$(awk '/Socket errors|Non-2xx/ {print}' "$T/wrk-$1.txt" | tr '\n' ' ')
    echo "$rps $p99 $errs"
}
ratio() {
    python3 - "$@" <<'PY'
import sys
name, b, h, bp, hp = sys.argv[1], *map(float, sys.argv[2:])
print("%s ratio Berth/HAProxy: throughput %.2f (goal >= 1.0), p99 %.2f (goal <= 1.1)"
      % (name, b / h, bp / hp))
PY
}
ratios=""
printf 'load before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %12s %10s  %s\n' proxy req/s p99-ms errors
for mode in l7 l4; do
    [ $mode = l7 ] && { bp=$B7; hp=$H7; } || { bp=$B4; hp=$H4; }
    # Warm both, then measure each once, HAProxy first.
    wrk -t1 -c4 -d2s "http://127.0.0.1:$bp/" >/dev/null 2>&1
    wrk -t1 -c4 -d2s "http://127.0.0.1:$hp/" >/dev/null 2>&1
    read -r h_rps h_p99 h_err <<<"$(run haproxy-$mode "$hp")"
    read -r b_rps b_p99 b_err <<<"$(run berth-$mode "$bp")"
    printf '%-12s %12s %10s  %s\n' "haproxy-$mode" "$h_rps" "$h_p99" "${h_err:-none}"
    printf '%-12s %12s %10s  %s\n' "berth-$mode" "$b_rps" "$b_p99" "${b_err:-none}"
    ratios="$ratios$(ratio "$mode" "$b_rps" "$h_rps" "$b_p99" "$h_p99")
"
done
printf '%s' "$ratios"
printf 'load after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
stop_berthd
