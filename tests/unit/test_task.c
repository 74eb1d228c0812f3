/* test_task.c: the task record: task_new, ECS's Task shape checked against
 * botocore's model, the stored form's round trip, corrupt records, health. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agent/task.h"
#include "agent/taskdef.h"
#include "tests/lib/tap.h"

#define REGION "eu-west-3"
#define ACCOUNT "123456789012"
#define TD_ARN "arn:aws:ecs:" REGION ":" ACCOUNT ":task-definition/web-app:3"
#define NOW 1718000000123LL
#define MODEL "/usr/lib/python3/dist-packages/awscli/botocore/data/ecs/2014-11-13/service-2.json"

static const char *srcdir;

static char *slurp_path(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, chunk[4096];
    size_t cap = 0, n;
    if (!f)
        return NULL;
    FILE *m = open_memstream(&buf, &cap);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    return buf;
}

static char *slurp(const char *rel)
{
    char *path, *s;
    if (asprintf(&path, "%s/tests/unit/data/taskdef/%s", srcdir, rel) < 0)
        abort();
    s = slurp_path(path);
    free(path);
    return s;
}

/* JSON written with ' for " so that the documents stay readable here. */
static char *J(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

static struct task *new_task(const char *json, const char *cluster)
{
    struct taskdef *td = NULL;
    struct json_errors errs = {0};
    if (taskdef_parse(json, strlen(json), &td, &errs) < 0) {
        char *m = json_errors_message(&errs);
        diag("definition does not parse: %s", m);
        free(m);
        json_errors_clear(&errs);
        return NULL;
    }
    json_errors_clear(&errs);
    return task_new(td, json, TD_ARN, 3, REGION, ACCOUNT, cluster, NOW);
}

/* ---- botocore's model as the schema of the public JSON ---- */

static cJSON *model_shapes;

/* Every member of v must exist in shape, with the model's type and, for
 * enums, one of its values.  Returns the number of problems, each shown. */
static int check_shape(const cJSON *v, const char *shape, const char *path)
{
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(model_shapes, shape);
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sh, "type"));
    int bad = 0;
    char sub[512];

    if (!type) {
        diag("%s: shape %s not in the model", path, shape);
        return 1;
    }
    if (strcmp(type, "structure") == 0) {
        const cJSON *members = cJSON_GetObjectItemCaseSensitive(sh, "members"), *m;
        if (!cJSON_IsObject(v)) {
            diag("%s: expected an object (%s)", path, shape);
            return 1;
        }
        cJSON_ArrayForEach(m, v) {
            const cJSON *mm = cJSON_GetObjectItemCaseSensitive(members, m->string);
            snprintf(sub, sizeof sub, "%s.%s", path, m->string);
            if (!mm) {
                diag("%s: not a member of %s", sub, shape);
                bad++;
                continue;
            }
            bad += check_shape(m, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mm, "shape")), sub);
        }
    } else if (strcmp(type, "list") == 0) {
        const cJSON *mem = cJSON_GetObjectItemCaseSensitive(sh, "member"), *e;
        const char *es = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mem, "shape"));
        int i = 0;
        if (!cJSON_IsArray(v)) {
            diag("%s: expected an array (%s)", path, shape);
            return 1;
        }
        cJSON_ArrayForEach(e, v) {
            snprintf(sub, sizeof sub, "%s[%d]", path, i++);
            bad += check_shape(e, es, sub);
        }
    } else if (strcmp(type, "string") == 0) {
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(sh, "enum"), *e;
        if (!cJSON_IsString(v)) {
            diag("%s: expected a string", path);
            return 1;
        }
        if (en) {
            bool found = false;
            cJSON_ArrayForEach(e, en) found |= strcmp(e->valuestring, v->valuestring) == 0;
            if (!found) {
                diag("%s: %s is not in %s's enum", path, v->valuestring, shape);
                bad++;
            }
        }
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
            diag("%s: expected an integer", path);
            bad++;
        }
    } else if (strcmp(type, "timestamp") == 0) {
        if (!cJSON_IsNumber(v)) {
            diag("%s: expected a timestamp (epoch seconds)", path);
            bad++;
        }
    } else if (strcmp(type, "boolean") == 0) {
        if (!cJSON_IsBool(v)) {
            diag("%s: expected a boolean", path);
            bad++;
        }
    } else if (strcmp(type, "map") == 0) {
        if (!cJSON_IsObject(v)) {
            diag("%s: expected an object (map)", path);
            bad++;
        }
    } else {
        diag("%s: shape type %s not handled by the test", path, type);
        bad++;
    }
    return bad;
}

