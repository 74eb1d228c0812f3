/* tasks.c: the task manager (see tasks.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/clock.h"
#include "agent/container_spec.h"
#include "agent/log.h"
#include "agent/ports.h"
#include "agent/runtime.h"
#include "agent/store.h"
#include "agent/task.h"
#include "agent/task_cleanup.h"
#include "agent/taskdef.h"
#include "agent/tasks.h"

#define MAX_CONTAINERS TASKDEF_MAX_CONTAINERS

/* What the manager keeps beside each task. */
struct tstate {
    struct tasks *m;
    struct task *t;
    bool busy;             /* an operation is in flight */
    bool oom[MAX_CONTAINERS];
    bool restart[MAX_CONTAINERS]; /* restart in place wanted */
    size_t order[MAX_CONTAINERS]; /* start order (dependsOn first) */
    int cur;               /* container of the operation in flight */
    ev_timer start_timer;  /* dependsOn wait */
    bool timer_armed;
    ev_timer hold_timer;   /* DEACTIVATING: the drainers' wait is over */
    bool hold_armed;
    ev_timer cleanup_timer; /* a stopped task's containers are due */
    bool cleanup_armed;
    bool clean_now;        /* a new task needs its host ports */
    bool port_wait_logged;
};

struct tasks {
    struct ev_loop *loop;
    struct store *st;
    struct runtime *rt;
    struct ports *ports;
    struct tasks_conf c;
    char *cluster, *region, *account, *secrets_dir, *label;
    uint16_t *reserved;
    struct task **v; /* known tasks, in creation order */
    size_t n, cap;
    bool engine_ready; /* ENGINE_UP answered by a list */
    bool listing;
    bool engine_down;  /* known down (or no runtime attached) */
    bool quiet;        /* the agent is stopping: touch nothing */
    bool listed_once;  /* a listing after an ENGINE_UP was answered */
    const char *catching_up; /* during a listing: while what exits went unseen */
    char down_msg[400];
    ev_timer prune_timer;
    tasks_change_cb on_change;
    void *change_arg;
    char resolver[64]; /* tasks_set_resolver(); "": none */
};

static void step(struct task *t);
static void step_all(struct tasks *m);
static bool wait_for_ports(struct task *t);
static void step_cleanup(struct task *t);
static void disarm_cleanup_timer(struct task *t);
static int64_t store_keep_ms(const struct tasks_conf *c);

static struct tstate *TS(const struct task *t)
{
    return t->mgr;
}

/* ------------------------------------------------------------------ */
/* Saving                                                             */

/* 0, or -1 with err (logged) when the store failed. */
static int save(struct task *t, char *err, size_t errlen)
{
    struct tasks *m = TS(t)->m;
    cJSON *j;
    char *text;
    int rc = 0;

    t->version++;
    j = task_to_json(t, true);
    text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    } else if (store_task_put(m->st, t->arn, task_status_names[t->last_status],
                              t->last_status == TASK_STOPPED ? t->stopped_at_ms : 0,
                              text, t->taskdef_json, err, errlen) != STORE_OK) {
        rc = -1;
    }
    if (rc < 0)
        log_error("task.save_failed", "task=%s error=\"%s\"", t->id, err);
    free(text);
    if (m->on_change)
        m->on_change(m->change_arg, t);
    return rc;
}

static void persist(struct task *t)
{
    char err[300];
    (void)save(t, err, sizeof err);
}

int tasks_save(struct tasks *m, struct task *t, char *err, size_t errlen)
{
    (void)m;
    return save(t, err, errlen);
}

static void set_status(struct task *t, enum task_status s)
{
    if (s <= t->last_status)
        return;
    log_info("task.status", "task=%s family=%s from=%s to=%s", t->id, t->family,
             task_status_names[t->last_status], task_status_names[s]);
    t->last_status = s;
}

/* Desired STOPPED, keeping the first reason given. */
static void want_stopped(struct task *t, const char *code, const char *reason)
{
    if (t->desired_status == TASK_STOPPED)
        return;
    t->desired_status = TASK_STOPPED;
    t->stopping_at_ms = clock_wall_ms();
    task_set_str(&t->stop_code, code);
    task_set_str(&t->stopped_reason, reason);
    log_info("task.stopping", "task=%s family=%s code=%s reason=\"%s\"", t->id,
             t->family, code, reason);
}

static void fail(struct task *t, int ci, const char *code, const char *fmt, ...)
    BERTH_PRINTF(4, 5);
