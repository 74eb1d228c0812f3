/* ports.c: the dynamic host port pool (see ports.h). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/ports.h"

struct ports {
    uint16_t first, last, next;
    uint8_t held[2][65536 / 8];
    uint8_t reserved[65536 / 8];
    size_t in_use;
    bool (*is_free)(enum port_proto, uint16_t, void *);
    void *probe_arg;
};

static bool bit(const uint8_t *set, uint16_t port)
{
    return set[port >> 3] & (1u << (port & 7));
}

static void set_bit(uint8_t *set, uint16_t port, bool on)
{
    if (on)
        set[port >> 3] |= (uint8_t)(1u << (port & 7));
    else
        set[port >> 3] &= (uint8_t)~(1u << (port & 7));
}

/* Free when a wildcard bind succeeds, on IPv6 (dual stack) when the host
 * has it, else on IPv4.  SO_REUSEADDR is left off on purpose: a port in
 * TIME_WAIT would not be usable by the engine's proxy either. */
static bool bind_probe(enum port_proto proto, uint16_t port, void *arg)
{
    int type = proto == PORT_UDP ? SOCK_DGRAM : SOCK_STREAM;
    int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
    bool ok;

    (void)arg;
    if (fd >= 0) {
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
                                  .sin6_port = htons(port),
                                  .sin6_addr = IN6ADDR_ANY_INIT};
        int off = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        ok = bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0;
        close(fd);
        if (ok || errno == EADDRINUSE)
            return ok;
    }
    fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_ANY)};
    ok = bind(fd, (struct sockaddr *)&a4, sizeof a4) == 0;
    close(fd);
    return ok;
}

struct ports *ports_new(uint16_t first, uint16_t last, const uint16_t *reserved,
                        size_t n_reserved)
{
    struct ports *p;

    if (first == 0 || first > last)
        return NULL;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->first = first;
    p->last = last;
    p->next = first;
    for (size_t i = 0; i < n_reserved; i++)
        set_bit(p->reserved, reserved[i], true);
    p->is_free = bind_probe;
    return p;
}

void ports_free(struct ports *p)
{
    free(p);
}

void ports_kernel_range(uint16_t *first, uint16_t *last)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    unsigned a = 0, b = 0;

    *first = 49153;
    *last = 65535;
    if (!f)
        return;
    if (fscanf(f, "%u %u", &a, &b) == 2 && a >= 1 && a <= b && b <= 65535) {
        *first = (uint16_t)a;
        *last = (uint16_t)b;
    }
    fclose(f);
}

static bool in_pool(const struct ports *p, uint16_t port)
{
    return port >= p->first && port <= p->last;
}

uint16_t ports_take(struct ports *p, enum port_proto proto)
{
    uint32_t span = (uint32_t)p->last - p->first + 1;
    uint16_t port = p->next;

    for (uint32_t i = 0; i < span; i++) {
        uint16_t cand = port;
        port = cand == p->last ? p->first : (uint16_t)(cand + 1);
        if (bit(p->reserved, cand) || bit(p->held[proto], cand))
            continue;
        if (!p->is_free(proto, cand, p->probe_arg))
            continue;
        set_bit(p->held[proto], cand, true);
        p->in_use++;
        p->next = port;
        return cand;
    }
    return 0;
}

int ports_hold(struct ports *p, enum port_proto proto, uint16_t port)
{
    if (port == 0 || bit(p->reserved, port) || bit(p->held[proto], port))
        return -1;
    set_bit(p->held[proto], port, true);
    if (in_pool(p, port))
        p->in_use++;
    return 0;
}

void ports_release(struct ports *p, enum port_proto proto, uint16_t port)
{
    if (port == 0 || !bit(p->held[proto], port))
        return;
    set_bit(p->held[proto], port, false);
    if (in_pool(p, port))
        p->in_use--;
}

bool ports_held(const struct ports *p, enum port_proto proto, uint16_t port)
{
    return bit(p->held[proto], port);
}

bool ports_reserved(const struct ports *p, uint16_t port)
{
    return bit(p->reserved, port);
}

size_t ports_in_use(const struct ports *p)
{
    return p->in_use;
}

void ports_set_probe(struct ports *p,
                     bool (*is_free)(enum port_proto, uint16_t, void *), void *arg)
{
    p->is_free = is_free ? is_free : bind_probe;
    p->probe_arg = arg;
}
