/* service.c: the service model: CreateService/UpdateService input, ECS's
 * defaults, deployments, events, the Service JSON and the arithmetic. */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/json_walk_table.h"
#include "agent/ecs_tag.h"
#include "agent/service.h"


const char *const service_launch_types[] = {"EC2", "FARGATE", "EXTERNAL", NULL};
const char *const service_sched_names[] = {"REPLICA", "DAEMON", NULL};
const char *const service_status_names[] = {"ACTIVE", "DRAINING", "INACTIVE", NULL};
const char *const service_dep_status_names[] = {"PRIMARY", "ACTIVE", "INACTIVE", NULL};
const char *const service_rollout_names[] = {"IN_PROGRESS", "COMPLETED", "FAILED", NULL};
static const char *const propagate_names[] = {"TASK_DEFINITION", "SERVICE", "NONE", NULL};
static const char *const controller_names[] = {"ECS", "CODE_DEPLOY", "EXTERNAL", NULL};

/* ---- input shapes ---- */

struct lb_in {
    char *target_group_arn, *load_balancer_name, *container_name;
    int64_t container_port;
};
static const struct jw_field lb_fields[] = {
    F_("targetGroupArn", JW_STRING, struct lb_in, target_group_arn),
    F_("loadBalancerName", JW_STRING, struct lb_in, load_balancer_name),
    F_("containerName", JW_STRING, struct lb_in, container_name),
    F_("containerPort", JW_INT, struct lb_in, container_port, .ranged = true, .min = 0,
       .max = 65535),
    END,
};
static const struct jw_shape lb_shape = {sizeof(struct lb_in), lb_fields, NULL};

struct reg_in {
    char *registry_arn, *container_name;
    int64_t port, container_port;
};
static const struct jw_field reg_fields[] = {
    F_("registryArn", JW_STRING, struct reg_in, registry_arn),
    F_("containerName", JW_STRING, struct reg_in, container_name),
    F_("port", JW_INT, struct reg_in, port, .ranged = true, .min = 0, .max = 65535),
    F_("containerPort", JW_INT, struct reg_in, container_port, .ranged = true,
       .min = 0, .max = 65535),
    END,
};
static const struct jw_shape reg_shape = {sizeof(struct reg_in), reg_fields, NULL};

#define IN struct svc_input
static const struct jw_field cb_fields[] = {
    {.name = "enable", .kind = JW_BOOL, .required = true, .offset = 0},
    {.name = "rollback", .kind = JW_BOOL, .required = true, .offset = sizeof(bool)},
    END,
};
static const struct jw_shape cb_shape = {2 * sizeof(bool), cb_fields, NULL};

#define DC_OFF offsetof(IN, dc)
static const struct jw_field dc_fields[] = {
    {.name = "maximumPercent", .kind = JW_INT, .offset = 0,
     .has = offsetof(IN, dc.has_max) - DC_OFF + 1, .ranged = true, .min = 0,
     .max = INT32_MAX},
    {.name = "minimumHealthyPercent", .kind = JW_INT,
     .offset = offsetof(IN, dc.min_pct) - DC_OFF,
     .has = offsetof(IN, dc.has_min) - DC_OFF + 1, .ranged = true, .min = 0,
     .max = INT32_MAX},
    {.name = "deploymentCircuitBreaker", .kind = JW_OBJECT, .shape = &cb_shape,
     .offset = offsetof(IN, dc.cb) - DC_OFF, .has = offsetof(IN, dc.has_cb) - DC_OFF + 1},
    IGN("alarms", JW_OBJECT, "CloudWatch alarms are AWS only"),
    END,
};
static const struct jw_shape dc_shape = {sizeof(((IN *)0)->dc), dc_fields, NULL};

static const struct jw_field controller_fields[] = {
    {.name = "type", .kind = JW_ENUM, .required = true, .choices = controller_names},
    END,
};
static const struct jw_shape controller_shape = {sizeof(int), controller_fields, NULL};

