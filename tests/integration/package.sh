#!/bin/bash
# The user's path through the package manager: build the Debian packages
# from the distributed sources, check them with lintian, install them with
# apt-get, run the installed berthd with the installed conf (as a user
# edits it: a runtime plugin added) and a task on Docker through the API
# socket as a member of the berth group, build the example plugin against
# berth-dev with pkg-config alone and load it, then purge both packages and
# find nothing of theirs left.
#
# It installs packages on this machine (it is CI's own throw-away system),
# so it refuses to run where berth is already installed by someone else.
. "$top_srcdir/tests/lib/functions.sh"
. "$top_srcdir/tests/lib/engines.sh"
requires dpkg-buildpackage
requires lintian
requires apt-get
requires pkg-config
requires curl
requires setpriv
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP installing packages needs root"; exit 0; }
if dpkg-query -W -f='${Status}' berth 2>/dev/null | grep -q installed; then
    echo "1..0 # SKIP a berth package is installed already; not touching it"
    exit 0
fi

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

quiet() { "$@" >/dev/null 2>&1; }

# --- install -----------------------------------------------------------
purge() {
    [ -n "${BERTHD_PID:-}" ] && kill -TERM "$BERTHD_PID" 2>/dev/null && wait "$BERTHD_PID" 2>/dev/null
    rm -f "/usr/lib/$multiarch/berth/myplugin.so"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y -qq berth berth-dev >/dev/null 2>&1
}
on_exit purge
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$deb" "$devdeb" >"$T/install.log" 2>&1
is "apt-get install ./berth_*.deb ./berth-dev_*.deb succeeds" "$?" 0 ||
    { tail -20 "$T/install.log" | sed 's/^/# /'; done_testing; exit; }
ok "the berth group exists" quiet getent group berth
ok "berthd is on the path at /usr/sbin/berthd" test -x /usr/sbin/berthd
is "the installed conf puts the API socket in the berth group" \
    "$(sed -n 's/^socket-group = //p' /etc/berth/berth.conf)" berth
ok "the installed conf passes --check-config" quiet /usr/sbin/berthd --check-config

# As a user does: pick an engine in /etc/berth/berth.conf.
start_dockerd || exit 1
build_busybox_image docker berth-test/busybox:1 || exit 1
# The shipped conf has every section with its keys commented out: set a
# key under its section, as an admin does with an editor.
sed -i 's/^\[tasks\]$/&\nhost-port-range = 47000-47999/' /etc/berth/berth.conf
printf '\n[plugin docker]\n' >>/etc/berth/berth.conf
/usr/sbin/berthd --check-config >"$T/check.log" 2>&1
is "the edited conf passes --check-config" "$?" 0 || sed 's/^/# /' "$T/check.log"
BERTHD=/usr/sbin/berthd
start_berthd /etc/berth/berth.conf
is "the installed berthd starts with the installed conf" "$?" 0 ||
    { tail -20 "$T/berthd.log" | sed 's/^/# /'; done_testing; exit; }
wait_for 30 test -S /run/berth/api.sock
ok "its API socket is /run/berth/api.sock" test -S /run/berth/api.sock
is "the socket is mode 0660, group berth" "$(stat -c '%a %G' /run/berth/api.sock)" "660 berth"
ok "its state is under /var/lib/berth" test -f /var/lib/berth/berth.db

