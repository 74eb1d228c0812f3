/* api.h: the ECS-compatible API (AWS JSON 1.1 over HTTP), its listeners and
 * its action table.
 *
 * Wire protocol (what the aws CLI and SDKs speak to ECS):
 *   POST / with X-Amz-Target: AmazonEC2ContainerServiceV20141113.ACTION,
 *   Content-Type: application/x-amz-json-1.1 and a JSON object as body (an
 *   empty body counts as {}).  A reply is HTTP 200 with the action's output
 *   object, or an error: HTTP 400 (500 for ServerException) with
 *   {"__type":"ClientException","message":"..."}.  Every reply carries
 *   Content-Type: application/x-amz-json-1.1 and x-amzn-RequestId (a UUID).
 *   Errors of the protocol itself: an unknown or missing action ->
 *   UnknownOperationException; a body that is not JSON or not an object, a
 *   wrong method or content type -> SerializationException.
 *
 * Listeners ([api] in berth.conf): a unix socket, trusted by its file mode
 * and group (no signature asked), and optionally TCP, where every request
 * must carry a valid AWS SigV4 signature (agent/api/sigv4.h) from a key of
 * credentials-file; conf validation refuses TCP without that file.
 *
 * Design
 *   - One struct api owns an http_server (agent/api/http_server.h) and
 *     dispatches each request to an action found by name in the tables
 *     registered with api_add_actions().  Each table comes with a context
 *     pointer of its own (the store, the task layer...), so the API knows
 *     nothing of what actions do.
 *   - An action is void fn(struct api_call *c, const cJSON *input).  It
 *     must end the call exactly once, now or later (asynchronously, e.g.
 *     when a runtime plugin's callback fires), with api_reply() or
 *     api_fail().  The call, and the input, live until then; input is
 *     freed when the action returns, so an action that answers later must
 *     copy what it needs.  If the client has gone meanwhile, the answer is
 *     dropped safely (api_call_gone() tells, to skip needless work).
 *   - Input checking: api_parse_input() walks the input with a json_walk
 *     shape (agent/json_walk.h) into a struct and, on any error, fails the
 *     call with InvalidParameterException naming every member path.
 *   - Every call ends with one access-log line at info:
 *       event=api.request action=X status=200 ms=1.2 peer=... request_id=...
 *   - Reload is two-phase so that a listener that cannot be opened refuses
 *     the whole reload: api_reload_prepare() opens the new listeners and
 *     reads the credentials file again, touching nothing in force;
 *     api_reload_commit() then closes the replaced listeners and swaps in
 *     the new settings (or api_reload_abort() drops what was prepared).  A
 *     listener whose address did not change is kept as it is, so clients
 *     see no gap; a unix socket whose path is unchanged gets its new mode
 *     and group in place.
 *
 * Adding actions (what the task layer does):
 *
 *     static void run_task(struct api_call *c, const cJSON *input)
 *     {
 *         struct tasks *t = api_call_ctx(c);
 *         struct run_in in = {0};
 *         if (api_parse_input(c, input, &run_in_shape, &in) < 0)
 *             return;                      // the call was failed for us
 *         ...
 *         api_reply(c, output);            // or later, from a callback
 *     }
 *     const struct api_action task_actions[] = {
 *         {"RunTask", run_task}, ..., {NULL, NULL},
 *     };
 *     api_add_actions(api, task_actions, tasks);   // once, at start
 *
 * Threads: the loop's thread only. */
#ifndef BERTH_API_H
#define BERTH_API_H

#include <ev.h>

#include <cjson/cJSON.h>

#include "agent/json_walk.h"
#include "berth/plugin.h"

#define API_TARGET_PREFIX "AmazonEC2ContainerServiceV20141113."
#define API_CONTENT_TYPE "application/x-amz-json-1.1"

struct api;
struct api_call;
struct conf;
struct conf_errors;

typedef void (*api_action_fn)(struct api_call *c, const cJSON *input);

struct api_action {
    const char *name; /* the ECS action: "RegisterTaskDefinition" */
    api_action_fn fn;
};

/* Opens the listeners [api] names and reads credentials-file.  NULL with
 * every error in errs ("FILE:LINE: [api] socket: cannot bind ..."), and
 * nothing left open. */
struct api *api_start(struct ev_loop *loop, const struct conf *c,
                      struct conf_errors *errs);
/* Registers a table (ending with a NULL name) whose actions get ctx from
 * api_call_ctx().  The table must outlive the api.  -1 when an action of
 * the same name is already registered (a programming error, logged). */
int api_add_actions(struct api *api, const struct api_action *table, void *ctx);
/* Closes the listeners: no new connections (shutdown's first step); open
 * connections are served until api_free(). */
void api_stop_accepting(struct api *api);
/* Closes everything; calls not answered yet stay valid until they are. */
void api_free(struct api *api);

int api_reload_prepare(struct api *api, const struct conf *c, struct conf_errors *errs);
void api_reload_commit(struct api *api);
void api_reload_abort(struct api *api);

/* fn(arg, action, error_type, seconds) after each answered call: action is
 * NULL when it was not a registered one, error_type NULL on success,
 * seconds from the request's arrival to its answer (monotonic).  Calls
 * made before keep the observer they were made with. */
typedef void (*api_observer_fn)(void *arg, const char *action, const char *error_type,
                                double seconds);
void api_set_observer(struct api *api, api_observer_fn fn, void *arg);

/* Port of the TCP listener (0 when none): for tests that listen on :0. */
int api_tcp_port(const struct api *api);

/* ---- for actions ---- */

void *api_call_ctx(const struct api_call *c);
const char *api_call_action(const struct api_call *c);
const char *api_call_request_id(const struct api_call *c);
const char *api_call_peer(const struct api_call *c);
/* 1 when the client's connection has closed: the answer will be dropped. */
int api_call_gone(const struct api_call *c);

/* Ends the call with HTTP 200 and output (the call takes it; NULL sends
 * {}).  The call is freed: do not touch it afterwards. */
void api_reply(struct api_call *c, cJSON *output);
/* Ends the call with an error of that AWS type ("ClientException",
 * "InvalidParameterException"...; "ServerException" gets HTTP 500). */
void api_fail(struct api_call *c, const char *type, const char *fmt, ...)
    BERTH_PRINTF(3, 4);

/* Walks input with shape into target (shape->size zeroed bytes).  0, or
 * -1 after failing the call with InvalidParameterException listing every
 * error with its path ("maxResults: ..."); target is then released.  The
 * caller releases target with jw_free_shape() after a 0. */
int api_parse_input(struct api_call *c, const cJSON *input,
                    const struct jw_shape *shape, void *target);

#endif
