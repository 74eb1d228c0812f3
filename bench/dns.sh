#!/bin/bash
# bench/dns.sh: a whole berthd's DNS responder against NSD and dnsmasq in one
# run, serving identical data, each driven in turn by dnsperf with the same
# query file on 127.0.0.1.  Prints queries/s for each and Berth's ratios to
# both (the goal: Berth >= 1.0x NSD).
#
# Berth's names come the normal way: a berthd on the shared dockerd (its own
# cluster) runs 50 services of 2 tasks each (busybox sleeping, one port
# mapped to a dynamic host port, named "http"), every service with
# serviceRegistries in namespace bench.local.  That gives, per service
# svcNN: svcNN.bench.local A, TASKID.svcNN.bench.local A for each task,
# svcNN.bench.local SRV and _http._tcp.svcNN.bench.local SRV (2 records
# each, the targets' A in the additional section): 150 A names and 100 SRV
# names, from 100 containers.  Once all 100 tasks answer, the zone for
# NSD and dnsmasq's records are written from Berth's own answers (same
# owners, targets, ports, addresses and TTL).
#
# The query file: the 100 per-task A names and the 100 SRV names (each
# once; dnsperf loops over it).  Servers: berthd with [dns] workers = the
# number of cores, NSD with server-count = cores and its response rate
# limiting off, dnsmasq (one thread, cache off: its records are local
# data).  All three run side by side (only the one measured is busy) with
# the 100 containers; each gets a 3 s warm-up, then each is measured in
# turn.  The average response size is printed too: the servers' extra
# sections differ (NSD adds the zone's NS in authority and its A in
# additional to every answer).  Benchmarks are never part of make check.
#
# Usage: bench/dns.sh [SECONDS per server (10)]
# Run from a build dir (top_builddir) or set top_builddir/top_srcdir.
# Needs dockerd, nsd, dnsmasq, dnsperf and dig (Debian packages).
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
: "${top_srcdir:=$here}"
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"
set +e
SECS=${1:-10}
NS=bench.local
NSVC=50
PER=2
TTL=60
for tool in dnsperf dig dnsmasq curl python3; do
    command -v $tool >/dev/null ||
        { echo "bench/dns.sh: needs $tool (apt-get install dnsperf bind9-dnsutils dnsmasq)" >&2; exit 1; }
done
[ -x /usr/sbin/nsd ] || { echo "bench/dns.sh: needs /usr/sbin/nsd (apt-get install nsd)" >&2; exit 1; }
[ -x "$BERTHD" ] || { echo "bench/dns.sh: no berthd in $top_builddir (build it, or set top_builddir)" >&2; exit 1; }
start_engine docker || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
SOCK=$(engine_sock docker)
CLUSTER=dns-bench-$$
CORES=$(nproc)
PB=$(free_port)

write_conf "$T/berth.conf" <<EOF2
[tasks]
host-port-range = 45000-45499
cleanup-delay = 0s

[dns]
enabled = yes
listen = 127.0.0.1:$PB
namespaces = $NS
ttl = ${TTL}s
workers = $CORES

[plugin docker]
socket = $SOCK
request-timeout = 5m
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"
cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine
start_berthd "$T/berth.conf" || { echo "bench/dns.sh: berthd did not start:" >&2; tail "$T/berthd.log" >&2; exit 1; }

api RegisterTaskDefinition '{"family":"dnsbench","containerDefinitions":[{"name":"app",
  "image":"berth-test/busybox:1","memory":8,"cpu":1,"stopTimeout":1,"command":["sleep","86400"],
  "portMappings":[{"containerPort":8080,"hostPort":0,"name":"http"}]}]}' | grep -q taskDefinitionArn ||
    { echo "bench/dns.sh: RegisterTaskDefinition failed" >&2; exit 1; }
