/* fuzz_dns_query.c: libFuzzer target for the responder's query path
 * (dns_query: parse, answer from a zone, error answers), on a zone with a
 * service of 12 tasks (IPv4 and IPv6 addresses, both families advertised),
 * task names and named ports.  Every input must give
 * either nothing or a response within the UDP limit; ASan and UBSan watch
 * the rest.  Built and run by tests/fuzz/run.sh. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/registry.h"
#include "dns/dns_conf.h"
#include "dns/query.h"
#include "dns/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_zone *zone;

static struct dns_zone *make_zone(void)
{
    static struct conf_dns c;
    char err[256];
    struct reg_snapshot *s = reg_snapshot_new("c");
    struct reg_service *svc = reg_add_service(s, "web", "arn", false);

    if (dns_conf_defaults(&c, err, sizeof err) < 0 ||
        dns_conf_set(&c, "namespaces", "prod.local, b.test", err, sizeof err) < 0 ||
        dns_conf_set(&c, "max-answers", "5", err, sizeof err) < 0 ||
        dns_conf_set(&c, "advertise-address", "192.0.2.7, 2001:db8::7", err, sizeof err) < 0)
        abort();
    reg_add_discovery(svc, "arn:aws:servicediscovery:r:1:service/prod.local/web", "app", 80, 0);
    for (int i = 0; i < 12; i++) {
        char id[33];
        snprintf(id, sizeof id, "%032x", i);
        struct reg_task *t = reg_add_task(svc, id, "arn", i % 4 == 1 ? "10.0.0.9" : i % 4 == 3 ? "2001:db8::9" : "",
                                          i % 2 ? REG_NET_AWSVPC : REG_NET_BRIDGE, i < 9,
                                          i == 3, i);
        reg_add_port(t, "app", "http", 80, (uint16_t)(40000 + i), false);
        reg_add_port(t, "app", "dns", 53, (uint16_t)(41000 + i), true);
    }
    struct dns_zone *z = dns_zone_compile(&c, s);
    reg_snapshot_free(s);
    if (!z)
        abort();
    return z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint32_t rot;
    uint8_t out[65535];
    struct wire_query q;
    bool fwd;

    if (!zone)
        zone = make_zone();
    size_t n = dns_query(zone, data, size, true, rot++, out, sizeof out, &fwd, &q);
    if (n > DNS_EDNS_MAX || (fwd && n != 0))
        abort();
    n = dns_query(zone, data, size, false, rot++, out, sizeof out, &fwd, &q);
    if (n > sizeof out)
        abort();
    return 0;
}