static bool has_member_anywhere(const cJSON *v, const char *name)
{
    const cJSON *c;
    if (v->string && strcmp(v->string, name) == 0)
        return true;
    cJSON_ArrayForEach(c, v) if (has_member_anywhere(c, name)) return true;
    return false;
}

/* ---- tests ---- */

static void test_new(void)
{
    char *json = slurp("web.json");
    struct task *t = new_task(json, "prod"), *t2 = new_task(json, "prod");
    char want[256];

    free(json);
    if (!ok(t && t2, "task_new from web.json")) {
        task_free(t);
        task_free(t2);
        return;
    }
    bool hex = strlen(t->id) == 32;
    for (const char *p = t->id; *p; p++)
        hex &= isdigit((unsigned char)*p) || (*p >= 'a' && *p <= 'f');
    ok(hex, "id is 32 lowercase hex digits (%s)", t->id);
    ok(strcmp(t->id, t2->id) != 0, "two tasks get distinct ids");
    snprintf(want, sizeof want, "arn:aws:ecs:" REGION ":" ACCOUNT ":task/prod/%s", t->id);
    is_str(t->arn, want, "task ARN has region, account, cluster and id");
    is_str(t->cluster_arn, "arn:aws:ecs:" REGION ":" ACCOUNT ":cluster/prod", "cluster ARN");
    is_str(t->taskdef_arn, TD_ARN, "task definition ARN kept");
    is_str(t->group, "family:web-app", "group is family:NAME");
    is_str(t->family, "web-app", "family");
    ok(t->revision == 3, "revision");
    ok(t->last_status == TASK_PROVISIONING, "lastStatus PROVISIONING");
    ok(t->desired_status == TASK_RUNNING, "desiredStatus RUNNING");
    ok(t->created_at_ms == NOW, "createdAt is now");
    is_str(t->started_by, "", "startedBy empty");
    ok(!t->stop_code && !t->stopped_reason && !t->sandbox_id, "no stop code, reason, sandbox");
    is_str(t->cpu, "512", "task cpu in units, as the definition shows it (0.5 vCPU)");
    is_str(t->memory, "1024", "task memory in MiB, as the definition shows it (1 GB)");
    ok(t->n_containers == 2, "two containers");
    if (t->n_containers == 2) {
        struct task_container *w = &t->containers[0], *a = &t->containers[1];
        is_str(w->name, "web", "container 0 is web");
        is_str(a->image, "registry.example.com/app:2.3", "container 1's image");
        ok(w->essential && !a->essential, "essential flags from the definition");
        ok(w->status == CTR_PENDING && !w->runtime_id && !w->created,
           "containers start PENDING, not created");
        ok(w->n_bindings == 1 && w->bindings[0].container_port == 80 &&
               w->bindings[0].host_port == 0 && !w->bindings[0].udp,
           "web's binding: 80, dynamic host port not yet picked");
        ok(a->n_bindings == 1 && a->bindings[0].container_port == 8080,
           "app's binding: 8080");
        ok(task_container(t, "app") == a && !task_container(t, "nope"),
           "task_container by name");
        ok(task_container_by_id(t, "x") == -1, "by id: none before creation");
        task_set_str(&a->runtime_id, "abc123");
        ok(task_container_by_id(t, "abc123") == 1, "by id after creation");
    }
    task_free(t);
    task_free(t2);
}

