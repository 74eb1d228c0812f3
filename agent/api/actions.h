/* actions.h: the tables of ECS actions the agent registers with the API
 * (api_add_actions), and helpers they share.
 *
 * Each table ends with a NULL name; its context is given at registration:
 *   api_taskdef_actions  RegisterTaskDefinition, DeregisterTaskDefinition,
 *                        DescribeTaskDefinition, ListTaskDefinitions,
 *                        ListTaskDefinitionFamilies, DeleteTaskDefinitions
 *                        (ctx: struct store *)
 *   api_tag_actions      TagResource, UntagResource, ListTagsForResource
 *                        on task definitions, clusters, the container
 *                        instance, services and tasks (ctx: struct
 *                        api_tasks_ctx *; only its store is needed when
 *                        tasks and services are NULL)
 *
 *   api_task_actions     RunTask, StartTask, StopTask, DescribeTasks,
 *                        ListTasks (ctx: struct api_tasks_ctx *)
 *   api_cluster_actions  CreateCluster, DescribeClusters, ListClusters,
 *                        DeleteCluster, ListContainerInstances,
 *                        DescribeContainerInstances (ctx: struct
 *                        api_tasks_ctx *; agent/api/actions_clusters.c)
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

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agent/api/api.h"
#include "agent/store.h"

extern const struct api_action api_taskdef_actions[];
extern const struct api_action api_tag_actions[];
extern const struct api_action api_task_actions[];
extern const struct api_action api_cluster_actions[];
extern const struct api_action api_service_actions[];

struct tasks;
struct res;
struct services;
/* The context of the task actions: the manager, the store (for task
 * definitions) and what names this cluster in requests. */
struct api_tasks_ctx {
    struct tasks *tasks;
    struct store *store;
    char *cluster, *region, *account_id;

    /* Clusters and this host as a container instance (actions_clusters.c) */
    char *instance_id;          /* store_instance_get() */
    int64_t registered_at_ms;
    struct res *host;           /* capacity (resources.h) */
    /* Active services of a cluster, for its activeServicesCount and
     * DeleteCluster; NULL (the services code is not there yet) counts 0. */
    unsigned (*active_services)(void *arg, const char *cluster_arn);
    void *services_arg;
    struct services *services; /* the service actions */
};

/* For the task actions (actions_clusters.c). */
enum api_cluster_kind { API_CLUSTER_OWN = 0, API_CLUSTER_OTHER = 1 };
/* The cluster member of a request: absent (this host's cluster), a name or
 * an ARN.  API_CLUSTER_OWN, API_CLUSTER_OTHER (ACTIVE, no container
 * instance), or -1 after failing c with ClusterNotFoundException. */
int api_cluster_check(struct api_call *c, const char *cluster);
/* This host's container-instance ARN (a static buffer). */
const char *api_instance_arn(const struct api_tasks_ctx *x);
/* Whether ref (an ID or ARN) names this host's container instance. */
bool api_is_instance(const struct api_tasks_ctx *x, const char *ref);
/* What the live tasks hold, summed into used (zeroed first); -1 on OOM. */
int api_tasks_used(const struct api_tasks_ctx *x, struct res *used);
/* The cluster member of a service action: absent, or this host's cluster
 * by name or ARN (services run only where this host is registered); else
 * the call is failed (ClusterNotFoundException, or InvalidParameterException
 * for a cluster with no container instance) and -1 returned. */
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
