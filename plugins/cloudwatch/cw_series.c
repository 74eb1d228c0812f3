/* cw_series.c: every series under its own name, counters and histograms
 * as increments since the previous export; see cw.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"

static struct cw_record *
record_for(struct cw_records *out, const struct berth_label *l, size_t nl,
           const char *cluster, uint64_t time_ms)
{
    struct cw_dim d[CW_MAX_DIMENSIONS];
    int trunc;
    size_t nd = cw_dimensions(l, nl, cluster, d, &trunc);

    out->dims_truncated += (size_t)trunc;
    return cw_records_get(out, d, nd, NULL, time_ms);
}

/* Steps key to cur[0..n) (cur[0] a running total) and sets prev to what
 * cur counts from: the previous export's values, or 0s for a series born
 * since then or reset (cur[0] went back).  0 when cur is a baseline only:
 * the sink's first export, whose history is not this sink's to send. */
static int
since_previous(struct cw_delta *d, const char *key, const double *cur, size_t n,
               double *prev)
{
    int had = cw_delta_step(d, key, cur, n, prev);

    if (!had && cw_delta_sweeps(d) == 0)
        return 0;
    if (!had || cur[0] < prev[0])
        memset(prev, 0, n * sizeof(double));
    return 1;
}

void
cw_series_samples(struct cw_delta *d, const char *cluster, const struct berth_metric *m,
                  size_t n, uint64_t now_ms, struct cw_records *out)
{
    for (size_t i = 0; i < n; i++) {
        double v = m[i].value;
        if (m[i].type == BERTH_METRIC_COUNTER) {
            char *key = cw_series_key(m[i].name, m[i].labels, m[i].n_labels);
            double prev;
            int counted = since_previous(d, key, &v, 1, &prev);
            free(key);
            if (!counted)
                continue;
            v -= prev;
        }
        struct cw_record *r = record_for(out, m[i].labels, m[i].n_labels, cluster,
                                         m[i].time_ms ? m[i].time_ms : now_ms);
        cw_record_add(out, r, m[i].name, cw_unit(m[i].name, m[i].type), v);
    }
}

/* name + suffix, in buf. */
static const char *
suffixed(char *buf, size_t len, const char *name, const char *suffix)
{
    snprintf(buf, len, "%s%s", name, suffix);
    return buf;
}

void
cw_series_histograms(struct cw_delta *d, const char *cluster,
                     const struct berth_histogram *h, size_t n, uint64_t now_ms,
                     int distributions, struct cw_records *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct berth_histogram *x = &h[i];
        size_t k = x->n_buckets, nv = k + 2;
        /* cur and prev (nv each), then the values and counts (k + 1 each) */
        double *cur = malloc((2 * nv + 2 * (k + 1)) * sizeof(double));
        if (!cur)
            abort();
        double *prev = cur + nv, *vals = prev + nv, *cnts = vals + k + 1;
        char *key = cw_series_key(x->name, x->labels, x->n_labels);
        const char *unit = cw_unit(x->name, BERTH_METRIC_GAUGE);
        char nm[256];

        /* [count, sum, cumulative bucket counts...] */
        cur[0] = (double)x->count;
        cur[1] = x->sum;
        for (size_t b = 0; b < k; b++)
            cur[b + 2] = (double)x->cumulative_counts[b];
        int counted = since_previous(d, key, cur, nv, prev);
        free(key);
        if (!counted || cur[0] == prev[0])
            goto next; /* nothing observed since */
        struct cw_record *r = record_for(out, x->labels, x->n_labels, cluster, now_ms);
        if (!distributions) {
            cw_record_add(out, r, suffixed(nm, sizeof(nm), x->name, "_count"), "Count",
                          cur[0] - prev[0]);
            cw_record_add(out, r, suffixed(nm, sizeof(nm), x->name, "_sum"), unit,
                          cur[1] - prev[1]);
            goto next;
        }
        size_t m = 0;
        double below = 0, pbelow = 0;
        for (size_t b = 0; b <= k; b++) {
            double in = (b < k ? cur[b + 2] : cur[0]) - below;
            double pin = (b < k ? prev[b + 2] : prev[0]) - pbelow;
            below += in;
            pbelow += pin;
            if (in - pin <= 0)
                continue;
            const double *ub = x->upper_bounds;
            if (b == k) /* +Inf: the last bound (no bucket at all: the mean) */
                vals[m] = k ? ub[k - 1] : (cur[1] - prev[1]) / (cur[0] - prev[0]);
            else if (b == 0) /* (0, bound]; a bound <= 0 stands for itself */
                vals[m] = ub[0] > 0 ? ub[0] / 2 : ub[0];
            else
                vals[m] = (ub[b - 1] + ub[b]) / 2;
            cnts[m++] = in - pin;
        }
        if (m)
            cw_record_add_dist(out, r, x->name, unit, vals, cnts, m);
    next:
        free(cur);
    }
}
