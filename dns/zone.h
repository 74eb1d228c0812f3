/* zone.h: the names the responder is authoritative for, compiled from a
 * registry snapshot and the [dns] conf, and the answers to queries on them.
 *
 * A zone is immutable once compiled and reference-counted (atomically), so
 * the control loop compiles a new one after each registry change and
 * hands it to the workers, who read theirs without a lock.
 *
 * Names (all lowercase), per namespace NS of the conf:
 *   NS                       SOA (ns.NS hostmaster.NS GENERATION ...)
 *   SERVICE.NS               A/AAAA and SRV: one per task in service
 *   _PORT._tcp.SERVICE.NS    SRV for the bindings named PORT (_udp too)
 *   TASKID.SERVICE.NS        A/AAAA of every running task, draining too
 * and every name between them and NS (no records: NODATA, not NXDOMAIN).
 * "In service" is healthy and not draining; when no task of a service is,
 * its tasks that are not draining are answered (Cloud Map's fail open).
 * A service's name and namespace come from its serviceRegistries (see
 * dns_zone_service_name) or, with all-services, its name in the first
 * namespace.  Addresses: the task's own in awsvpc mode (A or AAAA),
 * advertise-address's in bridge and host mode (A, AAAA or both); a name
 * without an address of the asked family is NODATA.  SRV additionals
 * carry both families of each target.  SRV: priority 1, weight 1, the binding's host
 * port (its container port in awsvpc mode), target TASKID.SERVICE.NS. */
#ifndef BERTH_DNS_ZONE_H
#define BERTH_DNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"

struct conf_dns;
struct reg_snapshot;
struct reg_service;
struct reg_discovery;
struct dns_zone;

/* NULL on OOM. */
struct dns_zone *dns_zone_compile(const struct conf_dns *c, const struct reg_snapshot *s);
void dns_zone_ref(struct dns_zone *z);
void dns_zone_unref(struct dns_zone *z);

/* Whether name (dotted, lowercase) is at or under one of the namespaces. */
bool dns_zone_is_ours(const struct dns_zone *z, const char *name);

/* The response to q (whose name is ours) in out, at most limit bytes
 * (TC set, records dropped, when the answer does not fit).  rot rotates
 * the records answered (call with a counter).  Returns the length. */
size_t dns_zone_answer(const struct dns_zone *z, const struct wire_query *q, uint32_t rot,
                       uint8_t *out, size_t limit);

/* The name a serviceRegistries entry gives service svc: fills ns_idx and
 * name (the SERVICE label) and returns 0, or -1 when its namespace is not
 * one of c's.  An ARN "arn:aws:servicediscovery:R:A:service/NS/NAME" names
 * both; any other puts the service in the first namespace as itself. */
int dns_zone_service_name(const struct conf_dns *c, const struct reg_service *svc,
                          const struct reg_discovery *d, size_t *ns_idx,
                          char *name, size_t namelen);

/* How many names the zone holds (for logs and tests). */
size_t dns_zone_size(const struct dns_zone *z);

#endif
