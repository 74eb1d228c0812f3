/* docker_body.c: a container spec as the body of POST /containers/create.
 *
 * Docker's names for each member: Cmd, Entrypoint, Env, WorkingDir, User,
 * Hostname, Labels, ExposedPorts, Healthcheck (durations in ns), Tty,
 * OpenStdin, StopTimeout, and under HostConfig: PortBindings, Mounts,
 * VolumesFrom, Ulimits, Memory, MemoryReservation, CpuShares, ShmSize,
 * Init, LogConfig, ExtraHosts, Dns, DnsSearch, CapAdd, CapDrop,
 * SecurityOpt, Sysctls, Privileged, ReadonlyRootfs, NetworkMode.
 *
 * A container in a sandbox joins the sandbox's network namespace
 * ("container:ID"); Docker refuses ports, a hostname and DNS settings
 * next to that mode, so those are left to the sandbox, which the agent
 * gave them to.  Host and none networking publish nothing either. */
#include <stdio.h>
#include <string.h>

#include "docker.h"

static void
add_strv(cJSON *o, const char *key, char **v)
{
    if (!v)
        return;
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (; a && *v; v++)
        cJSON_AddItemToArray(a, cJSON_CreateString(*v));
}

static void
add_kv(cJSON *o, const char *key, const struct engine_kv *kv, size_t n)
{
    cJSON *m = cJSON_AddObjectToObject(o, key);
    for (size_t i = 0; m && i < n; i++)
        cJSON_AddStringToObject(m, kv[i].key, kv[i].value);
}

static void
add_str(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
}

static void
add_num(cJSON *o, const char *key, int64_t v)
{
    if (v > 0)
        cJSON_AddNumberToObject(o, key, (double)v);
}

static void
add_ports(cJSON *o, cJSON *hc, const struct engine_spec *s)
{
    cJSON *exposed = cJSON_AddObjectToObject(o, "ExposedPorts");
    cJSON *bind = cJSON_AddObjectToObject(hc, "PortBindings");
    char key[32], port[8];

    for (size_t i = 0; exposed && bind && i < s->n_ports; i++) {
        const struct engine_port *p = &s->ports[i];
        snprintf(key, sizeof(key), "%u/%s", p->container_port,
                 p->protocol && *p->protocol ? p->protocol : "tcp");
        if (!cJSON_GetObjectItemCaseSensitive(exposed, key))
            cJSON_AddObjectToObject(exposed, key);
        if (!p->host_port) /* exposed, not published */
            continue;
        cJSON *list = cJSON_GetObjectItemCaseSensitive(bind, key);
        if (!list)
            list = cJSON_AddArrayToObject(bind, key);
        cJSON *b = cJSON_CreateObject();
        snprintf(port, sizeof(port), "%u", p->host_port);
        cJSON_AddStringToObject(b, "HostIp", p->host_ip ? p->host_ip : "");
        cJSON_AddStringToObject(b, "HostPort", port);
        cJSON_AddItemToArray(list, b);
    }
}

