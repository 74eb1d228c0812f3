/* test_cli_views.c: what berth shows from the API's objects, on JSON shaped
 * as botocore's ECS model says: the tasks and services tables, event lines,
 * when a stopped task counts as failed, and the key/value view. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/views.h"
#include "tests/lib/tap.h"

static char *print_table(struct table *t)
{
    struct table_opts o = {0, 1, 0};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    table_print(t, &o, f);
    fclose(f);
    table_free(t);
    return buf;
}

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    if (!j) {
        diag("bad test JSON: %s", s);
        abort();
    }
    return j;
}

static void tasks(void)
{
    char json[2048];
    snprintf(json, sizeof(json),
             "[{\"taskArn\":\"arn:aws:ecs:local:000000000000:task/c/0123456789abcdef0123456789abcdef\","
             "\"taskDefinitionArn\":\"arn:aws:ecs:local:000000000000:task-definition/web:3\","
             "\"lastStatus\":\"RUNNING\",\"desiredStatus\":\"RUNNING\",\"healthStatus\":\"HEALTHY\","
             "\"startedAt\":%ld.25,\"containers\":["
             "{\"name\":\"app\",\"networkBindings\":[{\"bindIP\":\"0.0.0.0\",\"containerPort\":8080,"
             "\"hostPort\":46001,\"protocol\":\"tcp\"},{\"containerPort\":53,\"hostPort\":46002,"
             "\"protocol\":\"udp\"}]},{\"name\":\"side\",\"networkBindings\":[{\"containerPort\":9090,"
             "\"hostPort\":46003}]}]},"
             "{\"taskArn\":\"arn:aws:ecs:local:000000000000:task/c/fedcba9876543210fedcba9876543210\","
             "\"taskDefinitionArn\":\"arn:aws:ecs:local:000000000000:task-definition/batch:1\","
             "\"lastStatus\":\"PENDING\",\"desiredStatus\":\"RUNNING\",\"containers\":[]}]",
             (long)time(NULL) - 30);
    cJSON *j = parse(json);
    char *s = print_table(view_tasks(j, 1));
    ok(strncmp(s, "ID                                TASK-DEFINITION  LAST     DESIRED  "
                  "HEALTH   STARTED  PORTS\n", 88) == 0, "the header, aligned");
    like(s, "\n0123456789abcdef0123456789abcdef  web:3            RUNNING  RUNNING  HEALTHY  3",
         "a running task: id, family:revision, statuses, health");
    like(s, "  46001\xe2\x86\x92" "8080,46002\xe2\x86\x92" "53/udp,46003\xe2\x86\x92" "9090\n",
         "ports of every container as hostPort→containerPort, /udp for UDP");
    ok(strstr(s, "HEALTHY  30s      46001") || strstr(s, "HEALTHY  31s      46001"),
       "STARTED is the age in seconds");
    like(s, "\nfedcba9876543210fedcba9876543210  batch:1          PENDING  RUNNING  -        -        -\n",
         "a pending task: no health, no start, no ports");
    free(s);
    s = print_table(view_tasks(j, 0));
    like(s, "46001->8080,46002->53/udp", "without UTF-8 the arrow is ->");
    free(s);
    cJSON_Delete(j);
}

static void services(void)
{
    cJSON *j = parse(
        "[{\"serviceName\":\"web\",\"status\":\"ACTIVE\",\"desiredCount\":3,\"runningCount\":2,"
        "\"pendingCount\":1,\"taskDefinition\":\"arn:aws:ecs:local:000000000000:task-definition/web:4\","
        "\"deployments\":[{\"id\":\"ecs-svc/1\",\"status\":\"ACTIVE\",\"rolloutState\":\"COMPLETED\"},"
        "{\"id\":\"ecs-svc/2\",\"status\":\"PRIMARY\",\"rolloutState\":\"IN_PROGRESS\"}]},"
        "{\"serviceName\":\"old\",\"status\":\"DRAINING\",\"desiredCount\":0,\"runningCount\":0,"
        "\"pendingCount\":0,\"taskDefinition\":\"arn:aws:ecs:local:000000000000:task-definition/old:1\","
        "\"deployments\":[]}]");
    char *s = print_table(view_services(j));
    is_str(s,
           "NAME  STATUS    DESIRED  RUNNING  PENDING  TASK-DEFINITION  ROLLOUT\n"
           "web   ACTIVE    3        2        1        web:4            IN_PROGRESS\n"
           "old   DRAINING  0        0        0        old:1            -\n",
           "services: counts, family:revision, the PRIMARY deployment's rollout state");
    free(s);
    is_str(cJSON_GetStringValue(cJSON_GetObjectItem(service_primary(cJSON_GetArrayItem(j, 0)), "id")),
           "ecs-svc/2", "service_primary finds the PRIMARY deployment");
    ok(service_primary(cJSON_GetArrayItem(j, 1)) == NULL, "and NULL when there is none");
    cJSON_Delete(j);

    char line[256];
    j = parse("{\"id\":\"e1\",\"createdAt\":1790000000.123,\"message\":\"(service web) has reached a steady state.\"}");
    view_event(j, line, sizeof(line));
    is_str(line, "2026-09-21 14:13:20  (service web) has reached a steady state.",
           "an event: local time and message");
    cJSON_Delete(j);
}

static void stopped(void)
{
    char why[512];
    cJSON *j = parse("{\"stopCode\":\"EssentialContainerExited\",\"stoppedReason\":"
                     "\"Essential container in task exited\",\"containers\":[{\"name\":\"main\",\"exitCode\":0}]}");
    ok(!task_stopped_badly(j, why, sizeof(why)), "exit code 0: not an error");
    cJSON_Delete(j);
    j = parse("{\"stopCode\":\"EssentialContainerExited\",\"stoppedReason\":"
              "\"Essential container in task exited\",\"containers\":[{\"name\":\"main\",\"exitCode\":3},"
              "{\"name\":\"side\",\"exitCode\":0}]}");
    ok(task_stopped_badly(j, why, sizeof(why)), "exit code 3: an error");
    is_str(why, "EssentialContainerExited: Essential container in task exited; main exited 3",
           "naming the container and its code");
    cJSON_Delete(j);
    j = parse("{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"CannotPullContainerError: nope\","
              "\"containers\":[{\"name\":\"main\",\"reason\":\"CannotPullContainerError: nope\"}]}");
    ok(task_stopped_badly(j, why, sizeof(why)), "failed to start: an error");
    is_str(why, "TaskFailedToStart: CannotPullContainerError: nope; main: CannotPullContainerError: nope",
           "with the task's and the container's reasons");
    cJSON_Delete(j);
}

static void object(void)
{
    cJSON *j = parse("{\"taskArn\":\"arn:t\",\"cpu\":\"256\",\"startedAt\":1790000000,"
                     "\"containers\":[{\"name\":\"app\",\"exitCode\":3}],"
                     "\"tags\":[],\"capacityProviderName\":\"x\","
                     "\"overrides\":{\"containerOverrides\":[]},\"ids\":[\"a\",\"b\"],"
                     "\"events\":[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"3\"},{\"id\":\"4\"},"
                     "{\"id\":\"5\"},{\"id\":\"6\"},{\"id\":\"7\"}]}");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    view_object(j, f);
    fclose(f);
    is_str(buf,
           "taskArn:              arn:t\n"
           "cpu:                  256\n"
           "startedAt:            2026-09-21 14:13:20\n"
           "tags:                 (none)\n"
           "capacityProviderName: x\n"
           "ids:                  a, b\n"
           "containers[0]:\n"
           "  name:     app\n"
           "  exitCode: 3\n"
           "overrides:\n"
           "  containerOverrides: (none)\n"
           "events[0]:\n  id: 1\nevents[1]:\n  id: 2\nevents[2]:\n  id: 3\n"
           "events[3]:\n  id: 4\nevents[4]:\n  id: 5\n"
           "(2 older events not shown)\n",
           "key/value view: flat members aligned first, dates, nested ones indented, "
           "events cut to five");
    free(buf);
    cJSON_Delete(j);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tasks();
    services();
    stopped();
    object();
    return done_testing();
}
