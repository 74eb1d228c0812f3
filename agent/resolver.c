/* resolver.c: asynchronous name lookups, c-ares on libev. */
#include "config.h"

#include "agent/resolver.h"

#include <ares.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A lookup is in c-ares (answered == false) until c-ares calls back; then
 * its result waits on the ready list for delivery from the loop.  Results
 * always go through that list: c-ares answers numeric names and /etc/hosts
 * inside ares_getaddrinfo(), and user callbacks never run inside c-ares. */
struct resolver_query {
    struct resolver *r;
    struct resolver_query *prev, *next; /* on r->inflight or r->ready */
    bool answered;
    bool cancelled; /* in c-ares still: its callback is swallowed */
    berth_lookup_cb cb;
    void *arg;
    char *name;

    int status;
    char *error_msg;
    size_t n;
    struct sockaddr_storage *addrs;
};

struct qlist {
    struct resolver_query *head, *tail;
    unsigned n;
};

/* One ev_io per socket c-ares tells us about. */
struct sock_watch {
    ev_io io;
    struct resolver *r;
    struct sock_watch *next;
};

struct resolver {
    struct ev_loop *loop;
    ares_channel channel;
    ev_timer timer; /* c-ares' next timeout */
    ev_timer kick;  /* delivers ready results on the next iteration */
    struct qlist inflight, ready;
    struct sock_watch *socks;
    unsigned active; /* lookups whose callback is still due */
};

/* ------------------------------------------------------------------ */
/* Lists and queries                                                  */

static void qlist_push(struct qlist *l, struct resolver_query *q)
{
    q->next = NULL;
    q->prev = l->tail;
    if (l->tail)
        l->tail->next = q;
    else
        l->head = q;
    l->tail = q;
    l->n++;
}

static void qlist_unlink(struct qlist *l, struct resolver_query *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        l->head = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        l->tail = q->prev;
    l->n--;
    q->prev = q->next = NULL;
}

static void query_free(struct resolver_query *q)
{
    free(q->name);
    free(q->error_msg);
    free(q->addrs);
    free(q);
}

/* ------------------------------------------------------------------ */
/* Driving c-ares                                                     */

static void update_timer(struct resolver *r)
{
    struct timeval tv, *tvp = ares_timeout(r->channel, NULL, &tv);

    ev_timer_stop(r->loop, &r->timer);
    if (tvp) {
        ev_timer_set(&r->timer, (double)tvp->tv_sec + tvp->tv_usec / 1e6, 0.);
        ev_timer_start(r->loop, &r->timer);
    }
}

static void on_sock_ready(struct ev_loop *loop, ev_io *w, int revents)
{
    struct sock_watch *sw = (struct sock_watch *)w;
    struct resolver *r = sw->r;
    int fd = w->fd;

    /* sw may be freed by the state callback inside. */
    ares_process_fd(r->channel, revents & EV_READ ? fd : ARES_SOCKET_BAD,
                    revents & EV_WRITE ? fd : ARES_SOCKET_BAD);
    update_timer(r);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct resolver *r = w->data;

    ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    update_timer(r);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable,
                          int writable)
{
    struct resolver *r = data;
    struct sock_watch **pp, *sw;

    for (pp = &r->socks; (sw = *pp); pp = &sw->next)
        if (sw->io.fd == fd)
            break;
    if (!readable && !writable) {
        if (sw) {
            ev_io_stop(r->loop, &sw->io);
            *pp = sw->next;
            free(sw);
        }
        return;
    }
    if (!sw) {
        sw = calloc(1, sizeof(*sw));
        if (!sw)
            return; /* the lookup then times out */
        sw->r = r;
        sw->next = r->socks;
        r->socks = sw;
        ev_init(&sw->io, on_sock_ready);
    }
    ev_io_stop(r->loop, &sw->io);
    ev_io_set(&sw->io, fd,
              (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
    ev_io_start(r->loop, &sw->io);
}

/* Deliver what is ready.  Only what was ready when this round began, so a
 * callback that starts numeric lookups cannot hold the loop. */
static void on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct resolver *r = w->data;
    unsigned n = r->ready.n;
    struct resolver_query *q;

    while (n-- > 0 && (q = r->ready.head)) {
        struct berth_lookup_result res = {
            .status = q->status,
            .error_msg = q->error_msg,
            .n = q->n,
            .addrs = q->addrs,
        };
        qlist_unlink(&r->ready, q);
        r->active--;
        q->cb(q->arg, &res);
        query_free(q);
    }
}

static void set_error(struct resolver_query *q, int status, const char *why)
{
    q->status = status ? status : ARES_ENODATA;
    if (asprintf(&q->error_msg, "lookup of %s failed: %s", q->name, why) < 0)
        q->error_msg = NULL;
    if (!q->error_msg)
        q->error_msg = strdup("lookup failed (out of memory)");
}

static void take_addrs(struct resolver_query *q, const struct ares_addrinfo *ai)
{
    const struct ares_addrinfo_node *node;
    size_t n = 0;

    for (node = ai ? ai->nodes : NULL; node; node = node->ai_next)
        if (node->ai_family == AF_INET || node->ai_family == AF_INET6)
            n++;
    if (n == 0) {
        set_error(q, ARES_ENODATA, ares_strerror(ARES_ENODATA));
        return;
    }
    q->addrs = calloc(n, sizeof(*q->addrs));
    if (!q->addrs) {
        set_error(q, ARES_ENOMEM, ares_strerror(ARES_ENOMEM));
        return;
    }
    for (node = ai->nodes; node; node = node->ai_next) {
        struct sockaddr_storage *ss = &q->addrs[q->n];
        if (node->ai_family == AF_INET &&
            node->ai_addrlen >= sizeof(struct sockaddr_in)) {
            memcpy(ss, node->ai_addr, sizeof(struct sockaddr_in));
            ((struct sockaddr_in *)ss)->sin_port = 0;
            q->n++;
        } else if (node->ai_family == AF_INET6 &&
                   node->ai_addrlen >= sizeof(struct sockaddr_in6)) {
            memcpy(ss, node->ai_addr, sizeof(struct sockaddr_in6));
            ((struct sockaddr_in6 *)ss)->sin6_port = 0;
            q->n++;
        }
    }
    if (q->n == 0)
        set_error(q, ARES_ENODATA, ares_strerror(ARES_ENODATA));
}

static void on_answer(void *arg, int status, int timeouts,
                      struct ares_addrinfo *ai)
{
    struct resolver_query *q = arg;
    struct resolver *r = q->r;

    qlist_unlink(&r->inflight, q);
    if (q->cancelled || status == ARES_EDESTRUCTION) {
        if (!q->cancelled)
            r->active--;
        if (ai)
            ares_freeaddrinfo(ai);
        query_free(q);
        return;
    }
    if (status == ARES_SUCCESS)
        take_addrs(q, ai);
    else
        set_error(q, status, ares_strerror(status));
    if (ai)
        ares_freeaddrinfo(ai);
    q->answered = true;
    qlist_push(&r->ready, q);
    if (!ev_is_active(&r->kick))
        ev_timer_start(r->loop, &r->kick);
}

/* ------------------------------------------------------------------ */
/* The API                                                            */

struct resolver_query *resolver_lookup(struct resolver *r, const char *name,
                                       int family, berth_lookup_cb cb,
                                       void *arg)
{
    struct ares_addrinfo_hints hints = { .ai_family = family };
    struct resolver_query *q;

    if (!r || !name || !cb)
        return NULL;
    q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->name = strdup(name);
    if (!q->name) {
        free(q);
        return NULL;
    }
    q->r = r;
    q->cb = cb;
    q->arg = arg;
    r->active++;
    qlist_push(&r->inflight, q);
    if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) {
        /* c-ares would say the same (ARES_EBADFAMILY), later. */
        on_answer(q, ARES_EBADFAMILY, 0, NULL);
        return q;
    }
    /* May call on_answer before it returns; that only queues the result. */
    ares_getaddrinfo(r->channel, name, NULL, &hints, on_answer, q);
    update_timer(r);
    return q;
}

