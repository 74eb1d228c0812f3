/* cw_emf.c: Embedded Metric Format events, one per record of up to 100
 * metrics; see cw.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"

struct jb {
    char *s;
    size_t len, cap;
};

static void
jb_add(struct jb *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 512;
        while (c < b->len + n + 1)
            c *= 2;
        char *g = realloc(b->s, c);
        if (!g)
            abort();
        b->s = g;
        b->cap = c;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
jb_str(struct jb *b, const char *s)
{
    jb_add(b, s, strlen(s));
}

/* A JSON string literal. */
static void
jb_quote(struct jb *b, const char *s)
{
    jb_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char e[8];
        if (ch == '"' || ch == '\\') {
            e[0] = '\\';
            e[1] = (char)ch;
            jb_add(b, e, 2);
        } else if (ch < 0x20) {
            snprintf(e, sizeof(e), "\\u%04x", ch);
            jb_add(b, e, 6);
        } else {
            jb_add(b, (const char *)&ch, 1);
        }
    }
    jb_add(b, "\"", 1);
}

static void
jb_num(struct jb *b, double v)
{
    char t[40];
    snprintf(t, sizeof(t), "%.17g", v);
    jb_str(b, t);
}

/* A value cannot be a root member when its name is taken. */
static int
name_taken(const struct cw_record *r, const char *name)
{
    if (strcmp(name, "_aws") == 0 || (r->type && strcmp(name, "Type") == 0))
        return 1;
    for (size_t i = 0; i < r->n_dims; i++)
        if (strcmp(r->dims[i].name, name) == 0)
            return 1;
    return 0;
}

/* One event for the values v[from..to) that can be written. */
static void
event(struct jb *b, const char *ns, const struct cw_record *r, size_t from, size_t to)
{
    char t[32];

    snprintf(t, sizeof(t), "%llu", (unsigned long long)r->time_ms);
    jb_str(b, "{\"_aws\":{\"Timestamp\":");
    jb_str(b, t);
    jb_str(b, ",\"CloudWatchMetrics\":[{\"Namespace\":");
    jb_quote(b, ns);
    jb_str(b, ",\"Dimensions\":[[");
    for (size_t i = 0; i < r->n_dims; i++) {
        if (i)
            jb_add(b, ",", 1);
        jb_quote(b, r->dims[i].name);
    }
    jb_str(b, "]],\"Metrics\":[");
    for (size_t i = from, first = 1; i < to; i++) {
        if (name_taken(r, r->v[i].name))
            continue;
        if (!first)
            jb_add(b, ",", 1);
        first = 0;
        jb_str(b, "{\"Name\":");
        jb_quote(b, r->v[i].name);
        jb_str(b, ",\"Unit\":");
        jb_quote(b, r->v[i].unit);
        jb_add(b, "}", 1);
    }
    jb_str(b, "]}]}");
    for (size_t i = 0; i < r->n_dims; i++) {
        jb_add(b, ",", 1);
        jb_quote(b, r->dims[i].name);
        jb_add(b, ":", 1);
        jb_quote(b, r->dims[i].value);
    }
    if (r->type) {
        jb_str(b, ",\"Type\":");
        jb_quote(b, r->type);
    }
    for (size_t i = from; i < to; i++) {
        const struct cw_value *v = &r->v[i];
        if (name_taken(r, v->name))
            continue;
        jb_add(b, ",", 1);
        jb_quote(b, v->name);
        jb_add(b, ":", 1);
        if (!v->n_values) {
            jb_num(b, v->value);
            continue;
        }
        /* EMF has no counts: a distribution goes as its values only. */
        jb_add(b, "[", 1);
        for (size_t k = 0; k < v->n_values && k < CW_EMF_MAX_METRICS; k++) {
            if (k)
                jb_add(b, ",", 1);
            jb_num(b, v->values[k]);
        }
        jb_add(b, "]", 1);
    }
    jb_str(b, "}\n");
}

char *
cw_emf_record(const char *ns, const struct cw_record *r, size_t *len, size_t *events,
              size_t *skipped)
{
    struct jb b = {0};
    size_t from = 0;

    *events = 0;
    *skipped = 0;
    for (size_t i = 0; i < r->n; i++)
        *skipped += (size_t)name_taken(r, r->v[i].name);
    /* Chunks of CW_EMF_MAX_METRICS writable values. */
    while (from < r->n) {
        size_t to = from, k = 0;
        while (to < r->n && k < CW_EMF_MAX_METRICS)
            k += (size_t)!name_taken(r, r->v[to++].name);
        if (k) {
            event(&b, ns, r, from, to);
            (*events)++;
        }
        from = to;
    }
    *len = b.len;
    return b.s;
}
