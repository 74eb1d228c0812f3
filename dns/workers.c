/* workers.c: threads, each with a loop and a server. */
#include "config.h"

#include "dns/workers.h"

#include <ev.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dns/dns_conf.h"
#include "dns/stats.h"
#include "dns/server.h"
#include "dns/zone.h"

struct worker {
    pthread_t th;
    bool running;
    struct ev_loop *loop;
    ev_async wake;
    struct dns_server *srv;
    pthread_mutex_t mu;
    struct dns_zone *next; /* parked by the control loop */
    bool stop;
};

struct dns_workers {
    struct worker *w;
    size_t n;
};

static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
    struct worker *w = a->data;
    struct dns_zone *z;
    bool stop;
    (void)revents;

    pthread_mutex_lock(&w->mu);
    z = w->next;
    w->next = NULL;
    stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    if (z) {
        dns_server_set_zone(w->srv, z);
        dns_zone_unref(z);
    }
    if (stop)
        ev_break(loop, EVBREAK_ALL);
}

static void *run(void *arg)
{
    struct worker *w = arg;
    ev_run(w->loop, 0);
    return NULL;
}

static void worker_free(struct worker *w)
{
    if (w->running) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_mutex_unlock(&w->mu);
        ev_async_send(w->loop, &w->wake);
        pthread_join(w->th, NULL);
    }
    /* The thread is gone: its loop and server are ours to free. */
    dns_server_free(w->srv);
    if (w->loop) {
        ev_async_stop(w->loop, &w->wake);
        ev_loop_destroy(w->loop);
    }
    dns_zone_unref(w->next);
    pthread_mutex_destroy(&w->mu);
}

struct dns_workers *dns_workers_new(const struct conf_dns *c, struct dns_zone *z, char *err,
                                    size_t errlen)
{
    struct dns_workers *ws = calloc(1, sizeof *ws);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = c->workers > 0 ? (size_t)c->workers : cores > 0 ? (size_t)cores : 1;

    if (!ws || !(ws->w = calloc(n, sizeof *ws->w))) {
        free(ws);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct worker *w = &ws->w[i];
        pthread_mutex_init(&w->mu, NULL);
        ws->n++;
        if (!(w->loop = ev_loop_new(EVFLAG_AUTO))) {
            snprintf(err, errlen, "cannot create a loop for worker %zu", i);
            goto fail;
        }
        ev_async_init(&w->wake, on_wake);
        w->wake.data = w;
        ev_async_start(w->loop, &w->wake);
        if (!(w->srv = dns_server_new(w->loop, c, err, errlen)))
            goto fail;
        dns_server_set_zone(w->srv, z); /* before the thread: no race */
        if (pthread_create(&w->th, NULL, run, w) != 0) {
            snprintf(err, errlen, "cannot start worker thread %zu", i);
            goto fail;
        }
        w->running = true;
    }
    return ws;
fail:
    dns_workers_free(ws);
    return NULL;
}

void dns_workers_set_zone(struct dns_workers *ws, struct dns_zone *z)
{
    for (size_t i = 0; i < ws->n; i++) {
        struct worker *w = &ws->w[i];
        dns_zone_ref(z);
        pthread_mutex_lock(&w->mu);
        struct dns_zone *old = w->next;
        w->next = z;
        pthread_mutex_unlock(&w->mu);
        dns_zone_unref(old); /* parked, never taken: the worker did not wake yet */
        ev_async_send(w->loop, &w->wake);
    }
}

void dns_workers_stats(const struct dns_workers *ws, struct dns_stats *sum)
{
    for (size_t i = 0; i < ws->n; i++)
        if (ws->w[i].srv)
            dns_stats_add(sum, dns_server_stats(ws->w[i].srv));
}

size_t dns_workers_count(const struct dns_workers *ws)
{
    return ws->n;
}

void dns_workers_free(struct dns_workers *ws)
{
    if (!ws)
        return;
    for (size_t i = 0; i < ws->n; i++)
        worker_free(&ws->w[i]);
    free(ws->w);
    free(ws);
}
