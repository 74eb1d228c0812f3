/* lb.c: the proxy's control side: targets from the registry, their health,
 * draining, the listener sockets, and the views handed to the workers. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/registry.h"
#include "lb/lb.h"
#include "lb/lb_health.h"
#include "lb/lb_worker.h"

struct ctarget {
    char tg[33];
    char *tg_ref;        /* as the service gave it, for events */
    char *service, *task_arn;
    struct lb_addr addr;
    struct lb_hc *hc;
    bool draining, seen;
    double healthy_at, drain_end; /* ev_time(); 0: not yet */
};

struct tally {
    char *service, *ref;
    size_t reg, dereg;
};

struct lb {
    struct lb_env env;
    const struct lb_conf *lc;
    struct lb_workers *workers;
    struct lb_lsock **socks; /* one per listener, in conf order; NULL when it failed */
    size_t n_socks;
    struct ctarget *t;
    size_t n_t;
    char **warned;       /* "service\ttarget group ref" already reported */
    size_t n_warned;
    uint64_t generation;
    ev_idle soon;
};

static void emit(struct lb *lb, const char *service, const char *fmt, ...)
    BERTH_PRINTF(3, 4);

static void emit(struct lb *lb, const char *service, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (lb->env.event)
        lb->env.event(lb->env.arg, service, msg);
}

/* Slow start applies only beside a target already serving (as ALB). */
static bool other_healthy(const struct lb *lb, const struct ctarget *t)
{
    for (size_t i = 0; i < lb->n_t; i++) {
        const struct ctarget *o = &lb->t[i];
        if (o != t && !o->draining && strcmp(o->tg, t->tg) == 0 &&
            lb_hc_state(o->hc) == LB_T_HEALTHY && o->healthy_at < t->healthy_at)
            return true;
    }
    return false;
}

/* When a draining target's connections end: now plus its group's delay. */
static void set_drain_end(struct lb *lb, struct ctarget *t)
{
    const struct lb_tg *tg = lb_conf_tg(lb->lc, t->tg);
    t->drain_end = ev_time() + (tg ? (double)tg->dereg_ms / 1000. : 0.);
}

static void publish(struct lb *lb)
{
    struct lb_view *v = lb_view_new();

    if (!v)
        return;
    v->generation = ++lb->generation;
    for (size_t i = 0; i < lb->lc->n_tgs; i++) {
        const struct lb_tg *c = &lb->lc->tgs[i];
        struct lb_vtg *g = lb_view_add_tg(v, c);
        if (!g)
            goto oom;
        for (size_t j = 0; j < lb->n_t; j++) {
            struct ctarget *t = &lb->t[j];
            if (strcmp(t->tg, c->name) != 0)
                continue;
            enum lb_tstate st = t->draining ? LB_T_DRAINING : lb_hc_state(t->hc);
            struct lb_target *vt = lb_vtg_add_target(g, &t->addr, st);
            if (!vt)
                goto oom;
            vt->drain_end = t->drain_end;
            if (st == LB_T_HEALTHY && c->slow_start_ms && t->healthy_at &&
                t->healthy_at + (double)c->slow_start_ms / 1000. > ev_time() &&
                other_healthy(lb, t)) {
                vt->ramp_start = t->healthy_at;
                vt->ramp_len = (double)c->slow_start_ms / 1000.;
            }
        }
    }
    for (size_t i = 0; i < lb->lc->n_listeners && i < lb->n_socks; i++) {
        const struct lb_listener *l = &lb->lc->listeners[i];
        if (!lb->socks[i])
            continue;
        struct lb_vlistener *vl = lb_view_add_listener(
            v, l->name, lb->socks[i], lb_view_tg_index(v, l->default_tg), l->idle_timeout_ms);
        if (!vl || lb_vlistener_http(v, vl, l) < 0)
            goto oom;
    }
    if (lb_view_finish(v) < 0)
        goto oom;
    lb_workers_publish(lb->workers, v);
    return;
oom:
    log_error("lb.view.failed", "error=\"out of memory\"");
    lb_view_release(v);
}

static struct ctarget *find_target(struct lb *lb, const char *tg, const struct lb_addr *a,
                                   const char *task_arn)
{
    for (size_t i = 0; i < lb->n_t; i++)
        if (strcmp(lb->t[i].tg, tg) == 0 && lb->t[i].addr.len == a->len &&
            memcmp(&lb->t[i].addr.ss, &a->ss, a->len) == 0 &&
            strcmp(lb->t[i].task_arn, task_arn) == 0)
            return &lb->t[i];
    return NULL;
}

