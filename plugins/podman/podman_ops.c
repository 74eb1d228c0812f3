/* podman_ops.c: the container operations on the libpod API.
 *
 * libpod answers many failures with HTTP 500 and says what happened only
 * in words ("image not known", "address already in use"), so
 * podman_map_error reads them to give the agent the right code. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podman.h"

#define PATH_LEN 1024

static const char *words(const struct engine_result *r)
{
    return r->msg && *r->msg ? r->msg : "no message";
}

enum berth_rt_code podman_map_error(const struct engine_result *r, const char *image,
                                    char *msg, size_t size)
{
    const char *m = words(r);
    if (r->code == BERTH_RT_UNAVAILABLE || r->code == BERTH_RT_OK) {
        snprintf(msg, size, "%s", m);
        return r->code;
    }
    if (image && (strstr(m, "image not known") || strstr(m, "No such image") ||
                  strstr(m, "no such image"))) {
        snprintf(msg, size, "image %s not found on podman (%s)", image, m);
        return BERTH_RT_NOT_FOUND;
    }
    snprintf(msg, size, "%s", m);
    if (strstr(m, "address already in use") || strstr(m, "already allocated") ||
        strstr(m, "already in use") || strstr(m, "already exists") ||
        strstr(m, "container state improper"))
        return BERTH_RT_CONFLICT;
    if (strstr(m, "no such container") || strstr(m, "no such pod") ||
        strstr(m, "no container with") || strstr(m, "no pod with"))
        return BERTH_RT_NOT_FOUND;
    return r->code;
}

/* Refuses an id before anything is sent: answered later, returns 0. */
/* Starts an operation on container id; NULL (and -1 to return) when it
 * cannot be recorded.  A bad id is answered through the callback, later
 * (*answered); otherwise op->target holds the id.  (docker_ops.c's begin.) */
static struct pop *begin(struct podman *p, enum pop_kind kind, void *cb, void *arg,
                         const char *id, bool *answered)
{
    struct pop *op = pop_new(p, kind, cb, arg);

    *answered = false;
    if (!op)
        return NULL;
    if (!podman_id_ok(id)) {
        pop_answer_later(op, BERTH_RT_INVALID, "not a container id or name: \"%.64s\"",
                         id ? id : "(null)");
        *answered = true;
    } else {
        snprintf(op->target, sizeof(op->target), "%s", id);
    }
    return op;
}

static void fail_with(struct pop *op, const struct engine_result *r, const char *image)
{
    char msg[1200];
    enum berth_rt_code code = podman_map_error(r, image, msg, sizeof(msg));
    pop_finish(op, code, msg);
}

/* ------------------------------------------------------------------ */
/* create                                                             */

static void create_next(struct pop *op);

static void pull_done(struct pop *op, const struct engine_result *r)
{
    const char *line = r->body, *err = NULL;
    cJSON *doc = NULL;

    /* The pull answers 200 and a stream of JSON lines, one of which may
     * be {"error": ...}. */
    while (r->code == BERTH_RT_OK && line && *line && !err) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        cJSON_Delete(doc);
        doc = cJSON_ParseWithLength(line, n);
        err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "error"));
        line = nl ? nl + 1 : NULL;
    }
    if (r->code != BERTH_RT_OK || err) {
        pop_answer_later(op, r->code == BERTH_RT_UNAVAILABLE ? BERTH_RT_UNAVAILABLE
                                                             : BERTH_RT_NOT_FOUND,
                         "image %s not found on podman, and the pull failed: %s",
                         op->image, err ? err : words(r));
        cJSON_Delete(doc);
        return;
    }
    cJSON_Delete(doc);
    op->p->host->log(op->p->ctx, BERTH_LOG_INFO, "podman.pulled image=%s", op->image);
    create_next(op);
}

