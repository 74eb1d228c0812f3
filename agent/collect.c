/* collect.c: container stats and ECS's figures as metric series (collect.h). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/collect.h"
#include "agent/histo.h"
#include "agent/log.h"
#include "agent/runtime.h"
#include "agent/service.h"
#include "agent/services.h"
#include "agent/task.h"
#include "agent/tasks.h"

/* What is known of one container between rounds. */
struct cstate {
    struct collect *c;
    char *id;
    char *task; /* its task's id */
    struct berth_container_stats prev, cur;
    bool have_prev, have_cur;
    bool inflight;
    bool seen; /* still a running container of a running task this round */
    struct cstate *next;
};

struct collect {
    struct ev_loop *loop;
    struct tasks *tasks;
    struct services *services;
    char *cluster;
    collect_emit_fn emit;
    collect_forget_fn forget;
    void *arg;
    ev_timer timer;
    uint64_t interval_ms;
    struct cstate *ctrs;
    double stats_ok, stats_failed;
    struct api_count *api;
    struct api_latency *lat;
    struct histo reconcile;
    int reconcile_ready;
    collect_histogram_fn emit_histogram;
};

/* berth_api_requests_total: one per (action, error) seen. */
struct api_count {
    char *action, *error;
    double n;
    struct api_count *next;
};

/* berth_api_request_duration_seconds{action}: one per action seen. */
struct api_latency {
    char *action;
    struct histo h;
    struct api_latency *next;
};

/* ---- series ---- */

static void
put(collect_emit_fn emit, void *arg, const char *name, const char *help,
    enum berth_metric_type type, double v, const struct berth_label *l, size_t n)
{
    struct berth_metric m = {.name = name, .help = help, .type = type, .value = v,
                             .labels = l, .n_labels = n};
    emit(arg, &m);
}

void
collect_container_series(const struct collect_ctr_labels *cl,
                         const struct berth_container_stats *s, int restarts,
                         int64_t started_ms, enum berth_ctr_health health,
                         collect_emit_fn emit, void *arg)
{
    const struct berth_label l[] = {
        {"id", cl->id},           {"name", cl->name},       {"image", cl->image},
        {"cluster", cl->cluster}, {"service", cl->service}, {"task", cl->task},
        {"family", cl->family},
    };
    const size_t n = sizeof(l) / sizeof(l[0]);
    const enum berth_metric_type C = BERTH_METRIC_COUNTER, G = BERTH_METRIC_GAUGE;

    put(emit, arg, "container_cpu_usage_seconds_total",
        "Cumulative cpu time consumed, in seconds.", C, (double)s->cpu_total_ns / 1e9, l, n);
    put(emit, arg, "container_cpu_user_seconds_total",
        "Cumulative user cpu time consumed, in seconds.", C, (double)s->cpu_user_ns / 1e9, l, n);
    put(emit, arg, "container_cpu_system_seconds_total",
        "Cumulative system cpu time consumed, in seconds.", C,
        (double)s->cpu_system_ns / 1e9, l, n);
    put(emit, arg, "container_cpu_cfs_throttled_seconds_total",
        "Total time the container was throttled, in seconds.", C,
        (double)s->cpu_throttled_ns / 1e9, l, n);
    put(emit, arg, "container_memory_usage_bytes",
        "Current memory usage, cache included, in bytes.", G, (double)s->memory_usage, l, n);
    put(emit, arg, "container_memory_working_set_bytes",
        "Current working set (usage minus inactive file pages), in bytes.", G,
        (double)s->memory_working_set, l, n);
    put(emit, arg, "container_memory_rss", "Size of RSS, in bytes.", G,
        (double)s->memory_rss, l, n);
    put(emit, arg, "container_memory_cache", "Size of the page cache, in bytes.", G,
        (double)s->memory_cache, l, n);
    put(emit, arg, "container_spec_memory_limit_bytes",
        "Memory limit of the container, in bytes (0: none).", G, (double)s->memory_limit, l, n);
    put(emit, arg, "container_network_receive_bytes_total",
        "Cumulative bytes received, all interfaces.", C, (double)s->net_rx_bytes, l, n);
    put(emit, arg, "container_network_transmit_bytes_total",
        "Cumulative bytes transmitted, all interfaces.", C, (double)s->net_tx_bytes, l, n);
    put(emit, arg, "container_fs_reads_bytes_total",
        "Cumulative bytes read from block devices.", C, (double)s->blk_read_bytes, l, n);
    put(emit, arg, "container_fs_writes_bytes_total",
        "Cumulative bytes written to block devices.", C, (double)s->blk_write_bytes, l, n);
    put(emit, arg, "container_processes", "Number of processes in the container.", G,
        (double)s->pids, l, n);
    if (s->time_ms > 0)
        put(emit, arg, "container_last_seen",
            "Last time the container's stats were read, in Unix seconds.", G,
            (double)s->time_ms / 1e3, l, n);
    if (started_ms > 0)
        put(emit, arg, "container_start_time_seconds",
            "Start time of the container, in Unix seconds.", G, (double)started_ms / 1e3, l, n);
    put(emit, arg, "berth_container_restarts_total",
        "In-place restarts of the container (restartPolicy).", C, restarts, l, n);
    put(emit, arg, "berth_container_health_status",
        "The engine's health verdict: 0 none or starting, 1 healthy, 2 unhealthy.", G,
        health == BERTH_HEALTH_HEALTHY ? 1 : health == BERTH_HEALTH_UNHEALTHY ? 2 : 0, l, n);
}

