/* services.c: the service scheduler (see services.h for the rules). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/clock.h"
#include "agent/drain.h"
#include "agent/log.h"
#include "agent/registry.h"
#include "agent/registry_feed.h"
#include "agent/resources.h"
#include "agent/service.h"
#include "agent/services.h"
#include "agent/store.h"
#include "agent/task.h"
#include "agent/taskdef.h"
#include "agent/tasks.h"

#define DEFAULT_BACKOFF_BASE_MS 2000
#define DEFAULT_BACKOFF_CAP_MS (15 * 60 * 1000)
#define DEFAULT_INACTIVE_MS (60 * 60 * 1000)
#define NOT_READY_RETRY_MS 1000
#define MAX_WAKE_MS 30000
#define UNSTABLE_AFTER 3 /* start failures in a row before ECS's event */
#define PLACE_RETRY_MS 30000 /* a task that did not fit: try again then */

/* The scheduler's state of one service. */
struct sstate {
    struct services *m;
    struct service *s;
    char **seen;        /* ARNs of its stopping tasks already handled */
    size_t n_seen;
    char **gone;        /* ARNs of those the drainers were told are gone */
    size_t n_gone;
    bool dirty;
};

struct services {
    struct ev_loop *loop;
    struct store *st;
    struct tasks *tasks;
    char *cluster, *region, *account;
    int64_t backoff_base, backoff_cap, inactive_ms;
    struct service **v;
    size_t n;
    struct drainers drainers;
    struct registry *reg; /* NULL: nobody reads the live view */
    void (*on_pass)(void *arg, double seconds); /* each pass's duration */
    void *on_pass_arg;
    const struct res *host; /* this host's capacity; NULL: no placement */
    char *instance_id;
    char **lb_bad;        /* tasks a load balancer's health check failed */
    size_t n_lb_bad;
    ev_idle idle;
    ev_timer timer;
    int64_t wake_ms; /* the earliest time a step is needed */
    bool quiet;
};

static struct sstate *SS(const struct service *s)
{
    return s->mgr;
}

static char *xstrdup(const char *s)
{
    return jw_strdup(s ? s : "");
}

static void wake_at(struct services *m, int64_t at_ms)
{
    if (!m->wake_ms || at_ms < m->wake_ms)
        m->wake_ms = at_ms;
}

static void kick(struct services *m)
{
    if (!m->quiet && !ev_is_active(&m->idle))
        ev_idle_start(m->loop, &m->idle);
}

/* ---- saving ---- */

static int persist(struct services *m, struct service *s, char *err, size_t errlen)
{
    char e[300];
    cJSON *j = service_to_json(s, true, true);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!err) {
        err = e;
        errlen = sizeof e;
    }
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    enum store_rc rc = store_service_put(m->st, s->arn, m->cluster, s->name,
                                         service_status_names[s->status], text, err,
                                         errlen);
    free(text);
    if (rc != STORE_OK) {
        log_error("service.save_failed", "service=%s error=\"%s\"", s->name, err);
        return -1;
    }
    SS(s)->dirty = false;
    return 0;
}

/* ---- the tasks of a service ---- */

static bool of_service(const struct service *s, const struct task *t)
{
    return strncmp(t->group, "service:", 8) == 0 && strcmp(t->group + 8, s->name) == 0 &&
           strcmp(t->cluster_arn, s->cluster_arn) == 0;
}

static bool has_check(const struct task *t)
{
    for (size_t i = 0; i < t->n_containers; i++) {
        const struct task_container *c = &t->containers[i];
        if (c->essential && (c->engine_health != BERTH_HEALTH_NONE ||
                             (t->td && i < t->td->n_containers &&
                              t->td->containers[i].has_health_check)))
            return true;
    }
    return false;
}

/* Stopping, but first out of the load balancers and DNS for the
 * drainers' wait (tasks_stop_after): still running, DEACTIVATING. */
static bool draining(const struct task *t)
{
    return t->desired_status == TASK_STOPPED && t->deactivate_until_ms != 0 &&
           t->last_status >= TASK_ACTIVATING && t->last_status <= TASK_DEACTIVATING;
}

static bool is_live(const struct task *t)
{
    return t->desired_status == TASK_RUNNING && t->last_status != TASK_STOPPED;
}

static ssize_t lb_bad_index(const struct services *m, const char *arn)
{
    for (size_t i = 0; i < m->n_lb_bad; i++)
        if (strcmp(m->lb_bad[i], arn) == 0)
            return (ssize_t)i;
    return -1;
}

