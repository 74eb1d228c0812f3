/* lb_worker.c: worker threads, their listener sockets and target picking. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lb/lb_worker_priv.h"

const double lb_lat_bounds[LB_LAT_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,   0.25,   0.5,   1.,   2.5,   10.};

struct lb_lstat *lb_lstat(struct lb_worker *w, const char *listener)
{
    struct lb_stats *s = w->stats;
    size_t n = atomic_load_explicit(&s->n_l, memory_order_relaxed);

    for (size_t i = 0; i < n; i++)
        if (strcmp(s->l[i].listener, listener) == 0)
            return &s->l[i];
    if (n == LB_STATS)
        return NULL;
    snprintf(s->l[n].listener, sizeof s->l[n].listener, "%s", listener);
    atomic_store_explicit(&s->n_l, n + 1, memory_order_release);
    return &s->l[n];
}

struct lb_rstat *lb_rstat(struct lb_worker *w, const char *listener, const char *tg)
{
    struct lb_stats *s = w->stats;
    size_t n = atomic_load_explicit(&s->n_r, memory_order_relaxed);

    for (size_t i = 0; i < n; i++)
        if (strcmp(s->r[i].tg, tg) == 0 && strcmp(s->r[i].listener, listener) == 0)
            return &s->r[i];
    if (n == LB_STATS)
        return NULL;
    snprintf(s->r[n].listener, sizeof s->r[n].listener, "%s", listener);
    snprintf(s->r[n].tg, sizeof s->r[n].tg, "%s", tg);
    atomic_store_explicit(&s->n_r, n + 1, memory_order_release);
    return &s->r[n];
}

static struct lb_lstat *lb_stat_find_l(struct lb_stats *s, const char *listener)
{
    size_t n = atomic_load_explicit(&s->n_l, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->l[i].listener, listener) == 0)
            return &s->l[i];
    return NULL;
}

static bool lb_stat_has_l(struct lb_stats *s, const char *listener)
{
    return lb_stat_find_l(s, listener) != NULL;
}

static struct lb_rstat *lb_stat_find_r(struct lb_stats *s, const char *listener,
                                       const char *tg)
{
    size_t n = atomic_load_explicit(&s->n_r, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->r[i].tg, tg) == 0 && strcmp(s->r[i].listener, listener) == 0)
            return &s->r[i];
    return NULL;
}

void lb_rstat_add(struct lb_rstat *r, int status, double secs)
{
    size_t b = 0;

    if (!r)
        return;
    lb_inc(&r->classes[status >= 100 && status < 600 ? status / 100 : 0], 1);
    while (b < LB_LAT_BUCKETS && secs > lb_lat_bounds[b])
        b++;
    lb_inc(&r->lat[b], 1);
    lb_inc(&r->lat_count, 1);
    atomic_store_explicit(&r->lat_sum,
                          atomic_load_explicit(&r->lat_sum, memory_order_relaxed) + secs,
                          memory_order_relaxed);
}

uint32_t *lb_count(struct lb_worker *w, uint64_t key)
{
    size_t h = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 52) % LB_COUNTS;

    for (size_t i = 0; i < LB_COUNTS; i++, h = (h + 1) % LB_COUNTS) {
        if (w->keys[h] == key)
            return &w->counts[h];
        if (w->keys[h] == 0) {
            w->keys[h] = key;
            return &w->counts[h];
        }
    }
    return NULL; /* full: the target goes uncounted */
}

