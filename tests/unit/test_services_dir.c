/* test_services_dir.c: services.d read and validated (errors with the file
 * and the JSON path, duplicates, order), and applied on a real store and
 * scheduler in a temp dir: created, unchanged, changed (a new revision and
 * a deployment, a scale), removed (deleted), API services left alone. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "agent/service.h"
#include "agent/services.h"
#include "agent/services_dir.h"
#include "agent/store.h"
#include "agent/taskdef.h"
#include "agent/tasks.h"
#include "tests/lib/tap.h"

static char tmpdir[] = "/tmp/test_services_dir.XXXXXX";
static char sddir[300];

#define TD(cmd) "{\"family\":\"web\",\"containerDefinitions\":[{\"name\":\"app\"," \
                "\"image\":\"busybox\",\"memory\":64,\"command\":[\"" cmd "\"]}]}"

static void put(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", sddir, name);
    FILE *fp = fopen(path, "w");
    if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0) {
        diag("cannot write %s", path);
        exit(1);
    }
}

static void rm(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", sddir, name);
    unlink(path);
}

static const struct sd_file *file(const struct sd_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

/* Whether one of f's errors starts with prefix (and holds part, if any). */
static int has_error(const struct sd_file *f, const char *prefix, const char *part)
{
    for (size_t i = 0; f && i < f->n_errors; i++)
        if (strncmp(f->errors[i], prefix, strlen(prefix)) == 0 &&
            (!part || strstr(f->errors[i], part)))
            return 1;
    for (size_t i = 0; f && i < f->n_errors; i++)
        diag("  error: %s", f->errors[i]);
    return 0;
}

static void test_load(void)
{
    struct sd_set s;
    char err[512], missing[400];

    snprintf(missing, sizeof missing, "%s/nowhere", tmpdir);
    ok(sd_load(missing, "default", &s, err, sizeof err) == 0 && s.n == 0,
       "a missing folder: no error, no file");
    sd_set_free(&s);

    /* The installed example must be a valid file. */
    char src[600], cmd[1400];
    snprintf(src, sizeof src, "%s/conf/services.d/web.json.example",
             getenv("top_srcdir") ? getenv("top_srcdir") : "..");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/example.json'", src, sddir);
    ok(system(cmd) == 0, "the example copied in");
    ok(sd_load(sddir, "default", &s, err, sizeof err) == 0 &&
           file(&s, "example.json") && file(&s, "example.json")->n_errors == 0 &&
           strcmp(file(&s, "example.json")->service_name, "web") == 0,
       "conf/services.d/web.json.example is valid");
    sd_set_free(&s);
    rm("example.json");

    put("web.json", "{\"taskDefinition\": " TD("a") ", \"service\": "
                    "{\"serviceName\": \"web\", \"desiredCount\": 2, "
                    "\"taskDefinition\": \"web\"}}");
    put("notes.txt", "not json");
    put("syntax.json", "{\n  \"service\": ,\n}");
    put("paths.json", "{\"taskDefinition\": {\"family\": \"p\", \"containerDefinitions\":"
                      " [{\"name\": \"c\", \"image\": \"busybox\", \"memory\": \"x\"}]},"
                      " \"service\": {\"serviceName\": \"p\", \"deploymentConfiguration\":"
                      " {\"maximumPercent\": \"lots\"}, \"taskDefinition\": \"other\"},"
                      " \"extra\": 1}");
    put("dup1.json", "{\"taskDefinition\": " TD("a") ", \"service\": {\"serviceName\": \"d\"}}");
    put("dup2.json", "{\"taskDefinition\": " TD("a") ", \"service\": {\"serviceName\": \"d\"}}");
    put("other.json", "{\"taskDefinition\": " TD("a") ", \"service\": {\"serviceName\": "
                      "\"o\", \"cluster\": \"elsewhere\"}}");
    put("array.json", "[1]");
    put("nocount.json", "{\"taskDefinition\": " TD("a") ", \"service\": "
                        "{\"serviceName\": \"n\"}}");
    ok(sd_load(sddir, "default", &s, err, sizeof err) == 0, "the folder loads");
    ok(s.n == 8, "only the *.json files (%zu)", s.n);
    int sorted = 1;
    for (size_t i = 1; i < s.n; i++)
        sorted &= strcmp(s.v[i - 1].name, s.v[i].name) < 0;
    ok(sorted, "in name order");
    const struct sd_file *f = file(&s, "web.json");
    ok(f && f->n_errors == 0 && f->td && f->service_name &&
           strcmp(f->service_name, "web") == 0 &&
           !cJSON_GetObjectItem(f->service, "taskDefinition"),
       "a valid file: its definition and service (taskDefinition, the family, dropped)");
    ok(has_error(file(&s, "syntax.json"), "syntax.json:2:14: invalid JSON", NULL),
       "a syntax error as FILE:LINE:COL");
    f = file(&s, "paths.json");
    ok(has_error(f, "paths.json: service.deploymentConfiguration.maximumPercent: ", NULL),
       "a service error with its JSON path");
    ok(has_error(f, "paths.json: taskDefinition.containerDefinitions[0].memory: ", NULL),
       "a definition error with its JSON path");
    ok(has_error(f, "paths.json: service.taskDefinition: must be the family", "other"),
       "service.taskDefinition must be the file's family");
    ok(has_error(f, "paths.json: extra: unknown field", NULL), "an unknown member");
    ok(has_error(file(&s, "dup1.json"), "dup1.json: service.serviceName: ", "dup2.json") &&
           has_error(file(&s, "dup2.json"), "dup2.json: service.serviceName: ", "dup1.json"),
       "two files naming one service: both in error, each naming the other");
    ok(has_error(file(&s, "other.json"), "other.json: service.cluster: ", "elsewhere"),
       "another cluster is an error");
    ok(has_error(file(&s, "array.json"), "array.json: expected an object", NULL),
       "a document that is not an object");
    ok(has_error(file(&s, "nocount.json"), "nocount.json: service: ", "desiredCount"),
       "values that do not fit together (REPLICA without desiredCount), found at load");
    sd_set_free(&s);
    rm("nocount.json");
    rm("syntax.json");
    rm("paths.json");
    rm("dup1.json");
    rm("dup2.json");
    rm("other.json");
    rm("array.json");
    rm("notes.txt");
}

