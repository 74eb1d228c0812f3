/* cmd_tasks.c: berth tasks, run and stop. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/views.h"

#define DESCRIBE_MAX 100 /* DescribeTasks takes at most 100 tasks */

/* "32768→80,32769→53/udp" from the containers' networkBindings. */
/* DescribeTasks of arns (any number), merged in one output object. */
static int describe_tasks(struct cli *c, const cJSON *arns, cJSON **merged)
{
    cJSON *all = cJSON_CreateObject();
    cJSON *tasks = cJSON_AddArrayToObject(all, "tasks");
    cJSON *failures = cJSON_AddArrayToObject(all, "failures");
    int n = cJSON_GetArraySize(arns);

    for (int i = 0; i < n; i += DESCRIBE_MAX) {
        cJSON *in = cJSON_CreateObject(), *out, *x;
        cJSON *list = cJSON_AddArrayToObject(in, "tasks");
        for (int j = i; j < n && j < i + DESCRIBE_MAX; j++)
            cJSON_AddItemToArray(list, cJSON_Duplicate(cJSON_GetArrayItem(arns, j), 0));
        if (cli_call(c, "DescribeTasks", in, &out) != 0) {
            cJSON_Delete(all);
            return EXIT_FAIL;
        }
        cJSON *got = cJSON_DetachItemFromObjectCaseSensitive(out, "tasks");
        while (got && (x = cJSON_DetachItemFromArray(got, 0)))
            cJSON_AddItemToArray(tasks, x);
        cJSON_Delete(got);
        got = cJSON_DetachItemFromObjectCaseSensitive(out, "failures");
        while (got && (x = cJSON_DetachItemFromArray(got, 0)))
            cJSON_AddItemToArray(failures, x);
        cJSON_Delete(got);
        cJSON_Delete(out);
    }
    *merged = all;
    return 0;
}

int cmd_tasks(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"service", required_argument, NULL, 's'},
        {"family", required_argument, NULL, 'f'},
        {"stopped", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    const struct command *self = command_find("tasks");
    const char *service = NULL, *family = NULL;
    int stopped = 0, rc = 0, k;

    while ((k = cli_getopt(c, self, argc, argv, "", opts, &rc)) != -1) {
        switch (k) {
        case -2: return rc;
        case 's': service = optarg; break;
        case 'f': family = optarg; break;
        case 'S': stopped = 1; break;
        }
    }
    if (optind < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind]);

    cJSON *in = cJSON_CreateObject(), *list;
    if (service)
        cJSON_AddStringToObject(in, "serviceName", service);
    if (family)
        cJSON_AddStringToObject(in, "family", family);
    cJSON_AddStringToObject(in, "desiredStatus", stopped ? "STOPPED" : "RUNNING");
    cJSON_AddNumberToObject(in, "maxResults", 100);
    rc = cli_list_all(c, "ListTasks", in, "taskArns", &list);
    cJSON_Delete(in);
    if (rc)
        return rc;

    cJSON *all = NULL;
    rc = describe_tasks(c, cJSON_GetObjectItemCaseSensitive(list, "taskArns"), &all);
    cJSON_Delete(list);
    if (rc)
        return rc;
    if (c->json)
        cli_print_json(all);
    else
    {
        struct table *t = view_tasks(cJSON_GetObjectItemCaseSensitive(all, "tasks"), c->tty.utf8);
        table_print(t, &c->tty, stdout);
        table_free(t);
    }
    cJSON_Delete(all);
    return EXIT_OK;
}

/* Polls the tasks until each is RUNNING or STOPPED, printing each change of
 * lastStatus (on stderr with --json). */
