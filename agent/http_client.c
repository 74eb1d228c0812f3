/* http_client.c: asynchronous HTTP, libcurl's multi interface on libev. */
#include "config.h"

#include "agent/http_client.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 10000

/* Where a transfer is in its life.  User callbacks may run while curl is
 * inside curl_multi_socket_action(), where curl refuses to add or remove
 * handles, so starts are always deferred (PENDING, kicked from the loop) and
 * cancels made there leave a ZOMBIE that is removed once curl returns. */
enum xfer_state {
    XFER_PENDING, /* created, not yet handed to curl */
    XFER_RUNNING, /* in the multi handle */
    XFER_ZOMBIE,  /* cancelled while curl was busy; reaped afterwards */
    XFER_DONE,    /* on_done is running; freed when it returns */
};

struct xfer_list {
    struct http_xfer *head, *tail;
    unsigned n;
};

struct http_xfer {
    struct http_client *hc;
    struct http_xfer *prev, *next;
    struct xfer_list *list; /* the list it is on, NULL in XFER_DONE */
    enum xfer_state state;

    CURL *easy;
    struct curl_slist *req_headers;
    berth_http_data_cb on_data;
    berth_http_done_cb on_done;
    void *arg;
    int stream;

    /* For error messages. */
    char *method;
    char *url;
    char *unix_socket;
    const char *fail; /* our own reason, when curl's is not the story */

    char *body; /* buffered response, kept NUL-terminated */
    size_t body_len, body_cap;
    char **hdrs; /* headers of the last response, NULL-terminated */
    size_t n_hdrs, hdrs_cap;

    char errbuf[CURL_ERROR_SIZE];
};

/* One ev_io per socket curl asks us to watch. */
struct sock_watch {
    ev_io io;
    struct http_client *hc;
    struct sock_watch *prev, *next;
};

struct http_client {
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer timer; /* curl's own timeout */
    ev_timer kick;  /* starts pending transfers on the next iteration */
    struct xfer_list pending, running, zombies;
    struct sock_watch *socks;
    unsigned in_curl; /* inside curl_multi_socket_action() */
};

static const char *const no_headers[] = { NULL };

/* ------------------------------------------------------------------ */
/* Lists                                                              */

static void list_push(struct xfer_list *l, struct http_xfer *x)
{
    x->list = l;
    x->next = NULL;
    x->prev = l->tail;
    if (l->tail)
        l->tail->next = x;
    else
        l->head = x;
    l->tail = x;
    l->n++;
}

static void list_unlink(struct http_xfer *x)
{
    struct xfer_list *l = x->list;

    if (!l)
        return;
    if (x->prev)
        x->prev->next = x->next;
    else
        l->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        l->tail = x->prev;
    l->n--;
    x->list = NULL;
    x->prev = x->next = NULL;
}

static void list_move(struct xfer_list *to, struct http_xfer *x)
{
    list_unlink(x);
    list_push(to, x);
}

/* ------------------------------------------------------------------ */
/* Transfers                                                          */

static void clear_headers(struct http_xfer *x)
{
    for (size_t i = 0; i < x->n_hdrs; i++)
        free(x->hdrs[i]);
    x->n_hdrs = 0;
    if (x->hdrs)
        x->hdrs[0] = NULL;
}

/* The caller has already taken x out of curl's multi handle. */
static void xfer_free(struct http_xfer *x)
{
    list_unlink(x);
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->req_headers);
    clear_headers(x);
    free(x->hdrs);
    free(x->body);
    free(x->method);
    free(x->url);
    free(x->unix_socket);
    free(x);
}

static bool buf_append(struct http_xfer *x, const char *p, size_t len)
{
    if (x->body_len + len + 1 > x->body_cap) {
        size_t cap = x->body_cap ? x->body_cap : 4096;
        while (cap < x->body_len + len + 1)
            cap *= 2;
        char *nb = realloc(x->body, cap);
        if (!nb)
            return false;
        x->body = nb;
        x->body_cap = cap;
    }
    memcpy(x->body + x->body_len, p, len);
    x->body_len += len;
    x->body[x->body_len] = '\0';
    return true;
}

