/* follow.h: following one deployment of a service to its end.
 *
 * Contract: follow_start() takes the service as UpdateService answered
 * (its PRIMARY deployment is the one followed; the events it already holds
 * count as seen).  Each follow_step() takes the service as a later
 * DescribeServices gave it and appends to `lines` what changed since the
 * step before: the events not seen yet (oldest first) and a progress line
 * when the followed deployment's counts, the old deployments' running
 * tasks or its rolloutState changed.  It returns:
 *   FOLLOW_PROGRESS  not finished yet: ask again later;
 *   FOLLOW_DONE      the deployment is COMPLETED (or, for a server that
 *                    sets no rolloutState, it is alone and at its count);
 *   FOLLOW_FAILED    rolloutState FAILED (f->reason: rolloutStateReason),
 *                    the deployment was replaced by another (a rollback or
 *                    a newer deploy), or the service is no longer ACTIVE.
 * Members read (botocore's ECS model): service.serviceName, status,
 * deployments[].{id, status, taskDefinition, desiredCount, runningCount,
 * pendingCount, failedTasks, rolloutState, rolloutStateReason},
 * events[].{id, createdAt, message} (newest first, as ECS orders them).
 * Event times print as local HH:MM:SS. */
#ifndef BERTH_CLI_FOLLOW_H
#define BERTH_CLI_FOLLOW_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum follow_rc { FOLLOW_PROGRESS, FOLLOW_DONE, FOLLOW_FAILED };

struct lines {
    char **v;
    size_t n;
};
void lines_add(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lines_clear(struct lines *l);

struct follow {
    char *deployment_id; /* the followed deployment */
    char *reason;        /* FOLLOW_FAILED: why */
    char **seen;         /* event ids already shown */
    size_t nseen;
    char *last;          /* the last progress line, to print only changes */
};

/* -1 when the service has no PRIMARY deployment (reason set). */
int follow_start(struct follow *f, const cJSON *service);
enum follow_rc follow_step(struct follow *f, const cJSON *service, struct lines *out);
void follow_free(struct follow *f);

#endif
