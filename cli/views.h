/* views.h: how berth shows the API's objects to people (tables, lines,
 * key/value views), apart from the calls, so the unit tests can feed them
 * JSON shaped as botocore's ECS model says.  Times are shown in local time;
 * ages are relative to now. */
#ifndef BERTH_CLI_VIEWS_H
#define BERTH_CLI_VIEWS_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cli/table.h"

/* Tasks (DescribeTasks' tasks[]): ID TASK-DEFINITION LAST DESIRED HEALTH
 * STARTED PORTS, ports as hostPort→containerPort ("->" when !utf8), "/udp"
 * for UDP.  Statuses coloured.  The caller frees the table. */
struct table *view_tasks(const cJSON *tasks, int utf8);
/* Services (DescribeServices' services[]): NAME STATUS DESIRED RUNNING
 * PENDING TASK-DEFINITION ROLLOUT (the PRIMARY deployment's rolloutState). */
struct table *view_services(const cJSON *services);
/* The PRIMARY deployment of a service, or NULL. */
const cJSON *service_primary(const cJSON *service);
/* "2026-11-23 13:02:11  message" for a service event. */
void view_event(const cJSON *event, char *buf, size_t n);
/* A stopped task "stopped with an error": it failed to start
 * (TaskFailedToStart), or a container exited non-zero, or has no exit code
 * but a reason.  why gets "stopCode: stoppedReason; NAME exited N...". */
int task_stopped_badly(const cJSON *task, char *why, size_t n);
/* Any object as indented "key: value" lines: scalars first, aligned, then
 * nested objects and arrays; numbers under keys ending in "At" as dates;
 * an "events" array cut to the newest five. */
void view_object(const cJSON *o, FILE *f);

#endif
