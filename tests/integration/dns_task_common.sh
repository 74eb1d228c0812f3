# dns_task_common.sh: [dns] task-resolver on a real engine, sourced with
# ENGINE set (docker or podman).  The responder also listens on port 53 of
# the engine's bridge gateway, and a task that sets no dnsServers gets it
# as its resolver: inside it, busybox nslookup finds web.prod.local (a
# service with serviceRegistries) at the gateway, where its port is
# published, and an external name is forwarded to a dnsmasq upstream on
# loopback (the bridge's network is in the default allow list).  A task
# whose container sets dnsServers keeps them.
#
# Docker: a private dockerd with its own bridge, so port 53 of its gateway
# is taken nowhere else.  Podman: the shared service's network "podman"
# (its bridge appears with the first container: the responder binds there
# once it exists); no other test uses port 53 on it.  A Podman task is a
# pod whose containers share one resolv.conf, so the container with its
# own dnsServers is a task of its own here on both engines.
. "$top_srcdir/tests/integration/tasks_env.sh"
requires ip
requires dig
requires dnsmasq

if [ "$ENGINE" = docker ]; then
    requires docker
    PRIVATE_BR=brdns$$
    PRIVATE_NET=10.214.$((RANDOM % 200 + 20))
    PRIVATE_PORTS=47200-47299
    . "$top_srcdir/tests/lib/private_dockerd.sh"
    eng() { DOCKER_HOST="unix://$SOCK" docker "$@"; }
else
    requires podman
    GW=$(podman network inspect podman --format '{{range .Subnets}}{{.Gateway}}{{end}}' 2>&1)
    like "podman's network has a gateway" "$GW" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$'
    sed -i "s/^host-port-range = .*/host-port-range = 48400-48499/" "$T/berth.conf"
    eng() { podman "$@"; }
fi

# other_port PORT...: a free port none of these (free_port's socket is
# closed at once: two calls may give the same port, and dnsmasq takes TCP
# as well as UDP).
other_port() {
    while :; do
        p=$(free_port)
        case " $* " in *" $p "*) ;; *) echo "$p"; return 0 ;; esac
    done
}
UP=$(other_port "$PORT" "$METADATA_PORT")
DPORT=$(other_port "$PORT" "$METADATA_PORT" "$UP")
start_bg dnsmasq dnsmasq --no-daemon --port="$UP" --listen-address=127.0.0.1 \
    --bind-interfaces --no-resolv --no-hosts --address=/up.example/192.0.2.44 \
    --pid-file= --user=root --log-queries --log-facility=-
upq() { dig -p "$UP" @127.0.0.1 +time=1 +tries=1 +short A up.example | grep -q 192.0.2.44; }
ok "the upstream (dnsmasq on 127.0.0.1) answers" wait_for 50 upq

# [dns] goes before [plugin $ENGINE] (write_conf's keys come after the file).
sed -i "s|^\[plugin $ENGINE\]\$|[dns]\nenabled = yes\nlisten = 127.0.0.1:$DPORT\nnamespaces = prod.local\nadvertise-address = $GW\nupstreams = 127.0.0.1:$UP\nttl = 1s\ntask-resolver = yes\n\n&|" "$T/berth.conf"
ok "berthd's conf has task-resolver" \
    grep -q "^task-resolver = yes\$" "$T/berth.conf"
# Without berthd every later wait would run to its end (aws CLI calls for
# many minutes): the test ends here.
ok "berthd starts on $ENGINE" start_berthd "$T/berth.conf" || {
    diag "$(tail -5 "$T/berthd.log")"
    done_testing
    exit 1
}