static void
add_mounts(cJSON *hc, const struct engine_spec *s)
{
    if (!s->n_mounts)
        return;
    cJSON *a = cJSON_AddArrayToObject(hc, "Mounts");
    for (size_t i = 0; a && i < s->n_mounts; i++) {
        const struct engine_mount *m = &s->mounts[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Type", m->volume ? "volume" : "bind");
        add_str(o, "Source", m->source);
        cJSON_AddStringToObject(o, "Target", m->target);
        cJSON_AddBoolToObject(o, "ReadOnly", m->read_only);
        if (m->volume && (m->driver || m->n_driver_opts || m->n_labels)) {
            cJSON *vo = cJSON_AddObjectToObject(o, "VolumeOptions");
            if (m->driver || m->n_driver_opts) {
                cJSON *dc = cJSON_AddObjectToObject(vo, "DriverConfig");
                add_str(dc, "Name", m->driver);
                add_kv(dc, "Options", m->driver_opts, m->n_driver_opts);
            }
            if (m->n_labels)
                add_kv(vo, "Labels", m->labels, m->n_labels);
        }
        cJSON_AddItemToArray(a, o);
    }
}

static void
add_health(cJSON *o, const struct engine_health *h)
{
    if (!h->set)
        return; /* the image's own HEALTHCHECK, if any */
    cJSON *hc = cJSON_AddObjectToObject(o, "Healthcheck");
    add_strv(hc, "Test", h->test);
    /* 0 means the engine's default; the spec is in ms, Docker wants ns. */
    add_num(hc, "Interval", h->interval_ms * 1000000);
    add_num(hc, "Timeout", h->timeout_ms * 1000000);
    add_num(hc, "StartPeriod", h->start_period_ms * 1000000);
    add_num(hc, "Retries", h->retries);
}

static void
add_host_config(cJSON *hc, const struct engine_spec *s)
{
    if (s->n_volumes_from) {
        cJSON *a = cJSON_AddArrayToObject(hc, "VolumesFrom");
        char buf[600];
        for (size_t i = 0; a && i < s->n_volumes_from; i++) {
            snprintf(buf, sizeof(buf), "%s:%s", s->volumes_from[i].key,
                     s->volumes_from[i].value);
            cJSON_AddItemToArray(a, cJSON_CreateString(buf));
        }
    }
    if (s->n_ulimits) {
        cJSON *a = cJSON_AddArrayToObject(hc, "Ulimits");
        for (size_t i = 0; a && i < s->n_ulimits; i++) {
            cJSON *u = cJSON_CreateObject();
            cJSON_AddStringToObject(u, "Name", s->ulimits[i].name);
            cJSON_AddNumberToObject(u, "Soft", (double)s->ulimits[i].soft);
            cJSON_AddNumberToObject(u, "Hard", (double)s->ulimits[i].hard);
            cJSON_AddItemToArray(a, u);
        }
    }
    add_num(hc, "Memory", s->memory_bytes);
    add_num(hc, "MemoryReservation", s->memory_reservation_bytes);
    /* Docker's floor is 2 shares; ECS sends 1 for "almost nothing" too. */
    add_num(hc, "CpuShares", s->cpu_shares == 1 ? 2 : s->cpu_shares);
    add_num(hc, "ShmSize", s->shm_size_bytes);
    if (s->init)
        cJSON_AddBoolToObject(hc, "Init", 1);
    if (s->log_driver) {
        cJSON *lc = cJSON_AddObjectToObject(hc, "LogConfig");
        cJSON_AddStringToObject(lc, "Type", s->log_driver);
        add_kv(lc, "Config", s->log_options, s->n_log_options);
    }
    add_strv(hc, "CapAdd", s->cap_add);
    add_strv(hc, "CapDrop", s->cap_drop);
    add_strv(hc, "SecurityOpt", s->security_opt);
    if (s->n_sysctls)
        add_kv(hc, "Sysctls", s->sysctls, s->n_sysctls);
    if (s->privileged)
        cJSON_AddBoolToObject(hc, "Privileged", 1);
    if (s->readonly_rootfs)
        cJSON_AddBoolToObject(hc, "ReadonlyRootfs", 1);
}

cJSON *
docker_create_body(const struct engine_spec *s, char *err, size_t errlen)
{
    const char *net = s->network ? s->network : "bridge";
    char mode[300];
    cJSON *o, *hc;

    if (!s->sandbox && strcmp(net, "awsvpc") == 0) {
        snprintf(err, errlen, "spec.network: awsvpc needs spec.sandbox (the task's "
                              "network namespace, from sandbox_create)");
        return NULL;
    }
    if (!(o = cJSON_CreateObject()))
        goto oom;
    hc = cJSON_AddObjectToObject(o, "HostConfig");
    cJSON_AddStringToObject(o, "Image", s->image);
    add_strv(o, "Entrypoint", s->entry_point);
    add_strv(o, "Cmd", s->command);
    add_strv(o, "Env", s->env);
    add_str(o, "WorkingDir", s->working_dir);
    add_str(o, "User", s->user);
    if (s->n_labels)
        add_kv(o, "Labels", s->labels, s->n_labels);
    add_health(o, &s->health);
    if (s->tty)
        cJSON_AddBoolToObject(o, "Tty", 1);
    if (s->open_stdin)
        cJSON_AddBoolToObject(o, "OpenStdin", 1);
    if (s->stop_timeout >= 0)
        cJSON_AddNumberToObject(o, "StopTimeout", (double)s->stop_timeout);

    if (s->sandbox) {
        snprintf(mode, sizeof(mode), "container:%s", s->sandbox);
        cJSON_AddStringToObject(hc, "NetworkMode", mode);
    } else {
        cJSON_AddStringToObject(hc, "NetworkMode", net);
        add_str(o, "Hostname", s->hostname);
        add_strv(hc, "ExtraHosts", s->extra_hosts);
        add_strv(hc, "Dns", s->dns);
        add_strv(hc, "DnsSearch", s->dns_search);
        if (strcmp(net, "bridge") == 0 && s->n_ports)
            add_ports(o, hc, s);
    }
    add_mounts(hc, s);
    add_host_config(hc, s);
    /* cJSON's adders fail quietly on a NULL parent: check once, at the end. */
    if (!hc || !cJSON_GetObjectItemCaseSensitive(o, "Image"))
        goto oom;
    return o;
oom:
    cJSON_Delete(o);
    snprintf(err, errlen, "out of memory");
    return NULL;
}