static void lb_bad_drop(struct services *m, size_t i)
{
    free(m->lb_bad[i]);
    m->lb_bad[i] = m->lb_bad[--m->n_lb_bad];
}

void services_target_health(struct services *m, const char *task_arn, bool unhealthy)
{
    ssize_t i = lb_bad_index(m, task_arn);

    if (!unhealthy) {
        if (i >= 0)
            lb_bad_drop(m, (size_t)i);
        return;
    }
    if (i >= 0)
        return;
    char **g = realloc(m->lb_bad, (m->n_lb_bad + 1) * sizeof *g);
    if (!g)
        return;
    m->lb_bad = g;
    if ((g[m->n_lb_bad] = strdup(task_arn)))
        m->n_lb_bad++;
    kick(m);
}

static bool is_healthy(const struct task *t)
{
    if (t->last_status != TASK_RUNNING)
        return false;
    enum task_health h = task_health(t);
    return h == HEALTH_HEALTHY || (h == HEALTH_UNKNOWN && !has_check(t));
}

static bool in_list(char *const *v, size_t n, const char *arn)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], arn) == 0)
            return true;
    return false;
}

static void list_add(char ***v, size_t *n, const char *arn)
{
    char **g = realloc(*v, (*n + 1) * sizeof *g);
    if (!g)
        abort();
    *v = g;
    g[(*n)++] = xstrdup(arn);
}

/* Forgets the ARNs of tasks the manager forgot. */
static void list_prune(struct services *m, char **v, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        if (tasks_find(m->tasks, v[i]))
            v[k++] = v[i];
        else
            free(v[i]);
    }
    *n = k;
}

static void list_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static bool seen(const struct sstate *ss, const char *arn)
{
    return in_list(ss->seen, ss->n_seen, arn);
}

static void mark_seen(struct sstate *ss, const char *arn)
{
    list_add(&ss->seen, &ss->n_seen, arn);
}

/* Once a stopping task's drain is over (or it had none), the drainers
 * forget it: once per task. */
static void tell_gone(struct services *m, struct service *s, struct task *t)
{
    struct sstate *ss = SS(s);

    if (draining(t) || in_list(ss->gone, ss->n_gone, t->arn))
        return;
    list_add(&ss->gone, &ss->n_gone, t->arn);
    drainers_gone(&m->drainers, s, t);
}

/* ---- draining and stopping ---- */

/* Stops t, draining it first: the drainers take it out of service and
 * the task manager keeps it DEACTIVATING for the longest wait they ask.
 * Returns 1 when one asked for a wait. */
static int drain_task(struct services *m, struct service *s, struct task *t,
                      const char *stop_code, const char *reason)
{
    uint64_t wait;

    if (t->desired_status != TASK_RUNNING)
        return 0;
    /* Only a running task is in the load balancers and DNS. */
    wait = t->last_status == TASK_RUNNING ? drainers_begin(&m->drainers, s, t) : 0;
    log_info("service.task_stop", "service=%s task=%s drain_ms=%llu code=%s reason=\"%s\"",
             s->name, t->id, (unsigned long long)wait, stop_code,
             reason ? reason : "Task stopped by user");
    tasks_stop_after(m->tasks, t->arn, stop_code, reason, wait);
    return wait > 0;
}

/* Appends " (task ID)" to a list for an event. */
static void list_task(char *buf, size_t size, const struct task *t)
{
    size_t n = strlen(buf);
    if (n + 45 < size)
        snprintf(buf + n, size - n, " (task %s)", t->id);
}

/* ---- one service ---- */

struct census {
    struct task **p, **old; /* live tasks of the primary, of the others */
    size_t n_p, n_old;
    size_t h_p, h_old;      /* healthy among them */
};

static void census_free(struct census *c)
{
    free(c->p);
    free(c->old);
}

/* A task seen stopping (or stopped) for the first time: drainers forget it,
 * and one that never ran and was not stopped by us is a failed task of its
 * deployment. */
static void handle_stopped(struct services *m, struct service *s, struct task *t,
                           int64_t now)
{
    struct sstate *ss = SS(s);
    struct svc_deployment *d = service_deployment(s, t->started_by);

    mark_seen(ss, t->arn);
    if (!d || t->started_at_ms > 0 ||
        (t->stop_code && strcmp(t->stop_code, STOP_SERVICE) == 0))
        return;
    d->failed_tasks++;
    d->start_failures++;
    d->next_start_ms = now + service_backoff_ms(d->start_failures, m->backoff_base,
                                                m->backoff_cap);
    d->updated_at_ms = now;
    ss->dirty = true;
    log_warn("service.task_failed", "service=%s task=%s deployment=%s failures=%lld "
             "reason=\"%s\"", s->name, t->id, d->id, (long long)d->start_failures,
             t->stopped_reason ? t->stopped_reason : "");
    if (d->start_failures == UNSTABLE_AFTER)
        service_event(s, now, "is unable to consistently start tasks successfully. "
                      "For more information, see the Troubleshooting section of the "
                      "Amazon ECS Developer Guide.");
}

