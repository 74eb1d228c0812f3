/* test_lb_http.c: the http listener end to end on loopback, against small
 * HTTP/1.1 backends run here (keep-alive, chunked both ways, HEAD, 204,
 * 304, 101 then echo, a slow path, a close-delimited path): routing by
 * host and path, X-Forwarded-*, keep-alive reuse of one backend
 * connection, pipelining, the smuggling probes (400 and a close), 431,
 * 502, 503, 504, the header timeout, slow start's weights. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/registry.h"
#include "lb/lb.h"
#include "lb/lb_worker_priv.h"
#include "tests/lib/sockets.h"
#include "tests/lib/tap.h"

/* ---- backends ---- */

#define MAX_CONNS 64

struct backend {
    int id, fd;
    uint16_t port;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_t conns[MAX_CONNS];
    int n_conns;
};

struct bconn {
    struct backend *b;
    int fd, n;
};

/* Reads until buf holds a head ("\r\n\r\n"); returns its length, 0 on EOF. */
static size_t read_head(int fd, char *buf, size_t cap, size_t *have)
{
    for (;;) {
        char *e = *have ? memmem(buf, *have, "\r\n\r\n", 4) : NULL;
        if (e)
            return (size_t)(e - buf) + 4;
        if (*have == cap)
            return 0;
        ssize_t r = recv(fd, buf + *have, cap - *have, 0);
        if (r <= 0)
            return 0;
        *have += (size_t)r;
    }
}

static int read_more(int fd, char *buf, size_t cap, size_t *have)
{
    ssize_t r = recv(fd, buf + *have, cap - *have, 0);
    if (r <= 0)
        return -1;
    *have += (size_t)r;
    return 0;
}

/* The value of header name in head, "" when absent. */
static void header(const char *head, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *p = head; p && p < head + len; p = memchr(p, '\n', (size_t)(head + len - p))) {
        if (*p == '\n')
            p++;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = memmem(v, (size_t)(head + len - v), "\r\n", 2);
            snprintf(out, cap, "%.*s", e ? (int)(e - v) : 0, v);
            return;
        }
    }
}

static void drop(char *buf, size_t *have, size_t n)
{
    memmove(buf, buf + n, *have - n);
    *have -= n;
}

static void sendall(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t r = send(fd, s, n, MSG_NOSIGNAL);
        if (r <= 0)
            return;
        s += r;
        n -= (size_t)r;
    }
}

