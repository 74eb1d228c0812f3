/* runtime.c: forwarding to the attached runtime plugin (see runtime.h). */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/log.h"
#include "agent/plugin_host.h"
#include "agent/runtime.h"

enum op_kind { OP_ID, OP_DONE, OP_INFO, OP_LIST, OP_STATS };

/* The operations, for berth_plugin_errors_total's operation label. */
enum op_name {
    N_SANDBOX_CREATE, N_SANDBOX_REMOVE, N_CREATE, N_START, N_STOP, N_REMOVE,
    N_INSPECT, N_LIST, N_STATS, N_OPS
};
static const char *const op_names[N_OPS] = {
    "sandbox_create", "sandbox_remove", "create", "start", "stop", "remove",
    "inspect", "list", "stats",
};
/* Codes 1..5 as answered, and 0 for a refusal (the call returned -1). */
#define N_CODES 6

struct op {
    struct runtime *rt;
    enum op_kind kind;
    enum op_name name;
    union {
        berth_rt_id_cb id;
        berth_rt_done_cb done;
        berth_rt_info_cb info;
        berth_rt_list_cb list;
        berth_rt_stats_cb stats;
    } cb;
    void *arg;
    bool answered; /* the caller has had its answer (or was forgotten) */
    struct op *prev, *next;
};

struct runtime {
    char *label;
    runtime_event_cb on_event;
    void *event_arg;
    struct plugin *p;
    const struct berth_runtime_ops *ops;
    struct op *ops_head; /* operations the plugin has not answered */
    unsigned pending;    /* of those, the ones whose caller still waits */
    char unavailable[300];
    uint64_t errors[N_OPS][N_CODES]; /* the plugin's failed answers */
};

const char *runtime_code_name(enum berth_rt_code c)
{
    switch (c) {
    case BERTH_RT_OK: return "OK";
    case BERTH_RT_NOT_FOUND: return "NOT_FOUND";
    case BERTH_RT_CONFLICT: return "CONFLICT";
    case BERTH_RT_INVALID: return "INVALID";
    case BERTH_RT_UNAVAILABLE: return "UNAVAILABLE";
    case BERTH_RT_FAILED: return "FAILED";
    }
    return "FAILED";
}

struct runtime *runtime_new(const char *label, runtime_event_cb cb, void *arg)
{
    struct runtime *rt = calloc(1, sizeof *rt);

    if (!rt || !(rt->label = strdup(label))) {
        free(rt);
        return NULL;
    }
    rt->on_event = cb;
    rt->event_arg = arg;
    snprintf(rt->unavailable, sizeof rt->unavailable,
             "no runtime plugin is running (add a [plugin docker] or "
             "[plugin podman] section to berth.conf)");
    return rt;
}

static void unlink_op(struct op *o)
{
    struct runtime *rt = o->rt;

    if (o->prev)
        o->prev->next = o->next;
    else
        rt->ops_head = o->next;
    if (o->next)
        o->next->prev = o->prev;
    if (!o->answered)
        rt->pending--;
}

void runtime_free(struct runtime *rt)
{
    if (!rt)
        return;
    while (rt->ops_head) {
        struct op *o = rt->ops_head;
        unlink_op(o);
        free(o);
    }
    free(rt->label);
    free(rt);
}

static void fail_op(struct op *o, enum berth_rt_code code, const char *msg)
{
    o->answered = true;
    o->rt->pending--;
    switch (o->kind) {
    case OP_ID: o->cb.id(o->arg, code, NULL, msg); break;
    case OP_DONE: o->cb.done(o->arg, code, msg); break;
    case OP_INFO: o->cb.info(o->arg, code, NULL, msg); break;
    case OP_LIST: o->cb.list(o->arg, code, NULL, 0, msg); break;
    case OP_STATS: o->cb.stats(o->arg, code, NULL, msg); break;
    }
}

static void on_plugin_event(void *arg, const struct berth_runtime_event *ev)
{
    struct runtime *rt = arg;

    if (rt->p && rt->on_event)
        rt->on_event(rt->event_arg, ev);
}

