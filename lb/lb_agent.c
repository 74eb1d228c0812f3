/* lb_agent.c: the proxy inside berthd: started after the scheduler,
 * reloaded on SIGHUP, stopped before the registry goes; its events go to
 * the services, its health verdicts to the scheduler, and it drains the
 * tasks the scheduler stops.  Every [agent] metrics-interval its figures
 * (lb_metrics) are recorded as agent metrics (host_metric), the request
 * durations as a histogram (host_histogram, ABI 1.4). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/clock.h"
#include "agent/conf.h"
#include "agent/host.h"
#include "agent/log.h"
#include "agent/service.h"
#include "agent/services.h"
#include "agent/task.h"
#include "lb/lb.h"

static void on_event(void *arg, const char *service, const char *msg)
{
    struct agent *a = arg;
    struct service *s = a->services ? services_find(a->services, service) : NULL;

    if (s)
        service_event(s, clock_wall_ms(), "%s", msg);
}

static void on_health(void *arg, const char *task_arn, bool unhealthy, const char *reason)
{
    struct agent *a = arg;
    (void)reason;
    if (a->services)
        services_target_health(a->services, task_arn, unhealthy);
}

static uint64_t drain_begin(void *arg, const struct service *s, const struct task *t)
{
    struct agent *a = arg;
    return a->lb ? lb_drain_begin(a->lb, s->name, t->arn) : 0;
}

/* CreateService and UpdateService: a target group must be in berth.conf,
 * as ECS refuses one that does not exist. */
static int check_target_group(void *arg, const char *ref, char *err, size_t errlen)
{
    struct agent *a = arg;
    const struct lb_conf *lc = lb_conf_of(a->conf);
    size_t off;

    if (lb_conf_tg_ref(lc, ref))
        return 0;
    if (!lc->n_tgs) {
        snprintf(err, errlen, "target group %s does not exist: %s has no "
                 "[target-group NAME] section", ref, a->conf->path);
        return -1;
    }
    off = (size_t)snprintf(err, errlen, "target group %s does not exist: the "
                           "[target-group NAME] sections of %s are ", ref, a->conf->path);
    for (size_t i = 0; i < lc->n_tgs && off < errlen; i++)
        off += (size_t)snprintf(err + off, errlen - off, "%s%s", i ? ", " : "",
                                lc->tgs[i].name);
    return -1;
}

static const struct drainer_ops drainer = {
    .name = "lb", .begin = drain_begin, .check_target_group = check_target_group,
};

static ev_timer metrics_timer;

static void put(void *arg, const char *name, const char *help, enum berth_metric_type type,
                double v, const struct berth_label *l, size_t n)
{
    struct agent *a = arg;
    host_metric(a->host, name, help, type, v, l, n);
}

static void hist(void *arg, const char *name, const char *help, const double *bounds,
                 const uint64_t *counts, size_t n, double sum, uint64_t count,
                 const struct berth_label *l, size_t n_labels)
{
    struct agent *a = arg;
    uint64_t cum[32];
    uint64_t run = 0;

    if (n > sizeof cum / sizeof cum[0])
        return;
    (void)count; /* read apart from the buckets: theirs is the consistent total */
    for (size_t i = 0; i < n; i++) /* per bucket -> cumulative; +Inf is count */
        cum[i] = run += counts[i];
    struct berth_histogram hg = {.name = name, .help = help, .labels = l, .n_labels = n_labels,
                                 .n_buckets = n, .upper_bounds = bounds,
                                 .cumulative_counts = cum, .count = run + counts[n],
                                 .sum = sum};
    host_histogram(a->host, &hg);
}

static void on_metrics(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct agent *a = t->data;
    struct lb_metric_sink sink = {.put = put, .histogram = hist, .arg = a};
    (void)loop;
    (void)revents;
    if (a->lb)
        lb_metrics(a->lb, &sink);
}

static void metrics_arm(struct agent *a)
{
    double every = (double)a->conf->agent.metrics_interval_ms / 1000.;

    ev_timer_stop(a->loop, &metrics_timer);
    if (!a->lb || every <= 0)
        return;
    ev_timer_init(&metrics_timer, on_metrics, every, every);
    metrics_timer.data = a;
    ev_timer_start(a->loop, &metrics_timer);
}

static int has_proxy(const struct lb_conf *lc)
{
    return lc && (lc->n_listeners || lc->n_tgs);
}

static int start(struct agent *a, struct conf_errors *errs)
{
    const struct lb_conf *lc = lb_conf_of(a->conf);
    struct lb_env env = {.loop = a->loop, .reg = a->registry, .event = on_event,
                         .health = on_health, .arg = a};
    char err[512];

    if (services_add_drainer(a->services, &drainer, a) < 0) {
        conf_errors_add(errs, "out of memory");
        return -1;
    }
    if (!has_proxy(lc))
        return 0;
    if (!(a->lb = lb_new(&env, lc, err, sizeof err))) {
        conf_errors_add(errs, "%s: %s", a->conf->path, err);
        return -1;
    }
    metrics_arm(a);
    return 0;
}

static void reload(struct agent *a)
{
    const struct lb_conf *lc = lb_conf_of(a->conf);
    struct lb_env env = {.loop = a->loop, .reg = a->registry, .event = on_event,
                         .health = on_health, .arg = a};
    char err[512];

    if (a->lb) {
        if (lb_reload(a->lb, lc, err, sizeof err) < 0)
            log_error("lb.reload.failed", "error=\"%s\"", err);
    } else if (has_proxy(lc) && !(a->lb = lb_new(&env, lc, err, sizeof err))) {
        log_error("lb.reload.failed", "error=\"%s\"", err);
    }
    metrics_arm(a);
}

static void stop(struct agent *a)
{
    ev_timer_stop(a->loop, &metrics_timer);
    lb_free(a->lb);
    a->lb = NULL;
}

static const struct agent_module module = {
    .name = "lb", .start = start, .reload = reload, .stop = stop,
};

void lb_register(void)
{
    lb_conf_register();
    agent_add_module(&module);
}
