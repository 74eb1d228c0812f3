/* actions_clusters.c: CreateCluster, DescribeClusters, ListClusters,
 * DeleteCluster, ListContainerInstances and DescribeContainerInstances
 * (ctx: struct api_tasks_ctx), and the cluster checks the task actions use.
 *
 * One berthd is one host, registered as one container instance in the
 * agent's own cluster ([agent] cluster).  Other clusters are records only:
 * they have no container instance, so nothing can be placed there. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent/json_walk_table.h"
#include "agent/ecs_tag.h"
#include "agent/api/actions.h"
#include "agent/log.h"
#include "agent/resources.h"
#include "agent/runtime.h"
#include "agent/store_clusters.h"
#include "agent/task.h"
#include "agent/tasks.h"


#define CTX(c) ((struct api_tasks_ctx *)api_call_ctx(c))

#define NOT_FOUND "Cluster not found."

/* ---- shared with the task actions ---- */

const char *api_instance_arn(const struct api_tasks_ctx *x)
{
    static char arn[700];
    snprintf(arn, sizeof arn, "arn:aws:ecs:%s:%s:container-instance/%s/%s", x->region,
             x->account_id, x->cluster, x->instance_id);
    return arn;
}

bool api_is_instance(const struct api_tasks_ctx *x, const char *ref)
{
    return strcmp(ref, x->instance_id) == 0 || strcmp(ref, api_instance_arn(x)) == 0;
}

/* Whether ref names the agent's own cluster (name or ARN). */
static bool is_own(const struct api_tasks_ctx *x, const char *ref)
{
    char arn[600];
    if (!ref || !*ref || strcmp(ref, x->cluster) == 0)
        return true;
    snprintf(arn, sizeof arn, "arn:aws:ecs:%s:%s:cluster/%s", x->region, x->account_id,
             x->cluster);
    return strcmp(ref, arn) == 0;
}

int api_cluster_check(struct api_call *c, const char *cluster)
{
    struct api_tasks_ctx *x = CTX(c);
    struct store_cluster rec = {0};
    char err[512];

    if (is_own(x, cluster))
        return API_CLUSTER_OWN;
    enum store_rc rc = store_cluster_get(x->store, cluster, &rec, err, sizeof err);
    bool active = rc == STORE_OK && rec.status == STORE_ACTIVE;
    store_cluster_free(&rec);
    if (active)
        return API_CLUSTER_OTHER;
    if (rc == STORE_IO)
        api_fail_store(c, rc, err);
    else
        api_fail(c, "ClusterNotFoundException", NOT_FOUND);
    return -1;
}

static bool live(const struct task *t)
{
    return t->last_status != TASK_STOPPED;
}

int api_tasks_used(const struct api_tasks_ctx *x, struct res *used)
{
    struct task **all;
    size_t n = tasks_all(x->tasks, &all);
    return res_used(used, all, n);
}

/* Running and pending tasks of this host (pending: to run, not yet RUNNING). */
static void task_counts(const struct api_tasks_ctx *x, int *running, int *pending)
{
    struct task **all;
    size_t n = tasks_all(x->tasks, &all);
    *running = *pending = 0;
    for (size_t i = 0; i < n; i++) {
        if (all[i]->last_status == TASK_RUNNING)
            (*running)++;
        else if (all[i]->last_status < TASK_RUNNING &&
                 all[i]->desired_status == TASK_RUNNING)
            (*pending)++;
    }
}

static unsigned services_of(const struct api_tasks_ctx *x, const char *cluster_arn)
{
    return x->active_services ? x->active_services(x->services_arg, cluster_arn) : 0;
}

/* ---- the Cluster object ---- */

enum {
    INC_ATTACHMENTS = 1,
    INC_CONFIGURATIONS = 2,
    INC_SETTINGS = 4,
    INC_STATISTICS = 8,
    INC_TAGS = 16,
    INC_ALL = 31
};

static cJSON *stat_json(const char *name, int v)
{
    char buf[24];
    cJSON *o = cJSON_CreateObject();
    snprintf(buf, sizeof buf, "%d", v);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "value", buf);
    return o;
}

