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
