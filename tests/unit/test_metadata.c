/* test_metadata.c: the task metadata endpoint's parts that need no engine:
 * the rate limiter's buckets, each container's token (made, stored,
 * restored, given to old tasks, kept out of the API's shape), the URI in
 * the container spec's environment, and the documents rendered from a
 * task struct and stats samples. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agent/container_spec.h"
#include "agent/metadata_render.h"
#include "agent/ratelimit.h"
#include "agent/task.h"
#include "agent/taskdef.h"
#include "tests/lib/tap.h"

#define TD_ARN "arn:aws:ecs:eu-west-3:123456789012:task-definition/shop:4"

/* ' for " keeps the documents readable. */
static char *J(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

static struct task *new_task(const char *text)
{
    char *json = J(text);
    struct taskdef *td = NULL;
    struct json_errors errs = {0};
    struct task *t = NULL;
    if (taskdef_parse(json, strlen(json), &td, &errs) < 0)
        diag("definition does not parse");
    else
        t = task_new(td, json, TD_ARN, 4, "eu-west-3", "123456789012", "prod",
                     1718000000000LL);
    json_errors_clear(&errs);
    free(json);
    return t;
}

static const char *str(const cJSON *o, const char *path)
{
    /* "a.b.0.c": members and array indexes. */
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
        o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(k))
                             : cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsString(o))
        return o->valuestring;
    static char num[64];
    if (cJSON_IsNumber(o)) {
        snprintf(num, sizeof num, "%.17g", o->valuedouble);
        return num;
    }
    return o ? "(not a scalar)" : "(absent)";
}

static void test_ratelimit(void)
{
    struct ratelimit *rl = ratelimit_new(40, 60, 3);
    int n = 0;

    for (int i = 0; i < 100; i++)
        n += ratelimit_take(rl, "10.0.0.2", 100.0);
    ok(n == 60, "a new client may send the burst (60) at once, no more (%d)", n);
    ok(ratelimit_take(rl, "10.0.0.3", 100.0), "another client has its own bucket");
    n = 0;
    for (int i = 0; i < 100; i++)
        n += ratelimit_take(rl, "10.0.0.2", 100.5);
    ok(n == 20, "half a second later: 20 more (40/s) (%d)", n);
    n = 0;
    for (int i = 0; i < 100; i++)
        n += ratelimit_take(rl, "10.0.0.2", 1000.0);
    ok(n == 60, "a long pause refills to the burst, not beyond (%d)", n);
    ok(ratelimit_take(rl, "10.0.0.4", 1000.0), "a third client fits (max 3 keys)");
    ok(ratelimit_keys(rl) <= 3, "idle full buckets were forgotten (%zu kept)",
       ratelimit_keys(rl));
    /* 10.0.0.2 and .4 are busy now: with .3 forgotten there is room for one. */
    ok(ratelimit_take(rl, "10.0.0.5", 1000.0), "a new client takes the idle one's place");
    ok(!ratelimit_take(rl, "10.0.0.6", 1000.0),
       "beyond max-keys with none idle: refused (a flood of addresses cannot grow it)");
    ratelimit_free(rl);
}

#define TWO                                                                       \
    "{'family': 'shop', 'cpu': '512', 'memory': '256', 'containerDefinitions': ["  \
    " {'name': 'web', 'image': 'nginx:1', 'cpu': 128, 'memory': 64,"              \
    "  'environment': [{'name': 'ECS_CONTAINER_METADATA_URI_V4', 'value': 'mine'}," \
    "                  {'name': 'KEEP', 'value': 'yes'}],"                         \
    "  'portMappings': [{'containerPort': 80, 'hostPort': 0}],"                   \
    "  'dockerLabels': {'team': 'blue'},"                                         \
    "  'logConfiguration': {'logDriver': 'json-file', 'options': {'max-size': '1m'}}," \
    "  'healthCheck': {'command': ['CMD', 'true']}},"                             \
    " {'name': 'side', 'image': 'busybox', 'memory': 32, 'essential': false}]}"

static bool hex32(const char *s)
{
    if (!s || strlen(s) != 32)
        return false;
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s))
            return false;
    return true;
}

