/* container_spec.h: a task's containers and sandbox as runtime specs.
 *
 * Turns a task definition's container, with what the task adds (the host
 * ports picked, the sandbox, the ids of containers already created), into
 * the container spec JSON of berth/plugin.h that a runtime plugin creates.
 * This is where ECS's meanings become engine terms: cpu units become CPU
 * shares, MiB become bytes, seconds become milliseconds, environment
 * files and secrets become variables, volumes become binds or named
 * volumes, and every container gets ECS's labels so a restarted agent
 * finds it again.
 *
 * Environment, in increasing precedence (a later source overrides): the
 * environmentFiles in order, then environment, then secrets.  An env file
 * has one VARIABLE=VALUE per line; blank lines and lines starting with #
 * are skipped; the value is taken as is (no quotes removed), like Docker's
 * --env-file.  A secret's valueFrom names a file in the secrets folder
 * (conf); an ARN's last part (after "secret:" or "parameter/") is the name.
 * Secret values are read at each container creation and never logged.
 * Last, with metadata_hostport set, ECS_CONTAINER_METADATA_URI_V4 and
 * ECS_CONTAINER_METADATA_URI (v3) name the container's own endpoint
 * http://HOSTPORT/v4/TOKEN (v3: /v3/TOKEN), overriding any the task
 * definition sets, as ECS does.
 *
 * Errors (-1, err): an env file or secret that cannot be read, a bad line
 * in an env file (with file:line), a secret name with a '/' or "..". */
#ifndef BERTH_CONTAINER_SPEC_H
#define BERTH_CONTAINER_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct task;

struct spec_opts {
    const char *cluster;
    const char *secrets_dir; /* NULL: a task with secrets fails */
    bool image_healthcheck;  /* no healthCheck: use the image's own */
    /* The task metadata endpoint as containers of this task reach it
     * ("172.17.0.1:51679"), or NULL: no ECS_CONTAINER_METADATA_URI(_V4). */
    const char *metadata_hostport;
    /* The resolver of containers that set no dnsServers (bridge mode) and
     * of the sandbox (awsvpc), or NULL: the engine's default. */
    const char *dns_server;
};

/* Labels every Berth container carries (ECS's names). */
#define LABEL_TASK_ARN "com.amazonaws.ecs.task-arn"
#define LABEL_CONTAINER "com.amazonaws.ecs.container-name"
#define LABEL_FAMILY "com.amazonaws.ecs.task-definition-family"
#define LABEL_VERSION "com.amazonaws.ecs.task-definition-version"
#define LABEL_CLUSTER "com.amazonaws.ecs.cluster"

/* The engine name of container i (or of the sandbox, i = -1):
 * berth-FAMILY-REV-NAME-TASKID.  Caller frees. */
char *container_engine_name(const struct task *t, int i);

/* Spec of container i of t.  Caller frees; NULL with err. */
char *container_spec_json(const struct task *t, size_t i,
                          const struct spec_opts *o, char *err, size_t errlen);
/* The labels container i carries on the engine (its dockerLabels and
 * ECS's), as a JSON object; caller deletes. */
cJSON *container_labels_json(const struct task *t, size_t i, const char *cluster);

/* Spec of t's sandbox. */
char *sandbox_spec_json(const struct task *t, const struct spec_opts *o);

/* "http://HOSTPORT/vVERSION/TOKEN" of container c; caller frees. */
char *metadata_uri(const char *hostport, int version, const char *token);

/* Reads a secret's value (valueFrom) from dir; NULL with err. */
char *secret_read(const char *dir, const char *value_from, char *err,
                  size_t errlen);

#endif
