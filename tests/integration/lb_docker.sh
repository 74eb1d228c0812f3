#!/bin/bash
# lb_docker.sh: the built-in L4 proxy in front of a real docker service:
# berthd with [listener web] and [target-group web] (http health check),
# a 3-task busybox httpd service joined through loadBalancers with dynamic
# host ports.  curl through the listener reaches all 3 tasks; a task whose
# health page goes stops getting requests; a scale-down while a curl loop
# runs fails no request (draining); DescribeServices events say
# registered / draining / deregistered; a SIGHUP with a changed conf
# during a long transfer leaves it whole.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"
requires curl
requires python3

start_engine docker || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
SOCK=$(engine_sock docker)
CLUSTER=lb-docker-$$
LPORT=$(free_port)

conf() { # INTERVAL
    write_conf "$T/berth.conf" <<EOF2
[tasks]
host-port-range = 49000-49499

[plugin docker]
socket = $SOCK

[lb]
workers = 2

[listener web]
listen = 127.0.0.1:$LPORT
default-target-group = web

[target-group web]
health-check = http
health-check-path = /ok.html
health-check-interval = $1
health-check-timeout = 2s
healthy-threshold = 2
unhealthy-threshold = 2
deregistration-delay = 3s
EOF2
    sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"
}
conf 5s

cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine

events() { api DescribeServices '{"services":["web"]}' | python3 -c 'import json,sys; print("\n".join(e["message"] for e in json.load(sys.stdin)["services"][0]["events"]))'; }
events_have() { events | grep -q -- "$1"; }
running() { api DescribeServices '{"services":["web"]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0]["runningCount"])'; }
through() { curl -s -f --max-time 5 "http://127.0.0.1:$LPORT/${1:-}"; }
# distinct N: N requests through the listener; the distinct pages seen.
distinct() { for _ in $(seq "$1"); do through; done | sort -u; }
n_distinct() { [ "$(distinct 12 | wc -l)" -eq "$1" ]; }

ok "berthd starts with a listener" start_berthd "$T/berth.conf" || diag "$(tail -20 "$T/berthd.log")"
ok "the proxy started" log_has 'event=lb.started workers=2 listeners=1'

# 128 MiB: the 40 MiB file's page cache is charged to the container, and
# at 32 MiB the kernel OOM-killed httpd mid-transfer under load.
api RegisterTaskDefinition '{"family":"web","containerDefinitions":[{"name":"app","image":"berth-test/busybox:1","memory":128,
 "command":["sh","-c","mkdir -p /www; hostname > /www/index.html; echo ok > /www/ok.html; dd if=/dev/zero of=/www/big bs=1M count=40 2>/dev/null; trap \"exit 0\" TERM; httpd -f -p 8080 -h /www & wait"],
 "portMappings":[{"containerPort":8080,"hostPort":0}]}]}' >/dev/null
out=$(api CreateService '{"serviceName":"web","taskDefinition":"web","desiredCount":3,
 "loadBalancers":[{"targetGroupArn":"arn:aws:elasticloadbalancing:local:000000000000:targetgroup/web/0123456789abcdef","containerName":"app","containerPort":8080}]}')
like "CreateService with loadBalancers" "$out" '"serviceName": ?"web"'
# A target group berth.conf does not have is refused, as ECS refuses one
# that does not exist, naming the entry and the groups there are.
out=$(api CreateService '{"serviceName":"stray","taskDefinition":"web","desiredCount":1,
 "loadBalancers":[{"targetGroupArn":"web","containerName":"app","containerPort":8080},
                  {"targetGroupArn":"arn:aws:elasticloadbalancing:local:000000000000:targetgroup/nosuch/0123456789abcdef","containerName":"app","containerPort":8080}]}')
like "CreateService with an unknown target group: InvalidParameterException" "$out" \
    'InvalidParameterException'
like "naming the entry, the target group and the sections there are" "$out" \
    'loadBalancers\[1\]\.targetGroupArn: target group arn:aws:elasticloadbalancing:local:000000000000:targetgroup/nosuch/0123456789abcdef does not exist: the \[target-group NAME\] sections of [^ ]*berth.conf are web'
unlike "and no service was created" "$(api DescribeServices '{"services":["stray"]}')" '"status": ?"ACTIVE"'
out=$(api UpdateService '{"service":"web","loadBalancers":[{"targetGroupArn":"nosuch","containerName":"app","containerPort":8080}]}')
like "UpdateService to an unknown target group is refused too" "$out" \
    'InvalidParameterException.*loadBalancers\[0\]\.targetGroupArn: target group nosuch does not exist'

ok "3 tasks run" wait_for 900 eval '[ "$(running)" = 3 ]'
ok "event: targets registered" wait_for 300 events_have 'registered .* targets in (target-group arn:aws:elasticloadbalancing:local:000000000000:targetgroup/web/0123456789abcdef)'
ok "curl through the listener reaches all 3 tasks" wait_for 300 n_distinct 3
ok "the targets become healthy" wait_log 300 'event=lb.target.healthy.*'
# Every target healthy (2 checks each, 5 s apart) before the next steps.
ok "3 targets healthy" wait_for 300 eval '[ "$(grep -c event=lb.target.healthy "$T/berthd.log")" -ge 3 ]'

# --- A task whose health page goes stops getting requests.
victim=$(through)
curl -s -X POST --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d '{"Cmd":["rm","/www/ok.html"]}' "http://d/v1.41/containers/$victim/exec" >"$T/exec.json"
ex=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Id"])' "$T/exec.json")
curl -s -X POST --unix-socket "$SOCK" -H 'Content-Type: application/json' -d '{"Detach":true}' \
    "http://d/v1.41/exec/$ex/start" >/dev/null
ok "its target turns unhealthy" wait_log 300 'event=lb.target.unhealthy .*reason="Health checks failed with these codes: \[404\]"'
pages=$(distinct 12)
unlike "it gets no more requests" "$pages" "$victim"
ok "the scheduler replaces it (event)" wait_for 300 events_have "failed load balancer health checks"
ok "3 tasks again, all reached" wait_for 900 n_distinct 3

# --- Scale down while a curl loop runs: no failed request.
: >"$T/fails"
( while [ ! -e "$T/stop-loop" ]; do through >/dev/null || echo fail >>"$T/fails"; done ) &
LOOP=$!
api UpdateService '{"service":"web","desiredCount":1}' >/dev/null
ok "scaled down to 1" wait_for 600 eval '[ "$(running)" = 1 ]'
ok "event: draining, once for both tasks" events_have 'has begun draining connections on 2 tasks.'
ok "event: deregistered" wait_for 100 events_have 'deregistered .* targets in (target-group'
sleep 1
touch "$T/stop-loop"
wait "$LOOP"
is "no request failed during the scale-down" "$(wc -l <"$T/fails")" 0

# --- SIGHUP with a changed conf during a long transfer.
curl -s --limit-rate 4M -o "$T/big" "http://127.0.0.1:$LPORT/big" &
CURL=$!
sleep 2
conf 6s
ok "SIGHUP with a changed target group" reload
ok "the listener still answers after the reload" eval 'through >/dev/null'
wait "$CURL"
is "the transfer finished whole (exit 0, 40 MiB)" "$?:$(stat -c %s "$T/big")" "0:41943040"

stop_berthd
is "berthd stops cleanly" "$BERTHD_STATUS" 0
done_testing
