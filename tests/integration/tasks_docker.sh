# tasks_docker.sh: tasks on a real dockerd (see tasks_common.sh).
ENGINE=docker
. "$top_srcdir/tests/integration/tasks_common.sh"
