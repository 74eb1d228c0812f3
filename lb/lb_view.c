/* lb_view.c: the workers' immutable view and the listener sockets. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb/lb_view.h"

struct lb_lsock *lb_lsock_open(const char *host, uint16_t port, size_t n_workers,
                               char *err, size_t errlen)
{
    struct lb_addr a;
    struct lb_lsock *l;
    int one = 1;

    if (lb_addr_set(&a, host, port) < 0) {
        snprintf(err, errlen, "\"%s\" is not an IP address", host);
        return NULL;
    }
    if (!(l = calloc(1, sizeof *l)) || !(l->fds = calloc(n_workers, sizeof *l->fds))) {
        free(l);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_init(&l->refs, 1);
    lb_addr_format(&a, l->key, sizeof l->key);
    for (size_t i = 0; i < n_workers; i++) {
        int fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
            bind(fd, (struct sockaddr *)&a.ss, a.len) < 0 || listen(fd, 4096) < 0) {
            snprintf(err, errlen, "cannot listen on %s: %s", l->key, strerror(errno));
            if (fd >= 0)
                close(fd);
            l->n_fds = i;
            lb_lsock_unref(l);
            return NULL;
        }
        l->fds[i] = fd;
    }
    l->n_fds = n_workers;
    return l;
}

void lb_lsock_ref(struct lb_lsock *l)
{
    atomic_fetch_add(&l->refs, 1);
}

void lb_lsock_unref(struct lb_lsock *l)
{
    if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    for (size_t i = 0; i < l->n_fds; i++)
        close(l->fds[i]);
    free(l->fds);
    free(l);
}

struct lb_view *lb_view_new(void)
{
    struct lb_view *v = calloc(1, sizeof *v);
    if (v)
        atomic_init(&v->refs, 1);
    return v;
}

struct lb_vtg *lb_view_add_tg(struct lb_view *v, const struct lb_tg *c)
{
    struct lb_vtg *g = realloc(v->tgs, (v->n_tgs + 1) * sizeof *g);

    if (!g)
        return NULL;
    v->tgs = g;
    g = &g[v->n_tgs++];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", c->name);
    g->algorithm = c->algorithm;
    g->proxy_protocol = c->proxy_protocol;
    g->connect_timeout_ms = c->connect_timeout_ms;
    g->connect_attempts = (int)c->connect_attempts;
    return g;
}

struct lb_target *lb_vtg_add_target(struct lb_vtg *g, const struct lb_addr *a,
                                    enum lb_tstate st)
{
    struct lb_target *t = realloc(g->targets, (g->n_targets + 1) * sizeof *t);

    if (!t)
        return NULL;
    g->targets = t;
    t = &t[g->n_targets++];
    memset(t, 0, sizeof *t);
    t->addr = *a;
    t->key = lb_addr_key(a);
    t->state = st;
    return t;
}

struct lb_vlistener *lb_view_add_listener(struct lb_view *v, const char *name,
                                          struct lb_lsock *sock, size_t tg,
                                          uint64_t idle_timeout_ms)
{
    struct lb_vlistener *l = realloc(v->listeners, (v->n_listeners + 1) * sizeof *l);

    if (!l)
        return NULL;
    v->listeners = l;
    l = &l[v->n_listeners++];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
    l->sock = sock;
    lb_lsock_ref(sock);
    l->tg = tg;
    l->idle_timeout_ms = idle_timeout_ms;
    return l;
}

int lb_vlistener_http(struct lb_view *v, struct lb_vlistener *l,
                      const struct lb_listener *c)
{
    l->protocol = c->protocol;
    l->port = c->listen.port;
    l->header_timeout_ms = c->header_timeout_ms;
    l->backend_timeout_ms = c->backend_timeout_ms;
    l->max_header_size = c->max_header_size;
    if (!c->n_rules)
        return 0;
    if (!(l->rules = calloc(c->n_rules, sizeof *l->rules)))
        return -1;
    for (size_t i = 0; i < c->n_rules; i++) {
        struct lb_vrule *r = &l->rules[i];
        l->n_rules++;
        r->tg = lb_view_tg_index(v, c->rules[i].tg);
        r->path_len = strlen(c->rules[i].path);
        if (!(r->path = strdup(c->rules[i].path)))
            return -1;
        if (strcmp(c->rules[i].host, "*") != 0 && !(r->host = strdup(c->rules[i].host)))
            return -1;
    }
    return 0;
}

int lb_view_finish(struct lb_view *v)
{
    for (size_t i = 0; i < v->n_tgs; i++) {
        struct lb_vtg *g = &v->tgs[i];
        g->n_pick = 0;
        free(g->pick);
        g->pick = calloc(g->n_targets + 1, sizeof *g->pick);
        if (!g->pick)
            return -1;
        for (size_t j = 0; j < g->n_targets; j++)
            if (g->targets[j].state == LB_T_HEALTHY)
                g->pick[g->n_pick++] = j;
        if (g->n_pick == 0) /* fail open */
            for (size_t j = 0; j < g->n_targets; j++)
                if (g->targets[j].state != LB_T_DRAINING)
                    g->pick[g->n_pick++] = j;
    }
    return 0;
}

void lb_view_ref(struct lb_view *v)
{
    atomic_fetch_add(&v->refs, 1);
}

void lb_view_release(struct lb_view *v)
{
    if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
        return;
    for (size_t i = 0; i < v->n_listeners; i++) {
        lb_lsock_unref(v->listeners[i].sock);
        for (size_t j = 0; j < v->listeners[i].n_rules; j++) {
            free(v->listeners[i].rules[j].host);
            free(v->listeners[i].rules[j].path);
        }
        free(v->listeners[i].rules);
    }
    for (size_t i = 0; i < v->n_tgs; i++) {
        free(v->tgs[i].targets);
        free(v->tgs[i].pick);
    }
    free(v->listeners);
    free(v->tgs);
    free(v);
}

size_t lb_view_tg_index(const struct lb_view *v, const char *name)
{
    for (size_t i = 0; i < v->n_tgs; i++)
        if (strcmp(v->tgs[i].name, name) == 0)
            return i;
    return (size_t)-1;
}

void lb_addr_format(const struct lb_addr *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)&a->ss;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, ntohs(s->sin6_port));
    } else {
        const struct sockaddr_in *s = (const void *)&a->ss;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        snprintf(buf, len, "%s:%u", ip, ntohs(s->sin_port));
    }
}

int lb_addr_set(struct lb_addr *a, const char *ip, uint16_t port)
{
    memset(a, 0, sizeof *a);
    struct sockaddr_in *s4 = (void *)&a->ss;
    struct sockaddr_in6 *s6 = (void *)&a->ss;
    if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        a->len = sizeof *s4;
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        a->len = sizeof *s6;
        return 0;
    }
    return -1;
}

uint64_t lb_addr_key(const struct lb_addr *a)
{
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)&a->ss;
        uint64_t h = 1469598103934665603ULL; /* FNV-1a over the address */
        for (size_t i = 0; i < 16; i++)
            h = (h ^ s->sin6_addr.s6_addr[i]) * 1099511628211ULL;
        return (h << 16) ^ ntohs(s->sin6_port);
    }
    const struct sockaddr_in *s = (const void *)&a->ss;
    return ((uint64_t)ntohl(s->sin_addr.s_addr) << 16) | ntohs(s->sin_port);
}
