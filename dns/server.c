/* server.c: UDP and TCP sockets of the responder on one libev loop. */
#include "config.h"

#include "dns/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent/log.h"
#include "dns/dns_conf.h"
#include "dns/forward.h"
#include "dns/query.h"
#include "dns/stats.h"
#include "dns/zone.h"

#define TCP_MAX_CONNS 256

struct tcp_conn {
    struct dns_server *s;
    int fd;
    ev_io rio, wio;
    ev_timer idle;
    uint8_t in[2 + 65535];
    size_t in_len;
    uint8_t *out;          /* framed answers not yet written */
    size_t out_len, out_off;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    struct tcp_conn *next, **pprev;
    unsigned pending;      /* forwarded queries not yet answered */
    bool dead;             /* closed, freed when pending reaches 0 */
};

/* A forwarded query: where its answer goes. */
struct fwd {
    struct dns_server *s;
    struct tcp_conn *conn;            /* NULL: UDP */
    struct sockaddr_storage ss;
    socklen_t sl;
    struct wire_query q;
    uint64_t t0;                      /* when the query came, ns */
};

struct dns_server {
    struct ev_loop *loop;
    int udp_fd, tcp_fd;
    ev_io udp_io, tcp_io;
    struct dns_zone *zone;
    uint32_t rot;
    double idle_s;
    struct tcp_conn *conns;
    size_t n_conns;
    struct dns_forward *fwd;
    struct dns_net *nets;
    size_t n_nets;
    struct udp_batch *batch;
    struct dns_stats stats; /* written by this server's thread only */
};

static bool allowed(const struct dns_server *s, const struct sockaddr_storage *ss)
{
    const uint8_t *a;
    int fam = ss->ss_family;

    if (fam == AF_INET)
        a = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
    else if (fam == AF_INET6)
        a = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    else
        return false;
    for (size_t i = 0; i < s->n_nets; i++) {
        const struct dns_net *n = &s->nets[i];
        unsigned bits = n->prefix, k = 0;
        if (n->family != fam)
            continue;
        for (; bits >= 8; bits -= 8, k++)
            if (a[k] != n->addr[k])
                break;
        if (bits >= 8)
            continue;
        uint8_t mask = (uint8_t)(0xff << (8 - bits));
        if (bits == 0 || (a[k] & mask) == (n->addr[k] & mask))
            return true;
    }
    return false;
}

static void conn_close(struct tcp_conn *c);
static int conn_queue(struct tcp_conn *c, const uint8_t *a, size_t n);
static int conn_flush(struct tcp_conn *c);

static void on_forwarded(void *arg, const uint8_t *ans, size_t len)
{
    struct fwd *f = arg;
    uint8_t buf[DNS_EDNS_MAX];

    dns_stats_forwarded(&f->s->stats, ans != NULL);
    if (!ans) { /* every upstream failed: SERVFAIL, at once */
        struct wire_buf b = {.p = buf, .cap = sizeof buf};
        if (wire_begin(&b, &f->q, false, DNS_R_SERVFAIL) == 0) {
            wire_opt(&b, &f->q);
            ans = buf;
            len = b.len;
        }
    }
    if (ans && len > DNS_HDR) {
        dns_stats_query(&f->s->stats, f->q.qtype, ans[3] & 0x0f);
        dns_stats_latency(&f->s->stats, true, dns_stats_now_ns() - f->t0);
    }
    if (f->conn) {
        struct tcp_conn *c = f->conn;
        c->pending--;
        if (c->dead) {
            if (c->pending == 0)
                free(c);
        } else if (ans && len <= 65535 && conn_queue(c, ans, len) == 0) {
            conn_flush(c);
        }
    } else if (ans) {
        (void)sendto(f->s->udp_fd, ans, len, MSG_DONTWAIT, (struct sockaddr *)&f->ss, f->sl);
    }
    free(f);
}

