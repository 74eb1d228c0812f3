/* docker.c: the Docker runtime plugin: its descriptor and options, the
 * lifecycle, the API version negotiation, and the operations in flight. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"

#ifndef PKGLIBEXECDIR
#define PKGLIBEXECDIR "/usr/local/libexec/berth"
#endif

#define HELLO_RETRY_MIN_MS 1000
#define HELLO_RETRY_MAX_MS 30000

static const struct berth_option docker_options[] = {
    {"socket", BERTH_OPT_STRING, "/run/docker.sock",
     offsetof(struct docker_config, socket), "dockerd's API socket", 0},
    {"request-timeout", BERTH_OPT_DURATION, "30s",
     offsetof(struct docker_config, request_timeout_ms),
     "how long one API call may take (a stop adds its own timeout)", 0},
    {"pull", BERTH_OPT_BOOL, "no", offsetof(struct docker_config, pull),
     "pull an image that is not there (else creating fails with not found)", 0},
    {"api-version", BERTH_OPT_STRING, NULL, offsetof(struct docker_config, api_version),
     "pin the API version (\"1.41\"); unset: the engine's, at most " DOCKER_API_MAX
     ", at least " DOCKER_API_MIN, 0},
    {"pause-image", BERTH_OPT_STRING, "berth/pause:1",
     offsetof(struct docker_config, pause_image),
     "image of the container holding an awsvpc task's network namespace "
     "(built from pause-binary when missing)", 0},
    {"pause-binary", BERTH_OPT_STRING, PKGLIBEXECDIR "/berth-pause",
     offsetof(struct docker_config, pause_binary),
     "static program the pause image is built from", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* "1.41" -> 41; 0 when it is not "1.N". */
static unsigned
api_minor(const char *v)
{
    char *end;
    unsigned long m;

    if (!v || strncmp(v, "1.", 2) != 0 || v[2] < '0' || v[2] > '9')
        return 0;
    m = strtoul(v + 2, &end, 10);
    return *end || m > 999 ? 0 : (unsigned)m;
}

static int
check_config(const struct docker_config *c, char *err, size_t errlen)
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
    if (c->api_version && api_minor(c->api_version) < api_minor(DOCKER_API_MIN)) {
        snprintf(err, errlen, "api-version must be 1.N, at least %s, not '%s'",
                 DOCKER_API_MIN, c->api_version);
        return -1;
    }
    if (!c->pause_image || !*c->pause_image || !c->pause_binary || !*c->pause_binary) {
        snprintf(err, errlen, "pause-image and pause-binary must not be empty");
        return -1;
    }
    return 0;
}

static void
apply_config(struct docker *d, const struct docker_config *c)
{
    d->cfg = c;
    d->e.socket = (char *)c->socket;
    d->e.timeout_ms = c->request_timeout_ms;
    if (c->api_version) {
        d->api_minor = api_minor(c->api_version);
        snprintf(d->prefix, sizeof(d->prefix), "/v1.%u", d->api_minor);
    } else if (!d->version[0]) {
        d->api_minor = api_minor(DOCKER_API_MIN);
        snprintf(d->prefix, sizeof(d->prefix), "/v%s", DOCKER_API_MIN);
    }
}

