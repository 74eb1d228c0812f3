/* test_dns_zone.c: the responder's answers from a compiled zone, read back
 * with ldns (an independent parser): names from serviceRegistries, A and
 * SRV with the additional A, task names, NXDOMAIN and NODATA with the SOA,
 * AA, the cap on answers with rotation, fail open, draining, awsvpc
 * addresses, EDNS sizes and truncation, and the [dns] conf checks. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "agent/conf.h"
#include "agent/registry.h"
#include "dns/dns_conf.h"
#include "dns/query.h"
#include "dns/zone.h"
#include "tests/lib/tap.h"

static struct conf *load(const char *text)
{
    struct conf *c = NULL;
    struct conf_errors e = {0};
    if (conf_load_string(text, "t.conf", &c, &e) < 0) {
        for (size_t i = 0; i < e.n; i++)
            diag("%s", e.msg[i]);
        conf_errors_clear(&e);
        return NULL;
    }
    return c;
}

/* The first error conf_load_string gives for text, or "" (static). */
static const char *conf_err(const char *text)
{
    static char buf[1024];
    struct conf *c = NULL;
    struct conf_errors e = {0};
    buf[0] = '\0';
    if (conf_load_string(text, "t.conf", &c, &e) < 0)
        snprintf(buf, sizeof buf, "%s", e.n ? e.msg[0] : "?");
    conf_free(c);
    conf_errors_clear(&e);
    return buf;
}

static char task_id[64][33];

/* web: n tasks in bridge mode, host ports 40000+i, healthy unless told;
 * registered as web in prod.local by Berth's ARN convention. */
static struct reg_snapshot *snap_web(int n, int unhealthy_from, int draining_idx)
{
    struct reg_snapshot *s = reg_snapshot_new("c");
    struct reg_service *svc = reg_add_service(s, "web", "arn:svc/web", false);
    reg_add_discovery(svc, "arn:aws:servicediscovery:eu-west-1:123:service/prod.local/web",
                      "app", 8080, 0);
    for (int i = 0; i < n; i++) {
        snprintf(task_id[i], sizeof task_id[i], "%032x", i + 1);
        struct reg_task *t = reg_add_task(svc, task_id[i], "arn:t", "172.17.0.9",
                                          REG_NET_BRIDGE, i < unhealthy_from,
                                          i == draining_idx, i);
        reg_add_port(t, "app", "http", 8080, (uint16_t)(40000 + i), false);
        reg_add_port(t, "side", "metrics", 9100, (uint16_t)(41000 + i), false);
    }
    /* A service without discovery: no name (all-services = no). */
    struct reg_service *hidden = reg_add_service(s, "hidden", "arn:svc/hidden", false);
    reg_add_task(hidden, "ffffffffffffffffffffffffffffffff", "arn:t", "", REG_NET_BRIDGE,
                 true, false, 1);
    /* A real Cloud Map id: the first namespace, under its own name. */
    struct reg_service *api = reg_add_service(s, "api", "arn:svc/api", false);
    reg_add_discovery(api, "arn:aws:servicediscovery:eu-west-1:123:service/srv-abcdef",
                      "", 0, 0);
    struct reg_task *t = reg_add_task(api, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "arn:t",
                                      "10.1.2.3", REG_NET_AWSVPC, true, false, 1);
    reg_add_port(t, "api", "grpc", 7000, 0, false);
    /* In a namespace we do not serve: no name. */
    struct reg_service *other = reg_add_service(s, "other", "arn:svc/other", false);
    reg_add_discovery(other, "arn:aws:servicediscovery:eu-west-1:123:service/else.local/other",
                      "", 0, 0);
    return s;
}

