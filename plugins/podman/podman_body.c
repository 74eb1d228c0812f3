/* podman_body.c: container and sandbox specs as libpod request bodies
 * (SpecGenerator for containers/create, PodSpecGenerator for pods/create).
 *
 * A container in a pod shares the pod's network, UTS and IPC namespaces:
 * ports, DNS, extra hosts and the hostname belong to the pod (the sandbox
 * spec), and podman refuses them on such a container.  Health checks get
 * ECS's defaults when the spec leaves them out, since the plugin runs the
 * checks from the container's config. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "podman.h"

#define NS_PER_MS 1000000.0
#define HC_INTERVAL_MS 30000
#define HC_TIMEOUT_MS 5000
#define HC_RETRIES 3

static cJSON *strv(char **v)
{
    cJSON *a = cJSON_CreateArray();
    for (; a && v && *v; v++)
        cJSON_AddItemToArray(a, cJSON_CreateString(*v));
    return a;
}

static cJSON *kvs(const struct engine_kv *kv, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < n; i++)
        cJSON_AddStringToObject(o, kv[i].key, kv[i].value);
    return o;
}

static void add_strv(cJSON *o, const char *key, char **v)
{
    if (v)
        cJSON_AddItemToObject(o, key, strv(v));
}

/* The network of a pod, or of a container outside any pod. */
static void add_network(cJSON *o, const struct engine_spec *s)
{
    const char *mode = s->network ? s->network : "bridge";
    cJSON *ns = cJSON_AddObjectToObject(o, "netns");
    bool publish = strcmp(mode, "bridge") == 0;

    /* awsvpc: a namespace of its own on the default bridge, reached by
     * its address, so nothing is published. */
    if (strcmp(mode, "awsvpc") == 0)
        mode = "bridge";
    cJSON_AddStringToObject(ns, "nsmode", mode);
    if (publish && s->n_ports) {
        cJSON *pm = cJSON_AddArrayToObject(o, "portmappings");
        for (size_t i = 0; i < s->n_ports; i++) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddNumberToObject(m, "container_port", s->ports[i].container_port);
            cJSON_AddNumberToObject(m, "host_port", s->ports[i].host_port);
            cJSON_AddStringToObject(m, "protocol", s->ports[i].protocol);
            if (s->ports[i].host_ip[0])
                cJSON_AddStringToObject(m, "host_ip", s->ports[i].host_ip);
            cJSON_AddItemToArray(pm, m);
        }
    }
    if (strcmp(mode, "host") != 0) {
        add_strv(o, "dns_server", s->dns);
        add_strv(o, "dns_search", s->dns_search);
        add_strv(o, "hostadd", s->extra_hosts);
    }
}

cJSON *podman_pod_body(const struct engine_spec *s, char *err, size_t errlen)
{
    cJSON *o = cJSON_CreateObject();
    (void)err;
    (void)errlen;
    cJSON_AddStringToObject(o, "name", s->name);
    if (s->n_labels)
        cJSON_AddItemToObject(o, "labels", kvs(s->labels, s->n_labels));
    if (s->hostname && s->hostname[0])
        cJSON_AddStringToObject(o, "hostname", s->hostname);
    add_network(o, s);
    return o;
}

/* "nofile" or "RLIMIT_NOFILE" -> "nofile": podman adds the prefix. */
static void rlimit_name(const char *n, char *out, size_t size)
{
    size_t i = 0;
    if (strncasecmp(n, "RLIMIT_", 7) == 0)
        n += 7;
    for (; *n && i + 1 < size; n++)
        out[i++] = (char)tolower((unsigned char)*n);
    out[i] = '\0';
}

/* -1 is unlimited: the largest uint64, written raw since a double cannot
 * hold it. */
static cJSON *rlimit_value(int64_t v)
{
    char buf[32];
    if (v < 0)
        return cJSON_CreateRaw("18446744073709551615");
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    return cJSON_CreateRaw(buf);
}

