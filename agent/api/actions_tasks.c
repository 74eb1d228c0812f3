/* actions_tasks.c: RunTask, StartTask, StopTask, DescribeTasks, ListTasks
 * on the task manager (ctx: struct api_tasks_ctx). */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/json_walk_table.h"
#include "agent/api/actions.h"
#include "agent/log.h"
#include "agent/overrides.h"
#include "agent/resources.h"
#include "agent/services.h"
#include "agent/task.h"
#include "agent/taskdef.h"
#include "agent/tasks.h"


#define CTX(c) ((struct api_tasks_ctx *)api_call_ctx(c))

/* The cluster member of a request (actions_clusters.c): API_CLUSTER_OWN,
 * API_CLUSTER_OTHER (exists, but has no container instance: no task is
 * there), or -1 after failing c with ClusterNotFoundException. */
static int check_cluster(struct api_call *c, const char *cluster)
{
    return api_cluster_check(c, cluster);
}

static cJSON *task_out(const struct task *t, bool tags)
{
    cJSON *j = task_to_json(t, false);
    if (!tags)
        cJSON_DeleteItemFromObjectCaseSensitive(j, "tags");
    return j;
}

/* ---- RunTask, StartTask ---- */

struct run_in {
    char *cluster, *task_definition, *started_by, *group, *client_token;
    int launch_type; /* index in launch_types */
    int64_t count;
    bool has_count;
    struct jw_strv container_instances;
    cJSON *tags; /* taken from the input as is */
    struct overrides ov;
};

static const char *const launch_types[] = {"EC2", "FARGATE", "EXTERNAL", NULL};

static void check_run(struct jw *w, void *obj)
{
    struct run_in *in = obj;

    if (in->started_by && strlen(in->started_by) > 128)
        jw_error_at(w, "startedBy", "at most 128 characters, got %zu",
                    strlen(in->started_by));
    if (in->group && strlen(in->group) > 255)
        jw_error_at(w, "group", "at most 255 characters, got %zu", strlen(in->group));
    if (in->client_token) {
        size_t n = strlen(in->client_token);
        bool printable = n > 0;
        for (const char *p = in->client_token; *p; p++)
            printable = printable && *p >= 33 && *p <= 126;
        if (n < 1 || n > 64 || !printable)
            jw_error_at(w, "clientToken", "1 to 64 ASCII characters from 33 to 126 "
                        "(no spaces), got %zu characters", n);
    }
    if (in->launch_type == 1)
        jw_error_at(w, "launchType", "FARGATE runs only inside AWS; a Berth host runs "
                                     "EC2 (and EXTERNAL) tasks");
}

static const struct jw_field tag_fields[] = {
    {.name = "key", .kind = JW_STRING},
    {.name = "value", .kind = JW_STRING},
    END,
};
static const struct jw_shape tag_shape = {0, tag_fields, NULL};

#define RUN_COMMON(st)                                                              \
    F_("cluster", JW_STRING, st, cluster),                                          \
        F_("taskDefinition", JW_STRING, st, task_definition, .required = true),     \
        F_("startedBy", JW_STRING, st, started_by),                                 \
        F_("group", JW_STRING, st, group),                                          \
        {.name = "tags", .kind = JW_ARRAY, .use = JW_IGNORE, .shape = &tag_shape,   \
         .reason = "kept on the task"},                                             \
        F_("overrides", JW_OBJECT, st, ov, .shape = &overrides_shape),              \
        IGN("enableECSManagedTags", JW_BOOL, "no AWS-managed tags on a Berth host"), \
        IGN("propagateTags", JW_STRING, "not supported yet"),                       \
        IGN("referenceId", JW_STRING, "accepted"),                                  \
        IGN("networkConfiguration", JW_OBJECT,                                      \
            "awsvpc tasks get their own network namespace on the host's bridge"),   \
        IGN("enableExecuteCommand", JW_BOOL, "ECS Exec needs SSM"),                 \
        IGN("volumeConfigurations", JW_ARRAY, "EBS volumes are AWS only")