static void on_health(void *arg, struct lb_hc *hc, enum lb_tstate st, const char *reason)
{
    struct lb *lb = arg;
    char addr[300];

    for (size_t i = 0; i < lb->n_t; i++) {
        struct ctarget *t = &lb->t[i];
        if (t->hc != hc)
            continue;
        lb_addr_format(&t->addr, addr, sizeof addr);
        if (st == LB_T_HEALTHY)
            t->healthy_at = ev_time();
        if (st == LB_T_HEALTHY)
            log_info("lb.target.healthy", "target_group=%s target=%s task=%s", t->tg, addr,
                     t->task_arn);
        else
            log_warn("lb.target.unhealthy", "target_group=%s target=%s task=%s reason=\"%s\"",
                     t->tg, addr, t->task_arn, reason);
        if (lb->env.health && st != LB_T_INITIAL)
            lb->env.health(lb->env.arg, t->task_arn, st == LB_T_UNHEALTHY, reason);
        if (st == LB_T_UNHEALTHY)
            emit(lb, t->service, "(port %s) is unhealthy in (target-group %s) "
                                 "due to (reason %s).", addr, t->tg_ref, reason);
    }
    publish(lb);
}

static struct tally *tally_of(struct tally **v, size_t *n, const char *service,
                              const char *ref)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].service, service) == 0 && strcmp((*v)[i].ref, ref) == 0)
            return &(*v)[i];
    struct tally *g = realloc(*v, (*n + 1) * sizeof *g);
    if (!g)
        return NULL;
    *v = g;
    g = &g[(*n)++];
    memset(g, 0, sizeof *g);
    g->service = strdup(service);
    g->ref = strdup(ref);
    return g;
}

static void warn_unknown(struct lb *lb, const char *service, const char *ref)
{
    char *key;

    if (asprintf(&key, "%s\t%s", service, ref) < 0)
        return;
    for (size_t i = 0; i < lb->n_warned; i++) {
        if (strcmp(lb->warned[i], key) == 0) {
            free(key);
            return;
        }
    }
    char **g = realloc(lb->warned, (lb->n_warned + 1) * sizeof *g);
    if (!g) {
        free(key);
        return;
    }
    lb->warned = g;
    lb->warned[lb->n_warned++] = key;
    log_warn("lb.target_group.unknown", "service=%s target_group=\"%s\"", service, ref);
    emit(lb, service, "cannot register its tasks: target group %s is not in "
                      "berth.conf (no [target-group NAME] of that name).", ref);
}

static void target_free(struct ctarget *t)
{
    lb_hc_free(t->hc);
    free(t->tg_ref);
    free(t->service);
    free(t->task_arn);
}

/* The endpoint of t for lb entry e, or -1 (not published yet). */
static int endpoint(const struct reg_task *t, const struct reg_lb *e, struct lb_addr *a)
{
    const struct reg_port *p = reg_task_port(t, e->container, e->container_port);

    if (!p)
        return -1;
    if (t->net == REG_NET_AWSVPC)
        return t->ip[0] ? lb_addr_set(a, t->ip, p->container_port) : -1;
    if (t->net == REG_NET_HOST)
        return lb_addr_set(a, "127.0.0.1", p->host_port ? p->host_port : p->container_port);
    return p->host_port ? lb_addr_set(a, "127.0.0.1", p->host_port) : -1;
}