static void trip_breaker(struct services *m, struct service *s, int64_t now)
{
    struct svc_deployment *p = service_primary(s);
    char reason[200];

    p->rollout = ROLL_FAILED;
    p->updated_at_ms = now;
    free(p->rollout_reason);
    p->rollout_reason = xstrdup("ECS deployment circuit breaker: tasks failed to start.");
    service_event(s, now, "(deployment %s) deployment failed: tasks failed to start.",
                  p->id);
    log_warn("service.deployment_failed", "service=%s deployment=%s failed_tasks=%lld",
             s->name, p->id, (long long)p->failed_tasks);
    SS(s)->dirty = true;
    if (!s->dc.cb_rollback || !s->stable_taskdef ||
        strcmp(s->stable_taskdef, p->taskdef_arn) == 0)
        return;
    char *to = xstrdup(s->stable_dep_id ? s->stable_dep_id : p->id);
    /* The last COMPLETED deployment is still listed while its tasks run:
     * it becomes PRIMARY again and keeps them, rather than replacing
     * healthy tasks with copies of themselves. */
    struct svc_deployment *n = s->stable_dep_id
                                   ? service_reinstate(s, s->stable_dep_id, now)
                                   : NULL;
    if (!n)
        n = service_deploy(s, s->stable_taskdef, now);
    snprintf(reason, sizeof reason,
             "ECS deployment circuit breaker: rolling back to deploymentId %s.", to);
    free(n->rollout_reason);
    n->rollout_reason = xstrdup(reason);
    service_event(s, now, "rolling back to deployment %s.", to);
    log_info("service.rollback", "service=%s deployment=%s taskdef=%s", s->name, n->id,
             s->stable_taskdef);
    free(to);
    (void)m;
}

/* Newest first, tasks not yet running before running ones. */
static int stop_order(const void *a, const void *b)
{
    const struct task *x = *(struct task *const *)a, *y = *(struct task *const *)b;
    bool rx = is_healthy(x), ry = is_healthy(y);
    if (rx != ry)
        return rx ? 1 : -1;
    return x->created_at_ms < y->created_at_ms ? 1 : x->created_at_ms > y->created_at_ms ? -1 : 0;
}

/* ECS's words for a RESOURCE:* shortage. */
static const char *shortage(const char *why)
{
    if (strcmp(why, "RESOURCE:CPU") == 0)
        return "has insufficient CPU units available";
    if (strcmp(why, "RESOURCE:MEMORY") == 0)
        return "has insufficient memory available";
    return "is already using a port required by your task";
}

/* How many of n tasks of rec fit on this host (resources.h), as RunTask
 * places them; none fitting is ECS's "unable to place" event. */
static int64_t place(struct services *m, struct service *s,
                     const struct store_taskdef *rec, int64_t n, int64_t now)
{
    struct taskdef *td = NULL;
    struct json_errors errs = {0};
    struct res need, used;
    struct task **all;
    size_t n_all;
    const char *why;
    int fit;

    if (!m->host)
        return n;
    if (taskdef_parse(rec->json, strlen(rec->json), &td, &errs) < 0) {
        json_errors_clear(&errs);
        return n; /* tasks_run() says what is wrong with it */
    }
    json_errors_clear(&errs);
    n_all = tasks_all(m->tasks, &all);
    if (res_taskdef(&need, td) < 0 || res_used(&used, all, n_all) < 0)
        abort(); /* out of memory */
    taskdef_free(td);
    fit = res_place(m->host, &used, &need, (int)n, &why);
    res_free(&need);
    res_free(&used);
    if (fit < 0)
        abort();
    if (fit == 0) {
        log_info("service.unplaced", "service=%s reason=%s", s->name, why);
        service_event(s, now,
                      "was unable to place a task because no container instance met all "
                      "of its requirements. The closest matching container-instance %s %s.",
                      m->instance_id, shortage(why));
    }
    return fit;
}

