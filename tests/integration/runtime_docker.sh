#!/bin/bash
# The Docker runtime plugin against a real dockerd, one operation per
# rt_drive run: create and start a web server reached with curl, health
# checks going healthy then unhealthy (in inspect and as events), exit
# codes, stop timeouts, a missing image, taken host ports, list, stats,
# idempotent remove, an unreachable engine, and the event stream across a
# restart of dockerd.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"
requires dockerd
requires jq
requires curl
requires python3

RT="$top_builddir/tests/lib/rt_drive"
RUN="rt$$"   # every container of this run carries berth.run=$RUN
IMG=berth-test/busybox:1

ok "dockerd answers" start_dockerd || { done_testing; exit 1; }
ok "the busybox image is there" build_busybox_image docker "$IMG" || { done_testing; exit 1; }

# Whatever the run created goes, even when a test point failed half-way.
remove_run_containers() {
    ids=$(curl -s --unix-socket /run/docker.sock -G http://d/containers/json \
        --data-urlencode all=1 --data-urlencode "filters={\"label\":[\"berth.run=$RUN\"]}" |
        jq -r '.[].Id' 2>/dev/null)
    for id in $ids; do
        curl -s -X DELETE --unix-socket /run/docker.sock "http://d/containers/$id?force=1&v=1" >/dev/null
    done
}
on_exit remove_run_containers

PAUSE_IMG="berth-test/pause:$RUN" # built by the plugin, removed at exit
remove_pause_image() {
    curl -s -X DELETE --unix-socket /run/docker.sock "http://d/images/$PAUSE_IMG?force=1" >/dev/null
}
on_exit remove_pause_image

write_conf "$T/berth.conf" <<EOF
[plugin docker]
file = docker.so
request-timeout = 120s
pause-image = $PAUSE_IMG
pause-binary = $top_builddir/berth-pause
EOF

# rt OP ARGS...: one rt_drive run; its JSON line in $OUT, exit status in $RC.
rt() {
    OUT=$("$RT" "$T/berth.conf" "$@" 2>>"$T/rt.log")
    RC=$?
}
# f FILTER: a jq filter on $OUT.
f() { printf '%s\n' "$OUT" | jq -r "$1"; }

# spec NAME [JSON members...]: a container spec file $T/NAME.json.
spec() {
    n=$1
    shift
    extra=""
    for m in "$@"; do extra="$extra,$m"; done
    printf '{"name":"berth-%s-%s","image":"%s","network":"bridge","labels":{"berth.test":"1","berth.run":"%s","berth.container":"%s"}%s}\n' \
        "$RUN" "$n" "$IMG" "$RUN" "$n" "$extra" >"$T/$n.json"
}

# events_has JQ_CONDITION: a line of the watch output matches.
events_has() { jq -e -s "map(select($1)) | length > 0" "$T/events.out" >/dev/null 2>&1; }

# --- version, and a watch running under everything that follows ---
rt version
is "version answers OK" "$(f .code)" OK
like "engine_version names docker and the API" "$(f .version)" '^docker [0-9][^ ]* \(API 1\.4[0-3]\)$'

# Its events (stdout) apart from its log (stderr); cleanup kills it.
"$RT" "$T/berth.conf" watch "berth.run=$RUN" 1000 300 >"$T/events.out" 2>"$T/watch.err" &
WATCH_PID=$!
_pids="$_pids $WATCH_PID"
ok "the watch says ENGINE_UP once the stream is established" \
    wait_for 10 events_has '.event == "ENGINE_UP"'
is "and that is its first event" "$(head -n1 "$T/events.out" | jq -r .event)" ENGINE_UP

# --- a web server with a published port and a health check that breaks ---
WEB_PORT=$(free_port)
spec web '"command":["sh","-c","touch /tmp/ok; (sleep 8; rm /tmp/ok) & exec httpd -f -p 8080 -h /www"]' \
    "\"ports\":[{\"containerPort\":8080,\"hostPort\":$WEB_PORT,\"protocol\":\"tcp\",\"hostIp\":\"127.0.0.1\"}]" \
    '"healthCheck":{"test":["CMD-SHELL","test -f /tmp/ok"],"intervalMs":1000,"timeoutMs":1000,"retries":2}' \
    '"env":["SECRET_TOKEN=hunter2-do-not-log"]'
