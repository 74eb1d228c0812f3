/* podman_pod.c: sandboxes.  Every task gets a pod, whatever its network
 * mode, since a pod is how podman groups a task's containers; the pod
 * publishes the task's ports and holds its network namespace.
 *
 * The pod is started (its infra container only) right after it is created,
 * so that a host port already taken is found here, as a CONFLICT, before
 * any container is made.  Removing: each running container is stopped
 * with the timeout, all at once (podman's pod stop answers 304 and stops
 * nothing once one container has exited), then the pod is removed with
 * force. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podman.h"

#define PATH_LEN 1024

/* ------------------------------------------------------------------ */
/* create                                                             */

static void pod_cleaned(struct pop *op, const struct engine_result *r)
{
    (void)r; /* the start's failure is what the agent needs to hear */
    pop_finish(op, op->code, op->msg);
}

static void pod_started(struct pop *op, const struct engine_result *r)
{
    char msg[1200], path[PATH_LEN];
    enum berth_rt_code code;
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(r->json, "Errs"), *e;

    if (r->code == BERTH_RT_OK && !cJSON_GetArraySize(errs)) {
        op->p->host->log(op->p->ctx, BERTH_LOG_INFO, "podman.pod.created id=%.12s",
                         op->image);
        pop_finish_id(op, op->image);
        return;
    }
    code = podman_map_error(r, NULL, msg, sizeof(msg));
    /* {"Errs": ["...: address already in use"]} */
    cJSON_ArrayForEach(e, (cJSON_IsArray(errs) ? errs : NULL)) {
        if (cJSON_IsString(e)) {
            struct engine_result er = {.status = 500, .code = BERTH_RT_FAILED,
                                       .msg = e->valuestring};
            code = podman_map_error(&er, NULL, msg, sizeof(msg));
            break;
        }
    }
    if (code == BERTH_RT_OK)
        code = BERTH_RT_FAILED;
    op->p->host->log(op->p->ctx, BERTH_LOG_WARN,
                     "podman.pod.start_failed id=%.12s error=\"%s\"", op->image, msg);
    op->code = code;
    free(op->msg);
    op->msg = strdup(msg);
    snprintf(path, sizeof(path), "/pods/%s?force=true", op->image);
    pop_call(op, "DELETE", path, NULL, 0, pod_cleaned);
}

static void pod_created(struct pop *op, const struct engine_result *r)
{
    char msg[1200], path[PATH_LEN];
    enum berth_rt_code code = podman_map_error(r, NULL, msg, sizeof(msg));
    const char *id;

    if (code != BERTH_RT_OK) {
        pop_finish(op, code, msg);
        return;
    }
    id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "Id"));
    if (!id || !podman_id_ok(id) || !(op->image = strdup(id))) {
        pop_finish(op, BERTH_RT_FAILED, "podman created the pod without an Id");
        return;
    }
    snprintf(path, sizeof(path), "/pods/%s/start", id);
    pop_call(op, "POST", path, NULL, 0, pod_started);
}

int podman_sandbox_create(void *state, const char *spec_json, berth_rt_id_cb cb,
                          void *arg)
{
    struct engine_spec s;
    char err[512];
    cJSON *body;
    struct pop *op = pop_new(state, POP_ID, (void *)cb, arg);

    if (!op)
        return -1;
    if (engine_spec_parse(spec_json, true, &s, err, sizeof(err)) < 0) {
        pop_answer_later(op, BERTH_RT_INVALID, "%s", err);
        return 0;
    }
    body = podman_pod_body(&s, err, sizeof(err));
    snprintf(op->target, sizeof(op->target), "%s", s.name);
    engine_spec_free(&s);
    if (!body) {
        pop_answer_later(op, BERTH_RT_INVALID, "%s", err);
        return 0;
    }
    pop_call(op, "POST", "/pods/create", body, 0, pod_created);
    return 0;
}

/* ------------------------------------------------------------------ */
/* remove                                                             */

