/* cmd_describe.c: berth describe task|service|taskdef REF: the API's
 * object as indented "key: value" lines.
 *
 * API calls: DescribeTasks {tasks: [REF]}, DescribeServices {services:
 * [REF]} (-> objects and failures[].{arn, reason}) and
 * DescribeTaskDefinition {taskDefinition: REF} -> {taskDefinition}. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define EVENTS_SHOWN 5

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

static int describe_list(struct cli *c, const char *action, const char *member_name,
                         const char *ref)
{
    cJSON *in = cJSON_CreateObject(), *out;
    cJSON_AddItemToObject(in, member_name, cJSON_CreateStringArray(&ref, 1));
    if (cli_call(c, action, in, &out) != 0)
        return EXIT_FAIL;
    const cJSON *obj = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, member_name), 0);
    int rc = EXIT_OK;
    if (!obj) {
        const cJSON *fl = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, "failures"), 0);
        fprintf(stderr, "berth: %.*s %s: %s\n", (int)strlen(member_name) - 1, member_name,
                ref, fl && jstr(fl, "reason") ? jstr(fl, "reason") : "not found");
        rc = EXIT_FAIL;
    } else if (c->json) {
        cli_print_json(out);
    } else {
        show(obj, 0, stdout);
    }
    cJSON_Delete(out);
    return rc;
}

int cmd_describe(struct cli *c, int argc, char **argv)
{
    const struct command *self = command_find("describe");
    int rc = 0, k;
    while ((k = cli_getopt(c, self, argc, argv, "", NULL, &rc)) != -1)
        if (k == -2)
            return rc;
    if (argc - optind != 2)
        return cli_usage(self, "a kind (task, service or taskdef) and a REF are needed");
    const char *kind = argv[optind], *ref = argv[optind + 1];
    if (strcmp(kind, "task") == 0)
        return describe_list(c, "DescribeTasks", "tasks", ref);
    if (strcmp(kind, "service") == 0)
        return describe_list(c, "DescribeServices", "services", ref);
    if (strcmp(kind, "taskdef") != 0)
        return cli_usage(self, "unknown kind '%s': task, service or taskdef", kind);

    cJSON *in = cJSON_CreateObject(), *out;
    cJSON_AddStringToObject(in, "taskDefinition", ref);
    if (cli_call(c, "DescribeTaskDefinition", in, &out) != 0)
        return EXIT_FAIL;
    if (c->json)
        cli_print_json(out);
    else
        show(cJSON_GetObjectItemCaseSensitive(out, "taskDefinition"), 0, stdout);
    cJSON_Delete(out);
    return EXIT_OK;
}