/* A task with every field set, as the manager would leave it. */
static struct task *full_task(void)
{
    char *json = slurp("web.json");
    struct task *t = new_task(json, "prod");
    free(json);
    if (!t || t->n_containers != 2)
        return t;
    t->last_status = TASK_STOPPED;
    t->desired_status = TASK_STOPPED;
    task_set_str(&t->stop_code, STOP_ESSENTIAL_EXITED);
    task_set_str(&t->stopped_reason, "Essential container in task exited");
    task_set_str(&t->started_by, "ops");
    task_set_str(&t->group, "service:front");
    task_set_str(&t->sandbox_id, "sbx-1");
    t->sandbox_done = true;
    t->deactivate_until_ms = NOW + 2500;
    t->version = 7;
    t->started_at_ms = NOW + 1001;
    t->stopping_at_ms = NOW + 2002;
    t->stopped_at_ms = NOW + 3003;
    t->execution_stopped_at_ms = NOW + 2999;
    t->pull_started_at_ms = NOW + 10;
    t->pull_stopped_at_ms = NOW + 999;
    t->tags = cJSON_Parse("[{\"key\":\"team\",\"value\":\"web\"}]");
    struct task_container *w = &t->containers[0], *a = &t->containers[1];
    task_set_str(&w->runtime_id, "d0c4e1");
    task_set_str(&w->image_digest, "sha256:feed");
    task_set_str(&w->reason, "OutOfMemoryError");
    task_set_str(&w->health_output, "ok\n");
    task_set_str(&w->ip_address, "172.17.0.5");
    w->status = CTR_STOPPED;
    w->created = true;
    w->has_exit_code = true;
    w->exit_code = 137;
    w->engine_health = BERTH_HEALTH_UNHEALTHY;
    w->health_exit_code = 1;
    w->health_since_ms = NOW + 5;
    w->restarts = 2;
    w->started_at_ms = NOW + 1000;
    w->bindings[0].host_port = 32771;
    w->bindings[0].dynamic = true;
    a->status = CTR_RUNNING;
    a->created = true;
    task_set_str(&a->runtime_id, "a99");
    a->engine_health = BERTH_HEALTH_HEALTHY;
    a->bindings[0].host_port = 32772;
    a->bindings[0].dynamic = false;
    return t;
}

static void test_public_json(void)
{
    struct task *t = full_task();
    char *model = slurp_path(MODEL);
    cJSON *m = model ? cJSON_Parse(model) : NULL;

    free(model);
    model_shapes = cJSON_GetObjectItemCaseSensitive(m, "shapes");
    if (!t) {
        ok(0, "full task");
        cJSON_Delete(m);
        return;
    }
    cJSON *pub = task_to_json(t, false), *in = task_to_json(t, true);
    ok(!has_member_anywhere(pub, "berth"), "public JSON has no berth member");
    ok(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(in, "berth")),
       "internal JSON has berth");
    if (model_shapes) {
        ok(check_shape(pub, "Task", "task") == 0,
           "public task JSON fits botocore's Task shape (members, types, enums)");
        /* A fresh task (nothing set) too: absent times, empty lists. */
        struct task *t0 = NULL;
        char *json = slurp("web.json");
        t0 = new_task(json, "prod");
        free(json);
        cJSON *p0 = t0 ? task_to_json(t0, false) : NULL;
        ok(p0 && check_shape(p0, "Task", "task") == 0, "a fresh task fits too");
        cJSON_Delete(p0);
        task_free(t0);
    } else {
        ok(1, "# SKIP botocore's ECS model not installed (" MODEL ")");
    }
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(pub, "createdAt");
    ok(cJSON_IsNumber(ca) && fabs(ca->valuedouble - NOW / 1000.0) < 1e-6,
       "createdAt is epoch seconds with the milliseconds as fraction");
    ok(!cJSON_GetObjectItemCaseSensitive(pub, "connectivityAt"), "no member for what is not set");
    is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pub, "healthStatus")),
           "UNHEALTHY", "task health from the essential container");
    is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pub, "startedBy")),
           "ops", "startedBy");
    const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pub, "containers"), 0);
    char want[256];
    snprintf(want, sizeof want, "arn:aws:ecs:" REGION ":" ACCOUNT ":container/prod/%s/web", t->id);
    is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c0, "containerArn")), want,
           "containerArn");
    is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c0, "cpu")), "256",
           "container cpu as a string");
    ok(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c0, "exitCode")) == 137, "exitCode");
    const cJSON *nb = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c0, "networkBindings"), 0);
    ok(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(nb, "hostPort")) == 32771 &&
           cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(nb, "containerPort")) == 80,
       "networkBindings has the picked host port");
    cJSON_Delete(pub);
    cJSON_Delete(in);
    task_free(t);
    cJSON_Delete(m);
    model_shapes = NULL;
}