static void pod_removed(struct pop *op, const struct engine_result *r)
{
    char msg[1200];
    enum berth_rt_code code = podman_map_error(r, NULL, msg, sizeof(msg));
    const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "Err"));

    for (size_t i = 0; i < op->n_ids; i++)
        phc_forget(op->p, op->ids[i]);
    if (code == BERTH_RT_NOT_FOUND) /* gone already */
        code = BERTH_RT_OK;
    if (code == BERTH_RT_OK && e && *e) {
        pop_finish(op, BERTH_RT_FAILED, e);
        return;
    }
    if (code == BERTH_RT_OK)
        op->p->host->log(op->p->ctx, BERTH_LOG_INFO, "podman.pod.removed id=%.12s",
                         op->target);
    pop_finish(op, code, code == BERTH_RT_OK ? "" : msg);
}

static void remove_pod(struct pop *op)
{
    char path[PATH_LEN];
    snprintf(path, sizeof(path), "/pods/%s?force=true", op->target);
    pop_call(op, "DELETE", path, NULL, 0, pod_removed);
}

/* A child stop is done: the pod goes once the last one is. */
static void child_stopped(struct pop *child, enum berth_rt_code code)
{
    struct pop *parent = child->arg;
    if (code != BERTH_RT_OK && code != BERTH_RT_NOT_FOUND)
        parent->p->host->log(parent->p->ctx, BERTH_LOG_WARN,
                             "podman.pod.stop_failed pod=%.12s id=%.12s error=\"%s\"",
                             parent->target, child->target,
                             child->msg ? child->msg : "");
    if (--parent->step == 0)
        remove_pod(parent);
}

static void child_result(struct pop *child, const struct engine_result *r)
{
    pop_finish(child, r->code, r->msg);
}

static void pod_inspected(struct pop *op, const struct engine_result *r)
{
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(r->json, "Containers"), *c;
    const char *infra =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "InfraContainerID"));
    char msg[1200];
    enum berth_rt_code code = podman_map_error(r, NULL, msg, sizeof(msg));
    size_t n = (size_t)cJSON_GetArraySize(cs);

    if (code == BERTH_RT_NOT_FOUND) {
        pop_finish(op, BERTH_RT_OK, ""); /* gone already */
        return;
    }
    if (code != BERTH_RT_OK) {
        pop_finish(op, code, msg);
        return;
    }
    op->ids = calloc(n ? n : 1, sizeof(*op->ids));
    op->step = 1; /* held until every child has been sent */
    cJSON_ArrayForEach(c, (cJSON_IsArray(cs) ? cs : NULL)) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Id"));
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "State"));
        char path[PATH_LEN];
        struct pop *child;
        if (!id || !podman_id_ok(id) || (infra && strcmp(id, infra) == 0))
            continue;
        if (op->ids && (op->ids[op->n_ids] = strdup(id)))
            op->n_ids++;
        if (!st || strcmp(st, "running") != 0)
            continue;
        if (!(child = pop_new(op->p, POP_INTERNAL, (void *)child_stopped, op)))
            continue;
        snprintf(child->target, sizeof(child->target), "%s", id);
        snprintf(path, sizeof(path), "/containers/%s/stop?timeout=%u", id, op->timeout_s);
        op->step++;
        if (!pop_call(child, "POST", path, NULL,
                      (uint64_t)op->timeout_s * 1000 + op->p->cfg->request_timeout_ms,
                      child_result))
            continue; /* answered later through child_stopped */
    }
    if (--op->step == 0)
        remove_pod(op);
}

int podman_sandbox_remove(void *state, const char *id, uint32_t timeout_s,
                          berth_rt_done_cb cb, void *arg)
{
    char path[PATH_LEN];
    struct pop *op = pop_new(state, POP_DONE, (void *)cb, arg);
    if (!op)
        return -1;
    if (!id || !podman_id_ok(id)) {
        pop_answer_later(op, BERTH_RT_INVALID, "not a pod id: \"%.64s\"", id ? id : "(null)");
        return 0;
    }
    snprintf(op->target, sizeof(op->target), "%s", id);
    op->timeout_s = timeout_s;
    snprintf(path, sizeof(path), "/pods/%s/json", id);
    pop_call(op, "GET", path, NULL, 0, pod_inspected);
    return 0;
}
