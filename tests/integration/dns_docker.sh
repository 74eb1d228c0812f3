# dns_docker.sh: the DNS responder end to end on a real dockerd: a service
# of 3 busybox httpd tasks on dynamic host ports with serviceRegistries,
# asked with dig: A, SRV with the tasks' host ports and the additional A,
# TASKID names, NXDOMAIN and NODATA with the SOA, AA, TCP, EDNS;
# a task made unhealthy leaves the answers, scaling to 1 shows at once,
# and a reload that changes the namespaces is served; kdig and drill read
# the answers too; a service's SRV answer too big for UDP without EDNS is
# truncated, and dig, kdig and drill get it all over TCP: a 40-task
# service (DNS_TC_TASKS lowers it), removed from the engine at once after.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"

requires curl
requires python3
requires dig
requires kdig
requires drill

ENGINE=docker
start_engine "$ENGINE" || exit 1
build_busybox_image "$ENGINE" berth-test/busybox:1 || exit 1
SOCK=$(engine_sock "$ENGINE")

CLUSTER=dns-$$
DPORT=$(free_port)
conf() { # NAMESPACES [MAX-ANSWERS]
    write_conf "$T/berth.conf" <<EOF2
[tasks]
host-port-range = 46000-46499
cleanup-delay = 0s

[dns]
enabled = yes
listen = 127.0.0.1:$DPORT
namespaces = $1
ttl = 2s
negative-ttl = 3s
max-answers = ${2:-8}

[plugin $ENGINE]
socket = $SOCK
request-timeout = 5m
EOF2
    sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"
}
conf prod.local
cleanup_engine() { remove_cluster "$ENGINE" "$CLUSTER"; }
on_exit cleanup_engine

q() { dig -p "$DPORT" @127.0.0.1 +time=2 +tries=1 "$@"; }
# Records of the answer section, one per line (owner ttl class type data).
answers() { q +noall +answer "$@"; }
n_answers() { answers "$@" | grep -c .; }
has_n() { [ "$(n_answers "$2" "$3")" -eq "$1" ]; } # N TYPE NAME
srv_ports() { answers SRV "$1" | awk '{print $7}' | sort -n | tr '\n' ' '; }
# hostPort of every RUNNING task of web, sorted, and the task IDs.
task_ports() {
    arns=$(api ListTasks '{"serviceName":"web","desiredStatus":"RUNNING"}' | jpath 'json.dumps(d["taskArns"])')
    api DescribeTasks "{\"tasks\":$arns}" | jpath '" ".join(str(p) for p in sorted(b["hostPort"] for t in d["tasks"] if t["lastStatus"]=="RUNNING" for c in t["containers"] for b in c.get("networkBindings",[])))+" "'
}
task_ids() {
    arns=$(api ListTasks '{"serviceName":"web","desiredStatus":"RUNNING"}' | jpath 'json.dumps(d["taskArns"])')
    api DescribeTasks "{\"tasks\":$arns}" | jpath '" ".join(t["taskArn"].rsplit("/",1)[1] for t in d["tasks"])'
}

ok "berthd starts with the responder on 127.0.0.1:$DPORT" start_berthd "$T/berth.conf" ||
    diag "$(tail -20 "$T/berthd.log")"
ok "it says so" log_has "event=dns.started .*listen=127.0.0.1:$DPORT"

# Before any service: the namespace exists, its names do not.
out=$(q A web.prod.local)
like "an unknown name: NXDOMAIN" "$out" "status: NXDOMAIN"
like "... authoritative (aa)" "$out" "flags: qr aa rd"
like "... with the namespace's SOA in authority" "$(q +noall +authority A web.prod.local)" \
    "prod.local.[[:space:]]+3[[:space:]]+IN[[:space:]]+SOA[[:space:]]+ns.prod.local. hostmaster.prod.local. .* 3$"

cat >"$T/web.json" <<'EOF2'
{"family": "web", "containerDefinitions": [
  {"name": "app", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "echo hi > /tmp/index.html; touch /tmp/ok; trap 'exit 0' TERM; httpd -f -p 8080 -h /tmp & wait"],
   "portMappings": [{"containerPort": 8080, "hostPort": 0, "name": "http"}],
   "healthCheck": {"command": ["CMD-SHELL", "test -f /tmp/ok || exit 1"],
                   "interval": 5, "timeout": 5, "retries": 3}}]}
EOF2
like "the task definition registers" "$(api RegisterTaskDefinition "$(cat "$T/web.json")")" '"taskDefinitionArn"'
like "CreateService web, 3 tasks, with serviceRegistries" \
    "$(api CreateService "{\"cluster\":\"$CLUSTER\",\"serviceName\":\"web\",\"taskDefinition\":\"web\",\"desiredCount\":3,
      \"serviceRegistries\":[{\"registryArn\":\"arn:aws:servicediscovery:local:000000000000:service/prod.local/web\",\"containerName\":\"app\",\"containerPort\":8080}]}")" \
    '"serviceName": *"web"'

