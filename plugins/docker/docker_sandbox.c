/* docker_sandbox.c: sandboxes on Docker.
 *
 * Docker groups nothing, so only networkMode awsvpc gets a sandbox: a
 * pause container with its own network namespace on the default bridge
 * (publishing nothing), which the task's containers join with NetworkMode
 * "container:ID".  Other modes answer a NULL id.
 *
 * The pause image (option pause-image) is made here when missing: an
 * in-memory tar holding the static program pause-binary as /pause, sent
 * to POST /images/create?fromSrc=-.  No registry is needed.
 *
 *   create: GET /images/IMAGE/json -> (404: import) -> create -> start
 *           (a start that fails removes the container again)
 *   remove: stop every container whose NetworkMode joins it, and the
 *           pause container, in parallel with the timeout; then remove it */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "docker.h"

#define PAUSE_MAX_BYTES (16 * 1024 * 1024)

enum { SB_IMAGE, SB_IMPORT, SB_CREATE, SB_START, SB_UNDO };

/* ---- the pause image ---- */

/* A ustar archive of one executable file "pause": header, data padded to
 * 512 bytes, two zero blocks.  NULL with err when the file is unusable.
 * Reading a local file of under a megabyte is the one short blocking step
 * here, done only when the image is missing. */
static char *
pause_tar(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *tar = NULL;
    unsigned sum = 0;

    if (!f || fstat(fileno(f), &st) < 0) {
        snprintf(err, errlen, "pause-binary %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > PAUSE_MAX_BYTES) {
        snprintf(err, errlen, "pause-binary %s: not a regular file of 1 byte to 16 MiB", path);
        goto out;
    }
    size_t size = (size_t)st.st_size, padded = (size + 511) / 512 * 512;
    *len = 512 + padded + 1024;
    if (!(tar = calloc(1, *len))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (fread(tar + 512, 1, size, f) != size) {
        snprintf(err, errlen, "pause-binary %s: short read", path);
        free(tar);
        tar = NULL;
        goto out;
    }
    char *h = tar;
    memcpy(h, "pause", 5);                              /* name */
    snprintf(h + 100, 8, "%07o", 0755);                 /* mode */
    snprintf(h + 108, 8, "%07o", 0);                    /* uid */
    snprintf(h + 116, 8, "%07o", 0);                    /* gid */
    snprintf(h + 124, 12, "%011llo", (unsigned long long)size);
    snprintf(h + 136, 12, "%011o", 0);                  /* mtime */
    h[156] = '0';                                       /* a regular file */
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);                            /* checksum: spaces first */
    for (int i = 0; i < 512; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
out:
    if (f)
        fclose(f);
    return tar;
}

static void sb_step(struct dop *op);

static void
import_done(void *arg, const struct berth_http_response *res)
{
    struct dop *op = arg;
    const char *why = NULL;
    cJSON *j = NULL;

    op->h = NULL;
    if (res->error)
        why = res->error_msg;
    else if (res->status != 200)
        why = res->body_len ? res->body : "no message";
    /* Docker answers 200 and streams {"status": id} or {"error": ...}. */
    for (const char *p = res->body; !why && p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        cJSON_Delete(j);
        j = cJSON_ParseWithLength(p, n);
        why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
        p = nl ? nl + 1 : p + n;
    }
    if (why) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "cannot build the pause image %s on docker: %s",
                 op->d->cfg->pause_image, why);
        cJSON_Delete(j);
        dop_finish(op, BERTH_RT_FAILED, msg);
        return;
    }
    cJSON_Delete(j);
    op->d->host->log(op->d->ctx, BERTH_LOG_INFO, "docker.pause_image.built image=%s from=%s",
                     op->d->cfg->pause_image, op->d->cfg->pause_binary);
    op->step = SB_CREATE;
    sb_step(op);
}

static void
import_image(struct dop *op)
{
    struct docker *d = op->d;
    char err[512], path[1024] = "/images/create?fromSrc=-", repo[512], url[1200];
    const char *img = d->cfg->pause_image;
    const char *slash = strrchr(img, '/'), *colon = strrchr(slash ? slash : img, ':');
    size_t len;
    char *tar = pause_tar(d->cfg->pause_binary, &len, err, sizeof(err));
    static const char *const headers[] = {"Content-Type: application/x-tar", NULL};

    if (!tar) {
        dop_finish(op, BERTH_RT_FAILED, err);
        return;
    }
    snprintf(repo, sizeof(repo), "%.*s", colon ? (int)(colon - img) : (int)strlen(img), img);
    engine_query_add(path, sizeof(path), "repo", repo);
    engine_query_add(path, sizeof(path), "tag", colon ? colon + 1 : "latest");
    engine_query_add(path, sizeof(path), "changes", "CMD [\"/pause\"]");
    snprintf(url, sizeof(url), "http://localhost%s%s", d->prefix, path);
    struct berth_http_request req = {
        .struct_size = sizeof(req),
        .method = "POST",
        .url = url,
        .unix_socket = d->cfg->socket,
        .headers = headers,
        .body = tar,
        .body_len = len,
        .timeout_ms = d->cfg->request_timeout_ms,
    };
    d->host->log(d->ctx, BERTH_LOG_INFO, "docker.pause_image.build image=%s bytes=%zu", img, len);
    /* A raw body, not JSON: the host's client directly (it copies the body). */
    op->h = d->host->http_request(d->ctx, &req, NULL, import_done, op);
    free(tar);
    if (!op->h)
        dop_finish(op, BERTH_RT_FAILED, "cannot send the pause image to docker (see the log)");
}

