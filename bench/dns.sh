#!/bin/bash
# bench/dns.sh [SECONDS]: Berth's DNS responder against NSD and dnsmasq on
# the same 100 A + 100 SRV names (svcNN.bench.local and
# _http._tcp.svcNN.bench.local), each driven by dnsperf in turn with the
# same query file, on 127.0.0.1.  Prints queries/s for each and Berth's
# ratios.  Run from a configured build directory (it uses bench/dns_serve):
#   cd BUILD && make bench/dns_serve && SRC/bench/dns.sh 10
# Needs the Debian packages nsd, dnsmasq and dnsperf.
set -eu
secs=${1:-10}
build=${top_builddir:-$PWD}
serve=$build/bench/dns_serve
for t in nsd dnsmasq dnsperf; do
    command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] ||
        { echo "dns.sh: $t not found (apt-get install $t)" >&2; exit 2; }
done
[ -x "$serve" ] || { echo "dns.sh: $serve not built (make bench/dns_serve)" >&2; exit 2; }
T=$(mktemp -d /tmp/berth-bench-dns.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cores=$(nproc)

# The names, the zone file (NSD) and dnsmasq's records: identical data.
{
    printf '$ORIGIN bench.local.\n$TTL 5\n'
    printf '@ IN SOA ns.bench.local. hostmaster.bench.local. 1 3600 600 86400 5\n'
    printf '@ IN NS ns.bench.local.\nns IN A 127.0.0.1\n'
} >"$T/bench.zone"
: >"$T/queries"
: >"$T/dnsmasq.conf"
for i in $(seq 0 99); do
    svc=$(printf 'svc%02d' "$i")
    id=$(printf '%032x' $((i + 1)))
    ip=10.0.0.$((i + 1))
    port=$((8000 + i))
    printf '%s IN A %s\n%s.%s IN A %s\n_http._tcp.%s IN SRV 1 1 %s %s.%s.bench.local.\n' \
        "$svc" "$ip" "$id" "$svc" "$ip" "$svc" "$port" "$id" "$svc" >>"$T/bench.zone"
    printf 'host-record=%s.bench.local,%s\nhost-record=%s.%s.bench.local,%s\n' \
        "$svc" "$ip" "$id" "$svc" "$ip" >>"$T/dnsmasq.conf"
    printf 'srv-host=_http._tcp.%s.bench.local,%s.%s.bench.local,%s,1,1\n' \
        "$svc" "$id" "$svc" "$port" >>"$T/dnsmasq.conf"
    printf '%s.bench.local A\n_http._tcp.%s.bench.local SRV\n' "$svc" "$svc" >>"$T/queries"
done

wait_udp() { # PORT: until the server answers
    for _ in $(seq 100); do
        dig -p "$1" @127.0.0.1 +time=1 +tries=1 +short svc00.bench.local A 2>/dev/null | grep -q 10.0.0.1 && return 0
        sleep 0.1
    done
    echo "dns.sh: the server on port $1 does not answer" >&2
    return 1
}
perf() { # PORT -> queries/s
    dnsperf -s 127.0.0.1 -p "$1" -d "$T/queries" -l "$secs" -c 16 -T 2 -q 200 2>&1 |
        awk '/Queries per second/ {print int($4)}'
}

P1=$(port)
"$serve" "$P1" "$cores" >"$T/berth.log" 2>&1 &
pids+=($!)
wait_udp "$P1"
berth=$(perf "$P1")

P2=$(port)
cat >"$T/nsd.conf" <<EOF2
server:
    ip-address: 127.0.0.1@$P2
    server-count: $cores
    zonesdir: "$T"
    database: ""
    zonelistfile: "$T/zone.list"
    xfrdfile: "$T/xfrd.state"
    pidfile: "$T/nsd.pid"
    username: ""
    logfile: "$T/nsd.log"
    verbosity: 0
remote-control:
    control-enable: no
zone:
    name: bench.local
    zonefile: bench.zone
EOF2
/usr/sbin/nsd -d -c "$T/nsd.conf" >"$T/nsd.out" 2>&1 &
pids+=($!)
wait_udp "$P2"
nsd=$(perf "$P2")

P3=$(port)
dnsmasq --no-daemon --conf-file="$T/dnsmasq.conf" --port="$P3" --listen-address=127.0.0.1 \
    --bind-interfaces --no-resolv --no-hosts --pid-file= --user=root --cache-size=0 \
    >"$T/dnsmasq.out" 2>&1 &
pids+=($!)
wait_udp "$P3"
dnsmasq=$(perf "$P3")

printf 'dns bench: %s names (100 A + 100 SRV), %ss each, %s cores\n' 200 "$secs" "$cores"
printf '  berth    %8s q/s\n  nsd      %8s q/s\n  dnsmasq  %8s q/s\n' "$berth" "$nsd" "$dnsmasq"
python3 -c "import sys; b,n,d=map(float,sys.argv[1:]); print('  berth/nsd %.2fx   berth/dnsmasq %.2fx' % (b/n, b/d))" \
    "$berth" "$nsd" "$dnsmasq"
