/* store_clusters.h: clusters, this host's identity as a container instance,
 * and tags kept by ARN (clusters, the container instance), in the store.
 *
 * Contract (as store.h: loop only, each write one committed transaction,
 * errors as enum store_rc plus one line in err):
 *   - A cluster is its name (1-255 of [A-Za-z0-9_-]), ARN
 *     arn:aws:ecs:REGION:ACCOUNT:cluster/NAME, status ACTIVE or INACTIVE,
 *     creation time, and a JSON object of the members ECS echoes as given
 *     (settings, configuration, serviceConnectDefaults...), kept as text.
 *   - Creating an ACTIVE cluster changes nothing and returns it (ECS's
 *     CreateCluster is idempotent); creating an INACTIVE one makes it
 *     ACTIVE again with the new members and tags (the old tags go).
 *   - Deleting makes a cluster INACTIVE; it stays describable.  Whether a
 *     cluster may be deleted (instances, services, tasks) is the caller's
 *     decision.
 *   - References: a name or an ARN of this region and account; another
 *     region's or account's ARN is STORE_NOT_FOUND, a malformed one
 *     STORE_INVALID.
 *   - The container-instance ID (32 lowercase hex digits) and registration
 *     time are made once, by the schema 3 migration, and never change.
 *   - Tags by ARN: the caller checks that the resource exists; the rules
 *     (keys, values, 50 at most, aws: reserved) are store_tags_set()'s. */
#ifndef BERTH_STORE_CLUSTERS_H
#define BERTH_STORE_CLUSTERS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/store.h"

#define STORE_CLUSTER_NAME_MAX 255

struct store_cluster {
    char *name, *arn;
    enum store_status status; /* STORE_ACTIVE or STORE_INACTIVE */
    int64_t created_at_ms;
    char *json; /* a JSON object, "{}" when nothing was given */
};

/* json: an object's text (NULL: "{}").  *created (may be NULL) is 1 when
 * the cluster was made or revived, 0 when it was already ACTIVE. */
enum store_rc store_cluster_create(struct store *st, const char *name,
                                   const char *json, const struct store_tag *tags,
                                   size_t n_tags, struct store_cluster *out,
                                   int *created, char *err, size_t errlen);
enum store_rc store_cluster_get(struct store *st, const char *ref,
                                struct store_cluster *out, char *err, size_t errlen);
/* ACTIVE -> INACTIVE (INACTIVE stays so); out receives the record after. */
enum store_rc store_cluster_delete(struct store *st, const char *ref,
                                   struct store_cluster *out, char *err,
                                   size_t errlen);
/* ListClusters: ARNs of ACTIVE clusters by name; max_results 1-100 (0:
 * 100); next_token opaque. */
enum store_rc store_cluster_list(struct store *st, int max_results,
                                 const char *next_token, struct store_list *out,
                                 char *err, size_t errlen);
void store_cluster_free(struct store_cluster *c);

/* This host as a container instance: ID and registration time made by the
 * migration; cluster and arn set by store_instance_register (NULL before):
 * arn:aws:ecs:REGION:ACCOUNT:container-instance/CLUSTER/ID. */
struct store_instance {
    char *id, *cluster, *arn;
    int64_t registered_at_ms;
};
/* At start: makes sure cluster exists and is ACTIVE (creating or reviving
 * it) and records it as the cluster this host is registered in. */
enum store_rc store_instance_register(struct store *st, const char *cluster, char *err,
                                      size_t errlen);
enum store_rc store_instance_get(struct store *st, struct store_instance *out, char *err,
                                 size_t errlen);
void store_instance_free(struct store_instance *in);

/* Tags of the resource arn names, in the order they were first set. */
enum store_rc store_rtags_get(struct store *st, const char *arn,
                              struct store_tags *out, char *err, size_t errlen);
enum store_rc store_rtags_set(struct store *st, const char *arn,
                              const struct store_tag *tags, size_t n, char *err,
                              size_t errlen);
enum store_rc store_rtags_remove(struct store *st, const char *arn,
                                 const char *const *keys, size_t n, char *err,
                                 size_t errlen);

#endif
