# private_dockerd.sh: a test's own dockerd (private_dockerd_start in
# engines.sh: own socket, data root, exec root and bridge), for tests that
# restart the engine or need its bridge to themselves.  Sourced after
# tasks_env.sh (ENGINE=docker) with:
#   PRIVATE_BR     the bridge's name (e.g. brd$$)
#   PRIVATE_NET    the first three octets of its /24 (e.g. 10.213.42)
#   PRIVATE_PORTS  berth's [tasks] host-port-range on it
# It starts the dockerd (when it cannot, the test ends: not ok, its plan,
# exit 1), imports the busybox image, and points $T/berth.conf at its
# socket and port range.  Sets PD (its folder), BR, GW (the bridge's
# address), CIDR (GW/24) and SOCK; everything goes at the test's exit.
PD=$T/dockerd
BR=$PRIVATE_BR
GW=$PRIVATE_NET.1
CIDR=$GW/24
cleanup_private() { private_dockerd_cleanup "$PD" "$BR"; }
on_exit cleanup_private
ok "a private dockerd starts (bridge $BR, $CIDR)" private_dockerd_start "$PD" "$BR" "$CIDR" || {
    done_testing
    exit 1
}
ok "the busybox image is imported into it" private_dockerd_image "$PD" berth-test/busybox:1
SOCK=$PD/docker.sock
sed -i "s|^socket = /run/docker.sock\$|socket = $SOCK|" "$T/berth.conf"
sed -i "s/^host-port-range = .*/host-port-range = $PRIVATE_PORTS/" "$T/berth.conf"
ok "berthd's conf names the private socket" grep -q "^socket = $SOCK\$" "$T/berth.conf"
