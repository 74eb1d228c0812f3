/* runtime.h: the agent's side of the runtime plugin in use.
 *
 * The task manager never holds a plugin: it calls these functions, which
 * forward to whichever runtime plugin is attached.  The indirection gives
 * three guarantees the plugin ABI alone does not:
 *   - every accepted operation's callback runs exactly once, even when the
 *     plugin is stopped, restarted by a reload or never answers: detaching
 *     fails what is still pending with BERTH_RT_UNAVAILABLE;
 *   - a caller that goes away (a task freed) can forget its pending
 *     operations (runtime_forget), whose answers are then dropped;
 *   - with no plugin attached, operations fail at once (-1) and the caller
 *     says why with runtime_unavailable().
 *
 * Events from the plugin's watch() go to the one event callback given to
 * runtime_new; attaching and detaching also produce ENGINE_UP (from the
 * plugin, once its stream is up) and ENGINE_DOWN (at detach).
 * Control loop only. */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/plugin.h"

struct plugin;
struct runtime;

typedef void (*runtime_event_cb)(void *arg, const struct berth_runtime_event *ev);

/* label: what every container of this agent carries ("key=value"); watch
 * and list use it. */
struct runtime *runtime_new(const char *label, runtime_event_cb cb, void *arg);
void runtime_free(struct runtime *rt);

/* p is started and of kind RUNTIME.  Starts its watch. */
void runtime_attach(struct runtime *rt, struct plugin *p);
/* Before p is stopped: fails every pending operation and reports
 * ENGINE_DOWN.  A no-op when p is not the attached plugin. */
void runtime_detach(struct runtime *rt, struct plugin *p);
struct plugin *runtime_plugin(const struct runtime *rt);
/* "docker 20.10.24 (API 1.41)", or NULL when unknown. */
const char *runtime_engine_version(const struct runtime *rt);
/* The address of this host that containers in that network mode reach
 * (berth_runtime_ops.host_address), or NULL: none, not known yet, no
 * plugin attached, or a plugin older than ABI 1.3. */
const char *runtime_host_address(const struct runtime *rt, const char *mode);
/* The message for an operation refused because nothing is attached. */
const char *runtime_unavailable(const struct runtime *rt);

/* The plugin's failed operations so far: for each operation and code
 * counted (code "REFUSED": the plugin would not even begin), cb(arg,
 * plugin instance, operation, code, count).  Nothing when no plugin is
 * attached. */
typedef void (*runtime_errors_cb)(void *arg, const char *plugin, const char *operation,
                                  const char *code, uint64_t count);
void runtime_errors(const struct runtime *rt, runtime_errors_cb cb, void *arg);

/* Drops the answers of pending operations whose arg is arg. */
void runtime_forget(struct runtime *rt, void *arg);
/* How many operations wait for an answer. */
unsigned runtime_pending(const struct runtime *rt);

/* As in berth_runtime_ops; 0 accepted, -1 refused (no callback). */
int runtime_sandbox_create(struct runtime *rt, const char *spec, berth_rt_id_cb cb,
                           void *arg);
int runtime_sandbox_remove(struct runtime *rt, const char *id, uint32_t timeout_s,
                           berth_rt_done_cb cb, void *arg);
int runtime_create(struct runtime *rt, const char *spec, berth_rt_id_cb cb,
                   void *arg);
int runtime_start(struct runtime *rt, const char *id, berth_rt_done_cb cb,
                  void *arg);
int runtime_stop(struct runtime *rt, const char *id, uint32_t timeout_s,
                 berth_rt_done_cb cb, void *arg);
int runtime_remove(struct runtime *rt, const char *id, berth_rt_done_cb cb,
                   void *arg);
int runtime_inspect(struct runtime *rt, const char *id, berth_rt_info_cb cb,
                    void *arg);
int runtime_list(struct runtime *rt, berth_rt_list_cb cb, void *arg);
int runtime_stats(struct runtime *rt, const char *id, berth_rt_stats_cb cb,
                  void *arg);

const char *runtime_code_name(enum berth_rt_code c);

#endif
