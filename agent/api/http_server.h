/* http_server.h: an HTTP/1.1 server on a libev loop (llhttp parsing), for
 * the agent's API.
 *
 * Contract
 *   - One struct http_server holds the limits, the handler and any number
 *     of listeners (unix sockets and TCP); every connection of every
 *     listener is served the same way.  Nothing blocks: sockets are
 *     non-blocking and driven by ev_io watchers; timers bound each phase.
 *   - Requests on a connection are served one at a time, in order: once a
 *     request is complete the parser pauses, the handler runs, and the
 *     next pipelined request (already buffered or not) is parsed only after
 *     the reply was queued.  So replies come out in request order.
 *   - The handler gets a struct http_exchange and must answer it exactly
 *     once with http_reply(), now or later (asynchronously).  The exchange
 *     (request included) lives until then, even when the client has gone:
 *     the late reply is then dropped and the exchange freed.  After
 *     http_reply() the exchange must not be touched.
 *   - Limits, with a clear plain-text error body and Connection: close:
 *     request line + headers over max_header bytes -> 431; a body over
 *     max_body -> 413; headers not complete within header_timeout of the
 *     request's first byte -> 408 (slowloris); a parse error -> 400.  A
 *     connection with nothing in progress closes after idle_timeout; one
 *     over max_connections gets a 503 and is closed at once.
 *   - Unix listeners: the socket file is created with the given mode and
 *     group; an existing file is replaced only when it is a socket nobody
 *     answers on (a stale one), refused otherwise.  Closing the listener
 *     removes the file if it is still the one we created.
 *   - TCP listeners: "host:port" or "[v6]:port" with an IP literal host
 *     (no name lookups: they could block).
 *
 * Threads: the loop's thread only. */
#ifndef BERTH_HTTP_SERVER_H
#define BERTH_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "berth/plugin.h"

struct http_server;
struct http_listener;
struct http_exchange;

enum http_listener_kind { HTTP_LISTEN_UNIX, HTTP_LISTEN_TCP };

struct http_limits {
    size_t max_header;        /* request line + headers, bytes */
    size_t max_body;          /* bytes */
    double header_timeout;    /* seconds from a request's first byte */
    double idle_timeout;      /* seconds with nothing in progress */
    unsigned max_connections; /* over all listeners */
};

struct http_header {
    char *name; /* as sent (compare case-insensitively) */
    char *value;
};

/* Owned by the exchange; valid until http_reply(). */
struct http_request {
    const char *method;
    char *target; /* the request target as sent: path?query */
    struct http_header *headers;
    size_t n_headers;
    char *body; /* NUL-terminated for convenience; body_len excludes it */
    size_t body_len;
    enum http_listener_kind kind; /* of the listener it came in on */
    char peer[80];                /* "127.0.0.1:4242", "[::1]:80", "unix" */
    void *listener_data;          /* http_listener_set_data() */
};

/* Called once per complete request. */
typedef void (*http_handler_fn)(void *arg, struct http_exchange *x,
                                struct http_request *req);

struct http_server *http_server_new(struct ev_loop *loop,
                                    const struct http_limits *limits,
                                    http_handler_fn handler, void *arg);
/* New limits apply to requests that start from now on. */
void http_server_set_limits(struct http_server *s, const struct http_limits *l);
/* Closes every listener, then every connection; exchanges still awaiting
 * their reply stay valid until http_reply(), which then drops it. */
void http_server_free(struct http_server *s);
/* Connections open now (for tests and metrics). */
unsigned http_server_connections(const struct http_server *s);

/* mode: the socket file's permissions; gid (gid_t)-1 keeps the group.
 * NULL with err ("cannot bind /run/x.sock: Permission denied"). */
struct http_listener *http_listen_unix(struct http_server *s, const char *path,
                                       mode_t mode, gid_t gid, char *err,
                                       size_t errlen);
/* addr: "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080".  Port 0 picks
 * one (see http_listener_port). */
struct http_listener *http_listen_tcp(struct http_server *s, const char *addr,
                                      char *err, size_t errlen);
/* The same, bound with IP_FREEBIND: the address need not be on an
 * interface yet (a bridge that comes up later). */
struct http_listener *http_listen_tcp_freebind(struct http_server *s,
                                               const char *addr, char *err,
                                               size_t errlen);
/* Changes a unix listener's file mode and group in place. */
int http_listener_chmod(struct http_listener *l, mode_t mode, gid_t gid,
                        char *err, size_t errlen);
/* Stops accepting and closes the socket (connections stay). */
void http_listener_close(struct http_listener *l);
void http_listener_set_data(struct http_listener *l, void *data);
int http_listener_port(const struct http_listener *l);
enum http_listener_kind http_listener_kind(const struct http_listener *l);

/* The value of the first header of that name (case-insensitive), or NULL. */
const char *http_header_get(const struct http_request *r, const char *name);

/* Answers x: status, extra headers as name/value pairs (n pairs; the
 * server adds Content-Length, Date-free framing and Connection), body.
 * Frees x.  When the client is gone the reply is dropped. */
void http_reply(struct http_exchange *x, int status,
                const struct http_header *headers, size_t n_headers,
                const char *body, size_t body_len);
/* 1 when the connection of x has closed (the reply would be dropped). */
int http_exchange_gone(const struct http_exchange *x);

const char *http_status_text(int status);

#endif
