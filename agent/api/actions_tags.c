/* actions_tags.c: TagResource, UntagResource and ListTagsForResource.
 *
 * Taggable: task definitions (their own table), clusters and this host's
 * container instance (kept by ARN, store_clusters.h), services and tasks
 * (their tags live in the service's and task's own record, which
 * DescribeServices and DescribeTasks show, so they are changed there and
 * saved before the answer).  To add a resource type, extend
 * resource_kind() and dispatch on it in the three handlers. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent/json_walk_table.h"
#include "agent/ecs_tag.h"
#include "agent/api/actions.h"
#include "agent/service.h"
#include "agent/services.h"
#include "agent/store_clusters.h"
#include "agent/task.h"
#include "agent/tasks.h"


struct tags_in {
    char *resource_arn;
    struct ecs_tag_in *tags;
    size_t n_tags;
    struct jw_strv tag_keys;
};

static const struct jw_field tag_resource_fields[] = {
    F_("resourceArn", JW_STRING, struct tags_in, resource_arn, .required = true),
    {.name = "tags", .kind = JW_ARRAY, .required = true,
     .offset = offsetof(struct tags_in, tags),
     .count_offset = offsetof(struct tags_in, n_tags), .shape = &ecs_tag_shape},
    END,
};
static const struct jw_shape tag_resource_shape = {sizeof(struct tags_in),
                                                   tag_resource_fields, NULL};

static const struct jw_field untag_fields[] = {
    F_("resourceArn", JW_STRING, struct tags_in, resource_arn, .required = true),
    F_("tagKeys", JW_STRINGS, struct tags_in, tag_keys, .required = true),
    END,
};
static const struct jw_shape untag_shape = {sizeof(struct tags_in), untag_fields, NULL};

static const struct jw_field list_tags_fields[] = {
    F_("resourceArn", JW_STRING, struct tags_in, resource_arn, .required = true),
    END,
};
static const struct jw_shape list_tags_shape = {sizeof(struct tags_in), list_tags_fields,
                                                NULL};

enum resource_kind { RES_TASK_DEFINITION, RES_BY_ARN, RES_SERVICE, RES_TASK };

/* What a request names: its kind, and the service or task itself. */
struct resource {
    enum resource_kind kind;
    struct service *service;
    struct task *task;
};

static struct store *ctx_store(struct api_call *c)
{
    return ((struct api_tasks_ctx *)api_call_ctx(c))->store;
}

/* A cluster (any status) or this host's container instance: 0, or -1
 * after failing c. */
static int by_arn_exists(struct api_call *c, const char *arn, bool cluster)
{
    struct store *st = ctx_store(c);
    char err[512];
    enum store_rc rc;
    bool found;

    if (cluster) {
        rc = store_cluster_get(st, arn, NULL, err, sizeof err);
        found = rc == STORE_OK;
    } else {
        struct store_instance in = {0};
        rc = store_instance_get(st, &in, err, sizeof err);
        found = rc == STORE_OK && in.arn && strcmp(in.arn, arn) == 0;
        store_instance_free(&in);
    }
    if (found)
        return 0;
    if (rc == STORE_IO)
        api_fail_store(c, rc, err);
    else if (cluster)
        api_fail(c, "ClusterNotFoundException", "Cluster not found.");
    else
        api_fail(c, "InvalidParameterException",
                 "The specified container instance was not found: %s", arn);
    return -1;
}

/* -1 after failing c when the ARN is not one we can tag. */
static int
resource_kind(struct api_call *c, const char *arn, struct resource *r)
{
    struct api_tasks_ctx *x = api_call_ctx(c);
    const char *p = arn;
    int colons = 0;

    memset(r, 0, sizeof *r);
    if (strncmp(arn, "arn:", 4) != 0) {
        api_fail(c, "InvalidParameterException",
                 "resourceArn: expected an ARN such as "
                 "arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION, got \"%s\"",
                 arn);
        return -1;
    }
    while (*p && colons < 5)
        colons += *p++ == ':';
    if (strncmp(p, "task-definition/", 16) == 0) {
        r->kind = RES_TASK_DEFINITION;
        return 0;
    }
    if (strncmp(p, "cluster/", 8) == 0 || strncmp(p, "container-instance/", 19) == 0) {
        r->kind = RES_BY_ARN;
        return by_arn_exists(c, arn, *p == 'c' && p[1] == 'l');
    }
    if (strncmp(p, "service/", 8) == 0) {
        r->kind = RES_SERVICE;
        r->service = x->services ? services_find(x->services, arn) : NULL;
        /* services_find takes names too: only the ARN itself counts. */
        if (r->service && strcmp(r->service->arn, arn) == 0)
            return 0;
    } else if (strncmp(p, "task/", 5) == 0) {
        r->kind = RES_TASK;
        r->task = x->tasks ? tasks_find(x->tasks, arn) : NULL;
        if (r->task && strcmp(r->task->arn, arn) == 0)
            return 0;
    } else {
        api_fail(c, "InvalidParameterException",
                 "resourceArn: tags on %s are not supported by Berth (only task "
                 "definitions, clusters, container instances, services and tasks)",
                 arn);
        return -1;
    }
    api_fail(c, "ResourceNotFoundException", "The specified resource wasn't found: %s",
             arn);
    return -1;
}

