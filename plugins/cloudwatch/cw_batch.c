/* cw_batch.c: records to PutMetricData form bodies; see cw.h. */
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

static void
num(char **b, size_t *len, size_t *cap, double v)
{
    char t[64];
    snprintf(t, sizeof(t), "%.17g", v);
    cw_form_escape(b, len, cap, t); /* the '+' of an exponent */
}

/* time_ms as ISO 8601 with milliseconds, in ts[40]. */
static void
iso_time(uint64_t time_ms, char ts[40])
{
    time_t secs = (time_t)(time_ms / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    strftime(ts, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + strlen(ts), 40 - strlen(ts), ".%03uZ", (unsigned)(time_ms % 1000));
}

/* The form text of datum number idx (1-based) of a body; ts: the record's
 * time (iso_time). */
static char *
datum(const struct cw_record *r, const char *ts, const struct cw_value *v, size_t idx,
      size_t *lenp)
{
    char *b = NULL, pre[80];
    size_t len = 0, cap = 0;

    snprintf(pre, sizeof(pre), "&MetricData.member.%zu.", idx);
    buf_str(&b, &len, &cap, pre);
    buf_str(&b, &len, &cap, "MetricName=");
    cw_form_escape(&b, &len, &cap, v->name);
    if (!v->n_values) {
        buf_str(&b, &len, &cap, pre);
        buf_str(&b, &len, &cap, "Value=");
        num(&b, &len, &cap, v->value);
    }
    for (size_t i = 0; i < v->n_values; i++) {
        snprintf(pre, sizeof(pre), "&MetricData.member.%zu.Values.member.%zu=", idx, i + 1);
        buf_str(&b, &len, &cap, pre);
        num(&b, &len, &cap, v->values[i]);
        snprintf(pre, sizeof(pre), "&MetricData.member.%zu.Counts.member.%zu=", idx, i + 1);
        buf_str(&b, &len, &cap, pre);
        num(&b, &len, &cap, v->counts[i]);
    }
    snprintf(pre, sizeof(pre), "&MetricData.member.%zu.", idx);
    buf_str(&b, &len, &cap, pre);
    buf_str(&b, &len, &cap, "Timestamp=");
    cw_form_escape(&b, &len, &cap, ts);
    buf_str(&b, &len, &cap, pre);
    buf_str(&b, &len, &cap, "Unit=");
    cw_form_escape(&b, &len, &cap, v->unit);
    for (size_t i = 0; i < r->n_dims; i++) {
        snprintf(pre, sizeof(pre), "&MetricData.member.%zu.Dimensions.member.%zu.", idx,
                 i + 1);
        buf_str(&b, &len, &cap, pre);
        buf_str(&b, &len, &cap, "Name=");
        cw_form_escape(&b, &len, &cap, r->dims[i].name);
        buf_str(&b, &len, &cap, pre);
        buf_str(&b, &len, &cap, "Value=");
        cw_form_escape(&b, &len, &cap, r->dims[i].value);
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
cw_batch_build(const struct cw_batch_opts *o, const struct cw_records *rs,
               struct cw_batches *out, char *err, size_t errlen)
{
    struct cw_body cur;
    size_t cap, base;

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
    for (size_t i = 0; i < rs->n; i++) {
        const struct cw_record *r = &rs->r[i];
        char ts[40];
        iso_time(r->time_ms, ts);
        for (size_t k = 0; k < r->n; k++) {
            size_t dl;
            char *t = datum(r, ts, &r->v[k], cur.n_metrics + 1, &dl);
            if (cur.n_metrics && (cur.n_metrics == o->max_metrics ||
                                  cur.len + dl > o->max_bytes)) {
                batches_add(out, &cur);
                body_start(&cur, &cap, o->namespace_);
                free(t);
                t = datum(r, ts, &r->v[k], 1, &dl);
            }
            if (cur.len + dl > o->max_bytes) {
                out->skipped_too_big++;
            } else {
                buf_add(&cur.text, &cur.len, &cap, t, dl);
                cur.n_metrics++;
            }
            free(t);
        }
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
