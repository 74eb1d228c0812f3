#include "config.h"

/* prometheus.c: a metrics sink that serves the agent's series for
 * Prometheus to scrape (text format 0.0.4, prom_text.h).
 *
 * Each export (write) renders the snapshot once into a reference-counted
 * page; a scrape gets the latest page.  The endpoint is a small HTTP/1.x
 * server on the host loop: non-blocking accept, read and write through the
 * host's fd watchers, one request per connection ("Connection: close").  A
 * client that is slow or never reads holds only its own connection and a
 * reference to one page: it is dropped after io-timeout, and connections
 * past max-connections are refused at once, so neither the agent nor other
 * sinks ever wait on it. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <berth/plugin.h>

#include "prom_text.h"

struct prom_config {
    const char *address;
    int64_t port;
    const char *path;
    uint64_t io_timeout_ms;
    int64_t max_connections;
};

/* One rendered exposition, shared by the connections sending it. */
struct page {
    unsigned refs;
    size_t len;
    char *body;
};

struct prom;

struct conn {
    struct prom *p;
    int fd;
    berth_watch *w;
    berth_timer *deadline;
    char req[8192];
    size_t req_len;
    char head[512];
    size_t head_len, head_off;
    struct page *page; /* the body being sent, or NULL */
    size_t body_off;
    int head_only;      /* HEAD */
    struct conn *next;
};

struct prom {
    berth_ctx *ctx;
    const struct berth_host *host;
    const struct prom_config *cfg;
    int lfd;
    berth_watch *lw;
    struct page *page;
    struct page *pending; /* write()'s samples, until write_histograms() */
    struct conn *conns;
    unsigned n_conns;
    double scrapes, refused, timeouts, skipped;
};

static const struct berth_option prom_options[] = {
    {"address", BERTH_OPT_STRING, "127.0.0.1", offsetof(struct prom_config, address),
     "IP address the endpoint listens on", 0},
    {"port", BERTH_OPT_INT, "9779", offsetof(struct prom_config, port),
     "TCP port of the endpoint (1-65535)", 0},
    {"path", BERTH_OPT_STRING, "/metrics", offsetof(struct prom_config, path),
     "URL path that serves the metrics", 0},
    {"io-timeout", BERTH_OPT_DURATION, "10s", offsetof(struct prom_config, io_timeout_ms),
     "how long one scrape connection may take, from accept to the last byte", 0},
    {"max-connections", BERTH_OPT_INT, "64", offsetof(struct prom_config, max_connections),
     "open scrape connections at most; more are closed at once", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static void
page_unref(struct page *pg)
{
    if (pg && --pg->refs == 0) {
        free(pg->body);
        free(pg);
    }
}

/* ---- connections ---- */

static void
conn_close(struct conn *c)
{
    struct prom *p = c->p;

    for (struct conn **pp = &p->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    p->n_conns--;
    if (c->w)
        p->host->fd_unwatch(p->ctx, c->w);
    if (c->deadline)
        p->host->timer_stop(p->ctx, c->deadline);
    close(c->fd);
    page_unref(c->page);
    free(c);
}

static void
on_deadline(void *arg)
{
    struct conn *c = arg;

    c->deadline = NULL; /* a fired one-shot timer is released by the host */
    c->p->timeouts++;
    conn_close(c);
}

static void
respond(struct conn *c, int status, const char *reason, const char *ctype,
        struct page *pg, const char *text)
{
    size_t body_len = pg ? pg->len : strlen(text);

    c->head_len = (size_t)snprintf(c->head, sizeof(c->head),
                                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                   status, reason, ctype, body_len,
                                   pg || c->head_only ? "" : text);
    if (c->head_len >= sizeof(c->head))
        c->head_len = sizeof(c->head) - 1;
    if (pg && !c->head_only) {
        c->page = pg;
        pg->refs++;
    }
    c->p->host->fd_watch_set(c->p->ctx, c->w, BERTH_FD_WRITE);
}

/* The request line and headers are in; answer them. */
static void
handle(struct conn *c)
{
    struct prom *p = c->p;
    char method[16], target[1024];
    const char *txt = "text/plain; charset=utf-8";

    if (sscanf(c->req, "%15s %1023s HTTP/1.", method, target) != 2) {
        respond(c, 400, "Bad Request", txt, NULL, "bad request line\n");
        return;
    }
    c->head_only = strcmp(method, "HEAD") == 0;
    if (strcmp(method, "GET") != 0 && !c->head_only) {
        respond(c, 405, "Method Not Allowed", txt, NULL, "only GET and HEAD\n");
        return;
    }
    size_t plen = strcspn(target, "?");
    if (strlen(p->cfg->path) != plen || strncmp(target, p->cfg->path, plen) != 0) {
        respond(c, 404, "Not Found", txt, NULL, "not found: the metrics are at the "
                                                "configured path\n");
        return;
    }
    p->scrapes++;
    respond(c, 200, "OK", PROM_CONTENT_TYPE, p->page, "");
}

static void
on_conn(void *arg, int fd, int revents)
{
    struct conn *c = arg;
    (void)fd;

    if (revents & BERTH_FD_READ) {
        ssize_t n = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            conn_close(c);
            return;
        }
        if (n < 0)
            return;
        c->req_len += (size_t)n;
        c->req[c->req_len] = '\0';
        if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
            handle(c);
        else if (c->req_len == sizeof(c->req) - 1)
            respond(c, 431, "Request Header Fields Too Large", "text/plain", NULL,
                    "request too large\n");
        return;
    }
    if (revents & BERTH_FD_WRITE) {
        while (c->head_off < c->head_len) {
            ssize_t n = write(c->fd, c->head + c->head_off, c->head_len - c->head_off);
            if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                    conn_close(c);
                return;
            }
            c->head_off += (size_t)n;
        }
        while (c->page && c->body_off < c->page->len) {
            ssize_t n = write(c->fd, c->page->body + c->body_off, c->page->len - c->body_off);
            if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                    conn_close(c);
                return;
            }
            c->body_off += (size_t)n;
        }
        shutdown(c->fd, SHUT_WR);
        conn_close(c);
    }
}