static int64_t revision_of(struct store *st, const char *family)
{
    struct store_taskdef rec = {0};
    int64_t r = store_td_describe(st, family, &rec, NULL, 0) == STORE_OK ? rec.revision : 0;
    store_taskdef_free(&rec);
    return r;
}

static void apply(const struct sd_env *env, struct sd_result *r)
{
    struct sd_set s;
    char err[512];
    if (sd_load(sddir, env->cluster, &s, err, sizeof err) < 0) {
        diag("load: %s", err);
        exit(1);
    }
    sd_apply(&s, env, r);
    sd_set_free(&s);
}

static void test_apply(struct ev_loop *loop, struct store *st, struct tasks *tasks)
{
    struct services_conf sc = {.cluster = "default", .region = "eu-west-3",
                               .account_id = "123456789012"};
    char err[512];
    struct services *m = services_new(loop, st, tasks, &sc, err, sizeof err);
    struct sd_env env = {.st = st, .svcs = m, .cluster = "default", .region = "eu-west-3",
                         .account_id = "123456789012", .now_ms = 1700000000000};
    struct sd_result r;
    struct service *web;

    ok(m != NULL, "a scheduler on a real store");
    if (!m)
        return;
    /* A service made through the API. */
    struct svc_input in;
    struct json_errors errs = {0};
    cJSON *api_in = cJSON_Parse("{\"serviceName\": \"api\", \"desiredCount\": 1}");
    service_input_parse(api_in, false, &in, &errs);
    ok(store_td_register(st, "apidef", "{}", NULL, 0, NULL, err, sizeof err) == STORE_OK,
       "a definition for the API service");
    struct service *api = service_new(&in, api_in, "arn:aws:ecs:eu-west-3:123456789012:"
                                      "task-definition/apidef:1", "eu-west-3",
                                      "123456789012", "default", env.now_ms, err, sizeof err);
    ok(api && services_create(m, api, err, sizeof err) == 0, "a service created as the API does");
    service_input_free(&in, false);
    json_errors_clear(&errs);
    cJSON_Delete(api_in);

    apply(&env, &r);
    web = services_find(m, "web");
    ok(r.created == 1 && r.failed == 0 && web && web->status == SVC_ACTIVE &&
           web->desired_count == 2 && web->sd_file && strcmp(web->sd_file, "web.json") == 0,
       "start: the file's service is created, 2 tasks, marked with its file");
    ok(revision_of(st, "web") == 1, "its definition registered as web:1");
    size_t events = web ? web->n_events : 0, deps = web ? web->n_deps : 0;

    apply(&env, &r);
    ok(r.unchanged == 1 && r.created == 0 && r.updated == 0 && r.deleted == 0,
       "the same file again: unchanged");
    ok(revision_of(st, "web") == 1 && web->n_deps == deps && web->n_events == events,
       "no new revision, no deployment, no event");

    put("web.json", "{\"taskDefinition\": " TD("b") ", \"service\": "
                    "{\"serviceName\": \"web\", \"desiredCount\": 2}}");
    apply(&env, &r);
    ok(r.updated == 1 && revision_of(st, "web") == 2, "a changed command: web:2 registered");
    ok(web->n_deps == deps + 1 && strstr(service_primary(web)->taskdef_arn, "web:2"),
       "and a deployment of it");

    put("web.json", "{\"taskDefinition\": " TD("b") ", \"service\": "
                    "{\"serviceName\": \"web\", \"desiredCount\": 3}}");
    deps = web->n_deps;
    apply(&env, &r);
    ok(r.updated == 1 && web->desired_count == 3 && web->n_deps == deps &&
           revision_of(st, "web") == 2,
       "a changed desiredCount: scaled, no new revision or deployment");

    put("web.json", "{\"taskDefinition\": " TD("c") ", \"service\": {\"serviceName\": "
                    "\"web\", \"desiredCount\": 3, \"deploymentConfiguration\": "
                    "{\"maximumPercent\": -1}}}");
    apply(&env, &r);
    ok(r.failed == 1 && r.deleted == 0 && web->status == SVC_ACTIVE &&
           revision_of(st, "web") == 2 && web->desired_count == 3,
       "a broken file: skipped, its service kept as it was");

    put("api.json", "{\"taskDefinition\": " TD("a") ", \"service\": "
                    "{\"serviceName\": \"api\", \"desiredCount\": 5}}");
    apply(&env, &r);
    ok(r.failed == 2 && api->desired_count == 1 && !api->sd_file,
       "a file naming a service made through the API: an error, the service untouched");
    rm("api.json");

    put("web.json", "{\"taskDefinition\": " TD("b") ", \"service\": "
                    "{\"serviceName\": \"web\", \"desiredCount\": 3}}");
    put("second.json", "{\"taskDefinition\": " TD("b") ", \"service\": "
                       "{\"serviceName\": \"second\", \"desiredCount\": 1}}");
    apply(&env, &r);
    ok(r.created == 1 && r.unchanged == 1 && services_find(m, "second") &&
           revision_of(st, "web") == 2,
       "a second file: its service created, the same definition reused");

    rm("web.json");
    apply(&env, &r);
    ok(r.deleted == 1 && web->status == SVC_DRAINING && web->desired_count == 0,
       "a removed file: its service scaled to zero and deleted");
    ok(api->status == SVC_ACTIVE && api->desired_count == 1 &&
           services_find(m, "second")->status == SVC_ACTIVE,
       "the API's service and the other file's untouched");
    apply(&env, &r);
    ok(r.deleted == 0 && r.unchanged == 1, "deleted once only");
    rm("second.json");
    services_free(m);
}

