/* registry.c: snapshots of the live view (see registry.h).
 *
 * The reference count lives beside the snapshot in a wrapper, so readers
 * see a plain const-able struct.  The mutex only guards the swap of the
 * current pointer against an acquire taking its reference: without it a
 * reader could load the pointer, be preempted while the publisher drops
 * the last reference, and then increment freed memory. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "agent/registry.h"

struct held {
    atomic_uint refs;
    struct reg_snapshot s; /* what readers get a pointer to */
};

struct sub {
    registry_cb cb;
    void *arg;
};

struct registry {
    pthread_mutex_t mu;
    struct held *cur;
    uint64_t generation;
    struct sub *subs;
    size_t n_subs;
};

static struct held *held_of(struct reg_snapshot *s)
{
    return (struct held *)((char *)s - offsetof(struct held, s));
}

static char *dup0(const char *s)
{
    return strdup(s ? s : "");
}

/* Grows *v (of *n elements of size sz) by one zeroed element. */
static void *grow(void *pv, size_t *n, size_t sz)
{
    void **v = pv;
    char *g = realloc(*v, (*n + 1) * sz);
    if (!g)
        return NULL;
    memset(g + *n * sz, 0, sz);
    *v = g;
    return g + (*n)++ * sz;
}

/* ---- building ---- */

struct reg_snapshot *reg_snapshot_new(const char *cluster)
{
    struct held *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    atomic_init(&h->refs, 1);
    if (!(h->s.cluster = dup0(cluster))) {
        free(h);
        return NULL;
    }
    return &h->s;
}

struct reg_service *reg_add_service(struct reg_snapshot *s, const char *name,
                                    const char *arn, bool draining)
{
    struct reg_service *v = grow(&s->services, &s->n_services, sizeof *v);
    if (!v)
        return NULL;
    v->name = dup0(name);
    v->arn = dup0(arn);
    v->draining = draining;
    return v->name && v->arn ? v : NULL;
}

struct reg_lb *reg_add_lb(struct reg_service *svc, const char *target_group,
                          const char *lb_name, const char *container,
                          uint16_t container_port)
{
    struct reg_lb *l = grow(&svc->lbs, &svc->n_lbs, sizeof *l);
    if (!l)
        return NULL;
    l->target_group = dup0(target_group);
    l->lb_name = dup0(lb_name);
    l->container = dup0(container);
    l->container_port = container_port;
    return l->target_group && l->lb_name && l->container ? l : NULL;
}

struct reg_discovery *reg_add_discovery(struct reg_service *svc, const char *registry_arn,
                                        const char *container, uint16_t container_port,
                                        uint16_t port)
{
    struct reg_discovery *d = grow(&svc->regs, &svc->n_regs, sizeof *d);
    if (!d)
        return NULL;
    d->registry_arn = dup0(registry_arn);
    d->container = dup0(container);
    d->container_port = container_port;
    d->port = port;
    return d->registry_arn && d->container ? d : NULL;
}

struct reg_task *reg_add_task(struct reg_service *svc, const char *id, const char *arn,
                              const char *ip, enum reg_net net, bool healthy,
                              bool draining, int64_t started_at_ms)
{
    struct reg_task *t = grow(&svc->tasks, &svc->n_tasks, sizeof *t);
    if (!t)
        return NULL;
    t->id = dup0(id);
    t->arn = dup0(arn);
    t->ip = dup0(ip);
    t->net = net;
    t->healthy = healthy;
    t->draining = draining;
    t->started_at_ms = started_at_ms;
    return t->id && t->arn && t->ip ? t : NULL;
}

struct reg_port *reg_add_port(struct reg_task *t, const char *container, const char *name,
                              uint16_t container_port, uint16_t host_port, bool udp)
{
    struct reg_port *p = grow(&t->ports, &t->n_ports, sizeof *p);
    if (!p)
        return NULL;
    p->container = dup0(container);
    p->name = dup0(name);
    p->container_port = container_port;
    p->host_port = host_port;
    p->udp = udp;
    return p->container && p->name ? p : NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct reg_service *)a)->name,
                  ((const struct reg_service *)b)->name);
}

void reg_snapshot_sort(struct reg_snapshot *s)
{
    if (s->n_services > 1)
        qsort(s->services, s->n_services, sizeof *s->services, by_name);
}

void reg_snapshot_free(struct reg_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_services; i++) {
        struct reg_service *v = &s->services[i];
        for (size_t k = 0; k < v->n_lbs; k++) {
            free(v->lbs[k].target_group);
            free(v->lbs[k].lb_name);
            free(v->lbs[k].container);
        }
        for (size_t k = 0; k < v->n_regs; k++) {
            free(v->regs[k].registry_arn);
            free(v->regs[k].container);
        }
        for (size_t k = 0; k < v->n_tasks; k++) {
            struct reg_task *t = &v->tasks[k];
            for (size_t p = 0; p < t->n_ports; p++) {
                free(t->ports[p].container);
                free(t->ports[p].name);
            }
            free(t->ports);
            free(t->id);
            free(t->arn);
            free(t->ip);
        }
        free(v->lbs);
        free(v->regs);
        free(v->tasks);
        free(v->name);
        free(v->arn);
    }
    free(s->services);
    free(s->cluster);
    free(held_of(s));
}