static int wait_tasks(struct cli *c, cJSON *arns)
{
    FILE *o = c->json ? stderr : stdout;
    int n = cJSON_GetArraySize(arns);
    char **last = calloc((size_t)n, sizeof(*last));
    int rc = EXIT_OK, done = 0;
    cJSON *all = NULL;

    while (!done) {
        cJSON_Delete(all);
        all = NULL;
        if (describe_tasks(c, arns, &all) != 0) {
            rc = EXIT_FAIL;
            break;
        }
        done = 1;
        const cJSON *task, *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(all, "failures")) {
            fprintf(stderr, "berth: task %s: %s\n", short_arn(jstr(f, "arn")),
                    jstr(f, "reason") ? jstr(f, "reason") : "failure");
            rc = EXIT_FAIL;
        }
        cJSON_ArrayForEach(task, cJSON_GetObjectItemCaseSensitive(all, "tasks")) {
            const char *st = jstr(task, "lastStatus"), *arn = jstr(task, "taskArn");
            int i = 0; /* the task's place in arns: its last status */
            while (i < n && !(arn && strcmp(arn, cJSON_GetStringValue(
                                                     cJSON_GetArrayItem(arns, i))) == 0))
                i++;
            if (!st)
                st = "?";
            if (i < n && (!last[i] || strcmp(last[i], st) != 0)) {
                free(last[i]);
                last[i] = strdup(st);
                fprintf(o, "%s %s\n", short_arn(jstr(task, "taskArn")), st);
            }
            if (strcmp(st, "STOPPED") == 0) {
                char why[1024];
                if (task_stopped_badly(task, why, sizeof(why))) {
                    fprintf(stderr, "berth: task %s stopped: %s\n",
                            short_arn(jstr(task, "taskArn")), why);
                    rc = EXIT_FAIL;
                }
            } else if (strcmp(st, "RUNNING") != 0) {
                done = 0;
            }
        }
        if (!done)
            sleep_s(1);
    }
    if (c->json && all)
        cli_print_json(all);
    cJSON_Delete(all);
    for (int i = 0; i < n; i++)
        free(last[i]);
    free(last);
    return rc;
}

int cmd_run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"count", required_argument, NULL, 'c'},
        {"wait", no_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    const struct command *self = command_find("run");
    long count = 1;
    int wait = 0, rc = 0, k;
    char *arn = NULL;

    while ((k = cli_getopt(c, self, argc, argv, "", opts, &rc)) != -1) {
        switch (k) {
        case -2: return rc;
        case 'c':
            if ((count = parse_count(optarg, 1, 10)) < 0)
                return cli_usage(self, "--count: '%s' is not a number from 1 to 10", optarg);
            break;
        case 'w': wait = 1; break;
        }
    }
    if (optind == argc)
        return cli_usage(self, "a task definition FILE or FAMILY[:REV] is needed");
    if (optind + 1 < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind + 1]);
    const char *ref = argv[optind];
    if (cli_is_file(ref)) {
        if ((rc = cli_register_file(c, ref, &arn)) != 0)
            return rc;
        ref = arn;
    }

    cJSON *in = cJSON_CreateObject(), *out;
    cJSON_AddStringToObject(in, "taskDefinition", ref);
    cJSON_AddNumberToObject(in, "count", (double)count);
    rc = cli_call(c, "RunTask", in, &out);
    free(arn);
    if (rc)
        return rc;
    const cJSON *f, *task;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(out, "failures")) {
        fprintf(stderr, "berth: RunTask failure: %s%s%s\n",
                jstr(f, "reason") ? jstr(f, "reason") : "unknown",
                jstr(f, "detail") ? ": " : "", jstr(f, "detail") ? jstr(f, "detail") : "");
        rc = EXIT_FAIL;
    }
    cJSON *arns = cJSON_CreateArray();
    cJSON_ArrayForEach(task, cJSON_GetObjectItemCaseSensitive(out, "tasks")) {
        cJSON_AddItemToArray(arns, cJSON_CreateString(jstr(task, "taskArn") ? jstr(task, "taskArn") : ""));
        if (!c->json)
            printf("started %s (%s)\n", short_arn(jstr(task, "taskArn")),
                   short_arn(jstr(task, "taskDefinitionArn")));
    }
    if (c->json && !wait)
        cli_print_json(out);
    cJSON_Delete(out);
    if (wait && cJSON_GetArraySize(arns) > 0) {
        int w = wait_tasks(c, arns);
        if (w)
            rc = w;
    }
    cJSON_Delete(arns);
    return rc;
}

int cmd_stop(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const struct command *self = command_find("stop");
    const char *reason = NULL;
    int rc = 0, k;

    while ((k = cli_getopt(c, self, argc, argv, "", opts, &rc)) != -1) {
        switch (k) {
        case -2: return rc;
        case 'r': reason = optarg; break;
        }
    }
    if (optind == argc)
        return cli_usage(self, "a TASK (id or ARN) is needed");
    if (optind + 1 < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind + 1]);
    cJSON *in = cJSON_CreateObject(), *out;
    cJSON_AddStringToObject(in, "task", argv[optind]);
    if (reason)
        cJSON_AddStringToObject(in, "reason", reason);
    if ((rc = cli_call(c, "StopTask", in, &out)) != 0)
        return rc;
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(out, "task");
    if (c->json)
        cli_print_json(out);
    else
        printf("stopping %s (last status %s, desired %s)\n", short_arn(jstr(task, "taskArn")),
               jstr(task, "lastStatus") ? jstr(task, "lastStatus") : "?",
               jstr(task, "desiredStatus") ? jstr(task, "desiredStatus") : "?");
    cJSON_Delete(out);
    return EXIT_OK;
}
