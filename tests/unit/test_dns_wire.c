/* test_dns_wire.c: the query parser on malformed packets: what is dropped,
 * what gets FORMERR or NOTIMP (with the query's ID), and a deterministic
 * mutation run over the whole query path (no crash, no read or write out
 * of bounds: run under valgrind and ASan). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "dns/dns_conf.h"
#include "agent/registry.h"
#include "dns/query.h"
#include "dns/stats.h"
#include "dns/wire.h"
#include "dns/zone.h"
#include "tests/lib/tap.h"

/* A query for web.prod.local A, ID 0x1234, RD. */
static const uint8_t good[] = {
    0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
    3, 'w', 'e', 'b', 4, 'p', 'r', 'o', 'd', 5, 'l', 'o', 'c', 'a', 'l', 0,
    0, 1, 0, 1};

static struct dns_zone *zone;

/* Runs the query path on pkt; returns the response's rcode, -1 when it
 * was dropped, -2 when it would be forwarded. */
static int run(const uint8_t *pkt, size_t len, uint8_t *out, size_t *n)
{
    struct wire_query q;
    bool fwd;
    *n = dns_query(zone, pkt, len, true, 0, out, 512, &fwd, &q);
    if (fwd)
        return -2;
    if (*n == 0)
        return -1;
    return out[3] & 0xf;
}

static int with(const uint8_t *base, size_t blen, size_t at, uint8_t v)
{
    uint8_t pkt[600], out[512];
    size_t n;
    memcpy(pkt, base, blen);
    pkt[at] = v;
    return run(pkt, blen, out, &n);
}

static void test_cases(void)
{
    uint8_t pkt[600], out[512];
    size_t n;

    ok(run(good, sizeof good, out, &n) == DNS_R_NOERROR && out[0] == 0x12 && out[1] == 0x34,
       "the well-formed query is answered with its ID");
    ok(run(good, 11, out, &n) == -1, "shorter than a header: dropped");
    ok(run(good, 0, out, &n) == -1, "empty: dropped");
    ok(with(good, sizeof good, 2, 0x81) == -1, "a response (QR set): dropped");
    ok(with(good, sizeof good, 2, 0x10) == DNS_R_NOTIMP, "opcode STATUS: NOTIMP");
    ok(with(good, sizeof good, 2, 0x28) == DNS_R_NOTIMP, "opcode UPDATE: NOTIMP");
    ok(with(good, sizeof good, 5, 0) == DNS_R_FORMERR, "QDCOUNT 0: FORMERR");
    ok(with(good, sizeof good, 5, 2) == DNS_R_FORMERR, "QDCOUNT 2: FORMERR");
    ok(with(good, sizeof good, 7, 1) == DNS_R_FORMERR, "ANCOUNT 1 in a query: FORMERR");
    ok(with(good, sizeof good, 11, 1) == DNS_R_FORMERR, "ARCOUNT 1 without a record: FORMERR");
    ok(with(good, sizeof good, 11, 2) == DNS_R_FORMERR, "ARCOUNT 2: FORMERR");
    ok(run(good, sizeof good - 1, out, &n) == DNS_R_FORMERR, "question cut short: FORMERR");
    ok(run(good, 20, out, &n) == DNS_R_FORMERR, "name cut short: FORMERR");
    ok(n == DNS_HDR && out[0] == 0x12 && out[1] == 0x34 && (out[2] & 0x80) && (out[2] & 1),
       "... the error is a bare header with the ID, QR and RD");
    ok(with(good, sizeof good, 12, 0xc0) == DNS_R_FORMERR, "a compression pointer in the question: FORMERR");
    ok(with(good, sizeof good, 12, 0x40) == DNS_R_FORMERR, "an extended label type: FORMERR");
    ok(with(good, sizeof good, 12, 60) == DNS_R_FORMERR, "a label longer than the packet: FORMERR");
    /* A pointer to itself, and a loop through two. */
    uint8_t loop[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    ok(run(loop, sizeof loop, out, &n) == DNS_R_FORMERR, "a pointer loop: FORMERR, no hang");
    memcpy(pkt, good, sizeof good);
    pkt[sizeof good] = 0;
    ok(run(pkt, sizeof good + 1, out, &n) == DNS_R_FORMERR, "trailing bytes: FORMERR");
    /* A name of 256 bytes: too long. */
    size_t o = DNS_HDR;
    memcpy(pkt, good, DNS_HDR);
    for (int i = 0; i < 5; i++) {
        pkt[o++] = 63;
        memset(pkt + o, 'a', 63);
        o += 63;
    }
    pkt[o++] = 0, pkt[o++] = 0, pkt[o++] = 1, pkt[o++] = 0, pkt[o++] = 1;
    ok(run(pkt, o, out, &n) == DNS_R_FORMERR, "a name over 255 bytes: FORMERR");
    /* EDNS: a good OPT, then broken ones. */
    uint8_t opt[] = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
    memcpy(pkt, good, sizeof good);
    pkt[11] = 1;
    memcpy(pkt + sizeof good, opt, sizeof opt);
    ok(run(pkt, sizeof good + sizeof opt, out, &n) == DNS_R_NOERROR && out[11] == 1,
       "an OPT record: answered, with an OPT back");
    ok(with(pkt, sizeof good + sizeof opt, sizeof good + 2, 1) == DNS_R_FORMERR,
       "an additional record that is not OPT: FORMERR");
    ok(with(pkt, sizeof good + sizeof opt, sizeof good + 10, 4) == DNS_R_FORMERR,
       "an OPT whose rdata runs past the end: FORMERR");
    ok(with(pkt, sizeof good + sizeof opt, sizeof good, 3) == DNS_R_FORMERR,
       "an OPT with an owner name: FORMERR");
    /* AXFR over UDP, and outside the namespaces. */
    ok(with(good, sizeof good, 29, 252) == DNS_R_REFUSED, "AXFR: REFUSED");
    ok(with(good, sizeof good, 22, 'x') == -2, "another name: handed to forwarding");
}

/* Random mutations of good and of an EDNS query: the parser must never
 * crash nor read past the packet (valgrind/ASan watch). */
static void test_mutations(void)
{
    uint8_t base[64], pkt[64], out[512];
    size_t n, blen = sizeof good;
    unsigned seed = 12345, answered = 0, errors = 0;

    memcpy(base, good, sizeof good);
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 16) % (blen + 4);
        uint8_t *heap;
        memcpy(pkt, base, blen);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            pkt[(seed >> 8) % blen] = (uint8_t)(seed >> 24);
        }
        /* An exact-size heap copy, so reading one byte too far is caught. */
        heap = malloc(len ? len : 1);
        memcpy(heap, pkt, len);
        int rc = run(heap, len, out, &n);
        free(heap);
        if (rc == DNS_R_NOERROR || rc == DNS_R_NXDOMAIN)
            answered++;
        else if (rc >= 0)
            errors++;
        if (n > 512) {
            ok(0, "an answer over the limit");
            return;
        }
    }
    ok(answered > 0 && errors > 0,
       "200000 mutated packets: no crash (%u answered, %u errors)", answered, errors);
}

