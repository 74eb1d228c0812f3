#!/bin/sh
# Generates ./configure from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf --install --force
# Automake ships the TAP driver but only copies it on request.
cp "$(automake --print-libdir)/tap-driver.sh" build-aux/
