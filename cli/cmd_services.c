/* cmd_services.c: berth services, scale, deploy and events.
 *
 * API calls and members relied on (botocore's ECS model): ListServices
 * {cluster, maxResults, nextToken} -> {serviceArns, nextToken};
 * DescribeServices {cluster, services (<= 10)} -> {services[], failures[]};
 * UpdateService {cluster, service, desiredCount | taskDefinition,
 * forceNewDeployment} -> {service}.  Service members: serviceName, status,
 * desiredCount, runningCount, pendingCount, taskDefinition, deployments[]
 * (see cli/follow.h), events[].{id, createdAt, message}. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/follow.h"
#include "cli/views.h"

#define DESCRIBE_MAX 10 /* DescribeServices takes at most 10 services */
#define POLL_S 2.0

static void move_items(cJSON *from, cJSON *to)
{
    cJSON *x;
    while (from && (x = cJSON_DetachItemFromArray(from, 0)))
        cJSON_AddItemToArray(to, x);
}

/* DescribeServices of names (any number), merged. */
static int describe_services(struct cli *c, const cJSON *names, cJSON **merged)
{
    cJSON *all = cJSON_CreateObject();
    cJSON *services = cJSON_AddArrayToObject(all, "services");
    cJSON *failures = cJSON_AddArrayToObject(all, "failures");
    int n = cJSON_GetArraySize(names);

    for (int i = 0; i < n; i += DESCRIBE_MAX) {
        cJSON *in = cJSON_CreateObject(), *out, *x;
        cJSON *list = cJSON_AddArrayToObject(in, "services");
        for (int j = i; j < n && j < i + DESCRIBE_MAX; j++)
            cJSON_AddItemToArray(list, cJSON_Duplicate(cJSON_GetArrayItem(names, j), 0));
        if (cli_call(c, "DescribeServices", in, &out) != 0) {
            cJSON_Delete(all);
            return EXIT_FAIL;
        }
        x = cJSON_DetachItemFromObjectCaseSensitive(out, "services");
        move_items(x, services);
        cJSON_Delete(x);
        x = cJSON_DetachItemFromObjectCaseSensitive(out, "failures");
        move_items(x, failures);
        cJSON_Delete(x);
        cJSON_Delete(out);
    }
    *merged = all;
    return 0;
}

/* One service by name: NULL after printing why (a failure such as
 * MISSING, or the API's error). */
static cJSON *describe_one(struct cli *c, const char *name)
{
    cJSON *names = cJSON_CreateArray(), *all = NULL;
    cJSON_AddItemToArray(names, cJSON_CreateString(name));
    int rc = describe_services(c, names, &all);
    cJSON_Delete(names);
    if (rc)
        return NULL;
    cJSON *s = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(all, "services"), 0);
    if (!s) {
        const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(all, "failures"), 0);
        fprintf(stderr, "berth: service %s: %s\n", name,
                f && jstr(f, "reason") ? jstr(f, "reason") : "not found");
    }
    cJSON_Delete(all);
    return s;
}

int cmd_services(struct cli *c, int argc, char **argv)
{
    const struct command *self = command_find("services");
    int rc = 0, k;
    while ((k = cli_getopt(c, self, argc, argv, "", NULL, &rc)) != -1)
        if (k == -2)
            return rc;
    if (optind < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind]);

    cJSON *in = cJSON_CreateObject(), *list;
    cJSON_AddNumberToObject(in, "maxResults", 100);
    rc = cli_list_all(c, "ListServices", in, "serviceArns", &list);
    cJSON_Delete(in);
    if (rc)
        return rc;
    cJSON *all = NULL;
    rc = describe_services(c, cJSON_GetObjectItemCaseSensitive(list, "serviceArns"), &all);
    cJSON_Delete(list);
    if (rc)
        return rc;
    if (c->json) {
        cli_print_json(all);
        cJSON_Delete(all);
        return EXIT_OK;
    }
    struct table *t = view_services(cJSON_GetObjectItemCaseSensitive(all, "services"));
    table_print(t, &c->tty, stdout);
    table_free(t);
    cJSON_Delete(all);
    return EXIT_OK;
}

