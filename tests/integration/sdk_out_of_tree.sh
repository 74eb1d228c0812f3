#!/bin/bash
# The plugin SDK out of tree: install into a staging root, build the example
# plugin from its source with only pkg-config and the installed header, load
# it into the installed berthd and see it run.
. "$top_srcdir/tests/lib/functions.sh"
requires pkg-config
requires cc
requires python3

R="$T/root"
make -s -C "$top_builddir" install DESTDIR="$R" >"$T/install.log" 2>&1
is "make install DESTDIR=... succeeds" "$?" 0
pc=$(find "$R" -name berth-plugin.pc | head -1)
ok "berth-plugin.pc is installed" test -n "$pc"
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$R"
cflags=$(pkg-config --cflags berth-plugin)
like "its Cflags point at the installed headers" "$cflags" "-I$R/.*/include"
# With the sysroot set, pkg-config already puts $R in front of plugindir.
plugindir=$(pkg-config --variable=plugindir berth-plugin)
like "plugindir is under the staging root" "$plugindir" "^$R/"
ok "it names the plugin folder, where the bundled plugin is" test -f "$plugindir/example.so"
is "the bundled plugin exports only its descriptor" \
    "$(nm -D --defined-only "$plugindir/example.so" | awk '{print $3}')" berth_plugin
ok "the header is installed as <berth/plugin.h>" test -n "$(find "$R" -path '*/include/berth/plugin.h')"
berthd=$(find "$R" -name berthd -type f | head -1)
ok "berthd is installed" test -x "$berthd"
for m in berthd.8 berth.conf.5 berth-plugin.7; do
    ok "man page $m is installed" test -n "$(find "$R" -name "$m")"
done
ok "berth.conf is installed" test -n "$(find "$R" -path '*/berth/berth.conf')"
ok "the systemd unit is installed under the prefix" \
    test -n "$(find "$R" -path '*/lib/systemd/system/berthd.service')"

# Build from a copy of the source in a folder of its own: nothing of the
# source tree is on the include path.
mkdir "$T/src"
cp "$top_srcdir/plugins/example/example.c" "$T/src/"
(cd "$T/src" && cc $cflags -std=c11 -Wall -Wextra -Werror -shared -fPIC \
    -o myexample.so example.c) 2>"$T/cc.log"
is "the example builds out of tree with pkg-config alone" "$?" 0
ok "the installed header is clean C99 with -pedantic" sh -c \
    "printf '#include <berth/plugin.h>\nint main(void){return 0;}\n' | cc $cflags -std=c99 -pedantic -Wall -Wextra -Werror -x c - -o $T/hdr"

cat >"$T/berth.conf" <<EOF2
[agent]
plugin-dir = $T/src
state-dir = $T/state
shutdown-timeout = 2s

[api]
socket = $T/api.sock

[plugin mine]
file = myexample.so
interval = 100ms
status-socket = $T/mine.sock
EOF2
BERTHD=$berthd
ok "the installed berthd accepts the conf" "$berthd" --check-config --config "$T/berth.conf"
ok "the installed berthd starts with the out-of-tree plugin" start_berthd "$T/berth.conf"
ok "it was loaded from the out-of-tree build" log_has "event=plugin.started plugin=mine name=example .*path=$T/src/myexample.so"
ok "and it runs (ticks on the host's timer)" wait_for 10 status_ge "$T/mine.sock" ticks 1
stop_berthd
is "and stops cleanly" "$BERTHD_STATUS" 0

done_testing
