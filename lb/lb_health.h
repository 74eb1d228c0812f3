/* lb_health.h: one target's health check, on the control loop (libev,
 * non-blocking): tcp (the connect succeeds) or http (GET path answers a
 * status the matcher accepts), every interval, each bounded by timeout.
 *
 * State, as ALB: a new target is INITIAL; healthy-threshold passes in a
 * row make it HEALTHY; unhealthy-threshold failures in a row make it
 * UNHEALTHY (from INITIAL too); the callback is told each change, with
 * the last failure's reason.  The first check runs at once. */
#ifndef BERTH_LB_HEALTH_H
#define BERTH_LB_HEALTH_H

#include <ev.h>
#include <stdbool.h>

#include "lb/lb_conf.h"
#include "lb/lb_view.h"

struct lb_hc;
typedef void (*lb_hc_cb)(void *arg, struct lb_hc *hc, enum lb_tstate st,
                         const char *reason);

struct lb_hc *lb_hc_new(struct ev_loop *loop, const struct lb_addr *a,
                        const struct lb_tg *conf, lb_hc_cb cb, void *arg);
/* Takes the group's new settings (reload); the state is kept. */
void lb_hc_set_conf(struct lb_hc *hc, const struct lb_tg *conf);
enum lb_tstate lb_hc_state(const struct lb_hc *hc);
const char *lb_hc_reason(const struct lb_hc *hc);
void lb_hc_free(struct lb_hc *hc);

#endif
