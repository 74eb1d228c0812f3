/* drain.h: the draining hook's bookkeeping, apart from the scheduler so it
 * can be tested alone: the registered drainers (services.h's drainer_ops)
 * and the set of tasks being drained, each with the time it may be
 * stopped.
 *
 * Contract
 *   - drainers_begin() tells every drainer and returns the longest wait
 *     asked (0 with no drainer): the task is stopped after it.
 *   - A drain set holds task ARNs with a deadline; drain_set_due() hands
 *     each entry whose deadline passed to stop() (unless still() says the
 *     task is no longer to be stopped by us) and drops it; it leaves the
 *     earliest deadline still pending in *next_ms (unchanged if none).
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
void drainers_free(struct drainers *d);

struct drain_entry {
    char *arn, *reason;
    int64_t deadline_ms;
};

struct drain_set {
    struct drain_entry *v;
    size_t n;
};

void drain_set_add(struct drain_set *set, const char *arn, const char *reason,
                   int64_t deadline_ms);
bool drain_set_has(const struct drain_set *set, const char *arn);
void drain_set_due(struct drain_set *set, int64_t now_ms,
                   bool (*still)(void *arg, const char *arn),
                   void (*stop)(void *arg, const char *arn, const char *reason),
                   void *arg, int64_t *next_ms);
void drain_set_free(struct drain_set *set);

#endif
