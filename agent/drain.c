/* drain.c: the registered drainers (see drain.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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

int drainers_check_target_groups(const struct drainers *d, const cJSON *lbs, char *err,
                                 size_t errlen)
{
    const cJSON *e;
    int i = 0;
    char why[400];

    cJSON_ArrayForEach(e, lbs) {
        const cJSON *tg = cJSON_GetObjectItemCaseSensitive(e, "targetGroupArn");
        for (size_t k = 0; cJSON_IsString(tg) && k < d->n; k++) {
            const struct drainer_ops *ops = d->v[k].ops;
            if (ops->check_target_group &&
                ops->check_target_group(d->v[k].arg, tg->valuestring, why, sizeof why) < 0) {
                snprintf(err, errlen, "loadBalancers[%d].targetGroupArn: %s", i, why);
                return -1;
            }
        }
        i++;
    }
    return 0;
}
