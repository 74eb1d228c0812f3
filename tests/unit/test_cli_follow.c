/* test_cli_follow.c: following a deployment from successive
 * DescribeServices answers shaped as botocore's ECS model says: progress
 * lines only on change, new events oldest first, COMPLETED, FAILED with
 * rolloutStateReason, a rollback that replaces the deployment, a service
 * that is no longer ACTIVE, and a server without rolloutState. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/follow.h"
#include "tests/lib/tap.h"

#define DEP(id, status, running, desired, pending, rollout)                             \
    "{\"id\":\"" id "\",\"status\":\"" status "\",\"taskDefinition\":"                  \
    "\"arn:aws:ecs:local:000000000000:task-definition/web:" id "\",\"desiredCount\":"   \
    #desired ",\"pendingCount\":" #pending ",\"runningCount\":" #running                \
    ",\"failedTasks\":0,\"createdAt\":1790000000.5,\"rolloutState\":\"" rollout "\"}"
#define EV(id, at, msg) "{\"id\":\"" id "\",\"createdAt\":" #at ",\"message\":\"" msg "\"}"
#define SVC(status, deps, events)                                                      \
    "{\"serviceArn\":\"arn:aws:ecs:local:000000000000:service/c/web\",\"serviceName\":" \
    "\"web\",\"status\":\"" status "\",\"desiredCount\":2,\"runningCount\":2,"          \
    "\"pendingCount\":0,\"deployments\":[" deps "],\"events\":[" events "]}"

static enum follow_rc step(struct follow *f, const char *json, struct lines *l)
{
    cJSON *s = cJSON_Parse(json);
    if (!s) {
        diag("bad test JSON: %s", json);
        abort();
    }
    lines_clear(l);
    enum follow_rc rc = follow_step(f, s, l);
    cJSON_Delete(s);
    return rc;
}

static int start(struct follow *f, const char *json)
{
    cJSON *s = cJSON_Parse(json);
    if (!s)
        abort();
    int rc = follow_start(f, s);
    cJSON_Delete(s);
    return rc;
}

static char *joined(const struct lines *l)
{
    size_t n = 1;
    for (size_t i = 0; i < l->n; i++)
        n += strlen(l->v[i]) + 1;
    char *s = calloc(1, n);
    for (size_t i = 0; i < l->n; i++) {
        strcat(s, l->v[i]);
        strcat(s, "\n");
    }
    return s;
}

#define OLD_EVENTS EV("e1", 1790000000, "(service web) has reached a steady state.")
#define LINES_ARE(l, want, ...)                                                          \
    do {                                                                                 \
        char *j_ = joined(l);                                                            \
        is_str(j_, want, __VA_ARGS__);                                                   \
        free(j_);                                                                        \
    } while (0)

static void rollout_to_completed(void)
{
    struct follow f;
    struct lines l = {0};

    /* What UpdateService answers: the new deployment PRIMARY, the old ACTIVE. */
    ok(start(&f, SVC("ACTIVE", DEP("new", "PRIMARY", 0, 2, 0, "IN_PROGRESS") ","
                                   DEP("old", "ACTIVE", 2, 2, 0, "COMPLETED"),
                     OLD_EVENTS)) == 0, "follow_start finds the PRIMARY deployment");
    is_str(f.deployment_id, "new", "and follows it");

    ok(step(&f, SVC("ACTIVE", DEP("new", "PRIMARY", 0, 2, 2, "IN_PROGRESS") ","
                               DEP("old", "ACTIVE", 2, 2, 0, "COMPLETED"),
                    EV("e2", 1790000010, "(service web) has started 2 tasks: (task a) (task b).") ","
                    OLD_EVENTS), &l) == FOLLOW_PROGRESS, "in progress");
    LINES_ARE(&l,
              "  14:13:30 (service web) has started 2 tasks: (task a) (task b).\n"
              "web: 0/2 running, 2 pending, 2 old tasks left, IN_PROGRESS\n",
              "the new event (not the one seen before), then the counts");

    ok(step(&f, SVC("ACTIVE", DEP("new", "PRIMARY", 0, 2, 2, "IN_PROGRESS") ","
                               DEP("old", "ACTIVE", 2, 2, 0, "COMPLETED"),
                    EV("e2", 1790000010, "(service web) has started 2 tasks: (task a) (task b).") ","
                    OLD_EVENTS), &l) == FOLLOW_PROGRESS, "nothing changed: still in progress");
    ok(l.n == 0, "and nothing printed");

    ok(step(&f, SVC("ACTIVE", DEP("new", "PRIMARY", 2, 2, 0, "IN_PROGRESS") ","
                               DEP("old", "ACTIVE", 1, 2, 0, "COMPLETED"),
                    EV("e4", 1790000030, "(service web) has stopped 1 running tasks: (task y).") ","
                    EV("e3", 1790000020, "(service web) has stopped 1 running tasks: (task x).") ","
                    EV("e2", 1790000010, "(service web) has started 2 tasks: (task a) (task b).") ","
                    OLD_EVENTS), &l) == FOLLOW_PROGRESS, "old tasks draining");
    LINES_ARE(&l,
              "  14:13:40 (service web) has stopped 1 running tasks: (task x).\n"
              "  14:13:50 (service web) has stopped 1 running tasks: (task y).\n"
              "web: 2/2 running, 0 pending, 1 old task left, IN_PROGRESS\n",
              "two new events oldest first; one old task left (singular)");

    ok(step(&f, SVC("ACTIVE", DEP("new", "PRIMARY", 2, 2, 0, "COMPLETED"),
                    EV("e5", 1790000040, "(service web) has reached a steady state.") ","
                    EV("e4", 1790000030, "(service web) has stopped 1 running tasks: (task y).")),
            &l) == FOLLOW_DONE, "COMPLETED: done");
    LINES_ARE(&l,
              "  14:14:00 (service web) has reached a steady state.\n"
              "web: 2/2 running, 0 pending, 0 old tasks left, COMPLETED\n",
              "with the steady state event and the last counts");
    lines_clear(&l);
    follow_free(&f);
}

