/* podman.h: the Podman runtime plugin's internals, shared by its files.
 *
 *   podman.c         descriptor, options, lifecycle, the _ping / version
 *                    exchange, and the operations in flight (pop_*)
 *   podman_ops.c     create (a libpod SpecGenerator), start, stop, remove,
 *                    inspect, list, stats
 *   podman_body.c    engine_specs as libpod request bodies
 *   podman_pod.c     sandboxes: one pod per task
 *   podman_health.c  health checks run by the plugin (podman schedules
 *                    them with systemd timers, absent here)
 *   podman_events.c  watch: libpod's event stream as berth_runtime_events
 *
 * Every operation is a struct pop linked into the plugin's list while it
 * runs, so stop() can cancel what is left.  Calls go to the libpod API
 * (/v4.0.0/libpod/...) from the start; the version exchange only fills
 * engine_version() and refuses a podman older than 4. */
#ifndef BERTH_PODMAN_H
#define BERTH_PODMAN_H

#include "engine.h"

#define PODMAN_PREFIX "/v4.0.0/libpod"

struct podman_config {
    const char *socket;
    uint64_t request_timeout_ms;
    int pull;
    uint64_t pull_timeout_ms;
};

struct pop;
struct phc;
typedef void (*pop_result_cb)(struct pop *op, const struct engine_result *r);

struct podman {
    berth_ctx *ctx;
    const struct berth_host *host;
    const struct podman_config *cfg;
    struct engine e;
    char version[128];       /* "podman 4.3.1 (libpod API 4.3.1)", "" until known */
    char refused[256];       /* why this podman is refused, or "" */
    berth_http *hello;
    berth_timer *hello_retry;
    unsigned hello_failures;
    struct pop *ops;         /* operations in flight */
    char gateway[64];        /* network "podman"'s gateway, "" until known */
    berth_http *net_call;    /* GET /networks/podman/json before ENGINE_UP */
    char *up_msg;            /* that ENGINE_UP's detail, while it waits */
    struct phc *checks;      /* containers whose health the plugin checks */
    bool stopped;

    /* watch */
    char *watch_label;
    struct engine_stream *events;
    berth_rt_event_cb ev_cb;
    void *ev_arg;
    struct pev *ev_head, *ev_tail; /* events waiting for their inspect */
    berth_http *ev_call;
    struct pop *rescan;      /* the list run after each (re)connection */
};

enum pop_kind { POP_DONE, POP_ID, POP_INFO, POP_LIST, POP_STATS, POP_INTERNAL };

/* One operation: its callback, its target, its one call in flight or its
 * deferred answer. */
struct pop {
    struct podman *p;
    struct pop *prev, *next;
    enum pop_kind kind;
    union {
        berth_rt_done_cb done;
        berth_rt_id_cb id;
        berth_rt_info_cb info;
        berth_rt_list_cb list;
        berth_rt_stats_cb stats;
        void (*internal)(struct pop *op, enum berth_rt_code code);
    } cb;
    void *arg;
    berth_http *h;
    pop_result_cb on_result;
    berth_timer *t;
    char target[256];        /* container or pod id or name */
    uint32_t timeout_s;
    int step;
    cJSON *body;             /* create: kept to retry after a pull */
    char *image;
    /* list and sandbox_remove: ids to walk, infos gathered */
    char **ids;
    size_t n_ids, next_id;
    struct engine_info *infos;
    size_t n_infos;
    /* deferred answer */
    enum berth_rt_code code;
    char *msg;
};

/* podman.c */
struct pop *pop_new(struct podman *p, enum pop_kind kind, void *cb, void *arg);
/* Answers from the loop, later (never from inside the op call). */
void pop_answer_later(struct pop *op, enum berth_rt_code code, const char *fmt, ...)
    BERTH_PRINTF(3, 4);
