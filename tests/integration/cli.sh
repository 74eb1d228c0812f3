#!/bin/bash
# cli.sh: the berth command against a real berthd with the Docker plugin:
# tables, --json, run --wait, stop, the API's errors shown verbatim, a
# missing socket, exit codes, every command's --help against berth(1), and
# the service commands: services, scale, deploy followed to completion and
# to a circuit-breaker failure, events, describe.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"
requires python3
requires curl

# BERTH may name another build's berth (an ASan one, say).
: "${BERTH:=$top_builddir/berth}"
ok "berth is built" test -x "$BERTH"

# ---- no berthd needed: help, usage errors, the socket ----

"$BERTH" --help >"$T/help" 2>&1
is "berth --help exits 0" "$?" 0
"$BERTH" --version >"$T/version" 2>&1
like "berth --version names it" "$(cat "$T/version")" '^berth [0-9]+\.[0-9]+'
"$BERTH" >/dev/null 2>&1
is "berth without a command: usage, exit 2" "$?" 2
out=$("$BERTH" frobnicate 2>&1)
is "an unknown command exits 2" "$?" 2
like "and says which" "$out" "no command 'frobnicate'"
out=$("$BERTH" tasks --nope 2>&1)
is "an unknown option exits 2" "$?" 2
like "and names it" "$out" "berth tasks: unknown option '--nope'"
out=$("$BERTH" run web --count 11 2>&1)
is "--count out of range exits 2" "$?" 2
like "and says the range" "$out" "--count: '11' is not a number from 1 to 10"

# Each command's section of berth(1) documents its options (".BI \-\-x" or
# ".B \-\-x" lines under ".SS berth CMD"); its --help must name each one.
MAN="$top_srcdir/man/berth.1"
ok "berth.1 exists" test -s "$MAN"
cmds=$(sed -n 's/^\.SS "\{0,1\}berth \([a-z]*\).*/\1/p' "$MAN" | sort -u)
ok "berth.1 has a section per command" test "$(printf '%s\n' $cmds | wc -l)" -ge 10
for cmd in $(sed -n 's/^  \([a-z]*\)  .*/\1/p' "$T/help"); do
    ok "berth.1 has a section for '$cmd'" grep -q "^\.SS \"\{0,1\}berth $cmd\b" "$MAN"