/* The tags member of a service or task ({key, value} objects, or NULL). */
static cJSON **tags_of(struct resource *r)
{
    return r->kind == RES_SERVICE ? &r->service->tags : &r->task->tags;
}

/* tags (n, key/value) as store_tags, for the checks and ListTagsForResource. */
static struct store_tag *tags_array(const cJSON *tags, size_t *n)
{
    size_t k = 0, len = (size_t)cJSON_GetArraySize(tags);
    struct store_tag *v = calloc(len + 1, sizeof *v);
    const cJSON *e;
    if (!v)
        abort();
    cJSON_ArrayForEach(e, tags) {
        const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "key"));
        const char *val = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "value"));
        if (!key)
            continue;
        v[k].key = (char *)key;
        v[k++].value = (char *)(val ? val : "");
    }
    *n = k;
    return v;
}

static cJSON *tag_object(const char *key, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "key", key) ||
        !cJSON_AddStringToObject(o, "value", value ? value : ""))
        abort();
    return o;
}

/* The record's tags after TagResource (add, or replace the value of the
 * same key) or UntagResource (keys removed); a new array, caller deletes. */
static cJSON *tags_merged(const cJSON *old, const struct ecs_tag_in *add, size_t n_add,
                          const struct jw_strv *drop)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *e;
    if (!out)
        abort();
    cJSON_ArrayForEach(e, old) {
        const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "key"));
        bool gone = !key;
        for (size_t i = 0; !gone && i < n_add; i++)
            gone = strcmp(add[i].key, key) == 0;
        for (size_t i = 0; !gone && drop && i < drop->n; i++)
            gone = strcmp(drop->v[i], key) == 0;
        if (!gone)
            cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
    }
    for (size_t i = 0; i < n_add; i++)
        cJSON_AddItemToArray(out, tag_object(add[i].key, add[i].value));
    return out;
}

/* Checks, then saves a service's or task's new tags (taken): 0, or -1
 * after failing c; the record keeps its old tags on failure. */
static int record_tags_set(struct api_call *c, struct resource *r, cJSON *tags)
{
    struct api_tasks_ctx *x = api_call_ctx(c);
    cJSON **slot = tags_of(r), *old = *slot;
    char err[512];
    size_t n;
    struct store_tag *v = tags_array(tags, &n);
    enum store_rc rc = store_tags_check(v, n, err, sizeof err);
    int saved;

    free(v);
    if (rc != STORE_OK) {
        cJSON_Delete(tags);
        api_fail_store(c, rc, err);
        return -1;
    }
    if (cJSON_GetArraySize(tags) == 0) {
        cJSON_Delete(tags);
        tags = NULL;
    }
    *slot = tags;
    saved = r->kind == RES_SERVICE
                ? services_save(x->services, r->service, err, sizeof err)
                : tasks_save(x->tasks, r->task, err, sizeof err);
    if (saved < 0) {
        *slot = old;
        cJSON_Delete(tags);
        api_fail(c, "ServerException", "cannot save the tags: %s", err);
        return -1;
    }
    cJSON_Delete(old);
    return 0;
}