void runtime_attach(struct runtime *rt, struct plugin *p)
{
    rt->p = p;
    rt->ops = p->desc.ops;
    snprintf(rt->unavailable, sizeof rt->unavailable,
             "the runtime plugin %s is not reachable", p->instance);
    if (rt->ops->watch(p->state, rt->label, on_plugin_event, rt) < 0)
        log_error("runtime.watch_failed", "plugin=%s", p->instance);
    log_info("runtime.attached", "plugin=%s", p->instance);
}

void runtime_detach(struct runtime *rt, struct plugin *p)
{
    char msg[300];

    if (!rt->p || rt->p != p)
        return;
    snprintf(msg, sizeof msg, "the runtime plugin %s was stopped", p->instance);
    snprintf(rt->unavailable, sizeof rt->unavailable, "%s", msg);
    rt->p = NULL;
    rt->ops = NULL;
    /* The plugin may still answer before it is destroyed: the op records
     * stay (answered) so that its late callbacks land somewhere harmless. */
    for (struct op *o = rt->ops_head; o; o = o->next)
        if (!o->answered)
            fail_op(o, BERTH_RT_UNAVAILABLE, msg);
    log_info("runtime.detached", "plugin=%s", p->instance);
    if (rt->on_event) {
        struct berth_runtime_event ev = {sizeof ev, BERTH_RT_EV_ENGINE_DOWN, NULL, msg};
        rt->on_event(rt->event_arg, &ev);
    }
}

struct plugin *runtime_plugin(const struct runtime *rt)
{
    return rt->p;
}

const char *runtime_engine_version(const struct runtime *rt)
{
    return rt->p ? rt->ops->engine_version(rt->p->state) : NULL;
}

const char *runtime_host_address(const struct runtime *rt, const char *mode)
{
    /* A 1.2 plugin's ops end before host_address. */
    if (!rt->p || rt->ops->struct_size < offsetof(struct berth_runtime_ops, host_address) +
                                             sizeof(rt->ops->host_address) ||
        !rt->ops->host_address)
        return NULL;
    return rt->ops->host_address(rt->p->state, mode);
}

const char *runtime_unavailable(const struct runtime *rt)
{
    return rt->unavailable;
}

void runtime_forget(struct runtime *rt, void *arg)
{
    for (struct op *o = rt->ops_head; o; o = o->next)
        if (!o->answered && o->arg == arg) {
            o->answered = true;
            rt->pending--;
        }
}

unsigned runtime_pending(const struct runtime *rt)
{
    return rt->pending;
}

/* ---- trampolines: the plugin's answer, to the caller unless it had one */

static void count(struct op *o, enum berth_rt_code code)
{
    if (code != BERTH_RT_OK) /* out of range: FAILED, as runtime_code_name says */
        o->rt->errors[o->name][(unsigned)code < N_CODES ? code : BERTH_RT_FAILED]++;
}

void runtime_errors(const struct runtime *rt, runtime_errors_cb cb, void *arg)
{
    if (!rt || !rt->p)
        return;
    for (int n = 0; n < N_OPS; n++)
        for (int c = 0; c < N_CODES; c++)
            if (rt->errors[n][c])
                cb(arg, rt->p->instance, op_names[n],
                   c ? runtime_code_name((enum berth_rt_code)c) : "REFUSED",
                   rt->errors[n][c]);
}

/* The plugin's answer: counted, then given to the caller unless it had one. */
static struct op *take(void *arg, enum berth_rt_code code)
{
    struct op *o = arg;
    bool answered = o->answered;

    count(o, code);

    unlink_op(o);
    if (answered) {
        free(o);
        return NULL;
    }
    return o;
}

static void tr_id(void *arg, enum berth_rt_code code, const char *id, const char *msg)
{
    struct op *o = take(arg, code);
    if (o) {
        o->cb.id(o->arg, code, id, msg);
        free(o);
    }
}

static void tr_done(void *arg, enum berth_rt_code code, const char *msg)
{
    struct op *o = take(arg, code);
    if (o) {
        o->cb.done(o->arg, code, msg);
        free(o);
    }
}

