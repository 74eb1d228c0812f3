/* ratelimit.c: token buckets by key (see ratelimit.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/ratelimit.h"

struct bucket {
    char *key;
    double tokens, at; /* tokens left at time at */
};

struct ratelimit {
    double rate, burst;
    size_t max_keys;
    struct bucket *v;
    size_t n;
};

struct ratelimit *ratelimit_new(double rate, double burst, size_t max_keys)
{
    struct ratelimit *rl = calloc(1, sizeof *rl);

    if (!rl)
        return NULL;
    rl->rate = rate;
    rl->burst = burst;
    rl->max_keys = max_keys ? max_keys : 1;
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < rl->n; i++)
        free(rl->v[i].key);
    free(rl->v);
    free(rl);
}

size_t ratelimit_keys(const struct ratelimit *rl)
{
    return rl->n;
}

static double level(const struct ratelimit *rl, const struct bucket *b, double now)
{
    double t = b->tokens + (now - b->at) * rl->rate;
    return t > rl->burst ? rl->burst : t;
}

/* A bucket full for a second longer than a refill takes holds nothing
 * worth keeping: a new one would start the same. */
static bool idle(const struct ratelimit *rl, const struct bucket *b, double now)
{
    return now - b->at > (rl->burst - b->tokens) / rl->rate + 1.0;
}

static void drop(struct ratelimit *rl, size_t i)
{
    free(rl->v[i].key);
    rl->v[i] = rl->v[--rl->n];
}

bool ratelimit_take(struct ratelimit *rl, const char *key, double now)
{
    struct bucket *b = NULL;

    for (size_t i = 0; i < rl->n;) {
        if (strcmp(rl->v[i].key, key) == 0) {
            b = &rl->v[i];
            i++;
        } else if (idle(rl, &rl->v[i], now)) {
            drop(rl, i); /* swaps in the last one: look at i again */
            if (b == &rl->v[rl->n])
                b = &rl->v[i];
        } else {
            i++;
        }
    }
    if (!b) {
        if (rl->n >= rl->max_keys)
            return false;
        struct bucket *grown = realloc(rl->v, (rl->n + 1) * sizeof *grown);
        if (!grown)
            return false;
        rl->v = grown;
        b = &rl->v[rl->n];
        if (!(b->key = strdup(key)))
            return false;
        rl->n++;
        b->tokens = rl->burst;
        b->at = now;
    }
    b->tokens = level(rl, b, now);
    b->at = now;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}