/* Asks z for name/type; NULL when nothing was answered. */
static ldns_pkt *ask(const struct dns_zone *z, const char *name, ldns_rr_type type,
                     size_t edns, bool udp, uint32_t rot, size_t *len_out)
{
    ldns_pkt *q = NULL;
    uint8_t *wire = NULL, out[65535];
    size_t wlen = 0, n;
    struct wire_query wq;
    bool fwd;
    ldns_pkt *r = NULL;

    if (ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
        return NULL;
    ldns_pkt_set_id(q, 4242);
    if (edns) {
        ldns_pkt_set_edns_udp_size(q, (uint16_t)edns);
        ldns_pkt_set_edns_do(q, false);
        ldns_pkt_set_edns_data(q, NULL);
        /* ldns adds the OPT only when some EDNS field is set. */
    }
    if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK)
        goto out;
    n = dns_query(z, wire, wlen, udp, rot, out, sizeof out, &fwd, &wq);
    if (len_out)
        *len_out = n;
    if (n > 0 && ldns_wire2pkt(&r, out, n) != LDNS_STATUS_OK)
        r = NULL;
out:
    free(wire);
    ldns_pkt_free(q);
    return r;
}

static int count_type(ldns_rr_list *l, ldns_rr_type t)
{
    int n = 0;
    for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
        if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t)
            n++;
    return n;
}

static char *rdf_str(const ldns_rr *rr, size_t i)
{
    return ldns_rdf2str(ldns_rr_rdf(rr, i));
}

static void test_conf(void)
{
    struct conf *c = load("[dns]\nenabled = yes\nnamespaces = Prod.Local., test.local\n"
                          "listen = 127.0.0.1:5353\nttl = 10s\nmax-answers = 3\n"
                          "advertise-address = 192.0.2.7\nallow = 10.0.0.0/8, ::1\n"
                          "upstreams = 127.0.0.1:5300, 192.0.2.53\n");
    ok(c != NULL, "a full [dns] section loads");
    if (c) {
        ok(dns_conf_of(c)->n_ns == 2 && strcmp(dns_conf_of(c)->ns[0], "prod.local") == 0 &&
               strcmp(dns_conf_of(c)->ns[1], "test.local") == 0,
           "namespaces are lowercased, without the trailing dot");
        ok(dns_conf_of(c)->listen.port == 5353 && dns_conf_of(c)->ttl_ms == 10000 && dns_conf_of(c)->max_answers == 3,
           "listen, ttl, max-answers");
        ok(dns_conf_of(c)->n_nets == 2 && dns_conf_of(c)->nets[0].prefix == 8 && dns_conf_of(c)->nets[1].prefix == 128,
           "allow: two networks");
    }
    conf_free(c);
    c = load("[agent]\ncluster = x\n");
    ok(c && !dns_conf_of(c)->enabled && dns_conf_of(c)->ttl_ms == 5000 && dns_conf_of(c)->negative_ttl_ms == 5000 &&
           dns_conf_of(c)->max_answers == 8 && dns_conf_of(c)->listen.port == 53,
       "defaults: off, ttl 5s, negative-ttl 5s, 8 answers, port 53");
    conf_free(c);
    like(conf_err("[dns]\nenabled = yes\n"), "t.conf:2: [dns]",
         "enabled without namespaces: an error naming the line");
    like(conf_err("[dns]\nenabled = yes\n"), "no namespace", "... saying why");
    like(conf_err("[dns]\nnamespaces = a..b\n"), "t.conf:2: [dns] namespaces",
         "a bad namespace names file:line and key");
    like(conf_err("[dns]\nmax-answers = 0\n"), "expected 1 to 256", "max-answers 0");
    like(conf_err("[dns]\nallow = 10.0.0.0/33\n"), "10.0.0.0/33", "a bad network");
    like(conf_err("[dns]\nadvertise-address = host\n"), "IPv4 or IPv6", "a bad advertise-address");
    like(conf_err("[dns]\nupstreams = resolver\n"), "resolver addresses", "a bad upstream");
    like(conf_err("[dns]\ncolour = blue\n"), "t.conf:2: [dns] colour: unknown key",
         "an unknown key names file:line");
    like(conf_err("[dns]\n[dns]\n"), "duplicate section [dns]", "a second [dns]");
    like(conf_err("[dns]\n[dns x]\n"), "t.conf:2: section [dns x]: [dns] takes no name",
         "[dns NAME]");
    like(conf_err("[dns]\nenabled = yes\nenabled = no\nnamespaces = a\n"),
         "t.conf:3: [dns] enabled: duplicate key (first on line 2)", "a key twice");
    like(conf_err("[dns]\nnamespaces = a\ntask-resolver = yes\n"),
         "t.conf:3: [dns] task-resolver: containers cannot use a responder that is not "
         "enabled", "task-resolver without the responder names its line");
    like(conf_err("[dns]\ntask-resolver = maybe\n"), "t.conf:2: [dns] task-resolver:",
         "task-resolver takes a bool");
    ok(conf_err("[dns]\nenabled = yes\nnamespaces = a\ntask-resolver = yes\n")[0] == '\0',
       "task-resolver with the responder loads");
}

