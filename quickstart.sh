#!/bin/bash
# Berth quick start for a fresh Debian 12 machine, as root: installs the
# build dependencies, builds and installs Berth under /usr/local, and starts
# berthd with the shipped sample conf plus the example plugin's status
# socket.  Safe to run again: it stops the berthd it started last time.
set -eu
cd "$(dirname "$0")"
say() { printf '\n>>> %s\n' "$*"; }
[ "$(id -u)" -eq 0 ] || { echo "run me as root (apt-get and make install need it)"; exit 1; }

say "Installing build dependencies (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $(grep -v '^#' .ci/packages) >/dev/null

say "Building Berth"
./autogen.sh >/dev/null 2>&1
mkdir -p _build/quickstart
(cd _build/quickstart && ../../configure -q --prefix=/usr/local && make -s -j"$(nproc)") \
    >_build/quickstart.log 2>&1 || { tail -30 _build/quickstart.log; exit 1; }

say "Installing into /usr/local"
make -s -C _build/quickstart install >/dev/null

run=/run/berth-quickstart
conf=$run/berth.conf
pidfile=$run/berthd.pid
mkdir -p "$run"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "Stopping the berthd started by the last quick start"
    kill -TERM "$(cat "$pidfile")"
    for _ in $(seq 100); do [ -f "$pidfile" ] || break; sleep 0.1; done
fi

say "Writing $conf (the sample conf, with a status socket and a 2s tick)"
sed -e 's|^interval = 10s|interval = 2s|' \
    -e "s|^#status-socket = .*|status-socket = $run/example.sock|" \
    -e "s|^#output = .*|output = $run/metrics.txt|" \
    -e "s|^#lookup = .*|lookup = localhost|" \
    -e "s|^#metrics-interval = .*|metrics-interval = 2s|" \
    /usr/local/etc/berth/berth.conf >"$conf"
/usr/local/sbin/berthd --check-config --config "$conf"

say "Starting berthd (log: $run/berthd.log)"
nohup /usr/local/sbin/berthd --foreground --config "$conf" --pidfile "$pidfile" \
    >"$run/berthd.log" 2>&1 &
for _ in $(seq 100); do
    grep -q 'event=agent.started' "$run/berthd.log" && break
    sleep 0.1
done
grep 'event=agent.started' "$run/berthd.log" || { cat "$run/berthd.log"; exit 1; }
sleep 4.5

say "It runs: the example plugin's status, over its unix socket"
python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect('$run/example.sock'); print(s.recv(512).decode().strip())"
say "The last log lines"
tail -n 5 "$run/berthd.log"
say "Metrics the example sink received"
tail -n 6 "$run/metrics.txt"

cat <<EOT

Berth is running (pid $(cat "$pidfile")).  Try:
  # follow the log: one logfmt line per event
  tail -f $run/berthd.log
  # edit the conf, check it, then reload it (a bad one is refused)
  berthd --check-config -c $conf && kill -HUP \$(cat $pidfile)
  # read the manuals
  man berthd; man berth.conf; man berth-plugin
  # stop in order
  kill \$(cat $pidfile)
EOT
