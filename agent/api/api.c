/* api.c: ECS JSON 1.1 dispatch, authentication and listeners; see api.h. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "agent/api/api.h"
#include "agent/api/http_server.h"
#include "agent/api/sigv4.h"
#include "agent/conf.h"
#include "agent/log.h"

#define MAX_HEADER (64 * 1024)

struct action_table {
    const struct api_action *actions;
    void *ctx;
};

/* Everything [api] decides, resolved. */
struct api_settings {
    char *socket; /* NULL: none */
    mode_t mode;
    gid_t gid;
    char *listen; /* NULL: none */
    struct sigv4_creds *creds;
    char *region;
    struct http_limits limits;
};

struct api {
    struct ev_loop *loop;
    struct http_server *srv;
    struct api_settings set;
    struct http_listener *unix_l, *tcp_l;
    /* A prepared reload. */
    int prepared;
    struct api_settings next;
    struct http_listener *next_unix_l, *next_tcp_l;
    struct action_table *tables;
    size_t n_tables;
    api_observer_fn observer; /* each answered call (metrics) */
    void *observer_arg;
};

struct api_call {
    struct http_exchange *x;
    void *ctx;
    char action[96];
    bool known;  /* action is a registered one */
    api_observer_fn observer; /* copied: a call may outlive its api */
    void *observer_arg;
    char request_id[37];
    char peer[80];
    char key_id[64];
    struct timespec t0;
};

/* Marks a listener whose requests must be signed. */
static char tcp_mark;

/* ---- settings ---- */

static void
settings_free(struct api_settings *s)
{
    free(s->socket);
    free(s->listen);
    free(s->region);
    sigv4_creds_free(s->creds);
    memset(s, 0, sizeof(*s));
}

static void
api_error(struct conf_errors *errs, const struct conf *c, const char *key,
          const char *fmt, ...) BERTH_PRINTF(4, 5);

static void
api_error(struct conf_errors *errs, const struct conf *c, const char *key,
          const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    conf_errors_add(errs, "%s:%d: [api] %s: %s", c->path, conf_api_line(c, key), key, msg);
}

static int
resolve_group(const char *name, gid_t *gid, char *err, size_t errlen)
{
    char buf[4096], *end;
    struct group gr, *res = NULL;
    unsigned long n;

    *gid = (gid_t)-1;
    if (!*name)
        return 0;
    n = strtoul(name, &end, 10);
    if (!*end) {
        *gid = (gid_t)n;
        return 0;
    }
    if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res) {
        snprintf(err, errlen, "no group named \"%s\"", name);
        return -1;
    }
    *gid = res->gr_gid;
    return 0;
}

/* Reads [api] (and the credentials file) into s; errors in errs. */
static int
settings_load(struct api_settings *s, const struct conf *c, struct conf_errors *errs)
{
    const struct conf_api *a = &c->api;
    char err[1024];
    size_t before = errs->n;

    memset(s, 0, sizeof(*s));
    s->mode = (mode_t)a->socket_mode_bits;
    if (resolve_group(a->socket_group, &s->gid, err, sizeof(err)) < 0)
        api_error(errs, c, "socket-group", "%s", err);
    if (a->socket[0] && !(s->socket = strdup(a->socket)))
        abort();
    if (a->listen[0] && !(s->listen = strdup(a->listen)))
        abort();
    if (!(s->region = strdup(c->agent.region)))
        abort();
    if (a->credentials_file[0] &&
        !(s->creds = sigv4_creds_load(a->credentials_file, err, sizeof(err))))
        api_error(errs, c, "credentials-file", "%s", err);
    s->limits.max_header = MAX_HEADER;
    s->limits.max_body = a->max_body;
    s->limits.header_timeout = a->header_timeout_ms / 1000.0;
    s->limits.idle_timeout = a->idle_timeout_ms / 1000.0;
    s->limits.max_connections = (unsigned)a->max_connections;
    if (errs->n != before) {
        settings_free(s);
        return -1;
    }
    return 0;
}

static int
same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- replies ---- */

static void
uuid4(char out[37])
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1)
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
}