static void test_answers(void)
{
    struct conf *c = load("[dns]\nenabled = yes\nnamespaces = prod.local, test.local\n"
                          "advertise-address = 192.0.2.7\nttl = 7s\nnegative-ttl = 9s\n");
    struct reg_snapshot *s = snap_web(3, 3, -1);
    struct dns_zone *z = c && s ? dns_zone_compile(dns_conf_of(c), s) : NULL;
    ldns_pkt *r;

    ok(z != NULL, "the zone compiles");
    if (!z)
        goto out;
    r = ask(z, "web.prod.local", LDNS_RR_TYPE_A, 0, true, 0, NULL);
    ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR && ldns_pkt_aa(r) &&
           ldns_pkt_id(r) == 4242 && ldns_pkt_rd(r) && ldns_pkt_qr(r),
       "A: NOERROR, AA, the query's ID and RD");
    ok(r && ldns_pkt_ancount(r) == 1, "bridge mode: the one advertised address (no duplicates)");
    if (r && ldns_pkt_ancount(r) == 1) {
        char *a = rdf_str(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 0);
        is_str(a, "192.0.2.7", "... advertise-address");
        ok(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(r), 0)) == 7, "... with the ttl");
        free(a);
    }
    ldns_pkt_free(r);

    r = ask(z, "WEB.Prod.Local.", LDNS_RR_TYPE_SRV, 0, true, 0, NULL);
    ok(r && ldns_pkt_ancount(r) == 3, "SRV: one per task, names matched without case");
    if (r) {
        int ports = 0;
        for (size_t i = 0; i < ldns_pkt_ancount(r); i++) {
            ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), i);
            char *pr = rdf_str(rr, 0), *w = rdf_str(rr, 1), *p = rdf_str(rr, 2),
                 *t = rdf_str(rr, 3);
            int port = atoi(p);
            if (port >= 40000 && port < 40003 && strcmp(pr, "1") == 0 &&
                strcmp(w, "1") == 0) {
                char want[128];
                snprintf(want, sizeof want, "%s.web.prod.local.", task_id[port - 40000]);
                if (strcmp(t, want) == 0)
                    ports |= 1 << (port - 40000);
                else
                    diag("target %s, want %s", t, want);
            }
            free(pr), free(w), free(p), free(t);
        }
        ok(ports == 7, "... 1 1 HOSTPORT TASKID.web.prod.local for each task");
        ok(count_type(ldns_pkt_additional(r), LDNS_RR_TYPE_A) == 3,
           "... with each target's A in the additional section");
    }
    ldns_pkt_free(r);

    r = ask(z, "_metrics._tcp.web.prod.local", LDNS_RR_TYPE_SRV, 0, true, 0, NULL);
    ok(r && ldns_pkt_ancount(r) == 3, "_metrics._tcp: SRV for the named port");
    if (r && ldns_pkt_ancount(r) > 0) {
        char *p = rdf_str(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 2);
        ok(atoi(p) >= 41000 && atoi(p) < 41003, "... its host port (%s)", p);
        free(p);
    }
    ldns_pkt_free(r);

    char tname[128];
    snprintf(tname, sizeof tname, "%s.web.prod.local", task_id[1]);
    r = ask(z, tname, LDNS_RR_TYPE_A, 0, true, 0, NULL);
    ok(r && ldns_pkt_ancount(r) == 1 && ldns_pkt_aa(r), "TASKID.web.prod.local A");
    ldns_pkt_free(r);

    r = ask(z, "nope.prod.local", LDNS_RR_TYPE_A, 0, true, 0, NULL);
    ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_NXDOMAIN && ldns_pkt_aa(r) &&
           ldns_pkt_ancount(r) == 0 && ldns_pkt_nscount(r) == 1 &&
           ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(r), 0)) == LDNS_RR_TYPE_SOA,
       "an unknown name: NXDOMAIN, AA, the SOA in authority");
    if (r && ldns_pkt_nscount(r) == 1) {
        ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(r), 0);
        char *owner = ldns_rdf2str(ldns_rr_owner(soa)), *min = rdf_str(soa, 6);
        is_str(owner, "prod.local.", "... the namespace's SOA");
        ok(ldns_rr_ttl(soa) == 9 && strcmp(min, "9") == 0, "... negative-ttl as TTL and minimum");
        free(owner), free(min);
    }
    ldns_pkt_free(r);

    r = ask(z, "web.prod.local", LDNS_RR_TYPE_TXT, 0, true, 0, NULL);
    ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(r) == 0 &&
           ldns_pkt_nscount(r) == 1 && ldns_pkt_aa(r),
       "a known name, another type: NODATA with the SOA");
    ldns_pkt_free(r);
    r = ask(z, "_tcp.web.prod.local", LDNS_RR_TYPE_A, 0, true, 0, NULL);
    ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR && ldns_pkt_nscount(r) == 1,
       "a name between (_tcp.web.prod.local): NODATA, not NXDOMAIN");
    ldns_pkt_free(r);
    r = ask(z, "prod.local", LDNS_RR_TYPE_SOA, 0, true, 0, NULL);
    ok(r && ldns_pkt_ancount(r) == 1, "the namespace's SOA");
    ldns_pkt_free(r);
    r = ask(z, "hidden.prod.local", LDNS_RR_TYPE_A, 0, true, 0, NULL);
    ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_NXDOMAIN,
       "a service without serviceRegistries has no name");
    ldns_pkt_free(r);
    r = ask(z, "other.test.local", LDNS_RR_TYPE_A, 0, true, 0, NULL);
    ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_NXDOMAIN && ldns_pkt_nscount(r) == 1,
       "a registryArn naming an unserved namespace: no name");
    if (r && ldns_pkt_nscount(r) == 1) {
        char *o = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_authority(r), 0)));
        is_str(o, "test.local.", "... and NXDOMAIN carries test.local's SOA");
        free(o);
    }
    ldns_pkt_free(r);

    r = ask(z, "api.prod.local", LDNS_RR_TYPE_A, 0, true, 0, NULL);
    ok(r && ldns_pkt_ancount(r) == 1, "an srv-... registryArn: the service's name in the first namespace");
    if (r && ldns_pkt_ancount(r) == 1) {
        char *a = rdf_str(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 0);
        is_str(a, "10.1.2.3", "... awsvpc: the task's own address");
        free(a);
    }
    ldns_pkt_free(r);
    r = ask(z, "api.prod.local", LDNS_RR_TYPE_SRV, 0, true, 0, NULL);
    if (r && ldns_pkt_ancount(r) == 1) {
        char *p = rdf_str(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 2);
        is_str(p, "7000", "awsvpc SRV with neither container nor port: the first TCP binding's container port");
        free(p);
    } else {
        ok(0, "awsvpc SRV");
    }
    ldns_pkt_free(r);

    size_t n = 1;
    r = ask(z, "example.com", LDNS_RR_TYPE_A, 0, true, 0, &n);
    ok(r == NULL && n == 0, "a name outside the namespaces is left to the caller (forwarding)");
    ldns_pkt_free(r);