static int start_tasks(struct services *m, struct service *s, struct svc_deployment *p,
                       int64_t n, int64_t now)
{
    struct store_taskdef rec = {0};
    struct task *out[10];
    char err[1024], group[300], list[1024] = "";

    if (n > 10)
        n = 10;
    if (store_td_describe(m->st, p->taskdef_arn, &rec, err, sizeof err) != STORE_OK) {
        log_error("service.start_failed", "service=%s taskdef=%s error=\"%s\"", s->name,
                  p->taskdef_arn, err);
        service_event(s, now, "was unable to start tasks: %s", err);
        p->start_failures++;
        p->next_start_ms = now + service_backoff_ms(p->start_failures, m->backoff_base,
                                                    m->backoff_cap);
        SS(s)->dirty = true;
        return 0;
    }
    if ((n = place(m, s, &rec, n, now)) == 0) {
        p->next_start_ms = now + PLACE_RETRY_MS;
        SS(s)->dirty = true;
        store_taskdef_free(&rec);
        return 0;
    }
    snprintf(group, sizeof group, "service:%s", s->name);
    const cJSON *tags = strcmp(s->propagate_tags, "SERVICE") == 0 ? s->tags : NULL;
    if (tasks_run(m->tasks, rec.arn, rec.revision, rec.json, p->id, group, tags, (int)n,
                  NULL, NULL, NULL, out, err, sizeof err) < 0) {
        log_error("service.start_failed", "service=%s error=\"%s\"", s->name, err);
        service_event(s, now, "was unable to start tasks: %s", err);
        p->start_failures++;
        p->next_start_ms = now + service_backoff_ms(p->start_failures, m->backoff_base,
                                                    m->backoff_cap);
        SS(s)->dirty = true;
        store_taskdef_free(&rec);
        return 0;
    }
    for (int64_t i = 0; i < n; i++)
        list_task(list, sizeof list, out[i]);
    service_event(s, now, "has started %lld tasks:%s.", (long long)n, list);
    log_info("service.tasks_started", "service=%s deployment=%s count=%lld", s->name,
             p->id, (long long)n);
    store_taskdef_free(&rec);
    SS(s)->dirty = true;
    return (int)n;
}

/* Stops (drains) n tasks of v in stop order; returns how many. */
static size_t stop_some(struct services *m, struct service *s, struct task **v,
                        size_t nv, size_t n, const char *reason, char *list,
                        size_t lsize, size_t *drained)
{
    size_t done = 0;
    qsort(v, nv, sizeof *v, stop_order);
    for (size_t i = 0; i < nv && done < n; i++) {
        if (!is_live(v[i]))
            continue;
        *drained += (size_t)drain_task(m, s, v[i], STOP_SERVICE, reason);
        list_task(list, lsize, v[i]);
        done++;
    }
    return done;
}

