/* plugin_host.h: loading plugins and driving their lifecycle.
 *
 *   plugin_open -> plugin_config_new -> plugin_init -> plugin_start
 *     -> (plugin_reconfigure)* -> plugin_stop -> plugin_destroy -> plugin_close
 *
 * plugin_open reads the descriptor defensively: the ABI fields first, then
 * only struct_size bytes, so a plugin built against an older minor works and
 * fields it does not have read as absent.  Every refusal returns one line
 * that says what is wrong with which file.
 *
 * plugin_probe runs open, config and (optionally) init+destroy in a forked
 * child, so a plugin that crashes is refused with the signal named while the
 * agent goes on. */
#ifndef BERTH_PLUGIN_HOST_H
#define BERTH_PLUGIN_HOST_H

#include <stddef.h>

#include "berth/plugin.h"

struct host;
struct conf;
struct conf_plugin;
struct conf_errors;

enum plugin_state {
    PLUGIN_LOADED,      /* descriptor checked, no state */
    PLUGIN_INITIALISED, /* init() succeeded */
    PLUGIN_STARTED,     /* start() succeeded */
    PLUGIN_STOPPING,    /* stop() returned BERTH_PENDING */
    PLUGIN_STOPPED,     /* stop() finished (or timed out) */
};

struct plugin {
    char *instance; /* NAME of [plugin NAME] */
    char *path;
    void *dl;
    struct berth_plugin desc; /* fields past the plugin's struct_size are 0 */
    void *config;
    void *state;
    struct berth_ctx *ctx;
    enum plugin_state st;
    char *opts_digest; /* the section's raw key=value text, to spot changes */
};

/* Checks the ABI fields of a descriptor against a host version. */
int plugin_check_abi(const struct berth_plugin *d, unsigned host_major,
                     unsigned host_minor, char *err, size_t errlen);

/* dlopen + descriptor checks.  err: "cannot load PATH: why". */
int plugin_open(const char *instance, const char *path, struct plugin **out,
                char *err, size_t errlen);
void plugin_close(struct plugin *p);

/* Builds the plugin's config struct from its [plugin NAME] keys; errors go
 * to errs as "FILE:LINE: [plugin NAME] KEY: why".  NULL on any error. */
void *plugin_config_new(const struct plugin *p, const struct conf *c,
                        const struct conf_plugin *cp, struct conf_errors *errs);
void plugin_config_free(const struct plugin *p, void *config);

/* Takes ownership of config (freed on failure too). */
int plugin_init(struct plugin *p, struct host *h, void *config, char *err,
                size_t errlen);
int plugin_start(struct plugin *p, char *err, size_t errlen);
/* 1.1's reconfigure, or -1 with err "does not support reconfigure" when the
 * plugin lacks it.  Takes ownership of config either way. */
int plugin_reconfigure(struct plugin *p, void *config, char *err, size_t errlen);
/* 0 when stopped, BERTH_PENDING when the plugin will call stop_done. */
int plugin_stop(struct plugin *p);
/* Calls destroy, releases the context and config; back to PLUGIN_LOADED. */
void plugin_destroy(struct plugin *p);

enum probe_depth { PROBE_LOAD, PROBE_INIT };
/* In a child process: open, configure and, with PROBE_INIT, init+destroy.
 * Appends every error to errs; returns 0 when the plugin passed. */
int plugin_probe(const struct conf *c, const struct conf_plugin *cp,
                 enum probe_depth depth, struct conf_errors *errs);

/* The section's option text, for comparing two confs. */
char *plugin_opts_digest(const struct conf *c, const struct conf_plugin *cp);

const char *plugin_kind_name(enum berth_plugin_kind k);

#endif
