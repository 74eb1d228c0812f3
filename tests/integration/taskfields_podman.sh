# taskfields_podman.sh: task-definition fields on a real podman service, a
# pod per task (see taskfields_common.sh).
ENGINE=podman
. "$top_srcdir/tests/integration/taskfields_common.sh"
