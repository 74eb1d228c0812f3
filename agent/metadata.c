/* metadata.c: the task metadata endpoint (see metadata.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "agent/api/http_server.h"
#include "agent/container_spec.h"
#include "agent/log.h"
#include "agent/metadata.h"
#include "agent/metadata_render.h"
#include "agent/ratelimit.h"
#include "agent/runtime.h"
#include "agent/task.h"
#include "agent/tasks.h"

#define MAX_LISTENERS 4
#define SYNC_INTERVAL 0.25      /* s: how soon a learnt address is served */
#define SAMPLE_TTL_MS 600000    /* a container's last sample, unused */
#define RATE_KEYS 4096

static const char *const modes[] = {"bridge", "awsvpc", "host"};

struct lsn {
    char addr[64]; /* IP literal */
    struct http_listener *l;
};

struct sample {
    char *id;
    struct md_sample m;
    int64_t used_ms;
};

struct req;

struct metadata {
    struct ev_loop *loop;
    struct tasks *tasks;
    uint16_t port;
    struct http_server *srv;
    struct lsn lsn[MAX_LISTENERS];
    size_t n_lsn;
    char failed[64]; /* the last address that could not be opened */
    ev_timer sync;
    struct ratelimit *rl;
    struct sample *samples;
    size_t n_samples;
    struct req *reqs; /* waiting for stats */
};

/* A stats request: one slot per container asked. */
struct slot {
    struct req *r;
    char *id, *name;
    cJSON *doc; /* the answer, or NULL */
};

struct req {
    struct metadata *md;
    struct http_exchange *x;
    bool task; /* /task/stats: a map by DockerId */
    struct slot *slots;
    size_t n, waiting;
    struct req *prev, *next;
};

/* ---- replies ---- */

static void reply_text(struct http_exchange *x, int status, const char *type,
                       const char *body)
{
    struct http_header h[] = {{(char *)"Content-Type", (char *)type}};
    http_reply(x, status, h, 1, body, strlen(body));
}

static void reply_json(struct http_exchange *x, int status, cJSON *doc)
{
    char *body = doc ? cJSON_PrintUnformatted(doc) : NULL;

    cJSON_Delete(doc);
    if (!body) {
        reply_text(x, 500, "application/json", "\"out of memory\"");
        return;
    }
    reply_text(x, status, "application/json", body);
    free(body);
}

/* ECS answers errors with a JSON string. */
static void reply_error(struct http_exchange *x, int status, const char *msg)
{
    reply_json(x, status, cJSON_CreateString(msg));
}

/* ---- samples (for precpu_stats) ---- */

static struct sample *sample_find(struct metadata *md, const char *id)
{
    for (size_t i = 0; i < md->n_samples; i++)
        if (strcmp(md->samples[i].id, id) == 0)
            return &md->samples[i];
    return NULL;
}

static void sample_put(struct metadata *md, const char *id, const struct md_sample *m,
                       int64_t now_ms)
{
    struct sample *s = sample_find(md, id);

    for (size_t i = 0; i < md->n_samples;) {
        if (&md->samples[i] != s && now_ms - md->samples[i].used_ms > SAMPLE_TTL_MS) {
            free(md->samples[i].id);
            md->samples[i] = md->samples[--md->n_samples];
            s = sample_find(md, id); /* it may have moved */
        } else {
            i++;
        }
    }
    if (!s) {
        struct sample *g = realloc(md->samples, (md->n_samples + 1) * sizeof *g);
        char *copy = strdup(id);
        if (!g || !copy) {
            free(copy);
            if (g)
                md->samples = g;
            return;
        }
        md->samples = g;
        s = &md->samples[md->n_samples++];
        s->id = copy;
    }
    s->m = *m;
    s->used_ms = now_ms;
}

/* The host's CPU time over all CPUs in ns, as Docker's system_cpu_usage
 * (/proc/stat's first line, in USER_HZ).  procfs answers from memory: this
 * read does not wait on a disk. */
static uint64_t system_cpu_ns(void)
{
    FILE *f = fopen("/proc/stat", "re");
    char line[512];
    uint64_t sum = 0;
    long hz = sysconf(_SC_CLK_TCK);

    if (!f)
        return 0;
    if (fgets(line, sizeof line, f) && strncmp(line, "cpu ", 4) == 0) {
        char *p = line + 4, *end;
        for (int i = 0; i < 8; i++, p = end) {
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p)
                break;
            sum += v;
        }
    }
    fclose(f);
    return hz > 0 ? sum * (1000000000ULL / (uint64_t)hz) : 0;
}

/* ---- stats requests ---- */

static void req_free(struct req *r)
{
    struct metadata *md = r->md;

    if (r->prev)
        r->prev->next = r->next;
    else
        md->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    for (size_t i = 0; i < r->n; i++) {
        free(r->slots[i].id);
        free(r->slots[i].name);
        cJSON_Delete(r->slots[i].doc);
    }
    free(r->slots);
    free(r);
}

