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
 *   1.2  Runtime kind: struct berth_runtime_ops gains its operations
 *        (sandbox, create, start, stop, remove, inspect, list, stats,
 *        watch), with struct berth_container_info, berth_container_stats
 *        and berth_runtime_event.  Container and sandbox specs are JSON
 *        documents (schema in berth-plugin(7)), so that new fields do
 *        not need a new minor.
 *   1.3  Runtime kind: host_address() appended to struct berth_runtime_ops:
 *        the address on this host that containers of a network mode
 *        reach (the agent serves the task metadata endpoint there).
 *   1.4  Histograms: struct berth_histogram and BERTH_METRIC_HISTOGRAM;
 *        histogram() appended to struct berth_host, write_histograms()
 *        appended to struct berth_metrics_sink_ops.  struct berth_metric
 *        does not change (sinks index arrays of it).
 */
#ifndef BERTH_PLUGIN_H
#define BERTH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_PLUGIN_ABI_MAJOR 1
#define BERTH_PLUGIN_ABI_MINOR 4

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
    /* 1.4: names a struct berth_histogram for code that handles both
     * kinds; never valid as a struct berth_metric's type. */
    BERTH_METRIC_HISTOGRAM = 3,
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

/* A histogram (1.4): the latest cumulative state of one series, as a
 * Prometheus histogram.  upper_bounds are the n_buckets finite bucket
 * bounds, strictly ascending; the +Inf bucket is implied and holds count.
 * cumulative_counts[i] counts the observations <= upper_bounds[i], so it
 * never decreases with i and never exceeds count.  Label "le" is reserved.
 * The host copies everything on record; sinks get arrays of this struct,
 * valid only during write_histograms(). */
struct berth_histogram {
    const char *name; /* the base name: exporters add _bucket, _sum, _count */
    const char *help;
    const struct berth_label *labels;
    size_t n_labels;
    size_t n_buckets;
    const double *upper_bounds;
    const uint64_t *cumulative_counts;
    uint64_t count;
    double sum;
    uint64_t time_ms; /* 0 = when recorded */
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
     * "plugin-dir", "version"; and "instance", the name of this plugin's
     * [plugin NAME] section (several instances of one plugin label their
     * own series with it).  NULL for an unknown key.  Valid until the next
     * reload. */
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

    /* 1.4 */
    /* Record a histogram's latest cumulative state (the plugin keeps the
     * counts; the host keeps the latest state per series, as metric()
     * does, and hands it to the sinks that take histograms). */
    void (*histogram)(berth_ctx *ctx, const struct berth_histogram *h);
};

/* ------------------------------------------------------------------ */
/* Kind operations                                                    */

/* Container runtimes (1.2).
 *
 * The agent decides what runs; a runtime plugin only carries it out on one
 * engine.  Every operation is asynchronous: it returns 0 when accepted and
 * then calls its callback exactly once, later (never from inside the
 * operation call itself), or returns -1 with no callback when it cannot
 * even begin (the plugin logs why).  Strings passed in are valid only
 * during the call; strings passed to callbacks only during the callback.
 * After stop() the plugin may drop pending operations: the agent fails the
 * ones it still waits for itself.
 *
 * Identity: the agent names every container and sandbox and labels it; the
 * engine's id is what the other operations take.  list() finds what the
 * agent started before it restarted, by label, so that it re-adopts rather
 * than starts twice.
 *
 * Sandboxes: what a task's containers share.  A plugin whose engine groups
 * containers (a Podman pod) or that gives a task its own network namespace
 * (networkMode awsvpc) creates one per task; the ports of the whole task
 * are published on it.  The spec's "mode" says what the task asked for.
 * A plugin that needs no sandbox for a mode answers sandbox_create with a
 * NULL id; the agent then creates containers with their own ports.
 *
 * Container spec (create), a JSON object; members not listed are
 * refused by a plugin only if it cannot honour them, and absent members
 * take the engine's default:
 *   name           string, required: the container's name on the engine
 *   image          string, required
 *   network        "bridge" | "host" | "none" | "awsvpc": the task's mode
 *   sandbox        string: a sandbox id from sandbox_create, to join
 *   entryPoint, command          [string]
 *   env            [string] "NAME=value" (may hold secrets: never log it)
 *   workingDir, user, hostname   string
 *   labels         {string: string}
 *   cpuShares      integer (ECS cpu units; 0: none)
 *   memoryBytes, memoryReservationBytes, shmSizeBytes   integer (0: none)
 *   ports          [{containerPort, hostPort, protocol, hostIp}]: published
 *                  here when not in a sandbox (hostPort is concrete: the
 *                  agent picks dynamic ports)
 *   mounts         [{type: "bind"|"volume", source, target, readOnly,
 *                    driver, driverOpts{}, labels{}, mustExist}]; mustExist
 *                  (a named volume): create fails INVALID, naming it,
 *                  when the volume does not exist rather than creating it
 *   volumesFrom    [{container: id, readOnly}]
 *   ulimits        [{name, soft, hard}]
 *   healthCheck    {test: ["CMD"|"CMD-SHELL", ...] or ["NONE"], intervalMs,
 *                   timeoutMs, startPeriodMs, retries}; absent: the image's
 *                   own HEALTHCHECK, if it has one
 *   init           bool: an init process as PID 1
 *   stopTimeout    integer seconds
 *   log            {driver, options{}}
 *   extraHosts     [string "name:address"]
 *   dns, dnsSearch, capAdd, capDrop, securityOpt   [string]
 *   sysctls        {string: string}
 *   privileged, readonlyRootfs, tty, openStdin     bool
 * Sandbox spec (sandbox_create): name (required), network, labels,
 * ports (every container's, published on the sandbox), hostname,
 * dns, dnsSearch, extraHosts, as above.
 *
 * Errors: the callbacks' code says what kind of failure it was, so the
 * agent can give a task a precise stoppedReason; msg says it in words
 * (the engine's own message where there is one). */