static void created(struct pop *op, const struct engine_result *r)
{
    const char *id;
    char msg[1200];
    enum berth_rt_code code = podman_map_error(r, op->image, msg, sizeof(msg));

    if (code == BERTH_RT_NOT_FOUND && strstr(msg, "image ") == msg &&
        op->p->cfg->pull && op->step == 0) {
        char path[PATH_LEN] = "/images/pull";
        op->step = 1;
        engine_query_add(path, sizeof(path), "reference", op->image);
        engine_query_add(path, sizeof(path), "quiet", "true");
        pop_call(op, "POST", path, NULL, op->p->cfg->pull_timeout_ms, pull_done);
        return;
    }
    if (code != BERTH_RT_OK) {
        pop_finish(op, code, msg);
        return;
    }
    id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "Id"));
    if (!id) {
        pop_finish(op, BERTH_RT_FAILED, "podman created the container without an Id");
        return;
    }
    op->p->host->log(op->p->ctx, BERTH_LOG_INFO, "podman.created id=%.12s name=%s", id,
                     op->target);
    pop_finish_id(op, id);
}

static void create_next(struct pop *op)
{
    pop_call(op, "POST", "/containers/create", cJSON_Duplicate(op->body, 1), 0, created);
}

static void volume_done(struct pop *op, const struct engine_result *r);

/* The volumes' steps before the container, listed in op->ids: "?NAME"
 * checks that NAME exists (mustExist), a JSON body creates a volume with
 * a driver, options or labels. */
static void volume_next(struct pop *op)
{
    char path[PATH_LEN];
    if (op->next_id >= op->n_ids) {
        create_next(op);
        return;
    }
    const char *step = op->ids[op->next_id++];
    if (step[0] == '?') {
        snprintf(path, sizeof(path), "/volumes/%s/json", step + 1);
        pop_call(op, "GET", path, NULL, 0, volume_done);
    } else {
        pop_call(op, "POST", "/volumes/create", cJSON_Parse(step), 0, volume_done);
    }
}

static void volume_done(struct pop *op, const struct engine_result *r)
{
    char msg[1200];
    const char *step = op->next_id ? op->ids[op->next_id - 1] : "";
    if (step[0] == '?' && r->code == BERTH_RT_NOT_FOUND) {
        snprintf(msg, sizeof(msg), "volume %s does not exist, and the task definition does not let it be created " "(dockerVolumeConfiguration.autoprovision is false)", step + 1);
        pop_finish(op, BERTH_RT_INVALID, msg); /* not an image to pull */
        return;
    }
    enum berth_rt_code code = podman_map_error(r, NULL, msg, sizeof(msg));
    /* One that exists already is the one to use. */
    if (code != BERTH_RT_OK && code != BERTH_RT_CONFLICT) {
        pop_finish(op, code, msg);
        return;
    }
    volume_next(op);
}

int podman_create(void *state, const char *spec_json, berth_rt_id_cb cb, void *arg)
{
    struct podman *p = state;
    struct engine_spec s;
    char err[512];
    struct pop *op = pop_new(p, POP_ID, (void *)cb, arg);

    if (!op)
        return -1;
    if (engine_spec_parse(spec_json, false, &s, err, sizeof(err)) < 0) {
        pop_answer_later(op, BERTH_RT_INVALID, "%s", err);
        return 0;
    }
    if (s.sandbox && !podman_id_ok(s.sandbox)) {
        engine_spec_free(&s);
        pop_answer_later(op, BERTH_RT_INVALID, "spec.sandbox: not a pod id");
        return 0;
    }
    if (!(op->body = podman_container_body(&s, err, sizeof(err)))) {
        engine_spec_free(&s);
        pop_answer_later(op, BERTH_RT_INVALID, "%s", err);
        return 0;
    }
    op->image = strdup(s.image);
    snprintf(op->target, sizeof(op->target), "%s", s.name);
    for (size_t i = 0; i < s.n_mounts; i++) {
        cJSON *v = s.mounts[i].must_exist ? NULL : podman_volume_body(&s.mounts[i]);
        char *text = v ? cJSON_PrintUnformatted(v) : NULL;
        cJSON_Delete(v);
        if (s.mounts[i].must_exist && asprintf(&text, "?%s", s.mounts[i].source) < 0)
            text = NULL;
        if (text) {
            char **ids = realloc(op->ids, (op->n_ids + 1) * sizeof(*ids));
            if (!ids) {
                free(text);
                break;
            }
            op->ids = ids;
            op->ids[op->n_ids++] = text;
        }
    }
    engine_spec_free(&s);
    volume_next(op);
    return 0;
}