int cmd_scale(struct cli *c, int argc, char **argv)
{
    const struct command *self = command_find("scale");
    int rc = 0, k;
    while ((k = cli_getopt(c, self, argc, argv, "", NULL, &rc)) != -1)
        if (k == -2)
            return rc;
    if (argc - optind != 2)
        return cli_usage(self, "SERVICE and N are needed");
    long n = parse_count(argv[optind + 1], 0, 1000000);
    if (n < 0)
        return cli_usage(self, "N: '%s' is not a whole number of tasks", argv[optind + 1]);
    cJSON *in = cJSON_CreateObject(), *out;
    cJSON_AddStringToObject(in, "service", argv[optind]);
    cJSON_AddNumberToObject(in, "desiredCount", (double)n);
    if ((rc = cli_call(c, "UpdateService", in, &out)) != 0)
        return rc;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(out, "service");
    if (c->json)
        cli_print_json(out);
    else
        printf("%s: desired count %ld (running %ld)\n",
               jstr(s, "serviceName") ? jstr(s, "serviceName") : argv[optind],
               jlong(s, "desiredCount", n), jlong(s, "runningCount", 0));
    cJSON_Delete(out);
    return EXIT_OK;
}

static volatile sig_atomic_t interrupted;
static void on_int(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Follows the deployment UpdateService started (s: its service) until it
 * ends, the timeout (seconds, 0: none) passes or the user interrupts. */
static int follow_deployment(struct cli *c, const char *service, const cJSON *s,
                             long timeout, FILE *o)
{
    int rc;
    struct follow f;
    if (follow_start(&f, s) < 0) {
        fprintf(stderr, "berth: %s: %s\n", service, f.reason);
        follow_free(&f);
        return EXIT_FAIL;
    }
    signal(SIGINT, on_int);
    double deadline = timeout ? now_mono() + (double)timeout : 0;
    enum follow_rc fr = FOLLOW_PROGRESS;
    cJSON *last = NULL;
    rc = EXIT_FAIL;
    while (!interrupted) {
        cJSON *now = describe_one(c, service);
        if (!now)
            break;
        struct lines l = {0};
        fr = follow_step(&f, now, &l);
        for (size_t i = 0; i < l.n; i++)
            fprintf(o, "%s\n", l.v[i]);
        fflush(o);
        lines_clear(&l);
        cJSON_Delete(last);
        last = now;
        if (fr == FOLLOW_DONE) {
            fprintf(o, "%s: deployment %s completed\n", service, f.deployment_id);
            rc = EXIT_OK;
            break;
        }
        if (fr == FOLLOW_FAILED) {
            fprintf(stderr, "berth: %s: deployment %s failed: %s\n", service,
                    f.deployment_id, f.reason);
            break;
        }
        if (deadline && now_mono() >= deadline) {
            fprintf(stderr, "berth: %s: deployment %s not finished after %lds "
                            "(--timeout); it goes on: 'berth events %s --follow' "
                            "shows it\n",
                    service, f.deployment_id, timeout, service);
            break;
        }
        sleep_s(POLL_S);
    }
    if (interrupted)
        fprintf(stderr, "berth: interrupted; deployment %s goes on\n", f.deployment_id);
    if (c->json && last) {
        cJSON *wrap = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(wrap, "services");
        cJSON_AddItemToArray(arr, last);
        cJSON_AddArrayToObject(wrap, "failures");
        cli_print_json(wrap);
        cJSON_Delete(wrap);
    } else {
        cJSON_Delete(last);
    }
    follow_free(&f);
    return rc;
}

int cmd_deploy(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {"no-follow", no_argument, NULL, 'N'},
        {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const struct command *self = command_find("deploy");
    int force = 0, follow = 1, rc = 0, k;
    long timeout = 30 * 60;
    char *arn = NULL;

    while ((k = cli_getopt(c, self, argc, argv, "", opts, &rc)) != -1) {
        switch (k) {
        case -2: return rc;
        case 'f': force = 1; break;
        case 'N': follow = 0; break;
        case 't':
            if ((timeout = parse_duration(optarg)) < 0)
                return cli_usage(self, "--timeout: '%s' is not a duration (90s, 10m, 1h)",
                                 optarg);
            break;
        }
    }
    if (optind == argc)
        return cli_usage(self, "a SERVICE is needed");
    if (argc - optind > 2)
        return cli_usage(self, "unexpected argument '%s'", argv[optind + 2]);
    const char *service = argv[optind], *ref = argc - optind == 2 ? argv[optind + 1] : NULL;
    /* The PRIMARY deployment before: if it is still PRIMARY after
     * UpdateService, nothing new was started. */
    cJSON *before = describe_one(c, service);
    if (!before)
        return EXIT_FAIL;
    char *before_id = jstr(service_primary(before), "id")
                          ? strdup(jstr(service_primary(before), "id")) : NULL;
    if (!ref && !force) {
        /* The latest ACTIVE revision of the family the service runs: ECS
         * takes a bare family to mean that. */
        const char *td = short_arn(jstr(before, "taskDefinition"));
        const char *colon = strchr(td, ':');
        arn = strndup(td, colon ? (size_t)(colon - td) : strlen(td));
        ref = arn;
    } else if (ref && cli_is_file(ref)) {
        rc = cli_register_file(c, ref, &arn);
        ref = arn;
    }
    cJSON_Delete(before);
    if (rc) {
        free(before_id);
        return rc;
    }

    cJSON *in = cJSON_CreateObject(), *out;
    cJSON_AddStringToObject(in, "service", service);
    if (ref)
        cJSON_AddStringToObject(in, "taskDefinition", ref);
    if (force)
        cJSON_AddBoolToObject(in, "forceNewDeployment", 1);
    rc = cli_call(c, "UpdateService", in, &out);
    free(arn);
    if (rc) {
        free(before_id);
        return rc;
    }
    FILE *o = c->json ? stderr : stdout;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(out, "service");
    const cJSON *p = service_primary(s);
    int same = before_id && jstr(p, "id") && strcmp(before_id, jstr(p, "id")) == 0;
    free(before_id);
    if (same) {
        /* UpdateService started nothing: the definition is the one running. */
        fprintf(o, "%s: no new deployment: it already runs %s (--force deploys it again)\n",
                service, short_arn(jstr(s, "taskDefinition")));
        if (c->json)
            cli_print_json(out);
        cJSON_Delete(out);
        return EXIT_OK;
    }
    fprintf(o, "%s: deployment %s of %s started\n", service,
            jstr(p, "id") ? jstr(p, "id") : "?", short_arn(jstr(s, "taskDefinition")));
    if (!follow) {
        if (c->json)
            cli_print_json(out);
        cJSON_Delete(out);
        return EXIT_OK;
    }

    rc = follow_deployment(c, service, s, timeout, o);
    cJSON_Delete(out);
    return rc;
}

static void print_event(struct cli *c, const cJSON *e)
{
    if (c->json) {
        char *j = cJSON_PrintUnformatted(e);
        printf("%s\n", j ? j : "{}");
        cJSON_free(j);
        return;
    }
    char line[2048];
    view_event(e, line, sizeof(line));
    printf("%s\n", line);
}

int cmd_events(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"lines", required_argument, NULL, 'n'},
        {"follow", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    const struct command *self = command_find("events");
    long lines = 20;
    int follow = 0, rc = 0, k;

    while ((k = cli_getopt(c, self, argc, argv, "n:", opts, &rc)) != -1) {
        switch (k) {
        case -2: return rc;
        case 'n':
            if ((lines = parse_count(optarg, 0, 100000)) < 0)
                return cli_usage(self, "-n: '%s' is not a whole number", optarg);
            break;
        case 'F': follow = 1; break;
        }
    }
    if (optind == argc)
        return cli_usage(self, "a SERVICE is needed");
    if (optind + 1 < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind + 1]);
    const char *name = argv[optind];
    cJSON *s = describe_one(c, name);
    if (!s)
        return EXIT_FAIL;

    const cJSON *events = cJSON_GetObjectItemCaseSensitive(s, "events");
    int n = cJSON_GetArraySize(events), from = n < lines ? n : (int)lines;
    if (c->json && !follow) {
        cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "events");
        for (int i = from - 1; i >= 0; i--)
            cJSON_AddItemToArray(a, cJSON_Duplicate(cJSON_GetArrayItem(events, i), 1));
        cli_print_json(o);
        cJSON_Delete(o);
        cJSON_Delete(s);
        return EXIT_OK;
    }
    for (int i = from - 1; i >= 0; i--)
        print_event(c, cJSON_GetArrayItem(events, i));
    fflush(stdout);
    if (!follow) {
        cJSON_Delete(s);
        return EXIT_OK;
    }
    /* The ids shown (or skipped by -n) so far: only newer ones print. */
    struct lines seen = {0};
    const cJSON *e;
    cJSON_ArrayForEach(e, events)
        if (jstr(e, "id"))
            lines_add(&seen, "%s", jstr(e, "id"));
    cJSON_Delete(s);
    signal(SIGINT, on_int);
    rc = EXIT_OK;
    while (!interrupted) {
        sleep_s(POLL_S);
        if (interrupted)
            break;
        if (!(s = describe_one(c, name))) {
            rc = EXIT_FAIL;
            break;
        }
        events = cJSON_GetObjectItemCaseSensitive(s, "events");
        for (int i = cJSON_GetArraySize(events) - 1; i >= 0; i--) {
            e = cJSON_GetArrayItem(events, i);
            const char *id = jstr(e, "id");
            size_t j = 0;
            while (id && j < seen.n && strcmp(seen.v[j], id) != 0)
                j++;
            if (!id || j < seen.n)
                continue;
            lines_add(&seen, "%s", id);
            print_event(c, e);
        }
        fflush(stdout);
        cJSON_Delete(s);
    }
    lines_clear(&seen);
    return rc;
}
