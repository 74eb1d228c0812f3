/* registry.h: the live view the data planes read: per service, its running
 * tasks with their endpoints and health, as immutable, reference-counted
 * snapshots.
 *
 * Writers and readers
 *   - The control loop (the service scheduler, after each step) builds a
 *     complete new snapshot and publishes it; a snapshot whose content
 *     equals the current one is dropped, so readers only wake for changes.
 *   - Readers on any thread take the current snapshot with
 *     registry_acquire() and give it back with reg_snapshot_release().  The
 *     acquire takes a mutex for a pointer copy and an increment; a data
 *     plane worker acquires when woken (registry_subscribe's callback runs
 *     on the control loop, so it should only ev_async_send), keeps its
 *     snapshot, and reads it on its request path without any lock.
 *   - A published snapshot never changes; it is freed by the last release.
 *
 * What is in it
 *   - Every ACTIVE or DRAINING service of this agent's cluster, sorted by
 *     name, with its loadBalancers and serviceRegistries as given to
 *     CreateService/UpdateService (the data planes interpret them).
 *   - Per service, each task that is RUNNING (last status) and not yet
 *     stopping, in start order.  `healthy` is the scheduler's verdict (a
 *     RUNNING task is healthy when its health is HEALTHY or it has no
 *     check); `draining` is set from the moment the scheduler decided to
 *     stop the task (data planes take it out at once and let in-flight
 *     work finish); a task leaves the snapshot once it is stopping.
 *   - Per task, its port bindings: container, port name (portMappings
 *     name, "" when none), container port, host port (0 in awsvpc mode,
 *     where the task's own address is used) and protocol; its network mode
 *     and its own IPv4 address when the engine reported one ("" if not).
 *
 * Thread-safety: registry_publish/subscribe on the control loop only;
 * registry_acquire and reg_snapshot_release from any thread. */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum reg_net { REG_NET_BRIDGE, REG_NET_HOST, REG_NET_AWSVPC, REG_NET_NONE };

struct reg_port {
    char *container;      /* the container's name */
    char *name;           /* portMappings[].name; "" when none */
    uint16_t container_port;
    uint16_t host_port;   /* 0 when not published (awsvpc, none) */
    bool udp;
};

struct reg_task {
    char *id;             /* the task ID: 32 hex digits */
    char *arn;
    char *ip;             /* the task's own IPv4 address, or "" */
    enum reg_net net;
    bool healthy;
    bool draining;
    int64_t started_at_ms;
    struct reg_port *ports;
    size_t n_ports;
};

/* loadBalancers[] entry. */
struct reg_lb {
    char *target_group;   /* targetGroupArn as given ("" when absent) */
    char *lb_name;        /* loadBalancerName ("" when absent) */
    char *container;      /* containerName */
    uint16_t container_port;
};

/* serviceRegistries[] entry. */
struct reg_discovery {
    char *registry_arn;   /* registryArn as given */
    char *container;      /* containerName, "" when absent */
    uint16_t container_port; /* 0 when absent */
    uint16_t port;        /* port (awsvpc SRV), 0 when absent */
};

struct reg_service {
    char *name;
    char *arn;
    bool draining;        /* DeleteService was called */
    struct reg_lb *lbs;
    size_t n_lbs;
    struct reg_discovery *regs;
    size_t n_regs;
    struct reg_task *tasks;
    size_t n_tasks;
};

struct reg_snapshot {
    uint64_t generation;  /* grows with each publish; 0 is the empty start */
    char *cluster;        /* the cluster's name */
    struct reg_service *services;
    size_t n_services;
};

struct registry;

typedef void (*registry_cb)(void *arg);

/* Starts with an empty snapshot (generation 0).  NULL on OOM. */
struct registry *registry_new(const char *cluster);
/* Every subscriber must be gone and every snapshot released by then,
 * except the current one, which this releases. */
void registry_free(struct registry *r);

/* Takes s (built with the functions below).  When its content equals the
 * current snapshot's, s is freed and nothing happens (returns 0);
 * otherwise it becomes current with the next generation, subscribers are
 * called, and 1 is returned. */
int registry_publish(struct registry *r, struct reg_snapshot *s);

/* The current snapshot with a reference; never NULL. */
struct reg_snapshot *registry_acquire(struct registry *r);
void reg_snapshot_release(struct reg_snapshot *s);

/* cb(arg) after each publish that changed something (control loop).
 * -1 on OOM. */
int registry_subscribe(struct registry *r, registry_cb cb, void *arg);
void registry_unsubscribe(struct registry *r, registry_cb cb, void *arg);

/* Building a snapshot: each adder copies its strings and returns the new
 * element, or NULL on OOM (the snapshot stays valid for reg_snapshot_free).
 * Strings given as NULL are stored as "". */
struct reg_snapshot *reg_snapshot_new(const char *cluster);
struct reg_service *reg_add_service(struct reg_snapshot *s, const char *name,
                                    const char *arn, bool draining);
struct reg_lb *reg_add_lb(struct reg_service *svc, const char *target_group,
                          const char *lb_name, const char *container,
                          uint16_t container_port);
struct reg_discovery *reg_add_discovery(struct reg_service *svc, const char *registry_arn,
                                        const char *container, uint16_t container_port,
                                        uint16_t port);
struct reg_task *reg_add_task(struct reg_service *svc, const char *id, const char *arn,
                              const char *ip, enum reg_net net, bool healthy,
                              bool draining, int64_t started_at_ms);
struct reg_port *reg_add_port(struct reg_task *t, const char *container, const char *name,
                              uint16_t container_port, uint16_t host_port, bool udp);
/* Sorts the services by name (publish does it too). */
void reg_snapshot_sort(struct reg_snapshot *s);
/* Frees a snapshot that was never published. */
void reg_snapshot_free(struct reg_snapshot *s);

/* Lookups for readers. */
const struct reg_service *reg_find_service(const struct reg_snapshot *s, const char *name);
/* The first binding of t for that container and container port, or NULL. */
const struct reg_port *reg_task_port(const struct reg_task *t, const char *container,
                                     uint16_t container_port);

#endif
