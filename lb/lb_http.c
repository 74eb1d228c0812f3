/* lb_http.c: one client connection of an http listener.
 *
 * llhttp (strict: no lenient flag) parses the client's requests and the
 * targets' responses; it frames messages (Content-Length, chunked, HEAD,
 * 1xx/204/304, close-delimited) and refuses CL with TE, duplicate or bad
 * Content-Length and bad Transfer-Encoding.  The head is scanned here as
 * well, for what llhttp 8 lets through: obsolete line folding, header
 * names that are not tokens, a missing or repeated Host.  Any of those is
 * a 400 and the connection is closed.
 *
 * One request at a time (pipelined ones wait in the input buffer): the
 * head is routed (the listener's rules, first match, else its default
 * group), sent to a target with X-Forwarded-For/-Proto/-Port set and the
 * rest byte-exact, the body streamed as llhttp frames it; the response is
 * relayed as it comes and parsed only to find its end.  Then the backend
 * connection goes to the worker's pool (per target) when both sides keep
 * alive.  A pooled connection that fails before any response byte is
 * retried once on a fresh connection (the request is still buffered when
 * it fits 64 KiB).  A 101 turns the pair into lb_l4's byte pump.
 *
 * Errors written here: 400 (bad request), 431 (head over max-header-size),
 * 502 (target refused, reset or answered garbage), 503 (no target), 504
 * (backend-timeout); each closes the connection. */
#define _GNU_SOURCE
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lb/lb_worker_priv.h"

#define BUF_CAP 32768    /* request bytes towards the target, response bytes read */
#define MAX_HEADERS 128
#define POOL_IDLE 30.    /* seconds a pooled connection may wait */
#define ERROR_LINGER 2.  /* seconds to read what follows a refused request */

enum hstate {
    H_IDLE,       /* between requests */
    H_HEAD,       /* reading a request head */
    H_CONNECTING, /* to a target */
    H_FORWARD,    /* request and response under way */
    H_TUNNEL,     /* after a 101: flushing before the hand-over to lb_l4 */
    H_ERROR,      /* writing an error, then reading until EOF */
};

struct buf {
    char *d;
    size_t off, len; /* d[off, len) still to write */
};

struct lb_hconn {
    struct lb_worker *w;
    struct lb_hconn *prev, *next;
    enum hstate st;
    int cfd, sfd;
    int cev, sev;
    ev_io cio, sio;
    ev_timer timer;
    double last, last_backend, head_start;
    /* the listener, found again by name when the view changes */
    char lname[33], dtg[33];
    uint64_t gen;
    double idle, header_to, backend_to;
    size_t max_header;
    uint16_t port;
    char client_ip[INET6_ADDRSTRLEN];
    /* the request */
    llhttp_t req;
    char *cb;
    size_t clen, ccap, cpos;
    bool swallow;      /* a body-less request's late on_message_complete */
    bool req_done, req_ka, is_head, upgrade, idempotent;
    char tg[33];
    size_t tgi;
    uint64_t tried[10];
    size_t n_tried;
    int attempts;
    /* the target */
    uint64_t tkey;     /* the target's */
    bool counted;      /* in its in-flight count */
    bool busy, dead;   /* in a callback; freed when it returns */
    bool reused, replay, retried;
    struct buf up;     /* head and body towards the target; kept from 0 for a replay */
    /* the response */
    llhttp_t resp;
    struct buf down;   /* read from the target, relayed to the client */
    size_t dpos;       /* parsed up to */
    bool resp_started, resp_done, client_written;
    /* figures */
    struct lb_lstat *ls;
    struct lb_rstat *rs; /* the request's, once routed */
    bool in_req;         /* a request not yet counted */
};

/* Counts the request under way (status 0: it got no response). */
static void record(struct lb_hconn *c, int status)
{
    if (!c->in_req)
        return;
    c->in_req = false;
    if (!c->rs)
        c->rs = lb_rstat(c->w, c->lname, "");
    lb_rstat_add(c->rs, status, ev_now(c->w->loop) - c->head_start);
}

static int on_req_headers(llhttp_t *p)
{
    (void)p;
    return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *p)
{
    struct lb_hconn *c = p->data;

    if (p == &c->req && c->swallow) {
        c->swallow = false; /* body-less: already counted as done */
        return 0;
    }
    return HPE_PAUSED;
}

/* No body after a HEAD, 1xx, 204 or 304, whatever Content-Length says
 * (llhttp 8 reads one after a 304 that has it). */