double
collect_cpu_cores(const struct berth_container_stats *prev,
                  const struct berth_container_stats *cur)
{
    if (cur->time_ms <= prev->time_ms || cur->cpu_total_ns < prev->cpu_total_ns)
        return -1;
    return (double)(cur->cpu_total_ns - prev->cpu_total_ns) /
           ((double)(cur->time_ms - prev->time_ms) * 1e6);
}

const char *
collect_service_of(const char *group)
{
    return group && strncmp(group, "service:", 8) == 0 ? group + 8 : "";
}

/* ---- container state ---- */

static struct cstate *
cstate_get(struct collect *c, const char *id, const char *task)
{
    for (struct cstate *s = c->ctrs; s; s = s->next)
        if (strcmp(s->id, id) == 0)
            return s;
    struct cstate *s = calloc(1, sizeof(*s));
    if (!s || !(s->id = strdup(id)) || !(s->task = strdup(task))) {
        if (s)
            free(s->id);
        free(s);
        return NULL;
    }
    s->c = c;
    s->next = c->ctrs;
    c->ctrs = s;
    return s;
}

static void
cstate_free(struct collect *c, struct cstate *s)
{
    if (s->inflight)
        runtime_forget(tasks_runtime(c->tasks), s);
    free(s->id);
    free(s->task);
    free(s);
}

static bool
task_has_containers(const struct collect *c, const char *task)
{
    for (const struct cstate *s = c->ctrs; s; s = s->next)
        if (strcmp(s->task, task) == 0)
            return true;
    return false;
}

/* Drops the containers not seen this round, and their series. */
static void
sweep(struct collect *c)
{
    struct cstate **pp = &c->ctrs;
    while (*pp) {
        struct cstate *s = *pp;
        if (s->seen) {
            s->seen = false;
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        c->forget(c->arg, "id", s->id);
        if (!task_has_containers(c, s->task))
            c->forget(c->arg, "task", s->task);
        cstate_free(c, s);
    }
}

/* ---- a round ---- */

static bool
task_counts(const struct task *t)
{
    return t->last_status == TASK_RUNNING;
}

static void
on_stats(void *arg, enum berth_rt_code code, const struct berth_container_stats *st,
         const char *msg)
{
    struct cstate *s = arg;
    struct collect *c = s->c;

    s->inflight = false;
    if (code != BERTH_RT_OK || !st) {
        c->stats_failed++;
        log_debug("collect.stats_failed", "id=%.12s code=%s msg=\"%s\"", s->id,
                  runtime_code_name(code), msg ? msg : "");
        return;
    }
    c->stats_ok++;
    if (s->have_cur) {
        s->prev = s->cur;
        s->have_prev = true;
    }
    s->cur = *st;
    if (s->cur.struct_size > sizeof(s->cur))
        s->cur.struct_size = sizeof(s->cur);
    s->have_cur = true;

    /* The container's series, labelled from its task (if it still runs). */
    struct task **all;
    size_t n = tasks_all(c->tasks, &all);
    for (size_t i = 0; i < n; i++) {
        int k = task_container_by_id(all[i], s->id);
        if (k < 0)
            continue;
        const struct task *t = all[i];
        const struct task_container *tc = &t->containers[k];
        struct collect_ctr_labels l = {
            .id = s->id, .name = tc->name, .image = tc->image ? tc->image : "",
            .cluster = c->cluster, .service = collect_service_of(t->group),
            .task = t->id, .family = t->family ? t->family : ""};
        collect_container_series(&l, &s->cur, tc->restarts, tc->started_at_ms,
                                 tc->engine_health, c->emit, c->arg);
        break;
    }
}

/* Per service: used and reserved cpu units and memory bytes. */
struct svc_sum {
    const char *name;
    double cpu_used, cpu_res, mem_used, mem_res;
    bool cpu_ok, mem_ok;
};

static struct svc_sum *
svc_sum_get(struct svc_sum **v, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].name, name) == 0)
            return &(*v)[i];
    struct svc_sum *nv = realloc(*v, (*n + 1) * sizeof(*nv));
    if (!nv)
        return NULL;
    *v = nv;
    memset(&nv[*n], 0, sizeof(nv[*n]));
    nv[*n].name = name;
    return &nv[(*n)++];
}