/* stats.h: the counters the metrics are made of. */
static void test_stats(void)
{
    struct dns_stats a = {0}, sum = {0};

    dns_stats_query(&a, DNS_T_A, DNS_R_NOERROR);
    dns_stats_query(&a, DNS_T_A, DNS_R_NOERROR);
    dns_stats_query(&a, DNS_T_AAAA, DNS_R_NXDOMAIN);
    dns_stats_query(&a, 99, 11); /* an odd type and rcode */
    dns_stats_forwarded(&a, true);
    dns_stats_forwarded(&a, false);
    dns_stats_latency(&a, false, 50000);      /* 50 us: the first bucket */
    dns_stats_latency(&a, true, 30000000);    /* 30 ms: the 50 ms one */
    dns_stats_latency(&a, true, 5000000000u); /* 5 s: +Inf */
    dns_stats_add(&sum, &a);
    dns_stats_add(&sum, &a);
    ok(sum.queries[DNS_QT_A][DNS_R_NOERROR] == 4 && sum.queries[DNS_QT_AAAA][DNS_R_NXDOMAIN] == 2,
       "queries by type and rcode, summed over two workers");
    ok(sum.queries[DNS_QT_OTHER][DNS_RC_N - 1] == 2, "an odd type and rcode count as other");
    is_str(dns_stats_qtype_name(DNS_QT_AAAA), "AAAA", "qtype label");
    is_str(dns_stats_rcode_name(DNS_R_REFUSED), "REFUSED", "rcode label");
    is_str(dns_stats_rcode_name(DNS_RC_N - 1), "other", "other rcode label");
    ok(sum.forwarded_ok == 2 && sum.forwarded_failed == 2, "forwarded: answered and failed");
    ok(sum.lat[0][0] == 2 && sum.lat[1][8] == 2 && sum.lat[1][DNS_LAT_N] == 2,
       "latency buckets: 50 us in the first, 30 ms under 50 ms, 5 s past the last bound");
    ok(sum.lat_sum_ns[1] == 2 * (30000000u + 5000000000u), "latency sums");
}

int main(void)
{
    test_stats();
    struct conf *c = NULL;
    struct conf_errors e = {0};
    dns_conf_register();
    conf_load_string("[dns]\nenabled = yes\nnamespaces = prod.local\n", "t.conf", &c, &e);
    struct reg_snapshot *s = reg_snapshot_new("c");
    struct reg_service *svc = reg_add_service(s, "web", "arn", false);
    reg_add_discovery(svc, "srv-1", "", 0, 0);
    struct reg_task *t = reg_add_task(svc, "0123456789abcdef0123456789abcdef", "arn", "",
                                      REG_NET_BRIDGE, true, false, 0);
    reg_add_port(t, "web", "", 80, 40000, false);
    zone = c ? dns_zone_compile(dns_conf_of(c), s) : NULL;
    if (!zone) {
        ok(0, "the zone compiles");
        return done_testing();
    }
    test_cases();
    test_mutations();
    dns_zone_unref(zone);
    reg_snapshot_free(s);
    conf_free(c);
    conf_errors_clear(&e);
    return done_testing();
}
