/* http_client.h: asynchronous HTTP on the libev loop (libcurl multi).
 *
 * libcurl's socket and timer callbacks are mapped onto ev_io and ev_timer
 * watchers, so transfers never block the loop.  Requests go over TCP or,
 * with unix_socket set, a unix socket (the engines' APIs).  Bodies are
 * buffered and handed to on_done, or streamed through on_data as they
 * arrive (event streams, stats).  Timeouts and errors reach on_done with
 * error != 0 and a message naming what failed.
 *
 * Contract: on_done is called exactly once for each request that was not
 * cancelled, never from inside http_client_request() itself (failures to
 * start a transfer are reported on the next loop iteration), and the
 * transfer is freed after it returns.  After http_client_cancel() no
 * callback runs.  It is safe to start or cancel requests from inside any
 * callback.  http_client_free() cancels whatever is still running. */
#ifndef BERTH_HTTP_CLIENT_H
#define BERTH_HTTP_CLIENT_H

#include <ev.h>

#include "berth/plugin.h"

struct http_client;
struct http_xfer;

struct http_client *http_client_new(struct ev_loop *loop);
void http_client_free(struct http_client *hc);

struct http_xfer *http_client_request(struct http_client *hc,
                                      const struct berth_http_request *req,
                                      berth_http_data_cb on_data,
                                      berth_http_done_cb on_done, void *arg);
void http_client_cancel(struct http_xfer *x);

/* Number of transfers still running (for orderly shutdown and tests). */
unsigned http_client_active(const struct http_client *hc);

/* Value of a response header (case-insensitive name), or NULL. */
const char *http_response_header(const struct berth_http_response *res,
                                 const char *name);

#endif
