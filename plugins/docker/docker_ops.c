/* docker_ops.c: the container operations on dockerd's API.
 *
 *   create   POST /containers/create?name=  (404 on the image: pull when
 *            the pull option says so, then once more)
 *   start    POST /containers/ID/start      (304: already running)
 *   stop     POST /containers/ID/stop?t=N   (304: not running)
 *   remove   GET /containers/ID/json for its task's own volumes, then
 *            DELETE /containers/ID?v=1 (404: gone already), then
 *            DELETE /volumes/NAME of each (409: another container of the
 *            task still has it; the last one's removal takes it)
 *   inspect  GET /containers/ID/json
 *   list     GET /containers/json?all=1&filters=label, then each inspected
 *   stats    GET /containers/ID/stats?stream=false */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"

/* Starts an operation on a container id; NULL (and -1 to return) when the
 * operation cannot be recorded.  A bad id or a refused engine is answered
 * through the callback, later. */
static struct dop *
begin(struct docker *d, enum dop_kind kind, void *cb, void *arg, const char *id,
      bool *answered)
{
    struct dop *op = dop_new(d, kind, cb, arg);

    *answered = false;
    if (!op)
        return NULL;
    docker_hello(d);
    if (id && !docker_id_ok(id)) {
        dop_answer_later(op, BERTH_RT_INVALID,
                         "container id '%.300s' is not a docker id or name "
                         "([A-Za-z0-9_.-], 1-255 characters)",
                         id);
        *answered = true;
    } else if (d->refused[0]) {
        dop_answer_later(op, BERTH_RT_FAILED, "%s", d->refused);
        *answered = true;
    } else if (id) {
        snprintf(op->target, sizeof(op->target), "%s", id);
    }
    return op;
}

/* A taken host port reads "... port is already allocated" (another
 * container has it) or "... address already in use" (another program). */
static enum berth_rt_code
start_code(const struct engine_result *r)
{
    if (r->code == BERTH_RT_FAILED &&
        (strstr(r->msg, "port is already allocated") || strstr(r->msg, "address already in use")))
        return BERTH_RT_CONFLICT;
    return r->code;
}

/* ---- create ---- */

static void create_send(struct dop *op);

/* A pull answers 200 and then streams progress, where a failure is an
 * {"error": ...} line; a refusal up front is an ordinary error status. */
static const char *
pull_error(const struct engine_result *r, char *buf, size_t size)
{
    if (r->code != BERTH_RT_OK)
        return r->msg;
    for (const char *p = r->body; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        cJSON *j = cJSON_ParseWithLength(p, n);
        const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
        if (e) {
            snprintf(buf, size, "%s", e);
            cJSON_Delete(j);
            return buf;
        }
        cJSON_Delete(j);
        p = nl ? nl + 1 : p + n;
    }
    return NULL;
}

static void
pull_done(struct dop *op, const struct engine_result *r)
{
    char buf[512];
    const char *why = pull_error(r, buf, sizeof(buf));

    if (why) {
        op->d->host->log(op->d->ctx, BERTH_LOG_WARN, "docker.pull.failed image=%s error=\"%s\"",
                         op->image, why);
        char msg[1024];
        snprintf(msg, sizeof(msg), "image %.300s not found on docker, and pulling it "
                 "failed: %s", op->image, why);
        dop_finish(op, BERTH_RT_NOT_FOUND, msg);
        return;
    }
    op->d->host->log(op->d->ctx, BERTH_LOG_INFO, "docker.pulled image=%s", op->image);
    op->step = 2; /* pulled: a second missing image is final */
    create_send(op);
}

static void
pull(struct dop *op)
{
    char path[1024] = "/images/create", ref[512];
    const char *slash = strrchr(op->image, '/');
    const char *colon = strrchr(slash ? slash : op->image, ':');

    /* Without a tag, Docker would pull every tag of the repository. */
    snprintf(ref, sizeof(ref), "%s%s", op->image,
             colon || strchr(op->image, '@') ? "" : ":latest");
    engine_query_add(path, sizeof(path), "fromImage", ref);
    op->d->host->log(op->d->ctx, BERTH_LOG_INFO, "docker.pull image=%s", ref);
    dop_call(op, "POST", path, NULL, 0, pull_done);
}

