/* test_container_spec.c: task definition containers as runtime spec JSON:
 * names, labels, units, health checks, ports, mounts, environment
 * precedence, env files, secrets, the sandbox spec. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "agent/container_spec.h"
#include "agent/task.h"
#include "agent/taskdef.h"
#include "tests/lib/tap.h"

#define TD_ARN "arn:aws:ecs:eu-west-3:123456789012:task-definition/shop:4"

static char tmpdir[] = "/tmp/test_container_spec.XXXXXX";
static char secrets[600];
static char err[512];

static void write_file(const char *rel, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0)
        abort();
    fclose(f);
}

/* JSON written with ' for " so that the documents stay readable here;
 * %T is the temp folder. */
static char *J(const char *text)
{
    char *s = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&s, &cap);
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            fputc('"', m);
        else if (p[0] == '%' && p[1] == 'T')
            fputs(tmpdir, m), p++;
        else
            fputc(*p, m);
    }
    fclose(m);
    return s;
}

static struct task *new_task(const char *text)
{
    char *json = J(text);
    struct taskdef *td = NULL;
    struct json_errors errs = {0};
    struct task *t = NULL;
    if (taskdef_parse(json, strlen(json), &td, &errs) < 0) {
        char *m = json_errors_message(&errs);
        diag("definition does not parse: %s", m);
        free(m);
    } else {
        t = task_new(td, json, TD_ARN, 4, "eu-west-3", "123456789012", "prod",
                     1718000000000LL);
    }
    json_errors_clear(&errs);
    free(json);
    return t;
}

static cJSON *spec(const struct task *t, size_t i, const struct spec_opts *o)
{
    err[0] = '\0';
    char *s = container_spec_json(t, i, o, err, sizeof err);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    if (!s)
        diag("  spec error: %s", err);
    free(s);
    return j;
}

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *gets(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(get(o, key));
}