void lb_sync(struct lb *lb)
{
    struct reg_snapshot *s = registry_acquire(lb->env.reg);
    struct tally *tal = NULL;
    size_t n_tal = 0;
    bool changed = false;

    ev_idle_stop(lb->env.loop, &lb->soon);
    for (size_t i = 0; i < lb->n_t; i++)
        lb->t[i].seen = false;
    for (size_t i = 0; i < s->n_services; i++) {
        const struct reg_service *svc = &s->services[i];
        for (size_t k = 0; k < svc->n_lbs; k++) {
            const struct reg_lb *e = &svc->lbs[k];
            const struct lb_tg *tg = lb_conf_tg_ref(lb->lc, e->target_group);
            if (!e->target_group[0])
                continue; /* a classic loadBalancerName: not ours */
            if (!tg) {
                warn_unknown(lb, svc->name, e->target_group);
                continue;
            }
            for (size_t j = 0; j < svc->n_tasks; j++) {
                const struct reg_task *rt = &svc->tasks[j];
                struct lb_addr a;
                if (endpoint(rt, e, &a) < 0)
                    continue;
                struct ctarget *t = find_target(lb, tg->name, &a, rt->arn);
                if (t) {
                    t->seen = true;
                    if (rt->draining && !t->draining) {
                        t->draining = true;
                        set_drain_end(lb, t);
                        changed = true;
                    }
                    continue;
                }
                if (!rt->healthy || rt->draining)
                    continue; /* registered once RUNNING and healthy */
                struct ctarget *g = realloc(lb->t, (lb->n_t + 1) * sizeof *g);
                if (!g)
                    continue;
                lb->t = g;
                t = &g[lb->n_t];
                memset(t, 0, sizeof *t);
                snprintf(t->tg, sizeof t->tg, "%s", tg->name);
                t->tg_ref = strdup(e->target_group);
                t->service = strdup(svc->name);
                t->task_arn = strdup(rt->arn);
                t->addr = a;
                t->seen = true;
                t->hc = lb_hc_new(lb->env.loop, &a, tg, on_health, lb);
                if (!t->tg_ref || !t->service || !t->task_arn || !t->hc) {
                    target_free(t);
                    continue;
                }
                lb->n_t++;
                changed = true;
                struct tally *ty = tally_of(&tal, &n_tal, svc->name, e->target_group);
                if (ty)
                    ty->reg++;
                char as[300];
                lb_addr_format(&a, as, sizeof as);
                log_info("lb.target.registered", "service=%s target_group=%s target=%s",
                         svc->name, tg->name, as);
            }
        }
    }
    for (size_t i = 0; i < lb->n_t;) {
        struct ctarget *t = &lb->t[i];
        if (t->seen) {
            i++;
            continue;
        }
        struct tally *ty = tally_of(&tal, &n_tal, t->service, t->tg_ref);
        if (ty)
            ty->dereg++;
        char as[300];
        lb_addr_format(&t->addr, as, sizeof as);
        log_info("lb.target.deregistered", "service=%s target_group=%s target=%s",
                 t->service, t->tg, as);
        target_free(t);
        lb->t[i] = lb->t[--lb->n_t];
        changed = true;
    }
    reg_snapshot_release(s);
    for (size_t i = 0; i < n_tal; i++) {
        if (tal[i].reg)
            emit(lb, tal[i].service, "registered %zu targets in (target-group %s)",
                 tal[i].reg, tal[i].ref);
        if (tal[i].dereg)
            emit(lb, tal[i].service, "deregistered %zu targets in (target-group %s)",
                 tal[i].dereg, tal[i].ref);
        free(tal[i].service);
        free(tal[i].ref);
    }
    free(tal);
    if (changed)
        publish(lb);
}

static void on_soon(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)loop;
    (void)revents;
    lb_sync(w->data);
}

/* Registry subscriber (inside the scheduler's publish): later. */
static void on_registry(void *arg)
{
    struct lb *lb = arg;
    ev_idle_start(lb->env.loop, &lb->soon);
}

/* New listener sockets for lc, reusing those whose address is unchanged. */
static int open_socks(struct lb *lb, const struct lb_conf *lc, char *err, size_t errlen)
{
    struct lb_lsock **socks = calloc(lc->n_listeners + 1, sizeof *socks);
    int failed = 0;

    if (!socks) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = lb_workers_count(lb->workers);
    for (size_t i = 0; i < lc->n_listeners; i++) {
        const struct lb_listener *l = &lc->listeners[i];
        struct lb_addr a;
        char key[300], e[300];
        if (lb_addr_set(&a, l->listen.host, l->listen.port) < 0)
            continue; /* the conf checked it */
        lb_addr_format(&a, key, sizeof key);
        for (size_t j = 0; j < lb->n_socks; j++) {
            if (lb->socks[j] && strcmp(lb->socks[j]->key, key) == 0) {
                socks[i] = lb->socks[j];
                lb_lsock_ref(socks[i]);
                break;
            }
        }
        if (!socks[i] && !(socks[i] = lb_lsock_open(l->listen.host, l->listen.port, n, e,
                                                    sizeof e))) {
            if (!failed)
                snprintf(err, errlen, "[listener %s] listen: %s", l->name, e);
            failed = 1;
        }
    }
    for (size_t j = 0; j < lb->n_socks; j++)
        lb_lsock_unref(lb->socks[j]); /* the current view still holds those in use */
    free(lb->socks);
    lb->socks = socks;
    lb->n_socks = lc->n_listeners;
    return failed ? -1 : 0;
}

