# dns_task_docker.sh: [dns] task-resolver on a real dockerd.  The responder
# also listens on port 53 of the engine's bridge gateway (a private dockerd
# with its own bridge, so port 53 is taken nowhere else), and a task's
# container that sets no dnsServers gets it as its resolver: inside it,
# busybox nslookup finds web.prod.local (a service with serviceRegistries)
# at the gateway, where its port is published, and an external name is
# forwarded to a dnsmasq upstream on loopback (the bridge's network is in
# the default allow list).  A container with its own dnsServers keeps them.
ENGINE=docker
. "$top_srcdir/tests/integration/tasks_env.sh"
requires ip
requires dig
requires dnsmasq
requires docker

PD=$T/dockerd
BR=brdns$$
NET=10.214.$((RANDOM % 200 + 20))
GW=$NET.1
cleanup_private() { private_dockerd_cleanup "$PD" "$BR"; }
on_exit cleanup_private
ok "a private dockerd starts (bridge $BR, $GW/24)" private_dockerd_start "$PD" "$BR" "$GW/24" || {
    done_testing
    exit 1
}
ok "the busybox image is imported into it" private_dockerd_image "$PD" berth-test/busybox:1
SOCK=$PD/docker.sock
pd() { DOCKER_HOST="unix://$SOCK" docker "$@"; }

UP=$(free_port)
DPORT=$(free_port)
start_bg dnsmasq dnsmasq --no-daemon --port="$UP" --listen-address=127.0.0.1 \
    --bind-interfaces --no-resolv --no-hosts --address=/up.example/192.0.2.44 \
    --pid-file= --user=root
upq() { dig -p "$UP" @127.0.0.1 +time=1 +tries=1 +short A up.example | grep -q 192.0.2.44; }
ok "the upstream (dnsmasq on 127.0.0.1) answers" wait_for 50 upq

# [dns] goes before [plugin docker] (write_conf's keys come after the file).
sed -i "s|^socket = /run/docker.sock\$|socket = $SOCK|" "$T/berth.conf"
sed -i "s/^host-port-range = .*/host-port-range = 47200-47299/" "$T/berth.conf"
sed -i "s|^\[plugin docker\]\$|[dns]\nenabled = yes\nlisten = 127.0.0.1:$DPORT\nnamespaces = prod.local\nadvertise-address = $GW\nupstreams = 127.0.0.1:$UP\nttl = 1s\ntask-resolver = yes\n\n&|" "$T/berth.conf"
ok "berthd's conf has task-resolver and the private socket" \
    grep -q "^task-resolver = yes\$" "$T/berth.conf"
ok "berthd starts on the private dockerd" start_berthd "$T/berth.conf" ||
    diag "$(tail -5 "$T/berthd.log")"
ok "the responder listens on the bridge gateway's port 53" \
    wait_log 300 "event=dns.task_resolver address=$GW:53"
# berthd's own sockets on port 53: UDP and TCP on the gateway, nothing else.
port53() { ss -lntupH 'sport = :53' | grep "pid=$BERTHD_PID," | awk '{print $1, $5}' | sort | tr '\n' ' '; }
is "berthd's port 53 sockets: UDP and TCP on the gateway only (never 0.0.0.0)" \
    "$(port53)" "tcp $GW:53 udp $GW:53 "

cat >"$T/web.json" <<'EOF2'
{"family": "web", "containerDefinitions": [
  {"name": "app", "image": "berth-test/busybox:1", "memory": 32, "stopTimeout": 2,
   "portMappings": [{"containerPort": 8080, "hostPort": 0}],
   "command": ["sh", "-c", "echo web-ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]}]}
EOF2
cat >"$T/probe.json" <<'EOF2'
{"family": "probe", "containerDefinitions": [
  {"name": "c", "image": "berth-test/busybox:1", "memory": 16, "stopTimeout": 1,
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]},
  {"name": "own", "image": "berth-test/busybox:1", "memory": 16, "stopTimeout": 1,
   "dnsServers": ["192.0.2.53"],
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}]}
EOF2
register "$T/web.json" >/dev/null
register "$T/probe.json" >/dev/null
ecs create-service --service-name web --task-definition web --desired-count 1 \
    --service-registries "registryArn=arn:aws:servicediscovery:local:000000000000:service/prod.local/web,containerName=app,containerPort=8080" >/dev/null
web_task() { ecs list-tasks --service-name web --desired-status RUNNING | jpath '" ".join(d["taskArns"])'; }
web_running() { w=$(web_task) && [ -n "$w" ] && task_is "$w" RUNNING; }
ok "web's task runs" wait_for 300 web_running
in_dns() { dig -p "$DPORT" @127.0.0.1 +time=2 +tries=1 +short A web.prod.local | grep -qx "$GW"; }
ok "web.prod.local answers the gateway on loopback" wait_for 100 in_dns

P=$(run probe)
ok "the probe task runs" wait_for 300 task_is "$P" RUNNING
cid() { pd ps -q --filter "label=com.amazonaws.ecs.task-arn=$P" --filter "label=com.amazonaws.ecs.container-name=$1"; }
C=$(cid c)
OWN=$(cid own)
ok "the probe's containers are found on the engine" test -n "$C" -a -n "$OWN"
is "a container without dnsServers resolves through the gateway" \
    "$(pd exec "$C" sh -c 'grep ^nameserver /etc/resolv.conf')" "nameserver $GW"
is "a container with its own dnsServers keeps them" \
    "$(pd exec "$OWN" sh -c 'grep ^nameserver /etc/resolv.conf')" "nameserver 192.0.2.53"

out=$(pd exec "$C" nslookup web.prod.local 2>&1)
like "nslookup web.prod.local inside the task: the responder answers" "$out" "Server:[[:space:]]*$GW"
like "... with web's task address" "$out" "Address:? *(1: )?$GW\$"
unlike "... and no error" "$out" "can't resolve|NXDOMAIN|SERVFAIL|REFUSED"
out=$(pd exec "$C" nslookup up.example 2>&1)
like "an external name is forwarded through the responder to the upstream" "$out" "192\.0\.2\.44"

ecs update-service --service web --desired-count 0 >/dev/null
ecs stop-task --task "$P" >/dev/null
ok "the tasks stop" wait_for 300 task_is "$P" STOPPED
done_testing