static void
tag_resource(struct api_call *c, const cJSON *input)
{
    struct tags_in in = {0};
    struct store_tag *tags;
    struct resource r;
    char err[512];
    enum store_rc rc;

    if (api_parse_input(c, input, &tag_resource_shape, &in) < 0)
        return;
    if (resource_kind(c, in.resource_arn, &r) < 0) {
        jw_free_shape(&tag_resource_shape, &in);
        return;
    }
    if (!(tags = calloc(in.n_tags + 1, sizeof(*tags))))
        abort();
    for (size_t i = 0; i < in.n_tags; i++) {
        tags[i].key = in.tags[i].key;
        tags[i].value = in.tags[i].value ? in.tags[i].value : (char *)"";
    }
    if (r.kind == RES_SERVICE || r.kind == RES_TASK) {
        /* The new tags alone first: their errors name them, not the sum. */
        rc = store_tags_check(tags, in.n_tags, err, sizeof err);
        free(tags);
        if (rc != STORE_OK)
            api_fail_store(c, rc, err);
        else if (record_tags_set(c, &r, tags_merged(*tags_of(&r), in.tags, in.n_tags,
                                                    NULL)) == 0)
            api_reply(c, NULL);
        jw_free_shape(&tag_resource_shape, &in);
        return;
    }
    rc = r.kind == RES_BY_ARN
             ? store_rtags_set(ctx_store(c), in.resource_arn, tags, in.n_tags, err,
                               sizeof(err))
             : store_tags_set(ctx_store(c), in.resource_arn, tags, in.n_tags, err,
                              sizeof(err));
    free(tags);
    jw_free_shape(&tag_resource_shape, &in);
    if (rc != STORE_OK)
        api_fail_store(c, rc, err);
    else
        api_reply(c, NULL);
}

static void
untag_resource(struct api_call *c, const cJSON *input)
{
    struct tags_in in = {0};
    struct resource r;
    char err[512];
    enum store_rc rc = STORE_OK;

    if (api_parse_input(c, input, &untag_shape, &in) < 0)
        return;
    if (resource_kind(c, in.resource_arn, &r) < 0) {
        jw_free_shape(&untag_shape, &in);
        return;
    }
    if (r.kind == RES_SERVICE || r.kind == RES_TASK) {
        for (size_t i = 0; rc == STORE_OK && i < in.tag_keys.n; i++)
            rc = store_tag_key_check(in.tag_keys.v[i], err, sizeof err);
        if (rc != STORE_OK)
            api_fail_store(c, rc, err);
        else if (record_tags_set(c, &r, tags_merged(*tags_of(&r), NULL, 0, &in.tag_keys)) == 0)
            api_reply(c, NULL);
        jw_free_shape(&untag_shape, &in);
        return;
    }
    rc = (r.kind == RES_BY_ARN ? store_rtags_remove : store_tags_remove)(
        ctx_store(c), in.resource_arn, (const char *const *)in.tag_keys.v,
        in.tag_keys.n, err, sizeof(err));
    jw_free_shape(&untag_shape, &in);
    if (rc != STORE_OK)
        api_fail_store(c, rc, err);
    else
        api_reply(c, NULL);
}

static void
list_tags(struct api_call *c, const cJSON *input)
{
    struct tags_in in = {0};
    struct store_tags tags = {0};
    struct resource r;
    char err[512];
    enum store_rc rc;
    cJSON *out;

    if (api_parse_input(c, input, &list_tags_shape, &in) < 0)
        return;
    if (resource_kind(c, in.resource_arn, &r) < 0) {
        jw_free_shape(&list_tags_shape, &in);
        return;
    }
    if (r.kind == RES_SERVICE || r.kind == RES_TASK) {
        const cJSON *t = *tags_of(&r);
        jw_free_shape(&list_tags_shape, &in);
        out = cJSON_CreateObject();
        cJSON_AddItemToObject(out, "tags", t ? cJSON_Duplicate(t, 1) : cJSON_CreateArray());
        api_reply(c, out);
        return;
    }
    rc = (r.kind == RES_BY_ARN ? store_rtags_get : store_tags_get)(
        ctx_store(c), in.resource_arn, &tags, err, sizeof(err));
    jw_free_shape(&list_tags_shape, &in);
    if (rc != STORE_OK) {
        api_fail_store(c, rc, err);
        return;
    }
    out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "tags", api_tags_json(&tags));
    store_tags_free(&tags);
    api_reply(c, out);
}

const struct api_action api_tag_actions[] = {
    {"TagResource", tag_resource},
    {"UntagResource", untag_resource},
    {"ListTagsForResource", list_tags},
    {NULL, NULL},
};
