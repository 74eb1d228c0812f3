/* podman.c: the Podman runtime plugin: descriptor and options, lifecycle,
 * the _ping / version exchange, and the operations in flight. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "podman.h"

#define HELLO_RETRY_MIN_MS 1000
#define HELLO_RETRY_MAX_MS 30000

static const struct berth_option podman_options[] = {
    {"socket", BERTH_OPT_STRING, "/run/podman/podman.sock",
     offsetof(struct podman_config, socket),
     "the podman API service's socket (podman system service)", 0},
    {"request-timeout", BERTH_OPT_DURATION, "30s",
     offsetof(struct podman_config, request_timeout_ms),
     "how long one API call may take (a stop adds its own timeout)", 0},
    {"pull", BERTH_OPT_BOOL, "no", offsetof(struct podman_config, pull),
     "pull an image that is not there (else creating fails with not found)", 0},
    {"pull-timeout", BERTH_OPT_DURATION, "5m",
     offsetof(struct podman_config, pull_timeout_ms),
     "how long one image pull may take", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static int check_config(const struct podman_config *c, char *err, size_t errlen)
{
    if (!c->socket || c->socket[0] != '/') {
        snprintf(err, errlen, "socket must be an absolute path, not '%s'",
                 c->socket ? c->socket : "");
        return -1;
    }
    if (c->request_timeout_ms < 100) {
        snprintf(err, errlen, "request-timeout must be at least 100ms");
        return -1;
    }
    if (c->pull_timeout_ms < 1000) {
        snprintf(err, errlen, "pull-timeout must be at least 1s");
        return -1;
    }
    return 0;
}

static void apply_config(struct podman *p, const struct podman_config *c)
{
    p->cfg = c;
    p->e.socket = (char *)c->socket;
    p->e.timeout_ms = c->request_timeout_ms;
}

static int podman_init(berth_ctx *ctx, const struct berth_host *host,
                       const void *config, void **state, char *err,
                       size_t errlen)
{
    struct podman *p;

    if (check_config(config, err, errlen) < 0)
        return -1;
    if (!(p = calloc(1, sizeof(*p)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->ctx = ctx;
    p->host = host;
    p->e.ctx = ctx;
    p->e.host = host;
    p->e.name = "podman";
    p->e.prefix = PODMAN_PREFIX;
    apply_config(p, config);
    *state = p;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Hello: GET /libpod/_ping, then /libpod/version                     */

static void hello(struct podman *p);

static void hello_retry(void *arg)
{
    struct podman *p = arg;
    p->hello_retry = NULL;
    hello(p);
}

static void hello_again_later(struct podman *p, const char *msg)
{
    uint64_t ms = HELLO_RETRY_MIN_MS;
    for (unsigned i = 0; i < p->hello_failures && ms < HELLO_RETRY_MAX_MS; i++)
        ms *= 2;
    if (ms > HELLO_RETRY_MAX_MS)
        ms = HELLO_RETRY_MAX_MS;
    /* Say it once, not at every retry. */
    if (p->hello_failures++ == 0)
        p->host->log(p->ctx, BERTH_LOG_WARN,
                     "podman.unreachable socket=%s error=\"%s\" retry_ms=%llu",
                     p->e.socket, msg, (unsigned long long)ms);
    p->hello_retry = p->host->timer_start(p->ctx, ms, 0, hello_retry, p);
}

static void version_done(void *arg, const struct engine_result *r)
{
    struct podman *p = arg;
    const cJSON *comps, *c;
    const char *ver = NULL, *api = NULL;

    p->hello = NULL;
    if (r->code != BERTH_RT_OK) {
        hello_again_later(p, r->msg);
        return;
    }
    /* {"Version": "4.3.1", "Components": [{"Name": "Podman Engine",
     *  "Version", "Details": {"APIVersion"}}]} */
    ver = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "Version"));
    comps = cJSON_GetObjectItemCaseSensitive(r->json, "Components");
    cJSON_ArrayForEach(c, (cJSON_IsArray(comps) ? comps : NULL)) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Name"));
        if (name && strcmp(name, "Podman Engine") == 0) {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "Details");
            if (!ver)
                ver = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Version"));
            api = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "APIVersion"));
        }
    }
    if (!ver) {
        hello_again_later(p, "GET /libpod/version: no Version in the answer");
        return;
    }
    if (atoi(ver) < 4) {
        snprintf(p->refused, sizeof(p->refused),
                 "podman %s is too old: the libpod API v4 needs podman 4.0 or later",
                 ver);
        p->host->log(p->ctx, BERTH_LOG_ERROR, "podman.refused error=\"%s\"", p->refused);
        return;
    }
    snprintf(p->version, sizeof(p->version), "podman %s (libpod API %s)", ver,
             api ? api : ver);
    p->hello_failures = 0;
    p->host->log(p->ctx, BERTH_LOG_INFO, "podman.connected version=\"%s\" socket=%s",
                 p->version, p->e.socket);
}