static void
create_done(struct dop *op, const struct engine_result *r)
{
    char buf[1024];
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "Id"));

    if (r->code == BERTH_RT_OK && id) {
        const cJSON *w, *ws = cJSON_GetObjectItemCaseSensitive(r->json, "Warnings");
        cJSON_ArrayForEach(w, ws)
            if (cJSON_IsString(w))
                op->d->host->log(op->d->ctx, BERTH_LOG_WARN, "docker.create.warning name=%s "
                                 "warning=\"%s\"", op->target, w->valuestring);
        op->d->host->log(op->d->ctx, BERTH_LOG_INFO, "docker.created name=%s id=%.12s",
                         op->target, id);
        dop_finish_id(op, id);
        return;
    }
    if (r->code == BERTH_RT_OK) {
        dop_finish(op, BERTH_RT_FAILED, "docker created the container but sent no Id");
        return;
    }
    /* Docker says "No such image: NAME" (404) when the image is missing. */
    if (r->code == BERTH_RT_NOT_FOUND && strstr(r->msg, "image")) {
        if (op->d->cfg->pull && op->step < 2) {
            pull(op);
            return;
        }
        snprintf(buf, sizeof(buf), "image %s not found on docker%s", op->image,
                 op->step == 2 ? " (even after a pull)" : "");
        dop_finish(op, BERTH_RT_NOT_FOUND, buf);
        return;
    }
    if (r->code == BERTH_RT_NOT_FOUND && op->sandbox) { /* the sandbox container */
        snprintf(buf, sizeof(buf), "sandbox %s not found on docker: %s", op->sandbox, r->msg);
        dop_finish(op, BERTH_RT_NOT_FOUND, buf);
        return;
    }
    dop_finish(op, r->code, r->msg);
}

static void
create_send(struct dop *op)
{
    char path[600] = "/containers/create";

    engine_query_add(path, sizeof(path), "name", op->target);
    dop_call(op, "POST", path, cJSON_Duplicate(op->body, 1), 0, create_done);
}

/* Volumes that must exist (mustExist) are checked first, from op->ids. */
static void check_volume(struct dop *op);

static void
volume_checked(struct dop *op, const struct engine_result *r)
{
    char buf[1024];

    if (r->code == BERTH_RT_NOT_FOUND) {
        snprintf(buf, sizeof(buf), "volume %s does not exist, and the task definition does not let it be created " "(dockerVolumeConfiguration.autoprovision is false)", op->ids[op->next_id - 1]);
        dop_finish(op, BERTH_RT_INVALID, buf); /* not an image to pull */
    } else if (r->code != BERTH_RT_OK) {
        dop_finish(op, r->code, r->msg);
    } else {
        check_volume(op);
    }
}

static void
check_volume(struct dop *op)
{
    char path[600];

    if (op->next_id >= op->n_ids) {
        create_send(op);
        return;
    }
    snprintf(path, sizeof(path), "/volumes/%s", op->ids[op->next_id++]);
    dop_call(op, "GET", path, NULL, 0, volume_checked);
}

static int
must_exist(struct dop *op, const struct engine_spec *s)
{
    for (size_t i = 0; i < s->n_mounts; i++) {
        if (!s->mounts[i].must_exist)
            continue;
        char **v = realloc(op->ids, (op->n_ids + 1) * sizeof(*v));
        if (!v)
            return -1;
        op->ids = v;
        if (!(op->ids[op->n_ids] = strdup(s->mounts[i].source)))
            return -1;
        op->n_ids++;
    }
    return 0;
}

int
docker_create(void *state, const char *spec_json, berth_rt_id_cb cb, void *arg)
{
    struct docker *d = state;
    struct engine_spec s;
    char err[512];
    bool answered;
    struct dop *op = begin(d, DOP_ID, (void *)cb, arg, NULL, &answered);

    if (!op)
        return -1;
    if (answered)
        return 0;
    if (engine_spec_parse(spec_json, false, &s, err, sizeof(err)) < 0) {
        dop_answer_later(op, BERTH_RT_INVALID, "container spec refused: %s", err);
        return 0;
    }
    if (!docker_id_ok(s.name)) {
        dop_answer_later(op, BERTH_RT_INVALID,
                         "spec.name: '%.300s' is not a docker container name "
                         "([A-Za-z0-9_.-], 1-255 characters)", s.name);
    } else if (s.sandbox && !docker_id_ok(s.sandbox)) {
        dop_answer_later(op, BERTH_RT_INVALID, "spec.sandbox: '%.300s' is not a docker id",
                         s.sandbox);
    } else if (!(op->body = docker_create_body(&s, err, sizeof(err)))) {
        dop_answer_later(op, BERTH_RT_INVALID, "container spec refused: %s", err);
    } else if (!(op->image = strdup(s.image)) ||
               (s.sandbox && !(op->sandbox = strdup(s.sandbox))) || must_exist(op, &s) < 0) {
        dop_answer_later(op, BERTH_RT_FAILED, "out of memory");
    } else {
        snprintf(op->target, sizeof(op->target), "%s", s.name);
        d->host->log(d->ctx, BERTH_LOG_DEBUG, "docker.create name=%s image=%s", s.name,
                     s.image); /* never the env: it may hold secrets */
        check_volume(op);
    }
    engine_spec_free(&s);
    return 0;
}

