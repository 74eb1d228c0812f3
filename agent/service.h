/* service.h: an ECS service as the agent keeps it: what CreateService and
 * UpdateService ask for (with ECS's defaults), its deployments and its
 * events, and the Service object DescribeServices shows.
 *
 * One struct serves the scheduler (services.c), the store (the whole
 * service is kept as JSON: service_to_json(s, true) and service_from_json)
 * and the API (service_to_json(s, false): ECS's Service shape).
 *
 * Kept as given and only echoed for now: loadBalancers, serviceRegistries
 * (the proxy and DNS work will read them), networkConfiguration,
 * placementConstraints, placementStrategy, tags, propagateTags,
 * enableECSManagedTags, enableExecuteCommand.  Accepted and reported
 * ignored (AWS only): capacityProviderStrategy, platformVersion, role,
 * clientToken, deploymentController ECS, serviceConnectConfiguration,
 * deploymentConfiguration.alarms.
 *
 * Defaults as ECS's: deploymentConfiguration maximumPercent 200,
 * minimumHealthyPercent 100, deploymentCircuitBreaker {enable false,
 * rollback false}; healthCheckGracePeriodSeconds 0; schedulingStrategy
 * REPLICA; launchType EC2.  DAEMON: desiredCount is the number of hosts
 * (1), maximumPercent 100 and minimumHealthyPercent 0.
 *
 * The arithmetic of deployments lives here too, pure, for unit tests. */
#ifndef BERTH_SERVICE_H
#define BERTH_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agent/json_walk.h"

#define SERVICE_MAX_EVENTS 100
#define SERVICE_NAME_MAX 255

enum svc_status { SVC_ACTIVE = 0, SVC_DRAINING, SVC_INACTIVE };
enum dep_status { DEP_PRIMARY = 0, DEP_ACTIVE, DEP_INACTIVE };
enum rollout { ROLL_IN_PROGRESS = 0, ROLL_COMPLETED, ROLL_FAILED };
enum sched { SCHED_REPLICA = 0, SCHED_DAEMON };

struct svc_deployment {
    char *id;            /* "ecs-svc/" + 19 digits */
    enum dep_status status;
    char *taskdef_arn;
    int64_t desired_count;
    int64_t failed_tasks;
    int64_t created_at_ms, updated_at_ms;
    enum rollout rollout;
    char *rollout_reason;
    /* Internal (stored, not shown): */
    int64_t start_failures;   /* tasks that failed to start in a row */
    int64_t next_start_ms;    /* backoff: no new task before this */
    bool steady_reported;     /* "reached a steady state" said */
    /* Counted by the scheduler from the tasks (shown, not stored): */
    int64_t running_count, pending_count;
};

struct svc_event {
    char *id;
    int64_t created_at_ms;
    char *message;
};

struct svc_deploy_conf {
    int64_t max_pct, min_pct;
    bool cb_enable, cb_rollback;
};

struct service {
    char *arn, *name, *cluster_arn;
    enum svc_status status;
    int64_t desired_count;
    int launch_type;      /* index in service_launch_types */
    enum sched sched;
    char *taskdef_arn;    /* the primary deployment's */
    struct svc_deploy_conf dc;
    int64_t grace_s;      /* healthCheckGracePeriodSeconds */
    cJSON *load_balancers, *service_registries, *network_configuration;
    cJSON *placement_constraints, *placement_strategy, *tags;
    char *propagate_tags; /* "NONE" by default */
    bool enable_ecs_managed_tags, enable_execute_command;
    int64_t created_at_ms;
    int64_t inactive_at_ms; /* when it became INACTIVE (0: not) */
    struct svc_deployment *deps; /* PRIMARY first */
    size_t n_deps;
    struct svc_event *events;    /* newest first, at most 100 */
    size_t n_events;
    char *stable_taskdef; /* the last COMPLETED deployment's (rollback) */
    char *stable_dep_id;  /* and its id */
    /* Declared in services.d (stored, not shown): the file's name, NULL for
     * a service made through the API; and the digest of what the file last
     * applied (services_dir.h). */
    char *sd_file, *sd_digest;
    int64_t running_count, pending_count; /* counted, not stored */
    void *mgr;            /* the scheduler's state */
};

