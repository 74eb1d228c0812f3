# dns_forward.sh: names outside the namespaces go to the upstreams (a
# dnsmasq started here on 127.0.0.1), over UDP and TCP, with the client's
# query ID; a client outside [dns] allow gets REFUSED; a dead upstream is
# SERVFAIL; namespace names are never forwarded; the prometheus plugin
# shows berth_dns_queries_total by qtype and rcode and
# berth_dns_forwarded_total by result, kept across reloads, and the
# berth_dns_request_duration_seconds histogram (local, forwarded).  berthd runs
# without any engine: the responder does not need one.
. "$top_srcdir/tests/lib/functions.sh"

requires dig
requires dnsmasq
requires python3
requires curl

UP=$(free_port)
DPORT=$(free_port)
PPORT=$(free_port)
DEAD=$(free_port)
start_bg dnsmasq dnsmasq --no-daemon --port="$UP" --listen-address=127.0.0.1 \
    --bind-interfaces --no-resolv --no-hosts --address=/up.example/192.0.2.44 \
    --address=/prod.local/192.0.2.99 --pid-file= --user=root
upq() { dig -p "$UP" @127.0.0.1 +time=1 +tries=1 +short A up.example; }
ok "the upstream (dnsmasq) answers" wait_for 50 upq

conf() { # UPSTREAMS ALLOW
    write_conf "$T/berth.conf" <<EOF2
[dns]
enabled = yes
listen = 127.0.0.1:$DPORT
namespaces = prod.local
upstreams = $1
allow = $2
workers = 2

[plugin prometheus]
address = 127.0.0.1
port = $PPORT
path = /metrics
EOF2
}
conf "127.0.0.1:$UP" ""
q() { dig -p "$DPORT" @127.0.0.1 +time=3 +tries=1 "$@"; }

ok "berthd starts with the responder and no engine" start_berthd "$T/berth.conf" ||
    diag "$(tail -20 "$T/berthd.log")"
ok "two worker threads" log_has "event=dns.started .*workers=2"
n=0
for i in $(seq 20); do [ "$(q +short A "n$i.up.example")" = 192.0.2.44 ] && n=$((n + 1)); done
is "20 queries from 20 client ports: all answered, whichever worker takes them" "$n" 20
is "a name outside the namespaces is forwarded (UDP)" "$(q +short A up.example)" 192.0.2.44
is "... over TCP too" "$(q +tcp +short A sub.up.example)" 192.0.2.44
out=$(q A up.example)
unlike "... the answer carries the client's query ID (dig saw no mismatch)" "$out" "ID mismatch"
like "... with the upstream's own flags (aa ra: dnsmasq's; ours would have no ra)" "$out" "flags: qr aa rd ra;"
like "a namespace name is not forwarded (dnsmasq would say 192.0.2.99)" \
    "$(q A web.prod.local)" "status: NXDOMAIN"
# Several queries on one TCP connection: dig keeps it open with +keepopen.
is "two queries on one TCP connection" \
    "$(q +tcp +keepopen +short up.example A a.up.example A | tr '\n' ' ')" "192.0.2.44 192.0.2.44 "

# The figures, through the prometheus plugin (metrics-interval is 1s).
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$PPORT/metrics"; }
# sample NAME LABELS: the value of the sample with exactly these labels.
sample() { scrape | grep -F "$1{$2}" | head -1 | awk '{print $NF}'; }
ge() { v=$(sample "$1" "$2"); [ -n "$v" ] && python3 -c "import sys; sys.exit(not float('$v') >= $3)"; }
ok "berth_dns_queries_total{qtype=A,rcode=NOERROR} counts the forwarded answers (>= 23)" \
    wait_for 20 ge berth_dns_queries_total 'qtype="A",rcode="NOERROR"' 23
ok "... {qtype=A,rcode=NXDOMAIN}: the namespace's unknown name" \
    wait_for 20 ge berth_dns_queries_total 'qtype="A",rcode="NXDOMAIN"' 1
ok "berth_dns_forwarded_total{result=answered} >= 23" \
    wait_for 20 ge berth_dns_forwarded_total 'result="answered"' 23
is "berth_dns_forwarded_total{result=failed} is 0 so far" \
    "$(sample berth_dns_forwarded_total 'result="failed"')" 0
like "the page types them as counters" "$(scrape | grep '^# TYPE berth_dns_queries_total')" "counter"
like "berth_dns_request_duration_seconds is a histogram" \
    "$(scrape | grep '^# TYPE berth_dns_request_duration_seconds')" "histogram"
ok "... its forwarded series counts the forwarded queries (_count >= 23)" \
    wait_for 20 ge berth_dns_request_duration_seconds_count 'source="forwarded"' 23
ok "... its local series the zone's answers (_count >= 1)" \
    wait_for 20 ge berth_dns_request_duration_seconds_count 'source="local"' 1
ok "... with a +Inf bucket equal to the count" \
    ge berth_dns_request_duration_seconds_bucket 'source="forwarded",le="+Inf"' \
    "$(sample berth_dns_request_duration_seconds_count 'source="forwarded"')"
answered=$(sample berth_dns_forwarded_total 'result="answered"')

# Loopback is not in allow: refused, and nothing is forwarded.
conf "127.0.0.1:$UP" "10.0.0.0/8"
ok "a reload with allow = 10.0.0.0/8" reload
like "a client outside allow: REFUSED" "$(q A up.example)" "status: REFUSED"
like "... over TCP too" "$(q +tcp A up.example)" "status: REFUSED"
like "... namespace names are still answered" "$(q A web.prod.local)" "status: NXDOMAIN"

# A dead upstream: SERVFAIL within dig's 3 s wait.
conf "127.0.0.1:$DEAD" ""
ok "a reload pointing to a dead upstream" reload
like "upstream failure: SERVFAIL" "$(q A up.example)" "status: SERVFAIL"
ok "REFUSED answers are counted ({qtype=A,rcode=REFUSED} >= 2)" \
    wait_for 20 ge berth_dns_queries_total 'qtype="A",rcode="REFUSED"' 2
ok "the failed forward is counted (berth_dns_forwarded_total{result=failed} >= 1)" \
    wait_for 20 ge berth_dns_forwarded_total 'result="failed"' 1
ok "... and the SERVFAIL sent for it" \
    wait_for 20 ge berth_dns_queries_total 'qtype="A",rcode="SERVFAIL"' 1
ok "counters survive the reloads that replaced the workers (answered still >= $answered)" \
    ge berth_dns_forwarded_total 'result="answered"' "$answered"
like "bad upstreams are refused by a reload, naming the key" \
    "$(conf "not-an-ip" ""; reload; grep 'reload.refused' "$T/berthd.log" | tail -2)" "upstreams"
stop_berthd
is "berthd stops cleanly" "$BERTHD_STATUS" 0
done_testing
