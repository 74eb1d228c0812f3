# dns_task_docker.sh: [dns] task-resolver on a private dockerd (see
# dns_task_common.sh).
ENGINE=docker
. "$top_srcdir/tests/integration/dns_task_common.sh"