static void check_input(struct jw *w, void *obj)
{
    IN *in = obj;

    if (in->has_launch_type && in->launch_type == 1)
        jw_error_at(w, "launchType", "FARGATE runs only inside AWS; a Berth host runs "
                                     "EC2 (and EXTERNAL) tasks");
    if (in->has_controller && in->controller.type != 0)
        jw_error_at(w, "deploymentController.type",
                    "not supported by Berth: only the rolling update (ECS) "
                    "controller, got %s", controller_names[in->controller.type]);
    if (in->has_desired_count && in->desired_count < 0)
        jw_error_at(w, "desiredCount", "must be 0 or more, got %lld",
                    (long long)in->desired_count);
    if (in->has_grace && in->grace_s < 0)
        jw_error_at(w, "healthCheckGracePeriodSeconds", "must be 0 or more, got %lld",
                    (long long)in->grace_s);
    if (in->has_dc && in->dc.has_min && in->dc.min_pct > 100)
        jw_error_at(w, "deploymentConfiguration.minimumHealthyPercent",
                    "must be 0-100, got %lld", (long long)in->dc.min_pct);
}

static void check_create(struct jw *w, void *obj)
{
    IN *in = obj;
    size_t n = in->name ? strlen(in->name) : 0;

    check_input(w, obj);
    if (!in->name)
        return;
    if (n == 0 || n > SERVICE_NAME_MAX)
        jw_error_at(w, "serviceName", "must be 1-255 characters, got %zu", n);
    for (size_t i = 0; i < n; i++) {
        char c = in->name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            jw_error_at(w, "serviceName", "only letters, digits, '-' and '_' are "
                        "allowed, got '%c' at %zu", c, i);
            break;
        }
    }
}

#define COMMON_FIELDS                                                              \
    F_("cluster", JW_STRING, IN, cluster),                                         \
        F_("taskDefinition", JW_STRING, IN, task_definition),                      \
        F_("desiredCount", JW_INT, IN, desired_count, HAS(IN, has_desired_count)), \
        F_("deploymentConfiguration", JW_OBJECT, IN, dc, .shape = &dc_shape,       \
           HAS(IN, has_dc)),                                                       \
        F_("healthCheckGracePeriodSeconds", JW_INT, IN, grace_s,                   \
           HAS(IN, has_grace)),                                                    \
        F_("loadBalancers", JW_ARRAY, IN, lbs, .shape = &lb_shape,                 \
           .count_offset = offsetof(IN, n_lbs)),                                   \
        F_("serviceRegistries", JW_ARRAY, IN, regs, .shape = &reg_shape,           \
           .count_offset = offsetof(IN, n_regs)),                                  \
        F_("propagateTags", JW_ENUM, IN, propagate, .choices = propagate_names,    \
           HAS(IN, has_propagate)),                                                \
        F_("enableECSManagedTags", JW_BOOL, IN, ecs_tags, HAS(IN, has_ecs_tags)),  \
        F_("enableExecuteCommand", JW_BOOL, IN, exec, HAS(IN, has_exec)),          \
        IGN("networkConfiguration", JW_OBJECT, "kept and shown"),                  \
        IGN("placementConstraints", JW_ARRAY, "kept and shown: one host"),         \
        IGN("placementStrategy", JW_ARRAY, "kept and shown: one host"),            \
        IGN("capacityProviderStrategy", JW_ARRAY, "a Berth host is its own "       \
                                                  "capacity"),                     \
        IGN("platformVersion", JW_STRING, "Fargate only"),                         \
        IGN("serviceConnectConfiguration", JW_OBJECT, "Service Connect is AWS "    \
                                                      "only")

static const struct jw_field create_fields[] = {
    COMMON_FIELDS,
    F_("serviceName", JW_STRING, IN, name, .required = true),
    F_("launchType", JW_ENUM, IN, launch_type, .choices = service_launch_types,
       HAS(IN, has_launch_type)),
    F_("schedulingStrategy", JW_ENUM, IN, sched, .choices = service_sched_names,
       HAS(IN, has_sched)),
    F_("deploymentController", JW_OBJECT, IN, controller, .shape = &controller_shape,
       HAS(IN, has_controller)),
    F_("tags", JW_ARRAY, IN, tags_v, .shape = &ecs_tag_shape,
       .count_offset = offsetof(IN, n_tags), .ranged = true, .min = 0, .max = 50),
    IGN("clientToken", JW_STRING, "idempotency tokens are not checked yet"),
    IGN("role", JW_STRING, "IAM roles have no meaning on a Berth host"),
    END,
};
const struct jw_shape service_create_shape = {sizeof(IN), create_fields, check_create};