/* ---- create ---- */

static void
sb_result(struct dop *op, const struct engine_result *r)
{
    const char *id;

    switch (op->step) {
    case SB_IMAGE:
        if (r->code == BERTH_RT_NOT_FOUND) {
            op->step = SB_IMPORT;
            import_image(op);
            return;
        }
        op->step = SB_CREATE;
        break;
    case SB_CREATE:
        if (r->code == BERTH_RT_OK &&
            (id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "Id")))) {
            snprintf(op->target, sizeof(op->target), "%s", id);
            op->step = SB_START;
            break;
        }
        dop_finish(op, r->code ? r->code : BERTH_RT_FAILED, r->code ? r->msg : "no Id");
        return;
    case SB_START:
        if (r->code == BERTH_RT_OK) {
            op->d->host->log(op->d->ctx, BERTH_LOG_INFO, "docker.sandbox.started id=%.12s",
                             op->target);
            dop_finish_id(op, op->target);
            return;
        }
        /* Keep the engine's reason while the half-made sandbox goes. */
        op->code = r->code;
        free(op->msg);
        op->msg = strdup(r->msg);
        op->step = SB_UNDO;
        break;
    case SB_UNDO:
        dop_finish(op, op->code, op->msg ? op->msg : "");
        return;
    }
    if (r->code != BERTH_RT_OK && op->step != SB_UNDO) {
        dop_finish(op, r->code, r->msg);
        return;
    }
    sb_step(op);
}

static void
sb_step(struct dop *op)
{
    char path[1024];

    switch (op->step) {
    case SB_IMAGE:
        snprintf(path, sizeof(path), "/images/%s/json", op->d->cfg->pause_image);
        dop_call(op, "GET", path, NULL, 0, sb_result);
        break;
    case SB_CREATE:
        snprintf(path, sizeof(path), "/containers/create");
        engine_query_add(path, sizeof(path), "name", op->image /* the sandbox's name */);
        dop_call(op, "POST", path, cJSON_Duplicate(op->body, 1), 0, sb_result);
        break;
    case SB_START:
        snprintf(path, sizeof(path), "/containers/%s/start", op->target);
        dop_call(op, "POST", path, NULL, 0, sb_result);
        break;
    case SB_UNDO:
        snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", op->target);
        dop_call(op, "DELETE", path, NULL, 0, sb_result);
        break;
    }
}

static cJSON *
pause_body(const struct docker *d, const struct engine_spec *s)
{
    cJSON *o = cJSON_CreateObject(), *hc, *a;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "Image", d->cfg->pause_image);
    if ((a = cJSON_AddArrayToObject(o, "Entrypoint")))
        cJSON_AddItemToArray(a, cJSON_CreateString("/pause"));
    if (s->hostname)
        cJSON_AddStringToObject(o, "Hostname", s->hostname);
    cJSON *l = cJSON_AddObjectToObject(o, "Labels");
    for (size_t i = 0; l && i < s->n_labels; i++)
        cJSON_AddStringToObject(l, s->labels[i].key, s->labels[i].value);
    hc = cJSON_AddObjectToObject(o, "HostConfig");
    cJSON_AddStringToObject(hc, "NetworkMode", "bridge");
    const struct {
        const char *key;
        char **v;
    } lists[] = {{"Dns", s->dns}, {"DnsSearch", s->dns_search}, {"ExtraHosts", s->extra_hosts}};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (!lists[i].v || !(a = cJSON_AddArrayToObject(hc, lists[i].key)))
            continue;
        for (char **p = lists[i].v; *p; p++)
            cJSON_AddItemToArray(a, cJSON_CreateString(*p));
    }
    if (!hc) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int
