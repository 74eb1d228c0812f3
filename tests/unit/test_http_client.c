/* test_http_client.c: the libcurl-on-libev HTTP client against a real server
 * (tests/lib/httpd.py) over TCP and a unix socket. */
#include "config.h"

#include "agent/http_client.h"
#include "tests/lib/tap.h"
#include "tests/lib/evloop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct http_client *hc;
static pid_t server_pid;
static char tmpdir[] = "/tmp/berth-http-XXXXXX";
static char sock_path[PATH_MAX], port_file[PATH_MAX];
static int port;

static int in_request; /* set around http_client_request() */
static int sync_calls; /* callbacks that ran inside it: must stay 0 */
static int total_done; /* on_done calls, all requests */

/* What one request saw, and what its callbacks should do to others. */
struct result {
    struct http_xfer *xfer;
    int done, chunks;
    long status, data_status;
    int error;
    char *msg, *body, *x_test, *x_method;
    size_t body_len;
    bool body_null;
    char *streamed;
    size_t streamed_len;
    unsigned ticks_at_start, ticks_at_done;

    bool cancel_self_in_data;
    struct result *cancel_in_data;  /* cancel it from on_data */
    struct result *spawn_in_data;   /* start GET /hello into it from on_data */
    struct result *cancel_in_done;  /* cancel it from on_done if not done */
    int callbacks_after_cancel;
    bool cancelled;
};

/* ------------------------------------------------------------------ */
/* The server                                                         */

static const char *srcdir(void)
{
    const char *d = getenv("top_srcdir");
    return d && *d ? d : ".";
}

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    unlink(port_file);
    unlink(sock_path);
    rmdir(tmpdir);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static bool start_server(void)
{
    char script[PATH_MAX];

    if (!mkdtemp(tmpdir)) {
        diag("mkdtemp: %s", strerror(errno));
        return false;
    }
    snprintf(sock_path, sizeof(sock_path), "%s/httpd.sock", tmpdir);
    snprintf(port_file, sizeof(port_file), "%s/port", tmpdir);
    snprintf(script, sizeof(script), "%s/tests/lib/httpd.py", srcdir());
    atexit(stop_server);

    server_pid = fork();
    if (server_pid < 0)
        return false;
    if (server_pid == 0) {
        execlp("python3", "python3", script, "--tcp", "127.0.0.1:0", "--unix",
               sock_path, "--port-file", port_file, (char *)NULL);
        fprintf(stderr, "cannot run python3 %s: %s\n", script, strerror(errno));
        _exit(127);
    }
    /* Waiting here blocks nothing: the loop has not started yet. */
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            int ok_ = fscanf(f, "%d", &port) == 1;
            fclose(f);
            if (ok_ && port > 0)
                return true;
        }
        if (waitpid(server_pid, NULL, WNOHANG) == server_pid) {
            server_pid = 0;
            diag("%s exited before listening", script);
            return false;
        }
        sleep_ms(20);
    }
    diag("%s did not write %s in 20 s", script, port_file);
    return false;
}

/* ------------------------------------------------------------------ */
/* Callbacks and helpers                                              */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void result_clear(struct result *r)
{
    free(r->msg);
    free(r->body);
    free(r->x_test);
    free(r->x_method);
    free(r->streamed);
    memset(r, 0, sizeof(*r));
}

static struct http_xfer *start(struct result *r, const char *method,
                               const char *path, bool unix_sock,
                               const char *body, uint64_t timeout_ms,
                               bool stream);

static void cancel(struct result *r)
{
    r->cancelled = true;
    http_client_cancel(r->xfer);
}

