/* actions_taskdefs.c: the ECS task-definition actions on the store. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/json_walk_table.h"
#include "agent/api/actions.h"
#include "agent/log.h"
#include "agent/taskdef.h"


/* ---- shared ---- */

void
api_fail_store(struct api_call *c, enum store_rc rc, const char *err)
{
    switch (rc) {
    case STORE_INVALID:
        api_fail(c, "InvalidParameterException", "%s", err);
        break;
    case STORE_IO:
        api_fail(c, "ServerException", "%s", err);
        break;
    default:
        api_fail(c, "ClientException", "%s", err);
        break;
    }
}

cJSON *
api_taskdef_json(const struct store_taskdef *td, const char *status)
{
    cJSON *o = cJSON_Parse(td->json), *compat;

    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddStringToObject(o, "taskDefinitionArn", td->arn);
    cJSON_AddNumberToObject(o, "revision", (double)td->revision);
    cJSON_AddStringToObject(o, "status", status ? status : store_status_name(td->status));
    compat = cJSON_AddArrayToObject(o, "compatibilities");
    cJSON_AddItemToArray(compat, cJSON_CreateString("EC2"));
    cJSON_AddNumberToObject(o, "registeredAt", (double)td->registered_at_ms / 1000.0);
    if (td->deregistered_at_ms)
        cJSON_AddNumberToObject(o, "deregisteredAt",
                                (double)td->deregistered_at_ms / 1000.0);
    return o;
}

cJSON *
api_tags_json(const struct store_tags *t)
{
    cJSON *a = cJSON_CreateArray();

    for (size_t i = 0; t && i < t->n; i++) {
        cJSON *tag = cJSON_CreateObject();
        cJSON_AddStringToObject(tag, "key", t->v[i].key);
        cJSON_AddStringToObject(tag, "value", t->v[i].value);
        cJSON_AddItemToArray(a, tag);
    }
    return a;
}

/* {"taskDefinition": ...} plus, when tags is not NULL, "tags". */
static void
reply_taskdef(struct api_call *c, const struct store_taskdef *td, const char *status,
              cJSON *tags)
{
    cJSON *out = cJSON_CreateObject(), *j = api_taskdef_json(td, status);

    if (!j) {
        cJSON_Delete(out);
        cJSON_Delete(tags);
        api_fail(c, "ServerException", "the stored task definition %s is damaged",
                 td->arn);
        return;
    }
    cJSON_AddItemToObject(out, "taskDefinition", j);
    if (tags)
        cJSON_AddItemToObject(out, "tags", tags);
    api_reply(c, out);
}

/* ---- RegisterTaskDefinition ---- */

static void
register_td(struct api_call *c, const cJSON *input)
{
    struct store *st = api_call_ctx(c);
    struct json_errors errs = {0};
    struct taskdef *td = NULL;
    struct store_taskdef rec = {0};
    struct store_tag *tags = NULL;
    char err[512], *msg, *json;
    enum store_rc rc;

    if (taskdef_from_cjson(input, &td, &errs) < 0) {
        msg = json_errors_message(&errs);
        api_fail(c, "ClientException", "%s", msg);
        free(msg);
        json_errors_clear(&errs);
        return;
    }
    for (size_t i = 0; i < errs.n_ignored; i++) {
        char q[1024];
        log_info("api.taskdef.ignored", "family=%s request_id=%s field=%s", td->family,
                 api_call_request_id(c), log_quote(q, sizeof(q), errs.ignored[i]));
    }
    json_errors_clear(&errs);
    cJSON *j = taskdef_to_json(td);
    json = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (td->n_tags && !(tags = calloc(td->n_tags, sizeof(*tags))))
        abort();
    for (size_t i = 0; i < td->n_tags; i++) {
        tags[i].key = td->tags[i].key;
        tags[i].value = td->tags[i].value ? td->tags[i].value : (char *)"";
    }
    rc = store_td_register(st, td->family, json, tags, td->n_tags, &rec, err, sizeof(err));
    free(json);
    free(tags);
    if (rc != STORE_OK) {
        taskdef_free(td);
        api_fail_store(c, rc, err);
        return;
    }
    log_info("api.taskdef.registered", "arn=%s request_id=%s", rec.arn,
             api_call_request_id(c));
    reply_taskdef(c, &rec, NULL, td->n_tags ? taskdef_tags_to_json(td) : NULL);
    taskdef_free(td);
    store_taskdef_free(&rec);
}

/* ---- DeregisterTaskDefinition, DescribeTaskDefinition ---- */

