/* test_resolver.c: the c-ares-on-libev resolver against a real dnsmasq. */
#include "config.h"

#include "agent/resolver.h"
#include "tests/lib/tap.h"
#include "tests/lib/evloop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DNSMASQ "/usr/sbin/dnsmasq"

static pid_t dnsmasq_pid;
static char tmpdir[] = "/tmp/berth-dns-XXXXXX";
static char log_path[PATH_MAX], pid_path[PATH_MAX];
static int dns_port;
static int hole_fd = -1; /* a UDP "server" that reads and never answers */
static int hole_port;

static int in_lookup;  /* set around resolver_lookup() */
static int sync_calls; /* callbacks that ran inside it: must stay 0 */

struct res {
    struct resolver_query *q;
    int done, status;
    char *msg;
    size_t n;
    struct sockaddr_storage addrs[8];
    unsigned ticks_at_start, ticks_at_done;
    bool cancelled;
    int after_cancel;
    /* for callbacks that act on others */
    struct resolver *r;
    struct res *cancel_in_cb, *spawn_in_cb;
};

/* ------------------------------------------------------------------ */
/* dnsmasq and the black hole                                         */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void show_log(void)
{
    char line[512];
    FILE *f = fopen(log_path, "r");

    while (f && fgets(line, sizeof(line), f))
        diag("dnsmasq: %.*s", (int)strcspn(line, "\n"), line);
    if (f)
        fclose(f);
}

static void cleanup(void)
{
    if (dnsmasq_pid > 0) {
        kill(dnsmasq_pid, SIGTERM);
        waitpid(dnsmasq_pid, NULL, 0);
        dnsmasq_pid = 0;
    }
    if (hole_fd >= 0)
        close(hole_fd);
    hole_fd = -1;
    unlink(log_path);
    unlink(pid_path);
    rmdir(tmpdir);
}

static int bind_loopback(int type, int port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, type, 0);

    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int port_of(int fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    getsockname(fd, (struct sockaddr *)&sin, &len);
    return ntohs(sin.sin_port);
}

/* A high port free for both UDP and TCP (dnsmasq takes both). */
static int free_port(void)
{
    for (int i = 0; i < 50; i++) {
        int u = bind_loopback(SOCK_DGRAM, 0), port = u >= 0 ? port_of(u) : 0;
        int t = port ? bind_loopback(SOCK_STREAM, port) : -1;
        if (u >= 0)
            close(u);
        if (t >= 0) {
            close(t);
            return port;
        }
    }
    return 0;
}

