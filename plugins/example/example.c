/* example.c: a small plugin that shows every part of Berth's plugin ABI.
 *
 * It is a metrics sink (it receives the agent's series at each export and
 * can write them to a file) that also, on a timer:
 *   - counts ticks and records them as a metric (host->metric),
 *   - fetches probe-url through the host's async HTTP client, over TCP or a
 *     unix socket (host->http_request),
 *   - resolves a name through the host's resolver (host->lookup),
 *   - publishes an event (host->event).
 * It serves a one-line status on a unix socket (host->fd_watch), logs what
 * it sees (host->log), applies new options in place on reload
 * (reconfigure, ABI 1.1) and, on stop, lets an in-flight probe finish
 * (stop returns BERTH_PENDING, then host->stop_done).
 *
 * Build out of tree:
 *   cc $(pkg-config --cflags berth-plugin) -shared -fPIC -o example.so example.c
 * and load it with a [plugin example] section in berth.conf. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <berth/plugin.h>

/* The options, filled in by the host from the option table below. */
struct example_config {
    uint64_t interval_ms;
    const char *probe_url;
    uint64_t probe_timeout_ms;
    const char *probe_socket;
    const char *lookup;
    const char *status_socket;
    const char *output;
};

struct example {
    berth_ctx *ctx;
    const struct berth_host *host;
    const struct example_config *cfg;
    berth_timer *tick;
    berth_http *probe; /* in flight, or NULL */
    berth_lookup *lookup;
    int listen_fd;
    berth_watch *listen_w;
    int stopping;
    unsigned long ticks, probes_ok, probes_failed, events_seen, exports;
    long last_status;
    char last_address[64];
};

