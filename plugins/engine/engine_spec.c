/* engine_spec.c: the container and sandbox spec JSON of berth/plugin.h,
 * checked member by member into struct engine_spec.
 *
 * Every member goes through one table row naming its JSON key, the kind of
 * value it takes and where it lands, so that an error always names the
 * member's path ("spec.ports[1].hostPort: ...").  Unknown members and
 * members given twice are refused: a typo must not silently drop a
 * setting.  Messages never quote values, since env may hold secrets. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct perr {
    char *buf;
    size_t len;
};

BERTH_PRINTF(3, 4)
static int fail(struct perr *pe, const char *path, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(pe->buf, pe->len, "%s: ", path);
    if (n >= 0 && (size_t)n < pe->len) {
        va_start(ap, fmt);
        vsnprintf(pe->buf + n, pe->len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* path + ".key" or path + "[i]", into a caller's buffer. */
static const char *sub_key(char *buf, size_t size, const char *path,
                           const char *key)
{
    int n = snprintf(buf, size, "%s.%s", path, key);
    if (n < 0 || (size_t)n >= size) /* a cut path still locates it */
        buf[size - 1] = '\0';
    return buf;
}

static const char *sub_idx(char *buf, size_t size, const char *path, int i)
{
    int n = snprintf(buf, size, "%s[%d]", path, i);
    if (n < 0 || (size_t)n >= size)
        buf[size - 1] = '\0';
    return buf;
}

#define PATH_MAX_LEN 256

/* ------------------------------------------------------------------ */
/* Scalars                                                            */

static int get_string(const cJSON *v, const char *path, bool nonempty,
                      char **out, struct perr *pe)
{
    if (!cJSON_IsString(v))
        return fail(pe, path, "expected a string");
    if (nonempty && !v->valuestring[0])
        return fail(pe, path, "must not be empty");
    if (!(*out = strdup(v->valuestring)))
        return fail(pe, path, "out of memory");
    return 0;
}

static int get_int(const cJSON *v, const char *path, int64_t min, int64_t max,
                   int64_t *out, struct perr *pe)
{
    double d;
    /* Beyond 2^53 a double no longer holds every integer. */
    double top = max > (INT64_C(1) << 53) ? (double)(INT64_C(1) << 53)
                                          : (double)max;
    if (!cJSON_IsNumber(v) || (d = v->valuedouble, d != floor(d)) ||
        d < (double)min || d > top) {
        if (max == INT64_MAX)
            return fail(pe, path, "expected an integer >= %lld",
                        (long long)min);
        return fail(pe, path, "expected an integer %lld-%lld", (long long)min,
                    (long long)max);
    }
    *out = (int64_t)d;
    return 0;
}

static int get_bool(const cJSON *v, const char *path, bool *out,
                    struct perr *pe)
{
    if (!cJSON_IsBool(v))
        return fail(pe, path, "expected true or false");
    *out = cJSON_IsTrue(v);
    return 0;
}

/* A string that must be one of a NULL-terminated list. */
static int get_enum(const cJSON *v, const char *path,
                    const char *const *allowed, char **out, struct perr *pe)
{
    char list[128] = "";
    if (cJSON_IsString(v))
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(v->valuestring, *a) == 0)
                return get_string(v, path, true, out, pe);
    for (const char *const *a = allowed; *a; a++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
                 a == allowed ? "" : a[1] ? ", " : " or ", *a);
    return fail(pe, path, "expected %s", list);
}

/* ------------------------------------------------------------------ */
/* Containers                                                         */

static void strv_free(char **v)
{
    if (v)
        for (char **p = v; *p; p++)
            free(*p);
    free(v);
}

/* [string] into a NULL-terminated array.  With env set, each must read
 * NAME=value (the value is never quoted back). */
static int get_strv(const cJSON *v, const char *path, bool env, char ***out,
                    struct perr *pe)
{
    char p[PATH_MAX_LEN];
    int n, i = 0;
    const cJSON *e;
    if (!cJSON_IsArray(v))
        return fail(pe, path, "expected an array of strings");
    n = cJSON_GetArraySize(v);
    if (!(*out = calloc((size_t)n + 1, sizeof(char *))))
        return fail(pe, path, "out of memory");
    cJSON_ArrayForEach(e, v) {
        sub_idx(p, sizeof(p), path, i);
        if (!cJSON_IsString(e))
            return fail(pe, p, "expected a string");
        if (env && (e->valuestring[0] == '=' || !strchr(e->valuestring, '=')))
            return fail(pe, p, "expected \"NAME=value\"");
        if (!((*out)[i++] = strdup(e->valuestring)))
            return fail(pe, p, "out of memory");
    }
    return 0;
}

