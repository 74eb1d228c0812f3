# functions.sh: shared helpers for the integration tests (sourced).
#
# Each test prints TAP: ok/is/like record one test point; done_testing
# prints the plan and sets the exit status.  A per-test temporary folder $T
# and everything started with start_bg are cleaned up by an EXIT trap that
# always runs.  `requires CMD` skips the whole test only when a tool cannot
# exist on this system; CI installs everything, so nothing skips there.

set -u
: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$top_builddir}"
BERTHD="$top_builddir/berthd"
PLUGIN_DIR="$top_builddir/.libs"
TEST_PLUGINS="$top_builddir/tests/plugins/.libs"

T=$(mktemp -d /tmp/berth-test.XXXXXX)
_n=0
_failed=0
_pids=""
_cleanups=""

cleanup() {
    status=$?
    for c in $_cleanups; do "$c" || true; done
    for p in $_pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $_pids; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$T"
    exit $status
}
trap cleanup EXIT INT TERM

# on_exit FUNCTION: run it at cleanup too.
on_exit() { _cleanups="$_cleanups $1"; }

requires() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "1..0 # SKIP $1 is not installed"
        exit 0
    fi
}

diag() { printf '# %s\n' "$*" | sed '2,$s/^/# /'; }

_result() { # status description
    _n=$((_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $_n - $2"
    else
        echo "not ok $_n - $2"
        _failed=$((_failed + 1))
    fi
    return "$1"
}

# ok DESCRIPTION COMMAND...: passes when the command succeeds.
ok() {
    d=$1
    shift
    if "$@"; then _result 0 "$d"; else _result 1 "$d"; fi
}

# is DESCRIPTION GOT WANT (is, like and unlike return 1 when the check
# failed, so `is ... || diag ...` can say more)
is() {
    if [ "$2" = "$3" ]; then
        _result 0 "$1"
    else
        _result 1 "$1"
        diag "  got: $2"
        diag " want: $3"
        return 1
    fi
}

# like DESCRIPTION TEXT PATTERN (grep -E)
like() {
    if printf '%s\n' "$2" | grep -Eq -- "$3"; then
        _result 0 "$1"
    else
        _result 1 "$1"
        diag "  got: $2"
        diag " want: /$3/"
        return 1
    fi
}

# unlike DESCRIPTION TEXT PATTERN
unlike() {
    if printf '%s\n' "$2" | grep -Eq -- "$3"; then
        _result 1 "$1"
        diag "  got: $2"
        diag " should not match: /$3/"
        return 1
    else
        _result 0 "$1"
    fi
}

done_testing() {
    echo "1..$_n"
    [ "$_failed" -eq 0 ]
}

# wait_for TIMEOUT_SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
    limit=$(($1 * 10))
    shift
    i=0
    while [ $i -lt $limit ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# start_bg NAME COMMAND...: runs a command in the background, output in
# $T/NAME.log; its pid in $LAST_PID.
start_bg() {
    name=$1
    shift
    "$@" >"$T/$name.log" 2>&1 &
    LAST_PID=$!
    _pids="$_pids $LAST_PID"
}

# start_berthd CONF [ARGS...]: berthd in the foreground (log in
# $T/berthd.log); returns once it logged agent.started, or 1 if it exited.
start_berthd() {
    conf=$1
    shift
    : >"$T/berthd.log"
    start_bg berthd ${WRAP:-} "$BERTHD" --foreground --config "$conf" "$@"
    BERTHD_PID=$LAST_PID
    for _ in $(seq 100); do
        grep -q 'event=agent.started' "$T/berthd.log" && return 0
        kill -0 "$BERTHD_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# stop_berthd: SIGTERM and wait; sets BERTHD_STATUS.
stop_berthd() {
    kill -TERM "$BERTHD_PID" 2>/dev/null
    wait "$BERTHD_PID" 2>/dev/null
    BERTHD_STATUS=$?
}

# log_has PATTERN: the berthd log has a line matching it.
log_has() { grep -Eq -- "$1" "$T/berthd.log"; }

# wait_log TIMEOUT PATTERN
wait_log() { wait_for "$1" log_has "$2"; }

# reload: SIGHUP, then wait for the outcome (done or refused).
reload() {
    before=$(grep -Ec 'event=reload\.(done|refused) .*(plugins|errors)=' "$T/berthd.log")
    kill -HUP "$BERTHD_PID"
    for _ in $(seq 150); do
        now=$(grep -Ec 'event=reload\.(done|refused) .*(plugins|errors)=' "$T/berthd.log")
        [ "$now" -gt "$before" ] && return 0
        sleep 0.1
    done
    return 1
}

# status SOCKET: the example plugin's status line.
status() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
print(s.recv(1024).decode().strip())
PY
}

# field LINE KEY: the value of KEY=VALUE in a status line.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# status_ge SOCKET KEY N: the status field KEY is at least N.
status_ge() {
    v=$(field "$(status "$1" 2>/dev/null)" "$2")
    [ -n "$v" ] && [ "$v" -ge "$3" ]
}

# start_httpd: tests/lib/httpd.py on 127.0.0.1 and a unix socket; sets
# HTTPD_PORT and HTTPD_SOCK.
start_httpd() {
    HTTPD_SOCK="$T/httpd.sock"
    start_bg httpd python3 "$top_srcdir/tests/lib/httpd.py" --tcp 127.0.0.1:0 \
        --unix "$HTTPD_SOCK" --port-file "$T/httpd.port"
    wait_for 10 test -s "$T/httpd.port" || return 1
    HTTPD_PORT=$(cat "$T/httpd.port")
    wait_for 10 test -S "$HTTPD_SOCK"
}

# write_conf FILE: the [agent] section the tests share, then stdin; unless
# stdin has its own [api], the API socket goes in $T (never the system's).
write_conf() {
    _body=$(cat)
    # One metadata port per test, kept across rewrites of the conf: a
    # reload that changes it is refused (running containers hold the URI).
    : "${METADATA_PORT:=$(free_port)}"
    {
        printf '[agent]\ncluster = test\nplugin-dir = %s\nstate-dir = %s/state\n' \
            "$PLUGIN_DIR" "$T"
        printf 'shutdown-timeout = 3s\nmetrics-interval = 1s\nlog-level = %s\n' \
            "${LOG_LEVEL:-info}"
        # Never the host's services.d: its services would run in the test.
        if ! printf '%s\n' "$_body" | grep -q '^services-dir'; then
            printf 'services-dir = %s/services.d\n' "$T"
        fi
        printf '\n'
        printf '%s\n' "$_body"
        if ! printf '%s\n' "$_body" | grep -q '^\[api\]'; then
            printf '\n[api]\nsocket = %s/api.sock\n' "$T"
        fi
        # Tests run side by side: each agent's metadata endpoint gets its
        # own port, not ECS's 51679.
        if ! printf '%s\n' "$_body" | grep -q '^\[metadata\]'; then
            printf '\n[metadata]\nport = %s\n' "$METADATA_PORT"
        fi
    } >"$1"
}

# free_port: a TCP port nothing listens on now (the kernel's pick).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# api ACTION JSON: an ECS API call on the test berthd's unix socket
# ($T/api.sock: trusted by its permissions, so unsigned and fast to poll).
api() {
    curl -s --unix-socket "$T/api.sock" -X POST -H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.$1" \
        -H 'Content-Type: application/x-amz-json-1.1' -d "$2" http://berth/
}

# jpath EXPR: EXPR (Python, over d, the JSON read from stdin) printed.
jpath() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
