/* query.h: one query in, one response out: the path every transport
 * (UDP, TCP, workers) and the fuzz target share.
 *
 * dns_query() parses pkt strictly (wire.h), answers names inside the
 * zone's namespaces from the zone, and tells the caller when the name is
 * someone else's (*forward set, nothing written: the caller forwards it or
 * refuses it).  Never reads past len or writes past cap; cap is the
 * transport's limit (wire_udp_limit for UDP, 65535 for TCP). */
#ifndef BERTH_DNS_QUERY_H
#define BERTH_DNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"

struct dns_zone;

/* Returns the response length; 0: drop (or *forward set). */
size_t dns_query(const struct dns_zone *z, const uint8_t *pkt, size_t len, bool udp,
                 uint32_t rot, uint8_t *out, size_t cap, bool *forward,
                 struct wire_query *q);

/* The answer for a query that is not ours and may not be forwarded. */
size_t dns_refuse(const struct wire_query *q, uint8_t *out, size_t cap);

#endif
