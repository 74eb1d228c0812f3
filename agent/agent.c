/* agent.c: start, reload and shutdown of the agent and its plugins. */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/api/actions.h"
#include "agent/api/api.h"
#include "agent/api/sigv4.h"
#include "agent/conf.h"
#include "agent/host.h"
#include "agent/log.h"
#include "agent/notify.h"
#include "agent/plugin_host.h"
#include "agent/services_dir.h"
#include "agent/store.h"

/* What a reload will do, decided before anything running is touched. */
enum plan_action { PLAN_KEEP, PLAN_RECONFIGURE, PLAN_RESTART, PLAN_ADD };

struct plan_item {
    const struct conf_plugin *cp; /* in the new conf */
    struct plugin *old;           /* running instance, when there is one */
    enum plan_action action;
};

struct reload_plan {
    struct conf *conf;
    struct plan_item *items; /* new conf order, enabled plugins only */
    size_t n_items;
};

static void retire_next(struct agent *a);

static const struct agent_module *modules[4];
static size_t n_modules;

int agent_add_module(const struct agent_module *m)
{
    for (size_t i = 0; i < n_modules; i++)
        if (modules[i] == m)
            return 0;
    if (n_modules == sizeof modules / sizeof modules[0])
        return -1;
    modules[n_modules++] = m;
    return 0;
}

void agent_modules_stop(struct agent *a)
{
    for (size_t i = n_modules; i-- > 0;)
        modules[i]->stop(a);
}

/* ---- small helpers ---- */

static void
apply_log_conf(struct agent *a, const struct conf *c)
{
    int level = log_level_parse(c->agent.log_level);
    int syslog = strcmp(c->agent.log_target, "syslog") == 0 || a->daemon;
    log_setup(syslog ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR,
              level < 0 ? BERTH_LOG_INFO : level);
}

static void
record_agent_metrics(struct agent *a)
{
    struct berth_label started = {"state", "started"};
    struct berth_label version = {"version", PACKAGE_VERSION};
    struct berth_label ok = {"result", "ok"}, refused = {"result", "refused"};
    size_t n = 0;

    for (size_t i = 0; i < a->n_plugins; i++)
        n += a->plugins[i]->st == PLUGIN_STARTED;
    host_metric(a->host, "berth_build_info", "Berth's version.", BERTH_METRIC_GAUGE,
                1, &version, 1);
    host_metric(a->host, "berth_plugins", "Plugins by state.", BERTH_METRIC_GAUGE,
                (double)n, &started, 1);
    host_metric(a->host, "berth_reloads_total", "Conf reloads by result.",
                BERTH_METRIC_COUNTER, a->reloads_ok, &ok, 1);
    host_metric(a->host, "berth_reloads_total", "Conf reloads by result.",
                BERTH_METRIC_COUNTER, a->reloads_refused, &refused, 1);
}

static int
push_plugin(struct plugin ***list, size_t *n, struct plugin *p)
{
    struct plugin **nl = realloc(*list, (*n + 1) * sizeof(*nl));
    if (!nl)
        return -1;
    nl[(*n)++] = p;
    *list = nl;
    return 0;
}

/* open + config + init + start; on failure nothing is left behind. */
static struct plugin *
bring_up(struct agent *a, const struct conf *c, const struct conf_plugin *cp,
         struct conf_errors *errs)
{
    char err[1024];
    char *path = conf_plugin_path(c, cp);
    struct plugin *p = NULL;
    void *config;