static bool header_add(struct http_xfer *x, const char *p, size_t len)
{
    /* An obsolete folded line continues the previous header. */
    if ((p[0] == ' ' || p[0] == '\t') && x->n_hdrs > 0) {
        char *prev = x->hdrs[x->n_hdrs - 1];
        size_t plen = strlen(prev);
        while (len > 0 && (*p == ' ' || *p == '\t'))
            p++, len--;
        char *joined = realloc(prev, plen + 1 + len + 1);
        if (!joined)
            return false;
        joined[plen] = ' ';
        memcpy(joined + plen + 1, p, len);
        joined[plen + 1 + len] = '\0';
        x->hdrs[x->n_hdrs - 1] = joined;
        return true;
    }
    if (x->n_hdrs + 2 > x->hdrs_cap) {
        size_t cap = x->hdrs_cap ? x->hdrs_cap * 2 : 16;
        char **nh = realloc(x->hdrs, cap * sizeof(*nh));
        if (!nh)
            return false;
        x->hdrs = nh;
        x->hdrs_cap = cap;
    }
    char *h = strndup(p, len);
    if (!h)
        return false;
    x->hdrs[x->n_hdrs++] = h;
    x->hdrs[x->n_hdrs] = NULL;
    return true;
}

static size_t on_curl_header(char *p, size_t size, size_t n, void *userp)
{
    struct http_xfer *x = userp;
    size_t total = size * n, len = total;

    if (x->state != XFER_RUNNING)
        return 0;
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    if (len == 0)
        return total; /* the blank line ending a header block */
    /* A new status line: an interim (100) or redirect response came
     * first, and only the last response's headers count. */
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        clear_headers(x);
        return total;
    }
    if (!header_add(x, p, len)) {
        x->fail = "out of memory storing response headers";
        return 0;
    }
    return total;
}

static size_t on_curl_write(char *p, size_t size, size_t n, void *userp)
{
    struct http_xfer *x = userp;
    size_t len = size * n;

    if (x->state != XFER_RUNNING)
        return 0; /* cancelled: make curl abort it */
    if (!x->stream) {
        if (!buf_append(x, p, len)) {
            x->fail = "out of memory buffering the response body";
            return 0;
        }
        return len;
    }
    if (len > 0) {
        long status = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        x->on_data(x->arg, status, p, len);
    }
    /* on_data may have cancelled this very transfer: x is still allocated
     * (a zombie until curl returns), and 0 stops curl writing to it. */
    return x->state == XFER_RUNNING ? len : 0;
}

static char *describe_error(const struct http_xfer *x, CURLcode rc)
{
    const char *why = x->fail;
    char *msg = NULL;
    int r;

    if (!why)
        why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
    if (!x->fail && rc == CURLE_COULDNT_CONNECT && x->unix_socket) {
        long oserr = 0;
        curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
        r = asprintf(&msg,
                     "%s %s: connect to unix socket %s failed: %s%s%s%s",
                     x->method, x->url, x->unix_socket,
                     curl_easy_strerror(rc), oserr ? " (" : "",
                     oserr ? strerror((int)oserr) : "", oserr ? ")" : "");
    } else if (!x->fail && rc == CURLE_OPERATION_TIMEDOUT) {
        r = asprintf(&msg, "%s %s%s%s: timeout: %s", x->method, x->url,
                     x->unix_socket ? " via unix socket " : "",
                     x->unix_socket ? x->unix_socket : "", why);
    } else {
        r = asprintf(&msg, "%s %s%s%s failed: %s", x->method, x->url,
                     x->unix_socket ? " via unix socket " : "",
                     x->unix_socket ? x->unix_socket : "", why);
    }
    return r < 0 ? NULL : msg;
}