static void test_tokens(void)
{
    struct task *t = new_task(TWO);
    char err[256];

    if (!ok(t != NULL, "a task of two containers"))
        return;
    ok(hex32(t->containers[0].md_token) && hex32(t->containers[1].md_token),
       "each container has a 32-hex-digit token");
    ok(strcmp(t->containers[0].md_token, t->containers[1].md_token) != 0,
       "the tokens differ");

    cJSON *api = task_to_json(t, false);
    char *api_text = cJSON_PrintUnformatted(api);
    ok(!strstr(api_text, t->containers[0].md_token), "the API's Task shape does not show it");
    free(api_text);
    cJSON_Delete(api);

    t->containers[0].created_at_ms = 1718000001234LL;
    cJSON *st = task_to_json(t, true);
    char *text = cJSON_PrintUnformatted(st);
    struct task *back = task_from_json(text, t->taskdef_json, err, sizeof err);
    ok(back != NULL, "stored and read back");
    if (back) {
        is_str(back->containers[0].md_token, t->containers[0].md_token,
               "the token survives the store (a restarted agent answers the same URI)");
        ok(back->containers[0].created_at_ms == 1718000001234LL, "so does CreatedAt");
        task_free(back);
    }
    /* A task stored before tokens existed. */
    cJSON *cs = cJSON_GetObjectItemCaseSensitive(st, "containers"), *c;
    cJSON_ArrayForEach(c, cs) {
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "berth"),
                                                "mdToken");
    }
    char *old = cJSON_PrintUnformatted(st);
    back = task_from_json(old, t->taskdef_json, err, sizeof err);
    ok(back && hex32(back->containers[0].md_token) && hex32(back->containers[1].md_token),
       "a task stored without tokens gets new ones when read");
    task_free(back);
    free(old);
    free(text);
    cJSON_Delete(st);
    task_free(t);
}

static const char *env_of(cJSON *spec, const char *name)
{
    const cJSON *e;
    size_t n = strlen(name);
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(spec, "env")) {
        if (cJSON_IsString(e) && strncmp(e->valuestring, name, n) == 0 &&
            e->valuestring[n] == '=')
            return e->valuestring + n + 1;
    }
    return NULL;
}

static void test_spec_env(void)
{
    struct task *t = new_task(TWO);
    struct spec_opts so = {"prod", NULL, true, "172.17.0.1:51679", NULL};
    char err[256], want[128];

    if (!t)
        return;
    char *s = container_spec_json(t, 0, &so, err, sizeof err);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    snprintf(want, sizeof want, "http://172.17.0.1:51679/v4/%s", t->containers[0].md_token);
    is_str(env_of(j, "ECS_CONTAINER_METADATA_URI_V4"), want,
           "ECS_CONTAINER_METADATA_URI_V4 names the endpoint and the container's "
           "token, overriding the definition's value");
    snprintf(want, sizeof want, "http://172.17.0.1:51679/v3/%s", t->containers[0].md_token);
    is_str(env_of(j, "ECS_CONTAINER_METADATA_URI"), want, "the v3 variable too");
    is_str(env_of(j, "KEEP"), "yes", "the other variables stay");
    cJSON_Delete(j);
    free(s);

    so.metadata_hostport = NULL;
    s = container_spec_json(t, 1, &so, err, sizeof err);
    j = s ? cJSON_Parse(s) : NULL;
    ok(j && !env_of(j, "ECS_CONTAINER_METADATA_URI_V4") && !env_of(j, "ECS_CONTAINER_METADATA_URI"),
       "no address (network none, or unknown): no variable");
    cJSON_Delete(j);
    free(s);
    task_free(t);
}

