/* collect.h: metrics collection: container stats, ECS's utilization
 * figures, service task counts and the agent's own task counts, recorded as
 * metric series that the metrics sinks (Prometheus, CloudWatch) export.
 *
 * Contract
 *   - Runs on the control loop.  At each interval every RUNNING task's
 *     running containers get one stats request each; a container whose
 *     previous request has not answered is skipped this round (requests
 *     never overlap), and nothing is asked while the engine is down.
 *   - Container series use cAdvisor's names (container_cpu_usage_seconds_total,
 *     container_memory_working_set_bytes, ...) with labels id (engine id),
 *     name (the task definition's container name), image, and Berth's
 *     cluster, service ("" for a standalone task), task (task id), family.
 *   - ECS's figures, as ECS computes them (percent of the task's reserved
 *     cpu units and memory; a service's is its tasks' use over their summed
 *     reservation, so it can exceed 100):
 *       ecs_task_cpu_utilization_percent, ecs_task_memory_utilization_percent,
 *       ecs_task_cpu_reserved_units, ecs_task_memory_reserved_bytes
 *           {cluster, service, task, family}
 *       ecs_service_cpu_utilization_percent, ecs_service_memory_utilization_percent,
 *       ecs_service_running_tasks, ecs_service_pending_tasks,
 *       ecs_service_desired_tasks {cluster, service}
 *     A task without a task-level cpu is measured against the host's cpus
 *     (online_cpus x 1024 units); without task memory, against the sum of
 *     its containers' memory limits.  CPU needs two readings, so the first
 *     round records memory only.
 *   - Berth's own: berth_tasks{state}, berth_stats_requests_total{result},
 *     berth_plugin_errors_total{plugin, operation, code} (the runtime
 *     plugin's failed answers and refusals).
 *     Further data planes (proxy, DNS) record their own series with
 *     host_metric under berth_lb_ / berth_dns_; nothing here needs to change.
 *   - A container that no longer runs in a RUNNING task has its series
 *     dropped (forget id=...) at the next round, and a task with no such
 *     container left its ecs_task_* series (forget task=...), so that the
 *     agent's series do not grow with task churn. */
#ifndef BERTH_COLLECT_H
#define BERTH_COLLECT_H

#include <stdint.h>

#include <ev.h>

#include "berth/plugin.h"

struct tasks;
struct services;
struct collect;

typedef void (*collect_emit_fn)(void *arg, const struct berth_metric *m);
/* Drops the recorded series labelled name=value. */
typedef void (*collect_forget_fn)(void *arg, const char *name, const char *value);

/* cluster is copied.  services may be NULL (no service series). */
struct collect *collect_new(struct ev_loop *loop, struct tasks *tasks,
                            struct services *services, const char *cluster,
                            collect_emit_fn emit, collect_forget_fn forget, void *arg);
/* Drops pending stats answers. */
void collect_free(struct collect *c);
/* (Re)arms the round timer; 0 stops collection. */
void collect_set_interval(struct collect *c, uint64_t ms);
/* One round now (the timer calls it). */
void collect_round(struct collect *c);

/* Counts an answered API call (berth_api_requests_total{action, error}):
 * action NULL (not a known action) counts as "unknown", so that clients
 * cannot make series at will; error_type NULL as "none".  seconds goes to
 * the histogram berth_api_request_duration_seconds{action} (Prometheus'
 * default buckets), handed to the histogram sink when one is set. */
void collect_api_request(struct collect *c, const char *action, const char *error_type,
                         double seconds);

/* A scheduler pass took seconds: berth_reconcile_duration_seconds. */
void collect_reconcile(void *collect, double seconds);

typedef void (*collect_histogram_fn)(void *arg, const struct berth_histogram *h);
/* Where histograms go (the same arg as emit); NULL: none are kept. */
void collect_set_histogram_sink(struct collect *c, collect_histogram_fn fn);

/* ---- the arithmetic, exposed for the unit tests ---- */

/* The labels of one container's series. */
struct collect_ctr_labels {
    const char *id, *name, *image, *cluster, *service, *task, *family;
};

/* Records the container series of one stats reading: cAdvisor's names,
 * plus berth_container_restarts_total, container_start_time_seconds
 * (started_ms Unix ms; 0: not recorded) and berth_container_health_status
 * (0 none or starting, 1 healthy, 2 unhealthy). */
void collect_container_series(const struct collect_ctr_labels *l,
                              const struct berth_container_stats *s, int restarts,
                              int64_t started_ms, enum berth_ctr_health health,
                              collect_emit_fn emit, void *arg);

/* CPU cores used between two readings (cpu ns over wall ns); -1 when they
 * cannot be compared (no time passed, the counter went backwards). */
double collect_cpu_cores(const struct berth_container_stats *prev,
                         const struct berth_container_stats *cur);

/* "service:NAME" -> NAME; anything else -> "". */
const char *collect_service_of(const char *group);

#endif