/* ------------------------------------------------------------------ */
/* start, stop, remove                                                */

static void started_inspected(struct pop *op, const struct engine_result *r)
{
    /* Only to begin its health checks: the start itself succeeded. */
    if (r->code == BERTH_RT_OK)
        phc_ensure(op->p, r->json);
    pop_finish(op, BERTH_RT_OK, "");
}

static void started(struct pop *op, const struct engine_result *r)
{
    char path[PATH_LEN];
    if (r->code != BERTH_RT_OK) {
        fail_with(op, r, NULL);
        return;
    }
    op->p->host->log(op->p->ctx, BERTH_LOG_INFO, "podman.started id=%.12s", op->target);
    snprintf(path, sizeof(path), "/containers/%s/json", op->target);
    pop_call(op, "GET", path, NULL, 0, started_inspected);
}

int podman_start(void *state, const char *id, berth_rt_done_cb cb, void *arg)
{
    char path[PATH_LEN];
    bool answered;
    struct pop *op = begin(state, POP_DONE, (void *)cb, arg, id, &answered);
    if (!op || answered)
        return op ? 0 : -1;
    snprintf(path, sizeof(path), "/containers/%s/start", id);
    pop_call(op, "POST", path, NULL, 0, started);
    return 0;
}

static void stopped(struct pop *op, const struct engine_result *r)
{
    if (r->code != BERTH_RT_OK) {
        fail_with(op, r, NULL);
        return;
    }
    phc_forget(op->p, op->target);
    op->p->host->log(op->p->ctx, BERTH_LOG_INFO, "podman.stopped id=%.12s timeout_s=%u",
                     op->target, op->timeout_s);
    pop_finish(op, BERTH_RT_OK, "");
}

int podman_stop(void *state, const char *id, uint32_t timeout_s, berth_rt_done_cb cb,
                void *arg)
{
    struct podman *p = state;
    char path[PATH_LEN];
    bool answered;
    struct pop *op = begin(p, POP_DONE, (void *)cb, arg, id, &answered);
    if (!op || answered)
        return op ? 0 : -1;
    op->timeout_s = timeout_s;
    /* libpod says timeout= where the compat API says t=; 304 when it was
     * not running. */
    snprintf(path, sizeof(path), "/containers/%s/stop?timeout=%u", id, timeout_s);
    pop_call(op, "POST", path, NULL, (uint64_t)timeout_s * 1000 + p->cfg->request_timeout_ms,
             stopped);
    return 0;
}

static void remove_volume(struct pop *op);

static void volume_removed(struct pop *op, const struct engine_result *r)
{
    const char *name = op->ids[op->next_id - 1];
    if (r->code == BERTH_RT_OK)
        op->p->host->log(op->p->ctx, BERTH_LOG_INFO, "podman.volume.removed name=%s", name);
    else if (r->code != BERTH_RT_NOT_FOUND && r->code != BERTH_RT_CONFLICT)
        op->p->host->log(op->p->ctx, BERTH_LOG_WARN,
                         "podman.volume.remove.failed name=%s error=\"%s\"", name, words(r));
    remove_volume(op);
}

/* The task's own volumes, one by one: one that another container of the
 * task still uses (409) goes with that container's removal. */
static void remove_volume(struct pop *op)
{
    char path[PATH_LEN];
    if (op->next_id >= op->n_ids) {
        pop_finish(op, BERTH_RT_OK, "");
        return;
    }
    snprintf(path, sizeof(path), "/volumes/%s", op->ids[op->next_id++]);
    pop_call(op, "DELETE", path, NULL, 0, volume_removed);
}