static const struct berth_option example_options[] = {
    {"interval", BERTH_OPT_DURATION, "10s",
     offsetof(struct example_config, interval_ms), "time between ticks", 0},
    {"probe-url", BERTH_OPT_STRING, NULL, offsetof(struct example_config, probe_url),
     "URL fetched at each tick (optional)", 0},
    {"probe-timeout", BERTH_OPT_DURATION, "5s",
     offsetof(struct example_config, probe_timeout_ms),
     "how long one probe may take", 0},
    {"probe-socket", BERTH_OPT_STRING, NULL,
     offsetof(struct example_config, probe_socket),
     "unix socket to reach probe-url through (optional)", 0},
    {"lookup", BERTH_OPT_STRING, NULL, offsetof(struct example_config, lookup),
     "name resolved at each tick (optional)", 0},
    {"status-socket", BERTH_OPT_STRING, NULL,
     offsetof(struct example_config, status_socket),
     "unix socket that answers each connection with a status line (optional)", 0},
    {"output", BERTH_OPT_STRING, NULL, offsetof(struct example_config, output),
     "file the exported metrics are appended to (optional)", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static int
check_config(const struct example_config *cfg, char *err, size_t errlen)
{
    if (cfg->interval_ms < 100) {
        snprintf(err, errlen, "interval must be at least 100ms");
        return -1;
    }
    if (cfg->probe_socket && !cfg->probe_url) {
        snprintf(err, errlen, "probe-socket needs probe-url");
        return -1;
    }
    if (cfg->status_socket &&
        strlen(cfg->status_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        snprintf(err, errlen, "status-socket path is too long");
        return -1;
    }
    return 0;
}

/* init: check and allocate only; sockets and timers wait for start(). */
static int
example_init(berth_ctx *ctx, const struct berth_host *host, const void *config,
             void **state, char *err, size_t errlen)
{
    const struct example_config *cfg = config;
    struct example *ex;

    if (check_config(cfg, err, errlen) < 0)
        return -1;
    if (!(ex = calloc(1, sizeof(*ex)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ex->ctx = ctx;
    ex->host = host;
    ex->cfg = cfg;
    ex->listen_fd = -1;
    *state = ex;
    host->log(ctx, BERTH_LOG_DEBUG, "example.init interval_ms=%llu",
              (unsigned long long)cfg->interval_ms);
    return 0;
}

static void
probe_done(void *arg, const struct berth_http_response *res)
{
    struct example *ex = arg;

    ex->probe = NULL;
    if (res->error) {
        ex->probes_failed++;
        ex->host->log(ex->ctx, BERTH_LOG_WARN, "example.probe.failed error=\"%s\"",
                      res->error_msg);
    } else {
        ex->probes_ok++;
        ex->last_status = res->status;
        ex->host->log(ex->ctx, BERTH_LOG_INFO, "example.probe status=%ld bytes=%zu",
                      res->status, res->body_len);
    }
    struct berth_metric m = {
        .name = "example_probe_status", .help = "Last HTTP status of probe-url.",
        .type = BERTH_METRIC_GAUGE, .value = (double)ex->last_status,
    };
    ex->host->metric(ex->ctx, &m);
    if (ex->stopping)
        ex->host->stop_done(ex->ctx); /* the probe stop() waited for */
}

static void
lookup_done(void *arg, const struct berth_lookup_result *r)
{
    struct example *ex = arg;

    ex->lookup = NULL;
    if (r->status || !r->n) {
        ex->host->log(ex->ctx, BERTH_LOG_WARN, "example.lookup.failed name=%s error=\"%s\"",
                      ex->cfg->lookup, r->error_msg ? r->error_msg : "no address");
        return;
    }
    const struct sockaddr_storage *ss = &r->addrs[0];
    const void *a = ss->ss_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    inet_ntop(ss->ss_family, a, ex->last_address, sizeof(ex->last_address));
    ex->host->log(ex->ctx, BERTH_LOG_INFO, "example.lookup name=%s address=%s count=%zu",
                  ex->cfg->lookup, ex->last_address, r->n);
}

static void
tick(void *arg)
{
    struct example *ex = arg;
    char detail[64];

    ex->ticks++;
    struct berth_label label = {"plugin", "example"};
    struct berth_metric m = {
        .name = "example_ticks_total", .help = "Ticks of the example plugin.",
        .type = BERTH_METRIC_COUNTER, .value = (double)ex->ticks,
        .labels = &label, .n_labels = 1,
    };
    ex->host->metric(ex->ctx, &m);
    snprintf(detail, sizeof(detail), "{\"ticks\":%lu}", ex->ticks);
    ex->host->event(ex->ctx, "example.tick", detail);
    ex->host->log(ex->ctx, BERTH_LOG_INFO, "example.tick ticks=%lu", ex->ticks);

    if (ex->cfg->probe_url && !ex->probe) {
        struct berth_http_request req = {
            .struct_size = sizeof(req),
            .url = ex->cfg->probe_url,
            .unix_socket = ex->cfg->probe_socket,
            .timeout_ms = ex->cfg->probe_timeout_ms,
        };
        ex->probe = ex->host->http_request(ex->ctx, &req, NULL, probe_done, ex);
    }
    if (ex->cfg->lookup && !ex->lookup)
        ex->lookup = ex->host->lookup(ex->ctx, ex->cfg->lookup, AF_UNSPEC, lookup_done, ex);
}

/* Each connection to the status socket gets one line, then is closed. */
static void
status_accept(void *arg, int fd, int revents)
{
    struct example *ex = arg;
    char line[256];
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    (void)revents; /* the watcher asks for reads only */
    if (c < 0)
        return;
    int n = snprintf(line, sizeof(line),
                     "ticks=%lu probes_ok=%lu probes_failed=%lu last_status=%ld "
                     "events_seen=%lu exports=%lu interval_ms=%llu address=%s\n",
                     ex->ticks, ex->probes_ok, ex->probes_failed, ex->last_status,
                     ex->events_seen, ex->exports,
                     (unsigned long long)ex->cfg->interval_ms,
                     ex->last_address[0] ? ex->last_address : "-");
    /* A short status line fits the socket buffer: no need to wait. */
    if (write(c, line, (size_t)n) < 0)
        ex->host->log(ex->ctx, BERTH_LOG_DEBUG, "example.status.write error=\"%s\"",
                      strerror(errno));
    close(c);
}

/* Listens on path and watches it; nothing of ex changes on failure. */
static int
listen_status(struct example *ex, const char *path, int *fd_out, berth_watch **w_out,
              char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    strcpy(sa.sun_path, path); /* length checked by check_config */
    unlink(sa.sun_path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
        snprintf(err, errlen, "status-socket %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    *fd_out = fd;
    *w_out = ex->host->fd_watch(ex->ctx, fd, BERTH_FD_READ, status_accept, ex);
    return 0;
}

static void
close_status(struct example *ex, const char *path)
{
    if (ex->listen_fd < 0)
        return;
    ex->host->fd_unwatch(ex->ctx, ex->listen_w); /* the watcher goes before the fd */
    close(ex->listen_fd);
    unlink(path);
    ex->listen_fd = -1;
    ex->listen_w = NULL;
}

static int
example_start(void *state, char *err, size_t errlen)
{
    struct example *ex = state;

    if (ex->cfg->status_socket &&
        listen_status(ex, ex->cfg->status_socket, &ex->listen_fd, &ex->listen_w, err,
                      errlen) < 0)
        return -1;
    ex->tick = ex->host->timer_start(ex->ctx, ex->cfg->interval_ms,
                                     ex->cfg->interval_ms, tick, ex);
    ex->host->log(ex->ctx, BERTH_LOG_INFO, "example.started cluster=%s agent=%s",
                  ex->host->agent_value(ex->ctx, "cluster"), ex->host->agent_version);
    return 0;
}

/* Applies new options in place: the timer takes the new interval; a new
 * status socket path means opening the new one, then closing the old.  On
 * failure nothing has changed: the host keeps the old config in force. */
static int
example_reconfigure(void *state, const void *config, char *err, size_t errlen)
{
    struct example *ex = state;
    const struct example_config *cfg = config;
    const char *old_sock = ex->cfg->status_socket;
    int new_fd = -1;
    berth_watch *new_w = NULL;

    if (check_config(cfg, err, errlen) < 0)
        return -1;
    int sock_changed = (old_sock == NULL) != (cfg->status_socket == NULL) ||
                       (old_sock && strcmp(old_sock, cfg->status_socket) != 0);
    if (sock_changed && cfg->status_socket &&
        listen_status(ex, cfg->status_socket, &new_fd, &new_w, err, errlen) < 0)
        return -1;
    if (sock_changed) {
        close_status(ex, old_sock);
        ex->listen_fd = new_fd;
        ex->listen_w = new_w;
    }
    ex->cfg = cfg;
    ex->host->timer_stop(ex->ctx, ex->tick);
    ex->tick = ex->host->timer_start(ex->ctx, cfg->interval_ms, cfg->interval_ms, tick, ex);
    ex->host->log(ex->ctx, BERTH_LOG_INFO, "example.reconfigured interval_ms=%llu",
                  (unsigned long long)cfg->interval_ms);
    return 0;
}

static int
example_stop(void *state)
{
    struct example *ex = state;

    ex->host->timer_stop(ex->ctx, ex->tick);
    ex->tick = NULL;
    if (ex->lookup) {
        ex->host->lookup_cancel(ex->ctx, ex->lookup);
        ex->lookup = NULL;
    }
    if (ex->probe) {
        /* Let the probe finish: the host waits up to its shutdown-timeout. */
        ex->stopping = 1;
        ex->host->log(ex->ctx, BERTH_LOG_INFO, "example.stop.waiting for=probe");
        return BERTH_PENDING;
    }
    return 0;
}

static void
example_destroy(void *state)
{
    struct example *ex = state;

    /* A timer or transfer still held would be released by the host; the
     * socket is ours. */
    close_status(ex, ex->cfg->status_socket);
    free(ex);
}

static void
example_on_event(void *state, const struct berth_event *ev)
{
    struct example *ex = state;

    ex->events_seen++;
    ex->host->log(ex->ctx, BERTH_LOG_DEBUG, "example.event type=%s source=%s",
                  ev->type, ev->source);
}

/* Metrics sink: append each series as "name{labels} value" to output. */
static void
example_write(void *state, const struct berth_metric *m, size_t n)
{
    struct example *ex = state;
    FILE *f;

    ex->exports++;
    if (!ex->cfg->output)
        return;
    /* A local append is quick; a real sink would send asynchronously. */
    if (!(f = fopen(ex->cfg->output, "a"))) {
        ex->host->log(ex->ctx, BERTH_LOG_WARN, "example.output.failed path=%s error=\"%s\"",
                      ex->cfg->output, strerror(errno));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s{", m[i].name);
        for (size_t l = 0; l < m[i].n_labels; l++)
            fprintf(f, "%s%s=\"%s\"", l ? "," : "", m[i].labels[l].name,
                    m[i].labels[l].value);
        fprintf(f, "} %g\n", m[i].value);
    }
    fprintf(f, "# export %lu\n", ex->exports);
    fclose(f);
}

static const struct berth_metrics_sink_ops example_sink = {
    .struct_size = sizeof(struct berth_metrics_sink_ops),
    .write = example_write,
};

BERTH_PLUGIN_DECLARE = {
    BERTH_PLUGIN_HEADER,
    .name = "example",
    .version = "1.0",
    .description = "shows the plugin ABI: ticks, probes, lookups, events, a sink",
    .kind = BERTH_KIND_METRICS_SINK,
    .options = example_options,
    .config_size = sizeof(struct example_config),
    .init = example_init,
    .start = example_start,
    .stop = example_stop,
    .destroy = example_destroy,
    .on_event = example_on_event,
    .ops = &example_sink,
    .reconfigure = example_reconfigure,
};