static int
docker_init(berth_ctx *ctx, const struct berth_host *host, const void *config,
            void **state, char *err, size_t errlen)
{
    struct docker *d;

    if (check_config(config, err, errlen) < 0)
        return -1;
    if (!(d = calloc(1, sizeof(*d)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->ctx = ctx;
    d->host = host;
    d->e.ctx = ctx;
    d->e.host = host;
    d->e.name = "docker";
    d->e.prefix = d->prefix;
    apply_config(d, config);
    *state = d;
    return 0;
}

/* ---- negotiation: GET //_ping, then //version ---- */

static void hello_version_done(void *arg, const struct engine_result *r);

static void
hello_retry(void *arg)
{
    struct docker *d = arg;

    d->hello_retry = NULL;
    docker_hello(d);
}

static void
hello_failed(struct docker *d, const char *msg)
{
    unsigned long long ms = HELLO_RETRY_MIN_MS;

    for (unsigned i = 0; i < d->hello_failures && ms < HELLO_RETRY_MAX_MS; i++)
        ms *= 2;
    if (ms > HELLO_RETRY_MAX_MS)
        ms = HELLO_RETRY_MAX_MS;
    /* The first failure is worth a warning; the retries are not. */
    d->host->log(d->ctx, d->hello_failures ? BERTH_LOG_DEBUG : BERTH_LOG_WARN,
                 "docker.unreachable socket=%s retry_ms=%llu error=\"%s\"", d->cfg->socket,
                 ms, msg);
    d->hello_failures++;
    if (!d->stopped)
        d->hello_retry = d->host->timer_start(d->ctx, ms, 0, hello_retry, d);
}

static void
hello_ping_done(void *arg, const struct engine_result *r)
{
    struct docker *d = arg;

    d->hello = NULL;
    if (r->code != BERTH_RT_OK) {
        hello_failed(d, r->msg);
        return;
    }
    d->hello = engine_call(&d->e, "GET", "//version", NULL, 0, hello_version_done, d);
    if (!d->hello)
        hello_failed(d, "cannot send GET /version");
}

static void
hello_version_done(void *arg, const struct engine_result *r)
{
    struct docker *d = arg;
    const char *ver, *api;
    unsigned minor;

    d->hello = NULL;
    if (r->code != BERTH_RT_OK) {
        hello_failed(d, r->msg);
        return;
    }
    ver = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "Version"));
    api = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "ApiVersion"));
    if (!ver || !(minor = api_minor(api))) {
        hello_failed(d, "GET /version answered without Version and ApiVersion");
        return;
    }
    d->hello_failures = 0;
    if (!d->cfg->api_version) {
        if (minor < api_minor(DOCKER_API_MIN)) {
            snprintf(d->refused, sizeof(d->refused),
                     "docker %s at %s speaks API %s, older than %s, the oldest this "
                     "plugin supports",
                     ver, d->cfg->socket, api, DOCKER_API_MIN);
            d->host->log(d->ctx, BERTH_LOG_ERROR, "docker.refused error=\"%s\"", d->refused);
            return;
        }
        d->api_minor = minor < api_minor(DOCKER_API_MAX) ? minor : api_minor(DOCKER_API_MAX);
        snprintf(d->prefix, sizeof(d->prefix), "/v1.%u", d->api_minor);
    }
    d->refused[0] = '\0';
    snprintf(d->version, sizeof(d->version), "docker %s (API 1.%u)", ver, d->api_minor);
    d->host->log(d->ctx, BERTH_LOG_INFO, "docker.connected socket=%s version=%s api=1.%u%s",
                 d->cfg->socket, ver, d->api_minor, d->cfg->api_version ? " pinned=yes" : "");
}

void
docker_hello(struct docker *d)
{
    if (d->stopped || d->hello || d->hello_retry || d->version[0])
        return;
    d->hello = engine_call(&d->e, "GET", "//_ping", NULL, 0, hello_ping_done, d);
    if (!d->hello)
        hello_failed(d, "cannot send GET /_ping");
}

/* ---- the bridge's gateway (host_address) ---- */

static void
gateway_done(void *arg, const struct engine_result *r)
{
    struct docker *d = arg;
    /* {"IPAM": {"Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]}} */
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r->json, "IPAM"), "Config");
    const char *gw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_IsArray(cfg) ? cJSON_GetArrayItem(cfg, 0) : NULL, "Gateway"));
    char *msg = d->up_msg;

    d->net_call = NULL;
    d->up_msg = NULL;
    if (engine_gateway_set(d->gateway, sizeof(d->gateway), gw))
        d->host->log(d->ctx, BERTH_LOG_DEBUG, "docker.gateway address=%s", d->gateway);
    else
        d->host->log(d->ctx, BERTH_LOG_WARN, "docker.gateway.unknown error=\"%s\"",
                     r->code != BERTH_RT_OK ? r->msg
                                            : "GET /networks/bridge has no IPAM.Config[0].Gateway");
    docker_emit_up(d, msg);
    free(msg);
}