static void removed(struct pop *op, const struct engine_result *r)
{
    const cJSON *rep;
    if (r->code == BERTH_RT_NOT_FOUND) {
        pop_finish(op, BERTH_RT_OK, ""); /* gone already */
        return;
    }
    if (r->code != BERTH_RT_OK) {
        fail_with(op, r, NULL);
        return;
    }
    /* 200 with [{"Id", "Err"}]: an Err there is a failure too. */
    cJSON_ArrayForEach(rep, (cJSON_IsArray(r->json) ? r->json : NULL)) {
        const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep, "Err"));
        if (e && *e) {
            pop_finish(op, BERTH_RT_FAILED, e);
            return;
        }
    }
    phc_forget(op->p, op->target);
    op->p->host->log(op->p->ctx, BERTH_LOG_INFO, "podman.removed id=%.12s", op->target);
    remove_volume(op);
}

static void remove_inspected(struct pop *op, const struct engine_result *r)
{
    char path[PATH_LEN];
    if (r->code == BERTH_RT_NOT_FOUND) {
        pop_finish(op, BERTH_RT_OK, ""); /* gone already */
        return;
    }
    /* Without the inspect the container still goes; only its volumes stay. */
    if (r->code == BERTH_RT_OK && r->json)
        op->ids = engine_task_volumes(r->json, &op->n_ids);
    /* Not forced: a running container is a CONFLICT, as the ABI says
     * remove takes a stopped one.  v: its anonymous volumes too. */
    snprintf(path, sizeof(path), "/containers/%s?v=true", op->target);
    pop_call(op, "DELETE", path, NULL, 0, removed);
}

int podman_remove(void *state, const char *id, berth_rt_done_cb cb, void *arg)
{
    char path[PATH_LEN];
    bool answered;
    struct pop *op = begin(state, POP_DONE, (void *)cb, arg, id, &answered);
    if (!op || answered)
        return op ? 0 : -1;
    /* First its task's own volumes (engine_task_volumes), to remove after it. */
    snprintf(path, sizeof(path), "/containers/%s/json", id);
    pop_call(op, "GET", path, NULL, 0, remove_inspected);
    return 0;
}

/* ------------------------------------------------------------------ */
/* inspect                                                            */

int podman_info(struct podman *p, const cJSON *j, struct engine_info *out)
{
    int v, ec;
    if (engine_info_from_inspect(j, out) < 0)
        return -1;
    if (out->info.state == BERTH_CTR_RUNNING)
        phc_ensure(p, j);
    /* Podman's own status only moves when a check runs; ours is the
     * verdict under ECS's rules. */
    if ((v = phc_verdict(p, out->info.id, &ec, NULL)) >= 0)
        out->info.health = (enum berth_ctr_health)v;
    return 0;
}

static void inspected(struct pop *op, const struct engine_result *r)
{
    struct engine_info info;
    if (r->code != BERTH_RT_OK) {
        fail_with(op, r, NULL);
        return;
    }
    if (podman_info(op->p, r->json, &info) < 0) {
        pop_finish(op, BERTH_RT_FAILED, "podman's inspect answer has no Id or State");
        return;
    }
    op->cb.info(op->arg, BERTH_RT_OK, &info.info, "");
    engine_info_free(&info);
    pop_free(op);
}

int podman_inspect(void *state, const char *id, berth_rt_info_cb cb, void *arg)
{
    char path[PATH_LEN];
    bool answered;
    struct pop *op = begin(state, POP_INFO, (void *)cb, arg, id, &answered);
    if (!op || answered)
        return op ? 0 : -1;
    snprintf(path, sizeof(path), "/containers/%s/json", id);
    pop_call(op, "GET", path, NULL, 0, inspected);
    return 0;
}

/* ------------------------------------------------------------------ */
/* list: the ids by label, then an inspect of each                    */

static void list_next(struct pop *op);

static void list_inspected(struct pop *op, const struct engine_result *r)
{
    if (r->code == BERTH_RT_OK) {
        struct engine_info *in = &op->infos[op->n_infos];
        if (podman_info(op->p, r->json, in) == 0)
            op->n_infos++;
    } else if (r->code != BERTH_RT_NOT_FOUND) { /* removed meanwhile: skip */
        fail_with(op, r, NULL);
        return;
    }
    list_next(op);
}