static void
on_accept(void *arg, int fd, int revents)
{
    struct prom *p = arg;
    (void)revents;

    for (int i = 0; i < 16; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0)
            return;
        if ((int64_t)p->n_conns >= p->cfg->max_connections) {
            p->refused++;
            close(cfd);
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            close(cfd);
            continue;
        }
        c->p = p;
        c->fd = cfd;
        c->next = p->conns;
        p->conns = c;
        p->n_conns++;
        c->w = p->host->fd_watch(p->ctx, cfd, BERTH_FD_READ, on_conn, c);
        c->deadline = p->host->timer_start(p->ctx, p->cfg->io_timeout_ms, 0, on_deadline, c);
        if (!c->w || !c->deadline)
            conn_close(c);
    }
}

/* ---- the sink ---- */

static void
own_metric(struct prom *p, const char *name, const char *help, double v)
{
    struct berth_metric m = {.name = name, .help = help, .type = BERTH_METRIC_COUNTER,
                             .value = v};
    p->host->metric(p->ctx, &m);
}

static void
publish(struct prom *p, struct page *pg)
{
    page_unref(p->page);
    p->page = pg;
    /* Recorded now, seen in the next export. */
    own_metric(p, "berth_prometheus_scrapes_total", "Scrapes served.", p->scrapes);
    own_metric(p, "berth_prometheus_refused_total",
               "Scrape connections refused past max-connections.", p->refused);
    own_metric(p, "berth_prometheus_timeouts_total",
               "Scrape connections closed at io-timeout.", p->timeouts);
    own_metric(p, "berth_prometheus_skipped_samples_total",
               "Samples the text format cannot carry, left out.", p->skipped);
}

static void
prom_write(void *state, const struct berth_metric *metrics, size_t n)
{
    struct prom *p = state;
    struct page *pg = calloc(1, sizeof(*pg));
    size_t skipped = 0;

    if (!pg || !(pg->body = prom_render(metrics, n, &pg->len, &skipped))) {
        free(pg);
        p->host->log(p->ctx, BERTH_LOG_WARN, "prometheus.render.failed error=\"out of memory\"");
        return;
    }
    pg->refs = 1;
    p->skipped += (double)skipped;
    /* A 1.4 host follows with write_histograms(), which publishes the page
     * whole; an older one never does. */
    if (p->host->abi_minor >= 4) {
        page_unref(p->pending);
        p->pending = pg;
    } else {
        publish(p, pg);
    }
}