/* ---- equality (generation aside) ---- */

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool task_eq(const struct reg_task *a, const struct reg_task *b)
{
    if (!str_eq(a->id, b->id) || !str_eq(a->arn, b->arn) || !str_eq(a->ip, b->ip) ||
        a->net != b->net || a->healthy != b->healthy || a->draining != b->draining ||
        a->started_at_ms != b->started_at_ms || a->n_ports != b->n_ports)
        return false;
    for (size_t i = 0; i < a->n_ports; i++) {
        const struct reg_port *p = &a->ports[i], *q = &b->ports[i];
        if (!str_eq(p->container, q->container) || !str_eq(p->name, q->name) ||
            p->container_port != q->container_port || p->host_port != q->host_port ||
            p->udp != q->udp)
            return false;
    }
    return true;
}

static bool service_eq(const struct reg_service *a, const struct reg_service *b)
{
    if (!str_eq(a->name, b->name) || !str_eq(a->arn, b->arn) ||
        a->draining != b->draining || a->n_lbs != b->n_lbs || a->n_regs != b->n_regs ||
        a->n_tasks != b->n_tasks)
        return false;
    for (size_t i = 0; i < a->n_lbs; i++) {
        const struct reg_lb *p = &a->lbs[i], *q = &b->lbs[i];
        if (!str_eq(p->target_group, q->target_group) || !str_eq(p->lb_name, q->lb_name) ||
            !str_eq(p->container, q->container) || p->container_port != q->container_port)
            return false;
    }
    for (size_t i = 0; i < a->n_regs; i++) {
        const struct reg_discovery *p = &a->regs[i], *q = &b->regs[i];
        if (!str_eq(p->registry_arn, q->registry_arn) || !str_eq(p->container, q->container) ||
            p->container_port != q->container_port || p->port != q->port)
            return false;
    }
    for (size_t i = 0; i < a->n_tasks; i++)
        if (!task_eq(&a->tasks[i], &b->tasks[i]))
            return false;
    return true;
}

static bool snapshot_eq(const struct reg_snapshot *a, const struct reg_snapshot *b)
{
    if (!str_eq(a->cluster, b->cluster) || a->n_services != b->n_services)
        return false;
    for (size_t i = 0; i < a->n_services; i++)
        if (!service_eq(&a->services[i], &b->services[i]))
            return false;
    return true;
}

/* ---- the registry ---- */

struct registry *registry_new(const char *cluster)
{
    struct registry *r = calloc(1, sizeof *r);
    struct reg_snapshot *s;

    if (!r)
        return NULL;
    if (!(s = reg_snapshot_new(cluster))) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->cur = held_of(s);
    return r;
}

void registry_free(struct registry *r)
{
    if (!r)
        return;
    reg_snapshot_release(&r->cur->s);
    pthread_mutex_destroy(&r->mu);
    free(r->subs);
    free(r);
}

int registry_publish(struct registry *r, struct reg_snapshot *s)
{
    struct held *old;

    reg_snapshot_sort(s);
    if (snapshot_eq(s, &r->cur->s)) {
        reg_snapshot_free(s);
        return 0;
    }
    s->generation = ++r->generation;
    pthread_mutex_lock(&r->mu);
    old = r->cur;
    r->cur = held_of(s);
    pthread_mutex_unlock(&r->mu);
    reg_snapshot_release(&old->s);
    for (size_t i = 0; i < r->n_subs; i++)
        r->subs[i].cb(r->subs[i].arg);
    return 1;
}

struct reg_snapshot *registry_acquire(struct registry *r)
{
    struct held *h;
    pthread_mutex_lock(&r->mu);
    h = r->cur;
    atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&r->mu);
    return &h->s;
}

void reg_snapshot_release(struct reg_snapshot *s)
{
    struct held *h;
    if (!s)
        return;
    h = held_of(s);
    if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) == 1)
        reg_snapshot_free(s);
}

int registry_subscribe(struct registry *r, registry_cb cb, void *arg)
{
    struct sub *v = grow(&r->subs, &r->n_subs, sizeof *v);
    if (!v)
        return -1;
    v->cb = cb;
    v->arg = arg;
    return 0;
}

void registry_unsubscribe(struct registry *r, registry_cb cb, void *arg)
{
    for (size_t i = 0; i < r->n_subs; i++) {
        if (r->subs[i].cb == cb && r->subs[i].arg == arg) {
            memmove(&r->subs[i], &r->subs[i + 1], (r->n_subs - i - 1) * sizeof *r->subs);
            r->n_subs--;
            return;
        }
    }
}

/* ---- lookups ---- */

const struct reg_service *reg_find_service(const struct reg_snapshot *s, const char *name)
{
    size_t lo = 0, hi = s->n_services;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, s->services[mid].name);
        if (c == 0)
            return &s->services[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct reg_port *reg_task_port(const struct reg_task *t, const char *container,
                                     uint16_t container_port)
{
    for (size_t i = 0; i < t->n_ports; i++)
        if (t->ports[i].container_port == container_port &&
            str_eq(t->ports[i].container, container))
            return &t->ports[i];
    return NULL;
}