static void kv_free(struct engine_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

/* {string: string}. */
static int get_kv(const cJSON *v, const char *path, struct engine_kv **out,
                  size_t *n_out, struct perr *pe)
{
    char p[PATH_MAX_LEN];
    const cJSON *e;
    size_t n;
    if (!cJSON_IsObject(v))
        return fail(pe, path, "expected an object of strings");
    n = (size_t)cJSON_GetArraySize(v);
    if (n && !(*out = calloc(n, sizeof(**out))))
        return fail(pe, path, "out of memory");
    cJSON_ArrayForEach(e, v) {
        sub_key(p, sizeof(p), path, e->string);
        if (!e->string[0])
            return fail(pe, path, "a key is empty");
        if (!cJSON_IsString(e))
            return fail(pe, p, "expected a string");
        struct engine_kv *kv = &(*out)[(*n_out)++];
        if (!(kv->key = strdup(e->string)) ||
            !(kv->value = strdup(e->valuestring)))
            return fail(pe, p, "out of memory");
    }
    return 0;
}

/* Sub-objects: members checked against a list, each at most once. */
static int check_members(const cJSON *v, const char *path,
                         const char *const *known, struct perr *pe)
{
    char p[PATH_MAX_LEN];
    const cJSON *e, *f;
    if (!cJSON_IsObject(v))
        return fail(pe, path, "expected an object");
    cJSON_ArrayForEach(e, v) {
        const char *const *k;
        for (k = known; *k && strcmp(*k, e->string) != 0; k++)
            ;
        if (!*k)
            return fail(pe, sub_key(p, sizeof(p), path, e->string),
                        "unknown member");
        for (f = v->child; f != e; f = f->next)
            if (strcmp(f->string, e->string) == 0)
                return fail(pe, sub_key(p, sizeof(p), path, e->string),
                            "given twice");
    }
    return 0;
}

/* Member of an object checked by check_members; required ones fail. */
static const cJSON *member(const cJSON *v, const char *key, bool required,
                           const char *path, struct perr *pe)
{
    char p[PATH_MAX_LEN];
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, key);
    if (!m && required)
        fail(pe, sub_key(p, sizeof(p), path, key), "required");
    return m;
}

static const char *const protocols[] = {"tcp", "udp", NULL};

static int get_ports(const cJSON *v, const char *path, struct engine_spec *s,
                     struct perr *pe)
{
    static const char *const known[] = {"containerPort", "hostPort",
                                        "protocol", "hostIp", NULL};
    char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
    const cJSON *e, *m;
    int i = 0;
    int64_t n = 0;
    if (!cJSON_IsArray(v))
        return fail(pe, path, "expected an array of objects");
    if (cJSON_GetArraySize(v) &&
        !(s->ports = calloc((size_t)cJSON_GetArraySize(v), sizeof(*s->ports))))
        return fail(pe, path, "out of memory");
    cJSON_ArrayForEach(e, v) {
        struct engine_port *pt = &s->ports[s->n_ports++];
        sub_idx(p, sizeof(p), path, i++);
        if (check_members(e, p, known, pe) < 0)
            return -1;
        if (!(m = member(e, "containerPort", true, p, pe)) ||
            get_int(m, sub_key(q, sizeof(q), p, "containerPort"), 1, 65535, &n,
                    pe) < 0)
            return -1;
        pt->container_port = (uint16_t)n;
        if ((m = member(e, "hostPort", false, p, pe))) {
            if (get_int(m, sub_key(q, sizeof(q), p, "hostPort"), 0, 65535, &n,
                        pe) < 0)
                return -1;
            pt->host_port = (uint16_t)n;
        }
        if ((m = member(e, "protocol", false, p, pe))
                ? get_enum(m, sub_key(q, sizeof(q), p, "protocol"), protocols,
                           &pt->protocol, pe) < 0
                : !(pt->protocol = strdup("tcp")))
            return -1;
        if ((m = member(e, "hostIp", false, p, pe))
                ? get_string(m, sub_key(q, sizeof(q), p, "hostIp"), false,
                             &pt->host_ip, pe) < 0
                : !(pt->host_ip = strdup("")))
            return -1;
        /* Two bindings of one host port would only fail later, on the
         * engine, with a less precise message. */
        for (size_t j = 0; pt->host_port && j + 1 < s->n_ports; j++)
            if (s->ports[j].host_port == pt->host_port &&
                strcmp(s->ports[j].protocol, pt->protocol) == 0 &&
                strcmp(s->ports[j].host_ip, pt->host_ip) == 0)
                return fail(pe, sub_key(q, sizeof(q), p, "hostPort"),
                            "%u/%s is already published by %s[%zu]",
                            pt->host_port, pt->protocol, path, j);
    }
    return 0;
}

