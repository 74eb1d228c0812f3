/* conf.c: berth.conf: the [agent], [api], [store] and [plugin NAME]
 * sections, validated. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/ini.h"
#include "agent/log.h"
#include "agent/options.h"
#include "agent/value.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/lib/berth"
#endif

#define AGENT(key, type, def, field, help) \
    {key, type, def, offsetof(struct conf_agent, field), help, 0}

/* The help texts are the source of berth.conf(5): keep them one sentence
 * or two, and keep man/berth.conf.5 and conf/berth.conf in step (a unit
 * test checks that every key appears in both). */
const struct berth_option conf_agent_options[] = {
    AGENT("cluster", BERTH_OPT_STRING, "default", cluster,
          "Name of the cluster this agent runs, as it appears in ARNs: 1 to "
          "255 letters, digits, '-' or '_'."),
    AGENT("region", BERTH_OPT_STRING, "local", region,
          "Region shown in ARNs, such as local or eu-west-1: letters, digits "
          "and '-'."),
    AGENT("account-id", BERTH_OPT_STRING, "000000000000", account_id,
          "Account ID shown in ARNs: exactly 12 digits."),
    AGENT("state-dir", BERTH_OPT_STRING, LOCALSTATEDIR "/lib/berth", state_dir,
          "Directory of the agent's state: the database of task definitions, "
          "services and tasks."),
    AGENT("plugin-dir", BERTH_OPT_STRING, PKGLIBDIR, plugin_dir,
          "Directory of the plugins; a plugin's relative file is taken from "
          "here."),
    AGENT("pidfile", BERTH_OPT_STRING, "", pidfile,
          "File the daemon writes its process ID to; empty for none."),
    AGENT("services-dir", BERTH_OPT_STRING, SYSCONFDIR "/berth/services.d", services_dir,
          "Directory of declarative services: each *.json file holds a task "
          "definition and a service, applied at start and on SIGHUP; a "
          "missing directory declares none."),
    AGENT("log-level", BERTH_OPT_STRING, "info", log_level,
          "Least severe level that is logged: error, warn, info or debug."),
    AGENT("log-target", BERTH_OPT_STRING, "stderr", log_target,
          "Where the log goes: stderr (one logfmt line per event, with a "
          "timestamp) or syslog (facility daemon, ident berthd)."),
    AGENT("shutdown-timeout", BERTH_OPT_DURATION, "10s", shutdown_timeout_ms,
          "How long the agent waits at shutdown for its plugins to stop "
          "before it cancels what they still hold; 1s to 10m."),
    AGENT("metrics-interval", BERTH_OPT_DURATION, "10s", metrics_interval_ms,
          "How often the agent hands its metrics to the metrics sink "
          "plugins; 1s to 1h."),
    {NULL, 0, NULL, 0, NULL, 0},
};

#define N_AGENT_KEYS (sizeof conf_agent_options / sizeof conf_agent_options[0] - 1)

#define API(key, type, def, field, help) \
    {key, type, def, offsetof(struct conf_api, field), help, 0}

/* Same order as struct conf_api's key_line[]. */
const struct berth_option conf_api_options[] = {
    API("socket", BERTH_OPT_STRING, RUNSTATEDIR "/berth/api.sock", socket,
        "Unix socket of the ECS API; requests on it need no signature (its "
        "mode and group decide who may call).  Empty for none."),
    API("socket-mode", BERTH_OPT_STRING, "0660", socket_mode,
        "Permissions of the socket file, in octal."),
    API("socket-group", BERTH_OPT_STRING, "", socket_group,
        "Group (name or number) that owns the socket file; empty keeps the "
        "daemon's group."),
    API("listen", BERTH_OPT_STRING, "", listen,
        "TCP address of the ECS API, such as 127.0.0.1:8080 or [::1]:8080 (an IP "
        "address, not a name); empty for none.  Requests on it must carry an "
        "AWS SigV4 signature, so credentials-file is then required."),
    API("credentials-file", BERTH_OPT_STRING, "", credentials_file,
        "File of the access keys that may sign TCP requests, in the AWS CLI's "
        "credentials format; read again on SIGHUP."),
    API("max-body", BERTH_OPT_SIZE, "2MiB", max_body,
        "Largest request body taken; larger ones get HTTP 413.  1KiB to 64MiB."),
    API("idle-timeout", BERTH_OPT_DURATION, "60s", idle_timeout_ms,
        "How long a connection may stay open with no request in progress; "
        "1s to 1h."),
    API("header-timeout", BERTH_OPT_DURATION, "10s", header_timeout_ms,
        "How long a client may take to send a request's headers, from its "
        "first byte (HTTP 408 after); 1s to 10m."),
    API("max-connections", BERTH_OPT_INT, "256", max_connections,
        "Most connections open at once, all listeners together; more are "
        "answered with HTTP 503.  1 to 65536."),
    {NULL, 0, NULL, 0, NULL, 0},
};

#define N_API_KEYS (sizeof conf_api_options / sizeof conf_api_options[0] - 1)
_Static_assert(N_API_KEYS == CONF_API_KEYS, "CONF_API_KEYS matches the table");

