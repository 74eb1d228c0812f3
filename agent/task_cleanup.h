/* task_cleanup.h: when a stopped task's containers are removed (ECS's
 * ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION).
 *
 * A stopped task keeps its containers (and on Podman its pod, whose infra
 * container keeps the published ports) for the cleanup delay, so their
 * exit codes and logs can be read; then they are removed.  They are
 * removed at once when a new task needs one of their host ports.
 *
 * Contract
 *   - Pure functions of the task records and the time given: no engine,
 *     no clock, so the decision is unit-tested alone.
 *   - task_cleanup_wait_ms: -1 when there is nothing to clean (the task is
 *     not STOPPED, or nothing of it is left on the engine); 0 when the
 *     cleanup is due now (delay over, including while the agent was down,
 *     or `needed`); otherwise the milliseconds left.
 *   - task_cleanup_blocks: the stopped task `old` still has something on
 *     the engine that holds a host port (same port and protocol) the task
 *     `t` is to publish.  awsvpc tasks hold no host ports. */
#ifndef BERTH_TASK_CLEANUP_H
#define BERTH_TASK_CLEANUP_H

#include <stdbool.h>
#include <stdint.h>

struct task;

/* Something of t exists on the engine (a container or the sandbox). */
bool task_has_leftovers(const struct task *t);
int64_t task_cleanup_wait_ms(const struct task *t, uint64_t delay_ms, int64_t now_ms,
                             bool needed);
bool task_cleanup_blocks(const struct task *old, const struct task *t);

#endif
