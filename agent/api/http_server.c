/* http_server.c: HTTP/1.1 server on libev with llhttp; see http_server.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <llhttp.h>

#include "agent/api/http_server.h"
#include "agent/log.h"
#include "agent/value.h"

#define READ_CHUNK 16384
/* Past this much unsent output, pipelined requests wait: a client that
 * sends without reading cannot make us buffer without end. */
#define OUT_HIGH (1024 * 1024)

struct http_listener {
    struct http_server *srv;
    int fd;
    ev_io io;
    enum http_listener_kind kind;
    char *path; /* unix */
    dev_t dev;
    ino_t ino;
    int port;
    void *data;
    struct http_listener *next;
};

enum conn_phase { PH_IDLE, PH_HEADERS, PH_BODY };

struct conn {
    struct http_server *srv;
    int fd;
    ev_io rio, wio;
    ev_timer timer;
    llhttp_t parser;
    enum http_listener_kind kind;
    char peer[80];
    void *listener_data;
    enum conn_phase phase;
    ev_tstamp header_deadline;

    struct http_exchange *cur;     /* being parsed */
    struct http_exchange *waiting; /* handed to the handler, not answered */
    size_t header_bytes;
    int in_value;       /* the last header piece was a value */
    int err_status;     /* set by a callback that refused the request */
    const char *err_msg;

    char *pend; /* received, not parsed yet */
    size_t pend_len, pend_off;
    char *out; /* to send */
    size_t out_len, out_off;

    int eof, closing, in_process;
    struct conn *prev, *next;
};

struct http_exchange {
    struct conn *conn; /* NULL once the connection is gone */
    struct http_request req;
    size_t body_cap;
    int keep_alive;
    int http10;
};

struct http_server {
    struct ev_loop *loop;
    struct http_limits lim;
    http_handler_fn handler;
    void *arg;
    struct http_listener *listeners;
    struct conn *conns;
    unsigned n_conns;
};

static void conn_process(struct conn *c);
static void conn_close(struct conn *c);

/* ---- small helpers ---- */

const char *
http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...) BERTH_PRINTF(3, 4);

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Appends n bytes to a heap string; aborts on OOM like the JSON walker
 * (a half-built request is worse than a restart). */
static void
append(char **s, size_t *len, const char *p, size_t n)
{
    char *g = realloc(*s, *len + n + 1);
    if (!g)
        abort();
    memcpy(g + *len, p, n);
    *len += n;
    g[*len] = '\0';
    *s = g;
}

static void
exchange_free(struct http_exchange *x)
{
    if (!x)
        return;
    free(x->req.target);
    for (size_t i = 0; i < x->req.n_headers; i++) {
        free(x->req.headers[i].name);
        free(x->req.headers[i].value);
    }
    free(x->req.headers);
    free(x->req.body);
    free(x);
}

const char *
http_header_get(const struct http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

int
http_exchange_gone(const struct http_exchange *x)
{
    return x->conn == NULL;
}

/* ---- output ---- */

static void
out_add(struct conn *c, const char *p, size_t n)
{
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    append(&c->out, &c->out_len, p, n);
    ev_io_start(c->srv->loop, &c->wio);
}

static void
out_printf(struct conn *c, const char *fmt, ...) BERTH_PRINTF(2, 3);

static void
out_printf(struct conn *c, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    out_add(c, s, (size_t)n);
    free(s);
}

/* A refusal from the server itself: plain text, then close. */
static void
reply_error_close(struct conn *c, int status, const char *msg)
{
    out_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
               status, http_status_text(status), strlen(msg) + 1, msg);
    c->closing = 1;
    log_info("http.refused", "peer=%s status=%d reason=\"%s\"", c->peer, status, msg);
}

