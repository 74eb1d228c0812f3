/* cw_emf_out.c: EMF lines to a file or socket, never blocking; see
 * cw_emf_out.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cw_emf_out.h"

#define BUF_MAX (1024 * 1024)

enum kind { K_FILE, K_UNIX, K_TCP, K_UDP };

struct cw_emf_out {
    const struct berth_host *host;
    berth_ctx *ctx;
    enum kind kind;
    char *path;
    struct sockaddr_storage sa;
    socklen_t salen;
    int fd;
    int connected;
    berth_watch *w;
    char *buf;
    size_t len;
    uint64_t last_try_ms;
    int dropping; /* since the last success: log the first drop only */
};

static int
parse_addr(struct cw_emf_out *o, const char *s, char *err, size_t errlen,
           const char *target)
{
    char host[256];
    const char *colon;
    long port;
    char *end;

    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
            goto bad;
        memcpy(host, s + 1, (size_t)(rb - s - 1));
        host[rb - s - 1] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof(host))
            goto bad;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        goto bad;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&o->sa;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&o->sa;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        o->salen = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        o->salen = sizeof(*a6);
    } else {
        goto bad;
    }
    return 0;
bad:
    snprintf(err, errlen, "emf-target: expected HOST:PORT with an IP address and a "
             "port 1..65535, got \"%s\"", target);
    return -1;
}

struct cw_emf_out *
cw_emf_out_new(const struct berth_host *host, berth_ctx *ctx, const char *target,
               char *err, size_t errlen)
{
    struct cw_emf_out *o = calloc(1, sizeof(*o));

    if (!o)
        abort();
    o->host = host;
    o->ctx = ctx;
    o->fd = -1;
    if (strncmp(target, "file:", 5) == 0 && target[5]) {
        o->kind = K_FILE;
        o->path = strdup(target + 5);
    } else if (strncmp(target, "unix:", 5) == 0 && target[5]) {
        struct sockaddr_un *un = (struct sockaddr_un *)&o->sa;
        if (strlen(target + 5) >= sizeof(un->sun_path)) {
            snprintf(err, errlen, "emf-target: socket path too long in \"%s\"", target);
            free(o);
            return NULL;
        }
        o->kind = K_UNIX;
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, target + 5);
        o->salen = sizeof(*un);
    } else if (strncmp(target, "tcp:", 4) == 0 || strncmp(target, "udp:", 4) == 0) {
        o->kind = target[0] == 't' ? K_TCP : K_UDP;
        if (parse_addr(o, target + 4, err, errlen, target) < 0) {
            free(o);
            return NULL;
        }
    } else {
        snprintf(err, errlen, "emf-target: expected file:PATH, unix:PATH, tcp:HOST:PORT "
                 "or udp:HOST:PORT, got \"%s\"", target);
        free(o);
        return NULL;
    }
    return o;
}

static void
sock_close(struct cw_emf_out *o)
{
    if (o->w)
        o->host->fd_unwatch(o->ctx, o->w);
    o->w = NULL;
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    o->connected = 0;
}

static void on_ready(void *arg, int fd, int revents);

/* A non-blocking connect; completion comes through the watcher. */
static void
sock_open(struct cw_emf_out *o)
{
    int type = o->kind == K_UDP ? SOCK_DGRAM : SOCK_STREAM;

    o->last_try_ms = o->host->now_ms(o->ctx);
    o->fd = socket(o->sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (o->fd < 0)
        return;
    if (connect(o->fd, (struct sockaddr *)&o->sa, o->salen) == 0) {
        o->connected = 1;
    } else if (errno != EINPROGRESS) {
        o->host->log(o->ctx, BERTH_LOG_WARN, "cloudwatch.emf.connect error=\"%s\"",
                     strerror(errno));
        sock_close(o);
        return;
    }
    if (type == SOCK_STREAM)
        o->w = o->host->fd_watch(o->ctx, o->fd, BERTH_FD_WRITE, on_ready, o);
}

static void
flush(struct cw_emf_out *o)
{
    while (o->len) {
        ssize_t n = send(o->fd, o->buf, o->len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            o->host->log(o->ctx, BERTH_LOG_WARN, "cloudwatch.emf.send error=\"%s\" "
                         "dropped_bytes=%zu", strerror(errno), o->len);
            o->len = 0;
            sock_close(o);
            return;
        }
        memmove(o->buf, o->buf + n, o->len - (size_t)n);
        o->len -= (size_t)n;
    }
    if (o->w)
        o->host->fd_watch_set(o->ctx, o->w, o->len ? BERTH_FD_WRITE : 0);
}

static void
on_ready(void *arg, int fd, int revents)
{
    struct cw_emf_out *o = arg;
    int e = 0;
    socklen_t el = sizeof(e);

    (void)revents;
    if (!o->connected) {
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
            o->host->log(o->ctx, BERTH_LOG_WARN, "cloudwatch.emf.connect error=\"%s\"",
                         strerror(e ? e : errno));
            sock_close(o);
            return;
        }
        o->connected = 1;
    }
    flush(o);
}

int
cw_emf_out_start(struct cw_emf_out *o, char *err, size_t errlen)
{
    if (o->kind == K_FILE) {
        o->fd = open(o->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (o->fd < 0) {
            snprintf(err, errlen, "emf-target: %s: %s", o->path, strerror(errno));
            return -1;
        }
        return 0;
    }
    sock_open(o); /* a listener not up yet is retried at the next write */
    return 0;
}

static int
dropped(struct cw_emf_out *o, const char *why)
{
    if (!o->dropping++)
        o->host->log(o->ctx, BERTH_LOG_WARN, "cloudwatch.emf.dropping reason=\"%s\"",
                     why);
    return -1;
}

int
cw_emf_out_write(struct cw_emf_out *o, const char *line, size_t len)
{
    if (o->kind == K_FILE) {
        /* A local file: a short write is an error, not a wait. */
        if (o->fd < 0 || write(o->fd, line, len) != (ssize_t)len)
            return dropped(o, strerror(errno));
        o->dropping = 0;
        return 0;
    }
    if (o->fd < 0 && o->host->now_ms(o->ctx) - o->last_try_ms >= 1000)
        sock_open(o);
    if (o->fd < 0)
        return dropped(o, "not connected");
    if (o->kind == K_UDP) {
        if (send(o->fd, line, len, MSG_NOSIGNAL) != (ssize_t)len)
            return dropped(o, strerror(errno));
        o->dropping = 0;
        return 0;
    }
    if (o->len + len > BUF_MAX)
        return dropped(o, "buffer full");
    if (o->len + len > 0) {
        char *g = realloc(o->buf, o->len + len);
        if (!g)
            abort();
        o->buf = g;
    }
    memcpy(o->buf + o->len, line, len);
    o->len += len;
    o->dropping = 0;
    if (o->connected)
        flush(o);
    else if (o->w)
        o->host->fd_watch_set(o->ctx, o->w, BERTH_FD_WRITE);
    return 0;
}

void
cw_emf_out_stop(struct cw_emf_out *o)
{
    if (o->kind != K_FILE && o->connected && o->len)
        flush(o); /* what the socket takes now; the rest is lost */
    sock_close(o);
}

void
cw_emf_out_free(struct cw_emf_out *o)
{
    if (!o)
        return;
    sock_close(o);
    free(o->buf);
    free(o->path);
    free(o);
}
