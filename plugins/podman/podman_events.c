/* podman_events.c: watch, libpod's event stream as berth_runtime_events.
 *
 * The stream is filtered by label and by libpod's event names: start,
 * died (Docker's die) and remove (Docker's destroy).  podman's own
 * health_status events are left out: they only echo the checks this
 * plugin runs, whose verdicts it reports itself (podman_health.c).  A died
 * container is inspected for its exit code and OOM flag, which also gives
 * the OOM event (podman 4.3 has no oom event of its own).
 *
 * Events are handled one at a time, in order: each waits for its inspect
 * before the next is looked at.  A pod's infra container carries the
 * pod's labels, so it is in the stream too, and skipped.
 *
 * After each (re)connection the labelled containers are listed again, so
 * the health checks of running ones go on (or start) even when their
 * start event came while the stream was down. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podman.h"

struct pev {
    struct pev *next;
    char action[32];
    char id[80];
    char name[256];
    char image[256];
    int exit_code;
};

static void ev_next(struct podman *p);

static void emit(struct podman *p, enum berth_rt_event_type type,
                 const struct berth_container_info *info, const char *detail)
{
    struct berth_runtime_event ev = {
        .struct_size = sizeof(ev), .type = type, .info = info,
        .detail = detail ? detail : "",
    };
    if (p->ev_cb)
        p->ev_cb(p->ev_arg, &ev);
}

void podman_emit_health(struct podman *p, const struct berth_container_info *info,
                        const char *detail)
{
    emit(p, BERTH_RT_EV_HEALTH, info, detail);
}

/* "0123456789ab-infra": the name podman gives a pod's infra container. */
static bool infra_name(const char *n)
{
    size_t i;
    for (i = 0; i < 12 && isxdigit((unsigned char)n[i]); i++)
        ;
    return i == 12 && strcmp(n + 12, "-infra") == 0;
}

/* An info made of the event alone, for a container that is gone. */
static void bare_info(const struct pev *e, enum berth_ctr_state state,
                      struct berth_container_info *i)
{
    memset(i, 0, sizeof(*i));
    i->struct_size = sizeof(*i);
    i->id = e->id;
    i->name = e->name;
    i->image = e->image;
    i->image_id = "";
    i->state = state;
    i->exit_code = e->exit_code;
    i->error = "";
    i->health_output = "";
    i->health_exit_code = -1;
    i->ip_address = "";
}

static void ev_inspected(void *arg, const struct engine_result *r)
{
    struct podman *p = arg;
    struct pev *e = p->ev_head;
    struct engine_info info;
    bool died = strcmp(e->action, "died") == 0;

    p->ev_call = NULL;
    if (r->code == BERTH_RT_OK &&
        !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->json, "IsInfra")) &&
        podman_info(p, r->json, &info) == 0) {
        if (died) /* an exit code from a later restart would mislead */
            phc_forget(p, e->id);
        emit(p, BERTH_RT_EV_STATE, &info.info, e->action);
        if (died && info.info.oom_killed)
            emit(p, BERTH_RT_EV_OOM, &info.info, "OOMKilled");
        engine_info_free(&info);
    } else if (r->code == BERTH_RT_NOT_FOUND && died) {
        struct berth_container_info bi;
        bare_info(e, BERTH_CTR_EXITED, &bi);
        emit(p, BERTH_RT_EV_STATE, &bi, e->action);
    } else if (r->code != BERTH_RT_OK && r->code != BERTH_RT_NOT_FOUND) {
        p->host->log(p->ctx, BERTH_LOG_WARN,
                     "podman.event.inspect_failed id=%.12s event=%s error=\"%s\"", e->id,
                     e->action, r->msg);
    }
    p->ev_head = e->next;
    if (!p->ev_head)
        p->ev_tail = NULL;
    free(e);
    ev_next(p);
}

/* Handles the event at the head of the queue, if nothing is in flight. */
static void ev_next(struct podman *p)
{
    while (p->ev_head && !p->ev_call && !p->stopped) {
        struct pev *e = p->ev_head;
        char path[512];
        if (strcmp(e->action, "remove") == 0) {
            struct berth_container_info bi;
            phc_forget(p, e->id);
            bare_info(e, BERTH_CTR_REMOVED, &bi);
            emit(p, BERTH_RT_EV_STATE, &bi, e->action);
        } else {
            if (strcmp(e->action, "died") == 0)
                phc_forget(p, e->id);
            snprintf(path, sizeof(path), "/containers/%s/json", e->id);
            if ((p->ev_call = engine_call(&p->e, "GET", path, NULL, 0, ev_inspected, p)))
                return;
        }
        p->ev_head = e->next;
        if (!p->ev_head)
            p->ev_tail = NULL;
        free(e);
    }
}

