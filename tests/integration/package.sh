#!/bin/bash
# The user's path through the package manager, on a clean system: build the
# Debian packages from the distributed sources and check them with lintian
# (on this host), then in a fresh minbase Debian root (tests/lib/cleanroot.sh)
# install them with apt-get, which must fetch every dependency from the
# mirror; run the installed berthd with the installed conf (as a user edits
# it: the docker plugin added, on the host's dockerd socket bound in) and a
# task through the berth command as a member of the berth group; build the
# example plugin against berth-dev with pkg-config alone and load it; purge
# both packages and find nothing of theirs left.  Then the same root boots
# with systemd as its PID 1 (systemd-nspawn -b) and the packaged unit is
# driven by systemctl: Type=notify start, reload by SIGHUP, restart after
# SIGKILL, and its sandbox still reaches the docker socket and
# /var/lib/berth.
#
# The packages are never installed on this host.  In CI (CI=true) a
# missing tool fails the test instead of skipping it.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"
. "$top_srcdir/tests/lib/cleanroot.sh"
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "${CI:-}" = true ]; then
        echo "not ok 1 - $1 is not installed (CI installs it: .ci/packages)"
        echo "1..1"
        exit 1
    fi
    echo "1..0 # SKIP $1 is not installed"
    exit 0
}
for tool in dpkg-buildpackage lintian apt-get mmdebstrap systemd-nspawn nsenter curl python3; do
    need "$tool"
done
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP a root for a clean system needs root"; exit 0; }

# The clean root builds (mostly waiting on the mirror and dpkg) while the
# packages compile.  gcc is the test's own need (the SDK step), not
# Berth's; pkg-config must come with berth-dev.
CLEAN="$T/clean"
CLUSTER="pkgtest$$"
ROOT="$CLEAN/root"
on_exit destroy_root
destroy_root() {
    cleanroot_destroy "$CLEAN"
    # berthd's task containers run on the shared dockerd: remove whatever
    # a failed step left of this test's cluster.
    remove_cluster docker "$CLUSTER" 2>/dev/null
}
start_bg rootbuild cleanroot_build "$CLEAN" "$T/mmdebstrap.log" gcc,libc6-dev
ROOTBUILD=$LAST_PID

# The sources as a user gets them: the distribution tree, not this checkout.
make -s -C "$top_builddir" distdir distdir="$T/berth" >"$T/distdir.log" 2>&1
is "make distdir succeeds" "$?" 0
ok "the distributed tree carries debian/" test -x "$T/berth/debian/rules"