rt create "$T/web.json"
is "create answers OK" "$(f .code)" OK || diag "msg: $(f .msg); $(tail -3 "$T/rt.log")"
WEB=$(f .id)
like "with the container's id" "$WEB" '^[0-9a-f]{64}$'
rt start "$WEB"
is "start answers OK" "$(f .code)" OK || diag "msg: $(f .msg); $(tail -3 "$T/rt.log")"
ok "the published port serves the image's page" \
    wait_for 10 sh -c "curl -sf http://127.0.0.1:$WEB_PORT/ | grep -q 'berth-test busybox'"
rt inspect "$WEB"
is "inspect: running" "$(f .state)" RUNNING
is "inspect: the name" "$(f .name)" "berth-$RUN-web"
is "inspect: the concrete host port" "$(f '.ports[0].host_port')" "$WEB_PORT"
is "inspect: bound to 127.0.0.1" "$(f '.ports[0].host_ip')" 127.0.0.1
is "inspect: the labels" "$(f '.labels["berth.run"]')" "$RUN"
like "inspect: an address on the bridge" "$(f .ip_address)" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$'
ok "inspect: a host pid" test "$(f .pid)" -gt 0
ok "inspect: start and creation times" test "$(f .started_at_ms)" -ge "$(f .created_at_ms)" -a "$(f .created_at_ms)" -gt 0

health_is() { rt inspect "$WEB"; [ "$(f .health)" = "$1" ]; }
ok "the health check makes it healthy" wait_for 15 health_is HEALTHY
ok "a HEALTH event says healthy" \
    wait_for 10 events_has ".event == \"HEALTH\" and .id == \"$WEB\" and .health == \"HEALTHY\""
ok "once /tmp/ok is gone it turns unhealthy" wait_for 25 health_is UNHEALTHY
is "inspect: the failing check's exit code" "$(f .health_exit_code)" 1
ok "a HEALTH event says unhealthy" \
    wait_for 10 events_has ".event == \"HEALTH\" and .id == \"$WEB\" and .health == \"UNHEALTHY\" and .detail == \"unhealthy\""

rt stats "$WEB"
is "stats answers OK" "$(f .code)" OK
ok "stats: cpu time, memory and pids above 0" \
    test "$(f .cpu_total_ns)" -gt 0 -a "$(f .memory_usage)" -gt 0 -a "$(f .pids)" -gt 0
ok "stats: a reading time" test "$(f .time_ms)" -gt 0

# --- a taken port: by another container, then by another program ---
spec clash "\"ports\":[{\"containerPort\":8080,\"hostPort\":$WEB_PORT,\"protocol\":\"tcp\",\"hostIp\":\"127.0.0.1\"}]" \
    '"command":["sleep","60"]'
rt create "$T/clash.json"
CLASH=$(f .id)
rt start "$CLASH"
is "a host port another container holds: CONFLICT" "$(f .code)" CONFLICT
like "in docker's words" "$(f .msg)" 'port is already allocated'
PY_PORT=$(free_port)
start_bg pyhttp python3 -m http.server --bind 127.0.0.1 "$PY_PORT"
wait_for 10 curl -s "http://127.0.0.1:$PY_PORT/" >/dev/null
spec clash2 "\"ports\":[{\"containerPort\":8080,\"hostPort\":$PY_PORT,\"protocol\":\"tcp\",\"hostIp\":\"127.0.0.1\"}]" \
    '"command":["sleep","60"]'
rt create "$T/clash2.json"
rt start "$(f .id)"
is "a host port another program holds: CONFLICT" "$(f .code)" CONFLICT
like "in docker's words" "$(f .msg)" 'address already in use|port is already allocated'

# --- exit codes and stop timeouts ---
spec three '"command":["sh","-c","sleep 1; exit 3"]'
rt create "$T/three.json"
THREE=$(f .id)
rt start "$THREE"
ok "a container exiting with 3 is seen as an event" \
    wait_for 15 events_has ".event == \"STATE\" and .id == \"$THREE\" and .state == \"EXITED\" and .exit_code == 3"
rt inspect "$THREE"
is "inspect: exited" "$(f .state)" EXITED
is "inspect: code 3" "$(f .exit_code)" 3
ok "inspect: a finish time" test "$(f .finished_at_ms)" -gt "$(f .started_at_ms)"
ok "the start came as an event too" \
    events_has ".event == \"STATE\" and .id == \"$THREE\" and .detail == \"start\""

spec deaf '"command":["sleep","1000"]' # PID 1 without a TERM handler ignores it
rt create "$T/deaf.json"
DEAF=$(f .id)
rt start "$DEAF"
rt stop "$DEAF" 1
is "stop with timeout 1 answers OK" "$(f .code)" OK
rt inspect "$DEAF"
is "a process ignoring SIGTERM ends with 137" "$(f .exit_code)" 137
rt stop "$DEAF" 1
is "stopping a stopped container is OK" "$(f .code)" OK