static void fail(struct task *t, int ci, const char *code, const char *fmt, ...)
{
    char reason[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (ci >= 0 && !t->containers[ci].reason)
        task_set_str(&t->containers[ci].reason, reason);
    want_stopped(t, code, reason);
}

/* ------------------------------------------------------------------ */
/* Ports                                                              */

static enum port_proto proto(const struct task_binding *b)
{
    return b->udp ? PORT_UDP : PORT_TCP;
}

static void release_ports(struct task *t)
{
    struct tasks *m = TS(t)->m;

    for (size_t i = 0; i < t->n_containers; i++)
        for (size_t j = 0; j < t->containers[i].n_bindings; j++) {
            struct task_binding *b = &t->containers[i].bindings[j];
            if (b->host_port && t->td->network_mode != TASKDEF_NET_AWSVPC)
                ports_release(m->ports, proto(b), b->host_port);
        }
}

/* Holds the ports a loaded task recorded. */
static void hold_ports(struct task *t)
{
    struct tasks *m = TS(t)->m;

    if (t->td->network_mode == TASKDEF_NET_AWSVPC)
        return;
    for (size_t i = 0; i < t->n_containers; i++)
        for (size_t j = 0; j < t->containers[i].n_bindings; j++) {
            struct task_binding *b = &t->containers[i].bindings[j];
            if (b->host_port && ports_hold(m->ports, proto(b), b->host_port) < 0)
                log_warn("task.port_conflict", "task=%s port=%u/%s", t->id,
                         b->host_port, b->udp ? "udp" : "tcp");
        }
}

/* PROVISIONING: every hostPort 0 gets one from the pool; static ones are
 * held so two tasks cannot both claim one.  In awsvpc mode each task has
 * its own address, so nothing is held. */
static int pick_ports(struct task *t)
{
    struct tasks *m = TS(t)->m;

    if (t->td->network_mode == TASKDEF_NET_AWSVPC ||
        t->td->network_mode == TASKDEF_NET_NONE)
        return 0;
    for (size_t i = 0; i < t->n_containers; i++)
        for (size_t j = 0; j < t->containers[i].n_bindings; j++) {
            struct task_binding *b = &t->containers[i].bindings[j];
            if (b->host_port == 0) {
                b->host_port = ports_take(m->ports, proto(b));
                b->dynamic = true;
                if (!b->host_port) {
                    fail(t, (int)i, STOP_FAILED_TO_START,
                         "ResourceError: no free host port left in the dynamic "
                         "range %u-%u for %s container port %u",
                         m->c.port_first, m->c.port_last, t->containers[i].name,
                         b->container_port);
                    return -1;
                }
            } else if (ports_hold(m->ports, proto(b), b->host_port) < 0) {
                uint16_t port = b->host_port;
                b->host_port = 0; /* not ours to release */
                fail(t, (int)i, STOP_FAILED_TO_START,
                     "ResourceError: host port %u/%s of container %s is %s", port,
                     b->udp ? "udp" : "tcp", t->containers[i].name,
                     ports_reserved(m->ports, port) ? "reserved in berth.conf"
                                                    : "used by another task");
                return -1;
            }
        }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Dependencies                                                       */

/* Start order: each container after the ones it depends on (dependsOn,
 * volumesFrom); definition order otherwise.  A cycle (which validation
 * refuses) falls back to definition order. */
static void compute_order(struct task *t)
{
    struct tstate *ts = TS(t);
    const struct taskdef *td = t->td;
    bool placed[MAX_CONTAINERS] = {0};
    size_t n = 0;

    while (n < td->n_containers) {
        bool progress = false;
        for (size_t i = 0; i < td->n_containers; i++) {
            if (placed[i])
                continue;
            const struct taskdef_container *c = &td->containers[i];
            bool ready = true;
            for (size_t k = 0; k < td->n_containers && ready; k++) {
                if (placed[k] || k == i)
                    continue;
                for (size_t d = 0; d < c->n_depends_on; d++)
                    if (strcmp(c->depends_on[d].container_name, td->containers[k].name) == 0)
                        ready = false;
                for (size_t d = 0; d < c->n_volumes_from; d++)
                    if (strcmp(c->volumes_from[d].source_container, td->containers[k].name) == 0)
                        ready = false;
            }
            if (ready) {
                placed[i] = true;
                ts->order[n++] = i;
                progress = true;
            }
        }
        if (!progress) {
            for (size_t i = 0; i < td->n_containers; i++)
                if (!placed[i])
                    ts->order[n++] = i;
        }
    }
}

enum dep_state { DEP_READY, DEP_WAIT, DEP_NEVER };

/* Whether container i may start; why not in why. */
static enum dep_state deps(struct task *t, size_t i, char *why, size_t whylen)
{
    const struct taskdef_container *c = &t->td->containers[i];

    for (size_t d = 0; d < c->n_depends_on; d++) {
        const struct taskdef_dependency *dep = &c->depends_on[d];
        const struct task_container *o = task_container(t, dep->container_name);
        const char *cond = taskdef_conditions[dep->condition];
        if (!o)
            continue;
        switch (dep->condition) {
        case TASKDEF_START:
            if (o->status == CTR_PENDING)
                goto wait;
            break;
        case TASKDEF_COMPLETE:
            if (o->status != CTR_STOPPED)
                goto wait;
            break;
        case TASKDEF_SUCCESS:
            if (o->status != CTR_STOPPED)
                goto wait;
            if (!o->has_exit_code || o->exit_code != 0) {
                snprintf(why, whylen, "dependency %s exited with %d; %s needs %s",
                         o->name, o->has_exit_code ? o->exit_code : -1, c->name, cond);
                return DEP_NEVER;
            }
            break;
        case TASKDEF_HEALTHY:
            if (o->engine_health == BERTH_HEALTH_HEALTHY)
                break;
            if (o->status == CTR_STOPPED) {
                snprintf(why, whylen, "dependency %s stopped before it was "
                         "HEALTHY; %s needs %s", o->name, c->name, cond);
                return DEP_NEVER;
            }
            if (o->status == CTR_RUNNING && o->engine_health == BERTH_HEALTH_NONE) {
                snprintf(why, whylen, "dependency %s has no health check; %s "
                         "needs %s", o->name, c->name, cond);
                return DEP_NEVER;
            }
            if (o->engine_health == BERTH_HEALTH_UNHEALTHY) {
                snprintf(why, whylen, "dependency %s is UNHEALTHY; %s needs %s",
                         o->name, c->name, cond);
                return DEP_NEVER;
            }
            goto wait;
        }
        continue;
    wait:
        snprintf(why, whylen, "%s waits for %s to %s", c->name, o->name, cond);
        return DEP_WAIT;
    }
    return DEP_READY;
}

static void start_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct tstate *ts = (struct tstate *)((char *)w - offsetof(struct tstate, start_timer));
    struct task *t = ts->t;
    char why[512] = "";

    (void)loop;
    (void)revents;
    ts->timer_armed = false;
    if (t->desired_status != TASK_RUNNING || t->last_status >= TASK_ACTIVATING)
        return;
    for (size_t k = 0; k < t->n_containers; k++) {
        size_t i = ts->order[k];
        if (t->containers[i].status == CTR_PENDING &&
            deps(t, i, why, sizeof why) == DEP_WAIT)
            break;
    }
    fail(t, -1, STOP_FAILED_TO_START,
         "DependencyTimeoutError: dependencies not met within the start "
         "timeout: %s", why);
    persist(t);
    step(t);
}

static void arm_start_timer(struct task *t, size_t i)
{
    struct tstate *ts = TS(t);
    int64_t s = t->td->containers[i].start_timeout;
    double after = s > 0 ? (double)s : (double)ts->m->c.start_timeout_ms / 1000.0;

    if (ts->timer_armed)
        return;
    ev_timer_init(&ts->start_timer, start_timer_cb, after, 0);
    ev_timer_start(ts->m->loop, &ts->start_timer);
    ts->timer_armed = true;
}

static void disarm_start_timer(struct task *t)
{
    struct tstate *ts = TS(t);
    if (ts->timer_armed) {
        ev_timer_stop(ts->m->loop, &ts->start_timer);
        ts->timer_armed = false;
    }
}

/* ------------------------------------------------------------------ */
/* What the engine reports of a container                            */

static void apply_info(struct task *t, size_t i, const struct berth_container_info *in)
{
    struct task_container *c = &t->containers[i];

    if (in->id && (!c->runtime_id || strcmp(c->runtime_id, in->id) != 0))
        task_set_str(&c->runtime_id, in->id);
    c->created = true;
    if (in->image_id && *in->image_id)
        task_set_str(&c->image_digest, in->image_id);
    if (in->ip_address && *in->ip_address)
        task_set_str(&c->ip_address, in->ip_address);
    if (c->engine_health != in->health) {
        c->engine_health = in->health;
        c->health_since_ms = clock_wall_ms();
    }
    if (in->health_output)
        task_set_str(&c->health_output, in->health_output);
    c->health_exit_code = in->health_exit_code;
}

/* The container stopped on its own (or was stopped by us). */
static void container_exited(struct task *t, size_t i, bool has_code, int code,
                             bool oom, const char *why)
{
    struct task_container *c = &t->containers[i];
    const struct taskdef_container *dc = &t->td->containers[i];
    struct tstate *ts = TS(t);

    if (c->status == CTR_STOPPED)
        return;
    bool was_running = c->status == CTR_RUNNING;
    c->status = CTR_STOPPED;
    c->has_exit_code = has_code;
    c->exit_code = code;
    if (oom || ts->oom[i])
        task_set_str(&c->reason, "OutOfMemoryError: Container killed due to "
                                 "memory usage");
    else if (why)
        task_set_str(&c->reason, why);
    else if (ts->m->catching_up && was_running) {
        char r[200];
        snprintf(r, sizeof r, "Exited while %s", ts->m->catching_up);
        task_set_str(&c->reason, r);
    }
    log_info("container.exited", "task=%s container=%s exit_code=%d oom=%d",
             t->id, c->name, has_code ? code : -1, oom || ts->oom[i]);
    ts->oom[i] = false;
    if (t->desired_status != TASK_RUNNING || !was_running)
        return;

    /* restartPolicy: in place, unless the code is ignored or the container
     * did not run for restartAttemptPeriod since its last start. */
    if (dc->has_restart_policy && dc->restart_policy.enabled && has_code) {
        bool ignored = false;
        for (size_t k = 0; k < dc->restart_policy.ignored_exit_codes.n; k++)
            if (dc->restart_policy.ignored_exit_codes.v[k] == code)
                ignored = true;
        int64_t ran = clock_wall_ms() - c->started_at_ms;
        if (!ignored && ran >= dc->restart_policy.restart_attempt_period * 1000) {
            ts->restart[i] = true;
            return;
        }
    }
    if (c->essential && ts->m->catching_up) {
        char r[200];
        snprintf(r, sizeof r, "Essential container in task exited while %s",
                 ts->m->catching_up);
        want_stopped(t, STOP_ESSENTIAL_EXITED, r);
    } else if (c->essential) {
        want_stopped(t, STOP_ESSENTIAL_EXITED, "Essential container in task exited");
    }
}

/* ------------------------------------------------------------------ */
/* Operations                                                         */

static struct task *op_task(void *arg)
{
    struct task *t = arg;
    TS(t)->busy = false;
    return t;
}

static const char *fail_kind(enum berth_rt_code code, const char *otherwise)
{
    switch (code) {
    case BERTH_RT_NOT_FOUND: return "CannotPullContainerError";
    case BERTH_RT_UNAVAILABLE: return "EngineUnavailableError";
    default: return otherwise;
    }
}

static void on_inspected(void *arg, enum berth_rt_code code,
                         const struct berth_container_info *in, const char *msg)
{
    struct task *t = op_task(arg);
    int i = TS(t)->cur;

    if (code == BERTH_RT_OK && in) {
        struct task_container *c = &t->containers[i];
        apply_info(t, (size_t)i, in);
        /* Set before the event that says so may come. */
        if (in->state == BERTH_CTR_EXITED && c->status == CTR_STOPPED &&
            !c->has_exit_code) {
            /* We stopped it: now we know how it ended. */
            c->has_exit_code = true;
            c->exit_code = in->exit_code;
            if (in->oom_killed)
                task_set_str(&c->reason, "OutOfMemoryError: Container killed due "
                                         "to memory usage");
        } else if (in->state == BERTH_CTR_EXITED)
            container_exited(t, (size_t)i, true, in->exit_code, in->oom_killed,
                             in->error && *in->error ? in->error : NULL);
        else if (in->state == BERTH_CTR_RUNNING && c->status == CTR_PENDING)
            c->status = CTR_RUNNING;
    } else {
        log_warn("container.inspect_failed", "task=%s code=%s msg=\"%s\"", t->id,
                 runtime_code_name(code), msg ? msg : "");
    }
    persist(t);
    step(t);
}

static void inspect_now(struct task *t, size_t i)
{
    struct tstate *ts = TS(t);

    ts->cur = (int)i;
    ts->busy = true;
    if (runtime_inspect(ts->m->rt, t->containers[i].runtime_id, on_inspected, t) < 0)
        ts->busy = false;
}

static void on_sandbox(void *arg, enum berth_rt_code code, const char *id,
                       const char *msg)
{
    struct task *t = op_task(arg);

    if (code != BERTH_RT_OK) {
        fail(t, -1, STOP_FAILED_TO_START, "%s: cannot create the task's sandbox: %s",
             fail_kind(code, "CannotCreateContainerError"), msg);
    } else {
        t->sandbox_done = true;
        task_set_str(&t->sandbox_id, id);
    }
    persist(t);
    step(t);
}

static void on_created(void *arg, enum berth_rt_code code, const char *id,
                       const char *msg)
{
    struct task *t = op_task(arg);
    int i = TS(t)->cur;
    struct task_container *c = &t->containers[i];

    if (code == BERTH_RT_OK) {
        task_set_str(&c->runtime_id, id);
        c->created = true;
        c->created_at_ms = clock_wall_ms();
    } else if (code == BERTH_RT_CONFLICT && !c->runtime_id) {
        /* The name is taken: most likely our own container, created just
         * before the agent died, which the listing will adopt. */
        fail(t, i, STOP_FAILED_TO_START, "CannotCreateContainerError: %s", msg);
    } else if (code == BERTH_RT_NOT_FOUND) {
        fail(t, i, STOP_FAILED_TO_START, "CannotPullContainerError: %s", msg);
    } else {
        fail(t, i, STOP_FAILED_TO_START, "%s: %s",
             fail_kind(code, "CannotCreateContainerError"), msg);
    }
    persist(t);
    step(t);
}

static void on_started(void *arg, enum berth_rt_code code, const char *msg)
{
    struct task *t = op_task(arg);
    int i = TS(t)->cur;
    struct task_container *c = &t->containers[i];

    if (code == BERTH_RT_OK) {
        if (c->status != CTR_STOPPED || TS(t)->restart[i]) {
            if (TS(t)->restart[i]) {
                TS(t)->restart[i] = false;
                c->restarts++;
                task_set_str(&c->reason, NULL);
                c->has_exit_code = false;
                log_info("container.restarted", "task=%s container=%s restarts=%d",
                         t->id, c->name, c->restarts);
            }
            c->status = CTR_RUNNING;
        }
        c->started_at_ms = clock_wall_ms();
        persist(t);
        inspect_now(t, (size_t)i); /* health, address, or an exit already */
        if (!TS(t)->busy)
            step(t);
        return;
    }
    TS(t)->restart[i] = false;
    fail(t, i, STOP_FAILED_TO_START, "%s: %s",
         fail_kind(code, "CannotStartContainerError"), msg);
    persist(t);
    step(t);
}

static void on_stopped(void *arg, enum berth_rt_code code, const char *msg)
{
    struct task *t = op_task(arg);
    int i = TS(t)->cur;

    if (code == BERTH_RT_OK || code == BERTH_RT_NOT_FOUND) {
        /* Stopped, whatever the inspect that follows says of how. */
        container_exited(t, (size_t)i, false, 0, false,
                         code == BERTH_RT_NOT_FOUND
                             ? "the container was gone from the engine"
                             : NULL);
        if (code == BERTH_RT_OK) {
            inspect_now(t, (size_t)i); /* for the exit code */
            if (TS(t)->busy)
                return;
        }
        persist(t);
        step(t);
        return;
    }
    /* The engine is down: the next ENGINE_UP steps again. */
    log_warn("container.stop_failed", "task=%s container=%s code=%s msg=\"%s\"",
             t->id, t->containers[i].name, runtime_code_name(code), msg);
}

static void on_removed(void *arg, enum berth_rt_code code, const char *msg)
{
    struct task *t = op_task(arg);
    int i = TS(t)->cur;

    if (code == BERTH_RT_OK || code == BERTH_RT_NOT_FOUND) {
        if (i >= 0) {
            t->containers[i].created = false;
        } else {
            free(t->sandbox_id);
            t->sandbox_id = NULL;
        }
        persist(t);
        if (task_has_leftovers(t)) {
            step(t);
            return;
        }
        log_info("task.cleaned", "task=%s family=%s", t->id, t->family);
        if (TS(t)->clean_now) {
            TS(t)->clean_now = false;
            step_all(TS(t)->m); /* the tasks waiting for its ports */
        }
        return;
    }
    log_warn("container.remove_failed", "task=%s code=%s msg=\"%s\"", t->id,
             runtime_code_name(code), msg);
}

/* ------------------------------------------------------------------ */
/* The steps                                                          */

/* hp: room for the metadata endpoint's "ADDR:PORT" as t's containers
 * reach it (metadata.h); none when the runtime knows no such address. */
static struct spec_opts spec_opts(const struct tasks *m, const struct task *t,
                                  char *hp, size_t hplen)
{
    struct spec_opts o = {m->cluster, m->secrets_dir, m->c.image_healthcheck, NULL, NULL};
    const char *addr = m->c.metadata_port && t->td
                           ? runtime_host_address(m->rt, taskdef_network_modes[t->td->network_mode])
                           : NULL;

    if (addr) {
        snprintf(hp, hplen, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr,
                 (unsigned)m->c.metadata_port);
        o.metadata_hostport = hp;
    }
    /* Only where the task's containers reach the resolver's address (not
     * host mode: those use the host's resolv.conf). */
    const char *gw = m->resolver[0] && t->td && (t->td->network_mode == TASKDEF_NET_BRIDGE ||
                                                 t->td->network_mode == TASKDEF_NET_AWSVPC)
                         ? runtime_host_address(m->rt, taskdef_network_modes[t->td->network_mode])
                         : NULL;
    if (gw && strcmp(gw, m->resolver) == 0)
        o.dns_server = m->resolver;
    return o;
}

void tasks_set_resolver(struct tasks *m, const char *addr)
{
    snprintf(m->resolver, sizeof m->resolver, "%s", addr ? addr : "");
}

/* Begins an operation; false when the runtime refused it at once. */
static bool begin(struct task *t, int ci, int r)
{
    struct tstate *ts = TS(t);

    if (r < 0) {
        ts->busy = false;
        fail(t, ci, STOP_FAILED_TO_START, "EngineUnavailableError: %s",
             runtime_unavailable(ts->m->rt));
        return false;
    }
    return true;
}

static void step_run(struct task *t)
{
    struct tstate *ts = TS(t);
    struct tasks *m = ts->m;
    char hp[80];
    struct spec_opts so = spec_opts(m, t, hp, sizeof hp);
    char err[1024];

    if (t->last_status == TASK_PROVISIONING) {
        if (pick_ports(t) < 0) {
            persist(t);
            step(t);
            return;
        }
        set_status(t, TASK_PENDING);
        t->pull_started_at_ms = clock_wall_ms();
        persist(t);
    }
    if (t->last_status == TASK_PENDING || t->last_status == TASK_ACTIVATING ||
        t->last_status == TASK_RUNNING) {
        if (!t->sandbox_done) {
            if (wait_for_ports(t)) {
                if (!ts->port_wait_logged)
                    log_info("task.waiting_ports", "task=%s", t->id);
                ts->port_wait_logged = true;
                return;
            }
            char *spec = sandbox_spec_json(t, &so);
            ts->busy = true;
            ts->cur = -1;
            bool ok = spec && begin(t, -1, runtime_sandbox_create(m->rt, spec, on_sandbox, t));
            free(spec);
            if (!ok) {
                persist(t);
                step(t);
            }
            return;
        }
        for (size_t k = 0; k < t->n_containers; k++) {
            size_t i = ts->order[k];
            struct task_container *c = &t->containers[i];
            if (c->created || c->status != CTR_PENDING)
                continue;
            char *spec = container_spec_json(t, i, &so, err, sizeof err);
            if (!spec) {
                fail(t, (int)i, STOP_FAILED_TO_START, "CannotCreateContainerError: %s",
                     err);
                persist(t);
                step(t);
                return;
            }
            ts->busy = true;
            ts->cur = (int)i;
            bool ok = begin(t, (int)i, runtime_create(m->rt, spec, on_created, t));
            explicit_bzero(spec, strlen(spec));
            free(spec);
            if (!ok) {
                persist(t);
                step(t);
            }
            return;
        }
        if (!t->pull_stopped_at_ms) {
            t->pull_stopped_at_ms = clock_wall_ms();
            persist(t);
        }
        bool waiting = false;
        for (size_t k = 0; k < t->n_containers; k++) {
            size_t i = ts->order[k];
            struct task_container *c = &t->containers[i];
            if (c->status == CTR_STOPPED && ts->restart[i]) {
                ts->busy = true;
                ts->cur = (int)i;
                if (runtime_start(m->rt, c->runtime_id, on_started, t) < 0)
                    ts->busy = false; /* engine away: retried at ENGINE_UP */
                return;
            }
            if (c->status != CTR_PENDING)
                continue;
            char why[512];
            switch (deps(t, i, why, sizeof why)) {
            case DEP_NEVER:
                fail(t, (int)i, STOP_FAILED_TO_START, "DependencyError: %s", why);
                persist(t);
                step(t);
                return;
            case DEP_WAIT:
                waiting = true;
                arm_start_timer(t, i);
                continue;
            case DEP_READY:
                break;
            }
            ts->busy = true;
            ts->cur = (int)i;
            if (!begin(t, (int)i, runtime_start(m->rt, c->runtime_id, on_started, t))) {
                persist(t);
                step(t);
            }
            return;
        }
        if (waiting || t->last_status >= TASK_RUNNING)
            return;
        disarm_start_timer(t);
        set_status(t, TASK_ACTIVATING);
        /* Load balancer registration goes here (the proxy issue). */
        set_status(t, TASK_RUNNING);
        t->started_at_ms = clock_wall_ms();
        persist(t);
    }
}

static void hold_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct tstate *ts = (struct tstate *)((char *)w - offsetof(struct tstate, hold_timer));

    (void)loop;
    (void)revents;
    ts->hold_armed = false;
    step(ts->t);
}