static void
finish(struct api_call *c, int status, const char *body, const char *error_type)
{
    struct http_header h[2] = {
        {(char *)"Content-Type", (char *)API_CONTENT_TYPE},
        {(char *)"x-amzn-RequestId", c->request_id},
    };
    struct timespec t1;
    int gone = http_exchange_gone(c->x);
    char q[128];

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - c->t0.tv_sec) * 1e3 +
                (double)(t1.tv_nsec - c->t0.tv_nsec) / 1e6;
    log_info("api.request", "action=%s status=%d ms=%.1f peer=%s request_id=%s%s%s%s%s",
             log_quote(q, sizeof(q), c->action[0] ? c->action : "-"), status, ms, c->peer,
             c->request_id, c->key_id[0] ? " key=" : "", c->key_id,
             error_type ? " error=" : "", error_type ? error_type : "");
    if (c->observer)
        c->observer(c->observer_arg, c->known ? c->action : NULL, error_type, ms / 1e3);
    if (gone)
        log_info("api.reply.dropped", "request_id=%s reason=\"client gone\"", c->request_id);
    http_reply(c->x, status, h, 2, body, strlen(body));
    free(c);
}

void
api_reply(struct api_call *c, cJSON *output)
{
    char *body;

    if (!output)
        output = cJSON_CreateObject();
    body = output ? cJSON_PrintUnformatted(output) : NULL;
    cJSON_Delete(output);
    if (!body) {
        api_fail(c, "ServerException", "out of memory");
        return;
    }
    finish(c, 200, body, NULL);
    free(body);
}

static void
vfail(struct api_call *c, int status, const char *type, const char *fmt, va_list ap)
    BERTH_PRINTF(4, 0);

static void
vfail(struct api_call *c, int status, const char *type, const char *fmt, va_list ap)
{
    char *msg = NULL, *body = NULL;
    cJSON *o = cJSON_CreateObject();

    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    if (o && cJSON_AddStringToObject(o, "__type", type) &&
        cJSON_AddStringToObject(o, "message", msg ? msg : "out of memory"))
        body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    finish(c, status, body ? body : "{\"__type\":\"ServerException\"}", type);
    free(body);
    free(msg);
}

void
api_fail(struct api_call *c, const char *type, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(c, strcmp(type, "ServerException") == 0 ? 500 : 400, type, fmt, ap);
    va_end(ap);
}

static void
fail_status(struct api_call *c, int status, const char *type, const char *fmt, ...)
    BERTH_PRINTF(4, 5);

static void
fail_status(struct api_call *c, int status, const char *type, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(c, status, type, fmt, ap);
    va_end(ap);
}

void *api_call_ctx(const struct api_call *c) { return c->ctx; }
const char *api_call_action(const struct api_call *c) { return c->action; }
const char *api_call_request_id(const struct api_call *c) { return c->request_id; }
const char *api_call_peer(const struct api_call *c) { return c->peer; }
int api_call_gone(const struct api_call *c) { return http_exchange_gone(c->x); }

int
api_parse_input(struct api_call *c, const cJSON *input, const struct jw_shape *shape,
                void *target)
{
    struct json_errors errs = {0};
    struct jw w = {.errs = &errs};
    char *msg;

    if (jw_walk(&w, input, shape, target) == 0) {
        json_errors_clear(&errs);
        return 0;
    }
    msg = json_errors_message(&errs);
    jw_free_shape(shape, target);
    api_fail(c, "InvalidParameterException", "%s", msg);
    free(msg);
    json_errors_clear(&errs);
    return -1;
}

/* ---- dispatch ---- */

static const struct action_table *
find_action(const struct api *api, const char *name, const struct api_action **out)
{
    for (size_t t = 0; t < api->n_tables; t++)
        for (const struct api_action *a = api->tables[t].actions; a->name; a++)
            if (strcmp(a->name, name) == 0) {
                *out = a;
                return &api->tables[t];
            }
    return NULL;
}

