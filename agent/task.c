/* task.c: the task record, its ECS JSON shape and its stored form. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/overrides.h"
#include "agent/task.h"
#include "agent/taskdef.h"

const char *const task_status_names[] = {
    "PROVISIONING", "PENDING",  "ACTIVATING",     "RUNNING",
    "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED",
};

const char *task_health_name(enum task_health h)
{
    return h == HEALTH_HEALTHY ? "HEALTHY" : h == HEALTH_UNHEALTHY ? "UNHEALTHY" : "UNKNOWN";
}

const char *ctr_status_name(enum ctr_status s)
{
    return s == CTR_RUNNING ? "RUNNING" : s == CTR_STOPPED ? "STOPPED" : "PENDING";
}

int task_status_parse(const char *name)
{
    for (int i = 0; i <= TASK_STOPPED; i++)
        if (name && strcmp(name, task_status_names[i]) == 0)
            return i;
    return -1;
}

int task_set_str(char **s, const char *v)
{
    char *copy = NULL;

    if (v && !(copy = strdup(v)))
        return -1;
    free(*s);
    *s = copy;
    return 0;
}

static void random_hex(char *out, size_t n_hex)
{
    unsigned char buf[32];
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd >= 0) {
        ssize_t r = read(fd, buf, (n_hex + 1) / 2);
        got = r > 0 ? (size_t)r : 0;
        close(fd);
    }
    /* /dev/urandom always answers on Linux; the fallback only keeps ids
     * distinct if it does not. */
    for (size_t i = got; i < (n_hex + 1) / 2; i++)
        buf[i] = (unsigned char)(rand() ^ (getpid() << (i % 8)));
    for (size_t i = 0; i < n_hex; i++)
        out[i] = "0123456789abcdef"[(buf[i / 2] >> ((i % 2) ? 0 : 4)) & 0xf];
    out[n_hex] = '\0';
}

static void container_free(struct task_container *c)
{
    free(c->name);
    free(c->image);
    free(c->runtime_id);
    free(c->image_digest);
    free(c->reason);
    free(c->health_output);
    free(c->bindings);
    if (c->md_token)
        explicit_bzero(c->md_token, strlen(c->md_token));
    free(c->md_token);
    free(c->ip_address);
}

int task_ensure_tokens(struct task *t)
{
    char tok[33];

    for (size_t i = 0; i < t->n_containers; i++) {
        if (t->containers[i].md_token)
            continue;
        random_hex(tok, 32);
        if (!(t->containers[i].md_token = strdup(tok)))
            return -1;
    }
    explicit_bzero(tok, sizeof tok);
    return 0;
}

void task_free(struct task *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_containers; i++)
        container_free(&t->containers[i]);
    free(t->containers);
    free(t->arn);
    free(t->id);
    free(t->cluster_arn);
    free(t->taskdef_arn);
    free(t->family);
    free(t->group);
    free(t->started_by);
    free(t->client_token);
    free(t->client_request);
    free(t->stop_code);
    free(t->stopped_reason);
    free(t->sandbox_id);
    free(t->cpu);
    free(t->memory);
    cJSON_Delete(t->tags);
    free(t->taskdef_json);
    cJSON_Delete(t->overrides);
    taskdef_free(t->td);
    free(t);
}

/* The container records, from the definition. */
static int containers_from_td(struct task *t)
{
    const struct taskdef *td = t->td;

    t->containers = calloc(td->n_containers ? td->n_containers : 1, sizeof *t->containers);
    if (!t->containers)
        return -1;
    t->n_containers = td->n_containers;
    for (size_t i = 0; i < td->n_containers; i++) {
        const struct taskdef_container *dc = &td->containers[i];
        struct task_container *c = &t->containers[i];
        c->essential = dc->essential;
        c->health_exit_code = -1;
        if (!(c->name = strdup(dc->name)) || !(c->image = strdup(dc->image)))
            return -1;
        if (dc->n_port_mappings) {
            c->bindings = calloc(dc->n_port_mappings, sizeof *c->bindings);
            if (!c->bindings)
                return -1;
            c->n_bindings = dc->n_port_mappings;
            for (size_t j = 0; j < dc->n_port_mappings; j++) {
                const struct taskdef_port *p = &dc->port_mappings[j];
                c->bindings[j].container_port = (uint16_t)p->container_port;
                c->bindings[j].host_port = (uint16_t)p->host_port;
                c->bindings[j].udp = p->protocol == TASKDEF_UDP;
            }
        }
    }
    return 0;
}