enum berth_rt_code {
    BERTH_RT_OK = 0,
    BERTH_RT_NOT_FOUND = 1,   /* no such container, sandbox or image */
    BERTH_RT_CONFLICT = 2,    /* a name or port is taken, a state forbids it */
    BERTH_RT_INVALID = 3,     /* the engine refused the spec */
    BERTH_RT_UNAVAILABLE = 4, /* the engine cannot be reached */
    BERTH_RT_FAILED = 5,      /* anything else */
};

enum berth_ctr_state {
    BERTH_CTR_UNKNOWN = 0,
    BERTH_CTR_CREATED = 1,
    BERTH_CTR_RUNNING = 2,    /* also paused and restarting */
    BERTH_CTR_EXITED = 3,     /* exit_code, finished_at_ms valid */
    BERTH_CTR_REMOVED = 4,    /* events only: the container is gone */
};

enum berth_ctr_health {
    BERTH_HEALTH_NONE = 0,     /* no health check configured */
    BERTH_HEALTH_STARTING = 1, /* no verdict yet */
    BERTH_HEALTH_HEALTHY = 2,
    BERTH_HEALTH_UNHEALTHY = 3,
};

struct berth_port_binding {
    uint16_t container_port;
    uint16_t host_port;   /* 0: not published */
    const char *protocol; /* "tcp" or "udp" */
    const char *host_ip;  /* "" or NULL: every address */
};

/* What inspect(), list() and events report of a container. */
struct berth_container_info {
    uint32_t struct_size;
    const char *id;
    const char *name;
    const char *image;
    const char *image_id;    /* the image's digest id, "" when unknown */
    const char *sandbox_id;  /* NULL when not in a sandbox */
    enum berth_ctr_state state;
    int exit_code;           /* when EXITED; 137 after SIGKILL */
    int oom_killed;
    const char *error;       /* the engine's reason for a failed start, or "" */
    enum berth_ctr_health health;
    const char *health_output; /* last check's output (<= 1024 bytes), or "" */
    int health_exit_code;      /* last check's exit code, -1 when none */
    int64_t created_at_ms, started_at_ms, finished_at_ms; /* Unix ms, 0 unset */
    const struct berth_label *labels;
    size_t n_labels;
    const struct berth_port_binding *ports; /* published ports */
    size_t n_ports;
    const char *ip_address;  /* on its (or its sandbox's) network, or "" */
    int restart_count;
    int pid;                 /* its init process on the host, 0 when none */
};

struct berth_container_stats {
    uint32_t struct_size;
    int64_t time_ms;            /* Unix ms of the reading */
    uint64_t cpu_total_ns;      /* cumulative */
    uint64_t cpu_user_ns, cpu_system_ns;
    uint64_t cpu_throttled_ns;
    uint32_t online_cpus;
    uint64_t memory_usage;      /* bytes, cache included */
    uint64_t memory_working_set;/* usage minus inactive file pages */
    uint64_t memory_rss, memory_cache;
    uint64_t memory_limit;      /* 0: none */
    uint64_t net_rx_bytes, net_tx_bytes;
    uint64_t blk_read_bytes, blk_write_bytes;
    uint64_t pids;
};

enum berth_rt_event_type {
    BERTH_RT_EV_STATE = 1,      /* a container changed: info says how
                                   (started, exited, removed) */
    BERTH_RT_EV_HEALTH = 2,     /* a health verdict: info->health */
    BERTH_RT_EV_OOM = 3,        /* the kernel killed a process for memory */
    BERTH_RT_EV_ENGINE_DOWN = 4,/* the event stream broke: no info */
    BERTH_RT_EV_ENGINE_UP = 5,  /* connected (again): events may have been
                                   missed, so the agent lists everything */
};