cat >"$T/web.json" <<'EOF2'
{"family": "web", "containerDefinitions": [
  {"name": "app", "image": "berth-test/busybox:1", "memory": 32, "stopTimeout": 2,
   "portMappings": [{"containerPort": 8080, "hostPort": 0}],
   "command": ["sh", "-c", "echo web-ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]}]}
EOF2
cat >"$T/probe.json" <<'EOF2'
{"family": "probe", "containerDefinitions": [
  {"name": "c", "image": "berth-test/busybox:1", "memory": 16, "stopTimeout": 1,
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}]}
EOF2
cat >"$T/own.json" <<'EOF2'
{"family": "own", "containerDefinitions": [
  {"name": "own", "image": "berth-test/busybox:1", "memory": 16, "stopTimeout": 1,
   "dnsServers": ["192.0.2.53"],
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}]}
EOF2
register "$T/web.json" >/dev/null
register "$T/probe.json" >/dev/null
register "$T/own.json" >/dev/null
ecs create-service --service-name web --task-definition web --desired-count 1 \
    --service-registries "registryArn=arn:aws:servicediscovery:local:000000000000:service/prod.local/web,containerName=app,containerPort=8080" >/dev/null
web_task() { ecs list-tasks --service-name web --desired-status RUNNING | jpath '" ".join(d["taskArns"])'; }
web_running() { w=$(web_task) && [ -n "$w" ] && task_is "$w" RUNNING; }
ok "web's task runs" wait_for 300 web_running
in_dns() { dig -p "$DPORT" @127.0.0.1 +time=2 +tries=1 +short A web.prod.local | grep -qx "$GW"; }
ok "web.prod.local answers the gateway on loopback" wait_for 100 in_dns
# (Podman's bridge may only now exist: berthd retries each second.)
ok "the responder listens on the bridge gateway's port 53" \
    wait_log 300 "event=dns.task_resolver address=$GW:53"
# berthd's own sockets on port 53: UDP and TCP on the gateway, nothing else.
port53() { ss -lntupH 'sport = :53' | grep "pid=$BERTHD_PID," | awk '{print $1, $5}' | sort | tr '\n' ' '; }
is "berthd's port 53 sockets: UDP and TCP on the gateway only (never 0.0.0.0)" \
    "$(port53)" "tcp $GW:53 udp $GW:53 "


P=$(run probe)
O=$(run own)
# settled TASK: RUNNING or STOPPED (a task that failed to start says why).
settled() { case $(task_field "$1" 'd["lastStatus"]') in RUNNING | STOPPED) return 0 ;; esac; return 1; }
wait_for 300 settled "$P"
is "the probe task runs" "$(task_field "$P" 'd["lastStatus"]')" RUNNING ||
    diag "$(task_field "$P" 'd.get("stoppedReason")')"
wait_for 300 settled "$O"
is "the task with its own dnsServers runs" "$(task_field "$O" 'd["lastStatus"]')" RUNNING ||
    diag "$(task_field "$O" 'd.get("stoppedReason")')"
cid() { # TASK CONTAINER: its id on the engine
    eng ps -q --filter "label=com.amazonaws.ecs.task-arn=$1" --filter "label=com.amazonaws.ecs.container-name=$2"
}
C=$(cid "$P" c)
OWN=$(cid "$O" own)
ok "their containers are found on the engine" test -n "$C" -a -n "$OWN"
is "a container without dnsServers resolves through the gateway" \
    "$(eng exec "$C" sh -c 'grep ^nameserver /etc/resolv.conf')" "nameserver $GW"
is "a container with its own dnsServers keeps them" \
    "$(eng exec "$OWN" sh -c 'grep ^nameserver /etc/resolv.conf')" "nameserver 192.0.2.53"

out=$(eng exec "$C" nslookup web.prod.local 2>&1)
like "nslookup web.prod.local inside the task: the responder answers" "$out" "Server:[[:space:]]*$GW"
like "... with web's task address" "$out" "Address:? *(1: )?$GW\$"
unlike "... and no error" "$out" "can't resolve|NXDOMAIN|SERVFAIL|REFUSED"
out=$(eng exec "$C" nslookup up.example 2>&1)
like "an external name is forwarded through the responder to the upstream" "$out" "192\.0\.2\.44" ||
    diag "$(grep 'event=dns' "$T/berthd.log" | tail -5; tail -5 "$T/dnsmasq.log")"

ecs update-service --service web --desired-count 0 >/dev/null
ecs stop-task --task "$P" >/dev/null
ecs stop-task --task "$O" >/dev/null
ok "the probe task stops" wait_for 300 task_is "$P" STOPPED
ok "the other task stops" wait_for 300 task_is "$O" STOPPED
done_testing
