/* agent_tasks.c: the agent's store and task manager, and which runtime
 * plugin the task manager drives. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/api/actions.h"
#include "agent/clock.h"
#include "agent/collect.h"
#include "agent/conf.h"
#include "agent/host.h"
#include "agent/log.h"
#include "agent/metadata.h"
#include "agent/plugin_host.h"
#include "agent/ports.h"
#include "agent/resources.h"
#include "agent/runtime.h"
#include "agent/registry.h"
#include "agent/service.h"
#include "agent/services.h"
#include "agent/services_dir.h"
#include "agent/store.h"
#include "agent/store_clusters.h"
#include "agent/tasks.h"

static void tasks_conf_from(const struct conf *c, struct tasks_conf *tc)
{
    memset(tc, 0, sizeof *tc);
    tc->cluster = c->agent.cluster;
    tc->region = c->agent.region;
    tc->account_id = c->agent.account_id;
    tc->secrets_dir = c->tasks.secrets_dir;
    tc->image_healthcheck = c->tasks.image_healthcheck;
    tc->port_first = c->tasks.port_first;
    tc->port_last = c->tasks.port_last;
    if (!tc->port_first)
        ports_kernel_range(&tc->port_first, &tc->port_last);
    tc->reserved_ports = c->tasks.reserved;
    tc->n_reserved_ports = c->tasks.n_reserved;
    tc->start_timeout_ms = c->tasks.start_timeout_ms;
    tc->retention_ms = c->tasks.retention_ms;
    tc->cleanup_ms = c->tasks.cleanup_ms;
    tc->metadata_port = c->metadata.enabled ? (uint16_t)c->metadata.port : 0;
}

/* The runtime plugin [tasks] runtime names, or the first started one. */
static struct plugin *chosen_runtime(struct agent *a, const char **why)
{
    const char *want = a->conf->tasks.runtime;

    *why = NULL;
    for (size_t i = 0; i < a->n_plugins; i++) {
        struct plugin *p = a->plugins[i];
        if (p->st != PLUGIN_STARTED)
            continue;
        if (want && *want) {
            if (strcmp(p->instance, want) != 0)
                continue;
            if (p->desc.kind != BERTH_KIND_RUNTIME) {
                *why = "is not a runtime plugin";
                return NULL;
            }
            return p;
        }
        if (p->desc.kind == BERTH_KIND_RUNTIME)
            return p;
    }
    if (want && *want)
        *why = "is not an enabled [plugin NAME] section";
    return NULL;
}

static void collect_emit(void *arg, const struct berth_metric *m)
{
    host_metric(arg, m->name, m->help, m->type, m->value, m->labels, m->n_labels);
}

static void collect_histogram(void *arg, const struct berth_histogram *h)
{
    host_histogram(arg, h);
}

static void collect_forget(void *arg, const char *name, const char *value)
{
    host_metrics_forget(arg, name, value);
}

void agent_api_observed(void *arg, const char *action, const char *error_type,
                        double seconds)
{
    struct agent *a = arg;
    if (a->collect)
        collect_api_request(a->collect, action, error_type, seconds);
}

void agent_tasks_sync_runtime(struct agent *a)
{
    const char *why;
    struct plugin *p, *cur;

    if (!a->tasks)
        return;
    if (a->collect) /* called at start and after each reload */
        collect_set_interval(a->collect, a->conf->agent.metrics_interval_ms);
    p = chosen_runtime(a, &why);
    cur = runtime_plugin(tasks_runtime(a->tasks));
    if (why)
        log_error("tasks.runtime_invalid", "runtime=%s error=\"%s\"",
                  a->conf->tasks.runtime, why);
    if (p == cur)
        return;
    if (cur)
        runtime_detach(tasks_runtime(a->tasks), cur);
    if (p) {
        tasks_engine_pending(a->tasks);
        runtime_attach(tasks_runtime(a->tasks), p);
    } else
        log_warn("tasks.no_runtime", "hint=\"add [plugin docker] or [plugin "
                 "podman] to berth.conf to run tasks\"");
}

void agent_tasks_plugin_stopping(struct agent *a, struct plugin *p)
{
    if (a->tasks)
        runtime_detach(tasks_runtime(a->tasks), p);
}

/* activeServicesCount of DescribeClusters, and what stops DeleteCluster:
 * the services of that cluster not yet INACTIVE (ECS counts DRAINING ones
 * as still there). */
static unsigned cluster_services(void *arg, const char *cluster_arn)
{
    struct service **all;
    size_t n = services_all(arg, &all);
    unsigned count = 0;

    for (size_t i = 0; i < n; i++)
        if (all[i]->status != SVC_INACTIVE && strcmp(all[i]->cluster_arn, cluster_arn) == 0)
            count++;
    return count;
}

/* This host as a container instance of its cluster: the cluster exists
 * (ACTIVE), the instance's ID, and the capacity placement counts on. */
static int agent_instance_start(struct agent *a, struct api_tasks_ctx *x,
                                struct conf_errors *errs)
{
    char err[512];
    struct store_instance in = {0};