static void disarm_hold_timer(struct task *t)
{
    struct tstate *ts = TS(t);
    if (ts->hold_armed) {
        ev_timer_stop(ts->m->loop, &ts->hold_timer);
        ts->hold_armed = false;
    }
}

/* DEACTIVATING until the drainers' wait is over (tasks_stop_after); true
 * while it lasts, with a timer armed to step again. */
static bool held(struct task *t)
{
    struct tstate *ts = TS(t);
    int64_t left = t->deactivate_until_ms - clock_wall_ms();

    if (t->deactivate_until_ms == 0 || left <= 0)
        return false;
    if (!ts->hold_armed) {
        ev_timer_init(&ts->hold_timer, hold_timer_cb, (double)left / 1000.0, 0);
        ev_timer_start(ts->m->loop, &ts->hold_timer);
        ts->hold_armed = true;
    }
    return true;
}

/* The next container to stop: the last in start order still running, so
 * a container stops after those that depend on it. */
static void step_stop(struct task *t)
{
    struct tstate *ts = TS(t);
    struct tasks *m = ts->m;

    disarm_start_timer(t);
    if (t->last_status < TASK_STOPPING) {
        if (t->last_status >= TASK_ACTIVATING && t->last_status != TASK_DEACTIVATING) {
            set_status(t, TASK_DEACTIVATING);
            persist(t);
        }
        /* Out of the load balancers and DNS (the registry shows it
         * draining), still serving what it has, until the wait is over. */
        if (t->last_status == TASK_DEACTIVATING && held(t))
            return;
        set_status(t, TASK_STOPPING);
        persist(t);
    }
    if (t->last_status == TASK_STOPPING) {
        for (size_t k = t->n_containers; k-- > 0;) {
            size_t i = ts->order[k];
            struct task_container *c = &t->containers[i];
            ts->restart[i] = false;
            if (c->status == CTR_STOPPED)
                continue;
            if (!c->created) {
                c->status = CTR_STOPPED; /* never created: nothing to stop */
                continue;
            }
            ts->busy = true;
            ts->cur = (int)i;
            if (runtime_stop(m->rt, c->runtime_id,
                             (uint32_t)t->td->containers[i].stop_timeout,
                             on_stopped, t) < 0)
                ts->busy = false; /* retried at ENGINE_UP */
            return;
        }
        t->execution_stopped_at_ms = clock_wall_ms();
        set_status(t, TASK_DEPROVISIONING);
        persist(t);
    }
    if (t->last_status == TASK_DEPROVISIONING) {
        /* The containers stay for the cleanup delay (step_cleanup); their
         * host ports go back to the pool, and a task that is given one
         * has them removed first (wait_for_ports). */
        release_ports(t);
        set_status(t, TASK_STOPPED);
        t->stopped_at_ms = clock_wall_ms();
        persist(t);
    }
}