static const struct jw_field update_fields[] = {
    COMMON_FIELDS,
    F_("service", JW_STRING, IN, name, .required = true),
    F_("forceNewDeployment", JW_BOOL, IN, force_new),
    END,
};
const struct jw_shape service_update_shape = {sizeof(IN), update_fields, check_input};

int service_input_parse(const cJSON *input, bool update, struct svc_input *in,
                        struct json_errors *errs)
{
    struct jw w = {.errs = errs};

    memset(in, 0, sizeof *in);
    return jw_walk(&w, input, update ? &service_update_shape : &service_create_shape,
                   in) ? -1 : 0;
}

void service_input_free(struct svc_input *in, bool update)
{
    jw_free_shape(update ? &service_update_shape : &service_create_shape, in);
}

/* ---- helpers ---- */

static char *xstrdup(const char *s)
{
    return jw_strdup(s ? s : "");
}

static void set_str(char **p, const char *v)
{
    char *c = v ? xstrdup(v) : NULL;
    free(*p);
    *p = c;
}

static void random_bytes(unsigned char *b, size_t n)
{
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t r = read(fd, b, n);
        got = r > 0 ? (size_t)r : 0;
        close(fd);
    }
    for (size_t i = got; i < n; i++)
        b[i] = (unsigned char)rand();
}

static cJSON *dup_member(const cJSON *input, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(input, key);
    return v && !cJSON_IsNull(v) ? cJSON_Duplicate(v, 1) : NULL;
}

static void replace_json(cJSON **slot, const cJSON *input, const char *key)
{
    if (!cJSON_GetObjectItemCaseSensitive(input, key))
        return;
    cJSON_Delete(*slot);
    *slot = dup_member(input, key);
}

static bool json_changed(const cJSON *old, const cJSON *input, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(input, key);
    if (!v)
        return false;
    if (!old || cJSON_IsNull(v))
        return !!old != !cJSON_IsNull(v);
    return !cJSON_Compare(old, v, 1);
}

/* ---- arithmetic ---- */

int64_t service_min_healthy(int64_t desired, int64_t min_pct)
{
    return (desired * min_pct + 99) / 100;
}

int64_t service_max_running(int64_t desired, int64_t max_pct)
{
    return desired * max_pct / 100;
}

int64_t service_cb_threshold(int64_t desired)
{
    int64_t t = (desired + 1) / 2;
    return t < 3 ? 3 : t > 200 ? 200 : t;
}

int64_t service_backoff_ms(int64_t failures, int64_t base_ms, int64_t cap_ms)
{
    int64_t d = base_ms;
    if (failures <= 0)
        return 0;
    for (int64_t i = 1; i < failures && d < cap_ms; i++)
        d *= 2;
    return d > cap_ms ? cap_ms : d;
}

/* ---- deployments and events ---- */

struct svc_deployment *service_primary(struct service *s)
{
    return s->n_deps && s->deps[0].status == DEP_PRIMARY ? &s->deps[0] : NULL;
}

struct svc_deployment *service_deployment(struct service *s, const char *id)
{
    for (size_t i = 0; id && i < s->n_deps; i++)
        if (strcmp(s->deps[i].id, id) == 0)
            return &s->deps[i];
    return NULL;
}

static void dep_free(struct svc_deployment *d)
{
    free(d->id);
    free(d->taskdef_arn);
    free(d->rollout_reason);
}

void service_drop_deployment(struct service *s, size_t i)
{
    if (i >= s->n_deps)
        return;
    dep_free(&s->deps[i]);
    memmove(&s->deps[i], &s->deps[i + 1], (s->n_deps - i - 1) * sizeof *s->deps);
    s->n_deps--;
}

