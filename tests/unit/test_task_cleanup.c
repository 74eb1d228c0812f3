/* test_task_cleanup.c: when a stopped task's containers are removed: not
 * before the delay, at once when it is over (also long over, as after an
 * agent restart), at once when a new task needs a host port they hold,
 * never for a live task or one already cleaned. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/task.h"
#include "agent/task_cleanup.h"
#include "agent/taskdef.h"
#include "tests/lib/tap.h"

#define H (60LL * 60 * 1000)

struct fixture {
    struct taskdef td;
    struct task t;
    struct task_container c[2];
    struct task_binding b[2];
};

/* A task of two containers (the first created), the first publishing
 * host port `port` (0: none) over tcp. */
static void make(struct fixture *f, enum task_status st, int64_t stopped_at,
                 uint16_t port, int net)
{
    memset(f, 0, sizeof *f);
    f->td.network_mode = net;
    f->t.td = &f->td;
    f->t.last_status = st;
    f->t.stopped_at_ms = stopped_at;
    f->t.containers = f->c;
    f->t.n_containers = 2;
    f->c[0].created = true;
    f->b[0].container_port = 80;
    f->b[0].host_port = port;
    f->c[0].bindings = f->b;
    f->c[0].n_bindings = 1;
}

int main(void)
{
    struct fixture a, b;
    int64_t now = 100 * H;

    make(&a, TASK_STOPPED, now - 1000, 8080, TASKDEF_NET_BRIDGE);
    ok(task_cleanup_wait_ms(&a.t, 3 * H, now, false) == 3 * H - 1000,
       "stopped 1 s ago with a 3h delay: waits the rest of the delay");
    ok(task_cleanup_wait_ms(&a.t, 2000, now, false) == 1000,
       "stopped 1 s ago with a 2 s delay: 1 s left");
    ok(task_cleanup_wait_ms(&a.t, 1000, now, false) == 0,
       "the delay just over: due now");
    ok(task_cleanup_wait_ms(&a.t, 3 * H, now + 5 * H, false) == 0,
       "the delay ran out long ago (the agent was down): due now");
    ok(task_cleanup_wait_ms(&a.t, 0, now, false) == 0, "a delay of 0: due at once");
    ok(task_cleanup_wait_ms(&a.t, 3 * H, now, true) == 0,
       "a host port is needed: due at once, delay or not");
    ok(task_cleanup_wait_ms(&a.t, UINT64_C(30) * 24 * H, now, false) > 0,
       "the longest delay conf allows does not overflow");

    a.c[0].created = false;
    ok(task_cleanup_wait_ms(&a.t, 0, now, true) == -1,
       "nothing left on the engine: nothing to clean");
    a.t.sandbox_id = (char *)"pod1";
    ok(task_cleanup_wait_ms(&a.t, 0, now, false) == 0,
       "only the sandbox (Podman's pod) left: still cleaned");
    ok(task_has_leftovers(&a.t), "a sandbox counts as a leftover");
    a.t.sandbox_id = NULL;
    ok(!task_has_leftovers(&a.t), "no container created and no sandbox: no leftovers");

    for (int s = TASK_PROVISIONING; s < TASK_STOPPED; s++) {
        make(&a, s, 0, 8080, TASKDEF_NET_BRIDGE);
        if (task_cleanup_wait_ms(&a.t, 0, now, true) != -1)
            break;
        if (s == TASK_STOPPED - 1)
            ok(1, "a task not yet STOPPED is never cleaned, whatever its state");
    }

    /* Port needs. */
    make(&a, TASK_STOPPED, now, 8080, TASKDEF_NET_BRIDGE);
    make(&b, TASK_PENDING, 0, 8080, TASKDEF_NET_BRIDGE);
    ok(task_cleanup_blocks(&a.t, &b.t), "same host port and protocol: blocks");
    b.b[0].udp = true;
    ok(!task_cleanup_blocks(&a.t, &b.t), "same port over udp: does not block");
    b.b[0].udp = false;
    b.b[0].host_port = 8081;
    ok(!task_cleanup_blocks(&a.t, &b.t), "another port: does not block");
    b.b[0].host_port = 8080;
    b.c[1].bindings = &b.b[1];
    b.c[1].n_bindings = 1;
    b.b[0].host_port = 9000;
    b.b[1].host_port = 8080;
    ok(task_cleanup_blocks(&a.t, &b.t), "the port on the new task's second container: blocks");
    a.c[0].created = false;
    ok(!task_cleanup_blocks(&a.t, &b.t), "the old task already cleaned: does not block");
    a.c[0].created = true;
    a.t.last_status = TASK_STOPPING;
    ok(!task_cleanup_blocks(&a.t, &b.t),
       "the old task still stopping (its ports are still held in the pool): no");
    a.t.last_status = TASK_STOPPED;
    a.td.network_mode = TASKDEF_NET_AWSVPC;
    ok(!task_cleanup_blocks(&a.t, &b.t), "an awsvpc task holds no host port");
    a.td.network_mode = TASKDEF_NET_HOST;
    ok(task_cleanup_blocks(&a.t, &b.t), "a host-mode task does");
    b.td.network_mode = TASKDEF_NET_AWSVPC;
    ok(!task_cleanup_blocks(&a.t, &b.t), "nor does a new awsvpc task need one");
    ok(!task_cleanup_blocks(&a.t, &a.t), "a task never blocks itself");
    return done_testing();
}
