/* metrics.c: the series store behind host->metric() and the sink exports. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <inttypes.h>
#include <math.h>

#include "agent/metrics.h"

#define METRICS_MAX_LABELS 32

struct series {
    struct berth_metric m; /* owns name, help and labels */
    struct berth_label *labels;
};

struct hseries {
    struct berth_histogram h; /* owns name, help, labels, bounds, counts */
    struct berth_label *labels;
};

struct metrics {
    struct berth_metric *view; /* parallel to series[], what sinks see */
    struct series *series;
    size_t n, cap;
    struct berth_histogram *hview; /* parallel to hist[] */
    struct hseries *hist;
    size_t nh, caph;
};

struct metrics *
metrics_new(void)
{
    return calloc(1, sizeof(struct metrics));
}

static void
series_clear(struct series *s)
{
    free((char *)s->m.name);
    free((char *)s->m.help);
    for (size_t i = 0; i < s->m.n_labels; i++) {
        free((char *)s->labels[i].name);
        free((char *)s->labels[i].value);
    }
    free(s->labels);
}

static void
hseries_clear(struct hseries *s)
{
    free((char *)s->h.name);
    free((char *)s->h.help);
    for (size_t i = 0; i < s->h.n_labels; i++) {
        free((char *)s->labels[i].name);
        free((char *)s->labels[i].value);
    }
    free(s->labels);
    free((double *)s->h.upper_bounds);
    free((uint64_t *)s->h.cumulative_counts);
}

void
metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        series_clear(&m->series[i]);
    for (size_t i = 0; i < m->nh; i++)
        hseries_clear(&m->hist[i]);
    free(m->series);
    free(m->view);
    free(m->hist);
    free(m->hview);
    free(m);
}

int
metrics_valid_name(const char *name)
{
    if (!name || !*name)
        return 0;
    for (const char *p = name; *p; p++) {
        int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    *p == '_' || *p == ':';
        if (!alpha && !(p > name && *p >= '0' && *p <= '9'))
            return 0;
    }
    return 1;
}

int
metrics_valid_label_name(const char *name)
{
    return metrics_valid_name(name) && !strchr(name, ':');
}

static const char *
label_value(const struct berth_label *l, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].name, name) == 0)
            return l[i].value;
    return NULL;
}

/* Same series: same name and the same label set in any order. */
static int
same_series(const char *an, const struct berth_label *al, size_t na,
            const char *bn, const struct berth_label *bl, size_t nb)
{
    if (strcmp(an, bn) != 0 || na != nb)
        return 0;
    for (size_t i = 0; i < na; i++) {
        const char *v = label_value(bl, nb, al[i].name);
        if (!v || strcmp(v, al[i].value) != 0)
            return 0;
    }
    return 1;
}

static int
validate_labels(const char *what, const char *name, const struct berth_label *l,
                size_t n, char *err, size_t errlen)
{
    if (n > METRICS_MAX_LABELS || (n && !l)) {
        snprintf(err, errlen, "%s %s: at most %d labels", what, name,
                 METRICS_MAX_LABELS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!metrics_valid_label_name(l[i].name) || !l[i].value) {
            snprintf(err, errlen, "%s %s: invalid label #%zu \"%s\"", what, name,
                     i, l[i].name ? l[i].name : "");
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(l[i].name, l[j].name) == 0) {
                snprintf(err, errlen, "%s %s: label %s given twice", what, name,
                         l[i].name);
                return -1;
            }
    }
    return 0;
}

static int
validate(const struct berth_metric *s, char *err, size_t errlen)
{
    if (!metrics_valid_name(s->name)) {
        snprintf(err, errlen, "invalid metric name \"%s\"", s->name ? s->name : "");
        return -1;
    }
    if (s->type != BERTH_METRIC_COUNTER && s->type != BERTH_METRIC_GAUGE) {
        snprintf(err, errlen, "metric %s: unknown type %d", s->name, (int)s->type);
        return -1;
    }
    return validate_labels("metric", s->name, s->labels, s->n_labels, err, errlen);
}