ok "SRV web.prod.local: 3 records once the tasks are healthy" wait_for 900 has_n 3 SRV web.prod.local ||
    diag "$(q SRV web.prod.local; tail -5 "$T/berthd.log")"
is "... their ports are the tasks' host ports" "$(srv_ports web.prod.local)" "$(task_ports)"
add=$(q +noall +additional SRV web.prod.local)
is "... each target's A in the additional section" "$(printf '%s\n' "$add" | grep -c 'IN[[:space:]]A[[:space:]]127.0.0.1')" 3
like "... priority 1 weight 1, target TASKID.web.prod.local" "$(answers SRV web.prod.local | head -1)" \
    "IN[[:space:]]+SRV[[:space:]]+1 1 [0-9]+ [0-9a-f]{32}.web.prod.local.$"
is "... the named port: _http._tcp.web.prod.local" "$(srv_ports _http._tcp.web.prod.local)" "$(task_ports)"
is "A web.prod.local: the advertised address (bridge mode)" "$(answers A web.prod.local | awk '{print $5}')" 127.0.0.1
like "... aa, ttl 2" "$(q A web.prod.local)" "flags: qr aa rd"
ids=$(task_ids)
first_id=$(echo "$ids" | cut -d' ' -f1)
good=0
for id in $ids; do [ "$(answers A "$id.web.prod.local" | awk '{print $5}')" = 127.0.0.1 ] && good=$((good + 1)); done
is "TASKID.web.prod.local answers for each task" "$good" 3
out=$(q TXT web.prod.local)
like "a known name, another type: NOERROR" "$out" "status: NOERROR"
like "... no answer (NODATA)" "$out" "ANSWER: 0, AUTHORITY: 1"
like "names without case" "$(answers SRV WEB.Prod.LOCAL. | head -1)" "SRV"
like "TCP gives the same answer" "$(q +tcp +noall +answer SRV web.prod.local | grep -c SRV)" "^3$"
# Two other clients, their own parsers: knot's kdig and ldns's drill.
is "kdig reads the 3 SRV records" \
    "$(kdig -p "$DPORT" @127.0.0.1 +short +time=2 +retry=0 SRV web.prod.local | grep -c '[0-9a-f]\{32\}\.web\.prod\.local\.$')" 3
like "... and sees an authoritative answer" "$(kdig -p "$DPORT" @127.0.0.1 +time=2 +retry=0 A web.prod.local)" \
    "Flags: qr aa rd"
like "drill reads TASKID.web.prod.local's A" \
    "$(drill -p "$DPORT" "$first_id.web.prod.local" A @127.0.0.1 | grep -A1 'ANSWER SECTION')" \
    "$first_id.web.prod.local.[[:space:]]+2[[:space:]]+IN[[:space:]]+A[[:space:]]+127.0.0.1"
like "... and an NXDOMAIN with the SOA" "$(drill -p "$DPORT" nope.prod.local A @127.0.0.1)" \
    "rcode: NXDOMAIN.*"

# A task made unhealthy leaves the answers.
first=$(echo "$ids" | cut -d' ' -f1)
cid=$(api DescribeTasks "{\"tasks\":[\"$first\"]}" | jpath 'd["tasks"][0]["containers"][0]["runtimeId"]')
ex=$(curl -s -X POST --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d '{"Cmd":["rm","-f","/tmp/ok"]}' "http://d/v1.41/containers/$cid/exec" | jpath 'd["Id"]')
curl -s -X POST --unix-socket "$SOCK" -H 'Content-Type: application/json' -d '{"Detach":true}' \
    "http://d/v1.41/exec/$ex/start" >/dev/null
no_target() { a=$(answers SRV web.prod.local); [ -n "$a" ] && ! printf "%s\n" "$a" | grep -q "$1"; }
ok "a task made unhealthy leaves the SRV answers" wait_for 600 no_target "$first"

# Scale to 1: the answers follow.
api UpdateService "{\"cluster\":\"$CLUSTER\",\"service\":\"web\",\"desiredCount\":1}" >/dev/null
ok "UpdateService to 1 task: one SRV record" wait_for 600 has_n 1 SRV web.prod.local ||
    diag "$(answers SRV web.prod.local)"
one_task() { [ "$(task_ids | wc -w)" -eq 1 ]; }
ok "... and the scheduler stops the others" wait_for 600 one_task

