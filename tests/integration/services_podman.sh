# services_podman.sh: services on a real podman service (see services_common.sh).
ENGINE=podman
. "$top_srcdir/tests/integration/services_common.sh"
