/* dns_agent.c: starting, reconfiguring and stopping the responder. */
#include "config.h"

#include "dns/dns_agent.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/conf.h"
#include "agent/host.h"
#include "agent/log.h"
#include "agent/registry.h"
#include "agent/runtime.h"
#include "agent/services.h"
#include "agent/tasks.h"
#include "dns/dns_conf.h"
#include "dns/stats.h"
#include "dns/workers.h"
#include "dns/zone.h"

struct dns {
    struct agent *a;
    struct dns_workers *workers;
    /* What the workers were started with: a change starts new ones. */
    struct berth_address listen;
    char *upstreams, *allow;
    int64_t n_workers;
    uint64_t idle_ms;
    uint64_t ttl_ms;
    /* task-resolver: one more worker on port 53 of the engine's bridge
     * gateway, which containers get as their resolver. */
    struct dns_workers *bridge;
    char bridge_addr[64];  /* what bridge listens on; "" none */
    char bridge_failed[64]; /* logged once per address */
    ev_timer watch;        /* the runtime learns its gateway at any time */
    /* Figures of the workers already gone: the counters never go back. */
    struct dns_stats retired;
    ev_timer metrics;      /* [agent] metrics-interval */
    uint64_t metrics_ms;
};

#define BRIDGE_WATCH_S 1.0

static struct dns_zone *compile(struct agent *a)
{
    struct reg_snapshot *snap = registry_acquire(a->registry);
    struct dns_zone *z = dns_zone_compile(dns_conf_of(a->conf), snap);

    if (z)
        log_debug("dns.zone", "generation=%llu names=%zu",
                  (unsigned long long)snap->generation, dns_zone_size(z));
    else
        log_error("dns.zone.failed", "error=\"out of memory\" keeping=previous");
    reg_snapshot_release(snap);
    return z;
}

static void on_registry(void *arg)
{
    struct dns *d = arg;
    struct dns_zone *z = compile(d->a);

    if (z) {
        dns_workers_set_zone(d->workers, z);
        if (d->bridge)
            dns_workers_set_zone(d->bridge, z);
        dns_zone_unref(z);
    }
}

/* The network of the interface holding addr (the bridge's), into nets[0]:
 * its containers' queries may be forwarded.  -1 when none holds it. */
static int bridge_net(const char *addr, struct dns_net *net)
{
    struct ifaddrs *ifs, *i;
    uint8_t want[16];
    int family = strchr(addr, ':') ? AF_INET6 : AF_INET, rc = -1;
    size_t alen = family == AF_INET ? 4 : 16;

    if (inet_pton(family, addr, want) != 1 || getifaddrs(&ifs) < 0)
        return -1;
    for (i = ifs; i && rc < 0; i = i->ifa_next) {
        if (!i->ifa_addr || !i->ifa_netmask || i->ifa_addr->sa_family != family)
            continue;
        const uint8_t *a = family == AF_INET
                               ? (const uint8_t *)&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr
                               : (const uint8_t *)&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
        const uint8_t *m = family == AF_INET
                               ? (const uint8_t *)&((struct sockaddr_in *)(void *)i->ifa_netmask)->sin_addr
                               : (const uint8_t *)&((struct sockaddr_in6 *)(void *)i->ifa_netmask)->sin6_addr;
        if (memcmp(a, want, alen) != 0)
            continue;
        memset(net, 0, sizeof *net);
        net->family = family;
        for (size_t k = 0; k < alen; k++) {
            net->addr[k] = a[k] & m[k];
            for (uint8_t b = m[k]; b; b = (uint8_t)(b << 1))
                net->prefix++;
        }
        rc = 0;
    }
    freeifaddrs(ifs);
    return rc;
}

/* Frees w, its figures kept in d->retired. */
static void retire(struct dns *d, struct dns_workers *w)
{
    if (!w)
        return;
    dns_workers_stats(w, &d->retired);
    dns_workers_free(w);
}

/* berth_dns_request_duration_seconds{source=local|forwarded}. */
static void record_latency(struct host *h, const struct dns_stats *sum)
{
    for (int f = 0; f < 2; f++) {
        uint64_t cum[DNS_LAT_N], n = 0;
        for (int i = 0; i < DNS_LAT_N; i++)
            cum[i] = n += sum->lat[f][i];
        n += sum->lat[f][DNS_LAT_N];
        struct berth_label l[] = {{"source", f ? "forwarded" : "local"}};
        struct berth_histogram hg = {
            .name = "berth_dns_request_duration_seconds",
            .help = "Time from a query read to its answer: built from the zone (local) "
                    "or received from an upstream (forwarded).",
            .labels = l, .n_labels = 1, .n_buckets = DNS_LAT_N,
            .upper_bounds = dns_lat_bounds, .cumulative_counts = cum, .count = n,
            .sum = (double)sum->lat_sum_ns[f] / 1e9,
        };
        host_histogram(h, &hg);
    }
}

