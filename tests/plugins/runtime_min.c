/* runtime_min.c: a runtime plugin that does nothing, built twice: against
 * the frozen ABI 1.2 header (runtime_1_2: its ops end before host_address,
 * and berthd must accept it and never read past them), and against the
 * current header with host_address left NULL (runtime_no_addr: a 1.3
 * runtime must provide it, so berthd refuses it). */
#include <stddef.h>

#include <berth/plugin.h>

static int
min_init(berth_ctx *ctx, const struct berth_host *host, const void *config,
         void **state, char *err, size_t errlen)
{
    (void)ctx, (void)host, (void)config, (void)err, (void)errlen;
    *state = NULL;
    return 0;
}

static int min_start(void *s, char *e, size_t n) { (void)s, (void)e, (void)n; return 0; }
static int min_stop(void *s) { (void)s; return 0; }
static void min_destroy(void *s) { (void)s; }
static const char *min_version(void *s) { (void)s; return NULL; }
static int min_spec(void *s, const char *j, berth_rt_id_cb cb, void *a)
{ (void)s, (void)j, (void)cb, (void)a; return -1; }
static int min_sbrm(void *s, const char *id, uint32_t t, berth_rt_done_cb cb, void *a)
{ (void)s, (void)id, (void)t, (void)cb, (void)a; return -1; }
static int min_done(void *s, const char *id, berth_rt_done_cb cb, void *a)
{ (void)s, (void)id, (void)cb, (void)a; return -1; }
static int min_stopc(void *s, const char *id, uint32_t t, berth_rt_done_cb cb, void *a)
{ (void)s, (void)id, (void)t, (void)cb, (void)a; return -1; }
static int min_info(void *s, const char *id, berth_rt_info_cb cb, void *a)
{ (void)s, (void)id, (void)cb, (void)a; return -1; }
static int min_list(void *s, const char *l, berth_rt_list_cb cb, void *a)
{ (void)s, (void)l, (void)cb, (void)a; return -1; }
static int min_stats(void *s, const char *id, berth_rt_stats_cb cb, void *a)
{ (void)s, (void)id, (void)cb, (void)a; return -1; }
static int min_watch(void *s, const char *l, berth_rt_event_cb cb, void *a)
{ (void)s, (void)l, (void)cb, (void)a; return -1; }

static const struct berth_runtime_ops min_ops = {
    .struct_size = sizeof(struct berth_runtime_ops),
    .engine_version = min_version,
    .sandbox_create = min_spec,
    .sandbox_remove = min_sbrm,
    .create = min_spec,
    .start = min_done,
    .stop = min_stopc,
    .remove = min_done,
    .inspect = min_info,
    .list = min_list,
    .stats = min_stats,
    .watch = min_watch,
    /* 1.3's host_address: left NULL on purpose in runtime_no_addr. */
};

BERTH_PLUGIN_DECLARE = {
    BERTH_PLUGIN_HEADER,
    .name = "runtime_min",
    .version = "1.0",
    .description = "a runtime plugin that does nothing",
    .kind = BERTH_KIND_RUNTIME,
    .init = min_init,
    .start = min_start,
    .stop = min_stop,
    .destroy = min_destroy,
    .ops = &min_ops,
};