static void step_service(struct services *m, struct service *s, int64_t now)
{
    struct sstate *ss = SS(s);
    struct svc_deployment *p = service_primary(s);
    struct task **all;
    size_t n = tasks_all(m->tasks, &all);
    struct census c = {0};
    bool any_left = false;
    size_t drained = 0, stopped = 0;
    char list[1024] = "";

    if (s->status == SVC_INACTIVE)
        return;
    c.p = jw_calloc(n + 1, sizeof *c.p);
    c.old = jw_calloc(n + 1, sizeof *c.old);

    /* What happened to the tasks; unhealthy ones go. */
    for (size_t i = 0; i < n; i++) {
        struct task *t = all[i];
        if (!of_service(s, t))
            continue;
        /* A task ends when it is to stop, not once it has: a replacement
         * must not start before the failure is counted (and its backoff
         * set) while the engine still tears the old one down. */
        if (t->desired_status == TASK_STOPPED || t->last_status == TASK_STOPPED) {
            if (!seen(ss, t->arn))
                handle_stopped(m, s, t, now);
            tell_gone(m, s, t);
            any_left |= t->last_status != TASK_STOPPED;
            continue;
        }
        any_left = true;
        if (!is_live(t))
            continue;
        struct svc_deployment *d = service_deployment(s, t->started_by);
        ssize_t lb_bad = t->last_status == TASK_RUNNING ? lb_bad_index(m, t->arn) : -1;
        if (t->last_status == TASK_RUNNING &&
            (task_health(t) == HEALTH_UNHEALTHY || lb_bad >= 0)) {
            int64_t grace_end = t->started_at_ms + s->grace_s * 1000;
            if (now < grace_end) {
                wake_at(m, grace_end);
            } else {
                if (lb_bad >= 0) {
                    lb_bad_drop(m, (size_t)lb_bad);
                    service_event(s, now, "(task %s) failed load balancer health checks.",
                                  t->id);
                } else {
                    service_event(s, now, "(task %s) failed container health checks.",
                                  t->id);
                }
                if (d && d == p && p->rollout == ROLL_IN_PROGRESS) {
                    p->failed_tasks++;
                    p->updated_at_ms = now;
                }
                stopped++;
                drained += (size_t)drain_task(m, s, t, STOP_SERVICE,
                                              "Task failed container health checks");
                list_task(list, sizeof list, t);
                ss->dirty = true;
                continue;
            }
        }
        bool h = is_healthy(t);
        if (d && d == p) {
            c.p[c.n_p++] = t;
            c.h_p += h;
            if (h && p->start_failures) {
                /* ECS's resetOnHealthyTask: a healthy task ends a streak. */
                p->start_failures = 0;
                p->next_start_ms = 0;
                ss->dirty = true;
            }
        } else {
            c.old[c.n_old++] = t;
            c.h_old += h;
        }
    }

    if (p && p->rollout == ROLL_IN_PROGRESS && s->dc.cb_enable &&
        p->failed_tasks >= service_cb_threshold(s->desired_count)) {
        const char *pid = p->id; /* the string outlives a move of deps */
        trip_breaker(m, s, now);
        if (!service_primary(s) || service_primary(s)->id != pid) {
            /* Rolled back: count again from the new primary, next turn. */
            census_free(&c);
            kick(m);
            return;
        }
    }

    int64_t desired = s->status == SVC_ACTIVE ? s->desired_count : 0;
    if (p && (int64_t)c.n_p > desired) {
        /* Scale in. */
        char why[120];
        snprintf(why, sizeof why, "Scaling activity initiated by (deployment %s)", p->id);
        size_t k = stop_some(m, s, c.p, c.n_p, c.n_p - (size_t)desired, why, list,
                             sizeof list, &drained);
        stopped += k;
        c.n_p -= k; /* stop_some sorted c.p: the live ones left are at its end */
        memmove(c.p, c.p + k, c.n_p * sizeof *c.p);
        c.h_p = 0;
        for (size_t i = 0; i < c.n_p; i++)
            c.h_p += is_healthy(c.p[i]);
    }

    int64_t live = (int64_t)(c.n_p + c.n_old);
    int64_t healthy = (int64_t)(c.h_p + c.h_old);
    int64_t min_h = service_min_healthy(desired, s->dc.min_pct);
    int64_t max_r = service_max_running(desired, s->dc.max_pct);

    /* Old tasks: the unhealthy always, the healthy while min holds. */
    if (c.n_old) {
        size_t unhealthy = c.n_old - c.h_old;
        int64_t may = healthy - min_h;
        size_t want = unhealthy + (may > 0 ? (size_t)may : 0);
        if (want > c.n_old)
            want = c.n_old;
        size_t k = stop_some(m, s, c.old, c.n_old, want,
                             "Task stopped by the service scheduler: replaced by a "
                             "newer deployment", list, sizeof list, &drained);
        stopped += k;
        live -= (int64_t)k;
    }

    /* New tasks for the primary. */
    if (p && s->status == SVC_ACTIVE && p->rollout != ROLL_FAILED &&
        (int64_t)c.n_p < desired) {
        int64_t want = desired - (int64_t)c.n_p;
        int64_t room = c.n_old ? max_r - live : want;
        /* max and min leave no move (everything healthy, nothing may
         * stop, no room): one task over max. */
        if (room <= 0 && c.n_old && stopped == 0 && c.n_p == c.h_p &&
            live == (int64_t)(c.h_p + c.h_old) && live <= max_r)
            room = 1;
        if (room > want)
            room = want;
        if (room > 0) {
            if (now < p->next_start_ms)
                wake_at(m, p->next_start_ms);
            else if (start_tasks(m, s, p, room, now) > 0)
                p->steady_reported = false;
        }
    }

    if (stopped) {
        if (drained)
            service_event(s, now, "has begun draining connections on %zu tasks.", drained);
        service_event(s, now, "has stopped %zu running tasks:%s.", stopped, list);
        if (p)
            p->steady_reported = false;
        ss->dirty = true;
    }

    /* Old deployments with nothing left go.  tasks_run() may have moved
     * the manager's array: read it again. */
    n = tasks_all(m->tasks, &all);
    for (size_t i = s->n_deps; i-- > 0;) {
        struct svc_deployment *d = &s->deps[i];
        if (d == p)
            continue;
        bool has = false;
        for (size_t k = 0; k < n && !has; k++)
            has = of_service(s, all[k]) && all[k]->last_status != TASK_STOPPED &&
                  all[k]->started_by && strcmp(all[k]->started_by, d->id) == 0;
        if (!has) {
            log_info("service.deployment_done", "service=%s deployment=%s", s->name, d->id);
            service_drop_deployment(s, i);
            p = service_primary(s);
            ss->dirty = true;
        }
    }

    /* Completed, steady. */
    if (p && s->status == SVC_ACTIVE && c.n_old == 0 && s->n_deps == 1 &&
        (int64_t)c.n_p == desired && (int64_t)c.h_p == desired && stopped == 0) {
        if (p->rollout == ROLL_IN_PROGRESS) {
            char reason[100];
            p->rollout = ROLL_COMPLETED;
            p->updated_at_ms = now;
            snprintf(reason, sizeof reason, "ECS deployment %s completed.", p->id);
            free(p->rollout_reason);
            p->rollout_reason = xstrdup(reason);
            free(s->stable_taskdef);
            s->stable_taskdef = xstrdup(p->taskdef_arn);
            free(s->stable_dep_id);
            s->stable_dep_id = xstrdup(p->id);
            service_event(s, now, "(deployment %s) deployment completed.", p->id);
            log_info("service.deployment_completed", "service=%s deployment=%s", s->name,
                     p->id);
            ss->dirty = true;
        }
        if (p->rollout == ROLL_COMPLETED && !p->steady_reported) {
            p->steady_reported = true;
            service_event(s, now, "has reached a steady state.");
            ss->dirty = true;
        }
    }

    if (s->status == SVC_DRAINING && !any_left) {
        s->status = SVC_INACTIVE;
        s->inactive_at_ms = now;
        log_info("service.inactive", "service=%s", s->name);
        ss->dirty = true;
    }
    census_free(&c);
}