out:
    dns_zone_unref(z);
    reg_snapshot_free(s);
    conf_free(c);
}

static void test_health_and_caps(void)
{
    struct conf *c = load("[dns]\nenabled = yes\nnamespaces = prod.local\nmax-answers = 4\n");
    struct reg_snapshot *s = snap_web(10, 6, 2); /* 0-5 healthy, 2 draining */
    struct dns_zone *z = c && s ? dns_zone_compile(dns_conf_of(c), s) : NULL;
    ldns_pkt *r;

    if (!ok(z != NULL, "zone of 10 tasks compiles"))
        goto out;
    int seen[10] = {0}, bad = 0;
    for (uint32_t rot = 0; rot < 10; rot++) {
        r = ask(z, "web.prod.local", LDNS_RR_TYPE_SRV, 0, true, rot, NULL);
        if (!r || ldns_pkt_ancount(r) != 4)
            bad++;
        for (size_t i = 0; r && i < ldns_pkt_ancount(r); i++) {
            char *p = rdf_str(ldns_rr_list_rr(ldns_pkt_answer(r), i), 2);
            int k = atoi(p) - 40000;
            if (k >= 0 && k < 10)
                seen[k]++;
            free(p);
        }
        ldns_pkt_free(r);
    }
    ok(bad == 0, "max-answers = 4: 4 SRV records per answer");
    ok(seen[0] && seen[1] && seen[3] && seen[4] && seen[5],
       "rotation: every healthy task shows up over successive answers");
    ok(!seen[2], "a draining task is never answered");
    ok(!seen[6] && !seen[7] && !seen[8] && !seen[9], "unhealthy tasks are not answered");
    char tname[128];
    snprintf(tname, sizeof tname, "%s.web.prod.local", task_id[2]);
    r = ask(z, tname, LDNS_RR_TYPE_A, 0, true, 0, NULL);
    ok(r && ldns_pkt_ancount(r) == 1, "a draining task keeps its own name");
    ldns_pkt_free(r);
    dns_zone_unref(z);
    reg_snapshot_free(s);

    s = snap_web(3, 0, 0); /* none healthy, task 0 draining */
    z = dns_zone_compile(dns_conf_of(c), s);
    r = z ? ask(z, "web.prod.local", LDNS_RR_TYPE_SRV, 0, true, 0, NULL) : NULL;
    ok(r && ldns_pkt_ancount(r) == 2, "none healthy: the tasks not draining are answered (fail open)");
    ldns_pkt_free(r);
out:
    dns_zone_unref(z);
    reg_snapshot_free(s);
    conf_free(c);
}

