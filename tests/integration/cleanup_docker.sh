# cleanup_docker.sh: stopped tasks' containers removed after cleanup-delay on
# a real dockerd (see cleanup_common.sh).
ENGINE=docker
. "$top_srcdir/tests/integration/cleanup_common.sh"