static void on_data(void *arg, long status, const char *data, size_t len)
{
    struct result *r = arg;

    if (in_request)
        sync_calls++;
    if (r->cancelled)
        r->callbacks_after_cancel++;
    r->chunks++;
    r->data_status = status;
    r->streamed = realloc(r->streamed, r->streamed_len + len + 1);
    memcpy(r->streamed + r->streamed_len, data, len);
    r->streamed_len += len;
    r->streamed[r->streamed_len] = '\0';

    if (r->cancel_self_in_data) {
        r->cancel_self_in_data = false;
        cancel(r);
    }
    if (r->cancel_in_data) {
        cancel(r->cancel_in_data);
        r->cancel_in_data = NULL;
    }
    if (r->spawn_in_data) {
        start(r->spawn_in_data, NULL, "/hello", false, NULL, 0, false);
        r->spawn_in_data = NULL;
    }
}

static void on_done(void *arg, const struct berth_http_response *res)
{
    struct result *r = arg;

    if (in_request)
        sync_calls++;
    if (r->cancelled)
        r->callbacks_after_cancel++;
    total_done++;
    r->done++;
    r->ticks_at_done = ticks;
    r->status = res->status;
    r->error = res->error;
    r->msg = dup_or_null(res->error_msg);
    r->body_null = res->body == NULL;
    if (res->body) {
        r->body = malloc(res->body_len + 1);
        memcpy(r->body, res->body, res->body_len + 1); /* NUL included */
        r->body_len = res->body_len;
    }
    r->x_test = dup_or_null(http_response_header(res, "x-test"));
    r->x_method = dup_or_null(http_response_header(res, "X-METHOD"));

    if (r->cancel_in_done && !r->cancel_in_done->done)
        cancel(r->cancel_in_done);
}

static struct http_xfer *request(struct result *r,
                                 const struct berth_http_request *req)
{
    r->ticks_at_start = ticks;
    in_request = 1;
    r->xfer = http_client_request(hc, req, on_data, on_done, r);
    in_request = 0;
    return r->xfer;
}

static char *url_for(const char *path, bool unix_sock)
{
    static char url[8][256];
    static int i;
    char *u = url[i++ % 8];

    if (unix_sock)
        snprintf(u, 256, "http://localhost%s", path);
    else
        snprintf(u, 256, "http://127.0.0.1:%d%s", port, path);
    return u;
}

static struct http_xfer *start(struct result *r, const char *method,
                               const char *path, bool unix_sock,
                               const char *body, uint64_t timeout_ms,
                               bool stream)
{
    struct berth_http_request req = {
        .struct_size = sizeof(req),
        .method = method,
        .url = url_for(path, unix_sock),
        .unix_socket = unix_sock ? sock_path : NULL,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = timeout_ms,
        .stream = stream,
    };
    return request(r, &req);
}

/* Runs the loop until a plain GET completes: whatever the loop had to do
 * for earlier requests has had its chance by then. */
