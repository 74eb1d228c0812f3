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
#include "cli/views.h"


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
        view_object(obj, stdout);
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
        view_object(cJSON_GetObjectItemCaseSensitive(out, "taskDefinition"), stdout);
    cJSON_Delete(out);
    return EXIT_OK;
}
