/* lb_pp.c: PROXY protocol v1 and v2 (haproxy.org/download/2.9/doc/proxy-protocol.txt). */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lb/lb_pp.h"

static const unsigned char SIG[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

size_t lb_pp_header(enum lb_pp v, const struct lb_addr *src, const struct lb_addr *dst,
                    char *buf, size_t len)
{
    int fam = src->ss.ss_family == dst->ss.ss_family ? src->ss.ss_family : AF_UNSPEC;
    const struct sockaddr_in *s4 = (const void *)&src->ss, *d4 = (const void *)&dst->ss;
    const struct sockaddr_in6 *s6 = (const void *)&src->ss, *d6 = (const void *)&dst->ss;

    if (v == LB_PP_V1) {
        char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
        int n;
        if (fam == AF_INET) {
            inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
            inet_ntop(AF_INET, &d4->sin_addr, b, sizeof b);
            n = snprintf(buf, len, "PROXY TCP4 %s %s %u %u\r\n", a, b, ntohs(s4->sin_port),
                         ntohs(d4->sin_port));
        } else if (fam == AF_INET6) {
            inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
            inet_ntop(AF_INET6, &d6->sin6_addr, b, sizeof b);
            n = snprintf(buf, len, "PROXY TCP6 %s %s %u %u\r\n", a, b,
                         ntohs(s6->sin6_port), ntohs(d6->sin6_port));
        } else {
            n = snprintf(buf, len, "PROXY UNKNOWN\r\n");
        }
        return n > 0 && (size_t)n < len ? (size_t)n : 0;
    }
    if (v != LB_PP_V2 || len < 16 + 36)
        return 0;
    unsigned char *p = (unsigned char *)buf;
    size_t alen = 0;
    memcpy(p, SIG, 12);
    if (fam == AF_INET) {
        p[12] = 0x21; /* v2, PROXY */
        p[13] = 0x11; /* TCP over IPv4 */
        memcpy(p + 16, &s4->sin_addr, 4);
        memcpy(p + 20, &d4->sin_addr, 4);
        memcpy(p + 24, &s4->sin_port, 2);
        memcpy(p + 26, &d4->sin_port, 2);
        alen = 12;
    } else if (fam == AF_INET6) {
        p[12] = 0x21;
        p[13] = 0x21; /* TCP over IPv6 */
        memcpy(p + 16, &s6->sin6_addr, 16);
        memcpy(p + 32, &d6->sin6_addr, 16);
        memcpy(p + 48, &s6->sin6_port, 2);
        memcpy(p + 50, &d6->sin6_port, 2);
        alen = 36;
    } else {
        p[12] = 0x20; /* v2, LOCAL */
        p[13] = 0x00;
    }
    p[14] = (unsigned char)(alen >> 8);
    p[15] = (unsigned char)(alen & 0xff);
    return 16 + alen;
}