/* ---- the loop ---- */

static void forget(struct services *m, size_t i)
{
    struct service *s = m->v[i];
    struct sstate *ss = SS(s);
    list_free(ss->seen, ss->n_seen);
    list_free(ss->gone, ss->n_gone);
    free(ss);
    service_free(s);
    memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
    m->n--;
}

/* ---- the live view ---- */

/* Publishes every service's running tasks to the registry (a snapshot equal
 * to the current one is dropped there, so this may run on every step). */
static void publish(struct services *m)
{
    struct reg_snapshot *snap;
    struct task **all;
    size_t n_all;

    if (!m->reg)
        return;
    if (!(snap = reg_snapshot_new(m->cluster)))
        goto oom;
    n_all = tasks_all(m->tasks, &all);
    for (size_t i = 0; i < m->n; i++) {
        struct service *s = m->v[i];
        struct reg_service *v;
        if (s->status == SVC_INACTIVE)
            continue;
        if (!(v = registry_feed_service(snap, s)))
            goto oom;
        for (size_t k = 0; k < n_all; k++) {
            struct task *t = all[k];
            if (!of_service(s, t) ||
                (!draining(t) && (t->last_status != TASK_RUNNING ||
                                  t->desired_status != TASK_RUNNING)))
                continue;
            if (registry_feed_task(v, t, is_healthy(t), draining(t)) < 0)
                goto oom;
        }
    }
    registry_publish(m->reg, snap);
    return;
oom:
    /* The old view stays; the next step tries again. */
    reg_snapshot_free(snap);
    log_error("services.publish_failed", "error=\"out of memory\"");
}

static void step_all(struct services *m)
{
    int64_t now = clock_wall_ms();
    double t0 = clock_mono_s();
    char err[300];

    m->wake_ms = 0;
    if (m->quiet)
        return;
    if (!tasks_engine_ready(m->tasks)) {
        wake_at(m, now + NOT_READY_RETRY_MS);
    } else {
        for (size_t i = 0; i < m->n; i++) {
            struct service *s = m->v[i];
            list_prune(m, SS(s)->seen, &SS(s)->n_seen);
            list_prune(m, SS(s)->gone, &SS(s)->n_gone);
            step_service(m, s, now);
            if (SS(s)->dirty)
                persist(m, s, NULL, 0);
        }
    }
    for (size_t i = m->n; i-- > 0;) {
        struct service *s = m->v[i];
        if (s->status != SVC_INACTIVE)
            continue;
        if (now - s->inactive_at_ms >= m->inactive_ms) {
            if (store_service_delete(m->st, s->arn, err, sizeof err) != STORE_OK)
                log_error("service.forget_failed", "service=%s error=\"%s\"", s->name,
                          err);
            else
                forget(m, i);
        } else {
            wake_at(m, s->inactive_at_ms + m->inactive_ms);
        }
    }
    publish(m);
    if (m->on_pass)
        m->on_pass(m->on_pass_arg, clock_mono_s() - t0);
    int64_t in = m->wake_ms ? m->wake_ms - now : MAX_WAKE_MS;
    if (in > MAX_WAKE_MS)
        in = MAX_WAKE_MS;
    if (in < 10)
        in = 10;
    ev_timer_stop(m->loop, &m->timer);
    ev_timer_set(&m->timer, (double)in / 1000.0, 0.);
    ev_timer_start(m->loop, &m->timer);
}