void
http_reply(struct http_exchange *x, int status, const struct http_header *headers,
           size_t n_headers, const char *body, size_t body_len)
{
    struct conn *c = x->conn;

    if (!c) {
        exchange_free(x);
        return;
    }
    out_printf(c, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
    for (size_t i = 0; i < n_headers; i++)
        out_printf(c, "%s: %s\r\n", headers[i].name, headers[i].value);
    if (!x->keep_alive)
        c->closing = 1;
    out_printf(c, "Content-Length: %zu\r\n%s\r\n", body_len,
               c->closing ? "Connection: close\r\n"
                          : x->http10 ? "Connection: keep-alive\r\n" : "");
    if (body_len)
        out_add(c, body, body_len);
    c->waiting = NULL;
    exchange_free(x);
    conn_process(c);
}

/* ---- parser callbacks ---- */

static struct conn *
conn_of(llhttp_t *p)
{
    return p->data;
}

static int
count_header(struct conn *c, size_t n)
{
    c->header_bytes += n;
    if (c->header_bytes > c->srv->lim.max_header) {
        c->err_status = 431;
        c->err_msg = "request line and headers are larger than the limit";
        return -1;
    }
    return 0;
}

static int
on_message_begin(llhttp_t *p)
{
    struct conn *c = conn_of(p);
    struct http_exchange *x = calloc(1, sizeof(*x));

    if (!x)
        abort();
    exchange_free(c->cur);
    c->cur = x;
    x->req.kind = c->kind;
    x->req.listener_data = c->listener_data;
    memcpy(x->req.peer, c->peer, sizeof(x->req.peer));
    c->phase = PH_HEADERS;
    c->header_bytes = 0;
    c->in_value = 0;
    c->header_deadline = ev_now(c->srv->loop) + c->srv->lim.header_timeout;
    return 0;
}

static int
on_url(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = conn_of(p);
    size_t len = c->cur->req.target ? strlen(c->cur->req.target) : 0;

    if (count_header(c, n) < 0)
        return -1;
    append(&c->cur->req.target, &len, at, n);
    return 0;
}

static int
on_header_field(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = conn_of(p);
    struct http_request *r = &c->cur->req;
    size_t len;

    if (count_header(c, n + 4) < 0)
        return -1;
    if (c->in_value || r->n_headers == 0) {
        struct http_header *g = realloc(r->headers, (r->n_headers + 1) * sizeof(*g));
        if (!g)
            abort();
        r->headers = g;
        g[r->n_headers].name = NULL;
        g[r->n_headers].value = NULL;
        r->n_headers++;
        c->in_value = 0;
    }
    len = r->headers[r->n_headers - 1].name ? strlen(r->headers[r->n_headers - 1].name) : 0;
    append(&r->headers[r->n_headers - 1].name, &len, at, n);
    return 0;
}

static int
on_header_value(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = conn_of(p);
    struct http_request *r = &c->cur->req;
    struct http_header *h = &r->headers[r->n_headers - 1];
    size_t len = h->value ? strlen(h->value) : 0;

    if (count_header(c, n) < 0)
        return -1;
    c->in_value = 1;
    append(&h->value, &len, at, n);
    return 0;
}

static int
on_headers_complete(llhttp_t *p)
{
    struct conn *c = conn_of(p);
    struct http_request *r = &c->cur->req;
    const char *expect;

    for (size_t i = 0; i < r->n_headers; i++)
        if (!r->headers[i].value && !(r->headers[i].value = strdup("")))
            abort();
    r->method = llhttp_method_name((llhttp_method_t)llhttp_get_method(p));
    if (!r->target && !(r->target = strdup("/")))
        abort();
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->srv->lim.max_body) {
        c->err_status = 413;
        c->err_msg = "request body is larger than the limit";
        return -1;
    }
    c->phase = PH_BODY;
    expect = http_header_get(r, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 && p->http_major == 1 &&
        p->http_minor == 1)
        out_printf(c, "HTTP/1.1 100 Continue\r\n\r\n");
    return 0;
}

static int
on_body(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = conn_of(p);
    struct http_exchange *x = c->cur;

    if (x->req.body_len + n > c->srv->lim.max_body) {
        c->err_status = 413;
        c->err_msg = "request body is larger than the limit";
        return -1;
    }
    append(&x->req.body, &x->req.body_len, at, n);
    return 0;
}

static int
on_message_complete(llhttp_t *p)
{
    struct conn *c = conn_of(p);

    if (!c->cur->req.body && !(c->cur->req.body = calloc(1, 1)))
        abort();
    c->cur->keep_alive = llhttp_should_keep_alive(p);
    c->cur->http10 = p->http_major == 1 && p->http_minor == 0;
    c->phase = PH_IDLE;
    return HPE_PAUSED; /* one request at a time: replies stay in order */
}

static llhttp_settings_t parser_settings;

static void
settings_once(void)
{
    static int done;

    if (done)
        return;
    llhttp_settings_init(&parser_settings);
    parser_settings.on_message_begin = on_message_begin;
    parser_settings.on_url = on_url;
    parser_settings.on_header_field = on_header_field;
    parser_settings.on_header_value = on_header_value;
    parser_settings.on_headers_complete = on_headers_complete;
    parser_settings.on_body = on_body;
    parser_settings.on_message_complete = on_message_complete;
    done = 1;
}

/* ---- connections ---- */

