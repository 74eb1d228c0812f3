/* taskdef_check.c: the rules of ECS task definitions that go beyond one
 * member's type and range: names, cross-references, sums, network modes,
 * dependency cycles; and the defaults ECS fills in. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/taskdef_check.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

/* 1 to max of [A-Za-z0-9_-]: family, container and volume names. */
static bool name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_-") == n;
}

/* An error at PREFIX[i].SUFFIX, SUFFIX formatted from fmt's first part:
 * used by the checks across the definition, which run at its root. */
static void error_in(struct jw *w, const char *list, size_t i, const char *suffix,
                     const char *fmt, ...) BERTH_PRINTF(5, 6);

static void error_in(struct jw *w, const char *list, size_t i, const char *suffix,
                     const char *fmt, ...)
{
    char *msg;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        abort();
    va_end(ap);
    size_t old = jw_push_key(w, list);
    jw_push_index(w, i);
    jw_error_at(w, suffix, "%s", msg);
    jw_pop(w, old);
    free(msg);
}

static const char *const names_rule =
    "must be 1 to 255 letters, digits, '_' or '-'";

/* ------------------------------------------------------------------ */
/* Within one object                                                  */

void taskdef_check_port(struct jw *w, void *obj)
{
    struct taskdef_port *p = obj;
    if (!p->name)
        return;
    size_t n = strlen(p->name);
    if (n < 1 || n > 64 || p->name[0] == '-' ||
        strspn(p->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
        jw_error_at(w, "name", "must be 1 to 64 lowercase letters, digits, '_' or "
                    "'-', not starting with '-'");
}

void taskdef_check_env_file(struct jw *w, void *obj)
{
    struct taskdef_env_file *f = obj;
    if (f->value && f->value[0] != '/')
        jw_error_at(w, "value", "must be an absolute path on this host (Berth reads "
                    "environment files locally, not from S3)");
}

void taskdef_check_mount(struct jw *w, void *obj)
{
    struct taskdef_mount *m = obj;
    if (m->container_path && m->container_path[0] != '/')
        jw_error_at(w, "containerPath", "must be an absolute path");
}

void taskdef_check_secret(struct jw *w, void *obj)
{
    struct taskdef_secret *s = obj;
    if (s->name && !s->name[0])
        jw_error_at(w, "name", "must not be empty");
    if (s->value_from && !s->value_from[0])
        jw_error_at(w, "valueFrom", "must not be empty");
}

void taskdef_check_ulimit(struct jw *w, void *obj)
{
    struct taskdef_ulimit *u = obj;
    if (u->soft_limit > u->hard_limit)
        jw_error_at(w, "softLimit", "must not exceed hardLimit (%lld), got %lld",
                    (long long)u->hard_limit, (long long)u->soft_limit);
}

void taskdef_check_log(struct jw *w, void *obj)
{
    struct taskdef_log *l = obj;
    switch (l->driver) {
    case TASKDEF_LOG_AWSLOGS:
        jw_ignored_at(w, "logDriver", "awslogs ships logs to CloudWatch Logs; the "
                      "engine's default log driver is used instead");
        break;
    case TASKDEF_LOG_GELF:
    case TASKDEF_LOG_FLUENTD:
    case TASKDEF_LOG_SPLUNK:
    case TASKDEF_LOG_AWSFIRELENS:
        jw_error_at(w, "logDriver", "not supported by Berth: %s; use json-file, local, "
                    "journald, syslog or none", taskdef_log_drivers[l->driver]);
        break;
    default:
        break;
    }
}

void taskdef_check_health(struct jw *w, void *obj)
{
    struct taskdef_health_check *h = obj;
    const struct jw_strv *c = &h->command;
    if (c->n == 0) {
        if (c->v) /* given, but empty */
            jw_error_at(w, "command", "must not be empty");
    } else if (strcmp(c->v[0], "CMD") != 0 && strcmp(c->v[0], "CMD-SHELL") != 0) {
        jw_error_at(w, "command[0]", "must be \"CMD\" or \"CMD-SHELL\"");
    } else if (c->n < 2) {
        jw_error_at(w, "command", "%s needs the command to run after it", c->v[0]);
    }
    /* 0 is outside each range, so it means "not given". */
    if (!h->interval)
        h->interval = 30;
    if (!h->timeout)
        h->timeout = 5;
    if (!h->retries)
        h->retries = 3;
}

void taskdef_check_restart(struct jw *w, void *obj)
{
    struct taskdef_restart_policy *r = obj;
    if (!r->restart_attempt_period)
        r->restart_attempt_period = 300;
}

void taskdef_check_container(struct jw *w, void *obj)
{
    struct taskdef_container *c = obj;

    if (c->name && !name_ok(c->name, 255))
        jw_error_at(w, "name", "%s", names_rule);
    if (c->image && !c->image[0])
        jw_error_at(w, "image", "must not be empty");
    if (c->memory && c->memory_reservation && c->memory <= c->memory_reservation)
        jw_error_at(w, "memoryReservation", "must be less than memory (%lld MiB), got "
                    "%lld", (long long)c->memory, (long long)c->memory_reservation);
    if (!c->has_essential)
        c->essential = true;
    if (!c->stop_timeout)
        c->stop_timeout = 30;

    for (size_t i = 0; i < c->n_ulimits; i++) {
        for (size_t j = 0; j < i; j++) {
            if (c->ulimits[i].name != c->ulimits[j].name)
                continue;
            char key[64];
            snprintf(key, sizeof key, "ulimits[%zu].name", i);
            jw_error_at(w, key, "\"%s\" is already set by ulimits[%zu]",
                        taskdef_ulimit_names[c->ulimits[i].name], j);
            break;
        }
    }
    for (size_t i = 0; c->name && i < c->n_depends_on; i++) {
        const char *target = c->depends_on[i].container_name;
        if (target && strcmp(target, c->name) == 0) {
            char key[64];
            snprintf(key, sizeof key, "dependsOn[%zu].containerName", i);
            jw_error_at(w, key, "a container cannot depend on itself");
        }
    }
    for (size_t i = 0; c->name && i < c->n_volumes_from; i++) {
        const char *src = c->volumes_from[i].source_container;
        if (src && strcmp(src, c->name) == 0) {
            char key[64];
            snprintf(key, sizeof key, "volumesFrom[%zu].sourceContainer", i);
            jw_error_at(w, key, "a container cannot take volumes from itself");
        }
    }
}

void taskdef_check_docker_volume(struct jw *w, void *obj)
{
    struct taskdef_docker_volume *d = obj;
    if (d->autoprovision && d->scope != TASKDEF_SCOPE_SHARED)
        jw_error_at(w, "autoprovision", "only allowed with scope \"shared\"");
}

void taskdef_check_volume(struct jw *w, void *obj)
{
    struct taskdef_volume *v = obj;
    if (v->name && !name_ok(v->name, 255))
        jw_error_at(w, "name", "%s", names_rule);
    if (v->has_host && v->has_docker)
        jw_error_at(w, NULL, "host and dockerVolumeConfiguration cannot both be set");
    if (v->host.source_path && v->host.source_path[0] != '/')
        jw_error_at(w, "host.sourcePath", "must be an absolute path");
    if (v->configured_at_launch)
        jw_error_at(w, "configuredAtLaunch", "not supported by Berth: volumes "
                    "configured at launch (Amazon EBS) exist only in AWS");
}

void taskdef_check_tag(struct jw *w, void *obj)
{
    struct taskdef_tag *t = obj;
    if (t->key && (strlen(t->key) < 1 || strlen(t->key) > 128))
        jw_error_at(w, "key", "must be 1 to 128 characters");
    else if (t->key && strncasecmp(t->key, "aws:", 4) == 0)
        jw_error_at(w, "key", "the prefix \"aws:\" is reserved for AWS");
    if (t->value && strlen(t->value) > 256)
        jw_error_at(w, "value", "must be at most 256 characters");
}

/* ------------------------------------------------------------------ */
/* Task cpu and memory: strings in ECS                                */

/* "256", "0.25 vCPU", "1 vcpu" -> 256, 256, 1024 (unit = "vcpu", 1024);
 * "512", "1 GB", "1GB" -> 512, 1024, 1024 (unit = "gb", 1024).  A bare
 * number must be whole; a unit's fraction must come out whole. */
static int parse_amount(const char *text, const char *unit, int64_t scale, int64_t *out)
{
    const char *p = text;
    while (*p == ' ')
        p++;
    size_t digits = strspn(p, "0123456789.");
    if (digits == 0 || digits > 20)
        return -1;
    char num[24];
    memcpy(num, p, digits);
    num[digits] = '\0';
    if (strchr(num, '.') != strrchr(num, '.') || strcmp(num, ".") == 0)
        return -1;
    double v = strtod(num, NULL);
    p += digits;
    while (*p == ' ')
        p++;
    size_t ulen = strlen(unit);
    if (strncasecmp(p, unit, ulen) == 0) {
        v *= (double)scale;
        p += ulen;
    } else if (strchr(num, '.')) {
        return -1;
    }
    while (*p == ' ')
        p++;
    if (*p || v != (double)(int64_t)v || v > INT32_MAX)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static void check_task_size(struct jw *w, struct taskdef *td)
{
    if (td->cpu_text) {
        if (parse_amount(td->cpu_text, "vcpu", 1024, &td->cpu) < 0)
            jw_error_at(w, "cpu", "expected CPU units such as \"256\" or vCPUs such "
                        "as \"0.25 vCPU\" (whole units), got \"%.32s\"", td->cpu_text);
        else if (td->cpu < 128 || td->cpu > 196608)
            jw_error_at(w, "cpu", "must be between 128 and 196608 CPU units (0.125 to "
                        "192 vCPU), got %lld", (long long)td->cpu);
    }
    if (td->memory_text) {
        if (parse_amount(td->memory_text, "gb", 1024, &td->memory) < 0)
            jw_error_at(w, "memory", "expected MiB such as \"512\" or GB such as "
                        "\"1 GB\" (whole MiB), got \"%.32s\"", td->memory_text);
        else if (td->memory < 6)
            jw_error_at(w, "memory", "must be at least 6 MiB, got %lld",
                        (long long)td->memory);
    }
}

/* ------------------------------------------------------------------ */
/* Across the definition                                              */

static const char *const net_names[] = {"bridge", "host", "awsvpc", "none"};

/* Whether container i's memory or memoryReservation was refused already
 * (then "one of them is required" would only repeat it). */
static bool size_failed(struct jw *w, size_t i)
{
    char path[64];
    if (json_errors_under(w->errs, "memory"))
        return true; /* the task's own memory, unreadable */
    snprintf(path, sizeof path, "containerDefinitions[%zu].memory", i);
    if (json_errors_under(w->errs, path))
        return true;
    snprintf(path, sizeof path, "containerDefinitions[%zu].memoryReservation", i);
    return json_errors_under(w->errs, path);
}

static void check_names_and_sizes(struct jw *w, struct taskdef *td)
{
    int64_t cpu = 0, memory = 0;
    bool essential = false;

    for (size_t i = 0; i < td->n_containers; i++) {
        struct taskdef_container *c = &td->containers[i];
        essential |= c->essential;
        cpu += c->cpu;
        memory += c->memory ? c->memory : c->memory_reservation;
        for (size_t j = 0; c->name && j < i; j++) {
            if (td->containers[j].name && strcmp(td->containers[j].name, c->name) == 0) {
                error_in(w, "containerDefinitions", i, "name",
                         "\"%s\" is already the name of containerDefinitions[%zu]",
                         c->name, j);
                break;
            }
        }
        if (!td->memory && !c->memory && !c->memory_reservation && !size_failed(w, i))
            error_in(w, "containerDefinitions", i, "memory", "memory or "
                     "memoryReservation is required when the task sets no memory");
    }
    if (td->n_containers && !essential)
        jw_error_at(w, "containerDefinitions", "at least one container must be "
                    "essential");
    if (td->cpu && cpu > td->cpu)
        jw_error_at(w, "cpu", "the containers' cpu adds up to %lld units, more than "
                    "the task's %lld", (long long)cpu, (long long)td->cpu);
    if (td->memory && memory > td->memory)
        jw_error_at(w, "memory", "the containers' memory adds up to %lld MiB, more "
                    "than the task's %lld", (long long)memory, (long long)td->memory);

    for (size_t i = 0; i < td->n_volumes; i++)
        for (size_t j = 0; td->volumes[i].name && j < i; j++)
            if (td->volumes[j].name && strcmp(td->volumes[j].name, td->volumes[i].name) == 0) {
                error_in(w, "volumes", i, "name", "\"%s\" is already the name of "
                         "volumes[%zu]", td->volumes[i].name, j);
                break;
            }
    for (size_t i = 0; i < td->n_tags; i++)
        for (size_t j = 0; td->tags[i].key && j < i; j++)
            if (td->tags[j].key && strcmp(td->tags[j].key, td->tags[i].key) == 0) {
                error_in(w, "tags", i, "key", "\"%s\" is already the key of tags[%zu]",
                         td->tags[i].key, j);
                break;
            }
}

static void check_ports(struct jw *w, struct taskdef *td)
{
    int mode = td->network_mode;
    char key[96];

    for (size_t i = 0; i < td->n_containers; i++) {
        struct taskdef_container *c = &td->containers[i];
        if (mode == TASKDEF_NET_NONE && c->n_port_mappings) {
            error_in(w, "containerDefinitions", i, "portMappings",
                     "not allowed in none network mode");
            continue;
        }
        for (size_t j = 0; j < c->n_port_mappings; j++) {
            struct taskdef_port *p = &c->port_mappings[j];
            if (!p->container_port)
                continue;
            if (mode == TASKDEF_NET_HOST || mode == TASKDEF_NET_AWSVPC) {
                if (p->host_port && p->host_port != p->container_port) {
                    snprintf(key, sizeof key, "portMappings[%zu].hostPort", j);
                    error_in(w, "containerDefinitions", i, key, "must be empty or equal "
                             "to containerPort (%lld) in %s network mode",
                             (long long)p->container_port, net_names[mode]);
                }
                p->host_port = p->container_port;
            }
            /* Earlier mappings of the task, in order: names and static ports. */
            for (size_t a = 0; a <= i; a++) {
                const struct taskdef_container *o = &td->containers[a];
                size_t end = a == i ? j : o->n_port_mappings;
                for (size_t b = 0; b < end; b++) {
                    const struct taskdef_port *q = &o->port_mappings[b];
                    if (p->name && q->name && strcmp(p->name, q->name) == 0) {
                        snprintf(key, sizeof key, "portMappings[%zu].name", j);
                        error_in(w, "containerDefinitions", i, key, "\"%s\" is already "
                                 "the name of containerDefinitions[%zu].portMappings[%zu]",
                                 p->name, a, b);
                    }
                    if (p->host_port && q->host_port == p->host_port &&
                        q->protocol == p->protocol) {
                        snprintf(key, sizeof key, "portMappings[%zu].hostPort", j);
                        error_in(w, "containerDefinitions", i, key, "host port %lld/%s "
                                 "is already mapped by containerDefinitions[%zu]."
                                 "portMappings[%zu]", (long long)p->host_port,
                                 p->protocol == TASKDEF_UDP ? "udp" : "tcp", a, b);
                    }
                }
            }
        }
    }
}

/* Settings ECS allows only in some network modes. */
static void check_network_mode(struct jw *w, struct taskdef *td)
{
    int mode = td->network_mode;
    for (size_t i = 0; i < td->n_containers; i++) {
        struct taskdef_container *c = &td->containers[i];
        if (c->links.n && mode != TASKDEF_NET_BRIDGE)
            error_in(w, "containerDefinitions", i, "links", "only allowed in bridge "
                     "network mode");
        if (mode != TASKDEF_NET_AWSVPC)
            continue;
        if (c->hostname)
            error_in(w, "containerDefinitions", i, "hostname", "not allowed in awsvpc "
                     "network mode");
        if (c->dns_servers.n)
            error_in(w, "containerDefinitions", i, "dnsServers", "not allowed in awsvpc "
                     "network mode");
        if (c->dns_search_domains.n)
            error_in(w, "containerDefinitions", i, "dnsSearchDomains", "not allowed in "
                     "awsvpc network mode");
        if (c->n_extra_hosts)
            error_in(w, "containerDefinitions", i, "extraHosts", "not allowed in awsvpc "
                     "network mode");
    }
}

static ssize_t container_index(const struct taskdef *td, const char *name, size_t len)
{
    for (size_t i = 0; name && i < td->n_containers; i++) {
        const char *n = td->containers[i].name;
        if (n && strlen(n) == len && strncmp(n, name, len) == 0)
            return (ssize_t)i;
    }
    return -1;
}

static bool volume_exists(const struct taskdef *td, const char *name)
{
    for (size_t i = 0; name && i < td->n_volumes; i++)
        if (td->volumes[i].name && strcmp(td->volumes[i].name, name) == 0)
            return true;
    return false;
}

static void check_references(struct jw *w, struct taskdef *td)
{
    char key[96];
    for (size_t i = 0; i < td->n_containers; i++) {
        struct taskdef_container *c = &td->containers[i];
        for (size_t j = 0; j < c->n_depends_on; j++) {
            const char *t = c->depends_on[j].container_name;
            if (!t || (c->name && strcmp(t, c->name) == 0))
                continue; /* missing, or "itself": reported by the container */
            snprintf(key, sizeof key, "dependsOn[%zu].containerName", j);
            ssize_t k = container_index(td, t, strlen(t));
            int cond = c->depends_on[j].condition;
            if (k < 0)
                error_in(w, "containerDefinitions", i, key, "\"%s\" names no "
                         "container of this task", t);
            else if ((cond == TASKDEF_COMPLETE || cond == TASKDEF_SUCCESS) &&
                     td->containers[k].essential)
                error_in(w, "containerDefinitions", i, key, "%s cannot target an "
                         "essential container (\"%s\" is essential)",
                         taskdef_conditions[cond], t);
        }
        for (size_t j = 0; j < c->n_volumes_from; j++) {
            const char *s = c->volumes_from[j].source_container;
            if (!s || (c->name && strcmp(s, c->name) == 0))
                continue;
            if (container_index(td, s, strlen(s)) < 0) {
                snprintf(key, sizeof key, "volumesFrom[%zu].sourceContainer", j);
                error_in(w, "containerDefinitions", i, key, "\"%s\" names no container "
                         "of this task", s);
            }
        }
        for (size_t j = 0; j < c->links.n; j++) {
            /* "name" or "name:alias" */
            const char *l = c->links.v[j], *colon = strchr(l, ':');
            ssize_t k = container_index(td, l, colon ? (size_t)(colon - l) : strlen(l));
            if (k < 0 || (size_t)k == i) {
                snprintf(key, sizeof key, "links[%zu]", j);
                error_in(w, "containerDefinitions", i, key, "must name another "
                         "container of this task, as NAME or NAME:ALIAS");
            }
        }
        for (size_t j = 0; j < c->n_mount_points; j++) {
            const char *v = c->mount_points[j].source_volume;
            if (v && !volume_exists(td, v)) {
                snprintf(key, sizeof key, "mountPoints[%zu].sourceVolume", j);
                error_in(w, "containerDefinitions", i, key, "\"%s\" names no volume of "
                         "this task", v);
            }
        }
    }
}

/* Depth-first search over dependsOn; colour 1: on the current path. */
static void find_cycles(struct jw *w, struct taskdef *td, size_t u, int *colour,
                        size_t *stack, size_t depth)
{
    struct taskdef_container *c = &td->containers[u];
    colour[u] = 1;
    stack[depth] = u;
    for (size_t j = 0; j < c->n_depends_on; j++) {
        const char *t = c->depends_on[j].container_name;
        ssize_t k = t ? container_index(td, t, strlen(t)) : -1;
        if (k < 0 || (size_t)k == u)
            continue;
        if (colour[k] == 0) {
            find_cycles(w, td, (size_t)k, colour, stack, depth + 1);
        } else if (colour[k] == 1) {
            char chain[TASKDEF_MAX_CONTAINERS * 260 + 8], key[64];
            size_t len = 0, from = 0;
            while (stack[from] != (size_t)k)
                from++;
            for (size_t s = from; s <= depth; s++)
                len += (size_t)snprintf(chain + len, sizeof chain - len, "%s -> ",
                                        td->containers[stack[s]].name);
            snprintf(chain + len, sizeof chain - len, "%s", t);
            snprintf(key, sizeof key, "dependsOn[%zu].containerName", j);
            error_in(w, "containerDefinitions", u, key, "dependency cycle: %s", chain);
        }
    }
    colour[u] = 2;
}

void taskdef_check_task(struct jw *w, void *obj)
{
    struct taskdef *td = obj;
    int colour[TASKDEF_MAX_CONTAINERS] = {0};
    size_t stack[TASKDEF_MAX_CONTAINERS];

    if (td->family && !name_ok(td->family, 255))
        jw_error_at(w, "family", "%s", names_rule);
    check_task_size(w, td);
    check_names_and_sizes(w, td);
    check_ports(w, td);
    check_network_mode(w, td);
    check_references(w, td);
    if (td->n_containers <= TASKDEF_MAX_CONTAINERS)
        for (size_t i = 0; i < td->n_containers; i++)
            if (colour[i] == 0)
                find_cycles(w, td, i, colour, stack, 0);
}