static const struct jw_field run_fields[] = {
    RUN_COMMON(struct run_in),
    F_("count", JW_INT, struct run_in, count, .has = offsetof(struct run_in, has_count) + 1,
       .ranged = true, .min = 1, .max = 10),
    F_("launchType", JW_ENUM, struct run_in, launch_type, .choices = launch_types),
    IGN("capacityProviderStrategy", JW_ARRAY, "a Berth host is its own capacity"),
    IGN("placementConstraints", JW_ARRAY, "one host: every task is placed on it"),
    IGN("placementStrategy", JW_ARRAY, "one host: every task is placed on it"),
    IGN("platformVersion", JW_STRING, "Fargate only"),
    F_("clientToken", JW_STRING, struct run_in, client_token),
    END,
};

static const struct jw_field start_fields[] = {
    RUN_COMMON(struct run_in),
    F_("containerInstances", JW_STRINGS, struct run_in, container_instances,
       .required = true, .ranged = true, .min = 1, .max = 10),
    END,
};

static struct jw_shape run_shape = {sizeof(struct run_in), run_fields, check_run};
static struct jw_shape start_shape = {sizeof(struct run_in), start_fields, check_run};

static cJSON *failure(const char *arn, const char *reason)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "arn", arn);
    cJSON_AddStringToObject(f, "reason", reason);
    return f;
}

/* Placement on this host: how many of count tasks of the definition json
 * fit what the live tasks leave; each that does not is a failure with
 * ECS's RESOURCE:* reason and the instance's ARN.  -1 after failing c. */
static int place(struct api_call *c, const char *json, int count, cJSON *fails)
{
    struct api_tasks_ctx *x = CTX(c);
    struct taskdef *td = NULL;
    struct json_errors errs = {0};
    struct res need, used;
    const char *why;
    int fit;

    if (count == 0)
        return 0;
    if (taskdef_parse(json, strlen(json), &td, &errs) < 0) {
        json_errors_clear(&errs);
        api_fail(c, "ServerException", "the stored task definition does not parse");
        return -1;
    }
    json_errors_clear(&errs);
    if (res_taskdef(&need, td) < 0 || api_tasks_used(x, &used) < 0)
        abort(); /* out of memory */
    taskdef_free(td);
    if ((fit = res_place(x->host, &used, &need, count, &why)) < 0)
        abort();
    /* Each task that did not fit is refused for the same shortage. */
    for (int i = fit; i < count; i++)
        cJSON_AddItemToArray(fails, failure(api_instance_arn(x), why));
    res_free(&need);
    res_free(&used);
    return fit;
}

/* A RunTask retried with its clientToken: the tasks the first request
 * started, when the parameters are the same (ECS's idempotency: the token
 * belongs to this cluster, which is the agent's only one).  Returns true
 * when it answered. */
static bool answer_retry(struct api_call *c, const char *token, const char *request)
{
    struct task **all, *mine[10];
    size_t n = tasks_all(CTX(c)->tasks, &all), k = 0;

    for (size_t i = 0; i < n && k < 10; i++)
        if (all[i]->client_token && strcmp(all[i]->client_token, token) == 0)
            mine[k++] = all[i];
    if (!k)
        return false;
    if (strcmp(mine[0]->client_request ? mine[0]->client_request : "", request) != 0) {
        api_fail(c, "ConflictException",
                 "clientToken %s was already used by a RunTask request with other "
                 "parameters (task %s); use a new token for a new request", token,
                 mine[0]->arn);
        return true;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "tasks");
    for (size_t i = 0; i < k; i++)
        cJSON_AddItemToArray(a, task_out(mine[i], true));
    cJSON_AddItemToObject(o, "failures", cJSON_CreateArray());
    log_info("api.task.run.retry", "client_token=%s tasks=%zu request_id=%s", token, k,
             api_call_request_id(c));
    api_reply(c, o);
    return true;
}

/* Merges the request's overrides (ovj, parsed into ov) into the definition
 * text td_json; logs the members it ignores.  -1 after failing c with every
 * error the merge found, each at its overrides.* path. */
