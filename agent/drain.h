/* drain.h: the registered drainers (services.h's drainer_ops), apart from
 * the scheduler so they can be tested alone.  The wait itself is kept by
 * the task manager (tasks_stop_after: the task stays DEACTIVATING).
 *
 * Contract
 *   - drainers_begin() tells every drainer and returns the longest wait
 *     asked (0 with no drainer): the task is stopped after it.
 *   - drainers_gone() tells those that have gone() that the task left.
 *   - drainers_check_target_groups() asks those that have
 *     check_target_group() about each loadBalancers entry.
 * Control loop only. */
#ifndef BERTH_DRAIN_H
#define BERTH_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct drainer_ops;
struct service;
struct task;

struct drainer {
    const struct drainer_ops *ops;
    void *arg;
};

struct drainers {
    struct drainer *v;
    size_t n;
};

int drainers_add(struct drainers *d, const struct drainer_ops *ops, void *arg);
uint64_t drainers_begin(const struct drainers *d, const struct service *s,
                        const struct task *t);
void drainers_gone(const struct drainers *d, const struct service *s,
                   const struct task *t);
/* lbs: a service input's loadBalancers array (NULL: none).  0, or -1 with
 * err naming the entry ("loadBalancers[1].targetGroupArn: ..."). */
struct cJSON;
int drainers_check_target_groups(const struct drainers *d, const struct cJSON *lbs,
                                 char *err, size_t errlen);
void drainers_free(struct drainers *d);

#endif
