/* task.h: a task (a running copy of a task definition) as the agent keeps it.
 *
 * One struct serves three readers: the task manager (tasks.c), which moves
 * it through ECS's lifecycle; the store, which keeps it as JSON so that a
 * restarted agent knows every task it had (task_to_json with internal
 * members, task_from_json); and the API, which shows it in ECS's Task shape
 * (task_to_json without them).
 *
 * Lifecycle (lastStatus), as ECS has it:
 *   PROVISIONING  host ports picked
 *   PENDING       sandbox and containers being created and started, in
 *                 dependsOn order
 *   ACTIVATING    every container that must run is running
 *   RUNNING
 *   DEACTIVATING  desiredStatus became STOPPED: out of the load balancers
 *   STOPPING      containers stopped in reverse dependsOn order
 *   DEPROVISIONING containers and sandbox removed, ports released
 *   STOPPED       final; stopCode and stoppedReason say why
 * A status never goes backwards. */
#ifndef BERTH_TASK_H
#define BERTH_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "berth/plugin.h"

struct taskdef;

enum task_status {
    TASK_PROVISIONING = 0,
    TASK_PENDING,
    TASK_ACTIVATING,
    TASK_RUNNING,
    TASK_DEACTIVATING,
    TASK_STOPPING,
    TASK_DEPROVISIONING,
    TASK_STOPPED,
};

/* A container's lastStatus. */
enum ctr_status { CTR_PENDING = 0, CTR_RUNNING, CTR_STOPPED };

/* healthStatus of a task or container. */
enum task_health { HEALTH_UNKNOWN = 0, HEALTH_HEALTHY, HEALTH_UNHEALTHY };

/* ECS's stopCode values. */
#define STOP_FAILED_TO_START "TaskFailedToStart"
#define STOP_ESSENTIAL_EXITED "EssentialContainerExited"
#define STOP_USER "UserInitiated"
#define STOP_SERVICE "ServiceSchedulerInitiated"

struct task_binding {
    uint16_t container_port;
    uint16_t host_port; /* the one picked for hostPort 0 */
    bool udp;
    bool dynamic;       /* picked from the pool (released at the end) */
};

struct task_container {
    char *name;
    char *image;
    char *runtime_id;  /* the engine's id; NULL until created */
    char *image_digest;
    enum ctr_status status;
    bool created;      /* internal: exists on the engine */
    bool has_exit_code;
    int exit_code;
    char *reason;      /* why it stopped, or failed to start */
    bool essential;
    enum berth_ctr_health engine_health; /* the engine's verdict */
    char *health_output;
    int health_exit_code;
    int64_t health_since_ms;
    struct task_binding *bindings;
    size_t n_bindings;
    int restarts;          /* in-place restarts (restartPolicy) */
    int64_t started_at_ms; /* last start (Unix ms) */
    char *ip_address;
    int64_t created_at_ms; /* created on the engine (Unix ms), 0 unknown */
    /* The secret of its task metadata endpoint URI: 32 hex digits, made
     * with the task and stored with it (a container keeps its URI across
     * agent restarts).  A secret: never logged. */
    char *md_token;
};

struct task {
    char *arn, *id;
    char *cluster_arn;
    char *taskdef_arn;
    char *family;
    int64_t revision;
    char *group;      /* "family:NAME" or "service:NAME" */
    char *started_by; /* "" when none */
    /* RunTask's clientToken and the request it came with (its JSON
     * without the token), to answer a retry with the same tasks; NULL
     * when the request had none. */
    char *client_token, *client_request;
    enum task_status last_status;
    enum task_status desired_status; /* TASK_RUNNING or TASK_STOPPED */
    char *stop_code;      /* NULL while not stopping */
    char *stopped_reason;
    int64_t version;      /* grows with each change the API can see */
    int64_t created_at_ms, started_at_ms, stopping_at_ms, stopped_at_ms;
    int64_t execution_stopped_at_ms, pull_started_at_ms, pull_stopped_at_ms;
    char *sandbox_id;     /* NULL: none (yet) */
    bool sandbox_done;    /* internal: sandbox_create answered */
    /* internal: a stopping task stays DEACTIVATING (out of the load
     * balancers and DNS, still running) until this wall-clock time, the
     * drainers' wait; 0: no wait. */
    int64_t deactivate_until_ms;
    struct task_container *containers; /* in task definition order */
    size_t n_containers;
    char *cpu, *memory;   /* the definition's, in units and MiB, or NULL */
    cJSON *tags;          /* [{key, value}] or NULL */
    /* Task.overrides as RunTask gave them (agent/overrides.h), or NULL:
     * none, shown as the definition's container names. */
    cJSON *overrides;

    /* Not stored as ECS shows it: */
    char *taskdef_json;   /* the definition the task runs (a copy) */
    struct taskdef *td;   /* parsed from it */
    void *mgr;            /* the manager's own state */
};

extern const char *const task_status_names[]; /* by enum task_status */
const char *task_health_name(enum task_health h);
const char *ctr_status_name(enum ctr_status s);
/* -1 when name is not a status. */
int task_status_parse(const char *name);

/* A new task in PROVISIONING for definition td (taken: freed with the
 * task) registered as taskdef_arn, whose text is json.  id is 32
 * lowercase hex digits, made from /dev/urandom.  NULL on OOM. */
struct task *task_new(struct taskdef *td, const char *taskdef_json,
                      const char *taskdef_arn, int64_t revision,
                      const char *region, const char *account_id,
                      const char *cluster, int64_t now_ms);
void task_free(struct task *t);

/* The task's health: the worst of its essential containers that have a
 * health check (in the definition, or the image's as the engine reports
 * it); UNKNOWN when none has one.  A check not yet reported is UNKNOWN. */
enum task_health task_health(const struct task *t);
enum task_health container_health(const struct task_container *c);

/* ECS's Task shape; with internal, also "berth": what the agent needs to
 * resume the task after a restart.  Caller deletes. */
cJSON *task_to_json(const struct task *t, bool internal);
/* Back from task_to_json(t, true) and the definition's text; NULL with
 * err when the JSON is not one. */
struct task *task_from_json(const char *json, const char *taskdef_json,
                            char *err, size_t errlen);

/* Gives every container without a metadata token a new one (tasks made
 * before tokens existed); 0, or -1 on OOM. */
int task_ensure_tokens(struct task *t);

/* The container of that name, or NULL. */
struct task_container *task_container(struct task *t, const char *name);
/* Index in t->containers of the container with that engine id, or -1. */
int task_container_by_id(const struct task *t, const char *runtime_id);

/* Sets s to a copy of v (NULL clears); 0 or -1 on OOM. */
int task_set_str(char **s, const char *v);

#endif
