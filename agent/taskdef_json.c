/* taskdef_json.c: a parsed task definition rendered back as ECS's JSON, and
 * the canonical text, digest and equality built on it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/taskdef.h"

static const char *const protocol_names[] = {"tcp", "udp"};
static const char *const app_protocol_names[] = {"http", "http2", "grpc"};
static const char *const pid_mode_names[] = {"host", "task"};
static const char *const ipc_mode_names[] = {"host", "task", "none"};
static const char *const scope_names[] = {"task", "shared"};

static cJSON *add_obj(cJSON *parent, const char *key)
{
    return cJSON_AddObjectToObject(parent, key);
}

static void add_int(cJSON *o, const char *key, int64_t v)
{
    cJSON_AddNumberToObject(o, key, (double)v);
}

static void add_str(cJSON *o, const char *key, const char *s)
{
    if (s)
        cJSON_AddStringToObject(o, key, s);
}

/* Flags that default to false are shown only when true: a definition that
 * spells out "false" and one that leaves it out are the same definition. */
static void add_true(cJSON *o, const char *key, bool b)
{
    if (b)
        cJSON_AddTrueToObject(o, key);
}

static void add_strv(cJSON *o, const char *key, const struct jw_strv *s, bool always)
{
    if (!s->n && !always)
        return;
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (size_t i = 0; i < s->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s->v[i]));
}

static void add_map(cJSON *o, const char *key, const struct jw_map *m)
{
    if (!m->n)
        return;
    cJSON *x = add_obj(o, key);
    for (size_t i = 0; i < m->n; i++)
        cJSON_AddStringToObject(x, m->v[i].name, m->v[i].value);
}

static void ports_json(cJSON *c, const struct taskdef_container *ct)
{
    cJSON *a = cJSON_AddArrayToObject(c, "portMappings");
    for (size_t i = 0; i < ct->n_port_mappings; i++) {
        const struct taskdef_port *p = &ct->port_mappings[i];
        cJSON *o = cJSON_CreateObject();
        add_int(o, "containerPort", p->container_port);
        add_int(o, "hostPort", p->host_port);
        add_str(o, "protocol", protocol_names[p->protocol]);
        add_str(o, "name", p->name);
        if (p->has_app_protocol)
            add_str(o, "appProtocol", app_protocol_names[p->app_protocol]);
        cJSON_AddItemToArray(a, o);
    }
}

static void env_json(cJSON *c, const struct taskdef_container *ct)
{
    cJSON *a = cJSON_AddArrayToObject(c, "environment");
    for (size_t i = 0; i < ct->n_environment; i++) {
        cJSON *o = cJSON_CreateObject();
        add_str(o, "name", ct->environment[i].name);
        add_str(o, "value", ct->environment[i].value);
        cJSON_AddItemToArray(a, o);
    }
    if (ct->n_environment_files) {
        a = cJSON_AddArrayToObject(c, "environmentFiles");
        for (size_t i = 0; i < ct->n_environment_files; i++) {
            cJSON *o = cJSON_CreateObject();
            add_str(o, "value", ct->environment_files[i].value);
            add_str(o, "type", "s3");
            cJSON_AddItemToArray(a, o);
        }
    }
}

static void volumes_json(cJSON *c, const struct taskdef_container *ct)
{
    cJSON *a = cJSON_AddArrayToObject(c, "mountPoints");
    for (size_t i = 0; i < ct->n_mount_points; i++) {
        const struct taskdef_mount *m = &ct->mount_points[i];
        cJSON *o = cJSON_CreateObject();
        add_str(o, "sourceVolume", m->source_volume);
        add_str(o, "containerPath", m->container_path);
        cJSON_AddBoolToObject(o, "readOnly", m->read_only);
        cJSON_AddItemToArray(a, o);
    }
    a = cJSON_AddArrayToObject(c, "volumesFrom");
    for (size_t i = 0; i < ct->n_volumes_from; i++) {
        cJSON *o = cJSON_CreateObject();
        add_str(o, "sourceContainer", ct->volumes_from[i].source_container);
        cJSON_AddBoolToObject(o, "readOnly", ct->volumes_from[i].read_only);
        cJSON_AddItemToArray(a, o);
    }
}