static int apply_overrides(struct api_call *c, const cJSON *ovj, const struct overrides *ov,
                           const char *td_json, char **merged, cJSON **shown)
{
    struct overrides again = {0};
    struct json_errors errs = {0};
    char q[512];

    /* The request's walk kept no ignored members: walk the part again. */
    overrides_parse(ovj, &again, &errs);
    overrides_free(&again);
    for (size_t i = 0; i < errs.n_ignored; i++)
        log_info("api.task.ignored", "action=%s request_id=%s field=%s",
                 api_call_action(c), api_call_request_id(c),
                 log_quote(q, sizeof q, errs.ignored[i]));
    json_errors_clear(&errs);
    if (overrides_apply(ov, td_json, merged, shown, &errs) == 0)
        return 0;
    char *msg = json_errors_message(&errs);
    api_fail(c, "InvalidParameterException", "%s", msg ? msg : "overrides: out of memory");
    free(msg);
    json_errors_clear(&errs);
    return -1;
}

static void run_common(struct api_call *c, const cJSON *input, bool start)
{
    struct api_tasks_ctx *x = CTX(c);
    struct run_in in = {0};
    const struct jw_shape *shape = start ? &start_shape : &run_shape;
    struct store_taskdef rec = {0};
    struct task *out[10];
    char err[1024];
    enum store_rc rc;
    char *request = NULL; /* the input without its clientToken */
    char *run_json = NULL;  /* the definition with the overrides applied */
    const char *json;       /* what the tasks run */
    const cJSON *ovj;
    cJSON *shown = NULL;    /* Task.overrides */
    int count, kind;
    cJSON *fails;

    if (api_parse_input(c, input, shape, &in) < 0)
        return;
    fails = cJSON_CreateArray();
    if ((kind = check_cluster(c, in.cluster)) < 0)
        goto done;
    if (kind == API_CLUSTER_OTHER && !start) {
        api_fail(c, "InvalidParameterException",
                 "No Container Instances were found in your cluster.");
        goto done;
    }
    if (in.client_token) {
        cJSON *rest = cJSON_Duplicate(input, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(rest, "clientToken");
        request = rest ? cJSON_PrintUnformatted(rest) : NULL;
        cJSON_Delete(rest);
        if (!request) {
            api_fail(c, "ServerException", "out of memory");
            goto done;
        }
        if (answer_retry(c, in.client_token, request))
            goto done;
    }
    rc = store_td_describe(x->store, in.task_definition, &rec, err, sizeof err);
    if (rc != STORE_OK) {
        if (rc == STORE_NOT_FOUND)
            api_fail(c, "ClientException", "Unable to describe task definition: %s",
                     err);
        else
            api_fail_store(c, rc, err);
        goto done;
    }
    if (rec.status != STORE_ACTIVE) {
        api_fail(c, "ClientException",
                 "TaskDefinition is inactive: %s was deregistered; register a new "
                 "revision to run it", rec.arn);
        goto done;
    }
    if ((ovj = cJSON_GetObjectItemCaseSensitive(input, "overrides")) &&
        apply_overrides(c, ovj, &in.ov, rec.json, &run_json, &shown) < 0)
        goto done;
    json = run_json ? run_json : rec.json;
    count = in.has_count ? (int)in.count : 1;
    if (start) {
        /* Each entry names where one task goes: only this host can be. */
        count = 0;
        for (size_t i = 0; i < in.container_instances.n; i++) {
            if (kind == API_CLUSTER_OWN && api_is_instance(x, in.container_instances.v[i]))
                count++;
            else
                cJSON_AddItemToArray(fails, failure(in.container_instances.v[i], "MISSING"));
        }
    }
    if ((count = place(c, json, count, fails)) < 0)
        goto done;
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "tasks");
    if (count == 0) {
        cJSON_AddItemToObject(o, "failures", fails);
        fails = NULL;
        api_reply(c, o);
        goto done;
    }
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(input, "tags");
    if (tasks_run(x->tasks, rec.arn, rec.revision, json, in.started_by, in.group,
                  cJSON_IsArray(tags) ? tags : NULL, count, in.client_token, request,
                  shown, out, err, sizeof err) < 0) {
        cJSON_Delete(o);
        api_fail(c, "ServerException", "%s", err);
        goto done;
    }
    for (int i = 0; i < count; i++) {
        cJSON_AddItemToArray(a, task_out(out[i], true));
        log_info("api.task.run", "task=%s family=%s request_id=%s", out[i]->id,
                 out[i]->family, api_call_request_id(c));
    }
    cJSON_AddItemToObject(o, "failures", fails);
    fails = NULL;
    api_reply(c, o);
done:
    cJSON_Delete(fails);
    cJSON_Delete(shown);
    free(run_json);
    free(request);
    store_taskdef_free(&rec);
    jw_free_shape(shape, &in);
}

