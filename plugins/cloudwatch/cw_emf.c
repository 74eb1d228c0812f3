/* cw_emf.c: Embedded Metric Format events, one per sample; see cw.h. */
#include <math.h>
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

char *
cw_emf_line(const char *ns, const char *cluster, const struct berth_metric *m,
            uint64_t now_ms)
{
    const char *dn[CW_MAX_DIMENSIONS], *dv[CW_MAX_DIMENSIONS];
    static const char *const ecs[] = {"ClusterName", "ServiceName",
                                      "TaskDefinitionFamily"};
    size_t nd = 0;
    struct jb b = {0};
    char num[64];

    if (!isfinite(m->value))
        return NULL;
    for (size_t e = 0; e < 3; e++) {
        const char *v = NULL;
        for (size_t i = 0; i < m->n_labels && !v; i++) {
            const char *d = cw_dimension_name(m->labels[i].name);
            if (d && strcmp(d, ecs[e]) == 0 && m->labels[i].value && *m->labels[i].value)
                v = m->labels[i].value;
        }
        if (!v && e == 0 && cluster && *cluster)
            v = cluster;
        if (v) {
            dn[nd] = ecs[e];
            dv[nd++] = v;
        }
    }
    for (size_t i = 0; i < m->n_labels && nd < CW_MAX_DIMENSIONS; i++) {
        const char *n = m->labels[i].name;
        /* A member cannot be both a dimension and the metric, nor _aws. */
        if (cw_dimension_name(n) || !m->labels[i].value || !*m->labels[i].value ||
            strcmp(n, m->name) == 0 || strcmp(n, "_aws") == 0)
            continue;
        dn[nd] = n;
        dv[nd++] = m->labels[i].value;
    }
    snprintf(num, sizeof(num), "%llu",
             (unsigned long long)(m->time_ms ? m->time_ms : now_ms));
    jb_str(&b, "{\"_aws\":{\"Timestamp\":");
    jb_str(&b, num);
    jb_str(&b, ",\"CloudWatchMetrics\":[{\"Namespace\":");
    jb_quote(&b, ns);
    jb_str(&b, ",\"Dimensions\":[[");
    for (size_t i = 0; i < nd; i++) {
        if (i)
            jb_add(&b, ",", 1);
        jb_quote(&b, dn[i]);
    }
    jb_str(&b, "]],\"Metrics\":[{\"Name\":");
    jb_quote(&b, m->name);
    jb_str(&b, m->type == BERTH_METRIC_COUNTER ? ",\"Unit\":\"Count\"}]}]}"
                                               : ",\"Unit\":\"None\"}]}]}");
    for (size_t i = 0; i < nd; i++) {
        jb_add(&b, ",", 1);
        jb_quote(&b, dn[i]);
        jb_add(&b, ":", 1);
        jb_quote(&b, dv[i]);
    }
    jb_add(&b, ",", 1);
    jb_quote(&b, m->name);
    snprintf(num, sizeof(num), ":%.17g}\n", m->value);
    jb_str(&b, num);
    return b.s;
}