struct svc_deployment *service_deploy(struct service *s, const char *taskdef_arn,
                                      int64_t now_ms)
{
    unsigned char b[8];
    uint64_t r;
    char id[40];
    struct svc_deployment *grown = realloc(s->deps, (s->n_deps + 1) * sizeof *grown);

    if (!grown)
        abort();
    s->deps = grown;
    for (size_t i = 0; i < s->n_deps; i++)
        if (s->deps[i].status == DEP_PRIMARY) {
            s->deps[i].status = DEP_ACTIVE;
            s->deps[i].updated_at_ms = now_ms;
        }
    memmove(&s->deps[1], &s->deps[0], s->n_deps * sizeof *s->deps);
    s->n_deps++;
    struct svc_deployment *d = &s->deps[0];
    memset(d, 0, sizeof *d);
    random_bytes(b, sizeof b);
    memcpy(&r, b, sizeof r);
    /* ECS's ids are "ecs-svc/" and 19 decimal digits. */
    snprintf(id, sizeof id, "ecs-svc/%019llu",
             (unsigned long long)(r % 10000000000000000000ULL));
    d->id = xstrdup(id);
    d->status = DEP_PRIMARY;
    d->taskdef_arn = xstrdup(taskdef_arn);
    d->desired_count = s->desired_count;
    d->created_at_ms = d->updated_at_ms = now_ms;
    d->rollout = ROLL_IN_PROGRESS;
    char reason[80];
    snprintf(reason, sizeof reason, "ECS deployment %s in progress.", d->id);
    d->rollout_reason = xstrdup(reason);
    set_str(&s->taskdef_arn, taskdef_arn);
    return d;
}

struct svc_deployment *service_reinstate(struct service *s, const char *id,
                                         int64_t now_ms)
{
    size_t i;
    struct svc_deployment d;

    for (i = 0; i < s->n_deps && strcmp(s->deps[i].id, id) != 0; i++)
        ;
    if (i == s->n_deps || s->deps[i].status == DEP_PRIMARY)
        return NULL;
    for (size_t k = 0; k < s->n_deps; k++)
        if (s->deps[k].status == DEP_PRIMARY) {
            s->deps[k].status = DEP_ACTIVE;
            s->deps[k].updated_at_ms = now_ms;
        }
    d = s->deps[i];
    memmove(&s->deps[1], &s->deps[0], i * sizeof *s->deps);
    s->deps[0] = d;
    struct svc_deployment *p = &s->deps[0];
    p->status = DEP_PRIMARY;
    p->rollout = ROLL_IN_PROGRESS;
    p->desired_count = s->desired_count;
    p->start_failures = 0;
    p->next_start_ms = 0;
    p->steady_reported = false;
    p->updated_at_ms = now_ms;
    set_str(&s->taskdef_arn, p->taskdef_arn);
    return p;
}

