/* test_taskdef.c: ECS task definitions: values, defaults, every rule's error
 * and path, ignored and unknown members, rendering and equality. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/taskdef.h"
#include "tests/lib/tap.h"

static const char *srcdir;

static char *slurp(const char *rel, size_t *len)
{
    char *path;
    if (asprintf(&path, "%s/tests/unit/data/taskdef/%s", srcdir, rel) < 0)
        abort();
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&buf, &cap);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    *len = cap;
    return buf;
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

/* A valid definition around one container's members (CONTAINER), with
 * top-level members (TOP) before containerDefinitions. */
static char *doc(const char *top, const char *container)
{
    char *s, *j;
    if (asprintf(&s, "{'family':'f',%s%s'containerDefinitions':[{'name':'c','image':'i',"
                 "'memory':64%s%s}]}", top, top[0] ? "," : "", container[0] ? "," : "",
                 container) < 0)
        abort();
    j = J(s);
    free(s);
    return j;
}

static void dump(const struct json_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        diag("  error: %s: %s", e->v[i].path, e->v[i].message);
}

static struct taskdef *parse_ok(const char *name, const char *json, struct json_errors *e)
{
    struct taskdef *td = (struct taskdef *)1;
    int r = taskdef_parse(json, strlen(json), &td, e);
    if (!ok(r == 0 && td && e->n == 0, "%s: parses", name))
        dump(e);
    return r == 0 ? td : NULL;
}

/* The document is refused, with an error at exactly path whose message
 * contains needle. */
static void fails(const char *name, const char *json, const char *path, const char *needle)
{
    struct json_errors e = {0};
    struct taskdef *td = (struct taskdef *)1;
    int r = taskdef_parse(json, strlen(json), &td, &e);
    int found = 0;
    for (size_t i = 0; i < e.n; i++)
        found |= strcmp(e.v[i].path, path) == 0 && strstr(e.v[i].message, needle);
    if (!ok(r == -1 && td == NULL && found, "%s: refused at %s (%s)", name, path, needle))
        dump(&e);
    json_errors_clear(&e);
}

static void fails_c(const char *name, const char *container, const char *path,
                    const char *needle)
{
    char *d = doc("", container);
    fails(name, d, path, needle);
    free(d);
}

static void fails_t(const char *name, const char *top, const char *path, const char *needle)
{
    char *d = doc(top, "");
    fails(name, d, path, needle);
    free(d);
}

static void fails_j(const char *name, const char *text, const char *path, const char *needle)
{
    char *d = J(text);
    fails(name, d, path, needle);
    free(d);
}

