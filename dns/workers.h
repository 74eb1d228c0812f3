/* workers.h: the responder's worker threads.  Each has its own libev loop
 * and its own server (server.h): UDP and TCP sockets bound with
 * SO_REUSEPORT on the same address, so the kernel spreads clients over the
 * threads, and its own c-ares channel for forwarding.
 *
 * The control loop compiles zones; dns_workers_set_zone() parks a
 * reference for each worker and wakes it (ev_async); the worker swaps it
 * in between two queries.  A worker never takes a lock to answer: the
 * mutex guards only the parked zone.
 *
 * Control loop only, except what runs inside the workers. */
#ifndef BERTH_DNS_WORKERS_H
#define BERTH_DNS_WORKERS_H

#include <stddef.h>

struct conf_dns;
struct dns_zone;
struct dns_workers;

/* [dns] workers threads (0: one per core), each bound to listen and
 * serving z from the start.  NULL with err (the first bind error). */
struct dns_workers *dns_workers_new(const struct conf_dns *c, struct dns_zone *z, char *err,
                                    size_t errlen);
void dns_workers_set_zone(struct dns_workers *w, struct dns_zone *z);
size_t dns_workers_count(const struct dns_workers *w);
struct dns_stats;
/* sum += every worker's figures (stats.h). */
void dns_workers_stats(const struct dns_workers *w, struct dns_stats *sum);
/* Stops and joins every thread; pending forwarded queries get SERVFAIL. */
void dns_workers_free(struct dns_workers *w);

#endif
