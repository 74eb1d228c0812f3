/* resolver.h: asynchronous name lookups on the libev loop (c-ares).
 *
 * c-ares' sockets are watched with ev_io and its timeouts with one ev_timer,
 * so lookups never block the loop.  Servers come from the argument
 * ("127.0.0.1:5353,[::1]:53") or, when NULL, from /etc/resolv.conf; numeric
 * names and /etc/hosts are answered without a query (ares_getaddrinfo).
 *
 * Contract: cb is called exactly once for each lookup not cancelled, never
 * from inside resolver_lookup() itself; after resolver_cancel() it is not
 * called.  resolver_free() cancels what is pending. */
#ifndef BERTH_RESOLVER_H
#define BERTH_RESOLVER_H

#include <ev.h>

#include "berth/plugin.h"

struct resolver;
struct resolver_query;

/* NULL with err set when c-ares cannot be initialised or servers is bad. */
struct resolver *resolver_new(struct ev_loop *loop, const char *servers,
                              uint64_t timeout_ms, char *err, size_t errlen);
void resolver_free(struct resolver *r);

/* NULL when r, name or cb is NULL; an unsupported family is reported
 * through cb. */
struct resolver_query *resolver_lookup(struct resolver *r, const char *name,
                                       int family, berth_lookup_cb cb,
                                       void *arg);
void resolver_cancel(struct resolver_query *q);
unsigned resolver_active(const struct resolver *r);

#endif
