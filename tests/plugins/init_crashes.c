/* init_crashes.c: init dereferences NULL; berthd must survive and say so. */
#include <stddef.h>

#include <berth/plugin.h>

/* A real fault even when the tests are built with UBSan, which would
 * otherwise stop at the null store itself. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((no_sanitize_undefined))
#elif defined(__clang__)
__attribute__((no_sanitize("undefined")))
#endif
static int
c_init(berth_ctx *ctx, const struct berth_host *host, const void *config,
       void **state, char *err, size_t errlen)
{
    volatile int *p = NULL;
    *p = 1;
    return 0;
}

static void
c_destroy(void *state)
{
}

BERTH_PLUGIN_DECLARE = {
    BERTH_PLUGIN_HEADER,
    .name = "init_crashes",
    .version = "1",
    .kind = BERTH_KIND_EXTENSION,
    .init = c_init,
    .destroy = c_destroy,
};