static void test_render(void)
{
    struct task *t = new_task(TWO);
    char buf[64];

    if (!t)
        return;
    md_time(1718000001234LL, buf, sizeof buf);
    is_str(buf, "2024-06-10T06:13:21.234Z", "times are RFC 3339 UTC with ms");

    struct task_container *c = &t->containers[0];
    task_set_str(&c->runtime_id, "abc123");
    task_set_str(&c->image_digest, "sha256:feed");
    task_set_str(&c->ip_address, "172.17.0.5");
    c->status = CTR_RUNNING;
    c->created = true;
    c->bindings[0].host_port = 45001;
    c->engine_health = BERTH_HEALTH_HEALTHY;
    c->health_exit_code = 0;
    c->health_since_ms = 1718000002000LL;
    c->created_at_ms = 1718000001000LL;
    c->started_at_ms = 1718000001500LL;
    t->last_status = TASK_RUNNING;
    t->pull_started_at_ms = 1718000000100LL;
    task_set_str(&t->group, "service:shop-svc");

    cJSON *d = md_container_json(t, 0, 4);
    is_str(str(d, "DockerId"), "abc123", "DockerId");
    is_str(str(d, "Name"), "web", "Name");
    like(str(d, "DockerName"), "shop-4-web-", "DockerName: the engine's name");
    is_str(str(d, "ImageID"), "sha256:feed", "ImageID");
    is_str(str(d, "Ports.0.HostPort"), "45001", "Ports[0].HostPort: the picked port");
    is_str(str(d, "Ports.0.ContainerPort"), "80", "Ports[0].ContainerPort");
    is_str(str(d, "Ports.0.Protocol"), "tcp", "Ports[0].Protocol");
    is_str(str(d, "Ports.0.HostIp"), "0.0.0.0", "Ports[0].HostIp");
    is_str(str(d, "Labels.team"), "blue", "Labels: the dockerLabels");
    is_str(str(d, "KnownStatus"), "RUNNING", "KnownStatus");
    is_str(str(d, "DesiredStatus"), "RUNNING", "DesiredStatus");
    is_str(str(d, "Limits.CPU"), "128", "Limits.CPU: units");
    is_str(str(d, "Limits.Memory"), "64", "Limits.Memory: MiB");
    is_str(str(d, "CreatedAt"), "2024-06-10T06:13:21.000Z", "CreatedAt");
    is_str(str(d, "StartedAt"), "2024-06-10T06:13:21.500Z", "StartedAt");
    is_str(str(d, "Type"), "NORMAL", "Type");
    char arn[200];
    snprintf(arn, sizeof arn, "arn:aws:ecs:eu-west-3:123456789012:container/prod/%s/web", t->id);
    is_str(str(d, "ContainerARN"), arn, "ContainerARN");
    is_str(str(d, "LogDriver"), "json-file", "LogDriver");
    is_str(str(d, "LogOptions.max-size"), "1m", "LogOptions");
    is_str(str(d, "Networks.0.NetworkMode"), "bridge", "Networks[0].NetworkMode");
    is_str(str(d, "Networks.0.IPv4Addresses.0"), "172.17.0.5", "Networks[0].IPv4Addresses");
    is_str(str(d, "Health.status"), "HEALTHY", "Health.status");
    is_str(str(d, "Health.statusSince"), "2024-06-10T06:13:22.000Z", "Health.statusSince");
    is_str(str(d, "Health.exitCode"), "0", "Health.exitCode");
    is_str(str(d, "ExitCode"), "(absent)", "no ExitCode while it runs");
    cJSON_Delete(d);

    d = md_container_json(t, 1, 4);
    is_str(str(d, "Health"), "(absent)", "no Health without a check");
    is_str(str(d, "KnownStatus"), "NONE", "a container not created yet: NONE");
    is_str(str(d, "Ports"), "(absent)", "no Ports without mappings");
    cJSON_Delete(d);

    c->status = CTR_STOPPED;
    c->has_exit_code = true;
    c->exit_code = 3;
    d = md_container_json(t, 0, 4);
    is_str(str(d, "ExitCode"), "3", "ExitCode once stopped");
    cJSON_Delete(d);

    d = md_task_json(t, 4);
    is_str(str(d, "Cluster"), "arn:aws:ecs:eu-west-3:123456789012:cluster/prod", "Cluster: the ARN");
    is_str(str(d, "TaskARN"), t->arn, "TaskARN");
    is_str(str(d, "Family"), "shop", "Family");
    is_str(str(d, "Revision"), "4", "Revision, a string");
    ok(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "Revision")), "(as ECS: a string)");
    is_str(str(d, "ServiceName"), "shop-svc", "ServiceName from the group service:NAME");
    is_str(str(d, "KnownStatus"), "RUNNING", "KnownStatus");
    is_str(str(d, "DesiredStatus"), "RUNNING", "DesiredStatus");
    is_str(str(d, "Limits.CPU"), "0.5", "Limits.CPU in vCPUs");
    is_str(str(d, "Limits.Memory"), "256", "Limits.Memory in MiB");
    is_str(str(d, "PullStartedAt"), "2024-06-10T06:13:20.100Z", "PullStartedAt");
    is_str(str(d, "PullStoppedAt"), "(absent)", "PullStoppedAt absent until known");
    is_str(str(d, "LaunchType"), "EC2", "LaunchType");
    is_str(str(d, "Containers.1.Name"), "side", "Containers, in definition order");
    cJSON_Delete(d);

    task_set_str(&t->group, "family:shop");
    d = md_task_json(t, 4);
    is_str(str(d, "ServiceName"), "(absent)", "no ServiceName for a standalone task");
    cJSON_Delete(d);
    d = md_task_json(t, 3);
    is_str(str(d, "LaunchType"), "(absent)", "v3 has no LaunchType");
    is_str(str(d, "Containers.0.Health"), "(absent)", "nor Health");
    cJSON_Delete(d);
    task_free(t);
}