static bool has_ignored(const struct json_errors *e, const char *prefix)
{
    for (size_t i = 0; i < e->n_ignored; i++)
        if (strncmp(e->ignored[i], prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------------ */

static void test_realistic(void)
{
    size_t len;
    char *text = slurp("web.json", &len);
    struct json_errors e = {0};
    struct taskdef *td = NULL;
    ok(text != NULL, "web.json read");
    if (!text)
        return;
    int r = taskdef_parse(text, len, &td, &e);
    if (!ok(r == 0 && td, "web.json parses"))
        dump(&e);
    free(text);
    if (!td) {
        json_errors_clear(&e);
        return;
    }
    ok(e.n_ignored == 1 && has_ignored(&e, "taskRoleArn: ignored: IAM roles"),
       "taskRoleArn reported as ignored");
    is_str(td->family, "web-app", "family");
    ok(td->network_mode == TASKDEF_NET_BRIDGE, "networkMode defaults to bridge");
    ok(td->cpu == 512, "cpu \"0.5 vCPU\" is 512 units");
    ok(td->memory == 1024, "memory \"1 GB\" is 1024 MiB");
    ok(td->n_containers == 2, "two containers");
    ok(td->n_volumes == 2, "two volumes");
    is_str(td->volumes[0].host.source_path, "/srv/static", "host volume path");
    ok(td->volumes[1].has_docker && td->volumes[1].docker.scope == TASKDEF_SCOPE_TASK,
       "docker volume scope defaults to task");
    ok(td->volumes[1].docker.labels.n == 2 &&
           strcmp(td->volumes[1].docker.labels.v[0].name, "a") == 0,
       "docker volume labels sorted by name");

    const struct taskdef_container *web = taskdef_container(td, "web");
    const struct taskdef_container *app = taskdef_container(td, "app");
    ok(web && app && !taskdef_container(td, "nope"), "taskdef_container finds by name");
    if (!web || !app)
        goto out;
    is_str(web->image, "nginx:1.27", "web image");
    ok(web->cpu == 256 && web->memory == 256 && web->memory_reservation == 128,
       "web cpu, memory, memoryReservation");
    ok(web->essential, "essential defaults to true");
    ok(!app->essential, "essential false kept");
    ok(web->n_port_mappings == 1 && web->port_mappings[0].container_port == 80 &&
           web->port_mappings[0].host_port == 0 &&
           web->port_mappings[0].protocol == TASKDEF_TCP,
       "web port 80, dynamic host port, tcp by default");
    is_str(web->port_mappings[0].name, "http", "port name");
    ok(web->port_mappings[0].has_app_protocol &&
           web->port_mappings[0].app_protocol == TASKDEF_APP_HTTP,
       "appProtocol http");
    ok(web->n_environment == 2, "two environment variables");
    is_str(web->environment[0].name, "MODE", "env order kept: first");
    is_str(web->environment[1].value, "", "empty env value kept");
    ok(web->n_secrets == 1, "one secret");
    is_str(web->secrets[0].value_from, "db-password", "secret valueFrom");
    ok(web->n_mount_points == 2 && web->mount_points[0].read_only &&
           !web->mount_points[1].read_only,
       "mount points and readOnly");
    ok(web->n_ulimits == 1 && web->ulimits[0].soft_limit == 4096 &&
           web->ulimits[0].hard_limit == 8192 &&
           strcmp(taskdef_ulimit_names[web->ulimits[0].name], "nofile") == 0,
       "ulimit nofile 4096/8192");
    ok(web->has_log_configuration && web->log_configuration.driver == TASKDEF_LOG_JSON_FILE &&
           web->log_configuration.options.n == 2,
       "logConfiguration json-file with options");
    ok(web->n_depends_on == 1 && web->depends_on[0].condition == TASKDEF_HEALTHY,
       "dependsOn HEALTHY");
    is_str(web->depends_on[0].container_name, "app", "dependsOn target");
    ok(web->stop_timeout == 20, "stopTimeout given");
    ok(app->stop_timeout == 30, "stopTimeout defaults to 30");
    ok(!web->has_health_check, "web has no health check");
    ok(app->has_health_check && app->health_check.interval == 30 &&
           app->health_check.timeout == 5 && app->health_check.retries == 5 &&
           app->health_check.start_period == 0,
       "health check defaults, retries given");
    ok(app->health_check.command.n == 2, "health check command");
    ok(app->command.n == 3 && app->entry_point.n == 1, "command and entryPoint");
    is_str(app->working_directory, "/app", "workingDirectory");
    is_str(app->user, "1000:1000", "user");
    ok(app->has_linux_parameters && app->linux_parameters.init_process_enabled,
       "initProcessEnabled");
    ok(app->has_restart_policy && app->restart_policy.enabled &&
           app->restart_policy.restart_attempt_period == 300 &&
           app->restart_policy.ignored_exit_codes.n == 1,
       "restartPolicy, restartAttemptPeriod defaults to 300");

    /* Round trip through the rendered JSON. */
    cJSON *j = taskdef_to_json(td);
    struct taskdef *again = NULL;
    struct json_errors e2 = {0};
    ok(taskdef_from_cjson(j, &again, &e2) == 0, "rendered JSON parses back");
    dump(&e2);
    ok(again && taskdef_equal(td, again), "and gives an equal definition");
    char d1[17], d2[17];
    taskdef_digest(td, d1);
    if (again)
        taskdef_digest(again, d2);
    ok(again && strcmp(d1, d2) == 0 && strlen(d1) == 16, "digests equal (%s)", d1);
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "containerDefinitions"), 0);
    cJSON *pm = cJSON_GetArrayItem(cJSON_GetObjectItem(c0, "portMappings"), 0);
    ok(cJSON_IsTrue(cJSON_GetObjectItem(c0, "essential")), "rendered essential true");
    is_str(cJSON_GetStringValue(cJSON_GetObjectItem(pm, "protocol")), "tcp",
           "rendered protocol tcp");
    is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "networkMode")), "bridge",
           "rendered networkMode");
    is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "cpu")), "512",
           "rendered task cpu in units");
    ok(!cJSON_GetObjectItem(j, "taskRoleArn"), "ignored members not rendered");
    cJSON *c1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "containerDefinitions"), 1);
    cJSON *hc = cJSON_GetObjectItem(c1, "healthCheck");
    ok(cJSON_GetNumberValue(cJSON_GetObjectItem(hc, "interval")) == 30,
       "rendered healthCheck interval default");
    cJSON_Delete(j);
    taskdef_free(again);
    json_errors_clear(&e2);
out:
    taskdef_free(td);
    json_errors_clear(&e);
}

static void test_equality(void)
{
    struct json_errors e = {0};
    char *a = J("{'family':'f','containerDefinitions':[{'name':'c','image':'i',"
                "'memory':64,'essential':true,'dockerLabels':{'x':'1','y':'2'},"
                "'privileged':false,'portMappings':[{'containerPort':80,"
                "'protocol':'tcp'}]}]}");
    char *b = J("{'containerDefinitions':[{'image':'i','memory':64,'name':'c',"
                "'dockerLabels':{'y':'2','x':'1'},'portMappings':[{'containerPort':80}]}],"
                "'networkMode':'bridge','family':'f'}");
    char *c = J("{'family':'f','containerDefinitions':[{'name':'c','image':'i:2',"
                "'memory':64}]}");
    struct taskdef *x = parse_ok("equality a", a, &e);
    struct taskdef *y = parse_ok("equality b", b, &e);
    struct taskdef *z = parse_ok("equality c", c, &e);
    if (x && y && z) {
        ok(taskdef_equal(x, y), "defaults, member order and map order do not matter");
        ok(!taskdef_equal(x, z), "a different image does");
        char d1[17], d2[17];
        taskdef_digest(x, d1);
        taskdef_digest(z, d2);
        ok(strcmp(d1, d2) != 0, "different definitions, different digests");
    }
    taskdef_free(x);
    taskdef_free(y);
    taskdef_free(z);
    free(a);
    free(b);
    free(c);
    json_errors_clear(&e);
}

