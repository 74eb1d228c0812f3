/* engine_info.c: struct berth_container_info from the inspect and list
 * JSON of Docker and libpod, stats from Docker's stats format, and the
 * engines' RFC 3339 times.
 *
 * The two engines share the inspect shape (State, Config.Labels,
 * NetworkSettings.Ports, State.Health) with small differences handled
 * here: libpod names the pod in "Pod", gives an empty Health.Status when a
 * container has no check, and puts the image name in "ImageName"; Docker
 * prefixes names with '/'.  List entries differ more (Docker: Names,
 * Ports[{PrivatePort, PublicPort}], Created in seconds; libpod:
 * Ports[{container_port, host_port}], StartedAt/ExitedAt in seconds).
 *
 * An info's strings all live in one block: the builder runs twice, first
 * measuring, then copying, so one allocation holds them all. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine.h"

#define HEALTH_OUTPUT_MAX 1024

/* The string block: with buf NULL, put() only measures. */
struct arena {
    char *buf;
    size_t len;
};

static const char *put_n(struct arena *a, const char *s, size_t n)
{
    char *p;
    if (!s)
        s = "", n = 0;
    if (!a->buf) {
        a->len += n + 1;
        return "";
    }
    p = a->buf + a->len;
    memcpy(p, s, n);
    p[n] = '\0';
    a->len += n + 1;
    return p;
}

static const char *put(struct arena *a, const char *s)
{
    return put_n(a, s, s ? strlen(s) : 0);
}

/* ------------------------------------------------------------------ */
/* JSON access                                                        */

static const cJSON *get(const cJSON *j, const char *key)
{
    return cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;
}

/* Only an object (or array) member, so loops can walk it blindly. */
static const cJSON *obj(const cJSON *j, const char *key)
{
    const cJSON *v = get(j, key);
    return cJSON_IsObject(v) ? v : NULL;
}

static const cJSON *arr(const cJSON *j, const char *key)
{
    const cJSON *v = get(j, key);
    return cJSON_IsArray(v) ? v : NULL;
}