# A reload brings a second namespace without a restart.
conf "prod.local, test.local"
ok "a reload adding a namespace is applied" reload
like "... test.local is ours now (NXDOMAIN, not REFUSED)" "$(q A web.test.local)" "status: NXDOMAIN"
like "... prod.local still answers" "$(n_answers SRV web.prod.local)" "^1$"
out=$(q +bufsize=512 +notcp SRV web.prod.local)
like "EDNS answers carry an OPT" "$out" "OPT PSEUDOSECTION"

# A service whose SRV answer does not fit UDP without EDNS (512 bytes): TC,
# and the clients retry over TCP.  40 tiny sleep tasks (8 MiB, no ports:
# serviceRegistries' port is the SRV port); DNS_TC_TASKS lowers the count
# (its long name, 61 bytes in every target, overflows 512 bytes from 8).
# CI runs this beside other engine tests on 2 cores: the engine may take
# minutes to start 40 containers, so the plugin's request-timeout above is
# 5m, the waits are long, and the tasks are removed as soon as they stop
# (cleanup-delay = 0s).
NT=${DNS_TC_TASKS:-40}
LONG=a-service-name-long-enough-to-overflow-512-bytes-in-8-records
cat >"$T/many.json" <<'EOF2'
{"family": "many", "containerDefinitions": [
  {"name": "s", "image": "berth-test/busybox:1", "memory": 8, "cpu": 1, "stopTimeout": 1,
   "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}]}
EOF2
like "the sleep task definition registers" "$(api RegisterTaskDefinition "$(cat "$T/many.json")")" '"taskDefinitionArn"'
like "CreateService many, $NT tasks, named $LONG, SRV port 7000" \
    "$(api CreateService "{\"cluster\":\"$CLUSTER\",\"serviceName\":\"many\",\"taskDefinition\":\"many\",\"desiredCount\":$NT,
      \"serviceRegistries\":[{\"registryArn\":\"arn:aws:servicediscovery:local:000000000000:service/prod.local/$LONG\",\"port\":7000}]}")" \
    '"serviceName": *"many"'
conf "prod.local" 64
ok "a reload with max-answers = 64" reload
n_tcp() { q +tcp +noall +answer SRV "$LONG.prod.local" | grep -c 'IN[[:space:]]SRV'; }
all_nt() { [ "$(n_tcp)" -eq "$NT" ]; }
ok "SRV over TCP: $NT records once the $NT tasks run" wait_for 1800 all_nt ||
    diag "$(n_tcp) records; $(tail -3 "$T/berthd.log")"
out=$(q +noedns +ignore SRV "$LONG.prod.local")
like "UDP without EDNS: truncated (tc)" "$out" "flags: qr aa tc rd"
like "... with no partial answer" "$out" "ANSWER: 0"
out=$(q +noedns SRV "$LONG.prod.local")
like "dig then retries over TCP" "$out" "Truncated, retrying in TCP mode"
like "... and gets all $NT" "$out" "ANSWER: $NT,"
like "kdig over UDP sees the TC flag" \
    "$(kdig -p "$DPORT" @127.0.0.1 +noedns +time=2 +retry=0 +notcp SRV "$LONG.prod.local")" "Flags: qr aa tc rd"
is "... and over TCP reads the $NT" \
    "$(kdig -p "$DPORT" @127.0.0.1 +tcp +short +time=2 +retry=0 SRV "$LONG.prod.local" | grep -c "$LONG.prod.local.\$")" "$NT"
like "drill over UDP sees the TC flag (it does not retry by itself)" \
    "$(drill -p "$DPORT" "$LONG.prod.local" SRV @127.0.0.1)" "flags: qr aa tc rd ;"
is "... and drill -t (TCP) reads the $NT" \
    "$(drill -t -p "$DPORT" "$LONG.prod.local" SRV @127.0.0.1 | grep -c 'IN[[:space:]]SRV[[:space:]]')" "$NT"
api UpdateService "{\"cluster\":\"$CLUSTER\",\"service\":\"many\",\"desiredCount\":0}" >/dev/null
# Containers of family many on the engine, running or not.
n_many() {
    curl -s --unix-socket "$SOCK" -G "http://d/v1.41/containers/json" --data-urlencode all=1 \
        --data-urlencode "filters={\"label\":[\"com.amazonaws.ecs.cluster=$CLUSTER\",\"com.amazonaws.ecs.task-definition-family=many\"]}" |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin) or []))'
}
none_left() { [ "$(n_tcp)" -eq 0 ]; }
ok "scaled to 0: the answers empty" wait_for 600 none_left
many_gone() { [ "$(n_many)" -eq 0 ]; }
ok "... and the $NT containers are removed from the engine" wait_for 900 many_gone ||
    diag "$(n_many) containers of family many left"

stop_berthd
is "berthd stops cleanly" "$BERTHD_STATUS" 0
done_testing