static void test_defaults_and_modes(void)
{
    struct json_errors e = {0};
    char *d = J("{'family':'f','networkMode':'host','memory':'512','cpu':'1024',"
                "'containerDefinitions':[{'name':'c','image':'i','portMappings':"
                "[{'containerPort':8080,'protocol':'udp'}]}]}");
    struct taskdef *td = parse_ok("host mode, task memory only", d, &e);
    free(d);
    if (td) {
        ok(td->network_mode == TASKDEF_NET_HOST, "networkMode host");
        ok(td->containers[0].port_mappings[0].host_port == 8080,
           "host mode: absent hostPort becomes containerPort");
        ok(td->containers[0].port_mappings[0].protocol == TASKDEF_UDP, "udp");
        ok(td->memory == 512 && td->cpu == 1024, "numeric task cpu and memory");
    }
    taskdef_free(td);
    json_errors_clear(&e);

    d = J("{'family':'f','networkMode':'awsvpc','memory':'2GB','containerDefinitions':"
          "[{'name':'c','image':'i','portMappings':[{'containerPort':80,'hostPort':80}]}]}");
    td = parse_ok("awsvpc, hostPort = containerPort, 2GB", d, &e);
    free(d);
    ok(td && td->memory == 2048, "\"2GB\" is 2048 MiB");
    taskdef_free(td);
    json_errors_clear(&e);

    d = doc("", "'logConfiguration':{'logDriver':'awslogs','options':{'awslogs-group':'g'}}");
    td = parse_ok("awslogs accepted", d, &e);
    free(d);
    ok(has_ignored(&e, "containerDefinitions[0].logConfiguration.logDriver: ignored: "
                       "awslogs"),
       "awslogs reported as ignored");
    taskdef_free(td);
    json_errors_clear(&e);

    d = doc("", "'logConfiguration':{'logDriver':'local'}");
    td = parse_ok("local log driver", d, &e);
    free(d);
    taskdef_free(td);
    json_errors_clear(&e);

    d = doc("'volumes':[{'name':'v','dockerVolumeConfiguration':{'scope':'shared',"
            "'autoprovision':true}}]", "'mountPoints':[{'sourceVolume':'v',"
            "'containerPath':'/d'}]");
    td = parse_ok("shared autoprovisioned volume", d, &e);
    free(d);
    ok(td && td->volumes[0].docker.autoprovision, "autoprovision kept");
    taskdef_free(td);
    json_errors_clear(&e);
}

static void test_top_rules(void)
{
    fails_j("family missing", "{'containerDefinitions':[{'name':'c','image':'i',"
            "'memory':64}]}", "family", "required");
    fails_j("family with a dot", "{'family':'a.b','containerDefinitions':[{'name':'c',"
            "'image':'i','memory':64}]}", "family", "1 to 255 letters, digits");
    char long_name[300];
    memset(long_name, 'a', 256);
    long_name[256] = '\0';
    char *t;
    if (asprintf(&t, "{'family':'%s','containerDefinitions':[{'name':'c','image':'i',"
                 "'memory':64}]}", long_name) < 0)
        abort();
    fails_j("family of 256", t, "family", "1 to 255");
    free(t);
    fails_j("no containers", "{'family':'f','containerDefinitions':[]}",
            "containerDefinitions", "expected 1 to 10 elements, got 0");
    fails_j("containerDefinitions missing", "{'family':'f'}", "containerDefinitions",
            "required");
    char buf[4096] = "{'family':'f','containerDefinitions':[";
    for (int i = 0; i < 11; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
                 "%s{'name':'c%d','image':'i','memory':64}", i ? "," : "", i);
    strcat(buf, "]}");
    fails_j("11 containers", buf, "containerDefinitions", "expected 1 to 10 elements, got 11");
    fails_t("networkMode nat", "'networkMode':'nat'", "networkMode",
            "expected one of bridge, host, awsvpc, none, got \"nat\"");
    fails_t("task cpu text", "'cpu':'fast'", "cpu", "expected CPU units");
    fails_t("task cpu fraction of a unit", "'cpu':'0.1 vCPU'", "cpu", "whole units");
    fails_t("task cpu below 128", "'cpu':'64'", "cpu", "between 128 and 196608");
    fails_t("task memory fraction", "'memory':'1.5'", "memory", "expected MiB");
    fails_t("task memory as number", "'memory':512", "memory",
            "expected a string, got a number");
    fails_j("sum of memory", "{'family':'f','memory':'100','containerDefinitions':"
            "[{'name':'a','image':'i','memory':64},{'name':'b','image':'i',"
            "'memoryReservation':64}]}", "memory",
            "the containers' memory adds up to 128 MiB, more than the task's 100");
    fails_j("sum of cpu", "{'family':'f','cpu':'256','containerDefinitions':"
            "[{'name':'a','image':'i','memory':64,'cpu':200},{'name':'b','image':'i',"
            "'memory':64,'cpu':100}]}", "cpu", "adds up to 300 units, more than the task's 256");
    fails_j("no essential container", "{'family':'f','containerDefinitions':"
            "[{'name':'a','image':'i','memory':64,'essential':false}]}",
            "containerDefinitions", "at least one container must be essential");
    fails_t("duplicate volumes", "'volumes':[{'name':'v'},{'name':'v'}]", "volumes[1].name",
            "already the name of volumes[0]");
    fails_t("volume name", "'volumes':[{'name':'a b'}]", "volumes[0].name", "1 to 255");
    fails_t("host and docker volume", "'volumes':[{'name':'v','host':{},"
            "'dockerVolumeConfiguration':{}}]", "volumes[0]", "cannot both be set");
    fails_t("relative host path", "'volumes':[{'name':'v','host':{'sourcePath':'x'}}]",
            "volumes[0].host.sourcePath", "absolute path");
    fails_t("autoprovision with task scope", "'volumes':[{'name':'v',"
            "'dockerVolumeConfiguration':{'autoprovision':true}}]",
            "volumes[0].dockerVolumeConfiguration.autoprovision", "scope \"shared\"");
    fails_t("EFS volume", "'volumes':[{'name':'v','efsVolumeConfiguration':"
            "{'fileSystemId':'fs-1'}}]", "volumes[0].efsVolumeConfiguration",
            "not supported by Berth: EFS");
    fails_t("EBS at launch", "'volumes':[{'name':'v','configuredAtLaunch':true}]",
            "volumes[0].configuredAtLaunch", "not supported by Berth");
    fails_t("aws: tag", "'tags':[{'key':'aws:x','value':'1'}]", "tags[0].key", "reserved");
    fails_t("duplicate tag", "'tags':[{'key':'a'},{'key':'a'}]", "tags[1].key",
            "already the key of tags[0]");
}