static void test_sizes(void)
{
    struct conf *c = load("[dns]\nenabled = yes\nnamespaces = prod.local\nmax-answers = 40\n");
    struct reg_snapshot *s = snap_web(40, 40, -1);
    struct dns_zone *z = c && s ? dns_zone_compile(dns_conf_of(c), s) : NULL;
    ldns_pkt *r;
    size_t n = 0;

    if (!ok(z != NULL, "zone of 40 tasks compiles"))
        goto out;
    r = ask(z, "web.prod.local", LDNS_RR_TYPE_SRV, 0, true, 0, &n);
    ok(r && ldns_pkt_tc(r) && ldns_pkt_ancount(r) == 0 && n <= 512,
       "40 SRV over UDP without EDNS: TC, within 512 bytes (%zu)", n);
    ldns_pkt_free(r);
    r = ask(z, "web.prod.local", LDNS_RR_TYPE_SRV, 4096, true, 0, &n);
    ok(r && !ldns_pkt_tc(r) && ldns_pkt_ancount(r) == 40 && n <= 4096 && ldns_pkt_edns(r),
       "with EDNS 4096: all 40, and an OPT back (%zu bytes)", n);
    ok(r && ldns_pkt_arcount(r) >= 1, "... additional records as room allows");
    ldns_pkt_free(r);
    r = ask(z, "web.prod.local", LDNS_RR_TYPE_SRV, 1232, true, 0, &n);
    ok(r && ldns_pkt_tc(r) && n <= 1232,
       "EDNS 1232: 40 SRV (about 2.7 kB) do not fit: TC (%zu bytes)", n);
    ldns_pkt_free(r);
    r = ask(z, "web.prod.local", LDNS_RR_TYPE_SRV, 3000, true, 0, &n);
    ok(r && ldns_pkt_ancount(r) == 40 && !ldns_pkt_tc(r) && n <= 3000 &&
           ldns_pkt_arcount(r) < 41,
       "EDNS 3000: the answers fit, additional records left out as needed (%zu)", n);
    ldns_pkt_free(r);
    r = ask(z, "web.prod.local", LDNS_RR_TYPE_SRV, 0, false, 0, &n);
    ok(r && !ldns_pkt_tc(r) && ldns_pkt_ancount(r) == 40 && ldns_pkt_arcount(r) == 40,
       "over TCP: everything, additional included");
    ldns_pkt_free(r);
out:
    dns_zone_unref(z);
    reg_snapshot_free(s);
    conf_free(c);
}

