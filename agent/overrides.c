/* overrides.c: TaskOverride's field tables, the merge into a definition's
 * JSON (checked by re-parsing it as a definition), and the shown form. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/json_walk_table.h"
#include "agent/overrides.h"
#include "agent/taskdef.h"

#define ARRAY(json, st, m, sh, ...)                                            \
    {.name = json, .kind = JW_ARRAY, .offset = offsetof(st, m),               \
     .count_offset = offsetof(st, n_##m), .shape = &sh, __VA_ARGS__}

static const char *const env_file_types[] = {"s3", NULL};
static const char *const role_reason = "IAM roles have no meaning on a Berth host";

static const struct jw_field kv_fields[] = {
    F_("name", JW_STRING, struct jw_kv, name),
    F_("value", JW_STRING, struct jw_kv, value),
    END,
};
static const struct jw_shape kv_shape = {sizeof(struct jw_kv), kv_fields, NULL};

static const struct jw_field env_file_fields[] = {
    F_("value", JW_STRING, struct ov_env_file, value, .required = true),
    F_("type", JW_ENUM, struct ov_env_file, type, .choices = env_file_types,
       .required = true),
    END,
};
static const struct jw_shape env_file_shape = {sizeof(struct ov_env_file),
                                               env_file_fields, NULL};

#define T struct ov_container
static const struct jw_field container_fields[] = {
    F_("name", JW_STRING, T, name, .required = true),
    F_("command", JW_STRINGS, T, command, HAS(T, has_command)),
    ARRAY("environment", T, environment, kv_shape, HAS(T, has_environment)),
    ARRAY("environmentFiles", T, environment_files, env_file_shape,
          HAS(T, has_environment_files)),
    F_("cpu", JW_INT, T, cpu, HAS(T, has_cpu)),
    F_("memory", JW_INT, T, memory, HAS(T, has_memory)),
    F_("memoryReservation", JW_INT, T, memory_reservation, HAS(T, has_memory_reservation)),
    {.name = "resourceRequirements", .kind = JW_ARRAY, .use = JW_UNSUPPORTED,
     .reason = "GPUs and inference accelerators are not available on a Berth host"},
    END,
};
#undef T
static const struct jw_shape container_shape = {sizeof(struct ov_container),
                                                container_fields, NULL};

static void check_overrides(struct jw *w, void *obj)
{
    struct overrides *ov = obj;

    if (ov->task_role_arn)
        jw_ignored_at(w, "taskRoleArn", role_reason);
    if (ov->execution_role_arn)
        jw_ignored_at(w, "executionRoleArn", role_reason);
}

#define T struct overrides
static const struct jw_field overrides_fields[] = {
    ARRAY("containerOverrides", T, containers, container_shape),
    F_("cpu", JW_STRING, T, cpu),
    F_("memory", JW_STRING, T, memory),
    F_("taskRoleArn", JW_STRING, T, task_role_arn),
    F_("executionRoleArn", JW_STRING, T, execution_role_arn),
    IGN("inferenceAcceleratorOverrides", JW_ARRAY, "AWS only"),
    IGN("ephemeralStorage", JW_OBJECT, "Fargate only"),
    END,
};
#undef T
const struct jw_shape overrides_shape = {sizeof(struct overrides), overrides_fields,
                                         check_overrides};

size_t overrides_parse(const cJSON *obj, struct overrides *ov, struct json_errors *errs)
{
    struct jw w = {.errs = errs};
    size_t n;

    jw_push_key(&w, "overrides");
    if (!cJSON_IsObject(obj)) {
        jw_error_at(&w, NULL, "expected an object, got %s", jw_type_name(obj));
        return 1;
    }
    n = jw_walk(&w, obj, &overrides_shape, ov);
    return n;
}

void overrides_free(struct overrides *ov)
{
    jw_free_shape(&overrides_shape, ov);
}

/* ---- the merge ---- */

static cJSON *strings_json(const struct jw_strv *v)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < v->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v->v[i]));
    return a;
}

static cJSON *kv_json(const struct jw_kv *kv)
{
    cJSON *e = cJSON_CreateObject();
    if (kv->name)
        cJSON_AddStringToObject(e, "name", kv->name);
    if (kv->value)
        cJSON_AddStringToObject(e, "value", kv->value);
    return e;
}

static cJSON *env_file_json(const struct ov_env_file *f)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "value", f->value);
    cJSON_AddStringToObject(e, "type", env_file_types[f->type]);
    return e;
}

