# metadata_docker.sh: the task metadata endpoint on dockerd (see metadata_common.sh).
ENGINE=docker
. "$top_srcdir/tests/integration/metadata_common.sh"
