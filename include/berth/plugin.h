/* berth/plugin.h: the public plugin ABI of Berth.
 *
 * A plugin is a shared object that exports one symbol, BERTH_PLUGIN_SYMBOL
 * ("berth_plugin"): a const struct berth_plugin describing it.  The agent
 * loads it with dlopen(RTLD_NOW | RTLD_LOCAL), checks the ABI version, parses
 * the plugin's options from its [plugin NAME] section against the option
 * table, and drives the lifecycle:
 *
 *     init -> start -> ... (reconfigure)* ... -> stop -> destroy
 *
 * All callbacks run on the agent's single control loop thread.  A plugin must
 * never block: use the host's timers, fd watchers and asynchronous HTTP client
 * instead of sleeping, polling or synchronous I/O.
 *
 * Plugins include this header only, and do not link against berthd: every
 * service of the agent reaches them through the struct berth_host passed to
 * init.  Build with -fvisibility=hidden and export only the descriptor
 * (BERTH_PLUGIN_EXPORT does that).
 *
 * Versioning (the Varnish rule):
 *  - Structs are only ever extended by appending fields; that bumps the minor
 *    version.  Any other change (reorder, remove, retype, change of meaning)
 *    bumps the major version and resets the minor to 0.
 *  - The agent refuses a plugin whose major differs from its own, or whose
 *    minor is newer than its own.  A plugin built against an older minor is
 *    accepted: the agent reads its descriptor only up to struct_size and
 *    treats fields past it as absent.
 *  - Likewise a plugin must check host->abi_minor / host->struct_size before
 *    using a host field appended after the minor it was built against.
 *
 * Change log:
 *   1.0  Descriptor, option table, host API (log, timers, fd watchers,
 *        async HTTP, name resolution, metrics, events), metrics-sink kind,
 *        runtime kind reserved (its operations start empty).
 *   1.1  Descriptor: reconfigure() appended.  Without it, a change of the
 *        plugin's options on reload restarts the plugin (stop, destroy,
 *        init, start); with it, the plugin applies them in place.
 */
#ifndef BERTH_PLUGIN_H
#define BERTH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_PLUGIN_ABI_MAJOR 1
#define BERTH_PLUGIN_ABI_MINOR 1

/* The name of the one symbol a plugin exports. */
#define BERTH_PLUGIN_SYMBOL "berth_plugin"

#if defined(__GNUC__)
#define BERTH_PLUGIN_EXPORT __attribute__((visibility("default")))
#define BERTH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BERTH_PLUGIN_EXPORT
#define BERTH_PRINTF(f, a)
#endif

/* Declares the descriptor with the right name and visibility:
 *     BERTH_PLUGIN_DECLARE = { BERTH_PLUGIN_HEADER, .name = "x", ... };  */
#define BERTH_PLUGIN_DECLARE \
    BERTH_PLUGIN_EXPORT const struct berth_plugin berth_plugin
#define BERTH_PLUGIN_HEADER                                          \
    .abi_major = BERTH_PLUGIN_ABI_MAJOR,                             \
    .abi_minor = BERTH_PLUGIN_ABI_MINOR,                             \
    .struct_size = sizeof(struct berth_plugin)

/* Return value of stop(): the plugin will call host->stop_done() later. */
#define BERTH_PENDING 1

/* ------------------------------------------------------------------ */
/* Kinds                                                              */

enum berth_plugin_kind {
    BERTH_KIND_EXTENSION = 0,    /* no kind operations; uses the host API only */
    BERTH_KIND_RUNTIME = 1,      /* ops: const struct berth_runtime_ops * */
    BERTH_KIND_METRICS_SINK = 2, /* ops: const struct berth_metrics_sink_ops * */
};

/* ------------------------------------------------------------------ */
/* Options                                                            */

enum berth_opt_type {
    BERTH_OPT_STRING = 1,   /* const char *; host-owned, valid until destroy
                               or the next successful reconfigure */
    BERTH_OPT_BOOL = 2,     /* int: 0 or 1 (yes/no, true/false, on/off, 1/0) */
    BERTH_OPT_INT = 3,      /* int64_t */
    BERTH_OPT_DURATION = 4, /* uint64_t milliseconds ("250ms", "5s", "2m", "1h") */
    BERTH_OPT_SIZE = 5,     /* uint64_t bytes ("512", "64KiB", "64MiB", "1G") */
    BERTH_OPT_ADDRESS = 6,  /* struct berth_address ("host:port", "[::1]:80") */
};

/* Option flags. */
#define BERTH_OPT_REQUIRED 0x1u /* no default: the conf must set it */

struct berth_address {
    char host[256]; /* name or literal, without IPv6 brackets */
    uint16_t port;
};

/* One row of a plugin's option table; the table ends with a row whose name
 * is NULL.  The host allocates config_size zeroed bytes, applies each
 * default (a string parsed like a conf value; NULL leaves the field zero),
 * then the conf's values, and hands the result to init().  A key in the
 * [plugin NAME] section that is not in the table is an error. */
