/* tasks.h: the task manager: runs tasks on the runtime, keeps them in the
 * store, and brings them back after a restart.
 *
 * It is level-triggered: each task has a desired status and what is known
 * of its containers, and task_step() starts the one operation that moves
 * it on (pick ports, create the sandbox, create a container, start the
 * next container whose dependsOn conditions hold, stop the next container
 * in reverse dependency order, remove).  Operation answers, engine events
 * and timers update what is known and step again.  So a task read back
 * from the store after kill -9 simply continues from where it was, and an
 * engine restart is a re-listing followed by the same steps.
 *
 * Contract
 *   - One operation in flight per task; tasks progress independently.
 *   - Every change a client could see is saved (store_task_put, committed)
 *     before the manager goes on; RunTask's tasks are saved before
 *     tasks_run() returns, so an acknowledged RunTask survives a crash.
 *   - Nothing is done on the engine until the runtime's first ENGINE_UP has
 *     been answered by a full list: then every container carrying this
 *     cluster's label is matched to its task by ARN and name.  Running
 *     ones are adopted (never started twice), ones that exited are handled
 *     as exits, vanished ones stop their task with a reason, and
 *     containers of no live task are removed.
 *   - The agent stopping leaves tasks running: the next agent adopts them.
 *   - A stopped task's containers (and sandbox) stay on the engine for
 *     the cleanup delay (cleanup_ms, 0: none), then are removed; at once
 *     when a new task is given one of their host ports (it waits for
 *     that), and at start-up when the delay passed while the agent was
 *     down (task_cleanup.h decides).
 *   - Stopped tasks stay visible (describe, list) for the retention time
 *     and as long as their containers are there, then are forgotten, in
 *     memory and in the store.
 * Control loop only. */
#ifndef BERTH_TASKS_H
#define BERTH_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <cjson/cJSON.h>

#include "berth/plugin.h"

struct store;
struct runtime;
struct task;

struct tasks_conf {
    const char *cluster, *region, *account_id;
    const char *secrets_dir;      /* NULL: tasks with secrets fail */
    bool image_healthcheck;       /* use an image's HEALTHCHECK */
    uint16_t port_first, port_last; /* the dynamic host port pool */
    const uint16_t *reserved_ports;
    size_t n_reserved_ports;
    uint64_t start_timeout_ms;    /* dependsOn waits without startTimeout */
    uint64_t retention_ms;        /* how long stopped tasks stay visible */
    uint64_t cleanup_ms;          /* how long their containers stay */
    uint16_t metadata_port;       /* the task metadata endpoint's; 0: off */
};

struct tasks;

/* Called after each saved change of a task (for the services and the
 * registry to come). */
typedef void (*tasks_change_cb)(void *arg, const struct task *t);

/* Loads the live and recently stopped tasks from st and creates the
 * runtime glue (tasks_runtime()); NULL with err when the store fails.  The
 * conf's strings are copied. */
struct tasks *tasks_new(struct ev_loop *loop, struct store *st,
                        const struct tasks_conf *c, char *err, size_t errlen);
/* Leaves every container as it is. */
void tasks_free(struct tasks *m);
/* The runtime the manager drives: the agent attaches the plugin to it. */
struct runtime *tasks_runtime(struct tasks *m);
/* A runtime plugin was just attached: until it reports ENGINE_UP or
 * ENGINE_DOWN the engine is neither known up nor down, and a new task waits
 * in PROVISIONING rather than failing at once (a RunTask right after the
 * agent starts). */
void tasks_engine_pending(struct tasks *m);
void tasks_on_change(struct tasks *m, tasks_change_cb cb, void *arg);
/* A resolver address (the DNS responder's, dns/dns_agent.h) for the
 * containers that set no dnsServers, in the tasks started from now on
 * whose network mode reaches this host at that address (the runtime's
 * host_address); NULL: none. */
void tasks_set_resolver(struct tasks *m, const char *addr);

/* RunTask: count (1-10) new tasks of the definition registered as
 * taskdef_arn with that text.  started_by and group may be NULL (group
 * defaults to "family:FAMILY").  The tasks are saved before this returns;
 * out[0..count) receives them (owned by the manager).  -1 with err when
 * the definition does not parse or the store fails: nothing is started.
 * client_token and client_request (may be NULL) are kept on each task, and
 * so is overrides (Task.overrides; NULL: none), whose merge taskdef_json
 * already holds. */
int tasks_run(struct tasks *m, const char *taskdef_arn, int64_t revision,
              const char *taskdef_json, const char *started_by,
              const char *group, const cJSON *tags, int count,
              const char *client_token, const char *client_request,
              const cJSON *overrides, struct task **out, char *err, size_t errlen);
/* StopTask: desired STOPPED with a reason (NULL: "Task stopped by user")
 * and stop code (NULL: UserInitiated).  Stopping a stopping or stopped task
 * changes nothing.  NULL when no task has that ID or ARN. */
struct task *tasks_stop(struct tasks *m, const char *ref, const char *stop_code,
                        const char *reason);
/* The same, but a running task first stays DEACTIVATING for hold_ms (the
 * drainers' wait: out of the load balancers and DNS, its containers still
 * running) and only then stops.  The wait is stored, so an agent restarted
 * meanwhile keeps it. */
struct task *tasks_stop_after(struct tasks *m, const char *ref, const char *stop_code,
                              const char *reason, uint64_t hold_ms);
/* Saves t after the caller changed what the API shows of it (its tags):
 * 0, or -1 with err when the store failed. */
int tasks_save(struct tasks *m, struct task *t, char *err, size_t errlen);
/* By ID or ARN; NULL when unknown (or forgotten). */
struct task *tasks_find(struct tasks *m, const char *ref);
/* Every known task, in creation order. */
size_t tasks_all(struct tasks *m, struct task ***out);

/* The agent is stopping: from now on nothing is started, stopped or
 * failed, whatever the runtime reports; the next agent takes over. */
void tasks_quiesce(struct tasks *m);

/* Counts for status and metrics. */
size_t tasks_count(const struct tasks *m, int last_status /* -1: all */);
bool tasks_engine_ready(const struct tasks *m);

#endif
