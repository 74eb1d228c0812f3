/* test_engine.c: the engine library shared by the Docker and Podman
 * plugins: spec parsing (values and every error with its member's path),
 * container info from real inspect and list JSON of both engines
 * (captured into tests/unit/data/engine), stats, and times. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "tests/lib/tap.h"

static const char *srcdir;
static char err[512];

static cJSON *load(const char *name)
{
    char *path, *buf = NULL;
    size_t cap = 0, n;
    char chunk[4096];
    FILE *f, *m;
    cJSON *j;
    if (asprintf(&path, "%s/tests/unit/data/engine/%s", srcdir, name) < 0)
        abort();
    f = fopen(path, "rb");
    free(path);
    if (!f) {
        diag("cannot open %s", name);
        return NULL;
    }
    m = open_memstream(&buf, &cap);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    j = cJSON_Parse(buf);
    free(buf);
    return j;
}

/* Single quotes stand for double ones, to keep the specs readable. */
static char *q(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
    return d;
}

static int parse(const char *spec, bool sandbox, struct engine_spec *out)
{
    char *j = q(spec);
    err[0] = '\0';
    int rc = engine_spec_parse(j, sandbox, out, err, sizeof(err));
    free(j);
    return rc;
}

/* The spec is refused with an error containing want. */
static void refused(const char *what, const char *spec, bool sandbox,
                    const char *want)
{
    struct engine_spec s;
    int rc = parse(spec, sandbox, &s);
    if (!ok(rc == -1, "%s: refused", what))
        engine_spec_free(&s);
    like(err, want, "%s: says %s", what, want);
}

static const char *label(const struct berth_container_info *i, const char *k)
{
    for (size_t n = 0; n < i->n_labels; n++)
        if (strcmp(i->labels[n].name, k) == 0)
            return i->labels[n].value;
    return NULL;
}

/* ------------------------------------------------------------------ */

