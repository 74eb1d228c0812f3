/* registry_feed.c: services and tasks as registry entries. */
#include "config.h"

#include <cjson/cJSON.h>

#include "agent/registry_feed.h"
#include "agent/service.h"
#include "agent/task.h"
#include "agent/taskdef.h"

static const char *str_of(const cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return v ? v : "";
}

static uint16_t port_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 65535
               ? (uint16_t)v->valuedouble
               : 0;
}

struct reg_service *registry_feed_service(struct reg_snapshot *snap,
                                          const struct service *s)
{
    struct reg_service *v = reg_add_service(snap, s->name, s->arn,
                                            s->status == SVC_DRAINING);
    const cJSON *e, *lbs = cJSON_IsArray(s->load_balancers) ? s->load_balancers : NULL,
                    *regs = cJSON_IsArray(s->service_registries) ? s->service_registries
                                                                  : NULL;

    if (!v)
        return NULL;
    cJSON_ArrayForEach(e, lbs) {
        if (!reg_add_lb(v, str_of(e, "targetGroupArn"), str_of(e, "loadBalancerName"),
                        str_of(e, "containerName"), port_of(e, "containerPort")))
            return NULL;
    }
    cJSON_ArrayForEach(e, regs) {
        if (!reg_add_discovery(v, str_of(e, "registryArn"), str_of(e, "containerName"),
                               port_of(e, "containerPort"), port_of(e, "port")))
            return NULL;
    }
    return v;
}

static enum reg_net net_of(const struct task *t)
{
    switch (t->td ? t->td->network_mode : TASKDEF_NET_BRIDGE) {
    case TASKDEF_NET_HOST:
        return REG_NET_HOST;
    case TASKDEF_NET_AWSVPC:
        return REG_NET_AWSVPC;
    case TASKDEF_NET_NONE:
        return REG_NET_NONE;
    default:
        return REG_NET_BRIDGE;
    }
}

/* The definition's name for that port of container i, or "". */
static const char *port_name(const struct task *t, size_t i, uint16_t port, bool udp)
{
    if (!t->td || i >= t->td->n_containers)
        return "";
    const struct taskdef_container *c = &t->td->containers[i];
    for (size_t k = 0; k < c->n_port_mappings; k++) {
        const struct taskdef_port *p = &c->port_mappings[k];
        if (p->container_port == port && (p->protocol == TASKDEF_UDP) == udp)
            return p->name ? p->name : "";
    }
    return "";
}

int registry_feed_task(struct reg_service *svc, const struct task *t, bool healthy,
                       bool draining)
{
    const char *ip = "";
    struct reg_task *rt;

    for (size_t i = 0; i < t->n_containers && !*ip; i++)
        if (t->containers[i].ip_address)
            ip = t->containers[i].ip_address;
    rt = reg_add_task(svc, t->id, t->arn, ip, net_of(t), healthy, draining,
                      t->started_at_ms);
    if (!rt)
        return -1;
    for (size_t i = 0; i < t->n_containers; i++) {
        const struct task_container *c = &t->containers[i];
        for (size_t k = 0; k < c->n_bindings; k++) {
            const struct task_binding *b = &c->bindings[k];
            if (!reg_add_port(rt, c->name,
                              port_name(t, i, b->container_port, b->udp),
                              b->container_port, b->host_port, b->udp))
                return -1;
        }
    }
    return 0;
}
