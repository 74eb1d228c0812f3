/* good.c: a well-behaved test plugin with an option of every type.  It
 * traces its lifecycle calls to the file named by its "trace" option and
 * deliberately leaves a timer and an fd watcher behind at stop, so the tests
 * can see the host release them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <berth/plugin.h>

#include "tests/plugins/good.h"

struct good {
    berth_ctx *ctx;
    const struct berth_host *host;
    const struct good_config *cfg;
    int pipe[2];
};

static const struct berth_option good_options[] = {
    {"trace", BERTH_OPT_STRING, NULL, offsetof(struct good_config, trace), "trace file", 0},
    {"count", BERTH_OPT_INT, "3", offsetof(struct good_config, count), "a number", 0},
    {"flag", BERTH_OPT_BOOL, "no", offsetof(struct good_config, flag), "a switch", 0},
    {"wait", BERTH_OPT_DURATION, "1s", offsetof(struct good_config, wait_ms), "a duration", 0},
    {"limit", BERTH_OPT_SIZE, "1MiB", offsetof(struct good_config, limit), "a size", 0},
    {"listen", BERTH_OPT_ADDRESS, "127.0.0.1:8080", offsetof(struct good_config, listen),
     "an address", 0},
    {"required", BERTH_OPT_STRING, NULL, offsetof(struct good_config, required),
     "must be set", BERTH_OPT_REQUIRED},
    {NULL, 0, NULL, 0, NULL, 0},
};

static void
trace(const struct good_config *cfg, const char *what)
{
    FILE *f;
    if (cfg->trace && (f = fopen(cfg->trace, "a"))) {
        fprintf(f, "%s\n", what);
        fclose(f);
    }
}

static int
good_init(berth_ctx *ctx, const struct berth_host *host, const void *config,
          void **state, char *err, size_t errlen)
{
    struct good *g = calloc(1, sizeof(*g));
    if (!g)
        return -1;
    g->ctx = ctx;
    g->host = host;
    g->cfg = config;
    g->pipe[0] = g->pipe[1] = -1;
    trace(g->cfg, "init");
    *state = g;
    return 0;
}

static void
nothing(void *arg)
{
}

static void
nothing_fd(void *arg, int fd, int revents)
{
}

static int
good_start(void *state, char *err, size_t errlen)
{
    struct good *g = state;
    if (pipe(g->pipe) < 0)
        return -1;
    /* Left behind on purpose: the host must release them. */
    g->host->timer_start(g->ctx, 60000, 60000, nothing, g);
    g->host->fd_watch(g->ctx, g->pipe[0], BERTH_FD_READ, nothing_fd, g);
    trace(g->cfg, "start");
    return 0;
}

static int
good_stop(void *state)
{
    struct good *g = state;
    trace(g->cfg, "stop");
    return 0;
}

static void
good_destroy(void *state)
{
    struct good *g = state;
    trace(g->cfg, "destroy");
    if (g->pipe[0] >= 0) {
        close(g->pipe[0]);
        close(g->pipe[1]);
    }
    free(g);
}

static int
good_reconfigure(void *state, const void *config, char *err, size_t errlen)
{
    struct good *g = state;
    const struct good_config *cfg = config;
    if (cfg->count < 0) {
        snprintf(err, errlen, "count must not be negative");
        return -1;
    }
    g->cfg = cfg;
    trace(g->cfg, "reconfigure");
    return 0;
}

BERTH_PLUGIN_DECLARE = {
    BERTH_PLUGIN_HEADER,
    .name = "good",
    .version = "1",
    .kind = BERTH_KIND_EXTENSION,
    .options = good_options,
    .config_size = sizeof(struct good_config),
    .init = good_init,
    .start = good_start,
    .stop = good_stop,
    .destroy = good_destroy,
    .reconfigure = good_reconfigure,
};