static void test_spec_full(void)
{
    struct engine_spec s;
    const char *full =
        "{'name':'t1-web','image':'berth-test/busybox:1','network':'awsvpc',"
        "'sandbox':'abc','entryPoint':['sh','-c'],'command':['exec httpd'],"
        "'env':['A=1','SECRET=s3cr3t'],'workingDir':'/www','user':'nobody',"
        "'hostname':'web','labels':{'berth.test':'1','berth.task':'t1'},"
        "'cpuShares':256,'memoryBytes':67108864,'memoryReservationBytes':"
        "33554432,'shmSizeBytes':1048576,'ports':[{'containerPort':8080,"
        "'hostPort':32000,'hostIp':'127.0.0.1'},{'containerPort':53,"
        "'protocol':'udp'}],'mounts':[{'type':'bind','source':'/srv',"
        "'target':'/data','readOnly':true},{'type':'volume','source':'v1',"
        "'target':'/v','driver':'local','driverOpts':{'o':'x'},"
        "'labels':{'l':'m'}},{'type':'volume','target':'/anon'}],"
        "'volumesFrom':[{'container':'c1','readOnly':true},{'container':'c2'}],"
        "'ulimits':[{'name':'nofile','soft':1024,'hard':4096}],"
        "'healthCheck':{'test':['CMD-SHELL','true'],'intervalMs':1000,"
        "'timeoutMs':500,'startPeriodMs':2000,'retries':3},'init':true,"
        "'stopTimeout':5,'log':{'driver':'json-file','options':{'max-size':"
        "'1m'}},'extraHosts':['db:10.0.0.2'],'dns':['10.0.0.1'],"
        "'dnsSearch':['x.local'],'capAdd':['NET_ADMIN'],'capDrop':['ALL'],"
        "'securityOpt':['no-new-privileges'],'sysctls':{'net.core.somaxconn':"
        "'1024'},'privileged':false,'readonlyRootfs':true,'tty':true,"
        "'openStdin':false}";

    if (!ok(parse(full, false, &s) == 0, "a full container spec parses")) {
        diag("  %s", err);
        return;
    }
    is_str(s.name, "t1-web", "name");
    is_str(s.image, "berth-test/busybox:1", "image");
    is_str(s.network, "awsvpc", "network");
    is_str(s.sandbox, "abc", "sandbox");
    ok(s.entry_point && !strcmp(s.entry_point[1], "-c") && !s.entry_point[2],
       "entryPoint is NULL-terminated");
    ok(s.command && !strcmp(s.command[0], "exec httpd") && !s.command[1],
       "command");
    ok(s.env && !strcmp(s.env[1], "SECRET=s3cr3t") && !s.env[2], "env");
    is_str(s.working_dir, "/www", "workingDir");
    is_str(s.user, "nobody", "user");
    is_str(s.hostname, "web", "hostname");
    ok(s.n_labels == 2 && !strcmp(s.labels[1].key, "berth.task") &&
           !strcmp(s.labels[1].value, "t1"),
       "labels in order");
    ok(s.cpu_shares == 256 && s.memory_bytes == 67108864 &&
           s.memory_reservation_bytes == 33554432 &&
           s.shm_size_bytes == 1048576,
       "resources");
    ok(s.n_ports == 2 && s.ports[0].container_port == 8080 &&
           s.ports[0].host_port == 32000 &&
           !strcmp(s.ports[0].protocol, "tcp") &&
           !strcmp(s.ports[0].host_ip, "127.0.0.1"),
       "port with host ip, tcp by default");
    ok(s.ports[1].container_port == 53 && s.ports[1].host_port == 0 &&
           !strcmp(s.ports[1].protocol, "udp") && !strcmp(s.ports[1].host_ip, ""),
       "udp port, no host port, every address");
    ok(s.n_mounts == 3 && !s.mounts[0].volume && s.mounts[0].read_only &&
           !strcmp(s.mounts[0].source, "/srv") &&
           !strcmp(s.mounts[0].target, "/data"),
       "bind mount");
    ok(s.mounts[1].volume && !strcmp(s.mounts[1].driver, "local") &&
           s.mounts[1].n_driver_opts == 1 && s.mounts[1].n_labels == 1 &&
           !strcmp(s.mounts[1].driver_opts[0].value, "x"),
       "named volume with driver, options, labels");
    ok(s.mounts[2].volume && !s.mounts[2].source, "anonymous volume");
    ok(s.n_volumes_from == 2 && !strcmp(s.volumes_from[0].key, "c1") &&
           !strcmp(s.volumes_from[0].value, "ro") &&
           !strcmp(s.volumes_from[1].value, "rw"),
       "volumesFrom");
    ok(s.n_ulimits == 1 && !strcmp(s.ulimits[0].name, "nofile") &&
           s.ulimits[0].soft == 1024 && s.ulimits[0].hard == 4096,
       "ulimits");
    ok(s.health.set && !strcmp(s.health.test[0], "CMD-SHELL") &&
           !strcmp(s.health.test[1], "true") && !s.health.test[2] &&
           s.health.interval_ms == 1000 && s.health.timeout_ms == 500 &&
           s.health.start_period_ms == 2000 && s.health.retries == 3,
       "healthCheck");
    ok(s.init && s.stop_timeout == 5, "init, stopTimeout");
    ok(!strcmp(s.log_driver, "json-file") && s.n_log_options == 1 &&
           !strcmp(s.log_options[0].key, "max-size"),
       "log");
    ok(!strcmp(s.extra_hosts[0], "db:10.0.0.2") && !strcmp(s.dns[0], "10.0.0.1") &&
           !strcmp(s.dns_search[0], "x.local") &&
           !strcmp(s.cap_add[0], "NET_ADMIN") && !strcmp(s.cap_drop[0], "ALL") &&
           !strcmp(s.security_opt[0], "no-new-privileges"),
       "string lists");
    ok(s.n_sysctls == 1 && !strcmp(s.sysctls[0].value, "1024"), "sysctls");
    ok(!s.privileged && s.readonly_rootfs && s.tty && !s.open_stdin, "bools");
    engine_spec_free(&s);
    ok(s.name == NULL && s.stop_timeout == -1, "free leaves an empty spec");
}