struct berth_runtime_event {
    uint32_t struct_size;
    enum berth_rt_event_type type;
    const struct berth_container_info *info; /* NULL for ENGINE_* */
    const char *detail; /* the engine's words, or "" */
};

typedef void (*berth_rt_done_cb)(void *arg, enum berth_rt_code code,
                                 const char *msg);
typedef void (*berth_rt_id_cb)(void *arg, enum berth_rt_code code,
                               const char *id, const char *msg);
typedef void (*berth_rt_info_cb)(void *arg, enum berth_rt_code code,
                                 const struct berth_container_info *info,
                                 const char *msg);
typedef void (*berth_rt_list_cb)(void *arg, enum berth_rt_code code,
                                 const struct berth_container_info *v,
                                 size_t n, const char *msg);
typedef void (*berth_rt_stats_cb)(void *arg, enum berth_rt_code code,
                                  const struct berth_container_stats *s,
                                  const char *msg);
typedef void (*berth_rt_event_cb)(void *arg,
                                  const struct berth_runtime_event *ev);

/* A runtime plugin sets ops to a struct whose struct_size says how many
 * of these it provides; a 1.2 runtime provides every 1.2 operation, a 1.3
 * one also the 1.3 ones. */
struct berth_runtime_ops {
    uint32_t struct_size;

    /* 1.2 */
    /* The engine's name and version, for logs and DescribeContainerInstances
     * ("docker 20.10.24"); NULL until the plugin has reached the engine. */
    const char *(*engine_version)(void *state);
    /* spec: a sandbox spec (JSON).  cb's id is NULL when the plugin needs
     * no sandbox for the spec's mode. */
    int (*sandbox_create)(void *state, const char *spec_json,
                          berth_rt_id_cb cb, void *arg);
    /* Stops whatever still runs in it (after timeout_s) and removes it. */
    int (*sandbox_remove)(void *state, const char *sandbox_id,
                          uint32_t timeout_s, berth_rt_done_cb cb, void *arg);
    /* spec: a container spec (JSON), naming its sandbox if any.  Creates,
     * does not start.  A missing image is BERTH_RT_NOT_FOUND unless the
     * plugin could pull it. */
    int (*create)(void *state, const char *spec_json, berth_rt_id_cb cb,
                  void *arg);
    int (*start)(void *state, const char *id, berth_rt_done_cb cb, void *arg);
    /* SIGTERM (or the image's stop signal), then SIGKILL after timeout_s.
     * Stopping a container that is not running is BERTH_RT_OK. */
    int (*stop)(void *state, const char *id, uint32_t timeout_s,
                berth_rt_done_cb cb, void *arg);
    /* Removes a stopped container and its anonymous volumes, then its
     * task's own named volumes (berth-TASKID-*, TASKID ending its
     * com.amazonaws.ecs.task-arn label) that no other container uses:
     * ECS destroys task-scoped volumes with the task.  Removing one that
     * is gone already is BERTH_RT_OK. */
    int (*remove)(void *state, const char *id, berth_rt_done_cb cb,
                  void *arg);
    int (*inspect)(void *state, const char *id, berth_rt_info_cb cb,
                   void *arg);
    /* Every container (running or not) that carries label "key=value"
     * (or just "key"). */
    int (*list)(void *state, const char *label, berth_rt_list_cb cb,
                void *arg);
    int (*stats)(void *state, const char *id, berth_rt_stats_cb cb,
                 void *arg);
    /* Called once after start(): deliver events for containers labelled
     * label (as in list) to cb until stop().  The plugin reconnects by
     * itself when the engine goes away, and says so with ENGINE_DOWN and
     * ENGINE_UP; the first ENGINE_UP comes when the stream is first
     * established.  Health verdicts are events even when the engine does
     * not run checks itself and the plugin has to. */
    int (*watch)(void *state, const char *label, berth_rt_event_cb cb,
                 void *arg);

    /* 1.3 */
    /* An address of this host that a container in network_mode ("bridge",
     * "host", "awsvpc", "none") reaches, as an IP literal: for a bridge,
     * its gateway on the host; for host, "127.0.0.1".  NULL when there is
     * none (none) or it is not known yet (the engine not reached).  The
     * string stays valid until the next call or stop().  Never blocks:
     * the plugin learns it when it reaches the engine. */
    const char *(*host_address)(void *state, const char *network_mode);
};

/* A metrics sink receives every series the agent holds at each export
 * interval ([agent] metrics-interval).  The array is valid only during the
 * call; a sink that sends asynchronously copies what it needs. */
struct berth_metrics_sink_ops {
    uint32_t struct_size;
    void (*write)(void *state, const struct berth_metric *metrics, size_t n);

    /* 1.4, optional: every histogram, called right after write() at each
     * export, even when n is 0, so a sink may treat it as the end of the
     * export.  A sink without it (an older struct_size, or NULL) gets no
     * histograms. */
    void (*write_histograms)(void *state, const struct berth_histogram *h,
                             size_t n);
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