void resolver_cancel(struct resolver_query *q)
{
    if (!q || q->cancelled)
        return;
    q->r->active--;
    if (q->answered) {
        qlist_unlink(&q->r->ready, q);
        query_free(q);
    } else {
        q->cancelled = true; /* freed by on_answer when c-ares lets go */
    }
}

unsigned resolver_active(const struct resolver *r)
{
    return r ? r->active : 0;
}

struct resolver *resolver_new(struct ev_loop *loop, const char *servers,
                              uint64_t timeout_ms, char *err, size_t errlen)
{
    struct ares_options opts = { 0 };
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
    struct resolver *r;
    int rc;

    if (servers && !*servers) {
        snprintf(err, errlen, "empty list of DNS servers");
        return NULL;
    }
    rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        ares_library_cleanup();
        return NULL;
    }
    r->loop = loop;
    opts.sock_state_cb = on_sock_state;
    opts.sock_state_cb_data = r;
    opts.tries = 2;
    opts.lookups = (char *)"fb"; /* /etc/hosts first, then DNS */
    if (timeout_ms) {
        opts.timeout = timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms;
        mask |= ARES_OPT_TIMEOUTMS;
    }
    rc = ares_init_options(&r->channel, &opts, mask);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "c-ares: cannot initialise: %s",
                 ares_strerror(rc));
        free(r);
        ares_library_cleanup();
        return NULL;
    }
    if (servers) {
        rc = ares_set_servers_ports_csv(r->channel, servers);
        if (rc != ARES_SUCCESS) {
            snprintf(err, errlen, "bad DNS servers \"%s\": %s", servers,
                     ares_strerror(rc));
            ares_destroy(r->channel);
            free(r);
            ares_library_cleanup();
            return NULL;
        }
    }
    ev_timer_init(&r->timer, on_timer, 0., 0.);
    r->timer.data = r;
    ev_timer_init(&r->kick, on_kick, 0., 0.);
    r->kick.data = r;
    return r;
}

void resolver_free(struct resolver *r)
{
    struct resolver_query *q;

    if (!r)
        return;
    while ((q = r->ready.head)) {
        qlist_unlink(&r->ready, q);
        query_free(q);
    }
    for (q = r->inflight.head; q; q = q->next)
        q->cancelled = true;
    /* Calls on_answer with ARES_EDESTRUCTION for each, and closes its
     * sockets through on_sock_state. */
    ares_destroy(r->channel);
    while ((q = r->inflight.head)) { /* none, unless c-ares forgot one */
        qlist_unlink(&r->inflight, q);
        query_free(q);
    }
    while (r->socks) {
        struct sock_watch *sw = r->socks;
        r->socks = sw->next;
        ev_io_stop(r->loop, &sw->io);
        free(sw);
    }
    ev_timer_stop(r->loop, &r->timer);
    ev_timer_stop(r->loop, &r->kick);
    free(r);
    ares_library_cleanup();
}