static void test_container_rules(void)
{
    fails_c("container member given twice", "'name':'my app'",
            "containerDefinitions[0].name", "appears more than once");
    fails_j("container name rule", "{'family':'f','containerDefinitions':[{'name':'my app',"
            "'image':'i','memory':64}]}", "containerDefinitions[0].name",
            "1 to 255 letters, digits, '_' or '-'");
    fails_j("duplicate container names", "{'family':'f','containerDefinitions':"
            "[{'name':'a','image':'i','memory':64},{'name':'a','image':'i','memory':64}]}",
            "containerDefinitions[1].name", "already the name of containerDefinitions[0]");
    fails_j("image missing", "{'family':'f','containerDefinitions':[{'name':'a',"
            "'memory':64}]}", "containerDefinitions[0].image", "required field is missing");
    fails_j("image empty", "{'family':'f','containerDefinitions':[{'name':'a','image':'',"
            "'memory':64}]}", "containerDefinitions[0].image", "must not be empty");
    fails_j("no memory anywhere", "{'family':'f','containerDefinitions':[{'name':'a',"
            "'image':'i'}]}", "containerDefinitions[0].memory",
            "memory or memoryReservation is required when the task sets no memory");
    fails_c("memory below 6 MiB", "'memoryReservation':4",
            "containerDefinitions[0].memoryReservation", "must be at least 6, got 4");
    fails_j("memory of 4", "{'family':'f','containerDefinitions':[{'name':'a','image':'i',"
            "'memory':4}]}", "containerDefinitions[0].memory", "must be at least 6, got 4");
    fails_c("memoryReservation not below memory", "'memoryReservation':64",
            "containerDefinitions[0].memoryReservation", "must be less than memory (64 MiB)");
    fails_c("stopTimeout 0", "'stopTimeout':0", "containerDefinitions[0].stopTimeout",
            "between 1 and 120, got 0");
    fails_c("stopTimeout 121", "'stopTimeout':121", "containerDefinitions[0].stopTimeout",
            "between 1 and 120, got 121");
    char files[2048] = "'environmentFiles':[";
    for (int i = 0; i < 11; i++)
        snprintf(files + strlen(files), sizeof files - strlen(files),
                 "%s{'value':'/etc/e%d','type':'s3'}", i ? "," : "", i);
    strcat(files, "]");
    fails_c("11 environment files", files, "containerDefinitions[0].environmentFiles",
            "at most 10 elements allowed, got 11");
    fails_c("environment file type", "'environmentFiles':[{'value':'/e','type':'file'}]",
            "containerDefinitions[0].environmentFiles[0].type", "expected one of s3");
    fails_c("environment file from S3", "'environmentFiles':[{'value':"
            "'arn:aws:s3:::b/e.env','type':'s3'}]",
            "containerDefinitions[0].environmentFiles[0].value", "absolute path on this host");
    fails_c("environment name missing", "'environment':[{'value':'v'}]",
            "containerDefinitions[0].environment[0].name", "required");
    fails_c("secret valueFrom missing", "'secrets':[{'name':'S'}]",
            "containerDefinitions[0].secrets[0].valueFrom", "required");
    fails_c("ulimit name", "'ulimits':[{'name':'files','softLimit':1,'hardLimit':1}]",
            "containerDefinitions[0].ulimits[0].name", "expected one of core, cpu");
    fails_c("ulimit soft above hard", "'ulimits':[{'name':'nofile','softLimit':10,"
            "'hardLimit':5}]", "containerDefinitions[0].ulimits[0].softLimit",
            "must not exceed hardLimit (5), got 10");
    fails_c("ulimit twice", "'ulimits':[{'name':'nofile','softLimit':1,'hardLimit':1},"
            "{'name':'nofile','softLimit':2,'hardLimit':2}]",
            "containerDefinitions[0].ulimits[1].name", "already set by ulimits[0]");
    fails_c("ulimit hardLimit missing", "'ulimits':[{'name':'core','softLimit':0}]",
            "containerDefinitions[0].ulimits[0].hardLimit", "required");
    fails_c("log driver gelf", "'logConfiguration':{'logDriver':'gelf'}",
            "containerDefinitions[0].logConfiguration.logDriver",
            "not supported by Berth: gelf");
    fails_c("log driver unknown", "'logConfiguration':{'logDriver':'kafka'}",
            "containerDefinitions[0].logConfiguration.logDriver", "expected one of json-file");
    fails_c("log options not strings", "'logConfiguration':{'logDriver':'json-file',"
            "'options':{'max-file':3}}",
            "containerDefinitions[0].logConfiguration.options.max-file",
            "expected a string, got a number");
    fails_c("restart period 59", "'restartPolicy':{'enabled':true,'restartAttemptPeriod':59}",
            "containerDefinitions[0].restartPolicy.restartAttemptPeriod",
            "between 60 and 1800");
    char codes[1024] = "'restartPolicy':{'enabled':true,'ignoredExitCodes':[";
    for (int i = 0; i < 51; i++)
        snprintf(codes + strlen(codes), sizeof codes - strlen(codes), "%s%d", i ? "," : "", i);
    strcat(codes, "]}");
    fails_c("51 ignored exit codes", codes,
            "containerDefinitions[0].restartPolicy.ignoredExitCodes",
            "at most 50 elements allowed, got 51");
    fails_c("restart enabled missing", "'restartPolicy':{}",
            "containerDefinitions[0].restartPolicy.enabled", "required");
    fails_c("devices unsupported", "'linuxParameters':{'devices':[]}",
            "containerDefinitions[0].linuxParameters.devices", "not supported by Berth");
}