static void circuit_breaker(void)
{
    struct follow f;
    struct lines l = {0};

    start(&f, SVC("ACTIVE", DEP("bad", "PRIMARY", 0, 2, 0, "IN_PROGRESS") ","
                            DEP("good", "ACTIVE", 2, 2, 0, "COMPLETED"), OLD_EVENTS));
    ok(step(&f, SVC("ACTIVE",
                    "{\"id\":\"bad\",\"status\":\"PRIMARY\",\"desiredCount\":2,"
                    "\"runningCount\":0,\"pendingCount\":0,\"failedTasks\":3,"
                    "\"rolloutState\":\"FAILED\",\"rolloutStateReason\":"
                    "\"ECS deployment circuit breaker: tasks failed to start.\"},"
                    DEP("good", "ACTIVE", 2, 2, 0, "COMPLETED"), OLD_EVENTS),
            &l) == FOLLOW_FAILED, "rolloutState FAILED: failed");
    is_str(f.reason, "ECS deployment circuit breaker: tasks failed to start.",
           "the reason is rolloutStateReason");
    LINES_ARE(&l, "web: 0/2 running, 0 pending, 3 failed, 2 old tasks left, FAILED\n",
              "the failed tasks show in the last progress line");
    follow_free(&f);

    /* With rollback, the failed deployment may already be gone and a new
     * PRIMARY (the old definition) in its place. */
    start(&f, SVC("ACTIVE", DEP("bad", "PRIMARY", 0, 2, 0, "IN_PROGRESS"), ""));
    ok(step(&f, SVC("ACTIVE", DEP("rollback", "PRIMARY", 1, 2, 0, "IN_PROGRESS"), ""), &l) ==
           FOLLOW_FAILED, "replaced by another deployment: failed");
    is_str(f.reason,
           "deployment bad was replaced by deployment rollback "
           "(arn:aws:ecs:local:000000000000:task-definition/web:rollback)",
           "saying by which");
    follow_free(&f);

    /* A circuit breaker's rollback: the failure event and the new
     * PRIMARY's reason say what happened. */
    start(&f, SVC("ACTIVE", DEP("bad", "PRIMARY", 0, 2, 0, "IN_PROGRESS"), ""));
    ok(step(&f,
            "{\"serviceName\":\"web\",\"status\":\"ACTIVE\",\"deployments\":[{\"id\":"
            "\"good\",\"status\":\"PRIMARY\",\"rolloutState\":\"IN_PROGRESS\","
            "\"rolloutStateReason\":\"ECS deployment good completed.\"}],\"events\":["
            EV("e2", 1790000002, "(service web) rolling back to deployment good.") ","
            EV("e1", 1790000001, "(service web) (deployment bad) deployment failed: "
               "tasks failed to start.") "]}", &l) == FOLLOW_FAILED,
       "rolled back by the circuit breaker: failed");
    is_str(f.reason,
           "tasks failed to start. ECS deployment circuit breaker: rolling back to "
           "deploymentId good.",
           "with the failure event's words and where the circuit breaker went back");
    follow_free(&f);

    start(&f, SVC("ACTIVE", DEP("d", "PRIMARY", 0, 2, 0, "IN_PROGRESS"), ""));
    ok(step(&f, SVC("DRAINING", DEP("d", "PRIMARY", 0, 0, 0, "IN_PROGRESS"), ""), &l) ==
           FOLLOW_FAILED, "a service being deleted: failed");
    is_str(f.reason, "service web is DRAINING", "saying so");
    follow_free(&f);
    lines_clear(&l);
}

static void no_rollout_state(void)
{
    struct follow f;
    struct lines l = {0};
    const char *dep_a = "{\"id\":\"a\",\"status\":\"PRIMARY\",\"desiredCount\":1,"
                        "\"runningCount\":1,\"pendingCount\":0}";
    const char *dep_b = "{\"id\":\"b\",\"status\":\"ACTIVE\",\"desiredCount\":1,"
                        "\"runningCount\":1,\"pendingCount\":0}";
    char json[1024];

    snprintf(json, sizeof(json), "{\"serviceName\":\"w\",\"status\":\"ACTIVE\","
                                 "\"deployments\":[%s,%s]}", dep_a, dep_b);
    start(&f, json);
    ok(step(&f, json, &l) == FOLLOW_PROGRESS,
       "no rolloutState, an old deployment left: in progress");
    LINES_ARE(&l, "w: 1/1 running, 0 pending, 1 old task left\n", "the line has no state");
    snprintf(json, sizeof(json), "{\"serviceName\":\"w\",\"status\":\"ACTIVE\","
                                 "\"deployments\":[%s]}", dep_a);
    ok(step(&f, json, &l) == FOLLOW_DONE, "alone and at its count: done");
    follow_free(&f);
    lines_clear(&l);

    ok(start(&f, "{\"serviceName\":\"w\",\"deployments\":[]}") == -1,
       "follow_start without a PRIMARY deployment fails");
    like(f.reason, "no PRIMARY deployment", "saying why");
    follow_free(&f);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    rollout_to_completed();
    circuit_breaker();
    no_rollout_state();
    return done_testing();
}