static void
update_watchers(struct conn *c)
{
    struct ev_loop *loop = c->srv->loop;
    /* Reading goes on while the handler works, a little ahead, so that a
     * client that leaves is noticed; pipelined input waits in pend. */
    int want_read = !c->closing && !c->eof && c->pend_len - c->pend_off < READ_CHUNK &&
                    c->out_len - c->out_off < OUT_HIGH;

    if (want_read)
        ev_io_start(loop, &c->rio);
    else
        ev_io_stop(loop, &c->rio);

    if (c->waiting) {
        ev_timer_stop(loop, &c->timer); /* the handler bounds itself */
    } else if (c->phase == PH_HEADERS) {
        double left = c->header_deadline - ev_now(loop);
        ev_timer_stop(loop, &c->timer);
        ev_timer_set(&c->timer, left > 0 ? left : 0.001, 0.);
        ev_timer_start(loop, &c->timer);
    } else {
        ev_timer_stop(loop, &c->timer);
        ev_timer_set(&c->timer, c->srv->lim.idle_timeout, 0.);
        ev_timer_start(loop, &c->timer);
    }
}

/* Parses what is buffered, one request at a time, handing each to the
 * handler; then decides whether to read more or close. */
static void
conn_process(struct conn *c)
{
    if (c->in_process)
        return; /* a synchronous reply: the loop below goes on */
    c->in_process = 1;
    while (!c->closing && !c->waiting && c->pend_off < c->pend_len &&
           c->out_len - c->out_off < OUT_HIGH) {
        const char *p = c->pend + c->pend_off;
        llhttp_errno_t e = llhttp_execute(&c->parser, p, c->pend_len - c->pend_off);

        if (e == HPE_OK) {
            c->pend_off = c->pend_len;
        } else if (e == HPE_PAUSED) {
            struct http_exchange *x = c->cur;
            c->pend_off += (size_t)(llhttp_get_error_pos(&c->parser) - p);
            llhttp_resume(&c->parser);
            c->cur = NULL;
            x->conn = c;
            c->waiting = x;
            c->srv->handler(c->srv->arg, x, &x->req);
        } else {
            if (c->err_status)
                reply_error_close(c, c->err_status, c->err_msg);
            else
                reply_error_close(c, 400, llhttp_get_error_reason(&c->parser));
            exchange_free(c->cur);
            c->cur = NULL;
        }
    }
    if (c->pend_off == c->pend_len)
        c->pend_off = c->pend_len = 0;
    c->in_process = 0;
    if (c->eof && !c->waiting && c->pend_len == 0)
        c->closing = 1; /* answered all the client sent before it left */
    if (c->closing && c->out_off == c->out_len && !c->waiting) {
        conn_close(c);
        return;
    }
    update_watchers(c);
}

static void
on_conn_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *c = w->data;
    char buf[READ_CHUNK];
    ssize_t n = read(c->fd, buf, sizeof(buf));

    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        conn_close(c);
        return;
    }
    if (n == 0) {
        c->eof = 1; /* perhaps only a half-close: pending replies still go */
        conn_process(c);
        return;
    }
    append(&c->pend, &c->pend_len, buf, (size_t)n);
    conn_process(c);
}

static void
on_conn_write(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *c = w->data;
    ssize_t n;

    while (c->out_off < c->out_len) {
        n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            conn_close(c);
            return;
        }
        c->out_off += (size_t)n;
    }
    if (c->out_off < c->out_len) {
        update_watchers(c); /* progress: the idle clock restarts */
        return;
    }
    c->out_off = c->out_len = 0;
    ev_io_stop(loop, &c->wio);
    if (c->closing && !c->waiting) {
        conn_close(c);
        return;
    }
    conn_process(c); /* below OUT_HIGH again: go on with pipelined input */
}

static void
on_conn_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct conn *c = w->data;

    if (c->phase == PH_HEADERS || c->phase == PH_BODY) {
        const char *why = c->phase == PH_HEADERS ? "request headers not received in time"
                                                 : "request body not received in time";
        exchange_free(c->cur);
        c->cur = NULL;
        c->phase = PH_IDLE;
        c->pend_off = c->pend_len = 0;
        reply_error_close(c, 408, why);
        update_watchers(c);
        return;
    }
    if (c->out_off < c->out_len || c->closing) {
        log_info("http.timeout", "peer=%s reason=\"client does not read\"", c->peer);
    }
    conn_close(c);
}

static void
conn_close(struct conn *c)
{
    struct http_server *s = c->srv;

    ev_io_stop(s->loop, &c->rio);
    ev_io_stop(s->loop, &c->wio);
    ev_timer_stop(s->loop, &c->timer);
    close(c->fd);
    if (c->waiting)
        c->waiting->conn = NULL; /* its late reply will be dropped */
    exchange_free(c->cur);
    free(c->pend);
    free(c->out);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    free(c);
}

