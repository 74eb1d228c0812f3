/* old_minor.c: built against the frozen ABI 1.0 header (no reconfigure in
 * the descriptor, a smaller struct_size): berthd must accept it. */
#include <stdio.h>
#include <stdlib.h>

#include <berth/plugin.h>

#if BERTH_PLUGIN_ABI_MINOR != 0
#error "old_minor must be built against tests/plugins/abi-1.0"
#endif

struct old_config {
    const char *trace;
};

static const struct berth_option old_options[] = {
    {"trace", BERTH_OPT_STRING, NULL, offsetof(struct old_config, trace), "trace file", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static void
trace(const struct old_config *cfg, const char *what)
{
    FILE *f;
    if (cfg->trace && (f = fopen(cfg->trace, "a"))) {
        fprintf(f, "%s\n", what);
        fclose(f);
    }
}

static int
old_init(berth_ctx *ctx, const struct berth_host *host, const void *config,
         void **state, char *err, size_t errlen)
{
    trace(config, "init");
    host->log(ctx, BERTH_LOG_INFO, "old_minor.init host_abi=%u.%u", host->abi_major,
              host->abi_minor);
    *state = (void *)config;
    return 0;
}

static int
old_start(void *state, char *err, size_t errlen)
{
    trace(state, "start");
    return 0;
}

static int
old_stop(void *state)
{
    trace(state, "stop");
    return 0;
}

static void
old_destroy(void *state)
{
    trace(state, "destroy");
}

BERTH_PLUGIN_DECLARE = {
    BERTH_PLUGIN_HEADER,
    .name = "old_minor",
    .version = "1",
    .kind = BERTH_KIND_EXTENSION,
    .options = old_options,
    .config_size = sizeof(struct old_config),
    .init = old_init,
    .start = old_start,
    .stop = old_stop,
    .destroy = old_destroy,
};
