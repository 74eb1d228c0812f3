/* conf.h: berth.conf, parsed and validated.
 *
 * conf_load() reads the whole file and returns either a complete struct conf
 * or, with every error found, none: a half-valid conf is never used.  Errors
 * read "FILE:LINE: [SECTION] KEY: what was expected, what was found", FILE
 * being the path as given.
 *
 * Sections known today: [agent], [api], [store], [tasks], [metadata], those
 * of the conf_ext modules below ([lb]..., [dns])
 * and [plugin NAME].  A plugin section's keys
 * are kept raw (with their lines) because only the plugin's own option table,
 * known after dlopen, can check them; conf_plugin_error() formats errors for
 * them the same way. */
#ifndef BERTH_CONF_H
#define BERTH_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "berth/plugin.h"

struct conf_agent {
    char *cluster;
    char *region;
    char *account_id;
    char *state_dir;
    char *plugin_dir;
    char *pidfile;
    char *services_dir; /* services.d: declarative services */
    char *log_level;
    char *log_target; /* "stderr" or "syslog" */
    uint64_t shutdown_timeout_ms;
    uint64_t metrics_interval_ms;
};

#define CONF_API_KEYS 9
/* [api]: the ECS API's listeners and limits (agent/api/api.h). */
struct conf_api {
    char *socket;      /* "" for none */
    char *socket_mode; /* as written, e.g. "0660" */
    char *socket_group; /* "" keeps the daemon's group */
    char *listen;      /* TCP "host:port"; "" for none */
    char *credentials_file;
    uint64_t max_body;
    uint64_t idle_timeout_ms;
    uint64_t header_timeout_ms;
    int64_t max_connections;
    unsigned socket_mode_bits; /* socket_mode parsed (octal) */
    int line;                  /* of [api]; 0 when absent */
    int key_line[CONF_API_KEYS]; /* per key, in conf_api_options order */
};

/* [store]: the desired-state database (agent/store.h). */
struct conf_store {
    char *path; /* default STATE-DIR/berth.db */
    int line;
    int key_line[1];
};

/* [tasks]: how the agent runs tasks. */
struct conf_tasks {
    char *runtime;          /* plugin instance; "": the first runtime plugin */
    char *host_port_range;  /* as written; "" for the kernel's range */
    char *reserved_ports;   /* as written */
    char *secrets_dir;
    int image_healthcheck;
    uint64_t start_timeout_ms;
    uint64_t retention_ms;
    uint64_t cleanup_ms;
    /* Parsed from the text above. */
    uint16_t port_first, port_last; /* 0, 0: the kernel's range */
    uint16_t *reserved;
    size_t n_reserved;
};

/* [metadata]: the task metadata endpoint (agent/metadata.h). */
struct conf_metadata {
    int enabled;
    int64_t port;
    int line;
    int key_line[2];
};

struct conf_kv {
    char *key;
    char *value;
    int line;
};

struct conf_plugin {
    char *name; /* NAME of [plugin NAME] */
    int line;   /* line of the section header */
    char *file; /* "file" key: the .so to load; "NAME.so" when not set */
    int enabled;
    struct conf_kv *opts; /* every other key, for the plugin's option table */
    size_t n_opts;
};

#define CONF_MAX_EXT 4

struct conf {
    char *path; /* absolute (not resolved through symlinks), for reloads */
    void *ext[CONF_MAX_EXT]; /* each registered conf_ext's parsed sections */
    struct conf_agent agent;
    struct conf_api api;
    struct conf_store store;
    struct conf_tasks tasks;
    struct conf_metadata metadata;
    struct conf_plugin *plugins; /* in file order: the load order */
    size_t n_plugins;
};

struct conf_errors {
    char **msg;
    size_t n;
};

/* Table of the [agent] keys (the source of berth.conf(5)). */
extern const struct berth_option conf_agent_options[];
/* Tables of the [api] and [store] keys. */
extern const struct berth_option conf_api_options[];
extern const struct berth_option conf_store_options[];
/* Line of an [api] key (the section's line when the key was not set; 0
 * when there is no [api] section), for messages about its value. */
int conf_api_line(const struct conf *c, const char *key);
/* Table of the [tasks] keys. */
extern const struct berth_option conf_tasks_options[];
/* Table of the [metadata] keys. */
extern const struct berth_option conf_metadata_options[];
/* Keys the host itself takes in a [plugin NAME] section. */
extern const struct berth_option conf_plugin_host_options[];

/* Sections owned by a module outside agent/ (lb/ owns [lb], [listener
 * NAME], [target-group NAME]).  The module registers its conf_ext once,
 * before any conf is loaded; each conf then carries the module's parsed
 * state in ext[slot].  Each callback returns how many errors it added to
 * errs (use conf_error_at for the "FILE:LINE: [SECTION] KEY: ..." form). */
struct conf_ext {
    const char *hint;                      /* for "known: ..." messages */
    int (*owns)(const char *section);      /* 1: this header is ours */
    void *(*create)(void);                 /* defaults; NULL on OOM */
    int (*section)(void *st, const char *section, int line, const char *path,
                   struct conf_errors *errs);
    int (*entry)(void *st, const char *section, const char *key,
                 const char *value, int line, const char *path,
                 struct conf_errors *errs);
    int (*finish)(void *st, const char *path, struct conf_errors *errs);
    void (*destroy)(void *st);
};
/* The slot of ext in struct conf's ext[], or -1 when full. */
int conf_register_ext(const struct conf_ext *ext);
/* c's state for ext, NULL when ext was not registered. */
void *conf_ext_state(const struct conf *c, const struct conf_ext *ext);
void conf_error_at(struct conf_errors *e, const char *path, int line,
                   const char *section, const char *key, const char *fmt, ...)
    BERTH_PRINTF(6, 7);

/* 0 with *out set, or -1 with errs filled (at least one message). */
int conf_load(const char *path, struct conf **out, struct conf_errors *errs);
/* The same from text; path only names it in messages. */
int conf_load_string(const char *text, const char *path, struct conf **out,
                     struct conf_errors *errs);
void conf_free(struct conf *c);

void conf_errors_add(struct conf_errors *e, const char *fmt, ...)
    BERTH_PRINTF(2, 3);
void conf_errors_clear(struct conf_errors *e);

/* Path of a plugin's shared object: its "file" key (relative paths are taken
 * from plugin-dir) or plugin-dir/NAME.so.  Caller frees. */
char *conf_plugin_path(const struct conf *c, const struct conf_plugin *p);

/* Adds "FILE:LINE: [plugin NAME] KEY: message" to e, FILE being c->path;
 * with kv NULL, the section header's line and no KEY. */
void conf_plugin_error(struct conf_errors *e, const struct conf *c,
                       const struct conf_plugin *p, const struct conf_kv *kv,
                       const char *fmt, ...) BERTH_PRINTF(5, 6);

/* Applies a plugin's option table to base (config_size zeroed bytes): the
 * defaults, then p->opts.  Unknown keys, bad values and missing
 * BERTH_OPT_REQUIRED options are all added to errs (conf_plugin_error
 * format).  Returns 0 or -1; either way release base with options_free(). */
int conf_plugin_apply(const struct conf *c, const struct conf_plugin *p,
                      const struct berth_option *table, void *base,
                      struct conf_errors *errs);

#endif