const struct berth_option conf_store_options[] = {
    {"path", BERTH_OPT_STRING, "", offsetof(struct conf_store, path),
     "The SQLite database of the desired state; empty means berth.db in "
     "state-dir.",
     0},
    {NULL, 0, NULL, 0, NULL, 0},
};

int conf_api_line(const struct conf *c, const char *key)
{
    const struct berth_option *o = options_find(conf_api_options, key);
    int line = o ? c->api.key_line[o - conf_api_options] : 0;
    return line ? line : c->api.line;
}

#define TASKS(key, type, def, field, help) \
    {key, type, def, offsetof(struct conf_tasks, field), help, 0}

const struct berth_option conf_tasks_options[] = {
    TASKS("runtime", BERTH_OPT_STRING, "", runtime,
          "The [plugin NAME] that runs containers; empty: the first enabled "
          "runtime plugin."),
    TASKS("host-port-range", BERTH_OPT_STRING, "", host_port_range,
          "Dynamic host ports (hostPort 0) come from this range, FIRST-LAST; "
          "empty: the kernel's ip_local_port_range, as ECS does.  That range "
          "is also where the kernel picks ports for outgoing connections, so "
          "a busy host may prefer a range outside it."),
    TASKS("reserved-ports", BERTH_OPT_STRING, "22,2375,2376,51678,51679",
          reserved_ports,
          "Host ports never given to a task, static or dynamic: a list of "
          "ports separated by commas (ECS's defaults)."),
    TASKS("secrets-dir", BERTH_OPT_STRING, SYSCONFDIR "/berth/secrets", secrets_dir,
          "Folder of the secrets that task definitions name in "
          "secrets[].valueFrom: one file per secret, named as the secret."),
    TASKS("image-healthcheck", BERTH_OPT_BOOL, "yes", image_healthcheck,
          "Whether a container whose definition has no healthCheck gets the "
          "HEALTHCHECK of its image (ECS ignores it)."),
    TASKS("start-timeout", BERTH_OPT_DURATION, "3m", start_timeout_ms,
          "How long a container waits for its dependsOn conditions when its "
          "definition sets no startTimeout; 1s to 1h."),
    TASKS("stopped-task-retention", BERTH_OPT_DURATION, "1h", retention_ms,
          "How long stopped tasks stay visible to DescribeTasks and "
          "ListTasks; 1m to 30d."),
    TASKS("cleanup-delay", BERTH_OPT_DURATION, "3h", cleanup_ms,
          "How long a stopped task's containers (on Podman its pod) stay on "
          "the engine before they are removed (ECS's "
          "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION); 0 to 30d, 0: at once."),
    {NULL, 0, NULL, 0, NULL, 0},
};