void service_event(struct service *s, int64_t now_ms, const char *fmt, ...)
{
    char msg[1024], id[40];
    unsigned char b[16];
    size_t n = strlen(s->name) + 11;
    va_list ap;

    snprintf(msg, sizeof msg, "(service %s) ", s->name);
    va_start(ap, fmt);
    vsnprintf(msg + (n < sizeof msg ? n : sizeof msg - 1),
              n < sizeof msg ? sizeof msg - n : 1, fmt, ap);
    va_end(ap);
    random_bytes(b, sizeof b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(id, sizeof id,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
    if (s->n_events == SERVICE_MAX_EVENTS) {
        s->n_events--;
        free(s->events[s->n_events].id);
        free(s->events[s->n_events].message);
    } else {
        struct svc_event *g = realloc(s->events, (s->n_events + 1) * sizeof *g);
        if (!g)
            abort();
        s->events = g;
    }
    memmove(&s->events[1], &s->events[0], s->n_events * sizeof *s->events);
    s->n_events++;
    s->events[0].id = xstrdup(id);
    s->events[0].created_at_ms = now_ms;
    s->events[0].message = xstrdup(msg);
}

/* ---- create, update ---- */

/* Checks and applies the deployment configuration of in over dc. */
static int apply_dc(struct svc_deploy_conf *dc, enum sched sched,
                    const struct svc_input *in, char *err, size_t errlen)
{
    struct svc_deploy_conf n = *dc;

    if (in->has_dc) {
        if (in->dc.has_max)
            n.max_pct = in->dc.max_pct;
        if (in->dc.has_min)
            n.min_pct = in->dc.min_pct;
        if (in->dc.has_cb) {
            n.cb_enable = in->dc.cb.enable;
            n.cb_rollback = in->dc.cb.rollback;
        }
    }
    if (sched == SCHED_DAEMON && n.max_pct != 100) {
        snprintf(err, errlen, "deploymentConfiguration.maximumPercent: a DAEMON "
                 "service's must be 100, got %lld", (long long)n.max_pct);
        return -1;
    }
    if (sched == SCHED_REPLICA && n.max_pct < 100) {
        snprintf(err, errlen, "deploymentConfiguration.maximumPercent: must be at "
                 "least 100, got %lld", (long long)n.max_pct);
        return -1;
    }
    *dc = n;
    return 0;
}

struct service *service_new(const struct svc_input *in, const cJSON *input,
                            const char *taskdef_arn, const char *region,
                            const char *account_id, const char *cluster,
                            int64_t now_ms, char *err, size_t errlen)
{
    struct service *s = jw_calloc(1, sizeof *s);
    char arn[700];

    s->sched = in->has_sched ? (enum sched)in->sched : SCHED_REPLICA;
    if (s->sched == SCHED_REPLICA && !in->has_desired_count) {
        snprintf(err, errlen, "desiredCount: required for a REPLICA service");
        goto fail;
    }
    if (s->sched == SCHED_DAEMON) {
        /* One host: a DAEMON service runs one task. */
        s->desired_count = 1;
        s->dc.max_pct = 100;
        s->dc.min_pct = 0;
    } else {
        s->desired_count = in->desired_count;
        s->dc.max_pct = 200;
        s->dc.min_pct = 100;
    }
    if (apply_dc(&s->dc, s->sched, in, err, errlen) < 0)
        goto fail;
    s->name = xstrdup(in->name);
    snprintf(arn, sizeof arn, "arn:aws:ecs:%s:%s:service/%s/%s", region, account_id,
             cluster, in->name);
    s->arn = xstrdup(arn);
    snprintf(arn, sizeof arn, "arn:aws:ecs:%s:%s:cluster/%s", region, account_id,
             cluster);
    s->cluster_arn = xstrdup(arn);
    s->status = SVC_ACTIVE;
    s->launch_type = in->has_launch_type ? in->launch_type : 0;
    s->grace_s = in->has_grace ? in->grace_s : 0;
    s->load_balancers = dup_member(input, "loadBalancers");
    s->service_registries = dup_member(input, "serviceRegistries");
    s->network_configuration = dup_member(input, "networkConfiguration");
    s->placement_constraints = dup_member(input, "placementConstraints");
    s->placement_strategy = dup_member(input, "placementStrategy");
    s->tags = dup_member(input, "tags");
    s->propagate_tags = xstrdup(in->has_propagate ? propagate_names[in->propagate] : "NONE");
    s->enable_ecs_managed_tags = in->ecs_tags;
    s->enable_execute_command = in->exec;
    s->created_at_ms = now_ms;
    service_deploy(s, taskdef_arn, now_ms);
    return s;
fail:
    service_free(s);
    return NULL;
}

int service_update(struct service *s, const struct svc_input *in, const cJSON *input,
                   const char *taskdef_arn, int64_t now_ms, char *err, size_t errlen)
{
    struct svc_deploy_conf dc = s->dc;
    bool redeploy = in->force_new;

    if (apply_dc(&dc, s->sched, in, err, errlen) < 0)
        return -1;
    s->dc = dc;
    if (in->has_desired_count && s->sched == SCHED_REPLICA)
        s->desired_count = in->desired_count;
    if (in->has_grace)
        s->grace_s = in->grace_s;
    if (in->has_propagate)
        set_str(&s->propagate_tags, propagate_names[in->propagate]);
    if (in->has_ecs_tags)
        s->enable_ecs_managed_tags = in->ecs_tags;
    if (in->has_exec)
        s->enable_execute_command = in->exec;
    redeploy |= json_changed(s->network_configuration, input, "networkConfiguration");
    redeploy |= json_changed(s->load_balancers, input, "loadBalancers");
    redeploy |= json_changed(s->service_registries, input, "serviceRegistries");
    replace_json(&s->network_configuration, input, "networkConfiguration");
    replace_json(&s->load_balancers, input, "loadBalancers");
    replace_json(&s->service_registries, input, "serviceRegistries");
    replace_json(&s->placement_constraints, input, "placementConstraints");
    replace_json(&s->placement_strategy, input, "placementStrategy");
    if (taskdef_arn && strcmp(taskdef_arn, s->taskdef_arn) != 0)
        redeploy = true;
    struct svc_deployment *p = service_primary(s);
    if (redeploy || !p) {
        service_deploy(s, taskdef_arn ? taskdef_arn : s->taskdef_arn, now_ms);
        return 1;
    }
    if (p->desired_count != s->desired_count) {
        p->desired_count = s->desired_count;
        p->updated_at_ms = now_ms;
        p->steady_reported = false;
    }
    return 0;
}

void service_free(struct service *s)
{
    if (!s)
        return;
    free(s->arn);
    free(s->name);
    free(s->cluster_arn);
    free(s->taskdef_arn);
    cJSON_Delete(s->load_balancers);
    cJSON_Delete(s->service_registries);
    cJSON_Delete(s->network_configuration);
    cJSON_Delete(s->placement_constraints);
    cJSON_Delete(s->placement_strategy);
    cJSON_Delete(s->tags);
    free(s->propagate_tags);
    for (size_t i = 0; i < s->n_deps; i++)
        dep_free(&s->deps[i]);
    free(s->deps);
    for (size_t i = 0; i < s->n_events; i++) {
        free(s->events[i].id);
        free(s->events[i].message);
    }
    free(s->events);
    free(s->stable_taskdef);
    free(s->stable_dep_id);
    free(s->sd_file);
    free(s->sd_digest);
    free(s);
}

/* ---- JSON ---- */

static void add_time(cJSON *o, const char *key, int64_t ms)
{
    if (ms > 0)
        cJSON_AddNumberToObject(o, key, (double)ms / 1000.0);
}

static void add_copy(cJSON *o, const char *key, const cJSON *v, bool empty_array)
{
    if (v)
        cJSON_AddItemToObject(o, key, cJSON_Duplicate(v, 1));
    else if (empty_array)
        cJSON_AddItemToObject(o, key, cJSON_CreateArray());
}

static cJSON *dc_json(const struct svc_deploy_conf *dc)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *cb = cJSON_AddObjectToObject(o, "deploymentCircuitBreaker");
    cJSON_AddBoolToObject(cb, "enable", dc->cb_enable);
    cJSON_AddBoolToObject(cb, "rollback", dc->cb_rollback);
    cJSON_AddNumberToObject(o, "maximumPercent", (double)dc->max_pct);
    cJSON_AddNumberToObject(o, "minimumHealthyPercent", (double)dc->min_pct);
    return o;
}

static cJSON *dep_json(const struct service *s, const struct svc_deployment *d,
                       bool internal)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", d->id);
    cJSON_AddStringToObject(o, "status", service_dep_status_names[d->status]);
    cJSON_AddStringToObject(o, "taskDefinition", d->taskdef_arn);
    cJSON_AddNumberToObject(o, "desiredCount", (double)d->desired_count);
    cJSON_AddNumberToObject(o, "pendingCount", (double)d->pending_count);
    cJSON_AddNumberToObject(o, "runningCount", (double)d->running_count);
    cJSON_AddNumberToObject(o, "failedTasks", (double)d->failed_tasks);
    add_time(o, "createdAt", d->created_at_ms);
    add_time(o, "updatedAt", d->updated_at_ms);
    cJSON_AddStringToObject(o, "launchType", service_launch_types[s->launch_type]);
    add_copy(o, "networkConfiguration", s->network_configuration, false);
    cJSON_AddStringToObject(o, "rolloutState", service_rollout_names[d->rollout]);
    if (d->rollout_reason)
        cJSON_AddStringToObject(o, "rolloutStateReason", d->rollout_reason);
    if (internal) {
        cJSON *b = cJSON_AddObjectToObject(o, "berth");
        cJSON_AddNumberToObject(b, "startFailures", (double)d->start_failures);
        cJSON_AddNumberToObject(b, "nextStartMs", (double)d->next_start_ms);
        cJSON_AddBoolToObject(b, "steadyReported", d->steady_reported);
        cJSON_AddNumberToObject(b, "createdAtMs", (double)d->created_at_ms);
        cJSON_AddNumberToObject(b, "updatedAtMs", (double)d->updated_at_ms);
    }
    return o;
}

