/* server.h: the responder's sockets on a libev loop: UDP and TCP on the
 * [dns] listen address, answering from the zone it is given.
 *
 * The zone is swapped with dns_server_set_zone() (the server takes a
 * reference).  Names outside the namespaces are forwarded (forward.h) for
 * clients in [dns] allow, and REFUSED for the others; an upstream failure
 * is SERVFAIL.  TCP: two-byte length framing (RFC 1035 4.2.2, 7766), several
 * queries per connection, closed after [dns] tcp-idle-timeout idle. */
#ifndef BERTH_DNS_SERVER_H
#define BERTH_DNS_SERVER_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

struct conf_dns;
struct dns_zone;
struct dns_server;

/* Binds listen (UDP and TCP).  NULL with err ("cannot bind ...: why"). */
struct dns_server *dns_server_new(struct ev_loop *loop, const struct conf_dns *c,
                                  char *err, size_t errlen);
void dns_server_set_zone(struct dns_server *s, struct dns_zone *z);
void dns_server_set_idle(struct dns_server *s, uint64_t idle_ms);
/* Its figures (stats.h): read from other threads with dns_stats_add. */
const struct dns_stats *dns_server_stats(const struct dns_server *s);
void dns_server_free(struct dns_server *s);

#endif
