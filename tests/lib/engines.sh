# engines.sh: real container engines for the integration tests (sourced
# after functions.sh; see ENGINES.md beside this file for what was verified).
#
#   start_dockerd                   dockerd answering on /run/docker.sock
#   start_engine ENGINE             start_dockerd or start_podman_service
#   start_podman_service            podman's API answering on /run/podman/podman.sock
#   build_busybox_image ENGINE NAME a local image from busybox-static
#   engine_sock ENGINE              the socket path of docker or podman
#                                   (a path is taken as it is: a private
#                                   engine's socket, for the helpers below)
#   remove_cluster ENGINE CLUSTER   removes a test's containers (and pods)
#   cluster_running ENGINE CLUSTER [FAMILY]
#                                   how many of its task containers run
#   stop_engines                    stops the engines these functions started
#
# Each function is idempotent and on failure says why on stderr and returns 1;
# none exits the sourcing script, so a test can report `not ok` and go on.
#
# Lifetime: an engine takes seconds to start, so the first test that needs
# one starts it and it stays up for the rest of the run (its pid is in
# $ENGINE_DIR; only that pid is ever stopped, never an engine found running).
# .ci/run is to call `bash tests/lib/engines.sh stop` at the end once the
# first engine test lands (no test uses these helpers yet; they were
# verified by hand, see ENGINES.md).  With
# BERTH_ENGINE_LIFETIME=test an engine a test started is stopped when that
# test exits instead (handy when running one test by hand).  A lock makes
# tests run in parallel by `make -j check` start each engine once.
#
# Engines' logs go to $ENGINE_DIR, not $T: the engine outlives the test that
# started it and $T is removed at its exit.

: "${ENGINE_DIR:=${BERTH_ENGINE_DIR:-/var/tmp/berth-engines}}"
: "${BERTH_ENGINE_LIFETIME:=run}"
DOCKER_SOCK=/run/docker.sock
PODMAN_SOCK=/run/podman/podman.sock
PODMAN_CONF=/etc/containers/containers.conf
_ENGINE_MARK="# written by berth tests/lib/engines.sh"

_eng_err() { echo "engines.sh: $*" >&2; return 1; }