static int on_resp_headers(llhttp_t *p)
{
    struct lb_hconn *c = p->data;
    int s = p->status_code;
    return c->is_head || s < 200 || s == 204 || s == 304 ? 1 : 0;
}

static llhttp_settings_t req_settings, resp_settings;
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;

static void settings_init(void)
{
    llhttp_settings_init(&req_settings);
    req_settings.on_headers_complete = on_req_headers;
    req_settings.on_message_complete = on_message_complete;
    llhttp_settings_init(&resp_settings);
    resp_settings.on_headers_complete = on_resp_headers;
    resp_settings.on_message_complete = on_message_complete;
}

static void set_events(struct lb_hconn *c, ev_io *io, int *have, int want)
{
    if (*have == want)
        return;
    ev_io_stop(c->w->loop, io);
    if (want) {
        ev_io_set(io, io->fd, want);
        ev_io_start(c->w->loop, io);
    }
    *have = want;
}

static void arm(struct lb_hconn *c, double after)
{
    ev_timer_stop(c->w->loop, &c->timer);
    ev_timer_set(&c->timer, after > 0.001 ? after : 0.001, 0.);
    ev_timer_start(c->w->loop, &c->timer);
}

static void uncount(struct lb_hconn *c)
{
    if (c->counted) {
        uint32_t *n = lb_count(c->w, c->tkey);
        if (n && *n)
            (*n)--;
        c->counted = false;
    }
}

static void close_backend(struct lb_hconn *c)
{
    ev_io_stop(c->w->loop, &c->sio);
    c->sev = 0;
    if (c->sfd >= 0)
        close(c->sfd);
    c->sfd = -1;
    uncount(c);
}

/* Inside a callback (busy) the memory stays until it returns: callers
 * check c->dead after anything that may end the connection. */
static void hconn_free(struct lb_hconn *c)
{
    struct lb_worker *w = c->w;

    if (c->dead)
        return;
    c->dead = true;
    record(c, 0);
    if (c->ls)
        lb_inc(&c->ls->active, -1);
    ev_io_stop(w->loop, &c->cio);
    ev_timer_stop(w->loop, &c->timer);
    close_backend(c);
    if (c->cfd >= 0)
        close(c->cfd);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->hconns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&w->active, 1);
    free(c->cb);
    free(c->up.d);
    free(c->down.d);
    c->cb = c->up.d = c->down.d = NULL;
    if (!c->busy)
        free(c);
}

static void enter(struct lb_hconn *c)
{
    c->busy = true;
}

/* false (and c freed) when the connection ended in the callback. */
static bool leave(struct lb_hconn *c)
{
    c->busy = false;
    if (c->dead) {
        free(c);
        return false;
    }
    return true;
}

/* ---- the pool ---- */

static void pool_put(struct lb_worker *w, uint64_t key, int fd)
{
    if (w->n_pool == LB_IDLE_POOL) { /* the oldest goes */
        close(w->pool[0].fd);
        memmove(&w->pool[0], &w->pool[1], --w->n_pool * sizeof w->pool[0]);
    }
    w->pool[w->n_pool++] = (struct lb_idle){key, fd, ev_now(w->loop)};
}

/* The most recent idle connection to key that is still open, or -1. */
static int pool_get(struct lb_worker *w, uint64_t key)
{
    for (size_t i = w->n_pool; i-- > 0;) {
        if (w->pool[i].key != key)
            continue;
        int fd = w->pool[i].fd;
        memmove(&w->pool[i], &w->pool[i + 1], (--w->n_pool - i) * sizeof w->pool[0]);
        char b;
        if (recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
            (errno == EAGAIN || errno == EWOULDBLOCK))
            return fd; /* nothing to read, no EOF: alive */
        close(fd);
    }
    return -1;
}

void lb_http_sweep(struct lb_worker *w, double now)
{
    for (size_t i = 0; i < w->n_pool;) {
        const struct lb_target *t = lb_target_of(w, w->pool[i].key);
        if (!t || t->state == LB_T_DRAINING || now - w->pool[i].since > POOL_IDLE) {
            close(w->pool[i].fd);
            memmove(&w->pool[i], &w->pool[i + 1], (--w->n_pool - i) * sizeof w->pool[0]);
            continue;
        }
        i++;
    }
    for (struct lb_hconn *c = w->hconns, *next; c; c = next) {
        next = c->next;
        if (c->sfd < 0)
            continue;
        const struct lb_target *t = lb_target_of(w, c->tkey);
        if (lb_drain_over(t, now))
            hconn_free(c);
    }
}

