/* init_fails.c: init refuses with its own message, which berthd must show. */
#include <stdio.h>

#include <berth/plugin.h>

static int
f_init(berth_ctx *ctx, const struct berth_host *host, const void *config,
       void **state, char *err, size_t errlen)
{
    snprintf(err, errlen, "cannot reach the frobnicator at /dev/frob");
    return -1;
}

static void
f_destroy(void *state)
{
}

BERTH_PLUGIN_DECLARE = {
    BERTH_PLUGIN_HEADER,
    .name = "init_fails",
    .version = "1",
    .kind = BERTH_KIND_EXTENSION,
    .init = f_init,
    .destroy = f_destroy,
};