static const char *const mount_types[] = {"bind", "volume", NULL};

static int get_mounts(const cJSON *v, const char *path, struct engine_spec *s,
                      struct perr *pe)
{
    static const char *const known[] = {"type", "source", "target",
                                        "readOnly", "driver", "driverOpts",
                                        "labels", "mustExist", NULL};
    char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
    const cJSON *e, *m;
    int i = 0;
    if (!cJSON_IsArray(v))
        return fail(pe, path, "expected an array of objects");
    if (cJSON_GetArraySize(v) &&
        !(s->mounts = calloc((size_t)cJSON_GetArraySize(v), sizeof(*s->mounts))))
        return fail(pe, path, "out of memory");
    cJSON_ArrayForEach(e, v) {
        struct engine_mount *mt = &s->mounts[s->n_mounts++];
        char *type = NULL;
        int rc;
        sub_idx(p, sizeof(p), path, i++);
        if (check_members(e, p, known, pe) < 0 ||
            !(m = member(e, "type", true, p, pe)))
            return -1;
        rc = get_enum(m, sub_key(q, sizeof(q), p, "type"), mount_types, &type,
                      pe);
        mt->volume = type && strcmp(type, "volume") == 0;
        free(type);
        if (rc < 0)
            return -1;
        /* A volume without a source is an anonymous one. */
        if ((m = member(e, "source", !mt->volume, p, pe))
                ? get_string(m, sub_key(q, sizeof(q), p, "source"), true,
                             &mt->source, pe) < 0
                : !mt->volume)
            return -1;
        if (!(m = member(e, "target", true, p, pe)) ||
            get_string(m, sub_key(q, sizeof(q), p, "target"), true,
                       &mt->target, pe) < 0)
            return -1;
        if (mt->target[0] != '/')
            return fail(pe, q, "must be an absolute path");
        if (!mt->volume && mt->source[0] != '/')
            return fail(pe, sub_key(q, sizeof(q), p, "source"),
                        "must be an absolute path for a bind mount");
        if ((m = member(e, "readOnly", false, p, pe)) &&
            get_bool(m, sub_key(q, sizeof(q), p, "readOnly"), &mt->read_only,
                     pe) < 0)
            return -1;
        if ((m = member(e, "mustExist", false, p, pe)) &&
            get_bool(m, sub_key(q, sizeof(q), p, "mustExist"), &mt->must_exist,
                     pe) < 0)
            return -1;
        if (mt->must_exist && (!mt->volume || !mt->source))
            return fail(pe, q, "only for a named volume");
        const cJSON *drv = member(e, "driver", false, p, pe);
        const cJSON *dopts = member(e, "driverOpts", false, p, pe);
        const cJSON *labels = member(e, "labels", false, p, pe);
        if (!mt->volume && (drv || dopts || labels))
            return fail(pe, sub_key(q, sizeof(q), p,
                                    drv ? "driver" : dopts ? "driverOpts"
                                                           : "labels"),
                        "only for a volume mount");
        if (drv && get_string(drv, sub_key(q, sizeof(q), p, "driver"), true,
                              &mt->driver, pe) < 0)
            return -1;
        if (dopts && get_kv(dopts, sub_key(q, sizeof(q), p, "driverOpts"),
                            &mt->driver_opts, &mt->n_driver_opts, pe) < 0)
            return -1;
        if (labels && get_kv(labels, sub_key(q, sizeof(q), p, "labels"),
                             &mt->labels, &mt->n_labels, pe) < 0)
            return -1;
    }
    return 0;
}