    if (!path || plugin_open(cp->name, path, &p, err, sizeof(err)) < 0) {
        conf_errors_add(errs, "%s:%d: [plugin %s] %s", c->path, cp->line, cp->name,
                        path ? err : "out of memory");
        free(path);
        return NULL;
    }
    free(path);
    if (!(config = plugin_config_new(p, c, cp, errs))) {
        plugin_close(p);
        return NULL;
    }
    if (plugin_init(p, a->host, config, err, sizeof(err)) < 0) {
        conf_errors_add(errs, "%s:%d: [plugin %s] init failed: %s", c->path, cp->line,
                        cp->name, err);
        plugin_close(p);
        return NULL;
    }
    if (plugin_start(p, err, sizeof(err)) < 0) {
        conf_errors_add(errs, "%s:%d: [plugin %s] start failed: %s", c->path,
                        cp->line, cp->name, err);
        plugin_stop(p);
        plugin_close(p);
        return NULL;
    }
    p->opts_digest = plugin_opts_digest(c, cp);
    log_info("plugin.started", "plugin=%s name=%s version=%s kind=%s abi=%u.%u path=%s",
             p->instance, p->desc.name, p->desc.version ? p->desc.version : "?",
             plugin_kind_name(p->desc.kind), p->desc.abi_major, p->desc.abi_minor,
             p->path);
    host_publish(a->host, "agent", "plugin.started", NULL);
    return p;
}

/* ---- the store and the API ---- */

static void
store_error(struct conf_errors *errs, const struct conf *c, const char *fmt, ...)
    BERTH_PRINTF(3, 4);

static void
store_error(struct conf_errors *errs, const struct conf *c, const char *fmt, ...)
{
    char msg[1024];
    int line = c->store.key_line[0] ? c->store.key_line[0] : c->store.line;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line)
        conf_errors_add(errs, "%s:%d: [store] path: %s", c->path, line, msg);
    else
        conf_errors_add(errs, "%s: [store] path: %s", c->path, msg);
}

static int
agent_store_open(struct agent *a, struct conf_errors *errs)
{
    char err[512];

    if (store_open(a->conf->store.path, a->conf->agent.region, a->conf->agent.account_id,
                   &a->store, err, sizeof(err)) != STORE_OK) {
        store_error(errs, a->conf, "%s", err);
        a->store = NULL;
        return -1;
    }
    log_info("store.opened", "path=%s", a->conf->store.path);
    return 0;
}

static int
agent_api_open(struct agent *a, struct conf_errors *errs)
{
    if (!(a->api = api_start(a->loop, a->conf, errs)))
        return -1;
    if (api_add_actions(a->api, api_taskdef_actions, a->store) < 0 ||
        api_add_actions(a->api, api_tag_actions, a->tasks_api) < 0 ||
        (a->tasks_api && api_add_actions(a->api, api_task_actions, a->tasks_api) < 0) ||
        (a->tasks_api && api_add_actions(a->api, api_cluster_actions, a->tasks_api) < 0) ||
        (a->tasks_api && api_add_actions(a->api, api_service_actions, a->tasks_api) < 0)) {
        conf_errors_add(errs, "cannot register the API's actions");
        api_free(a->api);
        a->api = NULL;
        return -1;
    }
    api_set_observer(a->api, agent_api_observed, a);
    return 0;
}

static void
agent_store_api_close(struct agent *a)
{
    api_free(a->api);
    a->api = NULL;
    agent_tasks_free(a); /* uses the store */
    store_close(a->store);
    a->store = NULL;
}

/* Reload, first phase: what cannot change without a restart is refused;
 * new API listeners open beside the old ones. */
static int
agent_api_reload_prepare(struct agent *a, const struct conf *c, struct conf_errors *errs)
{
    if (strcmp(c->store.path, a->conf->store.path) != 0)
        store_error(errs, c, "changed from %s: the store moves only at a restart",
                    a->conf->store.path);
    if (strcmp(c->agent.region, a->conf->agent.region) != 0 ||
        strcmp(c->agent.account_id, a->conf->agent.account_id) != 0)
        conf_errors_add(errs, "%s: [agent] region and account-id name the stored ARNs: "
                        "they change only at a restart", c->path);
    /* Running containers hold the endpoint's URI in their environment. */
    if (c->metadata.enabled != a->conf->metadata.enabled ||
        c->metadata.port != a->conf->metadata.port)
        conf_errors_add(errs, "%s: [metadata] enabled and port are in the URI of "
                        "running containers: they change only at a restart", c->path);
    if (errs->n)
        return -1;
    return a->api ? api_reload_prepare(a->api, c, errs) : 0;
}