static void test_port_rules(void)
{
    fails_c("containerPort 0", "'portMappings':[{'containerPort':0}]",
            "containerDefinitions[0].portMappings[0].containerPort", "between 1 and 65535");
    fails_c("containerPort missing", "'portMappings':[{'hostPort':80}]",
            "containerDefinitions[0].portMappings[0].containerPort", "required");
    fails_c("hostPort 70000", "'portMappings':[{'containerPort':80,'hostPort':70000}]",
            "containerDefinitions[0].portMappings[0].hostPort",
            "between 0 and 65535, got 70000");
    fails_c("protocol sctp", "'portMappings':[{'containerPort':80,'protocol':'sctp'}]",
            "containerDefinitions[0].portMappings[0].protocol", "expected one of tcp, udp");
    fails_c("port name uppercase", "'portMappings':[{'containerPort':80,'name':'Web'}]",
            "containerDefinitions[0].portMappings[0].name", "1 to 64 lowercase");
    fails_c("port name leading dash", "'portMappings':[{'containerPort':80,'name':'-w'}]",
            "containerDefinitions[0].portMappings[0].name", "not starting with '-'");
    char n65[200] = "'portMappings':[{'containerPort':80,'name':'";
    memset(n65 + strlen(n65), 'p', 65);
    strcpy(n65 + strlen("'portMappings':[{'containerPort':80,'name':'") + 65, "'}]");
    fails_c("port name of 65", n65, "containerDefinitions[0].portMappings[0].name",
            "1 to 64");
    fails_j("port names unique in the task", "{'family':'f','containerDefinitions':["
            "{'name':'a','image':'i','memory':64,'portMappings':[{'containerPort':80,"
            "'name':'web'}]},{'name':'b','image':'i','memory':64,'portMappings':"
            "[{'containerPort':81,'name':'web'}]}]}",
            "containerDefinitions[1].portMappings[0].name",
            "already the name of containerDefinitions[0].portMappings[0]");
    fails_j("static host port twice", "{'family':'f','containerDefinitions':["
            "{'name':'a','image':'i','memory':64,'portMappings':[{'containerPort':80,"
            "'hostPort':8080}]},{'name':'b','image':'i','memory':64,'portMappings':"
            "[{'containerPort':81,'hostPort':8080}]}]}",
            "containerDefinitions[1].portMappings[0].hostPort",
            "host port 8080/tcp is already mapped");
    fails_j("host mode hostPort differs", "{'family':'f','networkMode':'host',"
            "'containerDefinitions':[{'name':'a','image':'i','memory':64,'portMappings':"
            "[{'containerPort':80,'hostPort':8080}]}]}",
            "containerDefinitions[0].portMappings[0].hostPort",
            "must be empty or equal to containerPort (80) in host network mode");
    fails_j("awsvpc hostPort differs", "{'family':'f','networkMode':'awsvpc',"
            "'containerDefinitions':[{'name':'a','image':'i','memory':64,'portMappings':"
            "[{'containerPort':80,'hostPort':81}]}]}",
            "containerDefinitions[0].portMappings[0].hostPort", "in awsvpc network mode");
    fails_j("ports in none mode", "{'family':'f','networkMode':'none',"
            "'containerDefinitions':[{'name':'a','image':'i','memory':64,'portMappings':"
            "[{'containerPort':80}]}]}", "containerDefinitions[0].portMappings",
            "not allowed in none network mode");
    fails_c("port ranges unsupported", "'portMappings':[{'containerPort':80,"
            "'containerPortRange':'80-90'}]",
            "containerDefinitions[0].portMappings[0].containerPortRange",
            "not supported by Berth");
    fails_j("links outside bridge", "{'family':'f','networkMode':'host',"
            "'containerDefinitions':[{'name':'a','image':'i','memory':64},{'name':'b',"
            "'image':'i','memory':64,'links':['a']}]}", "containerDefinitions[1].links",
            "only allowed in bridge network mode");
    fails_j("link to nothing", "{'family':'f','containerDefinitions':[{'name':'a',"
            "'image':'i','memory':64,'links':['db:database']}]}",
            "containerDefinitions[0].links[0]", "must name another container");
}

