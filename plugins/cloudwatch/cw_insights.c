/* cw_insights.c: Container Insights' ECS metrics from the agent's
 * container, task and service series; see cw.h.
 *
 * Containers are gathered by their engine id, tasks by task id, and the
 * tasks summed into three kinds of group (cluster, service, family), each
 * published as one record.  A rate divides the growth of a container's
 * counters by the time between its two stats readings (container_last_seen),
 * not by the time between exports, so an export interval that differs from
 * the collection interval does not skew it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"

/* The counters read per container, with the reading's time first. */
enum { C_SEEN, C_CPU, C_RX, C_TX, C_RD, C_WR, C_N };

static const char *const counter_names[C_N] = {
    "container_last_seen",
    "container_cpu_usage_seconds_total",
    "container_network_receive_bytes_total",
    "container_network_transmit_bytes_total",
    "container_fs_reads_bytes_total",
    "container_fs_writes_bytes_total",
};

struct ctr {
    const char *id, *task, *cluster, *service, *family;
    double c[C_N];
    unsigned have; /* bit per counter */
    double ws;
    int have_ws;
};

struct tsk {
    const char *task, *cluster, *service, *family;
    double cpu, mem, rx, tx, rd, wr, cpu_res, mem_res;
    int rates_ok, mem_ok, cpu_res_ok, mem_res_ok;
};

enum kind { K_CLUSTER, K_SERVICE, K_FAMILY };

struct grp {
    enum kind kind;
    const char *cluster, *name;
    double cpu, mem, rx, tx, rd, wr, cpu_res, mem_res;
    int rates_ok, mem_ok, cpu_res_ok, mem_res_ok;
    size_t tasks;
    double running, pending, desired;
    int have_counts;
};

struct vec {
    void *v;
    size_t n, cap, size, last;
};

static void *
vec_push(struct vec *x)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 16;
        if (!(x->v = realloc(x->v, x->cap * x->size)))
            abort();
    }
    void *p = (char *)x->v + x->n++ * x->size;
    memset(p, 0, x->size);
    return p;
}

static const char *
label(const struct berth_metric *m, const char *name)
{
    for (size_t i = 0; i < m->n_labels; i++)
        if (strcmp(m->labels[i].name, name) == 0)
            return m->labels[i].value ? m->labels[i].value : "";
    return NULL;
}

static struct ctr *
ctr_get(struct vec *cs, const char *id)
{
    struct ctr *v = cs->v;
    if (cs->last < cs->n && strcmp(v[cs->last].id, id) == 0)
        return &v[cs->last];
    for (size_t i = 0; i < cs->n; i++)
        if (strcmp(v[i].id, id) == 0)
            return &v[cs->last = i];
    struct ctr *c = vec_push(cs);
    c->id = id;
    cs->last = cs->n - 1;
    return c;
}

static struct tsk *
tsk_get(struct vec *ts, const char *task)
{
    struct tsk *v = ts->v;
    for (size_t i = 0; i < ts->n; i++)
        if (strcmp(v[i].task, task) == 0)
            return &v[i];
    struct tsk *t = vec_push(ts);
    t->task = task;
    t->rates_ok = t->mem_ok = 1;
    return t;
}

static struct grp *
grp_get(struct vec *gs, enum kind k, const char *cluster, const char *name)
{
    struct grp *v = gs->v;
    for (size_t i = 0; i < gs->n; i++)
        if (v[i].kind == k && strcmp(v[i].cluster, cluster) == 0 &&
            strcmp(v[i].name, name) == 0)
            return &v[i];
    struct grp *g = vec_push(gs);
    g->kind = k;
    g->cluster = cluster;
    g->name = name;
    g->rates_ok = g->mem_ok = g->cpu_res_ok = g->mem_res_ok = 1;
    return g;
}

static void
grp_add(struct grp *g, const struct tsk *t)
{
    g->tasks++;
    g->cpu += t->cpu;
    g->mem += t->mem;
    g->rx += t->rx;
    g->tx += t->tx;
    g->rd += t->rd;
    g->wr += t->wr;
    g->cpu_res += t->cpu_res;
    g->mem_res += t->mem_res;
    g->rates_ok &= t->rates_ok;
    g->mem_ok &= t->mem_ok;
    g->cpu_res_ok &= t->cpu_res_ok;
    g->mem_res_ok &= t->mem_res_ok;
}