done
for cmd in $cmds; do
    "$BERTH" "$cmd" --help >"$T/h.$cmd" 2>&1
    is "berth $cmd --help exits 0" "$?" 0
    "$BERTH" help "$cmd" | cmp -s - "$T/h.$cmd"
    is "berth help $cmd says the same" "$?" 0
    opts=$(awk -v s="berth $cmd" '
        /^\.SS / { on = index($0, s) > 0 && substr($0, index($0, s) + length(s), 1) ~ /[ "]|^$/; next }
        /^\.SH / { on = 0 }
        on && /^\.BI? / { print }' "$MAN" | sed 's/\\-/-/g' |
        grep -oE -- '(^| |")--?[a-z][a-z-]*' | tr -d ' "' | sort -u)
    for o in $opts; do
        ok "berth $cmd --help mentions $o" grep -q -- "$o\b" "$T/h.$cmd"
    done
    # And the other way round: what the help offers, the man page documents.
    for o in $(grep -oE -- '(^|[ [])--[a-z][a-z-]*' "$T/h.$cmd" | tr -d ' [' | sort -u); do
        printf '%s\n' $opts --socket --cluster --json --no-color --help | grep -qx -- "$o"
        is "berth.1 documents berth $cmd $o" "$?" 0
    done
done

out=$("$BERTH" --socket "$T/none.sock" tasks 2>&1)
is "a missing socket exits 1" "$?" 1
is "with a message naming the socket and what to check" "$out" \
    "berth: cannot reach berthd at $T/none.sock: no such socket (is berthd running? does [api] socket in berth.conf name this path? use --socket or BERTH_SOCKET for another)"
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/stale.sock"
out=$(BERTH_SOCKET="$T/stale.sock" "$BERTH" taskdefs 2>&1)
is "a socket nobody listens on (from BERTH_SOCKET) exits 1" "$?" 1
like "and says the connection was refused" "$out" "at $T/stale.sock: connection refused"

# ---- a real berthd on Docker ----

start_dockerd || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
SOCK=$(engine_sock docker)
CLUSTER=test-cli-$$
write_conf "$T/berth.conf" <<EOF2
[tasks]
host-port-range = 46000-46999

[plugin docker]
socket = $SOCK
EOF2
sed -i "s/^cluster = test$/cluster = $CLUSTER/" "$T/berth.conf"
cleanup_engine() { remove_cluster docker "$CLUSTER"; }
on_exit cleanup_engine
export BERTH_SOCKET="$T/api.sock" NO_COLOR=1 COLUMNS=200
b() { "$BERTH" "$@"; }
# api_error ACTION JSON: the API's own error, as berth should print it.
api_error() {
    curl -s --unix-socket "$T/api.sock" -H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.$1" \
        -H 'Content-Type: application/x-amz-json-1.1' -d "$2" http://d/ |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print("berth: %s: %s" % (d["__type"], d["message"]))'
}

ok "berthd starts with the Docker plugin" start_berthd "$T/berth.conf"
ok "it lists the engine" wait_log 30 'event=tasks.reconciled'

# A user who may not use the socket (nobody: not in its group) is told so.
if command -v runuser >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
    runuser -u nobody -- test -x "$BERTH" 2>/dev/null; then
    out=$(runuser -u nobody -- "$BERTH" --socket "$T/api.sock" tasks 2>&1)
    is "a socket we may not use exits 1" "$?" 1
    is "and says to check its mode and group" "$out" \
        "berth: cannot reach berthd at $T/api.sock: permission denied (the socket's mode and group are [api] socket-mode and socket-group in berth.conf: join that group or run as root)"
fi

cat >"$T/web.json" <<'EOF2'
{"family": "cliweb",
 "containerDefinitions": [
  {"name": "app", "image": "berth-test/busybox:1", "memory": 32,
   "command": ["sh", "-c", "echo hi > /tmp/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /tmp & wait"],
   "portMappings": [{"containerPort": 8080}]}]}
EOF2
b run "$T/web.json" --wait >"$T/run.out" 2>"$T/run.err"
is "berth run FILE --wait exits 0 once the task runs" "$?" 0
is "it says it registered the file" "$(cat "$T/run.err")" "registered cliweb:1"
like "and that the task started, then RUNNING" "$(tr '\n' ' ' <"$T/run.out")" \
    "^started ([0-9a-f]{32}) \(cliweb:1\) .*\1 RUNNING $"
TASK=$(sed -n 's/^started \([0-9a-f]*\) .*/\1/p' "$T/run.out")

out=$(b describe taskdef cliweb:1)
like "berth describe taskdef: key/value lines" "$out" "^taskDefinitionArn: +arn:aws:ecs:[^ ]*:task-definition/cliweb:1$"
like "nested ones indented" "$out" "^  portMappings\[0\]:$"
is "berth taskdefs --json parses: the families" \
    "$(b taskdefs --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["families"])')" "['cliweb']"
out=$(b taskdefs)
is "berth taskdefs: the family with its latest revision" "$out" \
"FAMILY  LATEST  ACTIVE-REVISIONS
cliweb  1       1"
TASK2=$(b run "$T/web.json" 2>/dev/null | sed -n 's/^started \([0-9a-f]*\) .*/\1/p') # a second revision, and a second task
out=$(b taskdefs cliweb | awk '{print $1, $2}')
is "berth taskdefs FAMILY: the revisions with their status" "$out" \
"TASK-DEFINITION STATUS
cliweb:1 ACTIVE
cliweb:2 ACTIVE"

port=$(b describe task "$TASK" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["containers"][0]["networkBindings"][0]["hostPort"])')
ok "the task's host port comes from the range ($port)" test "$port" -ge 46000 -a "$port" -le 46999
is "and answers" "$(curl -s "http://127.0.0.1:$port/index.html")" hi

out=$(b tasks --family cliweb)
is "berth tasks prints a header" "$(printf '%s\n' "$out" | head -1 | tr -s ' ')" \
    "ID TASK-DEFINITION LAST DESIRED HEALTH STARTED PORTS"
like "and the task, with its port as hostPort→containerPort" "$out" \
    "^$TASK  cliweb:1 +RUNNING +RUNNING +[A-Z-]+ +[0-9]+s +$port→8080\$"
is "two tasks of the family run" "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" 2
# Columns line up: every row starts its TASK-DEFINITION where the header does.
col=$(printf '%s\n' "$out" | head -1 | awk '{print index($0, "TASK-DEFINITION")}')
is "the columns are aligned" \
    "$(printf '%s\n' "$out" | tail -n +2 | awk -v c="$col" 'substr($0, c, 7) != "cliweb:" {print "misaligned: " $0}')" ""
narrow=$(COLUMNS=70 b tasks --family cliweb)
is "at 70 columns no line is longer" \
    "$(printf '%s\n' "$narrow" | python3 -c 'import sys; [print("long:", l) for l in sys.stdin.read().splitlines() if len(l) > 70]')" ""
like "the ids are cut with an ellipsis" "$narrow" "^${TASK:0:9}… +cliweb:1 +RUNNING +RUNNING "
like "and the header too" "$narrow" "^ID +TASK-DEFI… +LAST "

# On a terminal (script(1) gives one): colours, unless --no-color or NO_COLOR.
if command -v script >/dev/null 2>&1; then
    tty_out=$(env -u NO_COLOR script -qec "$BERTH tasks --family cliweb" /dev/null)
    like "on a terminal, statuses are coloured" "$tty_out" $'\033\\[32mRUNNING\033\\[0m'
    tty_out=$(env -u NO_COLOR script -qec "$BERTH tasks --family cliweb --no-color" /dev/null)
    unlike "--no-color: none" "$tty_out" $'\033'
    tty_out=$(NO_COLOR=1 script -qec "$BERTH tasks --family cliweb" /dev/null)
    unlike "NO_COLOR: none" "$tty_out" $'\033'
fi
out=$(b --cluster nosuch-$$ tasks 2>&1)
is "--cluster is sent: an unknown cluster exits 1" "$?" 1
is "with the API's error" "$out" "$(api_error ListTasks "{\"cluster\":\"nosuch-$$\",\"desiredStatus\":\"RUNNING\"}")"

json=$(b tasks --family cliweb --json)
is "berth tasks --json parses, and holds the tasks" \
    "$(printf '%s' "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["tasks"]), sorted(t["taskArn"].split("/")[-1] for t in d["tasks"])[0] in sys.argv[1:], d["failures"])' "$TASK" "$TASK2")" \
    "2 True []"
