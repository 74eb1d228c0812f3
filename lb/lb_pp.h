/* lb_pp.h: PROXY protocol headers (v1 text, v2 binary) that tell a target
 * the client's address and the listener's address it connected to. */
#ifndef BERTH_LB_PP_H
#define BERTH_LB_PP_H

#include <stddef.h>

#include "lb/lb_conf.h"
#include "lb/lb_view.h"

/* Writes the header into buf (at least 108 bytes); returns its length, 0
 * for LB_PP_NONE.  Addresses of different families give "UNKNOWN" (v1) or
 * the LOCAL command (v2), as the spec says. */
size_t lb_pp_header(enum lb_pp v, const struct lb_addr *src, const struct lb_addr *dst,
                    char *buf, size_t len);

#endif