/* The answer in out, or 0: none, or forwarded (its answer comes later to
 * the client ss, or to conn). */
static size_t answer(struct dns_server *s, const uint8_t *pkt, size_t len, bool udp,
                     uint8_t *out, size_t cap, const struct sockaddr_storage *ss,
                     socklen_t sl, struct tcp_conn *conn)
{
    struct wire_query q;
    bool fwd;
    uint64_t t0 = dns_stats_now_ns();
    size_t n;

    q.qtype = 0; /* "other" when the packet does not parse */
    n = dns_query(s->zone, pkt, len, udp, s->rot++, out, cap, &fwd, &q);
    if (fwd && (!s->fwd || !allowed(s, ss))) { /* never an open resolver */
        n = dns_refuse(&q, out, udp ? (cap < wire_udp_limit(&q) ? cap : wire_udp_limit(&q)) : cap);
        fwd = false;
    }
    if (!fwd) {
        if (n > DNS_HDR) {
            dns_stats_query(&s->stats, q.qtype, out[3] & 0x0f);
            dns_stats_latency(&s->stats, false, dns_stats_now_ns() - t0);
        }
        return n;
    }
    struct fwd *f = malloc(sizeof *f);
    if (!f)
        return 0;
    f->t0 = t0;
    f->s = s;
    f->conn = conn;
    memcpy(&f->ss, ss, sl);
    f->sl = sl;
    f->q = q;
    if (conn)
        conn->pending++;
    dns_forward_send(s->fwd, pkt, len, on_forwarded, f);
    return 0;
}

/* UDP in batches: one recvmmsg and one sendmmsg for up to UDP_BATCH
 * queries (the system calls, not the answers, are the cost). */
#define UDP_BATCH 32
#define UDP_IN_MAX 1024 /* a query bigger than this is not one we answer */

struct udp_batch {
    uint8_t in[UDP_BATCH][UDP_IN_MAX];
    uint8_t out[UDP_BATCH][DNS_EDNS_MAX];
    struct sockaddr_storage ss[UDP_BATCH];
    struct iovec iv_in[UDP_BATCH], iv_out[UDP_BATCH];
    struct mmsghdr m_in[UDP_BATCH], m_out[UDP_BATCH];
};

