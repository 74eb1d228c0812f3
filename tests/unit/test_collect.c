/* test_collect.c: metrics collection's arithmetic on the engines' real
 * stats JSON (Docker's and Podman's compat format, parsed by the engine
 * library as the plugins do): the container series under cAdvisor's names
 * with Berth's labels, ECS's cpu arithmetic, and the service label. */

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agent/collect.h"
#include "agent/metrics.h"
#include "engine.h"
#include "tests/lib/tap.h"

static const char *srcdir;

static cJSON *load(const char *name)
{
    char *path, *buf = NULL;
    size_t cap = 0, n;
    char chunk[4096];
    FILE *f, *m;
    cJSON *j;

    if (asprintf(&path, "%s/tests/unit/data/engine/%s", srcdir, name) < 0)
        abort();
    f = fopen(path, "rb");
    free(path);
    if (!f)
        return NULL;
    m = open_memstream(&buf, &cap);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    j = cJSON_Parse(buf);
    free(buf);
    return j;
}

/* What collect_container_series emitted. */
struct got {
    size_t n;
    struct { char name[96]; double v; int type; char labels[512]; } s[64];
};

static void capture(void *arg, const struct berth_metric *m)
{
    struct got *g = arg;
    if (g->n >= 64)
        return;
    snprintf(g->s[g->n].name, sizeof(g->s[0].name), "%s", m->name);
    g->s[g->n].v = m->value;
    g->s[g->n].type = m->type;
    size_t off = 0;
    for (size_t i = 0; i < m->n_labels; i++)
        off += (size_t)snprintf(g->s[g->n].labels + off, sizeof(g->s[0].labels) - off,
                                "%s=%s,", m->labels[i].name, m->labels[i].value);
    g->n++;
}

static const char *labels_of(const struct got *g, const char *name)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->s[i].name, name) == 0)
            return g->s[i].labels;
    return NULL;
}

static double value_of(const struct got *g, const char *name, int *type)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->s[i].name, name) == 0) {
            if (type)
                *type = g->s[i].type;
            return g->s[i].v;
        }
    return NAN;
}

static const struct collect_ctr_labels L = {
    .id = "abc123", .name = "web", .image = "busybox:1", .cluster = "prod",
    .service = "shop", .task = "0123456789abcdef0123456789abcdef", .family = "shop-web"};

static void test_docker(void)
{
    struct berth_container_stats s;
    struct got g = {0};
    int type = 0;
    cJSON *j = load("docker-stats.json");

    if (!ok(j && engine_stats_from_docker(j, &s) == 0, "docker-stats.json parses")) {
        cJSON_Delete(j);
        return;
    }
    cJSON_Delete(j);
    collect_container_series(&L, &s, 2, 1700000000500LL, BERTH_HEALTH_HEALTHY, capture, &g);
    ok(fabs(value_of(&g, "container_cpu_usage_seconds_total", &type) - 0.415486724) < 1e-12 &&
           type == BERTH_METRIC_COUNTER, "cpu usage in seconds, a counter");
    ok(fabs(value_of(&g, "container_cpu_user_seconds_total", NULL) - 0.18) < 1e-12 &&
           fabs(value_of(&g, "container_cpu_system_seconds_total", NULL) - 0.23) < 1e-12,
       "user and system seconds");
    ok(value_of(&g, "container_memory_working_set_bytes", &type) == 2703360 - 217088 &&
           type == BERTH_METRIC_GAUGE, "working set, a gauge");
    ok(value_of(&g, "container_memory_usage_bytes", NULL) == 2703360 &&
           value_of(&g, "container_memory_rss", NULL) == 61440 &&
           value_of(&g, "container_memory_cache", NULL) == 1982464,
       "usage, rss, cache");
    ok(value_of(&g, "container_spec_memory_limit_bytes", NULL) == 0, "no limit is 0");
    ok(value_of(&g, "container_network_receive_bytes_total", NULL) == 806 &&
           value_of(&g, "container_network_transmit_bytes_total", NULL) == 0, "network");
    ok(!isnan(value_of(&g, "container_fs_reads_bytes_total", NULL)) &&
           !isnan(value_of(&g, "container_fs_writes_bytes_total", NULL)), "block I/O");
    ok(value_of(&g, "container_start_time_seconds", NULL) == 1700000000.5, "start time");
    ok(value_of(&g, "berth_container_restarts_total", NULL) == 2, "restarts");
    ok(value_of(&g, "berth_container_health_status", NULL) == 1, "healthy is 1");
    ok(value_of(&g, "container_last_seen", NULL) > 1.7e9, "last seen, Unix seconds");
    is_str(labels_of(&g, "container_memory_rss"),
           "id=abc123,name=web,image=busybox:1,cluster=prod,service=shop,"
           "task=0123456789abcdef0123456789abcdef,family=shop-web,", "labels");

    g.n = 0;
    collect_container_series(&L, &s, 0, 0, BERTH_HEALTH_UNHEALTHY, capture, &g);
    ok(isnan(value_of(&g, "container_start_time_seconds", NULL)), "no start time: no series");
    ok(value_of(&g, "berth_container_health_status", NULL) == 2, "unhealthy is 2");
}

