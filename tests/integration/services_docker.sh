# services_docker.sh: services on a real dockerd (see services_common.sh).
ENGINE=docker
. "$top_srcdir/tests/integration/services_common.sh"