static void req_finish(struct req *r)
{
    cJSON *out;

    if (r->task) {
        out = cJSON_CreateObject();
        for (size_t i = 0; i < r->n; i++) {
            cJSON *d = r->slots[i].doc;
            r->slots[i].doc = NULL;
            cJSON_AddItemToObject(out, r->slots[i].id, d ? d : cJSON_CreateObject());
        }
    } else {
        out = r->slots[0].doc ? r->slots[0].doc : cJSON_CreateObject();
        r->slots[0].doc = NULL;
    }
    reply_json(r->x, 200, out);
    req_free(r);
}

static void on_stats(void *arg, enum berth_rt_code code,
                     const struct berth_container_stats *s, const char *msg)
{
    struct slot *sl = arg;
    struct req *r = sl->r;
    struct metadata *md = r->md;

    if (code == BERTH_RT_OK && s) {
        struct md_sample cur = {.system_ns = system_cpu_ns()};
        size_t n = s->struct_size < sizeof cur.s ? s->struct_size : sizeof cur.s;
        memcpy(&cur.s, s, n);
        struct sample *prev = sample_find(md, sl->id);
        sl->doc = md_stats_json(sl->id, sl->name, &cur, prev ? &prev->m : NULL);
        sample_put(md, sl->id, &cur, cur.s.time_ms);
    } else {
        log_debug("metadata.stats_failed", "id=%.12s code=%s msg=\"%s\"", sl->id,
                  runtime_code_name(code), msg ? msg : "");
    }
    if (--r->waiting == 0)
        req_finish(r);
}

/* Containers [from, to) of t that run get a stats call each. */
static void stats_start(struct metadata *md, struct http_exchange *x,
                        struct task *t, size_t from, size_t to, bool task)
{
    struct req *r = calloc(1, sizeof *r);
    struct runtime *rt = tasks_runtime(md->tasks);

    if (!r || !(r->slots = calloc(to - from, sizeof *r->slots))) {
        free(r);
        reply_error(x, 500, "out of memory");
        return;
    }
    r->md = md;
    r->x = x;
    r->task = task;
    r->next = md->reqs;
    if (md->reqs)
        md->reqs->prev = r;
    md->reqs = r;
    for (size_t i = from; i < to; i++) {
        const struct task_container *c = &t->containers[i];
        if (!c->runtime_id || c->status != CTR_RUNNING)
            continue;
        struct slot *sl = &r->slots[r->n];
        sl->r = r;
        sl->id = strdup(c->runtime_id);
        sl->name = container_engine_name(t, (int)i);
        if (!sl->id || !sl->name) {
            free(sl->id);
            free(sl->name);
            sl->id = sl->name = NULL;
            continue;
        }
        r->n++;
        r->waiting++;
        if (runtime_stats(rt, sl->id, on_stats, sl) < 0)
            r->waiting--;
    }
    if (r->waiting == 0)
        req_finish(r); /* nothing runs, or the runtime is away: empty */
}

/* ---- requests ---- */