static void cleanup_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct task *t = w->data;

    (void)loop;
    (void)revents;
    TS(t)->cleanup_armed = false;
    ev_ref(loop); /* the timer stopped itself: undo its ev_unref */
    step(t);
}

static void disarm_cleanup_timer(struct task *t)
{
    struct tstate *ts = TS(t);

    if (ts->cleanup_armed) {
        ev_ref(ts->m->loop);
        ev_timer_stop(ts->m->loop, &ts->cleanup_timer);
        ts->cleanup_armed = false;
    }
}

/* STOPPED: once the cleanup delay is over (or a new task needs the host
 * ports), remove the containers, then the sandbox (Podman's pod). */
static void step_cleanup(struct task *t)
{
    struct tstate *ts = TS(t);
    struct tasks *m = ts->m;
    int64_t wait = task_cleanup_wait_ms(t, m->c.cleanup_ms, clock_wall_ms(), ts->clean_now);

    if (wait < 0) {
        disarm_cleanup_timer(t);
        return;
    }
    if (wait > 0) {
        if (!ts->cleanup_armed) {
            ev_timer_init(&ts->cleanup_timer, cleanup_timer_cb, (double)wait / 1000.0, 0);
            ts->cleanup_timer.data = t;
            ev_timer_start(m->loop, &ts->cleanup_timer);
            ev_unref(m->loop); /* like the prune timer: it keeps nothing alive */
            ts->cleanup_armed = true;
        }
        return;
    }
    disarm_cleanup_timer(t);
    for (size_t i = 0; i < t->n_containers; i++) {
        struct task_container *c = &t->containers[i];
        if (!c->created)
            continue;
        ts->busy = true;
        ts->cur = (int)i;
        if (runtime_remove(m->rt, c->runtime_id, on_removed, t) < 0)
            ts->busy = false; /* retried at ENGINE_UP */
        return;
    }
    ts->busy = true;
    ts->cur = -1;
    if (runtime_sandbox_remove(m->rt, t->sandbox_id, 1, on_removed, t) < 0)
        ts->busy = false;
}

