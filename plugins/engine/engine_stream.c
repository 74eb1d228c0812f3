/* engine_stream.c: a long-lived GET split into one JSON document per line,
 * reconnecting with backoff (engine.h has the contract).
 *
 * When is a stream "established"?  The host's HTTP API delivers no headers
 * before the first body bytes, and an idle event stream sends none.  On a
 * unix socket a refused connection or an error answer ends the transfer at
 * once, so a transfer still open SETTLE_MS after it began is taken as
 * established (the engine answered 200 and is holding it open); the first
 * document with status 200 counts too, whichever comes first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define SETTLE_MS 200
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000
#define LINE_MAX_BYTES (1024 * 1024) /* a longer "document" is garbage */
#define ERR_BODY_MAX 2048            /* kept of an error answer's body */

struct engine_stream {
    struct engine *e;
    char *path;
    engine_stream_doc_cb on_doc;
    engine_stream_state_cb on_state;
    void *arg;

    berth_http *h;         /* the open transfer, or NULL between attempts */
    berth_timer *settle;   /* armed while a fresh transfer has not settled */
    berth_timer *retry;    /* armed while waiting to reconnect */
    bool up;               /* established and not broken since */
    bool down_told;        /* on_state(false) said since the last up */
    uint64_t up_since_ms;
    uint64_t backoff_ms;
    long status;           /* of the current transfer, once data came */

    char *buf;             /* a partial line (or an error answer's body) */
    size_t len, cap;
    bool skipping;         /* dropping the rest of an overlong line */

    int busy;              /* inside a callback to the plugin */
    bool dead;             /* stopped from inside one: free on the way out */
};

static void connect_now(struct engine_stream *s);

static void
release(struct engine_stream *s)
{
    free(s->buf);
    free(s->path);
    free(s);
}

static void
say_state(struct engine_stream *s, bool up, const char *msg)
{
    s->busy++;
    s->on_state(s->arg, up, msg);
    s->busy--;
}

static void
become_up(struct engine_stream *s)
{
    if (s->up)
        return;
    s->up = true;
    s->down_told = false;
    s->up_since_ms = s->e->host->now_ms(s->e->ctx);
    s->e->host->log(s->e->ctx, BERTH_LOG_INFO, "engine.stream.up engine=%s path=%.*s",
                    s->e->name, (int)strcspn(s->path, "?"), s->path);
    say_state(s, true, "");
}

static void
on_settle(void *arg)
{
    struct engine_stream *s = arg;

    s->settle = NULL; /* a fired one-shot timer is released by the host */
    if (s->h)
        become_up(s);
    if (s->dead)
        release(s);
}

static bool
buf_add(struct engine_stream *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb)
            return false;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return true;
}

static void
emit_line(struct engine_stream *s, const char *p, size_t n)
{
    while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
        n--;
    if (!n)
        return;
    cJSON *doc = cJSON_ParseWithLength(p, n);
    if (!doc) {
        s->e->host->log(s->e->ctx, BERTH_LOG_WARN,
                        "engine.stream.garbage engine=%s bytes=%zu", s->e->name, n);
        return;
    }
    s->busy++;
    s->on_doc(s->arg, doc);
    s->busy--;
    cJSON_Delete(doc);
}

static void
on_data(void *arg, long status, const char *data, size_t len)
{
    struct engine_stream *s = arg;

    s->status = status;
    if (status != 200) { /* an error answer: keep its start for the message */
        size_t room = s->len < ERR_BODY_MAX ? ERR_BODY_MAX - s->len : 0;
        buf_add(s, data, len < room ? len : room);
        return;
    }
    become_up(s);
    while (len && !s->dead && s->h) {
        const char *nl = memchr(data, '\n', len);
        size_t part = nl ? (size_t)(nl - data) : len;

        if (s->skipping) {
            if (nl)
                s->skipping = false;
        } else if (!nl && s->len + part > LINE_MAX_BYTES) {
            s->e->host->log(s->e->ctx, BERTH_LOG_WARN,
                            "engine.stream.overlong engine=%s limit=%d", s->e->name,
                            LINE_MAX_BYTES);
            s->len = 0;
            s->skipping = true;
        } else if (!nl) {
            if (!buf_add(s, data, part))
                s->len = 0, s->skipping = true;
        } else if (s->len) {
            if (buf_add(s, data, part))
                emit_line(s, s->buf, s->len);
            s->len = 0;
        } else {
            emit_line(s, data, part);
        }
        data += part + (nl ? 1 : 0);
        len -= part + (nl ? 1 : 0);
    }
    if (s->dead) /* stopped from a callback: the transfer is cancelled */
        release(s);
}