like "berth describe task shows key: value lines" "$(b describe task "$TASK")" \
    "^lastStatus: +RUNNING$"
like "with times as dates" "$(b describe task "$TASK")" \
    "^startedAt: +20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8}$"

out=$(b stop "$TASK" --reason "cli test")
is "berth stop answers" "$?" 0
like "and says so" "$out" "^stopping $TASK \(last status [A-Z]+, desired STOPPED\)$"
stopped() { b tasks --stopped --family cliweb | grep -q "^$TASK .*STOPPED"; }
ok "berth tasks --stopped lists it once stopped" wait_for 30 stopped
is "with the reason given" \
    "$(b describe task "$TASK" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["stoppedReason"])')" \
    "cli test"

# FAMILY:REV, --count, --wait --json: progress on stderr, DescribeTasks on stdout.
b run cliweb:2 --count 2 --wait --json >"$T/wait.json" 2>"$T/wait.err"
is "berth run FAMILY:REV --count 2 --wait --json exits 0" "$?" 0
is "stdout is DescribeTasks' output with both tasks RUNNING" \
    "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted(t["lastStatus"] for t in d["tasks"]), sorted(set(t["taskDefinitionArn"].split("/")[-1] for t in d["tasks"])))' "$T/wait.json")" \
    "['RUNNING', 'RUNNING'] ['cliweb:2']"
is "stderr has each task's RUNNING line" "$(grep -c ' RUNNING$' "$T/wait.err")" 2
for t in $(python3 -c 'import json,sys; print(" ".join(t["taskArn"] for t in json.load(open(sys.argv[1]))["tasks"]))' "$T/wait.json"); do
    b stop "$t" >/dev/null
done

# A task that stops with an error under --wait (its image does not exist,
# so it never runs): exit 1 and the reason.
cat >"$T/fail.json" <<'EOF2'
{"family": "clifail", "containerDefinitions": [
  {"name": "main", "image": "berth-test/nope:1", "memory": 32}]}
EOF2
out=$(b run "$T/fail.json" --wait 2>&1)
is "run --wait of a task that cannot start exits 1" "$?" 1
like "and says why" "$out" \
    "task [0-9a-f]{32} stopped: TaskFailedToStart: CannotPullContainerError: .*berth-test/nope:1"

# The API's errors as the API says them.
printf '{"family":"bad","containerDefinitions":[{"name":"a","image":"x","memory":4,"portMappings":[{"containerPort":80,"hostPort":70000}]}]}' >"$T/bad.json"
out=$(b run "$T/bad.json" 2>&1)
is "a bad task definition exits 1" "$?" 1
like "the API's error verbatim, with its JSON path" "$out" \
    '^berth: ClientException: .*containerDefinitions\[0\]\.portMappings\[0\]\.hostPort'
want=$(api_error RunTask '{"taskDefinition":"nosuch"}')
like "(the API refuses an unknown definition)" "$want" "^berth: ClientException: "
is "RunTask of an unknown definition: exactly the API's type and message" \
    "$(b run nosuch 2>&1)" "$want"
