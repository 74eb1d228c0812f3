/* metadata_render.c: the task metadata endpoint's documents (see
 * metadata_render.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/container_spec.h"
#include "agent/metadata_render.h"
#include "agent/task.h"
#include "agent/taskdef.h"

void md_time(int64_t ms, char *buf, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0 || !gmtime_r(&s, &tm)) {
        snprintf(buf, size, "%s", "");
        return;
    }
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03dZ", day, (int)(ms % 1000));
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
    char buf[40];
    if (ms > 0) {
        md_time(ms, buf, sizeof buf);
        cJSON_AddStringToObject(o, key, buf);
    }
}

/* The cluster's short name: what its label carries. */
static const char *cluster_name(const struct task *t)
{
    const char *s = strstr(t->cluster_arn, ":cluster/");
    return s ? s + 9 : t->cluster_arn;
}

/* ECS's container known statuses (NONE, CREATED, RUNNING, STOPPED). */
static const char *ctr_known(const struct task_container *c)
{
    switch (c->status) {
    case CTR_RUNNING: return "RUNNING";
    case CTR_STOPPED: return "STOPPED";
    case CTR_PENDING: break;
    }
    return c->created ? "CREATED" : "NONE";
}

static const char *health_word(enum berth_ctr_health h)
{
    switch (h) {
    case BERTH_HEALTH_HEALTHY: return "HEALTHY";
    case BERTH_HEALTH_UNHEALTHY: return "UNHEALTHY";
    default: return "UNKNOWN";
    }
}

static void add_ports(cJSON *o, const struct task *t, const struct task_container *c)
{
    if (!c->n_bindings)
        return;
    cJSON *a = cJSON_AddArrayToObject(o, "Ports");
    for (size_t i = 0; i < c->n_bindings; i++) {
        const struct task_binding *b = &c->bindings[i];
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "ContainerPort", b->container_port);
        cJSON_AddStringToObject(p, "Protocol", b->udp ? "udp" : "tcp");
        /* awsvpc: the task's own address, no host port (as ECS). */
        if (b->host_port && t->td->network_mode != TASKDEF_NET_AWSVPC) {
            cJSON_AddNumberToObject(p, "HostPort", b->host_port);
            cJSON_AddStringToObject(p, "HostIp", "0.0.0.0");
        }
        cJSON_AddItemToArray(a, p);
    }
}

cJSON *md_container_json(const struct task *t, size_t i, int version)
{
    const struct task_container *c = &t->containers[i];
    const struct taskdef_container *dc =
        t->td && i < t->td->n_containers ? &t->td->containers[i] : NULL;
    cJSON *o = cJSON_CreateObject(), *x;
    char *s;

    cJSON_AddStringToObject(o, "DockerId", c->runtime_id ? c->runtime_id : "");
    cJSON_AddStringToObject(o, "Name", c->name);
    if ((s = container_engine_name(t, (int)i))) {
        cJSON_AddStringToObject(o, "DockerName", s);
        free(s);
    }
    cJSON_AddStringToObject(o, "Image", c->image);
    if (c->image_digest && *c->image_digest)
        cJSON_AddStringToObject(o, "ImageID", c->image_digest);
    add_ports(o, t, c);
    if ((x = container_labels_json(t, i, cluster_name(t))))
        cJSON_AddItemToObject(o, "Labels", x);
    cJSON_AddStringToObject(o, "DesiredStatus",
                            t->desired_status == TASK_STOPPED ? "STOPPED" : "RUNNING");
    cJSON_AddStringToObject(o, "KnownStatus", ctr_known(c));
    if (c->has_exit_code)
        cJSON_AddNumberToObject(o, "ExitCode", c->exit_code);
    x = cJSON_AddObjectToObject(o, "Limits");
    cJSON_AddNumberToObject(x, "CPU", dc ? (double)dc->cpu : 0);
    if (dc && dc->memory)
        cJSON_AddNumberToObject(x, "Memory", (double)dc->memory);
    add_time(o, "CreatedAt", c->created_at_ms);
    add_time(o, "StartedAt", c->started_at_ms);
    cJSON_AddStringToObject(o, "Type", "NORMAL");
    if (dc && dc->has_log_configuration) {
        cJSON_AddStringToObject(o, "LogDriver",
                                taskdef_log_drivers[dc->log_configuration.driver]);
        x = cJSON_AddObjectToObject(o, "LogOptions");
        for (size_t k = 0; k < dc->log_configuration.options.n; k++)
            cJSON_AddStringToObject(x, dc->log_configuration.options.v[k].name,
                                    dc->log_configuration.options.v[k].value);
    }
    if (version >= 4) {
        const char *cl = strstr(t->cluster_arn, ":cluster/");
        if (cl && asprintf(&s, "%.*s:container/%s/%s/%s", (int)(cl - t->cluster_arn),
                           t->cluster_arn, cluster_name(t), t->id, c->name) >= 0) {
            cJSON_AddStringToObject(o, "ContainerARN", s);
            free(s);
        }
    }
    if (t->td && t->td->network_mode != TASKDEF_NET_NONE) {
        cJSON *nets = cJSON_AddArrayToObject(o, "Networks"), *n = cJSON_CreateObject();
        cJSON_AddStringToObject(n, "NetworkMode",
                                taskdef_network_modes[t->td->network_mode]);
        if (c->ip_address && *c->ip_address) {
            cJSON *a = cJSON_AddArrayToObject(n, "IPv4Addresses");
            cJSON_AddItemToArray(a, cJSON_CreateString(c->ip_address));
        }
        cJSON_AddItemToArray(nets, n);
    }
    /* A check exists: the definition's, or the image's as the engine
     * reports it. */
    if (version >= 4 && ((dc && dc->has_health_check) || c->engine_health != BERTH_HEALTH_NONE)) {
        x = cJSON_AddObjectToObject(o, "Health");
        cJSON_AddStringToObject(x, "status", health_word(c->engine_health));
        add_time(x, "statusSince", c->health_since_ms);
        if (c->health_exit_code >= 0)
            cJSON_AddNumberToObject(x, "exitCode", c->health_exit_code);
        if (c->health_output && *c->health_output)
            cJSON_AddStringToObject(x, "output", c->health_output);
    }
    return o;
}