svcs=""
for i in $(seq 0 $((NSVC - 1))); do
    s=$(printf 'svc%02d' "$i")
    svcs="$svcs $s"
    api CreateService "{\"cluster\":\"$CLUSTER\",\"serviceName\":\"$s\",\"taskDefinition\":\"dnsbench\",\"desiredCount\":$PER,
      \"serviceRegistries\":[{\"registryArn\":\"arn:aws:servicediscovery:local:000000000000:service/$NS/$s\",\"containerName\":\"app\",\"containerPort\":8080}]}" |
        grep -q '"serviceName"' || { echo "bench/dns.sh: CreateService $s failed" >&2; exit 1; }
done

# All tasks answer: SRV svcNN has $PER records for every service.
srv() { dig -p "$1" @127.0.0.1 +time=2 +tries=1 +noall +answer SRV "$2"; }
all_up() {
    for s in $svcs; do
        [ "$(srv "$PB" "$s.$NS" | grep -c 'IN[[:space:]]SRV')" -eq "$PER" ] || return 1
    done
}
echo "bench/dns.sh: waiting for $NSVC services x $PER tasks on dockerd..." >&2
wait_for 1800 all_up || {
    echo "bench/dns.sh: the $((NSVC * PER)) tasks did not all reach the responder" >&2
    tail "$T/berthd.log" >&2
    exit 1
}

# The zone (NSD) and dnsmasq's records, from Berth's answers; the query file.
{
    printf '$ORIGIN %s.\n$TTL %s\n' "$NS" "$TTL"
    printf '@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 %s\n' "$NS" "$NS" "$TTL"
    printf '@ IN NS ns.%s.\nns IN A 127.0.0.1\n' "$NS"
} >"$T/bench.zone"
: >"$T/queries"
: >"$T/dnsmasq.conf"
for s in $svcs; do
    a=$(dig -p "$PB" @127.0.0.1 +time=2 +tries=1 +short A "$s.$NS" | head -1)
    printf '%s.%s. IN A %s\n' "$s" "$NS" "$a" >>"$T/bench.zone"
    printf 'host-record=%s.%s,%s\n' "$s" "$NS" "$a" >>"$T/dnsmasq.conf"
    printf '%s.%s SRV\n_http._tcp.%s.%s SRV\n' "$s" "$NS" "$s" "$NS" >>"$T/queries"
    for owner in "$s.$NS" "_http._tcp.$s.$NS"; do
        # owner ttl IN SRV prio weight port target
        srv "$PB" "$owner" | while read -r _ _ _ _ prio weight port target; do
            printf '%s. IN SRV %s %s %s %s\n' "$owner" "$prio" "$weight" "$port" "$target" >>"$T/bench.zone"
            printf 'srv-host=%s,%s,%s,%s,%s\n' "$owner" "${target%.}" "$port" "$prio" "$weight" >>"$T/dnsmasq.conf"
        done
    done
    for target in $(srv "$PB" "$s.$NS" | awk '{print $8}'); do
        ta=$(dig -p "$PB" @127.0.0.1 +time=2 +tries=1 +short A "$target" | head -1)
        printf '%s IN A %s\n' "$target" "$ta" >>"$T/bench.zone"
        printf 'host-record=%s,%s\n' "${target%.}" "$ta" >>"$T/dnsmasq.conf"
        printf '%s A\n' "${target%.}" >>"$T/queries"
    done
done
na=$(grep -c ' A$' "$T/queries")
nsrv=$(grep -c ' SRV$' "$T/queries")
[ "$na" -eq $((NSVC * PER)) ] && [ "$nsrv" -eq $((NSVC * 2)) ] || {
    echo "bench/dns.sh: the query file has $na A and $nsrv SRV names, not $((NSVC * PER)) and $((NSVC * 2))" >&2
    exit 1
}