/* NULL after failing c (the store failed). */
static cJSON *cluster_json(struct api_call *c, const struct store_cluster *rec, int inc)
{
    struct api_tasks_ctx *x = CTX(c);
    int running = 0, pending = 0;
    bool own = strcmp(rec->name, x->cluster) == 0 && rec->status == STORE_ACTIVE;
    unsigned services = services_of(x, rec->arn);
    cJSON *o = cJSON_CreateObject();
    cJSON *kept = cJSON_Parse(rec->json);

    if (own)
        task_counts(x, &running, &pending);
    cJSON_AddStringToObject(o, "clusterArn", rec->arn);
    cJSON_AddStringToObject(o, "clusterName", rec->name);
    cJSON_AddStringToObject(o, "status", store_status_name(rec->status));
    cJSON_AddNumberToObject(o, "registeredContainerInstancesCount", own ? 1 : 0);
    cJSON_AddNumberToObject(o, "runningTasksCount", running);
    cJSON_AddNumberToObject(o, "pendingTasksCount", pending);
    cJSON_AddNumberToObject(o, "activeServicesCount", services);
    if (inc & INC_STATISTICS) {
        cJSON *s = cJSON_AddArrayToObject(o, "statistics");
        cJSON_AddItemToArray(s, stat_json("runningEC2TasksCount", running));
        cJSON_AddItemToArray(s, stat_json("runningFargateTasksCount", 0));
        cJSON_AddItemToArray(s, stat_json("pendingEC2TasksCount", pending));
        cJSON_AddItemToArray(s, stat_json("pendingFargateTasksCount", 0));
        cJSON_AddItemToArray(s, stat_json("activeEC2ServiceCount", (int)services));
        cJSON_AddItemToArray(s, stat_json("activeFargateServiceCount", 0));
        cJSON_AddItemToArray(s, stat_json("drainingEC2ServiceCount", 0));
        cJSON_AddItemToArray(s, stat_json("drainingFargateServiceCount", 0));
    }
    if (inc & INC_TAGS) {
        struct store_tags tags = {0};
        char err[512];
        enum store_rc rc = store_rtags_get(x->store, rec->arn, &tags, err, sizeof err);
        if (rc != STORE_OK) {
            cJSON_Delete(o);
            cJSON_Delete(kept);
            api_fail_store(c, rc, err);
            return NULL;
        }
        cJSON_AddItemToObject(o, "tags", api_tags_json(&tags));
        store_tags_free(&tags);
    }
    if (inc & INC_SETTINGS) {
        cJSON *s = cJSON_DetachItemFromObjectCaseSensitive(kept, "settings");
        if (!s) {
            /* ECS shows the default when none was set. */
            s = cJSON_CreateArray();
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "name", "containerInsights");
            cJSON_AddStringToObject(d, "value", "disabled");
            cJSON_AddItemToArray(s, d);
        }
        cJSON_AddItemToObject(o, "settings", s);
    }
    if (inc & INC_CONFIGURATIONS) {
        cJSON *cf = cJSON_DetachItemFromObjectCaseSensitive(kept, "configuration");
        if (cf)
            cJSON_AddItemToObject(o, "configuration", cf);
    }
    cJSON *scd = cJSON_DetachItemFromObjectCaseSensitive(kept, "serviceConnectDefaults");
    if (scd)
        cJSON_AddItemToObject(o, "serviceConnectDefaults", scd);
    cJSON_AddItemToObject(o, "capacityProviders", cJSON_CreateArray());
    cJSON_AddItemToObject(o, "defaultCapacityProviderStrategy", cJSON_CreateArray());
    if (inc & INC_ATTACHMENTS)
        cJSON_AddItemToObject(o, "attachments", cJSON_CreateArray());
    cJSON_Delete(kept);
    return o;
}

/* ---- CreateCluster ---- */

static const char *const setting_names[] = {"containerInsights", NULL};
static const char *const insights_values[] = {"enabled", "disabled", "enhanced", NULL};
struct setting_in {
    int name, value;
};
static const struct jw_field setting_fields[] = {
    F_("name", JW_ENUM, struct setting_in, name, .required = true, .choices = setting_names),
    F_("value", JW_ENUM, struct setting_in, value, .required = true,
       .choices = insights_values),
    END,
};
static const struct jw_shape setting_shape = {sizeof(struct setting_in), setting_fields,
                                              NULL};