(cd "$T/berth" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$T/build.log" 2>&1
is "dpkg-buildpackage -us -uc -b succeeds" "$?" 0 || tail -30 "$T/build.log" | sed 's/^/# /'
deb=$(ls "$T"/berth_*_*.deb 2>/dev/null | head -1)
devdeb=$(ls "$T"/berth-dev_*_*.deb 2>/dev/null | head -1)
ok "it made berth and berth-dev" test -f "$deb" -a -f "$devdeb"

lintian --tag-display-limit 0 "$T"/berth_*.changes >"$T/lintian.log" 2>&1
unlike "lintian reports no errors" "$(grep '^E:' "$T/lintian.log")" .
grep -E '^[EW]:' "$T/lintian.log" | sed 's/^/# /'

files=$(dpkg-deb -c "$deb" | awk '{print $6}')
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in ./usr/sbin/berthd ./usr/bin/berth ./usr/share/man/man1/berth.1.gz ./etc/berth/berth.conf ./etc/berth/services.d/ \
    ./lib/systemd/system/berthd.service "./usr/lib/$multiarch/berth/docker.so" \
    "./usr/lib/$multiarch/berth/podman.so" ./usr/libexec/berth/berth-pause \
    ./usr/share/man/man8/berthd.8.gz ./usr/share/man/man5/berth.conf.5.gz; do
    ok "berth holds $f" grep -qxF "$f" <<<"$files"
done
like "/etc/berth/berth.conf is a conffile" \
    "$(dpkg-deb -I "$deb" conffiles)" "^/etc/berth/berth.conf$"
devfiles=$(dpkg-deb -c "$devdeb" | awk '{print $6}')
for f in ./usr/include/berth/plugin.h "./usr/lib/$multiarch/pkgconfig/berth-plugin.pc" \
    ./usr/share/doc/berth-dev/examples/example.c ./usr/share/man/man7/berth-plugin.7.gz; do
    ok "berth-dev holds $f" grep -qxF "$f" <<<"$devfiles"
done

start_dockerd || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1

wait "$ROOTBUILD"
is "a minbase Debian root builds from the host's mirror (mmdebstrap)" "$?" 0 ||
    { tail -20 "$T/mmdebstrap.log" | sed 's/^/# /'; done_testing; exit; }

quiet() { "$@" >/dev/null 2>&1; }
in_root() { cleanroot_exec "$@"; }
not_installed() { ! in_root dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
absent() { ! in_root test -e "$1"; }
# apt-get in the root, quiet, its output in $T/LOG on failure.
root_apt() { # LOG ARGS...
    _l=$1
    shift
    in_root apt-get -o DPkg::Lock::Timeout=600 -y -q "$@" >"$T/$_l" 2>&1 ||
        { tail -20 "$T/$_l" | sed 's/^/# /'; return 1; }
}
# as_user CMD...: as user nobody, in the berth group or (with
# NOGROUP=1) not.
as_user() {
    _g=$(in_root getent group berth | cut -d: -f3)
    [ -n "${NOGROUP:-}" ] && _g=nogroup
    in_root setpriv --reuid=nobody --regid=nogroup --groups="$_g" "$@"
}

# within SECONDS CMD...: polls CMD until it succeeds, for at most SECONDS
# of wall-clock time (each call into the root costs a fork of nsenter, so
# wait_for's poll count would stretch on a loaded machine).
within() {
    _end=$((SECONDS + $1))
    shift
    while [ "$SECONDS" -lt "$_end" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    "$@" >/dev/null 2>&1
}
# edit_conf: as an admin does with an editor, set keys under their
# sections of the shipped conf (every key there is commented out) and add
# the docker plugin.  The cluster is the test's own: the root shares the
# host's dockerd and network with other tests, and berthd reconciles
# every container of its cluster.
METADATA_PORT=$(free_port)
edit_conf() {
    sed -i -e "s/^\[agent\]\$/&\ncluster = $CLUSTER/" \
        -e 's/^\[tasks\]$/&\nhost-port-range = 47000-47999/' \
        -e "s/^\[metadata\]\$/&\nport = $METADATA_PORT/" "$ROOT/etc/berth/berth.conf"
    printf '\n[plugin docker]\n' >>"$ROOT/etc/berth/berth.conf"
}

# --- install on the clean system -----------------------------------------
# The packages go in /var/tmp: nspawn gives the container its own /tmp.
mkdir -p "$ROOT/var/tmp/debs"
cp "$deb" "$devdeb" "$ROOT/var/tmp/debs/"
cleanroot_start "$ROOT" "$T/nspawn.log" --bind=/run/docker.sock
is "the clean root runs as a container (systemd-nspawn)" "$?" 0 ||
    { sed 's/^/# /' "$T/nspawn.log"; done_testing; exit; }
for p in libev4 libcjson1 libldns3 libc-ares2 libsqlite3-0 libcurl4 pkgconf; do
    ok "the clean root lacks $p (apt-get must fetch it)" \
        not_installed "$p"
done
root_apt update.log update
is "apt-get update in the root" "$?" 0
root_apt install.log install --no-install-recommends "/var/tmp/debs/${deb##*/}" "/var/tmp/debs/${devdeb##*/}"
is "apt-get install --no-install-recommends ./berth_*.deb ./berth-dev_*.deb pulls its dependencies from the mirror" "$?" 0 ||
    { done_testing; exit; }
diag "fetched: $(sed -n 's/^Get:[0-9]* [^ ]* [^ ]* [^ ]* \([^ ]*\) .*/\1/p' "$T/install.log" | tr '\n' ' ')"
ok "the berth group exists" quiet in_root getent group berth
is "the installed conf puts the API socket in the berth group" \
    "$(sed -n 's/^socket-group = //p' "$ROOT/etc/berth/berth.conf")" berth
out=$(in_root berthd --check-config 2>&1)
is "the installed conf passes berthd --check-config" "$?" 0 || diag "$out"

# As a user does: pick an engine in /etc/berth/berth.conf (the host's
# dockerd, its socket bound in at the default path).  The shipped conf has
# every section with its keys commented out: set a key under its section,
# as an admin does with an editor.
edit_conf
out=$(in_root berthd --check-config 2>&1)
is "the edited conf passes --check-config" "$?" 0 || diag "$out"

# berthd's pid inside the container goes to a file; signals go to its
# host pid (the test's reload and stop helpers use BERTHD_PID).
: >"$T/berthd.log"
start_bg berthd cleanroot_exec sh -c 'echo $$ >/var/tmp/berthd.pid; exec berthd --foreground --config /etc/berth/berth.conf'
BERTHD_BG=$LAST_PID
wait_log 30 'event=agent.started'
ok "the installed berthd starts with the installed conf" log_has 'event=agent.started' ||
    { tail -20 "$T/berthd.log" | sed 's/^/# /'; done_testing; exit; }
BERTHD_PID=$(cleanroot_hostpid "$(cat "$ROOT/var/tmp/berthd.pid")")
ok "its API socket is /run/berth/api.sock" quiet in_root test -S /run/berth/api.sock
is "the socket is mode 0660, group berth" "$(in_root stat -c '%a %G' /run/berth/api.sock)" "660 berth"
ok "its state is under /var/lib/berth" test -f "$ROOT/var/lib/berth/berth.db"

out=$(NOGROUP=1 as_user berth tasks 2>&1)
is "a user outside the berth group cannot use the API" "$?" 1
diag "$out"
cat >"$ROOT/var/tmp/pkgweb.json" <<'JSON'
{"family": "pkgweb", "containerDefinitions": [{"name": "web", "image": "berth-test/busybox:1",
 "memory": 32, "dockerLabels": {"berth.test": "1"},
 "command": ["sh", "-c", "echo served-by-berth >/tmp/index.html; exec httpd -f -p 8080 -h /tmp"],
 "portMappings": [{"containerPort": 8080, "hostPort": 0}]}]}
JSON
chmod 0644 "$ROOT/var/tmp/pkgweb.json"
out=$(as_user berth run /var/tmp/pkgweb.json --wait --json 2>"$T/run.err")
is "a member of the berth group runs a task with the installed berth command" "$?" 0 ||
    diag "$(cat "$T/run.err")"
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>/dev/null; }
task=$(printf '%s' "$out" | jget 'd["tasks"][0]["taskArn"]')
is "it is RUNNING on the host's Docker" "$(printf '%s' "$out" | jget 'd["tasks"][0]["lastStatus"]')" RUNNING
port=$(printf '%s' "$out" | jget 'd["tasks"][0]["containers"][0]["networkBindings"][0]["hostPort"]')
is "its dynamic port answers" "$(curl -sf "http://127.0.0.1:${port:-0}/")" served-by-berth
like "berth tasks lists it" "$(as_user berth tasks 2>&1)" "${task##*/}"
out=$(as_user berth stop "${task##*/}" 2>&1)
is "berth stop stops it" "$?" 0 || diag "$out"
stopped() { [ "$(as_user berth describe task "${task##*/}" --json | jget 'd["tasks"][0]["lastStatus"]')" = STOPPED ]; }
within 120 stopped
ok "it reaches STOPPED" stopped

# --- the SDK -------------------------------------------------------------
mkdir -p "$ROOT/var/tmp/sdk"
plugindir=$(in_root pkg-config --variable=plugindir berth-plugin)
is "berth-plugin.pc names the folder berthd loads plugins from" "$plugindir" \
    "/usr/lib/$multiarch/berth"
out=$(in_root sh -c 'cd /var/tmp/sdk && cp /usr/share/doc/berth-dev/examples/example.c . &&
    gcc $(pkg-config --cflags berth-plugin) -std=c11 -Wall -Wextra -Werror -shared -fPIC \
    -o myplugin.so example.c' 2>&1)
is "the example plugin builds against berth-dev with pkg-config alone" "$?" 0 || diag "$out"
in_root install -m 0644 /var/tmp/sdk/myplugin.so "$plugindir/myplugin.so"
printf '\n[plugin mine]\nfile = myplugin.so\ninterval = 100ms\nstatus-socket = /var/tmp/mine.sock\n' \
    >>"$ROOT/etc/berth/berth.conf"
reload
ok "SIGHUP loads the dropped-in plugin" log_has 'event=reload.done'
within 30 status_ge "$ROOT/var/tmp/mine.sock" ticks 2
ok "the plugin built against berth-dev runs inside the installed berthd" \
    status_ge "$ROOT/var/tmp/mine.sock" ticks 2
like "berthd still answers its API" "$(as_user berth taskdefs 2>&1)" pkgweb

# --- purge ---------------------------------------------------------------
kill -TERM "$BERTHD_PID"
wait "$BERTHD_BG"
is "berthd stops cleanly" "$?" 0
in_root rm -f "$plugindir/myplugin.so"
owned=$(in_root dpkg -L berth berth-dev | sort -u)
root_apt purge.log purge berth berth-dev
is "apt-get purge berth berth-dev" "$?" 0
left=""
for f in $owned; do
    [ -d "$ROOT$f" ] && continue # shared folders (/usr/lib/..., /etc) stay
    [ -e "$ROOT$f" ] && left="$left $f"
done
is "no file of the packages is left" "$left" ""
is "dpkg knows neither package any more" "$(in_root dpkg-query -W -f='${Package} ' berth berth-dev 2>/dev/null)" ""
for d in /etc/berth /var/lib/berth "/usr/lib/$multiarch/berth" /usr/libexec/berth /run/berth \
    /usr/include/berth /usr/share/doc/berth /usr/share/doc/berth-dev; do
    ok "$d is gone" absent "$d"
done
ok "the berth group stays (a system group may own files elsewhere)" quiet in_root getent group berth

# --- systemd as PID 1 ------------------------------------------------------
root_apt systemd.log install --no-install-recommends systemd systemd-sysv dbus
is "systemd and dbus install in the root" "$?" 0
cleanroot_stop
cleanroot_start "$ROOT" "$T/boot.log" --boot --bind=/run/docker.sock
is "the root boots with systemd-nspawn -b" "$?" 0 ||
    { tail -30 "$T/boot.log" | sed 's/^/# /'; done_testing; exit; }
booted() { s=$(in_root systemctl is-system-running 2>/dev/null); [ "$s" = running ] || [ "$s" = degraded ]; }
within 180 booted
ok "systemd finishes booting it" booted || diag "$(in_root systemctl --failed --no-pager 2>&1)"
is "its PID 1 is systemd" "$(in_root cat /proc/1/comm)" systemd
root_apt install2.log install --no-install-recommends "/var/tmp/debs/${deb##*/}"
is "apt-get install ./berth_*.deb under systemd" "$?" 0 || { done_testing; exit; }
is "the package leaves berthd disabled (an engine must be picked first)" \
    "$(in_root systemctl is-enabled berthd 2>&1)" disabled
is "and stopped" "$(in_root systemctl is-active berthd 2>&1)" inactive

edit_conf
journal() { in_root journalctl -u berthd --no-pager -o cat 2>/dev/null; }
unit() { in_root systemctl show -P "$1" berthd; }
out=$(in_root systemctl start berthd 2>&1)
is "systemctl start berthd succeeds" "$?" 0 || diag "$out$(journal | tail -20)"
is "it is active (Type=notify: systemd waited for READY=1)" "$(in_root systemctl is-active berthd)" active
is "the unit is Type=notify" "$(unit Type)" notify
like "the journal has berthd's start" "$(journal)" 'event=agent.started'
pid1=$(unit MainPID)

# The sandbox (ProtectSystem, ProtectHome, PrivateTmp, NoNewPrivileges...)
# must leave the engine socket and /var/lib/berth usable.
out=$(in_root berth run /var/tmp/pkgweb.json --wait --json 2>"$T/run.err")
is "berthd under its unit runs a task on the bound-in docker socket" \
    "$(printf '%s' "$out" | jget 'd["tasks"][0]["lastStatus"]')" RUNNING || diag "$(cat "$T/run.err")"
task=$(printf '%s' "$out" | jget 'd["tasks"][0]["taskArn"]')
port=$(printf '%s' "$out" | jget 'd["tasks"][0]["containers"][0]["networkBindings"][0]["hostPort"]')
is "its port answers" "$(curl -sf "http://127.0.0.1:${port:-0}/")" served-by-berth
ok "its state is in /var/lib/berth" test -s "$ROOT/var/lib/berth/berth.db"

out=$(in_root systemctl reload berthd 2>&1)
is "systemctl reload berthd succeeds" "$?" 0 || diag "$out"
reloaded() { journal | grep -q 'event=reload.done'; }
within 60 reloaded
ok "the journal shows the reload (SIGHUP)" reloaded
is "the reload kept the process" "$(unit MainPID)" "$pid1"
is "and berthd is active again" "$(in_root systemctl is-active berthd)" active

kill -KILL "$(cleanroot_hostpid "$pid1")" # (the root has no procps: no /bin/kill)
restarted() { p=$(unit MainPID); [ "$p" != 0 ] && [ "$p" != "$pid1" ] &&
    [ "$(in_root systemctl is-active berthd)" = active ]; }
within 120 restarted
ok "after kill -9 systemd restarts berthd (Restart=on-failure)" restarted
is "once" "$(unit NRestarts)" 1
like "the restarted berthd read its state back from /var/lib/berth" \
    "$(in_root berth tasks 2>&1)" "${task##*/}"
out=$(in_root berth stop "${task##*/}" 2>&1)
is "and stops its task" "$?" 0 || diag "$out"
stopped() { [ "$(in_root berth describe task "${task##*/}" --json | jget 'd["tasks"][0]["lastStatus"]')" = STOPPED ]; }
within 120 stopped
ok "which reaches STOPPED" stopped

in_root systemd-analyze security berthd --no-pager >"$T/security.log" 2>&1
diag "$(tail -1 "$T/security.log")"
out=$(in_root systemctl stop berthd 2>&1)
is "systemctl stop berthd succeeds" "$?" 0 || diag "$out"
is "it stopped cleanly" "$(unit Result)" success
root_apt purge2.log purge berth
is "apt-get purge berth under systemd" "$?" 0
ok "/var/lib/berth is gone" absent /var/lib/berth
cleanroot_stop
done_testing