/* PENDING: a stopped task whose leftovers still hold one of t's host ports
 * (Podman's pod keeps publishing them) is cleaned first; true while t
 * must wait for that. */
static bool wait_for_ports(struct task *t)
{
    struct tasks *m = TS(t)->m;
    bool waiting = false;

    for (size_t k = 0; k < m->n; k++) {
        struct task *old = m->v[k];
        if (!task_cleanup_blocks(old, t))
            continue;
        waiting = true;
        if (!TS(old)->clean_now) {
            log_info("task.cleanup_early", "task=%s for=%s reason=\"host port needed\"",
                     old->id, t->id);
            TS(old)->clean_now = true;
            step(old);
        }
    }
    return waiting;
}

/* Nothing of the task exists on the engine. */
static bool nothing_created(const struct task *t)
{
    return !task_has_leftovers(t);
}

static void step(struct task *t)
{
    struct tstate *ts = TS(t);
    struct tasks *m = ts->m;

    if (ts->busy || m->quiet)
        return;
    if (t->last_status == TASK_STOPPED) {
        if (m->engine_ready)
            step_cleanup(t);
        return;
    }
    if (!m->engine_ready) {
        /* A task that has not begun fails rather than waits on an engine
         * known to be down; one that has begun waits for the engine. */
        if (!m->engine_down || !nothing_created(t) || t->last_status > TASK_PENDING)
            return;
        if (t->desired_status == TASK_RUNNING)
            fail(t, -1, STOP_FAILED_TO_START, "EngineUnavailableError: %s",
                 m->down_msg);
    }
    if (t->desired_status == TASK_STOPPED)
        step_stop(t);
    else
        step_run(t);
    if (t->last_status == TASK_STOPPED && !ts->busy && m->engine_ready)
        step_cleanup(t); /* it just stopped: arm the delay */
}

