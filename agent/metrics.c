/* metrics.c: the series store behind host->metric() and the sink exports. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "agent/metrics.h"

#define METRICS_MAX_LABELS 32

struct series {
    struct berth_metric m; /* owns name, help and labels */
    struct berth_label *labels;
};

struct metrics {
    struct berth_metric *view; /* parallel to series[], what sinks see */
    struct series *series;
    size_t n, cap;
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

void
metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        series_clear(&m->series[i]);
    free(m->series);
    free(m->view);
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
label_value(const struct berth_metric *m, const char *name)
{
    for (size_t i = 0; i < m->n_labels; i++)
        if (strcmp(m->labels[i].name, name) == 0)
            return m->labels[i].value;
    return NULL;
}

/* Same series: same name and the same label set in any order. */
static int
same_series(const struct berth_metric *a, const struct berth_metric *b)
{
    if (strcmp(a->name, b->name) != 0 || a->n_labels != b->n_labels)
        return 0;
    for (size_t i = 0; i < a->n_labels; i++) {
        const char *v = label_value(b, a->labels[i].name);
        if (!v || strcmp(v, a->labels[i].value) != 0)
            return 0;
    }
    return 1;
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
    if (s->n_labels > METRICS_MAX_LABELS || (s->n_labels && !s->labels)) {
        snprintf(err, errlen, "metric %s: at most %d labels", s->name,
                 METRICS_MAX_LABELS);
        return -1;
    }
    for (size_t i = 0; i < s->n_labels; i++) {
        if (!metrics_valid_label_name(s->labels[i].name) || !s->labels[i].value) {
            snprintf(err, errlen, "metric %s: invalid label #%zu \"%s\"", s->name,
                     i, s->labels[i].name ? s->labels[i].name : "");
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->labels[i].name, s->labels[j].name) == 0) {
                snprintf(err, errlen, "metric %s: label %s given twice", s->name,
                         s->labels[i].name);
                return -1;
            }
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
        if (same_series(&x->m, s)) {
            x->m.value = s->value;
            x->m.type = s->type;
            x->m.time_ms = s->time_ms ? s->time_ms : now_ms;
            m->view[i] = x->m;
            return 0;
        }
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

size_t
metrics_forget(struct metrics *m, const char *name, const char *value)
{
    size_t j = 0, dropped = 0;

    for (size_t i = 0; i < m->n; i++) {
        const char *v = label_value(&m->series[i].m, name);
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