static const char *str(const cJSON *j, const char *key)
{
    const cJSON *v = get(j, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *j, const char *key, double dflt)
{
    const cJSON *v = get(j, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static uint64_t u64(const cJSON *j, const char *key)
{
    double d = num(j, key, 0);
    return d > 0 && d < 1.8e19 ? (uint64_t)d : 0;
}

/* ------------------------------------------------------------------ */
/* Times                                                              */

static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

int64_t engine_time_ms(const char *t)
{
    struct tm tm = {0};
    const char *p = t;
    int ms = 0, y, mo, d, h, mi, s;
    int64_t secs;

    if (!p || (y = digits(&p, 4)) < 0 || *p++ != '-' ||
        (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' ||
        (d = digits(&p, 2)) < 1 || d > 31 || (*p != 'T' && *p != 't' && *p != ' '))
        return 0;
    p++;
    if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' ||
        (mi = digits(&p, 2)) < 0 || mi > 59 || *p++ != ':' ||
        (s = digits(&p, 2)) < 0 || s > 60)
        return 0;
    if (*p == '.') {
        int n = 0;
        for (p++; isdigit((unsigned char)*p); p++, n++)
            if (n < 3)
                ms = ms * 10 + (*p - '0');
        if (n == 0)
            return 0;
        for (; n < 3; n++)
            ms *= 10;
    }
    /* Docker's zero time ("0001-01-01T00:00:00Z") and anything before
     * the epoch mean "not set". */
    if (y < 1970)
        return 0;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    secs = (int64_t)timegm(&tm);
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if ((oh = digits(&p, 2)) < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0)
            return 0;
        secs -= sign * (oh * 3600 + om * 60);
    } else {
        return 0;
    }
    if (*p)
        return 0;
    return secs * 1000 + ms;
}

/* ------------------------------------------------------------------ */
/* Shared parts                                                       */

static enum berth_ctr_state state_of(const char *s)
{
    static const struct {
        const char *name;
        enum berth_ctr_state state;
    } map[] = {
        {"created", BERTH_CTR_CREATED},     {"configured", BERTH_CTR_CREATED},
        {"initialized", BERTH_CTR_CREATED}, {"running", BERTH_CTR_RUNNING},
        {"paused", BERTH_CTR_RUNNING},      {"restarting", BERTH_CTR_RUNNING},
        {"stopping", BERTH_CTR_RUNNING},    {"exited", BERTH_CTR_EXITED},
        {"stopped", BERTH_CTR_EXITED},      {"dead", BERTH_CTR_EXITED},
        {"removing", BERTH_CTR_EXITED},
    };
    for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(s, map[i].name) == 0)
            return map[i].state;
    return BERTH_CTR_UNKNOWN;
}

static enum berth_ctr_health health_of(const char *s)
{
    if (!s || !*s || strcmp(s, "none") == 0)
        return BERTH_HEALTH_NONE;
    if (strcmp(s, "healthy") == 0)
        return BERTH_HEALTH_HEALTHY;
    if (strcmp(s, "unhealthy") == 0)
        return BERTH_HEALTH_UNHEALTHY;
    return BERTH_HEALTH_STARTING;
}

/* Labels from an object of strings: counted when the arena measures. */
static void labels_from(const cJSON *obj, struct engine_info *out,
                        struct arena *a)
{
    const cJSON *e;
    size_t n = 0;
    cJSON_ArrayForEach(e, (cJSON_IsObject(obj) ? obj : NULL)) {
        if (!cJSON_IsString(e))
            continue;
        if (a->buf) {
            out->labels[n].name = put(a, e->string);
            out->labels[n].value = put(a, e->valuestring);
        } else {
            put(a, e->string);
            put(a, e->valuestring);
        }
        n++;
    }
    out->info.n_labels = n;
}

/* Adds one binding unless the same port is there already (Docker lists
 * a port twice when it binds 0.0.0.0 and ::). */
static void add_port(struct engine_info *out, struct arena *a, long cport,
                     long hport, const char *proto, const char *ip)
{
    struct berth_container_info *ci = &out->info;
    if (cport <= 0 || cport > 65535 || hport < 0 || hport > 65535)
        return;
    if (!proto || !*proto)
        proto = "tcp";
    if (a->buf) {
        for (size_t i = 0; i < ci->n_ports; i++)
            if (out->ports[i].container_port == cport &&
                out->ports[i].host_port == hport &&
                strcmp(out->ports[i].protocol, proto) == 0)
                return;
        struct berth_port_binding *b = &out->ports[ci->n_ports];
        b->container_port = (uint16_t)cport;
        b->host_port = (uint16_t)hport;
        b->protocol = put(a, proto);
        b->host_ip = put(a, ip ? ip : "");
    } else {
        put(a, proto);
        put(a, ip);
    }
    ci->n_ports++;
}

/* NetworkSettings.Ports: {"8080/tcp": [{"HostIp", "HostPort"}] or null}. */
static void ports_from_settings(const cJSON *ports, struct engine_info *out,
                                struct arena *a)
{
    const cJSON *e, *b;
    cJSON_ArrayForEach(e, (cJSON_IsObject(ports) ? ports : NULL)) {
        char proto[16] = "tcp";
        char *end;
        long cport = strtol(e->string, &end, 10);
        if (*end == '/')
            snprintf(proto, sizeof(proto), "%s", end + 1);
        if (!cJSON_IsArray(e) || !cJSON_GetArraySize(e)) {
            add_port(out, a, cport, 0, proto, "");
            continue;
        }
        cJSON_ArrayForEach(b, e) {
            const char *hp = str(b, "HostPort");
            add_port(out, a, cport, hp ? strtol(hp, NULL, 10) : 0, proto,
                     str(b, "HostIp"));
        }
    }
}

/* The address on the container's network: the top-level one (default
 * bridge), else the first network that has one. */
static const char *ip_from_settings(const cJSON *ns)
{
    const char *ip = str(ns, "IPAddress");
    const cJSON *n;
    if (ip && *ip)
        return ip;
    cJSON_ArrayForEach(n, obj(ns, "Networks"))
        if ((ip = str(n, "IPAddress")) && *ip)
            return ip;
    return "";
}

/* The sandbox: libpod's pod, else a network namespace joined with
 * "container:ID" (Docker's pause container). */
static void sandbox_from(const char *pod, const char *netmode,
                         struct engine_info *out, struct arena *a)
{
    if (pod && *pod)
        out->info.sandbox_id = put(a, pod);
    else if (netmode && strncmp(netmode, "container:", 10) == 0 && netmode[10])
        out->info.sandbox_id = put(a, netmode + 10);
    else
        out->info.sandbox_id = NULL;
}

/* Cuts a health check's output to HEALTH_OUTPUT_MAX bytes on a UTF-8
 * character boundary. */
static size_t output_len(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n <= HEALTH_OUTPUT_MAX)
        return n;
    n = HEALTH_OUTPUT_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static int alloc_arrays(struct engine_info *out, struct arena *a)
{
    if (!(a->buf = malloc(a->len ? a->len : 1)))
        return -1;
    if (out->info.n_labels &&
        !(out->labels = calloc(out->info.n_labels, sizeof(*out->labels))))
        return -1;
    if (out->info.n_ports &&
        !(out->ports = calloc(out->info.n_ports, sizeof(*out->ports))))
        return -1;
    a->len = 0;
    out->info.n_labels = out->info.n_ports = 0;
    return 0;
}

static void finish(struct engine_info *out, struct arena *a)
{
    out->strings = a->buf;
    out->info.labels = out->labels;
    out->info.ports = out->ports;
}

/* ------------------------------------------------------------------ */
/* Inspect                                                            */

static void from_inspect(const cJSON *j, struct engine_info *out,
                         struct arena *a)
{
    struct berth_container_info *ci = &out->info;
    const cJSON *st = get(j, "State"), *cfg = get(j, "Config");
    const cJSON *ns = get(j, "NetworkSettings"), *hc = get(j, "HostConfig");
    const cJSON *health = get(st, "Health"), *log, *last = NULL;
    const char *name = str(j, "Name"), *image, *out_s;

    /* libpod also has State.Healthcheck in some versions. */
    if (!health)
        health = get(st, "Healthcheck");
    ci->struct_size = sizeof(*ci);
    ci->id = put(a, str(j, "Id"));
    if (name && name[0] == '/')
        name++;
    ci->name = put(a, name);
    /* Docker: Config.Image is the name asked for, Image the id; libpod
     * has ImageName for the name. */
    image = str(j, "ImageName");
    if (!image || !*image)
        image = str(cfg, "Image");
    ci->image = put(a, image);
    ci->image_id = put(a, str(j, "Image"));
    sandbox_from(str(j, "Pod"), str(hc, "NetworkMode"), out, a);
    ci->state = state_of(str(st, "Status"));
    ci->exit_code = (int)num(st, "ExitCode", 0);
    ci->oom_killed = cJSON_IsTrue(get(st, "OOMKilled"));
    ci->error = put(a, str(st, "Error"));
    ci->health = health_of(str(health, "Status"));
    log = get(health, "Log");
    if (cJSON_IsArray(log) && cJSON_GetArraySize(log) > 0)
        last = cJSON_GetArrayItem(log, cJSON_GetArraySize(log) - 1);
    out_s = str(last, "Output");
    ci->health_output = put_n(a, out_s, output_len(out_s));
    ci->health_exit_code = last ? (int)num(last, "ExitCode", -1) : -1;
    ci->created_at_ms = engine_time_ms(str(j, "Created"));
    ci->started_at_ms = engine_time_ms(str(st, "StartedAt"));
    ci->finished_at_ms = engine_time_ms(str(st, "FinishedAt"));
    labels_from(get(cfg, "Labels"), out, a);
    ports_from_settings(get(ns, "Ports"), out, a);
    ci->ip_address = put(a, ip_from_settings(ns));
    ci->restart_count = (int)num(j, "RestartCount", 0);
    ci->pid = (int)num(st, "Pid", 0);
}

int engine_info_from_inspect(const cJSON *j, struct engine_info *out)
{
    struct arena a = {NULL, 0};
    memset(out, 0, sizeof(*out));
    if (!str(j, "Id") || !cJSON_IsObject(get(j, "State")))
        return -1;
    from_inspect(j, out, &a);
    if (alloc_arrays(out, &a) < 0)
        goto oom;
    from_inspect(j, out, &a);
    finish(out, &a);
    return 0;
oom:
    free(a.buf);
    engine_info_free(out);
    return -1;
}

char **engine_task_volumes(const cJSON *j, size_t *n)
{
    const char *arn = str(obj(obj(j, "Config"), "Labels"), "com.amazonaws.ecs.task-arn");
    const char *id = arn ? strrchr(arn, '/') : NULL;
    const cJSON *m;
    char prefix[300];
    char **v = NULL;

    *n = 0;
    if (!id || !id[1])
        return NULL;
    snprintf(prefix, sizeof(prefix), "berth-%s-", id + 1);
    cJSON_ArrayForEach(m, arr(j, "Mounts")) {
        const char *type = str(m, "Type"), *name = str(m, "Name");
        if (!type || strcmp(type, "volume") != 0 || !name ||
            strncmp(name, prefix, strlen(prefix)) != 0)
            continue;
        char **nv = realloc(v, (*n + 2) * sizeof(*v));
        char *dup = nv ? strdup(name) : NULL;
        if (nv)
            v = nv;
        if (!dup) {
            for (size_t i = 0; i < *n; i++)
                free(v[i]);
            free(v);
            *n = 0;
            return NULL;
        }
        v[*n] = dup;
        v[++*n] = NULL;
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* List entries                                                       */

/* Seconds since the epoch as a number, or an RFC 3339 string; libpod
 * uses -62135596800 (year 1) for "never". */
static int64_t any_time_ms(const cJSON *v)
{
    if (cJSON_IsString(v))
        return engine_time_ms(v->valuestring);
    if (cJSON_IsNumber(v) && v->valuedouble > 0)
        return (int64_t)v->valuedouble * 1000;
    return 0;
}

static void from_list(const cJSON *j, struct engine_info *out, struct arena *a)
{
    struct berth_container_info *ci = &out->info;
    const cJSON *names = get(j, "Names"), *ports = arr(j, "Ports"), *p;
    const char *name = NULL, *state = str(j, "State");

    ci->struct_size = sizeof(*ci);
    ci->id = put(a, str(j, "Id"));
    if (cJSON_IsArray(names) && cJSON_IsString(cJSON_GetArrayItem(names, 0)))
        name = cJSON_GetArrayItem(names, 0)->valuestring;
    if (name && name[0] == '/')
        name++;
    ci->name = put(a, name);
    ci->image = put(a, str(j, "Image"));
    ci->image_id = put(a, str(j, "ImageID"));
    sandbox_from(str(j, "Pod"), str(get(j, "HostConfig"), "NetworkMode"), out,
                 a);
    ci->state = state_of(state);
    /* libpod has the exit code; Docker only in Status ("Exited (3) ..."). */
    if (get(j, "ExitCode")) {
        ci->exit_code = (int)num(j, "ExitCode", 0);
    } else if (ci->state == BERTH_CTR_EXITED && str(j, "Status")) {
        const char *s = strchr(str(j, "Status"), '(');
        ci->exit_code = s ? atoi(s + 1) : 0;
    }
    ci->error = put(a, "");
    ci->health = BERTH_HEALTH_NONE;
    /* Docker's Status says "(healthy)" and so on. */
    if (str(j, "Status")) {
        const char *s = str(j, "Status");
        ci->health = strstr(s, "(unhealthy)")       ? BERTH_HEALTH_UNHEALTHY
                     : strstr(s, "(healthy)")       ? BERTH_HEALTH_HEALTHY
                     : strstr(s, "(health: start") ? BERTH_HEALTH_STARTING
                                                    : BERTH_HEALTH_NONE;
    }
    ci->health_output = put(a, "");
    ci->health_exit_code = -1;
    ci->created_at_ms = any_time_ms(get(j, "Created"));
    ci->started_at_ms = any_time_ms(get(j, "StartedAt"));
    ci->finished_at_ms = any_time_ms(get(j, "ExitedAt"));
    labels_from(get(j, "Labels"), out, a);
    cJSON_ArrayForEach(p, ports) {
        if (get(p, "PrivatePort")) /* Docker */
            add_port(out, a, (long)num(p, "PrivatePort", 0),
                     (long)num(p, "PublicPort", 0), str(p, "Type"),
                     str(p, "IP"));
        else /* libpod */
            for (long r = 0; r < (long)num(p, "range", 1) && r < 65536; r++)
                add_port(out, a, (long)num(p, "container_port", 0) + r,
                         num(p, "host_port", 0) > 0
                             ? (long)num(p, "host_port", 0) + r
                             : 0,
                         str(p, "protocol"), str(p, "host_ip"));
    }
    ci->ip_address = put(a, ip_from_settings(get(j, "NetworkSettings")));
    ci->restart_count = 0;
    ci->pid = (int)num(j, "Pid", 0);
}

int engine_info_from_list(const cJSON *j, struct engine_info *out)
{
    struct arena a = {NULL, 0};
    memset(out, 0, sizeof(*out));
    if (!str(j, "Id") || !str(j, "State"))
        return -1;
    from_list(j, out, &a);
    if (alloc_arrays(out, &a) < 0)
        goto oom;
    from_list(j, out, &a);
    finish(out, &a);
    return 0;
oom:
    free(a.buf);
    engine_info_free(out);
    return -1;
}

void engine_info_free(struct engine_info *i)
{
    if (!i)
        return;
    free(i->labels);
    free(i->ports);
    free(i->strings);
    memset(i, 0, sizeof(*i));
}

/* ------------------------------------------------------------------ */
/* Stats                                                              */

int engine_stats_from_docker(const cJSON *j, struct berth_container_stats *out)
{
    const cJSON *cpu = get(j, "cpu_stats"), *usage = get(cpu, "cpu_usage");
    const cJSON *mem = get(j, "memory_stats"), *ms = get(mem, "stats");
    const cJSON *e;
    uint64_t inactive;

    memset(out, 0, sizeof(*out));
    out->struct_size = sizeof(*out);
    if (!cJSON_IsObject(cpu))
        return -1;
    out->time_ms = engine_time_ms(str(j, "read"));
    out->cpu_total_ns = u64(usage, "total_usage");
    out->cpu_user_ns = u64(usage, "usage_in_usermode");
    out->cpu_system_ns = u64(usage, "usage_in_kernelmode");
    out->cpu_throttled_ns = u64(get(cpu, "throttling_data"), "throttled_time");
    out->online_cpus = (uint32_t)u64(cpu, "online_cpus");
    if (!out->online_cpus && cJSON_IsArray(get(usage, "percpu_usage")))
        out->online_cpus = (uint32_t)cJSON_GetArraySize(get(usage, "percpu_usage"));

    /* cgroup v1 names (cache, rss, total_inactive_file) or v2 (file,
     * anon, inactive_file). */
    out->memory_usage = u64(mem, "usage");
    out->memory_cache = get(ms, "cache") ? u64(ms, "cache") : u64(ms, "file");
    out->memory_rss = get(ms, "rss") ? u64(ms, "rss") : u64(ms, "anon");
    inactive = get(ms, "total_inactive_file") ? u64(ms, "total_inactive_file")
                                              : u64(ms, "inactive_file");
    out->memory_working_set =
        out->memory_usage > inactive ? out->memory_usage - inactive : 0;
    out->memory_limit = u64(mem, "limit");
    /* Without a limit, "limit" is the host's memory; cgroup v1 shows the
     * real (unlimited) one as about 2^63. */
    if (get(ms, "hierarchical_memory_limit") &&
        num(ms, "hierarchical_memory_limit", 0) > 4.6e18)
        out->memory_limit = 0;

    cJSON_ArrayForEach(e, obj(j, "networks")) {
        out->net_rx_bytes += u64(e, "rx_bytes");
        out->net_tx_bytes += u64(e, "tx_bytes");
    }
    cJSON_ArrayForEach(e, arr(get(j, "blkio_stats"), "io_service_bytes_recursive")) {
        const char *op = str(e, "op");
        if (op && strcasecmp(op, "read") == 0)
            out->blk_read_bytes += u64(e, "value");
        else if (op && strcasecmp(op, "write") == 0)
            out->blk_write_bytes += u64(e, "value");
    }
    out->pids = u64(get(j, "pids_stats"), "current");
    return 0;
}

const char *engine_host_address(const char *gateway, const char *mode)
{
    if (!mode)
        return NULL;
    if (strcmp(mode, "host") == 0)
        return "127.0.0.1";
    if (strcmp(mode, "bridge") == 0 || strcmp(mode, "awsvpc") == 0)
        return gateway && *gateway ? gateway : NULL;
    return NULL;
}

bool engine_gateway_set(char *out, size_t size, const char *gw)
{
    unsigned char buf[sizeof(struct in6_addr)];

    if (gw && strlen(gw) < size &&
        (inet_pton(AF_INET, gw, buf) == 1 || inet_pton(AF_INET6, gw, buf) == 1)) {
        memcpy(out, gw, strlen(gw) + 1);
        return true;
    }
    out[0] = '\0';
    return false;
}
