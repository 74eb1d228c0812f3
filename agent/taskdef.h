/* taskdef.h: ECS task definitions, parsed, validated and normalised.
 *
 * Input is what `aws ecs register-task-definition --cli-input-json` takes
 * (the RegisterTaskDefinitionRequest shape of botocore's ECS model, pure:
 * no Berth extensions).  Every member of the model is known:
 *   - parsed: what a Berth host can honour (see the struct below);
 *   - ignored: what only means something inside AWS (IAM roles, Fargate
 *     sizes, placement, App Mesh, GPUs...): accepted and listed in
 *     errs->ignored as "PATH: ignored: why", so callers can warn;
 *   - unsupported: what would change the container's meaning if dropped
 *     (EFS volumes, devices, port ranges, remote log drivers...): an error.
 * Members outside the model are errors ("unknown field"), as are wrong JSON
 * types, values out of ECS's ranges and broken cross-references.  All
 * errors are collected, each with its JSON path, e.g.
 *   containerDefinitions[1].portMappings[0].hostPort: must be between 0
 *   and 65535, got 70000
 *
 * Local meanings of AWS fields:
 *   - environmentFiles[].value is a path on the host (absolute), read by
 *     Berth; type must still be "s3", as ECS requires.
 *   - secrets[].valueFrom names a secret in Berth's own store (resolved
 *     later from conf); it is never logged.
 *   - logConfiguration.logDriver: json-file, local, journald, syslog and
 *     none are the engine's local drivers and are used; awslogs is
 *     accepted and ignored (the engine's default driver is used); gelf,
 *     fluentd, splunk and awsfirelens are refused.  local and none are not
 *     in ECS's enum: Berth accepts them as Docker does.
 *
 * Defaults applied (as ECS on EC2): networkMode bridge, essential true,
 * protocol tcp, healthCheck interval 30 timeout 5 retries 3 startPeriod 0,
 * stopTimeout 30, restartPolicy.restartAttemptPeriod 300, dockerVolume
 * scope task; in host and awsvpc modes an absent hostPort is containerPort.
 *
 * Errors and ignored members use struct json_errors (agent/json_walk.h):
 * json_errors_message() joins them for ECS's ClientException message and
 * json_errors_clear() releases them. */
#ifndef BERTH_TASKDEF_H
#define BERTH_TASKDEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agent/json_walk.h"

#define TASKDEF_MAX_CONTAINERS 10

enum taskdef_network_mode {
    TASKDEF_NET_BRIDGE,
    TASKDEF_NET_HOST,
    TASKDEF_NET_AWSVPC,
    TASKDEF_NET_NONE,
};

enum taskdef_protocol { TASKDEF_TCP, TASKDEF_UDP };
enum taskdef_app_protocol { TASKDEF_APP_HTTP, TASKDEF_APP_HTTP2, TASKDEF_APP_GRPC };

enum taskdef_condition {
    TASKDEF_START,
    TASKDEF_COMPLETE,
    TASKDEF_SUCCESS, /* exited 0 */
    TASKDEF_HEALTHY,
};

enum taskdef_log_driver {
    TASKDEF_LOG_JSON_FILE,
    TASKDEF_LOG_LOCAL,
    TASKDEF_LOG_JOURNALD,
    TASKDEF_LOG_SYSLOG,
    TASKDEF_LOG_NONE,
    TASKDEF_LOG_AWSLOGS, /* accepted, ignored: the engine's default is used */
    /* Refused at parse time; never seen in a parsed definition. */
    TASKDEF_LOG_GELF,
    TASKDEF_LOG_FLUENTD,
    TASKDEF_LOG_SPLUNK,
    TASKDEF_LOG_AWSFIRELENS,
};

enum taskdef_pid_mode { TASKDEF_PID_HOST, TASKDEF_PID_TASK };
enum taskdef_ipc_mode { TASKDEF_IPC_HOST, TASKDEF_IPC_TASK, TASKDEF_IPC_NONE };
enum taskdef_volume_scope { TASKDEF_SCOPE_TASK, TASKDEF_SCOPE_SHARED };

/* Names of the enums above as ECS spells them, indexed by value. */
extern const char *const taskdef_network_modes[];
extern const char *const taskdef_conditions[];
extern const char *const taskdef_log_drivers[];
extern const char *const taskdef_ulimit_names[];

struct taskdef_port {
    int64_t container_port; /* 1-65535 */
    int64_t host_port;      /* 0: dynamic (bridge); = container_port in
                               host and awsvpc modes */
    int protocol;           /* enum taskdef_protocol */
    char *name;             /* NULL or [a-z0-9_-]{1,64}, unique in the task */
    int app_protocol;       /* enum taskdef_app_protocol, if has_... */
    bool has_app_protocol;
};

struct taskdef_health_check {
    struct jw_strv command; /* [0] is "CMD" or "CMD-SHELL" */
    int64_t interval, timeout, retries, start_period; /* seconds */
};

struct taskdef_dependency {
    char *container_name;
    int condition; /* enum taskdef_condition */
};

struct taskdef_mount {
    char *source_volume; /* names a taskdef_volume */
    char *container_path;
    bool read_only;
};

struct taskdef_volume_from {
    char *source_container;
    bool read_only;
};

struct taskdef_ulimit {
    int name; /* index in taskdef_ulimit_names */
    int64_t soft_limit, hard_limit;
};

struct taskdef_env_file {
    char *value; /* an absolute path on the host */
    int type;    /* 0: "s3", the only type ECS has */
};