static void ping_done(void *arg, const struct engine_result *r)
{
    struct podman *p = arg;
    p->hello = NULL;
    if (r->code != BERTH_RT_OK) {
        hello_again_later(p, r->msg);
        return;
    }
    p->hello = engine_call(&p->e, "GET", "/version", NULL, 0, version_done, p);
    if (!p->hello)
        hello_again_later(p, "GET /libpod/version could not be sent");
}

static void hello(struct podman *p)
{
    if (p->stopped || p->hello || p->hello_retry || p->version[0] || p->refused[0])
        return;
    p->hello = engine_call(&p->e, "GET", "/_ping", NULL, 0, ping_done, p);
    if (!p->hello)
        hello_again_later(p, "GET /libpod/_ping could not be sent");
}

/* ------------------------------------------------------------------ */
/* The default network's gateway (host_address)                       */

static void gateway_done(void *arg, const struct engine_result *r)
{
    struct podman *p = arg;
    /* {"name": "podman", "subnets": [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]} */
    const cJSON *subnets = cJSON_GetObjectItemCaseSensitive(r->json, "subnets");
    const char *gw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_IsArray(subnets) ? cJSON_GetArrayItem(subnets, 0) : NULL, "gateway"));
    char *msg = p->up_msg;

    p->net_call = NULL;
    p->up_msg = NULL;
    if (engine_gateway_set(p->gateway, sizeof(p->gateway), gw))
        p->host->log(p->ctx, BERTH_LOG_DEBUG, "podman.gateway address=%s", p->gateway);
    else
        p->host->log(p->ctx, BERTH_LOG_WARN, "podman.gateway.unknown error=\"%s\"",
                     r->code != BERTH_RT_OK ? r->msg
                                            : "GET /networks/podman/json has no subnets[0].gateway");
    podman_emit_up(p, msg);
    free(msg);
}

void podman_learn_gateway(struct podman *p, const char *msg)
{
    podman_forget_gateway(p);
    p->up_msg = strdup(msg ? msg : "");
    p->net_call = engine_call(&p->e, "GET", "/networks/podman/json", NULL, 0,
                              gateway_done, p);
    if (!p->net_call) {
        free(p->up_msg);
        p->up_msg = NULL;
        podman_emit_up(p, msg);
    }
}

void podman_forget_gateway(struct podman *p)
{
    if (p->net_call)
        engine_cancel(&p->e, p->net_call);
    p->net_call = NULL;
    free(p->up_msg);
    p->up_msg = NULL;
}

static const char *podman_host_address(void *state, const char *mode)
{
    struct podman *p = state;
    return engine_host_address(p->gateway, mode);
}

static int podman_start_plugin(void *state, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    hello(state);
    return 0;
}

static const char *podman_engine_version(void *state)
{
    struct podman *p = state;
    return p->version[0] ? p->version : NULL;
}

/* ------------------------------------------------------------------ */
/* Operations in flight                                               */

struct pop *pop_new(struct podman *p, enum pop_kind kind, void *cb, void *arg)
{
    struct pop *op = calloc(1, sizeof(*op));
    if (!op) {
        p->host->log(p->ctx, BERTH_LOG_ERROR, "podman.op.refused error=\"out of memory\"");
        return NULL;
    }
    op->p = p;
    op->kind = kind;
    switch (kind) {
    case POP_DONE: op->cb.done = (berth_rt_done_cb)cb; break;
    case POP_ID: op->cb.id = (berth_rt_id_cb)cb; break;
    case POP_INFO: op->cb.info = (berth_rt_info_cb)cb; break;
    case POP_LIST: op->cb.list = (berth_rt_list_cb)cb; break;
    case POP_STATS: op->cb.stats = (berth_rt_stats_cb)cb; break;
    case POP_INTERNAL:
        op->cb.internal = (void (*)(struct pop *, enum berth_rt_code))cb;
        break;
    }
    op->arg = arg;
    op->next = p->ops;
    if (p->ops)
        p->ops->prev = op;
    p->ops = op;
    /* Any operation is a chance to learn the version after a failure. */
    hello(p);
    return op;
}

void pop_free(struct pop *op)
{
    struct podman *p = op->p;
    if (op->h)
        engine_cancel(&p->e, op->h);
    if (op->t)
        p->host->timer_stop(p->ctx, op->t);
    if (op->prev)
        op->prev->next = op->next;
    else
        p->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    cJSON_Delete(op->body);
    free(op->image);
    for (size_t i = 0; i < op->n_ids; i++)
        free(op->ids[i]);
    free(op->ids);
    for (size_t i = 0; i < op->n_infos; i++)
        engine_info_free(&op->infos[i]);
    free(op->infos);
    free(op->msg);
    free(op);
}

