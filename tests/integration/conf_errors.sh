#!/bin/bash
# Malformed confs and plugins: each gets one clear line naming where, through
# --check-config and at start, and berthd refuses to start without crashing.
. "$top_srcdir/tests/lib/functions.sh"

# check NAME PATTERN: --check-config on $T/NAME.conf fails with PATTERN, and
# so does a start, with exit 1 (not a signal) and nothing started.
check() {
    name=$1 pattern=$2
    out=$("$BERTHD" --check-config --config "$T/$name.conf" 2>&1)
    st=$?
    is "$name: --check-config exits 1" "$st" 1
    like "$name: --check-config names the problem" "$out" "$pattern"
    out=$("$BERTHD" --foreground --config "$T/$name.conf" 2>&1)
    st=$?
    is "$name: berthd refuses to start (exit 1)" "$st" 1
    like "$name: and says why" "$out" "$pattern"
    unlike "$name: nothing was started" "$out" 'event=agent.started'
}

printf '[agent]\ncluster = a\nshutdown-timeout = soon\n' >"$T/value.conf"
check value "^berthd: $T/value.conf:3: \[agent\] shutdown-timeout: expected a duration.*got \"soon\""

printf '[agent\ncluster = a\n' >"$T/bracket.conf"
check bracket "^berthd: $T/bracket.conf:1: .*missing '\]'"

printf '[agent]\ncluster = a\n[agent]\nregion = b\n' >"$T/dupsection.conf"
check dupsection "^berthd: $T/dupsection.conf:3: .*duplicate section \[agent\].*line 1"

printf '[agent]\nclustre = a\n' >"$T/unknownkey.conf"
check unknownkey "^berthd: $T/unknownkey.conf:2: \[agent\] clustre: unknown key"

printf '[agents]\ncluster = a\n' >"$T/unknownsection.conf"
check unknownsection "^berthd: $T/unknownsection.conf:1: unknown section \[agents\]"

check missing "^berthd: .*$T/missing.conf.*No such file or directory"

mkdir "$T/dir.conf"
check dir "$T/dir.conf"

# Several errors in one file are all reported, one line each.
printf '[agent]\nshutdown-timeout = x\nmetrics-interval = y\nbogus = 1\n' >"$T/many.conf"
out=$("$BERTHD" --check-config --config "$T/many.conf" 2>&1)
is "three errors: three lines and a count" "$(printf '%s\n' "$out" | wc -l)" 4
like "and the count" "$out" "$T/many.conf: 3 errors"

# Plugins: not ELF, no descriptor, wrong ABI, crash in init, init fails,
# bad option.  Each named by its section's line.
printf 'not a plugin\n' >"$T/text.so"
plugin_conf() { # NAME FILE [KEY=VALUE]
    write_conf "$T/$1.conf" <<EOF2
[plugin $1]
file = $2
${3:-}
EOF2
}
plugin_conf notelf "$T/text.so"
line=$(grep -n '^\[plugin' "$T/notelf.conf" | cut -d: -f1)
check notelf "$T/notelf.conf:$line: \[plugin notelf\] cannot load $T/text.so: not an ELF shared object"
plugin_conf nodesc "$TEST_PLUGINS/no_descriptor.so"
check nodesc "\[plugin nodesc\] cannot load .*no_descriptor.so: no descriptor"
plugin_conf major "$TEST_PLUGINS/other_major.so"
check major "\[plugin major\] cannot load .*: plugin ABI 2.0 is not supported: berthd speaks ABI 1.4"
plugin_conf minor "$TEST_PLUGINS/new_minor.so"
check minor "\[plugin minor\] cannot load .*: plugin needs ABI 1.5 but berthd has 1.4"
plugin_conf absent "$T/absent.so"
check absent "\[plugin absent\] cannot load $T/absent.so: No such file or directory"
plugin_conf badopt example.so "interval = often"
check badopt "$T/badopt.conf:$((line + 2)): \[plugin badopt\] interval: expected a duration"
plugin_conf unknownopt example.so "colour = blue"
check unknownopt "\[plugin unknownopt\] colour: unknown key; valid keys: interval, probe-url"

# init runs only at start (--check-config loads without initialising).
for p in init_fails init_crashes; do
    plugin_conf "$p" "$TEST_PLUGINS/$p.so"
    out=$("$BERTHD" --check-config --config "$T/$p.conf" 2>&1)
    is "$p: --check-config passes (init is not run)" "$?" 0
    out=$("$BERTHD" --foreground --config "$T/$p.conf" 2>&1)
    is "$p: berthd refuses to start (exit 1, no crash)" "$?" 1
    if [ "$p" = init_fails ]; then
        like "$p: shows the plugin's own message with its location" "$out" \
            "$T/$p.conf:$line: \[plugin $p\] init failed: cannot reach the frobnicator at /dev/frob"
    else
        like "$p: names the crash, its stage and location" "$out" \
            "$T/$p.conf:$line: \[plugin $p\] crashed in init \(signal 11, Segmentation fault\)"
    fi
done

done_testing
