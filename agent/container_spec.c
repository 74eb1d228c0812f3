/* container_spec.c: task definition containers as runtime specs. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agent/container_spec.h"
#include "agent/task.h"
#include "agent/taskdef.h"

#define MIB (1024LL * 1024LL)

char *container_engine_name(const struct task *t, int i)
{
    char *s;

    if (i < 0) {
        if (asprintf(&s, "berth-%s-%lld-%s", t->family, (long long)t->revision,
                     t->id) < 0)
            return NULL;
    } else if (asprintf(&s, "berth-%s-%lld-%s-%s", t->family,
                        (long long)t->revision, t->containers[i].name, t->id) < 0) {
        return NULL;
    }
    return s;
}

static cJSON *strv(const struct jw_strv *v)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < v->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v->v[i]));
    return a;
}

static void add_strv(cJSON *o, const char *key, const struct jw_strv *v)
{
    if (v->n)
        cJSON_AddItemToObject(o, key, strv(v));
}

static cJSON *map(const struct jw_map *m)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < m->n; i++)
        cJSON_AddStringToObject(o, m->v[i].name, m->v[i].value);
    return o;
}

/* ---- environment ---- */

/* name=value pairs, later ones replacing earlier ones of the same name. */
struct env {
    char **v; /* "NAME=value" */
    size_t n;
};

static int env_set(struct env *e, const char *name, size_t name_len,
                   const char *value)
{
    char *kv;

    if (asprintf(&kv, "%.*s=%s", (int)name_len, name, value) < 0)
        return -1;
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->v[i], name, name_len) == 0 && e->v[i][name_len] == '=') {
            free(e->v[i]);
            e->v[i] = kv;
            return 0;
        }
    char **grown = realloc(e->v, (e->n + 1) * sizeof *grown);
    if (!grown) {
        free(kv);
        return -1;
    }
    e->v = grown;
    e->v[e->n++] = kv;
    return 0;
}

static void env_free(struct env *e)
{
    for (size_t i = 0; i < e->n; i++) {
        /* May hold a secret: leave nothing behind in freed memory. */
        explicit_bzero(e->v[i], strlen(e->v[i]));
        free(e->v[i]);
    }
    free(e->v);
}

static bool valid_env_name(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '=' || s[i] == '\0' || s[i] == ' ' || s[i] == '\t')
            return false;
    return true;
}

static int env_file(struct env *e, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;

    if (!f) {
        snprintf(err, errlen, "environment file %s: %s", path, strerror(errno));
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        const char *eq = strchr(p, '=');
        if (!eq || !valid_env_name(p, (size_t)(eq - p))) {
            snprintf(err, errlen, "environment file %s:%d: expected "
                     "VARIABLE=VALUE", path, lineno);
            rc = -1;
            break;
        }
        if (env_set(e, p, (size_t)(eq - p), eq + 1) < 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    /* getline's -1 is also a read error (a folder gives EISDIR): not an
     * empty file. */
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "environment file %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (line) {
        explicit_bzero(line, cap);
        free(line);
    }
    fclose(f);
    return rc;
}

char *secret_read(const char *dir, const char *value_from, char *err,
                  size_t errlen)
{
    const char *name = value_from, *p;
    char *path, *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f;

    if (!dir || !*dir) {
        snprintf(err, errlen, "secret %s: no secrets folder is configured "
                 "([tasks] secrets-dir)", value_from);
        return NULL;
    }
    if (strncmp(name, "arn:", 4) == 0) {
        if ((p = strstr(name, ":secret:")))
            name = p + 8;
        else if ((p = strstr(name, ":parameter/")))
            name = p + 11;
        else if ((p = strrchr(name, ':')))
            name = p + 1;
    }
    if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0) {
        snprintf(err, errlen, "secret %s: expected a name without '/' (a "
                 "file in the secrets folder)", value_from);
        return NULL;
    }
    if (asprintf(&path, "%s/%s", dir, name) < 0) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "secret %s: cannot read %s: %s", value_from, path,
                 strerror(errno));
        free(path);
        return NULL;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *grown = malloc(ncap);
            if (!grown) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            /* Not realloc: the old copy must be wiped, not just freed. */
            if (buf) {
                memcpy(grown, buf, len);
                explicit_bzero(buf, cap);
                free(buf);
            }
            buf = grown;
            cap = ncap;
        }
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0)
            break;
    }
    /* A read error (a folder gives EISDIR) must not pass as a short or
     * empty secret. */
    if (ferror(f)) {
        snprintf(err, errlen, "secret %s: cannot read %s: %s", value_from, path,
                 strerror(errno));
        goto fail;
    }
    fclose(f);
    free(path);
    buf[len] = '\0';
    /* A file written by an editor ends with one newline that is not part
     * of the secret. */
    if (len && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (len && buf[len - 1] == '\r')
        buf[--len] = '\0';
    return buf;
fail:
    if (buf) {
        explicit_bzero(buf, cap);
        free(buf);
    }
    fclose(f);
    free(path);
    return NULL;
}