docker_sandbox_create(void *state, const char *spec_json, berth_rt_id_cb cb, void *arg)
{
    struct docker *d = state;
    struct engine_spec s;
    char err[512];
    struct dop *op = dop_new(d, DOP_ID, (void *)cb, arg);

    if (!op)
        return -1;
    if (engine_spec_parse(spec_json, true, &s, err, sizeof(err)) < 0) {
        dop_answer_later(op, BERTH_RT_INVALID, "sandbox spec refused: %s", err);
        return 0;
    }
    if (!s.network || strcmp(s.network, "awsvpc") != 0) {
        dop_answer_later(op, BERTH_RT_OK, "%s", ""); /* no sandbox: a NULL id */
    } else if (!docker_id_ok(s.name)) {
        dop_answer_later(op, BERTH_RT_INVALID, "spec.name: '%.300s' is not a docker "
                         "container name ([A-Za-z0-9_.-], 1-255 characters)", s.name);
    } else if (d->refused[0]) {
        dop_answer_later(op, BERTH_RT_FAILED, "%s", d->refused);
    } else if (!(op->body = pause_body(d, &s)) || !(op->image = strdup(s.name))) {
        dop_answer_later(op, BERTH_RT_FAILED, "out of memory");
    } else {
        docker_hello(d);
        op->step = SB_IMAGE;
        sb_step(op);
    }
    engine_spec_free(&s);
    return 0;
}

/* ---- remove ---- */

static void sb_removed(struct dop *op, const struct engine_result *r);

/* Whether a container's NetworkMode joins the sandbox: by its full id (what
 * sandbox_create answered) or by its name (op->image holds it here). */
static bool
joins(const cJSON *c, const struct dop *op)
{
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c, "HostConfig"), "NetworkMode"));

    if (!m || strncmp(m, "container:", 10) != 0)
        return false;
    return !strcmp(m + 10, op->target) || (op->image && !strcmp(m + 10, op->image));
}

/* A member's stop came back; the last one lets the removal go on. */
static void
member_stopped(void *arg, enum berth_rt_code code, const char *msg)
{
    struct dop *op = arg;

    if (code != BERTH_RT_OK && code != BERTH_RT_NOT_FOUND)
        op->d->host->log(op->d->ctx, BERTH_LOG_WARN, "docker.sandbox.stop_failed "
                         "sandbox=%.12s error=\"%s\"", op->target, msg);
    if (--op->n_ids == 0) {
        char path[512];
        snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", op->target);
        dop_call(op, "DELETE", path, NULL, 0, sb_removed);
    }
}

static void
sb_removed(struct dop *op, const struct engine_result *r)
{
    if (r->code == BERTH_RT_OK || r->code == BERTH_RT_NOT_FOUND) {
        op->d->host->log(op->d->ctx, BERTH_LOG_INFO, "docker.sandbox.removed id=%.12s",
                         op->target);
        dop_finish(op, BERTH_RT_OK, "");
        return;
    }
    dop_finish(op, r->code, r->msg);
}

static void
sb_members(struct dop *op, const struct engine_result *r)
{
    const cJSON *c;
    size_t n = 1;

    if (r->code != BERTH_RT_OK) {
        dop_finish(op, r->code, r->msg);
        return;
    }
    /* Count first: each stop answers later, never inline, so the count is
     * complete before the first answer. */
    cJSON_ArrayForEach(c, r->json)
        if (joins(c, op))
            n++;
    op->n_ids = n;
    cJSON_ArrayForEach(c, r->json) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Id"));
        if (joins(c, op) && (!id || docker_stop(op->d, id, op->timeout_s, member_stopped, op) < 0))
            op->n_ids--;
    }
    /* The pause container is stopped at the same time as its members. */
    if (docker_stop(op->d, op->target, op->timeout_s, member_stopped, op) < 0) {
        member_stopped(op, BERTH_RT_FAILED, "out of memory");
    }
}

/* The sandbox's own full id: members name it so in their NetworkMode. */
static void
sb_inspected(struct dop *op, const struct engine_result *r)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "Id"));

    if (r->code == BERTH_RT_NOT_FOUND) {
        dop_finish(op, BERTH_RT_OK, ""); /* gone already */
        return;
    }
    if (r->code != BERTH_RT_OK || !id) {
        dop_finish(op, r->code ? r->code : BERTH_RT_FAILED, r->code ? r->msg : "no Id");
        return;
    }
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "Name"));
    snprintf(op->target, sizeof(op->target), "%s", id);
    if (name && (op->image = strdup(name[0] == '/' ? name + 1 : name)) == NULL) {
        dop_finish(op, BERTH_RT_FAILED, "out of memory");
        return;
    }
    dop_call(op, "GET", "/containers/json?all=1", NULL, 0, sb_members);
}

int
docker_sandbox_remove(void *state, const char *id, uint32_t timeout_s,
                      berth_rt_done_cb cb, void *arg)
{
    struct docker *d = state;
    char path[512];
    struct dop *op = dop_new(d, DOP_DONE, (void *)cb, arg);

    if (!op)
        return -1;
    if (!docker_id_ok(id)) {
        dop_answer_later(op, BERTH_RT_INVALID, "sandbox id '%.300s' is not a docker id", id);
        return 0;
    }
    op->timeout_s = timeout_s;
    snprintf(path, sizeof(path), "/containers/%s/json", id);
    dop_call(op, "GET", path, NULL, 0, sb_inspected);
    return 0;
}