/* Given any r_limits, podman drops containers.conf's default_ulimits and
 * sets nofile and nproc to 1048576, which fails ("operation not
 * permitted") where the hard limits are lower.  So a spec's ulimits come
 * with those two, unless it sets them, at this process's hard limit, and
 * nproc at most 32768 (containers.conf's usual default), since the podman
 * service may run with lower limits than the agent. */
static void add_default_rlimits(cJSON *rl, const struct engine_spec *s)
{
    static const struct {
        const char *name;
        int res;
        int64_t cap;
    } dflt[] = {{"nofile", RLIMIT_NOFILE, 1048576}, {"nproc", RLIMIT_NPROC, 32768}};
    for (size_t d = 0; d < sizeof(dflt) / sizeof(dflt[0]); d++) {
        struct rlimit lim;
        bool given = false;
        for (size_t i = 0; i < s->n_ulimits; i++) {
            char name[64];
            rlimit_name(s->ulimits[i].name, name, sizeof(name));
            given |= strcmp(name, dflt[d].name) == 0;
        }
        if (given || getrlimit(dflt[d].res, &lim) < 0)
            continue;
        cJSON *r = cJSON_CreateObject();
        int64_t v = lim.rlim_max == RLIM_INFINITY || lim.rlim_max > (rlim_t)dflt[d].cap
                        ? dflt[d].cap
                        : (int64_t)lim.rlim_max;
        cJSON_AddStringToObject(r, "type", dflt[d].name);
        cJSON_AddItemToObject(r, "soft", rlimit_value(v));
        cJSON_AddItemToObject(r, "hard", rlimit_value(v));
        cJSON_AddItemToArray(rl, r);
    }
}

/* securityOpt in Docker's words, as libpod's separate members. */
static int add_security(cJSON *o, char **opts, char *err, size_t errlen)
{
    cJSON *selinux = NULL;
    for (size_t i = 0; opts && opts[i]; i++) {
        const char *v = opts[i];
        if (strcmp(v, "no-new-privileges") == 0 ||
            strcmp(v, "no-new-privileges:true") == 0 ||
            strcmp(v, "no-new-privileges=true") == 0) {
            cJSON_AddBoolToObject(o, "no_new_privileges", 1);
        } else if (strncmp(v, "label=", 6) == 0 || strncmp(v, "label:", 6) == 0) {
            if (!selinux)
                selinux = cJSON_AddArrayToObject(o, "selinux_opts");
            cJSON_AddItemToArray(selinux, cJSON_CreateString(v + 6));
        } else if (strncmp(v, "apparmor=", 9) == 0 || strncmp(v, "apparmor:", 9) == 0) {
            cJSON_AddStringToObject(o, "apparmor_profile", v + 9);
        } else if (strncmp(v, "seccomp=", 8) == 0 || strncmp(v, "seccomp:", 8) == 0) {
            cJSON_AddStringToObject(o, "seccomp_profile_path", v + 8);
        } else {
            snprintf(err, errlen,
                     "spec.securityOpt[%zu]: podman takes no-new-privileges, "
                     "label=, apparmor= or seccomp=, not \"%s\"",
                     i, v);
            return -1;
        }
    }
    return 0;
}

static void add_health(cJSON *o, const struct engine_health *h)
{
    cJSON *hc;
    if (!h->set)
        return; /* the image's own, if any */
    hc = cJSON_AddObjectToObject(o, "healthconfig");
    cJSON_AddItemToObject(hc, "Test", strv(h->test));
    if (strcmp(h->test[0], "NONE") == 0)
        return;
    cJSON_AddNumberToObject(hc, "Interval",
                            (h->interval_ms ? h->interval_ms : HC_INTERVAL_MS) * NS_PER_MS);
    cJSON_AddNumberToObject(hc, "Timeout",
                            (h->timeout_ms ? h->timeout_ms : HC_TIMEOUT_MS) * NS_PER_MS);
    cJSON_AddNumberToObject(hc, "StartPeriod", h->start_period_ms * NS_PER_MS);
    cJSON_AddNumberToObject(hc, "Retries", h->retries ? h->retries : HC_RETRIES);
}