struct ref_in {
    char *task_definition;
    struct jw_strv include;
};

static const struct jw_field deregister_fields[] = {
    F_("taskDefinition", JW_STRING, struct ref_in, task_definition, .required = true),
    END,
};
static const struct jw_shape deregister_shape = {sizeof(struct ref_in), deregister_fields,
                                                 NULL};

static void
deregister_td(struct api_call *c, const cJSON *input)
{
    struct ref_in in = {0};
    struct store_taskdef rec = {0};
    char err[512];
    enum store_rc rc;

    if (api_parse_input(c, input, &deregister_shape, &in) < 0)
        return;
    rc = store_td_deregister(api_call_ctx(c), in.task_definition, &rec, err, sizeof(err));
    jw_free_shape(&deregister_shape, &in);
    if (rc != STORE_OK) {
        api_fail_store(c, rc, err);
        return;
    }
    reply_taskdef(c, &rec, NULL, NULL);
    store_taskdef_free(&rec);
}

void
api_check_include(struct jw *w, const struct jw_strv *include)
{
    for (size_t i = 0; i < include->n; i++)
        if (strcmp(include->v[i], "TAGS") != 0) {
            size_t back = jw_push_key(w, "include");
            size_t back2 = jw_push_index(w, i);
            jw_error_at(w, NULL, "expected TAGS, got \"%s\"", include->v[i]);
            jw_pop(w, back2);
            jw_pop(w, back);
        }
}

static void
check_include(struct jw *w, void *obj)
{
    api_check_include(w, &((struct ref_in *)obj)->include);
}

static const struct jw_field describe_fields[] = {
    F_("taskDefinition", JW_STRING, struct ref_in, task_definition, .required = true),
    F_("include", JW_STRINGS, struct ref_in, include),
    END,
};
static const struct jw_shape describe_shape = {sizeof(struct ref_in), describe_fields,
                                               check_include};

static void
describe_td(struct api_call *c, const cJSON *input)
{
    struct store *st = api_call_ctx(c);
    struct ref_in in = {0};
    struct store_taskdef rec = {0};
    struct store_tags tags = {0};
    cJSON *tj = NULL;
    char err[512];
    enum store_rc rc;

    if (api_parse_input(c, input, &describe_shape, &in) < 0)
        return;
    rc = store_td_describe(st, in.task_definition, &rec, err, sizeof(err));
    if (rc == STORE_OK && in.include.n) {
        /* Tags belong to the revision found, whatever the ref's form. */
        rc = store_tags_get(st, rec.arn, &tags, err, sizeof(err));
        tj = api_tags_json(&tags);
        store_tags_free(&tags);
    }
    jw_free_shape(&describe_shape, &in);
    if (rc != STORE_OK) {
        cJSON_Delete(tj);
        store_taskdef_free(&rec);
        api_fail_store(c, rc, err);
        return;
    }
    reply_taskdef(c, &rec, NULL, tj);
    store_taskdef_free(&rec);
}

/* ---- ListTaskDefinitions, ListTaskDefinitionFamilies ---- */

struct list_in {
    char *family_prefix;
    int status;
    bool has_status;
    int sort;
    char *next_token;
    int64_t max_results;
};

static const char *const td_statuses[] = {"ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS", NULL};
static const char *const family_statuses[] = {"ACTIVE", "INACTIVE", "ALL", NULL};
static const char *const sorts[] = {"ASC", "DESC", NULL};

#define LIST_FIELDS(statuses)                                                       \
    F_("familyPrefix", JW_STRING, struct list_in, family_prefix),                   \
        F_("status", JW_ENUM, struct list_in, status, .choices = statuses,          \
           .has = offsetof(struct list_in, has_status) + 1),                        \
        F_("nextToken", JW_STRING, struct list_in, next_token),                     \
        F_("maxResults", JW_INT, struct list_in, max_results, .ranged = true,       \
           .min = 1, .max = STORE_MAX_RESULTS)

static const struct jw_field list_td_fields[] = {
    LIST_FIELDS(td_statuses),
    F_("sort", JW_ENUM, struct list_in, sort, .choices = sorts),
    END,
};
static const struct jw_shape list_td_shape = {sizeof(struct list_in), list_td_fields, NULL};

static const struct jw_field list_fam_fields[] = {
    LIST_FIELDS(family_statuses),
    END,
};
static const struct jw_shape list_fam_shape = {sizeof(struct list_in), list_fam_fields,
                                               NULL};