static int build_env(const struct taskdef_container *dc, const struct spec_opts *o,
                     struct env *e, char *err, size_t errlen)
{
    for (size_t i = 0; i < dc->n_environment_files; i++)
        if (env_file(e, dc->environment_files[i].value, err, errlen) < 0)
            return -1;
    for (size_t i = 0; i < dc->n_environment; i++)
        if (env_set(e, dc->environment[i].name, strlen(dc->environment[i].name),
                    dc->environment[i].value) < 0)
            goto oom;
    for (size_t i = 0; i < dc->n_secrets; i++) {
        char *v = secret_read(o->secrets_dir, dc->secrets[i].value_from, err, errlen);
        if (!v)
            return -1;
        int r = env_set(e, dc->secrets[i].name, strlen(dc->secrets[i].name), v);
        explicit_bzero(v, strlen(v));
        free(v);
        if (r < 0)
            goto oom;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* ---- pieces ---- */

static const char *net_mode(const struct taskdef *td)
{
    return taskdef_network_modes[td->network_mode];
}

static void add_labels(cJSON *o, const struct task *t, const char *container,
                       const struct spec_opts *so, const struct jw_map *user)
{
    cJSON *l = user ? map(user) : cJSON_CreateObject();
    char rev[24];

    /* Ours last: a dockerLabel cannot pretend to be another task's. */
    snprintf(rev, sizeof rev, "%lld", (long long)t->revision);
    cJSON_DeleteItemFromObjectCaseSensitive(l, LABEL_TASK_ARN);
    cJSON_DeleteItemFromObjectCaseSensitive(l, LABEL_CONTAINER);
    cJSON_DeleteItemFromObjectCaseSensitive(l, LABEL_FAMILY);
    cJSON_DeleteItemFromObjectCaseSensitive(l, LABEL_VERSION);
    cJSON_DeleteItemFromObjectCaseSensitive(l, LABEL_CLUSTER);
    cJSON_AddStringToObject(l, LABEL_TASK_ARN, t->arn);
    if (container)
        cJSON_AddStringToObject(l, LABEL_CONTAINER, container);
    cJSON_AddStringToObject(l, LABEL_FAMILY, t->family);
    cJSON_AddStringToObject(l, LABEL_VERSION, rev);
    cJSON_AddStringToObject(l, LABEL_CLUSTER, so->cluster);
    cJSON_AddItemToObject(o, "labels", l);
}

cJSON *container_labels_json(const struct task *t, size_t i, const char *cluster)
{
    struct spec_opts so = {cluster, NULL, false, NULL, NULL};
    cJSON *o = cJSON_CreateObject(), *l;

    add_labels(o, t, t->containers[i].name, &so,
               t->td && i < t->td->n_containers ? &t->td->containers[i].docker_labels
                                                : NULL);
    l = cJSON_DetachItemFromObjectCaseSensitive(o, "labels");
    cJSON_Delete(o);
    return l;
}

static cJSON *port_json(const struct task_binding *b)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "containerPort", b->container_port);
    cJSON_AddNumberToObject(p, "hostPort", b->host_port);
    cJSON_AddStringToObject(p, "protocol", b->udp ? "udp" : "tcp");
    cJSON_AddStringToObject(p, "hostIp", "");
    return p;
}

/* Ports published where the engine publishes them: in bridge mode on each
 * container, or all on the sandbox when there is one. */
static void add_ports(cJSON *o, const struct task *t, int only)
{
    cJSON *a = cJSON_CreateArray();

    if (t->td->network_mode == TASKDEF_NET_BRIDGE) {
        for (size_t i = 0; i < t->n_containers; i++) {
            if (only >= 0 && (size_t)only != i)
                continue;
            const struct task_container *c = &t->containers[i];
            for (size_t j = 0; j < c->n_bindings; j++)
                cJSON_AddItemToArray(a, port_json(&c->bindings[j]));
        }
    }
    cJSON_AddItemToObject(o, "ports", a);
}

