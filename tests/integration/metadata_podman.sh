# metadata_podman.sh: the task metadata endpoint on podman (see metadata_common.sh).
ENGINE=podman
. "$top_srcdir/tests/integration/metadata_common.sh"
