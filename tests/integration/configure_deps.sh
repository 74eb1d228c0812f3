#!/bin/bash
# configure stops on a missing dependency with the Debian package to install.
# It runs on a copy of the configure script (the source tree may be
# configured in place), with pkg-config pointed at an empty folder or llhttp
# pointed at a folder without its sources.
. "$top_srcdir/tests/lib/functions.sh"
requires pkg-config

src="$T/src"
mkdir -p "$src/agent" "$T/empty"
cp --no-preserve=mode "$top_srcdir/configure" "$src/" && chmod +x "$src/configure"
cp -r --no-preserve=mode "$top_srcdir/build-aux" "$src/" && chmod +x "$src"/build-aux/*
touch "$src/agent/main.c"

run_configure() { # DIR [ARGS...]: output in $T/out
    d=$1
    shift
    mkdir -p "$T/$d"
    (cd "$T/$d" && "$src/configure" "$@") >"$T/out" 2>&1
}

PKG_CONFIG_LIBDIR="$T/empty" PKG_CONFIG_PATH= run_configure nopc
is "without the pkg-config modules configure fails" "$?" 1
like "naming the package for c-ares" "$(cat "$T/out")" \
    'libcares >= 1.16 not found: install the Debian package libc-ares-dev \(apt-get install libc-ares-dev\)'

run_configure nollhttp --with-llhttp="$T/empty"
is "without llhttp's sources configure fails" "$?" 1
like "naming node-llhttp" "$(cat "$T/out")" \
    "$T/empty/api.c not found: install the Debian package node-llhttp"

run_configure noheader --with-llhttp-include="$T/empty"
is "without llhttp.h configure fails" "$?" 1
like "naming node-llhttp" "$(cat "$T/out")" \
    "$T/empty/llhttp.h not found: install the Debian package node-llhttp"

done_testing
