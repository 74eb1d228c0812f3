/* abi_version.c: a descriptor claiming ABI TEST_MAJOR.TEST_MINOR (set by the
 * build), to be refused when the major differs or the minor is newer. */
#include <stdlib.h>

#include <berth/plugin.h>

static int
v_init(berth_ctx *ctx, const struct berth_host *host, const void *config,
       void **state, char *err, size_t errlen)
{
    *state = NULL;
    return 0;
}

static void
v_destroy(void *state)
{
}

BERTH_PLUGIN_DECLARE = {
    .abi_major = TEST_MAJOR,
    .abi_minor = TEST_MINOR,
    .struct_size = sizeof(struct berth_plugin),
    .name = "abi_version",
    .version = "1",
    .kind = BERTH_KIND_EXTENSION,
    .init = v_init,
    .destroy = v_destroy,
};