struct berth_option {
    const char *name;
    enum berth_opt_type type;
    const char *default_value;
    size_t offset; /* offsetof() the field in the plugin's config struct */
    const char *help;
    uint32_t flags;
};

/* ------------------------------------------------------------------ */
/* Host services                                                      */

/* Opaque per-plugin handle.  Every resource created through it (timers,
 * watchers, transfers, lookups) belongs to the plugin, and the host cancels
 * whatever is left when the plugin is destroyed. */
typedef struct berth_ctx berth_ctx;
typedef struct berth_timer berth_timer;
typedef struct berth_watch berth_watch;
typedef struct berth_http berth_http;
typedef struct berth_lookup berth_lookup;

enum berth_log_level {
    BERTH_LOG_ERROR = 3,
    BERTH_LOG_WARN = 4,
    BERTH_LOG_INFO = 6,
    BERTH_LOG_DEBUG = 7,
};

#define BERTH_FD_READ 0x1
#define BERTH_FD_WRITE 0x2

struct sockaddr_storage;

typedef void (*berth_timer_cb)(void *arg);
typedef void (*berth_fd_cb)(void *arg, int fd, int revents);

/* An asynchronous HTTP request.  url is http:// or https://; with
 * unix_socket set, the connection goes to that socket and the url's host
 * only fills the Host header (http://localhost/v1.43/info). */
struct berth_http_request {
    uint32_t struct_size; /* sizeof(struct berth_http_request) */
    const char *method;   /* NULL means GET, or POST when body is set */
    const char *url;
    const char *unix_socket;
    const char *const *headers; /* "Name: value" strings, NULL-terminated */
    const void *body;
    size_t body_len;
    uint64_t timeout_ms;         /* whole transfer; 0 = no limit */
    uint64_t connect_timeout_ms; /* 0 = the host's default (10s) */
    int stream;                  /* 1: deliver the body through on_data as
                                    it arrives instead of buffering it */
};

struct berth_http_response {
    long status;           /* HTTP status, 0 when no response came */
    int error;             /* 0 on a complete exchange, else nonzero */
    const char *error_msg; /* what went wrong, when error != 0 */
    const char *body;      /* buffered body (NUL-terminated); NULL if streamed */
    size_t body_len;
    const char *const *headers; /* response headers "Name: value", NULL-terminated */
};

/* on_data: a streamed chunk (status is already known).  on_done: exactly once
 * per request unless it was cancelled; the response is valid only during the
 * call.  Neither is called after http_cancel(). */
typedef void (*berth_http_data_cb)(void *arg, long status, const char *data,
                                   size_t len);
typedef void (*berth_http_done_cb)(void *arg,
                                   const struct berth_http_response *res);

/* Name lookups (c-ares on the host loop).  addrs holds n socket addresses
 * (struct sockaddr_in / sockaddr_in6, port 0) when status is 0. */
struct berth_lookup_result {
    int status; /* 0 ok, else an error with error_msg set */
    const char *error_msg;
    size_t n;
    const struct sockaddr_storage *addrs;
};
typedef void (*berth_lookup_cb)(void *arg, const struct berth_lookup_result *r);

enum berth_metric_type {
    BERTH_METRIC_COUNTER = 1,
    BERTH_METRIC_GAUGE = 2,
};

struct berth_label {
    const char *name;
    const char *value;
};

/* A sample.  Names and labels follow Prometheus' rules
 * ([a-zA-Z_:][a-zA-Z0-9_:]*, label names without ':'). */
struct berth_metric {
    const char *name;
    const char *help;
    enum berth_metric_type type;
    double value;
    const struct berth_label *labels;
    size_t n_labels;
    uint64_t time_ms; /* 0 = when emitted */
};

struct berth_event {
    const char *type;   /* dotted, e.g. "plugin.started", "agent.reloaded" */
    const char *source; /* "agent" or the publishing plugin's name */
    const char *detail; /* a JSON object, or NULL */
    uint64_t time_ms;   /* wall clock */
};

/* The agent's services, passed to init() and valid until destroy() returns.
 * Every call takes the plugin's own ctx. */
struct berth_host {
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t struct_size;
    const char *agent_version;

    /* Logging: one event per line, like the agent's own: fmt is an event
     * name followed by key=value fields ("probe.done status=%ld url=%s").
     * The host adds time, level and plugin=NAME, and escapes newlines. */
    void (*log)(berth_ctx *ctx, enum berth_log_level level, const char *fmt,
                ...) BERTH_PRINTF(3, 4);

    /* Agent-wide values: "cluster", "region", "account-id", "state-dir",
     * "plugin-dir", "version".  NULL for an unknown key.  Valid until the
     * next reload. */
    const char *(*agent_value)(berth_ctx *ctx, const char *key);