void lb_http_close_all(struct lb_worker *w)
{
    while (w->hconns)
        hconn_free(w->hconns);
    while (w->n_pool)
        close(w->pool[--w->n_pool].fd);
}

/* ---- buffers ---- */

static int buf_add(struct buf *b, const void *p, size_t n)
{
    if (!b->d && !(b->d = malloc(BUF_CAP)))
        return -1;
    if (b->len + n > BUF_CAP) {
        if (b->off) { /* room at the front */
            memmove(b->d, b->d + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        }
        if (b->len + n > BUF_CAP)
            return -1;
    }
    memcpy(b->d + b->len, p, n);
    b->len += n;
    return 0;
}

/* Writes b[off, upto) to fd.  -1: broken. */
static int buf_write(struct buf *b, size_t upto, int fd)
{
    while (b->off < upto) {
        ssize_t n = send(fd, b->d + b->off, upto - b->off, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        b->off += (size_t)n;
    }
    return 0;
}

/* ---- errors ---- */

static void update(struct lb_hconn *c);

static void send_error(struct lb_hconn *c, int code)
{
    const char *reason = code == 400   ? "Bad Request"
                         : code == 431 ? "Request Header Fields Too Large"
                         : code == 502 ? "Bad Gateway"
                         : code == 503 ? "Service Unavailable"
                                       : "Gateway Timeout";
    char body[160], msg[512];
    int bn = snprintf(body, sizeof body,
                      "<html><body><h1>%d %s</h1><p>berthd</p></body></html>\n", code, reason);
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 %d %s\r\nServer: berthd\r\nContent-Type: text/html\r\n"
                     "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                     code, reason, bn, body);

    close_backend(c);
    if (c->st == H_HEAD)
        c->in_req = true; /* refused before routing: counted too */
    record(c, c->client_written ? 0 : code);
    if (c->client_written) { /* a response is half relayed: only a close says it */
        hconn_free(c);
        return;
    }
    c->down.off = c->down.len = c->dpos = 0;
    if (buf_add(&c->down, msg, (size_t)n) < 0) {
        hconn_free(c);
        return;
    }
    c->dpos = c->down.len;
    c->st = H_ERROR;
    c->client_written = true;
    arm(c, ERROR_LINGER);
    update(c);
}

/* ---- the request head ---- */

static bool tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

struct hdr {
    size_t start, end;       /* the line, CRLF included */
    size_t name, name_len, value, value_len;
};

static bool name_is(const char *b, const struct hdr *h, const char *name)
{
    return h->name_len == strlen(name) && strncasecmp(b + h->name, name, h->name_len) == 0;
}

/* The header lines of the head cb[0, end): 0, or an HTTP status. */
static int scan_head(const char *b, size_t end, struct hdr *h, size_t *n, size_t *reqline_end)
{
    const char *nl = memchr(b, '\n', end);
    size_t p;

    *n = 0;
    /* The request line: the first non-empty line (llhttp skips empty ones). */
    p = 0;
    while (p < end && (b[p] == '\r' || b[p] == '\n'))
        p++;
    nl = memchr(b + p, '\n', end - p);
    if (!nl)
        return 400;
    p = *reqline_end = (size_t)(nl - b) + 1;
    while (p < end) {
        nl = memchr(b + p, '\n', end - p);
        if (!nl)
            return 400;
        size_t e = (size_t)(nl - b);
        if (e == p + 1 && b[p] == '\r')
            return 0; /* the empty line */
        if (b[p] == ' ' || b[p] == '\t')
            return 400; /* obsolete line folding */
        if (*n == MAX_HEADERS)
            return 431;
        struct hdr *x = &h[(*n)++];
        x->start = x->name = p;
        while (p < e && tchar((unsigned char)b[p]))
            p++;
        if (p == x->name || b[p] != ':')
            return 400; /* not a token, or space before the colon */
        x->name_len = p - x->name;
        p++;
        while (p < e && (b[p] == ' ' || b[p] == '\t'))
            p++;
        x->value = p;
        size_t ve = e > p && b[e - 1] == '\r' ? e - 1 : e;
        while (ve > p && (b[ve - 1] == ' ' || b[ve - 1] == '\t'))
            ve--;
        x->value_len = ve - p;
        x->end = p = e + 1;
    }
    return 400;
}

static const struct lb_vlistener *listener(struct lb_hconn *c)
{
    const struct lb_view *v = c->w->view;
    for (size_t i = 0; i < v->n_listeners; i++)
        if (strcmp(v->listeners[i].name, c->lname) == 0)
            return &v->listeners[i];
    return NULL;
}

/* The target group of a request: the first rule that matches. */
static size_t route(struct lb_hconn *c, const char *host, size_t host_len, const char *path,
                    size_t path_len)
{
    const struct lb_vlistener *l = listener(c);

    if (!l)
        return lb_view_tg_index(c->w->view, c->dtg);
    for (size_t i = 0; i < l->n_rules; i++) {
        const struct lb_vrule *r = &l->rules[i];
        if (r->host && (strlen(r->host) != host_len || strncasecmp(r->host, host, host_len) != 0))
            continue;
        if (path_len >= r->path_len && memcmp(path, r->path, r->path_len) == 0)
            return r->tg;
    }
    return l->tg;
}

static void try_connect(struct lb_hconn *c);

/* A complete head in cb[0, end): checked, routed, rewritten into up. */
static void on_head(struct lb_hconn *c, size_t end)
{
    struct hdr h[MAX_HEADERS];
    size_t n, rl;
    int bad = scan_head(c->cb, end, h, &n, &rl);
    const char *b = c->cb;

    if (bad) {
        send_error(c, bad);
        return;
    }
    const struct hdr *host = NULL;
    for (size_t i = 0; i < n; i++) {
        if (name_is(b, &h[i], "host")) {
            if (host) {
                send_error(c, 400); /* two Hosts: which one routes? */
                return;
            }
            host = &h[i];
        }
    }
    if (!host && c->req.http_major == 1 && c->req.http_minor >= 1) {
        send_error(c, 400);
        return;
    }
    /* Host without its port; path: the request target's, without a query. */
    const char *hv = host ? b + host->value : "";
    size_t hl = host ? host->value_len : 0;
    if (hl && hv[0] == '[') {
        const char *rb = memchr(hv, ']', hl);
        hl = rb ? (size_t)(rb - hv) + 1 : hl;
    } else {
        const char *colon = memchr(hv, ':', hl);
        hl = colon ? (size_t)(colon - hv) : hl;
    }
    const char *sp = memchr(b, ' ', rl);
    const char *path = sp ? sp + 1 : b;
    const char *pe = memchr(path, ' ', (size_t)(b + rl - path));
    size_t plen = pe ? (size_t)(pe - path) : 0;
    if (plen && path[0] != '/') { /* absolute form: from the path on */
        const char *ss = plen > 3 ? memmem(path, plen, "://", 3) : NULL;
        const char *slash = ss ? memchr(ss + 3, '/', (size_t)(path + plen - ss - 3)) : NULL;
        plen = slash ? (size_t)(path + plen - slash) : 0;
        path = slash ? slash : path;
    }

    /* The head towards the target: request line and headers as they came,
     * less X-Forwarded-*, then ours. */
    c->up.off = c->up.len = 0;
    int e = buf_add(&c->up, b, rl);
    char xff[1024] = "";
    size_t xl = 0;
    for (size_t i = 0; i < n && e == 0; i++) {
        if (name_is(b, &h[i], "x-forwarded-for")) {
            int k = snprintf(xff + xl, sizeof xff - xl, "%.*s, ", (int)h[i].value_len,
                             b + h[i].value);
            xl = k > 0 && (size_t)k < sizeof xff - xl ? xl + (size_t)k : xl;
            continue;
        }
        if (name_is(b, &h[i], "x-forwarded-proto") || name_is(b, &h[i], "x-forwarded-port"))
            continue;
        e = buf_add(&c->up, b + h[i].start, h[i].end - h[i].start);
    }
    char tail[1300];
    int tn = snprintf(tail, sizeof tail,
                      "X-Forwarded-For: %s%s\r\nX-Forwarded-Proto: http\r\n"
                      "X-Forwarded-Port: %u\r\n\r\n", xff, c->client_ip, c->port);
    if (e < 0 || tn < 0 || (size_t)tn >= sizeof tail || buf_add(&c->up, tail, (size_t)tn) < 0) {
        send_error(c, 431);
        return;
    }

    c->in_req = true;
    c->rs = NULL;
    c->req_ka = llhttp_should_keep_alive(&c->req);
    c->is_head = c->req.method == HTTP_HEAD;
    c->idempotent = c->req.method == HTTP_GET || c->is_head || c->req.method == HTTP_PUT ||
                    c->req.method == HTTP_DELETE || c->req.method == HTTP_OPTIONS;
    c->upgrade = c->req.upgrade;
    c->req_done = false;
    if (c->upgrade || (!(c->req.flags & F_CHUNKED) && c->req.content_length == 0)) {
        c->req_done = true;       /* no body: */
        c->swallow = !c->upgrade; /* llhttp says so with the next byte */
    }
    c->tgi = route(c, hv, hl, path, plen);
    if (c->tgi == (size_t)-1) {
        send_error(c, 503);
        return;
    }
    snprintf(c->tg, sizeof c->tg, "%s", c->w->view->tgs[c->tgi].name);
    c->rs = lb_rstat(c->w, c->lname, c->tg);
    c->gen = c->w->view->generation;
    c->n_tried = 0;
    c->attempts = c->w->view->tgs[c->tgi].connect_attempts;
    c->replay = true;
    c->retried = false;
    c->resp_started = c->resp_done = c->client_written = false;
    c->down.off = c->down.len = c->dpos = 0;
    llhttp_init(&c->resp, HTTP_RESPONSE, &resp_settings);
    c->resp.data = c;
    try_connect(c);
}

/* ---- the target ---- */

static void connected(struct lb_hconn *c)
{
    c->st = H_FORWARD;
    c->last_backend = ev_now(c->w->loop);
    arm(c, c->backend_to);
    update(c);
}

static void on_server(struct ev_loop *loop, ev_io *io, int revents);

static void try_connect(struct lb_hconn *c)
{
    struct lb_worker *w = c->w;
    struct lb_view *v = w->view;
    const struct lb_target *t;

    if (v->generation != c->gen) {
        c->tgi = lb_view_tg_index(v, c->tg);
        c->gen = v->generation;
    }
    if (c->tgi == (size_t)-1) {
        send_error(c, 503);
        return;
    }
    bool any = false;
    while (c->attempts > 0 && (t = lb_pick(w, c->tgi, c->tried, c->n_tried))) {
        any = true;
        if (!c->retried && (c->sfd = pool_get(w, t->key)) >= 0) {
            c->reused = true;
        } else {
            c->attempts--;
            c->reused = false;
            c->sfd = socket(t->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (c->sfd < 0)
                break;
            int one = 1;
            setsockopt(c->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (connect(c->sfd, (const struct sockaddr *)&t->addr.ss, t->addr.len) < 0 &&
                errno != EINPROGRESS) {
                close(c->sfd);
                c->sfd = -1;
                if (c->n_tried < sizeof c->tried / sizeof c->tried[0])
                    c->tried[c->n_tried++] = t->key;
                continue;
            }
        }
        if (c->n_tried < sizeof c->tried / sizeof c->tried[0])
            c->tried[c->n_tried++] = t->key;
        uint32_t *cnt = lb_count(w, t->key);
        c->tkey = t->key;
        if (cnt) {
            (*cnt)++;
            c->counted = true;
        }
        ev_io_init(&c->sio, on_server, c->sfd, 0);
        c->sio.data = c;
        c->sev = 0;
        if (c->reused) {
            connected(c);
            return;
        }
        c->st = H_CONNECTING;
        set_events(c, &c->sio, &c->sev, EV_WRITE);
        arm(c, (double)v->tgs[c->tgi].connect_timeout_ms / 1000.);
        return;
    }
    /* 503: nothing to pick (none, or all draining) */
    send_error(c, any || c->n_tried ? 502 : 503);
}

/* The target failed before it answered: another connection when allowed:
 * a stale pooled one is retried fresh; a connect that failed, or an
 * idempotent request that got no byte back (a target going away), goes
 * to the next target. */
static void backend_failed(struct lb_hconn *c)
{
    bool replayable = !c->resp_started && c->replay;
    bool fresh_retry = c->reused && replayable && !c->retried;
    bool next_retry = c->st == H_CONNECTING || (replayable && c->idempotent);

    close_backend(c);
    if (fresh_retry || next_retry) {
        if (fresh_retry) {
            c->retried = true; /* a fresh connection, to any target */
            c->n_tried = 0;
        }
        c->up.off = 0;
        try_connect(c);
        return;
    }
    send_error(c, 502);
}

/* ---- relaying ---- */

static void finish_exchange(struct lb_hconn *c);
static void parse_request(struct lb_hconn *c);
static void start_tunnel(struct lb_hconn *c);

/* Parses what came from the target. */
static int parse_response(struct lb_hconn *c)
{
    while (c->dpos < c->down.len && !c->resp_done) {
        const char *at = c->down.d + c->dpos;
        llhttp_errno_t e = llhttp_execute(&c->resp, at, c->down.len - c->dpos);
        if (e == HPE_OK) {
            c->dpos = c->down.len;
        } else if (e == HPE_PAUSED) {
            c->dpos = (size_t)(llhttp_get_error_pos(&c->resp) - c->down.d);
            llhttp_resume(&c->resp);
            int s = c->resp.status_code;
            if (s == 101 && c->upgrade) {
                c->resp_done = true;
                c->dpos = c->down.len; /* what follows is the tunnel's */
            } else if (s >= 200 || s == 101) {
                c->resp_done = true;
            }
        } else {
            return -1;
        }
    }
    return 0;
}

static void on_backend_readable(struct lb_hconn *c)
{
    for (;;) {
        if (!c->down.d && !(c->down.d = malloc(BUF_CAP)))
            goto broken;
        if (c->down.off == c->down.len && c->dpos == c->down.len)
            c->down.off = c->down.len = c->dpos = 0;
        if (c->down.len == BUF_CAP)
            return; /* full: the client must take some first */
        ssize_t n = recv(c->sfd, c->down.d + c->down.len, BUF_CAP - c->down.len, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            goto broken;
        }
        c->last = c->last_backend = ev_now(c->w->loop);
        if (n == 0) {
            if (!c->resp_started)
                goto broken;
            llhttp_errno_t e = llhttp_finish(&c->resp);
            if ((e == HPE_OK || e == HPE_PAUSED) && !c->resp_done) {
                c->resp_done = true; /* close-delimited */
                c->req_ka = false;
            }
            if (!c->resp_done) {
                send_error(c, 502); /* cut short: closes the client */
                return;
            }
            close_backend(c);
            c->req_ka = false;
            return;
        }
        c->resp_started = true;
        c->replay = false;
        c->down.len += (size_t)n;
        if (parse_response(c) < 0) {
            send_error(c, 502);
            return;
        }
        if (c->resp_done)
            return;
    }
broken:
    backend_failed(c);
}

/* Reads client bytes into cb.  -1: the client is gone (closed here). */
static int client_read(struct lb_hconn *c)
{
    if (c->clen == c->ccap)
        return 0;
    ssize_t n = recv(c->cfd, c->cb + c->clen, c->ccap - c->clen, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    if (n == 0)
        return -1;
    c->clen += (size_t)n;
    c->last = ev_now(c->w->loop);
    return 0;
}

/* Runs the request parser over cb[cpos, clen): the head, then body bytes
 * (appended to up as they are). */
static void parse_request(struct lb_hconn *c)
{
    while (c->cpos < c->clen && !c->dead && c->st != H_ERROR) {
        if (c->st == H_IDLE) {
            c->st = H_HEAD;
            c->head_start = ev_now(c->w->loop);
            arm(c, c->header_to);
        }
        if (c->st != H_HEAD && c->req_done)
            return; /* the rest is the next request's */
        size_t avail = c->clen - c->cpos;
        if (c->st != H_HEAD) { /* body: as much as up has room for */
            size_t room = BUF_CAP - (c->up.len - c->up.off);
            if (room == 0)
                return; /* the target must take some first */
            avail = avail < room ? avail : room;
        }
        const char *at = c->cb + c->cpos;
        llhttp_errno_t e = llhttp_execute(&c->req, at, avail);
        size_t upto = c->cpos + avail;
        if (e == HPE_PAUSED) {
            upto = (size_t)(llhttp_get_error_pos(&c->req) - c->cb);
            llhttp_resume(&c->req);
        } else if (e != HPE_OK) {
            send_error(c, 400);
            return;
        }
        if (c->st == H_HEAD) {
            if (e != HPE_PAUSED) {
                c->cpos = upto;
                if (c->clen > c->max_header)
                    send_error(c, 431);
                return;
            }
            if (upto > c->max_header) {
                send_error(c, 431);
                return;
            }
            c->cpos = upto;
            on_head(c, upto);
            continue;
        }
        /* body bytes */
        if (c->replay && c->up.len + (upto - c->cpos) > BUF_CAP)
            c->replay = false; /* buf_add moves the sent bytes out */
        if (!c->replay && c->up.off == c->up.len)
            c->up.off = c->up.len = 0;
        if (buf_add(&c->up, at, upto - c->cpos) < 0) {
            send_error(c, 502);
            return;
        }
        c->cpos = upto;
        if (e == HPE_PAUSED)
            c->req_done = true;
        else
            if (c->cpos == c->clen)
                c->cpos = c->clen = 0; /* all of it is in up: room for more */
    }
}

static void finish_exchange(struct lb_hconn *c)
{
    record(c, c->resp.status_code);
    bool backend_ka = c->sfd >= 0 && llhttp_should_keep_alive(&c->resp) && c->req_done &&
                      c->up.off == c->up.len && c->dpos == c->down.len && !c->upgrade;
    bool client_ka = c->req_ka && llhttp_should_keep_alive(&c->resp) && c->req_done &&
                     !c->upgrade;

    if (backend_ka) {
        ev_io_stop(c->w->loop, &c->sio);
        c->sev = 0;
        pool_put(c->w, c->tkey, c->sfd);
        c->sfd = -1;
        uncount(c);
    } else {
        close_backend(c);
    }
    if (!client_ka) {
        hconn_free(c);
        return;
    }
    /* The next request, maybe already here. */
    memmove(c->cb, c->cb + c->cpos, c->clen - c->cpos);
    c->clen -= c->cpos;
    c->cpos = 0;
    /* An idle connection keeps only its input buffer. */
    free(c->up.d);
    free(c->down.d);
    memset(&c->up, 0, sizeof c->up);
    memset(&c->down, 0, sizeof c->down);
    c->dpos = 0;
    c->st = H_IDLE;
    arm(c, c->idle);
    parse_request(c);
    update(c);
}

static void start_tunnel(struct lb_hconn *c)
{
    record(c, 101);
    c->st = H_TUNNEL;
    /* What the client sent after its head goes first. */
    if (c->clen > c->cpos && buf_add(&c->up, c->cb + c->cpos, c->clen - c->cpos) < 0) {
        hconn_free(c);
        return;
    }
    c->cpos = c->clen;
}

/* Moves what can move and sets the watchers for the state. */
static void update(struct lb_hconn *c)
{
    for (int round = 0; round < 4 && !c->dead; round++) {
        if (c->st == H_ERROR) {
            if (buf_write(&c->down, c->dpos, c->cfd) < 0) {
                hconn_free(c);
                return;
            }
            if (c->down.off == c->dpos) {
                shutdown(c->cfd, SHUT_WR);
                char sink[4096];
                ssize_t n;
                while ((n = recv(c->cfd, sink, sizeof sink, 0)) > 0)
                    ;
                if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                    hconn_free(c);
                    return;
                }
                set_events(c, &c->cio, &c->cev, EV_READ);
            } else {
                set_events(c, &c->cio, &c->cev, EV_WRITE);
            }
            return;
        }
        if (c->st == H_IDLE || c->st == H_HEAD) {
            set_events(c, &c->cio, &c->cev, EV_READ);
            return;
        }
        if (c->st == H_CONNECTING) {
            set_events(c, &c->cio, &c->cev, 0);
            return;
        }
        /* H_FORWARD, H_TUNNEL: request bytes out, response bytes back. */
        if (c->sfd >= 0 && c->up.off < c->up.len) {
            if (buf_write(&c->up, c->up.len, c->sfd) < 0) {
                backend_failed(c);
                return;
            }
            c->last = c->last_backend = ev_now(c->w->loop);
        }
        if (c->st == H_FORWARD && !c->req_done && c->cpos < c->clen &&
            c->up.len - c->up.off < BUF_CAP) {
            parse_request(c); /* body bytes that waited for room */
            if (c->dead || c->st != H_FORWARD)
                continue;
        }
        if (c->down.off < c->dpos) {
            if (buf_write(&c->down, c->dpos, c->cfd) < 0) {
                hconn_free(c);
                return;
            }
            c->client_written = true;
            c->last = ev_now(c->w->loop);
        }
        if (c->st == H_TUNNEL) {
            if (c->up.off == c->up.len && c->down.off == c->dpos) {
                struct lb_worker *w = c->w;
                int cfd = c->cfd, sfd = c->sfd;
                uint64_t key = c->counted ? c->tkey : 0;
                double idle = c->idle;
                struct lb_lstat *ls = c->ls;
                c->cfd = c->sfd = -1;
                c->counted = false; /* the count passes on */
                hconn_free(c);
                lb_l4_adopt(w, cfd, sfd, key, idle, ls);
                return;
            }
            set_events(c, &c->cio, &c->cev, c->down.off < c->dpos ? EV_WRITE : 0);
            set_events(c, &c->sio, &c->sev, c->up.off < c->up.len ? EV_WRITE : 0);
            return;
        }
        if (c->resp_done && c->down.off == c->dpos) {
            if (c->upgrade && c->resp.status_code == 101) {
                start_tunnel(c);
                continue;
            }
            finish_exchange(c);
            return;
        }
        if (c->sfd < 0) { /* closed after a close-delimited response */
            if (c->down.off == c->dpos) {
                hconn_free(c);
                return;
            }
            set_events(c, &c->cio, &c->cev, EV_WRITE);
            return;
        }
        /* Client: write when the response waits; read the body while it
         * runs and the up buffer has room. */
        int cw = c->down.off < c->dpos ? EV_WRITE : 0;
        if (!c->req_done && c->clen < c->ccap && c->up.len - c->up.off < BUF_CAP / 2)
            cw |= EV_READ;
        int sw = c->up.off < c->up.len ? EV_WRITE : 0;
        if (c->down.off == c->dpos && !c->resp_done)
            sw |= EV_READ;
        set_events(c, &c->cio, &c->cev, cw);
        set_events(c, &c->sio, &c->sev, sw);
        return;
    }
}

static void on_client(struct ev_loop *loop, ev_io *io, int revents)
{
    struct lb_hconn *c = io->data;
    (void)loop;

    enter(c);
    if (c->st != H_ERROR && (revents & EV_READ)) {
        if (client_read(c) < 0)
            hconn_free(c);
        else
            parse_request(c);
    }
    update(c);
    leave(c);
}

static void on_server(struct ev_loop *loop, ev_io *io, int revents)
{
    struct lb_hconn *c = io->data;
    (void)loop;

    enter(c);
    if (c->st == H_CONNECTING) {
        int e = 0;
        socklen_t l = sizeof e;
        if (getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e)
            backend_failed(c);
        else
            connected(c);
    } else {
        if (revents & EV_READ)
            on_backend_readable(c);
        update(c);
    }
    leave(c);
}

static void timer_fired(struct lb_hconn *c, double now);

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct lb_hconn *c = t->data;
    (void)revents;

    enter(c);
    timer_fired(c, ev_now(loop));
    leave(c);
}

static void timer_fired(struct lb_hconn *c, double now)
{
    switch (c->st) {
    case H_IDLE:
        if (now - c->last >= c->idle) {
            hconn_free(c);
            return;
        }
        arm(c, c->last + c->idle - now);
        return;
    case H_HEAD: /* slowloris */
    case H_ERROR:
    case H_TUNNEL:
        hconn_free(c);
        return;
    case H_CONNECTING:
        backend_failed(c);
        return;
    case H_FORWARD:
        if (!c->resp_started) {
            if (now - c->last_backend >= c->backend_to) {
                send_error(c, 504);
                return;
            }
            arm(c, c->last_backend + c->backend_to - now);
            return;
        }
        if (now - c->last >= c->idle) {
            hconn_free(c);
            return;
        }
        arm(c, c->last + c->idle - now);
        return;
    }
}

void lb_http_accept(struct lb_worker *w, int cfd, const struct lb_vlistener *l)
{
    struct lb_hconn *c = calloc(1, sizeof *c);

    pthread_once(&settings_once, settings_init);
    if (!c) {
        close(cfd);
        return;
    }
    c->ccap = l->max_header_size + 1; /* the head whole; bodies pass through */
    if (!(c->cb = malloc(c->ccap))) {
        free(c);
        close(cfd);
        return;
    }
    c->w = w;
    c->cfd = cfd;
    c->sfd = -1;
    snprintf(c->lname, sizeof c->lname, "%s", l->name);
    snprintf(c->dtg, sizeof c->dtg, "%s", w->view->tgs[l->tg].name);
    c->idle = (double)l->idle_timeout_ms / 1000.;
    c->header_to = (double)l->header_timeout_ms / 1000.;
    c->backend_to = (double)l->backend_timeout_ms / 1000.;
    c->max_header = l->max_header_size;
    c->port = l->port;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(cfd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->client_ip,
                      sizeof c->client_ip);
        else
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->client_ip,
                      sizeof c->client_ip);
    }
    llhttp_init(&c->req, HTTP_REQUEST, &req_settings);
    c->req.data = c;
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ev_io_init(&c->cio, on_client, cfd, 0);
    c->cio.data = c;
    ev_io_init(&c->sio, on_server, -1, 0);
    c->sio.data = c;
    ev_timer_init(&c->timer, on_timer, 1., 0.);
    c->timer.data = c;
    c->next = w->hconns;
    if (w->hconns)
        w->hconns->prev = c;
    w->hconns = c;
    atomic_fetch_add(&w->active, 1);
    c->st = H_IDLE;
    c->last = ev_now(w->loop);
    if ((c->ls = lb_lstat(w, l->name))) {
        lb_inc(&c->ls->conns, 1);
        lb_inc(&c->ls->active, 1);
    }
    arm(c, c->idle);
    update(c);
}
