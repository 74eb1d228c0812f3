#!/bin/bash
# Berth quick start for a fresh Debian 12 machine, as root: installs the
# build dependencies, builds and installs Berth under /usr/local, starts
# Podman's API service, builds a small demo image locally (busybox from
# Debian's busybox-static: no registry needed), and starts berthd with the
# shipped sample conf running a 3-task web service declared in services.d,
# behind the built-in proxy (127.0.0.1:8080) and in the DNS responder
# (web.berth.local on 127.0.0.1:8053), then waits until the service is
# steady and shows it through both.  Safe to run again:
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
    -e '/^\[dns\]$/d' \
    /usr/local/etc/berth/berth.conf >"$conf"
printf '\n[plugin podman]\nsocket = %s\n' "$(engine_sock podman)" >>"$conf"
# The proxy on 127.0.0.1:8080 in front of the service's tasks (checked over
# http every 5 s), and the DNS responder on 127.0.0.1:8053 naming them.
cat >>"$conf" <<'EOT'

[listener web]
listen = 127.0.0.1:8080
default-target-group = web

[target-group web]
health-check = http
health-check-interval = 5s
health-check-timeout = 2s
healthy-threshold = 2
deregistration-delay = 5s

[dns]
enabled = yes
listen = 127.0.0.1:8053
namespaces = berth.local
EOT
# The sample service: three web tasks on dynamic host ports, each page
# naming the task's container that answered, in the target group "web" and
# in DNS as web.berth.local.
sed -e 's|docker.io/library/busybox:1.36|localhost/berth-demo/busybox:1|' \
    -e 's|"desiredCount": 2|"desiredCount": 3|' \
    /usr/local/etc/berth/services.d/web.json.example |
    python3 -c '
import json, sys
d = json.load(sys.stdin)
d["service"]["loadBalancers"] = [
    {"targetGroupArn": "web", "containerName": "httpd", "containerPort": 8080}]
d["service"]["serviceRegistries"] = [
    {"registryArn": "arn:aws:servicediscovery:local:000000000000:service/berth.local/web",
     "containerName": "httpd", "containerPort": 8080}]
json.dump(d, sys.stdout, indent=2)' >"$run/services.d/web.json"
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
say "Waiting for the proxy to see the 3 tasks healthy (http checks every 5 s)"
seen=""
for _ in $(seq 60); do
    seen=$(for _ in 1 2 3 4 5 6; do curl -s --max-time 2 http://127.0.0.1:8080/; done | sort -u | wc -l)
    [ "$seen" -ge 3 ] && break
    sleep 1
done
say "Through the proxy on 127.0.0.1:8080 (each page names the task's container)"
for _ in 1 2 3 4 5 6; do
    printf '  curl http://127.0.0.1:8080/  ->  %s\n' "$(curl -s --max-time 2 http://127.0.0.1:8080/)"
done
[ "$seen" -ge 3 ] || say "(fewer than 3 tasks answered through the proxy yet: see berth events web)"
say "In DNS on 127.0.0.1:8053: web.berth.local (A and SRV with each task's host port)"
dig +short @127.0.0.1 -p 8053 web.berth.local A | sed 's/^/  A    /'
dig +short @127.0.0.1 -p 8053 web.berth.local SRV | sed 's/^/  SRV  /'

cat <<EOT

Berth is running (pid $(cat "$pidfile")), with the service "web" on Podman,
behind its proxy on 127.0.0.1:8080 and named web.berth.local by its DNS
responder on 127.0.0.1:8053.  Try:
  curl http://127.0.0.1:8080/             # round robin over the healthy tasks
  dig @127.0.0.1 -p 8053 web.berth.local SRV
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
