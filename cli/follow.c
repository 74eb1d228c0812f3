/* follow.c: decides, from successive DescribeServices answers, what to
 * tell about a deployment and whether it has ended. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/follow.h"

void lines_add(struct lines *l, const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v)
        abort();
    l->v = v;
    l->v[l->n++] = s;
}

void lines_clear(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

static void set(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? strdup(v) : NULL;
}

static const cJSON *deployment(const cJSON *service, const char *key, const char *value)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(service, "deployments")) {
        const char *v = str(d, key);
        if (v && strcmp(v, value) == 0)
            return d;
    }
    return NULL;
}

static int seen(const struct follow *f, const char *id)
{
    for (size_t i = 0; i < f->nseen; i++)
        if (strcmp(f->seen[i], id) == 0)
            return 1;
    return 0;
}

static void mark_seen(struct follow *f, const char *id)
{
    char **v = realloc(f->seen, (f->nseen + 1) * sizeof(*v));
    if (!v)
        abort();
    f->seen = v;
    f->seen[f->nseen++] = strdup(id);
}

/* Events not shown yet, oldest first (the array is newest first). */
static void new_events(struct follow *f, const cJSON *service, struct lines *out)
{
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(service, "events");
    for (int i = cJSON_GetArraySize(events) - 1; i >= 0; i--) {
        const cJSON *e = cJSON_GetArrayItem(events, i);
        const char *id = str(e, "id"), *msg = str(e, "message");
        if (!id || seen(f, id))
            continue;
        mark_seen(f, id);
        if (!out)
            continue;
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "createdAt");
        char when[16] = "--:--:--";
        if (cJSON_IsNumber(at)) {
            time_t t = (time_t)at->valuedouble;
            struct tm tm;
            if (localtime_r(&t, &tm))
                strftime(when, sizeof(when), "%H:%M:%S", &tm);
        }
        lines_add(out, "  %s %s", when, msg ? msg : "");
    }
}

/* What the service said of the deployment's failure: the text after
 * "(deployment ID) deployment failed: " in its events, or NULL. */
static const char *failure_event(const cJSON *service, const char *id)
{
    char mark[160];
    const cJSON *e;

    snprintf(mark, sizeof(mark), "(deployment %s) deployment failed: ", id);
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(service, "events")) {
        const char *msg = str(e, "message"), *at = msg ? strstr(msg, mark) : NULL;
        if (at)
            return at + strlen(mark);
    }
    return NULL;
}

/* The newest "rolling back to deployment ID." event: where ID starts. */
static const char *rollback_event(const cJSON *service)
{
    static const char mark[] = "rolling back to deployment ";
    const cJSON *e;

    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(service, "events")) {
        const char *msg = str(e, "message"), *at = msg ? strstr(msg, mark) : NULL;
        if (at)
            return at + strlen(mark);
    }
    return NULL;
}

int follow_start(struct follow *f, const cJSON *service)
{
    memset(f, 0, sizeof(*f));
    const cJSON *p = deployment(service, "status", "PRIMARY");
    if (!p || !str(p, "id")) {
        set(&f->reason, "the service has no PRIMARY deployment to follow");
        return -1;
    }
    set(&f->deployment_id, str(p, "id"));
    new_events(f, service, NULL);
    return 0;
}

static enum follow_rc fail(struct follow *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static enum follow_rc fail(struct follow *f, const char *fmt, ...)
{
    va_list ap;
    free(f->reason);
    va_start(ap, fmt);
    if (vasprintf(&f->reason, fmt, ap) < 0)
        abort();
    va_end(ap);
    return FOLLOW_FAILED;
}

enum follow_rc follow_step(struct follow *f, const cJSON *service, struct lines *out)
{
    const char *name = str(service, "serviceName");
    const char *status = str(service, "status");
    const cJSON *d, *mine;
    long old = 0;

    new_events(f, service, out);
    if (!name)
        name = "service";
    if (status && strcmp(status, "ACTIVE") != 0)
        return fail(f, "service %s is %s", name, status);
    mine = deployment(service, "id", f->deployment_id);
    if (!mine) {
        const cJSON *p = deployment(service, "status", "PRIMARY");
        const char *why = failure_event(service, f->deployment_id);
        /* A rollback: say why it failed and where the service went back. */
        const char *back = rollback_event(service);
        if (p && why && back)
            return fail(f, "%s ECS deployment circuit breaker: rolling back to "
                           "deploymentId %.*s.",
                        why, (int)strcspn(back, ". "), back);
        if (p && why)
            return fail(f, "%s The service went back to deployment %s.", why,
                        str(p, "id") ? str(p, "id") : "?");
        if (p)
            return fail(f, "deployment %s was replaced by deployment %s (%s)",
                        f->deployment_id, str(p, "id") ? str(p, "id") : "?",
                        str(p, "taskDefinition") ? str(p, "taskDefinition") : "?");
        return fail(f, "deployment %s is gone from service %s", f->deployment_id,
                    name);
    }
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(service, "deployments"))
        if (d != mine)
            old += num(d, "runningCount");

    const char *rollout = str(mine, "rolloutState");
    long running = num(mine, "runningCount"), desired = num(mine, "desiredCount");
    long pending = num(mine, "pendingCount"), failed = num(mine, "failedTasks");
    char *line, failed_part[32] = "";
    if (failed)
        snprintf(failed_part, sizeof(failed_part), ", %ld failed", failed);
    if (asprintf(&line, "%s: %ld/%ld running, %ld pending%s, %ld old task%s left%s%s",
                 name, running, desired, pending, failed_part, old, old == 1 ? "" : "s",
                 rollout ? ", " : "", rollout ? rollout : "") < 0)
        abort();
    if (!f->last || strcmp(f->last, line) != 0) {
        if (out)
            lines_add(out, "%s", line);
        free(f->last);
        f->last = line;
    } else {
        free(line);
    }

    if (rollout && strcmp(rollout, "FAILED") == 0) {
        const char *why = str(mine, "rolloutStateReason");
        return fail(f, "%s", why ? why : "the deployment FAILED (no reason given)");
    }
    if (rollout && strcmp(rollout, "COMPLETED") == 0)
        return FOLLOW_DONE;
    if (!rollout && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(service, "deployments")) == 1 &&
        running == desired && pending == 0)
        return FOLLOW_DONE;
    return FOLLOW_PROGRESS;
}

void follow_free(struct follow *f)
{
    for (size_t i = 0; i < f->nseen; i++)
        free(f->seen[i]);
    free(f->seen);
    free(f->deployment_id);
    free(f->reason);
    free(f->last);
    memset(f, 0, sizeof(*f));
}