static void run_task(struct api_call *c, const cJSON *input)
{
    run_common(c, input, false);
}

static void start_task(struct api_call *c, const cJSON *input)
{
    run_common(c, input, true);
}

/* ---- StopTask ---- */

struct stop_in {
    char *cluster, *task, *reason;
};

static const struct jw_field stop_fields[] = {
    F_("cluster", JW_STRING, struct stop_in, cluster),
    F_("task", JW_STRING, struct stop_in, task, .required = true),
    F_("reason", JW_STRING, struct stop_in, reason),
    END,
};
static const struct jw_shape stop_shape = {sizeof(struct stop_in), stop_fields, NULL};

static void stop_task(struct api_call *c, const cJSON *input)
{
    struct stop_in in = {0};
    struct task *t;

    if (api_parse_input(c, input, &stop_shape, &in) < 0)
        return;
    int kind = check_cluster(c, in.cluster);
    if (kind >= 0) {
        /* Another cluster has no tasks: none can be found there. */
        /* A service's task is drained first, as ECS deregisters it from
         * its target groups before stopping it. */
        if (kind != API_CLUSTER_OWN)
            t = NULL;
        else if (CTX(c)->services)
            t = services_stop_task(CTX(c)->services, in.task, in.reason);
        else
            t = tasks_stop(CTX(c)->tasks, in.task, STOP_USER, in.reason);
        if (!t) {
            api_fail(c, "InvalidParameterException",
                     "The referenced task was not found: %s", in.task);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "task", task_out(t, true));
            log_info("api.task.stop", "task=%s request_id=%s", t->id,
                     api_call_request_id(c));
            api_reply(c, o);
        }
    }
    jw_free_shape(&stop_shape, &in);
}

/* ---- DescribeTasks ---- */

struct describe_in {
    char *cluster;
    struct jw_strv tasks, include;
};

static void check_describe(struct jw *w, void *obj)
{
    api_check_include(w, &((struct describe_in *)obj)->include);
}

static const struct jw_field describe_fields[] = {
    F_("cluster", JW_STRING, struct describe_in, cluster),
    F_("tasks", JW_STRINGS, struct describe_in, tasks, .required = true, .ranged = true,
       .min = 1, .max = 100),
    F_("include", JW_STRINGS, struct describe_in, include),
    END,
};
static const struct jw_shape describe_shape = {sizeof(struct describe_in),
                                               describe_fields, check_describe};

static void describe_tasks(struct api_call *c, const cJSON *input)
{
    struct describe_in in = {0};

    if (api_parse_input(c, input, &describe_shape, &in) < 0)
        return;
    int kind = check_cluster(c, in.cluster);
    if (kind >= 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON *ts = cJSON_AddArrayToObject(o, "tasks");
        cJSON *fs = cJSON_AddArrayToObject(o, "failures");
        bool tags = in.include.n > 0;
        for (size_t i = 0; i < in.tasks.n; i++) {
            struct task *t = kind == API_CLUSTER_OWN
                                 ? tasks_find(CTX(c)->tasks, in.tasks.v[i])
                                 : NULL;
            if (t) {
                cJSON_AddItemToArray(ts, task_out(t, tags));
            } else {
                cJSON *f = cJSON_CreateObject();
                cJSON_AddStringToObject(f, "arn", in.tasks.v[i]);
                cJSON_AddStringToObject(f, "reason", "MISSING");
                cJSON_AddItemToArray(fs, f);
            }
        }
        api_reply(c, o);
    }
    jw_free_shape(&describe_shape, &in);
}

/* ---- ListTasks ---- */

struct list_in {
    char *cluster, *container_instance, *family, *started_by, *service_name;
    char *next_token;
    int desired_status;
    bool has_desired_status;
    int launch_type;
    int64_t max_results;
    bool has_max_results;
};

static const char *const desired_statuses[] = {"RUNNING", "PENDING", "STOPPED", NULL};

