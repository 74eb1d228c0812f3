/* json_walk_table.h: short names for writing json_walk field tables
 * (json_walk.h), shared by every file that declares request or document
 * shapes.  Include it in .c files only: the names are short on purpose.
 *
 *   F_("name", JW_STRING, struct s, member, .required = true)
 *   HAS(struct s, has_member)   the member's presence flag
 *   IGN / UNSUP("name", kind, "why")   accepted and ignored / refused
 *   END                          closes a table */
#ifndef BERTH_JSON_WALK_TABLE_H
#define BERTH_JSON_WALK_TABLE_H

#include <stddef.h>

#include "agent/json_walk.h"

#define F_(json, k, st, m, ...) \
    {.name = json, .kind = k, .offset = offsetof(st, m), __VA_ARGS__}
#define HAS(st, m) .has = offsetof(st, m) + 1
#define IGN(json, k, why) {.name = json, .kind = k, .use = JW_IGNORE, .reason = why}
#define UNSUP(json, k, why) {.name = json, .kind = k, .use = JW_UNSUPPORTED, .reason = why}
#define END {.name = NULL}

#endif