void
docker_learn_gateway(struct docker *d, const char *msg)
{
    docker_forget_gateway(d);
    d->up_msg = strdup(msg ? msg : "");
    /* Unversioned: the API version may not be negotiated yet. */
    d->net_call = engine_call(&d->e, "GET", "//networks/bridge", NULL, 0, gateway_done, d);
    if (!d->net_call) {
        free(d->up_msg);
        d->up_msg = NULL;
        docker_emit_up(d, msg);
    }
}

void
docker_forget_gateway(struct docker *d)
{
    if (d->net_call)
        engine_cancel(&d->e, d->net_call);
    d->net_call = NULL;
    free(d->up_msg);
    d->up_msg = NULL;
}

static const char *
docker_host_address(void *state, const char *mode)
{
    struct docker *d = state;
    return engine_host_address(d->gateway, mode);
}

static int
docker_start_plugin(void *state, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    docker_hello(state);
    return 0;
}

static int
docker_stop_plugin(void *state)
{
    struct docker *d = state;

    /* Operations in flight are dropped: the agent fails those it waits for. */
    d->stopped = true;
    docker_events_stop(d);
    docker_forget_gateway(d);
    if (d->hello)
        engine_cancel(&d->e, d->hello);
    if (d->hello_retry)
        d->host->timer_stop(d->ctx, d->hello_retry);
    d->hello = NULL;
    d->hello_retry = NULL;
    while (d->ops)
        dop_free(d->ops);
    return 0;
}

static void
docker_destroy(void *state)
{
    struct docker *d = state;

    if (!d->stopped)
        docker_stop_plugin(d);
    free(d);
}

static int
docker_reconfigure(void *state, const void *config, char *err, size_t errlen)
{
    struct docker *d = state;
    const struct docker_config *c = config;

    if (check_config(c, err, errlen) < 0)
        return -1;
    /* Another socket or pinned version means another engine: negotiate again. */
    bool again = strcmp(c->socket, d->cfg->socket) != 0 ||
                 (c->api_version == NULL) != (d->cfg->api_version == NULL) ||
                 (c->api_version && strcmp(c->api_version, d->cfg->api_version) != 0);
    if (again) {
        if (d->hello)
            engine_cancel(&d->e, d->hello);
        if (d->hello_retry)
            d->host->timer_stop(d->ctx, d->hello_retry);
        d->hello = NULL;
        d->hello_retry = NULL;
        d->version[0] = '\0';
        d->refused[0] = '\0';
        d->hello_failures = 0;
    }
    apply_config(d, c);
    if (again)
        docker_hello(d);
    return 0;
}

static const char *
docker_engine_version(void *state)
{
    struct docker *d = state;
    return d->version[0] ? d->version : NULL;
}

/* ---- operations in flight ---- */

struct dop *
dop_new(struct docker *d, enum dop_kind kind, void *cb, void *arg)
{
    struct dop *op = calloc(1, sizeof(*op));

    if (!op) {
        d->host->log(d->ctx, BERTH_LOG_ERROR, "docker.op.refused error=\"out of memory\"");
        return NULL;
    }
    op->d = d;
    op->kind = kind;
    op->arg = arg;
    switch (kind) { /* one pointer, stored under the kind's own type */
    case DOP_DONE: op->cb.done = (berth_rt_done_cb)cb; break;
    case DOP_ID: op->cb.id = (berth_rt_id_cb)cb; break;
    case DOP_INFO: op->cb.info = (berth_rt_info_cb)cb; break;
    case DOP_LIST: op->cb.list = (berth_rt_list_cb)cb; break;
    case DOP_STATS: op->cb.stats = (berth_rt_stats_cb)cb; break;
    }
    op->next = d->ops;
    if (d->ops)
        d->ops->prev = op;
    d->ops = op;
    return op;
}

