/* stats.h: the responder's figures, counted per worker thread.
 *
 * Each server (server.h) owns one struct dns_stats and is its only writer
 * (its worker thread); the control loop sums them (dns_stats_add) at each
 * metrics interval and records the sums as agent metrics (dns_agent.c).
 * The counters are plain per-thread counters, written and read with
 * relaxed atomics: no lock, no shared cache line on the query path.
 *
 *   queries by qtype (A, AAAA, SRV, ...) and rcode of the answer sent,
 *     forwarded ones included (their rcode is the upstream's; REFUSED
 *     counts the clients outside [dns] allow);
 *   forwarded: answered by an upstream, or failed (SERVFAIL sent);
 *   latency: from the query read to its answer built (local) or the
 *     upstream's answer received (forwarded), in buckets. */
#ifndef BERTH_DNS_STATS_H
#define BERTH_DNS_STATS_H

#include <stdbool.h>
#include <stdint.h>

enum { DNS_QT_A, DNS_QT_AAAA, DNS_QT_SRV, DNS_QT_SOA, DNS_QT_NS, DNS_QT_ANY, DNS_QT_OTHER,
       DNS_QT_N };
enum { DNS_RC_N = 7 }; /* NOERROR .. REFUSED (0-5), and any other */
#define DNS_LAT_N 12   /* finite bucket bounds; one more for +Inf */

struct dns_stats {
    uint64_t queries[DNS_QT_N][DNS_RC_N];
    uint64_t forwarded_ok, forwarded_failed;
    /* [0] local answers, [1] forwarded; cumulative counts per bound. */
    uint64_t lat[2][DNS_LAT_N + 1];
    uint64_t lat_sum_ns[2];
};

/* The upper bounds of the latency buckets, in seconds. */
extern const double dns_lat_bounds[DNS_LAT_N];

void dns_stats_query(struct dns_stats *s, uint16_t qtype, int rcode);
void dns_stats_forwarded(struct dns_stats *s, bool ok);
void dns_stats_latency(struct dns_stats *s, bool forwarded, uint64_t ns);
/* sum += one, reading one's counters as its writer may be changing them. */
void dns_stats_add(struct dns_stats *sum, const struct dns_stats *one);

const char *dns_stats_qtype_name(int i);
const char *dns_stats_rcode_name(int i);
/* CLOCK_MONOTONIC in ns. */
uint64_t dns_stats_now_ns(void);

#endif