/* The JSON 1.1 content type, perhaps with parameters ("; charset=utf-8"). */
static int
json_content_type(const char *ct)
{
    size_t n = strlen(API_CONTENT_TYPE);
    return ct && strncasecmp(ct, API_CONTENT_TYPE, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void
on_request(void *arg, struct http_exchange *x, struct http_request *req)
{
    struct api *api = arg;
    struct api_call *c = calloc(1, sizeof(*c));
    const char *target, *ct;
    const struct action_table *tab;
    const struct api_action *act = NULL;
    cJSON *input;

    if (!c) {
        http_reply(x, 500, NULL, 0, "out of memory\n", 14);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    c->x = x;
    c->observer = api->observer;
    c->observer_arg = api->observer_arg;
    uuid4(c->request_id);
    snprintf(c->peer, sizeof(c->peer), "%s", req->peer);
    target = http_header_get(req, "X-Amz-Target");
    if (target && strncmp(target, API_TARGET_PREFIX, strlen(API_TARGET_PREFIX)) == 0)
        snprintf(c->action, sizeof(c->action), "%s", target + strlen(API_TARGET_PREFIX));

    if (req->listener_data == &tcp_mark) {
        char msg[512];
        enum sigv4_rc rc = sigv4_verify(api->set.creds, req, api->set.region, "ecs",
                                        time(NULL), msg, sizeof(msg), c->key_id,
                                        sizeof(c->key_id));
        if (rc != SIGV4_OK) {
            fail_status(c, rc == SIGV4_MISSING || rc == SIGV4_UNKNOWN_KEY ? 403 : 400,
                        sigv4_error_type(rc), "%s", msg);
            return;
        }
    }
    if (strcmp(req->method, "POST") != 0) {
        fail_status(c, 405, "SerializationException",
                    "the ECS API takes POST requests, got %s", req->method);
        return;
    }
    if (!target) {
        api_fail(c, "UnknownOperationException",
                 "missing X-Amz-Target header; expected " API_TARGET_PREFIX "ACTION");
        return;
    }
    if (!c->action[0]) {
        api_fail(c, "UnknownOperationException",
                 "X-Amz-Target: expected " API_TARGET_PREFIX "ACTION, got \"%.100s\"",
                 target);
        return;
    }
    if (!(tab = find_action(api, c->action, &act))) {
        api_fail(c, "UnknownOperationException", "unknown operation %.100s", c->action);
        return;
    }
    c->known = true;
    ct = http_header_get(req, "Content-Type");
    if (!json_content_type(ct)) {
        api_fail(c, "SerializationException",
                 "Content-Type: expected " API_CONTENT_TYPE ", got \"%.100s\"",
                 ct ? ct : "");
        return;
    }
    if (req->body_len == 0) {
        input = cJSON_CreateObject();
    } else {
        const char *end = NULL;
        input = cJSON_ParseWithLengthOpts(req->body, req->body_len, &end, 0);
        if (!input) {
            size_t off = end ? (size_t)(end - req->body) : 0;
            api_fail(c, "SerializationException",
                     "the request body is not valid JSON (at byte %zu)", off);
            return;
        }
    }
    if (!cJSON_IsObject(input)) {
        api_fail(c, "SerializationException",
                 "the request body must be a JSON object, got %s", jw_type_name(input));
        cJSON_Delete(input);
        return;
    }
    c->ctx = tab->ctx;
    act->fn(c, input); /* c may be gone from here on */
    cJSON_Delete(input);
}

/* ---- listeners and life cycle ---- */

static struct http_listener *
open_unix(struct api *api, const struct api_settings *s, const struct conf *c,
          struct conf_errors *errs)
{
    char err[512];
    struct http_listener *l = http_listen_unix(api->srv, s->socket, s->mode, s->gid,
                                               err, sizeof(err));
    if (!l)
        api_error(errs, c, "socket", "%s", err);
    return l;
}

static struct http_listener *
open_tcp(struct api *api, const struct api_settings *s, const struct conf *c,
         struct conf_errors *errs)
{
    char err[512];
    struct http_listener *l = http_listen_tcp(api->srv, s->listen, err, sizeof(err));
    if (!l)
        api_error(errs, c, "listen", "%s", err);
    else
        http_listener_set_data(l, &tcp_mark);
    return l;
}

static void
log_listeners(const struct api *api, const char *event)
{
    log_info(event, "socket=%s listen=%s port=%d keys=%zu",
             api->set.socket ? api->set.socket : "none",
             api->set.listen ? api->set.listen : "none", api_tcp_port(api),
             sigv4_creds_count(api->set.creds));
}

struct api *
api_start(struct ev_loop *loop, const struct conf *c, struct conf_errors *errs)
{
    struct api *api = calloc(1, sizeof(*api));

    if (!api) {
        conf_errors_add(errs, "out of memory");
        return NULL;
    }
    api->loop = loop;
    if (settings_load(&api->set, c, errs) < 0) {
        free(api);
        return NULL;
    }
    if (!(api->srv = http_server_new(loop, &api->set.limits, on_request, api))) {
        conf_errors_add(errs, "out of memory");
        api_free(api);
        return NULL;
    }
    if ((api->set.socket && !(api->unix_l = open_unix(api, &api->set, c, errs))) ||
        (api->set.listen && !(api->tcp_l = open_tcp(api, &api->set, c, errs)))) {
        api_free(api);
        return NULL;
    }
    log_listeners(api, "api.started");
    return api;
}

int
api_add_actions(struct api *api, const struct api_action *table, void *ctx)
{
    const struct api_action *dup;
    struct action_table *g;

    for (const struct api_action *a = table; a->name; a++)
        if (find_action(api, a->name, &dup)) {
            log_error("api.action.duplicate", "action=%s", a->name);
            return -1;
        }
    if (!(g = realloc(api->tables, (api->n_tables + 1) * sizeof(*g))))
        return -1;
    api->tables = g;
    g[api->n_tables].actions = table;
    g[api->n_tables].ctx = ctx;
    api->n_tables++;
    return 0;
}

int
api_tcp_port(const struct api *api)
{
    return api->tcp_l ? http_listener_port(api->tcp_l) : 0;
}

void
api_stop_accepting(struct api *api)
{
    if (!api)
        return;
    api_reload_abort(api);
    if (api->unix_l)
        http_listener_close(api->unix_l);
    if (api->tcp_l)
        http_listener_close(api->tcp_l);
    api->unix_l = api->tcp_l = NULL;
}

void
api_free(struct api *api)
{
    if (!api)
        return;
    api_stop_accepting(api);
    http_server_free(api->srv);
    settings_free(&api->set);
    free(api->tables);
    free(api);
}

int
api_reload_prepare(struct api *api, const struct conf *c, struct conf_errors *errs)
{
    struct api_settings *n = &api->next;

    api_reload_abort(api);
    if (settings_load(n, c, errs) < 0)
        return -1;
    /* New or moved listeners open now, beside the old ones. */
    if (n->socket && (!same(n->socket, api->set.socket) || !api->unix_l) &&
        !(api->next_unix_l = open_unix(api, n, c, errs)))
        goto fail;
    if (n->listen && (!same(n->listen, api->set.listen) || !api->tcp_l) &&
        !(api->next_tcp_l = open_tcp(api, n, c, errs)))
        goto fail;
    api->prepared = 1;
    return 0;
fail:
    api_reload_abort(api);
    return -1;
}

void
api_reload_commit(struct api *api)
{
    char err[512];

    if (!api->prepared)
        return;
    if (api->next_unix_l || !api->next.socket) {
        if (api->unix_l)
            http_listener_close(api->unix_l);
        api->unix_l = api->next_unix_l;
    } else if (api->unix_l && (api->next.mode != api->set.mode ||
                               api->next.gid != api->set.gid) &&
               http_listener_chmod(api->unix_l, api->next.mode, api->next.gid, err,
                                   sizeof(err)) < 0) {
        log_error("api.socket.chmod", "error=\"%s\"", err);
    }
    if (api->next_tcp_l || !api->next.listen) {
        if (api->tcp_l)
            http_listener_close(api->tcp_l);
        api->tcp_l = api->next_tcp_l;
    }
    api->next_unix_l = api->next_tcp_l = NULL;
    settings_free(&api->set);
    api->set = api->next;
    memset(&api->next, 0, sizeof(api->next));
    api->prepared = 0;
    http_server_set_limits(api->srv, &api->set.limits);
    log_listeners(api, "api.reloaded");
}

void
api_reload_abort(struct api *api)
{
    if (api->next_unix_l)
        http_listener_close(api->next_unix_l);
    if (api->next_tcp_l)
        http_listener_close(api->next_tcp_l);
    api->next_unix_l = api->next_tcp_l = NULL;
    settings_free(&api->next);
    api->prepared = 0;
}

void
api_set_observer(struct api *api, api_observer_fn fn, void *arg)
{
    api->observer = fn;
    api->observer_arg = arg;
}