/* configuration: checked for its types, then kept and echoed as given. */
static const char *const logging_values[] = {"NONE", "DEFAULT", "OVERRIDE", NULL};
struct exec_in {
    char *kms_key_id, *group, *bucket, *prefix;
    int logging;
    bool cw_enc, s3_enc;
};
static const struct jw_field exec_log_fields[] = {
    F_("cloudWatchLogGroupName", JW_STRING, struct exec_in, group),
    F_("cloudWatchEncryptionEnabled", JW_BOOL, struct exec_in, cw_enc),
    F_("s3BucketName", JW_STRING, struct exec_in, bucket),
    F_("s3EncryptionEnabled", JW_BOOL, struct exec_in, s3_enc),
    F_("s3KeyPrefix", JW_STRING, struct exec_in, prefix),
    END,
};
static const struct jw_shape exec_log_shape = {0, exec_log_fields, NULL};
static const struct jw_field exec_fields[] = {
    F_("kmsKeyId", JW_STRING, struct exec_in, kms_key_id),
    F_("logging", JW_ENUM, struct exec_in, logging, .choices = logging_values),
    {.name = "logConfiguration", .kind = JW_OBJECT, .shape = &exec_log_shape, .offset = 0},
    END,
};
static const struct jw_shape exec_shape = {0, exec_fields, NULL};
static const struct jw_field config_fields[] = {
    {.name = "executeCommandConfiguration", .kind = JW_OBJECT, .shape = &exec_shape,
     .offset = 0},
    END,
};
static const struct jw_shape config_shape = {sizeof(struct exec_in), config_fields, NULL};

struct scd_in {
    char *ns;
};
static const struct jw_field scd_fields[] = {
    F_("namespace", JW_STRING, struct scd_in, ns, .required = true),
    END,
};
static const struct jw_shape scd_shape = {sizeof(struct scd_in), scd_fields, NULL};

struct create_in {
    char *name;
    struct ecs_tag_in *tags;
    size_t n_tags;
    struct setting_in *settings;
    size_t n_settings;
    struct exec_in config;
    struct scd_in scd;
    struct jw_strv capacity_providers;
};

static void check_create(struct jw *w, void *obj)
{
    struct create_in *in = obj;
    if (in->capacity_providers.n)
        jw_error_at(w, "capacityProviders",
                    "not supported by Berth: capacity providers are Auto Scaling "
                    "groups and Fargate; a Berth host is its own capacity");
}

static const struct jw_field create_fields[] = {
    F_("clusterName", JW_STRING, struct create_in, name),
    {.name = "tags", .kind = JW_ARRAY, .offset = offsetof(struct create_in, tags),
     .count_offset = offsetof(struct create_in, n_tags), .shape = &ecs_tag_shape,
     .ranged = true, .min = 0, .max = 50},
    {.name = "settings", .kind = JW_ARRAY, .offset = offsetof(struct create_in, settings),
     .count_offset = offsetof(struct create_in, n_settings), .shape = &setting_shape},
    {.name = "configuration", .kind = JW_OBJECT, .shape = &config_shape,
     .offset = offsetof(struct create_in, config)},
    {.name = "serviceConnectDefaults", .kind = JW_OBJECT, .shape = &scd_shape,
     .offset = offsetof(struct create_in, scd)},
    F_("capacityProviders", JW_STRINGS, struct create_in, capacity_providers),
    UNSUP("defaultCapacityProviderStrategy", JW_ARRAY,
          "capacity providers are Auto Scaling groups and Fargate; a Berth host is "
          "its own capacity"),
    END,
};
static const struct jw_shape create_shape = {sizeof(struct create_in), create_fields,
                                             check_create};

