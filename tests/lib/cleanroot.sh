# cleanroot.sh: a clean Debian system for the package tests (sourced after
# functions.sh).
#
#   cleanroot_build DIR LOG [PKG,...]  a minimal root (mmdebstrap minbase,
#                        this host's Debian release and mirror, plus PKGs)
#                        at DIR/root, on a tmpfs mounted at DIR; 0 or 1
#   cleanroot_start ROOT LOG [--boot] [NSPAWN-OPTION...]
#                        runs it as a systemd-nspawn container: with --boot
#                        systemd is its PID 1, without a stub init holds it
#                        open; sets CLEANROOT_NSPAWN (nspawn's pid) and
#                        CLEANROOT_LEADER (the container's PID 1, on the host)
#   cleanroot_exec CMD...  runs CMD inside that container (all its
#                        namespaces, a clean environment, root)
#   cleanroot_hostpid PID  the host's pid of the container's PID
#   cleanroot_stop         powers the container off (SIGKILL after 60 s)
#   cleanroot_destroy DIR  stops it and unmounts DIR
#
# Why these tools: mmdebstrap builds a minbase root in under two minutes on
# a tmpfs (dpkg's fsyncs on this host's disk made it take four), and
# systemd-nspawn runs a real systemd as PID 1 on this host's hybrid cgroup
# layout without a systemd on the host (--register=no --keep-unit: there is
# no machined or system bus to register with).  Commands go in with nsenter
# because nspawn locks the root against a second instance.

# cleanroot_mirror: the host's Debian mirror for its own release, as apt
# knows it (never a hard-coded host).
cleanroot_mirror() {
    _codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    apt-get indextargets --format '$(REPO_URI) $(CODENAME) $(ORIGIN)' 'Identifier: Packages' |
        awk -v c="$_codename" '$2 == c && $3 == "Debian" { print $1; exit }'
}

cleanroot_build() { # DIR LOG [PKG,...]
    _dir=$1 _log=$2
    _codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    _mirror=$(cleanroot_mirror)
    if [ -z "$_mirror" ]; then
        echo "cleanroot.sh: apt knows no Debian mirror for $_codename" >"$_log"
        return 1
    fi
    mkdir -p "$_dir" && mount -t tmpfs -o size=4g,mode=0755 cleanroot "$_dir" || return 1
    # force-unsafe-io: the root is thrown away, so dpkg need not fsync.
    mmdebstrap --variant=minbase --mode=root --dpkgopt=force-unsafe-io \
        ${3:+--include="$3"} "$_codename" "$_dir/root" "deb $_mirror $_codename main" \
        >"$_log" 2>&1
}

cleanroot_start() { # ROOT LOG [--boot] [NSPAWN-OPTION...]
    _root=$1 _log=$2
    shift 2
    _boot=""
    if [ "${1:-}" = --boot ]; then _boot=1; shift; fi
    if [ -n "$_boot" ]; then
        setsid systemd-nspawn --register=no --keep-unit --console=pipe -D "$_root" -b "$@" \
            >"$_log" 2>&1 </dev/null &
    else
        setsid systemd-nspawn --register=no --keep-unit --console=pipe -D "$_root" "$@" \
            --as-pid2 /bin/sleep infinity >"$_log" 2>&1 </dev/null &
    fi
    CLEANROOT_NSPAWN=$!
    CLEANROOT_LEADER=""
    for _ in $(seq 300); do
        CLEANROOT_LEADER=$(pgrep -P "$CLEANROOT_NSPAWN" | head -1)
        # The leader is in its own pid namespace once nspawn has set it up.
        if [ -n "$CLEANROOT_LEADER" ] &&
            [ "$(readlink "/proc/$CLEANROOT_LEADER/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] &&
            cleanroot_exec true 2>/dev/null; then
            return 0
        fi
        kill -0 "$CLEANROOT_NSPAWN" 2>/dev/null || break
        sleep 0.1
    done
    echo "cleanroot.sh: systemd-nspawn did not start a container on $_root; see $_log" >&2
    return 1
}

cleanroot_exec() {
    nsenter -t "$CLEANROOT_LEADER" -m -u -i -n -p -C \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}

cleanroot_hostpid() { # PID inside the container
    _ns=$(readlink "/proc/$CLEANROOT_LEADER/ns/pid")
    # Builtins only: a fork per process is slow on a loaded machine.
    for _s in /proc/[0-9]*/status; do
        while read -r _k _host _inner _more; do
            [ "$_k" = NSpid: ] || continue
            if [ "$_inner" = "$1" ] && [ -z "$_more" ]; then
                _p=$_host
                [ "$(readlink "/proc/$_p/ns/pid" 2>/dev/null)" = "$_ns" ] &&
                    { echo "$_p"; return 0; }
            fi
            break
        done <"$_s" 2>/dev/null
    done
    return 1
}

cleanroot_stop() {
    [ -n "${CLEANROOT_NSPAWN:-}" ] || return 0
    if kill -0 "$CLEANROOT_NSPAWN" 2>/dev/null; then
        # A booted systemd powers off; the stub init ends with nspawn's TERM.
        cleanroot_exec systemctl poweroff >/dev/null 2>&1 || kill -TERM "$CLEANROOT_NSPAWN"
        for _ in $(seq 600); do kill -0 "$CLEANROOT_NSPAWN" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$CLEANROOT_NSPAWN" 2>/dev/null
    fi
    wait "$CLEANROOT_NSPAWN" 2>/dev/null
    CLEANROOT_NSPAWN=""
}

cleanroot_destroy() { # DIR
    cleanroot_stop
    mountpoint -q "$1" || return 0
    umount "$1" 2>/dev/null || umount -l "$1"
}