static int
validate_histogram(const struct berth_histogram *h, char *err, size_t errlen)
{
    if (!metrics_valid_name(h->name)) {
        snprintf(err, errlen, "invalid histogram name \"%s\"", h->name ? h->name : "");
        return -1;
    }
    if (validate_labels("histogram", h->name, h->labels, h->n_labels, err, errlen) < 0)
        return -1;
    if (label_value(h->labels, h->n_labels, "le")) {
        snprintf(err, errlen, "histogram %s: label le is reserved for the buckets",
                 h->name);
        return -1;
    }
    if (h->n_buckets > METRICS_MAX_BUCKETS ||
        (h->n_buckets && (!h->upper_bounds || !h->cumulative_counts))) {
        snprintf(err, errlen, "histogram %s: %zu buckets (at most %d, each with a "
                 "bound and a count)", h->name, h->n_buckets, METRICS_MAX_BUCKETS);
        return -1;
    }
    for (size_t i = 0; i < h->n_buckets; i++) {
        double b = h->upper_bounds[i];
        if (!isfinite(b) || (i && !(b > h->upper_bounds[i - 1]))) {
            snprintf(err, errlen, "histogram %s: bound #%zu (%g) is not finite and "
                     "above the one before", h->name, i, b);
            return -1;
        }
        uint64_t c = h->cumulative_counts[i];
        if ((i && c < h->cumulative_counts[i - 1]) || c > h->count) {
            snprintf(err, errlen, "histogram %s: count #%zu (%" PRIu64 ") is not "
                     "cumulative (below the one before or above count %" PRIu64 ")",
                     h->name, i, c, h->count);
            return -1;
        }
    }
    if (isnan(h->sum)) {
        snprintf(err, errlen, "histogram %s: sum is NaN", h->name);
        return -1;
    }
    return 0;
}

static int
series_init(struct series *dst, const struct berth_metric *s)
{
    memset(dst, 0, sizeof(*dst));
    dst->m = *s;
    dst->m.name = strdup(s->name);
    dst->m.help = s->help ? strdup(s->help) : NULL;
    dst->labels = s->n_labels ? calloc(s->n_labels, sizeof(struct berth_label)) : NULL;
    dst->m.n_labels = 0;
    if (!dst->m.name || (s->help && !dst->m.help) || (s->n_labels && !dst->labels))
        goto fail;
    for (size_t i = 0; i < s->n_labels; i++) {
        dst->labels[i].name = strdup(s->labels[i].name);
        dst->labels[i].value = strdup(s->labels[i].value);
        dst->m.n_labels = i + 1;
        if (!dst->labels[i].name || !dst->labels[i].value)
            goto fail;
    }
    dst->m.labels = dst->labels;
    return 0;
fail:
    series_clear(dst);
    return -1;
}

int
metrics_record(struct metrics *m, const struct berth_metric *s, uint64_t now_ms,
               char *err, size_t errlen)
{
    if (validate(s, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < m->n; i++) {
        struct series *x = &m->series[i];
        if (same_series(x->m.name, x->m.labels, x->m.n_labels, s->name, s->labels,
                        s->n_labels)) {
            x->m.value = s->value;
            x->m.type = s->type;
            x->m.time_ms = s->time_ms ? s->time_ms : now_ms;
            m->view[i] = x->m;
            return 0;
        }
    }
    for (size_t i = 0; i < m->nh; i++)
        if (strcmp(m->hist[i].h.name, s->name) == 0) {
            snprintf(err, errlen, "metric %s: the name is a histogram's", s->name);
            return -1;
        }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct series *ns = realloc(m->series, cap * sizeof(*ns));
        if (!ns)
            goto oom;
        m->series = ns;
        struct berth_metric *nv = realloc(m->view, cap * sizeof(*nv));
        if (!nv)
            goto oom;
        m->view = nv;
        m->cap = cap;
    }
    if (series_init(&m->series[m->n], s) < 0)
        goto oom;
    m->series[m->n].m.time_ms = s->time_ms ? s->time_ms : now_ms;
    m->view[m->n] = m->series[m->n].m;
    m->n++;
    return 0;
oom:
    snprintf(err, errlen, "metric %s: out of memory", s->name);
    return -1;
}

static int
copy_labels(struct berth_label **dst, const struct berth_label *src, size_t n,
            size_t *copied)
{
    *copied = 0;
    *dst = n ? calloc(n, sizeof(**dst)) : NULL;
    if (n && !*dst)
        return -1;
    for (size_t i = 0; i < n; i++) {
        (*dst)[i].name = strdup(src[i].name);
        (*dst)[i].value = strdup(src[i].value);
        *copied = i + 1;
        if (!(*dst)[i].name || !(*dst)[i].value)
            return -1;
    }
    return 0;
}

