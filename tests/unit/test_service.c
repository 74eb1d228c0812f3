/* test_service.c: the service model (input, defaults, deployments, events,
 * JSON), the deployment arithmetic, the draining hook's bookkeeping, and
 * services in the store (incl. the migration of a schema 2 database). */
#include "config.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agent/drain.h"
#include "agent/service.h"
#include "agent/services.h"
#include "agent/store.h"
#include "tests/lib/tap.h"

#define REGION "eu-west-3"
#define ACCOUNT "123456789012"
#define TD1 "arn:aws:ecs:" REGION ":" ACCOUNT ":task-definition/web:1"
#define TD2 "arn:aws:ecs:" REGION ":" ACCOUNT ":task-definition/web:2"

static char tmpdir[] = "/tmp/test_service.XXXXXX";

static bool matches(const char *s, const char *re)
{
    regex_t r;
    bool m;
    if (!s || regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    m = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return m;
}

/* ---- arithmetic ---- */

static void test_arithmetic(void)
{
    ok(service_min_healthy(3, 100) == 3 && service_min_healthy(3, 50) == 2 &&
           service_min_healthy(4, 50) == 2 && service_min_healthy(1, 0) == 0 &&
           service_min_healthy(5, 1) == 1,
       "min healthy = ceil(desired x min%% / 100)");
    ok(service_max_running(3, 200) == 6 && service_max_running(3, 150) == 4 &&
           service_max_running(1, 100) == 1 && service_max_running(5, 199) == 9,
       "max running = floor(desired x max%% / 100)");
    ok(service_cb_threshold(0) == 3 && service_cb_threshold(1) == 3 &&
           service_cb_threshold(6) == 3 && service_cb_threshold(7) == 4 &&
           service_cb_threshold(10) == 5 && service_cb_threshold(398) == 199 &&
           service_cb_threshold(399) == 200 && service_cb_threshold(5000) == 200,
       "circuit breaker threshold = clamp(ceil(desired / 2), 3, 200)");
    ok(service_backoff_ms(0, 2000, 900000) == 0 &&
           service_backoff_ms(1, 2000, 900000) == 2000 &&
           service_backoff_ms(2, 2000, 900000) == 4000 &&
           service_backoff_ms(3, 2000, 900000) == 8000 &&
           service_backoff_ms(9, 2000, 900000) == 512000 &&
           service_backoff_ms(10, 2000, 900000) == 900000 &&
           service_backoff_ms(1000, 2000, 900000) == 900000,
       "backoff: none, then doubling from the base up to the cap (15 min)");
}

/* ---- model ---- */

static char *parse_err(const char *json, bool update, struct svc_input *in,
                       struct json_errors *errs)
{
    cJSON *j = cJSON_Parse(json);
    char *msg = NULL;
    memset(errs, 0, sizeof *errs);
    if (service_input_parse(j, update, in, errs) < 0)
        msg = json_errors_message(errs);
    cJSON_Delete(j);
    return msg;
}

static struct service *make(const char *json, char *err, size_t errlen)
{
    struct svc_input in;
    struct json_errors errs;
    cJSON *j = cJSON_Parse(json);
    struct service *s = NULL;

    memset(&errs, 0, sizeof errs);
    if (service_input_parse(j, false, &in, &errs) == 0)
        s = service_new(&in, j, TD1, REGION, ACCOUNT, "prod", 1700000000000, err,
                        errlen);
    else
        snprintf(err, errlen, "input refused");
    service_input_free(&in, false);
    json_errors_clear(&errs);
    cJSON_Delete(j);
    return s;
}

static void refused(const char *json, bool update, const char *path, const char *what)
{
    struct svc_input in;
    struct json_errors errs;
    char *msg = parse_err(json, update, &in, &errs);
    like(msg, path, "%s is refused naming %s", what, path);
    free(msg);
    service_input_free(&in, update);
    json_errors_clear(&errs);
}

static void test_input(void)
{
    struct svc_input in;
    struct json_errors errs;
    char *msg = parse_err(
        "{\"serviceName\":\"web\",\"taskDefinition\":\"web\",\"desiredCount\":3,"
        "\"capacityProviderStrategy\":[],\"loadBalancers\":[{\"targetGroupArn\":\"tg\","
        "\"containerName\":\"app\",\"containerPort\":8080}],"
        "\"deploymentConfiguration\":{\"deploymentCircuitBreaker\":{\"enable\":true,"
        "\"rollback\":true},\"maximumPercent\":150}}",
        false, &in, &errs);
    ok(!msg && in.has_desired_count && in.desired_count == 3 && in.has_dc &&
           in.dc.has_cb && in.dc.cb.enable && in.dc.cb.rollback && in.dc.has_max &&
           in.dc.max_pct == 150 && !in.dc.has_min && in.n_lbs == 1,
       "a CreateService input is walked into its members");
    ok(errs.n_ignored == 1 && strstr(errs.ignored[0], "capacityProviderStrategy"),
       "AWS-only members are accepted and reported ignored");
    free(msg);
    service_input_free(&in, false);
    json_errors_clear(&errs);

    refused("{\"serviceName\":\"bad name\",\"desiredCount\":1}", false, "serviceName",
            "a name with a space");
    refused("{\"serviceName\":\"web\",\"desiredCount\":-1}", false, "desiredCount",
            "a negative desiredCount");
    refused("{\"serviceName\":\"web\",\"deploymentConfiguration\":"
            "{\"minimumHealthyPercent\":150}}", false,
            "deploymentConfiguration.minimumHealthyPercent", "minimumHealthyPercent 150");
    refused("{\"serviceName\":\"web\",\"deploymentConfiguration\":"
            "{\"deploymentCircuitBreaker\":{\"enable\":true}}}", false,
            "deploymentConfiguration.deploymentCircuitBreaker.rollback",
            "a circuit breaker without rollback");
    refused("{\"serviceName\":\"web\",\"launchType\":\"FARGATE\"}", false, "launchType",
            "FARGATE");
    refused("{\"serviceName\":\"web\",\"deploymentController\":{\"type\":\"CODE_DEPLOY\"}}",
            false, "deploymentController.type", "the CODE_DEPLOY controller");
    refused("{\"serviceName\":\"web\",\"loadBalancers\":[{\"containerPort\":70000}]}",
            false, "loadBalancers[0].containerPort", "a port out of range");
    refused("{\"serviceName\":\"web\",\"colour\":\"blue\"}", false, "colour",
            "an unknown member");
    refused("{\"desiredCount\":1}", true, "service", "UpdateService without service");
    refused("{\"service\":\"web\",\"launchType\":\"EC2\"}", true, "launchType",
            "UpdateService with launchType (not in its shape)");
}

static void test_defaults(void)
{
    char err[300] = "";
    struct service *s = make("{\"serviceName\":\"web\",\"desiredCount\":3}", err,
                             sizeof err);
    if (!ok(s != NULL, "a REPLICA service is made"))
        diag("%s", err);
    if (!s)
        return;
    ok(s->dc.max_pct == 200 && s->dc.min_pct == 100 && !s->dc.cb_enable &&
           !s->dc.cb_rollback && s->grace_s == 0 && s->sched == SCHED_REPLICA &&
           s->launch_type == 0 && strcmp(s->propagate_tags, "NONE") == 0,
       "ECS's defaults: 200/100, breaker off, grace 0, REPLICA, EC2, NONE");
    is_str(s->arn, "arn:aws:ecs:" REGION ":" ACCOUNT ":service/prod/web", "its ARN");
    ok(s->n_deps == 1 && s->deps[0].status == DEP_PRIMARY &&
           s->deps[0].rollout == ROLL_IN_PROGRESS && s->deps[0].desired_count == 3 &&
           matches(s->deps[0].id, "^ecs-svc/[0-9]{19}$"),
       "one PRIMARY deployment, IN_PROGRESS, id ecs-svc/ and 19 digits");
    service_free(s);

    s = make("{\"serviceName\":\"d\",\"schedulingStrategy\":\"DAEMON\"}", err, sizeof err);
    ok(s && s->desired_count == 1 && s->dc.max_pct == 100 && s->dc.min_pct == 0,
       "DAEMON: one task (one host), max 100, min 0");
    service_free(s);
    s = make("{\"serviceName\":\"d\",\"schedulingStrategy\":\"DAEMON\","
             "\"deploymentConfiguration\":{\"maximumPercent\":200}}", err, sizeof err);
    ok(!s && strstr(err, "maximumPercent"), "DAEMON with maximumPercent 200 is refused");
    service_free(s);
    s = make("{\"serviceName\":\"web\"}", err, sizeof err);
    ok(!s && strstr(err, "desiredCount"), "REPLICA without desiredCount is refused");
    service_free(s);
    s = make("{\"serviceName\":\"web\",\"desiredCount\":1,\"deploymentConfiguration\":"
             "{\"maximumPercent\":50}}", err, sizeof err);
    ok(!s && strstr(err, "maximumPercent"), "REPLICA with maximumPercent under 100 is refused");
    service_free(s);
}

static int update(struct service *s, const char *json, const char *td)
{
    struct svc_input in;
    struct json_errors errs;
    char err[300];
    cJSON *j = cJSON_Parse(json);
    int r = -2;
    memset(&errs, 0, sizeof errs);
    if (service_input_parse(j, true, &in, &errs) == 0)
        r = service_update(s, &in, j, td, 1700000001000, err, sizeof err);
    service_input_free(&in, true);
    json_errors_clear(&errs);
    cJSON_Delete(j);
    return r;
}

static void test_update_events_json(void)
{
    char err[300];
    struct service *s = make("{\"serviceName\":\"web\",\"desiredCount\":3,"
                             "\"tags\":[{\"key\":\"team\",\"value\":\"ops\"}]}",
                             err, sizeof err);
    if (!s)
        return;
    char *first = strdup(s->deps[0].id);
    ok(update(s, "{\"service\":\"web\",\"desiredCount\":5}", NULL) == 0 &&
           s->n_deps == 1 && s->desired_count == 5 && s->deps[0].desired_count == 5,
       "a new desiredCount alone makes no new deployment");
    ok(update(s, "{\"service\":\"web\"}", TD1) == 0 && s->n_deps == 1,
       "the same task definition makes none");
    ok(update(s, "{\"service\":\"web\"}", TD2) == 1 && s->n_deps == 2 &&
           s->deps[0].status == DEP_PRIMARY && strcmp(s->deps[0].taskdef_arn, TD2) == 0 &&
           s->deps[1].status == DEP_ACTIVE && strcmp(s->deps[1].id, first) == 0 &&
           strcmp(s->taskdef_arn, TD2) == 0,
       "a new task definition: new PRIMARY, the old one ACTIVE");
    ok(update(s, "{\"service\":\"web\",\"forceNewDeployment\":true}", NULL) == 1 &&
           s->n_deps == 3 && strcmp(s->deps[0].taskdef_arn, TD2) == 0,
       "forceNewDeployment makes one with the same definition");
    ok(update(s, "{\"service\":\"web\",\"deploymentConfiguration\":{\"maximumPercent\":"
                 "120,\"minimumHealthyPercent\":50}}", NULL) == 0 &&
           s->dc.max_pct == 120 && s->dc.min_pct == 50 && s->n_deps == 3,
       "deploymentConfiguration changes apply without a deployment");
    ok(update(s, "{\"service\":\"web\",\"deploymentConfiguration\":{\"maximumPercent\":"
                 "90}}", NULL) == -1 && s->dc.max_pct == 120,
       "a refused update leaves the service as it was");
    ok(service_reinstate(s, first, 1700000002000) != NULL &&
           strcmp(s->deps[0].id, first) == 0 && s->deps[0].status == DEP_PRIMARY &&
           s->deps[0].rollout == ROLL_IN_PROGRESS && s->deps[1].status == DEP_ACTIVE &&
           s->deps[2].status == DEP_ACTIVE && s->n_deps == 3 &&
           strcmp(s->taskdef_arn, TD1) == 0,
       "a listed deployment is made PRIMARY again (rollback), the others ACTIVE");
    ok(!service_reinstate(s, first, 1) && !service_reinstate(s, "ecs-svc/0", 1),
       "the PRIMARY or an unlisted deployment cannot be reinstated");
    service_drop_deployment(s, 2);
    free(first);

    for (int i = 0; i < 105; i++)
        service_event(s, 1700000000000 + i, "event %d.", i);
    ok(s->n_events == SERVICE_MAX_EVENTS && strcmp(s->events[0].message,
                                                   "(service web) event 104.") == 0 &&
           strcmp(s->events[99].message, "(service web) event 5.") == 0,
       "events: \"(service NAME) ...\", newest first, the last 100 kept");

    cJSON *shown = service_to_json(s, false, false);
    cJSON *d0 = cJSON_GetArrayItem(cJSON_GetObjectItem(shown, "deployments"), 0);
    ok(cJSON_GetObjectItem(shown, "tags") == NULL &&
           cJSON_GetObjectItem(shown, "berth") == NULL &&
           strcmp(cJSON_GetObjectItem(d0, "rolloutState")->valuestring, "IN_PROGRESS") == 0 &&
           cJSON_GetObjectItem(d0, "berth") == NULL &&
           cJSON_GetObjectItem(shown, "createdBy") == NULL &&
           cJSON_GetObjectItem(shown, "createdAt")->valuedouble == 1700000000.0,
       "the Service shape: no tags unless asked, no internals, createdAt in seconds");
    cJSON *tagged = service_to_json(s, false, true);
    ok(cJSON_GetArraySize(cJSON_GetObjectItem(tagged, "tags")) == 1, "tags when asked");
    cJSON_Delete(tagged);

    cJSON *stored = service_to_json(s, true, true);
    char *text = cJSON_PrintUnformatted(stored);
    struct service *back = service_from_json(text, err, sizeof err);
    cJSON *again = back ? service_to_json(back, false, false) : NULL;
    ok(again && cJSON_Compare(shown, again, 1), "stored and read back, it shows the same");
    ok(back && back->n_deps == 2 && back->n_events == 100 && back->dc.max_pct == 120,
       "deployments, events and configuration survive the store's JSON");
    ok(!service_from_json("{\"serviceArn\":\"x\"}", err, sizeof err) && strstr(err, "x"),
       "a damaged record is refused naming its ARN");
    cJSON_Delete(again);
    service_free(back);
    free(text);
    cJSON_Delete(stored);
    cJSON_Delete(shown);
    service_free(s);
}

/* ---- the draining hook ---- */

struct td_state {
    uint64_t wait;
    int begun, gone;
};

static uint64_t td_begin(void *arg, const struct service *s, const struct task *t)
{
    (void)s;
    (void)t;
    struct td_state *x = arg;
    x->begun++;
    return x->wait;
}

static void td_gone(void *arg, const struct service *s, const struct task *t)
{
    (void)s;
    (void)t;
    ((struct td_state *)arg)->gone++;
}

static int td_check(void *arg, const char *ref, char *err, size_t errlen)
{
    (void)arg;
    if (strcmp(ref, "web") == 0)
        return 0;
    snprintf(err, errlen, "target group %s does not exist", ref);
    return -1;
}

static const struct drainer_ops td_ops = {.name = "test", .begin = td_begin,
                                          .gone = td_gone};
static const struct drainer_ops td_ops_nogone = {.name = "test2", .begin = td_begin};
static const struct drainer_ops td_ops_check = {.name = "lb", .begin = td_begin,
                                                .check_target_group = td_check};

static void test_drain(void)
{
    struct drainers d = {0};
    struct td_state a = {0, 0, 0}, b = {1500, 0, 0}, c = {300, 0, 0};

    ok(drainers_begin(&d, NULL, NULL) == 0, "no drainer: no wait");
    drainers_add(&d, &td_ops, &a);
    ok(drainers_begin(&d, NULL, NULL) == 0, "a drainer that needs no time: no wait");
    drainers_add(&d, &td_ops, &b);
    drainers_add(&d, &td_ops_nogone, &c);
    ok(drainers_begin(&d, NULL, NULL) == 1500 && a.begun == 2 && b.begun == 1 &&
           c.begun == 1,
       "every drainer is told; the wait is the longest asked");
    drainers_gone(&d, NULL, NULL);
    ok(a.gone == 1 && b.gone == 1, "gone() reaches the drainers that have it");

    char err[300] = "";
    cJSON *lbs = cJSON_Parse("[{\"targetGroupArn\":\"web\"},{\"loadBalancerName\":\"x\"},"
                             "{\"targetGroupArn\":\"nosuch\"}]");
    ok(drainers_check_target_groups(&d, lbs, err, sizeof err) == 0,
       "drainers without check_target_group accept any target group");
    drainers_add(&d, &td_ops_check, &a);
    ok(drainers_check_target_groups(&d, lbs, err, sizeof err) < 0, "one that checks refuses");
    is_str(err, "loadBalancers[2].targetGroupArn: target group nosuch does not exist",
           "naming the entry (its index) and the check's reason");
    ok(drainers_check_target_groups(&d, NULL, err, sizeof err) == 0, "no loadBalancers: ok");
    cJSON_Delete(lbs);
    drainers_free(&d);
}

/* ---- store ---- */

struct loaded {
    int n;
    char last[4096];
};

static void on_load(void *arg, const char *json)
{
    struct loaded *l = arg;
    l->n++;
    snprintf(l->last, sizeof l->last, "%s", json);
}

static void test_store(void)
{
    char path[300], err[512];
    struct store *st = NULL;
    struct loaded l = {0, ""};

    snprintf(path, sizeof path, "%s/s.db", tmpdir);
    if (!ok(store_open(path, REGION, ACCOUNT, &st, err, sizeof err) == STORE_OK,
            "a new store opens"))
        return;
    ok(store_service_put(st, "arn:s1", "prod", "web", "ACTIVE", "{\"a\":1}", err,
                         sizeof err) == STORE_OK &&
           store_service_put(st, "arn:s1", "prod", "web", "DRAINING", "{\"a\":2}", err,
                             sizeof err) == STORE_OK &&
           store_service_put(st, "arn:s2", "prod", "api", "ACTIVE", "{\"b\":1}", err,
                             sizeof err) == STORE_OK,
       "services are put, a second put replaces the record");
    ok(store_service_put(st, "arn:s3", "prod", "x", "GONE", "{}", err, sizeof err) ==
           STORE_IO,
       "a status that is not one is refused by the schema");
    store_close(st);
    st = NULL;
    store_open(path, REGION, ACCOUNT, &st, err, sizeof err);
    ok(st && store_service_load(st, on_load, &l, err, sizeof err) == STORE_OK &&
           l.n == 2 && strcmp(l.last, "{\"b\":1}") == 0,
       "reopened: both services are loaded, oldest first");
    l.n = 0;
    ok(store_service_delete(st, "arn:s2", err, sizeof err) == STORE_OK &&
           store_service_load(st, on_load, &l, err, sizeof err) == STORE_OK && l.n == 1 &&
           strcmp(l.last, "{\"a\":2}") == 0,
       "a deleted service is gone; the other keeps its last record");
    store_close(st);
}

/* Schema 2 as shipped (entries 0 and 1 of store.c's migrations). */
static const char v2_sql[] =
    "CREATE TABLE td_family (family TEXT PRIMARY KEY NOT NULL,"
    " last_revision INTEGER NOT NULL);"
    "CREATE TABLE task_definition (family TEXT NOT NULL REFERENCES td_family(family),"
    " revision INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('ACTIVE',"
    " 'INACTIVE')), registered_at INTEGER NOT NULL, deregistered_at INTEGER,"
    " json TEXT NOT NULL, PRIMARY KEY (family, revision));"
    "CREATE INDEX task_definition_status ON task_definition(status, family, revision);"
    "CREATE TABLE td_tag (family TEXT NOT NULL, revision INTEGER NOT NULL,"
    " key TEXT NOT NULL, value TEXT NOT NULL, UNIQUE (family, revision, key),"
    " FOREIGN KEY (family, revision) REFERENCES task_definition(family, revision)"
    " ON DELETE CASCADE);"
    "CREATE TABLE task (arn TEXT PRIMARY KEY NOT NULL, last_status TEXT NOT NULL,"
    " stopped_at INTEGER, json TEXT NOT NULL, taskdef_json TEXT NOT NULL);"
    "CREATE INDEX task_stopped ON task(stopped_at);"
    "INSERT INTO td_family VALUES ('web', 1);"
    "INSERT INTO task_definition VALUES ('web', 1, 'ACTIVE', 1700000000000, NULL, '{}');"
    "INSERT INTO task VALUES ('arn:t', 'RUNNING', NULL, '{\"t\":1}', '{}');"
    "PRAGMA user_version = 2;";

static void count_task(void *arg, const char *json, const char *td)
{
    (void)td;
    if (strcmp(json, "{\"t\":1}") == 0)
        (*(int *)arg)++;
}

static void test_migrate_v2(void)
{
    char path[300], err[512];
    sqlite3 *db;
    struct store *st = NULL;
    struct store_taskdef td = {0};
    int tasks = 0;
    struct loaded l = {0, ""};

    snprintf(path, sizeof path, "%s/v2.db", tmpdir);
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, v2_sql, NULL, NULL, NULL);
    sqlite3_close(db);
    if (!ok(rc == SQLITE_OK, "a schema 2 database with a task definition and a task"))
        return;
    if (!ok(store_open(path, REGION, ACCOUNT, &st, err, sizeof err) == STORE_OK,
            "it opens: migrated"))
        return;
    ok(store_td_describe(st, "web:1", &td, err, sizeof err) == STORE_OK &&
           store_task_load(st, 0, count_task, &tasks, err, sizeof err) == STORE_OK &&
           tasks == 1,
       "its task definition and task are kept");
    store_taskdef_free(&td);
    ok(store_service_put(st, "arn:s", "prod", "web", "ACTIVE", "{}", err, sizeof err) ==
               STORE_OK &&
           store_service_load(st, on_load, &l, err, sizeof err) == STORE_OK && l.n == 1,
       "services can be stored after the migration");
    store_close(st);
    db = NULL;
    sqlite3_open(path, &db);
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
    ok(s && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == STORE_SCHEMA_VERSION,
       "user_version is the current schema version (%d)", STORE_SCHEMA_VERSION);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    test_arithmetic();
    test_input();
    test_defaults();
    test_update_events_json();
    test_drain();
    test_store();
    test_migrate_v2();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpdir);
    return done_testing();
}
