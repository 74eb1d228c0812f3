/* agent_tasks.c: the agent's store and task manager, and which runtime
 * plugin the task manager drives. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/api/actions.h"
#include "agent/conf.h"
#include "agent/log.h"
#include "agent/plugin_host.h"
#include "agent/ports.h"
#include "agent/runtime.h"
#include "agent/services.h"
#include "agent/store.h"
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

void agent_tasks_sync_runtime(struct agent *a)
{
    const char *why;
    struct plugin *p, *cur;

    if (!a->tasks)
        return;
    p = chosen_runtime(a, &why);
    cur = runtime_plugin(tasks_runtime(a->tasks));
    if (why)
        log_error("tasks.runtime_invalid", "runtime=%s error=\"%s\"",
                  a->conf->tasks.runtime, why);
    if (p == cur)
        return;
    if (cur)
        runtime_detach(tasks_runtime(a->tasks), cur);
    if (p)
        runtime_attach(tasks_runtime(a->tasks), p);
    else
        log_warn("tasks.no_runtime", "hint=\"add [plugin docker] or [plugin "
                 "podman] to berth.conf to run tasks\"");
}

void agent_tasks_plugin_stopping(struct agent *a, struct plugin *p)
{
    if (a->tasks)
        runtime_detach(tasks_runtime(a->tasks), p);
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
    /* The service scheduler, on the task manager. */
    struct services_conf sc = {.cluster = a->conf->agent.cluster,
                               .region = a->conf->agent.region,
                               .account_id = a->conf->agent.account_id};
    a->services = services_new(a->loop, a->store, a->tasks, &sc, err, sizeof err);
    if (!a->services) {
        conf_errors_add(errs, "cannot load the services: %s", err);
        return -1;
    }
    x->services = a->services;
    agent_tasks_sync_runtime(a);
    return 0;
}

void agent_tasks_free(struct agent *a)
{
    services_free(a->services);
    a->services = NULL;
    if (a->tasks_api) {
        free(a->tasks_api->cluster);
        free(a->tasks_api->region);
        free(a->tasks_api->account_id);
        free(a->tasks_api);
        a->tasks_api = NULL;
    }
    tasks_free(a->tasks);
    a->tasks = NULL;
}

void agent_tasks_quiesce(struct agent *a)
{
    if (a->services)
        services_quiesce(a->services);
    if (a->tasks)
        tasks_quiesce(a->tasks);
}