static void set_member(cJSON *o, const char *key, cJSON *v)
{
    if (cJSON_HasObjectItem(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    else
        cJSON_AddItemToObject(o, key, v);
}

static cJSON *member_array(cJSON *o, const char *key)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsArray(a)) {
        a = cJSON_CreateArray();
        set_member(o, key, a);
    }
    return a;
}

static void merge_container(cJSON *c, const struct ov_container *o)
{
    if (o->has_command)
        set_member(c, "command", strings_json(&o->command));
    if (o->has_environment) {
        cJSON *env = member_array(c, "environment");
        for (size_t i = 0; i < o->n_environment; i++) {
            const struct jw_kv *kv = &o->environment[i];
            cJSON *e, *same = NULL;
            cJSON_ArrayForEach(e, env)
            {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
                if (kv->name && cJSON_IsString(n) && strcmp(n->valuestring, kv->name) == 0)
                    same = e;
            }
            if (same)
                set_member(same, "value", cJSON_CreateString(kv->value ? kv->value : ""));
            else
                cJSON_AddItemToArray(env, kv_json(kv));
        }
    }
    if (o->has_environment_files) {
        cJSON *files = member_array(c, "environmentFiles");
        for (size_t i = 0; i < o->n_environment_files; i++)
            cJSON_AddItemToArray(files, env_file_json(&o->environment_files[i]));
    }
    if (o->has_cpu)
        set_member(c, "cpu", cJSON_CreateNumber((double)o->cpu));
    if (o->has_memory)
        set_member(c, "memory", cJSON_CreateNumber((double)o->memory));
    if (o->has_memory_reservation)
        set_member(c, "memoryReservation", cJSON_CreateNumber((double)o->memory_reservation));
}

static bool overridden(const struct ov_container *o, const char *member)
{
    return (o->has_command && strcmp(member, "command") == 0) ||
           (o->has_environment && strcmp(member, "environment") == 0) ||
           (o->has_environment_files && strcmp(member, "environmentFiles") == 0) ||
           (o->has_cpu && strcmp(member, "cpu") == 0) ||
           (o->has_memory && strcmp(member, "memory") == 0) ||
           (o->has_memory_reservation && strcmp(member, "memoryReservation") == 0);
}

/* An error of the merged definition, moved to the override that caused it
 * when one did (which[i]: the override of container i, or -1). */
static void map_error(const struct overrides *ov, const long *which,
                      size_t n_which, const struct json_error *e,
                      struct json_errors *errs)
{
    size_t i;
    char member[64];
    int end = 0;

    if (sscanf(e->path, "containerDefinitions[%zu].%63[A-Za-z]%n", &i, member, &end) == 2 &&
        i < n_which && which[i] >= 0) {
        const struct ov_container *o = &ov->containers[which[i]];
        const char *m = member;
        /* memory and memoryReservation are checked together: a rule broken
         * by the overridden one of the pair is that one's. */
        if (!overridden(o, m) && strcmp(m, "memoryReservation") == 0 && o->has_memory)
            m = "memory";
        else if (!overridden(o, m) && strcmp(m, "memory") == 0 && o->has_memory_reservation)
            m = "memoryReservation";
        if (overridden(o, m)) {
            /* Indexes inside a merged environment are not the override's. */
            const char *rest = strcmp(m, "command") == 0 ? e->path + end : "";
            char path[300];
            snprintf(path, sizeof path, "overrides.containerOverrides[%ld].%s%.200s",
                     which[i], m, rest);
            json_errors_add(errs, path, "%s", e->message);
            return;
        }
    }
    if ((strcmp(e->path, "cpu") == 0 && ov->cpu) ||
        (strcmp(e->path, "memory") == 0 && ov->memory)) {
        char path[32];
        snprintf(path, sizeof path, "overrides.%s", e->path);
        json_errors_add(errs, path, "%s", e->message);
        return;
    }
    json_errors_add(errs, "overrides", "the task definition with these overrides "
                    "breaks its rules at %s: %s", *e->path ? e->path : "(document)",
                    e->message);
}