static void on_udp(struct ev_loop *loop, ev_io *w, int revents)
{
    struct dns_server *s = w->data;
    struct udp_batch *b = s->batch;
    (void)loop;
    (void)revents;

    for (int round = 0; round < 4; round++) { /* bounded: TCP gets its turn */
        for (int i = 0; i < UDP_BATCH; i++) {
            b->iv_in[i] = (struct iovec){.iov_base = b->in[i], .iov_len = UDP_IN_MAX};
            b->m_in[i].msg_hdr = (struct msghdr){.msg_name = &b->ss[i],
                                                 .msg_namelen = sizeof b->ss[i],
                                                 .msg_iov = &b->iv_in[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(s->udp_fd, b->m_in, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        unsigned k = 0;
        for (int i = 0; i < n; i++) {
            if (b->m_in[i].msg_hdr.msg_flags & MSG_TRUNC)
                continue; /* cut by our buffer: not a query of ours */
            size_t r = answer(s, b->in[i], b->m_in[i].msg_len, true, b->out[k],
                              DNS_EDNS_MAX, &b->ss[i], b->m_in[i].msg_hdr.msg_namelen, NULL);
            if (r == 0)
                continue;
            b->iv_out[k] = (struct iovec){.iov_base = b->out[k], .iov_len = r};
            b->m_out[k].msg_hdr = (struct msghdr){.msg_name = &b->ss[i],
                                                  .msg_namelen = b->m_in[i].msg_hdr.msg_namelen,
                                                  .msg_iov = &b->iv_out[k], .msg_iovlen = 1};
            k++;
        }
        for (unsigned sent = 0; sent < k;) {
            int m = sendmmsg(s->udp_fd, b->m_out + sent, k - sent, MSG_DONTWAIT);
            if (m <= 0)
                break; /* a full socket buffer: UDP may drop, clients retry */
            sent += (unsigned)m;
        }
        if (n < UDP_BATCH)
            return;
    }
}

static void conn_close(struct tcp_conn *c)
{
    struct dns_server *s = c->s;

    ev_io_stop(s->loop, &c->rio);
    ev_io_stop(s->loop, &c->wio);
    ev_timer_stop(s->loop, &c->idle);
    close(c->fd);
    *c->pprev = c->next;
    if (c->next)
        c->next->pprev = c->pprev;
    s->n_conns--;
    free(c->out);
    c->out = NULL;
    if (c->pending)
        c->dead = true; /* its forwarded queries still point to it */
    else
        free(c);
    if (s->n_conns < TCP_MAX_CONNS)
        ev_io_start(s->loop, &s->tcp_io);
}

/* Writes what is pending; -1 when the connection is gone. */
static int conn_flush(struct tcp_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_start(c->s->loop, &c->wio);
            ev_io_stop(c->s->loop, &c->rio); /* no new work while it cannot drain */
            return 0;
        }
        if (n <= 0) {
            conn_close(c);
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_len = c->out_off = 0;
    ev_io_stop(c->s->loop, &c->wio);
    ev_io_start(c->s->loop, &c->rio);
    return 0;
}

static void on_tcp_write(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    conn_flush(w->data);
}

static int conn_queue(struct tcp_conn *c, const uint8_t *a, size_t n)
{
    uint8_t *grown = realloc(c->out, c->out_len + 2 + n);
    if (!grown)
        return -1;
    c->out = grown;
    c->out[c->out_len] = (uint8_t)(n >> 8);
    c->out[c->out_len + 1] = (uint8_t)n;
    memcpy(c->out + c->out_len + 2, a, n);
    c->out_len += 2 + n;
    return 0;
}

static void on_tcp_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct tcp_conn *c = w->data;
    uint8_t out[65535]; /* per thread: workers share this code */
    (void)revents;

    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        conn_close(c);
        return;
    }
    c->in_len += (size_t)n;
    ev_timer_again(loop, &c->idle);
    size_t off = 0;
    while (c->in_len - off >= 2) {
        size_t flen = (size_t)(c->in[off] << 8 | c->in[off + 1]);
        if (c->in_len - off - 2 < flen)
            break;
        size_t r = answer(c->s, c->in + off + 2, flen, false, out, sizeof out, &c->peer,
                          c->peer_len, c);
        off += 2 + flen;
        if (r > 0 && conn_queue(c, out, r) < 0) {
            conn_close(c);
            return;
        }
        if (r == 0 && flen < DNS_HDR) {
            conn_close(c); /* not DNS: nothing to answer, nothing to wait for */
            return;
        }
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    if (c->out_len)
        conn_flush(c);
}

static void on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    conn_close(w->data);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct dns_server *s = w->data;
    (void)revents;

    while (s->n_conns < TCP_MAX_CONNS) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        int fd = accept4(s->tcp_fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct tcp_conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            return;
        }
        c->peer = peer;
        c->peer_len = pl;
        c->s = s;
        c->fd = fd;
        ev_io_init(&c->rio, on_tcp_read, fd, EV_READ);
        ev_io_init(&c->wio, on_tcp_write, fd, EV_WRITE);
        ev_init(&c->idle, on_idle);
        c->idle.repeat = s->idle_s;
        c->rio.data = c->wio.data = c->idle.data = c;
        c->next = s->conns;
        c->pprev = &s->conns;
        if (s->conns)
            s->conns->pprev = &c->next;
        s->conns = c;
        s->n_conns++;
        ev_io_start(loop, &c->rio);
        ev_timer_again(loop, &c->idle);
    }
    ev_io_stop(loop, &s->tcp_io); /* full: accept again when one closes */
}

static int bind_one(const struct berth_address *a, int type, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = type};
    struct addrinfo *ai;
    char port[8];
    int fd, one = 1, rc;

    snprintf(port, sizeof port, "%u", a->port);
    if ((rc = getaddrinfo(a->host, port, &hints, &ai)) != 0) {
        snprintf(err, errlen, "cannot use listen %s:%u: %s (expected an IP address)",
                 a->host, a->port, gai_strerror(rc));
        return -1;
    }
    fd = socket(ai->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* One socket per worker on the same address: the kernel spreads
         * clients over them. */
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
            (type == SOCK_STREAM && listen(fd, 128) < 0)) {
            snprintf(err, errlen, "cannot bind %s %s:%u: %s",
                     type == SOCK_STREAM ? "TCP" : "UDP", a->host, a->port, strerror(errno));
            close(fd);
            fd = -1;
        }
    } else {
        snprintf(err, errlen, "socket: %s", strerror(errno));
    }
    freeaddrinfo(ai);
    return fd;
}