static void add_mounts(cJSON *o, const struct engine_spec *s)
{
    cJSON *mounts = NULL, *vols = NULL;
    for (size_t i = 0; i < s->n_mounts; i++) {
        const struct engine_mount *m = &s->mounts[i];
        cJSON *e = cJSON_CreateObject(), *opts = cJSON_CreateArray();
        cJSON_AddItemToArray(opts, cJSON_CreateString(m->read_only ? "ro" : "rw"));
        if (m->volume) {
            /* An empty Name makes an anonymous volume. */
            if (!vols)
                vols = cJSON_AddArrayToObject(o, "volumes");
            cJSON_AddStringToObject(e, "Name", m->source ? m->source : "");
            cJSON_AddStringToObject(e, "Dest", m->target);
            cJSON_AddItemToObject(e, "Options", opts);
            cJSON_AddItemToArray(vols, e);
        } else {
            if (!mounts)
                mounts = cJSON_AddArrayToObject(o, "mounts");
            cJSON_AddStringToObject(e, "type", "bind");
            cJSON_AddStringToObject(e, "source", m->source);
            cJSON_AddStringToObject(e, "destination", m->target);
            cJSON_AddItemToArray(opts, cJSON_CreateString("rbind"));
            cJSON_AddItemToObject(e, "options", opts);
            cJSON_AddItemToArray(mounts, e);
        }
    }
    if (s->n_volumes_from) {
        cJSON *vf = cJSON_AddArrayToObject(o, "volumes_from");
        for (size_t i = 0; i < s->n_volumes_from; i++) {
            char buf[300];
            snprintf(buf, sizeof(buf), "%s:%s", s->volumes_from[i].key,
                     s->volumes_from[i].value);
            cJSON_AddItemToArray(vf, cJSON_CreateString(buf));
        }
    }
}

cJSON *podman_volume_body(const struct engine_mount *m)
{
    cJSON *o;
    if (!m->volume || !m->source || (!m->driver && !m->n_driver_opts && !m->n_labels))
        return NULL;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Name", m->source);
    if (m->driver)
        cJSON_AddStringToObject(o, "Driver", m->driver);
    if (m->n_driver_opts)
        cJSON_AddItemToObject(o, "Options", kvs(m->driver_opts, m->n_driver_opts));
    if (m->n_labels)
        cJSON_AddItemToObject(o, "Label", kvs(m->labels, m->n_labels));
    return o;
}

/* Podman's log drivers (json-file is its name for k8s-file); it answers
 * any other with a bare "invalid log driver: invalid argument". */
static bool log_driver_ok(const char *d)
{
    static const char *const known[] = {"k8s-file", "json-file", "journald", "none",
                                        "passthrough", NULL};
    for (const char *const *k = known; *k; k++)
        if (strcmp(d, *k) == 0)
            return true;
    return false;
}