static void step_all(struct tasks *m)
{
    for (size_t i = 0; i < m->n; i++)
        step(m->v[i]);
}

/* ------------------------------------------------------------------ */
/* Events and re-adoption                                             */

static const char *label_of(const struct berth_container_info *in, const char *name)
{
    for (size_t i = 0; i < in->n_labels; i++)
        if (strcmp(in->labels[i].name, name) == 0)
            return in->labels[i].value;
    return NULL;
}

/* The task and container an engine container belongs to, by id, else by
 * its labels. */
static struct task *owner(struct tasks *m, const struct berth_container_info *in,
                          int *ci)
{
    const char *arn = label_of(in, LABEL_TASK_ARN);
    const char *name = label_of(in, LABEL_CONTAINER);

    for (size_t k = 0; k < m->n; k++) {
        struct task *t = m->v[k];
        int i = in->id ? task_container_by_id(t, in->id) : -1;
        if (i < 0 && arn && name && strcmp(t->arn, arn) == 0) {
            struct task_container *c = task_container(t, name);
            i = c ? (int)(c - t->containers) : -1;
        }
        if (i >= 0) {
            *ci = i;
            return t;
        }
    }
    return NULL;
}

/* A container being stopped then removed as an orphan. */
struct orphan {
    struct tasks *m;
    char id[];
};

static void remove_orphan_done(void *arg, enum berth_rt_code code, const char *msg)
{
    struct orphan *o = arg;
    if (code != BERTH_RT_OK && code != BERTH_RT_NOT_FOUND)
        log_warn("container.orphan_remove_failed", "id=%.12s msg=\"%s\"", o->id, msg);
    free(o);
}

static void remove_orphan_stopped(void *arg, enum berth_rt_code code, const char *msg)
{
    struct orphan *o = arg;

    (void)code;
    (void)msg;
    if (runtime_remove(o->m->rt, o->id, remove_orphan_done, o) < 0)
        free(o);
}

/* A Berth container of no live task: left by a task that stopped while
 * the agent was away, or created by an agent that died before saving. */
static void remove_orphan(struct tasks *m, const struct berth_container_info *in)
{
    size_t len = strlen(in->id);
    struct orphan *o = malloc(sizeof *o + len + 1);

    if (!o)
        return;
    o->m = m;
    memcpy(o->id, in->id, len + 1);
    log_info("container.orphan", "id=%.12s name=%s task=%s", in->id,
             in->name ? in->name : "", label_of(in, LABEL_TASK_ARN));
    if (runtime_stop(m->rt, in->id, 10, remove_orphan_stopped, o) < 0)
        free(o);
}

static void apply_state(struct task *t, size_t i, const struct berth_container_info *in)
{
    struct task_container *c = &t->containers[i];

    apply_info(t, i, in);
    switch (in->state) {
    case BERTH_CTR_RUNNING:
        if (c->status == CTR_PENDING && t->last_status >= TASK_PENDING &&
            in->started_at_ms > 0)
            c->status = CTR_RUNNING; /* started before the agent could say */
        break;
    case BERTH_CTR_EXITED:
        if (c->status == CTR_RUNNING || TS(t)->busy)
            container_exited(t, i, true, in->exit_code, in->oom_killed,
                             in->error && *in->error ? in->error : NULL);
        break;
    case BERTH_CTR_REMOVED:
        c->created = false;
        if (c->status != CTR_STOPPED)
            container_exited(t, i, false, 0, false,
                             "the container was removed outside Berth");
        break;
    default:
        break;
    }
}

static void on_list(void *arg, enum berth_rt_code code,
                    const struct berth_container_info *v, size_t n, const char *msg)
{
    struct tasks *m = arg;
    bool *seen;

    m->listing = false;
    if (code != BERTH_RT_OK) {
        log_warn("tasks.list_failed", "code=%s msg=\"%s\"", runtime_code_name(code), msg);
        return; /* the next ENGINE_UP lists again */
    }
    seen = calloc(m->n * MAX_CONTAINERS + 1, 1);
    if (!seen)
        return;
    /* Exits found now happened while no event could tell: say so. */
    m->catching_up = m->listed_once ? "the engine was unreachable (stopped or restarting)"
                                    : "the agent was not running";
    for (size_t k = 0; k < n; k++) {
        int ci;
        struct task *t = owner(m, &v[k], &ci);
        if (!t) {
            remove_orphan(m, &v[k]);
            continue;
        }
        size_t ti = 0;
        while (m->v[ti] != t)
            ti++;
        seen[ti * MAX_CONTAINERS + (size_t)ci] = true;
        if (t->last_status == TASK_STOPPED)
            continue; /* kept until its cleanup (step_cleanup) */
        bool was_created = t->containers[ci].created;
        apply_state(t, (size_t)ci, &v[k]);
        if (!was_created)
            log_info("container.adopted", "task=%s container=%s", t->id,
                     t->containers[ci].name);
    }
    for (size_t ti = 0; ti < m->n; ti++) {
        struct task *t = m->v[ti];
        if (t->last_status == TASK_STOPPED) {
            bool gone = false;
            for (size_t i = 0; i < t->n_containers; i++)
                if (t->containers[i].created && !seen[ti * MAX_CONTAINERS + i]) {
                    t->containers[i].created = false; /* removed meanwhile */
                    gone = true;
                }
            if (gone)
                persist(t);
            continue;
        }
        for (size_t i = 0; i < t->n_containers; i++) {
            struct task_container *c = &t->containers[i];
            if (!c->created || seen[ti * MAX_CONTAINERS + i])
                continue;
            log_warn("container.vanished", "task=%s container=%s", t->id, c->name);
            c->created = false;
            if (c->status != CTR_STOPPED)
                container_exited(t, i, false, 0, false,
                                 "the container disappeared from the engine");
        }
        /* Saved whatever the listing changed, above or here. */
        persist(t);
    }
    free(seen);
    m->catching_up = NULL;
    m->listed_once = true;
    m->engine_ready = true;
    log_info("tasks.reconciled", "containers=%zu tasks=%zu", n, m->n);
    step_all(m);
}