void pop_finish(struct pop *op, enum berth_rt_code code, const char *msg)
{
    if (!msg)
        msg = "";
    /* Internal callbacks read the message from the operation. */
    if (op->kind == POP_INTERNAL && msg != op->msg) {
        char *m = strdup(msg);
        free(op->msg);
        op->msg = m;
    }
    switch (op->kind) {
    case POP_DONE: op->cb.done(op->arg, code, msg); break;
    case POP_ID: op->cb.id(op->arg, code, NULL, msg); break;
    case POP_INFO: op->cb.info(op->arg, code, NULL, msg); break;
    case POP_LIST: op->cb.list(op->arg, code, NULL, 0, msg); break;
    case POP_STATS: op->cb.stats(op->arg, code, NULL, msg); break;
    case POP_INTERNAL: op->cb.internal(op, code); break;
    }
    pop_free(op);
}

void pop_finish_id(struct pop *op, const char *id)
{
    op->cb.id(op->arg, BERTH_RT_OK, id, "");
    pop_free(op);
}

static void deferred(void *arg)
{
    struct pop *op = arg;
    op->t = NULL; /* a fired one-shot timer is released by the host */
    pop_finish(op, op->code, op->msg);
}

void pop_answer_later(struct pop *op, enum berth_rt_code code, const char *fmt, ...)
{
    va_list ap;
    op->code = code;
    free(op->msg);
    op->msg = NULL;
    va_start(ap, fmt);
    if (vasprintf(&op->msg, fmt, ap) < 0)
        op->msg = NULL;
    va_end(ap);
    if (op->t)
        op->p->host->timer_stop(op->p->ctx, op->t);
    if (!(op->t = op->p->host->timer_start(op->p->ctx, 0, 0, deferred, op)))
        op->p->host->log(op->p->ctx, BERTH_LOG_ERROR,
                         "podman.op.lost error=\"no timer for a deferred answer\"");
}

static void call_done(void *arg, const struct engine_result *r)
{
    struct pop *op = arg;
    op->h = NULL;
    op->on_result(op, r);
}

bool pop_call(struct pop *op, const char *method, const char *path, cJSON *body,
              uint64_t timeout_ms, pop_result_cb cb)
{
    struct podman *p = op->p;
    if (p->refused[0]) {
        cJSON_Delete(body);
        pop_answer_later(op, BERTH_RT_UNAVAILABLE, "%s", p->refused);
        return false;
    }
    op->on_result = cb;
    if (!(op->h = engine_call(&p->e, method, path, body, timeout_ms, call_done, op))) {
        pop_answer_later(op, BERTH_RT_FAILED, "%s %s on podman could not be sent",
                         method, path);
        return false;
    }
    return true;
}

bool podman_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 255)
        return false;
    for (const char *c = id; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
            return false;
    return true;
}

int64_t podman_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                          */

static int podman_stop_plugin(void *state)
{
    struct podman *p = state;
    p->stopped = true;
    podman_events_stop(p);
    podman_forget_gateway(p);
    phc_stop_all(p);
    if (p->hello)
        engine_cancel(&p->e, p->hello);
    if (p->hello_retry)
        p->host->timer_stop(p->ctx, p->hello_retry);
    p->hello = NULL;
    p->hello_retry = NULL;
    /* The agent fails what it still waits for (plugin.h): drop them. */
    while (p->ops)
        pop_free(p->ops);
    return 0;
}

static void podman_destroy(void *state)
{
    struct podman *p = state;
    if (!p)
        return;
    if (!p->stopped)
        podman_stop_plugin(p);
    free(p->watch_label);
    free(p);
}

static int podman_reconfigure(void *state, const void *config, char *err, size_t errlen)
{
    struct podman *p = state;
    const struct podman_config *c = config;
    if (check_config(c, err, errlen) < 0)
        return -1;
    if (strcmp(c->socket, p->cfg->socket) != 0) {
        /* Another engine: learn its version again. */
        p->version[0] = '\0';
        p->refused[0] = '\0';
        p->hello_failures = 0;
    }
    apply_config(p, c);
    hello(p);
    return 0;
}

static const struct berth_runtime_ops podman_ops = {
    .struct_size = sizeof(struct berth_runtime_ops),
    .engine_version = podman_engine_version,
    .host_address = podman_host_address,
    .sandbox_create = podman_sandbox_create,
    .sandbox_remove = podman_sandbox_remove,
    .create = podman_create,
    .start = podman_start,
    .stop = podman_stop,
    .remove = podman_remove,
    .inspect = podman_inspect,
    .list = podman_list,
    .stats = podman_stats,
    .watch = podman_watch,
};

BERTH_PLUGIN_DECLARE = {
    BERTH_PLUGIN_HEADER,
    .name = "podman",
    .version = PACKAGE_VERSION,
    .description = "Podman runtime (libpod API): one pod per task, health "
                   "checks run by the plugin",
    .kind = BERTH_KIND_RUNTIME,
    .options = podman_options,
    .config_size = sizeof(struct podman_config),
    .init = podman_init,
    .start = podman_start_plugin,
    .stop = podman_stop_plugin,
    .destroy = podman_destroy,
    .ops = &podman_ops,
    .reconfigure = podman_reconfigure,
};