struct task *task_new(struct taskdef *td, const char *taskdef_json,
                      const char *taskdef_arn, int64_t revision,
                      const char *region, const char *account_id,
                      const char *cluster, int64_t now_ms)
{
    struct task *t = calloc(1, sizeof *t);
    char id[33];

    if (!t) {
        taskdef_free(td);
        return NULL;
    }
    t->td = td;
    random_hex(id, 32);
    t->id = strdup(id);
    if (asprintf(&t->arn, "arn:aws:ecs:%s:%s:task/%s/%s", region, account_id,
                 cluster, id) < 0)
        t->arn = NULL;
    if (asprintf(&t->cluster_arn, "arn:aws:ecs:%s:%s:cluster/%s", region,
                 account_id, cluster) < 0)
        t->cluster_arn = NULL;
    if (asprintf(&t->group, "family:%s", td->family) < 0)
        t->group = NULL;
    t->taskdef_arn = strdup(taskdef_arn);
    t->family = strdup(td->family);
    t->revision = revision;
    t->started_by = strdup("");
    t->taskdef_json = strdup(taskdef_json);
    t->last_status = TASK_PROVISIONING;
    t->desired_status = TASK_RUNNING;
    t->created_at_ms = now_ms;
    t->version = 1;
    /* In units and MiB, as the registered definition shows them, not as
     * written ("0.5 vCPU"). */
    if (td->cpu && asprintf(&t->cpu, "%lld", (long long)td->cpu) < 0)
        t->cpu = NULL;
    if (td->memory && asprintf(&t->memory, "%lld", (long long)td->memory) < 0)
        t->memory = NULL;
    if (!t->id || !t->arn || !t->cluster_arn || !t->group || !t->taskdef_arn ||
        !t->family || !t->started_by || !t->taskdef_json ||
        (td->cpu && !t->cpu) || (td->memory && !t->memory) ||
        containers_from_td(t) < 0 || task_ensure_tokens(t) < 0) {
        task_free(t);
        return NULL;
    }
    return t;
}

enum task_health container_health(const struct task_container *c)
{
    switch (c->engine_health) {
    case BERTH_HEALTH_HEALTHY:
        return HEALTH_HEALTHY;
    case BERTH_HEALTH_UNHEALTHY:
        return HEALTH_UNHEALTHY;
    default:
        return HEALTH_UNKNOWN;
    }
}

enum task_health task_health(const struct task *t)
{
    bool any = false, unknown = false;

    for (size_t i = 0; i < t->n_containers; i++) {
        const struct task_container *c = &t->containers[i];
        /* The definition's check counts before the engine reports on it
         * (not created yet): until then the task's health is unknown. */
        bool checked = c->engine_health != BERTH_HEALTH_NONE ||
                       (t->td && i < t->td->n_containers &&
                        t->td->containers[i].has_health_check);
        if (!c->essential || !checked)
            continue;
        any = true;
        if (container_health(c) == HEALTH_UNHEALTHY)
            return HEALTH_UNHEALTHY;
        if (container_health(c) == HEALTH_UNKNOWN)
            unknown = true;
    }
    return !any || unknown ? HEALTH_UNKNOWN : HEALTH_HEALTHY;
}

struct task_container *task_container(struct task *t, const char *name)
{
    for (size_t i = 0; i < t->n_containers; i++)
        if (strcmp(t->containers[i].name, name) == 0)
            return &t->containers[i];
    return NULL;
}

int task_container_by_id(const struct task *t, const char *runtime_id)
{
    for (size_t i = 0; i < t->n_containers; i++)
        if (t->containers[i].runtime_id && runtime_id &&
            strcmp(t->containers[i].runtime_id, runtime_id) == 0)
            return (int)i;
    return -1;
}

