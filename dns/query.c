/* query.c: the shared query path. */
#include "config.h"

#include "dns/query.h"

#include "dns/zone.h"

size_t dns_query(const struct dns_zone *z, const uint8_t *pkt, size_t len, bool udp,
                 uint32_t rot, uint8_t *out, size_t cap, bool *forward,
                 struct wire_query *q)
{
    *forward = false;
    switch (wire_parse_query(pkt, len, q)) {
    case WIRE_DROP:
        return 0;
    case WIRE_FORMERR:
        return wire_error(pkt, len, NULL, DNS_R_FORMERR, out, cap);
    case WIRE_NOTIMP:
        return wire_error(pkt, len, NULL, DNS_R_NOTIMP, out, cap);
    case WIRE_OK:
        break;
    }
    if (udp) {
        size_t lim = wire_udp_limit(q);
        if (cap > lim)
            cap = lim;
    }
    if (q->qtype == DNS_T_AXFR || q->qtype == 251 /* IXFR */ || q->qtype == DNS_T_OPT)
        return dns_refuse(q, out, cap);
    if (!dns_zone_is_ours(z, q->name)) {
        *forward = true;
        return 0;
    }
    return dns_zone_answer(z, q, rot, out, cap);
}

size_t dns_refuse(const struct wire_query *q, uint8_t *out, size_t cap)
{
    struct wire_buf b = {.p = out, .cap = cap};

    if (wire_begin(&b, q, false, DNS_R_REFUSED) < 0)
        return 0;
    wire_opt(&b, q);
    return b.len;
}