/* --check-config: the credentials file must load too. */
static void
check_api_files(const struct conf *c, struct conf_errors *errs)
{
    char err[512];
    struct sigv4_creds *cr;

    if (!c->api.credentials_file[0])
        return;
    if ((cr = sigv4_creds_load(c->api.credentials_file, err, sizeof(err))))
        sigv4_creds_free(cr);
    else
        conf_errors_add(errs, "%s:%d: [api] credentials-file: %s", c->path,
                        conf_api_line(c, "credentials-file"), err);
}

/* ---- stopping plugins in order, bounded in time ---- */

static void
finish_retire(struct agent *a)
{
    void (*then)(struct agent *) = a->after_retire;

    ev_timer_stop(a->loop, &a->retire_deadline);
    ev_idle_stop(a->loop, &a->retire_resume);
    for (size_t i = 0; i < a->n_retiring; i++) {
        struct plugin *p = a->retiring[i];
        if (p->st != PLUGIN_STOPPED && p->st != PLUGIN_LOADED) {
            agent_tasks_plugin_stopping(a, p);
            log_warn("plugin.stop.timeout", "plugin=%s state=%s", p->instance,
                     p->st == PLUGIN_STOPPING ? "stopping" : "not-stopped");
            plugin_stop(p); /* a last chance to cancel, not awaited */
        }
        log_info("plugin.stopped", "plugin=%s", p->instance);
        plugin_close(p);
    }
    free(a->retiring);
    a->retiring = NULL;
    a->n_retiring = a->retire_idx = 0;
    a->after_retire = NULL;
    if (then)
        then(a);
}

static void
retire_next(struct agent *a)
{
    while (a->retire_idx < a->n_retiring) {
        struct plugin *p = a->retiring[a->retire_idx];
        a->early_done = NULL;
        log_debug("plugin.stopping", "plugin=%s", p->instance);
        agent_tasks_plugin_stopping(a, p);
        if (plugin_stop(p) == BERTH_PENDING && a->early_done != p)
            return; /* resumed by on_stop_done or the deadline */
        p->st = PLUGIN_STOPPED;
        a->retire_idx++;
    }
    finish_retire(a);
}

static void
on_stop_done(void *arg, struct plugin *p)
{
    struct agent *a = arg;

    if (a->retire_idx >= a->n_retiring || a->retiring[a->retire_idx] != p)
        return; /* not the plugin we are waiting for */
    if (p->st != PLUGIN_STOPPING) {
        a->early_done = p; /* called from inside its stop() */
        return;
    }
    p->st = PLUGIN_STOPPED;
    a->retire_idx++;
    /* We are inside the plugin's own code: going on now could destroy and
     * dlclose it under its feet.  Resume from the loop instead. */
    ev_idle_start(a->loop, &a->retire_resume);
}

static void
retire_resume(struct ev_loop *loop, ev_idle *w, int revents)
{
    ev_idle_stop(loop, w);
    retire_next(w->data);
}

static void
retire_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct agent *a = w->data;
    log_warn("plugins.stop.deadline", "timeout_ms=%llu left=%zu",
             (unsigned long long)a->conf->agent.shutdown_timeout_ms,
             a->n_retiring - a->retire_idx);
    a->retire_idx = a->n_retiring;
    finish_retire(a);
}