cJSON *md_task_json(const struct task *t, int version)
{
    cJSON *o = cJSON_CreateObject(), *x;
    char rev[24];

    cJSON_AddStringToObject(o, "Cluster", t->cluster_arn);
    cJSON_AddStringToObject(o, "TaskARN", t->arn);
    cJSON_AddStringToObject(o, "Family", t->family);
    snprintf(rev, sizeof rev, "%lld", (long long)t->revision);
    cJSON_AddStringToObject(o, "Revision", rev);
    if (version >= 4 && t->group && strncmp(t->group, "service:", 8) == 0)
        cJSON_AddStringToObject(o, "ServiceName", t->group + 8);
    cJSON_AddStringToObject(o, "DesiredStatus", task_status_names[t->desired_status]);
    cJSON_AddStringToObject(o, "KnownStatus", task_status_names[t->last_status]);
    if (t->cpu || t->memory) {
        x = cJSON_AddObjectToObject(o, "Limits");
        /* The task's CPU in vCPUs (1024 units each), memory in MiB. */
        if (t->cpu)
            cJSON_AddNumberToObject(x, "CPU", strtod(t->cpu, NULL) / 1024.0);
        if (t->memory)
            cJSON_AddNumberToObject(x, "Memory", strtod(t->memory, NULL));
    }
    add_time(o, "PullStartedAt", t->pull_started_at_ms);
    add_time(o, "PullStoppedAt", t->pull_stopped_at_ms);
    add_time(o, "ExecutionStoppedAt", t->execution_stopped_at_ms);
    if (version >= 4)
        cJSON_AddStringToObject(o, "LaunchType", "EC2");
    x = cJSON_AddArrayToObject(o, "Containers");
    for (size_t i = 0; i < t->n_containers; i++)
        cJSON_AddItemToArray(x, md_container_json(t, i, version));
    return o;
}

/* ---- stats ---- */

static void add_u(cJSON *o, const char *key, uint64_t v)
{
    cJSON_AddNumberToObject(o, key, (double)v);
}