/* Deliver the result and free x.  x is already out of curl and off every
 * list, so whatever on_done does (start, cancel) cannot reach it. */
static void xfer_finish(struct http_xfer *x, CURLcode rc, bool failed)
{
    struct berth_http_response res = { 0 };
    char *msg = NULL;

    list_unlink(x);
    x->state = XFER_DONE;
    if (x->easy)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.status);
    if (failed) {
        res.error = 1;
        msg = describe_error(x, rc);
        res.error_msg = msg ? msg : "HTTP request failed (out of memory)";
    }
    if (!x->stream) {
        res.body = x->body ? x->body : "";
        res.body_len = x->body_len;
    }
    res.headers = x->n_hdrs ? (const char *const *)x->hdrs : no_headers;
    if (x->on_done)
        x->on_done(x->arg, &res);
    free(msg);
    xfer_free(x);
}

/* ------------------------------------------------------------------ */
/* Driving curl                                                       */

static void reap_zombies(struct http_client *hc)
{
    struct http_xfer *x;

    while ((x = hc->zombies.head)) {
        curl_multi_remove_handle(hc->multi, x->easy);
        xfer_free(x);
    }
}

static void check_done(struct http_client *hc)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(hc->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURLcode rc = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        struct http_xfer *x = (struct http_xfer *)priv;
        /* Removing the handle also drops any message of its own still
         * queued, so handles an on_done cancels never show up here. */
        curl_multi_remove_handle(hc->multi, m->easy_handle);
        if (x->state != XFER_RUNNING) {
            xfer_free(x);
            continue;
        }
        xfer_finish(x, rc, rc != CURLE_OK || x->fail);
    }
}

static void socket_action(struct http_client *hc, curl_socket_t fd, int ev)
{
    int running;

    hc->in_curl++;
    curl_multi_socket_action(hc->multi, fd, ev, &running);
    hc->in_curl--;
    reap_zombies(hc);
    check_done(hc);
}

static void on_sock_ready(struct ev_loop *loop, ev_io *w, int revents)
{
    struct sock_watch *sw = (struct sock_watch *)w;
    int ev = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
             (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);

    /* sw may be freed inside; only its client is used afterwards. */
    socket_action(sw->hc, w->fd, ev);
}

static void sock_watch_free(struct http_client *hc, struct sock_watch *sw)
{
    ev_io_stop(hc->loop, &sw->io);
    if (sw->prev)
        sw->prev->next = sw->next;
    else
        hc->socks = sw->next;
    if (sw->next)
        sw->next->prev = sw->prev;
    free(sw);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                          void *socketp)
{
    struct http_client *hc = userp;
    struct sock_watch *sw = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (sw)
            sock_watch_free(hc, sw);
        return 0;
    }
    if (!sw) {
        sw = calloc(1, sizeof(*sw));
        if (!sw)
            return -1; /* curl fails the transfer */
        sw->hc = hc;
        sw->next = hc->socks;
        if (hc->socks)
            hc->socks->prev = sw;
        hc->socks = sw;
        ev_init(&sw->io, on_sock_ready);
        curl_multi_assign(hc->multi, fd, sw);
    }
    int events = (what & CURL_POLL_IN ? EV_READ : 0) |
                 (what & CURL_POLL_OUT ? EV_WRITE : 0);
    ev_io_stop(hc->loop, &sw->io);
    if (events) {
        ev_io_set(&sw->io, fd, events);
        ev_io_start(hc->loop, &sw->io);
    }
    return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_client *hc = userp;

    ev_timer_stop(hc->loop, &hc->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&hc->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(hc->loop, &hc->timer);
    }
    return 0;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct http_client *hc = w->data;

    socket_action(hc, CURL_SOCKET_TIMEOUT, 0);
}

/* Hand pending transfers to curl, or report why they could not start.
 * Only those queued before this round are handled, so an on_done that keeps
 * starting failing requests cannot hold the loop. */