/* Stops list (already in stop order; the agent takes it), then calls then. */
static void
retire(struct agent *a, struct plugin **list, size_t n, void (*then)(struct agent *))
{
    a->retiring = list;
    a->n_retiring = n;
    a->retire_idx = 0;
    a->after_retire = then;
    ev_timer_set(&a->retire_deadline, a->conf->agent.shutdown_timeout_ms / 1000.0, 0.);
    ev_timer_start(a->loop, &a->retire_deadline);
    retire_next(a);
}

/* ---- shutdown ---- */

static void
shutdown_done(struct agent *a)
{
    a->st = AGENT_DONE;
    log_info("agent.stopped", "pid=%d", (int)getpid());
    ev_break(a->loop, EVBREAK_ALL);
}

void
agent_shutdown(struct agent *a)
{
    struct plugin **list;

    if (a->st == AGENT_RELOADING) {
        a->shutdown_queued = 1;
        return;
    }
    if (a->st != AGENT_RUNNING)
        return;
    a->st = AGENT_STOPPING;
    agent_tasks_quiesce(a);
    notify_systemd("STOPPING=1");
    api_stop_accepting(a->api); /* first: no new work while we stop */
    log_info("agent.stopping", "plugins=%zu", a->n_plugins);
    /* Reverse conf order: later plugins may depend on earlier ones. */
    list = calloc(a->n_plugins ? a->n_plugins : 1, sizeof(*list));
    if (!list) {
        shutdown_done(a);
        return;
    }
    for (size_t i = 0; i < a->n_plugins; i++)
        list[i] = a->plugins[a->n_plugins - 1 - i];
    free(a->plugins);
    a->plugins = NULL;
    retire(a, list, a->n_plugins, shutdown_done);
    a->n_plugins = 0;
}

/* ---- reload ---- */

static void
plan_free(struct reload_plan *plan)
{
    if (!plan)
        return;
    conf_free(plan->conf);
    free(plan->items);
    free(plan);
}

static struct plugin *
find_running(struct agent *a, const char *instance)
{
    for (size_t i = 0; i < a->n_plugins; i++)
        if (strcmp(a->plugins[i]->instance, instance) == 0)
            return a->plugins[i];
    return NULL;
}

/* Decides what each plugin needs and trial-loads the new and changed ones. */
static struct reload_plan *
make_plan(struct agent *a, struct conf *c, struct conf_errors *errs)
{
    struct reload_plan *plan = calloc(1, sizeof(*plan));

    if (!plan || !(plan->items = calloc(c->n_plugins + 1, sizeof(*plan->items)))) {
        free(plan);
        conf_errors_add(errs, "out of memory");
        return NULL;
    }
    plan->conf = c;
    for (size_t i = 0; i < c->n_plugins; i++) {
        const struct conf_plugin *cp = &c->plugins[i];
        struct plan_item *it;
        char *digest;

        if (!cp->enabled)
            continue;
        it = &plan->items[plan->n_items++];
        it->cp = cp;
        it->old = find_running(a, cp->name);
        if (!it->old) {
            it->action = PLAN_ADD;
        } else {
            digest = plugin_opts_digest(c, cp);
            char *path = conf_plugin_path(c, cp);
            if (digest && it->old->opts_digest &&
                strcmp(digest, it->old->opts_digest) == 0)
                it->action = PLAN_KEEP;
            else if (path && strcmp(path, it->old->path) == 0 &&
                     it->old->desc.reconfigure)
                it->action = PLAN_RECONFIGURE;
            else
                it->action = PLAN_RESTART;
            free(path);
            free(digest);
        }
        if (it->action != PLAN_KEEP)
            plugin_probe(c, cp, it->action == PLAN_RECONFIGURE ? PROBE_LOAD : PROBE_INIT,
                         errs);
    }
    if (errs->n) {
        plan->conf = NULL; /* the caller still owns it */
        plan_free(plan);
        return NULL;
    }
    return plan;
}

static int
in_plan(const struct reload_plan *plan, const struct plugin *p)
{
    for (size_t i = 0; i < plan->n_items; i++)
        if (plan->items[i].old == p && plan->items[i].action != PLAN_RESTART)
            return 1;
    return 0;
}

