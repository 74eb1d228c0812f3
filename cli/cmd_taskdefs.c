/* cmd_taskdefs.c: berth taskdefs [FAMILY].
 *
 * API calls: ListTaskDefinitionFamilies {status ACTIVE, nextToken} ->
 * {families, nextToken}; ListTaskDefinitions {familyPrefix, status ACTIVE
 * or INACTIVE, sort, nextToken} -> {taskDefinitionArns, nextToken}. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int list_revisions(struct cli *c, const char *family, const char *status,
                          const char *sort, cJSON **out)
{
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "familyPrefix", family);
    cJSON_AddStringToObject(in, "status", status);
    cJSON_AddStringToObject(in, "sort", sort);
    int rc = cli_list_all(c, "ListTaskDefinitions", in, "taskDefinitionArns", out);
    cJSON_Delete(in);
    return rc;
}

static long revision_of(const char *arn)
{
    const char *colon = strrchr(short_arn(arn), ':');
    return colon ? atol(colon + 1) : 0;
}

static int families(struct cli *c)
{
    cJSON *in = cJSON_CreateObject(), *all;
    cJSON_AddStringToObject(in, "status", "ACTIVE");
    int rc = cli_list_all(c, "ListTaskDefinitionFamilies", in, "families", &all);
    cJSON_Delete(in);
    if (rc)
        return rc;
    if (c->json) {
        cli_print_json(all);
        cJSON_Delete(all);
        return EXIT_OK;
    }
    static const char *const head[] = {"FAMILY", "LATEST", "ACTIVE-REVISIONS"};
    struct table *t = table_new(3, head);
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(all, "families")) {
        cJSON *revs;
        if (!cJSON_IsString(f) || list_revisions(c, f->valuestring, "ACTIVE", "DESC", &revs)) {
            table_free(t);
            cJSON_Delete(all);
            return EXIT_FAIL;
        }
        const cJSON *arns = cJSON_GetObjectItemCaseSensitive(revs, "taskDefinitionArns");
        char latest[24], n[24];
        snprintf(latest, sizeof(latest), "%ld",
                 revision_of(cJSON_GetStringValue(cJSON_GetArrayItem(arns, 0))));
        snprintf(n, sizeof(n), "%d", cJSON_GetArraySize(arns));
        const char *row[] = {f->valuestring, latest, n};
        table_add(t, row);
        cJSON_Delete(revs);
    }
    table_print(t, &c->tty, stdout);
    table_free(t);
    cJSON_Delete(all);
    return EXIT_OK;
}

int cmd_taskdefs(struct cli *c, int argc, char **argv)
{
    const struct command *self = command_find("taskdefs");
    int rc = 0, k;
    while ((k = cli_getopt(c, self, argc, argv, "", NULL, &rc)) != -1)
        if (k == -2)
            return rc;
    if (optind == argc)
        return families(c);
    if (optind + 1 < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind + 1]);

    const char *family = argv[optind];
    cJSON *active, *inactive;
    if (list_revisions(c, family, "ACTIVE", "ASC", &active))
        return EXIT_FAIL;
    if (list_revisions(c, family, "INACTIVE", "ASC", &inactive)) {
        cJSON_Delete(active);
        return EXIT_FAIL;
    }
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "ACTIVE", active);
        cJSON_AddItemToObject(o, "INACTIVE", inactive);
        cli_print_json(o);
        cJSON_Delete(o);
        return EXIT_OK;
    }
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(active, "taskDefinitionArns"), 0);
    const cJSON *i = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(inactive, "taskDefinitionArns"), 0);
    if (!a && !i) {
        fprintf(stderr, "berth: no task definition of family '%s'\n", family);
        cJSON_Delete(active);
        cJSON_Delete(inactive);
        return EXIT_FAIL;
    }
    static const char *const head[] = {"TASK-DEFINITION", "STATUS", "ARN"};
    struct table *t = table_new(3, head);
    /* Both lists ascend by revision: merge them. */
    while (a || i) {
        int take_a = a && (!i || revision_of(a->valuestring) < revision_of(i->valuestring));
        const cJSON *x = take_a ? a : i;
        const char *row[] = {short_arn(x->valuestring), take_a ? "ACTIVE" : "INACTIVE",
                             x->valuestring};
        table_add(t, row);
        table_color(t, 1, status_color(row[1]));
        if (take_a)
            a = a->next;
        else
            i = i->next;
    }
    table_print(t, &c->tty, stdout);
    table_free(t);
    cJSON_Delete(active);
    cJSON_Delete(inactive);
    return EXIT_OK;
}