first=$(awk '$2 == "A" {print $1; exit}' "$T/queries")
first_a=$(dig -p "$PB" @127.0.0.1 +short A "$first" | head -1)
answers() { dig -p "$1" @127.0.0.1 +time=1 +tries=1 +short A "$first" 2>/dev/null | grep -qx "$first_a"; }
# same PORT: the server gives Berth's answers (records, not order) for a
# sample of names, so the three serve identical data.
same() {
    for q in "$first A" "svc00.$NS SRV" "_http._tcp.svc$(printf '%02d' $((NSVC - 1))).$NS SRV"; do
        set -- $q
        [ "$(dig -p "$PB" @127.0.0.1 +short "$2" "$1" | sort)" = \
          "$(dig -p "$P" @127.0.0.1 +short "$2" "$1" | sort)" ] || return 1
    done
}
# perf NAME PORT: dnsperf's queries/s (its whole output in $T/dnsperf-NAME.txt).
perf() {
    dnsperf -s 127.0.0.1 -p "$2" -d "$T/queries" -l "$SECS" -c 16 -T "$CORES" -q 200 \
        >"$T/dnsperf-$1.txt" 2>&1
    lost=$(awk '/Queries lost:/ {print $3}' "$T/dnsperf-$1.txt")
    [ "${lost:-0}" = 0 ] || echo "bench/dns.sh: $1 lost $lost queries" >&2
    awk '/Queries per second:/ {printf "%d\n", $4}' "$T/dnsperf-$1.txt"
}
# size NAME: dnsperf's average response size (bytes).
size() { awk '/Average packet size:/ {print $7}' "$T/dnsperf-$1.txt"; }

PN=$(free_port)
cat >"$T/nsd.conf" <<EOF2
server:
    ip-address: 127.0.0.1@$PN
    server-count: $CORES
    zonesdir: "$T"
    database: ""
    zonelistfile: "$T/zone.list"
    xfrdfile: "$T/xfrd.state"
    pidfile: "$T/nsd.pid"
    username: ""
    logfile: "$T/nsd-own.log"
    verbosity: 0
    # Response rate limiting is on by default (200 q/s per source): off,
    # or it measures the limit (dnsperf's queries all come from 127.0.0.1).
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: $NS
    zonefile: bench.zone
EOF2
start_bg nsd /usr/sbin/nsd -d -c "$T/nsd.conf"
wait_for 20 answers "$PN" || { echo "bench/dns.sh: nsd does not answer:" >&2; cat "$T/nsd.log" "$T/nsd-own.log" >&2; exit 1; }
P=$PN
same || { echo "bench/dns.sh: nsd's answers differ from Berth's" >&2; exit 1; }

PD=$(free_port)
start_bg dnsmasq dnsmasq --no-daemon --conf-file="$T/dnsmasq.conf" --port="$PD" \
    --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts --pid-file= \
    --user=root --cache-size=0 --local-ttl="$TTL"
wait_for 20 answers "$PD" || { echo "bench/dns.sh: dnsmasq does not answer:" >&2; cat "$T/dnsmasq.log" >&2; exit 1; }
P=$PD
same || { echo "bench/dns.sh: dnsmasq's answers differ from Berth's" >&2; exit 1; }

# All three run (idle but the one measured); a 3 s warm-up of each first,
# so that the first measured does not pay for the engine settling after
# the 100 starts.
for p in "$PB" "$PN" "$PD"; do
    dnsperf -s 127.0.0.1 -p "$p" -d "$T/queries" -l 3 -c 16 -T "$CORES" -q 200 >/dev/null 2>&1
done
printf 'load before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
berth=$(perf berth "$PB")
nsd=$(perf nsd "$PN")
dnsmasq=$(perf dnsmasq "$PD")
printf 'load after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

printf 'dns bench: berthd with %s services x %s tasks on dockerd; %s A + %s SRV names queried, %ss each, %s cores\n' \
    "$NSVC" "$PER" "$na" "$nsrv" "$SECS" "$CORES"
printf '  berth    %8s q/s  (responses %s bytes on average)\n' "$berth" "$(size berth)"
printf '  nsd      %8s q/s  (responses %s bytes on average)\n' "$nsd" "$(size nsd)"
printf '  dnsmasq  %8s q/s  (responses %s bytes on average)\n' "$dnsmasq" "$(size dnsmasq)"
python3 -c "import sys; b,n,d=map(float,sys.argv[1:]); print('  berth/nsd %.2fx (goal >= 1.0)   berth/dnsmasq %.2fx' % (b/n, b/d))" \
    "$berth" "$nsd" "$dnsmasq"
stop_berthd