static void test_health_rules(void)
{
    fails_c("health command[0]", "'healthCheck':{'command':['RUN','true']}",
            "containerDefinitions[0].healthCheck.command[0]", "\"CMD\" or \"CMD-SHELL\"");
    fails_c("health command alone", "'healthCheck':{'command':['CMD']}",
            "containerDefinitions[0].healthCheck.command", "needs the command");
    fails_c("health command empty", "'healthCheck':{'command':[]}",
            "containerDefinitions[0].healthCheck.command", "must not be empty");
    fails_c("health command missing", "'healthCheck':{'interval':10}",
            "containerDefinitions[0].healthCheck.command", "required");
    fails_c("interval 3", "'healthCheck':{'command':['CMD','true'],'interval':3}",
            "containerDefinitions[0].healthCheck.interval", "between 5 and 300, got 3");
    fails_c("timeout 61", "'healthCheck':{'command':['CMD','true'],'timeout':61}",
            "containerDefinitions[0].healthCheck.timeout", "between 2 and 60, got 61");
    fails_c("retries 0", "'healthCheck':{'command':['CMD','true'],'retries':0}",
            "containerDefinitions[0].healthCheck.retries", "between 1 and 10, got 0");
    fails_c("startPeriod 301", "'healthCheck':{'command':['CMD','true'],'startPeriod':301}",
            "containerDefinitions[0].healthCheck.startPeriod", "between 0 and 300, got 301");
}

static void test_dependency_rules(void)
{
    fails_c("depends on nothing", "'dependsOn':[{'containerName':'db','condition':'START'}]",
            "containerDefinitions[0].dependsOn[0].containerName",
            "\"db\" names no container of this task");
    fails_c("depends on itself", "'dependsOn':[{'containerName':'c','condition':'START'}]",
            "containerDefinitions[0].dependsOn[0].containerName", "cannot depend on itself");
    fails_c("condition RUNNING", "'dependsOn':[{'containerName':'c','condition':'RUNNING'}]",
            "containerDefinitions[0].dependsOn[0].condition",
            "expected one of START, COMPLETE, SUCCESS, HEALTHY");
    fails_c("condition missing", "'dependsOn':[{'containerName':'x'}]",
            "containerDefinitions[0].dependsOn[0].condition", "required");
    fails_j("COMPLETE on an essential", "{'family':'f','containerDefinitions':["
            "{'name':'a','image':'i','memory':64,'dependsOn':[{'containerName':'b',"
            "'condition':'COMPLETE'}]},{'name':'b','image':'i','memory':64}]}",
            "containerDefinitions[0].dependsOn[0].containerName",
            "COMPLETE cannot target an essential container");
    fails_j("SUCCESS on an essential", "{'family':'f','containerDefinitions':["
            "{'name':'a','image':'i','memory':64,'dependsOn':[{'containerName':'b',"
            "'condition':'SUCCESS'}]},{'name':'b','image':'i','memory':64}]}",
            "containerDefinitions[0].dependsOn[0].containerName",
            "SUCCESS cannot target an essential container");
    fails_j("cycle", "{'family':'f','containerDefinitions':["
            "{'name':'a','image':'i','memory':64,'dependsOn':[{'containerName':'b',"
            "'condition':'START'}]},{'name':'b','image':'i','memory':64,'dependsOn':"
            "[{'containerName':'c','condition':'START'}]},{'name':'c','image':'i',"
            "'memory':64,'dependsOn':[{'containerName':'a','condition':'HEALTHY'}]}]}",
            "containerDefinitions[2].dependsOn[0].containerName",
            "dependency cycle: a -> b -> c -> a");
    fails_c("mount of no volume", "'mountPoints':[{'sourceVolume':'data',"
            "'containerPath':'/d'}]", "containerDefinitions[0].mountPoints[0].sourceVolume",
            "\"data\" names no volume of this task");
    char *d = doc("'volumes':[{'name':'v'}]",
                  "'mountPoints':[{'sourceVolume':'v','containerPath':'d'}]");
    fails("relative containerPath", d, "containerDefinitions[0].mountPoints[0].containerPath",
          "absolute path");
    free(d);
    fails_c("volumesFrom nothing", "'volumesFrom':[{'sourceContainer':'x'}]",
            "containerDefinitions[0].volumesFrom[0].sourceContainer", "names no container");

    /* COMPLETE on a non-essential container is fine. */
    struct json_errors e = {0};
    char *ok_doc = J("{'family':'f','containerDefinitions':[{'name':'a','image':'i',"
                     "'memory':64,'dependsOn':[{'containerName':'init','condition':"
                     "'SUCCESS'}]},{'name':'init','image':'i','memory':64,"
                     "'essential':false}]}");
    struct taskdef *td = parse_ok("SUCCESS on a non-essential container", ok_doc, &e);
    taskdef_free(td);
    free(ok_doc);
    json_errors_clear(&e);
}

