# taskfields_docker.sh: task-definition fields on a real dockerd (see
# taskfields_common.sh).
ENGINE=docker
. "$top_srcdir/tests/integration/taskfields_common.sh"
