/* metadata.h: the ECS task metadata endpoint (v4, and v3 on the same
 * documents), served to the containers of the agent's tasks.
 *
 * Where: each container's ECS_CONTAINER_METADATA_URI_V4 is
 * http://ADDR:PORT/v4/TOKEN, ADDR being what containers of its network
 * mode reach of this host (the runtime's host_address: the engine's bridge
 * gateway for bridge and awsvpc, 127.0.0.1 for host; none for none) and
 * TOKEN its own secret (task.h).  127.0.0.1:PORT is opened at once (a
 * taken port is a start error); the other addresses as the runtime learns
 * them, checked a few times a second, and closed when the runtime no
 * longer names them (plugin stopped or replaced).  Those are bound with
 * IP_FREEBIND: Podman's bridge may come up only with its first container.
 *
 * What: GET ${URI} (the container), ${URI}/task, ${URI}/stats and
 * ${URI}/task/stats, JSON as ECS shapes them (metadata_render.h).  An
 * unknown token is a 404 whose body is a JSON string saying so (ECS's
 * form); other methods 405.  Each client address has a token bucket of
 * 60 requests refilled at 40 a second (ECS's ECS_TASK_METADATA_RPS_LIMIT
 * default, which the ECS agent applies per client address); beyond it,
 * 429 "You have reached maximum request limit.".
 *
 * Stats come from the runtime's stats operation, asynchronously; the last
 * sample of each container is kept for precpu_stats and the network
 * rates, and forgotten after 10 minutes without a request.
 * Control loop only. */
#ifndef BERTH_METADATA_H
#define BERTH_METADATA_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct tasks;
struct metadata;

#define METADATA_RATE 40.0
#define METADATA_BURST 60.0

/* Serves tasks' containers on port.  NULL with err ("cannot listen on
 * 127.0.0.1:51679: Address already in use") when it cannot. */
struct metadata *metadata_new(struct ev_loop *loop, struct tasks *tasks,
                              uint16_t port, char *err, size_t errlen);
/* Closes every listener; requests waiting for stats get a 503. */
void metadata_free(struct metadata *md);
/* Opens and closes listeners to match the runtime's addresses now (the
 * timer does it too). */
void metadata_sync(struct metadata *md);
/* How many addresses it listens on (for tests). */
size_t metadata_listeners(const struct metadata *md);

#endif