static void create_cluster(struct api_call *c, const cJSON *input)
{
    struct api_tasks_ctx *x = CTX(c);
    struct create_in in = {0};
    struct store_cluster rec = {0};
    struct store_tag *tags = NULL;
    char err[1024];
    int created = 0;

    if (api_parse_input(c, input, &create_shape, &in) < 0)
        return;
    /* The members ECS echoes are kept as given (types checked above). */
    cJSON *kept = cJSON_CreateObject();
    static const char *const keep[] = {"settings", "configuration",
                                       "serviceConnectDefaults"};
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(input, keep[i]);
        if (m)
            cJSON_AddItemToObject(kept, keep[i], cJSON_Duplicate(m, true));
    }
    char *json = cJSON_PrintUnformatted(kept);
    cJSON_Delete(kept);
    tags = calloc(in.n_tags + 1, sizeof *tags);
    if (!tags || !json)
        abort();
    for (size_t i = 0; i < in.n_tags; i++) {
        tags[i].key = in.tags[i].key;
        tags[i].value = in.tags[i].value ? in.tags[i].value : (char *)"";
    }
    const char *name = in.name && *in.name ? in.name : "default";
    enum store_rc rc = store_cluster_create(x->store, name, json, tags, in.n_tags, &rec,
                                            &created, err, sizeof err);
    free(json);
    free(tags);
    if (rc != STORE_OK) {
        api_fail_store(c, rc, err);
    } else {
        cJSON *cj = cluster_json(c, &rec, INC_ALL & ~INC_ATTACHMENTS);
        if (cj) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "cluster", cj);
            log_info("api.cluster.created", "cluster=%s new=%d request_id=%s", rec.name,
                     created, api_call_request_id(c));
            api_reply(c, o);
        }
    }
    store_cluster_free(&rec);
    jw_free_shape(&create_shape, &in);
}

/* ---- DescribeClusters ---- */

static const char *const cluster_fields_enum[] = {"ATTACHMENTS", "CONFIGURATIONS",
                                                  "SETTINGS", "STATISTICS", "TAGS", NULL};

/* The include member as INC_* bits, or an error at include[i]. */
static void check_include_set(struct jw *w, const struct jw_strv *inc,
                              const char *const *names, const char *expected)
{
    for (size_t i = 0; i < inc->n; i++) {
        size_t k = 0;
        while (names[k] && strcmp(names[k], inc->v[i]) != 0)
            k++;
        if (!names[k]) {
            size_t back = jw_push_key(w, "include");
            size_t back2 = jw_push_index(w, i);
            jw_error_at(w, NULL, "expected %s, got \"%s\"", expected, inc->v[i]);
            jw_pop(w, back2);
            jw_pop(w, back);
        }
    }
}

static int include_bits(const struct jw_strv *inc, const char *const *names)
{
    int bits = 0;
    for (size_t i = 0; i < inc->n; i++)
        for (int k = 0; names[k]; k++)
            if (strcmp(names[k], inc->v[i]) == 0)
                bits |= 1 << k;
    return bits;
}

struct describe_in {
    char *cluster;
    struct jw_strv refs, include;
};

static void check_describe_clusters(struct jw *w, void *obj)
{
    check_include_set(w, &((struct describe_in *)obj)->include, cluster_fields_enum,
                      "ATTACHMENTS, CONFIGURATIONS, SETTINGS, STATISTICS or TAGS");
}

static const struct jw_field describe_clusters_fields[] = {
    F_("clusters", JW_STRINGS, struct describe_in, refs, .ranged = true, .min = 0,
       .max = 100),
    F_("include", JW_STRINGS, struct describe_in, include),
    END,
};
static const struct jw_shape describe_clusters_shape = {
    sizeof(struct describe_in), describe_clusters_fields, check_describe_clusters};

static cJSON *failure(const char *arn, const char *reason, const char *detail)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "arn", arn);
    cJSON_AddStringToObject(f, "reason", reason);
    if (detail)
        cJSON_AddStringToObject(f, "detail", detail);
    return f;
}