static int add_mounts(cJSON *o, const struct task *t,
                      const struct taskdef_container *dc, char *err, size_t errlen)
{
    const struct taskdef *td = t->td;
    cJSON *a = cJSON_CreateArray();

    cJSON_AddItemToObject(o, "mounts", a);
    for (size_t i = 0; i < dc->n_mount_points; i++) {
        const struct taskdef_mount *m = &dc->mount_points[i];
        const struct taskdef_volume *v = NULL;
        for (size_t j = 0; j < td->n_volumes; j++)
            if (strcmp(td->volumes[j].name, m->source_volume) == 0)
                v = &td->volumes[j];
        if (!v) {
            snprintf(err, errlen, "mountPoints: volume %s is not defined",
                     m->source_volume);
            return -1;
        }
        cJSON *e = cJSON_CreateObject();
        if (v->has_host && v->host.source_path) {
            cJSON_AddStringToObject(e, "type", "bind");
            cJSON_AddStringToObject(e, "source", v->host.source_path);
        } else {
            char *name = NULL;
            cJSON_AddStringToObject(e, "type", "volume");
            /* A task-scoped volume (also a host volume without a path)
             * belongs to this task; a shared one is named as written. */
            if (v->has_docker && v->docker.scope == TASKDEF_SCOPE_SHARED)
                name = strdup(v->name);
            else if (asprintf(&name, "berth-%s-%s", t->id, v->name) < 0)
                name = NULL;
            if (name)
                cJSON_AddStringToObject(e, "source", name);
            free(name);
            if (v->has_docker) {
                /* ECS: a shared volume without autoprovision must exist. */
                if (v->docker.scope == TASKDEF_SCOPE_SHARED && !v->docker.autoprovision)
                    cJSON_AddTrueToObject(e, "mustExist");
                if (v->docker.driver)
                    cJSON_AddStringToObject(e, "driver", v->docker.driver);
                if (v->docker.driver_opts.n)
                    cJSON_AddItemToObject(e, "driverOpts", map(&v->docker.driver_opts));
                if (v->docker.labels.n)
                    cJSON_AddItemToObject(e, "labels", map(&v->docker.labels));
            }
        }
        cJSON_AddStringToObject(e, "target", m->container_path);
        cJSON_AddBoolToObject(e, "readOnly", m->read_only);
        cJSON_AddItemToArray(a, e);
    }
    return 0;
}

char *metadata_uri(const char *hostport, int version, const char *token)
{
    char *uri;
    return asprintf(&uri, "http://%s/v%d/%s", hostport, version, token) < 0 ? NULL : uri;
}

