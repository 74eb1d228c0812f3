/* cw_record.c: the records of one export, dimensions and units; see cw.h. */
#define _GNU_SOURCE /* stpcpy */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"

static void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        abort();
    return q;
}

char *
cw_strdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
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

size_t
cw_dimensions(const struct berth_label *l, size_t nl, const char *cluster,
              struct cw_dim out[CW_MAX_DIMENSIONS], int *truncated)
{
    static const char *const ecs[] = {"ClusterName", "ServiceName",
                                      "TaskDefinitionFamily"};
    size_t n = 0;

    *truncated = 0;
    for (size_t e = 0; e < 3; e++) {
        const char *v = NULL;
        for (size_t i = 0; i < nl && !v; i++) {
            const char *d = cw_dimension_name(l[i].name);
            if (d && strcmp(d, ecs[e]) == 0 && l[i].value && *l[i].value)
                v = l[i].value;
        }
        if (!v && e == 0 && cluster && *cluster)
            v = cluster;
        if (v)
            out[n++] = (struct cw_dim){ecs[e], v};
    }
    for (size_t i = 0; i < nl; i++) {
        if (cw_dimension_name(l[i].name) || !l[i].value || !*l[i].value)
            continue;
        if (n == CW_MAX_DIMENSIONS) {
            *truncated = 1;
            break;
        }
        out[n++] = (struct cw_dim){l[i].name, l[i].value};
    }
    return n;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

const char *
cw_unit(const char *name, enum berth_metric_type t)
{
    if (ends_with(name, "_seconds") || ends_with(name, "_seconds_total"))
        return "Seconds";
    if (ends_with(name, "_bytes") || ends_with(name, "_bytes_total"))
        return "Bytes";
    if (ends_with(name, "_percent"))
        return "Percent";
    return t == BERTH_METRIC_COUNTER ? "Count" : "None";
}

char *
cw_series_key(const char *name, const struct berth_label *l, size_t nl)
{
    size_t len = strlen(name) + 1;
    for (size_t i = 0; i < nl; i++)
        len += strlen(l[i].name) + strlen(l[i].value ? l[i].value : "") + 2;
    char *k = xrealloc(NULL, len), *p = k;
    p = stpcpy(p, name);
    /* \x1f and \x1e cannot occur in names, and separate values unambiguously
     * enough for keys built the same way each time. */
    for (size_t i = 0; i < nl; i++) {
        *p++ = '\x1f';
        p = stpcpy(p, l[i].name);
        *p++ = '\x1e';
        p = stpcpy(p, l[i].value ? l[i].value : "");
    }
    return k;
}

static int
same(const struct cw_record *r, const struct cw_dim *d, size_t nd, const char *type)
{
    if (r->n_dims != nd || r->type != type)
        return 0;
    for (size_t i = 0; i < nd; i++)
        if (strcmp(r->dims[i].value, d[i].value) != 0 ||
            strcmp(r->dims[i].name, d[i].name) != 0)
            return 0;
    return 1;
}

struct cw_record *
cw_records_get(struct cw_records *rs, const struct cw_dim *d, size_t nd, const char *type,
               uint64_t time_ms)
{
    struct cw_record *r = NULL;

    if (nd > CW_MAX_DIMENSIONS)
        nd = CW_MAX_DIMENSIONS;
    if (rs->last < rs->n && same(&rs->r[rs->last], d, nd, type))
        r = &rs->r[rs->last];
    for (size_t i = 0; !r && i < rs->n; i++)
        if (same(&rs->r[i], d, nd, type)) {
            rs->last = i;
            r = &rs->r[i];
        }
    if (r) {
        if (time_ms > r->time_ms) /* the newest of its values' times */
            r->time_ms = time_ms;
        return r;
    }
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
    }
    r = &rs->r[rs->n];
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < nd; i++)
        r->dims[i] = (struct cw_dim){cw_strdup(d[i].name), cw_strdup(d[i].value)};
    r->n_dims = nd;
    r->type = type;
    r->time_ms = time_ms;
    rs->last = rs->n;
    return &rs->r[rs->n++];
}

static struct cw_value *
value_new(struct cw_record *r, const char *name, const char *unit)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
    }
    struct cw_value *v = &r->v[r->n++];
    memset(v, 0, sizeof(*v));
    v->name = cw_strdup(name);
    v->unit = unit;
    return v;
}

void
cw_record_add(struct cw_records *rs, struct cw_record *r, const char *name,
              const char *unit, double x)
{
    if (!isfinite(x)) {
        rs->skipped_invalid++;
        return;
    }
    value_new(r, name, unit)->value = x;
}

void
cw_record_add_dist(struct cw_records *rs, struct cw_record *r, const char *name,
                   const char *unit, const double *values, const double *counts, size_t n)
{
    size_t groups = n, per = 1;

    for (size_t i = 0; i < n; i++)
        if (!isfinite(values[i]) || !isfinite(counts[i]) || counts[i] <= 0) {
            rs->skipped_invalid++;
            return;
        }
    if (n == 0)
        return;
    if (n > CW_MAX_VALUES) {
        per = (n + CW_MAX_VALUES - 1) / CW_MAX_VALUES;
        groups = (n + per - 1) / per;
    }
    struct cw_value *v = value_new(r, name, unit);
    v->values = xrealloc(NULL, groups * sizeof(double));
    v->counts = xrealloc(NULL, groups * sizeof(double));
    v->n_values = groups;
    /* Neighbours merged into their count-weighted mean. */
    for (size_t g = 0; g < groups; g++) {
        double c = 0, s = 0;
        for (size_t i = g * per; i < n && i < (g + 1) * per; i++) {
            c += counts[i];
            s += values[i] * counts[i];
        }
        v->values[g] = s / c;
        v->counts[g] = c;
    }
}

static void
record_free(struct cw_record *r)
{
    for (size_t k = 0; k < r->n_dims; k++) {
        free((char *)r->dims[k].name);
        free((char *)r->dims[k].value);
    }
    for (size_t k = 0; k < r->n; k++) {
        free(r->v[k].name);
        free(r->v[k].values);
        free(r->v[k].counts);
    }
    free(r->v);
}

void
cw_records_pop(struct cw_records *rs)
{
    if (!rs->n)
        return;
    record_free(&rs->r[--rs->n]);
    rs->last = 0;
}

void
cw_records_free(struct cw_records *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        record_free(&rs->r[i]);
    free(rs->r);
    memset(rs, 0, sizeof(*rs));
}