static void describe_clusters(struct api_call *c, const cJSON *input)
{
    struct api_tasks_ctx *x = CTX(c);
    struct describe_in in = {0};
    char err[512];

    if (api_parse_input(c, input, &describe_clusters_shape, &in) < 0)
        return;
    int inc = include_bits(&in.include, cluster_fields_enum);
    cJSON *o = cJSON_CreateObject();
    cJSON *cs = cJSON_AddArrayToObject(o, "clusters");
    cJSON *fs = cJSON_AddArrayToObject(o, "failures");
    /* ECS describes the default cluster when none is named; here that is
     * the agent's own. */
    size_t n = in.refs.n ? in.refs.n : 1;
    for (size_t i = 0; i < n; i++) {
        const char *ref = in.refs.n ? in.refs.v[i] : x->cluster;
        struct store_cluster rec = {0};
        enum store_rc rc = store_cluster_get(x->store, ref, &rec, err, sizeof err);
        if (rc == STORE_OK) {
            cJSON *cj = cluster_json(c, &rec, inc);
            store_cluster_free(&rec);
            if (!cj) {
                cJSON_Delete(o);
                goto done;
            }
            cJSON_AddItemToArray(cs, cj);
        } else if (rc == STORE_IO) {
            cJSON_Delete(o);
            api_fail_store(c, rc, err);
            goto done;
        } else {
            char arn[600];
            if (strncmp(ref, "arn:", 4) == 0)
                snprintf(arn, sizeof arn, "%s", ref);
            else
                snprintf(arn, sizeof arn, "arn:aws:ecs:%s:%s:cluster/%s", x->region,
                         x->account_id, ref);
            cJSON_AddItemToArray(fs, failure(arn, "MISSING", NULL));
        }
    }
    api_reply(c, o);
done:
    jw_free_shape(&describe_clusters_shape, &in);
}

/* ---- ListClusters ---- */

struct list_in {
    char *cluster, *filter, *next_token;
    int64_t max_results;
    int status;
    bool has_status;
};

static const struct jw_field list_clusters_fields[] = {
    F_("nextToken", JW_STRING, struct list_in, next_token),
    F_("maxResults", JW_INT, struct list_in, max_results, .ranged = true, .min = 1,
       .max = 100),
    END,
};
static const struct jw_shape list_clusters_shape = {sizeof(struct list_in),
                                                    list_clusters_fields, NULL};

static void list_clusters(struct api_call *c, const cJSON *input)
{
    struct list_in in = {0};
    struct store_list l = {0};
    char err[512];

    if (api_parse_input(c, input, &list_clusters_shape, &in) < 0)
        return;
    enum store_rc rc = store_cluster_list(CTX(c)->store, (int)in.max_results,
                                          in.next_token, &l, err, sizeof err);
    jw_free_shape(&list_clusters_shape, &in);
    if (rc != STORE_OK) {
        api_fail_store(c, rc, err);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "clusterArns");
    for (size_t i = 0; i < l.n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(l.items[i]));
    if (l.next_token)
        cJSON_AddStringToObject(o, "nextToken", l.next_token);
    store_list_free(&l);
    api_reply(c, o);
}

/* ---- DeleteCluster ---- */

struct delete_in {
    char *cluster;
};
static const struct jw_field delete_fields[] = {
    F_("cluster", JW_STRING, struct delete_in, cluster, .required = true),
    END,
};
static const struct jw_shape delete_shape = {sizeof(struct delete_in), delete_fields,
                                             NULL};

static void delete_cluster(struct api_call *c, const cJSON *input)
{
    struct api_tasks_ctx *x = CTX(c);
    struct delete_in in = {0};
    struct store_cluster rec = {0};
    char err[512];
    enum store_rc rc;

    if (api_parse_input(c, input, &delete_shape, &in) < 0)
        return;
    rc = store_cluster_get(x->store, in.cluster, &rec, err, sizeof err);
    if (rc == STORE_NOT_FOUND || (rc == STORE_INVALID && strncmp(in.cluster, "arn:", 4))) {
        api_fail(c, "ClusterNotFoundException", NOT_FOUND);
        goto done;
    }
    if (rc != STORE_OK) {
        api_fail_store(c, rc, err);
        goto done;
    }
    if (rec.status == STORE_ACTIVE) {
        /* Checked as ECS does: instances, then services, then tasks. */
        if (strcmp(rec.name, x->cluster) == 0) {
            api_fail(c, "ClusterContainsContainerInstancesException",
                     "The Cluster cannot be deleted while Container Instances are "
                     "active or draining.");
            goto done;
        }
        if (services_of(x, rec.arn) > 0) {
            api_fail(c, "ClusterContainsServicesException",
                     "The Cluster cannot be deleted while Services are active.");
            goto done;
        }
        struct task **all;
        size_t n = tasks_all(x->tasks, &all);
        for (size_t i = 0; i < n; i++)
            if (live(all[i]) && strcmp(all[i]->cluster_arn, rec.arn) == 0) {
                api_fail(c, "ClusterContainsTasksException",
                         "The Cluster cannot be deleted while Tasks are active.");
                goto done;
            }
        store_cluster_free(&rec);
        rc = store_cluster_delete(x->store, in.cluster, &rec, err, sizeof err);
        if (rc != STORE_OK) {
            api_fail_store(c, rc, err);
            goto done;
        }
        log_info("api.cluster.deleted", "cluster=%s request_id=%s", rec.name,
                 api_call_request_id(c));
    }
    cJSON *cj = cluster_json(c, &rec, INC_ALL & ~INC_ATTACHMENTS);
    if (cj) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "cluster", cj);
        api_reply(c, o);
    }