static bool token_eq(const char *a, const char *b, size_t blen)
{
    unsigned char d = 0;
    if (strlen(a) != blen)
        return false;
    for (size_t i = 0; i < blen; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static struct task *by_token(struct metadata *md, const char *tok, size_t len,
                             size_t *ci)
{
    struct task **v;
    size_t n = tasks_all(md->tasks, &v);

    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < v[k]->n_containers; i++)
            if (v[k]->containers[i].md_token &&
                token_eq(v[k]->containers[i].md_token, tok, len)) {
                *ci = i;
                return v[k];
            }
    return NULL;
}

/* The client's address, without its port: the rate limit's key. */
static void peer_host(const char *peer, char *out, size_t size)
{
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    snprintf(out, size, "%.*s", (int)n, peer);
}

static void on_request(void *arg, struct http_exchange *x, struct http_request *req)
{
    struct metadata *md = arg;
    char key[80], path[512];
    int version = 0;
    const char *p, *rest;
    size_t ci;

    peer_host(req->peer, key, sizeof key);
    if (!ratelimit_take(md->rl, key, ev_now(md->loop))) {
        reply_text(x, 429, "text/plain; charset=utf-8",
                   "You have reached maximum request limit.");
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        reply_error(x, 405, "Task metadata endpoint: only GET is served");
        return;
    }
    snprintf(path, sizeof path, "%.*s", (int)strcspn(req->target, "?#"), req->target);
    if (strncmp(path, "/v4/", 4) == 0)
        version = 4;
    else if (strncmp(path, "/v3/", 4) == 0)
        version = 3;
    if (!version) {
        reply_error(x, 404, "Task metadata endpoint: no such path (expected "
                            "/v4/TOKEN, /v4/TOKEN/task, /v4/TOKEN/stats or "
                            "/v4/TOKEN/task/stats)");
        return;
    }
    p = path + 4;
    rest = p + strcspn(p, "/");
    struct task *t = by_token(md, p, (size_t)(rest - p), &ci);
    if (!t) {
        log_debug("metadata.unknown_token", "peer=%s", req->peer);
        reply_error(x, 404, "Task metadata endpoint: no container of this "
                            "agent has that token in its URI");
        return;
    }
    if (strcmp(rest, "") == 0 || strcmp(rest, "/") == 0)
        reply_json(x, 200, md_container_json(t, ci, version));
    else if (strcmp(rest, "/task") == 0)
        reply_json(x, 200, md_task_json(t, version));
    else if (strcmp(rest, "/stats") == 0)
        stats_start(md, x, t, ci, ci + 1, false);
    else if (strcmp(rest, "/task/stats") == 0)
        stats_start(md, x, t, 0, t->n_containers, true);
    else
        reply_error(x, 404, "Task metadata endpoint: no such path (expected "
                            "${URI}, ${URI}/task, ${URI}/stats or "
                            "${URI}/task/stats)");
}

/* ---- listeners ---- */

static int listen_on(struct metadata *md, const char *addr, bool freebind, char *err,
                     size_t errlen)
{
    char hp[96];
    struct http_listener *l;

    if (md->n_lsn >= MAX_LISTENERS) {
        snprintf(err, errlen, "too many addresses");
        return -1;
    }
    snprintf(hp, sizeof hp, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr,
             (unsigned)md->port);
    l = freebind ? http_listen_tcp_freebind(md->srv, hp, err, errlen)
                 : http_listen_tcp(md->srv, hp, err, errlen);
    if (!l)
        return -1;
    snprintf(md->lsn[md->n_lsn].addr, sizeof md->lsn[0].addr, "%s", addr);
    md->lsn[md->n_lsn++].l = l;
    log_info("metadata.listening", "address=%s", hp);
    return 0;
}

void metadata_sync(struct metadata *md)
{
    struct runtime *rt = tasks_runtime(md->tasks);
    const char *want[3];
    char err[300];

    for (size_t i = 0; i < 3; i++)
        want[i] = runtime_host_address(rt, modes[i]);
    /* 127.0.0.1 (lsn[0]) stays: it was checked at start. */
    for (size_t k = 1; k < md->n_lsn;) {
        bool keep = false;
        for (size_t i = 0; i < 3; i++)
            keep |= want[i] && strcmp(want[i], md->lsn[k].addr) == 0;
        if (keep) {
            k++;
            continue;
        }
        log_info("metadata.closed", "address=%s", md->lsn[k].addr);
        http_listener_close(md->lsn[k].l);
        md->lsn[k] = md->lsn[--md->n_lsn];
    }
    for (size_t i = 0; i < 3; i++) {
        bool have = !want[i];
        for (size_t k = 0; k < md->n_lsn && !have; k++)
            have = strcmp(want[i], md->lsn[k].addr) == 0;
        if (have)
            continue;
        if (listen_on(md, want[i], true, err, sizeof err) < 0) {
            if (strcmp(md->failed, want[i]) != 0)
                log_error("metadata.listen_failed", "address=%s port=%u error=\"%s\"",
                          want[i], (unsigned)md->port, err);
            snprintf(md->failed, sizeof md->failed, "%s", want[i]);
        }
    }
}

static void on_sync(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    metadata_sync(w->data);
}

size_t metadata_listeners(const struct metadata *md)
{
    return md->n_lsn;
}

struct metadata *metadata_new(struct ev_loop *loop, struct tasks *tasks,
                              uint16_t port, char *err, size_t errlen)
{
    struct metadata *md = calloc(1, sizeof *md);
    /* Requests are GETs with no body; answers are small. */
    struct http_limits lim = {8192, 0, 10.0, 60.0, 1024};

    if (!md) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    md->loop = loop;
    md->tasks = tasks;
    md->port = port;
    md->srv = http_server_new(loop, &lim, on_request, md);
    md->rl = ratelimit_new(METADATA_RATE, METADATA_BURST, RATE_KEYS);
    if (!md->srv || !md->rl) {
        snprintf(err, errlen, "out of memory");
        metadata_free(md);
        return NULL;
    }
    if (listen_on(md, "127.0.0.1", false, err, errlen) < 0) {
        metadata_free(md);
        return NULL;
    }
    ev_timer_init(&md->sync, on_sync, 0.0, SYNC_INTERVAL);
    md->sync.data = md;
    ev_timer_start(loop, &md->sync);
    return md;
}

void metadata_free(struct metadata *md)
{
    if (!md)
        return;
    ev_timer_stop(md->loop, &md->sync);
    while (md->reqs) {
        struct req *r = md->reqs;
        for (size_t i = 0; i < r->n; i++)
            runtime_forget(tasks_runtime(md->tasks), &r->slots[i]);
        reply_error(r->x, 503, "Task metadata endpoint: the agent is stopping");
        req_free(r);
    }
    if (md->srv)
        http_server_free(md->srv);
    ratelimit_free(md->rl);
    for (size_t i = 0; i < md->n_samples; i++)
        free(md->samples[i].id);
    free(md->samples);
    free(md);
}