int overrides_apply(const struct overrides *ov, const char *td_json, char **merged,
                    cJSON **shown, struct json_errors *errs)
{
    cJSON *doc = cJSON_Parse(td_json);
    cJSON *defs = cJSON_GetObjectItemCaseSensitive(doc, "containerDefinitions");
    size_t n_defs = (size_t)cJSON_GetArraySize(defs), before = errs->n;
    long *which = NULL;
    char *text = NULL;
    struct taskdef *td = NULL;
    struct json_errors check = {0};

    *merged = NULL;
    *shown = NULL;
    if (!cJSON_IsObject(doc) || !cJSON_IsArray(defs) || n_defs == 0) {
        json_errors_add(errs, "", "the stored task definition is not a definition");
        goto done;
    }
    which = jw_calloc(n_defs, sizeof *which);
    for (size_t i = 0; i < n_defs; i++)
        which[i] = -1;
    for (size_t j = 0; j < ov->n_containers; j++) {
        const char *name = ov->containers[j].name;
        size_t i = 0;
        cJSON *c;
        cJSON_ArrayForEach(c, defs)
        {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name");
            if (cJSON_IsString(n) && name && strcmp(n->valuestring, name) == 0)
                break;
            i++;
        }
        char path[64];
        snprintf(path, sizeof path, "overrides.containerOverrides[%zu].name", j);
        if (!c) {
            json_errors_add(errs, path, "no container named \"%.64s\" in the task "
                            "definition", name ? name : "");
        } else if (which[i] >= 0) {
            json_errors_add(errs, path, "container \"%.64s\" is already overridden by "
                            "containerOverrides[%ld]", name, which[i]);
        } else {
            which[i] = (long)j;
            merge_container(c, &ov->containers[j]);
        }
    }
    if (errs->n > before)
        goto done;
    if (ov->cpu)
        set_member(doc, "cpu", cJSON_CreateString(ov->cpu));
    if (ov->memory)
        set_member(doc, "memory", cJSON_CreateString(ov->memory));
    text = cJSON_PrintUnformatted(doc);
    if (!text)
        abort();
    if (taskdef_parse(text, strlen(text), &td, &check) < 0) {
        for (size_t k = 0; k < check.n; k++)
            map_error(ov, which, n_defs, &check.v[k], errs);
        goto done;
    }
    /* The shown form: every container by name, with its override. */
    cJSON *s = cJSON_CreateObject();
    cJSON *cs = cJSON_AddArrayToObject(s, "containerOverrides");
    for (size_t i = 0; i < td->n_containers; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", td->containers[i].name);
        if (i < n_defs && which[i] >= 0) {
            const struct ov_container *o = &ov->containers[which[i]];
            if (o->has_command)
                cJSON_AddItemToObject(e, "command", strings_json(&o->command));
            if (o->has_environment) {
                cJSON *a = cJSON_AddArrayToObject(e, "environment");
                for (size_t k = 0; k < o->n_environment; k++)
                    cJSON_AddItemToArray(a, kv_json(&o->environment[k]));
            }
            if (o->has_environment_files) {
                cJSON *a = cJSON_AddArrayToObject(e, "environmentFiles");
                for (size_t k = 0; k < o->n_environment_files; k++)
                    cJSON_AddItemToArray(a, env_file_json(&o->environment_files[k]));
            }
            if (o->has_cpu)
                cJSON_AddNumberToObject(e, "cpu", (double)o->cpu);
            if (o->has_memory)
                cJSON_AddNumberToObject(e, "memory", (double)o->memory);
            if (o->has_memory_reservation)
                cJSON_AddNumberToObject(e, "memoryReservation",
                                        (double)o->memory_reservation);
        }
        cJSON_AddItemToArray(cs, e);
    }
    if (ov->cpu)
        cJSON_AddStringToObject(s, "cpu", ov->cpu);
    if (ov->memory)
        cJSON_AddStringToObject(s, "memory", ov->memory);
    if (ov->task_role_arn)
        cJSON_AddStringToObject(s, "taskRoleArn", ov->task_role_arn);
    if (ov->execution_role_arn)
        cJSON_AddStringToObject(s, "executionRoleArn", ov->execution_role_arn);
    cJSON_AddItemToObject(s, "inferenceAcceleratorOverrides", cJSON_CreateArray());
    *shown = s;
    *merged = text;
    text = NULL;
done:
    taskdef_free(td);
    json_errors_clear(&check);
    free(text);
    free(which);
    cJSON_Delete(doc);
    return *merged ? 0 : -1;
}

cJSON *overrides_shown_none(const struct taskdef *td)
{
    cJSON *s = cJSON_CreateObject();
    cJSON *cs = cJSON_AddArrayToObject(s, "containerOverrides");
    for (size_t i = 0; td && i < td->n_containers; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", td->containers[i].name);
        cJSON_AddItemToArray(cs, e);
    }
    cJSON_AddItemToObject(s, "inferenceAcceleratorOverrides", cJSON_CreateArray());
    return s;
}
