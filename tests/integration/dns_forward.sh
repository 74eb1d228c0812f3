# dns_forward.sh: names outside the namespaces go to the upstreams (a
# dnsmasq started here on 127.0.0.1), over UDP and TCP, with the client's
# query ID; a client outside [dns] allow gets REFUSED; a dead upstream is
# SERVFAIL; namespace names are never forwarded.  berthd runs without any
# engine: the responder does not need one.
. "$top_srcdir/tests/lib/functions.sh"

requires dig
requires dnsmasq
requires python3

UP=$(free_port)
DPORT=$(free_port)
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
like "bad upstreams are refused by a reload, naming the key" \
    "$(conf "not-an-ip" ""; reload; grep 'reload.refused' "$T/berthd.log" | tail -2)" "upstreams"
stop_berthd
is "berthd stops cleanly" "$BERTHD_STATUS" 0
done_testing