static uint64_t rnd(struct lb_worker *w)
{
    w->rng ^= w->rng << 13; /* xorshift64 */
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static bool tried_has(const uint64_t *t, size_t n, uint64_t k)
{
    for (size_t i = 0; i < n; i++)
        if (t[i] == k)
            return true;
    return false;
}

/* A slow-starting target's share now: 0.05 to 1 (it is never starved). */
static double share(struct lb_worker *w, const struct lb_target *t)
{
    if (t->ramp_len <= 0.)
        return 1.;
    double f = (ev_now(w->loop) - t->ramp_start) / t->ramp_len;
    return f >= 1. ? 1. : f < 0.05 ? 0.05 : f;
}

/* Load scaled by the share, so a ramping target looks busier. */
static double load_of(struct lb_worker *w, const struct lb_target *t)
{
    uint32_t *c = lb_count(w, t->key);
    return (double)((c ? *c : 0) + 1) / share(w, t);
}

/* Round robin's admission of a ramping target: with probability share. */
static bool admit(struct lb_worker *w, const struct lb_target *t)
{
    double f = share(w, t);
    return f >= 1. || (double)(rnd(w) % 10000) < f * 10000.;
}

const struct lb_target *lb_pick(struct lb_worker *w, size_t gi, const uint64_t *tried,
                                size_t n_tried)
{
    const struct lb_vtg *g = &w->view->tgs[gi];
    size_t n = g->n_pick;
    const struct lb_target *best = NULL;

    if (n == 0)
        return NULL;
    switch (g->algorithm) {
    case LB_ALGO_ROUND_ROBIN:
        for (size_t i = 0; i < n; i++) {
            const struct lb_target *t = &g->targets[g->pick[w->rr[gi]++ % n]];
            if (tried_has(tried, n_tried, t->key))
                continue;
            if (admit(w, t))
                return t;
            if (!best)
                best = t; /* if every other one is tried */
        }
        return best;
    case LB_ALGO_LEAST_OUTSTANDING: {
        /* from a rotating start, so ties spread */
        size_t start = (size_t)(w->rr[gi]++ % n);
        for (size_t i = 0; i < n; i++) {
            const struct lb_target *t = &g->targets[g->pick[(start + i) % n]];
            if (!tried_has(tried, n_tried, t->key) &&
                (!best || load_of(w, t) < load_of(w, best)))
                best = t;
        }
        return best;
    }
    case LB_ALGO_RANDOM_TWO:
        for (int k = 0; k < 2; k++) {
            size_t start = (size_t)(rnd(w) % n);
            for (size_t i = 0; i < n; i++) {
                const struct lb_target *t = &g->targets[g->pick[(start + i) % n]];
                if (tried_has(tried, n_tried, t->key))
                    continue;
                if (!best || load_of(w, t) < load_of(w, best))
                    best = t;
                break;
            }
        }
        return best;
    }
    return NULL;
}

int lb_pipe_get(struct lb_worker *w, int p[2])
{
    if (w->n_pipes) {
        w->n_pipes--;
        p[0] = w->pipes[w->n_pipes][0];
        p[1] = w->pipes[w->n_pipes][1];
        return 0;
    }
    return pipe2(p, O_NONBLOCK | O_CLOEXEC);
}

void lb_pipe_put(struct lb_worker *w, int p[2], bool empty)
{
    if (p[0] < 0)
        return;
    if (empty && w->n_pipes < LB_PIPE_POOL) {
        w->pipes[w->n_pipes][0] = p[0];
        w->pipes[w->n_pipes][1] = p[1];
        w->n_pipes++;
    } else {
        close(p[0]);
        close(p[1]);
    }
    p[0] = p[1] = -1;
}

static void on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
    struct lb_lwatch *lw = (struct lb_lwatch *)io;
    struct lb_worker *w = lw->w;
    (void)loop;
    (void)revents;

    for (int i = 0; i < 64; i++) {
        int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                fprintf(stderr, "berthd: lb: accept: %s\n", strerror(errno));
            return;
        }
        const struct lb_vlistener *l = &w->view->listeners[lw->listener];
        if (l->protocol == LB_PROTO_HTTP)
            lb_http_accept(w, fd, l);
        else
            lb_l4_accept(w, fd, l);
    }
}

/* Takes the current view: watches its listener sockets (keeping those
 * already watched), then lets the old view go. */
static void take_view(struct lb_worker *w)
{
    struct lb_view *v = lb_workers_view(w->all), *old = w->view;
    struct lb_lwatch *lw = calloc(v->n_listeners + 1, sizeof *lw);
    uint64_t *rr = calloc(v->n_tgs + 1, sizeof *rr);

    if (!lw || !rr) {
        free(lw);
        free(rr);
        lb_view_release(v);
        return; /* keep the old one */
    }
    for (size_t i = 0; i < v->n_listeners; i++) {
        int fd = v->listeners[i].sock->fds[w->id];
        lw[i].w = w;
        lw[i].listener = i;
        ev_io_init(&lw[i].io, on_accept, fd, EV_READ);
        ev_io_start(w->loop, &lw[i].io);
    }
    /* The old watchers go after the new ones are in: a kept socket is
     * watched twice for a moment, never not at all. */
    for (size_t i = 0; i < w->n_lw; i++)
        ev_io_stop(w->loop, &w->lw[i].io);
    free(w->lw);
    free(w->rr);
    w->lw = lw;
    w->n_lw = v->n_listeners;
    w->rr = rr;
    w->view = v;
    lb_view_release(old);
}