/* The sums of every worker, as agent metrics. */
static void record_metrics(struct dns *d)
{
    struct dns_stats sum = d->retired;
    struct host *h = d->a->host;

    if (d->workers)
        dns_workers_stats(d->workers, &sum);
    if (d->bridge)
        dns_workers_stats(d->bridge, &sum);
    for (int i = 0; i < DNS_QT_N; i++) {
        for (int j = 0; j < DNS_RC_N; j++) {
            if (!sum.queries[i][j])
                continue; /* only the pairs seen: 49 series of zeros say nothing */
            struct berth_label l[] = {{"qtype", dns_stats_qtype_name(i)},
                                      {"rcode", dns_stats_rcode_name(j)}};
            host_metric(h, "berth_dns_queries_total",
                        "DNS queries answered by the responder, by type and rcode "
                        "(forwarded ones with the upstream's rcode).",
                        BERTH_METRIC_COUNTER, (double)sum.queries[i][j], l, 2);
        }
    }
    for (int k = 0; k < 2; k++) {
        struct berth_label l[] = {{"result", k ? "failed" : "answered"}};
        host_metric(h, "berth_dns_forwarded_total",
                    "Queries forwarded to the upstreams: answered, or failed (SERVFAIL).",
                    BERTH_METRIC_COUNTER,
                    (double)(k ? sum.forwarded_failed : sum.forwarded_ok), l, 1);
    }
    record_latency(h, &sum);
}

static void on_metrics(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    record_metrics(w->data);
}

static void metrics_arm(struct dns *d, uint64_t ms)
{
    if (ms == d->metrics_ms)
        return;
    d->metrics_ms = ms;
    ev_timer_stop(d->a->loop, &d->metrics);
    if (ms) {
        ev_timer_set(&d->metrics, (double)ms / 1000.0, (double)ms / 1000.0);
        ev_timer_start(d->a->loop, &d->metrics);
    }
}

static void bridge_stop(struct dns *d)
{
    if (d->a->tasks)
        tasks_set_resolver(d->a->tasks, NULL);
    if (!d->bridge)
        return;
    retire(d, d->bridge);
    d->bridge = NULL;
    log_info("dns.task_resolver.stopped", "address=%s", d->bridge_addr);
    d->bridge_addr[0] = '\0';
}

/* Follows the runtime's bridge gateway: listens there, then points the
 * new tasks' containers at it. */
static void bridge_sync(struct dns *d)
{
    const struct conf_dns *c = dns_conf_of(d->a->conf);
    const char *gw = c->task_resolver && d->a->tasks
                         ? runtime_host_address(tasks_runtime(d->a->tasks), "bridge")
                         : NULL;
    char err[512];

    if (gw && d->bridge && strcmp(gw, d->bridge_addr) == 0)
        return;
    bridge_stop(d);
    if (!gw || strlen(gw) >= sizeof d->bridge_addr)
        return;
    struct conf_dns bc = *c; /* the workers copy what they keep */
    struct dns_net nets[c->n_nets + 1];
    memcpy(nets, c->nets, c->n_nets * sizeof *nets);
    bc.nets = nets;
    /* The default allow list gains the bridge's network; an explicit one
     * is the admin's word. */
    if (!c->allow[0] && bridge_net(gw, &nets[c->n_nets]) == 0)
        bc.n_nets++;
    snprintf(bc.listen.host, sizeof bc.listen.host, "%s", gw);
    bc.listen.port = 53;
    bc.workers = 1; /* containers of one host: one thread is plenty */
    struct dns_zone *z = compile(d->a);
    d->bridge = z ? dns_workers_new(&bc, z, err, sizeof err) : NULL;
    dns_zone_unref(z);
    if (!d->bridge) {
        if (strcmp(d->bridge_failed, gw) != 0)
            log_error("dns.task_resolver.failed", "address=%s:53 error=\"%s\"", gw,
                      z ? err : "out of memory");
        snprintf(d->bridge_failed, sizeof d->bridge_failed, "%s", gw);
        return;
    }
    d->bridge_failed[0] = '\0';
    snprintf(d->bridge_addr, sizeof d->bridge_addr, "%s", gw);
    tasks_set_resolver(d->a->tasks, gw);
    log_info("dns.task_resolver", "address=%s:53 forward_from=%s", gw,
             bc.n_nets > c->n_nets ? "bridge" : "allow");
}

static void on_watch(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    bridge_sync(w->data);
}

