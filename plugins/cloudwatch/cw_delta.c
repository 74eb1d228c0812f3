/* cw_delta.c: each series' values at the previous export; see cw.h.
 * A chained hash table keyed by the series key; a sweep after each export
 * forgets series that were not seen, so the table follows task churn. */
#include <stdlib.h>
#include <string.h>

#include "cw.h"

struct entry {
    struct entry *next;
    char *key;
    uint64_t hash;
    int seen;
    size_t n;
    double v[]; /* n values */
};

struct cw_delta {
    struct entry **b;
    size_t nb, n;
    uint64_t sweeps;
};

static uint64_t
fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct cw_delta *
cw_delta_new(void)
{
    struct cw_delta *d = calloc(1, sizeof(*d));
    if (!d || !(d->b = calloc(64, sizeof(*d->b))))
        abort();
    d->nb = 64;
    return d;
}

void
cw_delta_free(struct cw_delta *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nb; i++)
        for (struct entry *e = d->b[i], *nx; e; e = nx) {
            nx = e->next;
            free(e->key);
            free(e);
        }
    free(d->b);
    free(d);
}

static void
grow(struct cw_delta *d)
{
    size_t nb = d->nb * 2;
    struct entry **b = calloc(nb, sizeof(*b));
    if (!b)
        abort();
    for (size_t i = 0; i < d->nb; i++)
        for (struct entry *e = d->b[i], *nx; e; e = nx) {
            nx = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(d->b);
    d->b = b;
    d->nb = nb;
}

static struct entry *
find(struct cw_delta *d, const char *key, uint64_t h, struct entry ***where)
{
    struct entry **pp = &d->b[h & (d->nb - 1)], *e;
    for (e = *pp; e; pp = &e->next, e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0)
            break;
    if (where)
        *where = pp;
    return e;
}

const double *
cw_delta_get(struct cw_delta *d, const char *key, size_t n)
{
    struct entry *e = find(d, key, fnv1a(key), NULL);
    if (!e || e->n != n)
        return NULL;
    e->seen = 1;
    return e->v;
}

int
cw_delta_step(struct cw_delta *d, const char *key, const double *cur, size_t n,
              double *prev)
{
    uint64_t h = fnv1a(key);
    struct entry **pp, *e = find(d, key, h, &pp);
    int had;

    if (e && e->n != n) { /* the series changed shape: start again */
        *pp = e->next;
        free(e->key);
        free(e);
        d->n--;
        e = NULL;
    }
    had = e != NULL;
    if (!e) {
        if (d->n + 1 > d->nb)
            grow(d);
        if (!(e = malloc(sizeof(*e) + n * sizeof(double))) || !(e->key = strdup(key)))
            abort();
        e->hash = h;
        e->n = n;
        e->next = d->b[h & (d->nb - 1)];
        d->b[h & (d->nb - 1)] = e;
        d->n++;
    } else if (prev) {
        memcpy(prev, e->v, n * sizeof(double));
    }
    memcpy(e->v, cur, n * sizeof(double));
    e->seen = 1;
    return had;
}

uint64_t
cw_delta_sweeps(const struct cw_delta *d)
{
    return d->sweeps;
}

void
cw_delta_sweep(struct cw_delta *d)
{
    d->sweeps++;
    for (size_t i = 0; i < d->nb; i++)
        for (struct entry **pp = &d->b[i], *e; (e = *pp);) {
            if (e->seen) {
                e->seen = 0;
                pp = &e->next;
                continue;
            }
            *pp = e->next;
            free(e->key);
            free(e);
            d->n--;
        }
}

size_t
cw_delta_size(const struct cw_delta *d)
{
    return d->n;
}
