#!/bin/bash
# lb_http_docker.sh: the built-in proxy's http listener in front of two real
# docker services: web (3 busybox httpd tasks) and api (1 task), one
# listener with rules (Host api.local, path /api/) and web as default.
# curl reaches the three web tasks in turn and api by host and by path;
# smuggling probes (printf | nc) get 400 and a close; a slowloris head is
# cut at header-timeout (2 s) while curl is served; a task whose health
# page goes drops out and its replacement joins; wrk through the listener
# during a rolling deployment of web sees no socket error and no non-2xx.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"
requires curl
requires python3
requires nc
requires wrk

start_engine docker || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
SOCK=$(engine_sock docker)
CLUSTER=lb-http-docker-$$
LPORT=$(free_port)

write_conf "$T/berth.conf" <<EOF2
[tasks]
host-port-range = 49500-49999

[plugin docker]
socket = $SOCK

[lb]
# one worker: round robin is one rotation
workers = 1

[listener front]
listen = 127.0.0.1:$LPORT
protocol = http
default-target-group = web
rule = api.local / api
rule = * /api/ api
header-timeout = 2s
backend-timeout = 10s

[target-group web]
health-check = http
health-check-path = /ok.html
health-check-interval = 5s
health-check-timeout = 2s
healthy-threshold = 2
unhealthy-threshold = 2
deregistration-delay = 3s

[target-group api]
health-check = http
health-check-path = /ok.html
health-check-interval = 5s
health-check-timeout = 2s
healthy-threshold = 2
deregistration-delay = 3s
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"

cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine

svc() { # SERVICE: "running desired deployments"
    api DescribeServices "{\"services\":[\"$1\"]}" | python3 -c 'import json,sys
s = json.load(sys.stdin)["services"][0]
print(s["runningCount"], s["desiredCount"], len(s["deployments"]))'
}
running() { [ "$(svc "$1" | cut -d" " -f1)" = "$2" ]; }
through() { curl -s -f --max-time 5 "$@"; }
web() { through "http://127.0.0.1:$LPORT/"; }
# distinct N: the distinct web pages of N requests.
distinct() { for _ in $(seq "$1"); do web; echo; done | grep . | sort -u; }
n_distinct() { [ "$(distinct 12 | wc -l)" -eq "$1" ]; }
# probe REQUEST: what the listener answers to raw bytes (nc, 5 s at most).
probe() { printf "$1" | nc -w 5 127.0.0.1 "$LPORT" 2>/dev/null | head -c 200; }

ok "berthd starts with an http listener" start_berthd "$T/berth.conf" || diag "$(tail -20 "$T/berthd.log")"
ok "the proxy started" log_has 'event=lb.started workers=1 listeners=1 target_groups=2'

# hostname in index.html; api's pages under /api/ too.
CMD='mkdir -p /www/api; hostname > /www/index.html; echo \"api $(hostname)\" > /www/api/index.html; echo ok > /www/ok.html; trap \"exit 0\" TERM; httpd -f -p 8080 -h /www & wait'
td() { # FAMILY REV-MARK
    api RegisterTaskDefinition "{\"family\":\"$1\",\"containerDefinitions\":[{\"name\":\"app\",\"image\":\"berth-test/busybox:1\",\"memory\":32,
     \"environment\":[{\"name\":\"REV\",\"value\":\"$2\"}],\"command\":[\"sh\",\"-c\",\"$CMD\"],
     \"portMappings\":[{\"containerPort\":8080,\"hostPort\":0}]}]}" >/dev/null
}
td web 1
td api 1
api CreateService '{"serviceName":"web","taskDefinition":"web","desiredCount":3,
 "loadBalancers":[{"targetGroupArn":"web","containerName":"app","containerPort":8080}]}' >/dev/null
api CreateService '{"serviceName":"api","taskDefinition":"api","desiredCount":1,
 "loadBalancers":[{"targetGroupArn":"api","containerName":"app","containerPort":8080}]}' >/dev/null