struct lb *lb_new(const struct lb_env *env, const struct lb_conf *lc, char *err,
                  size_t errlen)
{
    struct lb *lb = calloc(1, sizeof *lb);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = lc->global.workers ? (size_t)lc->global.workers : cores > 0 ? (size_t)cores : 1;

    if (!lb) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    lb->env = *env;
    lb->lc = lc;
    ev_idle_init(&lb->soon, on_soon);
    lb->soon.data = lb;
    if (!(lb->workers = lb_workers_start(n, err, errlen)) || open_socks(lb, lc, err, errlen) < 0 ||
        registry_subscribe(env->reg, on_registry, lb) < 0) {
        lb_free(lb);
        return NULL;
    }
    publish(lb);
    lb_sync(lb);
    log_info("lb.started", "workers=%zu listeners=%zu target_groups=%zu", n,
             lc->n_listeners, lc->n_tgs);
    return lb;
}

int lb_reload(struct lb *lb, const struct lb_conf *lc, char *err, size_t errlen)
{
    int r = open_socks(lb, lc, err, errlen);

    lb->lc = lc;
    /* Targets of groups that are gone go; the others take new settings. */
    for (size_t i = 0; i < lb->n_t;) {
        const struct lb_tg *tg = lb_conf_tg(lc, lb->t[i].tg);
        if (!tg) {
            target_free(&lb->t[i]);
            lb->t[i] = lb->t[--lb->n_t];
            continue;
        }
        lb_hc_set_conf(lb->t[i].hc, tg);
        i++;
    }
    while (lb->n_warned) /* a new conf may name what was unknown */
        free(lb->warned[--lb->n_warned]);
    publish(lb);
    lb_sync(lb);
    return r;
}

void lb_free(struct lb *lb)
{
    if (!lb)
        return;
    if (lb->env.reg)
        registry_unsubscribe(lb->env.reg, on_registry, lb);
    ev_idle_stop(lb->env.loop, &lb->soon);
    lb_workers_stop(lb->workers);
    for (size_t i = 0; i < lb->n_socks; i++)
        lb_lsock_unref(lb->socks[i]);
    free(lb->socks);
    for (size_t i = 0; i < lb->n_t; i++)
        target_free(&lb->t[i]);
    free(lb->t);
    for (size_t i = 0; i < lb->n_warned; i++)
        free(lb->warned[i]);
    free(lb->warned);
    free(lb);
}

uint64_t lb_drain_begin(struct lb *lb, const char *service, const char *task_arn)
{
    uint64_t wait = 0;
    bool any = false;

    for (size_t i = 0; i < lb->n_t; i++) {
        struct ctarget *t = &lb->t[i];
        if (strcmp(t->task_arn, task_arn) != 0)
            continue;
        const struct lb_tg *tg = lb_conf_tg(lb->lc, t->tg);
        if (tg && tg->dereg_ms > wait)
            wait = tg->dereg_ms;
        if (!t->draining)
            set_drain_end(lb, t);
        t->draining = true;
        any = true;
    }
    /* The scheduler says "has begun draining connections on N tasks." once
     * for all the tasks it drains together. */
    if (any)
        publish(lb);
    return wait;
}

int lb_target_state(struct lb *lb, const char *tg, const char *addr)
{
    char as[300];

    for (size_t i = 0; i < lb->n_t; i++) {
        lb_addr_format(&lb->t[i].addr, as, sizeof as);
        if (strcmp(lb->t[i].tg, tg) == 0 && strcmp(as, addr) == 0)
            return lb->t[i].draining ? LB_T_DRAINING : (int)lb_hc_state(lb->t[i].hc);
    }
    return -1;
}

void lb_metrics(struct lb *lb, const struct lb_metric_sink *s)
{
    static const char *const names[] = {"initial", "healthy", "unhealthy", "draining"};

    lb_workers_metrics(lb->workers, s);
    for (size_t i = 0; i < lb->lc->n_tgs; i++) {
        const char *tg = lb->lc->tgs[i].name;
        double n[4] = {0};
        for (size_t j = 0; j < lb->n_t; j++)
            if (strcmp(lb->t[j].tg, tg) == 0)
                n[lb->t[j].draining ? LB_T_DRAINING : lb_hc_state(lb->t[j].hc)]++;
        for (int k = 0; k < 4; k++) {
            const struct berth_label l[2] = {{"target_group", tg}, {"state", names[k]}};
            s->put(s->arg, "berth_lb_targets", "Targets by target group and state.",
                   BERTH_METRIC_GAUGE, n[k], l, 2);
        }
    }
}

size_t lb_n_workers(const struct lb *lb)
{
    return lb->workers ? lb_workers_count(lb->workers) : 0;
}
