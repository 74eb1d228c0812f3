/* views.c: what the commands show, from the API's objects. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/views.h"

#define EVENTS_SHOWN 5

static void ports(const cJSON *task, int utf8, char *buf, size_t n)
{
    const cJSON *ct, *b;
    size_t used = 0;
    buf[0] = '\0';
    cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(task, "containers"))
        cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(ct, "networkBindings")) {
            const char *proto = jstr(b, "protocol");
            int w = snprintf(buf + used, n - used, "%s%ld%s%ld%s", used ? "," : "",
                             jlong(b, "hostPort", 0), utf8 ? "\xe2\x86\x92" : "->",
                             jlong(b, "containerPort", 0),
                             proto && strcmp(proto, "udp") == 0 ? "/udp" : "");
            if (w < 0 || (size_t)w >= n - used)
                return;
            used += (size_t)w;
        }
}

static double jtime(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

struct table *view_tasks(const cJSON *tasks, int utf8)
{
    static const char *const head[] = {"ID", "TASK-DEFINITION", "LAST", "DESIRED",
                                       "HEALTH", "STARTED", "PORTS"};
    struct table *t = table_new(7, head);
    const cJSON *task;
    cJSON_ArrayForEach(task, tasks) {
        char age[16], p[512];
        fmt_age(jtime(task, "startedAt"), age, sizeof(age));
        ports(task, utf8, p, sizeof(p));
        const char *last = jstr(task, "lastStatus"), *health = jstr(task, "healthStatus");
        const char *row[] = {short_arn(jstr(task, "taskArn")),
                             short_arn(jstr(task, "taskDefinitionArn")),
                             last ? last : "-",
                             jstr(task, "desiredStatus") ? jstr(task, "desiredStatus") : "-",
                             health ? health : "-", age, p[0] ? p : "-"};
        table_add(t, row);
        table_color(t, 2, status_color(last));
        table_color(t, 4, status_color(health));
    }
    return t;
}

/* A stopped task "stopped with an error": it failed to start, or one of
 * its containers exited non-zero (or has no exit code but a reason). */
int task_stopped_badly(const cJSON *task, char *why, size_t n)
{
    const char *code = jstr(task, "stopCode"), *reason = jstr(task, "stoppedReason");
    const cJSON *ct;
    int bad = code && strcmp(code, "TaskFailedToStart") == 0;
    size_t used = (size_t)snprintf(why, n, "%s: %s", code ? code : "stopped",
                                   reason ? reason : "no reason given");
    cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(task, "containers")) {
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(ct, "exitCode");
        const char *cr = jstr(ct, "reason"), *name = jstr(ct, "name");
        if (cJSON_IsNumber(ec) && ec->valuedouble != 0) {
            bad = 1;
            if (used < n)
                used += (size_t)snprintf(why + used, n - used, "; %s exited %ld",
                                         name ? name : "?", (long)ec->valuedouble);
        } else if (!cJSON_IsNumber(ec) && cr) {
            bad = 1;
            if (used < n)
                used += (size_t)snprintf(why + used, n - used, "; %s: %s",
                                         name ? name : "?", cr);
        }
    }
    return bad;
}

const cJSON *service_primary(const cJSON *service)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(service, "deployments")) {
        const char *s = jstr(d, "status");
        if (s && strcmp(s, "PRIMARY") == 0)
            return d;
    }
    return NULL;
}

struct table *view_services(const cJSON *services)
{
    static const char *const head[] = {"NAME", "STATUS", "DESIRED", "RUNNING",
                                       "PENDING", "TASK-DEFINITION", "ROLLOUT"};
    struct table *t = table_new(7, head);
    const cJSON *s;
    cJSON_ArrayForEach(s, services) {
        char d[24], r[24], p[24];
        snprintf(d, sizeof(d), "%ld", jlong(s, "desiredCount", 0));
        snprintf(r, sizeof(r), "%ld", jlong(s, "runningCount", 0));
        snprintf(p, sizeof(p), "%ld", jlong(s, "pendingCount", 0));
        const char *rollout = jstr(service_primary(s), "rolloutState");
        const char *row[] = {jstr(s, "serviceName") ? jstr(s, "serviceName") : "?",
                             jstr(s, "status") ? jstr(s, "status") : "-",
                             d, r, p, short_arn(jstr(s, "taskDefinition")),
                             rollout ? rollout : "-"};
        table_add(t, row);
        table_color(t, 1, status_color(row[1]));
        table_color(t, 6, status_color(rollout));
    }
    return t;
}