static cJSON *cpu_json(const struct md_sample *m)
{
    cJSON *o = cJSON_CreateObject(), *u = cJSON_AddObjectToObject(o, "cpu_usage");

    if (!m) {
        /* Docker's precpu_stats before a first sample: zeros. */
        add_u(u, "total_usage", 0);
        add_u(u, "usage_in_kernelmode", 0);
        add_u(u, "usage_in_usermode", 0);
        add_u(o, "system_cpu_usage", 0);
        add_u(o, "online_cpus", 0);
        cJSON *th = cJSON_AddObjectToObject(o, "throttling_data");
        add_u(th, "periods", 0);
        add_u(th, "throttled_periods", 0);
        add_u(th, "throttled_time", 0);
        return o;
    }
    add_u(u, "total_usage", m->s.cpu_total_ns);
    add_u(u, "usage_in_kernelmode", m->s.cpu_system_ns);
    add_u(u, "usage_in_usermode", m->s.cpu_user_ns);
    add_u(o, "system_cpu_usage", m->system_ns);
    add_u(o, "online_cpus", m->s.online_cpus);
    cJSON *th = cJSON_AddObjectToObject(o, "throttling_data");
    add_u(th, "periods", 0);
    add_u(th, "throttled_periods", 0);
    add_u(th, "throttled_time", m->s.cpu_throttled_ns);
    return o;
}

static cJSON *blk_entry(const char *op, uint64_t v)
{
    cJSON *e = cJSON_CreateObject();
    add_u(e, "major", 0);
    add_u(e, "minor", 0);
    cJSON_AddStringToObject(e, "op", op);
    add_u(e, "value", v);
    return e;
}

cJSON *md_stats_json(const char *id, const char *name, const struct md_sample *cur,
                     const struct md_sample *prev)
{
    cJSON *o = cJSON_CreateObject(), *x, *y;
    char buf[40], *slash;

    md_time(cur->s.time_ms, buf, sizeof buf);
    cJSON_AddStringToObject(o, "read", buf);
    md_time(prev ? prev->s.time_ms : 0, buf, sizeof buf);
    cJSON_AddStringToObject(o, "preread", prev ? buf : "0001-01-01T00:00:00Z");
    if (asprintf(&slash, "/%s", name) >= 0) {
        cJSON_AddStringToObject(o, "name", slash);
        free(slash);
    }
    cJSON_AddStringToObject(o, "id", id);
    x = cJSON_AddObjectToObject(o, "pids_stats");
    add_u(x, "current", cur->s.pids);
    cJSON_AddNumberToObject(o, "num_procs", 0);
    x = cJSON_AddObjectToObject(o, "blkio_stats");
    y = cJSON_AddArrayToObject(x, "io_service_bytes_recursive");
    cJSON_AddItemToArray(y, blk_entry("Read", cur->s.blk_read_bytes));
    cJSON_AddItemToArray(y, blk_entry("Write", cur->s.blk_write_bytes));
    cJSON_AddItemToArray(y, blk_entry("Total", cur->s.blk_read_bytes + cur->s.blk_write_bytes));
    cJSON_AddObjectToObject(o, "storage_stats");
    cJSON_AddItemToObject(o, "cpu_stats", cpu_json(cur));
    cJSON_AddItemToObject(o, "precpu_stats", cpu_json(prev));
    x = cJSON_AddObjectToObject(o, "memory_stats");
    add_u(x, "usage", cur->s.memory_usage);
    y = cJSON_AddObjectToObject(x, "stats");
    add_u(y, "rss", cur->s.memory_rss);
    add_u(y, "cache", cur->s.memory_cache);
    /* Docker's CLI takes inactive_file from usage for the working set. */
    add_u(y, "inactive_file", cur->s.memory_usage > cur->s.memory_working_set
                                  ? cur->s.memory_usage - cur->s.memory_working_set
                                  : 0);
    if (cur->s.memory_limit)
        add_u(x, "limit", cur->s.memory_limit);
    x = cJSON_AddObjectToObject(o, "networks");
    y = cJSON_AddObjectToObject(x, "eth0");
    add_u(y, "rx_bytes", cur->s.net_rx_bytes);
    add_u(y, "tx_bytes", cur->s.net_tx_bytes);
    /* ECS v4 adds the rates since the previous reading. */
    x = cJSON_AddObjectToObject(o, "network_rate_stats");
    double dt = prev ? (double)(cur->s.time_ms - prev->s.time_ms) / 1000.0 : 0;
    double rx = 0, tx = 0;
    if (dt > 0 && cur->s.net_rx_bytes >= prev->s.net_rx_bytes &&
        cur->s.net_tx_bytes >= prev->s.net_tx_bytes) {
        rx = (double)(cur->s.net_rx_bytes - prev->s.net_rx_bytes) / dt;
        tx = (double)(cur->s.net_tx_bytes - prev->s.net_tx_bytes) / dt;
    }
    cJSON_AddNumberToObject(x, "rx_bytes_per_sec", rx);
    cJSON_AddNumberToObject(x, "tx_bytes_per_sec", tx);
    return o;
}