static void linux_json(cJSON *c, const struct taskdef_container *ct)
{
    if (!ct->has_linux_parameters)
        return;
    const struct taskdef_linux *l = &ct->linux_parameters;
    cJSON *o = add_obj(c, "linuxParameters");
    if (l->capabilities.add.n || l->capabilities.drop.n) {
        cJSON *cap = add_obj(o, "capabilities");
        add_strv(cap, "add", &l->capabilities.add, false);
        add_strv(cap, "drop", &l->capabilities.drop, false);
    }
    add_true(o, "initProcessEnabled", l->init_process_enabled);
    if (l->shared_memory_size)
        add_int(o, "sharedMemorySize", l->shared_memory_size);
}

static void refs_json(cJSON *c, const struct taskdef_container *ct)
{
    if (ct->n_secrets) {
        cJSON *a = cJSON_AddArrayToObject(c, "secrets");
        for (size_t i = 0; i < ct->n_secrets; i++) {
            cJSON *o = cJSON_CreateObject();
            add_str(o, "name", ct->secrets[i].name);
            add_str(o, "valueFrom", ct->secrets[i].value_from);
            cJSON_AddItemToArray(a, o);
        }
    }
    if (ct->n_depends_on) {
        cJSON *a = cJSON_AddArrayToObject(c, "dependsOn");
        for (size_t i = 0; i < ct->n_depends_on; i++) {
            cJSON *o = cJSON_CreateObject();
            add_str(o, "containerName", ct->depends_on[i].container_name);
            add_str(o, "condition", taskdef_conditions[ct->depends_on[i].condition]);
            cJSON_AddItemToArray(a, o);
        }
    }
}

static void host_json(cJSON *c, const struct taskdef_container *ct)
{
    add_str(c, "hostname", ct->hostname);
    add_str(c, "user", ct->user);
    add_str(c, "workingDirectory", ct->working_directory);
    add_true(c, "disableNetworking", ct->disable_networking);
    add_true(c, "privileged", ct->privileged);
    add_true(c, "readonlyRootFilesystem", ct->readonly_root_filesystem);
    add_strv(c, "dnsServers", &ct->dns_servers, false);
    add_strv(c, "dnsSearchDomains", &ct->dns_search_domains, false);
    if (ct->n_extra_hosts) {
        cJSON *a = cJSON_AddArrayToObject(c, "extraHosts");
        for (size_t i = 0; i < ct->n_extra_hosts; i++) {
            cJSON *o = cJSON_CreateObject();
            add_str(o, "hostname", ct->extra_hosts[i].hostname);
            add_str(o, "ipAddress", ct->extra_hosts[i].ip_address);
            cJSON_AddItemToArray(a, o);
        }
    }
    add_strv(c, "dockerSecurityOptions", &ct->docker_security_options, false);
    add_true(c, "interactive", ct->interactive);
    add_true(c, "pseudoTerminal", ct->pseudo_terminal);
    add_map(c, "dockerLabels", &ct->docker_labels);
    if (ct->n_ulimits) {
        cJSON *a = cJSON_AddArrayToObject(c, "ulimits");
        for (size_t i = 0; i < ct->n_ulimits; i++) {
            cJSON *o = cJSON_CreateObject();
            add_str(o, "name", taskdef_ulimit_names[ct->ulimits[i].name]);
            add_int(o, "softLimit", ct->ulimits[i].soft_limit);
            add_int(o, "hardLimit", ct->ulimits[i].hard_limit);
            cJSON_AddItemToArray(a, o);
        }
    }
}

static void tail_json(cJSON *c, const struct taskdef_container *ct)
{
    if (ct->has_log_configuration) {
        cJSON *o = add_obj(c, "logConfiguration");
        add_str(o, "logDriver", taskdef_log_drivers[ct->log_configuration.driver]);
        add_map(o, "options", &ct->log_configuration.options);
    }
    if (ct->has_health_check) {
        const struct taskdef_health_check *h = &ct->health_check;
        cJSON *o = add_obj(c, "healthCheck");
        add_strv(o, "command", &h->command, true);
        add_int(o, "interval", h->interval);
        add_int(o, "timeout", h->timeout);
        add_int(o, "retries", h->retries);
        add_int(o, "startPeriod", h->start_period);
    }
    if (ct->n_system_controls) {
        cJSON *a = cJSON_AddArrayToObject(c, "systemControls");
        for (size_t i = 0; i < ct->n_system_controls; i++) {
            cJSON *o = cJSON_CreateObject();
            add_str(o, "namespace", ct->system_controls[i].namespace_);
            add_str(o, "value", ct->system_controls[i].value);
            cJSON_AddItemToArray(a, o);
        }
    }
    if (ct->has_restart_policy) {
        const struct taskdef_restart_policy *r = &ct->restart_policy;
        cJSON *o = add_obj(c, "restartPolicy");
        cJSON_AddBoolToObject(o, "enabled", r->enabled);
        cJSON *a = cJSON_AddArrayToObject(o, "ignoredExitCodes");
        for (size_t i = 0; i < r->ignored_exit_codes.n; i++)
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)r->ignored_exit_codes.v[i]));
        add_int(o, "restartAttemptPeriod", r->restart_attempt_period);
    }
}

