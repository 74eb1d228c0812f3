/* lb_worker_priv.h: a worker's insides, shared by lb_worker.c (threads,
 * listeners, target picking, the sweep), lb_l4.c (TCP connections) and
 * lb_http.c (HTTP connections and the keep-alive pool). */
#ifndef BERTH_LB_WORKER_PRIV_H
#define BERTH_LB_WORKER_PRIV_H

#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "lb/lb_view.h"
#include "lb/lb_worker.h"

#define LB_COUNTS 4096 /* open addressing; per worker */
#define LB_PIPE_POOL 64
#define LB_IDLE_POOL 256 /* idle keep-alive backend connections, per worker */

struct lb_conn;
struct lb_hconn;

/* Per-worker figures, written by the worker only (relaxed atomics: plain
 * loads and stores, no lock prefix) and summed on the control loop by
 * lb_metrics().  Entries are appended, never removed; n is published
 * after the entry's names are written. */
#define LB_STATS 128
#define LB_LAT_BUCKETS 12
extern const double lb_lat_bounds[LB_LAT_BUCKETS]; /* seconds; +Inf after */

struct lb_lstat {       /* per listener */
    char listener[33];
    atomic_ullong conns, active;
};

struct lb_rstat {       /* per (listener, target group); tg "" before routing */
    char listener[33], tg[33];
    atomic_ullong classes[6]; /* 0: no response; 1xx..5xx */
    atomic_ullong lat[LB_LAT_BUCKETS + 1];
    atomic_ullong lat_count;
    _Atomic double lat_sum;
};

struct lb_stats {
    struct lb_lstat l[LB_STATS];
    atomic_size_t n_l;
    struct lb_rstat r[LB_STATS];
    atomic_size_t n_r;
};

/* An idle backend connection of target key, pooled since since. */
struct lb_idle {
    uint64_t key;
    int fd;
    double since;
};

struct lb_lwatch {
    ev_io io;
    struct lb_worker *w;
    size_t listener;     /* index in w->view */
};

struct lb_worker {
    size_t id;
    struct lb_workers *all;
    pthread_t thread;
    struct ev_loop *loop;
    ev_async wake, stop;
    struct lb_view *view;
    struct lb_lwatch *lw;
    size_t n_lw;
    uint64_t *rr;          /* per target group of view */
    uint64_t keys[LB_COUNTS];
    uint32_t counts[LB_COUNTS];
    int pipes[LB_PIPE_POOL][2];
    size_t n_pipes;
    struct lb_conn *conns; /* list, for the stop */
    struct lb_hconn *hconns;
    struct lb_idle pool[LB_IDLE_POOL];
    size_t n_pool;
    ev_timer sweep;        /* drained targets' connections, pool expiry */
    struct lb_stats *stats;
    atomic_ullong active;
    uint64_t rng;
};

struct lb_workers {
    pthread_mutex_t mu;
    struct lb_view *cur;
    struct lb_worker *w;
    size_t n;
};

/* Per-worker open connection count of a target. */
uint32_t *lb_count(struct lb_worker *w, uint64_t key);
/* A target of group gi for a new connection, none of tried[] (n_tried);
 * NULL when none is left. */
const struct lb_target *lb_pick(struct lb_worker *w, size_t gi, const uint64_t *tried,
                                size_t n_tried);
int lb_pipe_get(struct lb_worker *w, int p[2]);
void lb_pipe_put(struct lb_worker *w, int p[2], bool empty);

/* The state of target key in the worker's view: its lb_target, NULL when
 * no group has it. */
const struct lb_target *lb_target_of(struct lb_worker *w, uint64_t key);

/* The worker's entries (added when new); NULL when the table is full. */
struct lb_lstat *lb_lstat(struct lb_worker *w, const char *listener);
struct lb_rstat *lb_rstat(struct lb_worker *w, const char *listener, const char *tg);
/* One response of status (0: none) that took secs. */
void lb_rstat_add(struct lb_rstat *r, int status, double secs);
/* Single-writer increments. */
static inline void lb_inc(atomic_ullong *v, long d)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + (unsigned long long)d,
                          memory_order_relaxed);
}

/* lb_l4.c */
void lb_l4_accept(struct lb_worker *w, int cfd, const struct lb_vlistener *l);
/* Takes over an established pair (an upgraded HTTP connection) as a byte
 * pump; both sockets' pending data already flushed.  key: the target's,
 * counted by the caller (the count passes to the new connection). */
void lb_l4_adopt(struct lb_worker *w, int cfd, int sfd, uint64_t key, double idle,
                 struct lb_lstat *ls);
/* Closes the connections to targets whose drain ended (drain_end <= now). */
void lb_l4_sweep(struct lb_worker *w, double now);
void lb_l4_close_all(struct lb_worker *w);

/* lb_http.c */
void lb_http_accept(struct lb_worker *w, int cfd, const struct lb_vlistener *l);
/* Drained targets' connections and pooled connections that expired or
 * whose target drains or left. */
void lb_http_sweep(struct lb_worker *w, double now);
void lb_http_close_all(struct lb_worker *w);

#endif