static void reload_finish(struct agent *a);

static void
reload_apply(struct agent *a)
{
    struct reload_plan *plan = a->plan;
    struct plugin **next = NULL;
    size_t n_next = 0;
    unsigned added = 0, restarted = 0, reconfigured = 0, failed = 0;

    for (size_t i = 0; i < plan->n_items; i++) {
        struct plan_item *it = &plan->items[i];
        struct conf_errors errs = {0};
        struct plugin *p = it->old;
        char err[1024], q[2048];

        switch (it->action) {
        case PLAN_KEEP:
            break;
        case PLAN_RECONFIGURE: {
            void *config = plugin_config_new(p, plan->conf, it->cp, &errs);
            if (config && plugin_reconfigure(p, config, err, sizeof(err)) == 0) {
                free(p->opts_digest);
                p->opts_digest = plugin_opts_digest(plan->conf, it->cp);
                reconfigured++;
                log_info("plugin.reconfigured", "plugin=%s", p->instance);
            } else {
                if (config) /* the options were fine: the plugin said no */
                    conf_errors_add(&errs, "%s:%d: [plugin %s] reconfigure failed: %s",
                                    plan->conf->path, it->cp->line, it->cp->name, err);
                failed++;
            }
            break;
        }
        case PLAN_RESTART:
        case PLAN_ADD:
            p = bring_up(a, plan->conf, it->cp, &errs);
            if (p)
                it->action == PLAN_ADD ? added++ : restarted++;
            else
                failed++;
            break;
        }
        for (size_t e = 0; e < errs.n; e++)
            log_error("reload.plugin.failed", "error=%s", log_quote(q, sizeof(q), errs.msg[e]));
        conf_errors_clear(&errs);
        if (p && push_plugin(&next, &n_next, p) < 0) {
            log_error("reload.plugin.failed", "plugin=%s error=\"out of memory\"",
                      p->instance);
            plugin_stop(p);
            plugin_close(p);
        }
    }
    free(a->plugins);
    a->plugins = next;
    a->n_plugins = n_next;
    if (a->api)
        api_reload_commit(a->api);
    conf_free(a->conf);
    a->conf = plan->conf;
    plan->conf = NULL;
    host_set_conf(a->host, a->conf);
    host_set_export_interval(a->host, a->conf->agent.metrics_interval_ms);
    apply_log_conf(a, a->conf);
    plan_free(plan);
    a->plan = NULL;
    for (size_t i = 0; i < n_modules; i++)
        modules[i]->reload(a);
    agent_services_dir_apply(a);
    a->reloads_ok++;
    log_info("reload.done",
             "plugins=%zu added=%u restarted=%u reconfigured=%u failed=%u",
             a->n_plugins, added, restarted, reconfigured, failed);
    host_publish(a->host, "agent", "agent.reloaded", NULL);
    agent_tasks_sync_runtime(a);
    reload_finish(a);
}

static void
reload_finish(struct agent *a)
{
    a->st = AGENT_RUNNING;
    record_agent_metrics(a);
    notify_systemd("READY=1");
    if (a->shutdown_queued) {
        a->shutdown_queued = 0;
        agent_shutdown(a);
    } else if (a->reload_queued) {
        a->reload_queued = 0;
        agent_reload(a);
    }
}