/* ---- start, stop, remove ---- */

static void
start_done(struct dop *op, const struct engine_result *r)
{
    enum berth_rt_code code = start_code(r);

    if (code == BERTH_RT_OK)
        op->d->host->log(op->d->ctx, BERTH_LOG_INFO, "docker.started id=%.12s%s", op->target,
                         r->status == 304 ? " already=yes" : "");
    dop_finish(op, code, r->msg);
}

int
docker_start(void *state, const char *id, berth_rt_done_cb cb, void *arg)
{
    char path[512];
    bool answered;
    struct dop *op = begin(state, DOP_DONE, (void *)cb, arg, id, &answered);

    if (!op)
        return -1;
    if (!answered) {
        snprintf(path, sizeof(path), "/containers/%s/start", op->target);
        dop_call(op, "POST", path, NULL, 0, start_done);
    }
    return 0;
}

static void
stop_done(struct dop *op, const struct engine_result *r)
{
    if (r->code == BERTH_RT_OK)
        op->d->host->log(op->d->ctx, BERTH_LOG_INFO, "docker.stopped id=%.12s%s", op->target,
                         r->status == 304 ? " already=yes" : "");
    dop_finish(op, r->code, r->msg);
}

int
docker_stop(void *state, const char *id, uint32_t timeout_s, berth_rt_done_cb cb, void *arg)
{
    struct docker *d = state;
    char path[512];
    bool answered;
    struct dop *op = begin(d, DOP_DONE, (void *)cb, arg, id, &answered);

    if (!op)
        return -1;
    if (!answered) {
        snprintf(path, sizeof(path), "/containers/%s/stop?t=%u", op->target, timeout_s);
        /* dockerd answers after the kill: wait that long plus a request's time. */
        dop_call(op, "POST", path, NULL, (uint64_t)timeout_s * 1000 + d->cfg->request_timeout_ms,
                 stop_done);
    }
    return 0;
}

static void remove_volume(struct dop *op);

static void
volume_done(struct dop *op, const struct engine_result *r)
{
    const char *name = op->ids[op->next_id - 1];

    if (r->code == BERTH_RT_OK)
        op->d->host->log(op->d->ctx, BERTH_LOG_INFO, "docker.volume.removed name=%s", name);
    else if (r->code != BERTH_RT_NOT_FOUND && r->code != BERTH_RT_CONFLICT)
        op->d->host->log(op->d->ctx, BERTH_LOG_WARN, "docker.volume.remove.failed name=%s "
                         "error=\"%s\"", name, r->msg);
    remove_volume(op);
}

/* A volume that cannot go now is not the container's failure: it stays,
 * and the log says so. */
static void
remove_volume(struct dop *op)
{
    char path[512];

    if (op->next_id >= op->n_ids) {
        dop_finish(op, BERTH_RT_OK, "");
        return;
    }
    snprintf(path, sizeof(path), "/volumes/%s", op->ids[op->next_id++]);
    dop_call(op, "DELETE", path, NULL, 0, volume_done);
}

static void
remove_done(struct dop *op, const struct engine_result *r)
{
    /* Gone already, or going: either way it will not be there. */
    if (r->code == BERTH_RT_NOT_FOUND ||
        (r->code == BERTH_RT_CONFLICT && strstr(r->msg, "already in progress"))) {
        dop_finish(op, BERTH_RT_OK, "");
        return;
    }
    if (r->code != BERTH_RT_OK) {
        dop_finish(op, r->code, r->msg);
        return;
    }
    op->d->host->log(op->d->ctx, BERTH_LOG_INFO, "docker.removed id=%.12s", op->target);
    remove_volume(op);
}

