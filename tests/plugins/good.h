/* good.h: the config struct of the good test plugin, shared with the unit
 * test that checks how the host fills it in. */
#ifndef BERTH_TEST_GOOD_H
#define BERTH_TEST_GOOD_H

#include <berth/plugin.h>

struct good_config {
    const char *trace;
    int64_t count;
    int flag;
    uint64_t wait_ms;
    uint64_t limit;
    struct berth_address listen;
    const char *required;
};

#endif
