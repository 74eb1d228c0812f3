/* test_lb_proxy.c: the proxy end to end on loopback, driven by a registry
 * snapshot made here: targets registered from it (events say so), health
 * checks (a stopped backend turns unhealthy and gets nothing more),
 * round robin over real backends, the next target tried when a connect
 * fails, half-close, draining, a reload that keeps the listener, and the
 * PROXY protocol headers. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/registry.h"
#include "lb/lb.h"
#include "lb/lb_pp.h"
#include "tests/lib/sockets.h"
#include "tests/lib/tap.h"

/* A backend: answers each connection with "B<id>:" then echoes until EOF,
 * then closes.  Blocking, on its own thread (test code). */
struct backend {
    int id, fd;
    uint16_t port;
    pthread_t th;
    volatile int stop;
};

static void *serve(void *arg)
{
    struct backend *b = arg;
    for (;;) {
        int c = accept(b->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char buf[4096];
        int n = snprintf(buf, sizeof buf, "B%d:", b->id);
        send(c, buf, (size_t)n, MSG_NOSIGNAL);
        ssize_t r;
        while ((r = recv(c, buf, sizeof buf, 0)) > 0)
            send(c, buf, (size_t)r, MSG_NOSIGNAL);
        close(c);
    }
}

static void backend_start(struct backend *b, int id)
{
    b->id = id;
    b->fd = listen_any(&b->port);
    pthread_create(&b->th, NULL, serve, b);
}

static void backend_stop(struct backend *b)
{
    shutdown(b->fd, SHUT_RDWR);
    close(b->fd);
    pthread_join(b->th, NULL);
}

/* Connects to port, sends msg, half-closes, reads all.  "" on failure. */
static void exchange(uint16_t port, const char *msg, char *out, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    size_t got = 0;
    out[0] = '\0';
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        send(fd, msg, strlen(msg), MSG_NOSIGNAL);
        shutdown(fd, SHUT_WR);
        ssize_t r;
        while (got + 1 < len && (r = recv(fd, out + got, len - 1 - got, 0)) > 0)
            got += (size_t)r;
        out[got] = '\0';
    }
    close(fd);
}

static char events[4096];
static int unhealthy_calls;

static void on_event(void *arg, const char *service, const char *msg)
{
    (void)arg;
    strcat(events, "(service ");
    strcat(events, service);
    strcat(events, ") ");
    strncat(events, msg, sizeof events - strlen(events) - 2);
    strcat(events, "\n");
}

static void on_health(void *arg, const char *task_arn, bool unhealthy, const char *reason)
{
    (void)arg;
    (void)task_arn;
    (void)reason;
    unhealthy_calls += unhealthy;
}

static void publish(struct registry *r, struct backend *b, size_t n, uint16_t dead_port,
                    int draining)
{
    struct reg_snapshot *s = reg_snapshot_new("c");
    struct reg_service *svc = reg_add_service(s, "web", "arn:svc/web", false);
    reg_add_lb(svc, "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/web/1",
               "", "app", 80);
    reg_add_lb(svc, "nosuch", "", "app", 80);
    for (size_t i = 0; i < n; i++) {
        char id[40];
        snprintf(id, sizeof id, "task%zu", i);
        struct reg_task *t = reg_add_task(svc, id, id, "", REG_NET_BRIDGE, true,
                                          (int)i == draining, 0);
        reg_add_port(t, "app", "", 80, b[i].port, false);
    }
    if (dead_port) {
        struct reg_task *t = reg_add_task(svc, "dead", "dead", "", REG_NET_BRIDGE, true,
                                          false, 0);
        reg_add_port(t, "app", "", 80, dead_port, false);
    }
    registry_publish(r, s);
}