/* Collects what the samples say about containers, tasks and services. */
static void
gather(const struct berth_metric *m, size_t n, const char *cluster, struct vec *cs,
       struct vec *ts, struct vec *gs, double *running_tasks, int *have_running)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = m[i].name, *cl = label(&m[i], "cluster");
        if (!cl || !*cl)
            cl = cluster;
        if (strncmp(name, "container_", 10) == 0) {
            const char *id = label(&m[i], "id"), *task = label(&m[i], "task");
            if (!id || !task || !*task)
                continue;
            int k = -1;
            for (int j = 0; j < C_N; j++)
                if (strcmp(name, counter_names[j]) == 0)
                    k = j;
            int ws = strcmp(name, "container_memory_working_set_bytes") == 0;
            if (k < 0 && !ws)
                continue;
            struct ctr *c = ctr_get(cs, id);
            c->task = task;
            c->cluster = cl;
            c->service = label(&m[i], "service");
            c->family = label(&m[i], "family");
            if (ws) {
                c->ws = m[i].value;
                c->have_ws = 1;
            } else {
                c->c[k] = m[i].value;
                c->have |= 1u << k;
            }
        } else if (strcmp(name, "ecs_task_cpu_reserved_units") == 0 ||
                   strcmp(name, "ecs_task_memory_reserved_bytes") == 0) {
            const char *task = label(&m[i], "task");
            if (!task || !*task)
                continue;
            struct tsk *t = tsk_get(ts, task);
            if (name[9] == 'c') {
                t->cpu_res = m[i].value;
                t->cpu_res_ok = 1;
            } else {
                t->mem_res = m[i].value;
                t->mem_res_ok = 1;
            }
        } else if (strncmp(name, "ecs_service_", 12) == 0) {
            const char *svc = label(&m[i], "service");
            double *slot = NULL;
            if (!svc || !*svc)
                continue;
            struct grp *g = grp_get(gs, K_SERVICE, cl, svc);
            if (strcmp(name, "ecs_service_running_tasks") == 0)
                slot = &g->running;
            else if (strcmp(name, "ecs_service_pending_tasks") == 0)
                slot = &g->pending;
            else if (strcmp(name, "ecs_service_desired_tasks") == 0)
                slot = &g->desired;
            if (slot) {
                *slot = m[i].value;
                g->have_counts = 1;
            }
        } else if (strcmp(name, "berth_tasks") == 0) {
            const char *st = label(&m[i], "state");
            if (st && strcmp(st, "RUNNING") == 0) {
                *running_tasks = m[i].value;
                *have_running = 1;
            }
        }
    }
}

/* Each container's rates and growth since its previous reading, summed
 * into its task. */
static void
containers_to_tasks(struct cw_delta *d, struct vec *cs, struct vec *ts)
{
    struct ctr *c = cs->v;
    for (size_t i = 0; i < cs->n; i++) {
        double prev[C_N];
        int ok = c[i].have == (1u << C_N) - 1;
        char key[300];

        /* The id alone is the key: a container belongs to one task. */
        snprintf(key, sizeof(key), "ctr\x1f%s", c[i].id);
        int had = ok && cw_delta_step(d, key, c[i].c, C_N, prev);
        double dt = had ? c[i].c[C_SEEN] - prev[C_SEEN] : 0;
        for (int k = 1; had && k < C_N; k++)
            if (c[i].c[k] < prev[k])
                had = 0; /* restarted in place: no rate this time */
        struct tsk *t = tsk_get(ts, c[i].task);
        t->cluster = c[i].cluster;
        t->service = c[i].service;
        t->family = c[i].family;
        if (!c[i].have_ws)
            t->mem_ok = 0;
        t->mem += c[i].ws;
        /* Rates kept for exports that find no new reading. */
        snprintf(key, sizeof(key), "rate\x1f%s", c[i].id);
        if (had && dt <= 0) {
            const double *r = cw_delta_get(d, key, 3);
            if (!r) {
                t->rates_ok = 0;
                continue;
            }
            t->cpu += r[0];
            t->rx += r[1];
            t->tx += r[2];
            continue; /* and nothing read or written since */
        }
        if (!had) {
            t->rates_ok = 0;
            continue;
        }
        double r[3] = {(c[i].c[C_CPU] - prev[C_CPU]) / dt * 1024.0,
                       (c[i].c[C_RX] - prev[C_RX]) / dt, (c[i].c[C_TX] - prev[C_TX]) / dt};
        cw_delta_step(d, key, r, 3, NULL);
        t->cpu += r[0];
        t->rx += r[1];
        t->tx += r[2];
        t->rd += c[i].c[C_RD] - prev[C_RD];
        t->wr += c[i].c[C_WR] - prev[C_WR];
    }
}