# engine_sock ENGINE: the path of its API socket; an absolute path is the
# socket itself (a test's private engine, speaking Docker's API).
engine_sock() {
    case "${1:-}" in
    docker) echo "$DOCKER_SOCK" ;;
    podman) echo "$PODMAN_SOCK" ;;
    /*) echo "$1" ;;
    *) _eng_err "engine_sock: unknown engine '${1:-}' (docker or podman)" ;;
    esac
}

start_engine() {
    case "${1:-}" in
    docker) start_dockerd ;;
    podman) start_podman_service ;;
    *) _eng_err "start_engine: unknown engine '${1:-}' (docker or podman)" ;;
    esac
}

# Both engines answer Docker's containers API (Podman through its compat
# layer), so these helpers speak it to either.
_eng_cluster_filter() { # CLUSTER [STATUS]
    printf '{"label":["com.amazonaws.ecs.cluster=%s"]%s}' "$1" "${2:+,\"status\":[\"$2\"]}"
}

# remove_cluster ENGINE CLUSTER: removes every container Berth labelled with
# that cluster, and on Podman its pods: what a test leaves behind.
remove_cluster() {
    _s=$(engine_sock "$1") || return 1
    for _id in $(curl -s --unix-socket "$_s" -G "http://d/v1.41/containers/json" \
        --data-urlencode all=1 --data-urlencode "filters=$(_eng_cluster_filter "$2")" |
        python3 -c 'import json,sys; print(" ".join(c["Id"] for c in json.load(sys.stdin) or []))'); do
        curl -s -X DELETE --unix-socket "$_s" "http://d/v1.41/containers/$_id?force=1" >/dev/null
    done
    [ "$1" = podman ] || return 0
    for _id in $(curl -s --unix-socket "$_s" -G "http://d/v4.0.0/libpod/pods/json" \
        --data-urlencode "filters=$(_eng_cluster_filter "$2")" |
        python3 -c 'import json,sys; print(" ".join(p["Id"] for p in json.load(sys.stdin) or []))'); do
        curl -s -X DELETE --unix-socket "$_s" "http://d/v4.0.0/libpod/pods/$_id?force=true" >/dev/null
    done
}

# cluster_running ENGINE CLUSTER [FAMILY]: how many task containers of that
# cluster (of that task-definition family, if given) are running.
cluster_running() {
    curl -s --unix-socket "$(engine_sock "$1")" -G "http://d/v1.41/containers/json" \
        --data-urlencode "filters=$(_eng_cluster_filter "$2" running)" |
        python3 -c '
import json, sys
fam = sys.argv[1] if len(sys.argv) > 1 else None
print(len([c for c in json.load(sys.stdin) or []
           if "com.amazonaws.ecs.container-name" in c["Labels"] and
           (fam is None or c["Labels"].get("com.amazonaws.ecs.task-definition-family") == fam)]))' ${3:+"$3"}
}

# _eng_ping ENGINE: the engine's API answers its ping.  Podman is pinged on
# the libpod path, so a Docker answering on a stray socket does not count.
_eng_ping() {
    case "$1" in
    docker) u=http://d/_ping ;;
    podman) u=http://d/v4.0.0/libpod/_ping ;;
    esac
    [ "$(curl -s --max-time 3 --unix-socket "$(engine_sock "$1")" "$u" 2>/dev/null)" = OK ]
}

# _eng_alive PIDFILE COMM: the pidfile names a live process called COMM.
# Checking the name keeps a recycled pid from being mistaken (or killed).
_eng_alive() {
    [ -s "$1" ] || return 1
    p=$(cat "$1")
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ]
}

# _eng_wait ENGINE PIDFILE COMM LOG SECONDS: polls the ping until it answers;
# gives up early if the process died, showing the end of its log.
_eng_wait() {
    i=0
    while [ "$i" -lt $(($5 * 10)) ]; do
        _eng_ping "$1" && return 0
        if ! _eng_alive "$2" "$3"; then
            _eng_err "$3 exited before its API answered; end of $4:"
            tail -n 15 "$4" >&2
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    _eng_err "$3 (pid $(cat "$2")) did not answer on $(engine_sock "$1") within $5s; see $4"
}

# _eng_stop PIDFILE COMM: SIGTERM, up to 30 s (dockerd stops its containers
# and its containerd first), then SIGKILL.
_eng_stop() {
    _eng_alive "$1" "$2" || { rm -f "$1"; return 0; }
    p=$(cat "$1")
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 300); do
        _eng_alive "$1" "$2" || break
        sleep 0.1
    done
    _eng_alive "$1" "$2" && kill -KILL "$p" 2>/dev/null
    rm -f "$1"
}

_stop_dockerd() { _eng_stop "$ENGINE_DIR/dockerd.pid" dockerd; }
_stop_podman() { _eng_stop "$ENGINE_DIR/podman.pid" podman; }

# _eng_locked NAME COMMAND...: runs the command holding $ENGINE_DIR/NAME.lock
# (a brace group, not a subshell, so what it sets stays set).  Whatever it
# starts must get `9>&-`, or the engine would hold the lock forever.
_eng_locked() {
    mkdir -p "$ENGINE_DIR" || { _eng_err "cannot create $ENGINE_DIR"; return 1; }
    _l=$1
    shift
    {
        flock -w 300 9 || { _eng_err "timed out waiting for $ENGINE_DIR/$_l.lock"; return 1; }
        "$@"
    } 9>"$ENGINE_DIR/$_l.lock"
}

# _eng_spawn PIDFILE LOG COMMAND...: starts an engine detached.  setsid:
# out of the test's process group, so ^C on `make check` or the harness
# killing a test does not take the shared engine down.  The engine writes
# its own pid (setsid forks when it is already a group leader, so $! could
# name a process that is gone), and gets no lock fd (9>&-).
_eng_spawn() {
    _p=$1
    _g=$2
    shift 2
    rm -f "$_p"
    echo "=== $(date '+%F %T') $1 started by ${0##*/}" >>"$_g"
    # shellcheck disable=SC2016 # $$ and $@ are the inner shell's
    setsid sh -c 'echo $$ >"$0"; exec "$@"' "$_p" "$@" </dev/null >>"$_g" 2>&1 9>&- &
    for _ in $(seq 50); do
        [ -s "$_p" ] && return 0
        sleep 0.1
    done
    _eng_err "$1 did not start; see $_g"
}