done:
    store_cluster_free(&rec);
    jw_free_shape(&delete_shape, &in);
}

/* ---- ListContainerInstances ---- */

static cJSON *attributes_json(const char *engine);

/* A cluster-query-language filter on this host's attributes: 1 match, 0
 * no match, -1 when it is not one of the forms Berth knows. */
static int filter_match(const char *filter, const char *engine)
{
    char name[129], op[8], value[257], extra;
    int n = sscanf(filter, " attribute:%128[^ =!] %2[=!] %256s %c", name, op, value,
                   &extra);

    if (n == 2 || n == 4 || (n == 3 && strcmp(op, "==") != 0 && strcmp(op, "!=") != 0))
        return -1;
    if (n < 3) {
        /* attribute:NAME [exists] */
        n = sscanf(filter, " attribute:%128[^ =!] %7s %c", name, op, &extra);
        if (n < 1 || n == 3 || (n == 2 && strcmp(op, "exists") != 0))
            return -1;
        n = 1;
    }
    cJSON *attrs = attributes_json(engine), *at;
    int found = 0, equal = 0;
    cJSON_ArrayForEach(at, attrs)
    {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(at, "name");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(at, "value");
        if (cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0) {
            found = 1;
            equal = n == 3 && cJSON_IsString(v) && strcmp(v->valuestring, value) == 0;
        }
    }
    cJSON_Delete(attrs);
    if (n < 3)
        return found;
    return op[0] == '=' ? equal : !equal;
}

static const char *const ci_statuses[] = {"ACTIVE", "DRAINING", "REGISTERING",
                                          "DEREGISTERING", "REGISTRATION_FAILED", NULL};

static const struct jw_field list_ci_fields[] = {
    F_("cluster", JW_STRING, struct list_in, cluster),
    F_("filter", JW_STRING, struct list_in, filter),
    F_("nextToken", JW_STRING, struct list_in, next_token),
    F_("maxResults", JW_INT, struct list_in, max_results, .ranged = true, .min = 1,
       .max = 100),
    F_("status", JW_ENUM, struct list_in, status, .choices = ci_statuses,
       .has = offsetof(struct list_in, has_status) + 1),
    END,
};
static const struct jw_shape list_ci_shape = {sizeof(struct list_in), list_ci_fields,
                                              NULL};

static void list_container_instances(struct api_call *c, const cJSON *input)
{
    struct api_tasks_ctx *x = CTX(c);
    struct list_in in = {0};
    int kind;

    if (api_parse_input(c, input, &list_ci_shape, &in) < 0)
        return;
    if ((kind = api_cluster_check(c, in.cluster)) < 0)
        goto done;
    int match = 1;
    if (in.filter && *in.filter &&
        (match = filter_match(in.filter,
                              runtime_engine_version(tasks_runtime(x->tasks)))) < 0) {
        api_fail(c, "InvalidParameterException",
                 "filter: \"%.200s\": of the cluster query language Berth knows only "
                 "one expression on an attribute: attribute:NAME, attribute:NAME "
                 "exists, attribute:NAME == VALUE, attribute:NAME != VALUE",
                 in.filter);
        goto done;
    }
    /* One instance, so one page; a token can only be one we never give. */
    if (in.next_token && *in.next_token) {
        api_fail(c, "InvalidParameterException", "nextToken is not valid");
        goto done;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "containerInstanceArns");
    if (kind == API_CLUSTER_OWN && (!in.has_status || in.status == 0) && match)
        cJSON_AddItemToArray(a, cJSON_CreateString(api_instance_arn(x)));
    api_reply(c, o);
done:
    jw_free_shape(&list_ci_shape, &in);
}

