/* dns_agent.c: starting, reconfiguring and stopping the responder. */
#include "config.h"

#include "dns/dns_agent.h"

#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/conf.h"
#include "agent/log.h"
#include "agent/registry.h"
#include "agent/services.h"
#include "dns/dns_conf.h"
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
};

static struct dns_zone *compile(struct agent *a)
{
    struct reg_snapshot *snap = registry_acquire(a->registry);
    struct dns_zone *z = dns_zone_compile(&a->conf->dns, snap);

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
        dns_zone_unref(z);
    }
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

int agent_dns_sync(struct agent *a, struct conf_errors *errs)
{
    const struct conf_dns *c = &a->conf->dns;
    char err[512];

    if (!a->dns_drainer && a->services) {
        if (services_add_drainer(a->services, &dns_drainer, a) < 0) {
            conf_errors_add(errs, "out of memory");
            return -1;
        }
        a->dns_drainer = 1;
    }
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
    }
    dns_workers_free(d->workers);
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
    return 0;
}

void agent_dns_reload(struct agent *a)
{
    struct conf_errors errs = {0};
    char q[1024];

    if (!a->registry)
        return;
    if (agent_dns_sync(a, &errs) < 0)
        for (size_t i = 0; i < errs.n; i++)
            log_error("dns.reload.failed", "error=%s keeping=previous",
                      log_quote(q, sizeof q, errs.msg[i]));
    conf_errors_clear(&errs);
}

void agent_dns_free(struct agent *a)
{
    dns_stop(a);
}
