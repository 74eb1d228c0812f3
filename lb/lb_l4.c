/* lb_l4.c: one proxied TCP connection: a non-blocking connect with a
 * timeout (the next target is tried when it fails), the optional PROXY
 * header, then splice() through a pipe per direction.  A FIN one way is
 * passed on with shutdown(SHUT_WR) while the other way goes on; the
 * connection ends when both ways are done, on an error, or after the
 * listener's idle timeout. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lb/lb_pp.h"
#include "lb/lb_worker_priv.h"

#define PIPE_CAP 65536

enum conn_state { CONN_CONNECTING, CONN_PROXYING };

struct dir {
    int pipe[2];
    size_t inpipe;
    bool eof, shut, full;
};

struct lb_conn {
    struct lb_worker *w;
    struct lb_conn *prev, *next;
    enum conn_state st;
    int cfd, sfd;
    int cev, sev;              /* events the watchers have */
    ev_io cio, sio;
    ev_timer timer;
    double idle, last;
    /* picking */
    char tg[33];
    uint64_t gen;
    size_t tgi;
    uint64_t tried[10];
    size_t n_tried;
    int attempts;
    enum lb_pp pp;
    uint64_t key;              /* the target's, while counted */
    struct lb_addr client, local;
    struct dir up, down;       /* client->server, server->client */
    struct lb_lstat *ls;
};

static void conn_free(struct lb_conn *c)
{
    struct lb_worker *w = c->w;

    ev_io_stop(w->loop, &c->cio);
    ev_io_stop(w->loop, &c->sio);
    ev_timer_stop(w->loop, &c->timer);
    close(c->cfd);
    if (c->sfd >= 0)
        close(c->sfd);
    lb_pipe_put(w, c->up.pipe, c->up.inpipe == 0);
    lb_pipe_put(w, c->down.pipe, c->down.inpipe == 0);
    if (c->key) {
        uint32_t *n = lb_count(w, c->key);
        if (n && *n)
            (*n)--;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&w->active, 1);
    if (c->ls)
        lb_inc(&c->ls->active, -1);
    free(c);
}

static void set_events(struct lb_conn *c, ev_io *io, int *have, int want)
{
    if (*have == want)
        return;
    ev_io_stop(c->w->loop, io);
    if (want) {
        ev_io_set(io, io->fd, want);
        ev_io_start(c->w->loop, io);
    }
    *have = want;
}

/* Moves what it can from -> pipe -> to.  -1: the connection is broken. */
static int pump(struct dir *d, int from, int to, bool *moved)
{
    for (;;) {
        bool progress = false;
        if (d->inpipe > 0) {
            ssize_t n = splice(d->pipe[0], NULL, to, NULL, d->inpipe,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) {
                d->inpipe -= (size_t)n;
                d->full = false;
                progress = true;
            } else if (n < 0 && errno != EAGAIN) {
                return -1;
            }
        }
        if (!d->eof && !d->full && d->inpipe < PIPE_CAP) {
            ssize_t n = splice(from, NULL, d->pipe[1], NULL, PIPE_CAP - d->inpipe,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) {
                d->inpipe += (size_t)n;
                progress = true;
            } else if (n == 0) {
                d->eof = true;
                progress = true;
            } else if (errno == EAGAIN) {
                d->full = d->inpipe > 0; /* the pipe, not the socket, may be full */
            } else {
                return -1;
            }
        }
        if (d->eof && d->inpipe == 0 && !d->shut) {
            shutdown(to, SHUT_WR);
            d->shut = true;
        }
        if (!progress)
            return 0;
        *moved = true;
    }
}

static void proxy(struct lb_conn *c)
{
    bool moved = false;

    if (pump(&c->up, c->cfd, c->sfd, &moved) < 0 ||
        pump(&c->down, c->sfd, c->cfd, &moved) < 0 || (c->up.shut && c->down.shut)) {
        conn_free(c);
        return;
    }
    if (moved)
        c->last = ev_now(c->w->loop);
    int cw = (!c->up.eof && !c->up.full ? EV_READ : 0) | (c->down.inpipe ? EV_WRITE : 0);
    int sw = (!c->down.eof && !c->down.full ? EV_READ : 0) | (c->up.inpipe ? EV_WRITE : 0);
    set_events(c, &c->cio, &c->cev, cw);
    set_events(c, &c->sio, &c->sev, sw);
}

static void try_connect(struct lb_conn *c);

static void connected(struct lb_conn *c)
{
    char hdr[128];
    size_t n = lb_pp_header(c->pp, &c->client, &c->local, hdr, sizeof hdr);

    /* A fresh socket's send buffer takes the header whole. */
    if (n && send(c->sfd, hdr, n, MSG_NOSIGNAL) != (ssize_t)n) {
        conn_free(c);
        return;
    }
    if (lb_pipe_get(c->w, c->up.pipe) < 0 || lb_pipe_get(c->w, c->down.pipe) < 0) {
        conn_free(c);
        return;
    }
    c->st = CONN_PROXYING;
    ev_timer_stop(c->w->loop, &c->timer);
    c->last = ev_now(c->w->loop);
    ev_timer_set(&c->timer, c->idle, 0.);
    ev_timer_start(c->w->loop, &c->timer);
    proxy(c);
}

/* The attempt failed: the next target, or the end. */
static void failed(struct lb_conn *c)
{
    ev_io_stop(c->w->loop, &c->sio);
    c->sev = 0;
    ev_timer_stop(c->w->loop, &c->timer);
    close(c->sfd);
    c->sfd = -1;
    if (c->key) {
        uint32_t *n = lb_count(c->w, c->key);
        if (n && *n)
            (*n)--;
        c->key = 0;
    }
    try_connect(c);
}