# api AS ACTION JSON: one call on the socket as user nobody, in the berth
# group or not.
api() {
    groups=$1 action=$2 body=$3
    setpriv --reuid=nobody --regid=nogroup --groups="$groups" \
        curl -sS --unix-socket /run/berth/api.sock http://localhost/ \
        -H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.$action" \
        -H 'Content-Type: application/x-amz-json-1.1' -d "$body" 2>&1
}
out=$(api nogroup ListTaskDefinitions '{}')
is "a user outside the berth group cannot connect to the API socket" "$?" 7
unlike "and gets no answer from it" "$out" taskDefinitionArns
berth_gid=$(getent group berth | cut -d: -f3)
out=$(api "$berth_gid" RegisterTaskDefinition '{"family":"pkgweb","containerDefinitions":[{"name":"web","image":"berth-test/busybox:1","memory":32,"command":["sh","-c","echo served-by-berth >/tmp/index.html; exec httpd -f -p 8080 -h /tmp"],"portMappings":[{"containerPort":8080,"hostPort":0}]}]}')
like "a member of the berth group registers a task definition" "$out" '"taskDefinitionArn"'
out=$(api "$berth_gid" RunTask '{"taskDefinition":"pkgweb"}')
like "and runs it" "$out" '"taskArn"'
task=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["taskArn"])' 2>/dev/null)
running() {
    api "$berth_gid" DescribeTasks "{\"tasks\":[\"$task\"]}" | grep -q '"lastStatus": *"RUNNING"'
}
wait_for 60 running
ok "the task reaches RUNNING on Docker" running
port=$(api "$berth_gid" DescribeTasks "{\"tasks\":[\"$task\"]}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["containers"][0]["networkBindings"][0]["hostPort"])' 2>/dev/null)
is "its dynamic port answers" "$(curl -sf "http://127.0.0.1:${port:-0}/")" served-by-berth
out=$(setpriv --reuid=nobody --regid=nogroup --groups="$berth_gid" /usr/bin/berth tasks 2>&1)
like "the installed berth command lists the task (default socket, berth group)" "$out" "${task##*/}"
api "$berth_gid" StopTask "{\"task\":\"$task\"}" >/dev/null
stopped() { api "$berth_gid" DescribeTasks "{\"tasks\":[\"$task\"]}" | grep -q '"lastStatus": *"STOPPED"'; }
wait_for 60 stopped
ok "it stops" stopped

# --- the SDK -------------------------------------------------------------
mkdir "$T/sdk"
cp /usr/share/doc/berth-dev/examples/example.c "$T/sdk/"
# Only the system's pkg-config folders: a `make install` under /usr/local
# (the quick start's) would come first otherwise.
export PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="/usr/lib/$multiarch/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig"
plugindir=$(pkg-config --variable=plugindir berth-plugin)
is "berth-plugin.pc names the folder berthd loads plugins from" "$plugindir" \
    "/usr/lib/$multiarch/berth"
(cd "$T/sdk" && cc $(pkg-config --cflags berth-plugin) -std=c11 -Wall -Wextra -Werror \
    -shared -fPIC -o myplugin.so example.c) >"$T/cc.log" 2>&1
is "the example plugin builds against berth-dev with pkg-config alone" "$?" 0 ||
    sed 's/^/# /' "$T/cc.log"
install -m 0644 "$T/sdk/myplugin.so" "$plugindir/myplugin.so"
printf '\n[plugin mine]\nfile = myplugin.so\ninterval = 100ms\nstatus-socket = %s/mine.sock\n' "$T" \
    >>/etc/berth/berth.conf
reload
ok "SIGHUP loads the dropped-in plugin" log_has 'event=reload.done'
wait_for 20 status_ge "$T/mine.sock" ticks 2
ok "the plugin built against berth-dev runs inside the installed berthd" \
    status_ge "$T/mine.sock" ticks 2
out=$(api "$berth_gid" ListTaskDefinitions '{}')
like "berthd still answers its API" "$out" pkgweb

# --- purge ---------------------------------------------------------------
stop_berthd
is "berthd stops cleanly" "$BERTHD_STATUS" 0
rm -f "$plugindir/myplugin.so"
owned=$(dpkg -L berth berth-dev | sort -u)
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y -qq berth berth-dev >"$T/purge.log" 2>&1
is "apt-get purge succeeds" "$?" 0 || tail -20 "$T/purge.log" | sed 's/^/# /'
left=""
for f in $owned; do
    [ -d "$f" ] && continue # shared folders (/usr/lib/..., /etc) stay
    [ -e "$f" ] && left="$left $f"
done
is "no file of the packages is left" "$left" ""
for d in /etc/berth /var/lib/berth "/usr/lib/$multiarch/berth" /usr/libexec/berth \
    /usr/include/berth /usr/share/doc/berth /usr/share/doc/berth-dev; do
    ok "$d is gone" test ! -e "$d"
done
ok "the berth group stays (a system group may own files elsewhere)" quiet getent group berth

done_testing