static void tr_info(void *arg, enum berth_rt_code code,
                    const struct berth_container_info *info, const char *msg)
{
    struct op *o = take(arg, code);
    if (o) {
        o->cb.info(o->arg, code, info, msg);
        free(o);
    }
}

static void tr_list(void *arg, enum berth_rt_code code,
                    const struct berth_container_info *v, size_t n, const char *msg)
{
    struct op *o = take(arg, code);
    if (o) {
        o->cb.list(o->arg, code, v, n, msg);
        free(o);
    }
}

static void tr_stats(void *arg, enum berth_rt_code code,
                     const struct berth_container_stats *s, const char *msg)
{
    struct op *o = take(arg, code);
    if (o) {
        o->cb.stats(o->arg, code, s, msg);
        free(o);
    }
}

static struct op *new_op(struct runtime *rt, enum op_kind kind, enum op_name name,
                         void *arg)
{
    struct op *o;

    if (!rt->p)
        return NULL;
    o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->rt = rt;
    o->kind = kind;
    o->name = name;
    o->arg = arg;
    o->next = rt->ops_head;
    if (o->next)
        o->next->prev = o;
    rt->ops_head = o;
    rt->pending++;
    return o;
}

/* The plugin refused: no callback will come. */
static int refused(struct op *o)
{
    o->rt->errors[o->name][0]++;
    unlink_op(o);
    free(o);
    return -1;
}

#define CALL(kind_, name_, field, setcb, expr)                               \
    do {                                                                     \
        struct op *o = new_op(rt, kind_, name_, arg);                        \
        if (!o)                                                              \
            return -1;                                                       \
        o->cb.field = setcb;                                                 \
        if ((expr) < 0)                                                      \
            return refused(o);                                               \
        return 0;                                                            \
    } while (0)

int runtime_sandbox_create(struct runtime *rt, const char *spec, berth_rt_id_cb cb,
                           void *arg)
{
    CALL(OP_ID, N_SANDBOX_CREATE, id, cb,
         rt->ops->sandbox_create(rt->p->state, spec, tr_id, o));
}

int runtime_sandbox_remove(struct runtime *rt, const char *id, uint32_t timeout_s,
                           berth_rt_done_cb cb, void *arg)
{
    CALL(OP_DONE, N_SANDBOX_REMOVE, done, cb,
         rt->ops->sandbox_remove(rt->p->state, id, timeout_s, tr_done, o));
}

int runtime_create(struct runtime *rt, const char *spec, berth_rt_id_cb cb,
                   void *arg)
{
    CALL(OP_ID, N_CREATE, id, cb, rt->ops->create(rt->p->state, spec, tr_id, o));
}

int runtime_start(struct runtime *rt, const char *id, berth_rt_done_cb cb,
                  void *arg)
{
    CALL(OP_DONE, N_START, done, cb, rt->ops->start(rt->p->state, id, tr_done, o));
}

int runtime_stop(struct runtime *rt, const char *id, uint32_t timeout_s,
                 berth_rt_done_cb cb, void *arg)
{
    CALL(OP_DONE, N_STOP, done, cb,
         rt->ops->stop(rt->p->state, id, timeout_s, tr_done, o));
}

int runtime_remove(struct runtime *rt, const char *id, berth_rt_done_cb cb,
                   void *arg)
{
    CALL(OP_DONE, N_REMOVE, done, cb, rt->ops->remove(rt->p->state, id, tr_done, o));
}

int runtime_inspect(struct runtime *rt, const char *id, berth_rt_info_cb cb,
                    void *arg)
{
    CALL(OP_INFO, N_INSPECT, info, cb,
         rt->ops->inspect(rt->p->state, id, tr_info, o));
}

int runtime_list(struct runtime *rt, berth_rt_list_cb cb, void *arg)
{
    CALL(OP_LIST, N_LIST, list, cb, rt->ops->list(rt->p->state, rt->label, tr_list, o));
}

int runtime_stats(struct runtime *rt, const char *id, berth_rt_stats_cb cb,
                  void *arg)
{
    CALL(OP_STATS, N_STATS, stats, cb,
         rt->ops->stats(rt->p->state, id, tr_stats, o));
}