static void test_types_unknown_ignored(void)
{
    fails_c("cpu as a string", "'cpu':'256'", "containerDefinitions[0].cpu",
            "expected an integer, got a string");
    fails_c("cpu with a fraction", "'cpu':1.5", "containerDefinitions[0].cpu",
            "expected an integer, got 1.5");
    fails_c("cpu too large for 32 bits", "'cpu':1e12", "containerDefinitions[0].cpu",
            "out of the 32-bit range");
    fails_c("essential as a string", "'essential':'yes'", "containerDefinitions[0].essential",
            "expected a boolean, got a string");
    fails_c("command as a string", "'command':'run'", "containerDefinitions[0].command",
            "expected an array, got a string");
    fails_c("command element", "'command':['run',1]", "containerDefinitions[0].command[1]",
            "expected a string, got a number");
    fails_c("environment as an object", "'environment':{'A':'1'}",
            "containerDefinitions[0].environment", "expected an array, got an object");
    fails_c("port mapping as a number", "'portMappings':[80]",
            "containerDefinitions[0].portMappings[0]", "expected an object, got a number");
    fails_c("null member", "'user':null", "containerDefinitions[0].user",
            "expected a string, got null");
    fails_t("unknown top-level field", "'replicas':3", "replicas", "unknown field");
    fails_c("unknown nested field", "'portMappings':[{'containerPort':80,'hostport':80}]",
            "containerDefinitions[0].portMappings[0].hostport", "unknown field");
    fails_c("a Berth extension is unknown", "'berth':{}", "containerDefinitions[0].berth",
            "unknown field");
    fails_c("ECS spelling only", "'workingDir':'/app'", "containerDefinitions[0].workingDir",
            "unknown field");
    fails_t("ignored field of the wrong type", "'taskRoleArn':5", "taskRoleArn",
            "expected a string, got a number");

    struct json_errors e = {0};
    char *d = doc("'taskRoleArn':'arn:aws:iam::1:role/r','executionRoleArn':'x',"
                  "'requiresCompatibilities':['EC2'],'placementConstraints':[],"
                  "'runtimePlatform':{'cpuArchitecture':'ARM64'},'ephemeralStorage':"
                  "{'sizeInGiB':30}",
                  "'repositoryCredentials':{'credentialsParameter':'arn'},"
                  "'resourceRequirements':[{'type':'GPU','value':'1'}]");
    struct taskdef *td = parse_ok("AWS-only members accepted", d, &e);
    free(d);
    ok(e.n_ignored == 8, "8 members reported as ignored (%zu)", e.n_ignored);
    ok(has_ignored(&e, "taskRoleArn: ignored: IAM roles have no meaning on a Berth host"),
       "taskRoleArn with its reason");
    ok(has_ignored(&e, "requiresCompatibilities: ignored: "), "requiresCompatibilities");
    ok(has_ignored(&e, "runtimePlatform: ignored: "), "runtimePlatform");
    ok(has_ignored(&e, "containerDefinitions[0].repositoryCredentials: ignored: "),
       "repositoryCredentials with its container path");
    ok(has_ignored(&e, "containerDefinitions[0].resourceRequirements: ignored: "),
       "resourceRequirements");
    taskdef_free(td);
    json_errors_clear(&e);
}