struct dns_server *dns_server_new(struct ev_loop *loop, const struct conf_dns *c,
                                  char *err, size_t errlen)
{
    struct dns_server *s = calloc(1, sizeof *s);

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->tcp_fd = -1;
    s->udp_fd = -1;
    if (!(s->batch = malloc(sizeof *s->batch))) {
        snprintf(err, errlen, "out of memory");
        dns_server_free(s);
        return NULL;
    }
    s->idle_s = (double)c->tcp_idle_timeout_ms / 1000.0;
    if ((s->udp_fd = bind_one(&c->listen, SOCK_DGRAM, err, errlen)) < 0 ||
        (s->tcp_fd = bind_one(&c->listen, SOCK_STREAM, err, errlen)) < 0) {
        dns_server_free(s);
        return NULL;
    }
    if (c->n_nets && !(s->nets = malloc(c->n_nets * sizeof *s->nets))) {
        snprintf(err, errlen, "out of memory");
        dns_server_free(s);
        return NULL;
    }
    if (c->n_nets)
        memcpy(s->nets, c->nets, c->n_nets * sizeof *s->nets);
    s->n_nets = c->n_nets;
    if (!(s->fwd = dns_forward_new(loop, c->upstreams, err, errlen))) {
        dns_server_free(s);
        return NULL;
    }
    ev_io_init(&s->udp_io, on_udp, s->udp_fd, EV_READ);
    ev_io_init(&s->tcp_io, on_accept, s->tcp_fd, EV_READ);
    s->udp_io.data = s->tcp_io.data = s;
    /* Not started before there is a zone. */
    return s;
}

void dns_server_set_zone(struct dns_server *s, struct dns_zone *z)
{
    dns_zone_ref(z);
    dns_zone_unref(s->zone);
    s->zone = z;
    ev_io_start(s->loop, &s->udp_io);
    if (s->n_conns < TCP_MAX_CONNS)
        ev_io_start(s->loop, &s->tcp_io);
}

const struct dns_stats *dns_server_stats(const struct dns_server *s)
{
    return &s->stats;
}

void dns_server_set_idle(struct dns_server *s, uint64_t idle_ms)
{
    s->idle_s = (double)idle_ms / 1000.0;
}

void dns_server_free(struct dns_server *s)
{
    if (!s)
        return;
    dns_forward_free(s->fwd); /* its callbacks answer SERVFAIL while all is open */
    s->fwd = NULL;
    free(s->nets);
    while (s->conns)
        conn_close(s->conns);
    if (s->udp_fd >= 0) {
        ev_io_stop(s->loop, &s->udp_io);
        close(s->udp_fd);
    }
    if (s->tcp_fd >= 0) {
        ev_io_stop(s->loop, &s->tcp_io);
        close(s->tcp_fd);
    }
    dns_zone_unref(s->zone);
    free(s->batch);
    free(s);
}