/* Runs the loop until cond or about limit seconds. */
#define RUN_UNTIL(loop, lb, cond, limit)                                           \
    do {                                                                           \
        for (int i_ = 0; i_ < (limit) * 20 && !(cond); i_++) {                     \
            ev_timer t_;                                                           \
            ev_timer_init(&t_, stop_cb, 0.05, 0.);                                 \
            ev_timer_start(loop, &t_);                                             \
            ev_run(loop, EVRUN_ONCE);                                              \
            ev_timer_stop(loop, &t_);                                              \
        }                                                                          \
    } while (0)

static void stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

static struct conf *conf_for(uint16_t port, const char *extra)
{
    char text[1024];
    struct conf *c = NULL;
    struct conf_errors e = {0};
    snprintf(text, sizeof text,
             "[lb]\nworkers = 2\n[listener front]\nlisten = 127.0.0.1:%u\n"
             "default-target-group = web\n[target-group web]\nhealth-check-interval = 5s\nhealth-check-timeout = 2s\n"
             "healthy-threshold = 2\nunhealthy-threshold = 2\nconnect-attempts = 4\n%s",
             port, extra);
    if (conf_load_string(text, "t.conf", &c, &e) < 0)
        for (size_t i = 0; i < e.n; i++)
            diag("conf: %s", e.msg[i]);
    conf_errors_clear(&e);
    return c;
}

static void test_proxy(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct registry *reg = registry_new("c");
    struct backend b[3];
    char out[256], addr[64];
    uint16_t port = free_port(), dead = free_port();

    for (int i = 0; i < 3; i++)
        backend_start(&b[i], i);
    publish(reg, b, 3, dead, -1);
    struct conf *c = conf_for(port, "");
    ok(c != NULL, "conf loads");
    if (!c)
        return;
    struct lb_env env = {.loop = loop, .reg = reg, .event = on_event, .health = on_health};
    char err[256];
    struct lb *lb = lb_new(&env, lb_conf_of(c), err, sizeof err);
    ok(lb != NULL, "lb starts (%s)", lb ? "" : err);
    if (!lb)
        return;
    ok(lb_n_workers(lb) == 2, "two workers");
    like(events, "(service web) registered 4 targets in (target-group "
                 "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/web/1)",
         "event: 4 targets registered (the ARN as given)");
    like(events, "target group nosuch is not in berth.conf", "event: unknown target group");
    snprintf(addr, sizeof addr, "127.0.0.1:%u", b[0].port);
    ok(lb_target_state(lb, "web", addr) == LB_T_INITIAL, "a new target is initial");

    /* Fail open: every target initial, all get traffic; the dead one is
     * skipped by the retry. */
    int seen[3] = {0}, failures = 0;
    for (int i = 0; i < 12; i++) {
        exchange(port, "hi", out, sizeof out);
        int id = out[0] == 'B' ? out[1] - '0' : -1;
        if (id >= 0 && id < 3 && strcmp(out + 3, "hi") == 0)
            seen[id]++;
        else
            failures++;
    }
    ok(failures == 0, "12 exchanges through the proxy, none failed (dead target retried)");
    ok(seen[0] && seen[1] && seen[2], "all three backends answered (%d %d %d)", seen[0],
       seen[1], seen[2]);

    /* Health: the three come up healthy, the dead one goes unhealthy. */
    char dead_addr[64];
    snprintf(dead_addr, sizeof dead_addr, "127.0.0.1:%u", dead);
    RUN_UNTIL(loop, lb, lb_target_state(lb, "web", addr) == LB_T_HEALTHY &&
                            lb_target_state(lb, "web", dead_addr) == LB_T_UNHEALTHY, 15);
    ok(lb_target_state(lb, "web", addr) == LB_T_HEALTHY, "a live target becomes healthy");
    ok(lb_target_state(lb, "web", dead_addr) == LB_T_UNHEALTHY,
       "a closed port becomes unhealthy");
    ok(unhealthy_calls >= 1, "the scheduler is told");
    like(events, "is unhealthy in (target-group", "event: unhealthy target");

    /* Half-close with a larger body: all of it comes back. */
    char big[3000], bigout[3100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    exchange(port, big, bigout, sizeof bigout);
    ok(strlen(bigout) == 3 + strlen(big) && strcmp(bigout + 3, big) == 0,
       "3 KB echoed after the client's half-close");

    /* Draining: task0 gets no new connection. */
    ok(lb_drain_begin(lb, "web", "task0") == 300000, "drain: the group's delay (300s)");
    ok(!strstr(events, "has begun draining"), "no event of its own: the scheduler says it "
       "once for the tasks it drains together");
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 8; i++) {
        exchange(port, "x", out, sizeof out);
        if (out[0] == 'B' && out[1] >= '0' && out[1] <= '2')
            seen[out[1] - '0']++;
    }
    ok(seen[0] == 0 && seen[1] + seen[2] == 8, "a draining target gets nothing (%d %d %d)",
       seen[0], seen[1], seen[2]);

    /* Reload with another setting: the listener stays, connections go on. */
    struct conf *c2 = conf_for(port, "algorithm = least-outstanding\n");
    ok(lb_reload(lb, lb_conf_of(c2), err, sizeof err) == 0, "reload");
    conf_free(c);
    c = c2;
    exchange(port, "after", out, sizeof out);
    ok(strncmp(out + 3, "after", 5) == 0, "the listener answers after the reload");

    /* Task gone from the registry: deregistered. */
    events[0] = '\0';
    publish(reg, b + 1, 2, 0, -1);
    lb_sync(lb);
    like(events, "(service web) deregistered", "event: deregistered");

    lb_free(lb);
    conf_free(c);
    for (int i = 0; i < 3; i++)
        backend_stop(&b[i]);
    registry_free(reg);
    ev_loop_destroy(loop);
}