void
agent_reload(struct agent *a)
{
    struct conf_errors errs = {0};
    struct conf *c = NULL;
    struct plugin **gone = NULL;
    char q[2048];
    size_t n_gone = 0;

    if (a->st == AGENT_RELOADING) {
        a->reload_queued = 1;
        return;
    }
    if (a->st != AGENT_RUNNING)
        return;
    a->st = AGENT_RELOADING;
    notify_systemd("RELOADING=1");
    log_info("reload.start", "conf=%s", a->conf_path);
    if (conf_load(a->conf_path, &c, &errs) == 0 &&
        (a->plan = make_plan(a, c, &errs)) == NULL)
        conf_free(c);
    if (a->plan && agent_api_reload_prepare(a, a->plan->conf, &errs) < 0) {
        plan_free(a->plan);
        a->plan = NULL;
    }
    if (!a->plan) {
        for (size_t i = 0; i < errs.n; i++)
            log_error("reload.refused", "error=%s", log_quote(q, sizeof(q), errs.msg[i]));
        log_error("reload.refused", "errors=%zu keeping=%s", errs.n, a->conf->path);
        conf_errors_clear(&errs);
        a->reloads_refused++;
        reload_finish(a);
        return;
    }
    /* Plugins that go away or restart are stopped first, in reverse order. */
    for (size_t i = a->n_plugins; i-- > 0;) {
        struct plugin *p = a->plugins[i];
        if (!in_plan(a->plan, p) && push_plugin(&gone, &n_gone, p) < 0) {
            log_error("reload.refused", "error=\"out of memory\"");
            if (a->api)
                api_reload_abort(a->api);
            free(gone);
            plan_free(a->plan);
            a->plan = NULL;
            reload_finish(a);
            return;
        }
    }
    /* Keep only the survivors in the running list while the others stop. */
    size_t kept = 0;
    for (size_t i = 0; i < a->n_plugins; i++)
        if (in_plan(a->plan, a->plugins[i]))
            a->plugins[kept++] = a->plugins[i];
    a->n_plugins = kept;
    retire(a, gone, n_gone, reload_apply);
}

/* ---- start ---- */

static void
on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct agent *a = w->data;

    if (w->signum == SIGHUP) {
        agent_reload(a);
    } else {
        log_info("agent.signal", "signal=%s", w->signum == SIGINT ? "INT" : "TERM");
        agent_shutdown(a);
    }
}

static void
start_signals(struct agent *a)
{
    ev_signal_init(&a->sig_term, on_signal, SIGTERM);
    ev_signal_init(&a->sig_int, on_signal, SIGINT);
    ev_signal_init(&a->sig_hup, on_signal, SIGHUP);
    a->sig_term.data = a->sig_int.data = a->sig_hup.data = a;
    ev_signal_start(a->loop, &a->sig_term);
    ev_signal_start(a->loop, &a->sig_int);
    ev_signal_start(a->loop, &a->sig_hup);
}

static void
stop_all_now(struct agent *a)
{
    agent_tasks_quiesce(a);
    for (size_t i = a->n_plugins; i-- > 0;) {
        agent_tasks_plugin_stopping(a, a->plugins[i]);
        plugin_stop(a->plugins[i]);
        plugin_close(a->plugins[i]);
    }
    free(a->plugins);
    a->plugins = NULL;
    a->n_plugins = 0;
}

int
agent_start(struct agent *a, struct ev_loop *loop, struct conf *conf, int daemon,
            struct conf_errors *errs)
{
    char err[512];

