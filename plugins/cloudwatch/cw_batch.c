/* cw_batch.c: samples to PutMetricData form bodies; see cw.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cw.h"

static void
buf_add(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 1024;
        while (c < *len + n + 1)
            c *= 2;
        char *g = realloc(*buf, c);
        if (!g)
            abort();
        *buf = g;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
}

static void
buf_str(char **buf, size_t *len, size_t *cap, const char *s)
{
    buf_add(buf, len, cap, s, strlen(s));
}

void
cw_form_escape(char **buf, size_t *len, size_t *cap, const char *s)
{
    static const char digits[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
            ch == '~') {
            buf_add(buf, len, cap, (const char *)&ch, 1);
        } else {
            char e[3] = {'%', digits[ch >> 4], digits[ch & 15]};
            buf_add(buf, len, cap, e, 3);
        }
    }
}

const char *
cw_dimension_name(const char *label)
{
    if (strcmp(label, "cluster") == 0)
        return "ClusterName";
    if (strcmp(label, "service") == 0)
        return "ServiceName";
    if (strcmp(label, "task_definition_family") == 0 || strcmp(label, "family") == 0)
        return "TaskDefinitionFamily";
    return NULL;
}

struct dim {
    const char *name, *value;
};

/* The dimensions of one sample, ECS ones first; returns how many, and
 * sets *truncated when some had to be left out. */
static size_t
dimensions(const struct berth_metric *m, const char *cluster,
           struct dim out[CW_MAX_DIMENSIONS], int *truncated)
{
    static const char *const ecs[] = {"ClusterName", "ServiceName",
                                      "TaskDefinitionFamily"};
    size_t n = 0;

    *truncated = 0;
    for (size_t e = 0; e < 3; e++) {
        const char *v = NULL;
        for (size_t i = 0; i < m->n_labels; i++) {
            const char *d = cw_dimension_name(m->labels[i].name);
            if (d && strcmp(d, ecs[e]) == 0 && m->labels[i].value &&
                *m->labels[i].value) {
                v = m->labels[i].value;
                break;
            }
        }
        if (!v && e == 0 && cluster && *cluster)
            v = cluster;
        if (v)
            out[n++] = (struct dim){ecs[e], v};
    }
    for (size_t i = 0; i < m->n_labels; i++) {
        if (cw_dimension_name(m->labels[i].name) || !m->labels[i].value ||
            !*m->labels[i].value)
            continue;
        if (n == CW_MAX_DIMENSIONS) {
            *truncated = 1;
            break;
        }
        out[n++] = (struct dim){m->labels[i].name, m->labels[i].value};
    }
    return n;
}

/* The form text of datum number idx (1-based) of a body. */
static char *
datum(const struct berth_metric *m, size_t idx, const struct dim *d, size_t nd,
      uint64_t now_ms, size_t *lenp)
{
    char *b = NULL, pre[64], num[64], ts[40];
    size_t len = 0, cap = 0;
    uint64_t t = m->time_ms ? m->time_ms : now_ms;
    time_t secs = (time_t)(t / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03uZ",
             (unsigned)(t % 1000));
    snprintf(pre, sizeof(pre), "&MetricData.member.%zu.", idx);
    buf_str(&b, &len, &cap, pre);
    buf_str(&b, &len, &cap, "MetricName=");
    cw_form_escape(&b, &len, &cap, m->name);
    buf_str(&b, &len, &cap, pre);
    buf_str(&b, &len, &cap, "Value=");
    snprintf(num, sizeof(num), "%.17g", m->value);
    cw_form_escape(&b, &len, &cap, num); /* the '+' of an exponent */
    buf_str(&b, &len, &cap, pre);
    buf_str(&b, &len, &cap, "Timestamp=");
    cw_form_escape(&b, &len, &cap, ts);
    buf_str(&b, &len, &cap, pre);
    buf_str(&b, &len, &cap, m->type == BERTH_METRIC_COUNTER ? "Unit=Count" : "Unit=None");
    for (size_t i = 0; i < nd; i++) {
        snprintf(pre, sizeof(pre), "&MetricData.member.%zu.Dimensions.member.%zu.", idx,
                 i + 1);
        buf_str(&b, &len, &cap, pre);
        buf_str(&b, &len, &cap, "Name=");
        cw_form_escape(&b, &len, &cap, d[i].name);
        buf_str(&b, &len, &cap, pre);
        buf_str(&b, &len, &cap, "Value=");
        cw_form_escape(&b, &len, &cap, d[i].value);
    }
    *lenp = len;
    return b;
}

static void
body_start(struct cw_body *cur, size_t *cap, const char *ns)
{
    cur->text = NULL;
    cur->len = 0;
    cur->n_metrics = 0;
    *cap = 0;
    buf_str(&cur->text, &cur->len, cap, "Action=PutMetricData&Version=2010-08-01&Namespace=");
    cw_form_escape(&cur->text, &cur->len, cap, ns);
}

static void
batches_add(struct cw_batches *out, struct cw_body *cur)
{
    struct cw_body *g = realloc(out->v, (out->n + 1) * sizeof(*g));
    if (!g)
        abort();
    out->v = g;
    out->v[out->n++] = *cur;
}

int
cw_batch_build(const struct cw_batch_opts *o, const struct berth_metric *m, size_t n,
               struct cw_batches *out, char *err, size_t errlen)
{
    struct cw_body cur;
    size_t cap, base;
    struct dim d[CW_MAX_DIMENSIONS];

    memset(out, 0, sizeof(*out));
    if (!o->namespace_ || !*o->namespace_ || o->max_metrics < 1 ||
        o->max_metrics > CW_MAX_METRICS || o->max_bytes > CW_MAX_BYTES) {
        snprintf(err, errlen, "batch limits: need a namespace, 1..%d metrics and at "
                 "most %d bytes", CW_MAX_METRICS, CW_MAX_BYTES);
        return -1;
    }
    body_start(&cur, &cap, o->namespace_);
    base = cur.len;
    if (base >= o->max_bytes) {
        snprintf(err, errlen, "batch limits: max-batch-bytes %zu cannot hold even the "
                 "request's %zu bytes of header", o->max_bytes, base);
        free(cur.text);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int trunc;
        size_t nd, dl;
        char *t;

        if (!isfinite(m[i].value)) {
            out->skipped_invalid++;
            continue;
        }
        nd = dimensions(&m[i], o->cluster, d, &trunc);
        out->dims_truncated += (size_t)trunc;
        t = datum(&m[i], cur.n_metrics + 1, d, nd, o->now_ms, &dl);
        if (cur.n_metrics && (cur.n_metrics == o->max_metrics ||
                              cur.len + dl > o->max_bytes)) {
            batches_add(out, &cur);
            body_start(&cur, &cap, o->namespace_);
            free(t);
            t = datum(&m[i], 1, d, nd, o->now_ms, &dl);
        }
        if (cur.len + dl > o->max_bytes) {
            out->skipped_too_big++;
            free(t);
            continue;
        }
        {
            char *b = cur.text;
            size_t len = cur.len;
            if (len + dl + 1 > cap) {
                cap = len + dl + 1;
                if (!(b = realloc(b, cap)))
                    abort();
            }
            memcpy(b + len, t, dl + 1);
            cur.text = b;
            cur.len = len + dl;
        }
        cur.n_metrics++;
        free(t);
    }
    if (cur.n_metrics)
        batches_add(out, &cur);
    else
        free(cur.text);
    return 0;
}

void
cw_batches_free(struct cw_batches *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->v[i].text);
    free(b->v);
    memset(b, 0, sizeof(*b));
}
