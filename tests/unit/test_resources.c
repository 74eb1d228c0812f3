/* test_resources.c: host capacity, what tasks reserve and ECS's RESOURCE:*
 * reasons (agent/resources.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/json_walk.h"
#include "agent/resources.h"
#include "agent/task.h"
#include "agent/taskdef.h"
#include "tests/lib/tap.h"

static char *J(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

static struct taskdef *parse(const char *text)
{
    char *json = J(text);
    struct taskdef *td = NULL;
    struct json_errors errs = {0};
    if (taskdef_parse(json, strlen(json), &td, &errs) < 0) {
        char *m = json_errors_message(&errs);
        diag("definition does not parse: %s", m);
        free(m);
        td = NULL;
    }
    json_errors_clear(&errs);
    free(json);
    return td;
}

static char *ports_str(const struct res_ports *p)
{
    static char buf[4][256];
    static int k;
    char *b = buf[k++ % 4];
    size_t off = 0;
    b[0] = '\0';
    for (size_t i = 0; i < p->n; i++)
        off += (size_t)snprintf(b + off, 256 - off, "%s%u", i ? "," : "", p->v[i]);
    return b;
}

static void test_host(void)
{
    const uint16_t reserved[] = {2376, 22, 2375, 22};
    struct res h;
    ok(res_host(&h, 2, 1000, reserved, 4) == 0, "host from counts");
    ok(h.cpu == 2048 && h.memory == 1000, "1024 units per CPU, memory as given");
    is_str(ports_str(&h.tcp), "22,2375,2376", "reserved ports sorted, once each");
    is_str(ports_str(&h.udp), "22,2375,2376", "reserved ports count for udp too");
    res_free(&h);

    ok(res_host_read(&h, NULL, 0) == 0, "host read from this machine");
    ok(h.cpu == 1024 * sysconf(_SC_NPROCESSORS_ONLN), "cpu: online CPUs x 1024 (%lld)",
       (long long)h.cpu);
    ok(h.memory > 16, "memory from /proc/meminfo (%lld MiB)", (long long)h.memory);
    res_free(&h);
}

static void test_taskdef(void)
{
    struct res r;
    struct taskdef *td = parse(
        "{'family':'a','containerDefinitions':["
        "{'name':'x','image':'i','cpu':100,'memory':300,'memoryReservation':128,"
        " 'portMappings':[{'containerPort':80,'hostPort':8080},{'containerPort':81},"
        "                 {'containerPort':53,'hostPort':5353,'protocol':'udp'}]},"
        "{'name':'y','image':'i','cpu':50,'memory':64}]}");
    if (td && res_taskdef(&r, td) == 0) {
        ok(r.cpu == 150, "containers' cpu summed");
        ok(r.memory == 192, "memoryReservation when set, else memory: 128 + 64");
        is_str(ports_str(&r.tcp), "8080", "fixed tcp host ports only");
        is_str(ports_str(&r.udp), "5353", "udp port apart");
        res_free(&r);
    } else {
        ok(0, "bridge definition");
    }
    taskdef_free(td);

    td = parse("{'family':'a','cpu':'512','memory':'1024','containerDefinitions':["
               "{'name':'x','image':'i','cpu':100,'memory':300}]}");
    if (td && res_taskdef(&r, td) == 0) {
        ok(r.cpu == 512 && r.memory == 1024, "task-level cpu and memory win");
        res_free(&r);
    } else {
        ok(0, "task-level definition");
    }
    taskdef_free(td);

    td = parse("{'family':'a','networkMode':'awsvpc','containerDefinitions':["
               "{'name':'x','image':'i','memory':32,"
               " 'portMappings':[{'containerPort':80,'hostPort':80}]}]}");
    if (td && res_taskdef(&r, td) == 0) {
        ok(r.tcp.n == 0 && r.memory == 32, "awsvpc takes no host port");
        res_free(&r);
    } else {
        ok(0, "awsvpc definition");
    }
    taskdef_free(td);

    td = parse("{'family':'a','networkMode':'host','containerDefinitions':["
               "{'name':'x','image':'i','memory':32,"
               " 'portMappings':[{'containerPort':9000}]}]}");
    if (td && res_taskdef(&r, td) == 0) {
        is_str(ports_str(&r.tcp), "9000", "host mode takes the container port");
        res_free(&r);
    } else {
        ok(0, "host definition");
    }
    taskdef_free(td);
}

static void test_task(void)
{
    const char *text = "{'family':'a','containerDefinitions':[{'name':'x','image':'i',"
                       "'memory':100,'portMappings':[{'containerPort':80},"
                       "{'containerPort':81,'hostPort':7000}]}]}";
    struct taskdef *td = parse(text);
    char *json = J(text);
    struct task *t = td ? task_new(td, json, "arn:td", 1, "r", "123456789012", "c", 0)
                        : NULL;
    struct res r;
    if (t && res_task(&r, t) == 0) {
        is_str(ports_str(&r.tcp), "7000", "before picking: the fixed port");
        res_free(&r);
        t->containers[0].bindings[0].host_port = 42001; /* picked */
        ok(res_task(&r, t) == 0, "task again");
        is_str(ports_str(&r.tcp), "7000,42001", "then the dynamic one too");
        ok(r.memory == 100, "memory from the definition");
        res_free(&r);
    } else {
        ok(0, "a task");
    }
    task_free(t);
    free(json);
}