static const struct jw_field list_fields[] = {
    F_("cluster", JW_STRING, struct list_in, cluster),
    F_("containerInstance", JW_STRING, struct list_in, container_instance),
    F_("family", JW_STRING, struct list_in, family),
    F_("startedBy", JW_STRING, struct list_in, started_by),
    F_("serviceName", JW_STRING, struct list_in, service_name),
    F_("nextToken", JW_STRING, struct list_in, next_token),
    F_("desiredStatus", JW_ENUM, struct list_in, desired_status,
       .has = offsetof(struct list_in, has_desired_status) + 1,
       .choices = desired_statuses),
    F_("launchType", JW_ENUM, struct list_in, launch_type, .choices = launch_types),
    F_("maxResults", JW_INT, struct list_in, max_results,
       .has = offsetof(struct list_in, has_max_results) + 1, .ranged = true, .min = 1,
       .max = 100),
    END,
};
static const struct jw_shape list_shape = {sizeof(struct list_in), list_fields, NULL};

static bool list_match(const struct task *t, const struct list_in *in)
{
    char group[300];

    /* ECS: RUNNING is the default filter; PENDING lists tasks that are
     * to run but do not yet. */
    int want = in->has_desired_status ? in->desired_status : 0;
    if (want == 2 ? t->desired_status != TASK_STOPPED
                  : t->desired_status != TASK_RUNNING)
        return false;
    if (want == 1 && t->last_status >= TASK_RUNNING)
        return false;
    if (in->family && strcmp(t->family, in->family) != 0)
        return false;
    if (in->started_by && strcmp(t->started_by, in->started_by) != 0)
        return false;
    if (in->service_name) {
        snprintf(group, sizeof group, "service:%s", in->service_name);
        if (strcmp(t->group, group) != 0)
            return false;
    }
    return true;
}

static void list_tasks(struct api_call *c, const cJSON *input)
{
    struct list_in in = {0};
    struct task **all;
    size_t n, i = 0, max;

    if (api_parse_input(c, input, &list_shape, &in) < 0)
        return;
    int kind = check_cluster(c, in.cluster);
    if (kind < 0)
        goto done;
    if (in.family && in.service_name) {
        api_fail(c, "InvalidParameterException",
                 "family and serviceName cannot be used together");
        goto done;
    }
    n = tasks_all(CTX(c)->tasks, &all);
    /* Another cluster, or another instance, has no tasks here. */
    if (kind != API_CLUSTER_OWN ||
        (in.container_instance && !api_is_instance(CTX(c), in.container_instance)))
        n = 0;
    /* The token is the ID of the last task of the previous page. */
    if (in.next_token && *in.next_token) {
        for (i = 0; i < n && strcmp(all[i]->id, in.next_token) != 0; i++)
            ;
        if (i == n) {
            api_fail(c, "InvalidParameterException",
                     "nextToken is not valid (its task was forgotten): list again "
                     "from the start");
            goto done;
        }
        i++;
    }
    max = in.has_max_results ? (size_t)in.max_results : 100;
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "taskArns");
    size_t got = 0;
    const char *last = NULL;
    for (; i < n; i++) {
        if (!list_match(all[i], &in))
            continue;
        if (got == max) {
            cJSON_AddStringToObject(o, "nextToken", last);
            break;
        }
        cJSON_AddItemToArray(a, cJSON_CreateString(all[i]->arn));
        last = all[i]->id;
        got++;
    }
    api_reply(c, o);
done:
    jw_free_shape(&list_shape, &in);
}

int api_check_cluster(struct api_call *c, const char *cluster)
{
    int kind = check_cluster(c, cluster);

    if (kind == API_CLUSTER_OTHER) {
        api_fail(c, "InvalidParameterException",
                 "No Container Instances were found in cluster %s: services run in "
                 "this host's cluster %s", cluster, CTX(c)->cluster);
        return -1;
    }
    return kind;
}

const struct api_action api_task_actions[] = {
    {"RunTask", run_task},
    {"StartTask", start_task},
    {"StopTask", stop_task},
    {"DescribeTasks", describe_tasks},
    {"ListTasks", list_tasks},
    {NULL, NULL},
};
