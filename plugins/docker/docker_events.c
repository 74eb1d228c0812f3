/* docker_events.c: watch(): dockerd's event stream, filtered by label and
 * by the events that matter, as berth_runtime_events.
 *
 * Docker's event says little (an action and the container's labels), so
 * start, die, health_status and oom are followed by an inspect for the
 * full info (exit code, health output...).  Events are handled one at a
 * time, in order: a destroy must not overtake the die before it while
 * that die's inspect is in flight.  When the inspect finds the container
 * gone, the info is built from the event itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"

static const char *const watched[] = {"start", "die", "health_status", "oom", "destroy",
                                      NULL};

/* An event waiting for its turn. */
struct dev {
    cJSON *doc;
    struct dev *next;
};

static void ev_next(struct docker *d);

static const char *
attr(const cJSON *doc, const char *name)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "Actor"), "Attributes");
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, name));
}

static const char *
actor_id(const cJSON *doc)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "Actor"), "ID"));
    return id ? id : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "id"));
}

static void
emit(struct docker *d, enum berth_rt_event_type type,
     const struct berth_container_info *info, const char *detail)
{
    struct berth_runtime_event ev = {
        .struct_size = sizeof(ev),
        .type = type,
        .info = info,
        .detail = detail ? detail : "",
    };
    d->ev_cb(d->ev_arg, &ev);
}

static enum berth_rt_event_type
type_of(const char *action)
{
    if (strncmp(action, "health_status", 13) == 0)
        return BERTH_RT_EV_HEALTH;
    if (strcmp(action, "oom") == 0)
        return BERTH_RT_EV_OOM;
    return BERTH_RT_EV_STATE;
}

/* The info an event alone gives: for a container that is gone. */
static void
emit_from_event(struct docker *d, const cJSON *doc, const char *action)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "Actor"), "Attributes");
    struct berth_label *labels = calloc((size_t)cJSON_GetArraySize(attrs) + 1, sizeof(*labels));
    const char *code = attr(doc, "exitCode");
    const cJSON *a;
    size_t n = 0;

    cJSON_ArrayForEach(a, attrs) {
        /* Docker mixes its own attributes with the container's labels. */
        if (!labels || !cJSON_IsString(a) || !strcmp(a->string, "name") ||
            !strcmp(a->string, "image") || !strcmp(a->string, "exitCode") ||
            !strcmp(a->string, "signal"))
            continue;
        labels[n].name = a->string;
        labels[n++].value = a->valuestring;
    }
    struct berth_container_info info = {
        .struct_size = sizeof(info),
        .id = actor_id(doc),
        .name = attr(doc, "name"),
        .image = attr(doc, "image"),
        .image_id = "",
        .state = !strcmp(action, "destroy") ? BERTH_CTR_REMOVED
                 : !strcmp(action, "die")   ? BERTH_CTR_EXITED
                                            : BERTH_CTR_UNKNOWN,
        .exit_code = code ? atoi(code) : 0,
        .error = "",
        .health = !strcmp(action, "health_status: healthy")     ? BERTH_HEALTH_HEALTHY
                  : !strcmp(action, "health_status: unhealthy") ? BERTH_HEALTH_UNHEALTHY
                                                                : BERTH_HEALTH_NONE,
        .health_output = "",
        .health_exit_code = -1,
        .labels = labels,
        .n_labels = n,
        .ip_address = "",
    };
    if (!strcmp(action, "start"))
        info.state = BERTH_CTR_RUNNING;
    emit(d, type_of(action), &info, action);
    free(labels);
}

static void
ev_inspected(void *arg, const struct engine_result *r)
{
    struct docker *d = arg;
    struct dev *e = d->ev_head;
    const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e->doc, "Action"));
    struct engine_info info;
    char *sandbox = NULL;

    d->ev_inspect = NULL;
    d->ev_head = e->next;
    if (!d->ev_head)
        d->ev_tail = NULL;
    if (r->code == BERTH_RT_OK && engine_info_from_inspect(r->json, &info) == 0) {
        docker_info_fixup(r->json, &info, &sandbox);
        emit(d, type_of(action), &info.info,
             strncmp(action, "health_status: ", 15) == 0 ? action + 15 : action);
        engine_info_free(&info);
        free(sandbox);
    } else {
        if (r->code != BERTH_RT_NOT_FOUND)
            d->host->log(d->ctx, BERTH_LOG_WARN, "docker.event.inspect_failed id=%.12s "
                         "error=\"%s\"", actor_id(e->doc), r->msg);
        emit_from_event(d, e->doc, action);
    }
    cJSON_Delete(e->doc);
    free(e);
    if (!d->stopped && d->events)
        ev_next(d);
}