int main(void)
{
    char dbp[400], err[512];
    struct store *st = NULL;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);

    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(sddir, sizeof sddir, "%s/services.d", tmpdir);
    snprintf(dbp, sizeof dbp, "%s/berth.db", tmpdir);
    if (mkdir(sddir, 0700) != 0) {
        perror("mkdir");
        return 1;
    }
    test_load();
    ok(store_open(dbp, "eu-west-3", "123456789012", &st, err, sizeof err) == STORE_OK,
       "a store in a temp dir");
    /* A reserved port: tasks_new copies the list with memcpy, which UBSan
     * faults when it is NULL (a tasks.c matter, reported to the lead). */
    const uint16_t reserved[] = {22};
    struct tasks_conf tc = {.cluster = "default", .region = "eu-west-3",
                            .account_id = "123456789012", .port_first = 48500,
                            .port_last = 48999, .retention_ms = 60000,
                            .reserved_ports = reserved, .n_reserved_ports = 1};
    struct tasks *tasks = tasks_new(loop, st, &tc, err, sizeof err);
    ok(tasks != NULL, "a task manager without engine");
    if (st && tasks)
        test_apply(loop, st, tasks);
    tasks_free(tasks);
    store_close(st);
    ev_loop_destroy(loop);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        diag("cannot remove %s", tmpdir);
    return done_testing();
}
