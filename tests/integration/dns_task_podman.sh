# dns_task_podman.sh: [dns] task-resolver on the podman service (see
# dns_task_common.sh).
ENGINE=podman
. "$top_srcdir/tests/integration/dns_task_common.sh"