/* ---- DescribeContainerInstances ---- */

static const char *const ci_fields_enum[] = {"TAGS", "CONTAINER_INSTANCE_HEALTH", NULL};

static void check_describe_ci(struct jw *w, void *obj)
{
    check_include_set(w, &((struct describe_in *)obj)->include, ci_fields_enum,
                      "TAGS or CONTAINER_INSTANCE_HEALTH");
}

static const struct jw_field describe_ci_fields[] = {
    F_("cluster", JW_STRING, struct describe_in, cluster),
    F_("containerInstances", JW_STRINGS, struct describe_in, refs, .required = true,
       .ranged = true, .min = 1, .max = 100),
    F_("include", JW_STRINGS, struct describe_in, include),
    END,
};
static const struct jw_shape describe_ci_shape = {sizeof(struct describe_in),
                                                  describe_ci_fields, check_describe_ci};

static cJSON *int_resource(const char *name, int64_t v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "type", "INTEGER");
    cJSON_AddNumberToObject(o, "doubleValue", 0);
    cJSON_AddNumberToObject(o, "longValue", 0);
    cJSON_AddNumberToObject(o, "integerValue", (double)v);
    return o;
}

static cJSON *ports_resource(const char *name, const struct res_ports *p)
{
    char buf[8];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "type", "STRINGSET");
    cJSON_AddNumberToObject(o, "doubleValue", 0);
    cJSON_AddNumberToObject(o, "longValue", 0);
    cJSON_AddNumberToObject(o, "integerValue", 0);
    cJSON *a = cJSON_AddArrayToObject(o, "stringSetValue");
    for (size_t i = 0; i < p->n; i++) {
        snprintf(buf, sizeof buf, "%u", p->v[i]);
        cJSON_AddItemToArray(a, cJSON_CreateString(buf));
    }
    return o;
}

static cJSON *resources_json(const struct res *r)
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, int_resource("CPU", r->cpu));
    cJSON_AddItemToArray(a, int_resource("MEMORY", r->memory));
    cJSON_AddItemToArray(a, ports_resource("PORTS", &r->tcp));
    cJSON_AddItemToArray(a, ports_resource("PORTS_UDP", &r->udp));
    return a;
}

static void attr(cJSON *a, const char *name, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    if (value)
        cJSON_AddStringToObject(o, "value", value);
    cJSON_AddItemToArray(a, o);
}

/* The engine's API version from "docker 20.10.24 (API 1.41)": minor, or 0. */
static int api_minor(const char *engine)
{
    const char *p = engine ? strstr(engine, "(API 1.") : NULL;
    return p ? atoi(p + 7) : 0;
}

/* ECS's attributes for what holds on this host. */
static cJSON *attributes_json(const char *engine)
{
    static const char *const caps[] = {
        "com.amazonaws.ecs.capability.privileged-container",
        "com.amazonaws.ecs.capability.logging-driver.json-file",
        "com.amazonaws.ecs.capability.logging-driver.local",
        "com.amazonaws.ecs.capability.logging-driver.journald",
        "com.amazonaws.ecs.capability.logging-driver.syslog",
        "com.amazonaws.ecs.capability.logging-driver.none",
        "ecs.capability.container-health-check",
        "ecs.capability.container-ordering",
        "ecs.capability.task-eni",
        NULL,
    };
    struct utsname u;
    char name[96];
    cJSON *a = cJSON_CreateArray();

    attr(a, "ecs.os-type", "linux");
    attr(a, "ecs.os-family", "LINUX");
    if (uname(&u) == 0)
        attr(a, "ecs.cpu-architecture",
             strcmp(u.machine, "aarch64") == 0 ? "arm64" : u.machine);
    /* ECS lists every Docker remote API version from 1.17 up to the
     * engine's. */
    for (int v = 17; v <= api_minor(engine); v++) {
        snprintf(name, sizeof name, "com.amazonaws.ecs.capability.docker-remote-api.1.%d",
                 v);
        attr(a, name, NULL);
    }
    for (int i = 0; caps[i]; i++)
        attr(a, caps[i], NULL);
    return a;
}