/* ------------------------------------------------------------------ */
/* JSON                                                               */

/* ECS's timestamps: epoch seconds with a fraction.  Absent when 0. */
static void add_time(cJSON *o, const char *key, int64_t ms)
{
    if (ms > 0)
        cJSON_AddNumberToObject(o, key, (double)ms / 1000.0);
}

static void add_str(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
}

static cJSON *container_json(const struct task *t, const struct task_container *c,
                             const struct taskdef_container *dc, bool internal)
{
    cJSON *o = cJSON_CreateObject();
    char *arn = NULL;
    const char *slash = strrchr(t->cluster_arn, '/');
    const char *cl = strstr(t->cluster_arn, ":cluster/");
    int prefix = cl ? (int)(cl - t->cluster_arn) : (int)strlen(t->cluster_arn);
    char buf[32];

    if (asprintf(&arn, "%.*s:container/%s/%s/%s", prefix, t->cluster_arn,
                 slash ? slash + 1 : "", t->id, c->name) >= 0) {
        cJSON_AddStringToObject(o, "containerArn", arn);
        free(arn);
    }
    cJSON_AddStringToObject(o, "taskArn", t->arn);
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "image", c->image);
    add_str(o, "imageDigest", c->image_digest);
    add_str(o, "runtimeId", c->runtime_id);
    cJSON_AddStringToObject(o, "lastStatus", ctr_status_name(c->status));
    if (c->has_exit_code)
        cJSON_AddNumberToObject(o, "exitCode", c->exit_code);
    add_str(o, "reason", c->reason);
    cJSON *nb = cJSON_AddArrayToObject(o, "networkBindings");
    for (size_t i = 0; i < c->n_bindings; i++) {
        const struct task_binding *b = &c->bindings[i];
        if (!b->host_port)
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "bindIP", "0.0.0.0");
        cJSON_AddNumberToObject(e, "containerPort", b->container_port);
        cJSON_AddNumberToObject(e, "hostPort", b->host_port);
        cJSON_AddStringToObject(e, "protocol", b->udp ? "udp" : "tcp");
        cJSON_AddItemToArray(nb, e);
    }
    cJSON *ni = cJSON_AddArrayToObject(o, "networkInterfaces");
    if (c->ip_address && *c->ip_address && t->td &&
        t->td->network_mode == TASKDEF_NET_AWSVPC) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "privateIpv4Address", c->ip_address);
        cJSON_AddItemToArray(ni, e);
    }
    cJSON_AddStringToObject(o, "healthStatus", task_health_name(container_health(c)));
    if (dc) {
        snprintf(buf, sizeof buf, "%lld", (long long)dc->cpu);
        cJSON_AddStringToObject(o, "cpu", buf);
        if (dc->memory) {
            snprintf(buf, sizeof buf, "%lld", (long long)dc->memory);
            cJSON_AddStringToObject(o, "memory", buf);
        }
        if (dc->memory_reservation) {
            snprintf(buf, sizeof buf, "%lld", (long long)dc->memory_reservation);
            cJSON_AddStringToObject(o, "memoryReservation", buf);
        }
    }
    if (internal) {
        cJSON *b = cJSON_AddObjectToObject(o, "berth");
        cJSON_AddBoolToObject(b, "created", c->created);
        cJSON_AddBoolToObject(b, "essential", c->essential);
        cJSON_AddNumberToObject(b, "engineHealth", c->engine_health);
        add_str(b, "healthOutput", c->health_output);
        cJSON_AddNumberToObject(b, "healthExitCode", c->health_exit_code);
        cJSON_AddNumberToObject(b, "healthSince", (double)c->health_since_ms);
        cJSON_AddNumberToObject(b, "restarts", c->restarts);
        cJSON_AddNumberToObject(b, "startedAt", (double)c->started_at_ms);
        add_str(b, "ipAddress", c->ip_address);
        add_str(b, "mdToken", c->md_token);
        if (c->created_at_ms)
            cJSON_AddNumberToObject(b, "createdAt", (double)c->created_at_ms);
        cJSON *bs = cJSON_AddArrayToObject(b, "bindings");
        for (size_t i = 0; i < c->n_bindings; i++) {
            const struct task_binding *tb = &c->bindings[i];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "containerPort", tb->container_port);
            cJSON_AddNumberToObject(e, "hostPort", tb->host_port);
            cJSON_AddBoolToObject(e, "udp", tb->udp);
            cJSON_AddBoolToObject(e, "dynamic", tb->dynamic);
            cJSON_AddItemToArray(bs, e);
        }
    }
    return o;
}