static void test_stats(void)
{
    struct md_sample a = {{.struct_size = sizeof a.s, .time_ms = 1718000001000LL,
                           .cpu_total_ns = 5000, .cpu_user_ns = 3000, .cpu_system_ns = 2000,
                           .online_cpus = 2, .memory_usage = 1000, .memory_working_set = 800,
                           .memory_rss = 600, .memory_cache = 400, .memory_limit = 4096,
                           .net_rx_bytes = 100, .net_tx_bytes = 50, .blk_read_bytes = 7,
                           .blk_write_bytes = 9, .pids = 3},
                          900000};
    struct md_sample b = a;
    b.s.time_ms += 2000;
    b.s.cpu_total_ns = 9000;
    b.s.net_rx_bytes = 2100;
    b.s.net_tx_bytes = 1050;
    b.system_ns = 1900000;

    cJSON *d = md_stats_json("abc", "berth-shop-4-web-x", &a, NULL);
    is_str(str(d, "id"), "abc", "id");
    is_str(str(d, "name"), "/berth-shop-4-web-x", "name with Docker's slash");
    is_str(str(d, "read"), "2024-06-10T06:13:21.000Z", "read");
    is_str(str(d, "preread"), "0001-01-01T00:00:00Z", "preread before any: Docker's zero time");
    is_str(str(d, "cpu_stats.cpu_usage.total_usage"), "5000", "cpu_stats.cpu_usage.total_usage");
    is_str(str(d, "cpu_stats.system_cpu_usage"), "900000", "system_cpu_usage");
    is_str(str(d, "cpu_stats.online_cpus"), "2", "online_cpus");
    is_str(str(d, "precpu_stats.cpu_usage.total_usage"), "0", "precpu_stats zero at first");
    is_str(str(d, "memory_stats.usage"), "1000", "memory_stats.usage");
    is_str(str(d, "memory_stats.limit"), "4096", "memory_stats.limit");
    is_str(str(d, "memory_stats.stats.inactive_file"), "200", "inactive_file: usage - working set");
    is_str(str(d, "networks.eth0.rx_bytes"), "100", "networks.eth0.rx_bytes");
    is_str(str(d, "blkio_stats.io_service_bytes_recursive.1.value"), "9", "blkio Write");
    is_str(str(d, "pids_stats.current"), "3", "pids_stats");
    cJSON_Delete(d);

    d = md_stats_json("abc", "n", &b, &a);
    is_str(str(d, "precpu_stats.cpu_usage.total_usage"), "5000", "precpu_stats: the previous sample");
    is_str(str(d, "precpu_stats.system_cpu_usage"), "900000", "with its system time");
    is_str(str(d, "preread"), "2024-06-10T06:13:21.000Z", "preread: its time");
    is_str(str(d, "network_rate_stats.rx_bytes_per_sec"), "1000", "network_rate_stats rx");
    is_str(str(d, "network_rate_stats.tx_bytes_per_sec"), "500", "network_rate_stats tx");
    cJSON_Delete(d);

    b.s.memory_limit = 0;
    d = md_stats_json("abc", "n", &b, &a);
    is_str(str(d, "memory_stats.limit"), "(absent)", "no limit: left out, not 0");
    cJSON_Delete(d);
}

int main(void)
{
    test_ratelimit();
    test_tokens();
    test_spec_env();
    test_render();
    test_stats();
    return done_testing();
}
