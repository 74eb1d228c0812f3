/* overrides.h: RunTask / StartTask `overrides` (ECS's TaskOverride shape):
 * parsed with paths, merged into the task definition a task runs, and shown
 * as DescribeTasks shows them.
 *
 * Contract:
 *   - overrides_shape walks the TaskOverride object into struct overrides
 *     (embed it as a JW_OBJECT field named "overrides" so errors read
 *     overrides.containerOverrides[1].cpu).  resourceRequirements is refused
 *     (no GPUs here); taskRoleArn, executionRoleArn, ephemeralStorage and
 *     inferenceAcceleratorOverrides are accepted and listed as ignored.
 *   - overrides_apply merges them into a definition's JSON as ECS does:
 *     command replaces the container's; environment entries replace the
 *     container's of the same name or are added; environmentFiles are
 *     added; cpu, memory, memoryReservation and the task's cpu and memory
 *     replace the definition's.  The merged definition must pass every rule
 *     of a registered one; its errors are reported at the override's path
 *     (overrides.containerOverrides[0].memoryReservation).  Every override
 *     must name a container of the definition, once.
 *   - The shown form is ECS's Task.overrides: containerOverrides lists every
 *     container of the definition by name, in its order, with what was
 *     overridden; the task-level members that were given follow. */
#ifndef BERTH_OVERRIDES_H
#define BERTH_OVERRIDES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agent/json_walk.h"

struct taskdef;

struct ov_env_file {
    char *value;
    int type; /* 0: "s3" */
};

struct ov_container {
    char *name;
    struct jw_strv command;
    bool has_command;
    struct jw_kv *environment;
    size_t n_environment;
    bool has_environment;
    struct ov_env_file *environment_files;
    size_t n_environment_files;
    bool has_environment_files;
    int64_t cpu, memory, memory_reservation;
    bool has_cpu, has_memory, has_memory_reservation;
};

struct overrides {
    struct ov_container *containers;
    size_t n_containers;
    char *cpu, *memory; /* task size, as ECS writes it ("512", "1 GB") */
    char *task_role_arn, *execution_role_arn; /* shown, not used */
};

extern const struct jw_shape overrides_shape;

/* Walks obj (the "overrides" member) into ov (zeroed by the caller), paths
 * starting at "overrides".  Returns the number of errors added to errs;
 * ignored members go to errs->ignored.  Free ov with overrides_free. */
size_t overrides_parse(const cJSON *obj, struct overrides *ov, struct json_errors *errs);
void overrides_free(struct overrides *ov);

/* Merges ov into the definition td_json.  0 with *merged (the definition's
 * JSON with the overrides applied; caller frees) and *shown (Task.overrides;
 * caller deletes); -1 with every error in errs (and nothing set). */
int overrides_apply(const struct overrides *ov, const char *td_json, char **merged,
                    cJSON **shown, struct json_errors *errs);

/* Task.overrides for a task run without overrides: every container by name. */
cJSON *overrides_shown_none(const struct taskdef *td);

#endif