cJSON *task_to_json(const struct task *t, bool internal)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "taskArn", t->arn);
    cJSON_AddStringToObject(o, "clusterArn", t->cluster_arn);
    cJSON_AddStringToObject(o, "taskDefinitionArn", t->taskdef_arn);
    cJSON_AddStringToObject(o, "lastStatus", task_status_names[t->last_status]);
    cJSON_AddStringToObject(o, "desiredStatus", task_status_names[t->desired_status]);
    cJSON_AddStringToObject(o, "healthStatus", task_health_name(task_health(t)));
    add_str(o, "cpu", t->cpu);
    add_str(o, "memory", t->memory);
    cJSON_AddStringToObject(o, "launchType", "EC2");
    cJSON_AddStringToObject(o, "group", t->group);
    if (t->started_by && *t->started_by)
        cJSON_AddStringToObject(o, "startedBy", t->started_by);
    cJSON_AddNumberToObject(o, "version", (double)t->version);
    add_str(o, "stopCode", t->stop_code);
    add_str(o, "stoppedReason", t->stopped_reason);
    add_time(o, "createdAt", t->created_at_ms);
    add_time(o, "pullStartedAt", t->pull_started_at_ms);
    add_time(o, "pullStoppedAt", t->pull_stopped_at_ms);
    add_time(o, "startedAt", t->started_at_ms);
    add_time(o, "stoppingAt", t->stopping_at_ms);
    add_time(o, "executionStoppedAt", t->execution_stopped_at_ms);
    add_time(o, "stoppedAt", t->stopped_at_ms);
    cJSON_AddBoolToObject(o, "enableExecuteCommand", 0);
    cJSON_AddItemToObject(o, "attachments", cJSON_CreateArray());
    cJSON_AddItemToObject(o, "overrides", t->overrides ? cJSON_Duplicate(t->overrides, 1)
                                                       : overrides_shown_none(t->td));
    cJSON *cs = cJSON_AddArrayToObject(o, "containers");
    for (size_t i = 0; i < t->n_containers; i++)
        cJSON_AddItemToArray(cs, container_json(t, &t->containers[i],
                                                t->td && i < t->td->n_containers
                                                    ? &t->td->containers[i]
                                                    : NULL,
                                                internal));
    cJSON_AddItemToObject(o, "tags", t->tags ? cJSON_Duplicate(t->tags, 1)
                                             : cJSON_CreateArray());
    if (internal) {
        cJSON *b = cJSON_AddObjectToObject(o, "berth");
        cJSON_AddStringToObject(b, "id", t->id);
        cJSON_AddStringToObject(b, "family", t->family);
        cJSON_AddNumberToObject(b, "revision", (double)t->revision);
        add_str(b, "sandboxId", t->sandbox_id);
        cJSON_AddBoolToObject(b, "sandboxDone", t->sandbox_done);
        if (t->deactivate_until_ms)
            cJSON_AddNumberToObject(b, "deactivateUntil", (double)t->deactivate_until_ms);
        add_str(b, "clientToken", t->client_token);
        add_str(b, "clientRequest", t->client_request);
    }
    return o;
}

/* ---- reading it back ---- */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* A stored integer: def when absent; false when present but not a whole
 * number within [lo, hi] (casting an out-of-range double is undefined). */
static bool jint(const cJSON *o, const char *key, int64_t def, int64_t lo,
                 int64_t hi, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    *out = def;
    if (!v)
        return true;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo) ||
        !(v->valuedouble <= (double)hi))
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

