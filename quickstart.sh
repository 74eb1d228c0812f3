#!/bin/bash
# Berth quick start for a fresh Debian 12 machine, as root: installs the
# build dependencies, builds and installs Berth under /usr/local, starts
# Podman's API service, builds a small demo image locally (busybox from
# Debian's busybox-static: no registry needed), and starts berthd with the
# shipped sample conf running a 3-task web service declared in services.d,
# then waits until the service is steady and shows it.  Safe to run again:
# it stops the berthd it started last time (its tasks are adopted again).
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

say "Starting Podman's API service and building the demo image"
. tests/lib/engines.sh
BERTH_ENGINE_LIFETIME=run start_podman_service
build_busybox_image podman berth-demo/busybox:1

say "Writing $conf (the sample conf, with Podman, an API socket and services.d here)"
mkdir -p "$run/services.d"
sed -e 's|^interval = 10s|interval = 2s|' \
    -e "s|^#status-socket = .*|status-socket = $run/example.sock|" \
    -e "s|^#output = .*|output = $run/metrics.txt|" \
    -e "s|^#lookup = .*|lookup = localhost|" \
    -e "s|^#metrics-interval = .*|metrics-interval = 2s|" \
    -e "s|^#services-dir = .*|services-dir = $run/services.d|" \
    -e "s|^#socket = /run/berth/api.sock|socket = $run/api.sock|" \
    /usr/local/etc/berth/berth.conf >"$conf"
printf '\n[plugin podman]\nsocket = %s\n' "$(engine_sock podman)" >>"$conf"
# The sample service: three web tasks on dynamic host ports, each page
# naming the task's container that answered.
sed -e 's|docker.io/library/busybox:1.36|localhost/berth-demo/busybox:1|' \
    -e 's|"desiredCount": 2|"desiredCount": 3|' \
    /usr/local/etc/berth/services.d/web.json.example >"$run/services.d/web.json"
/usr/local/sbin/berthd --check-config --config "$conf"

say "Starting berthd (log: $run/berthd.log)"
nohup /usr/local/sbin/berthd --foreground --config "$conf" --pidfile "$pidfile" \
    >"$run/berthd.log" 2>&1 &
for _ in $(seq 100); do
    grep -q 'event=agent.started' "$run/berthd.log" && break
    sleep 0.1
done
grep 'event=agent.started' "$run/berthd.log" || { cat "$run/berthd.log"; exit 1; }

export BERTH_SOCKET=$run/api.sock
say "Waiting for the web service to be steady (3 healthy tasks)"
steady=""
for _ in $(seq 180); do
    if /usr/local/bin/berth services 2>/dev/null | grep -Eq '^web +ACTIVE +3 +3 +0 .*COMPLETED'; then
        steady=yes
        break
    fi
    sleep 1
done
/usr/local/bin/berth services
[ -n "$steady" ] || { say "Not steady after 3 minutes; the log says:"; tail -n 20 "$run/berthd.log"; exit 1; }

say "Its tasks, on dynamic host ports"
/usr/local/bin/berth tasks
say "Each answers on its own port (the page names the container that answered)"
for port in $(/usr/local/bin/berth tasks --json |
    python3 -c 'import json,sys; print(" ".join(str(b["hostPort"]) for t in json.load(sys.stdin)["tasks"] for c in t["containers"] for b in c.get("networkBindings", [])))'); do
    printf '  curl http://127.0.0.1:%s/  ->  %s\n' "$port" "$(curl -s "http://127.0.0.1:$port/")"
done

cat <<EOT

Berth is running (pid $(cat "$pidfile")), with the service "web" on Podman.
The built-in proxy and DNS responder are not in yet (see the issues), so for
now each task answers on its own host port.  Try:
  export BERTH_SOCKET=$run/api.sock
  berth services; berth tasks; berth events web
  berth scale web 5                      # more tasks
  # a new revision, rolled out within the service's min/max percents:
  sed -i 's/hostname >/echo v2; hostname >/' $run/services.d/web.json && kill -HUP \$(cat $pidfile)
  berth events web                       # the deployment, step by step
  podman kill \$(podman ps -q --filter label=com.amazonaws.ecs.container-name=httpd | head -1)
  berth tasks                            # the killed task is replaced
  tail -f $run/berthd.log                # one logfmt line per event
  man berth; man berthd; man berth.conf
  kill \$(cat $pidfile)                   # berthd stops; its tasks keep running
EOT
