/* taskdef.c: the shapes of an ECS task definition as field tables, the
 * checks within each object, and parsing. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/json_walk_table.h"
#include "agent/taskdef.h"
#include "agent/taskdef_check.h"

/* ------------------------------------------------------------------ */
/* Field tables: one per shape of the model, in the model's order      */

#define RANGE(lo, hi) .ranged = true, .min = lo, .max = hi
#define IGNORED(json, k, why) {.name = json, .kind = k, .use = JW_IGNORE, .reason = why}
#define UNSUPPORTED(json, k, why) \
    {.name = json, .kind = k, .use = JW_UNSUPPORTED, .reason = why}
#define ARRAY(json, st, m, sh, ...)                                            \
    {.name = json, .kind = JW_ARRAY, .offset = offsetof(st, m),               \
     .count_offset = offsetof(st, n_##m), .shape = &sh, __VA_ARGS__}

const char *const taskdef_network_modes[] = {"bridge", "host", "awsvpc", "none", NULL};
const char *const taskdef_conditions[] = {"START", "COMPLETE", "SUCCESS", "HEALTHY", NULL};
const char *const taskdef_log_drivers[] = {
    "json-file", "local", "journald", "syslog", "none", "awslogs",
    "gelf", "fluentd", "splunk", "awsfirelens", NULL};
const char *const taskdef_ulimit_names[] = {
    "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
    "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack", NULL};
static const char *const protocols[] = {"tcp", "udp", NULL};
static const char *const app_protocols[] = {"http", "http2", "grpc", NULL};
static const char *const pid_modes[] = {"host", "task", NULL};
static const char *const ipc_modes[] = {"host", "task", "none", NULL};
static const char *const scopes[] = {"task", "shared", NULL};
static const char *const env_file_types[] = {"s3", NULL};

#define T struct jw_kv
static const struct jw_field kv_fields[] = {
    F_("name", JW_STRING, T, name, .required = true),
    F_("value", JW_STRING, T, value),
    END,
};
#undef T
static const struct jw_shape taskdef_kv_shape = {sizeof(struct jw_kv), kv_fields, NULL};

#define T struct taskdef_port
static const struct jw_field port_fields[] = {
    F_("containerPort", JW_INT, T, container_port, RANGE(1, 65535), .required = true),
    F_("hostPort", JW_INT, T, host_port, RANGE(0, 65535)),
    F_("protocol", JW_ENUM, T, protocol, .choices = protocols),
    F_("name", JW_STRING, T, name),
    F_("appProtocol", JW_ENUM, T, app_protocol, .choices = app_protocols,
       HAS(T, has_app_protocol)),
    UNSUPPORTED("containerPortRange", JW_STRING,
                "port ranges are not implemented; map each port"),
    END,
};
#undef T
static const struct jw_shape port_shape = {sizeof(struct taskdef_port), port_fields,
                                           taskdef_check_port};

#define T struct taskdef_env_file
static const struct jw_field env_file_fields[] = {
    F_("value", JW_STRING, T, value, .required = true),
    F_("type", JW_ENUM, T, type, .choices = env_file_types, .required = true),
    END,
};
#undef T
static const struct jw_shape env_file_shape = {sizeof(struct taskdef_env_file),
                                               env_file_fields, taskdef_check_env_file};

#define T struct taskdef_mount
static const struct jw_field mount_fields[] = {
    F_("sourceVolume", JW_STRING, T, source_volume, .required = true),
    F_("containerPath", JW_STRING, T, container_path, .required = true),
    F_("readOnly", JW_BOOL, T, read_only),
    END,
};
#undef T
static const struct jw_shape mount_shape = {sizeof(struct taskdef_mount), mount_fields,
                                            taskdef_check_mount};

#define T struct taskdef_volume_from
static const struct jw_field volume_from_fields[] = {
    F_("sourceContainer", JW_STRING, T, source_container, .required = true),
    F_("readOnly", JW_BOOL, T, read_only),
    END,
};
#undef T
static const struct jw_shape volume_from_shape = {sizeof(struct taskdef_volume_from),
                                                  volume_from_fields, NULL};

#define T struct taskdef_linux
static const struct jw_field capabilities_fields[] = {
    F_("add", JW_STRINGS, T, capabilities.add),
    F_("drop", JW_STRINGS, T, capabilities.drop),
    END,
};
/* Walked at the offset of capabilities, so its offsets are relative to
 * taskdef_linux: the shape's size is never used for an embedded object. */
static const struct jw_shape capabilities_shape = {0, capabilities_fields, NULL};
static const struct jw_field linux_fields[] = {
    {.name = "capabilities", .kind = JW_OBJECT, .offset = 0, .shape = &capabilities_shape},
    UNSUPPORTED("devices", JW_ARRAY, "device mappings are not implemented"),
    F_("initProcessEnabled", JW_BOOL, T, init_process_enabled),
    F_("sharedMemorySize", JW_INT, T, shared_memory_size, RANGE(1, INT32_MAX)),
    UNSUPPORTED("tmpfs", JW_ARRAY, "tmpfs mounts are not implemented"),
    UNSUPPORTED("maxSwap", JW_INT, "swap limits are not implemented"),
    UNSUPPORTED("swappiness", JW_INT, "swap limits are not implemented"),
    END,
};
#undef T
static const struct jw_shape linux_shape = {sizeof(struct taskdef_linux), linux_fields,
                                            NULL};

#define T struct taskdef_secret
static const struct jw_field secret_fields[] = {
    F_("name", JW_STRING, T, name, .required = true),
    F_("valueFrom", JW_STRING, T, value_from, .required = true),
    END,
};
#undef T
static const struct jw_shape secret_shape = {sizeof(struct taskdef_secret), secret_fields,
                                             taskdef_check_secret};

#define T struct taskdef_dependency
static const struct jw_field dependency_fields[] = {
    F_("containerName", JW_STRING, T, container_name, .required = true),
    F_("condition", JW_ENUM, T, condition, .choices = taskdef_conditions,
       .required = true),
    END,
};
#undef T
static const struct jw_shape dependency_shape = {sizeof(struct taskdef_dependency),
                                                 dependency_fields, NULL};

#define T struct taskdef_host_entry
static const struct jw_field host_entry_fields[] = {
    F_("hostname", JW_STRING, T, hostname, .required = true),
    F_("ipAddress", JW_STRING, T, ip_address, .required = true),
    END,
};
#undef T
static const struct jw_shape host_entry_shape = {sizeof(struct taskdef_host_entry),
                                                 host_entry_fields, NULL};

#define T struct taskdef_ulimit
static const struct jw_field ulimit_fields[] = {
    F_("name", JW_ENUM, T, name, .choices = taskdef_ulimit_names, .required = true),
    F_("softLimit", JW_INT, T, soft_limit, .required = true),
    F_("hardLimit", JW_INT, T, hard_limit, .required = true),
    END,
};
#undef T
static const struct jw_shape ulimit_shape = {sizeof(struct taskdef_ulimit), ulimit_fields,
                                             taskdef_check_ulimit};

#define T struct taskdef_log
static const struct jw_field log_fields[] = {
    F_("logDriver", JW_ENUM, T, driver, .choices = taskdef_log_drivers, .required = true),
    F_("options", JW_MAP, T, options),
    IGNORED("secretOptions", JW_ARRAY,
            "secret options are for remote log drivers, which Berth does not use"),
    END,
};
#undef T
static const struct jw_shape log_shape = {sizeof(struct taskdef_log), log_fields,
                                          taskdef_check_log};

#define T struct taskdef_health_check
static const struct jw_field health_fields[] = {
    F_("command", JW_STRINGS, T, command, .required = true),
    F_("interval", JW_INT, T, interval, RANGE(5, 300)),
    F_("timeout", JW_INT, T, timeout, RANGE(2, 60)),
    F_("retries", JW_INT, T, retries, RANGE(1, 10)),
    F_("startPeriod", JW_INT, T, start_period, RANGE(0, 300)),
    END,
};
#undef T
static const struct jw_shape health_shape = {sizeof(struct taskdef_health_check),
                                             health_fields, taskdef_check_health};

#define T struct taskdef_sysctl
static const struct jw_field sysctl_fields[] = {
    F_("namespace", JW_STRING, T, namespace_, .required = true),
    F_("value", JW_STRING, T, value, .required = true),
    END,
};
#undef T
static const struct jw_shape sysctl_shape = {sizeof(struct taskdef_sysctl), sysctl_fields,
                                             NULL};

#define T struct taskdef_restart_policy
static const struct jw_field restart_fields[] = {
    F_("enabled", JW_BOOL, T, enabled, .required = true),
    {.name = "ignoredExitCodes", .kind = JW_INTS,
     .offset = offsetof(T, ignored_exit_codes), RANGE(0, 50)},
    F_("restartAttemptPeriod", JW_INT, T, restart_attempt_period, RANGE(60, 1800)),
    END,
};
#undef T
static const struct jw_shape restart_shape = {sizeof(struct taskdef_restart_policy),
                                              restart_fields, taskdef_check_restart};

#define T struct taskdef_container
static const struct jw_field container_fields[] = {
    F_("name", JW_STRING, T, name, .required = true),
    F_("image", JW_STRING, T, image, .required = true),
    IGNORED("repositoryCredentials", JW_OBJECT,
            "registry credentials come from the engine's own login, not from "
            "Secrets Manager"),
    F_("cpu", JW_INT, T, cpu, RANGE(0, 196608)),
    F_("memory", JW_INT, T, memory, RANGE(6, INT32_MAX)),
    F_("memoryReservation", JW_INT, T, memory_reservation, RANGE(6, INT32_MAX)),
    F_("links", JW_STRINGS, T, links),
    ARRAY("portMappings", T, port_mappings, port_shape),
    F_("essential", JW_BOOL, T, essential, HAS(T, has_essential)),
    F_("restartPolicy", JW_OBJECT, T, restart_policy, .shape = &restart_shape,
       HAS(T, has_restart_policy)),
    F_("entryPoint", JW_STRINGS, T, entry_point),
    F_("command", JW_STRINGS, T, command),
    ARRAY("environment", T, environment, taskdef_kv_shape),
    ARRAY("environmentFiles", T, environment_files, env_file_shape, RANGE(0, 10)),
    ARRAY("mountPoints", T, mount_points, mount_shape),
    ARRAY("volumesFrom", T, volumes_from, volume_from_shape),
    F_("linuxParameters", JW_OBJECT, T, linux_parameters, .shape = &linux_shape,
       HAS(T, has_linux_parameters)),
    ARRAY("secrets", T, secrets, secret_shape),
    ARRAY("dependsOn", T, depends_on, dependency_shape),
    F_("startTimeout", JW_INT, T, start_timeout, RANGE(1, INT32_MAX)),
    F_("stopTimeout", JW_INT, T, stop_timeout, RANGE(1, 120)),
    IGNORED("versionConsistency", JW_STRING,
            "the engine resolves image tags when each container starts"),
    F_("hostname", JW_STRING, T, hostname),
    F_("user", JW_STRING, T, user),
    F_("workingDirectory", JW_STRING, T, working_directory),
    F_("disableNetworking", JW_BOOL, T, disable_networking),
    F_("privileged", JW_BOOL, T, privileged),
    F_("readonlyRootFilesystem", JW_BOOL, T, readonly_root_filesystem),
    F_("dnsServers", JW_STRINGS, T, dns_servers),
    F_("dnsSearchDomains", JW_STRINGS, T, dns_search_domains),
    ARRAY("extraHosts", T, extra_hosts, host_entry_shape),
    F_("dockerSecurityOptions", JW_STRINGS, T, docker_security_options),
    F_("interactive", JW_BOOL, T, interactive),
    F_("pseudoTerminal", JW_BOOL, T, pseudo_terminal),
    F_("dockerLabels", JW_MAP, T, docker_labels),
    ARRAY("ulimits", T, ulimits, ulimit_shape),
    F_("logConfiguration", JW_OBJECT, T, log_configuration, .shape = &log_shape,
       HAS(T, has_log_configuration)),
    F_("healthCheck", JW_OBJECT, T, health_check, .shape = &health_shape,
       HAS(T, has_health_check)),
    ARRAY("systemControls", T, system_controls, sysctl_shape),
    IGNORED("resourceRequirements", JW_ARRAY,
            "GPU and inference accelerator reservations are not managed by Berth"),
    IGNORED("firelensConfiguration", JW_OBJECT,
            "FireLens log routing is an AWS feature; use logConfiguration"),
    IGNORED("credentialSpecs", JW_STRINGS,
            "Active Directory credential specs need AWS Directory Service"),
    END,
};
#undef T
static const struct jw_shape container_shape = {sizeof(struct taskdef_container),
                                                container_fields, taskdef_check_container};

#define T struct taskdef_docker_volume
static const struct jw_field docker_volume_fields[] = {
    F_("scope", JW_ENUM, T, scope, .choices = scopes),
    F_("autoprovision", JW_BOOL, T, autoprovision),
    F_("driver", JW_STRING, T, driver),
    F_("driverOpts", JW_MAP, T, driver_opts),
    F_("labels", JW_MAP, T, labels),
    END,
};
#undef T
static const struct jw_shape docker_volume_shape = {
    sizeof(struct taskdef_docker_volume), docker_volume_fields, taskdef_check_docker_volume};

#define T struct taskdef_volume
static const struct jw_field host_fields[] = {
    F_("sourcePath", JW_STRING, T, host.source_path),
    END,
};
/* Embedded: offsets relative to taskdef_volume, walked at offset 0. */
static const struct jw_shape host_shape = {0, host_fields, NULL};
static const struct jw_field volume_fields[] = {
    F_("name", JW_STRING, T, name, .required = true),
    {.name = "host", .kind = JW_OBJECT, .offset = 0, .shape = &host_shape,
     HAS(T, has_host)},
    F_("configuredAtLaunch", JW_BOOL, T, configured_at_launch),
    F_("dockerVolumeConfiguration", JW_OBJECT, T, docker, .shape = &docker_volume_shape,
       HAS(T, has_docker)),
    UNSUPPORTED("efsVolumeConfiguration", JW_OBJECT,
                "EFS file systems exist only in AWS; use host or "
                "dockerVolumeConfiguration"),
    UNSUPPORTED("fsxWindowsFileServerVolumeConfiguration", JW_OBJECT,
                "FSx file systems exist only in AWS; use host or "
                "dockerVolumeConfiguration"),
    UNSUPPORTED("s3filesVolumeConfiguration", JW_OBJECT,
                "S3 file systems exist only in AWS; use host or "
                "dockerVolumeConfiguration"),
    END,
};
#undef T
static const struct jw_shape volume_shape = {sizeof(struct taskdef_volume), volume_fields,
                                             taskdef_check_volume};

#define T struct taskdef_tag
static const struct jw_field tag_fields[] = {
    F_("key", JW_STRING, T, key, .required = true),
    F_("value", JW_STRING, T, value),
    END,
};
#undef T
static const struct jw_shape tag_shape = {sizeof(struct taskdef_tag), tag_fields,
                                          taskdef_check_tag};

#define T struct taskdef
static const struct jw_field taskdef_fields[] = {
    F_("family", JW_STRING, T, family, .required = true),
    IGNORED("taskRoleArn", JW_STRING, "IAM roles have no meaning on a Berth host"),
    IGNORED("executionRoleArn", JW_STRING,
            "Berth pulls images and reads secrets itself, without an IAM role"),
    F_("networkMode", JW_ENUM, T, network_mode, .choices = taskdef_network_modes),
    ARRAY("containerDefinitions", T, containers, container_shape,
          RANGE(1, TASKDEF_MAX_CONTAINERS), .required = true),
    ARRAY("volumes", T, volumes, volume_shape),
    IGNORED("placementConstraints", JW_ARRAY,
            "placement constraints choose among AWS container instances; a Berth "
            "host runs its tasks itself"),
    IGNORED("requiresCompatibilities", JW_STRINGS,
            "launch types choose AWS capacity; a Berth host runs its tasks itself"),
    F_("cpu", JW_STRING, T, cpu_text),
    F_("memory", JW_STRING, T, memory_text),
    ARRAY("tags", T, tags, tag_shape, RANGE(0, 50)),
    F_("pidMode", JW_ENUM, T, pid_mode, .choices = pid_modes, HAS(T, has_pid_mode)),
    F_("ipcMode", JW_ENUM, T, ipc_mode, .choices = ipc_modes, HAS(T, has_ipc_mode)),
    IGNORED("proxyConfiguration", JW_OBJECT,
            "App Mesh proxy configuration needs AWS App Mesh"),
    IGNORED("inferenceAccelerators", JW_ARRAY,
            "Elastic Inference accelerators exist only in AWS"),
    IGNORED("ephemeralStorage", JW_OBJECT,
            "ephemeral storage sizes apply to Fargate; containers use the host's "
            "storage"),
    IGNORED("runtimePlatform", JW_OBJECT,
            "the platform chooses Fargate capacity; Berth runs on the host's own"),
    IGNORED("enableFaultInjection", JW_BOOL,
            "fault injection is an AWS feature"),
    END,
};
#undef T
static const struct jw_shape taskdef_shape = {sizeof(struct taskdef), taskdef_fields,
                                              taskdef_check_task};

/* ------------------------------------------------------------------ */
/* Entry points                                                       */

void taskdef_free(struct taskdef *td)
{
    if (!td)
        return;
    jw_free_shape(&taskdef_shape, td);
    free(td);
}

int taskdef_from_cjson(const cJSON *root, struct taskdef **out, struct json_errors *errs)
{
    struct jw w = {.errs = errs};
    size_t before = errs->n;

    *out = NULL;
    if (!cJSON_IsObject(root)) {
        json_errors_add(errs, "", "expected a JSON object, got %s", jw_type_name(root));
        return -1;
    }
    struct taskdef *td = jw_calloc(1, sizeof *td);
    jw_walk(&w, root, &taskdef_shape, td);
    if (errs->n > before) {
        taskdef_free(td);
        return -1;
    }
    *out = td;
    return 0;
}

/* Line and column (from 1) of byte off, for messages about invalid JSON. */
static void position(const char *json, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (json[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int taskdef_parse(const char *json, size_t len, struct taskdef **out,
                  struct json_errors *errs)
{
    const char *end = NULL;
    int line, col;

    *out = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t off = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        position(json, off, &line, &col);
        json_errors_add(errs, "", "invalid JSON at line %d, column %d", line, col);
        return -1;
    }
    size_t off = (size_t)(end - json);
    while (off < len && isspace((unsigned char)json[off]))
        off++;
    /* cJSON stops after the first value; anything but space after it means
     * the document is not one JSON value. */
    if (off < len && json[off] != '\0') {
        position(json, off, &line, &col);
        json_errors_add(errs, "", "invalid JSON at line %d, column %d: text after the "
                        "end of the document", line, col);
        cJSON_Delete(root);
        return -1;
    }
    int r = taskdef_from_cjson(root, out, errs);
    cJSON_Delete(root);
    return r;
}

const struct taskdef_container *taskdef_container(const struct taskdef *td,
                                                  const char *name)
{
    for (size_t i = 0; i < td->n_containers; i++)
        if (td->containers[i].name && strcmp(td->containers[i].name, name) == 0)
            return &td->containers[i];
    return NULL;
}