    if (store_instance_register(a->store, a->conf->agent.cluster, err, sizeof err) !=
            STORE_OK ||
        store_instance_get(a->store, &in, err, sizeof err) != STORE_OK) {
        conf_errors_add(errs, "cannot register this host in cluster %s: %s",
                        a->conf->agent.cluster, err);
        return -1;
    }
    x->instance_id = in.id;
    in.id = NULL;
    x->registered_at_ms = in.registered_at_ms;
    store_instance_free(&in);
    if (!(x->host = calloc(1, sizeof *x->host)) ||
        res_host_read(x->host, a->conf->tasks.reserved, a->conf->tasks.n_reserved) < 0) {
        conf_errors_add(errs, "out of memory");
        return -1;
    }
    log_info("instance.registered", "cluster=%s container_instance=%s cpu=%lld "
             "memory_mib=%lld", x->cluster, x->instance_id, (long long)x->host->cpu,
             (long long)x->host->memory);
    return 0;
}

int agent_tasks_start(struct agent *a, struct conf_errors *errs)
{
    char err[512];
    struct tasks_conf tc;
    const char *why;

    if (!chosen_runtime(a, &why) && why) {
        conf_errors_add(errs, "%s: [tasks] runtime: %s %s", a->conf->path,
                        a->conf->tasks.runtime, why);
        return -1;
    }
    tasks_conf_from(a->conf, &tc);
    a->tasks = tasks_new(a->loop, a->store, &tc, err, sizeof err);
    if (!a->tasks) {
        conf_errors_add(errs, "cannot load the tasks: %s", err);
        return -1;
    }
    struct api_tasks_ctx *x = calloc(1, sizeof *x);
    if (!x || !(x->cluster = strdup(a->conf->agent.cluster)) ||
        !(x->region = strdup(a->conf->agent.region)) ||
        !(x->account_id = strdup(a->conf->agent.account_id))) {
        conf_errors_add(errs, "out of memory");
        if (x) {
            free(x->cluster);
            free(x->region);
        }
        free(x);
        return -1;
    }
    x->tasks = a->tasks;
    x->store = a->store;
    a->tasks_api = x;
    if (a->conf->metadata.enabled &&
        !(a->metadata = metadata_new(a->loop, a->tasks, (uint16_t)a->conf->metadata.port,
                                     err, sizeof err))) {
        if (a->conf->metadata.line)
            conf_errors_add(errs, "%s:%d: [metadata] port: %s", a->conf->path,
                            a->conf->metadata.key_line[1] ? a->conf->metadata.key_line[1]
                                                          : a->conf->metadata.line,
                            err);
        else
            conf_errors_add(errs, "%s: [metadata] port: %s (the default port; "
                            "set another, or enabled = no)", a->conf->path, err);
        return -1;
    }
    if (agent_instance_start(a, x, errs) < 0)
        return -1;
    /* The service scheduler, on the task manager. */
    struct services_conf sc = {.cluster = a->conf->agent.cluster,
                               .region = a->conf->agent.region,
                               .account_id = a->conf->agent.account_id,
                               .host = x->host,
                               .instance_id = x->instance_id};
    a->services = services_new(a->loop, a->store, a->tasks, &sc, err, sizeof err);
    if (!a->services) {
        conf_errors_add(errs, "cannot load the services: %s", err);
        return -1;
    }
    /* The live view the data planes (proxy, DNS) read. */
    a->registry = registry_new(a->conf->agent.cluster);
    if (!a->registry) {
        conf_errors_add(errs, "out of memory");
        return -1;
    }
    services_set_registry(a->services, a->registry);
    if (!(a->collect = collect_new(a->loop, a->tasks, a->services, a->conf->agent.cluster,
                                   collect_emit, collect_forget, a->host))) {
        conf_errors_add(errs, "out of memory");
        return -1;
    }
    collect_set_histogram_sink(a->collect, collect_histogram);
    services_set_pass_observer(a->services, collect_reconcile, a->collect);
    x->services = a->services;
    x->active_services = cluster_services;
    x->services_arg = a->services;
    agent_tasks_sync_runtime(a);
    return 0;
}

void agent_tasks_free(struct agent *a)
{
    agent_modules_stop(a); /* the data planes read the registry */
    if (a->services)
        services_set_pass_observer(a->services, NULL, NULL);
    collect_free(a->collect); /* before the tasks and services it reads */
    a->collect = NULL;
    services_free(a->services);
    a->services = NULL;
    registry_free(a->registry); /* after every reader: data planes stop first */
    a->registry = NULL;
    metadata_free(a->metadata); /* uses the tasks' runtime */
    a->metadata = NULL;
    if (a->tasks_api) {
        free(a->tasks_api->cluster);
        free(a->tasks_api->region);
        free(a->tasks_api->account_id);
        free(a->tasks_api->instance_id);
        res_free(a->tasks_api->host);
        free(a->tasks_api->host);
        free(a->tasks_api);
        a->tasks_api = NULL;
    }
    tasks_free(a->tasks);
    a->tasks = NULL;
}

void agent_services_dir_apply(struct agent *a)
{
    struct sd_result r;

    if (!a->services || !a->conf->agent.services_dir || !*a->conf->agent.services_dir)
        return;
    struct sd_env env = {.st = a->store, .svcs = a->services,
                         .cluster = a->conf->agent.cluster,
                         .region = a->conf->agent.region,
                         .account_id = a->conf->agent.account_id,
                         .now_ms = clock_wall_ms()};
    sd_apply_dir(a->conf->agent.services_dir, &env, &r);
}

void agent_tasks_quiesce(struct agent *a)
{
    if (a->services)
        services_quiesce(a->services);
    if (a->tasks)
        tasks_quiesce(a->tasks);
}
