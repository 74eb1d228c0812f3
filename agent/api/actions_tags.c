/* actions_tags.c: TagResource, UntagResource and ListTagsForResource.
 *
 * Taggable: task definitions, clusters and this host's container instance
 * (the last two kept by ARN, store_clusters.h).  To add a resource type,
 * extend resource_kind() and dispatch on it in the three handlers. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent/api/actions.h"
#include "agent/store_clusters.h"

#define F_(json, k, st, m, ...) \
    {.name = json, .kind = k, .offset = offsetof(st, m), __VA_ARGS__}
#define END {.name = NULL}

struct tag_in {
    char *key;
    char *value;
};

static const struct jw_field tag_fields[] = {
    F_("key", JW_STRING, struct tag_in, key, .required = true),
    F_("value", JW_STRING, struct tag_in, value),
    END,
};
static const struct jw_shape tag_shape = {sizeof(struct tag_in), tag_fields, NULL};

struct tags_in {
    char *resource_arn;
    struct tag_in *tags;
    size_t n_tags;
    struct jw_strv tag_keys;
};

static const struct jw_field tag_resource_fields[] = {
    F_("resourceArn", JW_STRING, struct tags_in, resource_arn, .required = true),
    {.name = "tags", .kind = JW_ARRAY, .required = true,
     .offset = offsetof(struct tags_in, tags),
     .count_offset = offsetof(struct tags_in, n_tags), .shape = &tag_shape},
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

enum resource_kind { RES_TASK_DEFINITION, RES_BY_ARN };

/* A cluster (any status) or this host's container instance: 0, or -1
 * after failing c. */
static int by_arn_exists(struct api_call *c, const char *arn, bool cluster)
{
    struct store *st = api_call_ctx(c);
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
resource_kind(struct api_call *c, const char *arn, enum resource_kind *kind)
{
    const char *p = arn;
    int colons = 0;

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
        *kind = RES_TASK_DEFINITION;
        return 0;
    }
    if (strncmp(p, "cluster/", 8) == 0 || strncmp(p, "container-instance/", 19) == 0) {
        *kind = RES_BY_ARN;
        return by_arn_exists(c, arn, *p == 'c' && p[1] == 'l');
    }
    api_fail(c, "InvalidParameterException",
             "resourceArn: tags on %s are not supported by Berth yet (only task "
             "definitions, clusters and container instances)", arn);
    return -1;
}

static void
tag_resource(struct api_call *c, const cJSON *input)
{
    struct tags_in in = {0};
    struct store_tag *tags;
    enum resource_kind kind;
    char err[512];
    enum store_rc rc;

    if (api_parse_input(c, input, &tag_resource_shape, &in) < 0)
        return;
    if (resource_kind(c, in.resource_arn, &kind) < 0) {
        jw_free_shape(&tag_resource_shape, &in);
        return;
    }
    if (!(tags = calloc(in.n_tags + 1, sizeof(*tags))))
        abort();
    for (size_t i = 0; i < in.n_tags; i++) {
        tags[i].key = in.tags[i].key;
        tags[i].value = in.tags[i].value ? in.tags[i].value : (char *)"";
    }
    rc = kind == RES_BY_ARN
             ? store_rtags_set(api_call_ctx(c), in.resource_arn, tags, in.n_tags, err,
                               sizeof(err))
             : store_tags_set(api_call_ctx(c), in.resource_arn, tags, in.n_tags, err,
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
    enum resource_kind kind;
    char err[512];
    enum store_rc rc;

    if (api_parse_input(c, input, &untag_shape, &in) < 0)
        return;
    if (resource_kind(c, in.resource_arn, &kind) < 0) {
        jw_free_shape(&untag_shape, &in);
        return;
    }
    rc = (kind == RES_BY_ARN ? store_rtags_remove : store_tags_remove)(
        api_call_ctx(c), in.resource_arn, (const char *const *)in.tag_keys.v,
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
    enum resource_kind kind;
    char err[512];
    enum store_rc rc;
    cJSON *out;

    if (api_parse_input(c, input, &list_tags_shape, &in) < 0)
        return;
    if (resource_kind(c, in.resource_arn, &kind) < 0) {
        jw_free_shape(&list_tags_shape, &in);
        return;
    }
    rc = (kind == RES_BY_ARN ? store_rtags_get : store_tags_get)(
        api_call_ctx(c), in.resource_arn, &tags, err, sizeof(err));
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