cJSON *service_to_json(const struct service *s, bool internal, bool tags)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "serviceArn", s->arn);
    cJSON_AddStringToObject(o, "serviceName", s->name);
    cJSON_AddStringToObject(o, "clusterArn", s->cluster_arn);
    add_copy(o, "loadBalancers", s->load_balancers, true);
    add_copy(o, "serviceRegistries", s->service_registries, true);
    cJSON_AddStringToObject(o, "status", service_status_names[s->status]);
    cJSON_AddNumberToObject(o, "desiredCount", (double)s->desired_count);
    cJSON_AddNumberToObject(o, "runningCount", (double)s->running_count);
    cJSON_AddNumberToObject(o, "pendingCount", (double)s->pending_count);
    cJSON_AddStringToObject(o, "launchType", service_launch_types[s->launch_type]);
    cJSON_AddStringToObject(o, "taskDefinition", s->taskdef_arn);
    cJSON_AddItemToObject(o, "deploymentConfiguration", dc_json(&s->dc));
    cJSON *a = cJSON_AddArrayToObject(o, "deployments");
    for (size_t i = 0; i < s->n_deps; i++)
        if (internal || s->deps[i].status != DEP_INACTIVE)
            cJSON_AddItemToArray(a, dep_json(s, &s->deps[i], internal));
    a = cJSON_AddArrayToObject(o, "events");
    for (size_t i = 0; i < s->n_events; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", s->events[i].id);
        if (internal)
            cJSON_AddNumberToObject(e, "createdAtMs", (double)s->events[i].created_at_ms);
        else
            add_time(e, "createdAt", s->events[i].created_at_ms);
        cJSON_AddStringToObject(e, "message", s->events[i].message);
        cJSON_AddItemToArray(a, e);
    }
    add_time(o, "createdAt", s->created_at_ms);
    add_copy(o, "placementConstraints", s->placement_constraints, true);
    add_copy(o, "placementStrategy", s->placement_strategy, true);
    add_copy(o, "networkConfiguration", s->network_configuration, false);
    cJSON_AddNumberToObject(o, "healthCheckGracePeriodSeconds", (double)s->grace_s);
    cJSON_AddStringToObject(o, "schedulingStrategy", service_sched_names[s->sched]);
    cJSON *dctl = cJSON_AddObjectToObject(o, "deploymentController");
    cJSON_AddStringToObject(dctl, "type", "ECS");
    if (tags || internal)
        add_copy(o, "tags", s->tags, true);
    cJSON_AddBoolToObject(o, "enableECSManagedTags", s->enable_ecs_managed_tags);
    cJSON_AddStringToObject(o, "propagateTags", s->propagate_tags);
    cJSON_AddBoolToObject(o, "enableExecuteCommand", s->enable_execute_command);
    if (internal) {
        cJSON *b = cJSON_AddObjectToObject(o, "berth");
        cJSON_AddNumberToObject(b, "createdAtMs", (double)s->created_at_ms);
        cJSON_AddNumberToObject(b, "inactiveAtMs", (double)s->inactive_at_ms);
        if (s->stable_taskdef)
            cJSON_AddStringToObject(b, "stableTaskDefinition", s->stable_taskdef);
        if (s->stable_dep_id)
            cJSON_AddStringToObject(b, "stableDeployment", s->stable_dep_id);
        if (s->sd_file)
            cJSON_AddStringToObject(b, "servicesDirFile", s->sd_file);
        if (s->sd_digest)
            cJSON_AddStringToObject(b, "servicesDirDigest", s->sd_digest);
    }
    return o;
}