static void
peer_name(int fd, enum http_listener_kind kind, const struct sockaddr_storage *sa,
          socklen_t salen, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN + 8], port[8];

    if (kind == HTTP_LISTEN_UNIX) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
            snprintf(out, size, "unix:pid=%d,uid=%u", (int)cred.pid, (unsigned)cred.uid);
        else
            snprintf(out, size, "unix");
        return;
    }
    if (getnameinfo((const struct sockaddr *)sa, salen, host, sizeof(host), port,
                    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, size, "?");
        return;
    }
    snprintf(out, size, sa->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct http_listener *l = w->data;
    struct http_server *s = l->srv;

    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof(sa);
        int fd = accept4(l->fd, (struct sockaddr *)&sa, &salen,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *c;

        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log_warn("http.accept.failed", "error=\"%s\"", strerror(errno));
            return;
        }
        if (s->n_conns >= s->lim.max_connections) {
            static const char busy[] =
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                "Content-Length: 29\r\nConnection: close\r\n\r\ntoo many connections, retry\r\n";
            ssize_t r = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
            (void)r; /* best effort: the socket buffer is empty */
            close(fd);
            log_warn("http.refused", "reason=\"too many connections\" max=%u",
                     s->lim.max_connections);
            continue;
        }
        if (!(c = calloc(1, sizeof(*c)))) {
            close(fd);
            return;
        }
        c->srv = s;
        c->fd = fd;
        c->kind = l->kind;
        c->listener_data = l->data;
        peer_name(fd, l->kind, &sa, salen, c->peer, sizeof(c->peer));
        llhttp_init(&c->parser, HTTP_REQUEST, &parser_settings);
        c->parser.data = c;
        ev_io_init(&c->rio, on_conn_read, fd, EV_READ);
        ev_io_init(&c->wio, on_conn_write, fd, EV_WRITE);
        ev_timer_init(&c->timer, on_conn_timer, 0., 0.);
        c->rio.data = c->wio.data = c->timer.data = c;
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        update_watchers(c);
    }
}

/* ---- server and listeners ---- */

struct http_server *
http_server_new(struct ev_loop *loop, const struct http_limits *limits,
                http_handler_fn handler, void *arg)
{
    struct http_server *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    settings_once();
    s->loop = loop;
    s->lim = *limits;
    s->handler = handler;
    s->arg = arg;
    return s;
}

void
http_server_set_limits(struct http_server *s, const struct http_limits *l)
{
    s->lim = *l;
}

unsigned
http_server_connections(const struct http_server *s)
{
    return s->n_conns;
}

void
http_server_free(struct http_server *s)
{
    if (!s)
        return;
    while (s->listeners)
        http_listener_close(s->listeners);
    while (s->conns)
        conn_close(s->conns);
    free(s);
}

static struct http_listener *
listener_add(struct http_server *s, int fd, enum http_listener_kind kind)
{
    struct http_listener *l = calloc(1, sizeof(*l));

    if (!l)
        return NULL;
    l->srv = s;
    l->fd = fd;
    l->kind = kind;
    ev_io_init(&l->io, on_accept, fd, EV_READ);
    l->io.data = l;
    ev_io_start(s->loop, &l->io);
    l->next = s->listeners;
    s->listeners = l;
    return l;
}

/* 1 when something accepts connections on the unix socket at path. */
static int
unix_answers(const struct sockaddr_un *sun)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int r;

    if (fd < 0)
        return 1; /* cannot tell: assume it is in use */
    r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
    r = r == 0 || errno == EAGAIN || errno == EINPROGRESS;
    close(fd);
    return r;
}

static int
ensure_parent(const char *path)
{
    char *dir = strdup(path), *slash;
    int r = 0;

    if (!dir)
        return -1;
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            r = -1;
    }
    free(dir);
    return r;
}