static int get_volumes_from(const cJSON *v, const char *path,
                            struct engine_spec *s, struct perr *pe)
{
    static const char *const known[] = {"container", "readOnly", NULL};
    char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
    const cJSON *e, *m;
    int i = 0;
    if (!cJSON_IsArray(v))
        return fail(pe, path, "expected an array of objects");
    if (cJSON_GetArraySize(v) &&
        !(s->volumes_from = calloc((size_t)cJSON_GetArraySize(v),
                                   sizeof(*s->volumes_from))))
        return fail(pe, path, "out of memory");
    cJSON_ArrayForEach(e, v) {
        struct engine_kv *kv = &s->volumes_from[s->n_volumes_from++];
        bool ro = false;
        sub_idx(p, sizeof(p), path, i++);
        if (check_members(e, p, known, pe) < 0 ||
            !(m = member(e, "container", true, p, pe)) ||
            get_string(m, sub_key(q, sizeof(q), p, "container"), true, &kv->key,
                       pe) < 0)
            return -1;
        if ((m = member(e, "readOnly", false, p, pe)) &&
            get_bool(m, sub_key(q, sizeof(q), p, "readOnly"), &ro, pe) < 0)
            return -1;
        if (!(kv->value = strdup(ro ? "ro" : "rw")))
            return fail(pe, p, "out of memory");
    }
    return 0;
}

static int get_ulimits(const cJSON *v, const char *path, struct engine_spec *s,
                       struct perr *pe)
{
    static const char *const known[] = {"name", "soft", "hard", NULL};
    char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
    const cJSON *e, *m;
    int i = 0;
    if (!cJSON_IsArray(v))
        return fail(pe, path, "expected an array of objects");
    if (cJSON_GetArraySize(v) &&
        !(s->ulimits = calloc((size_t)cJSON_GetArraySize(v), sizeof(*s->ulimits))))
        return fail(pe, path, "out of memory");
    cJSON_ArrayForEach(e, v) {
        struct engine_ulimit *u = &s->ulimits[s->n_ulimits++];
        sub_idx(p, sizeof(p), path, i++);
        if (check_members(e, p, known, pe) < 0 ||
            !(m = member(e, "name", true, p, pe)) ||
            get_string(m, sub_key(q, sizeof(q), p, "name"), true, &u->name,
                       pe) < 0 ||
            !(m = member(e, "soft", true, p, pe)) ||
            get_int(m, sub_key(q, sizeof(q), p, "soft"), -1, INT64_MAX,
                    &u->soft, pe) < 0 ||
            !(m = member(e, "hard", true, p, pe)) ||
            get_int(m, sub_key(q, sizeof(q), p, "hard"), -1, INT64_MAX,
                    &u->hard, pe) < 0)
            return -1;
        if (u->hard != -1 && (u->soft == -1 || u->soft > u->hard))
            return fail(pe, sub_key(q, sizeof(q), p, "soft"),
                        "must not exceed hard");
    }
    return 0;
}