static void on_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)revents;
    ev_idle_stop(loop, w);
    step_all(w->data);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    step_all(w->data);
}

static void on_task_change(void *arg, const struct task *t)
{
    struct services *m = arg;
    if (strncmp(t->group, "service:", 8) == 0)
        kick(m);
}

/* ---- the manager ---- */

static int add(struct services *m, struct service *s)
{
    struct service **g = realloc(m->v, (m->n + 1) * sizeof *g);
    struct sstate *ss = calloc(1, sizeof *ss);
    struct task **all;
    size_t n = tasks_all(m->tasks, &all);

    if (!g || !ss) {
        free(ss);
        if (g)
            m->v = g;
        return -1;
    }
    m->v = g;
    ss->m = m;
    ss->s = s;
    s->mgr = ss;
    m->v[m->n++] = s;
    /* Tasks that stopped before now were handled by an earlier agent (or
     * belong to an earlier service of that name). */
    for (size_t i = 0; i < n; i++)
        if (of_service(s, all[i]) && (all[i]->last_status == TASK_STOPPED ||
                                      all[i]->desired_status == TASK_STOPPED)) {
            mark_seen(ss, all[i]->arn);
            /* A drain that outlived that agent still ends with a gone. */
            if (!draining(all[i]))
                list_add(&ss->gone, &ss->n_gone, all[i]->arn);
        }
    return 0;
}

struct load_ctx {
    struct services *m;
    int failed;
};

static void load_one(void *arg, const char *json)
{
    struct load_ctx *x = arg;
    char err[300];
    struct service *s = service_from_json(json, err, sizeof err);
    if (!s) {
        log_error("service.load_failed", "error=\"%s\"", err);
        return;
    }
    if (add(x->m, s) < 0) {
        service_free(s);
        x->failed = 1;
    }
}

struct services *services_new(struct ev_loop *loop, struct store *st,
                              struct tasks *tasks, const struct services_conf *c,
                              char *err, size_t errlen)
{
    struct services *m = jw_calloc(1, sizeof *m);
    struct load_ctx x = {m, 0};

    m->loop = loop;
    m->st = st;
    m->tasks = tasks;
    m->cluster = xstrdup(c->cluster);
    m->host = c->host;
    m->instance_id = xstrdup(c->instance_id);
    m->region = xstrdup(c->region);
    m->account = xstrdup(c->account_id);
    m->backoff_base = c->backoff_base_ms ? (int64_t)c->backoff_base_ms
                                         : DEFAULT_BACKOFF_BASE_MS;
    m->backoff_cap = c->backoff_cap_ms ? (int64_t)c->backoff_cap_ms : DEFAULT_BACKOFF_CAP_MS;
    m->inactive_ms = c->inactive_retention_ms ? (int64_t)c->inactive_retention_ms
                                              : DEFAULT_INACTIVE_MS;
    ev_idle_init(&m->idle, on_idle);
    m->idle.data = m;
    ev_init(&m->timer, on_timer);
    m->timer.data = m;
    if (store_service_load(st, load_one, &x, err, errlen) != STORE_OK || x.failed) {
        if (x.failed)
            snprintf(err, errlen, "out of memory");
        services_free(m);
        return NULL;
    }
    tasks_on_change(tasks, on_task_change, m);
    log_info("services.loaded", "count=%zu", m->n);
    kick(m);
    return m;
}

void services_free(struct services *m)
{
    if (!m)
        return;
    if (m->tasks)
        tasks_on_change(m->tasks, NULL, NULL);
    ev_idle_stop(m->loop, &m->idle);
    ev_timer_stop(m->loop, &m->timer);
    while (m->n)
        forget(m, m->n - 1);
    free(m->v);
    drainers_free(&m->drainers);
    while (m->n_lb_bad)
        lb_bad_drop(m, m->n_lb_bad - 1);
    free(m->lb_bad);
    free(m->cluster);
    free(m->instance_id);
    free(m->region);
    free(m->account);
    free(m);
}