static void test_round_trip(void)
{
    struct task *t = full_task(), *b;
    char err[256] = "";

    if (!t) {
        ok(0, "full task");
        return;
    }
    cJSON *j = task_to_json(t, true);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    b = task_from_json(text, t->taskdef_json, err, sizeof err);
    if (!ok(b != NULL, "task_from_json reads the stored form back")) {
        diag("  %s", err);
        goto out;
    }
    is_str(b->arn, t->arn, "arn");
    is_str(b->id, t->id, "id");
    is_str(b->cluster_arn, t->cluster_arn, "clusterArn");
    is_str(b->taskdef_arn, t->taskdef_arn, "taskDefinitionArn");
    is_str(b->family, t->family, "family");
    ok(b->revision == 3, "revision");
    is_str(b->group, "service:front", "group");
    is_str(b->started_by, "ops", "startedBy");
    ok(b->last_status == TASK_STOPPED && b->desired_status == TASK_STOPPED, "statuses");
    is_str(b->stop_code, STOP_ESSENTIAL_EXITED, "stopCode");
    is_str(b->stopped_reason, t->stopped_reason, "stoppedReason");
    ok(b->version == 7, "version");
    ok(b->created_at_ms == t->created_at_ms && b->started_at_ms == t->started_at_ms &&
           b->stopping_at_ms == t->stopping_at_ms && b->stopped_at_ms == t->stopped_at_ms &&
           b->execution_stopped_at_ms == t->execution_stopped_at_ms &&
           b->pull_started_at_ms == t->pull_started_at_ms &&
           b->pull_stopped_at_ms == t->pull_stopped_at_ms,
       "every time to the millisecond");
    is_str(b->sandbox_id, "sbx-1", "sandbox id");
    ok(b->sandbox_done, "sandboxDone");
    ok(b->deactivate_until_ms == t->deactivate_until_ms,
       "the drain's end (a restarted agent keeps DEACTIVATING until then)");
    is_str(b->cpu, t->cpu, "cpu");
    is_str(b->memory, t->memory, "memory");
    char *tg = b->tags ? cJSON_PrintUnformatted(b->tags) : NULL;
    is_str(tg, "[{\"key\":\"team\",\"value\":\"web\"}]", "tags");
    free(tg);
    is_str(b->taskdef_json, t->taskdef_json, "definition text");
    ok(b->td && b->td->n_containers == 2, "definition parsed");
    ok(b->n_containers == 2, "containers");
    if (b->n_containers == 2) {
        struct task_container *w = &b->containers[0], *a = &b->containers[1];
        is_str(w->runtime_id, "d0c4e1", "runtimeId");
        is_str(w->image_digest, "sha256:feed", "imageDigest");
        is_str(w->reason, "OutOfMemoryError", "reason");
        is_str(w->health_output, "ok\n", "health output");
        is_str(w->ip_address, "172.17.0.5", "ip address");
        ok(w->status == CTR_STOPPED && a->status == CTR_RUNNING, "container statuses");
        ok(w->created && a->created, "created");
        ok(w->essential && !a->essential, "essential");
        ok(w->has_exit_code && w->exit_code == 137 && !a->has_exit_code, "exit codes");
        ok(w->engine_health == BERTH_HEALTH_UNHEALTHY &&
               a->engine_health == BERTH_HEALTH_HEALTHY,
           "engine health");
        ok(w->health_exit_code == 1 && a->health_exit_code == -1, "health exit codes");
        ok(w->health_since_ms == NOW + 5, "health since");
        ok(w->restarts == 2 && a->restarts == 0, "restarts");
        ok(w->started_at_ms == NOW + 1000, "container started at");
        ok(w->bindings[0].host_port == 32771 && w->bindings[0].dynamic &&
               w->bindings[0].container_port == 80 && !w->bindings[0].udp,
           "dynamic binding");
        ok(a->bindings[0].host_port == 32772 && !a->bindings[0].dynamic,
           "static binding");
    }
    /* And again: the second write is the same text. */
    cJSON *j2 = task_to_json(b, true);
    char *text2 = cJSON_PrintUnformatted(j2);
    cJSON_Delete(j2);
    is_str(text2, text, "the round trip is stable (same stored text)");
    free(text2);
    task_free(b);

    /* A fresh task: no optional member set. */
    char *json = slurp("web.json");
    struct task *f = new_task(json, "c1");
    free(json);
    j = f ? task_to_json(f, true) : NULL;
    char *ft = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    b = ft ? task_from_json(ft, f->taskdef_json, err, sizeof err) : NULL;
    ok(b && b->last_status == TASK_PROVISIONING && !b->tags && !b->sandbox_id &&
           !b->stop_code && *b->started_by == '\0' && b->started_at_ms == 0 &&
           b->containers[0].health_exit_code == -1 && !b->containers[0].runtime_id,
       "a fresh task round-trips with nothing set");
    task_free(b);
    free(ft);
    task_free(f);
out:
    free(text);
    task_free(t);
}

