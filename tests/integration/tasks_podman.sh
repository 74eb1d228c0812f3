# tasks_podman.sh: tasks on a real podman service, a pod per task (see
# tasks_common.sh).
ENGINE=podman
. "$top_srcdir/tests/integration/tasks_common.sh"
