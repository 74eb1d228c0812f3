#!/bin/bash
# Keeps the documentation from drifting away from the code: every man page
# renders without warnings; berthd(8) documents every long option berthd
# --help prints; berth-plugin(7) documents every callback and field of the
# ABI header, and its worked example compiles and loads; the example
# plugin's README lists every option of its table (with type and default);
# Makefile.example builds and installs a plugin through pkg-config.
. "$top_srcdir/tests/lib/functions.sh"
requires groff
requires cc
requires pkg-config
requires make

MAN="$top_srcdir/man"
HEADER="$top_srcdir/include/berth/plugin.h"
EXAMPLE_DIR="$top_srcdir/plugins/example"

# The roff source with the escapes that stand for plain characters undone,
# so that names and code read as they render.
unroff() {
    sed -e 's/\\-/-/g' -e 's/\\(dq/"/g' -e "s/\\\\(aq/'/g" -e 's/\\&//g' \
        -e 's/\\e/\\/g' "$1"
}

# has DESCRIPTION FILE PATTERN: a line of FILE matches the extended regex.
has() {
    ok "$1" grep -Eq -- "$3" "$2" || diag "  no line of $(basename "$2") matches /$3/"
}

# ---- every page renders cleanly ----

for page in berthd.8 berth.conf.5 berth-plugin.7; do
    ok "$page exists and is not empty" test -s "$MAN/$page"
done
for f in "$MAN"/*.[1-8]; do
    page=$(basename "$f")
    is "$page: groff -ww prints no warning" \
        "$(groff -man -Tutf8 -ww -z "$f" 2>&1)" ""
    if command -v man >/dev/null 2>&1; then
        is "$page: man --warnings prints no warning" \
            "$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)" ""
    fi
done

# ---- berthd(8) documents every long option ----

ok "berthd is built" test -x "$BERTHD"
longopts=$("$BERTHD" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
ok "berthd --help lists long options" test -n "$longopts"
unroff "$MAN/berthd.8" >"$T/berthd.8"
for o in $longopts; do
    has "berthd.8 documents $o" "$T/berthd.8" "^\.BR? .*(^|[^a-z-])$o([^a-z-]|\$)"
done

# ---- berth-plugin(7) documents the ABI header ----

# Function pointers of a struct: lines such as "    int (*init)(...".
callbacks() {
    awk -v s="struct $1 {" '$0 == s {on = 1; next} on && /^};/ {exit} on' "$HEADER" |
        sed -n 's/.*(\*\([a-z_][a-z_0-9]*\))(.*/\1/p'
}
# Plain fields of a struct: lines such as "    size_t config_size;".
fields() {
    awk -v s="struct $1 {" '$0 == s {on = 1; next} on && /^};/ {exit} on' "$HEADER" |
        grep -v '(\*' |
        sed -n 's/^[[:space:]]*[a-z_][a-z_0-9 ]*[ *]\**\([a-z_][a-z_0-9]*\);.*/\1/p'
}

unroff "$MAN/berth-plugin.7" >"$T/berth-plugin.7"
for s in berth_host berth_plugin berth_metrics_sink_ops; do
    names=$(callbacks "$s")
    ok "plugin.h: struct $s has function pointers" test -n "$names"
    for m in $names; do
        # Each is an entry of its own: ".BI name( args )".
        has "berth-plugin.7 documents $s.$m()" "$T/berth-plugin.7" "^\.BI $m\("
    done
done
names=$(fields berth_plugin)
ok "plugin.h: struct berth_plugin has fields" test -n "$names"
for f in $names; do
    has "berth-plugin.7 documents the descriptor's $f" "$T/berth-plugin.7" "^\.BR? (.* )?$f( |\$)"
done
for f in $(fields berth_host); do
    has "berth-plugin.7 mentions the host's $f" "$T/berth-plugin.7" "^\.BR? (.* )?$f( |\$)"
done
consts=$(grep -oE '^[[:space:]]+BERTH_(KIND|OPT)_[A-Z_]+ =' "$HEADER" | tr -d ' =')
ok "plugin.h: kinds and option types found" test -n "$consts"
for c in $consts BERTH_OPT_REQUIRED BERTH_PENDING; do
    has "berth-plugin.7 documents $c" "$T/berth-plugin.7" "$c"
