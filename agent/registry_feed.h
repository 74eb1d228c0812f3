/* registry_feed.h: turns the agent's services and tasks into registry
 * entries (registry.h).  The scheduler decides which tasks go in and
 * whether each is healthy or draining; this only translates.
 * Control loop only. */
#ifndef BERTH_REGISTRY_FEED_H
#define BERTH_REGISTRY_FEED_H

#include <stdbool.h>

#include "agent/registry.h"

struct service;
struct task;

/* s with its loadBalancers and serviceRegistries; NULL on OOM. */
struct reg_service *registry_feed_service(struct reg_snapshot *snap,
                                          const struct service *s);
/* t with its network mode, address and every port binding (named after
 * its definition's portMappings); -1 on OOM. */
int registry_feed_task(struct reg_service *svc, const struct task *t, bool healthy,
                       bool draining);

#endif
