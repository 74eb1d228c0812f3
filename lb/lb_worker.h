/* lb_worker.h: the proxy's worker threads.  Each has its own libev loop
 * and watches its own SO_REUSEPORT socket of every listener of the view
 * it holds.  lb_workers_publish() (control loop) makes a view current and
 * wakes every worker, which acquires it, starts watching new listener
 * sockets, stops watching removed ones and releases its old view: the
 * request path takes no lock.  Established connections never depend on
 * the view (they keep their two sockets), so a new view never drops one.
 *
 * Per-worker figures: least-outstanding counts each target's open
 * connections (tcp listeners) or requests in flight (http listeners) of
 * this worker only (documented in berth.conf(5)).  An http listener's
 * connections are lb_http.c's, a tcp one's lb_l4.c's; a sweep each second
 * closes the connections of targets whose deregistration delay ended. */
#ifndef BERTH_LB_WORKER_H
#define BERTH_LB_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "berth/plugin.h"
#include "lb/lb_view.h"

struct lb_workers;

/* Where the summed figures go (control loop).  histogram may be NULL:
 * bounds[n] upper bounds in seconds, counts[n + 1] per bucket (not
 * cumulative; the last is +Inf). */
struct lb_metric_sink {
    void (*put)(void *arg, const char *name, const char *help, enum berth_metric_type type,
                double v, const struct berth_label *l, size_t n);
    void (*histogram)(void *arg, const char *name, const char *help, const double *bounds,
                      const uint64_t *counts, size_t n, double sum, uint64_t count,
                      const struct berth_label *l, size_t n_labels);
    void *arg;
};

/* Starts n threads with the empty view.  NULL with err. */
struct lb_workers *lb_workers_start(size_t n, char *err, size_t errlen);
/* Takes v's reference. */
void lb_workers_publish(struct lb_workers *w, struct lb_view *v);
/* A new reference to the current view. */
struct lb_view *lb_workers_view(struct lb_workers *w);
size_t lb_workers_count(const struct lb_workers *w);
/* Open connections, all workers together (approximate while they run). */
uint64_t lb_workers_active(struct lb_workers *w);
/* Sums every worker's figures into s: berth_lb_connections_total and
 * berth_lb_active_connections {listener}, berth_lb_requests_total
 * {listener, target_group, code_class} and the request durations. */
void lb_workers_metrics(struct lb_workers *w, const struct lb_metric_sink *s);
/* Stops and joins the threads; their connections are closed. */
void lb_workers_stop(struct lb_workers *w);

#endif
