/* test_http_server.c: the API's HTTP server over real sockets: framing,
 * pipelining, split reads, limits, timeouts, late replies, listeners. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "agent/api/http_server.h"
#include "agent/log.h"
#include "tests/lib/evloop.h"

static char tmpdir[] = "/tmp/test_http.XXXXXX";
static char sock_path[256];
static struct http_server *srv;

/* The handler: echoes "METHOD TARGET BODYLEN BODY"; target "/later" is kept
 * for the test to answer; "/close" answers 200 without keep-alive. */
static struct http_exchange *held[8];
static int n_held, n_requests;

static void
handler(void *arg, struct http_exchange *x, struct http_request *req)
{
    char body[4096];
    int n;

    n_requests++;
    if (strncmp(req->target, "/later", 6) == 0) {
        held[n_held++] = x;
        return;
    }
    n = snprintf(body, sizeof(body), "%s %s %zu %s", req->method, req->target,
                 req->body_len, req->body);
    struct http_header h = {(char *)"X-Test", (char *)"1"};
    http_reply(x, 200, &h, 1, body, (size_t)n);
}

static void
answer_held(int i, const char *text)
{
    http_reply(held[i], 200, NULL, 0, text, strlen(text));
    held[i] = NULL;
}

static int
connect_unix(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    strcpy(sun.sun_path, sock_path);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs the loop and reads fd until want occurrences of needle arrived, EOF,
 * or secs passed.  Returns the bytes read (NUL-terminated in buf); *eof set
 * when the server closed. */
static size_t
pump(int fd, char *buf, size_t cap, const char *needle, int want, double secs, int *eof)
{
    size_t len = 0;
    double end = now_s() + secs;

    *eof = 0;
    buf[0] = '\0';
    while (now_s() < end) {
        ev_run(loop, EVRUN_NOWAIT);
        ssize_t n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
        if (n > 0) {
            len += (size_t)n;
            buf[len] = '\0';
        } else if (n == 0) {
            *eof = 1;
            break;
        } else {
            usleep(1000);
        }
        if (needle) {
            int count = 0;
            for (const char *p = buf; (p = strstr(p, needle)); p += strlen(needle))
                count++;
            if (count >= want)
                break;
        }
    }
    return len;
}

static void
run_for(double secs)
{
    double end = now_s() + secs;
    while (now_s() < end) {
        ev_run(loop, EVRUN_NOWAIT);
        usleep(1000);
    }
}

static void
send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static struct http_limits
limits(void)
{
    struct http_limits l = {.max_header = 2048, .max_body = 4096,
                            .header_timeout = 5, .idle_timeout = 5,
                            .max_connections = 16};
    return l;
}

static const char *REQ = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";

static void
test_basic(void)
{
    char buf[8192];
    int eof, fd = connect_unix();

    ok(fd >= 0, "connects to the unix socket");
    send_all(fd, REQ);
    pump(fd, buf, sizeof(buf), "GET /a", 1, 2, &eof);
    like(buf, "HTTP/1.1 200 OK\r\n", "a request gets 200");
    like(buf, "X-Test: 1\r\n", "with the handler's header");
    like(buf, "Content-Length: 9\r\n", "and a Content-Length");
    ok(!strstr(buf, "Connection: close"), "HTTP/1.1 keeps the connection");

    send_all(fd, "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    pump(fd, buf, sizeof(buf), "hello", 1, 2, &eof);
    like(buf, "POST /b 5 hello", "a second request on the same connection, with a body");

    send_all(fd, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    pump(fd, buf, sizeof(buf), "abcde", 1, 2, &eof);
    like(buf, "POST /c 5 abcde", "a chunked body is joined");
    close(fd);

    fd = connect_unix();
    send_all(fd, "GET /old HTTP/1.0\r\n\r\n");
    pump(fd, buf, sizeof(buf), NULL, 0, 2, &eof);
    like(buf, "Connection: close", "HTTP/1.0 without keep-alive: Connection: close");
    ok(eof, "and the server closes");
    close(fd);

    fd = connect_unix();
    send_all(fd, "POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                 "Content-Length: 2\r\n\r\n");
    pump(fd, buf, sizeof(buf), "100 Continue", 1, 2, &eof);
    like(buf, "HTTP/1.1 100 Continue\r\n\r\n", "Expect: 100-continue gets 100 Continue");
    send_all(fd, "hi");
    pump(fd, buf, sizeof(buf), "POST /e", 1, 2, &eof);
    like(buf, "POST /e 2 hi", "then the request is served");
    close(fd);
}

static void
test_pipelining(void)
{
    char buf[8192];
    int eof, fd = connect_unix();

    n_held = 0;
    /* The first is answered late: the others must wait behind it. */
    send_all(fd, "GET /later1 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /p2 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /p3 HTTP/1.1\r\nHost: x\r\n\r\n");
    pump(fd, buf, sizeof(buf), "HTTP/1.1", 1, 0.3, &eof);
    ok(n_held == 1 && buf[0] == '\0',
       "pipelined requests wait while the first is unanswered (held=%d)", n_held);
    answer_held(0, "first");
    pump(fd, buf, sizeof(buf), "HTTP/1.1 200", 3, 2, &eof);
    char *a = strstr(buf, "first"), *b = strstr(buf, "GET /p2"), *c = strstr(buf, "GET /p3");
    ok(a && b && c && a < b && b < c, "three replies, in request order");
    close(fd);
}

static void
test_split(void)
{
    char buf[8192];
    const char *req = "POST /split HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz";
    int eof, fd = connect_unix();

    for (const char *p = req; *p; p++) {
        char one[2] = {*p, 0};
        send_all(fd, one);
        ev_run(loop, EVRUN_NOWAIT);
    }
    pump(fd, buf, sizeof(buf), "xyz", 1, 2, &eof);
    like(buf, "POST /split 3 xyz", "a request sent one byte at a time is parsed whole");
    close(fd);
}

static void
test_limits(void)
{
    char buf[16384], big[4096];
    int eof, fd;

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fd = connect_unix();
    send_all(fd, "GET / HTTP/1.1\r\nX-Big: ");
    send_all(fd, big);
    send_all(fd, "\r\n\r\n");
    pump(fd, buf, sizeof(buf), NULL, 0, 2, &eof);
    like(buf, "HTTP/1.1 431 Request Header Fields Too Large", "headers over the limit: 431");
    like(buf, "Connection: close", "with Connection: close");
    ok(eof, "and the connection is closed");
    close(fd);

    fd = connect_unix();
    send_all(fd, "POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
    pump(fd, buf, sizeof(buf), NULL, 0, 2, &eof);
    like(buf, "HTTP/1.1 413 ", "a Content-Length over max-body: 413");
    like(buf, "larger than the limit", "with a message");
    ok(eof, "and close");
    close(fd);

    fd = connect_unix();
    send_all(fd, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        send_all(fd, "800\r\n");
        char chunk[2049];
        memset(chunk, 'b', 2048);
        chunk[2048] = 0;
        send_all(fd, chunk);
        send_all(fd, "\r\n");
    }
    pump(fd, buf, sizeof(buf), NULL, 0, 2, &eof);
    like(buf, "HTTP/1.1 413 ", "a chunked body growing over max-body: 413");
    close(fd);

    fd = connect_unix();
    send_all(fd, "GARBAGE\r\n\r\n");
    pump(fd, buf, sizeof(buf), NULL, 0, 2, &eof);
    like(buf, "HTTP/1.1 400 Bad Request", "a parse error: 400");
    like(buf, "Connection: close", "with Connection: close");
    ok(eof, "and close");
    close(fd);
}

static void
test_timeouts(void)
{
    struct http_limits l = limits();
    char buf[8192];
    int eof = 0, fd;
    double t0;

    l.header_timeout = 0.3;
    l.idle_timeout = 0.5;
    http_server_set_limits(srv, &l);

    fd = connect_unix();
    t0 = now_s();
    send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n");
    /* Slowloris: a byte now and then must not keep the request alive. */
    for (int i = 0; i < 6 && !eof; i++) {
        send_all(fd, "X");
        pump(fd, buf, sizeof(buf), "408", 1, 0.1, &eof);
        if (strstr(buf, "408"))
            break;
    }
    if (!strstr(buf, "408"))
        pump(fd, buf, sizeof(buf), "408", 1, 1, &eof);
    like(buf, "HTTP/1.1 408 Request Timeout", "headers dripping past header-timeout: 408");
    ok(now_s() - t0 < 1.0, "within the header timeout, not reset by each byte (%.2fs)",
       now_s() - t0);
    pump(fd, buf, sizeof(buf), NULL, 0, 1, &eof);
    ok(eof, "then the connection is closed");
    close(fd);

    fd = connect_unix();
    send_all(fd, REQ);
    pump(fd, buf, sizeof(buf), "GET /a", 1, 1, &eof);
    t0 = now_s();
    pump(fd, buf, sizeof(buf), NULL, 0, 2, &eof);
    ok(eof && buf[0] == '\0', "an idle keep-alive connection is closed silently");
    ok(now_s() - t0 > 0.3 && now_s() - t0 < 1.5, "after idle-timeout (%.2fs)", now_s() - t0);
    close(fd);

    l = limits();
    http_server_set_limits(srv, &l);
}

static void
test_max_connections(void)
{
    struct http_limits l = limits();
    char buf[4096];
    int eof, fds[3];

    l.max_connections = 2;
    http_server_set_limits(srv, &l);
    run_for(0.05);
    for (int i = 0; i < 3; i++)
        fds[i] = connect_unix();
    pump(fds[2], buf, sizeof(buf), NULL, 0, 1, &eof);
    like(buf, "HTTP/1.1 503 Service Unavailable", "a connection over max-connections: 503");
    ok(eof, "and closed");
    send_all(fds[0], REQ);
    pump(fds[0], buf, sizeof(buf), "GET /a", 1, 1, &eof);
    like(buf, "200 OK", "the others are served");
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    run_for(0.05);
    ok(http_server_connections(srv) == 0, "closed connections are counted out (%u)",
       http_server_connections(srv));
    l = limits();
    http_server_set_limits(srv, &l);
}

static void
test_late_reply(void)
{
    char buf[4096];
    int eof, fd = connect_unix();

    n_held = 0;
    send_all(fd, "GET /later2 HTTP/1.1\r\nHost: x\r\n\r\n");
    pump(fd, buf, sizeof(buf), NULL, 0, 0.1, &eof);
    ok(n_held == 1, "the request is held by the handler");
    close(fd);
    run_for(0.1);
    answer_held(0, "too late");
    run_for(0.1);
    ok(http_server_connections(srv) == 0,
       "a late reply to a client that left is dropped and the connection freed");

    /* A half-close still gets its reply. */
    fd = connect_unix();
    n_held = 0;
    send_all(fd, "GET /later3 HTTP/1.1\r\nHost: x\r\n\r\n");
    shutdown(fd, SHUT_WR);
    pump(fd, buf, sizeof(buf), NULL, 0, 0.1, &eof);
    answer_held(0, "after half-close");
    pump(fd, buf, sizeof(buf), NULL, 0, 1, &eof);
    like(buf, "after half-close", "a client that half-closed still gets its reply");
    ok(eof, "then the server closes");
    close(fd);

    /* Held when the server goes away: the exchange stays valid. */
    fd = connect_unix();
    n_held = 0;
    send_all(fd, "GET /later4 HTTP/1.1\r\nHost: x\r\n\r\n");
    pump(fd, buf, sizeof(buf), NULL, 0, 0.1, &eof);
    close(fd);
}

static void
test_listeners(void)
{
    char err[512], path[300], buf[4096];
    struct http_listener *l;
    struct stat st = {0};
    int fd, eof;

    /* A stale socket (bound, nobody listening) is replaced. */
    snprintf(path, sizeof(path), "%s/stale.sock", tmpdir);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ok(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0, "a stale socket file exists");
    close(fd);
    l = http_listen_unix(srv, path, 0600, (gid_t)-1, err, sizeof(err));
    ok(l != NULL, "a stale socket file is replaced (%s)", l ? "ok" : err);
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "with the mode asked (%o)",
       st.st_mode & 0777);
    ok(l && http_listener_chmod(l, 0640, (gid_t)-1, err, sizeof(err)) == 0 &&
           stat(path, &st) == 0 && (st.st_mode & 0777) == 0640,
       "the mode changes in place");

    /* A live one is not. */
    struct http_listener *l2 = http_listen_unix(srv, path, 0600, (gid_t)-1, err, sizeof(err));
    ok(l2 == NULL, "a socket something answers on is refused");
    like(err, "another process answers on it", "naming why");

    if (l)
        http_listener_close(l);
    ok(stat(path, &st) < 0 && errno == ENOENT, "closing the listener removes its file");

    snprintf(path, sizeof(path), "%s/plain", tmpdir);
    fclose(fopen(path, "w"));
    ok(http_listen_unix(srv, path, 0600, (gid_t)-1, err, sizeof(err)) == NULL,
       "a file that is not a socket is refused");
    like(err, "is not a socket", "naming why");
    ok(stat(path, &st) == 0, "and left alone");

    /* TCP. */
    l = http_listen_tcp(srv, "127.0.0.1:0", err, sizeof(err));
    ok(l && http_listener_port(l) > 0, "TCP on 127.0.0.1:0 gets a port");
    if (l) {
        struct sockaddr_in sin = {.sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)http_listener_port(l))};
        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        connect(fd, (struct sockaddr *)&sin, sizeof(sin));
        send_all(fd, REQ);
        pump(fd, buf, sizeof(buf), "GET /a", 1, 2, &eof);
        like(buf, "200 OK", "and serves requests");
        close(fd);
        http_listener_close(l);
    }
    l = http_listen_tcp(srv, "[::1]:0", err, sizeof(err));
    if (l) {
        ok(http_listener_port(l) > 0, "TCP on [::1]:0");
        http_listener_close(l);
    } else {
        ok(strstr(err, "cannot listen") != NULL, "[::1] refused only by the system: %s", err);
    }
    ok(http_listen_tcp(srv, "localhost:80", err, sizeof(err)) == NULL,
       "a host name is refused (no lookups)");
    like(err, "names are not looked up", "saying so");
    ok(http_listen_tcp(srv, "127.0.0.1", err, sizeof(err)) == NULL, "no port: refused");
}

int
main(void)
{
    char err[512];
    struct http_limits l = limits();
    struct http_listener *main_l;

    log_setup(LOG_TARGET_STDERR, BERTH_LOG_ERROR);
    loop = ev_default_loop(0);
    if (!mkdtemp(tmpdir))
        abort();
    snprintf(sock_path, sizeof(sock_path), "%s/api.sock", tmpdir);
    srv = http_server_new(loop, &l, handler, NULL);
    main_l = http_listen_unix(srv, sock_path, 0660, (gid_t)-1, err, sizeof(err));
    if (!ok(main_l != NULL, "listens on a unix socket"))
        diag("%s", err);

    test_basic();
    test_pipelining();
    test_split();
    test_limits();
    test_timeouts();
    test_max_connections();
    test_late_reply();
    test_listeners();

    http_server_free(srv); /* with /later4 still held */
    ok(access(sock_path, F_OK) < 0, "freeing the server removes the socket file");
    ok(n_held == 1, "one exchange outlives the server");
    answer_held(0, "after the server"); /* dropped, freed */
    ok(1, "answering it after the server is gone is safe");

    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpdir);
    ev_loop_destroy(loop);
    return done_testing();
}