static void on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct http_client *hc = w->data;
    unsigned n = hc->pending.n;
    struct http_xfer *x;

    while (n-- > 0 && (x = hc->pending.head)) {
        if (!x->fail) {
            CURLMcode mc = curl_multi_add_handle(hc->multi, x->easy);
            if (mc == CURLM_OK) {
                x->state = XFER_RUNNING;
                list_move(&hc->running, x);
                continue;
            }
            x->fail = curl_multi_strerror(mc);
        }
        xfer_finish(x, CURLE_OK, true);
    }
}

/* ------------------------------------------------------------------ */
/* Setting up a request                                               */

static bool has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);

    for (; headers && *headers; headers++)
        if (strncasecmp(*headers, name, n) == 0 && (*headers)[n] == ':')
            return true;
    return false;
}

static bool is_method(const char *m, const char *want)
{
    return m && strcmp(m, want) == 0;
}

static long clamp_ms(uint64_t ms)
{
    return ms > LONG_MAX ? LONG_MAX : (long)ms;
}

/* Each setter returns true when curl refused an option.  SET() keeps them
 * short; e and bad are the setter's locals. */
#define SET(opt, val) (bad |= curl_easy_setopt(e, opt, val) != CURLE_OK)

static bool set_method(CURL *e, const struct berth_http_request *req,
                       bool sends_body)
{
    const char *m = req->method;
    bool bad = false;

    if (is_method(m, "HEAD")) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (sends_body) {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SET(CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
        if (m && !is_method(m, "POST"))
            SET(CURLOPT_CUSTOMREQUEST, m);
    } else if (!m || is_method(m, "GET")) {
        SET(CURLOPT_HTTPGET, 1L);
    } else {
        SET(CURLOPT_CUSTOMREQUEST, m);
    }
    return bad;
}

static bool add_header(struct http_xfer *x, const char *h)
{
    struct curl_slist *l = curl_slist_append(x->req_headers, h);

    if (l)
        x->req_headers = l;
    return l != NULL;
}

/* Returns NULL, or why the transfer cannot start (reported later). */
static const char *xfer_setup(struct http_xfer *x,
                              const struct berth_http_request *req)
{
    CURL *e = x->easy = curl_easy_init();
    bool bad = false;

    if (!e)
        return "curl_easy_init failed";

    SET(CURLOPT_PRIVATE, (char *)x);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_HEADERFUNCTION, on_curl_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_WRITEFUNCTION, on_curl_write);
    SET(CURLOPT_WRITEDATA, x);
    if (req->unix_socket)
        SET(CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
    else /* long event streams sit idle: notice a dead peer */
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS,
        clamp_ms(req->connect_timeout_ms ? req->connect_timeout_ms
                                         : DEFAULT_CONNECT_TIMEOUT_MS));
    if (req->timeout_ms)
        SET(CURLOPT_TIMEOUT_MS, clamp_ms(req->timeout_ms));

    bool sends_body = req->body || is_method(req->method, "POST") ||
                      is_method(req->method, "PUT") ||
                      is_method(req->method, "PATCH");
    bad |= set_method(e, req, sends_body);

    for (const char *const *h = req->headers; h && *h; h++)
        if (!add_header(x, *h))
            return "out of memory copying request headers";
    /* curl would label a body form-urlencoded, which engine APIs reject for
     * JSON: without the caller's own Content-Type, send none. */
    if (sends_body && !has_header(req->headers, "Content-Type") &&
        !add_header(x, "Content-Type:"))
        return "out of memory copying request headers";
    if (x->req_headers)
        SET(CURLOPT_HTTPHEADER, x->req_headers);

    return bad ? "cannot set up the transfer (curl_easy_setopt failed)" : NULL;
}

#undef SET

/* Copies what the caller's struct holds (fields past its struct_size are
 * absent, i.e. zero) into *out; false when the request is unusable. */
static bool request_copy(const struct berth_http_request *req,
                         struct berth_http_request *out)
{
    const size_t min = offsetof(struct berth_http_request, url) +
                       sizeof(req->url);