spec polite '"command":["sh","-c","trap \"exit 7\" TERM; while :; do sleep 0.1; done"]'
rt create "$T/polite.json"
POLITE=$(f .id)
rt start "$POLITE"
sleep 0.5
rt stop "$POLITE" 20
is "stop of a process that traps TERM answers OK" "$(f .code)" OK
rt inspect "$POLITE"
is "it ended on SIGTERM, with the code its trap chose (not killed)" "$(f .exit_code)" 7

# --- errors ---
cat >"$T/nope.json" <<EOF
{"name":"berth-$RUN-nope","image":"berth-test/nope:1","labels":{"berth.test":"1","berth.run":"$RUN"}}
EOF
rt create "$T/nope.json"
is "a missing image: NOT_FOUND" "$(f .code)" NOT_FOUND
is "naming the image" "$(f .msg)" "image berth-test/nope:1 not found on docker"
is "rt_drive exits 1 on an error" "$RC" 1
sed 's/^file = docker.so$/file = docker.so\npull = yes/' "$T/berth.conf" >"$T/pull.conf"
OUT=$("$RT" "$T/pull.conf" create "$T/nope.json" 2>>"$T/rt.log")
is "with pull = yes and no registry: still NOT_FOUND" "$(f .code)" NOT_FOUND
like "saying why the pull failed" "$(f .msg)" '^image berth-test/nope:1 not found on docker, and pulling it failed: .+'

rt inspect berth-no-such-container
is "inspect of a missing container: NOT_FOUND" "$(f .code)" NOT_FOUND
rt start 'bad/id'
is "an id with a slash: INVALID" "$(f .code)" INVALID
echo '{"name":"x","image":"y","bogus":1}' >"$T/bad.json"
rt create "$T/bad.json"
is "a spec with an unknown member: INVALID" "$(f .code)" INVALID
like "naming the member" "$(f .msg)" 'bogus'
echo "{\"name\":\"berth-$RUN-sb\",\"network\":\"bridge\"}" >"$T/sb.json"
rt sandbox-create "$T/sb.json"
is "a bridge task needs no sandbox" "$(f .code) $(f .id)" "OK null"

# --- an awsvpc sandbox: a pause container whose netns the task joins ---
echo "{\"name\":\"berth-$RUN-pause\",\"network\":\"awsvpc\",\"labels\":{\"berth.test\":\"1\",\"berth.run\":\"$RUN\"}}" >"$T/awsvpc.json"
ok "no pause image yet" test "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket /run/docker.sock "http://d/images/$PAUSE_IMG/json")" = 404
rt sandbox-create "$T/awsvpc.json"
is "an awsvpc sandbox is created" "$(f .code)" OK
SB=$(f .id)
like "with the pause container's id" "$SB" '^[0-9a-f]{64}$'
is "the plugin built the pause image itself" \
    "$(curl -s --unix-socket /run/docker.sock "http://d/images/$PAUSE_IMG/json" | jq -r '.Config.Cmd | join(" ")')" /pause
SBJ=$(curl -s --unix-socket /run/docker.sock "http://d/containers/$SB/json")
is "the pause container runs" "$(printf '%s' "$SBJ" | jq -r .State.Status)" running
is "on the default bridge" "$(printf '%s' "$SBJ" | jq -r .HostConfig.NetworkMode)" bridge
is "publishing nothing" "$(printf '%s' "$SBJ" | jq -r '.NetworkSettings.Ports | length')" 0
SB_IP=$(printf '%s' "$SBJ" | jq -r .NetworkSettings.IPAddress)
spec member "\"sandbox\":\"$SB\"" '"network":"awsvpc"' \
    '"command":["sh","-c","exec httpd -f -p 8080 -h /www"]'
sed -i 's/"network":"bridge",//' "$T/member.json"
rt create "$T/member.json"
MEMBER=$(f .id)
rt start "$MEMBER"
is "a container joins the sandbox" "$(f .code)" OK
rt inspect "$MEMBER"
is "inspect names its sandbox" "$(f .sandbox_id)" "$SB"
is "and gives the sandbox's address" "$(f .ip_address)" "$SB_IP"
ok "it serves on the sandbox's address" \
    wait_for 10 sh -c "curl -sf http://$SB_IP:8080/ | grep -q 'berth-test busybox'"
