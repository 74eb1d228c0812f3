#!/bin/sh
# run.sh [SECONDS [RUNS]]: builds the DNS query fuzz target with clang's
# libFuzzer (ASan + UBSan) and runs it from the seed corpus in
# tests/fuzz/corpus for at most SECONDS (default 60) and at most RUNS inputs
# (default: no cap); any crash fails the run (exit 1) and prints each crash
# input in base64, so that a CI log is enough to replay it:
#   base64 -d >crash <<'X' ... X; tests/fuzz/run.sh's binary ./fuzz_dns_query crash
# No clang: exit 2 (CI installs it: a missing fuzzer is a failure there).
# Run from anywhere:  tests/fuzz/run.sh 300
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-60}
runs=${2:--1}
out=${FUZZ_OUT:-$(mktemp -d /tmp/berth-fuzz.XXXXXX)}
command -v clang >/dev/null || { echo "clang not found: apt-get install clang" >&2; exit 2; }
# config.h from a configured build, or a stand-in: these files need none of it.
mkdir -p "$out"
[ -f "$out/config.h" ] || : >"$out/config.h"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$out" -I"$top" -I"$top/include" -D_GNU_SOURCE \
    "$here/fuzz_dns_query.c" "$top/dns/wire.c" "$top/dns/zone.c" "$top/dns/query.c" \
    "$top/dns/dns_conf.c" "$top/agent/registry.c" "$top/agent/options.c" \
    "$top/agent/value.c" -lpthread -o "$out/fuzz_dns_query"
# The committed seeds stay as they are: what the run finds goes to a copy.
rm -rf "$out/corpus" && mkdir -p "$out/corpus"
cp "$here"/corpus/* "$out/corpus/" 2>/dev/null || true
rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*
if "$out/fuzz_dns_query" -max_total_time="$secs" -runs="$runs" -max_len=600 \
        -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus"; then
    echo "fuzz: no crash (at most ${secs}s, runs cap $runs; work in $out)"
    exit 0
fi
for f in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*; do
    [ -f "$f" ] || continue
    echo "fuzz: failing input $(basename "$f") ($(wc -c <"$f") bytes), base64:"
    base64 "$f"
done
echo "fuzz: FAILED (work in $out)"
exit 1
