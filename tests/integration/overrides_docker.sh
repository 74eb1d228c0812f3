# overrides_docker.sh: RunTask overrides on a real dockerd (see
# overrides_common.sh).
ENGINE=docker
. "$top_srcdir/tests/integration/overrides_common.sh"
