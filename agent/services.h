/* services.h: the service scheduler: keeps each service's desired count of
 * healthy tasks, rolls deployments, trips the circuit breaker, drains tasks
 * before it stops them.
 *
 * Level-triggered like tasks.c: services_step() looks at every service and
 * its tasks (found through the task manager by group "service:NAME" and
 * startedBy = a deployment id, so a restarted agent finds them again) and
 * starts or stops what closes the gap.  It runs from an idle watcher armed
 * by task changes (tasks_on_change), API calls and timers, never from
 * inside a task manager call.
 *
 * Rules (ECS's, see REFERENCE.md; where Berth differs it says so):
 *   - A task counts as healthy when RUNNING and its health is HEALTHY, or
 *     RUNNING with no health check at all.  ECS waits 40 s after RUNNING for
 *     a task with no check and no load balancer; Berth counts it at once:
 *     that wait only guesses at readiness, and a container that must be
 *     checked should say so with a healthCheck.
 *   - UNHEALTHY after healthCheckGracePeriodSeconds (counted from the
 *     task's start) -> drained and replaced.  A task that stops without
 *     having run (or fails its check) counts as a failed task of its
 *     deployment; repeated failures to start space further starts (2 s,
 *     doubling, up to 15 min; event "is unable to consistently start tasks
 *     successfully"); a new deployment starts with no backoff.
 *   - Rolling: min healthy = ceil(desired x minimumHealthyPercent / 100),
 *     max running = floor(desired x maximumPercent / 100).  New tasks are
 *     started while the live total stays <= max; old tasks that are not
 *     healthy may always go, healthy old ones only while the healthy count
 *     stays >= min.  When max leaves no room and min forbids any stop (e.g.
 *     desired 1, 100/100), Berth allows one task over max so the
 *     deployment can move, rather than stalling forever.
 *   - COMPLETED when the primary has desiredCount healthy tasks and no
 *     older task is left; old deployments are then dropped.
 *   - Circuit breaker (when enabled): failed tasks of the primary >=
 *     clamp(ceil(desired/2), 3, 200) -> FAILED; no more tasks are started
 *     for it; with rollback, the last COMPLETED deployment is PRIMARY
 *     again with its tasks (ECS makes a new deployment of its definition
 *     and may replace them; Berth does that only once it is gone).
 *   - Placement: tasks are started only as far as they fit what this
 *     host has left (cpu, memory, ports: resources.h), as RunTask places
 *     them; when none fits, ECS's event "was unable to place a task
 *     because no container instance met all of its requirements ..." and
 *     another try 30 s later (not a failed task).
 *   - Scale in stops the newest tasks first (not yet running ones before
 *     running ones).
 *   - DRAINING (DeleteService): every task is drained and stopped; the
 *     service becomes INACTIVE when none is left, stays describable for an
 *     hour, then is forgotten.
 *
 * Drainers: before the scheduler stops a task it controls (scale-in,
 * deployment, delete, an unhealthy task), every registered drainer's begin()
 * is told; it returns how long (ms) it needs (deregistration delay, DNS
 * TTL).  The task is stopped after the longest wait (at once when 0 or no
 * drainer).  Every task of the service is reported once with gone() when
 * it is to stop (after its drain, or at once when it died or was stopped
 * by someone else).  Pending drains are not stored: after a restart a
 * draining task is live again and the scheduler decides anew.
 *
 * Control loop only. */
#ifndef BERTH_SERVICES_H
#define BERTH_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct service;
struct store;
struct task;
struct tasks;
struct svc_input;

struct drainer_ops {
    const char *name;
    /* The scheduler will stop t: take it out of service; returns the ms
     * to wait before it is stopped. */
    uint64_t (*begin)(void *arg, const struct service *s, const struct task *t);
    /* t (of service s) is stopping or stopped, whoever asked: forget it.
     * Called once per task.  May be NULL. */
    void (*gone)(void *arg, const struct service *s, const struct task *t);
    /* May be NULL.  Whether a loadBalancers entry's targetGroupArn (an ARN
     * or a name) is one this drainer serves: 0, or -1 with err saying why
     * not.  CreateService and UpdateService refuse such an entry. */
    int (*check_target_group)(void *arg, const char *ref, char *err, size_t errlen);
};

struct res;
struct services_conf {
    const char *cluster, *region, *account_id;
    /* This host's capacity (resources.h), kept by the caller for the
     * scheduler's life: tasks are started only as far as they fit, as
     * RunTask places them; NULL: no check.  instance_id names this host in
     * the event that says a task did not fit. */
    const struct res *host;
    const char *instance_id;
    uint64_t backoff_base_ms, backoff_cap_ms; /* 0: 2 s, 15 min */
    uint64_t inactive_retention_ms;           /* 0: 1 h */
};

struct services;

/* Loads the stored services and hooks itself to the task manager's
 * changes.  NULL with err when the store fails. */
struct services *services_new(struct ev_loop *loop, struct store *st,
                              struct tasks *tasks, const struct services_conf *c,
                              char *err, size_t errlen);
void services_free(struct services *m);
int services_add_drainer(struct services *m, const struct drainer_ops *ops, void *arg);
/* Every drainer's check_target_group over a service input's loadBalancers
 * (a cJSON array; NULL: nothing to check): 0, or -1 with err naming the
 * entry ("loadBalancers[1].targetGroupArn: ..."). */
struct cJSON;
int services_check_load_balancers(const struct services *m, const struct cJSON *lbs,
                                  char *err, size_t errlen);
/* After each step, the running tasks of every service go to reg (see
 * registry.h); NULL stops that.  reg must outlive m or be unset first. */
struct registry;
void services_set_registry(struct services *m, struct registry *reg);
/* fn(arg, seconds) after each scheduler pass, with its monotonic duration
 * (the reconcile histogram). */
void services_set_pass_observer(struct services *m, void (*fn)(void *arg, double seconds),
                                void *arg);

/* StopTask: a task of a service is drained first (its drainers' wait,
 * DEACTIVATING, then stopped, as the scheduler's own stops), the service
 * replaces it and says so in its events; any other task stops at once.
 * NULL when no task has that ID or ARN. */
struct task *services_stop_task(struct services *m, const char *ref, const char *reason);

/* By name or ARN (of this cluster); NULL when unknown.  INACTIVE services
 * are found too. */
struct service *services_find(struct services *m, const char *ref);
size_t services_all(struct services *m, struct service ***out);

/* Creates s (taken) and saves it before returning; -1 with err when the
 * store fails (s is freed then). */
int services_create(struct services *m, struct service *s, char *err, size_t errlen);
/* Saves s after the caller changed it (UpdateService) and steps. */
int services_save(struct services *m, struct service *s, char *err, size_t errlen);
/* DeleteService: DRAINING, desired 0, saved. */
int services_delete(struct services *m, struct service *s, char *err, size_t errlen);

/* Counts each deployment's and the service's running and pending tasks
 * (for DescribeServices). */
void services_count(struct services *m, struct service *s);

/* A load balancer (lb/) found a target of task_arn unhealthy (true) or
 * healthy again (false).  An unhealthy RUNNING task is replaced like one
 * that failed its container health check, after the grace period. */
void services_target_health(struct services *m, const char *task_arn, bool unhealthy);

/* The agent is stopping: nothing more is started or stopped. */
void services_quiesce(struct services *m);

#endif