static bool dnsmasq_ready(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons(dns_port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool up = fd >= 0 &&
              connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;

    if (fd >= 0)
        close(fd);
    return up;
}

static bool start_dnsmasq(void)
{
    char port_arg[32], pid_arg[PATH_MAX + 16];

    if (access(DNSMASQ, X_OK) != 0) {
        diag("%s not found: install the Debian package dnsmasq-base "
             "(apt-get install dnsmasq-base); this test needs it", DNSMASQ);
        return false;
    }
    dns_port = free_port();
    if (!dns_port) {
        diag("no free port for dnsmasq");
        return false;
    }
    snprintf(port_arg, sizeof(port_arg), "--port=%d", dns_port);
    snprintf(pid_arg, sizeof(pid_arg), "--pid-file=%s", pid_path);

    dnsmasq_pid = fork();
    if (dnsmasq_pid < 0)
        return false;
    if (dnsmasq_pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        /* berth.test answers A 127.0.0.9 (NODATA for AAAA), v6.berth.test
         * AAAA ::9, and nx.berth.test is NXDOMAIN. */
        execl(DNSMASQ, DNSMASQ, "--no-daemon", "--no-resolv", "--no-hosts",
              "--conf-file=/dev/null", "--listen-address=127.0.0.1",
              "--bind-interfaces", port_arg, pid_arg, "--user=root",
              "--address=/berth.test/127.0.0.9", "--local=/berth.test/",
              "--address=/v6.berth.test/::9", "--local=/v6.berth.test/",
              "--address=/nx.berth.test/", (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", DNSMASQ, strerror(errno));
        _exit(127);
    }
    /* Waiting here blocks nothing: the loop has not started yet. */
    for (int i = 0; i < 500; i++) {
        if (dnsmasq_ready())
            return true;
        if (waitpid(dnsmasq_pid, NULL, WNOHANG) == dnsmasq_pid) {
            dnsmasq_pid = 0;
            diag("dnsmasq exited at startup");
            show_log();
            return false;
        }
        sleep_ms(20);
    }
    diag("dnsmasq did not listen on port %d in 10 s", dns_port);
    show_log();
    return false;
}

/* Datagrams the black hole has received since the last call. */
static int hole_drain(void)
{
    char buf[1024];
    int n = 0;

    while (recv(hole_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
        n++;
    return n;
}

/* ------------------------------------------------------------------ */
/* Callbacks and helpers                                              */

static void res_clear(struct res *x)
{
    free(x->msg);
    memset(x, 0, sizeof(*x));
}

static struct resolver_query *lookup(struct resolver *r, struct res *x,
                                     const char *name, int family);

static void cancel(struct res *x)
{
    x->cancelled = true;
    resolver_cancel(x->q);
}

static void on_result(void *arg, const struct berth_lookup_result *lr)
{
    struct res *x = arg;

    if (in_lookup)
        sync_calls++;
    if (x->cancelled)
        x->after_cancel++;
    x->done++;
    x->ticks_at_done = ticks;
    x->status = lr->status;
    x->msg = lr->error_msg ? strdup(lr->error_msg) : NULL;
    x->n = lr->n < 8 ? lr->n : 8;
    if (lr->n)
        memcpy(x->addrs, lr->addrs, x->n * sizeof(*lr->addrs));
    if (x->cancel_in_cb)
        cancel(x->cancel_in_cb);
    if (x->spawn_in_cb)
        lookup(x->r, x->spawn_in_cb, "127.0.0.2", AF_INET);
}

static struct resolver_query *lookup(struct resolver *r, struct res *x,
                                     const char *name, int family)
{
    x->ticks_at_start = ticks;
    in_lookup = 1;
    x->q = resolver_lookup(r, name, family, on_result, x);
    in_lookup = 0;
    return x->q;
}

static const char *addr_str(const struct sockaddr_storage *ss)
{
    static char buf[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET)
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
                         buf, sizeof(buf));
    if (ss->ss_family == AF_INET6)
        return inet_ntop(AF_INET6,
                         &((const struct sockaddr_in6 *)ss)->sin6_addr, buf,
                         sizeof(buf));
    return "?";
}

static bool has_addr(const struct res *x, const char *want)
{
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(addr_str(&x->addrs[i]), want) == 0)
            return true;
    return false;
}

static bool ports_zero(const struct res *x)
{
    for (size_t i = 0; i < x->n; i++) {
        const struct sockaddr_storage *ss = &x->addrs[i];
        if (ss->ss_family == AF_INET &&
            ((const struct sockaddr_in *)ss)->sin_port != 0)
            return false;
        if (ss->ss_family == AF_INET6 &&
            ((const struct sockaddr_in6 *)ss)->sin6_port != 0)
            return false;
    }
    return true;
}

static struct resolver *new_resolver(int port, uint64_t timeout_ms)
{
    char servers[64], err[256] = "";
    struct resolver *r;

    snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
    r = resolver_new(loop, servers, timeout_ms, err, sizeof(err));
    if (!r)
        diag("resolver_new(%s): %s", servers, err);
    return r;
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */

static void test_new_errors(void)
{
    char err[256] = "";

    ok(resolver_new(loop, "not an address", 0, err, sizeof(err)) == NULL,
       "bad server list refused");
    like(err, "not an address", "error names the server list");
    err[0] = '\0';
    ok(resolver_new(loop, "", 0, err, sizeof(err)) == NULL,
       "empty server list refused");
    ok(err[0] != '\0', "with a message (%s)", err);

    struct resolver *r = resolver_new(loop, NULL, 0, err, sizeof(err));
    ok(r != NULL, "NULL servers: resolv.conf defaults (%s)", r ? "ok" : err);
    resolver_free(r);
}

static void test_dnsmasq(struct resolver *r)
{
    struct res a = { 0 };

    lookup(r, &a, "web.berth.test", AF_INET);
    ok(a.q != NULL, "lookup started");
    ok(a.done == 0, "callback not called from resolver_lookup");
    ok(resolver_active(r) == 1, "one lookup active");
    run_until(&a.done, 1);
    ok(a.status == 0, "A web.berth.test ok (%s)", a.msg ? a.msg : "no error");
    ok(a.n >= 1 && a.addrs[0].ss_family == AF_INET, "an IPv4 address");
    ok(has_addr(&a, "127.0.0.9"), "web.berth.test is 127.0.0.9 (got %s)",
       a.n ? addr_str(&a.addrs[0]) : "nothing");
    ok(ports_zero(&a), "port 0");
    ok(resolver_active(r) == 0, "none active after the callback");
    res_clear(&a);

    lookup(r, &a, "v6.berth.test", AF_INET6);
    run_until(&a.done, 1);
    ok(a.status == 0, "AAAA v6.berth.test ok (%s)", a.msg ? a.msg : "no error");
    ok(a.n >= 1 && a.addrs[0].ss_family == AF_INET6, "an IPv6 address");
    ok(has_addr(&a, "::9"), "v6.berth.test is ::9 (got %s)",
       a.n ? addr_str(&a.addrs[0]) : "nothing");
    ok(ports_zero(&a), "port 0");
    res_clear(&a);

    lookup(r, &a, "web.berth.test", AF_UNSPEC);
    run_until(&a.done, 1);
    ok(a.status == 0 && has_addr(&a, "127.0.0.9"),
       "AF_UNSPEC web.berth.test finds 127.0.0.9 (%s)",
       a.msg ? a.msg : "no error");
    res_clear(&a);

    lookup(r, &a, "gone.nx.berth.test", AF_INET);
    run_until(&a.done, 1);
    ok(a.status != 0 && a.n == 0, "NXDOMAIN is an error (status %d)", a.status);
    like(a.msg, "gone.nx.berth.test", "message names the name");
    diag("%s", a.msg ? a.msg : "(null)");
    res_clear(&a);

    /* Outside its zones dnsmasq has no upstream and refuses. */
    lookup(r, &a, "unknown.example", AF_INET);
    run_until(&a.done, 1);
    ok(a.status != 0 && a.n == 0, "refused lookup is an error (status %d)",
       a.status);
    like(a.msg, "unknown.example", "message names the name");
    diag("%s", a.msg ? a.msg : "(null)");
    res_clear(&a);
}

/* Names that need no query: the black hole would never answer one. */
static void test_no_query(struct resolver *hole)
{
    struct res a = { 0 };

    hole_drain();
    lookup(hole, &a, "127.0.0.1", AF_INET);
    ok(a.done == 0, "numeric answer not delivered synchronously");
    run_until(&a.done, 1);
    ok(a.status == 0 && has_addr(&a, "127.0.0.1"), "numeric 127.0.0.1 (%s)",
       a.msg ? a.msg : "no error");
    res_clear(&a);

    lookup(hole, &a, "::1", AF_INET6);
    run_until(&a.done, 1);
    ok(a.status == 0 && has_addr(&a, "::1"), "numeric ::1 (%s)",
       a.msg ? a.msg : "no error");
    res_clear(&a);

    lookup(hole, &a, "localhost", AF_INET);
    ok(a.done == 0, "/etc/hosts answer not delivered synchronously");
    run_until(&a.done, 1);
    ok(a.status == 0 && has_addr(&a, "127.0.0.1"),
       "localhost from /etc/hosts (%s)", a.msg ? a.msg : "no error");
    res_clear(&a);

    ok(hole_drain() == 0, "no DNS query sent for numeric names or localhost");
}

static void test_timeout(struct resolver *hole)
{
    struct res a = { 0 };

    hole_drain();
    lookup(hole, &a, "quiet.berth.test", AF_INET);
    run_until(&a.done, 1);
    ok(a.status != 0, "unanswered lookup fails");
    ok(a.msg && strcasestr(a.msg, "timeout"), "message mentions timeout (%s)",
       a.msg ? a.msg : "(null)");
    like(a.msg, "quiet.berth.test", "message names the name");
    ok(a.ticks_at_done - a.ticks_at_start >= 2,
       "the loop kept running meanwhile (%u ticks)",
       a.ticks_at_done - a.ticks_at_start);
    ok(hole_drain() >= 1, "the query did reach the silent server");
    res_clear(&a);
}

static void test_cancel(struct resolver *r, struct resolver *hole)
{
    struct res a = { 0 }, b = { 0 }, c = { 0 }, s = { 0 };

    /* Answered already (numeric), not yet delivered. */
    lookup(r, &a, "127.0.0.1", AF_INET);
    cancel(&a);
    ok(resolver_active(r) == 0, "cancelled numeric lookup not active");
    /* In flight at dnsmasq. */
    lookup(r, &b, "web.berth.test", AF_INET);
    cancel(&b);
    /* In flight at the black hole, cancelled later. */
    lookup(hole, &c, "never.berth.test", AF_UNSPEC);
    run_ticks(3);
    cancel(&c);
    ok(resolver_active(hole) == 0, "cancelled lookup not active");
    lookup(r, &s, "web.berth.test", AF_INET);
    run_until(&s.done, 1);
    run_ticks(3);
    ok(a.done == 0, "no callback after cancelling an answered lookup");
    ok(b.done == 0, "no callback after cancelling an in-flight lookup");
    ok(c.done == 0, "no callback after cancelling an unanswered lookup");
    ok(s.done == 1 && s.status == 0, "other lookups unaffected");
    res_clear(&a);
    res_clear(&b);
    res_clear(&c);
    res_clear(&s);

    /* A callback that cancels one lookup and starts another. */
    lookup(hole, &b, "pending.berth.test", AF_INET);
    lookup(r, &a, "web.berth.test", AF_INET);
    a.r = r;
    a.cancel_in_cb = &b;
    a.spawn_in_cb = &c;
    run_until(&a.done, 1);
    run_until(&c.done, 1);
    ok(c.status == 0 && has_addr(&c, "127.0.0.2"),
       "lookup started inside a callback completes");
    ok(b.done == 0, "lookup cancelled inside a callback never calls back");
    res_clear(&a);
    res_clear(&b);
    res_clear(&c);
}

static void test_free_pending(void)
{
    struct res a = { 0 }, b = { 0 }, c = { 0 };
    struct resolver *hole = new_resolver(hole_port, 5000);

    lookup(hole, &a, "pending.berth.test", AF_UNSPEC);
    lookup(hole, &b, "other.berth.test", AF_INET6);
    lookup(hole, &c, "127.0.0.1", AF_INET);
    run_ticks(2);
    lookup(hole, &c, "127.0.0.3", AF_INET); /* ready, not delivered */
    ok(resolver_active(hole) >= 3, "lookups pending at free (%u)",
       resolver_active(hole));
    int before = a.done + b.done + c.done;
    resolver_free(hole);
    run_ticks(10);
    ok(a.done + b.done + c.done == before, "no callback after resolver_free");
    res_clear(&a);
    res_clear(&b);
    res_clear(&c);
}

int main(void)
{
    ev_timer tick;

    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(tmpdir)) {
        ok(0, "mkdtemp: %s", strerror(errno));
        return done_testing();
    }
    snprintf(log_path, sizeof(log_path), "%s/dnsmasq.log", tmpdir);
    snprintf(pid_path, sizeof(pid_path), "%s/dnsmasq.pid", tmpdir);
    atexit(cleanup);
    if (!ok(start_dnsmasq(), "dnsmasq started")) {
        diag("dnsmasq is required (CI installs dnsmasq-base); not skipping");
        return done_testing();
    }
    hole_fd = bind_loopback(SOCK_DGRAM, 0);
    hole_port = hole_fd >= 0 ? port_of(hole_fd) : 0;
    ok(hole_fd >= 0, "silent UDP server on port %d", hole_port);

    loop = ev_default_loop(0);
    ev_timer_init(&tick, on_tick, 0.01, 0.01);
    ev_timer_start(loop, &tick);

    struct resolver *r = new_resolver(dns_port, 2000);
    struct resolver *hole = new_resolver(hole_port, 200);
    ok(r && hole, "resolvers created");
    if (!r || !hole)
        return done_testing();

    test_new_errors();
    test_dnsmasq(r);
    test_no_query(hole);
    test_timeout(hole);
    test_cancel(r, hole);
    test_free_pending();

    ok(sync_calls == 0, "no callback ever ran inside resolver_lookup (%d did)",
       sync_calls);
    resolver_free(r);
    resolver_free(hole);
    ev_timer_stop(loop, &tick);
    ev_loop_destroy(loop);
    cleanup();
    return done_testing();
}