/* Copies the state into x, whose identity (name, labels) is already set.
 * Same bucket count: in place, so arrays handed out stay valid. */
static int
hseries_set(struct hseries *x, const struct berth_histogram *h, uint64_t now_ms)
{
    size_t nb = h->n_buckets;

    if (nb != x->h.n_buckets || !x->h.upper_bounds) {
        double *b = nb ? malloc(nb * sizeof(*b)) : NULL;
        uint64_t *c = nb ? malloc(nb * sizeof(*c)) : NULL;
        if (nb && (!b || !c)) {
            free(b);
            free(c);
            return -1;
        }
        free((double *)x->h.upper_bounds);
        free((uint64_t *)x->h.cumulative_counts);
        x->h.upper_bounds = b;
        x->h.cumulative_counts = c;
        x->h.n_buckets = nb;
    }
    if (nb) {
        memcpy((double *)x->h.upper_bounds, h->upper_bounds, nb * sizeof(double));
        memcpy((uint64_t *)x->h.cumulative_counts, h->cumulative_counts,
               nb * sizeof(uint64_t));
    }
    x->h.count = h->count;
    x->h.sum = h->sum;
    x->h.time_ms = h->time_ms ? h->time_ms : now_ms;
    return 0;
}

int
metrics_record_histogram(struct metrics *m, const struct berth_histogram *h,
                         uint64_t now_ms, char *err, size_t errlen)
{
    if (validate_histogram(h, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < m->nh; i++) {
        struct hseries *x = &m->hist[i];
        if (same_series(x->h.name, x->h.labels, x->h.n_labels, h->name, h->labels,
                        h->n_labels)) {
            if (hseries_set(x, h, now_ms) < 0)
                goto oom;
            m->hview[i] = x->h;
            return 0;
        }
    }
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->series[i].m.name, h->name) == 0) {
            snprintf(err, errlen, "histogram %s: the name is a %s's", h->name,
                     m->series[i].m.type == BERTH_METRIC_COUNTER ? "counter" : "gauge");
            return -1;
        }
    if (m->nh == m->caph) {
        size_t cap = m->caph ? m->caph * 2 : 8;
        struct hseries *ns = realloc(m->hist, cap * sizeof(*ns));
        if (!ns)
            goto oom;
        m->hist = ns;
        struct berth_histogram *nv = realloc(m->hview, cap * sizeof(*nv));
        if (!nv)
            goto oom;
        m->hview = nv;
        m->caph = cap;
    }
    struct hseries *x = &m->hist[m->nh];
    memset(x, 0, sizeof(*x));
    x->h.name = strdup(h->name);
    x->h.help = h->help ? strdup(h->help) : NULL;
    int rc = copy_labels(&x->labels, h->labels, h->n_labels, &x->h.n_labels);
    x->h.labels = x->labels;
    if (!x->h.name || (h->help && !x->h.help) || rc < 0 || hseries_set(x, h, now_ms) < 0) {
        hseries_clear(x);
        goto oom;
    }
    m->hview[m->nh++] = x->h;
    return 0;
oom:
    snprintf(err, errlen, "histogram %s: out of memory", h->name);
    return -1;
}

size_t
metrics_forget(struct metrics *m, const char *name, const char *value)
{
    size_t j = 0, dropped = 0;

    for (size_t i = 0; i < m->nh; i++) {
        const char *v = label_value(m->hist[i].h.labels, m->hist[i].h.n_labels, name);
        if (v && strcmp(v, value) == 0) {
            hseries_clear(&m->hist[i]);
            dropped++;
            continue;
        }
        m->hist[j] = m->hist[i];
        m->hview[j] = m->hview[i];
        j++;
    }
    m->nh = j;
    j = 0;
    for (size_t i = 0; i < m->n; i++) {
        const char *v = label_value(m->series[i].m.labels, m->series[i].m.n_labels, name);
        if (v && strcmp(v, value) == 0) {
            series_clear(&m->series[i]);
            dropped++;
            continue;
        }
        m->series[j] = m->series[i];
        m->view[j] = m->view[i];
        j++;
    }
    m->n = j;
    return dropped;
}

const struct berth_metric *
metrics_all(const struct metrics *m, size_t *n)
{
    *n = m->n;
    return m->view;
}

const struct berth_histogram *
metrics_histograms(const struct metrics *m, size_t *n)
{
    *n = m->nh;
    return m->hview;
}