static int metadata_env(struct env *e, const struct spec_opts *so,
                        const char *token, char *err, size_t errlen)
{
    static const char *const names[] = {"ECS_CONTAINER_METADATA_URI",
                                        "ECS_CONTAINER_METADATA_URI_V4"};

    if (!so->metadata_hostport || !token)
        return 0;
    for (int v = 0; v < 2; v++) {
        char *uri = metadata_uri(so->metadata_hostport, v ? 4 : 3, token);
        int r = uri ? env_set(e, names[v], strlen(names[v]), uri) : -1;
        free(uri);
        if (r < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

char *container_spec_json(const struct task *t, size_t ci,
                          const struct spec_opts *so, char *err, size_t errlen)
{
    const struct taskdef *td = t->td;
    const struct taskdef_container *dc = &td->containers[ci];
    cJSON *o = cJSON_CreateObject();
    struct env env = {0};
    char *name = container_engine_name(t, (int)ci), *out = NULL;

    if (!o || !name) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "image", dc->image);
    cJSON_AddStringToObject(o, "network", net_mode(td));
    if (t->sandbox_id)
        cJSON_AddStringToObject(o, "sandbox", t->sandbox_id);
    add_strv(o, "entryPoint", &dc->entry_point);
    add_strv(o, "command", &dc->command);
    if (build_env(dc, so, &env, err, errlen) < 0 ||
        metadata_env(&env, so, t->containers[ci].md_token, err, errlen) < 0)
        goto done;
    if (env.n) {
        cJSON *a = cJSON_AddArrayToObject(o, "env");
        for (size_t i = 0; i < env.n; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(env.v[i]));
    }
    if (dc->working_directory)
        cJSON_AddStringToObject(o, "workingDir", dc->working_directory);
    if (dc->user)
        cJSON_AddStringToObject(o, "user", dc->user);
    if (dc->hostname)
        cJSON_AddStringToObject(o, "hostname", dc->hostname);
    add_labels(o, t, dc->name, so, &dc->docker_labels);
    /* ECS on Linux: cpu units are CPU shares; below 2 the kernel's
     * minimum applies. */
    if (dc->cpu > 0)
        cJSON_AddNumberToObject(o, "cpuShares", (double)(dc->cpu < 2 ? 2 : dc->cpu));
    if (dc->memory > 0)
        cJSON_AddNumberToObject(o, "memoryBytes", (double)(dc->memory * MIB));
    if (dc->memory_reservation > 0)
        cJSON_AddNumberToObject(o, "memoryReservationBytes",
                                (double)(dc->memory_reservation * MIB));
    if (dc->has_linux_parameters && dc->linux_parameters.shared_memory_size > 0)
        cJSON_AddNumberToObject(o, "shmSizeBytes",
                                (double)(dc->linux_parameters.shared_memory_size * MIB));
    if (!t->sandbox_id)
        add_ports(o, t, (int)ci);
    if (add_mounts(o, t, dc, err, errlen) < 0)
        goto done;
    if (dc->n_volumes_from) {
        cJSON *a = cJSON_AddArrayToObject(o, "volumesFrom");
        for (size_t i = 0; i < dc->n_volumes_from; i++) {
            int k = -1;
            for (size_t j = 0; j < t->n_containers; j++)
                if (strcmp(t->containers[j].name,
                           dc->volumes_from[i].source_container) == 0)
                    k = (int)j;
            if (k < 0 || !t->containers[k].runtime_id) {
                snprintf(err, errlen, "volumesFrom: container %s is not created",
                         dc->volumes_from[i].source_container);
                goto done;
            }
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "container", t->containers[k].runtime_id);
            cJSON_AddBoolToObject(e, "readOnly", dc->volumes_from[i].read_only);
            cJSON_AddItemToArray(a, e);
        }
    }
    if (dc->n_ulimits) {
        cJSON *a = cJSON_AddArrayToObject(o, "ulimits");
        for (size_t i = 0; i < dc->n_ulimits; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", taskdef_ulimit_names[dc->ulimits[i].name]);
            cJSON_AddNumberToObject(e, "soft", (double)dc->ulimits[i].soft_limit);
            cJSON_AddNumberToObject(e, "hard", (double)dc->ulimits[i].hard_limit);
            cJSON_AddItemToArray(a, e);
        }
    }
    if (dc->has_health_check) {
        const struct taskdef_health_check *h = &dc->health_check;
        cJSON *e = cJSON_AddObjectToObject(o, "healthCheck");
        cJSON_AddItemToObject(e, "test", strv(&h->command));
        cJSON_AddNumberToObject(e, "intervalMs", (double)(h->interval * 1000));
        cJSON_AddNumberToObject(e, "timeoutMs", (double)(h->timeout * 1000));
        cJSON_AddNumberToObject(e, "startPeriodMs", (double)(h->start_period * 1000));
        cJSON_AddNumberToObject(e, "retries", (double)h->retries);
    } else if (!so->image_healthcheck) {
        cJSON *e = cJSON_AddObjectToObject(o, "healthCheck");
        cJSON *test = cJSON_AddArrayToObject(e, "test");
        cJSON_AddItemToArray(test, cJSON_CreateString("NONE"));
    }
    if (dc->has_linux_parameters) {
        if (dc->linux_parameters.init_process_enabled)
            cJSON_AddBoolToObject(o, "init", 1);
        add_strv(o, "capAdd", &dc->linux_parameters.capabilities.add);
        add_strv(o, "capDrop", &dc->linux_parameters.capabilities.drop);
    }
    cJSON_AddNumberToObject(o, "stopTimeout", (double)dc->stop_timeout);
    if (dc->has_log_configuration &&
        dc->log_configuration.driver != TASKDEF_LOG_AWSLOGS) {
        cJSON *e = cJSON_AddObjectToObject(o, "log");
        cJSON_AddStringToObject(e, "driver",
                                taskdef_log_drivers[dc->log_configuration.driver]);
        cJSON_AddItemToObject(e, "options", map(&dc->log_configuration.options));
    }
    if (dc->n_extra_hosts) {
        cJSON *a = cJSON_AddArrayToObject(o, "extraHosts");
        for (size_t i = 0; i < dc->n_extra_hosts; i++) {
            char *h;
            if (asprintf(&h, "%s:%s", dc->extra_hosts[i].hostname,
                         dc->extra_hosts[i].ip_address) >= 0) {
                cJSON_AddItemToArray(a, cJSON_CreateString(h));
                free(h);
            }
        }
    }
    /* A task in a sandbox (Podman's pod, awsvpc) has its resolver there
     * (sandbox_spec_json): its containers share one resolv.conf. */
    if (!t->sandbox_id) {
        if (dc->dns_servers.n == 0 && so->dns_server &&
            t->td->network_mode == TASKDEF_NET_BRIDGE) {
            cJSON *a = cJSON_AddArrayToObject(o, "dns");
            cJSON_AddItemToArray(a, cJSON_CreateString(so->dns_server));
        }
        add_strv(o, "dns", &dc->dns_servers);
        add_strv(o, "dnsSearch", &dc->dns_search_domains);
    }
    add_strv(o, "securityOpt", &dc->docker_security_options);
    if (dc->n_system_controls) {
        cJSON *s = cJSON_AddObjectToObject(o, "sysctls");
        for (size_t i = 0; i < dc->n_system_controls; i++)
            cJSON_AddStringToObject(s, dc->system_controls[i].namespace_,
                                    dc->system_controls[i].value);
    }
    if (dc->privileged)
        cJSON_AddBoolToObject(o, "privileged", 1);
    if (dc->readonly_root_filesystem)
        cJSON_AddBoolToObject(o, "readonlyRootfs", 1);
    if (dc->pseudo_terminal)
        cJSON_AddBoolToObject(o, "tty", 1);
    if (dc->interactive)
        cJSON_AddBoolToObject(o, "openStdin", 1);
    out = cJSON_PrintUnformatted(o);
    if (!out)
        snprintf(err, errlen, "out of memory");
done:
    env_free(&env);
    if (o) {
        /* The tree holds the environment too. */
        cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "env"), *e;
        cJSON_ArrayForEach(e, ev) {
            if (cJSON_IsString(e))
                explicit_bzero(e->valuestring, strlen(e->valuestring));
        }
        cJSON_Delete(o);
    }
    free(name);
    return out;
}

