/* histo.c: lock-free per-worker histograms (see histo.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/histo.h"

const double histo_default_bounds[] = {.005, .01, .025, .05, .1, .25,
                                       .5,   1,   2.5,  5,   10};
const size_t histo_default_n = sizeof(histo_default_bounds) / sizeof(histo_default_bounds[0]);

static uint64_t
bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static double
double_of(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static uint64_t
get(const _Atomic uint64_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

static void
put(_Atomic uint64_t *p, uint64_t v)
{
    atomic_store_explicit(p, v, memory_order_relaxed);
}

int
histo_init(struct histo *h, const double *bounds, size_t n, char *err, size_t errlen)
{
    if (!bounds) {
        bounds = histo_default_bounds;
        n = histo_default_n;
    }
    if (n > HISTO_MAX_BOUNDS) {
        snprintf(err, errlen, "%zu histogram bounds (at most %d)", n, HISTO_MAX_BOUNDS);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(bounds[i]) || (i && !(bounds[i] > bounds[i - 1]))) {
            snprintf(err, errlen, "histogram bound #%zu (%g) is not finite and above "
                     "the one before", i, bounds[i]);
            return -1;
        }
    memset(h, 0, sizeof(*h));
    h->n = n;
    memcpy(h->bounds, bounds, n * sizeof(*bounds));
    for (size_t i = 0; i <= HISTO_MAX_BOUNDS; i++)
        put(&h->buckets[i], 0);
    put(&h->sum_bits, bits_of(0.0));
    return 0;
}

void
histo_observe(struct histo *h, double v)
{
    if (isnan(v))
        return;
    size_t i = 0;
    while (i < h->n && v > h->bounds[i]) /* le: v <= bound counts in it */
        i++;
    put(&h->buckets[i], get(&h->buckets[i]) + 1);
    put(&h->sum_bits, bits_of(double_of(get(&h->sum_bits)) + v));
}

int
histo_add(struct histo *dst, const struct histo *src)
{
    if (dst->n != src->n || memcmp(dst->bounds, src->bounds, dst->n * sizeof(double)))
        return -1;
    for (size_t i = 0; i <= dst->n; i++)
        put(&dst->buckets[i], get(&dst->buckets[i]) + get(&src->buckets[i]));
    put(&dst->sum_bits, bits_of(double_of(get(&dst->sum_bits)) +
                                double_of(get(&src->sum_bits))));
    return 0;
}

void
histo_reset(struct histo *h)
{
    for (size_t i = 0; i <= h->n; i++)
        put(&h->buckets[i], 0);
    put(&h->sum_bits, bits_of(0.0));
}

void
histo_view(const struct histo *h, const char *name, const char *help,
           const struct berth_label *labels, size_t n_labels, struct histo_view *out)
{
    uint64_t total = 0;
    for (size_t i = 0; i < h->n; i++) {
        total += get(&h->buckets[i]);
        out->cumulative[i] = total;
    }
    total += get(&h->buckets[h->n]);
    out->h = (struct berth_histogram){
        .name = name,
        .help = help,
        .labels = labels,
        .n_labels = n_labels,
        .n_buckets = h->n,
        .upper_bounds = h->bounds,
        .cumulative_counts = out->cumulative,
        .count = total,
        .sum = double_of(get(&h->sum_bits)),
    };
}
