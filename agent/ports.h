/* ports.h: the pool of dynamic host ports ("hostPort": 0).
 *
 * The agent, not the engine, picks dynamic host ports, as the ECS agent
 * does: so that a chosen port is known before the container exists, is
 * recorded on the task, survives a restart of the agent, and is never one
 * the admin reserved.
 *
 * Allocation scans upward from just after the last port handed out,
 * wrapping within [first, last]; it skips reserved ports, ports held by a
 * task, and ports some other process has bound (checked with bind() on
 * the wildcard address for the protocol).  The pool defaults to the
 * kernel's ip_local_port_range, like ECS; since the kernel also hands out
 * ports from that range for outgoing connections, a conf can move the pool
 * out of it (berth.conf(5) says so).
 *
 * Ports are held per protocol: tcp 8080 and udp 8080 are distinct.
 * Control loop only. */
#ifndef BERTH_PORTS_H
#define BERTH_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum port_proto { PORT_TCP = 0, PORT_UDP = 1 };

struct ports;

/* first..last inclusive (1 <= first <= last <= 65535).  reserved: n ports
 * never handed out nor reported as free. */
struct ports *ports_new(uint16_t first, uint16_t last, const uint16_t *reserved,
                        size_t n_reserved);
void ports_free(struct ports *p);

/* Reads /proc/sys/net/ipv4/ip_local_port_range; 49153-65535 when it
 * cannot (ECS's fallback). */
void ports_kernel_range(uint16_t *first, uint16_t *last);

/* A free port, now held; 0 when the whole pool is taken. */
uint16_t ports_take(struct ports *p, enum port_proto proto);
/* Holds a given port (a static hostPort, or one recorded on a task being
 * re-adopted).  -1 when it is reserved or already held; ports outside the
 * pool can be held too (static ports). */
int ports_hold(struct ports *p, enum port_proto proto, uint16_t port);
void ports_release(struct ports *p, enum port_proto proto, uint16_t port);
bool ports_held(const struct ports *p, enum port_proto proto, uint16_t port);
bool ports_reserved(const struct ports *p, uint16_t port);

/* How many ports of the pool are held. */
size_t ports_in_use(const struct ports *p);

/* For tests: replaces the bind() probe. */
void ports_set_probe(struct ports *p, bool (*is_free)(enum port_proto, uint16_t,
                                                      void *),
                     void *arg);

#endif
