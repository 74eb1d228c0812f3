/* resources.h: this host's capacity as ECS counts it for placement, what a
 * task reserves, and what is left (DescribeContainerInstances' registered
 * and remaining resources; RunTask's and StartTask's RESOURCE:* checks).
 *
 * ECS's rules, kept here:
 *   - CPU: 1024 units per online CPU; MEMORY: MemTotal in MiB.
 *   - A task reserves its task-level cpu and memory when set; otherwise
 *     the sum over its containers of cpu, and of memoryReservation (when
 *     set) or memory.
 *   - PORTS / PORTS_UDP: the host ports taken.  The host's registered set
 *     is the reserved ports of berth.conf (for both protocols); a task in
 *     bridge or host mode takes its fixed hostPorts (and, once picked, its
 *     dynamic ones); awsvpc and none tasks take no host port.
 *   - A task fits when cpu and memory needed are at most what is left and
 *     none of its fixed ports is reserved or taken; the first shortage is
 *     the reason: RESOURCE:CPU, then RESOURCE:MEMORY, then RESOURCE:PORTS
 *     (RESOURCE:PORTS_UDP for a udp port).
 * Pure arithmetic, no I/O except res_host_read(). */
#ifndef BERTH_RESOURCES_H
#define BERTH_RESOURCES_H

#include <stddef.h>
#include <stdint.h>

struct taskdef;
struct task;

struct res_ports {
    uint16_t *v; /* ascending, no duplicates */
    size_t n;
};

struct res {
    int64_t cpu;    /* units */
    int64_t memory; /* MiB */
    struct res_ports tcp, udp;
};

/* The host: ncpu online CPUs, mem_mib of memory, reserved ports (tcp and
 * udp alike).  -1 on OOM. */
int res_host(struct res *out, long ncpu, int64_t mem_mib, const uint16_t *reserved,
             size_t n_reserved);
/* The same with this machine's online CPUs and /proc/meminfo's MemTotal. */
int res_host_read(struct res *out, const uint16_t *reserved, size_t n_reserved);

/* What a task of definition td needs before it has ports picked. */
int res_taskdef(struct res *out, const struct taskdef *td);
/* What a live task holds: its definition's cpu and memory, and the host
 * ports it has (fixed and dynamic). */
int res_task(struct res *out, const struct task *t);

/* acc += x (ports: union).  -1 on OOM. */
int res_add(struct res *acc, const struct res *x);
/* NULL when need fits in host minus used, else ECS's reason. */
const char *res_fit(const struct res *host, const struct res *used,
                    const struct res *need);
/* host minus used: cpu and memory subtracted (never below 0), ports the
 * union of the host's reserved and the used ones.  -1 on OOM. */
int res_remaining(struct res *out, const struct res *host, const struct res *used);

/* What the live (not STOPPED) tasks of all[0..n) hold, summed into used
 * (zeroed first).  -1 on OOM. */
int res_used(struct res *used, struct task *const *all, size_t n);
/* How many of count tasks needing need fit in host minus used, placed one
 * after another (used grows by each that fits); *why receives the reason
 * the first that did not fit was refused (NULL when all fit).  -1 on OOM. */
int res_place(const struct res *host, struct res *used, const struct res *need, int count,
              const char **why);

void res_free(struct res *r);

#endif