static void test_spec_minimal(void)
{
    struct engine_spec s;
    if (!ok(parse("{'name':'a','image':'b'}", false, &s) == 0,
            "a minimal container spec parses"))
        diag("  %s", err);
    ok(!s.network && !s.command && !s.env && !s.n_ports && !s.health.set &&
           s.stop_timeout == -1 && !s.init && !s.log_driver,
       "absent members are unset (stopTimeout -1)");
    engine_spec_free(&s);
    if (!ok(parse("{'name':'a','image':'b','command':null,'healthCheck':null}",
                  false, &s) == 0,
            "null members count as absent"))
        diag("  %s", err);
    ok(!s.command && !s.health.set, "and stay unset");
    engine_spec_free(&s);
    if (!ok(parse("{'name':'a','image':'b','healthCheck':{'test':['NONE']}}",
                  false, &s) == 0,
            "healthCheck NONE parses"))
        diag("  %s", err);
    ok(s.health.set && !strcmp(s.health.test[0], "NONE") &&
           s.health.interval_ms == 0,
       "NONE disables, intervals unset");
    engine_spec_free(&s);

    if (!ok(parse("{'name':'t1','network':'bridge','labels':{'a':'b'},"
                  "'ports':[{'containerPort':80,'hostPort':8080}],"
                  "'hostname':'h','dns':['1.1.1.1'],'dnsSearch':['x'],"
                  "'extraHosts':['a:1.2.3.4']}",
                  true, &s) == 0,
            "a sandbox spec parses"))
        diag("  %s", err);
    ok(s.n_ports == 1 && s.ports[0].host_port == 8080 && !s.image,
       "sandbox ports, no image needed");
    engine_spec_free(&s);
}

