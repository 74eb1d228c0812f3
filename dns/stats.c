/* stats.c: per-worker counters of the responder (stats.h). */
#include "config.h"

#include "dns/stats.h"

#include <time.h>

#include "dns/wire.h"

const double dns_lat_bounds[DNS_LAT_N] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                          0.01,   0.025,   0.05,   0.1,   0.25,   1.0};

static void bump(uint64_t *c, uint64_t by)
{
    /* One writer: a relaxed load and store is an add nobody races with. */
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + by, __ATOMIC_RELAXED);
}

static int qt_index(uint16_t qtype)
{
    switch (qtype) {
    case DNS_T_A: return DNS_QT_A;
    case DNS_T_AAAA: return DNS_QT_AAAA;
    case DNS_T_SRV: return DNS_QT_SRV;
    case DNS_T_SOA: return DNS_QT_SOA;
    case DNS_T_NS: return DNS_QT_NS;
    case DNS_T_ANY: return DNS_QT_ANY;
    default: return DNS_QT_OTHER;
    }
}

void dns_stats_query(struct dns_stats *s, uint16_t qtype, int rcode)
{
    bump(&s->queries[qt_index(qtype)][rcode >= 0 && rcode < DNS_RC_N - 1 ? rcode : DNS_RC_N - 1],
         1);
}

void dns_stats_forwarded(struct dns_stats *s, bool ok)
{
    bump(ok ? &s->forwarded_ok : &s->forwarded_failed, 1);
}

void dns_stats_latency(struct dns_stats *s, bool forwarded, uint64_t ns)
{
    int f = forwarded ? 1 : 0;
    double secs = (double)ns / 1e9;
    int i = 0;

    while (i < DNS_LAT_N && secs > dns_lat_bounds[i])
        i++;
    bump(&s->lat[f][i], 1); /* per bucket here; made cumulative when read */
    bump(&s->lat_sum_ns[f], ns);
}

static uint64_t rd(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void dns_stats_add(struct dns_stats *sum, const struct dns_stats *one)
{
    for (int i = 0; i < DNS_QT_N; i++)
        for (int j = 0; j < DNS_RC_N; j++)
            sum->queries[i][j] += rd(&one->queries[i][j]);
    sum->forwarded_ok += rd(&one->forwarded_ok);
    sum->forwarded_failed += rd(&one->forwarded_failed);
    for (int f = 0; f < 2; f++) {
        for (int i = 0; i <= DNS_LAT_N; i++)
            sum->lat[f][i] += rd(&one->lat[f][i]);
        sum->lat_sum_ns[f] += rd(&one->lat_sum_ns[f]);
    }
}

const char *dns_stats_qtype_name(int i)
{
    static const char *const n[DNS_QT_N] = {"A", "AAAA", "SRV", "SOA", "NS", "ANY", "other"};
    return i >= 0 && i < DNS_QT_N ? n[i] : "other";
}

const char *dns_stats_rcode_name(int i)
{
    static const char *const n[DNS_RC_N] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                            "NOTIMP",  "REFUSED", "other"};
    return i >= 0 && i < DNS_RC_N ? n[i] : "other";
}

uint64_t dns_stats_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