/* The strings of one jw_strv member (at offset off) of every container
 * of t's task definition, in order, each once; NULL when there are none. */
static cJSON *union_strv(const struct task *t, size_t off)
{
    cJSON *a = NULL;

    for (size_t i = 0; t->td && i < t->td->n_containers; i++) {
        const struct jw_strv *v =
            (const struct jw_strv *)((const char *)&t->td->containers[i] + off);
        for (size_t j = 0; j < v->n; j++) {
            bool seen = false;
            cJSON *e;
            cJSON_ArrayForEach(e, a) {
                if (strcmp(e->valuestring, v->v[j]) == 0)
                    seen = true;
            }
            if (seen)
                continue;
            if (!a)
                a = cJSON_CreateArray();
            cJSON_AddItemToArray(a, cJSON_CreateString(v->v[j]));
        }
    }
    return a;
}

char *sandbox_spec_json(const struct task *t, const struct spec_opts *so)
{
    cJSON *o = cJSON_CreateObject();
    char *name = container_engine_name(t, -1), *out;

    cJSON_AddStringToObject(o, "name", name ? name : "");
    free(name);
    cJSON_AddStringToObject(o, "network", net_mode(t->td));
    add_labels(o, t, NULL, so, NULL);
    add_ports(o, t, -1); /* every container's ports are the sandbox's */
    /* The runtime ignores these when it makes no sandbox.  The task's
     * containers share the sandbox's resolv.conf: every container's
     * dnsServers (and dnsSearchDomains) in order, each once; with none,
     * the task resolver. */
    cJSON *dns = union_strv(t, offsetof(struct taskdef_container, dns_servers));
    if (!dns && so->dns_server) {
        dns = cJSON_CreateArray();
        cJSON_AddItemToArray(dns, cJSON_CreateString(so->dns_server));
    }
    if (dns)
        cJSON_AddItemToObject(o, "dns", dns);
    cJSON *search = union_strv(t, offsetof(struct taskdef_container, dns_search_domains));
    if (search)
        cJSON_AddItemToObject(o, "dnsSearch", search);
    out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}
