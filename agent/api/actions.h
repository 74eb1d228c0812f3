/* actions.h: the tables of ECS actions the agent registers with the API
 * (api_add_actions), and helpers they share.
 *
 * Each table ends with a NULL name; its context is given at registration:
 *   api_taskdef_actions  RegisterTaskDefinition, DeregisterTaskDefinition,
 *                        DescribeTaskDefinition, ListTaskDefinitions,
 *                        ListTaskDefinitionFamilies, DeleteTaskDefinitions
 *                        (ctx: struct store *)
 *   api_tag_actions      TagResource, UntagResource, ListTagsForResource;
 *                        task-definition ARNs only for now, other resource
 *                        types are refused naming the ARN (ctx: struct
 *                        store *)
 *
 *   api_task_actions     RunTask, StartTask, StopTask, DescribeTasks,
 *                        ListTasks (ctx: struct api_tasks_ctx *)
 *
 *   api_service_actions  CreateService, UpdateService, DeleteService,
 *                        DescribeServices, ListServices;
 *                        ListServicesByNamespace refused (ctx: struct
 *                        api_tasks_ctx *, its services member)
 *
 * Errors from the store map to AWS types with api_fail_store(): not found
 * and conflicts -> ClientException, bad parameters ->
 * InvalidParameterException, database failures -> ServerException. */
#ifndef BERTH_API_ACTIONS_H
#define BERTH_API_ACTIONS_H

#include <cjson/cJSON.h>

#include "agent/api/api.h"
#include "agent/store.h"

extern const struct api_action api_taskdef_actions[];
extern const struct api_action api_tag_actions[];
extern const struct api_action api_task_actions[];
extern const struct api_action api_service_actions[];

struct tasks;
struct services;
/* The context of the task actions: the manager, the store (for task
 * definitions) and what names this cluster in requests. */
struct api_tasks_ctx {
    struct tasks *tasks;
    struct store *store;
    char *cluster, *region, *account_id;
    struct services *services; /* the service actions */
};

/* The cluster member of a request (ctx: struct api_tasks_ctx): absent,
 * or this cluster's name or ARN; else the call is failed with
 * ClusterNotFoundException and -1 returned. */
int api_check_cluster(struct api_call *c, const char *cluster);

/* Fails c with the AWS type for rc and message err. */
void api_fail_store(struct api_call *c, enum store_rc rc, const char *err);

/* The TaskDefinition object of the ECS model for a stored revision:
 * the stored definition plus taskDefinitionArn, revision, status,
 * compatibilities, registeredAt and deregisteredAt (epoch seconds with
 * fraction).  status NULL: the record's own.  NULL when the stored text
 * does not parse (a damaged database). */
cJSON *api_taskdef_json(const struct store_taskdef *td, const char *status);
/* The include member of the Describe actions: only "TAGS" is known;
 * others are errors at include[i]. */
void api_check_include(struct jw *w, const struct jw_strv *include);
/* [{"key":..,"value":..}] */
cJSON *api_tags_json(const struct store_tags *t);

#endif