/* ---- back from the store ---- */

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static bool jbool(const cJSON *o, const char *k)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int jenum(const cJSON *o, const char *k, const char *const *names)
{
    const char *v = jstr(o, k);
    for (int i = 0; v && names[i]; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return -1;
}

static cJSON *jcopy(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return v ? cJSON_Duplicate(v, 1) : NULL;
}

struct service *service_from_json(const char *json, char *err, size_t errlen)
{
    cJSON *o = cJSON_Parse(json);
    cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "berth");
    const char *arn = jstr(o, "serviceArn");
    struct service *s;

    if (!o || !cJSON_IsObject(b) || !arn || !jstr(o, "serviceName") ||
        !jstr(o, "clusterArn") || !jstr(o, "taskDefinition") ||
        jenum(o, "status", service_status_names) < 0 ||
        jenum(o, "schedulingStrategy", service_sched_names) < 0 ||
        jenum(o, "launchType", service_launch_types) < 0) {
        snprintf(err, errlen, "stored service %s is not one (damaged database?)",
                 arn ? arn : "(no ARN)");
        cJSON_Delete(o);
        return NULL;
    }
    s = jw_calloc(1, sizeof *s);
    s->arn = xstrdup(arn);
    s->name = xstrdup(jstr(o, "serviceName"));
    s->cluster_arn = xstrdup(jstr(o, "clusterArn"));
    s->taskdef_arn = xstrdup(jstr(o, "taskDefinition"));
    s->status = (enum svc_status)jenum(o, "status", service_status_names);
    s->sched = (enum sched)jenum(o, "schedulingStrategy", service_sched_names);
    s->launch_type = jenum(o, "launchType", service_launch_types);
    s->desired_count = jnum(o, "desiredCount");
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(o, "deploymentConfiguration");
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(dc, "deploymentCircuitBreaker");
    s->dc.max_pct = jnum(dc, "maximumPercent");
    s->dc.min_pct = jnum(dc, "minimumHealthyPercent");
    s->dc.cb_enable = jbool(cb, "enable");
    s->dc.cb_rollback = jbool(cb, "rollback");
    s->grace_s = jnum(o, "healthCheckGracePeriodSeconds");
    s->load_balancers = jcopy(o, "loadBalancers");
    s->service_registries = jcopy(o, "serviceRegistries");
    s->network_configuration = jcopy(o, "networkConfiguration");
    s->placement_constraints = jcopy(o, "placementConstraints");
    s->placement_strategy = jcopy(o, "placementStrategy");
    s->tags = jcopy(o, "tags");
    s->propagate_tags = xstrdup(jstr(o, "propagateTags") ? jstr(o, "propagateTags") : "NONE");
    s->enable_ecs_managed_tags = jbool(o, "enableECSManagedTags");
    s->enable_execute_command = jbool(o, "enableExecuteCommand");
    s->created_at_ms = jnum(b, "createdAtMs");
    s->inactive_at_ms = jnum(b, "inactiveAtMs");
    if (jstr(b, "stableTaskDefinition"))
        s->stable_taskdef = xstrdup(jstr(b, "stableTaskDefinition"));
    if (jstr(b, "stableDeployment"))
        s->stable_dep_id = xstrdup(jstr(b, "stableDeployment"));
    if (jstr(b, "servicesDirFile"))
        s->sd_file = xstrdup(jstr(b, "servicesDirFile"));
    if (jstr(b, "servicesDirDigest"))
        s->sd_digest = xstrdup(jstr(b, "servicesDirDigest"));
    const cJSON *it;
    const cJSON *deps = cJSON_GetObjectItemCaseSensitive(o, "deployments");
    s->deps = jw_calloc((size_t)cJSON_GetArraySize(deps) + 1, sizeof *s->deps);
    cJSON_ArrayForEach(it, deps) {
        const cJSON *ib = cJSON_GetObjectItemCaseSensitive(it, "berth");
        struct svc_deployment *d = &s->deps[s->n_deps];
        if (!jstr(it, "id") || !jstr(it, "taskDefinition") ||
            jenum(it, "status", service_dep_status_names) < 0)
            continue;
        d->id = xstrdup(jstr(it, "id"));
        d->status = (enum dep_status)jenum(it, "status", service_dep_status_names);
        d->taskdef_arn = xstrdup(jstr(it, "taskDefinition"));
        d->desired_count = jnum(it, "desiredCount");
        d->failed_tasks = jnum(it, "failedTasks");
        int r = jenum(it, "rolloutState", service_rollout_names);
        d->rollout = r < 0 ? ROLL_IN_PROGRESS : (enum rollout)r;
        if (jstr(it, "rolloutStateReason"))
            d->rollout_reason = xstrdup(jstr(it, "rolloutStateReason"));
        d->start_failures = jnum(ib, "startFailures");
        d->next_start_ms = jnum(ib, "nextStartMs");
        d->steady_reported = jbool(ib, "steadyReported");
        d->created_at_ms = jnum(ib, "createdAtMs");
        d->updated_at_ms = jnum(ib, "updatedAtMs");
        s->n_deps++;
    }
    const cJSON *evs = cJSON_GetObjectItemCaseSensitive(o, "events");
    s->events = jw_calloc((size_t)cJSON_GetArraySize(evs) + 1, sizeof *s->events);
    cJSON_ArrayForEach(it, evs) {
        if (!jstr(it, "id") || !jstr(it, "message") || s->n_events == SERVICE_MAX_EVENTS)
            continue;
        s->events[s->n_events].id = xstrdup(jstr(it, "id"));
        s->events[s->n_events].message = xstrdup(jstr(it, "message"));
        s->events[s->n_events].created_at_ms = jnum(it, "createdAtMs");
        s->n_events++;
    }
    cJSON_Delete(o);
    return s;
}