static void
remove_inspected(struct dop *op, const struct engine_result *r)
{
    char path[512];

    if (r->code == BERTH_RT_NOT_FOUND) {
        dop_finish(op, BERTH_RT_OK, "");
        return;
    }
    /* Without the inspect the container still goes; only its volumes stay. */
    if (r->code == BERTH_RT_OK && r->json)
        op->ids = engine_task_volumes(r->json, &op->n_ids);
    snprintf(path, sizeof(path), "/containers/%s?v=1", op->target);
    dop_call(op, "DELETE", path, NULL, 0, remove_done);
}

int
docker_remove(void *state, const char *id, berth_rt_done_cb cb, void *arg)
{
    char path[512];
    bool answered;
    struct dop *op = begin(state, DOP_DONE, (void *)cb, arg, id, &answered);

    if (!op)
        return -1;
    if (!answered) {
        snprintf(path, sizeof(path), "/containers/%s/json", op->target);
        dop_call(op, "GET", path, NULL, 0, remove_inspected);
    }
    return 0;
}

/* ---- inspect ---- */

void
docker_info_fixup(const cJSON *j, struct engine_info *info, char **keep)
{
    const cJSON *hc = cJSON_GetObjectItemCaseSensitive(j, "HostConfig");
    const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hc, "NetworkMode"));

    /* Docker's own field, so not engine_info's business: the sandbox is the
     * container whose network this one joined. */
    *keep = NULL;
    if (!info->info.sandbox_id && mode && strncmp(mode, "container:", 10) == 0 &&
        (*keep = strdup(mode + 10)))
        info->info.sandbox_id = *keep;
}

/* Answers with the info of inspect JSON j; ip, when set, is the address
 * of the sandbox whose network the container joined. */
static void
inspect_answer(struct dop *op, const cJSON *j, const char *ip)
{
    struct engine_info info;
    char *sandbox;

    if (engine_info_from_inspect(j, &info) < 0) {
        dop_finish(op, BERTH_RT_FAILED, "docker's inspect answer has no Id or State");
        return;
    }
    docker_info_fixup(j, &info, &sandbox);
    if (ip && *ip)
        info.info.ip_address = ip;
    dop_finish_info(op, &info.info);
    engine_info_free(&info);
    free(sandbox);
}

static void
sandbox_inspected(struct dop *op, const struct engine_result *r)
{
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(r->json, "NetworkSettings");
    const char *ip = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ns, "IPAddress"));

    /* A sandbox that is gone leaves the address empty, nothing worse. */
    inspect_answer(op, op->body, r->code == BERTH_RT_OK ? ip : NULL);
}

static void
inspect_done(struct dop *op, const struct engine_result *r)
{
    const cJSON *hc = cJSON_GetObjectItemCaseSensitive(r->json, "HostConfig");
    const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hc, "NetworkMode"));
    char path[512];

    if (r->code != BERTH_RT_OK) {
        dop_finish(op, r->code, r->msg);
        return;
    }
    /* In a sandbox, the address is the sandbox's: one more inspect. */
    if (mode && !strncmp(mode, "container:", 10) && docker_id_ok(mode + 10) &&
        (op->body = cJSON_Duplicate(r->json, 1))) {
        snprintf(path, sizeof(path), "/containers/%s/json", mode + 10);
        dop_call(op, "GET", path, NULL, 0, sandbox_inspected);
        return;
    }
    inspect_answer(op, r->json, NULL);
}

int
docker_inspect(void *state, const char *id, berth_rt_info_cb cb, void *arg)
{
    char path[512];
    bool answered;
    struct dop *op = begin(state, DOP_INFO, (void *)cb, arg, id, &answered);

    if (!op)
        return -1;
    if (!answered) {
        snprintf(path, sizeof(path), "/containers/%s/json", op->target);
        dop_call(op, "GET", path, NULL, 0, inspect_done);
    }
    return 0;
}

/* ---- list: the ids by label, then each inspected in turn ---- */

static void list_next(struct dop *op);

static void
list_finish(struct dop *op)
{
    struct berth_container_info *v = calloc(op->n_infos ? op->n_infos : 1, sizeof(*v));

    if (!v) {
        dop_finish(op, BERTH_RT_FAILED, "out of memory");
        return;
    }
    for (size_t i = 0; i < op->n_infos; i++)
        v[i] = op->infos[i].info;
    op->cb.list(op->arg, BERTH_RT_OK, v, op->n_infos, "");
    free(v);
    dop_free(op);
}