static void test_fit(void)
{
    const uint16_t reserved[] = {22, 2375};
    struct res h, used = {0}, need = {0}, rem;
    res_host(&h, 1, 512, reserved, 2);

    need.cpu = 1024;
    need.memory = 512;
    ok(res_fit(&h, &used, &need) == NULL, "exactly the host fits");
    need.cpu = 1025;
    is_str(res_fit(&h, &used, &need), "RESOURCE:CPU", "one unit too many: CPU");
    need.cpu = 1024;
    need.memory = 513;
    is_str(res_fit(&h, &used, &need), "RESOURCE:MEMORY", "one MiB too many: MEMORY");
    need.memory = 100;
    need.cpu = 0;

    struct res one = {0};
    one.cpu = 10;
    one.memory = 450;
    one.tcp.v = (uint16_t[]){8080};
    one.tcp.n = 1;
    ok(res_add(&used, &one) == 0, "a live task added");
    is_str(res_fit(&h, &used, &need), "RESOURCE:MEMORY", "what live tasks hold counts");
    need.memory = 62;
    ok(res_fit(&h, &used, &need) == NULL, "what is left fits");

    struct res p = {0};
    p.tcp.v = (uint16_t[]){8080};
    p.tcp.n = 1;
    is_str(res_fit(&h, &used, &p), "RESOURCE:PORTS", "a port a task holds: PORTS");
    p.tcp.v = (uint16_t[]){2375};
    is_str(res_fit(&h, &used, &p), "RESOURCE:PORTS", "a reserved port: PORTS");
    p.tcp.n = 0;
    p.udp.v = (uint16_t[]){22};
    p.udp.n = 1;
    is_str(res_fit(&h, &used, &p), "RESOURCE:PORTS_UDP", "a reserved udp port");
    p.udp.v = (uint16_t[]){8080};
    ok(res_fit(&h, &used, &p) == NULL, "udp 8080 is not tcp 8080");

    ok(res_remaining(&rem, &h, &used) == 0, "remaining");
    ok(rem.cpu == 1014 && rem.memory == 62, "cpu and memory subtracted");
    is_str(ports_str(&rem.tcp), "22,2375,8080", "ports: reserved plus held");
    res_free(&rem);
    used.memory = 9999;
    ok(res_remaining(&rem, &h, &used) == 0 && rem.memory == 0, "never below 0");
    res_free(&rem);
    res_free(&used);
    res_free(&h);
}

/* res_used over live and stopped tasks, and res_place one after another. */
static void test_used_place(void)
{
    const char *text = "{'family':'a','containerDefinitions':[{'name':'x','image':'i',"
                       "'memory':200,'cpu':256}]}";
    struct task *t[3] = {NULL, NULL, NULL};
    char *json = J(text);
    struct res h, used, need;
    const char *why = "unset";

    for (int i = 0; i < 3; i++) {
        struct taskdef *td = parse(text);
        t[i] = td ? task_new(td, json, "arn:td", 1, "r", "123456789012", "c", 0) : NULL;
        if (!t[i]) {
            ok(0, "a task");
            goto out;
        }
    }
    t[2]->last_status = TASK_STOPPED;
    ok(res_used(&used, t, 3) == 0, "res_used");
    ok(used.memory == 400 && used.cpu == 512, "two live tasks counted, the stopped one not");
    res_host(&h, 4, 1000, NULL, 0);
    need = (struct res){.cpu = 256, .memory = 200};
    ok(res_place(&h, &used, &need, 5, &why) == 3, "3 of 5 more fit in 600 MiB left");
    is_str(why, "RESOURCE:MEMORY", "the others refused for memory");
    ok(used.memory == 1000, "used grew by each that fit");
    ok(res_place(&h, &used, &need, 1, &why) == 0, "then none fits");
    need.memory = 0;
    need.cpu = 0;
    ok(res_place(&h, &used, &need, 2, &why) == 2 && why == NULL, "nothing needed: all fit, no reason");
    res_free(&used);
    res_free(&h);
out:
    for (int i = 0; i < 3; i++)
        task_free(t[i]);
    free(json);
}

int main(void)
{
    test_used_place();
    test_host();
    test_taskdef();
    test_task();
    test_fit();
    return done_testing();
}