static void test_podman_cpu(void)
{
    struct berth_container_stats a, b;
    cJSON *j = load("podman-stats.json");

    if (!ok(j && engine_stats_from_docker(j, &a) == 0, "podman-stats.json parses")) {
        cJSON_Delete(j);
        return;
    }
    cJSON_Delete(j);
    ok(a.memory_limit == 25276026880ULL, "podman's limit");
    b = a;
    b.time_ms = a.time_ms + 2000;
    b.cpu_total_ns = a.cpu_total_ns + 500000000; /* half a second in two */
    ok(fabs(collect_cpu_cores(&a, &b) - 0.25) < 1e-9, "0.5 cpu s over 2 s is 0.25 cores");
    /* ECS: 0.25 cores of a 256-unit task is 100%; of 512 units, 50%. */
    ok(fabs(collect_cpu_cores(&a, &b) * 1024 / 512 * 100 - 50) < 1e-9, "50%% of 512 units");
    ok(collect_cpu_cores(&b, &a) < 0, "time going backwards: no figure");
    b.time_ms = a.time_ms;
    ok(collect_cpu_cores(&a, &b) < 0, "no time passed: no figure");
    b.time_ms = a.time_ms + 1000;
    b.cpu_total_ns = a.cpu_total_ns - 1;
    ok(collect_cpu_cores(&a, &b) < 0, "counter reset: no figure");
}

/* The metrics store drops the series of a container or task that is gone
 * (what collect's sweep asks of it), keeping the rest in order. */
static void test_forget(void)
{
    struct metrics *m = metrics_new();
    const char *ids[2] = {"abc123", "def456"};
    struct berth_label tl = {"task", L.task};
    struct berth_metric tm = {.name = "ecs_task_cpu_utilization_percent", .help = "x",
                              .type = BERTH_METRIC_GAUGE, .value = 5, .labels = &tl, .n_labels = 1};
    char err[128];
    size_t n;

    for (int k = 0; k < 2; k++) {
        const struct berth_label l[] = {{"id", ids[k]}, {"task", L.task}};
        struct berth_metric x = {.name = "container_memory_rss", .help = "h",
                                 .type = BERTH_METRIC_GAUGE, .value = k, .labels = l, .n_labels = 2};
        metrics_record(m, &x, 1, err, sizeof err);
    }
    metrics_record(m, &tm, 1, err, sizeof err);
    metrics_all(m, &n);
    ok(n == 3, "three series recorded");
    ok(metrics_forget(m, "id", "abc123") == 1, "forget id=abc123 drops its one series");
    const struct berth_metric *v = metrics_all(m, &n);
    ok(n == 2 && v[0].value == 1 && strcmp(v[1].name, "ecs_task_cpu_utilization_percent") == 0,
       "the others stay, in order");
    ok(metrics_forget(m, "task", L.task) == 2, "forget task= drops the task's series");
    metrics_all(m, &n);
    ok(n == 0 && metrics_forget(m, "id", "zzz") == 0, "nothing left; forgetting nothing is 0");
    metrics_record(m, &tm, 1, err, sizeof err);
    metrics_all(m, &n);
    ok(n == 1, "recording again after a forget works");
    metrics_free(m);
}

int main(void)
{
    test_forget();
    srcdir = getenv("top_srcdir");
    if (!srcdir)
        srcdir = ".";
    test_docker();
    test_podman_cpu();
    is_str(collect_service_of("service:shop"), "shop", "service group");
    is_str(collect_service_of("family:shop-web"), "", "standalone task");
    is_str(collect_service_of(NULL), "", "no group");
    return done_testing();
}
