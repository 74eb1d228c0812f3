/* lb_health.c: tcp and http target checks on the control loop. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lb/lb_health.h"

struct lb_hc {
    struct ev_loop *loop;
    struct lb_addr addr;
    lb_hc_cb cb;
    void *arg;
    /* settings, copied: the conf may go on reload */
    enum lb_check check;
    char path[1025], matcher[128];
    double interval, timeout;
    int healthy_th, unhealthy_th;
    /* state */
    enum lb_tstate state;
    int oks, fails;
    char reason[160];
    /* the check in flight */
    int fd;
    bool sent;
    char req[1200], resp[64];
    size_t req_len, req_off, resp_len;
    ev_timer every, deadline;
    ev_io io;
};

static void result(struct lb_hc *hc, bool ok, const char *why)
{
    enum lb_tstate before = hc->state;

    ev_io_stop(hc->loop, &hc->io);
    ev_timer_stop(hc->loop, &hc->deadline);
    if (hc->fd >= 0)
        close(hc->fd);
    hc->fd = -1;
    if (ok) {
        hc->fails = 0;
        if (++hc->oks >= hc->healthy_th)
            hc->state = LB_T_HEALTHY;
    } else {
        snprintf(hc->reason, sizeof hc->reason, "%s", why);
        hc->oks = 0;
        if (++hc->fails >= hc->unhealthy_th)
            hc->state = LB_T_UNHEALTHY;
    }
    if (hc->state != before)
        hc->cb(hc->arg, hc, hc->state, ok ? "" : hc->reason);
}

/* "HTTP/1.x NNN" at the start of the answer. */
static int status_of(const char *r, size_t n)
{
    if (n < 12 || memcmp(r, "HTTP/1.", 7) != 0 || r[8] != ' ')
        return -1;
    if (r[9] < '0' || r[9] > '9' || r[10] < '0' || r[10] > '9' || r[11] < '0' ||
        r[11] > '9')
        return -1;
    return (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct lb_hc *hc = w->data;
    char why[160];
    (void)loop;
    (void)revents;

    if (!hc->sent) {
        int e = 0;
        socklen_t l = sizeof e;
        getsockopt(hc->fd, SOL_SOCKET, SO_ERROR, &e, &l);
        if (e) {
            snprintf(why, sizeof why, "connect: %s", strerror(e));
            result(hc, false, why);
            return;
        }
        if (hc->check == LB_CHECK_TCP) {
            result(hc, true, "");
            return;
        }
        ssize_t n = send(hc->fd, hc->req + hc->req_off, hc->req_len - hc->req_off,
                         MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) {
            snprintf(why, sizeof why, "send: %s", strerror(errno));
            result(hc, false, why);
            return;
        }
        if (n > 0)
            hc->req_off += (size_t)n;
        if (hc->req_off == hc->req_len) {
            hc->sent = true;
            ev_io_stop(hc->loop, &hc->io);
            ev_io_set(&hc->io, hc->fd, EV_READ);
            ev_io_start(hc->loop, &hc->io);
        }
        return;
    }
    ssize_t n = recv(hc->fd, hc->resp + hc->resp_len, sizeof hc->resp - hc->resp_len, 0);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n > 0)
        hc->resp_len += (size_t)n;
    if (n > 0 && hc->resp_len < 12 && hc->resp_len < sizeof hc->resp)
        return;
    int st = status_of(hc->resp, hc->resp_len);
    if (st < 0) {
        result(hc, false, n < 0 ? "recv failed" : "not an HTTP answer");
    } else if (!lb_matcher_ok(hc->matcher, st)) {
        snprintf(why, sizeof why, "Health checks failed with these codes: [%d]", st);
        result(hc, false, why);
    } else {
        result(hc, true, "");
    }
}

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    result(w->data, false, "Request timed out");
}

static void on_every(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct lb_hc *hc = w->data;
    char why[160];
    (void)revents;

    if (hc->fd >= 0) /* still in flight: its deadline will decide */
        return;
    hc->sent = false;
    hc->req_off = hc->resp_len = 0;
    hc->fd = socket(hc->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (hc->fd < 0) {
        snprintf(why, sizeof why, "socket: %s", strerror(errno));
        result(hc, false, why);
        return;
    }
    if (connect(hc->fd, (struct sockaddr *)&hc->addr.ss, hc->addr.len) < 0 &&
        errno != EINPROGRESS) {
        snprintf(why, sizeof why, "connect: %s", strerror(errno));
        result(hc, false, why);
        return;
    }
    if (hc->check == LB_CHECK_HTTP) {
        char host[300];
        lb_addr_format(&hc->addr, host, sizeof host);
        int n = snprintf(hc->req, sizeof hc->req,
                         "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: berth-health-check\r\n"
                         "Connection: close\r\n\r\n", hc->path, host);
        hc->req_len = n > 0 && (size_t)n < sizeof hc->req ? (size_t)n : 0;
    }
    ev_io_set(&hc->io, hc->fd, EV_WRITE);
    ev_io_start(loop, &hc->io);
    ev_timer_set(&hc->deadline, hc->timeout, 0.);
    ev_timer_start(loop, &hc->deadline);
}

void lb_hc_set_conf(struct lb_hc *hc, const struct lb_tg *c)
{
    hc->check = c->check;
    snprintf(hc->path, sizeof hc->path, "%s", c->check_path);
    snprintf(hc->matcher, sizeof hc->matcher, "%s", c->matcher);
    double interval = (double)c->interval_ms / 1000.;
    hc->timeout = (double)c->timeout_ms / 1000.;
    hc->healthy_th = (int)c->healthy_th;
    hc->unhealthy_th = (int)c->unhealthy_th;
    if (interval != hc->interval) {
        hc->interval = interval;
        hc->every.repeat = interval;
        if (ev_is_active(&hc->every))
            ev_timer_again(hc->loop, &hc->every);
    }
}

struct lb_hc *lb_hc_new(struct ev_loop *loop, const struct lb_addr *a,
                        const struct lb_tg *c, lb_hc_cb cb, void *arg)
{
    struct lb_hc *hc = calloc(1, sizeof *hc);

    if (!hc)
        return NULL;
    hc->loop = loop;
    hc->addr = *a;
    hc->cb = cb;
    hc->arg = arg;
    hc->fd = -1;
    hc->state = LB_T_INITIAL;
    ev_timer_init(&hc->every, on_every, 0., 1.);
    ev_timer_init(&hc->deadline, on_deadline, 1., 0.);
    ev_io_init(&hc->io, on_io, -1, EV_WRITE);
    hc->every.data = hc->deadline.data = hc->io.data = hc;
    lb_hc_set_conf(hc, c);
    ev_timer_set(&hc->every, 0., hc->interval); /* first check at once */
    ev_timer_start(loop, &hc->every);
    return hc;
}

enum lb_tstate lb_hc_state(const struct lb_hc *hc)
{
    return hc->state;
}

const char *lb_hc_reason(const struct lb_hc *hc)
{
    return hc->reason;
}

void lb_hc_free(struct lb_hc *hc)
{
    if (!hc)
        return;
    ev_timer_stop(hc->loop, &hc->every);
    ev_timer_stop(hc->loop, &hc->deadline);
    ev_io_stop(hc->loop, &hc->io);
    if (hc->fd >= 0)
        close(hc->fd);
    free(hc);
}