static void test_spec_errors(void)
{
    refused("not JSON", "{'name':", false, "spec: not valid JSON");
    refused("not an object", "['name']", false, "spec: expected a JSON object");
    refused("trailing garbage", "{'name':'a','image':'b'} x", false,
            "not valid JSON");
    refused("missing name", "{'image':'b'}", false, "spec.name: required");
    refused("missing image", "{'name':'a'}", false, "spec.image: required");
    refused("sandbox without name", "{'network':'host'}", true,
            "spec.name: required");
    refused("empty name", "{'name':'','image':'b'}", false,
            "spec.name: must not be empty");
    refused("unknown member", "{'name':'a','image':'b','cpu':1}", false,
            "spec.cpu: unknown member");
    refused("container member in a sandbox",
            "{'name':'a','image':'b'}", true,
            "spec.image: not a member of a sandbox spec");
    refused("twice", "{'name':'a','image':'b','name':'c'}", false,
            "spec.name: given twice");
    refused("bad network", "{'name':'a','image':'b','network':'nat'}", false,
            "spec.network: expected \"bridge\", \"host\", \"none\" or \"awsvpc\"");
    refused("command not array", "{'name':'a','image':'b','command':'ls'}",
            false, "spec.command: expected an array of strings");
    refused("command element", "{'name':'a','image':'b','command':['ls',1]}",
            false, "spec.command[1]: expected a string");
    refused("env without =", "{'name':'a','image':'b','env':['A=1','SECRETVALUE']}",
            false, "spec.env[1]: expected \"NAME=value\"");
    ok(!strstr(err, "SECRETVALUE"), "the env value is not quoted back");
    refused("env empty name", "{'name':'a','image':'b','env':['=x']}",
            false, "spec.env[0]: expected \"NAME=value\"");
    refused("label value", "{'name':'a','image':'b','labels':{'k':1}}", false,
            "spec.labels.k: expected a string");
    refused("labels not object", "{'name':'a','image':'b','labels':[]}", false,
            "spec.labels: expected an object of strings");
    refused("negative memory", "{'name':'a','image':'b','memoryBytes':-1}",
            false, "spec.memoryBytes: expected an integer >= 0");
    refused("fractional cpu", "{'name':'a','image':'b','cpuShares':1.5}",
            false, "spec.cpuShares: expected an integer");
    refused("bool as string", "{'name':'a','image':'b','init':'yes'}", false,
            "spec.init: expected true or false");
    refused("host port range",
            "{'name':'a','image':'b','ports':[{'containerPort':80},"
            "{'containerPort':81,'hostPort':70000}]}",
            false, "spec.ports[1].hostPort: expected an integer 0-65535");
    refused("container port zero",
            "{'name':'a','image':'b','ports':[{'containerPort':0}]}", false,
            "spec.ports[0].containerPort: expected an integer 1-65535");
    refused("container port missing",
            "{'name':'a','image':'b','ports':[{'hostPort':80}]}", false,
            "spec.ports[0].containerPort: required");
    refused("bad protocol",
            "{'name':'a','image':'b','ports':[{'containerPort':80,'protocol':'sctp'}]}",
            false, "spec.ports[0].protocol: expected \"tcp\" or \"udp\"");
    refused("unknown port member",
            "{'name':'a','image':'b','ports':[{'containerPort':80,'host':1}]}",
            false, "spec.ports[0].host: unknown member");
    refused("port published twice",
            "{'name':'t','ports':[{'containerPort':80,'hostPort':8080},"
            "{'containerPort':81,'hostPort':8080}]}",
            true, "spec.ports[1].hostPort: 8080/tcp is already published by spec.ports[0]");
    refused("mount without type",
            "{'name':'a','image':'b','mounts':[{'source':'/a','target':'/b'}]}",
            false, "spec.mounts[0].type: required");
    refused("bind mount without source",
            "{'name':'a','image':'b','mounts':[{'type':'bind','target':'/b'}]}",
            false, "spec.mounts[0].source: required");
    refused("relative target",
            "{'name':'a','image':'b','mounts':[{'type':'volume','target':'b'}]}",
            false, "spec.mounts[0].target: must be an absolute path");
    refused("mustExist on a bind",
            "{'name':'a','image':'b','mounts':[{'type':'bind','source':'/x','target':'/b',"
            "'mustExist':true}]}",
            false, "spec.mounts[0].mustExist: only for a named volume");
    refused("mustExist not a bool",
            "{'name':'a','image':'b','mounts':[{'type':'volume','source':'v','target':'/b',"
            "'mustExist':1}]}",
            false, "spec.mounts[0].mustExist: expected true or false");
    refused("relative bind source",
            "{'name':'a','image':'b','mounts':[{'type':'bind','source':'x','target':'/b'}]}",
            false, "spec.mounts[0].source: must be an absolute path");
    refused("driver on a bind",
            "{'name':'a','image':'b','mounts':[{'type':'bind','source':'/x',"
            "'target':'/b','driver':'local'}]}",
            false, "spec.mounts[0].driver: only for a volume mount");
    refused("bad mount type",
            "{'name':'a','image':'b','mounts':[{'type':'tmpfs','target':'/b'}]}",
            false, "spec.mounts[0].type: expected \"bind\" or \"volume\"");
    refused("volumesFrom without container",
            "{'name':'a','image':'b','volumesFrom':[{'readOnly':true}]}", false,
            "spec.volumesFrom[0].container: required");
    refused("ulimit soft above hard",
            "{'name':'a','image':'b','ulimits':[{'name':'nofile','soft':10,'hard':5}]}",
            false, "spec.ulimits[0].soft: must not exceed hard");
    refused("ulimit without hard",
            "{'name':'a','image':'b','ulimits':[{'name':'nofile','soft':10}]}",
            false, "spec.ulimits[0].hard: required");
    refused("health test kind",
            "{'name':'a','image':'b','healthCheck':{'test':['SHELL','x']}}",
            false, "spec.healthCheck.test: must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"");
    refused("health without command",
            "{'name':'a','image':'b','healthCheck':{'test':['CMD']}}",
            false, "spec.healthCheck.test: CMD needs a command");
    refused("health without test",
            "{'name':'a','image':'b','healthCheck':{'retries':3}}",
            false, "spec.healthCheck.test: required");
    refused("health negative retries",
            "{'name':'a','image':'b','healthCheck':{'test':['NONE'],'retries':-1}}",
            false, "spec.healthCheck.retries: expected an integer >= 0");
    refused("health unknown member",
            "{'name':'a','image':'b','healthCheck':{'test':['NONE'],'interval':1}}",
            false, "spec.healthCheck.interval: unknown member");
    refused("log without driver",
            "{'name':'a','image':'b','log':{'options':{}}}", false,
            "spec.log.driver: required");
    refused("log option value",
            "{'name':'a','image':'b','log':{'driver':'x','options':{'a':true}}}",
            false, "spec.log.options.a: expected a string");
    refused("huge integer",
            "{'name':'a','image':'b','memoryBytes':1e300}", false,
            "spec.memoryBytes: expected an integer >= 0");
    refused("stopTimeout not integer",
            "{'name':'a','image':'b','stopTimeout':'5s'}", false,
            "spec.stopTimeout: expected an integer >= 0");

    struct engine_spec s;
    ok(engine_spec_parse(NULL, false, &s, err, sizeof(err)) == -1,
       "NULL spec refused");
}

/* ------------------------------------------------------------------ */

static const struct berth_port_binding *port(const struct berth_container_info *i,
                                             uint16_t cport)
{
    for (size_t n = 0; n < i->n_ports; n++)
        if (i->ports[n].container_port == cport)
            return &i->ports[n];
    return NULL;
}

/* Loads FILE and builds an info from it (inspect or list entry idx). */
static int info_of(const char *file, int list_idx, struct engine_info *out)
{
    cJSON *j = load(file);
    int rc = -1;
    if (j) {
        const cJSON *doc = list_idx < 0 ? j : cJSON_GetArrayItem(j, list_idx);
        rc = list_idx < 0 ? engine_info_from_inspect(doc, out)
                          : engine_info_from_list(doc, out);
    }
    cJSON_Delete(j);
    return rc;
}

static void test_info_docker(void)
{
    struct engine_info e;
    const struct berth_container_info *i = &e.info;
    const struct berth_port_binding *p;

    if (!ok(info_of("docker-healthy.json", -1, &e) == 0,
            "docker: a healthy running container"))
        return;
    ok(i->struct_size == sizeof(*i), "struct_size set");
    ok(strlen(i->id) == 64 && !strncmp(i->id, "fd99a1ce", 8), "id");
    is_str(i->name, "p-cap-web", "name without Docker's '/'");
    is_str(i->image, "berth-test/busybox:1", "image from Config.Image");
    like(i->image_id, "sha256:", "image id");
    ok(i->sandbox_id == NULL, "no sandbox");
    ok(i->state == BERTH_CTR_RUNNING, "running");
    ok(i->health == BERTH_HEALTH_HEALTHY, "healthy");
    ok(i->health_exit_code == 0 && !strcmp(i->health_output, ""),
       "last check's exit code and (empty) output");
    ok(i->started_at_ms == 1795434113271LL, "started_at_ms from StartedAt");
    ok(i->finished_at_ms == 0, "zero FinishedAt is unset");
    ok(i->created_at_ms > 0 && i->created_at_ms <= i->started_at_ms,
       "created before started");
    is_str(label(i, "berth.task"), "t1", "labels");
    ok((p = port(i, 8080)) && p->host_port == 32768 &&
           !strcmp(p->protocol, "tcp") && !strcmp(p->host_ip, "127.0.0.1"),
       "published port with its assigned host port");
    like(i->ip_address, "172.17.", "ip address");
    ok(i->pid == 13578 && i->restart_count == 0, "pid, restart count");
    engine_info_free(&e);

    if (ok(info_of("docker-exited.json", -1, &e) == 0, "docker: exited")) {
        ok(i->state == BERTH_CTR_EXITED && i->exit_code == 3, "exit code 3");
        ok(i->finished_at_ms >= i->started_at_ms && i->finished_at_ms > 0,
           "finished time");
        ok(i->health == BERTH_HEALTH_NONE && i->health_exit_code == -1,
           "no health check");
        ok(i->n_ports == 0, "no ports");
        engine_info_free(&e);
    }
    if (ok(info_of("docker-created.json", -1, &e) == 0, "docker: created")) {
        ok(i->state == BERTH_CTR_CREATED && i->started_at_ms == 0 && i->pid == 0,
           "created, never started");
        engine_info_free(&e);
    }
    if (ok(info_of("docker-failed.json", -1, &e) == 0, "docker: failed start")) {
        like(i->error, "no such file or directory", "the engine's reason");
        engine_info_free(&e);
    }
    if (ok(info_of("docker-unhealthy.json", -1, &e) == 0, "docker: unhealthy")) {
        ok(i->health == BERTH_HEALTH_UNHEALTHY && i->health_exit_code == 1,
           "unhealthy, exit code 1");
        like(i->health_output, "can't open '/tmp/ok'", "the check's output");
        engine_info_free(&e);
    }
    if (ok(info_of("docker-oom.json", -1, &e) == 0, "docker: OOM killed")) {
        ok(i->oom_killed && i->exit_code == 137, "oom_killed, 137");
        engine_info_free(&e);
    }
}

static void test_info_podman(void)
{
    struct engine_info e;
    const struct berth_container_info *i = &e.info;
    const struct berth_port_binding *p;

    if (!ok(info_of("podman-healthy.json", -1, &e) == 0,
            "podman: a healthy container in a pod"))
        return;
    is_str(i->name, "p-cap-pweb", "name");
    is_str(i->image, "localhost/berth-test/busybox:1", "image from ImageName");
    is_str(i->sandbox_id,
           "8ab226ba751c261e0fbd84155d361814898a05ddb250bd3db5c40d566f7f2791",
           "the pod is the sandbox");
    ok(i->state == BERTH_CTR_RUNNING && i->health == BERTH_HEALTH_HEALTHY,
       "running, healthy");
    is_str(i->health_output, "checking", "check output");
    ok((p = port(i, 8080)) && p->host_port == 44439, "the pod's port");
    is_str(i->ip_address, "10.88.0.10", "ip address");
    is_str(label(i, "berth.container"), "web", "labels");
    engine_info_free(&e);

    if (ok(info_of("podman-created.json", -1, &e) == 0, "podman: created")) {
        ok(i->state == BERTH_CTR_CREATED, "created");
        ok(i->health == BERTH_HEALTH_NONE, "empty Health.Status is no check");
        ok(i->sandbox_id == NULL, "not in a pod");
        engine_info_free(&e);
    }
    if (ok(info_of("podman-exited.json", -1, &e) == 0, "podman: exited")) {
        ok(i->state == BERTH_CTR_EXITED && i->exit_code == 3, "exit code 3");
        engine_info_free(&e);
    }
    if (ok(info_of("podman-unhealthy.json", -1, &e) == 0, "podman: failing check")) {
        ok(i->health == BERTH_HEALTH_STARTING && i->health_exit_code == 1,
           "podman's own verdict is still starting after one failure");
        like(i->health_output, "can't open", "output");
        engine_info_free(&e);
    }
}

static void test_info_lists(void)
{
    cJSON *j = load("docker-list.json"), *e;
    int n = 0, good = 0, bad = 0, exited = 0;
    cJSON_ArrayForEach(e, j) {
        struct engine_info in;
        n++;
        if (engine_info_from_list(e, &in) < 0) {
            bad++;
            continue;
        }
        if (in.info.name[0] != '/' && label(&in.info, "berth.test"))
            good++;
        if (!strcmp(in.info.name, "p-cap-exit"))
            exited = in.info.state == BERTH_CTR_EXITED && in.info.exit_code == 3;
        if (!strcmp(in.info.name, "p-cap-web")) {
            const struct berth_port_binding *p = port(&in.info, 8080);
            ok(p && p->host_port == 32768, "docker list: port");
            ok(in.info.state == BERTH_CTR_RUNNING &&
                   in.info.health == BERTH_HEALTH_HEALTHY,
               "docker list: running, healthy from Status");
            ok(in.info.created_at_ms == 1795434112000LL,
               "docker list: Created in seconds");
        }
        engine_info_free(&in);
    }
    ok(n >= 4 && good == n && !bad, "docker list: every entry, names, labels");
    ok(exited, "docker list: exit code from Status");
    cJSON_Delete(j);

    j = load("podman-list.json");
    n = good = bad = 0;
    cJSON_ArrayForEach(e, j) {
        struct engine_info in;
        n++;
        if (engine_info_from_list(e, &in) < 0) {
            bad++;
            continue;
        }
        good += label(&in.info, "berth.test") != NULL;
        if (!strcmp(in.info.name, "p-cap-pexit"))
            ok(in.info.state == BERTH_CTR_EXITED && in.info.exit_code == 3 &&
                   in.info.finished_at_ms > 0,
               "podman list: exited 3 with a time");
        if (!strcmp(in.info.name, "p-cap-pweb")) {
            const struct berth_port_binding *p = port(&in.info, 8080);
            ok(p && p->host_port == 44439 && !strcmp(p->host_ip, "127.0.0.1"),
               "podman list: the pod's port");
            ok(in.info.sandbox_id && !strncmp(in.info.sandbox_id, "8ab226ba", 8),
               "podman list: pod");
            ok(in.info.created_at_ms > 0 && in.info.started_at_ms > 0 &&
                   in.info.finished_at_ms == 0,
               "podman list: times (string and seconds, year 1 unset)");
        }
        if (!strcmp(in.info.name, "p-cap-pcreated"))
            ok(in.info.sandbox_id == NULL && in.info.state == BERTH_CTR_CREATED,
               "podman list: created, no pod");
        engine_info_free(&in);
    }
    ok(n >= 4 && good == n && !bad, "podman list: every entry");
    cJSON_Delete(j);

    struct engine_info in;
    cJSON *x = cJSON_Parse("{\"State\":{}}");
    ok(engine_info_from_inspect(x, &in) == -1, "inspect without Id refused");
    ok(engine_info_from_list(x, &in) == -1, "list entry without Id refused");
    cJSON_Delete(x);
    x = cJSON_Parse("{\"Id\":\"x\"}");
    ok(engine_info_from_inspect(x, &in) == -1, "inspect without State refused");
    cJSON_Delete(x);
}

static void test_health_output_cut(void)
{
    char big[3000], *doc;
    struct engine_info in;
    cJSON *j;
    /* 2-byte characters so that the cut falls inside one. */
    for (size_t k = 0; k + 1 < sizeof(big); k += 2) {
        big[k] = (char)0xC3;
        big[k + 1] = (char)0xA9;
    }
    big[sizeof(big) - 1] = '\0';
    big[1023] = 'x'; /* shift: byte 1024 starts inside a character */
    if (asprintf(&doc, "{\"Id\":\"i\",\"State\":{\"Status\":\"running\","
                       "\"Health\":{\"Status\":\"unhealthy\",\"Log\":[{"
                       "\"ExitCode\":2,\"Output\":\"%s\"}]}}}",
                 big) < 0)
        abort();
    j = cJSON_Parse(doc);
    free(doc);
    if (ok(j && engine_info_from_inspect(j, &in) == 0, "a long check output")) {
        size_t n = strlen(in.info.health_output);
        ok(n <= 1024 && n >= 1020, "cut to at most 1024 bytes (%zu)", n);
        ok(((unsigned char)in.info.health_output[n - 1] & 0xC0) == 0x80 ||
               in.info.health_output[n - 1] == 'x',
           "on a character boundary");
        ok(in.info.health_exit_code == 2, "its exit code");
        engine_info_free(&in);
    }
    cJSON_Delete(j);
}

/* ------------------------------------------------------------------ */

static void test_stats(void)
{
    struct berth_container_stats s;
    cJSON *j = load("docker-stats.json");
    if (ok(j && engine_stats_from_docker(j, &s) == 0, "docker stats")) {
        ok(s.struct_size == sizeof(s), "struct_size");
        ok(s.time_ms > 1700000000000LL, "read time");
        ok(s.cpu_total_ns == 415486724 && s.cpu_user_ns == 180000000 &&
               s.cpu_system_ns == 230000000 && s.online_cpus == 2,
           "cpu");
        ok(s.memory_usage == 2703360 && s.memory_cache == 1982464 &&
               s.memory_rss == 61440,
           "memory usage, cache, rss");
        ok(s.memory_working_set == 2703360 - 217088,
           "working set is usage minus inactive file");
        ok(s.memory_limit == 0, "unlimited memory (cgroup v1 ~2^63) is 0");
        ok(s.net_rx_bytes == 806 && s.net_tx_bytes == 0, "network");
    }
    cJSON_Delete(j);
    j = load("podman-stats.json");
    if (ok(j && engine_stats_from_docker(j, &s) == 0, "podman compat stats")) {
        ok(s.cpu_total_ns == 132107875 && s.online_cpus == 2, "cpu");
        ok(s.memory_usage == 2662400 && s.memory_limit == 25276026880ULL,
           "memory and the limit podman reports");
        ok(s.net_rx_bytes == 472 && s.net_tx_bytes == 1096,
           "bytes under podman's \"network\" key");
    }
    cJSON_Delete(j);
    j = cJSON_Parse("{\"read\":\"x\",\"blkio_stats\":{}}");
    ok(engine_stats_from_docker(j, &s) == -1, "no cpu_stats refused");
    cJSON_Delete(j);
    j = cJSON_Parse("{\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":5,"
                    "\"percpu_usage\":[2,3]}},\"memory_stats\":{\"usage\":100,"
                    "\"limit\":50,\"stats\":{\"anon\":10,\"file\":20,"
                    "\"inactive_file\":30}},\"blkio_stats\":{"
                    "\"io_service_bytes_recursive\":[{\"op\":\"read\",\"value\":7},"
                    "{\"op\":\"Write\",\"value\":9},{\"op\":\"Read\",\"value\":1}]},"
                    "\"pids_stats\":{\"current\":4}}");
    if (ok(engine_stats_from_docker(j, &s) == 0, "cgroup v2 shaped stats")) {
        ok(s.online_cpus == 2, "cpus from percpu_usage");
        ok(s.memory_rss == 10 && s.memory_cache == 20 &&
               s.memory_working_set == 70 && s.memory_limit == 50,
           "v2 memory names");
        ok(s.blk_read_bytes == 8 && s.blk_write_bytes == 9, "block io by op");
        ok(s.pids == 4, "pids");
    }
    cJSON_Delete(j);
}

static void test_times(void)
{
    ok(engine_time_ms("1970-01-01T00:00:00Z") == 0, "epoch");
    ok(engine_time_ms("2024-05-01T10:00:00.123456789Z") == 1714557600123LL,
       "nanoseconds cut to ms");
    ok(engine_time_ms("2024-05-01T12:00:00.5+02:00") == 1714557600500LL,
       "offset east");
    ok(engine_time_ms("2024-05-01T05:30:00-04:30") == 1714557600000LL,
       "offset west");
    ok(engine_time_ms("0001-01-01T00:00:00Z") == 0, "Docker's zero time");
    ok(engine_time_ms("") == 0 && engine_time_ms(NULL) == 0, "empty, NULL");
    ok(engine_time_ms("2024-05-01") == 0, "date only");
    ok(engine_time_ms("2024-05-01T10:00:00") == 0, "no zone");
    ok(engine_time_ms("2024-13-01T10:00:00Z") == 0, "month 13");
    ok(engine_time_ms("2024-05-01T10:00:00Zjunk") == 0, "trailing text");
    ok(engine_time_ms("2024-05-01T10:00:00.Z") == 0, "empty fraction");
}

/* Task-scoped volumes: named berth-TASKID-* after the container's task. */
static void test_task_volumes(void)
{
    static const char *const files[] = {"docker-volumes.json", "podman-volumes.json"};
    for (size_t f = 0; f < 2; f++) {
        cJSON *j = load(files[f]);
        size_t n = 7;
        char **v = engine_task_volumes(j, &n);
        ok(n == 1 && v && strcmp(v[0], "berth-0123456789abcdef0123456789abcdef-data") == 0 &&
               !v[1], "%s: the task's volume only (not a shared one, not a bind)", files[f]);
        for (size_t i = 0; v && v[i]; i++)
            free(v[i]);
        free(v);
        /* Another task's volume, or no task label: nothing. */
        cJSON *labels = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "Config"), "Labels");
        cJSON_ReplaceItemInObject(labels, "com.amazonaws.ecs.task-arn",
                                  cJSON_CreateString("arn:aws:ecs:local:0:task/c/ffff"));
        v = engine_task_volumes(j, &n);
        ok(!v && n == 0, "%s: none of another task's", files[f]);
        cJSON_DeleteItemFromObject(labels, "com.amazonaws.ecs.task-arn");
        v = engine_task_volumes(j, &n);
        ok(!v && n == 0, "%s: none without a task label", files[f]);
        cJSON_Delete(j);
    }
}

int main(void)
{
    srcdir = getenv("top_srcdir");
    if (!srcdir)
        srcdir = ".";
    test_spec_full();
    test_task_volumes();
    test_spec_minimal();
    test_spec_errors();
    test_info_docker();
    test_info_podman();
    test_info_lists();
    test_health_output_cut();
    test_stats();
    test_times();
    return done_testing();
}