void view_event(const cJSON *e, char *buf, size_t n)
{
    char when[32];
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(e, "createdAt");
    fmt_time(cJSON_IsNumber(at) ? at->valuedouble : 0, when, sizeof(when));
    snprintf(buf, n, "%s  %s", when, jstr(e, "message") ? jstr(e, "message") : "");
}

static int is_scalar(const cJSON *v)
{
    return !cJSON_IsObject(v) && !cJSON_IsArray(v);
}

static int time_key(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    return n > 2 && strcmp(k + n - 2, "At") == 0;
}

static void scalar(const char *key, const cJSON *v, FILE *f)
{
    if (cJSON_IsString(v)) {
        fputs(v->valuestring, f);
    } else if (cJSON_IsNumber(v) && time_key(key)) {
        char t[32];
        fmt_time(v->valuedouble, t, sizeof(t));
        fputs(t, f);
    } else {
        char *s = cJSON_PrintUnformatted(v);
        fputs(s ? s : "?", f);
        cJSON_free(s);
    }
}

static void show(const cJSON *o, int indent, FILE *f);

static void member(const cJSON *v, const char *key, int width, int indent, FILE *f)
{
    if (is_scalar(v)) {
        fprintf(f, "%*s%s:%*s ", indent, "", key, (int)(width - strlen(key)), "");
        scalar(key, v, f);
        fputc('\n', f);
    } else if (cJSON_IsObject(v)) {
        fprintf(f, "%*s%s:\n", indent, "", key);
        show(v, indent + 2, f);
    } else {
        int n = cJSON_GetArraySize(v), all_scalar = 1;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) all_scalar &= is_scalar(e);
        if (all_scalar) {
            fprintf(f, "%*s%s:%*s ", indent, "", key, (int)(width - strlen(key)), "");
            int first = 1;
            cJSON_ArrayForEach(e, v) {
                fputs(first ? "" : ", ", f);
                scalar(key, e, f);
                first = 0;
            }
            fputs(n ? "\n" : "(none)\n", f);
            return;
        }
        int shown = n, i = 0;
        /* A service's events: the newest few, the rest is 'berth events'. */
        if (strcmp(key, "events") == 0 && n > EVENTS_SHOWN)
            shown = EVENTS_SHOWN;
        cJSON_ArrayForEach(e, v) {
            if (i >= shown)
                break;
            fprintf(f, "%*s%s[%d]:\n", indent, "", key, i++);
            if (is_scalar(e)) {
                fprintf(f, "%*s", indent + 2, "");
                scalar(key, e, f);
                fputc('\n', f);
            } else {
                show(e, indent + 2, f);
            }
        }
        if (shown < n)
            fprintf(f, "%*s(%d older %s not shown)\n", indent, "", n - shown, key);
    }
}

/* Scalars first, aligned, then the nested objects and arrays. */
static void show(const cJSON *o, int indent, FILE *f)
{
    const cJSON *v;
    int width = 0;
    if (cJSON_IsArray(o)) {
        member(o, "items", 0, indent, f);
        return;
    }
    cJSON_ArrayForEach(v, o) {
        int all_scalar = is_scalar(v);
        if (cJSON_IsArray(v)) {
            const cJSON *e;
            all_scalar = 1;
            cJSON_ArrayForEach(e, v) all_scalar &= is_scalar(e);
        }
        if (all_scalar && (int)strlen(v->string) > width)
            width = (int)strlen(v->string);
    }
    for (int pass = 0; pass < 2; pass++)
        cJSON_ArrayForEach(v, o) {
            int flat = is_scalar(v);
            if (cJSON_IsArray(v)) {
                const cJSON *e;
                flat = 1;
                cJSON_ArrayForEach(e, v) flat &= is_scalar(e);
            }
            if (flat == (pass == 0))
                member(v, v->string, width, indent, f);
        }
}

void view_object(const cJSON *o, FILE *f)
{
    show(o, 0, f);
}