const struct lb_target *lb_target_of(struct lb_worker *w, uint64_t key)
{
    const struct lb_view *v = w->view;

    for (size_t i = 0; i < v->n_tgs; i++)
        for (size_t j = 0; j < v->tgs[i].n_targets; j++)
            if (v->tgs[i].targets[j].key == key)
                return &v->tgs[i].targets[j];
    return NULL;
}

static void on_sweep(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct lb_worker *w = t->data;
    (void)revents;

    lb_l4_sweep(w, ev_now(loop));
    lb_http_sweep(w, ev_now(loop));
}

static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
    (void)loop;
    (void)revents;
    take_view(a->data);
}

static void on_stop(struct ev_loop *loop, ev_async *a, int revents)
{
    (void)a;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void *run(void *arg)
{
    struct lb_worker *w = arg;

    take_view(w);
    ev_timer_init(&w->sweep, on_sweep, 1., 1.);
    w->sweep.data = w;
    ev_timer_start(w->loop, &w->sweep);
    ev_unref(w->loop); /* the sweep alone does not keep the loop running */
    ev_run(w->loop, 0);
    ev_ref(w->loop);
    ev_timer_stop(w->loop, &w->sweep);
    for (size_t i = 0; i < w->n_lw; i++)
        ev_io_stop(w->loop, &w->lw[i].io);
    lb_l4_close_all(w);
    lb_http_close_all(w);
    return NULL;
}

struct lb_workers *lb_workers_start(size_t n, char *err, size_t errlen)
{
    struct lb_workers *ws = calloc(1, sizeof *ws);

    if (!ws || !(ws->w = calloc(n, sizeof *ws->w)) || !(ws->cur = lb_view_new())) {
        if (ws)
            free(ws->w);
        free(ws);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&ws->mu, NULL);
    for (size_t i = 0; i < n; i++) {
        struct lb_worker *w = &ws->w[i];
        w->id = i;
        w->all = ws;
        w->rng = 0x9E3779B97F4A7C15ULL * (i + 1);
        if (!(w->stats = calloc(1, sizeof *w->stats))) {
            snprintf(err, errlen, "out of memory");
            break;
        }
        atomic_init(&w->active, 0);
        w->loop = ev_loop_new(EVFLAG_AUTO);
        if (!w->loop) {
            snprintf(err, errlen, "cannot create a libev loop");
            free(w->stats);
            break;
        }
        ev_async_init(&w->wake, on_wake);
        ev_async_init(&w->stop, on_stop);
        w->wake.data = w->stop.data = w;
        ev_async_start(w->loop, &w->wake);
        ev_async_start(w->loop, &w->stop);
        int e = pthread_create(&w->thread, NULL, run, w);
        if (e) {
            snprintf(err, errlen, "cannot start a worker thread: %s", strerror(e));
            ev_loop_destroy(w->loop);
            w->loop = NULL;
            free(w->stats);
            break;
        }
        ws->n++;
    }
    if (ws->n < n) {
        lb_workers_stop(ws);
        return NULL;
    }
    return ws;
}

void lb_workers_publish(struct lb_workers *ws, struct lb_view *v)
{
    pthread_mutex_lock(&ws->mu);
    struct lb_view *old = ws->cur;
    ws->cur = v;
    pthread_mutex_unlock(&ws->mu);
    lb_view_release(old);
    for (size_t i = 0; i < ws->n; i++)
        ev_async_send(ws->w[i].loop, &ws->w[i].wake);
}

struct lb_view *lb_workers_view(struct lb_workers *ws)
{
    pthread_mutex_lock(&ws->mu);
    struct lb_view *v = ws->cur;
    lb_view_ref(v);
    pthread_mutex_unlock(&ws->mu);
    return v;
}

size_t lb_workers_count(const struct lb_workers *ws)
{
    return ws->n;
}

uint64_t lb_workers_active(struct lb_workers *ws)
{
    uint64_t n = 0;
    for (size_t i = 0; i < ws->n; i++)
        n += atomic_load(&ws->w[i].active);
    return n;
}

void lb_workers_metrics(struct lb_workers *ws, const struct lb_metric_sink *s)
{
    static const char *const cls[6] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

    /* Each listener and (listener, group) once, at the first worker that
     * has it; summed over that one and the ones after. */
    for (size_t i = 0; i < ws->n; i++) {
        struct lb_stats *st = ws->w[i].stats;
        size_t nl = atomic_load_explicit(&st->n_l, memory_order_acquire);
        for (size_t e = 0; e < nl; e++) {
            const char *name = st->l[e].listener;
            bool earlier = false;
            for (size_t j = 0; j < i && !earlier; j++)
                earlier = lb_stat_has_l(ws->w[j].stats, name);
            if (earlier)
                continue;
            double conns = 0, active = 0;
            for (size_t j = i; j < ws->n; j++) {
                struct lb_lstat *l = lb_stat_find_l(ws->w[j].stats, name);
                if (l) {
                    conns += (double)atomic_load_explicit(&l->conns, memory_order_relaxed);
                    active += (double)(long long)atomic_load_explicit(&l->active,
                                                                      memory_order_relaxed);
                }
            }
            const struct berth_label lab = {"listener", name};
            s->put(s->arg, "berth_lb_connections_total",
                   "Client connections the proxy accepted, by listener.", BERTH_METRIC_COUNTER,
                   conns, &lab, 1);
            s->put(s->arg, "berth_lb_active_connections",
                   "Client connections open now, by listener.", BERTH_METRIC_GAUGE, active,
                   &lab, 1);
        }
        size_t nr = atomic_load_explicit(&st->n_r, memory_order_acquire);
        for (size_t e = 0; e < nr; e++) {
            const struct lb_rstat *r0 = &st->r[e];
            bool earlier = false;
            for (size_t j = 0; j < i && !earlier; j++)
                earlier = lb_stat_find_r(ws->w[j].stats, r0->listener, r0->tg) != NULL;
            if (earlier)
                continue;
            double classes[6] = {0}, sum = 0;
            uint64_t lat[LB_LAT_BUCKETS + 1] = {0}, count = 0;
            for (size_t j = i; j < ws->n; j++) {
                struct lb_rstat *r = lb_stat_find_r(ws->w[j].stats, r0->listener, r0->tg);
                if (!r)
                    continue;
                for (int k = 0; k < 6; k++)
                    classes[k] += (double)atomic_load_explicit(&r->classes[k],
                                                               memory_order_relaxed);
                for (int k = 0; k <= LB_LAT_BUCKETS; k++)
                    lat[k] += atomic_load_explicit(&r->lat[k], memory_order_relaxed);
                count += atomic_load_explicit(&r->lat_count, memory_order_relaxed);
                sum += atomic_load_explicit(&r->lat_sum, memory_order_relaxed);
            }
            for (int k = 0; k < 6; k++) {
                const struct berth_label lab[3] = {
                    {"listener", r0->listener}, {"target_group", r0->tg}, {"code_class", cls[k]}};
                s->put(s->arg, "berth_lb_requests_total",
                       "HTTP requests by listener, target group (empty: refused before "
                       "routing) and status class (none: no response).",
                       BERTH_METRIC_COUNTER, classes[k], lab, 3);
            }
            const struct berth_label lab[2] = {{"listener", r0->listener},
                                               {"target_group", r0->tg}};
            if (s->histogram)
                s->histogram(s->arg, "berth_lb_request_duration_seconds",
                             "HTTP request durations, from the head's first byte to the "
                             "response's end.", lb_lat_bounds, lat, LB_LAT_BUCKETS, sum, count,
                             lab, 2);
        }
    }
}

void lb_workers_stop(struct lb_workers *ws)
{
    if (!ws)
        return;
    for (size_t i = 0; i < ws->n; i++)
        ev_async_send(ws->w[i].loop, &ws->w[i].stop);
    for (size_t i = 0; i < ws->n; i++) {
        struct lb_worker *w = &ws->w[i];
        pthread_join(w->thread, NULL);
        for (size_t j = 0; j < w->n_pipes; j++) {
            close(w->pipes[j][0]);
            close(w->pipes[j][1]);
        }
        free(w->lw);
        free(w->rr);
        lb_view_release(w->view);
        ev_loop_destroy(w->loop);
        free(w->stats);
    }
    lb_view_release(ws->cur);
    pthread_mutex_destroy(&ws->mu);
    free(ws->w);
    free(ws);
}