const struct berth_option conf_metadata_options[] = {
    {"enabled", BERTH_OPT_BOOL, "yes", offsetof(struct conf_metadata, enabled),
     "Whether containers get ECS_CONTAINER_METADATA_URI_V4 (and the v3 "
     "ECS_CONTAINER_METADATA_URI) and the agent serves the task metadata "
     "endpoint.", 0},
    {"port", BERTH_OPT_INT, "51679", offsetof(struct conf_metadata, port),
     "The endpoint's TCP port, on 127.0.0.1 and on the engine's bridge "
     "gateway (ECS's agent uses 51679).", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

#define N_TASKS_KEYS (sizeof conf_tasks_options / sizeof conf_tasks_options[0] - 1)

const struct berth_option conf_plugin_host_options[] = {
    {"file", BERTH_OPT_STRING, NULL, offsetof(struct conf_plugin, file),
     "The plugin's shared object; a relative path is taken from plugin-dir. "
     "Default: NAME.so.",
     0},
    {"enabled", BERTH_OPT_BOOL, "yes", offsetof(struct conf_plugin, enabled),
     "Whether the agent loads the plugin; with no, the section is checked "
     "but the plugin is not loaded.",
     0},
    {NULL, 0, NULL, 0, NULL, 0},
};

#define N_HOST_KEYS \
    (sizeof conf_plugin_host_options / sizeof conf_plugin_host_options[0] - 1)

#define SECTIONS_HINT "known: [agent], [api], [store], [tasks], [metadata], [plugin NAME]"

enum section_kind {
    SECT_NONE, SECT_AGENT, SECT_API, SECT_STORE, SECT_TASKS, SECT_PLUGIN, SECT_SKIP,
    SECT_METADATA, SECT_EXT
};

static const struct conf_ext *exts[CONF_MAX_EXT];
static size_t n_exts;

int conf_register_ext(const struct conf_ext *ext)
{
    for (size_t i = 0; i < n_exts; i++)
        if (exts[i] == ext)
            return (int)i;
    if (n_exts == CONF_MAX_EXT)
        return -1;
    exts[n_exts] = ext;
    return (int)n_exts++;
}

void *conf_ext_state(const struct conf *c, const struct conf_ext *ext)
{
    for (size_t i = 0; i < n_exts; i++)
        if (exts[i] == ext)
            return c->ext[i];
    return NULL;
}

struct loader {
    const char *path; /* as given, for messages */
    struct conf *c;
    struct conf_errors *errs;
    size_t n_errors; /* counted here: adding a message may fail */
    enum section_kind kind;
    int agent_line;
    int agent_key_line[N_AGENT_KEYS];
    int tasks_line;
    int tasks_key_line[N_TASKS_KEYS];
    int store_key_line[1];
    size_t plugin;                   /* index of the current plugin */
    size_t ext;                      /* index of the current conf_ext */
    int host_key_line[N_HOST_KEYS];  /* of the current plugin */
};

/* ------------------------------------------------------------------ */
/* Errors                                                             */

void conf_errors_add(struct conf_errors *e, const char *fmt, ...)
{
    va_list ap;
    char *msg, **grown;

    va_start(ap, fmt);
    int r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    grown = realloc(e->msg, (e->n + 1) * sizeof *e->msg);
    if (!grown) {
        free(msg);
        return;
    }
    e->msg = grown;
    e->msg[e->n++] = msg;
}

void conf_errors_clear(struct conf_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->msg[i]);
    free(e->msg);
    e->msg = NULL;
    e->n = 0;
}

/* "PATH:LINE: [SECTION] KEY: message"; section and key may be NULL. */
static void add_error(struct conf_errors *e, const char *path, int line,
                      const char *section, const char *key, const char *fmt,
                      va_list ap) BERTH_PRINTF(6, 0);

static void add_error(struct conf_errors *e, const char *path, int line,
                      const char *section, const char *key, const char *fmt,
                      va_list ap)
{
    char msg[1024];

    vsnprintf(msg, sizeof msg, fmt, ap);
    conf_errors_add(e, "%s:%d: %s%s%s%s%s%s", path, line,
                    section ? "[" : "", section ? section : "",
                    section ? "] " : "", key ? key : "", key ? ": " : "", msg);
}

static void ld_error(struct loader *ld, int line, const char *section,
                     const char *key, const char *fmt, ...) BERTH_PRINTF(5, 6);

/* section and key NULL when the message names neither. */
static void ld_error(struct loader *ld, int line, const char *section,
                     const char *key, const char *fmt, ...)
{
    va_list ap;

    ld->n_errors++;
    va_start(ap, fmt);
    add_error(ld->errs, ld->path, line, section, key, fmt, ap);
    va_end(ap);
}

void conf_error_at(struct conf_errors *e, const char *path, int line,
                   const char *section, const char *key, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_error(e, path, line, section, key, fmt, ap);
    va_end(ap);
}

void conf_plugin_error(struct conf_errors *e, const struct conf *c,
                       const struct conf_plugin *p, const struct conf_kv *kv,
                       const char *fmt, ...)
{
    char section[300];
    va_list ap;

    snprintf(section, sizeof section, "plugin %s", p->name);
    va_start(ap, fmt);
    add_error(e, c->path, kv ? kv->line : p->line, section, kv ? kv->key : NULL,
              fmt, ap);
    va_end(ap);
}

/* "a, b, c" from a table's names. */
static void key_list(const struct berth_option *table, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (const struct berth_option *o = table; o && o->name && n < size; o++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", o->name);
}

/* ------------------------------------------------------------------ */
/* Checks beyond the type                                             */

static int all_chars(const char *s, const char *extra)
{
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || (ch && strchr(extra, ch))))
            return 0;
    }
    return 1;
}

static int check_duration_range(uint64_t v, const char *text, uint64_t min,
                                 uint64_t max, char *err, size_t errlen)
{
    char lo[32], hi[32];

    if (v >= min && v <= max)
        return 0;
    value_format(BERTH_OPT_DURATION, &min, lo, sizeof lo);
    value_format(BERTH_OPT_DURATION, &max, hi, sizeof hi);
    snprintf(err, errlen, "expected a duration from %s to %s, got \"%s\"", lo,
             hi, text);
    return -1;
}

/* Called after the value parsed as its type; text is the raw value. */
static int check_agent_key(const char *key, const char *text,
                           const struct conf_agent *a, char *err, size_t errlen)
{
    size_t len = strlen(text);

    if (strcmp(key, "cluster") == 0) {
        if (len >= 1 && len <= 255 && all_chars(text, "-_"))
            return 0;
        snprintf(err, errlen, "expected 1 to 255 letters, digits, '-' or '_', "
                              "got \"%s\"", text);
    } else if (strcmp(key, "region") == 0) {
        if (len >= 1 && len <= 64 && all_chars(text, "-"))
            return 0;
        snprintf(err, errlen, "expected a region such as local or eu-west-1 "
                              "(letters, digits and '-'), got \"%s\"", text);
    } else if (strcmp(key, "account-id") == 0) {
        if (len == 12 && strspn(text, "0123456789") == 12)
            return 0;
        snprintf(err, errlen, "expected 12 digits such as 123456789012, "
                              "got \"%s\"", text);
    } else if (strcmp(key, "state-dir") == 0 || strcmp(key, "plugin-dir") == 0) {
        if (len > 0)
            return 0;
        snprintf(err, errlen, "expected a directory, got \"\"");
    } else if (strcmp(key, "log-level") == 0) {
        if (log_level_parse(text) >= 0)
            return 0;
        snprintf(err, errlen, "expected error, warn, info or debug, got \"%s\"",
                 text);
    } else if (strcmp(key, "log-target") == 0) {
        if (strcmp(text, "stderr") == 0 || strcmp(text, "syslog") == 0)
            return 0;
        snprintf(err, errlen, "expected stderr or syslog, got \"%s\"", text);
    } else if (strcmp(key, "shutdown-timeout") == 0) {
        return check_duration_range(a->shutdown_timeout_ms, text, 1000,
                                    10 * 60 * 1000, err, errlen);
    } else if (strcmp(key, "metrics-interval") == 0) {
        return check_duration_range(a->metrics_interval_ms, text, 1000,
                                    60 * 60 * 1000, err, errlen);
    } else {
        return 0;
    }
    return -1;
}