struct taskdef_secret {
    char *name;       /* the variable */
    char *value_from; /* a local secret's name */
};

struct taskdef_host_entry {
    char *hostname;
    char *ip_address;
};

struct taskdef_sysctl {
    char *namespace_; /* the sysctl's name, e.g. net.core.somaxconn */
    char *value;
};

struct taskdef_log {
    int driver; /* enum taskdef_log_driver */
    struct jw_map options;
};

struct taskdef_linux {
    struct {
        struct jw_strv add, drop;
    } capabilities;
    bool init_process_enabled;
    int64_t shared_memory_size; /* MiB; 0: the engine's default */
};

struct taskdef_restart_policy {
    bool enabled;
    struct jw_intv ignored_exit_codes; /* at most 50 */
    int64_t restart_attempt_period;    /* seconds, 60-1800 */
};

struct taskdef_container {
    char *name;
    char *image;
    int64_t cpu;                /* units; 0: none reserved */
    int64_t memory;             /* MiB, hard limit; 0: none */
    int64_t memory_reservation; /* MiB, soft limit; 0: none */
    bool essential;
    bool has_essential; /* internal: essential was given */
    struct jw_strv links, entry_point, command;
    struct taskdef_port *port_mappings;
    size_t n_port_mappings;
    struct jw_kv *environment; /* in document order */
    size_t n_environment;
    struct taskdef_env_file *environment_files;
    size_t n_environment_files;
    struct taskdef_mount *mount_points;
    size_t n_mount_points;
    struct taskdef_volume_from *volumes_from;
    size_t n_volumes_from;
    struct taskdef_linux linux_parameters;
    bool has_linux_parameters;
    struct taskdef_secret *secrets;
    size_t n_secrets;
    struct taskdef_dependency *depends_on;
    size_t n_depends_on;
    int64_t start_timeout; /* seconds; 0: the agent's default */
    int64_t stop_timeout;  /* seconds, 1-120 */
    char *hostname, *user, *working_directory;
    bool disable_networking, privileged, readonly_root_filesystem;
    bool interactive, pseudo_terminal;
    struct jw_strv dns_servers, dns_search_domains, docker_security_options;
    struct taskdef_host_entry *extra_hosts;
    size_t n_extra_hosts;
    struct jw_map docker_labels;
    struct taskdef_ulimit *ulimits;
    size_t n_ulimits;
    struct taskdef_log log_configuration;
    bool has_log_configuration;
    struct taskdef_health_check health_check;
    bool has_health_check;
    struct taskdef_sysctl *system_controls;
    size_t n_system_controls;
    struct taskdef_restart_policy restart_policy;
    bool has_restart_policy;
};

struct taskdef_docker_volume {
    int scope; /* enum taskdef_volume_scope */
    bool autoprovision;
    char *driver; /* NULL: the engine's default */
    struct jw_map driver_opts, labels;
};

struct taskdef_volume {
    char *name;
    struct {
        char *source_path; /* NULL: the engine picks a task-scoped path */
    } host;
    bool has_host;
    struct taskdef_docker_volume docker;
    bool has_docker;
    bool configured_at_launch; /* internal: refused when true */
};

struct taskdef_tag {
    char *key;
    char *value;
};

struct taskdef {
    char *family;
    int network_mode; /* enum taskdef_network_mode */
    struct taskdef_container *containers;
    size_t n_containers;
    struct taskdef_volume *volumes;
    size_t n_volumes;
    int64_t cpu;    /* units; 0: not set */
    int64_t memory; /* MiB; 0: not set */
    int pid_mode;   /* enum taskdef_pid_mode, if has_pid_mode */
    bool has_pid_mode;
    int ipc_mode; /* enum taskdef_ipc_mode, if has_ipc_mode */
    bool has_ipc_mode;
    struct taskdef_tag *tags;
    size_t n_tags;
    char *cpu_text, *memory_text; /* internal: as written */
};

/* Parses json (len bytes, no NUL needed).  Returns 0 with *out set, or -1
 * with *out NULL and at least one error in errs.  Either way errs may list
 * ignored members; the caller clears errs.  Invalid JSON is one error with
 * an empty path naming the line and column. */
int taskdef_parse(const char *json, size_t len, struct taskdef **out,
                  struct json_errors *errs);
/* The same from a parsed document (the API's request body). */
int taskdef_from_cjson(const cJSON *root, struct taskdef **out, struct json_errors *errs);
void taskdef_free(struct taskdef *td);

/* The definition as DescribeTaskDefinition shows it, defaults filled, ECS's
 * keys; without the registration's own members (taskDefinitionArn,
 * revision, status...), which the caller adds.  Parses back to an equal
 * definition.  Caller deletes. */
cJSON *taskdef_to_json(const struct taskdef *td);
/* The tags, as the "tags" array of a response beside taskDefinition. */
cJSON *taskdef_tags_to_json(const struct taskdef *td);
/* taskdef_to_json plus "tags", as compact text: equal definitions give
 * equal text (maps are sorted, defaults filled, false flags left out). */
char *taskdef_canonical(const struct taskdef *td);
/* 16 hex digits (FNV-1a 64 of the canonical text) and a NUL: a stable
 * fingerprint for spotting unchanged definitions, not a security hash. */
void taskdef_digest(const struct taskdef *td, char out[17]);
bool taskdef_equal(const struct taskdef *a, const struct taskdef *b);

/* The container of that name, or NULL. */
const struct taskdef_container *taskdef_container(const struct taskdef *td,
                                                  const char *name);

#endif
