# cleanup_podman.sh: stopped tasks' containers and pods removed after
# cleanup-delay on a real podman service (see cleanup_common.sh).
ENGINE=podman
. "$top_srcdir/tests/integration/cleanup_common.sh"
