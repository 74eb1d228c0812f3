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
#include "dns/server.h"
#include "dns/zone.h"

struct dns {
    struct agent *a;
    struct dns_server *srv;
    struct berth_address listen; /* what srv is bound to */
    uint64_t ttl_ms;
};

static void compile(struct dns *d)
{
    struct reg_snapshot *snap = registry_acquire(d->a->registry);
    struct dns_zone *z = dns_zone_compile(&d->a->conf->dns, snap);

    if (z) {
        dns_server_set_zone(d->srv, z);
        log_debug("dns.zone", "generation=%llu names=%zu",
                  (unsigned long long)snap->generation, dns_zone_size(z));
        dns_zone_unref(z);
    } else {
        log_error("dns.zone.failed", "error=\"out of memory\" keeping=previous");
    }
    reg_snapshot_release(snap);
}

static void on_registry(void *arg)
{
    compile(arg);
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
    dns_server_free(a->dns->srv);
    free(a->dns);
    a->dns = NULL;
    log_info("dns.stopped", "%s", "");
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
    if (a->dns && (strcmp(a->dns->listen.host, c->listen.host) != 0 ||
                   a->dns->listen.port != c->listen.port)) {
        struct dns_server *srv = dns_server_new(a->loop, c, err, sizeof err);
        if (!srv) {
            conf_errors_add(errs, "%s:%d: [dns] listen: %s", a->conf->path,
                            c->key_line[1] ? c->key_line[1] : c->line, err);
            return -1;
        }
        dns_server_free(a->dns->srv);
        a->dns->srv = srv;
        a->dns->listen = c->listen;
    }
    if (!a->dns) {
        struct dns *d = calloc(1, sizeof *d);
        if (!d) {
            conf_errors_add(errs, "out of memory");
            return -1;
        }
        d->a = a;
        if (!(d->srv = dns_server_new(a->loop, c, err, sizeof err))) {
            conf_errors_add(errs, "%s:%d: [dns] listen: %s", a->conf->path,
                            c->key_line[1] ? c->key_line[1] : c->line, err);
            free(d);
            return -1;
        }
        if (registry_subscribe(a->registry, on_registry, d) < 0) {
            conf_errors_add(errs, "out of memory");
            dns_server_free(d->srv);
            free(d);
            return -1;
        }
        d->listen = c->listen;
        a->dns = d;
        log_info("dns.started", "listen=%s:%u namespaces=%s", c->listen.host,
                 c->listen.port, c->namespaces);
    }
    if (dns_server_set_policy(a->dns->srv, c, err, sizeof err) < 0) {
        conf_errors_add(errs, "%s:%d: [dns] upstreams: %s", a->conf->path,
                        c->key_line[8] ? c->key_line[8] : c->line, err);
        return -1;
    }
    a->dns->ttl_ms = c->ttl_ms;
    dns_server_set_idle(a->dns->srv, c->tcp_idle_timeout_ms);
    compile(a->dns);
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
