# overrides_podman.sh: RunTask overrides on a real podman service, a pod per
# task (see overrides_common.sh).
ENGINE=podman
. "$top_srcdir/tests/integration/overrides_common.sh"
