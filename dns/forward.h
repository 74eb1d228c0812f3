/* forward.h: names outside the namespaces, sent as they came to the
 * upstream resolvers through c-ares on a libev loop.
 *
 * The client's packet goes out as is (c-ares gives it its own ID and
 * matches the answer); cb gets the upstream's answer with the client's ID
 * written back, or NULL when every upstream failed or timed out (about a
 * second: the caller answers SERVFAIL).  Truncated upstream answers are
 * passed back truncated (the client retries over TCP, which is forwarded
 * the same way).  cb may run inside dns_forward_send() (no upstream at
 * all) and is called exactly once per send, with NULL when freed first. */
#ifndef BERTH_DNS_FORWARD_H
#define BERTH_DNS_FORWARD_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

struct dns_forward;
typedef void (*dns_forward_cb)(void *arg, const uint8_t *answer, size_t len);

/* servers: "IP[:PORT],..." or "" for /etc/resolv.conf.  NULL with err. */
struct dns_forward *dns_forward_new(struct ev_loop *loop, const char *servers, char *err,
                                    size_t errlen);
void dns_forward_send(struct dns_forward *f, const uint8_t *query, size_t len,
                      dns_forward_cb cb, void *arg);
void dns_forward_free(struct dns_forward *f);

#endif