/* Calls the operation's callback now (from a loop callback), then frees it. */
void pop_finish(struct pop *op, enum berth_rt_code code, const char *msg);
void pop_finish_id(struct pop *op, const char *id);
void pop_free(struct pop *op);
/* One call for the operation (handle kept for cancellation); false, with
 * the operation answered FAILED later, when it could not be started. */
bool pop_call(struct pop *op, const char *method, const char *path, cJSON *body,
              uint64_t timeout_ms, pop_result_cb cb);
/* An id or name safe in a path: [A-Za-z0-9_.-], 1-255 bytes. */
bool podman_id_ok(const char *id);
/* Wall clock in Unix ms (health check start periods are wall-clock). */
int64_t podman_wall_ms(void);

/* podman_ops.c */
int podman_create(void *state, const char *spec_json, berth_rt_id_cb cb, void *arg);
int podman_start(void *state, const char *id, berth_rt_done_cb cb, void *arg);
int podman_stop(void *state, const char *id, uint32_t timeout_s, berth_rt_done_cb cb,
                void *arg);
int podman_remove(void *state, const char *id, berth_rt_done_cb cb, void *arg);
int podman_inspect(void *state, const char *id, berth_rt_info_cb cb, void *arg);
int podman_list(void *state, const char *label, berth_rt_list_cb cb, void *arg);
int podman_stats(void *state, const char *id, berth_rt_stats_cb cb, void *arg);
/* Builds an info from inspect JSON with the plugin's health verdict, and
 * makes sure a running container with a check has its checker. */
int podman_info(struct podman *p, const cJSON *inspect, struct engine_info *out);
/* The list behind list() and the watch's rescan: inspect of every
 * non-infra container labelled label.  cb gets the infos. */
struct pop *podman_list_op(struct podman *p, const char *label, enum pop_kind kind,
                           void *cb, void *arg);
/* The podman message for a create/start failure, mapped: a missing image
 * (NOT_FOUND, "image X not found on podman"), a taken port (CONFLICT). */
enum berth_rt_code podman_map_error(const struct engine_result *r, const char *image,
                                    char *msg, size_t size);

/* podman_body.c: NULL with err when the spec asks for what podman cannot
 * do.  A container in a pod leaves the network settings to the pod. */
cJSON *podman_container_body(const struct engine_spec *s, char *err, size_t errlen);
cJSON *podman_pod_body(const struct engine_spec *s, char *err, size_t errlen);
/* A named volume to create before the container, for a driver, options
 * or labels (NULL when the mount needs none). */
cJSON *podman_volume_body(const struct engine_mount *m);

/* podman_pod.c */
int podman_sandbox_create(void *state, const char *spec_json, berth_rt_id_cb cb,
                          void *arg);
int podman_sandbox_remove(void *state, const char *id, uint32_t timeout_s,
                          berth_rt_done_cb cb, void *arg);

/* podman_health.c */
/* From a running container's inspect: starts checking it when its config
 * has a health check (not NONE) and it is not checked yet. */
void phc_ensure(struct podman *p, const cJSON *inspect);
/* Stops checking a container (it died or is gone). */
void phc_forget(struct podman *p, const char *id);
/* The plugin's verdict for a container it checks, else -1; *exit_code
 * and *output (may be NULL) of its last check. */
int phc_verdict(struct podman *p, const char *id, int *exit_code, const char **output);
void phc_stop_all(struct podman *p);

/* podman_events.c */
int podman_watch(void *state, const char *label, berth_rt_event_cb cb, void *arg);
/* A health verdict that changed: sent to the watcher with info. */
void podman_emit_health(struct podman *p, const struct berth_container_info *info,
                        const char *detail);
void podman_events_stop(struct podman *p);
/* Reports ENGINE_UP and rescans (after the gateway is learnt). */
void podman_emit_up(struct podman *p, const char *msg);

/* podman.c: the engine is (again) reachable: learn the default network's
 * gateway, then podman_emit_up(msg), so that the agent knows where
 * containers reach it before it creates any. */
void podman_learn_gateway(struct podman *p, const char *msg);
void podman_forget_gateway(struct podman *p);

#endif
