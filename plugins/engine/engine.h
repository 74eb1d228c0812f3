/* engine.h: what the Docker and Podman runtime plugins share.
 *
 * Internal to the bundled plugins (a libtool convenience library linked
 * into docker.la and podman.la), not part of the public ABI: plugins see
 * only berth/plugin.h.  It holds what would otherwise be written twice:
 *
 *   - engine_spec: the container and sandbox spec JSON of berth/plugin.h,
 *     parsed and checked once into C structs that each plugin turns into
 *     its engine's request body;
 *   - engine_call: one JSON request to the engine's API over its unix
 *     socket through the host's async HTTP client, with the answer parsed
 *     and the status mapped to an enum berth_rt_code and a message taken
 *     from the engine's error body ({"message": ...} on both engines);
 *   - engine_stream: a long-lived streaming request (the event stream)
 *     split into one JSON document per callback, reconnecting with backoff
 *     and reporting down/up transitions;
 *   - engine_info: a struct berth_container_info (and stats) built from a
 *     container's inspect JSON, whose shape Docker and libpod share
 *     (State, Config.Labels, NetworkSettings.Ports, State.Health).
 *
 * Everything runs on the host loop; nothing blocks. */
#ifndef BERTH_ENGINE_H
#define BERTH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "berth/plugin.h"

/* ------------------------------------------------------------------ */
/* Specs                                                              */

struct engine_kv {
    char *key, *value;
};

struct engine_port {
    uint16_t container_port, host_port;
    char *protocol; /* "tcp" or "udp" */
    char *host_ip;  /* "" when every address */
};

struct engine_mount {
    bool volume; /* false: bind */
    char *source, *target;
    bool read_only;
    bool must_exist; /* volumes: never created here (ECS autoprovision false) */
    char *driver; /* volumes: NULL for the engine's default */
    struct engine_kv *driver_opts, *labels;
    size_t n_driver_opts, n_labels;
};

struct engine_ulimit {
    char *name;
    int64_t soft, hard;
};

struct engine_health {
    bool set;    /* false: the image's own HEALTHCHECK */
    char **test; /* NULL-terminated; {"NONE"} disables */
    int64_t interval_ms, timeout_ms, start_period_ms, retries;
};

/* A container spec or a sandbox spec (which uses a subset). */
struct engine_spec {
    char *name, *image, *network, *sandbox;
    char **entry_point, **command, **env; /* NULL-terminated, or NULL */
    char *working_dir, *user, *hostname;
    struct engine_kv *labels;
    size_t n_labels;
    int64_t cpu_shares, memory_bytes, memory_reservation_bytes, shm_size_bytes;
    struct engine_port *ports;
    size_t n_ports;
    struct engine_mount *mounts;
    size_t n_mounts;
    struct engine_kv *volumes_from; /* key: container id, value: "ro"/"rw" */
    size_t n_volumes_from;
    struct engine_ulimit *ulimits;
    size_t n_ulimits;
    struct engine_health health;
    bool init;
    int64_t stop_timeout; /* seconds; -1: not set */
    char *log_driver;
    struct engine_kv *log_options;
    size_t n_log_options;
    char **extra_hosts, **dns, **dns_search, **cap_add, **cap_drop,
        **security_opt;
    struct engine_kv *sysctls;
    size_t n_sysctls;
    bool privileged, readonly_rootfs, tty, open_stdin;
};

/* Parses a container spec (sandbox false) or a sandbox spec.  -1 with a
 * message naming the member ("spec.ports[1].hostPort: expected an integer
 * 0-65535") when it is not valid JSON, a required member is missing, a
 * member has the wrong type, or the member is unknown. */
int engine_spec_parse(const char *json, bool sandbox, struct engine_spec *out,
                      char *err, size_t errlen);
void engine_spec_free(struct engine_spec *s);

/* ------------------------------------------------------------------ */
/* Requests                                                           */

struct engine {
    berth_ctx *ctx;
    const struct berth_host *host;
    char *socket;    /* the engine's unix socket */
    char *prefix;    /* path prefix of every call: "/v1.41" or "/v4.0.0/libpod" */
    uint64_t timeout_ms; /* per request, except streams and waits */
    const char *name;    /* "docker" or "podman", for messages */
};

struct engine_result {
    long status;           /* HTTP status; 0 when none came */
    enum berth_rt_code code;
    const char *msg;       /* "" on success, else what went wrong */
    cJSON *json;           /* the parsed body, or NULL (empty or not JSON) */
    const char *body;      /* the raw body */
    size_t body_len;
};

