/* client.h: one call of berthd's ECS API over its unix socket.
 *
 * Contract: client_call() posts {input} as AWS JSON 1.1 to
 * "AmazonEC2ContainerServiceV20141113.ACTION" and blocks until the answer
 * (a command-line tool may block).  The cluster member is added to the
 * input when --cluster gave one and the input has none.
 *
 * Outcomes:
 *   CLIENT_OK      *out is the action's output object (caller frees).
 *   CLIENT_API     the API answered with an error: err->type ("__type")
 *                  and err->message, exactly as the API gave them.
 *   CLIENT_SOCKET  berthd could not be reached, or its answer was not the
 *                  protocol's: err->message says what, names the socket
 *                  path and what to check.
 * err->type and err->message are owned by err: client_err_clear(). */
#ifndef BERTH_CLI_CLIENT_H
#define BERTH_CLI_CLIENT_H

#include <cjson/cJSON.h>

enum client_rc { CLIENT_OK = 0, CLIENT_API, CLIENT_SOCKET };

struct client {
    const char *socket;  /* path of the API's unix socket */
    const char *cluster; /* NULL: the agent's own cluster */
};

struct client_err {
    char *type;    /* CLIENT_API: "ClientException"...; else NULL */
    char *message; /* what went wrong */
};

/* input is taken (NULL sends {}). */
enum client_rc client_call(const struct client *cl, const char *action, cJSON *input,
                           cJSON **out, struct client_err *err);
void client_err_clear(struct client_err *err);
/* "TYPE: message" or the socket message, on stderr prefixed "berth: ". */
void client_err_print(const struct client_err *err);

#endif