static void
list_inspected(struct dop *op, const struct engine_result *r)
{
    struct engine_info *info = &op->infos[op->n_infos];

    if (r->code == BERTH_RT_NOT_FOUND) { /* removed since the listing */
        list_next(op);
        return;
    }
    if (r->code != BERTH_RT_OK) {
        dop_finish(op, r->code, r->msg);
        return;
    }
    if (engine_info_from_inspect(r->json, info) < 0) {
        dop_finish(op, BERTH_RT_FAILED, "docker's inspect answer has no Id or State");
        return;
    }
    docker_info_fixup(r->json, info, &op->sandboxes[op->n_infos]);
    op->n_infos++;
    list_next(op);
}

static void
list_next(struct dop *op)
{
    char path[512];

    if (op->next_id >= op->n_ids) {
        list_finish(op);
        return;
    }
    snprintf(path, sizeof(path), "/containers/%s/json", op->ids[op->next_id++]);
    dop_call(op, "GET", path, NULL, 0, list_inspected);
}

static void
list_done(struct dop *op, const struct engine_result *r)
{
    const cJSON *c;
    size_t n = 0;

    if (r->code != BERTH_RT_OK) {
        dop_finish(op, r->code, r->msg);
        return;
    }
    if (!cJSON_IsArray(r->json)) {
        dop_finish(op, BERTH_RT_FAILED, "docker's container list is not an array");
        return;
    }
    n = (size_t)cJSON_GetArraySize(r->json);
    if (!(op->ids = calloc(n ? n : 1, sizeof(*op->ids))) ||
        !(op->infos = calloc(n ? n : 1, sizeof(*op->infos))) ||
        !(op->sandboxes = calloc(n ? n : 1, sizeof(*op->sandboxes)))) {
        dop_finish(op, BERTH_RT_FAILED, "out of memory");
        return;
    }
    cJSON_ArrayForEach(c, r->json) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Id"));
        if (id && docker_id_ok(id) && (op->ids[op->n_ids] = strdup(id)))
            op->n_ids++;
    }
    list_next(op);
}

int
docker_list(void *state, const char *label, berth_rt_list_cb cb, void *arg)
{
    char path[2048] = "/containers/json?all=1", *filters;
    bool answered;
    struct dop *op = begin(state, DOP_LIST, (void *)cb, arg, NULL, &answered);

    if (!op)
        return -1;
    if (answered)
        return 0;
    if (!label || !*label || strlen(label) > 1000) {
        dop_answer_later(op, BERTH_RT_INVALID, "list needs a label (key or key=value, "
                         "at most 1000 characters)");
        return 0;
    }
    if (!(filters = engine_filters(label, NULL))) {
        dop_answer_later(op, BERTH_RT_FAILED, "out of memory");
        return 0;
    }
    /* filters is already URL-encoded. */
    snprintf(path + strlen(path), sizeof(path) - strlen(path), "&filters=%s", filters);
    free(filters);
    dop_call(op, "GET", path, NULL, 0, list_done);
    return 0;
}

/* ---- stats ---- */

static void
stats_done(struct dop *op, const struct engine_result *r)
{
    struct berth_container_stats s;

    if (r->code != BERTH_RT_OK) {
        dop_finish(op, r->code, r->msg);
        return;
    }
    /* A container that does not run answers with empty figures read at
     * "0001-01-01T00:00:00Z": no reading at all. */
    if (engine_stats_from_docker(r->json, &s) < 0 || s.time_ms <= 0) {
        char msg[400];
        snprintf(msg, sizeof(msg), "container %s is not running: docker has no stats for it",
                 op->target);
        dop_finish(op, BERTH_RT_CONFLICT, msg);
        return;
    }
    op->cb.stats(op->arg, BERTH_RT_OK, &s, "");
    dop_free(op);
}

int
docker_stats(void *state, const char *id, berth_rt_stats_cb cb, void *arg)
{
    struct docker *d = state;
    char path[512];
    bool answered;
    struct dop *op = begin(d, DOP_STATS, (void *)cb, arg, id, &answered);

    if (!op)
        return -1;
    if (!answered) {
        /* one-shot (1.41) answers at once instead of waiting for a second
         * sample: the figures are cumulative, so one is enough. */
        snprintf(path, sizeof(path), "/containers/%s/stats?stream=false%s", op->target,
                 d->api_minor >= 41 ? "&one-shot=true" : "");
        dop_call(op, "GET", path, NULL, 0, stats_done);
    }
    return 0;
}