/* The engine went down: an engine shutting down (dockerd without
 * live-restore) stops its containers first, and their exits arrive as
 * ordinary events just before the stream breaks.  A task stopped that way
 * (its essential container exited within its stop timeout and a margin
 * before now) is told so rather than left with a bare "exited". */
static void blame_engine_stop(struct tasks *m)
{
    static const char plain[] = "Essential container in task exited";
    int64_t now = clock_wall_ms();

    for (size_t k = 0; k < m->n; k++) {
        struct task *t = m->v[k];
        int64_t window = 5000;
        if (t->desired_status != TASK_STOPPED || !t->stop_code || !t->stopped_reason ||
            strcmp(t->stop_code, STOP_ESSENTIAL_EXITED) != 0 ||
            strcmp(t->stopped_reason, plain) != 0)
            continue;
        for (size_t i = 0; i < t->n_containers; i++)
            if (t->td->containers[i].stop_timeout * 1000 + 5000 > window)
                window = t->td->containers[i].stop_timeout * 1000 + 5000;
        if (now - t->stopping_at_ms > window)
            continue;
        task_set_str(&t->stopped_reason,
                     "Essential container in task exited while the engine was stopping");
        for (size_t i = 0; i < t->n_containers; i++)
            if (t->containers[i].status == CTR_STOPPED && !t->containers[i].reason)
                task_set_str(&t->containers[i].reason, "Exited while the engine was stopping");
        log_info("task.engine_stopped_it", "task=%s", t->id);
        persist(t);
    }
}

static void on_event(void *arg, const struct berth_runtime_event *ev)
{
    struct tasks *m = arg;
    int ci;
    struct task *t;

    if (m->quiet)
        return;
    switch (ev->type) {
    case BERTH_RT_EV_ENGINE_DOWN:
        if (m->engine_ready || !m->engine_down)
            log_warn("tasks.engine_down", "detail=\"%s\"", ev->detail ? ev->detail : "");
        m->engine_ready = false;
        m->engine_down = true;
        snprintf(m->down_msg, sizeof m->down_msg, "%s",
                 ev->detail && *ev->detail ? ev->detail
                                           : runtime_unavailable(m->rt));
        blame_engine_stop(m);
        step_all(m);
        return;
    case BERTH_RT_EV_ENGINE_UP:
        /* Events may have been missed: list everything, then go on. */
        m->engine_ready = false;
        m->engine_down = false;
        if (!m->listing) {
            m->listing = true;
            if (runtime_list(m->rt, on_list, m) < 0)
                m->listing = false;
        }
        return;
    default:
        break;
    }
    if (!ev->info || !(t = owner(m, ev->info, &ci))) {
        if (ev->info && ev->info->id && m->engine_ready &&
            ev->type == BERTH_RT_EV_STATE && ev->info->state == BERTH_CTR_RUNNING &&
            label_of(ev->info, LABEL_TASK_ARN) && !tasks_find(m, label_of(ev->info, LABEL_TASK_ARN)))
            log_warn("container.unknown", "id=%.12s", ev->info->id);
        return;
    }
    if (!m->engine_ready)
        return; /* the listing will say */
    switch (ev->type) {
    case BERTH_RT_EV_STATE:
        apply_state(t, (size_t)ci, ev->info);
        break;
    case BERTH_RT_EV_HEALTH:
        apply_info(t, (size_t)ci, ev->info);
        log_info("container.health", "task=%s container=%s health=%s", t->id,
                 t->containers[ci].name,
                 task_health_name(container_health(&t->containers[ci])));
        break;
    case BERTH_RT_EV_OOM:
        TS(t)->oom[ci] = true;
        break;
    default:
        return;
    }
    persist(t);
    step(t);
}

/* ------------------------------------------------------------------ */
/* Setup                                                              */

static int add_task(struct tasks *m, struct task *t)
{
    struct tstate *ts = calloc(1, sizeof *ts);

    if (!ts)
        return -1;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct task **grown = realloc(m->v, cap * sizeof *grown);
        if (!grown) {
            free(ts);
            return -1;
        }
        m->v = grown;
        m->cap = cap;
    }
    ts->m = m;
    ts->t = t;
    t->mgr = ts;
    compute_order(t);
    m->v[m->n++] = t;
    return 0;
}

static void forget(struct tasks *m, size_t k)
{
    struct task *t = m->v[k];

    runtime_forget(m->rt, t);
    disarm_start_timer(t);
    disarm_hold_timer(t);
    disarm_cleanup_timer(t);
    free(t->mgr);
    task_free(t);
    memmove(&m->v[k], &m->v[k + 1], (m->n - k - 1) * sizeof *m->v);
    m->n--;
}

static void prune_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct tasks *m = w->data;
    int64_t before = clock_wall_ms() - (int64_t)m->c.retention_ms;
    char err[300];

    (void)loop;
    (void)revents;
    /* A task whose containers are still there stays visible until they
     * are cleaned (their exit codes are what one looks at). */
    for (size_t k = m->n; k-- > 0;) {
        struct task *t = m->v[k];
        if (t->last_status == TASK_STOPPED && t->stopped_at_ms < before &&
            !TS(t)->busy && !task_has_leftovers(t))
            forget(m, k);
    }
    if (store_task_prune(m->st, clock_wall_ms() - store_keep_ms(&m->c), err,
                         sizeof err) != STORE_OK)
        log_warn("tasks.prune_failed", "error=\"%s\"", err);
}

/* The store keeps stopped tasks as long as they may still have containers
 * to clean after a restart, or are to stay visible. */
static int64_t store_keep_ms(const struct tasks_conf *c)
{
    return (int64_t)(c->cleanup_ms > c->retention_ms ? c->cleanup_ms : c->retention_ms);
}

struct load_ctx {
    struct tasks *m;
    size_t bad;
};

static void load_one(void *arg, const char *json, const char *td_json)
{
    struct load_ctx *lc = arg;
    char err[300];
    struct task *t = task_from_json(json, td_json, err, sizeof err);

    if (!t) {
        lc->bad++;
        log_error("task.load_failed", "error=\"%s\"", err);
        return;
    }
    if (add_task(lc->m, t) < 0) {
        task_free(t);
        lc->bad++;
        return;
    }
    if (t->last_status != TASK_STOPPED)
        hold_ports(t);
    else if (!task_has_leftovers(t) &&
             t->stopped_at_ms < clock_wall_ms() - (int64_t)lc->m->c.retention_ms)
        forget(lc->m, lc->m->n - 1); /* kept in the store only for cleanup */
}

