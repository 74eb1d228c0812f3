/* host.c: the host API handed to plugins, and the resources it tracks. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/clock.h"
#include "agent/conf.h"
#include "agent/host.h"
#include "agent/http_client.h"
#include "agent/log.h"
#include "agent/metrics.h"
#include "agent/plugin_host.h"
#include "agent/resolver.h"

enum res_type { RES_TIMER, RES_WATCH, RES_HTTP, RES_LOOKUP };

/* Header shared by every resource: its place in the owner's list. */
struct res {
    enum res_type type;
    struct berth_ctx *ctx;
    struct res *prev, *next;
};

struct berth_ctx {
    struct host *host;
    struct plugin *plugin;
    struct berth_ctx *prev, *next;
    struct res *res;
};

struct berth_timer {
    struct res r;
    ev_timer w;
    berth_timer_cb cb;
    void *arg;
    int firing, stopped;
};

struct berth_watch {
    struct res r;
    ev_io w;
    berth_fd_cb cb;
    void *arg;
};

struct berth_http {
    struct res r;
    struct http_xfer *x;
    berth_http_data_cb on_data;
    berth_http_done_cb on_done;
    void *arg;
};

struct berth_lookup {
    struct res r;
    struct resolver_query *q;
    berth_lookup_cb cb;
    void *arg;
};

struct host_event {
    struct host_event *next;
    char *source, *type, *detail;
    uint64_t time_ms;
};

static void
res_link(struct berth_ctx *ctx, struct res *r, enum res_type type)
{
    r->type = type;
    r->ctx = ctx;
    r->prev = NULL;
    r->next = ctx->res;
    if (ctx->res)
        ctx->res->prev = r;
    ctx->res = r;
}