ok "3 web tasks and 1 api task run" wait_for 300 eval 'running web 3 && running api 1'
ok "curl through the listener reaches the 3 web tasks" wait_for 120 n_distinct 3
pages=$(for _ in 1 2 3; do web; done | sort -u | wc -l)
is "3 requests in a row: 3 tasks (round robin)" "$pages" 3
out=$(through -H 'Host: api.local' "http://127.0.0.1:$LPORT/api/")
like "Host api.local: the api service" "$out" '^api '
out=$(through "http://127.0.0.1:$LPORT/api/")
like "path /api/: the api service" "$out" '^api '
out=$(through -H 'Host: API.LOCAL:80' "http://127.0.0.1:$LPORT/api/")
like "Host matched case-insensitively, without its port" "$out" '^api '
unlike "/ with another host: web" "$(web)" '^api '

# --- Smuggling probes: 400 and a close (nc returns once the proxy closes).
like "CL with TE: 400" "$(probe 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" '^HTTP/1.1 400'
like "two Content-Lengths: 400" "$(probe 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab')" '^HTTP/1.1 400'
like "obsolete line folding: 400" "$(probe 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n')" '^HTTP/1.1 400'
like "a bad header name: 400" "$(probe 'GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n')" '^HTTP/1.1 400'
like "a valid request over nc: 200" "$(probe 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')" '^HTTP/1.[01] 200'

# --- Slowloris: cut at header-timeout while curl is served.
exec 3<>"/dev/tcp/127.0.0.1/$LPORT"
printf 'GET / HTTP/1.1\r\nHo' >&3
ok "curl is served while a head is held" eval 'web >/dev/null'
timeout 20 cat <&3 >/dev/null
is "the held head's connection is closed by the proxy (not by timeout 20)" "$?" 0
exec 3>&-

# --- A task whose health page goes: out, and its replacement in.
# Initial targets all get requests while none is healthy (as ALB): the
# victim is picked once every target is healthy, so the counts below hold.
ok "all 4 targets healthy (3 web, 1 api)" \
    wait_for 120 eval '[ "$(grep -c "event=lb.target.healthy" "$T/berthd.log")" -ge 4 ]'
victim=$(web)
curl -s -X POST --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d '{"Cmd":["rm","/www/ok.html"]}' "http://d/v1.41/containers/$victim/exec" >"$T/exec.json"
ex=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Id"])' "$T/exec.json")
curl -s -X POST --unix-socket "$SOCK" -H 'Content-Type: application/json' -d '{"Detach":true}' \
    "http://d/v1.41/exec/$ex/start" >/dev/null
ok "its target turns unhealthy" wait_log 60 'event=lb.target.unhealthy .*reason="Health checks failed with these codes: \[404\]"'
unlike "it gets no more requests" "$(distinct 12)" "$victim"
ok "its replacement joins: 3 tasks reached, the victim not among them" \
    wait_for 300 eval 'n_distinct 3 && ! distinct 12 | grep -q "$victim"'

# --- wrk during a rolling deployment of web: no error, no non-2xx.
cat >"$T/pace.lua" <<'EOF2'
-- a few ms between requests: the host's ports stay available.
function delay() return 2 end
EOF2
ok "all web targets healthy before the deployment" \
    wait_for 120 eval '[ "$(grep -c "event=lb.target.healthy" "$T/berthd.log")" -ge 5 ]'
td web 2
api UpdateService '{"service":"web","taskDefinition":"web:2"}' >/dev/null
: >"$T/wrk.all"
for run in 1 2 3; do
    wrk -t 1 -c 4 -d 20s -s "$T/pace.lua" "http://127.0.0.1:$LPORT/" >"$T/wrk.$run" 2>&1
    cat "$T/wrk.$run" >>"$T/wrk.all"
    # Done once the old tasks are gone: 3 running, one deployment.
    [ "$(svc web)" = "3 3 1" ] && break
done
diag "$(grep -E 'requests in|Socket errors|Non-2xx' "$T/wrk.all")"
is "the deployment completed while wrk ran" "$(svc web)" "3 3 1"
ok "wrk sent requests" grep -Eq '^ +[1-9][0-9]* requests in' "$T/wrk.all"
is "wrk: no socket error" "$(grep -c 'Socket errors' "$T/wrk.all")" 0
is "wrk: no non-2xx response" "$(grep -c 'Non-2xx' "$T/wrk.all")" 0
ok "the new tasks answer" wait_for 30 n_distinct 3

stop_berthd
is "berthd stops cleanly" "$BERTHD_STATUS" 0
done_testing