static void list_next(struct pop *op)
{
    char path[PATH_LEN];
    struct berth_container_info *v;

    if (op->next_id < op->n_ids) {
        snprintf(path, sizeof(path), "/containers/%s/json", op->ids[op->next_id++]);
        pop_call(op, "GET", path, NULL, 0, list_inspected);
        return;
    }
    if (op->kind == POP_INTERNAL) {
        pop_finish(op, BERTH_RT_OK, "");
        return;
    }
    v = calloc(op->n_infos ? op->n_infos : 1, sizeof(*v));
    if (!v) {
        pop_finish(op, BERTH_RT_FAILED, "out of memory");
        return;
    }
    for (size_t i = 0; i < op->n_infos; i++)
        v[i] = op->infos[i].info;
    op->cb.list(op->arg, BERTH_RT_OK, v, op->n_infos, "");
    free(v);
    pop_free(op);
}

static void listed(struct pop *op, const struct engine_result *r)
{
    const cJSON *e;
    size_t n;
    if (r->code != BERTH_RT_OK) {
        fail_with(op, r, NULL);
        return;
    }
    if (!cJSON_IsArray(r->json)) {
        pop_finish(op, BERTH_RT_FAILED, "podman's container list is not an array");
        return;
    }
    n = (size_t)cJSON_GetArraySize(r->json);
    op->ids = calloc(n ? n : 1, sizeof(*op->ids));
    op->infos = calloc(n ? n : 1, sizeof(*op->infos));
    if (!op->ids || !op->infos) {
        pop_finish(op, BERTH_RT_FAILED, "out of memory");
        return;
    }
    cJSON_ArrayForEach(e, r->json) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "Id"));
        /* A pod's infra container carries the pod's labels: not ours. */
        if (!id || !podman_id_ok(id) ||
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "IsInfra")))
            continue;
        if (!(op->ids[op->n_ids] = strdup(id)))
            break;
        op->n_ids++;
    }
    list_next(op);
}

struct pop *podman_list_op(struct podman *p, const char *label, enum pop_kind kind,
                           void *cb, void *arg)
{
    char path[PATH_LEN] = "/containers/json?all=true";
    char *f;
    struct pop *op = pop_new(p, kind, cb, arg);
    if (!op)
        return NULL;
    if (!label || !*label) {
        pop_answer_later(op, BERTH_RT_INVALID, "list needs a label");
        return op;
    }
    if (!(f = engine_filters(label, NULL))) {
        pop_answer_later(op, BERTH_RT_FAILED, "out of memory");
        return op;
    }
    /* engine_filters has encoded it already. */
    if (strlen(path) + strlen(f) + 10 < sizeof(path))
        strcat(strcat(path, "&filters="), f);
    else
        path[0] = '\0';
    free(f);
    pop_call(op, "GET", path, NULL, 0, listed);
    return op;
}

int podman_list(void *state, const char *label, berth_rt_list_cb cb, void *arg)
{
    return podman_list_op(state, label, POP_LIST, (void *)cb, arg) ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* stats: one reading, Docker's format from the compat API            */

static void stats_done(struct pop *op, const struct engine_result *r)
{
    struct berth_container_stats s;
    if (r->code != BERTH_RT_OK) {
        fail_with(op, r, NULL);
        return;
    }
    if (engine_stats_from_docker(r->json, &s) < 0) {
        pop_finish(op, BERTH_RT_FAILED, "podman's stats answer has no cpu_stats");
        return;
    }
    if (!s.time_ms)
        s.time_ms = podman_wall_ms();
    op->cb.stats(op->arg, BERTH_RT_OK, &s, "");
    pop_free(op);
}

int podman_stats(void *state, const char *id, berth_rt_stats_cb cb, void *arg)
{
    char path[PATH_LEN];
    bool answered;
    struct pop *op = begin(state, POP_STATS, (void *)cb, arg, id, &answered);
    if (!op || answered)
        return op ? 0 : -1;
    /* libpod's own stats lack the memory breakdown and throttling that the
     * Docker format has; "//" skips the libpod prefix. */
    snprintf(path, sizeof(path), "//v1.41/containers/%s/stats?stream=false", id);
    pop_call(op, "GET", path, NULL, 0, stats_done);
    return 0;
}