/* The address records of section sec (0 answer, 2 additional) of type t,
 * as text sorted and joined by spaces. */
static char *addrs(ldns_pkt *r, int sec, ldns_rr_type t)
{
    ldns_rr_list *l = !r ? NULL : sec == 0 ? ldns_pkt_answer(r) : ldns_pkt_additional(r);
    char *v[16], *out = calloc(1, 1024);
    size_t n = 0;

    for (size_t i = 0; l && i < ldns_rr_list_rr_count(l) && n < 16; i++)
        if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t)
            v[n++] = rdf_str(ldns_rr_list_rr(l, i), 0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(v[j], v[i]) < 0) {
                char *x = v[i];
                v[i] = v[j];
                v[j] = x;
            }
    for (size_t i = 0; i < n; i++) {
        strncat(out, v[i], 1023 - strlen(out));
        strncat(out, i + 1 < n ? " " : "", 1023 - strlen(out));
        free(v[i]);
    }
    return out;
}

/* AAAA: awsvpc tasks with IPv6 addresses, bridge tasks with an IPv6 or a
 * dual advertise-address; NODATA for the family a name does not have. */
static void test_ipv6(void)
{
    struct conf *c = load("[dns]\nenabled = yes\nnamespaces = prod.local\n"
                          "advertise-address = 192.0.2.7, 2001:db8::7\n");
    struct reg_snapshot *s = reg_snapshot_new("c");
    const char *ips[] = {"2001:db8::10", "2001:db8::11", "10.0.0.12", "2001:db8::13"};
    char *got, id[33];
    ldns_pkt *r;
    struct reg_task *t;

    /* Each service filled before the next is added (the array may move). */
    struct reg_service *svc = reg_add_service(s, "v6", "arn:v6", false);
    reg_add_discovery(svc, "srv-v6", "", 0, 0);
    for (int i = 0; i < 4; i++) {
        if (i == 2) {
            svc = reg_add_service(s, "mix", "arn:mix", false);
            reg_add_discovery(svc, "srv-mix", "", 0, 0);
        }
        snprintf(id, sizeof id, "%032x", 0x600 + i);
        t = reg_add_task(svc, id, "arn", ips[i], REG_NET_AWSVPC, true, false, i);
        reg_add_port(t, "app", "http", 8080, 0, false);
    }
    svc = reg_add_service(s, "br", "arn:br", false);
    reg_add_discovery(svc, "srv-br", "", 0, 0);
    snprintf(id, sizeof id, "%032x", 0x6c0);
    t = reg_add_task(svc, id, "arn", "", REG_NET_BRIDGE, true, false, 5);
    reg_add_port(t, "app", "http", 80, 41234, false);

    struct dns_zone *z = c && s ? dns_zone_compile(dns_conf_of(c), s) : NULL;
    if (!ok(z != NULL, "a zone with IPv6 task addresses compiles"))
        goto out;
    r = ask(z, "v6.prod.local", LDNS_RR_TYPE_AAAA, 0, true, 0, NULL);
    is_str(got = addrs(r, 0, LDNS_RR_TYPE_AAAA), "2001:db8::10 2001:db8::11",
           "AAAA: the awsvpc tasks' IPv6 addresses");
    free(got);
    ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR && ldns_pkt_aa(r), "... NOERROR, AA");
    ldns_pkt_free(r);
    r = ask(z, "v6.prod.local", LDNS_RR_TYPE_A, 0, true, 0, NULL);
    ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(r) == 0 &&
           ldns_pkt_nscount(r) == 1,
       "A of an IPv6-only service: NODATA with the SOA");
    ldns_pkt_free(r);
    r = ask(z, "mix.prod.local", LDNS_RR_TYPE_A, 0, true, 0, NULL);
    is_str(got = addrs(r, 0, LDNS_RR_TYPE_A), "10.0.0.12", "a mixed service: A from the IPv4 task");
    free(got);
    ldns_pkt_free(r);
    r = ask(z, "mix.prod.local", LDNS_RR_TYPE_AAAA, 0, true, 0, NULL);
    is_str(got = addrs(r, 0, LDNS_RR_TYPE_AAAA), "2001:db8::13", "... AAAA from the IPv6 one");
    free(got);
    ldns_pkt_free(r);
    r = ask(z, "mix.prod.local", LDNS_RR_TYPE_SRV, 4096, true, 0, NULL);
    ok(r && ldns_pkt_ancount(r) == 2, "SRV: one per task");
    is_str(got = addrs(r, 2, LDNS_RR_TYPE_A), "10.0.0.12", "... additional A of the IPv4 target");
    free(got);
    is_str(got = addrs(r, 2, LDNS_RR_TYPE_AAAA), "2001:db8::13",
           "... additional AAAA of the IPv6 target");
    free(got);
    ldns_pkt_free(r);
    char tname[80];
    snprintf(tname, sizeof tname, "%032x.v6.prod.local", 0x600);
    r = ask(z, tname, LDNS_RR_TYPE_AAAA, 0, true, 0, NULL);
    is_str(got = addrs(r, 0, LDNS_RR_TYPE_AAAA), "2001:db8::10", "TASKID name: AAAA");
    free(got);
    ldns_pkt_free(r);
    r = ask(z, tname, LDNS_RR_TYPE_A, 0, true, 0, NULL);
    ok(r && ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(r) == 0,
       "TASKID name of an IPv6 task, type A: NODATA");
    ldns_pkt_free(r);
    /* Bridge mode, dual advertise-address: both families. */
    r = ask(z, "br.prod.local", LDNS_RR_TYPE_A, 0, true, 0, NULL);
    is_str(got = addrs(r, 0, LDNS_RR_TYPE_A), "192.0.2.7", "bridge: A of advertise-address");
    free(got);
    ldns_pkt_free(r);
    r = ask(z, "br.prod.local", LDNS_RR_TYPE_AAAA, 0, true, 0, NULL);
    is_str(got = addrs(r, 0, LDNS_RR_TYPE_AAAA), "2001:db8::7", "... and its AAAA");
    free(got);
    ldns_pkt_free(r);
    r = ask(z, "br.prod.local", LDNS_RR_TYPE_SRV, 4096, true, 0, NULL);
    is_str(got = addrs(r, 2, LDNS_RR_TYPE_A), "192.0.2.7", "bridge SRV: additional A");
    free(got);
    is_str(got = addrs(r, 2, LDNS_RR_TYPE_AAAA), "2001:db8::7", "... and additional AAAA");
    free(got);
    ldns_pkt_free(r);
    dns_zone_unref(z);
    conf_free(c);

    /* IPv6 only: bridge tasks have AAAA and no A. */
    c = load("[dns]\nenabled = yes\nnamespaces = prod.local\nadvertise-address = 2001:db8::8\n");
    z = c ? dns_zone_compile(dns_conf_of(c), s) : NULL;
    r = z ? ask(z, "br.prod.local", LDNS_RR_TYPE_AAAA, 0, true, 0, NULL) : NULL;
    is_str(got = addrs(r, 0, LDNS_RR_TYPE_AAAA), "2001:db8::8", "IPv6 advertise-address: AAAA");
    free(got);
    ldns_pkt_free(r);
    r = z ? ask(z, "br.prod.local", LDNS_RR_TYPE_A, 0, true, 0, NULL) : NULL;
    ok(r && ldns_pkt_ancount(r) == 0 && ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR,
       "... and A is NODATA");
    ldns_pkt_free(r);
    like(conf_err("[dns]\nadvertise-address = 192.0.2.1, 192.0.2.2\n"), "one of each",
         "two IPv4 advertise addresses are refused");
out:
    dns_zone_unref(z);
    reg_snapshot_free(s);
    conf_free(c);
}

int main(void)
{
    dns_conf_register();
    test_conf();
    test_answers();
    test_health_and_caps();
    test_sizes();
    test_ipv6();
    return done_testing();
}
