/* taskdef_check.h: internal to taskdef: the checks the field tables cannot
 * express, one hook per shape (run by the walker with its path at the
 * object, after the members are in the struct), and the defaults they fill.
 * A hook may see members missing or NULL when the walk found errors. */
#ifndef BERTH_TASKDEF_CHECK_H
#define BERTH_TASKDEF_CHECK_H

#include "agent/json_walk.h"
#include "agent/taskdef.h"

void taskdef_check_port(struct jw *w, void *obj);
void taskdef_check_env_file(struct jw *w, void *obj);
void taskdef_check_mount(struct jw *w, void *obj);
void taskdef_check_secret(struct jw *w, void *obj);
void taskdef_check_ulimit(struct jw *w, void *obj);
void taskdef_check_log(struct jw *w, void *obj);
void taskdef_check_health(struct jw *w, void *obj);
void taskdef_check_restart(struct jw *w, void *obj);
void taskdef_check_container(struct jw *w, void *obj);
void taskdef_check_docker_volume(struct jw *w, void *obj);
void taskdef_check_volume(struct jw *w, void *obj);
void taskdef_check_tag(struct jw *w, void *obj);
/* Across the whole definition: references, sums, network mode rules. */
void taskdef_check_task(struct jw *w, void *obj);

#endif