static void
prom_write_histograms(void *state, const struct berth_histogram *h, size_t n)
{
    struct prom *p = state;
    struct page *pg = p->pending;
    size_t skipped = 0, len = 0;
    char *text;

    p->pending = NULL;
    if (!pg)
        return; /* write() failed: keep the previous page */
    if (n && !(text = prom_render_histograms(h, n, &len, &skipped))) {
        p->host->log(p->ctx, BERTH_LOG_WARN,
                     "prometheus.render.failed error=\"out of memory\" what=histograms");
    } else if (n) {
        char *body = realloc(pg->body, pg->len + len + 1);
        if (body) {
            memcpy(body + pg->len, text, len + 1);
            pg->body = body;
            pg->len += len;
        }
        free(text);
        p->skipped += (double)skipped;
    }
    publish(p, pg);
}

static const struct berth_metrics_sink_ops prom_ops = {
    .struct_size = sizeof(struct berth_metrics_sink_ops),
    .write = prom_write,
    .write_histograms = prom_write_histograms,
};

static int
prom_init(berth_ctx *ctx, const struct berth_host *host, const void *config,
          void **state, char *err, size_t errlen)
{
    const struct prom_config *cfg = config;
    struct prom *p;

    if (cfg->port < 1 || cfg->port > 65535) {
        snprintf(err, errlen, "port: %lld is not a TCP port (1-65535)", (long long)cfg->port);
        return -1;
    }
    if (!cfg->path || cfg->path[0] != '/') {
        snprintf(err, errlen, "path: \"%s\" must start with /", cfg->path ? cfg->path : "");
        return -1;
    }
    if (cfg->max_connections < 1) {
        snprintf(err, errlen, "max-connections: must be at least 1");
        return -1;
    }
    if (cfg->io_timeout_ms < 100) {
        snprintf(err, errlen, "io-timeout: must be at least 100ms");
        return -1;
    }
    if (!(p = calloc(1, sizeof(*p))) || !(p->page = calloc(1, sizeof(*p->page))) ||
        !(p->page->body = strdup(""))) {
        if (p)
            free(p->page);
        free(p);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->page->refs = 1;
    p->ctx = ctx;
    p->host = host;
    p->cfg = cfg;
    p->lfd = -1;
    *state = p;
    return 0;
}

static int
prom_start(void *state, char *err, size_t errlen)
{
    struct prom *p = state;
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    char port[8];
    int one = 1, rc;

    snprintf(port, sizeof(port), "%d", (int)p->cfg->port);
    if ((rc = getaddrinfo(p->cfg->address, port, &hints, &ai)) != 0) {
        snprintf(err, errlen, "address: \"%s\" is not an IP address (%s)", p->cfg->address,
                 gai_strerror(rc));
        return -1;
    }
    p->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->lfd < 0 || setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(p->lfd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(p->lfd, 64) < 0) {
        snprintf(err, errlen, "listen on %s port %s: %s", p->cfg->address, port,
                 strerror(errno));
        freeaddrinfo(ai);
        if (p->lfd >= 0)
            close(p->lfd);
        p->lfd = -1;
        return -1;
    }
    freeaddrinfo(ai);
    if (!(p->lw = p->host->fd_watch(p->ctx, p->lfd, BERTH_FD_READ, on_accept, p))) {
        snprintf(err, errlen, "cannot watch the listening socket");
        close(p->lfd);
        p->lfd = -1;
        return -1;
    }
    p->host->log(p->ctx, BERTH_LOG_INFO, "prometheus.listening address=%s port=%s path=%s",
                 p->cfg->address, port, p->cfg->path);
    return 0;
}

static int
prom_stop(void *state)
{
    struct prom *p = state;

    while (p->conns)
        conn_close(p->conns);
    if (p->lw)
        p->host->fd_unwatch(p->ctx, p->lw);
    p->lw = NULL;
    if (p->lfd >= 0)
        close(p->lfd);
    p->lfd = -1;
    return 0;
}

static void
prom_destroy(void *state)
{
    struct prom *p = state;

    if (!p)
        return;
    prom_stop(p);
    page_unref(p->page);
    page_unref(p->pending);
    free(p);
}

BERTH_PLUGIN_DECLARE = {
    BERTH_PLUGIN_HEADER,
    .name = "prometheus",
    .version = PACKAGE_VERSION,
    .description = "Serves the agent's metrics for Prometheus (text format 0.0.4)",
    .kind = BERTH_KIND_METRICS_SINK,
    .options = prom_options,
    .config_size = sizeof(struct prom_config),
    .init = prom_init,
    .start = prom_start,
    .stop = prom_stop,
    .destroy = prom_destroy,
    .ops = &prom_ops,
};