spec sidecar "\"sandbox\":\"$SB\"" '"network":"awsvpc"' \
    '"command":["sh","-c","wget -q -O - http://127.0.0.1:8080/ | grep -q berth-test"]'
sed -i 's/"network":"bridge",//' "$T/sidecar.json"
rt create "$T/sidecar.json"
SIDECAR=$(f .id)
rt start "$SIDECAR"
ok "a second member reaches the first on 127.0.0.1 (one network namespace)" \
    wait_for 15 events_has ".event == \"STATE\" and .id == \"$SIDECAR\" and .state == \"EXITED\" and .exit_code == 0"
rt sandbox-remove "$SB" 1
is "sandbox-remove answers OK" "$(f .code)" OK
rt inspect "$MEMBER"
is "it stopped what ran in the sandbox" "$(f .state)" EXITED
rt inspect "$SB"
is "and removed the pause container" "$(f .code)" NOT_FOUND
rt sandbox-remove "$SB" 1
is "removing a removed sandbox is OK" "$(f .code)" OK
rt remove "$MEMBER"
rt remove "$SIDECAR"
sed -e "s|^pause-image = .*|pause-image = berth-test/pause-none:$RUN|" \
    -e "s|^pause-binary = .*|pause-binary = $T/no-such-pause|" "$T/berth.conf" >"$T/nopause.conf"
OUT=$("$RT" "$T/nopause.conf" sandbox-create "$T/awsvpc.json" 2>>"$T/rt.log")
is "without the pause program: FAILED" "$(f .code)" FAILED
like "naming its path" "$(f .msg)" "pause-binary $T/no-such-pause: No such file"

# --- list, remove ---
rt list "berth.run=$RUN"
is "list answers OK" "$(f .code)" OK
is "list finds every container of the run, running or not" \
    "$(f '[.containers[].name] | sort | join(" ")')" \
    "$(printf 'berth-%s-%s\n' "$RUN" clash "$RUN" clash2 "$RUN" deaf "$RUN" polite "$RUN" three "$RUN" web | sort | tr '\n' ' ' | sed 's/ $//')"
is "with full infos (health of the web server)" \
    "$(f ".containers[] | select(.id == \"$WEB\") | .health")" UNHEALTHY
rt list "berth.run=nobody-$RUN"
is "a label nobody carries lists nothing" "$(f '.containers | length')" 0

rt remove "$THREE"
is "remove answers OK" "$(f .code)" OK
rt remove "$THREE"
is "removing it again is OK too" "$(f .code)" OK
ok "the removal came as an event with state REMOVED" \
    wait_for 10 events_has ".event == \"STATE\" and .id == \"$THREE\" and .state == \"REMOVED\""
rt inspect "$THREE"
is "and it is gone" "$(f .code)" NOT_FOUND

ok "the env's secret never reached the log" \
    sh -c "! grep -q hunter2 '$T/rt.log' '$T/watch.err'"

# --- an engine that is not there ---
write_conf "$T/down.conf" <<EOF
[plugin docker]
file = docker.so
socket = $T/nothing.sock
EOF
OUT=$("$RT" "$T/down.conf" inspect "$WEB" 2>/dev/null)
is "an unreachable engine: UNAVAILABLE" "$(f .code)" UNAVAILABLE
like "naming the socket" "$(f .msg)" "^docker is not reachable at $T/nothing.sock: "
OUT=$("$RT" "$T/down.conf" watch "berth.run=$RUN" 1 5 2>/dev/null | head -n1)
is "a watch on it reports ENGINE_DOWN first" "$(f .event)" ENGINE_DOWN

# --- the event stream across a restart of dockerd ---
if _eng_alive "$ENGINE_DIR/dockerd.pid" dockerd; then
    remove_run_containers
    _stop_dockerd
    ok "the watch reports ENGINE_DOWN when dockerd stops" \
        wait_for 40 events_has '.event == "ENGINE_DOWN"'
    ok "dockerd starts again" start_dockerd
    ok "and the watch reports ENGINE_UP again" \
        wait_for 30 sh -c "[ \$(jq -s 'map(select(.event == \"ENGINE_UP\")) | length' '$T/events.out') -ge 2 ]"
    is "in the order up, down, up" \
        "$(jq -r 'select(.event | startswith("ENGINE")) | .event' "$T/events.out" | uniq | tr '\n' ' ')" \
        "ENGINE_UP ENGINE_DOWN ENGINE_UP "
else
    echo "# SKIP dockerd restart: this run did not start dockerd, so it must not stop it"
fi
ok "the watch is still running" kill -0 "$WATCH_PID"

done_testing
