/* test_ports.c: the dynamic host port pool: scan order, reservations,
 * holds, the real bind() probe per protocol, counting, the kernel range. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/ports.h"
#include "tests/lib/tap.h"

/* Fake probe: every port free except the one in busy[proto] (0: none). */
struct fake {
    uint16_t busy[2];
    int calls;
};

static bool fake_probe(enum port_proto proto, uint16_t port, void *arg)
{
    struct fake *f = arg;
    f->calls++;
    return f->busy[proto] != port;
}

static struct ports *fake_pool(uint16_t first, uint16_t last,
                               const uint16_t *res, size_t n, struct fake *f)
{
    struct ports *p = ports_new(first, last, res, n);
    if (p)
        ports_set_probe(p, fake_probe, f);
    return p;
}

static void test_new(void)
{
    ok(ports_new(0, 10, NULL, 0) == NULL, "first 0 is refused");
    ok(ports_new(11, 10, NULL, 0) == NULL, "first > last is refused");
    struct ports *p = ports_new(10, 10, NULL, 0);
    ok(p != NULL, "a one-port pool is fine");
    ports_free(p);
    ports_free(NULL);
}

static void test_order(void)
{
    struct fake f = {{0, 0}, 0};
    struct ports *p = fake_pool(100, 104, NULL, 0, &f);
    uint16_t got[6];

    for (int i = 0; i < 6; i++)
        got[i] = ports_take(p, PORT_TCP);
    ok(got[0] == 100 && got[1] == 101 && got[2] == 102 && got[3] == 103 &&
           got[4] == 104,
       "takes hand out first..last in order (got %u %u %u %u %u)", got[0],
       got[1], got[2], got[3], got[4]);
    ok(got[5] == 0, "exhausted pool gives 0 (got %u)", got[5]);
    ok(ports_in_use(p) == 5, "in_use is the pool's size when exhausted");
    ports_release(p, PORT_TCP, 102);
    ok(!ports_held(p, PORT_TCP, 102), "released port is no longer held");
    ok(ports_take(p, PORT_TCP) == 102, "a released port is available again");
    ports_release(p, PORT_TCP, 101);
    ports_release(p, PORT_TCP, 103);
    ok(ports_take(p, PORT_TCP) == 103,
       "scan resumes after the last port handed out (103 before 101)");
    ok(ports_take(p, PORT_TCP) == 101, "then wraps to 101");
    ok(ports_take(p, PORT_TCP) == 0, "full again");
    ports_free(p);

    /* Resuming: a port given back is not reused at once. */
    p = fake_pool(200, 209, NULL, 0, &f);
    uint16_t a = ports_take(p, PORT_TCP);
    ports_release(p, PORT_TCP, a);
    uint16_t b = ports_take(p, PORT_TCP);
    ok(a == 200 && b == 201, "after releasing 200, the next take is 201 (got %u)", b);
    for (int i = 0; i < 8; i++)
        ports_take(p, PORT_TCP);
    ok(ports_held(p, PORT_TCP, 209) && !ports_held(p, PORT_TCP, 200),
       "took up to 209, 200 still free");
    ok(ports_take(p, PORT_TCP) == 200, "wraps from last to first");
    ok(ports_take(p, PORT_TCP) == 0, "then exhausted");
    ports_free(p);

    /* The top of the port space: no overflow past 65535. */
    p = fake_pool(65534, 65535, NULL, 0, &f);
    a = ports_take(p, PORT_UDP);
    b = ports_take(p, PORT_UDP);
    ok(a == 65534 && b == 65535 && ports_take(p, PORT_UDP) == 0,
       "a pool ending at 65535 hands out 65534, 65535, then 0");
    ports_release(p, PORT_UDP, 65534);
    ok(ports_take(p, PORT_UDP) == 65534, "and wraps from 65535 to 65534");
    ports_free(p);
}

static void test_reserved_held(void)
{
    struct fake f = {{0, 0}, 0};
    const uint16_t res[] = {101, 103, 9999};
    struct ports *p = fake_pool(100, 105, res, 3, &f);
    uint16_t seen[8];
    int n = 0;
    uint16_t x;

    ok(ports_reserved(p, 101) && ports_reserved(p, 9999) &&
           !ports_reserved(p, 100),
       "ports_reserved reports the reserved list");
    ok(ports_hold(p, PORT_TCP, 104) == 0, "hold 104");
    while ((x = ports_take(p, PORT_TCP)) != 0 && n < 8)
        seen[n++] = x;
    ok(n == 3 && seen[0] == 100 && seen[1] == 102 && seen[2] == 105,
       "takes skip reserved 101, 103 and held 104 (got %d ports)", n);
    ok(ports_in_use(p) == 4, "in_use counts the 3 taken and the held 104");
    ok(ports_hold(p, PORT_TCP, 101) == -1, "hold of a reserved port refused");
    ok(ports_hold(p, PORT_UDP, 9999) == -1,
       "hold of a reserved port outside the pool refused");
    ok(ports_hold(p, PORT_TCP, 100) == -1, "hold of a held port refused");
    ok(ports_hold(p, PORT_TCP, 0) == -1, "hold of port 0 refused");
    ok(ports_hold(p, PORT_UDP, 100) == 0,
       "udp 100 is distinct from the held tcp 100");
    ok(ports_in_use(p) == 5, "in_use counts udp 100 too");
    ok(ports_held(p, PORT_UDP, 100) && !ports_held(p, PORT_UDP, 102),
       "ports_held is per protocol");

    /* Static ports outside the pool: held, not counted. */
    ok(ports_hold(p, PORT_TCP, 8080) == 0, "hold 8080, outside the pool");
    ok(ports_held(p, PORT_TCP, 8080), "8080 is held");
    ok(ports_in_use(p) == 5, "in_use ignores ports outside the pool");
    ok(ports_hold(p, PORT_TCP, 8080) == -1, "holding 8080 twice is refused");
    ports_release(p, PORT_TCP, 8080);
    ok(!ports_held(p, PORT_TCP, 8080) && ports_in_use(p) == 5,
       "releasing 8080 leaves in_use alone");
    ports_release(p, PORT_TCP, 8080);
    ports_release(p, PORT_TCP, 101);
    ports_release(p, PORT_TCP, 0);
    ok(ports_in_use(p) == 5, "releasing what is not held changes nothing");
    ports_release(p, PORT_TCP, 104);
    ok(ports_in_use(p) == 4, "releasing the held 104 counts down");
    ok(ports_take(p, PORT_TCP) == 104, "and 104 can be taken now");
    ports_free(p);

    /* A pool that is all reserved never calls the probe. */
    const uint16_t all[] = {300, 301};
    f.calls = 0;
    p = fake_pool(300, 301, all, 2, &f);
    ok(ports_take(p, PORT_TCP) == 0 && f.calls == 0,
       "an all-reserved pool gives 0 without probing");
    ports_free(p);
}