/* Damaged stored records: an error naming the problem, never a crash. */
static void test_corrupt(void)
{
    struct task *t = full_task();
    char err[256];

    if (!t)
        return;
    cJSON *j = task_to_json(t, true);
    char *good = cJSON_PrintUnformatted(j);
    const char *td = t->taskdef_json;
    struct {
        const char *what, *json, *td, *msg;
    } cases[] = {
        {"empty", "", td, "not a JSON object"},
        {"not JSON", "{\"taskArn\":", td, "not a JSON object"},
        {"an array", "[1,2]", td, "not a JSON object"},
        {"a string", "\"task\"", td, "not a JSON object"},
        {"no berth", NULL, td, "lacks members"},
        {"bad definition", good, "{\"family\":", "definition does not parse"},
        {"definition not ECS", good, "{\"family\":\"x\"}", "definition does not parse"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *owned = NULL;
        const char *json = cases[i].json;
        if (!json) {
            cJSON *c = cJSON_Duplicate(j, 1);
            cJSON_DeleteItemFromObject(c, "berth");
            json = owned = cJSON_PrintUnformatted(c);
            cJSON_Delete(c);
        }
        err[0] = '\0';
        struct task *b = task_from_json(json, cases[i].td, err, sizeof err);
        ok(!b, "%s: refused", cases[i].what);
        like(err, cases[i].msg, "%s: message", cases[i].what);
        task_free(b);
        free(owned);
    }

    /* Mutations of the good record, each one refused. */
    struct {
        const char *what, *path[4];
        cJSON *(*value)(void);
    } muts[] = {
        {"lastStatus unknown", {"lastStatus"}, NULL},
        {"desiredStatus a number", {"desiredStatus"}, NULL},
        {"no taskArn", {"taskArn"}, NULL},
        {"no clusterArn", {"clusterArn"}, NULL},
        {"no id", {"berth", "id"}, NULL},
        {"containers not an array", {"containers"}, NULL},
        {"a container renamed", {"containers", "0", "name"}, NULL},
        {"a container without berth", {"containers", "0", "berth"}, NULL},
        {"bindings missing", {"containers", "0", "berth", "bindings"}, NULL},
    };
    for (size_t i = 0; i < sizeof muts / sizeof *muts; i++) {
        cJSON *c = cJSON_Duplicate(j, 1), *parent = c;
        const char *const *p = muts[i].path;
        size_t n = 0;
        while (n < 4 && p[n])
            n++;
        for (size_t k = 0; k + 1 < n && parent; k++)
            parent = isdigit((unsigned char)p[k][0])
                         ? cJSON_GetArrayItem(parent, atoi(p[k]))
                         : cJSON_GetObjectItemCaseSensitive(parent, p[k]);
        const char *key = p[n - 1];
        if (strcmp(muts[i].what, "lastStatus unknown") == 0)
            cJSON_ReplaceItemInObject(parent, key, cJSON_CreateString("SLEEPING"));
        else if (strcmp(muts[i].what, "desiredStatus a number") == 0 ||
                 strcmp(muts[i].what, "containers not an array") == 0)
            cJSON_ReplaceItemInObject(parent, key, cJSON_CreateNumber(3));
        else if (strcmp(muts[i].what, "a container renamed") == 0)
            cJSON_ReplaceItemInObject(parent, key, cJSON_CreateString("other"));
        else
            cJSON_DeleteItemFromObject(parent, key);
        char *text = cJSON_PrintUnformatted(c);
        cJSON_Delete(c);
        err[0] = '\0';
        struct task *b = task_from_json(text, td, err, sizeof err);
        ok(!b && err[0], "%s: refused (%s)", muts[i].what, err);
        if (i == 0)
            like(err, t->arn, "the message names the stored task");
        task_free(b);
        free(text);
    }

    /* Out-of-range numbers: refused, not cast into garbage (a cast of an
     * out-of-range double to an integer is undefined behaviour). */
    struct {
        const char *what, *path[4];
        double v;
    } nums[] = {
        {"hostPort 70000", {"containers", "0", "berth", "bindings"}, 70000},
        {"hostPort -1", {"containers", "0", "berth", "bindings"}, -1},
        {"engineHealth 9", {"containers", "0", "berth", "engineHealth"}, 9},
        {"restarts 1e300", {"containers", "0", "berth", "restarts"}, 1e300},
        {"createdAt 1e300", {"createdAt"}, 1e300},
        {"version -1e300", {"version"}, -1e300},
        {"revision 1e19", {"berth", "revision"}, 1e19},
    };
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        cJSON *c = cJSON_Duplicate(j, 1), *parent = c;
        const char *const *p = nums[i].path;
        size_t n = 0;
        while (n < 4 && p[n])
            n++;
        for (size_t k = 0; k + 1 < n && parent; k++)
            parent = isdigit((unsigned char)p[k][0])
                         ? cJSON_GetArrayItem(parent, atoi(p[k]))
                         : cJSON_GetObjectItemCaseSensitive(parent, p[k]);
        if (strcmp(p[n - 1], "bindings") == 0)
            parent = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(parent, "bindings"), 0),
            cJSON_ReplaceItemInObject(parent, "hostPort", cJSON_CreateNumber(nums[i].v));
        else
            cJSON_ReplaceItemInObject(parent, p[n - 1], cJSON_CreateNumber(nums[i].v));
        char *text = cJSON_PrintUnformatted(c);
        cJSON_Delete(c);
        err[0] = '\0';
        struct task *b = task_from_json(text, td, err, sizeof err);
        ok(!b && err[0], "%s: refused (%s)", nums[i].what, err);
        task_free(b);
        free(text);
    }

    /* A cluster ARN of another shape must not break the container ARNs. */
    cJSON *c = cJSON_Duplicate(j, 1);
    cJSON_ReplaceItemInObject(c, "clusterArn", cJSON_CreateString("prod"));
    char *text = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    struct task *b = task_from_json(text, td, err, sizeof err);
    ok(!b && err[0], "a clusterArn without :cluster/ is refused (%s)", err);
    task_free(b);
    free(text);

    free(good);
    cJSON_Delete(j);
    task_free(t);
}

