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
        atomic_init(&w->active, 0);
        w->loop = ev_loop_new(EVFLAG_AUTO);
        if (!w->loop) {
            snprintf(err, errlen, "cannot create a libev loop");
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
    }
    lb_view_release(ws->cur);
    pthread_mutex_destroy(&ws->mu);
    free(ws->w);
    free(ws);
}