static void
reply_list(struct api_call *c, const char *key, const struct store_list *l)
{
    cJSON *out = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(out, key);

    for (size_t i = 0; i < l->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(l->items[i]));
    if (l->next_token)
        cJSON_AddStringToObject(out, "nextToken", l->next_token);
    api_reply(c, out);
}

static void
list_common(struct api_call *c, const cJSON *input, int families)
{
    const struct jw_shape *shape = families ? &list_fam_shape : &list_td_shape;
    struct list_in in = {0};
    struct store_list l = {0};
    struct store_list_opts o = {0};
    char err[512];
    enum store_rc rc;

    if (api_parse_input(c, input, shape, &in) < 0)
        return;
    if (!families && in.status == 2) {
        /* Deletion is immediate here: nothing is ever DELETE_IN_PROGRESS. */
        jw_free_shape(shape, &in);
        reply_list(c, "taskDefinitionArns", &l);
        return;
    }
    o.family_prefix = in.family_prefix;
    o.status = in.status == 0 ? STORE_ACTIVE : in.status == 1 ? STORE_INACTIVE : STORE_ALL;
    o.desc = !families && in.sort == 1;
    o.max_results = (int)in.max_results;
    o.next_token = in.next_token;
    rc = families ? store_td_families(api_call_ctx(c), &o, &l, err, sizeof(err))
                  : store_td_list(api_call_ctx(c), &o, &l, err, sizeof(err));
    jw_free_shape(shape, &in);
    if (rc != STORE_OK) {
        api_fail_store(c, rc, err);
        return;
    }
    reply_list(c, families ? "families" : "taskDefinitionArns", &l);
    store_list_free(&l);
}

static void
list_td(struct api_call *c, const cJSON *input)
{
    list_common(c, input, 0);
}

static void
list_families(struct api_call *c, const cJSON *input)
{
    list_common(c, input, 1);
}

/* ---- DeleteTaskDefinitions ---- */

struct delete_in {
    struct jw_strv refs;
};

static const struct jw_field delete_fields[] = {
    F_("taskDefinitions", JW_STRINGS, struct delete_in, refs, .required = true,
       .ranged = true, .min = 1, .max = 10),
    END,
};
static const struct jw_shape delete_shape = {sizeof(struct delete_in), delete_fields, NULL};

static void
delete_tds(struct api_call *c, const cJSON *input)
{
    struct delete_in in = {0};
    cJSON *out, *done, *failures;

    if (api_parse_input(c, input, &delete_shape, &in) < 0)
        return;
    out = cJSON_CreateObject();
    done = cJSON_AddArrayToObject(out, "taskDefinitions");
    failures = cJSON_AddArrayToObject(out, "failures");
    for (size_t i = 0; i < in.refs.n; i++) {
        struct store_taskdef rec = {0};
        char err[512];
        enum store_rc rc = store_td_delete(api_call_ctx(c), in.refs.v[i], &rec, err,
                                           sizeof(err));
        cJSON *j = rc == STORE_OK ? api_taskdef_json(&rec, "DELETE_IN_PROGRESS") : NULL;

        if (j) {
            cJSON_AddItemToArray(done, j);
        } else {
            cJSON *f = cJSON_CreateObject();
            const char *reason = rc == STORE_NOT_FOUND ? "The specified task definition "
                                                         "does not exist."
                                 : rc == STORE_CONFLICT ? "The specified task definition is "
                                                          "still in ACTIVE status. Please "
                                                          "deregister the target and try "
                                                          "again."
                                 : rc == STORE_INVALID ? "The specified task definition is "
                                                         "not valid."
                                                       : "The task definition could not be "
                                                         "deleted.";
            cJSON_AddStringToObject(f, "arn", in.refs.v[i]);
            cJSON_AddStringToObject(f, "reason", reason);
            cJSON_AddStringToObject(f, "detail", rc == STORE_OK ? "damaged record" : err);
            cJSON_AddItemToArray(failures, f);
        }
        store_taskdef_free(&rec);
    }
    jw_free_shape(&delete_shape, &in);
    api_reply(c, out);
}

const struct api_action api_taskdef_actions[] = {
    {"RegisterTaskDefinition", register_td},
    {"DeregisterTaskDefinition", deregister_td},
    {"DescribeTaskDefinition", describe_td},
    {"ListTaskDefinitions", list_td},
    {"ListTaskDefinitionFamilies", list_families},
    {"DeleteTaskDefinitions", delete_tds},
    {NULL, NULL},
};
