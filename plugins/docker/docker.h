/* docker.h: the Docker runtime plugin's internals, shared by its files.
 *
 *   docker.c          descriptor, options, lifecycle, API negotiation, and
 *                     the bookkeeping of operations in flight (dop_*)
 *   docker_ops.c      create, start, stop, remove, inspect, list, stats
 *   docker_body.c     a struct engine_spec as a POST /containers/create body
 *   docker_events.c   watch: the event stream as berth_runtime_events
 *   docker_sandbox.c  sandboxes: the awsvpc pause container and its image
 *
 * Every operation is a struct dop linked into the plugin's list while it
 * runs, so stop() can cancel what is left.  Until the version negotiation
 * has answered, calls use API 1.40, which every Docker this plugin accepts
 * speaks; so operations never wait for it. */
#ifndef BERTH_DOCKER_H
#define BERTH_DOCKER_H

#include "engine.h"

#define DOCKER_API_MIN "1.40"
#define DOCKER_API_MAX "1.43"

struct docker_config {
    const char *socket;
    uint64_t request_timeout_ms;
    int pull;
    const char *api_version; /* pinned, or NULL: negotiate */
    const char *pause_image;
    const char *pause_binary;
};

struct dop;
typedef void (*dop_result_cb)(struct dop *op, const struct engine_result *r);

struct docker {
    berth_ctx *ctx;
    const struct berth_host *host;
    const struct docker_config *cfg;
    struct engine e;
    char prefix[16];      /* "/v1.41": e.prefix points here */
    char version[128];    /* "docker 20.10.24 (API 1.41)", "" until known */
    unsigned api_minor;   /* 41 for 1.41 */
    char refused[256];    /* why the engine's API is refused, or "" */
    berth_http *hello;    /* _ping / version in flight */
    berth_timer *hello_retry;
    unsigned hello_failures;
    struct dop *ops;      /* operations in flight */
    char gateway[64];     /* the default bridge's gateway, "" until known */
    berth_http *net_call; /* GET /networks/bridge before ENGINE_UP */
    char *up_msg;         /* that ENGINE_UP's detail, while it waits */

    /* watch */
    struct engine_stream *events;
    berth_rt_event_cb ev_cb;
    void *ev_arg;
    struct dev *ev_head, *ev_tail; /* events waiting for their inspect */
    berth_http *ev_inspect;
    bool stopped;
};

enum dop_kind { DOP_DONE, DOP_ID, DOP_INFO, DOP_LIST, DOP_STATS };

/* One operation: its callback, what it works on, and its one call in
 * flight (or its deferred answer). */
struct dop {
    struct docker *d;
    struct dop *prev, *next;
    enum dop_kind kind;
    union {
        berth_rt_done_cb done;
        berth_rt_id_cb id;
        berth_rt_info_cb info;
        berth_rt_list_cb list;
        berth_rt_stats_cb stats;
    } cb;
    void *arg;
    berth_http *h;
    dop_result_cb on_result; /* what dop_call's answer goes to */
    berth_timer *t;
    char target[256];     /* container id or name */
    uint32_t timeout_s;
    /* create: the body, kept to try again after a pull */
    cJSON *body;
    char *image;
    char *sandbox;        /* its sandbox id, for the created container */
    int step;
    /* list: the ids found, and the infos gathered so far */
    char **ids;
    size_t n_ids, next_id;
    struct engine_info *infos;
    char **sandboxes;     /* each info's sandbox id, owned here */
    size_t n_infos;
    /* a deferred answer */
    enum berth_rt_code code;
    char *msg;
    void (*then)(struct dop *op); /* what a deferred step runs instead */
};

/* docker.c */
struct dop *dop_new(struct docker *d, enum dop_kind kind, void *cb, void *arg);
/* Answers with an error (or an id/done OK) from the loop, later. */
void dop_answer_later(struct dop *op, enum berth_rt_code code, const char *fmt, ...)
    BERTH_PRINTF(3, 4);
/* Calls the operation's callback now (from a loop callback), then frees it. */
void dop_finish(struct dop *op, enum berth_rt_code code, const char *msg);
void dop_finish_id(struct dop *op, const char *id);
void dop_finish_info(struct dop *op, const struct berth_container_info *i);
void dop_free(struct dop *op);
/* A call for the operation, its handle kept for cancellation; false (and the
 * operation answered FAILED later) when it could not be started. */
bool dop_call(struct dop *op, const char *method, const char *path, cJSON *body,
              uint64_t timeout_ms, dop_result_cb cb);
/* A container id or name that is safe in a path: [A-Za-z0-9_.-], 1-255. */
bool docker_id_ok(const char *id);
/* Starts the _ping / version exchange unless it runs or is done. */
void docker_hello(struct docker *d);

/* The engine is (again) reachable: learn the bridge's gateway, then
 * report ENGINE_UP (with msg), so that the agent knows where containers
 * reach it before it creates any. */
void docker_learn_gateway(struct docker *d, const char *msg);
void docker_forget_gateway(struct docker *d);

/* docker_ops.c */
int docker_create(void *state, const char *spec_json, berth_rt_id_cb cb, void *arg);
int docker_start(void *state, const char *id, berth_rt_done_cb cb, void *arg);
int docker_stop(void *state, const char *id, uint32_t timeout_s, berth_rt_done_cb cb,
                void *arg);
int docker_remove(void *state, const char *id, berth_rt_done_cb cb, void *arg);
int docker_inspect(void *state, const char *id, berth_rt_info_cb cb, void *arg);
int docker_list(void *state, const char *label, berth_rt_list_cb cb, void *arg);
int docker_stats(void *state, const char *id, berth_rt_stats_cb cb, void *arg);
/* Fills what engine_info leaves to the engine: the sandbox from
 * NetworkMode "container:ID", copied into *keep (the caller frees it). */
void docker_info_fixup(const cJSON *inspect, struct engine_info *info, char **keep);

/* docker_body.c: NULL with err when the spec asks for what Docker cannot do. */
cJSON *docker_create_body(const struct engine_spec *s, char *err, size_t errlen);

/* docker_events.c */
int docker_watch(void *state, const char *label, berth_rt_event_cb cb, void *arg);
void docker_events_stop(struct docker *d);
void docker_emit_up(struct docker *d, const char *msg);

/* docker_sandbox.c */
int docker_sandbox_create(void *state, const char *spec_json, berth_rt_id_cb cb,
                          void *arg);
int docker_sandbox_remove(void *state, const char *id, uint32_t timeout_s,
                          berth_rt_done_cb cb, void *arg);

#endif