struct http_listener *
http_listen_unix(struct http_server *s, const char *path, mode_t mode, gid_t gid,
                 char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct http_listener *l;
    struct stat st;
    mode_t old_mask;
    int fd, r;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        seterr(err, errlen, "%s: path longer than %zu bytes", path,
               sizeof(sun.sun_path) - 1);
        return NULL;
    }
    strcpy(sun.sun_path, path);
    if (ensure_parent(path) < 0) {
        seterr(err, errlen, "cannot create the folder of %s: %s", path, strerror(errno));
        return NULL;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        seterr(err, errlen, "socket: %s", strerror(errno));
        return NULL;
    }
    /* The file is born with its final mode: no window where it is open to
     * more users than the conf allows. */
    old_mask = umask(~mode & 0777);
    r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    if (r < 0 && errno == EADDRINUSE) {
        if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
            umask(old_mask);
            seterr(err, errlen, "cannot bind %s: the file exists and is not a socket",
                   path);
            close(fd);
            return NULL;
        }
        if (unix_answers(&sun)) {
            umask(old_mask);
            seterr(err, errlen, "cannot bind %s: another process answers on it", path);
            close(fd);
            return NULL;
        }
        log_info("http.socket.stale", "path=%s", path);
        unlink(path);
        r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    }
    umask(old_mask);
    if (r < 0) {
        seterr(err, errlen, "cannot bind %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) || chmod(path, mode) < 0) {
        seterr(err, errlen, "cannot set the owner or mode of %s: %s", path, strerror(errno));
        unlink(path);
        close(fd);
        return NULL;
    }
    if (listen(fd, 128) < 0 || stat(path, &st) < 0) {
        seterr(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
        unlink(path);
        close(fd);
        return NULL;
    }
    if (!(l = listener_add(s, fd, HTTP_LISTEN_UNIX)) || !(l->path = strdup(path))) {
        seterr(err, errlen, "out of memory");
        if (l)
            http_listener_close(l);
        else
            close(fd);
        unlink(path);
        return NULL;
    }
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    return l;
}

int
http_listener_chmod(struct http_listener *l, mode_t mode, gid_t gid, char *err,
                    size_t errlen)
{
    if (l->kind != HTTP_LISTEN_UNIX)
        return 0;
    if ((gid != (gid_t)-1 && chown(l->path, (uid_t)-1, gid) < 0) ||
        chmod(l->path, mode) < 0) {
        seterr(err, errlen, "cannot set the owner or mode of %s: %s", l->path,
               strerror(errno));
        return -1;
    }
    return 0;
}

static struct http_listener *
listen_tcp(struct http_server *s, const char *addr, int freebind, char *err,
           size_t errlen);

struct http_listener *
http_listen_tcp(struct http_server *s, const char *addr, char *err, size_t errlen)
{
    return listen_tcp(s, addr, 0, err, errlen);
}

struct http_listener *
http_listen_tcp_freebind(struct http_server *s, const char *addr, char *err,
                         size_t errlen)
{
    return listen_tcp(s, addr, 1, err, errlen);
}

static struct http_listener *
listen_tcp(struct http_server *s, const char *addr, int freebind, char *err,
           size_t errlen)
{
    struct berth_address ba;
    struct sockaddr_storage ss;
    socklen_t len;
    char perr[256];
    int fd, one = 1;
    struct http_listener *l;

    memset(&ss, 0, sizeof(ss));
    /* Port 0 (the system picks) is for tests; the conf never lets it by. */
    size_t alen = strlen(addr);
    int any_port = alen > 2 && strcmp(addr + alen - 2, ":0") == 0;
    char *text = strdup(addr);
    if (!text)
        abort();
    if (any_port)
        text[alen - 1] = '1';
    int pr = value_parse_address(text, &ba, perr, sizeof(perr));
    free(text);
    if (pr < 0) {
        seterr(err, errlen, "%s", perr);
        return NULL;
    }
    if (any_port)
        ba.port = 0;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, ba.host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(ba.port);
        len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, ba.host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(ba.port);
        len = sizeof(*s6);
    } else {
        seterr(err, errlen, "expected an IP address such as 127.0.0.1:8080 or "
                            "[::1]:8080, got \"%s\" (names are not looked up)", addr);
        return NULL;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        seterr(err, errlen, "socket: %s", strerror(errno));
        return NULL;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (freebind)
        setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
        seterr(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
        close(fd);
        return NULL;
    }
    len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    if (!(l = listener_add(s, fd, HTTP_LISTEN_TCP))) {
        seterr(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }
    l->port = ntohs(ss.ss_family == AF_INET6 ? s6->sin6_port : s4->sin_port);
    return l;
}

void
http_listener_close(struct http_listener *l)
{
    struct http_server *s = l->srv;
    struct http_listener **pp;
    struct stat st;

    ev_io_stop(s->loop, &l->io);
    close(l->fd);
    /* Remove the file only if it is still ours (not a newer daemon's). */
    if (l->path && stat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
        unlink(l->path);
    for (pp = &s->listeners; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    free(l->path);
    free(l);
}

void
http_listener_set_data(struct http_listener *l, void *data)
{
    l->data = data;
}

int
http_listener_port(const struct http_listener *l)
{
    return l->port;
}

enum http_listener_kind
http_listener_kind(const struct http_listener *l)
{
    return l->kind;
}