static const char *attr(const cJSON *attrs, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(attrs, key));
    return v ? v : "";
}

static void on_doc(void *arg, cJSON *doc)
{
    struct podman *p = arg;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Type"));
    const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Action"));
    const cJSON *actor = cJSON_GetObjectItemCaseSensitive(doc, "Actor");
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(actor, "Attributes");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(actor, "ID"));
    struct pev *e;

    if (!action)
        action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Status"));
    if (!id)
        id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "id"));
    if (!type || strcmp(type, "container") != 0 || !action || !id || !podman_id_ok(id) ||
        strlen(id) >= sizeof(e->id) || infra_name(attr(attrs, "name")))
        return;
    if (strcmp(action, "start") != 0 && strcmp(action, "died") != 0 &&
        strcmp(action, "remove") != 0)
        return;
    if (!(e = calloc(1, sizeof(*e))))
        return;
    snprintf(e->action, sizeof(e->action), "%s", action);
    snprintf(e->id, sizeof(e->id), "%s", id);
    snprintf(e->name, sizeof(e->name), "%s", attr(attrs, "name"));
    snprintf(e->image, sizeof(e->image), "%s", attr(attrs, "image"));
    e->exit_code = atoi(attr(attrs, "containerExitCode"));
    if (p->ev_tail)
        p->ev_tail->next = e;
    else
        p->ev_head = e;
    p->ev_tail = e;
    ev_next(p);
}

static void rescan_done(struct pop *op, enum berth_rt_code code)
{
    struct podman *p = op->p;
    if (p->rescan == op)
        p->rescan = NULL;
    if (code != BERTH_RT_OK)
        p->host->log(p->ctx, BERTH_LOG_WARN, "podman.rescan.failed error=\"%s\"",
                     op->msg ? op->msg : "");
}

void podman_emit_up(struct podman *p, const char *msg)
{
    emit(p, BERTH_RT_EV_ENGINE_UP, NULL, msg);
    if (!p->rescan && !p->stopped)
        p->rescan = podman_list_op(p, p->watch_label, POP_INTERNAL, (void *)rescan_done, p);
}

/* The inspect in flight and the events queued behind it: stale once the
 * stream went down or the watch stops. */
static void drop_pending(struct podman *p)
{
    if (p->ev_call)
        engine_cancel(&p->e, p->ev_call);
    p->ev_call = NULL;
    while (p->ev_head) {
        struct pev *e = p->ev_head;
        p->ev_head = e->next;
        free(e);
    }
    p->ev_tail = NULL;
}

static void on_state(void *arg, bool up, const char *msg)
{
    struct podman *p = arg;
    if (up) {
        podman_learn_gateway(p, msg);
        return;
    }
    podman_forget_gateway(p);
    emit(p, BERTH_RT_EV_ENGINE_DOWN, NULL, msg);
    /* Inspects in flight will fail; what is queued is stale. */
    drop_pending(p);
}

int podman_watch(void *state, const char *label, berth_rt_event_cb cb, void *arg)
{
    static const char *const events[] = {"start", "died", "remove", NULL};
    struct podman *p = state;
    char path[2048] = "/events?stream=true&filters=";
    char *f;

    if (p->events || !label || !*label || !cb) {
        p->host->log(p->ctx, BERTH_LOG_ERROR, "podman.watch.refused error=\"%s\"",
                     p->events ? "a watch runs already" : "watch needs a label and a callback");
        return -1;
    }
    if (!(f = engine_filters(label, events)) ||
        strlen(path) + strlen(f) >= sizeof(path) || !(p->watch_label = strdup(label))) {
        free(f);
        p->host->log(p->ctx, BERTH_LOG_ERROR, "podman.watch.refused error=\"%s\"",
                     "label too long or out of memory");
        return -1;
    }
    strcat(path, f);
    free(f);
    p->ev_cb = cb;
    p->ev_arg = arg;
    if (!(p->events = engine_stream_start(&p->e, path, on_doc, on_state, p))) {
        p->host->log(p->ctx, BERTH_LOG_ERROR, "podman.watch.refused error=\"%s\"",
                     "the event stream could not be started");
        return -1;
    }
    return 0;
}

void podman_events_stop(struct podman *p)
{
    if (p->events)
        engine_stream_stop(p->events);
    p->events = NULL;
    drop_pending(p);
    p->ev_cb = NULL;
    p->rescan = NULL; /* freed with the other operations */
}
