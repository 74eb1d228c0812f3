/* engine_http.c: one JSON request to an engine's API (engine_call), and
 * the query-string helpers.  See engine.h for the contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* One request in flight: what the callback needs once the answer came. */
struct call {
    struct call *prev, *next; /* in calls, so engine_cancel can find it */
    berth_http *h;
    struct engine *e;
    engine_cb cb;
    void *arg;
    char method[8];
    char path[512]; /* for messages: never holds a body */
};

/* Every call in flight, of every engine of this plugin: the loop is one
 * thread, and a handful of calls are in flight at a time. */
static struct call *calls;

static void
unlink_call(struct call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static const char *const json_headers[] = {"Content-Type: application/json",
                                           NULL};

static enum berth_rt_code
map_status(long status)
{
    if ((status >= 200 && status < 300) || status == 304)
        return BERTH_RT_OK;
    switch (status) {
    case 404:
        return BERTH_RT_NOT_FOUND;
    case 409:
        return BERTH_RT_CONFLICT;
    case 400:
    case 422:
        return BERTH_RT_INVALID;
    default:
        return BERTH_RT_FAILED;
    }
}

/* The engine's own words: "message", with libpod's "cause" when it adds
 * something the message does not already say. */
static void
engine_words(const cJSON *j, char *buf, size_t size)
{
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message"));
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "cause"));

    buf[0] = '\0';
    if (m && *m)
        snprintf(buf, size, "%s", m);
    if (c && *c && (!m || !strstr(m, c)))
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? ": " : "", c);
}

static void
call_done(void *arg, const struct berth_http_response *res)
{
    struct call *c = arg;
    struct engine *e = c->e;
    char msg[1024];

    unlink_call(c);
    struct engine_result r = {
        .status = res->status,
        .body = res->body ? res->body : "",
        .body_len = res->body_len,
        .msg = "",
    };

    if (res->body_len)
        r.json = cJSON_ParseWithLength(res->body, res->body_len);
    if (res->error && res->status == 0) {
        r.code = BERTH_RT_UNAVAILABLE;
        snprintf(msg, sizeof(msg), "%s is not reachable at %s: %s", e->name,
                 e->socket, res->error_msg ? res->error_msg : "no answer");
        r.msg = msg;
    } else if (res->error) {
        /* The status came but the body broke off (or timed out). */
        r.code = BERTH_RT_FAILED;
        snprintf(msg, sizeof(msg), "%s %s on %s: answer cut short: %s", c->method,
                 c->path, e->name, res->error_msg ? res->error_msg : "transfer failed");
        r.msg = msg;
    } else if ((r.code = map_status(res->status)) != BERTH_RT_OK) {
        engine_words(r.json, msg, sizeof(msg));
        if (!msg[0]) /* no JSON message: name the call and the status */
            snprintf(msg, sizeof(msg), "%s answered HTTP %ld to %s %s%s%.200s", e->name,
                     res->status, c->method, c->path, res->body_len ? ": " : "",
                     res->body_len ? res->body : "");
        r.msg = msg;
    }
    c->cb(c->arg, &r);
    cJSON_Delete(r.json);
    free(c);
}

