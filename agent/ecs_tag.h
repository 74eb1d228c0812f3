/* ecs_tag.h: ECS's Tag shape ({"key", "value"}) as requests carry it
 * (CreateCluster, CreateService, TagResource), for json_walk.  The walk
 * only reads the members; store_tags_check() (store.h) holds ECS's rules
 * on them. */
#ifndef BERTH_ECS_TAG_H
#define BERTH_ECS_TAG_H

#include "agent/json_walk.h"

struct ecs_tag_in {
    char *key, *value;
};

extern const struct jw_shape ecs_tag_shape;

#endif
