/* lb.h: the built-in proxy's control side, on the control loop.
 *
 * It reads the registry (each service's loadBalancers and RUNNING tasks),
 * keeps one target per (target group, task endpoint): registered once the
 * task is RUNNING and its containers healthy, health-checked from then on
 * (lb_health.h), draining from the drainer's begin(), deregistered when
 * the task leaves the registry.  After each change it builds a view
 * (lb_view.h) and hands it to the workers (lb_worker.h).
 *
 * Target address: 127.0.0.1:hostPort for bridge and host tasks (ports are
 * published on every host address), taskIP:containerPort for awsvpc.
 * A targetGroupArn naming no [target-group] is reported once per service
 * through env->event and otherwise ignored (the service runs on).
 *
 * The agent glue (lb_agent.c) connects env->event to service events and
 * env->health to the scheduler; unit tests pass their own. */
#ifndef BERTH_LB_H
#define BERTH_LB_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb/lb_conf.h"
#include "lb/lb_view.h"
#include "lb/lb_worker.h"

struct registry;
struct lb;

struct lb_env {
    struct ev_loop *loop;
    struct registry *reg;
    /* A service event, msg without ECS's "(service NAME) " prefix (the
     * receiver adds it); may be NULL. */
    void (*event)(void *arg, const char *service, const char *msg);
    /* A target of task_arn turned unhealthy (true) or healthy again. */
    void (*health)(void *arg, const char *task_arn, bool unhealthy, const char *reason);
    void *arg;
};

/* Opens every listener's sockets (one per worker) and starts the workers
 * ([lb] workers; 0: one per core).  NULL with err naming the listener. */
struct lb *lb_new(const struct lb_env *env, const struct lb_conf *lc, char *err,
                  size_t errlen);
/* SIGHUP: lc replaces the conf (the old one may be freed after this
 * returns).  Listeners whose address is unchanged keep their sockets; new
 * ones are opened before removed ones close.  A listener that cannot be
 * opened is left out, with err set (the rest applies); -1 then. */
int lb_reload(struct lb *lb, const struct lb_conf *lc, char *err, size_t errlen);
void lb_free(struct lb *lb);

/* The drainer: the task's targets stop getting new connections; returns
 * the longest deregistration delay of their groups (0 when none). */
uint64_t lb_drain_begin(struct lb *lb, const char *service, const char *task_arn);

/* For tests and logs: the state of the target addr ("127.0.0.1:8080") in
 * group tg, or -1 when there is none; the view's generation. */
int lb_target_state(struct lb *lb, const char *tg, const char *addr);
size_t lb_n_workers(const struct lb *lb);
/* The proxy's figures (lb_worker.h) and berth_lb_targets {target_group,
 * state}: every group with each state's count. */
void lb_metrics(struct lb *lb, const struct lb_metric_sink *s);
/* Applies the registry's latest snapshot now (normally deferred to the
 * next loop iteration after a publish). */
void lb_sync(struct lb *lb);

/* lb_agent.c: registers the conf sections and the agent module; berthd's
 * main calls it before loading the conf. */
void lb_register(void);

#endif