/* Handles queued events until one needs an inspect (then its answer goes on). */
static void
ev_next(struct docker *d)
{
    char path[512];

    while (d->ev_head && !d->ev_inspect) {
        struct dev *e = d->ev_head;
        const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e->doc, "Action"));
        const char *id = actor_id(e->doc);

        if (strcmp(action, "destroy") != 0 && docker_id_ok(id)) {
            snprintf(path, sizeof(path), "/containers/%s/json", id);
            if ((d->ev_inspect = engine_call(&d->e, "GET", path, NULL, 0, ev_inspected, d)))
                return;
        }
        d->ev_head = e->next;
        if (!d->ev_head)
            d->ev_tail = NULL;
        emit_from_event(d, e->doc, action);
        cJSON_Delete(e->doc);
        free(e);
        if (d->stopped || !d->events)
            return;
    }
}

static void
on_doc(void *arg, cJSON *doc)
{
    struct docker *d = arg;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Type"));
    const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Action"));
    struct dev *e;

    if (!type || strcmp(type, "container") != 0 || !action || !actor_id(doc))
        return;
    for (const char *const *w = watched; *w; w++) {
        size_t n = strlen(*w);
        if (!strncmp(action, *w, n) && (action[n] == '\0' || action[n] == ':'))
            goto wanted;
    }
    return;
wanted:
    if (!(e = calloc(1, sizeof(*e))) || !(e->doc = cJSON_Duplicate(doc, 1))) {
        free(e);
        d->host->log(d->ctx, BERTH_LOG_ERROR, "docker.event.dropped action=%s "
                     "error=\"out of memory\"", action);
        return;
    }
    if (d->ev_tail)
        d->ev_tail->next = e;
    else
        d->ev_head = e;
    d->ev_tail = e;
    ev_next(d);
}

void
docker_emit_up(struct docker *d, const char *msg)
{
    emit(d, BERTH_RT_EV_ENGINE_UP, NULL, msg);
}

static void
on_state(void *arg, bool up, const char *msg)
{
    struct docker *d = arg;

    if (up) {
        docker_hello(d); /* the engine may be new: learn its version */
        docker_learn_gateway(d, msg);
        return;
    }
    docker_forget_gateway(d);
    emit(d, BERTH_RT_EV_ENGINE_DOWN, NULL, msg);
}

int
docker_watch(void *state, const char *label, berth_rt_event_cb cb, void *arg)
{
    struct docker *d = state;
    char path[2048] = "/events", *filters;

    if (d->events) {
        d->host->log(d->ctx, BERTH_LOG_ERROR, "docker.watch.refused error=\"already watching\"");
        return -1;
    }
    if (!label || !*label || strlen(label) > 1000) {
        d->host->log(d->ctx, BERTH_LOG_ERROR, "docker.watch.refused error=\"%s\"",
                     "watch needs a label (key or key=value, at most 1000 characters)");
        return -1;
    }
    if (!(filters = engine_filters(label, watched))) {
        d->host->log(d->ctx, BERTH_LOG_ERROR, "docker.watch.refused error=\"out of memory\"");
        return -1;
    }
    snprintf(path + strlen(path), sizeof(path) - strlen(path), "?filters=%s", filters);
    free(filters);
    d->ev_cb = cb;
    d->ev_arg = arg;
    /* Its first callback comes from the loop: the stream connects later. */
    if (!(d->events = engine_stream_start(&d->e, path, on_doc, on_state, d)))
        return -1;
    d->host->log(d->ctx, BERTH_LOG_INFO, "docker.watch label=%s", label);
    return 0;
}

void
docker_events_stop(struct docker *d)
{
    engine_stream_stop(d->events);
    d->events = NULL;
    if (d->ev_inspect)
        engine_cancel(&d->e, d->ev_inspect);
    d->ev_inspect = NULL;
    while (d->ev_head) {
        struct dev *e = d->ev_head;
        d->ev_head = e->next;
        cJSON_Delete(e->doc);
        free(e);
    }
    d->ev_tail = NULL;
}