void
dop_free(struct dop *op)
{
    struct docker *d = op->d;

    if (op->prev)
        op->prev->next = op->next;
    else
        d->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    if (op->h)
        engine_cancel(&d->e, op->h);
    if (op->t)
        d->host->timer_stop(d->ctx, op->t);
    cJSON_Delete(op->body);
    free(op->image);
    free(op->sandbox);
    for (size_t i = 0; i < op->n_ids; i++)
        free(op->ids[i]);
    free(op->ids);
    for (size_t i = 0; i < op->n_infos; i++) {
        engine_info_free(&op->infos[i]);
        free(op->sandboxes[i]);
    }
    free(op->infos);
    free(op->sandboxes);
    free(op->msg);
    free(op);
}

void
dop_finish(struct dop *op, enum berth_rt_code code, const char *msg)
{
    switch (op->kind) {
    case DOP_DONE: op->cb.done(op->arg, code, msg); break;
    case DOP_ID: op->cb.id(op->arg, code, NULL, msg); break;
    case DOP_INFO: op->cb.info(op->arg, code, NULL, msg); break;
    case DOP_LIST: op->cb.list(op->arg, code, NULL, 0, msg); break;
    case DOP_STATS: op->cb.stats(op->arg, code, NULL, msg); break;
    }
    dop_free(op);
}

void
dop_finish_id(struct dop *op, const char *id)
{
    op->cb.id(op->arg, BERTH_RT_OK, id, "");
    dop_free(op);
}

void
dop_finish_info(struct dop *op, const struct berth_container_info *i)
{
    op->cb.info(op->arg, BERTH_RT_OK, i, "");
    dop_free(op);
}

static void
dop_later_fire(void *arg)
{
    struct dop *op = arg;

    op->t = NULL;
    if (op->then) {
        void (*then)(struct dop *) = op->then;
        op->then = NULL;
        then(op);
        return;
    }
    dop_finish(op, op->code, op->msg ? op->msg : "");
}

void
dop_answer_later(struct dop *op, enum berth_rt_code code, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    op->code = code;
    free(op->msg);
    op->msg = strdup(buf);
    if (op->t)
        op->d->host->timer_stop(op->d->ctx, op->t);
    op->t = op->d->host->timer_start(op->d->ctx, 0, 0, dop_later_fire, op);
}

static void
dop_result(void *arg, const struct engine_result *r)
{
    struct dop *op = arg;

    op->h = NULL;
    op->on_result(op, r);
}

bool
dop_call(struct dop *op, const char *method, const char *path, cJSON *body,
         uint64_t timeout_ms, dop_result_cb cb)
{
    op->on_result = cb;
    op->h = engine_call(&op->d->e, method, path, body, timeout_ms, dop_result, op);
    if (!op->h) {
        dop_answer_later(op, BERTH_RT_FAILED, "cannot send %s %.*s to docker (see the log)",
                         method, (int)strcspn(path, "?"), path);
        return false;
    }
    return true;
}

bool
docker_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n > 255)
        return false;
    return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static const struct berth_runtime_ops docker_runtime = {
    .struct_size = sizeof(struct berth_runtime_ops),
    .engine_version = docker_engine_version,
    .host_address = docker_host_address,
    .sandbox_create = docker_sandbox_create,
    .sandbox_remove = docker_sandbox_remove,
    .create = docker_create,
    .start = docker_start,
    .stop = docker_stop,
    .remove = docker_remove,
    .inspect = docker_inspect,
    .list = docker_list,
    .stats = docker_stats,
    .watch = docker_watch,
};

BERTH_PLUGIN_DECLARE = {
    BERTH_PLUGIN_HEADER,
    .name = "docker",
    .version = "1.0",
    .description = "runs containers on Docker (dockerd's API over its unix socket)",
    .kind = BERTH_KIND_RUNTIME,
    .options = docker_options,
    .config_size = sizeof(struct docker_config),
    .init = docker_init,
    .start = docker_start_plugin,
    .stop = docker_stop_plugin,
    .destroy = docker_destroy,
    .ops = &docker_runtime,
    .reconfigure = docker_reconfigure,
};