static void run_sentinel(const char *path)
{
    struct result s = { 0 };

    start(&s, NULL, path, false, NULL, 0, false);
    run_until(&s.done, 1);
    result_clear(&s);
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */

static void test_header_lookup(void)
{
    const char *hdrs[] = { "Content-Type:   text/plain", "X-Empty:",
                           "X-Two: 2", "x-two: again", NULL };
    struct berth_http_response res = { .headers = hdrs };

    is_str(http_response_header(&res, "content-type"), "text/plain",
           "header lookup ignores case and skips leading spaces");
    is_str(http_response_header(&res, "X-Empty"), "", "empty header value");
    is_str(http_response_header(&res, "x-two"), "2", "first match wins");
    ok(http_response_header(&res, "X-Tw") == NULL, "no prefix matches");
    ok(http_response_header(&res, "Missing") == NULL, "missing header: NULL");
    res.headers = NULL;
    ok(http_response_header(&res, "X-Two") == NULL, "no headers: NULL");
}

static void test_invalid(void)
{
    struct result r = { 0 };
    struct berth_http_request req = { .struct_size = sizeof(req),
                                      .url = url_for("/hello", false) };
    struct berth_http_request bad;

    ok(http_client_request(hc, NULL, NULL, on_done, &r) == NULL,
       "NULL request refused");
    bad = req;
    bad.url = NULL;
    ok(request(&r, &bad) == NULL, "request without url refused");
    bad = req;
    bad.struct_size = 0;
    ok(request(&r, &bad) == NULL, "struct_size 0 refused");
    bad = req;
    bad.struct_size = sizeof(req) + 8;
    ok(request(&r, &bad) == NULL, "struct_size larger than ours refused");
    bad = req;
    bad.stream = 1;
    ok(http_client_request(hc, &bad, NULL, on_done, &r) == NULL,
       "stream without on_data refused");
    bad = req;
    bad.body_len = 3;
    ok(request(&r, &bad) == NULL, "body_len without body refused");
    ok(http_client_active(hc) == 0, "nothing started");
    ok(r.done == 0, "no callback for refused requests");
}

static void test_get(bool unix_sock)
{
    struct result r = { 0 };
    const char *via = unix_sock ? "unix socket" : "TCP";

    ok(start(&r, NULL, "/hello", unix_sock, NULL, 0, false) != NULL,
       "GET /hello over %s started", via);
    ok(http_client_active(hc) == 1, "one transfer active");
    ok(r.done == 0, "on_done not called from http_client_request");
    run_until(&r.done, 1);
    ok(r.done == 1 && r.error == 0, "GET over %s completed (%s)", via,
       r.msg ? r.msg : "no error");
    ok(r.status == 200, "status 200 (got %ld)", r.status);
    is_str(r.body, "hello\n", "buffered body over %s", via);
    ok(r.body_len == 6, "body_len 6");
    is_str(r.x_test, "yes", "response header X-Test found case-insensitively");
    ok(http_client_active(hc) == 0, "no transfer active after on_done");
    result_clear(&r);
}

static void test_methods(void)
{
    struct result r = { 0 };

    start(&r, NULL, "/echo", false, "{\"ping\": 1}", 0, false);
    run_until(&r.done, 1);
    ok(r.status == 200 && r.error == 0, "POST /echo: 200");
    is_str(r.body, "{\"ping\": 1}", "POST body echoed");
    is_str(r.x_method, "POST", "method NULL with a body is POST");
    result_clear(&r);

    start(&r, "PUT", "/echo", true, "put-body", 0, false);
    run_until(&r.done, 1);
    is_str(r.x_method, "PUT", "custom method PUT over unix socket");
    is_str(r.body, "put-body", "PUT body echoed");
    result_clear(&r);

    start(&r, "DELETE", "/echo", false, NULL, 0, false);
    run_until(&r.done, 1);
    is_str(r.x_method, "DELETE", "custom method DELETE");
    result_clear(&r);

    start(&r, "POST", "/echo", false, NULL, 0, false);
    run_until(&r.done, 1);
    ok(r.status == 200 && r.body_len == 0, "POST without a body");
    result_clear(&r);

    start(&r, "HEAD", "/hello", false, NULL, 0, false);
    run_until(&r.done, 1);
    ok(r.done == 1 && r.error == 0 && r.status == 200, "HEAD completes (%s)",
       r.msg ? r.msg : "no error");
    ok(r.body_len == 0 && r.body && !*r.body, "HEAD: empty body");
    is_str(r.x_test, "yes", "HEAD: headers present");
    result_clear(&r);

    /* Request headers reach the server; a body gets no made-up type. */
    const char *hdrs[] = { "X-Berth: 42", "Accept: application/json", NULL };
    struct berth_http_request req = { .struct_size = sizeof(req),
                                      .method = "GET",
                                      .url = url_for("/headers", false),
                                      .headers = hdrs };
    request(&r, &req);
    run_until(&r.done, 1);
    like(r.body, "X-Berth: 42", "request header sent");
    like(r.body, "Accept: application/json", "second request header sent");
    result_clear(&r);

    req.method = "POST";
    req.body = "{}";
    req.body_len = 2;
    request(&r, &req);
    run_until(&r.done, 1);
    ok(r.body && !strstr(r.body, "x-www-form-urlencoded"),
       "POST without Content-Type is not labelled a form");
    result_clear(&r);
}

static void test_status(void)
{
    struct result r = { 0 };

    start(&r, NULL, "/status/404", false, NULL, 0, false);
    run_until(&r.done, 1);
    ok(r.error == 0, "404 is not a transport error");
    ok(r.status == 404, "status 404 passed through (got %ld)", r.status);
    result_clear(&r);

    start(&r, NULL, "/status/503", true, NULL, 0, false);
    run_until(&r.done, 1);
    ok(r.error == 0 && r.status == 503, "503 over unix socket passed through");
    result_clear(&r);
}

static void test_stream(void)
{
    struct result r = { 0 };

    start(&r, NULL, "/stream", false, NULL, 0, true);
    run_until(&r.done, 1);
    ok(r.done == 1 && r.error == 0, "stream completed");
    ok(r.chunks > 1, "several chunks before on_done (got %d)", r.chunks);
    ok(r.data_status == 200, "on_data knows the status");
    is_str(r.streamed, "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n",
           "streamed content intact");
    ok(r.body_null, "streamed response has no buffered body");
    result_clear(&r);
}

static void test_big(void)
{
    struct result r = { 0 };
    size_t bad = 0;

    start(&r, NULL, "/big", true, NULL, 0, false);
    run_until(&r.done, 1);
    ok(r.error == 0 && r.status == 200, "GET /big: 200");
    ok(r.body_len == 1 << 20, "1 MiB received (got %zu)", r.body_len);
    for (size_t i = 0; r.body && i < r.body_len; i++)
        bad += (unsigned char)r.body[i] != i % 251;
    ok(r.body && bad == 0, "1 MiB body intact (%zu bytes differ)", bad);
    ok(r.body && r.body[r.body_len] == '\0', "buffered body NUL-terminated");
    result_clear(&r);
}

static void test_timeout(void)
{
    struct result r = { 0 };

    start(&r, NULL, "/slow", false, NULL, 300, false);
    run_until(&r.done, 1);
    ok(r.done == 1 && r.error != 0, "slow request failed");
    like(r.msg, "timeout", "message says timeout");
    like(r.msg, "/slow", "message names the URL");
    ok(r.ticks_at_done - r.ticks_at_start >= 2,
       "the loop kept running during the transfer (%u ticks)",
       r.ticks_at_done - r.ticks_at_start);
    result_clear(&r);
}

static void test_connect_errors(void)
{
    struct result r = { 0 };
    char missing[PATH_MAX + 16];
    struct berth_http_request req = { .struct_size = sizeof(req),
                                      .url = "http://localhost/info" };

    snprintf(missing, sizeof(missing), "%s/missing.sock", tmpdir);
    req.unix_socket = missing;
    request(&r, &req);
    ok(r.done == 0, "connect failure not reported synchronously");
    run_until(&r.done, 1);
    ok(r.error != 0 && r.status == 0, "missing unix socket: error, status 0");
    like(r.msg, missing, "message names the socket path");
    like(r.msg, "connect to unix socket", "message says what failed");
    diag("%s", r.msg ? r.msg : "(null)");
    result_clear(&r);

    /* A port nobody listens on. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sin);
    char url[64];
    bind(fd, (struct sockaddr *)&sin, sizeof(sin));
    getsockname(fd, (struct sockaddr *)&sin, &len);
    close(fd);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ntohs(sin.sin_port));
    req.unix_socket = NULL;
    req.url = url;
    request(&r, &req);
    run_until(&r.done, 1);
    ok(r.error != 0, "refused TCP connection is an error");
    like(r.msg, url, "message names the URL");
    result_clear(&r);

    req.url = "ftp://127.0.0.1/x";
    request(&r, &req);
    run_until(&r.done, 1);
    ok(r.error != 0, "non-HTTP URL is an error");
    like(r.msg, "ftp://127.0.0.1/x", "message names it");
    result_clear(&r);

    /* curl refuses a URL this long at setup: reported on the next loop
     * iteration, not from inside http_client_request(). */
    size_t n = 8u << 20;
    char *huge = malloc(n + 32);
    strcpy(huge, "http://127.0.0.1/");
    memset(huge + 17, 'a', n);
    huge[17 + n] = '\0';
    req.url = huge;
    ok(request(&r, &req) != NULL, "request with an oversized URL accepted");
    ok(r.done == 0, "setup failure not reported synchronously");
    run_until(&r.done, 1);
    ok(r.done == 1 && r.error != 0, "setup failure reported through on_done");
    ok(r.msg && strstr(r.msg, "curl_easy_setopt"), "message says what failed");
    free(huge);
    result_clear(&r);
}

static void test_cancel(void)
{
    struct result a = { 0 }, b = { 0 }, c = { 0 };

    /* Before it reached curl. */
    start(&a, NULL, "/hello", false, NULL, 0, false);
    cancel(&a);
    ok(http_client_active(hc) == 0, "cancelled pending request not active");
    run_sentinel("/hello");
    ok(a.done == 0, "no on_done after cancelling a pending request");
    result_clear(&a);

    /* In flight. */
    start(&a, NULL, "/slow", true, NULL, 0, false);
    run_ticks(5);
    ok(http_client_active(hc) == 1, "slow request in flight");
    cancel(&a);
    ok(http_client_active(hc) == 0, "cancelled request not active");
    run_sentinel("/hello");
    ok(a.done == 0, "no on_done after cancelling a running request");
    result_clear(&a);

    /* From inside its own on_data: the rest of the stream never arrives.
     * The sentinel stream takes as long as the cancelled one would have. */
    start(&a, NULL, "/stream", false, NULL, 0, true);
    a.cancel_self_in_data = true;
    start(&b, NULL, "/stream", false, NULL, 0, true);
    run_until(&b.done, 1);
    run_sentinel("/hello");
    ok(a.chunks == 1 && a.done == 0, "cancel inside on_data: %d chunk(s), "
       "%d on_done", a.chunks, a.done);
    ok(a.callbacks_after_cancel == 0, "no callback after cancel in on_data");
    ok(b.done == 1 && b.chunks > 1, "the other stream went on");
    result_clear(&a);
    result_clear(&b);

    /* on_data cancels another transfer and starts a new one. */
    start(&b, NULL, "/slow", false, NULL, 0, false);
    start(&a, NULL, "/stream", true, NULL, 0, true);
    a.cancel_in_data = &b;
    a.spawn_in_data = &c;
    run_until(&a.done, 1);
    run_until(&c.done, 1);
    run_sentinel("/hello");
    ok(a.done == 1 && a.error == 0, "stream finished after cancelling another");
    ok(b.done == 0 && b.callbacks_after_cancel == 0,
       "transfer cancelled from another's on_data never called back");
    ok(c.done == 1 && c.status == 200, "request started inside on_data done");
    result_clear(&a);
    result_clear(&b);
    result_clear(&c);

    /* on_done cancels others, some perhaps finished in the same batch. */
    enum { PAIRS = 20 };
    static struct result p[2 * PAIRS];
    int after = 0, finished_first = 0;
    for (int i = 0; i < PAIRS; i++) {
        start(&p[2 * i], NULL, "/hello", i % 2, NULL, 0, false);
        start(&p[2 * i + 1], NULL, i % 3 ? "/hello" : "/slow", i % 2, NULL, 0,
              false);
        p[2 * i].cancel_in_done = &p[2 * i + 1];
    }
    for (int i = 0; i < PAIRS; i++)
        run_until(&p[2 * i].done, 1);
    run_sentinel("/hello");
    for (int i = 0; i < 2 * PAIRS; i++) {
        after += p[i].callbacks_after_cancel;
        finished_first += i % 2 && p[i].done;
    }
    ok(after == 0, "no callback after cancel from on_done (%d of %d others "
       "had finished first)", finished_first, PAIRS);
    ok(http_client_active(hc) == 0, "nothing left running");
    for (int i = 0; i < 2 * PAIRS; i++)
        result_clear(&p[i]);
}

static void test_concurrent(void)
{
    enum { N = 50 };
    static struct result r[N];
    int good = 0;

    total_done = 0;
    for (int i = 0; i < N; i++)
        start(&r[i], NULL, "/hello", i % 2, NULL, 0, false);
    ok(http_client_active(hc) == N, "%d transfers active", N);
    run_until(&total_done, N);
    for (int i = 0; i < N; i++) {
        bool fine = r[i].done == 1 && r[i].status == 200 && r[i].body &&
                    strcmp(r[i].body, "hello\n") == 0;
        if (!fine)
            diag("request %d: done %d, status %ld, %s", i, r[i].done,
                 r[i].status, r[i].msg ? r[i].msg : "no error");
        good += fine;
    }
    ok(good == N, "%d concurrent requests all completed (%d good)", N, good);
    ok(http_client_active(hc) == 0, "none active afterwards");
    for (int i = 0; i < N; i++)
        result_clear(&r[i]);
}

/* An older caller's struct: fields past its struct_size are not read. */
static void test_small_struct(void)
{
    struct result r = { 0 };
    struct berth_http_request req = {
        .struct_size = offsetof(struct berth_http_request, body),
        .url = url_for("/echo", false),
        .body = "ignored",  /* past struct_size: absent */
        .body_len = 7,
        .timeout_ms = 1,
        .stream = 1,
    };

    ok(http_client_request(hc, &req, NULL, on_done, &r) != NULL,
       "smaller struct_size accepted");
    run_until(&r.done, 1);
    ok(r.error == 0 && r.status == 200, "old-size request completed (%s)",
       r.msg ? r.msg : "no error");
    is_str(r.x_method, "GET", "fields past struct_size ignored (no body: GET)");
    ok(!r.body_null && r.body_len == 0, "not streamed: stream was absent");
    result_clear(&r);
}

static void test_free_pending(void)
{
    struct http_client *saved = hc;
    static struct result r[6];
    int calls = 0;

    hc = http_client_new(loop);
    start(&r[0], NULL, "/slow", false, NULL, 0, false);
    start(&r[1], NULL, "/slow", true, NULL, 0, false);
    start(&r[2], NULL, "/stream", false, NULL, 0, true);
    start(&r[3], "POST", "/echo", true, "x", 0, false);
    run_ticks(3);
    start(&r[4], NULL, "/hello", false, NULL, 0, false); /* still pending */
    ok(http_client_active(hc) >= 2, "transfers pending at free (%u)",
       http_client_active(hc));
    for (int i = 0; i < 6; i++)
        calls += r[i].done;
    http_client_free(hc);
    hc = saved;
    run_ticks(20);
    run_sentinel("/hello");
    int after = 0;
    for (int i = 0; i < 6; i++)
        after += r[i].done;
    ok(after == calls, "no callback after http_client_free");
    for (int i = 0; i < 6; i++)
        result_clear(&r[i]);
}

int main(void)
{
    ev_timer tick;

    signal(SIGPIPE, SIG_IGN);
    if (!start_server()) {
        ok(0, "start tests/lib/httpd.py");
        return done_testing();
    }
    ok(1, "httpd.py listening on 127.0.0.1:%d and %s", port, sock_path);

    loop = ev_default_loop(0);
    hc = http_client_new(loop);
    ok(hc != NULL, "http_client_new");
    ev_timer_init(&tick, on_tick, 0.01, 0.01);
    ev_timer_start(loop, &tick);

    test_header_lookup();
    test_invalid();
    test_get(false);
    test_get(true);
    test_methods();
    test_status();
    test_stream();
    test_big();
    test_timeout();
    test_connect_errors();
    test_cancel();
    test_concurrent();
    test_small_struct();
    test_free_pending();

    ok(sync_calls == 0, "no callback ever ran inside http_client_request "
       "(%d did)", sync_calls);
    ev_timer_stop(loop, &tick);
    http_client_free(hc);
    ev_loop_destroy(loop);
    stop_server();
    return done_testing();
}