done
has "berth-plugin.7 names the ABI version of the header" "$T/berth-plugin.7" \
    "$(sed -n 's/^#define BERTH_PLUGIN_ABI_MAJOR \([0-9]*\)$/\1/p' "$HEADER")\.$(sed -n 's/^#define BERTH_PLUGIN_ABI_MINOR \([0-9]*\)$/\1/p' "$HEADER") in this version"

# ---- its worked example compiles, and loads ----

mkdir "$T/ex"
sed -n '/^\.\\" example-begin$/,/^\.\\" example-end$/p' "$T/berth-plugin.7" |
    sed '1d;$d' >"$T/ex/plugin.c"
ok "berth-plugin.7 has an example between its markers" test -s "$T/ex/plugin.c"
cc -I"$top_srcdir/include" -std=c11 -Wall -Wextra -Werror -shared -fPIC \
    -o "$T/ex/plugin.so" "$T/ex/plugin.c" 2>"$T/ex/cc.log"
is "the example compiles with -std=c11 -Wall -Wextra -Werror" "$?" 0
[ -s "$T/ex/cc.log" ] && diag "$(cat "$T/ex/cc.log")"
pname=$(sed -n 's/^[[:space:]]*\.name = "\([^"]*\)",$/\1/p' "$T/ex/plugin.c")
ok "the example names itself" test -n "$pname"
write_conf "$T/ex.conf" <<EOF2
[plugin $pname]
file = $T/ex/plugin.so
EOF2
out=$("$BERTHD" --check-config --config "$T/ex.conf" 2>&1)
is "berthd --check-config accepts the example" "$out" "$T/ex.conf: ok"
ok "berthd starts with the example" start_berthd "$T/ex.conf"
ok "and the example started" log_has "event=plugin.started plugin=$pname name=$pname "
stop_berthd
is "and stopped cleanly" "$BERTHD_STATUS" 0

# ---- the example plugin's README lists its options ----

# Rows of the option table: {"name", BERTH_OPT_TYPE, "default" or NULL, ...
rows=$(sed -n 's/^[[:space:]]*{"\([a-z0-9_-]*\)", BERTH_OPT_\([A-Z]*\), \("[^"]*"\|NULL\).*/\1 \2 \3/p' \
    "$EXAMPLE_DIR/example.c")
ok "example.c has an option table" test -n "$rows"
while read -r opt type def; do
    case $type in
    INT) type=integer ;;
    *) type=$(printf '%s' "$type" | tr 'A-Z' 'a-z') ;;
    esac
    [ "$def" = NULL ] && def=none || def="\`$(printf '%s' "$def" | tr -d '"')\`"
    has "README.md documents $opt ($type, default $def)" "$EXAMPLE_DIR/README.md" \
        "^\| \`$opt\` \| $type \| $def \|"
done <<EOF2
$rows
EOF2

# ---- Makefile.example builds and installs through pkg-config ----

# A berth-plugin.pc for the source tree, alone on pkg-config's path.
mkdir "$T/pc" "$T/src"
cat >"$T/pc/berth-plugin.pc" <<EOF2
includedir=$top_srcdir/include
plugindir=$T/plugins

Name: berth-plugin
Description: Berth plugin headers (source tree)
Version: 0
Cflags: -I\${includedir} -fvisibility=hidden
EOF2
cp "$EXAMPLE_DIR/example.c" "$EXAMPLE_DIR/Makefile.example" "$T/src/"
export PKG_CONFIG_PATH="$T/pc" PKG_CONFIG_LIBDIR="$T/pc"
make -s -C "$T/src" -f Makefile.example CFLAGS='-O2 -Wall -Wextra -Werror' \
    >"$T/make.log" 2>&1
is "make -f Makefile.example builds the example" "$?" 0
[ -s "$T/make.log" ] && diag "$(cat "$T/make.log")"
is "the plugin exports only its descriptor" \
    "$(nm -D --defined-only "$T/src/example.so" 2>/dev/null | awk '{print $3}')" berth_plugin
make -s -C "$T/src" -f Makefile.example install >>"$T/make.log" 2>&1
is "make -f Makefile.example install succeeds" "$?" 0
ok "and puts it in pkg-config's plugindir" test -x "$T/plugins/example.so"
make -s -C "$T/src" -f Makefile.example uninstall clean >>"$T/make.log" 2>&1
ok "uninstall and clean remove it again" \
    sh -c "test ! -e '$T/plugins/example.so' && test ! -e '$T/src/example.so'"

done_testing