/* NULL after failing c. */
static cJSON *instance_json(struct api_call *c, bool tags)
{
    struct api_tasks_ctx *x = CTX(c);
    struct res used, rem;
    int running, pending;
    const char *engine = runtime_engine_version(tasks_runtime(x->tasks));

    if (api_tasks_used(x, &used) < 0 || res_remaining(&rem, x->host, &used) < 0)
        abort(); /* out of memory */
    res_free(&used);
    task_counts(x, &running, &pending);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "containerInstanceArn", api_instance_arn(x));
    cJSON_AddNumberToObject(o, "version", 1);
    cJSON *vi = cJSON_AddObjectToObject(o, "versionInfo");
    cJSON_AddStringToObject(vi, "agentVersion", PACKAGE_VERSION);
    if (engine)
        cJSON_AddStringToObject(vi, "dockerVersion", engine);
    cJSON_AddItemToObject(o, "remainingResources", resources_json(&rem));
    cJSON_AddItemToObject(o, "registeredResources", resources_json(x->host));
    res_free(&rem);
    cJSON_AddStringToObject(o, "status", "ACTIVE");
    cJSON_AddBoolToObject(o, "agentConnected", tasks_engine_ready(x->tasks));
    cJSON_AddNumberToObject(o, "runningTasksCount", running);
    cJSON_AddNumberToObject(o, "pendingTasksCount", pending);
    cJSON_AddItemToObject(o, "attributes", attributes_json(engine));
    cJSON_AddNumberToObject(o, "registeredAt", (double)x->registered_at_ms / 1000.0);
    cJSON_AddItemToObject(o, "attachments", cJSON_CreateArray());
    if (tags) {
        struct store_tags t = {0};
        char err[512];
        enum store_rc rc = store_rtags_get(x->store, api_instance_arn(x), &t, err,
                                           sizeof err);
        if (rc != STORE_OK) {
            cJSON_Delete(o);
            api_fail_store(c, rc, err);
            return NULL;
        }
        cJSON_AddItemToObject(o, "tags", api_tags_json(&t));
        store_tags_free(&t);
    }
    return o;
}

static void describe_container_instances(struct api_call *c, const cJSON *input)
{
    struct api_tasks_ctx *x = CTX(c);
    struct describe_in in = {0};
    int kind;

    if (api_parse_input(c, input, &describe_ci_shape, &in) < 0)
        return;
    if ((kind = api_cluster_check(c, in.cluster)) < 0)
        goto done;
    int inc = include_bits(&in.include, ci_fields_enum);
    cJSON *o = cJSON_CreateObject();
    cJSON *is = cJSON_AddArrayToObject(o, "containerInstances");
    cJSON *fs = cJSON_AddArrayToObject(o, "failures");
    bool shown = false;
    for (size_t i = 0; i < in.refs.n; i++) {
        if (kind == API_CLUSTER_OWN && api_is_instance(x, in.refs.v[i])) {
            if (shown)
                continue; /* named twice: described once */
            cJSON *j = instance_json(c, inc & 1);
            if (!j) {
                cJSON_Delete(o);
                goto done;
            }
            cJSON_AddItemToArray(is, j);
            shown = true;
        } else {
            cJSON_AddItemToArray(fs, failure(in.refs.v[i], "MISSING", NULL));
        }
    }
    api_reply(c, o);
done:
    jw_free_shape(&describe_ci_shape, &in);
}

const struct api_action api_cluster_actions[] = {
    {"CreateCluster", create_cluster},
    {"DescribeClusters", describe_clusters},
    {"ListClusters", list_clusters},
    {"DeleteCluster", delete_cluster},
    {"ListContainerInstances", list_container_instances},
    {"DescribeContainerInstances", describe_container_instances},
    {NULL, NULL},
};
