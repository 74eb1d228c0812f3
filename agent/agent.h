/* agent.h: the running agent: conf in force, the host, the plugins, and
 * the transitions between them (start, reload, shutdown).
 *
 * Start and reload are all-or-nothing at the validation step: the conf is
 * parsed and every new or changed plugin is trial-loaded (plugin_probe)
 * before anything running is touched.  A refused reload leaves the old conf
 * and plugins in force.
 *
 * Stopping plugins (on shutdown, or for those a reload removes or must
 * restart) goes in reverse conf order, one at a time, each allowed to finish
 * asynchronously; the whole sequence is bounded by [agent] shutdown-timeout,
 * after which what is left is cancelled and destroyed. */
#ifndef BERTH_AGENT_H
#define BERTH_AGENT_H

#include <ev.h>

struct api;
struct conf;
struct conf_errors;
struct store;
struct host;
struct plugin;
struct store;
struct tasks;
struct services;
struct api_tasks_ctx;

enum agent_state { AGENT_RUNNING, AGENT_RELOADING, AGENT_STOPPING, AGENT_DONE };

struct agent {
    struct ev_loop *loop;
    struct host *host;
    struct conf *conf;
    char *conf_path;
    int daemon; /* logs to syslog when the conf says stderr */
    enum agent_state st;

    struct store *store; /* [store], open from start to free */
    struct api *api;     /* [api], started once the plugins are */
    struct tasks *tasks; /* the task manager */
    struct api_tasks_ctx *tasks_api; /* what the task actions need */
    struct metadata *metadata; /* the task metadata endpoint, or NULL */
    struct services *services; /* the service scheduler */
    struct registry *registry; /* the live view, fed by the scheduler */
    struct lb *lb;             /* the proxy (lb/), or NULL */
    struct collect *collect;   /* container stats and ECS figures (collect.h) */
    struct dns *dns;           /* the DNS responder (dns/dns_agent.h), or NULL */

    struct plugin **plugins; /* running, in conf order */
    size_t n_plugins;

    /* The plugins being stopped, in stop order, and where we are. */
    struct plugin **retiring;
    size_t n_retiring, retire_idx;
    struct plugin *early_done; /* stop_done() called from inside stop() */
    ev_timer retire_deadline;
    ev_idle retire_resume; /* goes on after a plugin's stop_done() */
    void (*after_retire)(struct agent *a);

    struct reload_plan *plan; /* the reload being applied */
    int reload_queued, shutdown_queued;
    unsigned reloads_ok, reloads_refused;
    ev_signal sig_term, sig_int, sig_hup;
};

/* Takes the loaded conf (and owns it from then on, even on failure; its
 * path is what SIGHUP re-reads), trial-loads then starts every enabled
 * plugin, and hooks SIGTERM, SIGINT and SIGHUP.  -1 with every error in
 * errs; nothing is left running then, and agent_free() releases the rest. */
int agent_start(struct agent *a, struct ev_loop *loop, struct conf *conf,
                int daemon, struct conf_errors *errs);
/* SIGHUP: re-reads the conf file and applies the difference. */
void agent_reload(struct agent *a);
/* SIGTERM: stops everything, then breaks the loop. */
void agent_shutdown(struct agent *a);
void agent_free(struct agent *a);

/* Data planes outside agent/ (lb/) plug in here: berthd's main adds them
 * before agent_start.  start runs once the scheduler, the registry and the
 * API are up (-1 with errs fails the start); reload after a SIGHUP's new
 * conf is in a->conf; stop before the scheduler and registry go. */
struct agent_module {
    const char *name;
    int (*start)(struct agent *a, struct conf_errors *errs);
    void (*reload)(struct agent *a);
    void (*stop)(struct agent *a);
};
int agent_add_module(const struct agent_module *m);
void agent_modules_stop(struct agent *a);

/* --check-config: the conf and each enabled plugin's descriptor and options
 * (trial-loaded, not initialised).  0 when everything is valid. */
int agent_check_config(const char *conf_path, struct conf_errors *errs);

/* agent_tasks.c: the task manager, started after the plugins and the
 * store; the runtime plugin it drives follows the plugin set (call sync
 * after it changes, plugin_stopping before a plugin stops).  free leaves
 * the store open. */
int agent_tasks_start(struct agent *a, struct conf_errors *errs);
void agent_tasks_sync_runtime(struct agent *a);
void agent_tasks_plugin_stopping(struct agent *a, struct plugin *p);
void agent_tasks_quiesce(struct agent *a);
void agent_tasks_free(struct agent *a);
/* Applies [agent] services-dir (services_dir.h): at start, once the
 * scheduler and the API are up, and after each reload. */
void agent_services_dir_apply(struct agent *a);
/* The API's observer (api_set_observer): counts requests for the metrics. */
void agent_api_observed(void *agent, const char *action, const char *error_type,
                        double seconds);

#endif