/* Members in the order of the ECS model, as DescribeTaskDefinition has it. */
static cJSON *container_json(const struct taskdef_container *ct)
{
    cJSON *c = cJSON_CreateObject();
    add_str(c, "name", ct->name);
    add_str(c, "image", ct->image);
    add_int(c, "cpu", ct->cpu);
    if (ct->memory)
        add_int(c, "memory", ct->memory);
    if (ct->memory_reservation)
        add_int(c, "memoryReservation", ct->memory_reservation);
    add_strv(c, "links", &ct->links, false);
    ports_json(c, ct);
    cJSON_AddBoolToObject(c, "essential", ct->essential);
    add_strv(c, "entryPoint", &ct->entry_point, false);
    add_strv(c, "command", &ct->command, false);
    env_json(c, ct);
    volumes_json(c, ct);
    linux_json(c, ct);
    refs_json(c, ct);
    if (ct->start_timeout)
        add_int(c, "startTimeout", ct->start_timeout);
    add_int(c, "stopTimeout", ct->stop_timeout);
    host_json(c, ct);
    tail_json(c, ct);
    return c;
}

static void task_volumes_json(cJSON *root, const struct taskdef *td)
{
    cJSON *a = cJSON_AddArrayToObject(root, "volumes");
    for (size_t i = 0; i < td->n_volumes; i++) {
        const struct taskdef_volume *v = &td->volumes[i];
        cJSON *o = cJSON_CreateObject();
        add_str(o, "name", v->name);
        if (v->has_host) {
            cJSON *h = add_obj(o, "host");
            add_str(h, "sourcePath", v->host.source_path);
        }
        if (v->has_docker) {
            const struct taskdef_docker_volume *d = &v->docker;
            cJSON *x = add_obj(o, "dockerVolumeConfiguration");
            add_str(x, "scope", scope_names[d->scope]);
            add_true(x, "autoprovision", d->autoprovision);
            add_str(x, "driver", d->driver);
            add_map(x, "driverOpts", &d->driver_opts);
            add_map(x, "labels", &d->labels);
        }
        cJSON_AddItemToArray(a, o);
    }
}

cJSON *taskdef_to_json(const struct taskdef *td)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "containerDefinitions");
    for (size_t i = 0; i < td->n_containers; i++)
        cJSON_AddItemToArray(a, container_json(&td->containers[i]));
    add_str(root, "family", td->family);
    add_str(root, "networkMode", taskdef_network_modes[td->network_mode]);
    task_volumes_json(root, td);
    /* ECS shows task cpu and memory as strings of units and MiB. */
    char num[32];
    if (td->cpu) {
        snprintf(num, sizeof num, "%lld", (long long)td->cpu);
        add_str(root, "cpu", num);
    }
    if (td->memory) {
        snprintf(num, sizeof num, "%lld", (long long)td->memory);
        add_str(root, "memory", num);
    }
    if (td->has_pid_mode)
        add_str(root, "pidMode", pid_mode_names[td->pid_mode]);
    if (td->has_ipc_mode)
        add_str(root, "ipcMode", ipc_mode_names[td->ipc_mode]);
    return root;
}

cJSON *taskdef_tags_to_json(const struct taskdef *td)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < td->n_tags; i++) {
        cJSON *o = cJSON_CreateObject();
        add_str(o, "key", td->tags[i].key);
        add_str(o, "value", td->tags[i].value);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

char *taskdef_canonical(const struct taskdef *td)
{
    cJSON *root = taskdef_to_json(td);
    /* Tags are not in DescribeTaskDefinition's taskDefinition, but a
     * change of tags is a change of the definition. */
    if (td->n_tags)
        cJSON_AddItemToObject(root, "tags", taskdef_tags_to_json(td));
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s)
        abort();
    return s;
}

void taskdef_digest(const struct taskdef *td, char out[17])
{
    char *s = taskdef_canonical(td);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    free(s);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

bool taskdef_equal(const struct taskdef *a, const struct taskdef *b)
{
    char *x = taskdef_canonical(a), *y = taskdef_canonical(b);
    bool eq = strcmp(x, y) == 0;
    free(x);
    free(y);
    return eq;
}
