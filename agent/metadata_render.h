/* metadata_render.h: the task metadata endpoint's JSON documents (v4, and
 * v3 which shares them), from the agent's task structs and the runtime's
 * stats.
 *
 * Shapes and casing are ECS's (task-metadata-endpoint-v4-response): the
 * container document (DockerId, Name, DockerName, Image, ImageID, Ports,
 * Labels, DesiredStatus, KnownStatus, Limits, CreatedAt, StartedAt, Type,
 * ContainerARN, LogDriver/LogOptions, Networks, Health, ExitCode), the
 * task document (Cluster, TaskARN, Family, Revision, ServiceName,
 * DesiredStatus, KnownStatus, Limits, PullStartedAt, PullStoppedAt,
 * ExecutionStoppedAt, LaunchType, Containers) and Docker's stats format.
 * A member whose value is not known is left out, as ECS does.  Times are
 * RFC 3339 UTC with milliseconds.  Pure functions: no I/O. */
#ifndef BERTH_METADATA_RENDER_H
#define BERTH_METADATA_RENDER_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "berth/plugin.h"

struct task;

/* "2020-10-02T00:15:07.620Z" into buf (>= 32 bytes); "" for 0. */
void md_time(int64_t ms, char *buf, size_t size);

/* Container i of t; v4 adds what v3 lacks (Networks' IPv4 details and
 * Health, ContainerARN).  Caller deletes. */
cJSON *md_container_json(const struct task *t, size_t i, int version);
/* The task with its containers. */
cJSON *md_task_json(const struct task *t, int version);

/* One reading for md_stats_json: the runtime's sample and the host's
 * cumulative CPU time (all CPUs, ns; Docker's system_cpu_usage) when it
 * was taken; 0 when not known. */
struct md_sample {
    struct berth_container_stats s;
    uint64_t system_ns;
};

/* Docker's stats document for the container (id, name) from cur, with
 * prev (NULL: none yet) as precpu_stats and for ECS's network_rate_stats. */
cJSON *md_stats_json(const char *id, const char *name, const struct md_sample *cur,
                     const struct md_sample *prev);

#endif