    memset(out, 0, sizeof(*out));
    if (!req || req->struct_size < min || req->struct_size > sizeof(*out))
        return false;
    memcpy(out, req, req->struct_size);
    if (!out->url)
        return false;
    if (out->body_len && !out->body)
        return false;
    return true;
}

struct http_xfer *http_client_request(struct http_client *hc,
                                      const struct berth_http_request *req,
                                      berth_http_data_cb on_data,
                                      berth_http_done_cb on_done, void *arg)
{
    struct berth_http_request r;

    if (!hc || !request_copy(req, &r) || (r.stream && !on_data))
        return NULL;

    struct http_xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->hc = hc;
    x->state = XFER_PENDING;
    x->on_data = on_data;
    x->on_done = on_done;
    x->arg = arg;
    x->stream = r.stream ? 1 : 0;
    x->method = strdup(r.method ? r.method : r.body ? "POST" : "GET");
    x->url = strdup(r.url);
    x->unix_socket = r.unix_socket ? strdup(r.unix_socket) : NULL;
    if (!x->method || !x->url || (r.unix_socket && !x->unix_socket)) {
        xfer_free(x);
        return NULL;
    }
    x->fail = xfer_setup(x, &r);
    list_push(&hc->pending, x);
    if (!ev_is_active(&hc->kick))
        ev_timer_start(hc->loop, &hc->kick);
    return x;
}

void http_client_cancel(struct http_xfer *x)
{
    if (!x)
        return;
    switch (x->state) {
    case XFER_PENDING:
        xfer_free(x);
        break;
    case XFER_RUNNING:
        if (x->hc->in_curl) {
            x->state = XFER_ZOMBIE;
            list_move(&x->hc->zombies, x);
        } else {
            curl_multi_remove_handle(x->hc->multi, x->easy);
            xfer_free(x);
        }
        break;
    case XFER_ZOMBIE:
    case XFER_DONE:
        break; /* already going; freed by whoever holds it */
    }
}

unsigned http_client_active(const struct http_client *hc)
{
    return hc ? hc->pending.n + hc->running.n : 0;
}

const char *http_response_header(const struct berth_http_response *res,
                                 const char *name)
{
    if (!res || !res->headers || !name)
        return NULL;

    size_t n = strlen(name);
    for (const char *const *h = res->headers; *h; h++) {
        if (strncasecmp(*h, name, n) != 0 || (*h)[n] != ':')
            continue;
        const char *v = *h + n + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        return v;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The client                                                         */

struct http_client *http_client_new(struct ev_loop *loop)
{
    struct http_client *hc = calloc(1, sizeof(*hc));

    if (!hc)
        return NULL;
    /* Reference-counted by libcurl: paired with the cleanup in free. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(hc);
        return NULL;
    }
    hc->loop = loop;
    hc->multi = curl_multi_init();
    if (!hc->multi) {
        curl_global_cleanup();
        free(hc);
        return NULL;
    }
    curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
    curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
    ev_timer_init(&hc->timer, on_timer, 0., 0.);
    hc->timer.data = hc;
    ev_timer_init(&hc->kick, on_kick, 0., 0.);
    hc->kick.data = hc;
    return hc;
}

void http_client_free(struct http_client *hc)
{
    struct http_xfer *x;

    if (!hc)
        return;
    while ((x = hc->pending.head))
        xfer_free(x);
    while ((x = hc->running.head)) {
        curl_multi_remove_handle(hc->multi, x->easy);
        xfer_free(x);
    }
    reap_zombies(hc);
    /* Closes cached connections, telling on_curl_socket to drop them. */
    curl_multi_cleanup(hc->multi);
    while (hc->socks)
        sock_watch_free(hc, hc->socks);
    ev_timer_stop(hc->loop, &hc->timer);
    ev_timer_stop(hc->loop, &hc->kick);
    free(hc);
    curl_global_cleanup();
}
