/* resources.c: host capacity, task reservations and placement arithmetic
 * (resources.h). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/resources.h"
#include "agent/task.h"
#include "agent/taskdef.h"

static bool ports_has(const struct res_ports *p, uint16_t port)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->v[mid] == port)
            return true;
        if (p->v[mid] < port)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Inserts port in order; 0 or -1 on OOM. */
static int ports_put(struct res_ports *p, uint16_t port)
{
    size_t i = 0;
    if (port == 0 || ports_has(p, port))
        return 0;
    uint16_t *v = realloc(p->v, (p->n + 1) * sizeof *v);
    if (!v)
        return -1;
    p->v = v;
    while (i < p->n && p->v[i] < port)
        i++;
    memmove(p->v + i + 1, p->v + i, (p->n - i) * sizeof *v);
    p->v[i] = port;
    p->n++;
    return 0;
}

static int ports_union(struct res_ports *acc, const struct res_ports *x)
{
    for (size_t i = 0; i < x->n; i++)
        if (ports_put(acc, x->v[i]) < 0)
            return -1;
    return 0;
}

void res_free(struct res *r)
{
    if (!r)
        return;
    free(r->tcp.v);
    free(r->udp.v);
    memset(r, 0, sizeof *r);
}

int res_host(struct res *out, long ncpu, int64_t mem_mib, const uint16_t *reserved,
             size_t n_reserved)
{
    memset(out, 0, sizeof *out);
    out->cpu = (ncpu > 0 ? ncpu : 1) * 1024;
    out->memory = mem_mib > 0 ? mem_mib : 0;
    for (size_t i = 0; i < n_reserved; i++)
        if (ports_put(&out->tcp, reserved[i]) < 0 || ports_put(&out->udp, reserved[i]) < 0) {
            res_free(out);
            return -1;
        }
    return 0;
}

static int64_t meminfo_total_mib(void)
{
    char line[256];
    long long kb = 0;
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
            break;
    fclose(f);
    return kb / 1024;
}

int res_host_read(struct res *out, const uint16_t *reserved, size_t n_reserved)
{
    return res_host(out, sysconf(_SC_NPROCESSORS_ONLN), meminfo_total_mib(), reserved,
                    n_reserved);
}

static void cpu_memory(struct res *out, const struct taskdef *td)
{
    int64_t cpu = 0, mem = 0;
    for (size_t i = 0; i < td->n_containers; i++) {
        const struct taskdef_container *c = &td->containers[i];
        cpu += c->cpu;
        mem += c->memory_reservation ? c->memory_reservation : c->memory;
    }
    out->cpu = td->cpu ? td->cpu : cpu;
    out->memory = td->memory ? td->memory : mem;
}

static bool takes_host_ports(const struct taskdef *td)
{
    return td->network_mode == TASKDEF_NET_BRIDGE || td->network_mode == TASKDEF_NET_HOST;
}

int res_taskdef(struct res *out, const struct taskdef *td)
{
    memset(out, 0, sizeof *out);
    cpu_memory(out, td);
    if (!takes_host_ports(td))
        return 0;
    for (size_t i = 0; i < td->n_containers; i++)
        for (size_t j = 0; j < td->containers[i].n_port_mappings; j++) {
            const struct taskdef_port *p = &td->containers[i].port_mappings[j];
            struct res_ports *set = p->protocol == TASKDEF_UDP ? &out->udp : &out->tcp;
            if (p->host_port > 0 && p->host_port <= 65535 &&
                ports_put(set, (uint16_t)p->host_port) < 0) {
                res_free(out);
                return -1;
            }
        }
    return 0;
}

int res_task(struct res *out, const struct task *t)
{
    memset(out, 0, sizeof *out);
    if (!t->td)
        return 0;
    cpu_memory(out, t->td);
    if (!takes_host_ports(t->td))
        return 0;
    for (size_t i = 0; i < t->n_containers; i++)
        for (size_t j = 0; j < t->containers[i].n_bindings; j++) {
            const struct task_binding *b = &t->containers[i].bindings[j];
            if (ports_put(b->udp ? &out->udp : &out->tcp, b->host_port) < 0) {
                res_free(out);
                return -1;
            }
        }
    return 0;
}

int res_add(struct res *acc, const struct res *x)
{
    acc->cpu += x->cpu;
    acc->memory += x->memory;
    return ports_union(&acc->tcp, &x->tcp) < 0 || ports_union(&acc->udp, &x->udp) < 0
               ? -1
               : 0;
}

static bool ports_clash(const struct res_ports *need, const struct res_ports *a,
                        const struct res_ports *b)
{
    for (size_t i = 0; i < need->n; i++)
        if (ports_has(a, need->v[i]) || ports_has(b, need->v[i]))
            return true;
    return false;
}

const char *res_fit(const struct res *host, const struct res *used,
                    const struct res *need)
{
    if (need->cpu > host->cpu - used->cpu)
        return "RESOURCE:CPU";
    if (need->memory > host->memory - used->memory)
        return "RESOURCE:MEMORY";
    if (ports_clash(&need->tcp, &host->tcp, &used->tcp))
        return "RESOURCE:PORTS";
    if (ports_clash(&need->udp, &host->udp, &used->udp))
        return "RESOURCE:PORTS_UDP";
    return NULL;
}

int res_used(struct res *used, struct task *const *all, size_t n)
{
    memset(used, 0, sizeof *used);
    for (size_t i = 0; i < n; i++) {
        struct res r;
        if (all[i]->last_status == TASK_STOPPED)
            continue;
        if (res_task(&r, all[i]) < 0 || res_add(used, &r) < 0) {
            res_free(&r);
            res_free(used);
            return -1;
        }
        res_free(&r);
    }
    return 0;
}

int res_place(const struct res *host, struct res *used, const struct res *need, int count,
              const char **why)
{
    int fit = 0;
    *why = NULL;
    for (int i = 0; i < count; i++) {
        const char *no = res_fit(host, used, need);
        if (no) {
            if (!*why)
                *why = no;
            continue;
        }
        if (res_add(used, need) < 0)
            return -1;
        fit++;
    }
    return fit;
}

int res_remaining(struct res *out, const struct res *host, const struct res *used)
{
    memset(out, 0, sizeof *out);
    out->cpu = host->cpu > used->cpu ? host->cpu - used->cpu : 0;
    out->memory = host->memory > used->memory ? host->memory - used->memory : 0;
    if (ports_union(&out->tcp, &host->tcp) < 0 || ports_union(&out->tcp, &used->tcp) < 0 ||
        ports_union(&out->udp, &host->udp) < 0 || ports_union(&out->udp, &used->udp) < 0) {
        res_free(out);
        return -1;
    }
    return 0;
}