/* ECS's utilization of one task from its containers' last readings. */
static void
task_figures(struct collect *c, const struct task *t, struct svc_sum *sum)
{
    double cores = 0, mem = 0, mem_limits = 0, host_units = 0;
    bool cpu_ok = true, any = false;

    for (size_t k = 0; k < t->n_containers; k++) {
        const struct task_container *tc = &t->containers[k];
        if (tc->status != CTR_RUNNING || !tc->runtime_id)
            continue;
        struct cstate *s = NULL;
        for (s = c->ctrs; s; s = s->next)
            if (strcmp(s->id, tc->runtime_id) == 0)
                break;
        if (!s || !s->have_cur) {
            cpu_ok = false;
            continue;
        }
        any = true;
        mem += (double)s->cur.memory_working_set;
        mem_limits += (double)s->cur.memory_limit;
        if (s->cur.online_cpus * 1024.0 > host_units)
            host_units = s->cur.online_cpus * 1024.0;
        double cc = s->have_prev ? collect_cpu_cores(&s->prev, &s->cur) : -1;
        if (cc < 0)
            cpu_ok = false;
        else
            cores += cc;
    }
    if (!any)
        return;

    const char *svc = collect_service_of(t->group);
    const struct berth_label l[] = {{"cluster", c->cluster}, {"service", svc},
                                    {"task", t->id}, {"family", t->family ? t->family : ""}};
    double units = t->cpu ? strtod(t->cpu, NULL) : 0;
    double mem_res = t->memory ? strtod(t->memory, NULL) * 1048576.0 : mem_limits;
    if (units <= 0)
        units = host_units;

    if (units > 0)
        put(c->emit, c->arg, "ecs_task_cpu_reserved_units",
            "The task's cpu units (its cpu, else the host's cpus x 1024).",
            BERTH_METRIC_GAUGE, units, l, 4);
    if (mem_res > 0)
        put(c->emit, c->arg, "ecs_task_memory_reserved_bytes",
            "The task's memory (its memory, else its containers' limits), in bytes.",
            BERTH_METRIC_GAUGE, mem_res, l, 4);
    if (cpu_ok && units > 0) {
        put(c->emit, c->arg, "ecs_task_cpu_utilization_percent",
            "ECS CPUUtilization: cpu used as a percent of the task's cpu units.",
            BERTH_METRIC_GAUGE, cores * 1024.0 / units * 100.0, l, 4);
        if (sum) {
            sum->cpu_used += cores * 1024.0;
            sum->cpu_res += units;
            sum->cpu_ok = true;
        }
    }
    if (mem_res > 0) {
        put(c->emit, c->arg, "ecs_task_memory_utilization_percent",
            "ECS MemoryUtilization: working set as a percent of the task's memory.",
            BERTH_METRIC_GAUGE, mem / mem_res * 100.0, l, 4);
        if (sum) {
            sum->mem_used += mem;
            sum->mem_res += mem_res;
            sum->mem_ok = true;
        }
    }
}