    /* Monotonic time of the host loop, in milliseconds. */
    uint64_t (*now_ms)(berth_ctx *ctx);

    /* Timers: fire after after_ms, then every repeat_ms (0 = once; a one-shot
     * timer is released after its callback).  timer_stop on a fired one-shot
     * timer is not allowed. */
    berth_timer *(*timer_start)(berth_ctx *ctx, uint64_t after_ms,
                                uint64_t repeat_ms, berth_timer_cb cb,
                                void *arg);
    void (*timer_stop)(berth_ctx *ctx, berth_timer *t);

    /* fd watchers: cb(arg, fd, revents) when fd is ready for any of events
     * (BERTH_FD_READ | BERTH_FD_WRITE).  The plugin keeps owning the fd. */
    berth_watch *(*fd_watch)(berth_ctx *ctx, int fd, int events,
                             berth_fd_cb cb, void *arg);
    void (*fd_watch_set)(berth_ctx *ctx, berth_watch *w, int events);
    void (*fd_unwatch)(berth_ctx *ctx, berth_watch *w);

    /* Asynchronous HTTP (libcurl multi on the host loop).  Returns NULL and
     * logs when the request is malformed. */
    berth_http *(*http_request)(berth_ctx *ctx,
                                const struct berth_http_request *req,
                                berth_http_data_cb on_data,
                                berth_http_done_cb on_done, void *arg);
    void (*http_cancel)(berth_ctx *ctx, berth_http *h);

    /* Asynchronous name lookup; family is AF_INET, AF_INET6 or AF_UNSPEC. */
    berth_lookup *(*lookup)(berth_ctx *ctx, const char *name, int family,
                            berth_lookup_cb cb, void *arg);
    void (*lookup_cancel)(berth_ctx *ctx, berth_lookup *l);

    /* Record a metric sample; the host keeps the latest value per series and
     * hands them to the metrics sinks at each export interval. */
    void (*metric)(berth_ctx *ctx, const struct berth_metric *m);

    /* Publish an event to the agent's log (debug) and to every other
     * plugin's on_event(). */
    void (*event)(berth_ctx *ctx, const char *type, const char *detail_json);

    /* After stop() returned BERTH_PENDING: the plugin has finished. */
    void (*stop_done)(berth_ctx *ctx);
};

/* ------------------------------------------------------------------ */
/* Kind operations                                                    */

/* Reserved: container runtime operations are appended here by the minor
 * that introduces runtime plugins.  A runtime plugin sets ops to a struct
 * whose struct_size says how many of them it provides. */
struct berth_runtime_ops {
    uint32_t struct_size;
};

/* A metrics sink receives every series the agent holds at each export
 * interval ([agent] metrics-interval).  The array is valid only during the
 * call; a sink that sends asynchronously copies what it needs. */
struct berth_metrics_sink_ops {
    uint32_t struct_size;
    void (*write)(void *state, const struct berth_metric *metrics, size_t n);
};

/* ------------------------------------------------------------------ */
/* The descriptor                                                     */

struct berth_plugin {
    /* 1.0 */
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t struct_size;
    const char *name; /* the plugin's own name; the [plugin NAME] section
                         names an instance, and one .so may back several */
    const char *version;
    const char *description;
    enum berth_plugin_kind kind;

    const struct berth_option *options; /* NULL or ends with a NULL name */
    size_t config_size;                 /* size of the plugin's config struct */

    /* Create the plugin's state from its parsed config (valid until destroy,
     * or replaced by reconfigure).  On failure return -1 with a message in
     * err, which the agent reports.  init must not claim exclusive
     * resources (ports, sockets, files): do that in start.  The agent may
     * run load and init in a short-lived trial process first, so that a
     * plugin that crashes is refused without taking the agent down. */
    int (*init)(berth_ctx *ctx, const struct berth_host *host,
                const void *config, void **state, char *err, size_t errlen);
    /* Begin work: open sockets, arm timers.  -1 with err on failure. */
    int (*start)(void *state, char *err, size_t errlen);
    /* Finish or cancel in-flight work: return 0 when done, or BERTH_PENDING
     * and call host->stop_done() later.  The host waits at most the agent's
     * shutdown-timeout, then cancels what the plugin still holds. */
    int (*stop)(void *state);
    /* Release everything; the host calls it after stop, even on timeout. */
    void (*destroy)(void *state);

    /* Optional: events published by the agent and by other plugins. */
    void (*on_event)(void *state, const struct berth_event *ev);

    const void *ops; /* by kind; NULL for BERTH_KIND_EXTENSION */

    /* 1.1 */
    /* Optional: apply new option values without a restart.  On -1 (with
     * err) the old config stays in force and the reload is reported. */
    int (*reconfigure)(void *state, const void *config, char *err,
                       size_t errlen);
};

#ifdef __cplusplus
}
#endif

#endif /* BERTH_PLUGIN_H */
