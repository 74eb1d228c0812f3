/* forward.c: c-ares on the loop, for forwarding raw queries. */
#include "config.h"

#include "dns/forward.h"

#include <ares.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fsock {
    ev_io io;
    struct dns_forward *f;
    struct fsock *next;
};

struct dns_forward {
    struct ev_loop *loop;
    ares_channel ch;
    ev_timer timer;
    struct fsock *socks;
};

struct fwd_req {
    dns_forward_cb cb;
    void *arg;
    uint8_t id[2];
};

static void rearm(struct dns_forward *f)
{
    struct timeval tv, *tvp = ares_timeout(f->ch, NULL, &tv);
    ev_timer_stop(f->loop, &f->timer);
    if (tvp) {
        ev_timer_set(&f->timer, (double)tv.tv_sec + (double)tv.tv_usec / 1e6, 0.);
        ev_timer_start(f->loop, &f->timer);
    }
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct fsock *s = (struct fsock *)w;
    struct dns_forward *f = s->f;
    (void)loop;
    ares_process_fd(f->ch, revents & EV_READ ? w->fd : ARES_SOCKET_BAD,
                    revents & EV_WRITE ? w->fd : ARES_SOCKET_BAD);
    rearm(f);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct dns_forward *f = w->data;
    (void)loop;
    (void)revents;
    ares_process_fd(f->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm(f);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dns_forward *f = data;
    struct fsock **pp = &f->socks, *s;

    while (*pp && (*pp)->io.fd != fd)
        pp = &(*pp)->next;
    s = *pp;
    if (!readable && !writable) {
        if (s) {
            ev_io_stop(f->loop, &s->io);
            *pp = s->next;
            free(s);
        }
        return;
    }
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            return; /* the query times out: SERVFAIL */
        s->f = f;
        ev_init(&s->io, on_io);
        s->next = f->socks;
        f->socks = s;
    }
    ev_io_stop(f->loop, &s->io);
    ev_io_set(&s->io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
    ev_io_start(f->loop, &s->io);
}

struct dns_forward *dns_forward_new(struct ev_loop *loop, const char *servers, char *err,
                                    size_t errlen)
{
    struct dns_forward *f = calloc(1, sizeof *f);
    struct ares_options o = {0};
    int rc;

    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->loop = loop;
    ev_init(&f->timer, on_timer);
    f->timer.data = f;
    if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
        snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
        free(f);
        return NULL;
    }
    o.sock_state_cb = on_sock_state;
    o.sock_state_cb_data = f;
    o.timeout = 500; /* ms per try: a dead upstream is a fast SERVFAIL */
    o.tries = 2;
    o.flags = ARES_FLAG_IGNTC | ARES_FLAG_NOCHECKRESP;
    rc = ares_init_options(&f->ch, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
                                           ARES_OPT_TRIES | ARES_OPT_FLAGS);
    if (rc == ARES_SUCCESS && servers && *servers &&
        (rc = ares_set_servers_ports_csv(f->ch, servers)) != ARES_SUCCESS)
        ares_destroy(f->ch);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "upstreams: c-ares: %s", ares_strerror(rc));
        ares_library_cleanup();
        free(f);
        return NULL;
    }
    return f;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct fwd_req *r = arg;
    (void)timeouts;
    if (status == ARES_SUCCESS && abuf && alen >= 12) {
        abuf[0] = r->id[0]; /* c-ares matched it by its own ID */
        abuf[1] = r->id[1];
        r->cb(r->arg, abuf, (size_t)alen);
    } else {
        r->cb(r->arg, NULL, 0);
    }
    free(r);
}

void dns_forward_send(struct dns_forward *f, const uint8_t *query, size_t len,
                      dns_forward_cb cb, void *arg)
{
    struct fwd_req *r = calloc(1, sizeof *r);

    if (!r || len < 12) {
        free(r);
        cb(arg, NULL, 0);
        return;
    }
    r->cb = cb;
    r->arg = arg;
    memcpy(r->id, query, 2);
    ares_send(f->ch, query, (int)len, on_answer, r);
    rearm(f);
}

void dns_forward_free(struct dns_forward *f)
{
    if (!f)
        return;
    ares_destroy(f->ch); /* calls every pending callback (ECANCELLED) */
    while (f->socks) {
        struct fsock *s = f->socks;
        ev_io_stop(f->loop, &s->io);
        f->socks = s->next;
        free(s);
    }
    ev_timer_stop(f->loop, &f->timer);
    ares_library_cleanup();
    free(f);
}