out=$(b stop 0123456789abcdef0123456789abcdef 2>&1)
is "stop of an unknown task exits 1" "$?" 1
is "with the API's words" "$out" \
    "$(api_error StopTask '{"task":"0123456789abcdef0123456789abcdef"}')"
printf '{"family": "x",\n  "containerDefinitions": [}\n' >"$T/notjson.json"
out=$(b run "$T/notjson.json" 2>&1)
is "a file that is not JSON exits 2" "$?" 2
like "naming the file, line and column" "$out" "^berth: $T/notjson.json:2:[0-9]+: not valid JSON$"
out=$(b run "$T/missing.json" 2>&1)
is "a missing file exits 2" "$?" 2
is "naming it" "$out" "berth: $T/missing.json: cannot read the task definition: No such file or directory"

# ---- services: the commands that show, follow and change them ----
out=$(api CreateService '{"serviceName":"clisvc","taskDefinition":"cliweb:1","desiredCount":2,
  "deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":true,"rollback":true}}}')
like "(CreateService of a 2-task service)" "$out" '"serviceName": *"clisvc"'
svc_line() { b services | grep '^clisvc '; }
svc_at() { svc_line | grep -Eq "^clisvc +ACTIVE +$1 +$1 +0 +cliweb:$2 "; }
ok "berth services shows it ACTIVE with 2 running" wait_for 120 svc_at 2 1
like "its row says the rollout completed" "$(svc_line)" 'COMPLETED'
b scale clisvc 3 >"$T/scale.out" 2>&1
is "berth scale clisvc 3 exits 0" "$?" 0
like "and says the new desired count" "$(cat "$T/scale.out")" '^clisvc: desired count 3 '
ok "the service reaches 3 running" wait_for 120 svc_at 3 1

sed 's/echo hi/echo v2/' "$T/web.json" >"$T/web2.json"
b deploy clisvc "$T/web2.json" --timeout 5m >"$T/deploy.out" 2>"$T/deploy.err"
is "berth deploy FILE follows the rollout and exits 0 when it completes" "$?" 0 ||
    sed 's/^/# /' "$T/deploy.out" "$T/deploy.err"
rev=$(sed -n 's/^registered cliweb:\([0-9]*\)$/\1/p' "$T/deploy.err")
ok "it registered the file first" test -n "$rev"
like "it says the deployment started and completed" "$(tr '\n' ' ' <"$T/deploy.out")" \
    "clisvc: deployment ecs-svc/[0-9]+ of cliweb:$rev started .*clisvc: deployment ecs-svc/[0-9]+ completed"
like "with progress lines on the way" "$(cat "$T/deploy.out")" '[0-9]+/3 running, [0-9]+ pending'
ok "berth services shows the new revision at 3 running" svc_at 3 "$rev"

# A revision whose image does not exist: the circuit breaker trips, the
# service rolls back, and deploy says so with a failure exit.
sed 's#berth-test/busybox:1#berth-test/nosuch:1#' "$T/web.json" >"$T/broken.json"
b deploy clisvc "$T/broken.json" --timeout 8m >"$T/broken.out" 2>"$T/broken.err"
is "berth deploy of a broken revision exits 1" "$?" 1
like "and gives the reason the rollout failed" "$(cat "$T/broken.err")" \
    '^berth: clisvc: deployment ecs-svc/[0-9]+ failed: .*circuit breaker'
ok "the service is back on the last good revision with 3 running" wait_for 180 svc_at 3 "$rev"

out=$(b events clisvc -n 3)
is "berth events -n 3 prints three events" "$(printf '%s\n' "$out" | grep -c .)" 3
like "the newest say what happened" "$(b events clisvc -n 20)" 'has reached a steady state'
out=$(b describe service clisvc)
like "berth describe service shows its desired count" "$out" 'desiredCount: *3'
out=$(b --json services | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["services"][0]["serviceName"])' 2>&1)
is "berth --json services is the API's DescribeServices output" "$out" clisvc
out=$(b scale nosuchsvc 1 2>&1)
is "scaling an unknown service exits 1" "$?" 1
like "with the API's error" "$out" '^berth: ServiceNotFoundException: '
api DeleteService '{"service":"clisvc","force":true}' >/dev/null
gone() { ! b services | grep -q '^clisvc +ACTIVE'; }
ok "(the service is deleted)" wait_for 60 gone

for t in $(b tasks --json | python3 -c 'import json,sys; print(" ".join(t["taskArn"] for t in json.load(sys.stdin)["tasks"]))'); do
    b stop "$t" >/dev/null
done
none() { [ "$(b tasks | wc -l)" = 1 ]; }
ok "every task stopped" wait_for 30 none
stop_berthd
is "berthd exits 0" "$BERTHD_STATUS" 0
done_testing
