/* host.h: the agent's side of the plugin ABI: the struct berth_host table
 * and the per-plugin contexts behind it.
 *
 * Every timer, fd watcher, HTTP transfer and lookup a plugin creates is
 * linked to its berth_ctx, so host_ctx_release() can cancel whatever the
 * plugin left behind (after a stop that timed out, or a plugin that forgot).
 * Events are queued and delivered from the loop, never re-entrantly from
 * inside the publisher's call.  Control loop only. */
#ifndef BERTH_HOST_H
#define BERTH_HOST_H

#include <ev.h>

#include "berth/plugin.h"

struct conf;
struct plugin;
struct metrics;
struct http_client;
struct resolver;

struct host {
    struct ev_loop *loop;
    struct http_client *http;
    struct resolver *resolver;
    struct metrics *metrics;
    const struct conf *conf; /* in force; agent_value() reads it */
    struct berth_ctx *ctxs;  /* every live plugin context */
    struct host_event *ev_head, *ev_tail;
    ev_idle event_idle;
    ev_timer export_timer;
    uint64_t export_interval_ms;
    void (*on_stop_done)(void *arg, struct plugin *p); /* the agent's hook */
    void *on_stop_done_arg;
};

extern const struct berth_host host_api;

/* NULL with err when the HTTP client or resolver cannot start. */
struct host *host_new(struct ev_loop *loop, char *err, size_t errlen);
void host_free(struct host *h);
void host_set_conf(struct host *h, const struct conf *c);

struct berth_ctx *host_ctx_new(struct host *h, struct plugin *p);
/* Cancels every resource the plugin still holds, then frees the context. */
void host_ctx_release(struct berth_ctx *ctx);
/* How many timers, watchers, transfers and lookups it holds. */
unsigned host_ctx_resources(const struct berth_ctx *ctx);

/* An event from the agent itself (source "agent"). */
void host_publish(struct host *h, const char *source, const char *type,
                  const char *detail_json);

/* Hands the current series to every started metrics sink now. */
void host_export_metrics(struct host *h);
/* (Re)arms the export timer; 0 disables it. */
void host_set_export_interval(struct host *h, uint64_t ms);

/* Drops the agent's series labelled name=value (metrics_forget). */
void host_metrics_forget(struct host *h, const char *name, const char *value);

/* Records an agent histogram (its latest cumulative state, as a plugin's
 * host->histogram()); errors are logged. */
void host_histogram(struct host *h, const struct berth_histogram *hg);

/* One sink's share of an export: write(), then write_histograms() when the
 * sink's ops are 1.4 or newer (struct_size) and provide it. */
void host_sink_export(const struct berth_metrics_sink_ops *ops, void *state,
                      const struct berth_metric *m, size_t n,
                      const struct berth_histogram *hg, size_t nh);

/* Records an agent metric; errors are logged. */
void host_metric(struct host *h, const char *name, const char *help,
                 enum berth_metric_type type, double value,
                 const struct berth_label *labels, size_t n_labels);

#endif