static const char *const kind_dim[] = {NULL, "ServiceName", "TaskDefinitionFamily"};
static const char *const kind_type[] = {"Cluster", "Service", "TaskDefinitionFamily"};

static void
publish(const struct grp *g, size_t services, double running_tasks, int have_running,
        uint64_t now_ms, struct cw_records *out)
{
    struct cw_dim d[2] = {{"ClusterName", g->cluster}, {kind_dim[g->kind], g->name}};
    struct cw_record *r = cw_records_get(out, d, g->kind == K_CLUSTER ? 1 : 2,
                                         kind_type[g->kind], now_ms);
    const double mb = 1048576.0;

    if (g->tasks) {
        if (g->rates_ok) {
            cw_record_add(out, r, "CpuUtilized", "None", g->cpu);
            cw_record_add(out, r, "NetworkRxBytes", "Bytes/Second", g->rx);
            cw_record_add(out, r, "NetworkTxBytes", "Bytes/Second", g->tx);
            cw_record_add(out, r, "StorageReadBytes", "Bytes", g->rd);
            cw_record_add(out, r, "StorageWriteBytes", "Bytes", g->wr);
        }
        if (g->cpu_res_ok)
            cw_record_add(out, r, "CpuReserved", "None", g->cpu_res);
        if (g->mem_ok)
            cw_record_add(out, r, "MemoryUtilized", "Megabytes", g->mem / mb);
        if (g->mem_res_ok)
            cw_record_add(out, r, "MemoryReserved", "Megabytes", g->mem_res / mb);
    }
    switch (g->kind) {
    case K_CLUSTER:
        cw_record_add(out, r, "TaskCount", "Count",
                      have_running ? running_tasks : (double)g->tasks);
        cw_record_add(out, r, "ServiceCount", "Count", (double)services);
        break;
    case K_SERVICE:
        if (g->have_counts) {
            cw_record_add(out, r, "RunningTaskCount", "Count", g->running);
            cw_record_add(out, r, "PendingTaskCount", "Count", g->pending);
            cw_record_add(out, r, "DesiredTaskCount", "Count", g->desired);
        }
        break;
    case K_FAMILY:
        cw_record_add(out, r, "RunningTaskCount", "Count", (double)g->tasks);
        break;
    }
    if (r->n == 0) /* nothing to say */
        cw_records_pop(out);
}

void
cw_insights(struct cw_delta *d, const char *cluster, const struct berth_metric *m,
            size_t n, uint64_t now_ms, struct cw_records *out)
{
    struct vec cs = {.size = sizeof(struct ctr)}, ts = {.size = sizeof(struct tsk)},
               gs = {.size = sizeof(struct grp)};
    double running_tasks = 0;
    int have_running = 0;
    size_t services = 0;

    gather(m, n, cluster, &cs, &ts, &gs, &running_tasks, &have_running);
    containers_to_tasks(d, &cs, &ts);

    struct grp *gv = gs.v;
    for (size_t i = 0; i < gs.n; i++)
        services += gv[i].have_counts;
    grp_get(&gs, K_CLUSTER, cluster, "");
    struct tsk *t = ts.v;
    for (size_t i = 0; i < ts.n; i++) {
        if (!t[i].cluster)
            continue; /* reservations of a task whose containers are gone */
        grp_add(grp_get(&gs, K_CLUSTER, t[i].cluster, ""), &t[i]);
        if (t[i].service && *t[i].service)
            grp_add(grp_get(&gs, K_SERVICE, t[i].cluster, t[i].service), &t[i]);
        if (t[i].family && *t[i].family)
            grp_add(grp_get(&gs, K_FAMILY, t[i].cluster, t[i].family), &t[i]);
    }
    gv = gs.v;
    for (size_t i = 0; i < gs.n; i++)
        publish(&gv[i], services, running_tasks, have_running, now_ms, out);
    free(cs.v);
    free(ts.v);
    free(gs.v);
}