cJSON *podman_container_body(const struct engine_spec *s, char *err, size_t errlen)
{
    cJSON *o, *res = NULL;

    if (s->log_driver && !log_driver_ok(s->log_driver)) {
        snprintf(err, errlen, "spec.log.driver: podman has no \"%.100s\" log driver "
                 "(it has json-file, k8s-file, journald, none and passthrough)",
                 s->log_driver);
        return NULL;
    }
    o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddStringToObject(o, "image", s->image);
    if (s->sandbox)
        cJSON_AddStringToObject(o, "pod", s->sandbox);
    add_strv(o, "entrypoint", s->entry_point);
    add_strv(o, "command", s->command);
    if (s->env) {
        /* libpod takes a map; the values are never logged. */
        cJSON *env = cJSON_AddObjectToObject(o, "env");
        for (char **e = s->env; *e; e++) {
            char *eq = strchr(*e, '=');
            char name[256];
            snprintf(name, sizeof(name), "%.*s", (int)(eq - *e), *e);
            cJSON_DeleteItemFromObjectCaseSensitive(env, name);
            cJSON_AddStringToObject(env, name, eq + 1);
        }
    }
    if (s->working_dir && s->working_dir[0])
        cJSON_AddStringToObject(o, "work_dir", s->working_dir);
    if (s->user && s->user[0])
        cJSON_AddStringToObject(o, "user", s->user);
    if (s->n_labels)
        cJSON_AddItemToObject(o, "labels", kvs(s->labels, s->n_labels));
    if (!s->sandbox) {
        if (s->hostname && s->hostname[0])
            cJSON_AddStringToObject(o, "hostname", s->hostname);
        add_network(o, s);
    } else if (s->n_ports || s->dns || s->dns_search || s->extra_hosts) {
        snprintf(err, errlen,
                 "spec.%s: a container in a pod takes its network from the pod "
                 "(give it in the sandbox spec)",
                 s->n_ports ? "ports" : s->dns ? "dns" : s->dns_search ? "dnsSearch"
                                                                      : "extraHosts");
        cJSON_Delete(o);
        return NULL;
    }
    add_health(o, &s->health);
    if (s->memory_bytes || s->memory_reservation_bytes || s->cpu_shares) {
        res = cJSON_AddObjectToObject(o, "resource_limits");
        if (s->memory_bytes || s->memory_reservation_bytes) {
            cJSON *m = cJSON_AddObjectToObject(res, "memory");
            if (s->memory_bytes)
                cJSON_AddNumberToObject(m, "limit", (double)s->memory_bytes);
            if (s->memory_reservation_bytes)
                cJSON_AddNumberToObject(m, "reservation",
                                        (double)s->memory_reservation_bytes);
        }
        if (s->cpu_shares) {
            cJSON *c = cJSON_AddObjectToObject(res, "cpu");
            /* The kernel's floor; ECS allows fewer units. */
            cJSON_AddNumberToObject(c, "shares", s->cpu_shares < 2 ? 2 : s->cpu_shares);
        }
    }
    if (s->shm_size_bytes)
        cJSON_AddNumberToObject(o, "shm_size", (double)s->shm_size_bytes);
    add_mounts(o, s);
    if (s->n_ulimits) {
        cJSON *rl = cJSON_AddArrayToObject(o, "r_limits");
        for (size_t i = 0; i < s->n_ulimits; i++) {
            cJSON *r = cJSON_CreateObject();
            char name[64];
            rlimit_name(s->ulimits[i].name, name, sizeof(name));
            cJSON_AddStringToObject(r, "type", name);
            cJSON_AddItemToObject(r, "soft", rlimit_value(s->ulimits[i].soft));
            cJSON_AddItemToObject(r, "hard", rlimit_value(s->ulimits[i].hard));
            cJSON_AddItemToArray(rl, r);
        }
    }
    if (s->n_ulimits)
        add_default_rlimits(cJSON_GetObjectItemCaseSensitive(o, "r_limits"), s);
    if (s->init)
        cJSON_AddBoolToObject(o, "init", 1);
    if (s->stop_timeout >= 0)
        cJSON_AddNumberToObject(o, "stop_timeout", (double)s->stop_timeout);
    if (s->log_driver) {
        cJSON *lc = cJSON_AddObjectToObject(o, "log_configuration");
        cJSON_AddStringToObject(lc, "driver", s->log_driver);
        if (s->n_log_options)
            cJSON_AddItemToObject(lc, "options", kvs(s->log_options, s->n_log_options));
    }
    add_strv(o, "cap_add", s->cap_add);
    add_strv(o, "cap_drop", s->cap_drop);
    if (s->n_sysctls)
        cJSON_AddItemToObject(o, "sysctl", kvs(s->sysctls, s->n_sysctls));
    if (s->privileged)
        cJSON_AddBoolToObject(o, "privileged", 1);
    if (s->readonly_rootfs)
        cJSON_AddBoolToObject(o, "read_only_filesystem", 1);
    if (s->tty)
        cJSON_AddBoolToObject(o, "terminal", 1);
    if (s->open_stdin)
        cJSON_AddBoolToObject(o, "stdin", 1);
    if (add_security(o, s->security_opt, err, errlen) < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