static int get_health(const cJSON *v, const char *path, struct engine_spec *s,
                      struct perr *pe)
{
    static const char *const known[] = {"test", "intervalMs", "timeoutMs",
                                        "startPeriodMs", "retries", NULL};
    static const struct {
        const char *key;
        size_t off;
    } nums[] = {
        {"intervalMs", offsetof(struct engine_health, interval_ms)},
        {"timeoutMs", offsetof(struct engine_health, timeout_ms)},
        {"startPeriodMs", offsetof(struct engine_health, start_period_ms)},
        {"retries", offsetof(struct engine_health, retries)},
    };
    char q[PATH_MAX_LEN];
    const cJSON *m;
    struct engine_health *h = &s->health;
    if (check_members(v, path, known, pe) < 0 ||
        !(m = member(v, "test", true, path, pe)) ||
        get_strv(m, sub_key(q, sizeof(q), path, "test"), false, &h->test, pe) < 0)
        return -1;
    h->set = true;
    if (!h->test[0])
        return fail(pe, q, "must not be empty");
    if (strcmp(h->test[0], "NONE") == 0) {
        if (h->test[1])
            return fail(pe, q, "[\"NONE\"] takes no arguments");
    } else if (strcmp(h->test[0], "CMD") == 0 ||
               strcmp(h->test[0], "CMD-SHELL") == 0) {
        if (!h->test[1])
            return fail(pe, q, "%s needs a command", h->test[0]);
        if (strcmp(h->test[0], "CMD-SHELL") == 0 && h->test[2])
            return fail(pe, q, "CMD-SHELL takes one shell command");
    } else {
        return fail(pe, q, "must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"");
    }
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        if ((m = member(v, nums[i].key, false, path, pe)) &&
            get_int(m, sub_key(q, sizeof(q), path, nums[i].key), 0, INT64_MAX,
                    (int64_t *)((char *)h + nums[i].off), pe) < 0)
            return -1;
    return 0;
}

static int get_log(const cJSON *v, const char *path, struct engine_spec *s,
                   struct perr *pe)
{
    static const char *const known[] = {"driver", "options", NULL};
    char q[PATH_MAX_LEN];
    const cJSON *m;
    if (check_members(v, path, known, pe) < 0 ||
        !(m = member(v, "driver", true, path, pe)) ||
        get_string(m, sub_key(q, sizeof(q), path, "driver"), true,
                   &s->log_driver, pe) < 0)
        return -1;
    if ((m = member(v, "options", false, path, pe)) &&
        get_kv(m, sub_key(q, sizeof(q), path, "options"), &s->log_options,
               &s->n_log_options, pe) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The top-level table                                                */

enum kind {
    K_STRING,   /* char * */
    K_NAME,     /* char *, non-empty */
    K_NETWORK,  /* char *, one of the modes */
    K_STRV,     /* char ** */
    K_ENV,      /* char **, NAME=value */
    K_KV,       /* struct engine_kv *, count at off2 */
    K_INT,      /* int64_t >= 0 */
    K_BOOL,     /* bool */
    K_SPECIAL,  /* fn */
};

struct member_def {
    const char *key;
    enum kind kind;
    size_t off, off2;
    int (*fn)(const cJSON *, const char *, struct engine_spec *,
              struct perr *);
    bool sandbox;  /* allowed in a sandbox spec too */
    bool required;
};

#define F(m) offsetof(struct engine_spec, m)
static const struct member_def members[] = {
    {"name", K_NAME, F(name), 0, NULL, true, true},
    {"image", K_NAME, F(image), 0, NULL, false, true},
    {"network", K_NETWORK, F(network), 0, NULL, true, false},
    {"sandbox", K_NAME, F(sandbox), 0, NULL, false, false},
    {"entryPoint", K_STRV, F(entry_point), 0, NULL, false, false},
    {"command", K_STRV, F(command), 0, NULL, false, false},
    {"env", K_ENV, F(env), 0, NULL, false, false},
    {"workingDir", K_STRING, F(working_dir), 0, NULL, false, false},
    {"user", K_STRING, F(user), 0, NULL, false, false},
    {"hostname", K_STRING, F(hostname), 0, NULL, true, false},
    {"labels", K_KV, F(labels), F(n_labels), NULL, true, false},
    {"cpuShares", K_INT, F(cpu_shares), 0, NULL, false, false},
    {"memoryBytes", K_INT, F(memory_bytes), 0, NULL, false, false},
    {"memoryReservationBytes", K_INT, F(memory_reservation_bytes), 0, NULL,
     false, false},
    {"shmSizeBytes", K_INT, F(shm_size_bytes), 0, NULL, false, false},
    {"ports", K_SPECIAL, 0, 0, get_ports, true, false},
    {"mounts", K_SPECIAL, 0, 0, get_mounts, false, false},
    {"volumesFrom", K_SPECIAL, 0, 0, get_volumes_from, false, false},
    {"ulimits", K_SPECIAL, 0, 0, get_ulimits, false, false},
    {"healthCheck", K_SPECIAL, 0, 0, get_health, false, false},
    {"init", K_BOOL, F(init), 0, NULL, false, false},
    {"stopTimeout", K_INT, F(stop_timeout), 0, NULL, false, false},
    {"log", K_SPECIAL, 0, 0, get_log, false, false},
    {"extraHosts", K_STRV, F(extra_hosts), 0, NULL, true, false},
    {"dns", K_STRV, F(dns), 0, NULL, true, false},
    {"dnsSearch", K_STRV, F(dns_search), 0, NULL, true, false},
    {"capAdd", K_STRV, F(cap_add), 0, NULL, false, false},
    {"capDrop", K_STRV, F(cap_drop), 0, NULL, false, false},
    {"securityOpt", K_STRV, F(security_opt), 0, NULL, false, false},
    {"sysctls", K_KV, F(sysctls), F(n_sysctls), NULL, false, false},
    {"privileged", K_BOOL, F(privileged), 0, NULL, false, false},
    {"readonlyRootfs", K_BOOL, F(readonly_rootfs), 0, NULL, false, false},
    {"tty", K_BOOL, F(tty), 0, NULL, false, false},
    {"openStdin", K_BOOL, F(open_stdin), 0, NULL, false, false},
};
#undef F
#define N_MEMBERS (sizeof(members) / sizeof(members[0]))

static const char *const networks[] = {"bridge", "host", "none", "awsvpc",
                                       NULL};

static int apply(const struct member_def *d, const cJSON *v, const char *path,
                 struct engine_spec *s, struct perr *pe)
{
    void *field = (char *)s + d->off;
    switch (d->kind) {
    case K_STRING:
        return get_string(v, path, false, field, pe);
    case K_NAME:
        return get_string(v, path, true, field, pe);
    case K_NETWORK:
        return get_enum(v, path, networks, field, pe);
    case K_STRV:
        return get_strv(v, path, false, field, pe);
    case K_ENV:
        return get_strv(v, path, true, field, pe);
    case K_KV:
        return get_kv(v, path, field, (size_t *)((char *)s + d->off2), pe);
    case K_INT:
        return get_int(v, path, 0, INT64_MAX, field, pe);
    case K_BOOL:
        return get_bool(v, path, field, pe);
    case K_SPECIAL:
        return d->fn(v, path, s, pe);
    }
    return fail(pe, path, "internal error");
}

int engine_spec_parse(const char *json, bool sandbox, struct engine_spec *out,
                      char *err, size_t errlen)
{
    struct perr pe = {err, errlen};
    const char *end = NULL;
    char p[PATH_MAX_LEN];
    cJSON *doc, *e;
    bool seen[N_MEMBERS] = {false};
    int rc = -1;

    memset(out, 0, sizeof(*out));
    out->stop_timeout = -1;
    if (!json)
        return fail(&pe, "spec", "missing");
    if (!(doc = cJSON_ParseWithOpts(json, &end, true))) {
        /* The offset only: the text around it may be a secret. */
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        return fail(&pe, "spec", "not valid JSON (at byte %zu)", at);
    }
    if (!cJSON_IsObject(doc)) {
        fail(&pe, "spec", "expected a JSON object");
        goto out;
    }
    cJSON_ArrayForEach(e, doc) {
        size_t i;
        sub_key(p, sizeof(p), "spec", e->string);
        for (i = 0; i < N_MEMBERS && strcmp(members[i].key, e->string); i++)
            ;
        if (i == N_MEMBERS || (sandbox && !members[i].sandbox)) {
            fail(&pe, p, i == N_MEMBERS ? "unknown member"
                                        : "not a member of a sandbox spec");
            goto out;
        }
        if (seen[i]) {
            fail(&pe, p, "given twice");
            goto out;
        }
        seen[i] = true;
        /* null is "absent": the engine's default. */
        if (!cJSON_IsNull(e) && apply(&members[i], e, p, out, &pe) < 0)
            goto out;
    }
    for (size_t i = 0; i < N_MEMBERS; i++)
        if (members[i].required && (sandbox ? members[i].sandbox : true) &&
            !*(char **)((char *)out + members[i].off)) {
            fail(&pe, sub_key(p, sizeof(p), "spec", members[i].key),
                 "required");
            goto out;
        }
    rc = 0;
out:
    cJSON_Delete(doc);
    if (rc < 0)
        engine_spec_free(out);
    return rc;
}

void engine_spec_free(struct engine_spec *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->image);
    free(s->network);
    free(s->sandbox);
    strv_free(s->entry_point);
    strv_free(s->command);
    strv_free(s->env);
    free(s->working_dir);
    free(s->user);
    free(s->hostname);
    kv_free(s->labels, s->n_labels);
    for (size_t i = 0; i < s->n_ports; i++) {
        free(s->ports[i].protocol);
        free(s->ports[i].host_ip);
    }
    free(s->ports);
    for (size_t i = 0; i < s->n_mounts; i++) {
        struct engine_mount *m = &s->mounts[i];
        free(m->source);
        free(m->target);
        free(m->driver);
        kv_free(m->driver_opts, m->n_driver_opts);
        kv_free(m->labels, m->n_labels);
    }
    free(s->mounts);
    kv_free(s->volumes_from, s->n_volumes_from);
    for (size_t i = 0; i < s->n_ulimits; i++)
        free(s->ulimits[i].name);
    free(s->ulimits);
    strv_free(s->health.test);
    free(s->log_driver);
    kv_free(s->log_options, s->n_log_options);
    strv_free(s->extra_hosts);
    strv_free(s->dns);
    strv_free(s->dns_search);
    strv_free(s->cap_add);
    strv_free(s->cap_drop);
    strv_free(s->security_opt);
    kv_free(s->sysctls, s->n_sysctls);
    memset(s, 0, sizeof(*s));
    s->stop_timeout = -1;
}