static bool jbool(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Times are stored in seconds (ECS's shape) up to year 10000. */
#define MAX_TIME_S 253402300800.0

static bool jtime(const cJSON *o, const char *key, int64_t *ms)
{
    double s = jnum(o, key, 0);

    *ms = 0;
    if (!(s >= 0 && s < MAX_TIME_S))
        return false;
    *ms = (int64_t)(s * 1000.0 + 0.5);
    return true;
}

static int dup_opt(char **dst, const char *v)
{
    return v ? task_set_str(dst, v) : 0;
}

static int container_from_json(struct task_container *c, const cJSON *o)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "berth");
    const char *st = jstr(o, "lastStatus");

    if (!cJSON_IsObject(b))
        return -1;
    if (dup_opt(&c->runtime_id, jstr(o, "runtimeId")) < 0 ||
        dup_opt(&c->image_digest, jstr(o, "imageDigest")) < 0 ||
        dup_opt(&c->reason, jstr(o, "reason")) < 0 ||
        dup_opt(&c->health_output, jstr(b, "healthOutput")) < 0 ||
        dup_opt(&c->ip_address, jstr(b, "ipAddress")) < 0 ||
        dup_opt(&c->md_token, jstr(b, "mdToken")) < 0)
        return -1;
    c->status = st && strcmp(st, "RUNNING") == 0   ? CTR_RUNNING
                : st && strcmp(st, "STOPPED") == 0 ? CTR_STOPPED
                                                   : CTR_PENDING;
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(o, "exitCode");
    if (cJSON_IsNumber(ec)) {
        c->has_exit_code = true;
        c->exit_code = ec->valueint;
    }
    c->created = jbool(b, "created");
    c->essential = jbool(b, "essential");
    int64_t health, hexit, since, restarts, started, port;
    if (!jint(b, "engineHealth", 0, BERTH_HEALTH_NONE, BERTH_HEALTH_UNHEALTHY, &health) ||
        !jint(b, "healthExitCode", -1, INT32_MIN, INT32_MAX, &hexit) ||
        !jint(b, "healthSince", 0, 0, INT64_C(1) << 53, &since) ||
        !jint(b, "restarts", 0, 0, INT32_MAX, &restarts) ||
        !jint(b, "startedAt", 0, 0, INT64_C(1) << 53, &started) ||
        !jint(b, "createdAt", 0, 0, INT64_C(1) << 53, &c->created_at_ms))
        return -1;
    c->engine_health = (enum berth_ctr_health)health;
    c->health_exit_code = (int)hexit;
    c->health_since_ms = since;
    c->restarts = (int)restarts;
    c->started_at_ms = started;
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(b, "bindings");
    size_t n = (size_t)cJSON_GetArraySize(bs), i = 0;
    if (!cJSON_IsArray(bs) || n != c->n_bindings)
        return -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, bs) {
        if (!jint(e, "hostPort", 0, 0, 65535, &port))
            return -1;
        c->bindings[i].host_port = (uint16_t)port;
        c->bindings[i].dynamic = jbool(e, "dynamic");
        i++;
    }
    return 0;
}

