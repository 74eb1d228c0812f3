/* task_cleanup.c: when stopped tasks' containers go (see task_cleanup.h). */
#include "config.h"

#include "agent/task.h"
#include "agent/task_cleanup.h"
#include "agent/taskdef.h"

bool task_has_leftovers(const struct task *t)
{
    if (t->sandbox_id)
        return true;
    for (size_t i = 0; i < t->n_containers; i++)
        if (t->containers[i].created)
            return true;
    return false;
}

int64_t task_cleanup_wait_ms(const struct task *t, uint64_t delay_ms, int64_t now_ms,
                             bool needed)
{
    int64_t due;

    if (t->last_status != TASK_STOPPED || !task_has_leftovers(t))
        return -1;
    if (needed)
        return 0;
    /* A delay beyond any clock (conf caps it at 30 days) never overflows. */
    due = t->stopped_at_ms + (int64_t)delay_ms;
    return now_ms >= due ? 0 : due - now_ms;
}

/* Host ports are shared by all but awsvpc tasks (each has its address). */
static bool host_ports(const struct task *t)
{
    return t->td && t->td->network_mode != TASKDEF_NET_AWSVPC &&
           t->td->network_mode != TASKDEF_NET_NONE;
}

bool task_cleanup_blocks(const struct task *old, const struct task *t)
{
    if (old == t || old->last_status != TASK_STOPPED || !task_has_leftovers(old) ||
        !host_ports(old) || !host_ports(t))
        return false;
    for (size_t i = 0; i < old->n_containers; i++)
        for (size_t j = 0; j < old->containers[i].n_bindings; j++) {
            const struct task_binding *a = &old->containers[i].bindings[j];
            if (!a->host_port)
                continue;
            for (size_t k = 0; k < t->n_containers; k++)
                for (size_t l = 0; l < t->containers[k].n_bindings; l++) {
                    const struct task_binding *b = &t->containers[k].bindings[l];
                    if (b->host_port == a->host_port && b->udp == a->udp)
                        return true;
                }
        }
    return false;
}
