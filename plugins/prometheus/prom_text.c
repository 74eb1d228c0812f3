/* prom_text.c: the text exposition format 0.0.4 (prom_text.h). */
#include <inttypes.h>
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

/* A family's HELP and TYPE lines. */
static void
buf_family(struct buf *b, const char *name, const char *help, const char *type)
{
    buf_str(b, "# HELP ");
    buf_str(b, name);
    buf_add(b, " ", 1);
    buf_escaped(b, help ? help : "", 0);
    buf_str(b, "\n# TYPE ");
    buf_str(b, name);
    buf_add(b, " ", 1);
    buf_str(b, type);
    buf_add(b, "\n", 1);
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

/* name{labels[,le="..."]}: le NULL for none. */
static void
series(struct buf *b, const char *name, const char *suffix,
       const struct berth_label *l, size_t n, const char *le)
{
    buf_str(b, name);
    buf_str(b, suffix);
    if (n || le) {
        buf_add(b, "{", 1);
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_add(b, ",", 1);
            buf_str(b, l[i].name);
            buf_add(b, "=\"", 2);
            buf_escaped(b, l[i].value, 1);
            buf_add(b, "\"", 1);
        }
        if (le) {
            buf_str(b, n ? ",le=\"" : "le=\"");
            buf_str(b, le);
            buf_add(b, "\"", 1);
        }
        buf_add(b, "}", 1);
    }
    buf_add(b, " ", 1);
}

static void
sample(struct buf *b, const struct berth_metric *m)
{
    series(b, m->name, "", m->labels, m->n_labels, NULL);
    buf_value(b, m->value);
    buf_add(b, "\n", 1);
}

/* How render() reads one kind of entry (samples or histograms). */
struct kind {
    size_t size;
    const char *(*name)(const void *e);
    const char *(*help)(const void *e);
    const char *(*type)(const void *e);
    /* e may be written in the family that first opened: valid, and of
     * first's type. */
    int (*fits)(const void *e, const void *first);
    void (*write)(struct buf *b, const void *e);
};

/* Every entry of v grouped into families by name, in first-seen order,
 * each family under one HELP and TYPE; entries that do not fit are
 * skipped and counted.  O(n * names), fine for the few thousand series of
 * one host. */
static char *
render(const void *v, size_t n, const struct kind *k, size_t *len, size_t *skipped)
{
    struct buf b = {0};
    char *done = calloc(n ? n : 1, 1); /* done[i]: written or refused */
    size_t skip = 0;

    if (!done)
        return NULL;
    buf_add(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        const void *first = (const char *)v + i * k->size;
        if (done[i])
            continue;
        if (!k->fits(first, first)) {
            done[i] = 1;
            skip++;
            continue;
        }
        const char *name = k->name(first);
        buf_family(&b, name, k->help(first), k->type(first));
        for (size_t j = i; j < n; j++) {
            const void *e = (const char *)v + j * k->size;
            if (done[j] || strcmp(k->name(e), name) != 0)
                continue;
            done[j] = 1;
            if (!k->fits(e, first)) {
                skip++;
                continue;
            }
            k->write(&b, e);
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

static const char *m_name(const void *e) { return ((const struct berth_metric *)e)->name; }
static const char *m_help(const void *e) { return ((const struct berth_metric *)e)->help; }
static const char *m_type(const void *e)
{
    return type_name(((const struct berth_metric *)e)->type);
}
static int m_fits(const void *e, const void *first)
{
    const struct berth_metric *m = e;
    return m->type == ((const struct berth_metric *)first)->type && sample_ok(m);
}
static void m_write(struct buf *b, const void *e) { sample(b, e); }

char *
prom_render(const struct berth_metric *m, size_t n, size_t *len, size_t *skipped)
{
    static const struct kind samples = {sizeof *m, m_name, m_help, m_type, m_fits, m_write};
    return render(m, n, &samples, len, skipped);
}

void
prom_format_le(char *out, size_t outlen, double v)
{
    char e[40];
    int prec;

    if (isinf(v) || isnan(v)) {
        snprintf(out, outlen, "%s", isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
        return;
    }
    /* Fewest significant digits that read back the same... */
    for (prec = 1; prec < 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v)
            break;
    }
    snprintf(e, sizeof(e), "%.*e", prec - 1, v);
    int exp = atoi(strchr(e, 'e') + 1);
    /* ...laid out as Go's FormatFloat(v, 'g', -1, 64): exponent form below
     * 1e-4 or from 1e6 ("1e+06"), else plain decimals. */
    if (exp < -4 || exp >= 6)
        snprintf(out, outlen, "%s", e);
    else
        snprintf(out, outlen, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
}

static int
histogram_ok(const struct berth_histogram *h)
{
    if (!prom_valid_name(h->name) || (h->n_buckets && (!h->upper_bounds ||
                                                       !h->cumulative_counts)))
        return 0;
    for (size_t i = 0; i < h->n_labels; i++)
        if (!prom_valid_label_name(h->labels[i].name) || !h->labels[i].value ||
            strcmp(h->labels[i].name, "le") == 0)
            return 0;
    return 1;
}

static void
buf_u64(struct buf *b, uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    buf_str(b, tmp);
}

static void
histogram(struct buf *b, const struct berth_histogram *h)
{
    char le[40];
    for (size_t i = 0; i < h->n_buckets; i++) {
        prom_format_le(le, sizeof(le), h->upper_bounds[i]);
        series(b, h->name, "_bucket", h->labels, h->n_labels, le);
        buf_u64(b, h->cumulative_counts[i]);
        buf_add(b, "\n", 1);
    }
    series(b, h->name, "_bucket", h->labels, h->n_labels, "+Inf");
    buf_u64(b, h->count);
    buf_add(b, "\n", 1);
    series(b, h->name, "_sum", h->labels, h->n_labels, NULL);
    buf_value(b, h->sum);
    buf_add(b, "\n", 1);
    series(b, h->name, "_count", h->labels, h->n_labels, NULL);
    buf_u64(b, h->count);
    buf_add(b, "\n", 1);
}

static const char *h_name(const void *e) { return ((const struct berth_histogram *)e)->name; }
static const char *h_help(const void *e) { return ((const struct berth_histogram *)e)->help; }
static const char *h_type(const void *e)
{
    (void)e;
    return "histogram";
}
static int h_fits(const void *e, const void *first)
{
    (void)first;
    return histogram_ok(e);
}
static void h_write(struct buf *b, const void *e) { histogram(b, e); }

char *
prom_render_histograms(const struct berth_histogram *h, size_t n, size_t *len,
                       size_t *skipped)
{
    static const struct kind histograms = {sizeof *h, h_name, h_help, h_type, h_fits,
                                           h_write};
    return render(h, n, &histograms, len, skipped);
}