# _eng_owned STOPFN: this run owns the engine; with a per-test lifetime,
# stop it when the test exits.
_eng_owned() {
    if [ "$BERTH_ENGINE_LIFETIME" = test ]; then
        if command -v on_exit >/dev/null 2>&1; then on_exit "$1"; fi
    fi
}

start_dockerd() {
    _eng_ping docker && return 0
    command -v dockerd >/dev/null 2>&1 ||
        { _eng_err "dockerd is not installed (apt-get install docker.io)"; return 1; }
    _eng_locked docker _start_dockerd_locked
}

_start_dockerd_locked() {
    _eng_ping docker && return 0
    log="$ENGINE_DIR/dockerd.log"
    pidf="$ENGINE_DIR/dockerd.pid"
    # One we started earlier and still starting (or hung): wait for it
    # rather than start a second one on the same data root.
    if ! _eng_alive "$pidf" dockerd; then
        # A dockerd someone else started owns /run/docker.pid and the data
        # root; starting another would fight it, so say so instead.
        if [ -s /run/docker.pid ] && [ "$(cat "/proc/$(cat /run/docker.pid)/comm" 2>/dev/null)" = dockerd ]; then
            _eng_err "a dockerd (pid $(cat /run/docker.pid)) runs but $DOCKER_SOCK does not answer; not starting another"
            return 1
        fi
        # The data root is the default one: images imported once are kept
        # from run to run.
        _eng_spawn "$pidf" "$log" dockerd --host "unix://$DOCKER_SOCK" \
            --data-root /var/lib/docker --exec-root /run/docker \
            --pidfile /run/docker.pid || return 1
        _eng_owned _stop_dockerd
    fi
    _eng_wait docker "$pidf" dockerd "$log" 60
}

# _podman_conf: podman on this host needs runc (crun fails on its cgroup v1
# layout) and ulimits within the hard limits here (its default nofile of
# 1048576 is above the host's 20000, which runc refuses).  Without systemd
# or journald, the cgroup manager and the event log must be files.  A file
# we did not write is not changed; what it lacks is reported.
_podman_conf() {
    if [ -f "$PODMAN_CONF" ] && ! grep -qF "$_ENGINE_MARK" "$PODMAN_CONF"; then
        if grep -Eq '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$PODMAN_CONF"; then
            return 0
        fi
        _eng_err "$PODMAN_CONF exists and does not set runtime = \"runc\"; not changing it.  It needs:"
        _podman_conf_text | grep -vF "$_ENGINE_MARK" | sed 's/^/    /' >&2
        return 1
    fi
    mkdir -p "${PODMAN_CONF%/*}"
    _podman_conf_text >"$PODMAN_CONF.tmp" && mv "$PODMAN_CONF.tmp" "$PODMAN_CONF"
}

_podman_conf_text() {
    cat <<EOF
$_ENGINE_MARK
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
}

start_podman_service() {
    _eng_ping podman && return 0
    command -v podman >/dev/null 2>&1 ||
        { _eng_err "podman is not installed (apt-get install podman runc)"; return 1; }
    _eng_locked podman _start_podman_locked
}

_start_podman_locked() {
    _eng_ping podman && return 0
    _podman_conf || return 1
    log="$ENGINE_DIR/podman.log"
    pidf="$ENGINE_DIR/podman.pid"
    if ! _eng_alive "$pidf" podman; then
        mkdir -p "${PODMAN_SOCK%/*}"
        rm -f "$PODMAN_SOCK"
        # --time=0: never exit for idleness (the default is 5 s).
        _eng_spawn "$pidf" "$log" podman system service --time=0 "unix://$PODMAN_SOCK" ||
            return 1
        _eng_owned _stop_podman
    fi
    _eng_wait podman "$pidf" podman "$log" 60
}