static void test_health(void)
{
    char *json = J("{'family':'h','containerDefinitions':["
                   "{'name':'a','image':'i','memory':8,"
                   " 'healthCheck':{'command':['CMD','true']}},"
                   "{'name':'b','image':'i','memory':8,"
                   " 'healthCheck':{'command':['CMD','true']}},"
                   "{'name':'c','image':'i','memory':8,'essential':false,"
                   " 'healthCheck':{'command':['CMD','true']}},"
                   "{'name':'d','image':'i','memory':8}]}");
    struct task *t = new_task(json, "prod");
    free(json);
    if (!ok(t && t->n_containers == 4, "four-container task"))
        goto out;
    struct task_container *a = &t->containers[0], *b = &t->containers[1],
                          *c = &t->containers[2], *d = &t->containers[3];
    ok(task_health(t) == HEALTH_UNKNOWN,
       "nothing reported yet: UNKNOWN");
    a->engine_health = BERTH_HEALTH_HEALTHY;
    ok(task_health(t) == HEALTH_UNKNOWN,
       "a HEALTHY, b's check (in the definition) not reported: UNKNOWN");
    b->engine_health = BERTH_HEALTH_STARTING;
    ok(task_health(t) == HEALTH_UNKNOWN, "a HEALTHY, b STARTING: UNKNOWN");
    b->engine_health = BERTH_HEALTH_HEALTHY;
    ok(task_health(t) == HEALTH_HEALTHY, "both essential checks HEALTHY: HEALTHY");
    c->engine_health = BERTH_HEALTH_UNHEALTHY;
    ok(task_health(t) == HEALTH_HEALTHY, "a non-essential UNHEALTHY does not count");
    d->engine_health = BERTH_HEALTH_UNHEALTHY;
    ok(task_health(t) == HEALTH_UNHEALTHY,
       "an essential container whose image has a check counts (UNHEALTHY)");
    d->engine_health = BERTH_HEALTH_NONE;
    b->engine_health = BERTH_HEALTH_UNHEALTHY;
    a->engine_health = BERTH_HEALTH_STARTING;
    ok(task_health(t) == HEALTH_UNHEALTHY, "UNHEALTHY beats UNKNOWN (worst wins)");
    ok(container_health(b) == HEALTH_UNHEALTHY && container_health(a) == HEALTH_UNKNOWN &&
           container_health(d) == HEALTH_UNKNOWN,
       "container_health maps the engine's verdict");
    task_free(t);

    json = J("{'family':'n','containerDefinitions':[{'name':'a','image':'i','memory':8}]}");
    t = new_task(json, "prod");
    free(json);
    ok(t && task_health(t) == HEALTH_UNKNOWN, "no health checks at all: UNKNOWN");
    ok(strcmp(task_health_name(HEALTH_HEALTHY), "HEALTHY") == 0 &&
           strcmp(task_health_name(HEALTH_UNKNOWN), "UNKNOWN") == 0,
       "health names");
out:
    task_free(t);
}

static void test_names(void)
{
    bool all = true;
    for (int i = 0; i <= TASK_STOPPED; i++)
        all &= task_status_parse(task_status_names[i]) == i;
    ok(all, "every status name parses back to its value");
    ok(task_status_parse("running") == -1 && task_status_parse(NULL) == -1 &&
           task_status_parse("") == -1,
       "other names are -1");
    is_str(ctr_status_name(CTR_STOPPED), "STOPPED", "container status names");
}

int main(void)
{
    srcdir = getenv("top_srcdir");
    if (!srcdir)
        srcdir = ".";
    test_new();
    test_public_json();
    test_round_trip();
    test_corrupt();
    test_health();
    test_names();
    return done_testing();
}