static void *serve_conn(void *arg)
{
    struct bconn *bc = arg;
    int fd = bc->fd;
    char buf[65536], body[16384], out[20000], v[256];
    size_t have = 0;

    for (;;) {
        size_t hl = read_head(fd, buf, sizeof buf, &have);
        if (!hl)
            break;
        char method[16], path[256], line[300];
        snprintf(line, sizeof line, "%.*s", (int)hl, buf);
        if (sscanf(line, "%15s %255s", method, path) != 2)
            break;
        char xff[256], xfp[64], xfport[64], host[256], te[64], upg[64];
        header(buf, hl, "X-Forwarded-For", xff, sizeof xff);
        header(buf, hl, "X-Forwarded-Proto", xfp, sizeof xfp);
        header(buf, hl, "X-Forwarded-Port", xfport, sizeof xfport);
        header(buf, hl, "Host", host, sizeof host);
        header(buf, hl, "Transfer-Encoding", te, sizeof te);
        header(buf, hl, "Upgrade", upg, sizeof upg);
        header(buf, hl, "Content-Length", v, sizeof v);
        size_t cl = (size_t)atol(v), bl = 0;
        drop(buf, &have, hl);
        if (strcmp(te, "chunked") == 0) { /* decode */
            for (;;) {
                char *e;
                while (!(e = memmem(buf, have, "\r\n", 2)))
                    if (read_more(fd, buf, sizeof buf, &have) < 0)
                        goto out;
                size_t n = strtoul(buf, NULL, 16);
                drop(buf, &have, (size_t)(e - buf) + 2);
                while (have < n + 2)
                    if (read_more(fd, buf, sizeof buf, &have) < 0)
                        goto out;
                if (bl + n < sizeof body) {
                    memcpy(body + bl, buf, n);
                    bl += n;
                }
                drop(buf, &have, n + 2);
                if (n == 0)
                    break;
            }
        } else if (cl > 32768) { /* large: counted, not kept */
            size_t left = cl;
            while (left) {
                if (!have && read_more(fd, buf, sizeof buf, &have) < 0)
                    goto out;
                size_t take = have < left ? have : left;
                drop(buf, &have, take);
                left -= take;
            }
            bl = (size_t)snprintf(body, sizeof body, "large:%zu", cl);
        } else {
            while (have < cl)
                if (read_more(fd, buf, sizeof buf, &have) < 0)
                    goto out;
            bl = cl < sizeof body ? cl : sizeof body - 1;
            memcpy(body, buf, bl);
            drop(buf, &have, cl);
        }
        body[bl] = '\0';
        char msg[18000];
        int mn = snprintf(msg, sizeof msg, "B%d conn=%d path=%s host=%s xff=%s xfp=%s xfport=%s body=%s",
                          bc->b->id, bc->n, path, host, xff, xfp, xfport, body);
        int n;
        if (strcmp(path, "/ws") == 0 && upg[0]) {
            n = snprintf(out, sizeof out, "HTTP/1.1 101 Switching Protocols\r\n"
                                          "Connection: Upgrade\r\nUpgrade: %s\r\n\r\nB%d-ws:", upg, bc->b->id);
            sendall(fd, out, (size_t)n);
            if (have)
                sendall(fd, buf, have);
            ssize_t r;
            while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
                sendall(fd, buf, (size_t)r);
            break;
        } else if (strcmp(path, "/chunked") == 0) {
            n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                          "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
        } else if (strcmp(method, "HEAD") == 0) {
            n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        } else if (strcmp(path, "/204") == 0) {
            n = snprintf(out, sizeof out, "HTTP/1.1 204 No Content\r\n\r\n");
        } else if (strcmp(path, "/304") == 0) {
            n = snprintf(out, sizeof out, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
        } else if (strcmp(path, "/slow") == 0) {
            sleep(3);
            n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow");
        } else if (strcmp(path, "/garbage") == 0) {
            n = snprintf(out, sizeof out, "HTTX/9 what\r\n\r\n");
        } else if (strcmp(path, "/close") == 0) {
            n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n%s", msg);
            sendall(fd, out, (size_t)n);
            break;
        } else {
            n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", mn, msg);
        }
        sendall(fd, out, (size_t)n);
    }
out:
    close(fd);
    free(bc);
    return NULL;
}

static void *serve(void *arg)
{
    struct backend *b = arg;
    for (int n = 1;; n++) {
        int c = accept(b->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        struct bconn *bc = calloc(1, sizeof *bc);
        bc->b = b;
        bc->fd = c;
        bc->n = n;
        pthread_mutex_lock(&b->mu);
        if (b->n_conns < MAX_CONNS && pthread_create(&b->conns[b->n_conns], NULL, serve_conn, bc) == 0)
            b->n_conns++;
        else {
            close(c);
            free(bc);
        }
        pthread_mutex_unlock(&b->mu);
    }
}

static void backend_start(struct backend *b, int id)
{
    memset(b, 0, sizeof *b);
    b->id = id;
    pthread_mutex_init(&b->mu, NULL);
    b->fd = listen_any(&b->port);
    pthread_create(&b->th, NULL, serve, b);
}

/* After the proxy is gone: its connections closed, the threads end. */
static void backend_stop(struct backend *b)
{
    shutdown(b->fd, SHUT_RDWR);
    close(b->fd);
    pthread_join(b->th, NULL);
    for (int i = 0; i < b->n_conns; i++)
        pthread_join(b->conns[i], NULL);
    pthread_mutex_destroy(&b->mu);
}

/* ---- clients ---- */

static int dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {8, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One response read from fd into out (head and body, chunked kept as
 * is); head_only for HEAD.  Its length, or -1. */
static int response(int fd, char *out, size_t cap, bool head_only)
{
    size_t have = 0;
    size_t hl = read_head(fd, out, cap - 1, &have);
    if (!hl)
        return -1;
    char v[64];
    header(out, hl, "Content-Length", v, sizeof v);
    size_t want = hl;
    int code = atoi(out + 9);
    if (head_only || code == 204 || code == 304 || code == 101 || (code >= 100 && code < 200)) {
        want = hl;
    } else if (v[0]) {
        want = hl + (size_t)atol(v);
    } else {
        header(out, hl, "Transfer-Encoding", v, sizeof v);
        if (strcmp(v, "chunked") == 0) {
            while (!memmem(out + hl, have - hl, "0\r\n\r\n", 5))
                if (read_more(fd, out, cap - 1, &have) < 0)
                    return -1;
            want = have;
        } else { /* until EOF */
            while (read_more(fd, out, cap - 1, &have) == 0)
                ;
            want = have;
        }
    }
    while (have < want)
        if (read_more(fd, out, cap - 1, &have) < 0)
            return -1;
    out[want] = '\0';
    return (int)want;
}

static int get(uint16_t port, const char *req, char *out, size_t cap)
{
    int fd = dial(port);
    out[0] = '\0';
    if (fd < 0)
        return -1;
    sendall(fd, req, strlen(req));
    int n = response(fd, out, cap, strncmp(req, "HEAD", 4) == 0);
    close(fd);
    return n;
}

/* Sends a raw request; true when the answer starts with status and then
 * the connection is closed. */
static bool refused(uint16_t port, const char *raw, const char *status)
{
    bool good;
    int fd = dial(port);
    char buf[4096];
    size_t have = 0;
    if (fd < 0)
        return false;
    sendall(fd, raw, strlen(raw));
    ssize_t r;
    while (have < sizeof buf - 1 && (r = recv(fd, buf + have, sizeof buf - 1 - have, 0)) > 0)
        have += (size_t)r;
    buf[have] = '\0';
    close(fd);
    good = strncmp(buf, status, strlen(status)) == 0 && strstr(buf, "Connection: close") &&
           strstr(buf, "</html>\n");
    if (!good)
        diag("  got (%zu bytes): %.300s", have, buf);
    return good;
}

/* ---- metrics ---- */

static char metrics[16384];
static uint64_t hist_total, hist_buckets;

static void put_metric(void *arg, const char *name, const char *help,
                       enum berth_metric_type type, double v, const struct berth_label *l,
                       size_t n)
{
    size_t len = strlen(metrics);
    (void)arg;
    (void)help;
    (void)type;
    len += (size_t)snprintf(metrics + len, sizeof metrics - len, "%s{", name);
    for (size_t i = 0; i < n && len < sizeof metrics; i++)
        len += (size_t)snprintf(metrics + len, sizeof metrics - len, "%s%s=\"%s\"",
                                i ? "," : "", l[i].name, l[i].value);
    if (len < sizeof metrics)
        snprintf(metrics + len, sizeof metrics - len, "} %g\n", v);
}

static void put_hist(void *arg, const char *name, const char *help, const double *bounds,
                     const uint64_t *counts, size_t n, double sum, uint64_t count,
                     const struct berth_label *l, size_t n_labels)
{
    (void)arg;
    (void)name;
    (void)help;
    (void)bounds;
    (void)sum;
    (void)l;
    (void)n_labels;
    hist_total += count;
    for (size_t i = 0; i <= n; i++)
        hist_buckets += counts[i];
}

/* ---- the proxy ---- */

static void publish(struct registry *r, struct backend *web, size_t n_web, struct backend *api,
                    uint16_t dead)
{
    struct reg_snapshot *s = reg_snapshot_new("c");
    struct reg_service *svc = reg_add_service(s, "web", "arn:svc/web", false);
    reg_add_lb(svc, "web", "", "app", 80);
    for (size_t i = 0; i < n_web; i++) {
        char id[40];
        snprintf(id, sizeof id, "web%zu", i);
        struct reg_task *t = reg_add_task(svc, id, id, "", REG_NET_BRIDGE, true, false, 0);
        reg_add_port(t, "app", "", 80, web[i].port, false);
    }
    svc = reg_add_service(s, "api", "arn:svc/api", false);
    reg_add_lb(svc, "api", "", "app", 80);
    struct reg_task *t = reg_add_task(svc, "api0", "api0", "", REG_NET_BRIDGE, true, false, 0);
    reg_add_port(t, "app", "", 80, api->port, false);
    svc = reg_add_service(s, "dead", "arn:svc/dead", false);
    reg_add_lb(svc, "dead", "", "app", 80);
    t = reg_add_task(svc, "dead0", "dead0", "", REG_NET_BRIDGE, true, false, 0);
    reg_add_port(t, "app", "", 80, dead, false);
    registry_publish(r, s);
}

static struct conf *conf_for(uint16_t port)
{
    char text[2048];
    struct conf *c = NULL;
    struct conf_errors e = {0};
    snprintf(text, sizeof text,
             "[lb]\nworkers = 1\n"
             "[listener front]\nlisten = 127.0.0.1:%u\nprotocol = http\n"
             "default-target-group = web\n"
             "rule = api.test / api\n"
             "rule = * /api/ api\n"
             "rule = * /none/ empty\n"
             "rule = * /dead/ dead\n"
             "header-timeout = 1s\nbackend-timeout = 1s\nmax-header-size = 4KiB\n"
             "[target-group web]\n[target-group api]\nderegistration-delay = 0s\n"
             "[target-group empty]\n"
             "[target-group dead]\nconnect-attempts = 2\n",
             port);
    if (conf_load_string(text, "t.conf", &c, &e) < 0)
        for (size_t i = 0; i < e.n; i++)
            diag("conf: %s", e.msg[i]);
    conf_errors_clear(&e);
    return c;
}

static int conn_of(const char *resp)
{
    const char *p = strstr(resp, "conn=");
    return p ? atoi(p + 5) : -1;
}

static void test_http(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct registry *reg = registry_new("c");
    struct backend web[3], api;
    char out[20000], req[12000];
    uint16_t port = free_port(), dead;
    /* Bound, never listening: connects are refused and no one else gets
     * the port meanwhile. */
    int dead_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in da = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t dl = sizeof da;
    bind(dead_fd, (struct sockaddr *)&da, sizeof da);
    getsockname(dead_fd, (struct sockaddr *)&da, &dl);
    dead = ntohs(da.sin_port);

    for (int i = 0; i < 3; i++)
        backend_start(&web[i], i);
    backend_start(&api, 7);
    publish(reg, web, 3, &api, dead);
    struct conf *c = conf_for(port);
    ok(c != NULL, "conf with an http listener and rules loads");
    if (!c)
        return;
    struct lb_env env = {.loop = loop, .reg = reg};
    char err[256];
    struct lb *lb = lb_new(&env, lb_conf_of(c), err, sizeof err);
    ok(lb != NULL, "lb starts (%s)", lb ? "" : err);
    if (!lb)
        return;

    /* Round robin over the three web targets, new connections. */
    int seen[3] = {0};
    for (int i = 0; i < 6; i++) {
        get(port, "GET /x HTTP/1.1\r\nHost: www.test\r\n\r\n", out, sizeof out);
        const char *b = strstr(out, "\r\n\r\nB");
        if (b && b[5] >= '0' && b[5] <= '2')
            seen[b[5] - '0']++;
    }
    ok(seen[0] == 2 && seen[1] == 2 && seen[2] == 2, "6 requests: 2 to each web target (%d %d %d)",
       seen[0], seen[1], seen[2]);

    /* Routing. */
    get(port, "GET /x HTTP/1.1\r\nHost: api.test\r\n\r\n", out, sizeof out);
    like(out, "\r\n\r\nB7 ", "Host api.test: the api group");
    get(port, "GET /x HTTP/1.1\r\nHost: API.Test:8080\r\n\r\n", out, sizeof out);
    like(out, "\r\n\r\nB7 ", "Host matched case-insensitively, without its port");
    get(port, "GET /api/v1?q=1 HTTP/1.1\r\nHost: www.test\r\n\r\n", out, sizeof out);
    like(out, "\r\n\r\nB7 ", "path prefix /api/: the api group");
    get(port, "GET /apix HTTP/1.1\r\nHost: www.test\r\n\r\n", out, sizeof out);
    ok(strstr(out, "\r\n\r\nB7 ") == NULL && strstr(out, "200 OK"), "/apix is not under /api/: web");
    get(port, "GET http://www.test/api/abs HTTP/1.1\r\nHost: www.test\r\n\r\n", out, sizeof out);
    like(out, "\r\n\r\nB7 ", "absolute-form target routed by its path");

    /* X-Forwarded-*: the client's address appended; proto and port set. */
    snprintf(req, sizeof req, "GET /h HTTP/1.1\r\nHost: api.test\r\nX-Forwarded-For: 10.1.2.3\r\n"
                              "X-Forwarded-Proto: https\r\nX-Forwarded-Port: 1\r\n\r\n");
    get(port, req, out, sizeof out);
    like(out, "xff=10.1.2.3, 127.0.0.1 ", "X-Forwarded-For appended");
    char want[64];
    snprintf(want, sizeof want, "xfp=http xfport=%u ", port);
    like(out, want, "X-Forwarded-Proto and -Port replaced");
    like(out, "host=api.test ", "Host passed on as it was");

    /* Keep-alive: one client connection, one backend connection. */
    int fd = dial(port), conns[5], same = 1;
    for (int i = 0; i < 5; i++) {
        const char *r = "GET /ka HTTP/1.1\r\nHost: api.test\r\n\r\n";
        sendall(fd, r, strlen(r));
        response(fd, out, sizeof out, false);
        conns[i] = conn_of(out);
        same &= conns[i] == conns[0] && conns[i] > 0;
    }
    ok(same, "5 requests on one client connection: one backend connection (%d..%d)", conns[0],
       conns[4]);
    close(fd);
    get(port, "GET /ka HTTP/1.1\r\nHost: api.test\r\n\r\n", out, sizeof out);
    ok(conn_of(out) == conns[0], "a new client connection takes the pooled one (%d)", conn_of(out));

    /* Pipelining: both answered, in order. */
    size_t have;
    fd = dial(port);
    const char *two = "GET /p1 HTTP/1.1\r\nHost: api.test\r\n\r\nGET /p2 HTTP/1.1\r\nHost: api.test\r\n\r\n";
    sendall(fd, two, strlen(two));
    have = 0;
    out[0] = '\0';
    /* both answers, maybe in one read: the second ends with "body=" */
    while (!(strstr(out, "path=/p2 ") && have >= 5 && memcmp(out + have - 5, "body=", 5) == 0) &&
           read_more(fd, out, 4000, &have) == 0)
        out[have] = '\0';
    char *p1 = strstr(out, "path=/p1 "), *p2 = strstr(out, "path=/p2 ");
    ok(p1 && p2 && p1 < p2, "pipelined: both answered, in order");
    ok(strstr(out, "HTTP/1.1 200") && strstr(strstr(out, "HTTP/1.1 200") + 1, "HTTP/1.1 200"),
       "pipelined: two responses");

    /* Bodies: chunked and Content-Length up; chunked down; HEAD, 204, 304
     * on the same connection, each framed right. */
    const char *chunked = "POST /echo HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\n\r\n";
    sendall(fd, chunked, strlen(chunked));
    response(fd, out, sizeof out, false);
    like(out, "body=abcdefg", "a chunked request body arrives whole");
    char big[9000];
    memset(big, 'z', 8000);
    big[8000] = '\0';
    snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: api.test\r\nContent-Length: 8000\r\n\r\n");
    sendall(fd, req, strlen(req));
    sendall(fd, big, 8000);
    response(fd, out, sizeof out, false);
    ok(strstr(out, "body=") && strlen(strstr(out, "body=") + 5) == 8000,
       "an 8000-byte body arrives whole");
    /* 300 KB: more than every buffer of the proxy, streamed through. */
    static char huge[300000];
    memset(huge, 'y', sizeof huge);
    snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: api.test\r\nContent-Length: %zu\r\n\r\n",
             sizeof huge);
    sendall(fd, req, strlen(req));
    sendall(fd, huge, sizeof huge);
    response(fd, out, sizeof out, false);
    like(out, "body=large:300000", "a 300 KB body streams through whole");
    const char *ch = "GET /chunked HTTP/1.1\r\nHost: api.test\r\n\r\n";
    sendall(fd, ch, strlen(ch));
    response(fd, out, sizeof out, false);
    like(out, "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n", "a chunked response relayed as is");
    const char *head = "HEAD /h HTTP/1.1\r\nHost: api.test\r\n\r\n";
    sendall(fd, head, strlen(head));
    int n = response(fd, out, sizeof out, true);
    ok(n > 0 && strstr(out, "Content-Length: 10") && strstr(out, "\r\n\r\n")[4] == '\0',
       "HEAD: the head alone");
    const char *s204 = "GET /204 HTTP/1.1\r\nHost: api.test\r\n\r\n";
    sendall(fd, s204, strlen(s204));
    response(fd, out, sizeof out, false);
    like(out, "HTTP/1.1 204", "204");
    const char *s304 = "GET /304 HTTP/1.1\r\nHost: api.test\r\n\r\n";
    sendall(fd, s304, strlen(s304));
    response(fd, out, sizeof out, false);
    like(out, "HTTP/1.1 304", "304 (with a Content-Length, still no body)");
    const char *after = "GET /after HTTP/1.1\r\nHost: api.test\r\n\r\n";
    sendall(fd, after, strlen(after));
    response(fd, out, sizeof out, false);
    like(out, "path=/after ", "the connection still frames right after HEAD, 204 and 304");
    ok(conn_of(out) == conns[0], "and all of it went over the pooled backend connection");
    close(fd);

    /* A close-delimited response: relayed to the end, then a close. */
    get(port, "GET /close HTTP/1.1\r\nHost: api.test\r\n\r\n", out, sizeof out);
    like(out, "path=/close ", "a close-delimited response relayed whole");

    /* Upgrade: 101, then bytes both ways. */
    fd = dial(port);
    const char *ws = "GET /ws HTTP/1.1\r\nHost: api.test\r\nConnection: Upgrade\r\n"
                     "Upgrade: websocket\r\n\r\nearly;";
    sendall(fd, ws, strlen(ws));
    have = 0;
    out[0] = '\0';
    while (!strstr(out, "B7-ws:early;") && have < 1000 && read_more(fd, out, 1000, &have) == 0)
        out[have] = '\0';
    like(out, "HTTP/1.1 101", "Upgrade: 101 relayed");
    like(out, "\r\n\r\nB7-ws:early;", "bytes sent before the 101 reach the target after it");
    sendall(fd, "ping", 4);
    have = 0;
    char wsb[64];
    while (have < 4 && recv(fd, wsb + have, 1, 0) == 1)
        have++;
    wsb[have] = '\0';
    is_str(wsb, "ping", "then bytes go both ways (lb_l4's pump)");
    close(fd);

    /* Smuggling and bad heads: 400, then the connection closes. */
    ok(refused(port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               "HTTP/1.1 400"), "Content-Length with Transfer-Encoding: 400");
    ok(refused(port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
               "HTTP/1.1 400"), "two different Content-Lengths: 400");
    ok(refused(port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
               "HTTP/1.1 400"), "the same Content-Length twice: 400");
    ok(refused(port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\nabcd", "HTTP/1.1 400"),
       "a Content-Length list: 400");
    ok(refused(port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\nabcd", "HTTP/1.1 400"),
       "a signed Content-Length: 400");
    ok(refused(port, "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", "HTTP/1.1 400"),
       "obsolete line folding: 400");
    ok(refused(port, "GET / HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n", "HTTP/1.1 400"),
       "a space in a header name: 400");
    ok(refused(port, "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "HTTP/1.1 400"),
       "a space before the colon: 400");
    ok(refused(port, "GET / HTTP/1.1\r\nHost: a\r\nX\x01Y: b\r\n\r\n", "HTTP/1.1 400"),
       "a control character in a header name: 400");
    ok(refused(port, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
               "HTTP/1.1 400"), "chunked not last in Transfer-Encoding: 400");
    ok(refused(port, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400"), "HTTP/1.1 without Host: 400");
    ok(refused(port, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400"), "two Hosts: 400");
    ok(refused(port, "GET / HTTP/1.1\nHost: a\n\n", "HTTP/1.1 400"), "bare LF line ends: 400");
    ok(refused(port, "GARBAGE\r\n\r\n", "HTTP/1.1 400"), "not HTTP: 400");
    memset(big, 'h', 5000);
    big[5000] = '\0';
    snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: %s\r\n\r\n", big);
    ok(refused(port, req, "HTTP/1.1 431"), "a head over max-header-size: 431");

    /* Errors of the proxy's own. */
    ok(refused(port, "GET /none/ HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 503"),
       "a group without targets: 503");
    ok(refused(port, "GET /dead/ HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 502"),
       "a target refusing connections: 502");
    ok(refused(port, "GET /garbage HTTP/1.1\r\nHost: api.test\r\n\r\n", "HTTP/1.1 502"),
       "a target answering garbage: 502");
    ok(refused(port, "GET /slow HTTP/1.1\r\nHost: api.test\r\n\r\n", "HTTP/1.1 504"),
       "a target silent past backend-timeout: 504");

    /* Slowloris: a partial head is cut at header-timeout (1s) while
     * others are served. */
    int slow = dial(port);
    sendall(slow, "GET / HTTP/1.1\r\nHo", 18);
    get(port, "GET /meanwhile HTTP/1.1\r\nHost: api.test\r\n\r\n", out, sizeof out);
    like(out, "path=/meanwhile ", "another client is served meanwhile");
    char one;
    ssize_t r = recv(slow, &one, 1, 0); /* blocks up to SO_RCVTIMEO (8 s) */
    ok(r == 0, "the partial head's connection is closed by the proxy (recv %zd)", r);
    close(slow);

    /* Draining with a 0s delay: the open tunnel to the target is closed
     * at the delay's end (the next sweep), new requests find no target. */
    fd = dial(port);
    sendall(fd, ws, strlen(ws));
    have = 0;
    out[0] = '\0';
    while (!strstr(out, "B7-ws:early;") && have < 1000 && read_more(fd, out, 1000, &have) == 0)
        out[have] = '\0';
    like(out, "B7-ws:early;", "a tunnel to the api target is open");
    ok(lb_drain_begin(lb, "api", "api0") == 0, "drain api0: a 0s delay");
    r = recv(fd, &one, 1, 0);
    ok(r == 0, "its open tunnel is closed at the delay's end (recv %zd)", r);
    close(fd);
    ok(refused(port, "GET /x HTTP/1.1\r\nHost: api.test\r\n\r\n", "HTTP/1.1 503"),
       "the group's only target drained: 503");

    /* The figures, summed over the workers. */
    struct lb_metric_sink sink = {.put = put_metric, .histogram = put_hist};
    lb_metrics(lb, &sink);
    like(metrics, "berth_lb_requests_total{listener=\"front\",target_group=\"web\",code_class=\"2xx\"} 7\n",
         "requests: web 2xx (6 + /apix)");
    like(metrics, "berth_lb_requests_total{listener=\"front\",target_group=\"\",code_class=\"4xx\"} 15\n",
         "requests: 15 refused before routing (400s, 431)");
    like(metrics, "berth_lb_requests_total{listener=\"front\",target_group=\"empty\",code_class=\"5xx\"} 1\n",
         "requests: the 503 of the empty group");
    like(metrics, "berth_lb_requests_total{listener=\"front\",target_group=\"dead\",code_class=\"5xx\"} 1\n",
         "requests: the 502 of the dead group");
    like(metrics, "berth_lb_requests_total{listener=\"front\",target_group=\"api\",code_class=\"1xx\"} 2\n",
         "requests: the two 101s");
    like(metrics, "berth_lb_connections_total{listener=\"front\"} ", "connections counted");
    like(metrics, "berth_lb_targets{target_group=\"api\",state=\"draining\"} 1\n",
         "targets: api's one draining");
    like(metrics, "berth_lb_targets{target_group=\"web\",state=\"initial\"} 3\n",
         "targets: web's three initial (no check passed yet)");
    ok(hist_total > 40 && hist_total == hist_buckets, "durations: %llu, as many in the buckets",
       (unsigned long long)hist_total);

    lb_free(lb);
    conf_free(c);
    for (int i = 0; i < 3; i++)
        backend_stop(&web[i]);
    backend_stop(&api);
    close(dead_fd);
    registry_free(reg);
    ev_loop_destroy(loop);
}

/* Slow start: a target a quarter into its ramp gets about a quarter of
 * a full target's share (round robin), less than a full one otherwise. */
static void test_slow_start(void)
{
    struct lb_worker *w = calloc(1, sizeof *w);
    struct lb_view *v = lb_view_new();
    struct lb_tg tc = {.name = (char *)"g", .connect_attempts = 1};
    struct lb_addr a, b;

    w->loop = ev_loop_new(EVFLAG_AUTO);
    w->rng = 12345;
    w->view = v;
    w->rr = calloc(1, sizeof *w->rr);
    struct lb_vtg *g = lb_view_add_tg(v, &tc);
    lb_addr_set(&a, "10.0.0.1", 80);
    lb_addr_set(&b, "10.0.0.2", 80);
    lb_vtg_add_target(g, &a, LB_T_HEALTHY);
    struct lb_target *t = lb_vtg_add_target(g, &b, LB_T_HEALTHY);
    t->ramp_len = 100.;
    t->ramp_start = ev_now(w->loop) - 25.;
    lb_view_finish(v);
    const uint64_t kb = lb_addr_key(&b);
    int ramping = 0;
    for (int i = 0; i < 10000; i++)
        ramping += lb_pick(w, 0, NULL, 0)->key == kb;
    ok(ramping > 1200 && ramping < 2800, "round robin: 25%% into its ramp, %d of 10000 (~2000)",
       ramping);
    v->tgs[0].targets[1].ramp_start = ev_now(w->loop) - 200.;
    ramping = 0;
    for (int i = 0; i < 10000; i++)
        ramping += lb_pick(w, 0, NULL, 0)->key == kb;
    ok(ramping == 5000, "after the ramp: an even share (%d)", ramping);
    v->tgs[0].targets[1].ramp_start = ev_now(w->loop) - 25.;
    v->tgs[0].algorithm = LB_ALGO_RANDOM_TWO;
    ramping = 0;
    for (int i = 0; i < 10000; i++)
        ramping += lb_pick(w, 0, NULL, 0)->key == kb;
    ok(ramping < 4000, "random-two: the ramping target gets less (%d)", ramping);
    lb_view_release(v);
    free(w->rr);
    ev_loop_destroy(w->loop);
    free(w);
}

int main(void)
{
    lb_conf_register();
    test_slow_start();
    test_http();
    return done_testing();
}