# stop_engines: stops the engines these functions started (by their pid in
# $ENGINE_DIR), never one found running.  Podman's containers live on
# without the service (conmon keeps them), so the test containers, labelled
# berth.test, are removed first; dockerd stops its own when it exits.
stop_engines() {
    if _eng_alive "$ENGINE_DIR/podman.pid" podman; then
        ids=$(podman ps -aq --filter label=berth.test 2>/dev/null)
        # shellcheck disable=SC2086 # ids: one word per container
        [ -n "$ids" ] && podman rm -f -t 2 $ids >/dev/null 2>&1
        ids=$(podman pod ps -q --filter label=berth.test 2>/dev/null)
        # shellcheck disable=SC2086
        [ -n "$ids" ] && podman pod rm -f $ids >/dev/null 2>&1
    fi
    _stop_podman
    _stop_dockerd
    return 0
}

# _image_exists ENGINE NAME
_image_exists() {
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        --unix-socket "$(engine_sock "$1")" "http://d/images/$2/json")
    [ "$code" = 200 ]
}

# _busybox_root: $ENGINE_DIR/busybox.tar, a root with busybox-static and a
# link for each applet, built once.
_busybox_root() {
    tar=$ENGINE_DIR/busybox.tar
    [ -s "$tar" ] && return 0
    if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
        _eng_err "no /bin/busybox (apt-get install busybox-static)"
        return 1
    fi
    case "$(file -b /bin/busybox 2>/dev/null)" in
    *dynamically*) _eng_err "/bin/busybox is dynamically linked: the image needs busybox-static"; return 1 ;;
    esac
    r=$ENGINE_DIR/busybox-root
    rm -rf "$r" && mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" || return 1
    cp /bin/busybox "$r/bin/busybox" || return 1
    # Inside the root, --install -s links each applet where it belongs
    # (bin/sh, usr/bin/wget...) to /bin/busybox: 270 links at once, where
    # a shell loop of ln takes seconds.
    chroot "$r" /bin/busybox --install -s ||
        { _eng_err "busybox --install -s in $r failed"; return 1; }
    mkdir -p "$r/etc" "$r/root" "$r/proc" "$r/sys" "$r/dev" "$r/www" "$r/var/run" "$r/tmp"
    chmod 1777 "$r/tmp"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
    echo 'berth-test busybox' >"$r/www/index.html"
    tar --numeric-owner --owner=0 --group=0 -C "$r" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
}

# build_busybox_image ENGINE NAME: imports the busybox root as NAME (e.g.
# berth-test/busybox:1) unless that image exists; silent on success.  The
# engine must be started.  Podman stores it as localhost/NAME and resolves
# NAME to it.
build_busybox_image() {
    e=${1:-}
    n=${2:-}
    [ -n "$n" ] || { _eng_err "usage: build_busybox_image docker|podman NAME"; return 1; }
    engine_sock "$e" >/dev/null || return 1
    _eng_ping "$e" || { _eng_err "$e does not answer on $(engine_sock "$e"): start it first"; return 1; }
    _image_exists "$e" "$n" && return 0
    _eng_locked image _build_busybox_locked "$e" "$n"
}

_build_busybox_locked() {
    _image_exists "$1" "$2" && return 0
    _busybox_root || return 1
    # Imported images have no config: give it a PATH and a command.
    case "$1" in
    docker) out=$(DOCKER_HOST="unix://$DOCKER_SOCK" docker import \
        -c 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' -c 'CMD ["/bin/sh"]' \
        "$ENGINE_DIR/busybox.tar" "$2" 2>&1 9>&-) ;;
    podman) out=$(podman import \
        -c 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' -c 'CMD ["/bin/sh"]' \
        "$ENGINE_DIR/busybox.tar" "$2" 2>&1 9>&-) ;;
    esac || { _eng_err "$1 import of $2 failed: $out"; return 1; }
    _image_exists "$1" "$2" || { _eng_err "$1 import of $2 said '$out' but the image is not there"; return 1; }
}