static void
service_figures(struct collect *c, struct svc_sum *sums, size_t n_sums)
{
    struct service **svcs;
    size_t n = c->services ? services_all(c->services, &svcs) : 0;

    for (size_t i = 0; i < n; i++) {
        struct service *s = svcs[i];
        if (s->status == SVC_INACTIVE)
            continue;
        services_count(c->services, s);
        const struct berth_label l[] = {{"cluster", c->cluster}, {"service", s->name}};
        put(c->emit, c->arg, "ecs_service_running_tasks", "Tasks of the service in RUNNING.",
            BERTH_METRIC_GAUGE, (double)s->running_count, l, 2);
        put(c->emit, c->arg, "ecs_service_pending_tasks", "Tasks of the service in PENDING.",
            BERTH_METRIC_GAUGE, (double)s->pending_count, l, 2);
        put(c->emit, c->arg, "ecs_service_desired_tasks", "The service's desired count.",
            BERTH_METRIC_GAUGE, (double)s->desired_count, l, 2);
        for (size_t k = 0; k < n_sums; k++) {
            if (strcmp(sums[k].name, s->name) != 0)
                continue;
            if (sums[k].cpu_ok && sums[k].cpu_res > 0)
                put(c->emit, c->arg, "ecs_service_cpu_utilization_percent",
                    "ECS CPUUtilization: the tasks' cpu used as a percent of their "
                    "summed cpu units.", BERTH_METRIC_GAUGE,
                    sums[k].cpu_used / sums[k].cpu_res * 100.0, l, 2);
            if (sums[k].mem_ok && sums[k].mem_res > 0)
                put(c->emit, c->arg, "ecs_service_memory_utilization_percent",
                    "ECS MemoryUtilization: the tasks' working sets as a percent of "
                    "their summed memory.", BERTH_METRIC_GAUGE,
                    sums[k].mem_used / sums[k].mem_res * 100.0, l, 2);
        }
    }
}

static void
plugin_error(void *arg, const char *plugin, const char *operation, const char *code,
             uint64_t count)
{
    struct collect *c = arg;
    const struct berth_label l[] = {
        {"plugin", plugin}, {"operation", operation}, {"code", code}};
    put(c->emit, c->arg, "berth_plugin_errors_total",
        "Runtime plugin operations that failed, by plugin, operation and code "
        "(REFUSED: the plugin would not begin it).", BERTH_METRIC_COUNTER,
        (double)count, l, 3);
}

static void
own_figures(struct collect *c)
{
    runtime_errors(tasks_runtime(c->tasks), plugin_error, c);
    for (int st = TASK_PROVISIONING; st <= TASK_STOPPED; st++) {
        const struct berth_label l = {"state", task_status_names[st]};
        put(c->emit, c->arg, "berth_tasks", "Known tasks by lastStatus.", BERTH_METRIC_GAUGE,
            (double)tasks_count(c->tasks, st), &l, 1);
    }
    const struct berth_label ok = {"result", "ok"}, failed = {"result", "failed"};
    put(c->emit, c->arg, "berth_stats_requests_total",
        "Container stats requests to the runtime plugin by result.", BERTH_METRIC_COUNTER,
        c->stats_ok, &ok, 1);
    put(c->emit, c->arg, "berth_stats_requests_total",
        "Container stats requests to the runtime plugin by result.", BERTH_METRIC_COUNTER,
        c->stats_failed, &failed, 1);
}

void
collect_round(struct collect *c)
{
    struct task **all;
    size_t n = tasks_all(c->tasks, &all);
    struct svc_sum *sums = NULL;
    size_t n_sums = 0;
    bool ready = tasks_engine_ready(c->tasks);
    struct runtime *rt = tasks_runtime(c->tasks);

    /* Figures of the last round's readings first, then the next requests. */
    for (size_t i = 0; i < n; i++) {
        const struct task *t = all[i];
        if (!task_counts(t))
            continue;
        const char *svc = collect_service_of(t->group);
        task_figures(c, t, svc[0] ? svc_sum_get(&sums, &n_sums, svc) : NULL);
    }
    service_figures(c, sums, n_sums);
    free(sums);
    own_figures(c);

    for (size_t i = 0; i < n; i++) {
        const struct task *t = all[i];
        if (!task_counts(t))
            continue;
        for (size_t k = 0; k < t->n_containers; k++) {
            const struct task_container *tc = &t->containers[k];
            if (tc->status != CTR_RUNNING || !tc->runtime_id)
                continue;
            struct cstate *s = cstate_get(c, tc->runtime_id, t->id);
            if (!s)
                continue;
            s->seen = true;
            if (!ready || s->inflight)
                continue; /* never two requests for one container */
            if (runtime_stats(rt, s->id, on_stats, s) == 0)
                s->inflight = true;
            else
                c->stats_failed++;
        }
    }
    sweep(c);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    collect_round(w->data);
}

