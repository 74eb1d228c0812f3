/* prom_text.c: the text exposition format 0.0.4 (prom_text.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom_text.h"

struct buf {
    char *p;
    size_t len, cap;
    int oom;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* HELP escapes \ and newline; label values also ". */
static void
buf_escaped(struct buf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_add(b, "\\\\", 2);
        else if (*s == '\n')
            buf_add(b, "\\n", 2);
        else if (quote && *s == '"')
            buf_add(b, "\\\"", 2);
        else
            buf_add(b, s, 1);
    }
}

static void
buf_value(struct buf *b, double v)
{
    char tmp[40];

    if (isnan(v))
        buf_str(b, "NaN");
    else if (isinf(v))
        buf_str(b, v > 0 ? "+Inf" : "-Inf");
    else {
        /* The shortest of %.15g / %.17g that reads back the same. */
        snprintf(tmp, sizeof(tmp), "%.15g", v);
        if (strtod(tmp, NULL) != v)
            snprintf(tmp, sizeof(tmp), "%.17g", v);
        buf_str(b, tmp);
    }
}

int
prom_valid_name(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                    *p == ':';
        if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
            return 0;
    }
    return 1;
}

int
prom_valid_label_name(const char *s)
{
    return prom_valid_name(s) && !strchr(s, ':');
}

static const char *
type_name(enum berth_metric_type t)
{
    switch (t) {
    case BERTH_METRIC_COUNTER:
        return "counter";
    case BERTH_METRIC_GAUGE:
        return "gauge";
    case BERTH_METRIC_HISTOGRAM: /* never a sample's type */
        break;
    }
    return NULL;
}

static int
sample_ok(const struct berth_metric *m)
{
    if (!prom_valid_name(m->name) || !type_name(m->type))
        return 0;
    for (size_t i = 0; i < m->n_labels; i++)
        if (!prom_valid_label_name(m->labels[i].name) || !m->labels[i].value)
            return 0;
    return 1;
}

static void
sample(struct buf *b, const struct berth_metric *m)
{
    buf_str(b, m->name);
    if (m->n_labels) {
        buf_add(b, "{", 1);
        for (size_t i = 0; i < m->n_labels; i++) {
            if (i)
                buf_add(b, ",", 1);
            buf_str(b, m->labels[i].name);
            buf_add(b, "=\"", 2);
            buf_escaped(b, m->labels[i].value, 1);
            buf_add(b, "\"", 1);
        }
        buf_add(b, "}", 1);
    }
    buf_add(b, " ", 1);
    buf_value(b, m->value);
    buf_add(b, "\n", 1);
}

char *
prom_render(const struct berth_metric *m, size_t n, size_t *len, size_t *skipped)
{
    struct buf b = {0};
    /* done[i]: sample i written or refused; O(n * names), fine for the
     * few thousand series of one host. */
    char *done = calloc(n ? n : 1, 1);
    size_t skip = 0;

    if (!done)
        return NULL;
    buf_add(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        if (!sample_ok(&m[i])) {
            done[i] = 1;
            skip++;
            continue;
        }
        const char *name = m[i].name;
        buf_str(&b, "# HELP ");
        buf_str(&b, name);
        buf_add(&b, " ", 1);
        buf_escaped(&b, m[i].help ? m[i].help : "", 0);
        buf_str(&b, "\n# TYPE ");
        buf_str(&b, name);
        buf_add(&b, " ", 1);
        buf_str(&b, type_name(m[i].type));
        buf_add(&b, "\n", 1);
        for (size_t j = i; j < n; j++) {
            if (done[j] || strcmp(m[j].name, name) != 0)
                continue;
            done[j] = 1;
            if (m[j].type != m[i].type || !sample_ok(&m[j])) {
                skip++;
                continue;
            }
            sample(&b, &m[j]);
        }
    }
    free(done);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    if (skipped)
        *skipped = skip;
    return b.p;
}
