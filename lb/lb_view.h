/* lb_view.h: what the proxy workers read: the listeners with their
 * sockets, and per target group the targets with their state.  Built on
 * the control loop (lb.c) from the registry's snapshot, the conf and the
 * health checker's results; immutable once published; reference-counted
 * (workers acquire the current view when woken and release the old one).
 *
 * Listener sockets (struct lb_lsock) are shared by consecutive views
 * while their address is unchanged, so a reload never closes them; they
 * are closed when the last view that holds them is released, i.e. after
 * every worker stopped watching them. */
#ifndef BERTH_LB_VIEW_H
#define BERTH_LB_VIEW_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lb/lb_conf.h"

enum lb_tstate { LB_T_INITIAL, LB_T_HEALTHY, LB_T_UNHEALTHY, LB_T_DRAINING };

struct lb_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

struct lb_target {
    struct lb_addr addr;
    uint64_t key;          /* addr as a number, for per-worker counters */
    enum lb_tstate state;
    /* ev_time() values: slow start ramps the target's share from
     * ramp_start over ramp_len seconds (0: no ramp); a draining target's
     * connections are closed at drain_end. */
    double ramp_start, ramp_len, drain_end;
};

/* Whether t's drain is over at now: its connections are to be closed. */
static inline bool lb_drain_over(const struct lb_target *t, double now)
{
    return t && t->state == LB_T_DRAINING && t->drain_end > 0. && t->drain_end <= now;
}

struct lb_vtg {
    char name[33];
    enum lb_algo algorithm;
    enum lb_pp proxy_protocol;
    uint64_t connect_timeout_ms;
    int connect_attempts;
    struct lb_target *targets;
    size_t n_targets;
    /* Indices of the targets new connections go to: the healthy ones, or
     * when none is healthy every one not draining (fail open, as ALB). */
    size_t *pick;
    size_t n_pick;
};

struct lb_lsock {
    atomic_uint refs;
    char key[300];        /* "host:port" */
    int *fds;             /* one SO_REUSEPORT socket per worker */
    size_t n_fds;
};

/* An http listener's rule, with its target group as an index. */
struct lb_vrule {
    char *host;           /* NULL: any */
    char *path;
    size_t path_len, tg;
};

struct lb_vlistener {
    char name[33];
    struct lb_lsock *sock;
    size_t tg;            /* index in the view's tgs */
    uint64_t idle_timeout_ms;
    /* http */
    enum lb_proto protocol;
    uint16_t port;
    uint64_t header_timeout_ms, backend_timeout_ms, max_header_size;
    struct lb_vrule *rules;
    size_t n_rules;
};

struct lb_view {
    atomic_uint refs;
    uint64_t generation;
    struct lb_vlistener *listeners;
    size_t n_listeners;
    struct lb_vtg *tgs;
    size_t n_tgs;
};

/* n_workers sockets bound to host:port with SO_REUSEPORT, listening and
 * non-blocking.  NULL with err. */
struct lb_lsock *lb_lsock_open(const char *host, uint16_t port, size_t n_workers,
                               char *err, size_t errlen);
void lb_lsock_ref(struct lb_lsock *l);
void lb_lsock_unref(struct lb_lsock *l);

struct lb_view *lb_view_new(void);
/* Adders for the builder (control loop); NULL on OOM. */
struct lb_vtg *lb_view_add_tg(struct lb_view *v, const struct lb_tg *conf);
struct lb_target *lb_vtg_add_target(struct lb_vtg *g, const struct lb_addr *a,
                                    enum lb_tstate st);
/* Takes a reference on sock. */
struct lb_vlistener *lb_view_add_listener(struct lb_view *v, const char *name,
                                          struct lb_lsock *sock, size_t tg,
                                          uint64_t idle_timeout_ms);
/* The http settings and rules of conf (target groups by name, already
 * added); -1 on OOM. */
int lb_vlistener_http(struct lb_view *v, struct lb_vlistener *l,
                      const struct lb_listener *conf);
/* Fills each group's pick list; -1 on OOM. */
int lb_view_finish(struct lb_view *v);
void lb_view_ref(struct lb_view *v);
void lb_view_release(struct lb_view *v);

size_t lb_view_tg_index(const struct lb_view *v, const char *name);

/* "a.b.c.d:port" or "[v6]:port". */
void lb_addr_format(const struct lb_addr *a, char *buf, size_t len);
/* ip (a literal) and port; -1 when ip is not one. */
int lb_addr_set(struct lb_addr *a, const char *ip, uint16_t port);
uint64_t lb_addr_key(const struct lb_addr *a);

#endif