static uint64_t drain_begin(void *arg, const struct service *s, const struct task *t)
{
    struct agent *a = arg;
    (void)s;
    (void)t;
    return a->dns ? a->dns->ttl_ms : 0;
}

static const struct drainer_ops dns_drainer = {.name = "dns", .begin = drain_begin};

static void dns_stop(struct agent *a)
{
    if (!a->dns)
        return;
    registry_unsubscribe(a->registry, on_registry, a->dns);
    ev_timer_stop(a->loop, &a->dns->watch);
    ev_timer_stop(a->loop, &a->dns->metrics);
    bridge_stop(a->dns);
    dns_workers_free(a->dns->workers);
    free(a->dns->upstreams);
    free(a->dns->allow);
    free(a->dns);
    a->dns = NULL;
    log_info("dns.stopped", "%s", "");
}

static bool same_start(const struct dns *d, const struct conf_dns *c)
{
    return strcmp(d->listen.host, c->listen.host) == 0 && d->listen.port == c->listen.port &&
           d->upstreams && strcmp(d->upstreams, c->upstreams) == 0 && d->allow &&
           strcmp(d->allow, c->allow) == 0 &&
           d->n_workers == c->workers && d->idle_ms == c->tcp_idle_timeout_ms;
}

static int dns_sync(struct agent *a, struct conf_errors *errs)
{
    const struct conf_dns *c = dns_conf_of(a->conf);
    char err[512];

    if (!c->enabled) {
        dns_stop(a);
        return 0;
    }
    struct dns_zone *z = compile(a);
    if (!z) {
        conf_errors_add(errs, "[dns]: out of memory");
        return -1;
    }
    if (a->dns && same_start(a->dns, c)) {
        dns_workers_set_zone(a->dns->workers, z);
        dns_zone_unref(z);
        a->dns->ttl_ms = c->ttl_ms;
        metrics_arm(a->dns, a->conf->agent.metrics_interval_ms);
        bridge_sync(a->dns);
        return 0;
    }
    /* New workers bind beside the old ones (SO_REUSEPORT), then the old
     * ones go: no moment without a socket. */
    struct dns_workers *w = dns_workers_new(c, z, err, sizeof err);
    dns_zone_unref(z);
    if (!w) {
        conf_errors_add(errs, "%s:%d: [dns] listen: %s", a->conf->path,
                        c->key_line[1] ? c->key_line[1] : c->line, err);
        return -1;
    }
    struct dns *d = a->dns;
    if (!d) {
        if (!(d = calloc(1, sizeof *d)) || registry_subscribe(a->registry, on_registry, d) < 0) {
            free(d);
            dns_workers_free(w);
            conf_errors_add(errs, "out of memory");
            return -1;
        }
        d->a = a;
        a->dns = d;
        ev_timer_init(&d->watch, on_watch, BRIDGE_WATCH_S, BRIDGE_WATCH_S);
        d->watch.data = d;
        ev_timer_start(a->loop, &d->watch);
        ev_timer_init(&d->metrics, on_metrics, 0., 0.);
        d->metrics.data = d;
    }
    retire(d, d->workers);
    d->workers = w;
    free(d->upstreams);
    free(d->allow);
    d->upstreams = strdup(c->upstreams);
    d->allow = strdup(c->allow);
    /* On OOM a copy stays NULL: the next reload then starts new workers. */
    d->listen = c->listen;
    d->n_workers = c->workers;
    d->idle_ms = c->tcp_idle_timeout_ms;
    d->ttl_ms = c->ttl_ms;
    log_info("dns.started", "listen=%s:%u namespaces=%s workers=%zu", c->listen.host,
             c->listen.port, c->namespaces, dns_workers_count(w));
    metrics_arm(d, a->conf->agent.metrics_interval_ms);
    bridge_stop(d); /* restarted with the new upstreams and allow list */
    bridge_sync(d);
    return 0;
}

static int start(struct agent *a, struct conf_errors *errs)
{
    if (services_add_drainer(a->services, &dns_drainer, a) < 0) {
        conf_errors_add(errs, "out of memory");
        return -1;
    }
    return dns_sync(a, errs);
}

static void reload(struct agent *a)
{
    struct conf_errors errs = {0};
    char q[1024];

    if (!a->registry)
        return;
    if (dns_sync(a, &errs) < 0)
        for (size_t i = 0; i < errs.n; i++)
            log_error("dns.reload.failed", "error=%s keeping=previous",
                      log_quote(q, sizeof q, errs.msg[i]));
    conf_errors_clear(&errs);
}

static const struct agent_module module = {
    .name = "dns", .start = start, .reload = reload, .stop = dns_stop,
};

void dns_register(void)
{
    dns_conf_register();
    agent_add_module(&module);
}
