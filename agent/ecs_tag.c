/* ecs_tag.c: see ecs_tag.h. */
#include "config.h"

#include <stddef.h>

#include "agent/ecs_tag.h"
#include "agent/json_walk_table.h"

static const struct jw_field tag_fields[] = {
    F_("key", JW_STRING, struct ecs_tag_in, key, .required = true),
    F_("value", JW_STRING, struct ecs_tag_in, value),
    END,
};

const struct jw_shape ecs_tag_shape = {sizeof(struct ecs_tag_in), tag_fields, NULL};