void
collect_api_request(struct collect *c, const char *action, const char *error_type,
                    double seconds)
{
    const char *act = action ? action : "unknown", *err = error_type ? error_type : "none";
    struct api_count *k;

    for (k = c->api; k; k = k->next)
        if (strcmp(k->action, act) == 0 && strcmp(k->error, err) == 0)
            break;
    if (!k) {
        if (!(k = calloc(1, sizeof(*k))) || !(k->action = strdup(act)) ||
            !(k->error = strdup(err))) {
            if (k)
                free(k->action);
            free(k);
            return;
        }
        k->next = c->api;
        c->api = k;
    }
    k->n++;
    const struct berth_label l[] = {{"action", k->action}, {"error", k->error}};
    put(c->emit, c->arg, "berth_api_requests_total",
        "ECS API requests answered, by action and error type (none: success).",
        BERTH_METRIC_COUNTER, k->n, l, 2);
    if (!c->emit_histogram)
        return;
    struct api_latency *t;
    for (t = c->lat; t; t = t->next)
        if (strcmp(t->action, act) == 0)
            break;
    if (!t) {
        char why[128];
        if (!(t = calloc(1, sizeof(*t))) || !(t->action = strdup(act)) ||
            histo_init(&t->h, NULL, 0, why, sizeof(why)) < 0) {
            if (t)
                free(t->action);
            free(t);
            return;
        }
        t->next = c->lat;
        c->lat = t;
    }
    histo_observe(&t->h, seconds);
    struct histo_view v;
    const struct berth_label al[] = {{"action", t->action}};
    histo_view(&t->h, "berth_api_request_duration_seconds",
               "ECS API requests, seconds from arrival to answer, by action.", al, 1, &v);
    c->emit_histogram(c->arg, &v.h);
}

void
collect_reconcile(void *arg, double seconds)
{
    struct collect *c = arg;
    char why[128];

    if (!c->emit_histogram)
        return;
    if (!c->reconcile_ready) {
        if (histo_init(&c->reconcile, NULL, 0, why, sizeof(why)) < 0)
            return;
        c->reconcile_ready = 1;
    }
    histo_observe(&c->reconcile, seconds);
    struct histo_view v;
    histo_view(&c->reconcile, "berth_reconcile_duration_seconds",
               "Service scheduler passes, seconds each.", NULL, 0, &v);
    c->emit_histogram(c->arg, &v.h);
}

void
collect_set_histogram_sink(struct collect *c, collect_histogram_fn fn)
{
    c->emit_histogram = fn;
}

struct collect *
collect_new(struct ev_loop *loop, struct tasks *tasks, struct services *services,
            const char *cluster, collect_emit_fn emit, collect_forget_fn forget,
            void *arg)
{
    struct collect *c = calloc(1, sizeof(*c));
    if (!c || !(c->cluster = strdup(cluster ? cluster : ""))) {
        free(c);
        return NULL;
    }
    c->loop = loop;
    c->tasks = tasks;
    c->services = services;
    c->emit = emit;
    c->forget = forget;
    c->arg = arg;
    ev_timer_init(&c->timer, on_timer, 0., 0.);
    c->timer.data = c;
    return c;
}

void
collect_set_interval(struct collect *c, uint64_t ms)
{
    if (ms == c->interval_ms)
        return;
    c->interval_ms = ms;
    ev_timer_stop(c->loop, &c->timer);
    if (ms) {
        ev_timer_set(&c->timer, ms / 1000.0, ms / 1000.0);
        ev_timer_start(c->loop, &c->timer);
    }
}

void
collect_free(struct collect *c)
{
    if (!c)
        return;
    ev_timer_stop(c->loop, &c->timer);
    while (c->ctrs) {
        struct cstate *s = c->ctrs;
        c->ctrs = s->next;
        cstate_free(c, s);
    }
    while (c->api) {
        struct api_count *k = c->api;
        c->api = k->next;
        free(k->action);
        free(k->error);
        free(k);
    }
    while (c->lat) {
        struct api_latency *t = c->lat;
        c->lat = t->next;
        free(t->action);
        free(t);
    }
    free(c->cluster);
    free(c);
}