berth_http *
engine_call(struct engine *e, const char *method, const char *path, cJSON *body,
            uint64_t timeout_ms, engine_cb cb, void *arg)
{
    char url[4096], *text = NULL;
    struct call *c = NULL;
    berth_http *h = NULL;
    int n;

    if (!path || !*path || !method) {
        e->host->log(e->ctx, BERTH_LOG_ERROR, "engine.call.refused engine=%s error=\"%s\"",
                     e->name, "empty path (a query too long for its buffer?)");
        goto out;
    }
    if (strncmp(path, "//", 2) == 0)
        n = snprintf(url, sizeof(url), "http://localhost/%s", path + 2);
    else
        n = snprintf(url, sizeof(url), "http://localhost%s%s", e->prefix ? e->prefix : "",
                     path);
    if (n < 0 || (size_t)n >= sizeof(url)) {
        e->host->log(e->ctx, BERTH_LOG_ERROR, "engine.call.refused engine=%s error=\"%s\"",
                     e->name, "URL too long");
        goto out;
    }
    if (body && !(text = cJSON_PrintUnformatted(body)))
        goto oom;
    if (!(c = calloc(1, sizeof(*c))))
        goto oom;
    c->e = e;
    c->cb = cb;
    c->arg = arg;
    snprintf(c->method, sizeof(c->method), "%s", method);
    /* Only the path part names the call in messages: queries may be long. */
    snprintf(c->path, sizeof(c->path), "%.*s", (int)strcspn(path, "?"), path);

    struct berth_http_request req = {
        .struct_size = sizeof(req),
        .method = method,
        .url = url,
        .unix_socket = e->socket,
        .headers = text ? json_headers : NULL,
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .timeout_ms = timeout_ms ? timeout_ms : e->timeout_ms,
        .connect_timeout_ms = 5000,
    };
    if (!(h = e->host->http_request(e->ctx, &req, NULL, call_done, c))) {
        /* The host has logged why. */
        free(c);
        goto out;
    }
    c->h = h;
    c->next = calls;
    if (calls)
        calls->prev = c;
    calls = c;
    goto out;
oom:
    e->host->log(e->ctx, BERTH_LOG_ERROR, "engine.call.refused engine=%s error=\"%s\"",
                 e->name, "out of memory");
out:
    free(text);
    cJSON_Delete(body);
    return h;
}

void
engine_cancel(struct engine *e, berth_http *h)
{
    struct call *c;

    if (!h)
        return;
    for (c = calls; c && c->h != h; c = c->next)
        ;
    e->host->http_cancel(e->ctx, h);
    if (c) {
        unlink_call(c);
        free(c);
    }
}

/* RFC 3986 unreserved characters stay; everything else is %XX. */
static size_t
url_encode(char *out, size_t size, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
                    ch == '~';
        if (plain) {
            if (out && n + 1 < size)
                out[n] = (char)ch;
            n++;
        } else {
            if (out && n + 3 < size) {
                out[n] = '%';
                out[n + 1] = hex[ch >> 4];
                out[n + 2] = hex[ch & 15];
            }
            n += 3;
        }
    }
    if (out && size)
        out[n < size ? n : size - 1] = '\0';
    return n;
}

/* Appends "&name=value" ("?name=value" when buf has no query yet).  When
 * it does not fit, buf becomes "" so that engine_call refuses the request:
 * a dropped filter must never widen what a call touches. */
void
engine_query_add(char *buf, size_t size, const char *name, const char *value)
{
    size_t len = strlen(buf);
    size_t need = len + 1 + strlen(name) + 1 + url_encode(NULL, 0, value) + 1;

    if (need > size) {
        buf[0] = '\0';
        return;
    }
    len += (size_t)snprintf(buf + len, size - len, "%c%s=", strchr(buf, '?') ? '&' : '?',
                            name);
    url_encode(buf + len, size - len, value);
}

char *
engine_filters(const char *label, const char *const *events)
{
    cJSON *f = cJSON_CreateObject(), *a;
    char *text = NULL, *out = NULL;

    if (!f)
        return NULL;
    if (label && (!(a = cJSON_AddArrayToObject(f, "label")) ||
                  !cJSON_AddItemToArray(a, cJSON_CreateString(label))))
        goto out;
    if (events) {
        if (!(a = cJSON_AddArrayToObject(f, "event")))
            goto out;
        for (; *events; events++)
            if (!cJSON_AddItemToArray(a, cJSON_CreateString(*events)))
                goto out;
    }
    if (!(text = cJSON_PrintUnformatted(f)))
        goto out;
    size_t n = url_encode(NULL, 0, text) + 1;
    if ((out = malloc(n)))
        url_encode(out, n, text);
out:
    free(text);
    cJSON_Delete(f);
    return out;
}