static void test_fake_probe(void)
{
    struct fake f = {{402, 0}, 0};
    struct ports *p = fake_pool(401, 403, NULL, 0, &f);

    ok(ports_take(p, PORT_TCP) == 401, "tcp: 401");
    ok(ports_take(p, PORT_TCP) == 403, "tcp: 402 busy for the probe, skipped");
    ok(!ports_held(p, PORT_TCP, 402), "the skipped port is not held");
    ok(ports_take(p, PORT_UDP) == 401, "udp: 401, not held for udp");
    ok(ports_take(p, PORT_UDP) == 402, "udp: 402, busy only for tcp");
    ok(ports_take(p, PORT_TCP) == 0, "tcp: 402 still busy, pool full");
    ports_free(p);
}

/* A socket of this process bound on a wildcard address; its port. */
static int bound(int family, int type, bool v6only, uint16_t *port)
{
    int fd = socket(family, type | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss = {0};
    socklen_t len;

    if (fd < 0)
        return -1;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        int on = v6only;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_any;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_ANY);
        len = sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
        (type == SOCK_STREAM && listen(fd, 1) < 0) ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* One port bound by this process, as family/type: the real probe skips
 * it for that protocol only, and hands it out once the socket is gone. */
static void probe_case(const char *what, int family, int type, bool v6only)
{
    enum port_proto proto = type == SOCK_DGRAM ? PORT_UDP : PORT_TCP;
    enum port_proto other = proto == PORT_UDP ? PORT_TCP : PORT_UDP;
    uint16_t port = 0;
    int fd = bound(family, type, v6only, &port);

    if (!ok(fd >= 0, "%s: bound a socket (port %u)", what, port)) {
        diag("  %s", strerror(errno));
        return;
    }
    struct ports *p = ports_new(port, port, NULL, 0);
    ok(ports_take(p, proto) == 0, "%s: the probe finds the port bound", what);
    ok(!ports_held(p, proto, port), "%s: and does not hold it", what);
    uint16_t got = ports_take(p, other);
    ok(got == port, "%s: the other protocol's port %u is free (got %u)", what,
       port, got);
    close(fd);
    ok(ports_take(p, proto) == port, "%s: free again once the socket is closed",
       what);
    ports_free(p);
}

static void test_real_probe(void)
{
    probe_case("tcp on 0.0.0.0", AF_INET, SOCK_STREAM, false);
    probe_case("udp on 0.0.0.0", AF_INET, SOCK_DGRAM, false);
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    if (s6 >= 0) {
        close(s6);
        probe_case("tcp on [::] v6only", AF_INET6, SOCK_STREAM, true);
        probe_case("udp on [::] v6only", AF_INET6, SOCK_DGRAM, true);
        probe_case("tcp on [::] dual stack", AF_INET6, SOCK_STREAM, false);
    } else {
        ok(1, "# SKIP no IPv6 sockets on this host");
    }

    /* ports_set_probe(NULL) puts the real probe back. */
    struct fake f = {{0, 0}, 0};
    uint16_t port = 0;
    int fd = bound(AF_INET, SOCK_STREAM, false, &port);
    struct ports *p = fake_pool(port, port, NULL, 0, &f);
    ports_set_probe(p, NULL, NULL);
    ok(fd >= 0 && ports_take(p, PORT_TCP) == 0 && f.calls == 0,
       "ports_set_probe(NULL) restores the bind() probe");
    if (fd >= 0)
        close(fd);
    ports_free(p);
}

static void test_kernel_range(void)
{
    uint16_t first = 0, last = 0;
    unsigned a = 0, b = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

    ports_kernel_range(&first, &last);
    if (f && fscanf(f, "%u %u", &a, &b) == 2)
        ok(first == a && last == b, "kernel range %u-%u matches /proc (%u-%u)",
           first, last, a, b);
    else
        ok(first == 49153 && last == 65535, "no /proc: ECS's fallback");
    if (f)
        fclose(f);
}

int main(void)
{
    test_new();
    test_order();
    test_reserved_held();
    test_fake_probe();
    test_real_probe();
    test_kernel_range();
    return done_testing();
}