static double getn(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static char *print(const cJSON *v)
{
    return v ? cJSON_PrintUnformatted(v) : NULL;
}

/* is_str on a printed JSON value. */
#define is_json(v, want, ...)                                                \
    do {                                                                     \
        char *p_ = print(v);                                                 \
        is_str(p_, want, __VA_ARGS__);                                       \
        free(p_);                                                            \
    } while (0)

static const char *SHOP =
    "{'family':'shop','volumes':["
    "  {'name':'data','host':{'sourcePath':'/srv/data'}},"
    "  {'name':'tmpvol','host':{}},"
    "  {'name':'scratch','dockerVolumeConfiguration':{'scope':'task','driver':'local',"
    "     'driverOpts':{'type':'tmpfs'},'labels':{'k':'v'}}},"
    "  {'name':'cache','dockerVolumeConfiguration':{'scope':'shared','autoprovision':true}},"
    "  {'name':'extern','dockerVolumeConfiguration':{'scope':'shared'}}],"
    " 'containerDefinitions':["
    "  {'name':'web','image':'nginx:1','cpu':1,'memory':128,'memoryReservation':64,"
    "   'portMappings':[{'containerPort':80},"
    "                   {'containerPort':53,'hostPort':5353,'protocol':'udp'}],"
    "   'environmentFiles':[{'value':'%T/a.env','type':'s3'},{'value':'%T/b.env','type':'s3'}],"
    "   'environment':[{'name':'B','value':'env'},{'name':'C','value':'env'}],"
    "   'secrets':[{'name':'C','valueFrom':'pw'},"
    "     {'name':'D','valueFrom':'arn:aws:secretsmanager:r:a:secret:tok'},"
    "     {'name':'E','valueFrom':'arn:aws:ssm:r:a:parameter/param'}],"
    "   'dockerLabels':{'team':'x','com.amazonaws.ecs.task-arn':'fake',"
    "     'com.amazonaws.ecs.cluster':'evil','com.amazonaws.ecs.container-name':'db'},"
    "   'healthCheck':{'command':['CMD-SHELL','true'],'interval':10,'timeout':3,"
    "     'retries':2,'startPeriod':5},"
    "   'ulimits':[{'name':'nofile','softLimit':100,'hardLimit':200}],"
    "   'linuxParameters':{'initProcessEnabled':true,'sharedMemorySize':64},"
    "   'stopTimeout':15,"
    "   'logConfiguration':{'logDriver':'json-file','options':{'max-size':'1m'}},"
    "   'mountPoints':[{'sourceVolume':'data','containerPath':'/d','readOnly':true},"
    "     {'sourceVolume':'tmpvol','containerPath':'/t'},"
    "     {'sourceVolume':'scratch','containerPath':'/s'},"
    "     {'sourceVolume':'cache','containerPath':'/c'},"
    "     {'sourceVolume':'extern','containerPath':'/e'}]},"
    "  {'name':'db','image':'postgres:16','memory':256,"
    "   'portMappings':[{'containerPort':5432}],"
    "   'volumesFrom':[{'sourceContainer':'web','readOnly':true}],"
    "   'logConfiguration':{'logDriver':'awslogs','options':{'awslogs-group':'g'}}}]}";

static void setup_files(void)
{
    write_file("a.env", "# a comment\n"
                        "\n"
                        "A=fileA\n"
                        "   # an indented comment\n"
                        "B=fileA\n"
                        "C=fileA\n"
                        "URL=http://x/?a=b\n"
                        "Q=\"kept\"\n"
                        "SPACE= v \n");
    write_file("b.env", "A=fileB\r\n");
    snprintf(secrets, sizeof secrets, "%s/secrets", tmpdir);
    mkdir(secrets, 0700);
    write_file("secrets/pw", "s3cret\n");
    write_file("secrets/tok", "token\n\n");
    write_file("secrets/param", "multi\nline");
    write_file("secrets/crlf", "win\r\n");
    write_file("secrets/empty", "");
    char sub[700];
    snprintf(sub, sizeof sub, "%s/sub", secrets);
    mkdir(sub, 0700); /* a folder is not a secret */
}

static void test_web(struct task *t)
{
    struct spec_opts so = {.cluster = "prod", .secrets_dir = secrets,
                           .image_healthcheck = true};
    char want[1024];

    t->containers[0].bindings[0].host_port = 32768; /* picked */
    t->containers[0].bindings[0].dynamic = true;
    cJSON *s = spec(t, 0, &so);
    if (!ok(s != NULL, "web's spec"))
        return;
    snprintf(want, sizeof want, "berth-shop-4-web-%s", t->id);
    is_str(gets(s, "name"), want, "name is berth-FAMILY-REV-NAME-ID");
    char *n = container_engine_name(t, 0);
    is_str(n, want, "container_engine_name agrees");
    free(n);
    is_str(gets(s, "image"), "nginx:1", "image");
    is_str(gets(s, "network"), "bridge", "network");
    ok(!get(s, "sandbox"), "no sandbox member without one");

    const cJSON *l = get(s, "labels");
    is_str(gets(l, "team"), "x", "dockerLabels kept");
    is_str(gets(l, LABEL_TASK_ARN), t->arn, "task-arn label is the task's, not the dockerLabel's");
    is_str(gets(l, LABEL_CLUSTER), "prod", "cluster label is ours");
    is_str(gets(l, LABEL_CONTAINER), "web", "container-name label is ours");
    is_str(gets(l, LABEL_FAMILY), "shop", "family label");
    is_str(gets(l, LABEL_VERSION), "4", "version label");
    ok(cJSON_GetArraySize(l) == 6, "six labels, no duplicates (%d)", cJSON_GetArraySize(l));

    ok(getn(s, "cpuShares") == 2, "cpu 1 gives cpuShares 2 (the kernel's minimum)");
    ok(getn(s, "memoryBytes") == 128.0 * 1024 * 1024, "memory MiB to bytes");
    ok(getn(s, "memoryReservationBytes") == 64.0 * 1024 * 1024, "memoryReservation to bytes");
    ok(getn(s, "shmSizeBytes") == 64.0 * 1024 * 1024, "sharedMemorySize to bytes");
    is_json(get(s, "healthCheck"),
            "{\"test\":[\"CMD-SHELL\",\"true\"],\"intervalMs\":10000,\"timeoutMs\":3000,"
            "\"startPeriodMs\":5000,\"retries\":2}",
            "health check in milliseconds");
    is_json(get(s, "ulimits"), "[{\"name\":\"nofile\",\"soft\":100,\"hard\":200}]", "ulimits");
    ok(cJSON_IsTrue(get(s, "init")), "init from initProcessEnabled");
    ok(getn(s, "stopTimeout") == 15, "stopTimeout");
    is_json(get(s, "log"), "{\"driver\":\"json-file\",\"options\":{\"max-size\":\"1m\"}}",
            "log driver and options");
    is_json(get(s, "ports"),
            "[{\"containerPort\":80,\"hostPort\":32768,\"protocol\":\"tcp\",\"hostIp\":\"\"},"
            "{\"containerPort\":53,\"hostPort\":5353,\"protocol\":\"udp\",\"hostIp\":\"\"}]",
            "bridge mode: the container's own ports, with the picked host port");

    snprintf(want, sizeof want,
             "[{\"type\":\"bind\",\"source\":\"/srv/data\",\"target\":\"/d\",\"readOnly\":true},"
             "{\"type\":\"volume\",\"source\":\"berth-%s-tmpvol\",\"target\":\"/t\",\"readOnly\":false},"
             "{\"type\":\"volume\",\"source\":\"berth-%s-scratch\",\"driver\":\"local\","
             "\"driverOpts\":{\"type\":\"tmpfs\"},\"labels\":{\"k\":\"v\"},\"target\":\"/s\",\"readOnly\":false},"
             "{\"type\":\"volume\",\"source\":\"cache\",\"target\":\"/c\",\"readOnly\":false},"
             "{\"type\":\"volume\",\"source\":\"extern\",\"mustExist\":true,\"target\":\"/e\","
             "\"readOnly\":false}]",
             t->id, t->id);
    is_json(get(s, "mounts"), want,
            "mounts: host path bind, task volumes berth-ID-NAME, shared as named "
            "(and without autoprovision, one that must exist)");

    is_json(get(s, "env"),
            "[\"A=fileB\",\"B=env\",\"C=s3cret\",\"URL=http://x/?a=b\",\"Q=\\\"kept\\\"\","
            "\"SPACE= v \",\"D=token\\n\",\"E=multi\\nline\"]",
            "env: files in order, then environment, then secrets; values as written");
    cJSON_Delete(s);

    /* No image health check wanted: the definition's still wins. */
    so.image_healthcheck = false;
    s = spec(t, 0, &so);
    ok(s && get(get(s, "healthCheck"), "intervalMs"),
       "image_healthcheck off: the definition's check stays");
    cJSON_Delete(s);

    /* In a sandbox: no ports of its own. */
    task_set_str(&t->sandbox_id, "pod-1");
    s = spec(t, 0, &so);
    is_str(gets(s, "sandbox"), "pod-1", "sandbox member when the task has one");
    ok(s && !get(s, "ports"), "in a sandbox: no ports member (published on the sandbox)");
    cJSON_Delete(s);
    task_set_str(&t->sandbox_id, NULL);
}

static void test_db(struct task *t)
{
    struct spec_opts so = {.cluster = "prod", .secrets_dir = NULL,
                           .image_healthcheck = true};

    t->containers[1].bindings[0].host_port = 32769;
    t->containers[1].bindings[0].dynamic = true;
    err[0] = '\0';
    char *raw = container_spec_json(t, 1, &so, err, sizeof err);
    ok(!raw, "volumesFrom a container not created yet: refused");
    like(err, "volumesFrom: container web", "message names the container");
    free(raw);
    task_set_str(&t->containers[0].runtime_id, "c0ffee");
    cJSON *s = spec(t, 1, &so);
    if (!ok(s != NULL, "db's spec once web exists (no secrets: no secrets folder needed)"))
        return;
    is_json(get(s, "volumesFrom"), "[{\"container\":\"c0ffee\",\"readOnly\":true}]",
            "volumesFrom names the engine id");
    ok(!get(s, "log"), "awslogs is dropped: the engine's default driver");
    ok(!get(s, "cpuShares"), "no cpu: no cpuShares");
    ok(!get(s, "healthCheck"), "no check, image_healthcheck on: no healthCheck member");
    ok(!get(s, "init") && !get(s, "env"), "no init, no env");
    ok(getn(s, "stopTimeout") == 30, "stopTimeout defaults to 30");
    is_json(get(s, "ports"),
            "[{\"containerPort\":5432,\"hostPort\":32769,\"protocol\":\"tcp\",\"hostIp\":\"\"}]",
            "only db's own ports");
    is_json(get(s, "mounts"), "[]", "no mounts");
    cJSON_Delete(s);
    so.image_healthcheck = false;
    s = spec(t, 1, &so);
    is_json(get(s, "healthCheck"), "{\"test\":[\"NONE\"]}",
            "image_healthcheck off and no check: healthCheck NONE");
    cJSON_Delete(s);

    /* The sandbox spec: every container's ports. */
    char *sb = sandbox_spec_json(t, &so);
    s = sb ? cJSON_Parse(sb) : NULL;
    free(sb);
    char want[200];
    snprintf(want, sizeof want, "berth-shop-4-%s", t->id);
    is_str(gets(s, "name"), want, "sandbox name is berth-FAMILY-REV-ID");
    char *n = container_engine_name(t, -1);
    is_str(n, want, "container_engine_name(-1) agrees");
    free(n);
    is_str(gets(s, "network"), "bridge", "sandbox network");
    ok(!get(get(s, "labels"), LABEL_CONTAINER), "sandbox has no container-name label");
    is_str(gets(get(s, "labels"), LABEL_TASK_ARN), t->arn, "sandbox task-arn label");
    is_json(get(s, "ports"),
            "[{\"containerPort\":80,\"hostPort\":32768,\"protocol\":\"tcp\",\"hostIp\":\"\"},"
            "{\"containerPort\":53,\"hostPort\":5353,\"protocol\":\"udp\",\"hostIp\":\"\"},"
            "{\"containerPort\":5432,\"hostPort\":32769,\"protocol\":\"tcp\",\"hostIp\":\"\"}]",
            "sandbox publishes every container's ports");
    cJSON_Delete(s);
}

static void test_host_mode(void)
{
    struct spec_opts so = {.cluster = "prod", .image_healthcheck = true};
    struct task *t = new_task("{'family':'h','networkMode':'host','containerDefinitions':["
                              "{'name':'a','image':'i','memory':8,"
                              " 'portMappings':[{'containerPort':8080}]}]}");
    if (!ok(t != NULL, "host-mode task"))
        return;
    cJSON *s = spec(t, 0, &so);
    is_str(gets(s, "network"), "host", "network host");
    is_json(get(s, "ports"), "[]", "host mode: nothing published");
    cJSON_Delete(s);
    char *sb = sandbox_spec_json(t, &so);
    s = sb ? cJSON_Parse(sb) : NULL;
    free(sb);
    is_json(get(s, "ports"), "[]", "host mode: sandbox publishes nothing");
    cJSON_Delete(s);
    task_free(t);
}

/* t's sandbox spec, parsed; caller deletes. */
static cJSON *sandbox_dns(const struct task *t, const struct spec_opts *so)
{
    char *sb = sandbox_spec_json(t, so);
    cJSON *s = sb ? cJSON_Parse(sb) : NULL;

    free(sb);
    return s;
}

/* [dns] task-resolver: the responder's address as the default resolver,
 * where the task's containers reach it. */
static void test_dns_server(void)
{
    struct spec_opts so = {.cluster = "prod", .image_healthcheck = true,
                           .dns_server = "172.17.0.1"};
    struct task *t = new_task("{'family':'d','networkMode':'bridge','containerDefinitions':["
                              "{'name':'a','image':'i','memory':8},"
                              "{'name':'b','image':'i','memory':8,'dnsServers':['10.0.0.2']}]}");
    if (!ok(t != NULL, "bridge task with and without dnsServers"))
        return;
    cJSON *s = spec(t, 0, &so);
    is_json(get(s, "dns"), "[\"172.17.0.1\"]", "bridge: no dnsServers gets the responder");
    cJSON_Delete(s);
    s = spec(t, 1, &so);
    is_json(get(s, "dns"), "[\"10.0.0.2\"]", "bridge: its own dnsServers win");
    cJSON_Delete(s);
    so.dns_server = NULL;
    s = spec(t, 0, &so);
    ok(get(s, "dns") == NULL, "switch off: no dns, the engine's default");
    cJSON_Delete(s);
    so.dns_server = "172.17.0.1";
    t->sandbox_id = strdup("pod1"); /* Podman: the pod has it */
    s = spec(t, 0, &so);
    ok(get(s, "dns") == NULL, "in a sandbox: the container has none of its own");
    cJSON_Delete(s);
    s = spec(t, 1, &so);
    ok(s && get(s, "dns") == NULL, "in a sandbox: nor has one with dnsServers (a pod refuses them)");
    cJSON_Delete(s);
    s = sandbox_dns(t, &so);
    is_json(get(s, "dns"), "[\"10.0.0.2\"]",
            "the sandbox gets the task's dnsServers (one resolv.conf for all)");
    cJSON_Delete(s);
    task_free(t);

    t = new_task("{'family':'e','networkMode':'bridge','containerDefinitions':["
                 "{'name':'a','image':'i','memory':8}]}");
    if (!ok(t != NULL, "bridge task without dnsServers"))
        return;
    t->sandbox_id = strdup("pod2");
    s = sandbox_dns(t, &so);
    is_json(get(s, "dns"), "[\"172.17.0.1\"]", "the sandbox of a task without any gets the responder");
    ok(get(s, "dnsSearch") == NULL, "... and no dnsSearch");
    cJSON_Delete(s);
    so.dns_server = NULL;
    s = sandbox_dns(t, &so);
    ok(s && get(s, "dns") == NULL, "switch off: the sandbox has no dns, the engine's default");
    cJSON_Delete(s);
    task_free(t);

    so.dns_server = "172.17.0.1";
    t = new_task("{'family':'f','networkMode':'bridge','containerDefinitions':["
                 "{'name':'a','image':'i','memory':8,'dnsServers':['10.0.0.2','10.0.0.3'],"
                 "'dnsSearchDomains':['a.example']},"
                 "{'name':'b','image':'i','memory':8,'dnsServers':['10.0.0.3','10.0.0.4'],"
                 "'dnsSearchDomains':['a.example','b.example']}]}");
    if (!ok(t != NULL, "two containers with dnsServers and dnsSearchDomains"))
        return;
    t->sandbox_id = strdup("pod3");
    s = spec(t, 0, &so);
    ok(s && get(s, "dnsSearch") == NULL, "in a sandbox: no dnsSearch of its own");
    cJSON_Delete(s);
    s = sandbox_dns(t, &so);
    is_json(get(s, "dns"), "[\"10.0.0.2\",\"10.0.0.3\",\"10.0.0.4\"]",
            "the sandbox: every container's dnsServers in order, each once");
    is_json(get(s, "dnsSearch"), "[\"a.example\",\"b.example\"]",
            "... and their dnsSearchDomains alike");
    cJSON_Delete(s);
    task_free(t);
}

/* One container whose env files / secrets are wrong: spec refused with err. */
static void env_error(const char *what, const char *container_json,
                      const char *secrets_dir, const char *want)
{
    char *doc;
    if (asprintf(&doc, "{'family':'e','containerDefinitions':[{'name':'a','image':'i',"
                       "'memory':8,%s}]}", container_json) < 0)
        abort();
    struct task *t = new_task(doc);
    free(doc);
    if (!ok(t != NULL, "%s: definition parses", what))
        return;
    struct spec_opts so = {.cluster = "prod", .secrets_dir = secrets_dir};
    err[0] = '\0';
    char *s = container_spec_json(t, 0, &so, err, sizeof err);
    ok(!s, "%s: refused", what);
    char *w = J(want);
    like(err, w, "%s: message", what);
    free(w);
    free(s);
    task_free(t);
}

static void test_env_errors(void)
{
    write_file("bad.env", "# ok\nGOOD=1\nBADLINE\n");
    write_file("noname.env", "=value\n");
    write_file("space.env", "A B=1\n");
    env_error("line without =",
              "'environmentFiles':[{'value':'%T/a.env','type':'s3'},{'value':'%T/bad.env','type':'s3'}]",
              NULL, "%T/bad.env:3: expected VARIABLE=VALUE");
    env_error("empty name", "'environmentFiles':[{'value':'%T/noname.env','type':'s3'}]",
              NULL, "noname.env:1:");
    env_error("name with a space", "'environmentFiles':[{'value':'%T/space.env','type':'s3'}]",
              NULL, "space.env:1:");
    env_error("missing env file", "'environmentFiles':[{'value':'%T/nope.env','type':'s3'}]",
              NULL, "environment file %T/nope.env: No such file");
    env_error("secret without secrets folder", "'secrets':[{'name':'S','valueFrom':'pw'}]",
              NULL, "secret pw: no secrets folder");
    env_error("secret folder missing", "'secrets':[{'name':'S','valueFrom':'pw'}]",
              "/nonexistent/secrets", "secret pw: cannot read /nonexistent/secrets/pw");
    env_error("env file is a folder", "'environmentFiles':[{'value':'%T','type':'s3'}]",
              NULL, "environment file %T:");
    env_error("secret missing", "'secrets':[{'name':'S','valueFrom':'nope'}]",
              secrets, "secret nope: cannot read");
    env_error("secret with ..", "'secrets':[{'name':'S','valueFrom':'../a.env'}]",
              secrets, "secret ../a.env: expected a name without");
}

static void secret_is(const char *value_from, const char *want, const char *what)
{
    err[0] = '\0';
    char *v = secret_read(secrets, value_from, err, sizeof err);
    is_str(v, want, "%s", what);
    if (!v)
        diag("  %s", err);
    free(v);
}

static void secret_refused(const char *dir, const char *value_from, const char *msg)
{
    err[0] = '\0';
    char *v = secret_read(dir, value_from, err, sizeof err);
    ok(!v, "secret %s refused", value_from);
    like(err, msg, "secret %s: message", value_from);
    free(v);
}

static void test_secrets(void)
{
    secret_is("pw", "s3cret", "plain name; one trailing newline stripped");
    secret_is("tok", "token\n", "only one trailing newline stripped");
    secret_is("param", "multi\nline", "inner newlines kept");
    secret_is("crlf", "win", "a trailing CRLF stripped");
    secret_is("empty", "", "an empty secret");
    secret_is("arn:aws:secretsmanager:eu-west-3:123456789012:secret:pw", "s3cret",
              "Secrets Manager ARN: the name after secret:");
    secret_is("arn:aws:ssm:eu-west-3:123456789012:parameter/tok", "token\n",
              "SSM ARN: the name after parameter/");
    secret_refused(secrets, "a/b", "without '/'");
    secret_refused(secrets, "..", "without '/'");
    secret_refused(secrets, ".", "without '/'");
    secret_refused(secrets, "../secrets/pw", "without '/'");
    secret_refused(secrets, "arn:aws:ssm:r:a:parameter/app/pw", "without '/'");
    secret_refused(secrets, "arn:aws:ssm:r:a:parameter/..", "without '/'");
    secret_refused(secrets, "arn:aws:secretsmanager:r:a:secret:", "without '/'");
    secret_refused(secrets, "", "without '/'");
    secret_refused(secrets, "sub", "secret sub: cannot read");
    secret_refused(NULL, "pw", "no secrets folder");
    secret_refused("", "pw", "no secrets folder");
    char missing[700];
    snprintf(missing, sizeof missing, "%s/none", tmpdir);
    secret_refused(missing, "pw", "No such file");
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    setup_files();
    struct task *t = new_task(SHOP);
    if (ok(t && t->n_containers == 2, "two-container task")) {
        test_web(t);
        test_db(t);
    }
    task_free(t);
    test_host_mode();
    test_dns_server();
    test_env_errors();
    test_secrets();

    char *cmd;
    if (asprintf(&cmd, "rm -rf '%s'", tmpdir) >= 0) {
        if (system(cmd) != 0)
            diag("could not remove %s", tmpdir);
        free(cmd);
    }
    return done_testing();
}