# ---- Private engines: restarted by a test, never shared ----------------
#
#   private_dockerd_start DIR BRIDGE CIDR   a dockerd of its own in DIR
#   private_dockerd_stop DIR                SIGTERM it (its containers stop)
#   private_dockerd_cleanup DIR BRIDGE      stop, remove its state and bridge
#   private_podman_start DIR                a podman service on DIR/podman.sock
#   private_podman_stop DIR                 SIGTERM it (containers live on)
#
# A test that restarts an engine must not restart the shared one (other
# tests use it in parallel).  A private dockerd has its own socket
# (DIR/docker.sock), data root, exec root (and so its own containerd),
# pid file, and a bridge the test creates; --iptables=false and
# --ip-masq=false keep it out of the shared dockerd's iptables chains
# (published ports go through docker-proxy).  A private podman service
# shares podman's storage with the shared one (one storage per host), so
# the test's containers must carry their own cluster label; stopping the
# service touches no container.  Each start can be called again on the
# same DIR to restart the engine with its state.

private_dockerd_start() { # DIR BRIDGE CIDR (e.g. 10.213.7.1/24)
    _d=$1
    mkdir -p "$_d" || return 1
    if ! ip link show "$2" >/dev/null 2>&1; then
        ip link add "$2" type bridge &&
            ip addr add "$3" dev "$2" &&
            ip link set "$2" up ||
            { _eng_err "cannot create bridge $2 ($3)"; return 1; }
    fi
    rm -f "$_d/docker.sock"
    setsid dockerd --host "unix://$_d/docker.sock" --data-root "$_d/data" \
        --exec-root "$_d/exec" --pidfile "$_d/docker.pid" --bridge "$2" \
        --iptables=false --ip-masq=false </dev/null >>"$_d/dockerd.log" 2>&1 &
    for _ in $(seq 600); do
        [ "$(curl -s --max-time 2 --unix-socket "$_d/docker.sock" http://d/_ping 2>/dev/null)" = OK ] &&
            return 0
        sleep 0.1
    done
    _eng_err "the private dockerd in $_d did not answer; end of its log:"
    tail -n 15 "$_d/dockerd.log" >&2
    return 1
}

# private_dockerd_image DIR NAME: the busybox image in that dockerd.
private_dockerd_image() {
    _busybox_root || return 1
    out=$(DOCKER_HOST="unix://$1/docker.sock" docker import \
        -c 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' -c 'CMD ["/bin/sh"]' \
        "$ENGINE_DIR/busybox.tar" "$2" 2>&1) || { _eng_err "import into $1: $out"; return 1; }
}

_priv_stop() { # PIDFILE COMM
    _eng_alive "$1" "$2" || return 0
    p=$(cat "$1")
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 300); do
        _eng_alive "$1" "$2" || return 0
        sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null
    sleep 0.2
}

private_dockerd_stop() { _priv_stop "$1/docker.pid" dockerd; }

private_dockerd_cleanup() { # DIR BRIDGE
    private_dockerd_stop "$1"
    # Its containerd (and shims) if dockerd was SIGKILLed: found by its
    # state directory, which no other engine uses.
    for _p in $(pgrep -f "$1/exec/containerd" 2>/dev/null); do kill -KILL "$_p" 2>/dev/null; done
    grep -o " $1/[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r _m; do
        umount -l "$_m" 2>/dev/null
    done
    rm -rf "$1"
    ip link del "$2" 2>/dev/null
    return 0
}

private_podman_start() { # DIR
    mkdir -p "$1" || return 1
    _podman_conf || return 1
    rm -f "$1/podman.sock"
    # shellcheck disable=SC2016 # $$ and $@ are the inner shell's
    setsid sh -c 'echo $$ >"$0"; exec "$@"' "$1/podman.pid" \
        podman system service --time=0 "unix://$1/podman.sock" \
        </dev/null >>"$1/podman.log" 2>&1 &
    for _ in $(seq 300); do
        [ "$(curl -s --max-time 2 --unix-socket "$1/podman.sock" http://d/v4.0.0/libpod/_ping 2>/dev/null)" = OK ] &&
            return 0
        sleep 0.1
    done
    _eng_err "the private podman service in $1 did not answer; end of its log:"
    tail -n 15 "$1/podman.log" >&2
    return 1
}

private_podman_stop() { _priv_stop "$1/podman.pid" podman; }

# Run as a script: `bash tests/lib/engines.sh start|stop`, for .ci/run.
if [ "${BASH_SOURCE[0]:-$0}" = "$0" ]; then
    case "${1:-}" in
    start) start_dockerd && start_podman_service ;;
    stop) stop_engines ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
    esac
fi