void services_set_pass_observer(struct services *m, void (*fn)(void *arg, double seconds),
                                void *arg)
{
    m->on_pass = fn;
    m->on_pass_arg = arg;
}

void services_set_registry(struct services *m, struct registry *reg)
{
    m->reg = reg;
    kick(m);
}

int services_add_drainer(struct services *m, const struct drainer_ops *ops, void *arg)
{
    return drainers_add(&m->drainers, ops, arg);
}

int services_check_load_balancers(const struct services *m, const cJSON *lbs, char *err,
                                  size_t errlen)
{
    return drainers_check_target_groups(&m->drainers, lbs, err, errlen);
}

struct task *services_stop_task(struct services *m, const char *ref, const char *reason)
{
    struct task *t = tasks_find(m->tasks, ref);

    if (!t)
        return NULL;
    for (size_t i = 0; i < m->n; i++) {
        struct service *s = m->v[i];
        if (s->status == SVC_INACTIVE || !of_service(s, t))
            continue;
        if (drain_task(m, s, t, STOP_USER, reason && *reason ? reason : NULL)) {
            service_event(s, clock_wall_ms(),
                          "has begun draining connections on 1 tasks.");
            SS(s)->dirty = true;
            persist(m, s, NULL, 0);
        }
        kick(m);
        return t;
    }
    return tasks_stop(m->tasks, ref, STOP_USER, reason);
}

struct service *services_find(struct services *m, const char *ref)
{
    for (size_t i = 0; ref && i < m->n; i++)
        if (strcmp(m->v[i]->name, ref) == 0 || strcmp(m->v[i]->arn, ref) == 0)
            return m->v[i];
    return NULL;
}

size_t services_all(struct services *m, struct service ***out)
{
    *out = m->v;
    return m->n;
}

int services_create(struct services *m, struct service *s, char *err, size_t errlen)
{
    /* An INACTIVE service of the same name makes way. */
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i]->arn, s->arn) == 0) {
            forget(m, i);
            break;
        }
    if (add(m, s) < 0) {
        service_free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    service_event(s, s->created_at_ms, "was created.");
    if (persist(m, s, err, errlen) < 0) {
        forget(m, m->n - 1);
        return -1;
    }
    log_info("service.created", "service=%s taskdef=%s desired=%lld", s->name,
             s->taskdef_arn, (long long)s->desired_count);
    kick(m);
    return 0;
}

int services_save(struct services *m, struct service *s, char *err, size_t errlen)
{
    if (persist(m, s, err, errlen) < 0)
        return -1;
    kick(m);
    return 0;
}

int services_delete(struct services *m, struct service *s, char *err, size_t errlen)
{
    s->status = SVC_DRAINING;
    s->desired_count = 0;
    struct svc_deployment *p = service_primary(s);
    if (p)
        p->desired_count = 0;
    if (persist(m, s, err, errlen) < 0)
        return -1;
    log_info("service.deleted", "service=%s", s->name);
    kick(m);
    return 0;
}

void services_count(struct services *m, struct service *s)
{
    struct task **all;
    size_t n = tasks_all(m->tasks, &all);

    s->running_count = s->pending_count = 0;
    for (size_t i = 0; i < s->n_deps; i++)
        s->deps[i].running_count = s->deps[i].pending_count = 0;
    for (size_t i = 0; i < n; i++) {
        struct task *t = all[i];
        if (!of_service(s, t) || t->desired_status != TASK_RUNNING ||
            t->last_status > TASK_RUNNING)
            continue;
        bool running = t->last_status == TASK_RUNNING;
        struct svc_deployment *d = service_deployment(s, t->started_by);
        if (running)
            s->running_count++;
        else
            s->pending_count++;
        if (d) {
            if (running)
                d->running_count++;
            else
                d->pending_count++;
        }
    }
    /* An old deployment's desired count is what it still runs. */
    for (size_t i = 0; i < s->n_deps; i++)
        if (s->deps[i].status != DEP_PRIMARY)
            s->deps[i].desired_count = s->deps[i].running_count + s->deps[i].pending_count;
}

void services_quiesce(struct services *m)
{
    m->quiet = true;
    ev_idle_stop(m->loop, &m->idle);
    ev_timer_stop(m->loop, &m->timer);
}