/* Why a transfer ended, in words. */
static void
end_reason(struct engine_stream *s, const struct berth_http_response *res, char *msg,
           size_t size)
{
    const struct engine *e = s->e;

    if (res->error && res->status == 0) {
        snprintf(msg, size, "%s is not reachable at %s: %s", e->name, e->socket,
                 res->error_msg ? res->error_msg : "no answer");
    } else if (res->status != 200) {
        cJSON *j = s->len ? cJSON_ParseWithLength(s->buf, s->len) : NULL;
        const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message"));
        snprintf(msg, size, "%s refused the event stream (HTTP %ld): %s", e->name,
                 res->status, m ? m : s->len ? s->buf : "no message");
        cJSON_Delete(j);
    } else if (res->error) {
        snprintf(msg, size, "%s event stream broke: %s", e->name,
                 res->error_msg ? res->error_msg : "transfer failed");
    } else {
        snprintf(msg, size, "%s closed the event stream", e->name);
    }
}

static void
on_retry(void *arg)
{
    struct engine_stream *s = arg;

    s->retry = NULL;
    connect_now(s);
}

static void
on_done(void *arg, const struct berth_http_response *res)
{
    struct engine_stream *s = arg;
    struct engine *e = s->e;
    uint64_t now = e->host->now_ms(e->ctx);
    char msg[1024];

    s->h = NULL;
    if (s->settle) {
        e->host->timer_stop(e->ctx, s->settle);
        s->settle = NULL;
    }
    end_reason(s, res, msg, sizeof(msg));
    s->len = 0;
    s->skipping = false;

    /* A stream that stayed up a while starts the backoff over. */
    if (s->up && now - s->up_since_ms >= BACKOFF_MAX_MS)
        s->backoff_ms = BACKOFF_MIN_MS;
    else if (s->backoff_ms)
        s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                           : s->backoff_ms * 2;
    else
        s->backoff_ms = BACKOFF_MIN_MS;

    e->host->log(e->ctx, s->up || !s->down_told ? BERTH_LOG_WARN : BERTH_LOG_DEBUG,
                 "engine.stream.down engine=%s retry_ms=%llu error=\"%s\"", e->name,
                 (unsigned long long)s->backoff_ms, msg);
    s->retry = e->host->timer_start(e->ctx, s->backoff_ms, 0, on_retry, s);
    if (s->up || !s->down_told) {
        s->up = false;
        s->down_told = true;
        say_state(s, false, msg);
        if (s->dead) /* stopped from on_state: the timer is gone too */
            release(s);
    }
}

static void
connect_now(struct engine_stream *s)
{
    struct engine *e = s->e;
    char url[4096];

    snprintf(url, sizeof(url), "http://localhost%s%s", e->prefix ? e->prefix : "", s->path);
    struct berth_http_request req = {
        .struct_size = sizeof(req),
        .url = url,
        .unix_socket = e->socket,
        .connect_timeout_ms = 5000,
        .stream = 1,
    };
    s->status = 0;
    s->len = 0;
    s->h = e->host->http_request(e->ctx, &req, on_data, on_done, s);
    if (!s->h) { /* the host logged why; try again later like a failure */
        s->backoff_ms = BACKOFF_MAX_MS;
        s->retry = e->host->timer_start(e->ctx, s->backoff_ms, 0, on_retry, s);
        return;
    }
    s->settle = e->host->timer_start(e->ctx, SETTLE_MS, 0, on_settle, s);
}

struct engine_stream *
engine_stream_start(struct engine *e, const char *path, engine_stream_doc_cb on_doc,
                    engine_stream_state_cb on_state, void *arg)
{
    struct engine_stream *s = calloc(1, sizeof(*s));

    if (!s || strlen(path) > 3000 || !(s->path = strdup(path))) {
        e->host->log(e->ctx, BERTH_LOG_ERROR, "engine.stream.refused engine=%s error=\"%s\"",
                     e->name, s ? "path too long or out of memory" : "out of memory");
        free(s);
        return NULL;
    }
    s->e = e;
    s->on_doc = on_doc;
    s->on_state = on_state;
    s->arg = arg;
    connect_now(s);
    return s;
}

void
engine_stream_stop(struct engine_stream *s)
{
    if (!s)
        return;
    struct engine *e = s->e;

    if (s->h) {
        e->host->http_cancel(e->ctx, s->h);
        s->h = NULL;
    }
    if (s->settle) {
        e->host->timer_stop(e->ctx, s->settle);
        s->settle = NULL;
    }
    if (s->retry) {
        e->host->timer_stop(e->ctx, s->retry);
        s->retry = NULL;
    }
    if (s->busy) { /* inside one of our callbacks: freed once it returns */
        s->dead = true;
        return;
    }
    release(s);
}
