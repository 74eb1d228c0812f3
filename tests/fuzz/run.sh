#!/bin/sh
# run.sh [SECONDS]: builds the DNS query fuzz target with clang's libFuzzer
# (ASan + UBSan) and runs it for a bounded time (default 60 s) from the
# seed corpus in tests/fuzz/corpus; any crash fails the run (exit 1).
# Needs clang (Debian package clang).  Run from anywhere:
#   tests/fuzz/run.sh 300
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-60}
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
mkdir -p "$out/corpus"
cp "$here"/corpus/* "$out/corpus/" 2>/dev/null || true
"$out/fuzz_dns_query" -max_total_time="$secs" -max_len=600 -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/corpus"
echo "fuzz: no crash in ${secs}s (work in $out)"