struct tasks *tasks_new(struct ev_loop *loop, struct store *st,
                        const struct tasks_conf *c, char *err, size_t errlen)
{
    struct tasks *m = calloc(1, sizeof *m);
    struct load_ctx lc = {m, 0};

    if (!m)
        goto oom;
    m->loop = loop;
    m->st = st;
    m->c = *c;
    m->cluster = strdup(c->cluster);
    m->region = strdup(c->region);
    m->account = strdup(c->account_id);
    m->secrets_dir = c->secrets_dir ? strdup(c->secrets_dir) : NULL;
    m->reserved = calloc(c->n_reserved_ports + 1, sizeof *m->reserved);
    if (!m->cluster || !m->region || !m->account || !m->reserved ||
        (c->secrets_dir && !m->secrets_dir))
        goto oom;
    if (c->n_reserved_ports) /* reserved_ports may be NULL then */
        memcpy(m->reserved, c->reserved_ports, c->n_reserved_ports * sizeof *m->reserved);
    m->c.reserved_ports = m->reserved;
    m->c.cluster = m->cluster;
    m->c.region = m->region;
    m->c.account_id = m->account;
    m->c.secrets_dir = m->secrets_dir;
    if (asprintf(&m->label, "%s=%s", LABEL_CLUSTER, m->cluster) < 0) {
        m->label = NULL;
        goto oom;
    }
    m->ports = ports_new(c->port_first, c->port_last, m->reserved, c->n_reserved_ports);
    m->rt = runtime_new(m->label, on_event, m);
    m->engine_down = true;
    if (m->rt)
        snprintf(m->down_msg, sizeof m->down_msg, "%s", runtime_unavailable(m->rt));
    if (!m->ports || !m->rt)
        goto oom;
    if (store_task_load(st, clock_wall_ms() - store_keep_ms(c), load_one, &lc, err,
                        errlen) != STORE_OK) {
        tasks_free(m);
        return NULL;
    }
    log_info("tasks.loaded", "tasks=%zu live=%zu unreadable=%zu", m->n,
             m->n - tasks_count(m, TASK_STOPPED), lc.bad);
    ev_timer_init(&m->prune_timer, prune_cb, 60, 60);
    m->prune_timer.data = m;
    ev_timer_start(loop, &m->prune_timer);
    ev_unref(loop); /* the prune timer alone does not keep the loop alive */
    return m;
oom:
    snprintf(err, errlen, "out of memory");
    tasks_free(m);
    return NULL;
}

void tasks_free(struct tasks *m)
{
    if (!m)
        return;
    if (m->prune_timer.data) {
        ev_ref(m->loop);
        ev_timer_stop(m->loop, &m->prune_timer);
    }
    while (m->n)
        forget(m, m->n - 1);
    free(m->v);
    runtime_free(m->rt);
    ports_free(m->ports);
    free(m->cluster);
    free(m->region);
    free(m->account);
    free(m->secrets_dir);
    free(m->reserved);
    free(m->label);
    free(m);
}

void tasks_engine_pending(struct tasks *m)
{
    m->engine_down = false;
}

struct runtime *tasks_runtime(struct tasks *m)
{
    return m->rt;
}

void tasks_on_change(struct tasks *m, tasks_change_cb cb, void *arg)
{
    m->on_change = cb;
    m->change_arg = arg;
}

int tasks_run(struct tasks *m, const char *taskdef_arn, int64_t revision,
              const char *taskdef_json, const char *started_by, const char *group,
              const cJSON *tags, int count, const char *client_token,
              const char *client_request, const cJSON *overrides, struct task **out,
              char *err, size_t errlen)
{
    if (count < 1 || count > 10) {
        snprintf(err, errlen, "count must be between 1 and 10, got %d", count);
        return -1;
    }
    for (int k = 0; k < count; k++) {
        struct taskdef *td = NULL;
        struct json_errors errs = {0};
        if (taskdef_parse(taskdef_json, strlen(taskdef_json), &td, &errs) < 0) {
            char *msg = json_errors_message(&errs);
            snprintf(err, errlen, "the task definition does not parse: %s",
                     msg ? msg : "?");
            free(msg);
            json_errors_clear(&errs);
            return -1;
        }
        json_errors_clear(&errs);
        struct task *t = task_new(td, taskdef_json, taskdef_arn, revision, m->region,
                                  m->account, m->cluster, clock_wall_ms());
        if (!t || (started_by && task_set_str(&t->started_by, started_by) < 0) ||
            (group && task_set_str(&t->group, group) < 0) ||
            (client_token && task_set_str(&t->client_token, client_token) < 0) ||
            (client_request && task_set_str(&t->client_request, client_request) < 0) ||
            add_task(m, t) < 0) {
            task_free(t);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (tags && cJSON_GetArraySize(tags) > 0)
            t->tags = cJSON_Duplicate(tags, 1);
        if (overrides && !(t->overrides = cJSON_Duplicate(overrides, 1)))
            abort(); /* out of memory, after add_task: nothing to undo cleanly */
        t->version = 0;
        persist(t);
        log_info("task.created", "task=%s family=%s revision=%lld", t->id, t->family,
                 (long long)t->revision);
        out[k] = t;
    }
    /* Stepped from the loop: the API answers first. */
    for (int k = 0; k < count; k++)
        step(out[k]);
    return 0;
}

struct task *tasks_find(struct tasks *m, const char *ref)
{
    if (!ref)
        return NULL;
    for (size_t k = 0; k < m->n; k++)
        if (strcmp(m->v[k]->id, ref) == 0 || strcmp(m->v[k]->arn, ref) == 0)
            return m->v[k];
    return NULL;
}

struct task *tasks_stop(struct tasks *m, const char *ref, const char *stop_code,
                        const char *reason)
{
    return tasks_stop_after(m, ref, stop_code, reason, 0);
}

struct task *tasks_stop_after(struct tasks *m, const char *ref, const char *stop_code,
                              const char *reason, uint64_t hold_ms)
{
    struct task *t = tasks_find(m, ref);

    if (!t)
        return NULL;
    if (t->desired_status == TASK_STOPPED)
        return t;
    want_stopped(t, stop_code ? stop_code : STOP_USER,
                 reason && *reason ? reason : "Task stopped by user");
    if (hold_ms && t->last_status >= TASK_ACTIVATING && t->last_status <= TASK_RUNNING)
        t->deactivate_until_ms = clock_wall_ms() + (int64_t)hold_ms;
    persist(t);
    step(t);
    return t;
}

size_t tasks_all(struct tasks *m, struct task ***out)
{
    *out = m->v;
    return m->n;
}

size_t tasks_count(const struct tasks *m, int last_status)
{
    size_t n = 0;
    for (size_t k = 0; k < m->n; k++)
        n += last_status < 0 || (int)m->v[k]->last_status == last_status;
    return n;
}

void tasks_quiesce(struct tasks *m)
{
    m->quiet = true;
}

bool tasks_engine_ready(const struct tasks *m)
{
    return m->engine_ready;
}