static int check_api_key(const char *key, const char *text, struct conf_api *a,
                         char *err, size_t errlen)
{
    char *end;

    if (strcmp(key, "socket-mode") == 0) {
        unsigned long m = strtoul(text, &end, 8);
        if (*text && !*end && m <= 0777 && strspn(text, "01234567") == strlen(text)) {
            a->socket_mode_bits = (unsigned)m;
            return 0;
        }
        snprintf(err, errlen, "expected an octal mode such as 0660, got \"%s\"", text);
    } else if (strcmp(key, "listen") == 0) {
        struct berth_address ba;
        char perr[256];
        if (!*text)
            return 0;
        if (value_parse_address(text, &ba, perr, sizeof perr) == 0)
            return 0;
        snprintf(err, errlen, "%s", perr);
    } else if (strcmp(key, "max-body") == 0) {
        if (a->max_body >= 1024 && a->max_body <= 64 * 1024 * 1024)
            return 0;
        snprintf(err, errlen, "expected a size from 1KiB to 64MiB, got \"%s\"", text);
    } else if (strcmp(key, "idle-timeout") == 0) {
        return check_duration_range(a->idle_timeout_ms, text, 1000, 3600 * 1000,
                                    err, errlen);
    } else if (strcmp(key, "header-timeout") == 0) {
        return check_duration_range(a->header_timeout_ms, text, 1000, 600 * 1000,
                                    err, errlen);
    } else if (strcmp(key, "max-connections") == 0) {
        if (a->max_connections >= 1 && a->max_connections <= 65536)
            return 0;
        snprintf(err, errlen, "expected a number from 1 to 65536, got \"%s\"", text);
    } else {
        return 0;
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Sections                                                           */

static int valid_plugin_name(const char *s)
{
    return *s && all_chars(s, "-_");
}

static void section_plugin(struct loader *ld, const char *name, int line)
{
    struct conf *c = ld->c;
    struct conf_plugin *grown, *p;
    char err[256];

    ld->kind = SECT_SKIP;
    if (*name == '\0' || strchr(name, ' ')) {
        ld_error(ld, line, NULL, NULL, "section [plugin%s%s]: expected "
                 "[plugin NAME] with one NAME", *name ? " " : "", name);
        return;
    }
    if (!valid_plugin_name(name)) {
        ld_error(ld, line, NULL, NULL, "section [plugin %s]: expected a NAME "
                 "of letters, digits, '-' or '_', got \"%s\"", name, name);
        return;
    }
    for (size_t i = 0; i < c->n_plugins; i++) {
        if (strcmp(c->plugins[i].name, name) == 0) {
            ld_error(ld, line, NULL, NULL, "duplicate section [plugin %s] "
                     "(first on line %d)", name, c->plugins[i].line);
            return;
        }
    }
    grown = realloc(c->plugins, (c->n_plugins + 1) * sizeof *c->plugins);
    if (!grown)
        goto oom;
    c->plugins = grown;
    p = &c->plugins[c->n_plugins];
    memset(p, 0, sizeof *p);
    p->line = line;
    p->name = strdup(name);
    if (!p->name)
        goto oom;
    c->n_plugins++;
    if (options_defaults(conf_plugin_host_options, p, err, sizeof err) < 0)
        ld_error(ld, line, NULL, NULL, "[plugin] %s", err);
    ld->kind = SECT_PLUGIN;
    ld->plugin = c->n_plugins - 1;
    memset(ld->host_key_line, 0, sizeof ld->host_key_line);
    return;
oom:
    ld_error(ld, line, NULL, NULL, "out of memory");
}

static void on_section(void *arg, const char *name, int line)
{
    struct loader *ld = arg;

    ld->kind = SECT_SKIP; /* unless the header proves good */
    for (size_t i = 0; i < n_exts; i++) {
        if (exts[i]->owns(name)) {
            int n = exts[i]->section(ld->c->ext[i], name, line, ld->path, ld->errs);
            ld->n_errors += (size_t)n;
            if (n == 0) {
                ld->kind = SECT_EXT;
                ld->ext = i;
            }
            return;
        }
    }
    if (strcmp(name, "agent") == 0) {
        if (ld->agent_line) {
            ld_error(ld, line, NULL, NULL, "duplicate section [agent] "
                     "(first on line %d)", ld->agent_line);
            return;
        }
        ld->kind = SECT_AGENT;
        ld->agent_line = line;
    } else if (strcmp(name, "tasks") == 0) {
        if (ld->tasks_line) {
            ld_error(ld, line, NULL, NULL, "duplicate section [tasks] "
                     "(first on line %d)", ld->tasks_line);
            return;
        }
        ld->kind = SECT_TASKS;
        ld->tasks_line = line;
    } else if (strncmp(name, "tasks ", 6) == 0) {
        ld_error(ld, line, NULL, NULL, "section [%s]: [tasks] takes no name",
                 name);
    } else if (strcmp(name, "api") == 0 || strcmp(name, "store") == 0) {
        int *first = name[0] == 'a' ? &ld->c->api.line : &ld->c->store.line;
        if (*first) {
            ld_error(ld, line, NULL, NULL, "duplicate section [%s] "
                     "(first on line %d)", name, *first);
            return;
        }
        *first = line;
        ld->kind = name[0] == 'a' ? SECT_API : SECT_STORE;
    } else if (strncmp(name, "api ", 4) == 0 || strncmp(name, "store ", 6) == 0) {
        ld_error(ld, line, NULL, NULL, "section [%s]: [%.*s] takes no name", name,
                 (int)strcspn(name, " "), name);
    } else if (strcmp(name, "metadata") == 0) {
        if (ld->c->metadata.line) {
            ld_error(ld, line, NULL, NULL, "duplicate section [metadata] "
                     "(first on line %d)", ld->c->metadata.line);
            return;
        }
        ld->c->metadata.line = line;
        ld->kind = SECT_METADATA;
    } else if (strncmp(name, "metadata ", 9) == 0) {
        ld_error(ld, line, NULL, NULL, "section [%s]: [%.*s] takes no name", name,
                 (int)strcspn(name, " "), name);
    } else if (strncmp(name, "agent ", 6) == 0) {
        ld_error(ld, line, NULL, NULL, "section [%s]: [agent] takes no name",
                 name);
    } else if (strcmp(name, "plugin") == 0 || strncmp(name, "plugin ", 7) == 0) {
        section_plugin(ld, name[6] ? name + 7 : "", line);
    } else {
        char more[256] = "";
        for (size_t i = 0, n = 0; i < n_exts && n < sizeof more; i++)
            n += (size_t)snprintf(more + n, sizeof more - n, ", %s", exts[i]->hint);
        ld_error(ld, line, NULL, NULL, "unknown section [%s]; " SECTIONS_HINT "%s",
                 name, more);
    }
}

/* ------------------------------------------------------------------ */
/* Entries                                                            */

static void entry_agent(struct loader *ld, const char *sect, const char *key,
                        const char *value, int line)
{
    const struct berth_option *o = options_find(conf_agent_options, key);
    char err[512], keys[512];
    size_t i;

    if (!o) {
        key_list(conf_agent_options, keys, sizeof keys);
        ld_error(ld, line, sect, key, "unknown key; valid keys: %s", keys);
        return;
    }
    i = (size_t)(o - conf_agent_options);
    if (ld->agent_key_line[i]) {
        ld_error(ld, line, sect, key, "duplicate key (first on line %d)",
                 ld->agent_key_line[i]);
        return;
    }
    ld->agent_key_line[i] = line;
    if (options_set(conf_agent_options, &ld->c->agent, key, value, err,
                    sizeof err) < 0 ||
        check_agent_key(key, value, &ld->c->agent, err, sizeof err) < 0)
        ld_error(ld, line, sect, key, "%s", err);
}

/* "FIRST-LAST" */
static int parse_port_range(const char *text, uint16_t *first, uint16_t *last)
{
    unsigned a, b;
    int n = 0;

    if (sscanf(text, "%u-%u%n", &a, &b, &n) != 2 || text[n] != '\0' || a < 1 ||
        a > b || b > 65535)
        return -1;
    *first = (uint16_t)a;
    *last = (uint16_t)b;
    return 0;
}

static int parse_port_list(const char *text, uint16_t **out, size_t *n_out)
{
    uint16_t *v = NULL;
    size_t n = 0;
    const char *p = text;

    while (*p) {
        char *end;
        while (*p == ' ' || *p == '\t')
            p++;
        unsigned long port = strtoul(p, &end, 10);
        if (end == p || port < 1 || port > 65535)
            goto bad;
        p = end;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
        uint16_t *grown = realloc(v, (n + 1) * sizeof *v);
        if (!grown)
            goto bad;
        v = grown;
        v[n++] = (uint16_t)port;
    }
    free(*out);
    *out = v;
    *n_out = n;
    return 0;
bad:
    free(v);
    return -1;
}

static int check_tasks_key(const char *key, const char *text,
                           struct conf_tasks *t, char *err, size_t errlen)
{
    if (strcmp(key, "host-port-range") == 0) {
        if (!*text) {
            t->port_first = t->port_last = 0;
            return 0;
        }
        if (parse_port_range(text, &t->port_first, &t->port_last) == 0)
            return 0;
        snprintf(err, errlen, "expected FIRST-LAST with 1 <= FIRST <= LAST <= "
                              "65535, such as 49153-65535, got \"%s\"", text);
    } else if (strcmp(key, "reserved-ports") == 0) {
        if (parse_port_list(text, &t->reserved, &t->n_reserved) == 0)
            return 0;
        snprintf(err, errlen, "expected ports 1-65535 separated by commas, "
                              "such as 22,2375, got \"%s\"", text);
    } else if (strcmp(key, "start-timeout") == 0) {
        return check_duration_range(t->start_timeout_ms, text, 1000,
                                    60 * 60 * 1000, err, errlen);
    } else if (strcmp(key, "stopped-task-retention") == 0) {
        return check_duration_range(t->retention_ms, text, 60 * 1000,
                                    30ULL * 24 * 60 * 60 * 1000, err, errlen);
    } else if (strcmp(key, "cleanup-delay") == 0) {
        return check_duration_range(t->cleanup_ms, text, 0,
                                    30ULL * 24 * 60 * 60 * 1000, err, errlen);
    } else if (strcmp(key, "secrets-dir") == 0) {
        if (*text)
            return 0;
        snprintf(err, errlen, "expected a directory, got \"\"");
    } else {
        return 0;
    }
    return -1;
}

static int check_metadata_key(const char *key, const char *text,
                              const struct conf_metadata *m, char *err,
                              size_t errlen)
{
    if (strcmp(key, "port") == 0 && (m->port < 1 || m->port > 65535)) {
        snprintf(err, errlen, "expected a TCP port 1-65535, got \"%s\"", text);
        return -1;
    }
    return 0;
}

/* [api] and [store]: typed keys from their tables. */
static void entry_table(struct loader *ld, const struct berth_option *table,
                        void *base, int *key_line, const char *sect,
                        const char *key, const char *value, int line)
{
    const struct berth_option *o = options_find(table, key);
    char err[512], keys[512];
    size_t i;

    if (!o) {
        key_list(table, keys, sizeof keys);
        ld_error(ld, line, sect, key, "unknown key; valid keys: %s", keys);
        return;
    }
    i = (size_t)(o - table);
    if (key_line[i]) {
        ld_error(ld, line, sect, key, "duplicate key (first on line %d)", key_line[i]);
        return;
    }
    key_line[i] = line;
    if (options_set(table, base, key, value, err, sizeof err) < 0 ||
        (table == conf_api_options &&
         check_api_key(key, value, base, err, sizeof err) < 0) ||
        (table == conf_tasks_options &&
         check_tasks_key(key, value, base, err, sizeof err) < 0) ||
        (table == conf_metadata_options &&
         check_metadata_key(key, value, base, err, sizeof err) < 0))
        ld_error(ld, line, sect, key, "%s", err);
}

static void entry_plugin(struct loader *ld, const char *sect, const char *key,
                         const char *value, int line)
{
    struct conf_plugin *p = &ld->c->plugins[ld->plugin];
    const struct berth_option *o = options_find(conf_plugin_host_options, key);
    char err[512];

    if (o) {
        size_t i = (size_t)(o - conf_plugin_host_options);
        if (ld->host_key_line[i]) {
            ld_error(ld, line, sect, key, "duplicate key (first on line %d)",
                     ld->host_key_line[i]);
            return;
        }
        ld->host_key_line[i] = line;
        if (options_set(conf_plugin_host_options, p, key, value, err,
                        sizeof err) < 0)
            ld_error(ld, line, sect, key, "%s", err);
        else if (strcmp(key, "file") == 0 && *value == '\0')
            ld_error(ld, line, sect, key, "expected the path of a shared object, "
                                    "got \"\"");
        return;
    }
    for (size_t i = 0; i < p->n_opts; i++) {
        if (strcmp(p->opts[i].key, key) == 0) {
            ld_error(ld, line, sect, key, "duplicate key (first on line %d)",
                     p->opts[i].line);
            return;
        }
    }
    struct conf_kv *grown = realloc(p->opts, (p->n_opts + 1) * sizeof *p->opts);
    if (!grown) {
        ld_error(ld, line, sect, key, "out of memory");
        return;
    }
    p->opts = grown;
    struct conf_kv *kv = &p->opts[p->n_opts];
    kv->key = strdup(key);
    kv->value = strdup(value);
    kv->line = line;
    if (!kv->key || !kv->value) {
        free(kv->key);
        free(kv->value);
        ld_error(ld, line, sect, key, "out of memory");
        return;
    }
    p->n_opts++;
}

static void on_entry(void *arg, const char *section, const char *key,
                     const char *value, int line)
{
    struct loader *ld = arg;

    switch (ld->kind) {
    case SECT_NONE:
        ld_error(ld, line, NULL, key, "key outside any section; expected a "
                                "section header first (" SECTIONS_HINT ")");
        break;
    case SECT_AGENT:
        entry_agent(ld, section, key, value, line);
        break;
    case SECT_API:
        entry_table(ld, conf_api_options, &ld->c->api, ld->c->api.key_line,
                    section, key, value, line);
        break;
    case SECT_STORE:
        entry_table(ld, conf_store_options, &ld->c->store, ld->c->store.key_line,
                    section, key, value, line);
        break;
    case SECT_TASKS:
        entry_table(ld, conf_tasks_options, &ld->c->tasks, ld->tasks_key_line,
                    section, key, value, line);
        break;
    case SECT_PLUGIN:
        entry_plugin(ld, section, key, value, line);
        break;
    case SECT_METADATA:
        entry_table(ld, conf_metadata_options, &ld->c->metadata,
                    ld->c->metadata.key_line, section, key, value, line);
        break;
    case SECT_EXT:
        ld->n_errors += (size_t)exts[ld->ext]->entry(ld->c->ext[ld->ext], section, key,
                                                     value, line, ld->path, ld->errs);
        break;
    case SECT_SKIP:
        break; /* the header's error was reported */
    }
}

static void on_error(void *arg, int line, const char *msg)
{
    struct loader *ld = arg;

    ld->n_errors++;
    conf_errors_add(ld->errs, "%s:%d: %s", ld->path, line, msg);
}

/* ------------------------------------------------------------------ */
/* Loading                                                            */

static struct conf *conf_new(struct loader *ld)
{
    struct conf *c = calloc(1, sizeof *c);
    char err[512];

    if (!c)
        return NULL;
    if (options_defaults(conf_agent_options, &c->agent, err, sizeof err) < 0) {
        ld->n_errors++;
        conf_errors_add(ld->errs, "%s: [agent] %s", ld->path, err);
    }
    if (options_defaults(conf_tasks_options, &c->tasks, err, sizeof err) < 0 ||
        parse_port_list(c->tasks.reserved_ports, &c->tasks.reserved,
                        &c->tasks.n_reserved) < 0) {
        ld->n_errors++;
        conf_errors_add(ld->errs, "%s: [tasks] %s", ld->path, err);
    }
    if (options_defaults(conf_metadata_options, &c->metadata, err, sizeof err) < 0) {
        ld->n_errors++;
        conf_errors_add(ld->errs, "%s: [metadata] %s", ld->path, err);
    }
    if (options_defaults(conf_api_options, &c->api, err, sizeof err) < 0 ||
        options_defaults(conf_store_options, &c->store, err, sizeof err) < 0) {
        ld->n_errors++;
        conf_errors_add(ld->errs, "%s: [api] or [store] %s", ld->path, err);
    }
    c->api.socket_mode_bits = 0660;
    for (size_t i = 0; i < n_exts; i++) {
        if (!(c->ext[i] = exts[i]->create())) {
            ld->n_errors++;
            conf_errors_add(ld->errs, "%s: out of memory", ld->path);
        }
    }
    return c;
}

/* A relative path in the file is taken from the file's own folder: the
 * daemon runs from "/", and the admin reads paths next to the conf. */
static int relative_to_conf(char **field, const char *conf_path)
{
    const char *slash = strrchr(conf_path, '/');
    char *full;

    if (!*field || !**field || **field == '/' || !slash)
        return 0;
    if (asprintf(&full, "%.*s/%s", (int)(slash - conf_path), conf_path, *field) < 0)
        return -1;
    free(*field);
    *field = full;
    return 0;
}

/* Defaults that depend on the section, filled once the file is read. */
static int finish(struct loader *ld)
{
    struct conf *c = ld->c;

    if (relative_to_conf(&c->agent.state_dir, c->path) < 0 ||
        relative_to_conf(&c->agent.plugin_dir, c->path) < 0 ||
        relative_to_conf(&c->agent.pidfile, c->path) < 0 ||
        relative_to_conf(&c->agent.services_dir, c->path) < 0 ||
        relative_to_conf(&c->tasks.secrets_dir, c->path) < 0 ||
        relative_to_conf(&c->api.socket, c->path) < 0 ||
        relative_to_conf(&c->api.credentials_file, c->path) < 0 ||
        relative_to_conf(&c->store.path, c->path) < 0) {
        ld->n_errors++;
        conf_errors_add(ld->errs, "%s: out of memory", ld->path);
        return -1;
    }
    if (!c->store.path[0]) {
        free(c->store.path);
        if (asprintf(&c->store.path, "%s/berth.db", c->agent.state_dir) < 0) {
            c->store.path = NULL;
            ld->n_errors++;
            conf_errors_add(ld->errs, "%s: out of memory", ld->path);
            return -1;
        }
    }
    /* TCP callers are only known by their signature. */
    if (c->api.listen[0] && !c->api.credentials_file[0]) {
        ld_error(ld, conf_api_line(c, "listen"), "api", "listen",
                 "a TCP listener needs credentials-file (its requests must be "
                 "signed with AWS SigV4)");
        return -1;
    }

    for (size_t i = 0; i < n_exts; i++)
        ld->n_errors += (size_t)exts[i]->finish(c->ext[i], ld->path, ld->errs);
    if (ld->n_errors)
        return -1;

    for (size_t i = 0; i < c->n_plugins; i++) {
        struct conf_plugin *p = &c->plugins[i];
        if (!p->file && asprintf(&p->file, "%s.so", p->name) < 0) {
            p->file = NULL;
            ld->n_errors++;
            conf_errors_add(ld->errs, "%s: out of memory", ld->path);
            return -1;
        }
    }
    return 0;
}

/* text NULL: read path. */
static int load(const char *text, const char *path, char *full,
                struct conf **out, struct conf_errors *errs)
{
    struct ini_handler h = {on_section, on_entry, on_error};
    struct loader ld = {.path = path, .errs = errs};
    char err[512];

    *out = NULL;
    ld.c = conf_new(&ld);
    if (!ld.c || !full) {
        free(full);
        conf_free(ld.c);
        conf_errors_add(errs, "%s: out of memory", path);
        return -1;
    }
    ld.c->path = full;
    if (text) {
        ini_parse_string(text, &h, &ld);
    } else if (ini_parse_file(path, &h, &ld, err, sizeof err) < 0 && err[0]) {
        ld.n_errors++;
        conf_errors_add(errs, "%s", err);
    }
    if (ld.n_errors == 0)
        finish(&ld);
    if (ld.n_errors > 0) {
        if (errs->n == 0) /* every message failed to allocate */
            conf_errors_add(errs, "%s: invalid configuration", path);
        conf_free(ld.c);
        return -1;
    }
    *out = ld.c;
    return 0;
}

/* Absolute without resolving symlinks: a reload must read the file the
 * admin names, even after they repoint a link. */
static char *absolute_path(const char *path)
{
    char *cwd, *full;

    if (path[0] == '/')
        return strdup(path);
    cwd = getcwd(NULL, 0);
    if (!cwd)
        return strdup(path);
    if (path[0] == '.' && path[1] == '/')
        path += 2;
    if (asprintf(&full, "%s/%s", cwd, path) < 0)
        full = NULL;
    free(cwd);
    return full;
}

int conf_load(const char *path, struct conf **out, struct conf_errors *errs)
{
    return load(NULL, path, absolute_path(path), out, errs);
}

int conf_load_string(const char *text, const char *path, struct conf **out,
                     struct conf_errors *errs)
{
    if (!path)
        path = "(string)";
    return load(text, path, strdup(path), out, errs);
}

void conf_free(struct conf *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < n_exts; i++)
        if (c->ext[i])
            exts[i]->destroy(c->ext[i]);
    options_free(conf_agent_options, &c->agent);
    options_free(conf_tasks_options, &c->tasks);
    free(c->tasks.reserved);
    options_free(conf_api_options, &c->api);
    options_free(conf_store_options, &c->store);
    for (size_t i = 0; i < c->n_plugins; i++) {
        struct conf_plugin *p = &c->plugins[i];
        options_free(conf_plugin_host_options, p);
        for (size_t j = 0; j < p->n_opts; j++) {
            free(p->opts[j].key);
            free(p->opts[j].value);
        }
        free(p->opts);
        free(p->name);
    }
    free(c->plugins);
    free(c->path);
    free(c);
}

char *conf_plugin_path(const struct conf *c, const struct conf_plugin *p)
{
    const char *dir = c->agent.plugin_dir ? c->agent.plugin_dir : "";
    size_t dlen = strlen(dir);
    char *path;
    int r;

    if (p->file && p->file[0] == '/')
        return strdup(p->file);
    if (dlen > 0 && dir[dlen - 1] == '/')
        dlen--;
    if (p->file)
        r = asprintf(&path, "%.*s/%s", (int)dlen, dir, p->file);
    else
        r = asprintf(&path, "%.*s/%s.so", (int)dlen, dir, p->name);
    return r < 0 ? NULL : path;
}

int conf_plugin_apply(const struct conf *c, const struct conf_plugin *p,
                      const struct berth_option *table, void *base,
                      struct conf_errors *errs)
{
    char err[512];
    int failed = 0;

    if (options_defaults(table, base, err, sizeof err) < 0) {
        conf_plugin_error(errs, c, p, NULL, "the plugin's option table is "
                                            "broken: %s", err);
        return -1;
    }
    for (size_t i = 0; i < p->n_opts; i++) {
        const struct conf_kv *kv = &p->opts[i];
        if (!options_find(table, kv->key)) {
            char keys[512];
            key_list(table, keys, sizeof keys);
            if (keys[0])
                conf_plugin_error(errs, c, p, kv, "unknown key; valid keys: "
                                  "%s, file, enabled", keys);
            else
                conf_plugin_error(errs, c, p, kv, "unknown key; valid keys: "
                                  "file, enabled (the plugin has no options)");
            failed = 1;
        } else if (options_set(table, base, kv->key, kv->value, err,
                               sizeof err) < 0) {
            conf_plugin_error(errs, c, p, kv, "%s", err);
            failed = 1;
        }
    }
    for (const struct berth_option *o = table; o && o->name; o++) {
        if (!(o->flags & BERTH_OPT_REQUIRED))
            continue;
        size_t i;
        for (i = 0; i < p->n_opts; i++)
            if (strcmp(p->opts[i].key, o->name) == 0)
                break;
        if (i == p->n_opts) {
            conf_plugin_error(errs, c, p, NULL, "%s: required, but not set (%s)",
                              o->name, value_type_name(o->type));
            failed = 1;
        }
    }
    return failed ? -1 : 0;
}
