/* docker_sandbox.c: sandboxes on Docker.
 *
 * Docker groups nothing, so only networkMode awsvpc gets a sandbox: a
 * pause container with its own network namespace on the default bridge,
 * which the task's containers join.  Other modes answer a NULL id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"

int
docker_sandbox_create(void *state, const char *spec_json, berth_rt_id_cb cb, void *arg)
{
    struct docker *d = state;
    struct engine_spec s;
    char err[512];
    struct dop *op = dop_new(d, DOP_ID, (void *)cb, arg);

    if (!op)
        return -1;
    if (engine_spec_parse(spec_json, true, &s, err, sizeof(err)) < 0) {
        dop_answer_later(op, BERTH_RT_INVALID, "sandbox spec refused: %s", err);
        return 0;
    }
    if (!s.network || strcmp(s.network, "awsvpc") != 0)
        dop_answer_later(op, BERTH_RT_OK, "%s", ""); /* no sandbox: NULL id */
    else
        dop_answer_later(op, BERTH_RT_FAILED, "awsvpc sandboxes are not implemented yet");
    engine_spec_free(&s);
    return 0;
}

int
docker_sandbox_remove(void *state, const char *id, uint32_t timeout_s,
                      berth_rt_done_cb cb, void *arg)
{
    /* A pause container goes like any other: stop, then remove. */
    (void)timeout_s;
    return docker_remove(state, id, cb, arg);
}