static void
res_unlink(struct res *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        r->ctx->res = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static const char *
ctx_name(const berth_ctx *ctx)
{
    return ctx->plugin ? ctx->plugin->instance : "?";
}

/* ---- logging, values, time ---- */

static void
api_log(berth_ctx *ctx, enum berth_log_level level, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;

    if ((int)level > log_get_level())
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    /* The first word is the event, the rest its fields. */
    char *rest = buf + strcspn(buf, " ");
    if (*rest)
        *rest++ = '\0';
    log_event(level, *buf ? buf : "plugin.log", "plugin=%s%s%s", ctx_name(ctx),
              *rest ? " " : "", rest);
}

static const char *
api_agent_value(berth_ctx *ctx, const char *key)
{
    const struct conf *c = ctx->host->conf;

    if (!key)
        return NULL;
    if (strcmp(key, "version") == 0)
        return PACKAGE_VERSION;
    if (strcmp(key, "instance") == 0)
        return ctx_name(ctx);
    if (!c)
        return NULL;
    if (strcmp(key, "cluster") == 0)
        return c->agent.cluster;
    if (strcmp(key, "region") == 0)
        return c->agent.region;
    if (strcmp(key, "account-id") == 0)
        return c->agent.account_id;
    if (strcmp(key, "state-dir") == 0)
        return c->agent.state_dir;
    if (strcmp(key, "plugin-dir") == 0)
        return c->agent.plugin_dir;
    return NULL;
}

/* ev_now() follows the wall clock; the ABI promises monotonic time. */
static uint64_t
api_now_ms(berth_ctx *ctx)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- timers ---- */

static void
timer_free(struct berth_timer *t)
{
    res_unlink(&t->r);
    free(t);
}

static void
timer_fire(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct berth_timer *t = w->data;
    int once = t->w.repeat == 0.0;

    t->firing = 1;
    t->cb(t->arg);
    t->firing = 0;
    /* A one-shot timer is released after its callback; so is one that its
     * own callback stopped. */
    if (once || t->stopped) {
        ev_timer_stop(loop, &t->w);
        timer_free(t);
    }
}

static berth_timer *
api_timer_start(berth_ctx *ctx, uint64_t after_ms, uint64_t repeat_ms,
                berth_timer_cb cb, void *arg)
{
    struct berth_timer *t;

    if (!cb || !(t = calloc(1, sizeof(*t))))
        return NULL;
    t->cb = cb;
    t->arg = arg;
    ev_timer_init(&t->w, timer_fire, after_ms / 1000.0, repeat_ms / 1000.0);
    t->w.data = t;
    res_link(ctx, &t->r, RES_TIMER);
    ev_timer_start(ctx->host->loop, &t->w);
    return t;
}

static void
api_timer_stop(berth_ctx *ctx, berth_timer *t)
{
    if (!t)
        return;
    ev_timer_stop(ctx->host->loop, &t->w);
    if (t->firing)
        t->stopped = 1; /* released when the callback returns */
    else
        timer_free(t);
}

/* ---- fd watchers ---- */

static int
to_ev(int events)
{
    return (events & BERTH_FD_READ ? EV_READ : 0) |
           (events & BERTH_FD_WRITE ? EV_WRITE : 0);
}

static void
watch_ready(struct ev_loop *loop, ev_io *w, int revents)
{
    struct berth_watch *bw = w->data;
    bw->cb(bw->arg, w->fd, (revents & EV_READ ? BERTH_FD_READ : 0) |
                               (revents & EV_WRITE ? BERTH_FD_WRITE : 0));
}

static berth_watch *
api_fd_watch(berth_ctx *ctx, int fd, int events, berth_fd_cb cb, void *arg)
{
    struct berth_watch *w;

    if (fd < 0 || !cb || !(w = calloc(1, sizeof(*w))))
        return NULL;
    w->cb = cb;
    w->arg = arg;
    ev_io_init(&w->w, watch_ready, fd, to_ev(events));
    w->w.data = w;
    res_link(ctx, &w->r, RES_WATCH);
    if (events)
        ev_io_start(ctx->host->loop, &w->w);
    return w;
}

static void
api_fd_watch_set(berth_ctx *ctx, berth_watch *w, int events)
{
    if (!w)
        return;
    ev_io_stop(ctx->host->loop, &w->w);
    ev_io_set(&w->w, w->w.fd, to_ev(events));
    if (events)
        ev_io_start(ctx->host->loop, &w->w);
}

static void
api_fd_unwatch(berth_ctx *ctx, berth_watch *w)
{
    if (!w)
        return;
    ev_io_stop(ctx->host->loop, &w->w);
    res_unlink(&w->r);
    free(w);
}

/* ---- HTTP ---- */

static void
http_data(void *arg, long status, const char *data, size_t len)
{
    struct berth_http *h = arg;
    if (h->on_data)
        h->on_data(h->arg, status, data, len);
}

static void
http_done(void *arg, const struct berth_http_response *res)
{
    struct berth_http *h = arg;

    res_unlink(&h->r);
    if (h->on_done)
        h->on_done(h->arg, res);
    free(h);
}

static berth_http *
api_http_request(berth_ctx *ctx, const struct berth_http_request *req,
                 berth_http_data_cb on_data, berth_http_done_cb on_done,
                 void *arg)
{
    struct berth_http *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    h->on_data = on_data;
    h->on_done = on_done;
    h->arg = arg;
    h->x = http_client_request(ctx->host->http, req, http_data, http_done, h);
    if (!h->x) {
        log_warn("plugin.http.refused", "plugin=%s url=%s", ctx_name(ctx),
                 req && req->url ? req->url : "(none)");
        free(h);
        return NULL;
    }
    res_link(ctx, &h->r, RES_HTTP);
    return h;
}

static void
api_http_cancel(berth_ctx *ctx, berth_http *h)
{
    if (!h)
        return;
    http_client_cancel(h->x);
    res_unlink(&h->r);
    free(h);
}

/* ---- lookups ---- */

static void
lookup_done(void *arg, const struct berth_lookup_result *r)
{
    struct berth_lookup *l = arg;

    res_unlink(&l->r);
    l->cb(l->arg, r);
    free(l);
}

static berth_lookup *
api_lookup(berth_ctx *ctx, const char *name, int family, berth_lookup_cb cb,
           void *arg)
{
    struct berth_lookup *l;

    if (!name || !cb || !(l = calloc(1, sizeof(*l))))
        return NULL;
    l->cb = cb;
    l->arg = arg;
    l->q = resolver_lookup(ctx->host->resolver, name, family, lookup_done, l);
    if (!l->q) {
        free(l);
        return NULL;
    }
    res_link(ctx, &l->r, RES_LOOKUP);
    return l;
}

static void
api_lookup_cancel(berth_ctx *ctx, berth_lookup *l)
{
    if (!l)
        return;
    resolver_cancel(l->q);
    res_unlink(&l->r);
    free(l);
}

/* ---- metrics, events, stop ---- */

static void
api_metric(berth_ctx *ctx, const struct berth_metric *m)
{
    char err[256], q[300];
    if (!m || metrics_record(ctx->host->metrics, m, (uint64_t)clock_wall_ms(), err, sizeof(err)) < 0)
        log_warn("plugin.metric.refused", "plugin=%s error=%s", ctx_name(ctx),
                 log_quote(q, sizeof(q), m ? err : "NULL sample"));
}

static void
api_histogram(berth_ctx *ctx, const struct berth_histogram *hg)
{
    char err[256], q[300];
    if (!hg || metrics_record_histogram(ctx->host->metrics, hg,
                                        (uint64_t)clock_wall_ms(), err, sizeof(err)) < 0)
        log_warn("plugin.histogram.refused", "plugin=%s error=%s", ctx_name(ctx),
                 log_quote(q, sizeof(q), hg ? err : "NULL histogram"));
}

static void
api_event(berth_ctx *ctx, const char *type, const char *detail)
{
    host_publish(ctx->host, ctx_name(ctx), type, detail);
}

static void
api_stop_done(berth_ctx *ctx)
{
    struct host *h = ctx->host;
    if (h->on_stop_done)
        h->on_stop_done(h->on_stop_done_arg, ctx->plugin);
}

const struct berth_host host_api = {
    .abi_major = BERTH_PLUGIN_ABI_MAJOR,
    .abi_minor = BERTH_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(struct berth_host),
    .agent_version = PACKAGE_VERSION,
    .log = api_log,
    .agent_value = api_agent_value,
    .now_ms = api_now_ms,
    .timer_start = api_timer_start,
    .timer_stop = api_timer_stop,
    .fd_watch = api_fd_watch,
    .fd_watch_set = api_fd_watch_set,
    .fd_unwatch = api_fd_unwatch,
    .http_request = api_http_request,
    .http_cancel = api_http_cancel,
    .lookup = api_lookup,
    .lookup_cancel = api_lookup_cancel,
    .metric = api_metric,
    .event = api_event,
    .stop_done = api_stop_done,
    .histogram = api_histogram,
};

/* ---- contexts ---- */

struct berth_ctx *
host_ctx_new(struct host *h, struct plugin *p)
{
    struct berth_ctx *ctx = calloc(1, sizeof(*ctx));

    if (!ctx)
        return NULL;
    ctx->host = h;
    ctx->plugin = p;
    ctx->next = h->ctxs;
    if (h->ctxs)
        h->ctxs->prev = ctx;
    h->ctxs = ctx;
    return ctx;
}

unsigned
host_ctx_resources(const struct berth_ctx *ctx)
{
    unsigned n = 0;
    for (const struct res *r = ctx->res; r; r = r->next)
        n++;
    return n;
}

void
host_ctx_release(struct berth_ctx *ctx)
{
    struct host *h;
    unsigned left;

    if (!ctx)
        return;
    h = ctx->host;
    left = host_ctx_resources(ctx);
    if (left)
        log_info("plugin.resources.released", "plugin=%s count=%u", ctx_name(ctx),
                 left);
    while (ctx->res) {
        struct res *r = ctx->res;
        switch (r->type) {
        case RES_TIMER:
            api_timer_stop(ctx, (struct berth_timer *)r);
            break;
        case RES_WATCH:
            api_fd_unwatch(ctx, (struct berth_watch *)r);
            break;
        case RES_HTTP:
            api_http_cancel(ctx, (struct berth_http *)r);
            break;
        case RES_LOOKUP:
            api_lookup_cancel(ctx, (struct berth_lookup *)r);
            break;
        }
    }
    if (ctx->prev)
        ctx->prev->next = ctx->next;
    else
        h->ctxs = ctx->next;
    if (ctx->next)
        ctx->next->prev = ctx->prev;
    free(ctx);
}

/* ---- events ---- */

static void
event_free(struct host_event *e)
{
    free(e->source);
    free(e->type);
    free(e->detail);
    free(e);
}

static void
deliver_events(struct ev_loop *loop, ev_idle *w, int revents)
{
    struct host *h = w->data;
    struct host_event *e;

    /* Take the queue as it is now: events published during delivery wait
     * for the next iteration, so delivery always terminates. */
    e = h->ev_head;
    h->ev_head = h->ev_tail = NULL;
    ev_idle_stop(loop, w);
    while (e) {
        struct host_event *next = e->next;
        struct berth_event ev = {
            .type = e->type, .source = e->source, .detail = e->detail,
            .time_ms = e->time_ms,
        };
        for (struct berth_ctx *c = h->ctxs; c; c = c->next) {
            struct plugin *p = c->plugin;
            if (p && p->st == PLUGIN_STARTED && p->desc.on_event &&
                strcmp(p->instance, e->source) != 0)
                p->desc.on_event(p->state, &ev);
        }
        event_free(e);
        e = next;
    }
}

void
host_publish(struct host *h, const char *source, const char *type,
             const char *detail)
{
    struct host_event *e;

    if (!type || !*type)
        return;
    log_debug("event", "source=%s type=%s", source, type);
    e = calloc(1, sizeof(*e));
    if (!e)
        return;
    e->source = strdup(source);
    e->type = strdup(type);
    e->detail = detail ? strdup(detail) : NULL;
    e->time_ms = (uint64_t)clock_wall_ms();
    if (!e->source || !e->type || (detail && !e->detail)) {
        event_free(e);
        return;
    }
    if (h->ev_tail)
        h->ev_tail->next = e;
    else
        h->ev_head = e;
    h->ev_tail = e;
    ev_idle_start(h->loop, &h->event_idle);
}

/* ---- metrics export ---- */

void
host_metric(struct host *h, const char *name, const char *help,
            enum berth_metric_type type, double value,
            const struct berth_label *labels, size_t n_labels)
{
    char err[256], q[300];
    struct berth_metric m = {
        .name = name, .help = help, .type = type, .value = value,
        .labels = labels, .n_labels = n_labels,
    };
    if (metrics_record(h->metrics, &m, (uint64_t)clock_wall_ms(), err, sizeof(err)) < 0)
        log_warn("metric.refused", "error=%s", log_quote(q, sizeof(q), err));
}

void
host_histogram(struct host *h, const struct berth_histogram *hg)
{
    char err[256], q[300];
    if (metrics_record_histogram(h->metrics, hg, (uint64_t)clock_wall_ms(), err,
                                 sizeof(err)) < 0)
        log_warn("histogram.refused", "error=%s", log_quote(q, sizeof(q), err));
}

void
host_metrics_forget(struct host *h, const char *name, const char *value)
{
    metrics_forget(h->metrics, name, value);
}

void
host_sink_export(const struct berth_metrics_sink_ops *ops, void *state,
                 const struct berth_metric *m, size_t n,
                 const struct berth_histogram *hg, size_t nh)
{
    ops->write(state, m, n);
    /* A sink built before 1.4 has a shorter struct: never read past it. */
    if (ops->struct_size >= offsetof(struct berth_metrics_sink_ops, write_histograms) +
                                sizeof(ops->write_histograms) &&
        ops->write_histograms)
        ops->write_histograms(state, hg, nh);
}

void
host_export_metrics(struct host *h)
{
    size_t n, nh;
    const struct berth_metric *view = metrics_all(h->metrics, &n);
    const struct berth_histogram *hview = metrics_histograms(h->metrics, &nh);
    /* A sink may record a metric from inside write(), which can move the
     * store's arrays: hand out copies.  The strings and the histograms'
     * bounds and counts stay where they are until the next record of the
     * same series, which a sink does not make. */
    struct berth_metric *all = n ? malloc(n * sizeof(*all)) : NULL;
    struct berth_histogram *hall = nh ? malloc(nh * sizeof(*hall)) : NULL;

    if ((n && !all) || (nh && !hall)) {
        log_warn("metrics.export.skipped", "error=\"out of memory\" series=%zu "
                 "histograms=%zu", n, nh);
        free(all);
        free(hall);
        return;
    }
    if (n)
        memcpy(all, view, n * sizeof(*all));
    if (nh)
        memcpy(hall, hview, nh * sizeof(*hall));
    for (struct berth_ctx *c = h->ctxs; c; c = c->next) {
        struct plugin *p = c->plugin;
        const struct berth_metrics_sink_ops *ops = p ? p->desc.ops : NULL;
        if (p && p->st == PLUGIN_STARTED && p->desc.kind == BERTH_KIND_METRICS_SINK &&
            ops && ops->write)
            host_sink_export(ops, p->state, all, n, hall, nh);
    }
    free(all);
    free(hall);
}

static void
export_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    host_export_metrics(w->data);
}