extern const char *const service_launch_types[];   /* EC2 FARGATE EXTERNAL */
extern const char *const service_sched_names[];    /* REPLICA DAEMON */
extern const char *const service_status_names[];
extern const char *const service_dep_status_names[];
extern const char *const service_rollout_names[];

/* What CreateService and UpdateService carry (the walked input). */
struct svc_input {
    char *cluster, *name;      /* serviceName (create), service (update) */
    char *task_definition;
    int64_t desired_count;
    bool has_desired_count;
    int launch_type;
    bool has_launch_type;
    int sched;
    bool has_sched;
    struct {
        int64_t max_pct, min_pct;
        bool has_max, has_min;
        struct { bool enable, rollback; } cb;
        bool has_cb;
    } dc;
    bool has_dc;
    int64_t grace_s;
    bool has_grace;
    int propagate;
    bool has_propagate;
    bool ecs_tags, has_ecs_tags, exec, has_exec;
    bool force_new;            /* update: forceNewDeployment */
    struct { int type; } controller; /* deploymentController: ECS only */
    bool has_controller;
    /* Validated by the walk; their JSON is copied from the input. */
    void *lbs, *regs, *tags_v;
    size_t n_lbs, n_regs, n_tags;
};

extern const struct jw_shape service_create_shape;
extern const struct jw_shape service_update_shape;

/* Walks a CreateService (update false) or UpdateService input.  0, or -1
 * with every error (member paths) in errs; errs->ignored lists the AWS-only
 * members accepted.  Release in with service_input_free(). */
int service_input_parse(const cJSON *input, bool update, struct svc_input *in,
                        struct json_errors *errs);
void service_input_free(struct svc_input *in, bool update);

/* A new ACTIVE service from a CreateService input (the task definition
 * already resolved to taskdef_arn), with ECS's defaults and its first
 * deployment (PRIMARY, IN_PROGRESS).  NULL with err when the input's
 * values do not fit together (e.g. DAEMON with maximumPercent 200). */
struct service *service_new(const struct svc_input *in, const cJSON *input,
                            const char *taskdef_arn, const char *region,
                            const char *account_id, const char *cluster,
                            int64_t now_ms, char *err, size_t errlen);
void service_free(struct service *s);

/* Applies an UpdateService input (taskdef_arn NULL: unchanged).  Returns
 * 1 when a new deployment was made (new task definition,
 * forceNewDeployment, or a changed networkConfiguration), 0 when not, -1
 * with err when the values do not fit (s is then unchanged). */
int service_update(struct service *s, const struct svc_input *in,
                   const cJSON *input, const char *taskdef_arn, int64_t now_ms,
                   char *err, size_t errlen);

/* A new PRIMARY deployment of taskdef_arn: the old primary becomes ACTIVE. */
struct svc_deployment *service_deploy(struct service *s, const char *taskdef_arn,
                                      int64_t now_ms);
/* Makes the deployment id (still listed, not PRIMARY) PRIMARY again and
 * IN_PROGRESS, its tasks kept (a rollback without churn); NULL when it is
 * no longer listed. */
struct svc_deployment *service_reinstate(struct service *s, const char *id,
                                         int64_t now_ms);
struct svc_deployment *service_primary(struct service *s);
struct svc_deployment *service_deployment(struct service *s, const char *id);
/* Drops the deployment at index i (an old one that has no task left). */
void service_drop_deployment(struct service *s, size_t i);

/* Adds an event "(service NAME) ..." (newest first, 100 kept). */
void service_event(struct service *s, int64_t now_ms, const char *fmt, ...)
    BERTH_PRINTF(3, 4);

/* The Service shape (internal: plus what the agent keeps to resume).
 * tags: include the tags member. */
cJSON *service_to_json(const struct service *s, bool internal, bool tags);
struct service *service_from_json(const char *json, char *err, size_t errlen);

/* ---- the arithmetic ---- */
/* ceil(desired * min_pct / 100) */
int64_t service_min_healthy(int64_t desired, int64_t min_pct);
/* floor(desired * max_pct / 100) */
int64_t service_max_running(int64_t desired, int64_t max_pct);
/* clamp(ceil(0.5 * desired), 3, 200) */
int64_t service_cb_threshold(int64_t desired);
/* The wait before the next start after n failures in a row: 0 for none,
 * then base, doubling, capped at cap. */
int64_t service_backoff_ms(int64_t failures, int64_t base_ms, int64_t cap_ms);

#endif