    memset(a, 0, sizeof(*a));
    a->loop = loop;
    a->daemon = daemon;
    a->conf = conf;
    a->conf_path = strdup(conf->path);
    if (!a->conf_path) {
        conf_errors_add(errs, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < a->conf->n_plugins; i++)
        if (a->conf->plugins[i].enabled)
            plugin_probe(a->conf, &a->conf->plugins[i], PROBE_INIT, errs);
    if (errs->n)
        return -1;
    apply_log_conf(a, a->conf);
    if (!(a->host = host_new(loop, err, sizeof(err)))) {
        conf_errors_add(errs, "cannot start the host: %s", err);
        return -1;
    }
    a->host->on_stop_done = on_stop_done;
    a->host->on_stop_done_arg = a;
    host_set_conf(a->host, a->conf);
    ev_timer_init(&a->retire_deadline, retire_timeout, 0., 0.);
    a->retire_deadline.data = a;
    ev_idle_init(&a->retire_resume, retire_resume);
    a->retire_resume.data = a;
    if (agent_store_open(a, errs) < 0)
        return -1;
    for (size_t i = 0; i < a->conf->n_plugins; i++) {
        struct plugin *p;
        if (!a->conf->plugins[i].enabled)
            continue;
        p = bring_up(a, a->conf, &a->conf->plugins[i], errs);
        if (!p || push_plugin(&a->plugins, &a->n_plugins, p) < 0) {
            if (p) {
                plugin_stop(p);
                plugin_close(p);
            }
            stop_all_now(a);
            agent_store_api_close(a);
            return -1;
        }
    }
    if (agent_tasks_start(a, errs) < 0 || agent_api_open(a, errs) < 0) {
        stop_all_now(a);
        agent_store_api_close(a);
        return -1;
    }
    for (size_t i = 0; i < n_modules; i++) {
        if (modules[i]->start(a, errs) < 0) {
            stop_all_now(a);
            agent_store_api_close(a); /* stops the modules started */
            return -1;
        }
    }
    host_set_export_interval(a->host, a->conf->agent.metrics_interval_ms);
    start_signals(a);
    /* Before agent.started and reload.done: who waits for those lines
     * finds the folder applied. */
    agent_services_dir_apply(a);
    a->st = AGENT_RUNNING;
    record_agent_metrics(a);
    log_info("agent.started", "version=%s abi=%d.%d conf=%s plugins=%zu pid=%d",
             PACKAGE_VERSION, BERTH_PLUGIN_ABI_MAJOR, BERTH_PLUGIN_ABI_MINOR,
             a->conf->path, a->n_plugins, (int)getpid());
    host_publish(a->host, "agent", "agent.started", NULL);
    return 0;
}

void
agent_free(struct agent *a)
{
    if (a->loop) {
        ev_signal_stop(a->loop, &a->sig_term);
        ev_signal_stop(a->loop, &a->sig_int);
        ev_signal_stop(a->loop, &a->sig_hup);
        ev_timer_stop(a->loop, &a->retire_deadline);
        ev_idle_stop(a->loop, &a->retire_resume);
    }
    stop_all_now(a);
    agent_store_api_close(a);
    for (size_t i = 0; i < a->n_retiring; i++)
        plugin_close(a->retiring[i]);
    free(a->retiring);
    plan_free(a->plan);
    host_free(a->host);
    conf_free(a->conf);
    free(a->conf_path);
    memset(a, 0, sizeof(*a));
}

/* --check-config reads services.d too: a file the next start or SIGHUP
 * would skip is an error now.  (Whether a file names a service made
 * through the API needs the store: only the running agent can say.) */
static void check_services_dir(const struct conf *c, struct conf_errors *errs)
{
    const char *dir = c->agent.services_dir;
    struct sd_set set = {0};
    char err[512];

    if (!dir || !*dir)
        return;
    if (sd_load(dir, c->agent.cluster, &set, err, sizeof err) < 0) {
        conf_errors_add(errs, "%s: [agent] services-dir: %s", c->path, err);
        return;
    }
    for (size_t i = 0; i < set.n; i++)
        for (size_t k = 0; k < set.v[i].n_errors; k++)
            conf_errors_add(errs, "%s/%s", dir, set.v[i].errors[k]);
    sd_set_free(&set);
}

int
agent_check_config(const char *conf_path, struct conf_errors *errs)
{
    struct conf *c = NULL;

    if (conf_load(conf_path, &c, errs) < 0)
        return -1;
    for (size_t i = 0; i < c->n_plugins; i++)
        if (c->plugins[i].enabled)
            plugin_probe(c, &c->plugins[i], PROBE_LOAD, errs);
    check_api_files(c, errs);
    check_services_dir(c, errs);
    conf_free(c);
    return errs->n ? -1 : 0;
}