static void test_pp(void)
{
    struct lb_addr s, d;
    char buf[128];
    lb_addr_set(&s, "10.0.0.1", 5000);
    lb_addr_set(&d, "10.0.0.2", 80);
    size_t n = lb_pp_header(LB_PP_V1, &s, &d, buf, sizeof buf);
    buf[n] = '\0';
    is_str(buf, "PROXY TCP4 10.0.0.1 10.0.0.2 5000 80\r\n", "PROXY v1, IPv4");
    n = lb_pp_header(LB_PP_V2, &s, &d, buf, sizeof buf);
    ok(n == 28 && memcmp(buf, "\r\n\r\n\0\r\nQUIT\n", 12) == 0 && buf[12] == 0x21 &&
           buf[13] == 0x11 && buf[15] == 12, "PROXY v2, IPv4: signature, PROXY, TCP4, 12");
    ok((unsigned char)buf[16] == 10 && (unsigned char)buf[19] == 1 &&
           (unsigned char)buf[23] == 2 && (unsigned char)buf[24] == 0x13 &&
           (unsigned char)buf[25] == 0x88 && buf[27] == 80, "PROXY v2 addresses and ports");
    lb_addr_set(&s, "::1", 1);
    lb_addr_set(&d, "::2", 2);
    n = lb_pp_header(LB_PP_V1, &s, &d, buf, sizeof buf);
    buf[n] = '\0';
    is_str(buf, "PROXY TCP6 ::1 ::2 1 2\r\n", "PROXY v1, IPv6");
    ok(lb_pp_header(LB_PP_V2, &s, &d, buf, sizeof buf) == 52, "PROXY v2, IPv6: 52 bytes");
    lb_addr_set(&d, "10.0.0.2", 80);
    n = lb_pp_header(LB_PP_V1, &s, &d, buf, sizeof buf);
    buf[n] = '\0';
    is_str(buf, "PROXY UNKNOWN\r\n", "PROXY v1, mixed families: UNKNOWN");
    ok(lb_pp_header(LB_PP_NONE, &s, &d, buf, sizeof buf) == 0, "none: no header");
}

int main(void)
{
    lb_conf_register();
    test_pp();
    test_proxy();
    return done_testing();
}