static void test_many_errors_and_message(void)
{
    struct json_errors e = {0};
    struct taskdef *td = (struct taskdef *)1;
    char *d = J("{'family':'bad family','networkMode':'nat','containerDefinitions':["
                "{'name':'web','image':'','memory':'big','portMappings':[{'containerPort':"
                "0}],'healthCheck':{'command':['CMD','true'],'interval':1}},"
                "{'name':'web','image':'i','memory':64,'colour':'red'}]}");
    ok(taskdef_parse(d, strlen(d), &td, &e) == -1 && td == NULL, "many errors: refused");
    free(d);
    const char *want[] = {
        "networkMode", "containerDefinitions[0].memory",
        "containerDefinitions[0].portMappings[0].containerPort",
        "containerDefinitions[0].healthCheck.interval", "containerDefinitions[0].image",
        "containerDefinitions[1].colour", "family", "containerDefinitions[1].name",
    };
    size_t n_want = sizeof want / sizeof want[0], found = 0;
    for (size_t i = 0; i < n_want; i++)
        for (size_t j = 0; j < e.n; j++)
            if (strcmp(e.v[j].path, want[i]) == 0) {
                found++;
                break;
            }
    if (!ok(found == n_want && e.n == n_want, "all %zu errors reported, each once (%zu)",
            n_want, e.n))
        dump(&e);
    char *msg = json_errors_message(&e);
    like(msg, "networkMode: expected one of bridge, host, awsvpc, none, got \"nat\"; ",
         "message joins PATH: MESSAGE with '; '");
    ok(msg && msg[strlen(msg) - 1] != ' ', "no trailing separator");
    free(msg);
    json_errors_clear(&e);
    ok(e.n == 0 && e.v == NULL && e.n_ignored == 0, "json_errors_clear empties");
}

static void test_invalid_json(void)
{
    struct json_errors e = {0};
    struct taskdef *td = (struct taskdef *)1;
    const char *bad = "{\n  \"family\": \"f\",\n  \"containerDefinitions\": [,]\n}";
    ok(taskdef_parse(bad, strlen(bad), &td, &e) == -1 && td == NULL && e.n == 1,
       "invalid JSON refused with one error");
    if (e.n) {
        is_str(e.v[0].path, "", "no path");
        is_str(e.v[0].message, "invalid JSON at line 3, column 28", "line and column");
    }
    json_errors_clear(&e);
    const char *trail = "{\"family\":\"f\"} x";
    ok(taskdef_parse(trail, strlen(trail), &td, &e) == -1 && e.n == 1, "trailing text");
    if (e.n)
        like(e.v[0].message, "line 1, column 16: text after the end", "names the place");
    json_errors_clear(&e);
    const char *arr = "[1]";
    ok(taskdef_parse(arr, strlen(arr), &td, &e) == -1 && e.n == 1, "array refused");
    if (e.n)
        is_str(e.v[0].message, "expected a JSON object, got an array", "says what it got");
    json_errors_clear(&e);
    /* Not NUL-terminated: only len bytes are read. */
    const char *full = "{\"family\":\"f\"}GARBAGE";
    ok(taskdef_parse(full, 14, &td, &e) == -1 && e.n >= 1 &&
           strcmp(e.v[0].path, "containerDefinitions") == 0,
       "len bounds the document");
    json_errors_clear(&e);
    char *dup = J("{'family':'f','family':'g','containerDefinitions':[{'name':'c',"
                  "'image':'i','memory':64}]}");
    fails("member twice", dup, "family", "appears more than once");
    free(dup);
}

/* Every member the AWS CLI's skeleton lists is known: parsed, ignored or
 * refused as unsupported, never "unknown field". */
static void test_skeleton(void)
{
    size_t len;
    char *text = slurp("skeleton.json", &len);
    ok(text != NULL, "skeleton.json read");
    if (!text)
        return;
    struct json_errors e = {0};
    struct taskdef *td = NULL;
    taskdef_parse(text, len, &td, &e);
    size_t unknown = 0;
    for (size_t i = 0; i < e.n; i++)
        if (strstr(e.v[i].message, "unknown field")) {
            unknown++;
            diag("  unknown: %s", e.v[i].path);
        }
    ok(e.n > 0 && unknown == 0, "no member of the skeleton is unknown (%zu errors, "
       "%zu ignored)", e.n, e.n_ignored);
    ok(has_ignored(&e, "proxyConfiguration: ignored") &&
           has_ignored(&e, "containerDefinitions[0].firelensConfiguration: ignored") &&
           has_ignored(&e, "containerDefinitions[0].credentialSpecs: ignored") &&
           has_ignored(&e, "enableFaultInjection: ignored"),
       "AWS-only members of the skeleton ignored");

    /* The walker reports unknown members at any depth whatever else fails,
     * so the check above covers every key; this one only guards against a
     * truncated fixture (members inside ignored objects are not walked). */
    cJSON *root = cJSON_Parse(text);
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "containerDefinitions"), 0);
    size_t keys = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, root) keys++;
    cJSON_ArrayForEach(m, c0) keys++;
    ok(keys > 50, "skeleton has %zu top-level and container keys", keys);
    cJSON_Delete(root);
    taskdef_free(td);
    json_errors_clear(&e);
    free(text);
}

int main(void)
{
    srcdir = getenv("top_srcdir");
    if (!srcdir)
        srcdir = ".";
    test_realistic();
    test_equality();
    test_defaults_and_modes();
    test_top_rules();
    test_container_rules();
    test_port_rules();
    test_health_rules();
    test_dependency_rules();
    test_types_unknown_ignored();
    test_many_errors_and_message();
    test_invalid_json();
    test_skeleton();
    return done_testing();
}
