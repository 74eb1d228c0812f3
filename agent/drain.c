/* drain.c: drainers and the set of tasks being drained (see drain.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/drain.h"
#include "agent/json_walk.h"
#include "agent/services.h"

int drainers_add(struct drainers *d, const struct drainer_ops *ops, void *arg)
{
    struct drainer *g = realloc(d->v, (d->n + 1) * sizeof *g);
    if (!g)
        return -1;
    d->v = g;
    d->v[d->n++] = (struct drainer){ops, arg};
    return 0;
}

uint64_t drainers_begin(const struct drainers *d, const struct service *s,
                        const struct task *t)
{
    uint64_t wait = 0;
    for (size_t i = 0; i < d->n; i++) {
        uint64_t w = d->v[i].ops->begin(d->v[i].arg, s, t);
        if (w > wait)
            wait = w;
    }
    return wait;
}

void drainers_gone(const struct drainers *d, const struct service *s,
                   const struct task *t)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].ops->gone)
            d->v[i].ops->gone(d->v[i].arg, s, t);
}

void drainers_free(struct drainers *d)
{
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

void drain_set_add(struct drain_set *set, const char *arn, const char *reason,
                   int64_t deadline_ms)
{
    struct drain_entry *g = realloc(set->v, (set->n + 1) * sizeof *g);
    if (!g)
        abort();
    set->v = g;
    set->v[set->n++] = (struct drain_entry){
        .arn = jw_strdup(arn), .reason = jw_strdup(reason), .deadline_ms = deadline_ms};
}

bool drain_set_has(const struct drain_set *set, const char *arn)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i].arn, arn) == 0)
            return true;
    return false;
}

void drain_set_due(struct drain_set *set, int64_t now_ms,
                   bool (*still)(void *arg, const char *arn),
                   void (*stop)(void *arg, const char *arn, const char *reason),
                   void *arg, int64_t *next_ms)
{
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++) {
        struct drain_entry *e = &set->v[i];
        bool live = still(arg, e->arn);
        if (live && e->deadline_ms > now_ms) {
            if (*next_ms == 0 || e->deadline_ms < *next_ms)
                *next_ms = e->deadline_ms;
            set->v[k++] = *e;
            continue;
        }
        if (live)
            stop(arg, e->arn, e->reason);
        free(e->arn);
        free(e->reason);
    }
    set->n = k;
}

void drain_set_free(struct drain_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->v[i].arn);
        free(set->v[i].reason);
    }
    free(set->v);
    set->v = NULL;
    set->n = 0;
}