void
host_set_export_interval(struct host *h, uint64_t ms)
{
    if (ms == h->export_interval_ms)
        return;
    h->export_interval_ms = ms;
    ev_timer_stop(h->loop, &h->export_timer);
    if (ms) {
        ev_timer_set(&h->export_timer, ms / 1000.0, ms / 1000.0);
        ev_timer_start(h->loop, &h->export_timer);
    }
}

/* ---- the host ---- */

struct host *
host_new(struct ev_loop *loop, char *err, size_t errlen)
{
    struct host *h = calloc(1, sizeof(*h));

    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->loop = loop;
    h->metrics = metrics_new();
    h->http = http_client_new(loop);
    if (!h->metrics || !h->http) {
        snprintf(err, errlen, "cannot start the HTTP client");
        host_free(h);
        return NULL;
    }
    h->resolver = resolver_new(loop, NULL, 5000, err, errlen);
    if (!h->resolver) {
        host_free(h);
        return NULL;
    }
    ev_idle_init(&h->event_idle, deliver_events);
    h->event_idle.data = h;
    ev_timer_init(&h->export_timer, export_tick, 0., 0.);
    h->export_timer.data = h;
    return h;
}

void
host_set_conf(struct host *h, const struct conf *c)
{
    h->conf = c;
}

void
host_free(struct host *h)
{
    if (!h)
        return;
    while (h->ctxs)
        host_ctx_release(h->ctxs);
    ev_idle_stop(h->loop, &h->event_idle);
    ev_timer_stop(h->loop, &h->export_timer);
    while (h->ev_head) {
        struct host_event *next = h->ev_head->next;
        event_free(h->ev_head);
        h->ev_head = next;
    }
    if (h->resolver)
        resolver_free(h->resolver);
    if (h->http)
        http_client_free(h->http);
    metrics_free(h->metrics);
    free(h);
}