static void on_server(struct ev_loop *loop, ev_io *io, int revents)
{
    struct lb_conn *c = io->data;
    (void)loop;
    (void)revents;

    if (c->st == CONN_CONNECTING) {
        int e = 0;
        socklen_t l = sizeof e;
        if (getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e)
            failed(c);
        else
            connected(c);
        return;
    }
    proxy(c);
}

static void on_client(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    (void)revents;
    proxy(io->data);
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct lb_conn *c = t->data;
    (void)revents;

    if (c->st == CONN_CONNECTING) {
        failed(c);
        return;
    }
    double left = c->last + c->idle - ev_now(loop);
    if (left <= 0) {
        conn_free(c);
        return;
    }
    ev_timer_set(t, left, 0.);
    ev_timer_start(loop, t);
}

static void try_connect(struct lb_conn *c)
{
    struct lb_worker *w = c->w;
    struct lb_view *v = w->view;
    const struct lb_target *t = NULL;

    if (v->generation != c->gen) { /* the view changed since the last try */
        c->tgi = lb_view_tg_index(v, c->tg);
        c->gen = v->generation;
    }
    while (c->attempts > 0 && c->tgi != (size_t)-1 &&
           (t = lb_pick(w, c->tgi, c->tried, c->n_tried))) {
        c->attempts--;
        if (c->n_tried < sizeof c->tried / sizeof c->tried[0])
            c->tried[c->n_tried++] = t->key;
        c->sfd = socket(t->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->sfd < 0)
            break;
        int one = 1;
        setsockopt(c->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        uint32_t *n = lb_count(w, t->key);
        if (n) {
            (*n)++;
            c->key = t->key;
        }
        int r = connect(c->sfd, (const struct sockaddr *)&t->addr.ss, t->addr.len);
        if (r == 0) {
            ev_io_init(&c->sio, on_server, c->sfd, EV_READ);
            c->sio.data = c;
            connected(c);
            return;
        }
        if (errno == EINPROGRESS) {
            ev_io_init(&c->sio, on_server, c->sfd, EV_WRITE);
            c->sio.data = c;
            ev_io_start(w->loop, &c->sio);
            c->sev = EV_WRITE;
            ev_timer_set(&c->timer, (double)v->tgs[c->tgi].connect_timeout_ms / 1000., 0.);
            ev_timer_start(w->loop, &c->timer);
            return;
        }
        close(c->sfd);
        c->sfd = -1;
        if (c->key) {
            n = lb_count(w, c->key);
            if (n && *n)
                (*n)--;
            c->key = 0;
        }
    }
    conn_free(c); /* no target, or every attempt failed: the client sees a close */
}

/* A new connection of w on client fd cfd: watchers set up (the server's
 * is the caller's), linked into the worker's list, counted active. */
static struct lb_conn *conn_new(struct lb_worker *w, int cfd, double idle)
{
    struct lb_conn *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->w = w;
    c->cfd = cfd;
    c->sfd = -1;
    c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
    c->idle = idle;
    ev_io_init(&c->cio, on_client, cfd, EV_READ);
    c->cio.data = c;
    ev_timer_init(&c->timer, on_timer, 1., 0.);
    c->timer.data = c;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    atomic_fetch_add(&w->active, 1);
    return c;
}

void lb_l4_accept(struct lb_worker *w, int cfd, const struct lb_vlistener *l)
{
    const struct lb_vtg *g = &w->view->tgs[l->tg];
    struct lb_conn *c = conn_new(w, cfd, (double)l->idle_timeout_ms / 1000.);

    if (!c) {
        close(cfd);
        return;
    }
    memcpy(c->tg, g->name, sizeof c->tg);
    c->tgi = l->tg;
    c->gen = w->view->generation;
    c->attempts = g->connect_attempts;
    c->pp = g->proxy_protocol;
    if (c->pp != LB_PP_NONE) {
        c->client.len = c->local.len = sizeof c->client.ss;
        getpeername(cfd, (struct sockaddr *)&c->client.ss, &c->client.len);
        getsockname(cfd, (struct sockaddr *)&c->local.ss, &c->local.len);
    }
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if ((c->ls = lb_lstat(w, l->name))) {
        lb_inc(&c->ls->conns, 1);
        lb_inc(&c->ls->active, 1);
    }
    try_connect(c);
}

void lb_l4_adopt(struct lb_worker *w, int cfd, int sfd, uint64_t key, double idle,
                 struct lb_lstat *ls)
{
    struct lb_conn *c = conn_new(w, cfd, idle);

    if (!c) {
        close(cfd);
        close(sfd);
        if (key) {
            uint32_t *n = lb_count(w, key);
            if (n && *n)
                (*n)--;
        }
        return;
    }
    c->sfd = sfd;
    c->key = key;
    if ((c->ls = ls))
        lb_inc(&ls->active, 1); /* the connection goes on, not a new one */
    ev_io_init(&c->sio, on_server, sfd, EV_READ);
    c->sio.data = c;
    connected(c);
}

void lb_l4_sweep(struct lb_worker *w, double now)
{
    for (struct lb_conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        if (!c->key || c->st != CONN_PROXYING)
            continue;
        const struct lb_target *t = lb_target_of(w, c->key);
        if (lb_drain_over(t, now))
            conn_free(c);
    }
}

void lb_l4_close_all(struct lb_worker *w)
{
    while (w->conns)
        conn_free(w->conns);
}