typedef void (*engine_cb)(void *arg, const struct engine_result *r);

/* Sends method path (appended to e->prefix, unless path starts with
 * "//", which means no prefix: "//_ping") with body (NULL: none; taken
 * and deleted).  timeout_ms 0 uses e->timeout_ms.  cb runs once, from the
 * loop, unless the request is cancelled through the returned handle.
 * Status mapping: 2xx and 304 OK; 404 NOT_FOUND; 409 CONFLICT; 400 and
 * 422 INVALID; no answer UNAVAILABLE; else FAILED.  msg comes from the
 * body's "message" (and "cause") when the engine sent one.  NULL (and no
 * callback) when the request could not be started. */
berth_http *engine_call(struct engine *e, const char *method, const char *path,
                        cJSON *body, uint64_t timeout_ms, engine_cb cb,
                        void *arg);

/* Cancels a call engine_call started and whose callback has not run yet:
 * the callback will not run.  Use it rather than host->http_cancel, which
 * would leave the call's own context allocated. */
void engine_cancel(struct engine *e, berth_http *h);

/* Adds to buf (a query string being built) "&name=" + value URL-encoded. */
void engine_query_add(char *buf, size_t size, const char *name,
                      const char *value);
/* {"label":["LABEL"]} plus, when events is not NULL, "event":[...] as a
 * URL-encoded filters value. */
char *engine_filters(const char *label, const char *const *events);

/* ------------------------------------------------------------------ */
/* Streams                                                            */

/* A GET that stays open and yields one JSON document per line.  On a
 * break it reconnects after a backoff (250 ms doubling to 5 s, reset once
 * a stream has stayed up).  on_up is called each time the stream is
 * established (the response headers came with 200), on_down each time it
 * broke after being up, or failed to connect for the first time. */
struct engine_stream;
typedef void (*engine_stream_doc_cb)(void *arg, cJSON *doc);
typedef void (*engine_stream_state_cb)(void *arg, bool up, const char *msg);

struct engine_stream *engine_stream_start(struct engine *e, const char *path,
                                          engine_stream_doc_cb on_doc,
                                          engine_stream_state_cb on_state,
                                          void *arg);
void engine_stream_stop(struct engine_stream *s);

/* ------------------------------------------------------------------ */
/* Inspect results                                                    */

/* A container_info and the storage behind its strings. */
struct engine_info {
    struct berth_container_info info;
    struct berth_label *labels;
    struct berth_port_binding *ports;
    char *strings; /* every string the two arrays and info point into */
};

/* From a container's inspect JSON (Docker's GET /containers/ID/json or
 * libpod's): -1 when the document lacks Id or State. */
int engine_info_from_inspect(const cJSON *j, struct engine_info *out);
/* From an entry of a container list (GET /containers/json?all=1), which
 * has less: state and labels, no health or exit time. */
int engine_info_from_list(const cJSON *j, struct engine_info *out);
void engine_info_free(struct engine_info *i);

/* The names of the task-scoped volumes a container mounts, from its
 * inspect JSON (Docker's or libpod's, both list Mounts[] with Type and
 * Name): the named volumes called berth-TASKID-*, where TASKID ends the
 * container's com.amazonaws.ecs.task-arn label, which is how the agent
 * names a task's own volumes.  A NULL-terminated array the caller frees
 * (each string, then the array) with *n set; NULL when there is none or
 * memory ran out. */
char **engine_task_volumes(const cJSON *inspect, size_t *n);

/* From Docker's stats format (GET /containers/ID/stats?stream=false, also
 * podman's compat API): -1 when it has no cpu_stats. */
int engine_stats_from_docker(const cJSON *j, struct berth_container_stats *out);

/* "2024-05-01T10:00:00.123456789Z" (also with an offset) to Unix ms; 0 for
 * Docker's "0001-01-01T00:00:00Z" and for text that is not a time. */
int64_t engine_time_ms(const char *rfc3339);

/* ------------------------------------------------------------------ */
/* Host addresses (berth_runtime_ops.host_address)                    */

/* What a container in mode reaches of this host, given the gateway of the
 * engine's default bridge on the host ("" or NULL when not known):
 * bridge and awsvpc (whose sandbox sits on that bridge) the gateway, host
 * 127.0.0.1, anything else NULL. */
const char *engine_host_address(const char *gateway, const char *mode);
/* Copies gw into out (size) when it is an IPv4 or IPv6 literal; else
 * clears out.  Returns whether it took it. */
bool engine_gateway_set(char *out, size_t size, const char *gw);

#endif