struct task *task_from_json(const char *json, const char *taskdef_json,
                            char *err, size_t errlen)
{
    cJSON *o = cJSON_Parse(json);
    struct task *t = NULL;
    struct taskdef *td = NULL;
    struct json_errors errs = {0};
    const cJSON *b;

    if (!cJSON_IsObject(o)) {
        snprintf(err, errlen, "the stored task is not a JSON object");
        goto fail;
    }
    if (taskdef_parse(taskdef_json, strlen(taskdef_json), &td, &errs) < 0) {
        char *m = json_errors_message(&errs);
        snprintf(err, errlen, "the stored task's definition does not parse: %s",
                 m ? m : "?");
        free(m);
        goto fail;
    }
    b = cJSON_GetObjectItemCaseSensitive(o, "berth");
    t = calloc(1, sizeof *t);
    if (!t || !cJSON_IsObject(b))
        goto bad;
    t->td = td;
    td = NULL;
    if (dup_opt(&t->arn, jstr(o, "taskArn")) < 0 ||
        dup_opt(&t->cluster_arn, jstr(o, "clusterArn")) < 0 ||
        dup_opt(&t->taskdef_arn, jstr(o, "taskDefinitionArn")) < 0 ||
        dup_opt(&t->group, jstr(o, "group")) < 0 ||
        task_set_str(&t->started_by, jstr(o, "startedBy") ? jstr(o, "startedBy") : "") < 0 ||
        dup_opt(&t->stop_code, jstr(o, "stopCode")) < 0 ||
        dup_opt(&t->stopped_reason, jstr(o, "stoppedReason")) < 0 ||
        dup_opt(&t->cpu, jstr(o, "cpu")) < 0 ||
        dup_opt(&t->memory, jstr(o, "memory")) < 0 ||
        dup_opt(&t->id, jstr(b, "id")) < 0 ||
        dup_opt(&t->family, jstr(b, "family")) < 0 ||
        dup_opt(&t->sandbox_id, jstr(b, "sandboxId")) < 0 ||
        dup_opt(&t->client_token, jstr(b, "clientToken")) < 0 ||
        dup_opt(&t->client_request, jstr(b, "clientRequest")) < 0 ||
        task_set_str(&t->taskdef_json, taskdef_json) < 0)
        goto bad;
    if (!t->arn || !t->cluster_arn || !t->taskdef_arn || !t->group || !t->id ||
        !t->family || !strstr(t->cluster_arn, ":cluster/"))
        goto bad;
    int ls = task_status_parse(jstr(o, "lastStatus"));
    int ds = task_status_parse(jstr(o, "desiredStatus"));
    if (ls < 0 || ds < 0)
        goto bad;
    t->last_status = (enum task_status)ls;
    t->desired_status = (enum task_status)ds;
    t->sandbox_done = jbool(b, "sandboxDone");
    if (!jint(b, "revision", 0, 0, INT32_MAX, &t->revision) ||
        !jint(b, "deactivateUntil", 0, 0, INT64_C(1) << 53, &t->deactivate_until_ms) ||
        !jint(o, "version", 1, 0, INT64_C(1) << 53, &t->version) ||
        !jtime(o, "createdAt", &t->created_at_ms) ||
        !jtime(o, "startedAt", &t->started_at_ms) ||
        !jtime(o, "stoppingAt", &t->stopping_at_ms) ||
        !jtime(o, "stoppedAt", &t->stopped_at_ms) ||
        !jtime(o, "executionStoppedAt", &t->execution_stopped_at_ms) ||
        !jtime(o, "pullStartedAt", &t->pull_started_at_ms) ||
        !jtime(o, "pullStoppedAt", &t->pull_stopped_at_ms))
        goto bad;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
    if (cJSON_IsArray(tags) && cJSON_GetArraySize(tags) > 0)
        t->tags = cJSON_Duplicate(tags, 1);
    /* Tasks stored before overrides were kept show an empty list. */
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(o, "overrides");
    if (cJSON_IsObject(ov) &&
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ov, "containerOverrides")) > 0 &&
        !(t->overrides = cJSON_Duplicate(ov, 1)))
        goto bad;
    if (containers_from_td(t) < 0)
        goto bad;
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(o, "containers");
    if ((size_t)cJSON_GetArraySize(cs) != t->n_containers)
        goto bad;
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cs) {
        const char *name = jstr(c, "name");
        if (!name || strcmp(name, t->containers[i].name) != 0 ||
            container_from_json(&t->containers[i], c) < 0)
            goto bad;
        i++;
    }
    /* Stored before tokens existed: containers created then have no URI,
     * the ones still to create get one. */
    if (task_ensure_tokens(t) < 0)
        goto bad;
    json_errors_clear(&errs); /* ignored members (taskRoleArn...) */
    cJSON_Delete(o);
    return t;
bad:
    snprintf(err, errlen, "the stored task %s lacks members the agent wrote, "
             "holds values out of range, or does not match its definition",
             jstr(o, "taskArn") ? jstr(o, "taskArn") : "(no taskArn)");
fail:
    json_errors_clear(&errs);
    taskdef_free(td);
    task_free(t);
    cJSON_Delete(o);
    return NULL;
}
